/* http_socket.h — the client's socket used directly, past libmicrohttpd: is the client still
 * there, and answers written straight to it.
 *
 * Telling a hang-up from a half-close. After the client's FIN, recv() cannot tell a client that
 * closed its socket (gone) from one that only shut down its sending side and waits for the
 * answer (a "half-close"). Only a write can: a closed socket answers new data with a reset (RST),
 * after which poll() reports POLLERR/POLLHUP and send() fails (EPIPE/ECONNRESET); a half-closed
 * one accepts it. So the HTTP layer, once http_socket_peer() says HTTP_PEER_EOF, writes bytes
 * the client must accept anyway as part of its answer (a status-line prefix, the headers of an
 * answer, or JSON whitespace) and looks again a moment later. The FIN is seen through
 * POLLRDHUP, which reports it even while pipelined bytes wait unread before it.
 *
 * The fd belongs to libmicrohttpd: these functions never close it. */
#ifndef HTTP_SOCKET_H
#define HTTP_SOCKET_H

#include <stddef.h>

typedef enum http_peer {
    HTTP_PEER_HERE, /* no FIN, no error */
    HTTP_PEER_EOF,  /* FIN received: half-closed, or closed (a write will tell) */
    HTTP_PEER_GONE, /* reset or error: nobody will read an answer */
} http_peer;

/* The first bytes of every answer: sent alone as a probe, they commit to nothing. */
#define HTTP_STATUS_PREFIX "HTTP/1.1 "
#define HTTP_STATUS_PREFIX_LEN (sizeof HTTP_STATUS_PREFIX - 1)

/* State of the client behind fd, without reading anything (fd < 0: HTTP_PEER_HERE). */
http_peer http_socket_peer(int fd);

/* What the kernel knows of a connection, for the connection guard (http_guard.h): nothing is
 * read or written. */
typedef struct http_tcp {
    long long received;       /* bytes received since the connection opened (read by
                               * libmicrohttpd or not); -1 unknown */
    int fin_sent;             /* our side has shut down its sending side (libmicrohttpd is
                               * closing the connection), or the connection is gone */
} http_tcp;
/* Fill *t from fd (fd < 0: nothing received known, fin_sent 1). */
void http_socket_tcp(int fd, http_tcp *t);

/* Send all of buf (fd may be non-blocking), waiting for room at most stall_ms at a time (the
 * clock restarts whenever some bytes went out). 0 on success, -1 when the peer is gone or
 * stalled that long. */
int http_socket_send(int fd, const void *buf, size_t len, int stall_ms);

/* The head of an answer ("HTTP/1.1 <status> <reason>", Content-Type, Content-Length when
 * content_length >= 0 (else the body ends with the connection), Retry-After when > 0,
 * Connection: close) into buf. Returns its length, or 0 when it does not fit. */
size_t http_socket_head(char *buf, size_t cap, int status, const char *content_type,
                        long long content_length, int retry_after);

/* Write a whole answer (head and body) to fd, skipping its first `skip` bytes (a prefix sent
 * before as a probe), then close our side gently (http_socket_linger). 0 when all was sent. */
int http_socket_reply(int fd, size_t skip, int status, const char *content_type, int retry_after,
                      const char *body, size_t len);

/* The lingering close after an answer: shut down our sending side, then read and drop what the
 * client still sends until it closes (its FIN), pauses HTTP_LINGER_IDLE_MS, or the drain reaches
 * HTTP_LINGER_MAX_MS or HTTP_LINGER_MAX_BYTES. libmicrohttpd's close() would otherwise meet
 * unread bytes and reset the connection, and a client still sending its body (an answer given
 * before the body was read: 413, 404, ...) would see its next send fail, often before it reads
 * the answer (curl: error 55); one that sends its whole body before reading (Python's
 * http.client) would never see it. A client that read its answer closes at once and ends the
 * drain; the limits bound what a client that does not can hold (a connection, no memory). */
#define HTTP_LINGER_IDLE_MS 2000
#define HTTP_LINGER_MAX_MS 10000
#define HTTP_LINGER_MAX_BYTES ((size_t)64 << 20)
void http_socket_linger(int fd);

#endif
