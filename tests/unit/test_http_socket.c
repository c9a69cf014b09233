/* test_http_socket.c — the client socket used directly (server/http_socket.h), on real loopback
 * TCP connections: a FIN is seen even behind unread bytes, a half-closed client accepts a write
 * while a closed one answers it with a reset (then the peer is "gone"), answers written past
 * libmicrohttpd are whole HTTP messages (with a probe prefix skipped), the kernel's counts the
 * connection guard reads (bytes received, read or not; our side shut), and the lingering close
 * reads what a client still sends until it closes, pauses, or sends too much. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_socket.h"
#include "loopback.h"

/* A connected pair: *client and *server ends of one loopback TCP connection. */
static void tcp_pair(int *client, int *server) {
    cr_assert_eq(lb_tcp_pair(client, server), 0, "a loopback connection");
}

/* Let loopback segments (FIN, RST) arrive. */
static void settle(void) { lb_sleep_ms(20); }

static size_t read_all(int fd, char *buf, size_t cap) {
    size_t n = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 500) <= 0) break;
        ssize_t k = recv(fd, buf + n, cap - 1 - n, 0);
        if (k <= 0) break;
        n += (size_t)k;
    }
    buf[n] = '\0';
    return n;
}

Test(socket, a_fin_is_seen_behind_unread_bytes) {
    int c, s;
    tcp_pair(&c, &s);
    cr_assert_eq(http_socket_peer(s), HTTP_PEER_HERE);
    cr_assert_eq(send(c, "GET / HTTP/1.1\r\n\r\n", 18, 0), 18); /* a pipelined request */
    settle();
    cr_assert_eq(http_socket_peer(s), HTTP_PEER_HERE, "bytes alone are not a hang-up");
    close(c); /* nothing unread on the client: a plain FIN */
    settle();
    cr_assert_eq(http_socket_peer(s), HTTP_PEER_EOF, "the FIN behind the unread request");
    /* The probe: the closed client answers it with a reset. */
    cr_assert_eq(http_socket_send(s, HTTP_STATUS_PREFIX, HTTP_STATUS_PREFIX_LEN, 100), 0);
    settle();
    cr_assert_eq(http_socket_peer(s), HTTP_PEER_GONE);
    cr_assert_neq(http_socket_send(s, "x", 1, 100), 0, "writing to a gone client fails");
    close(s);
}

Test(socket, the_kernel_counts_bytes_received_read_or_not_and_sees_our_side_shut) {
    int c, s;
    tcp_pair(&c, &s);
    http_tcp t;
    http_socket_tcp(s, &t);
    cr_assert_eq(t.received, 0);
    cr_assert_eq(t.fin_sent, 0);
    cr_assert_eq(send(c, "GET / HTTP/1.1\r\n", 16, 0), 16);
    settle();
    char buf[8];
    cr_assert_eq(recv(s, buf, sizeof buf, 0), 8); /* half of it read */
    http_socket_tcp(s, &t);
    cr_assert_eq(t.received, 16, "read or not: %lld", t.received);
    shutdown(c, SHUT_WR); /* the client's FIN alone: we have not closed */
    settle();
    http_socket_tcp(s, &t);
    cr_assert_eq(t.fin_sent, 0);
    shutdown(s, SHUT_WR); /* what libmicrohttpd does when it closes */
    http_socket_tcp(s, &t);
    cr_assert_eq(t.fin_sent, 1);
    http_socket_tcp(-1, &t);
    cr_assert(t.received == -1 && t.fin_sent == 1, "no socket: nothing known, nothing to wait for");
    close(c);
    close(s);
}

Test(socket, a_half_closed_client_accepts_the_probe_and_reads_its_answer) {
    int c, s;
    tcp_pair(&c, &s);
    shutdown(c, SHUT_WR);
    settle();
    cr_assert_eq(http_socket_peer(s), HTTP_PEER_EOF);
    cr_assert_eq(http_socket_send(s, HTTP_STATUS_PREFIX, HTTP_STATUS_PREFIX_LEN, 100), 0);
    settle();
    cr_assert_eq(http_socket_peer(s), HTTP_PEER_EOF, "still there after the probe");
    static const char body[] = "{\"ok\":true}\n";
    cr_assert_eq(http_socket_reply(s, HTTP_STATUS_PREFIX_LEN, 200, "application/json", 0, body,
                                   sizeof body - 1), 0);
    char got[1024];
    read_all(c, got, sizeof got);
    cr_assert(strncmp(got, "HTTP/1.1 200 OK\r\n", 17) == 0, "one status line: %s", got);
    cr_assert(strstr(got, "\r\nContent-Length: 12\r\n"), "%s", got);
    cr_assert(strstr(got, "\r\nConnection: close\r\n"), "%s", got);
    cr_assert(strcmp(strstr(got, "\r\n\r\n") + 4, body) == 0, "%s", got);
    close(c);
    close(s);
}

Test(socket, heads_carry_status_reason_length_and_retry_after) {
    char h[512];
    size_t n = http_socket_head(h, sizeof h, 503, NULL, 7, 5);
    cr_assert_eq(n, strlen(h));
    cr_assert(strncmp(h, "HTTP/1.1 503 Service Unavailable\r\n", 34) == 0, "%s", h);
    cr_assert(strstr(h, "Content-Type: application/json\r\n"));
    cr_assert(strstr(h, "Content-Length: 7\r\n") && strstr(h, "Retry-After: 5\r\n"));
    n = http_socket_head(h, sizeof h, 200, "application/json", -1, 0);
    cr_assert(!strstr(h, "Content-Length") && !strstr(h, "Retry-After"), "%s", h);
    cr_assert(strcmp(h + n - 4, "\r\n\r\n") == 0);
    cr_assert_eq(http_socket_head(h, 16, 200, NULL, 1, 0), 0, "does not fit");
}

/* ------------------------------------------------------------------ the lingering close */

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* A client still sending its body: `pieces` sends of `piece` bytes, `pause_ms` apart, then a
 * close (close_after) or silence. Records how many bytes went out and whether a send failed. */
typedef struct sender {
    int fd;
    size_t piece, pieces;
    int pause_ms, close_after;
    size_t sent;
    int failed;
} sender;

static void *send_body(void *arg) {
    sender *sd = arg;
    char *buf = calloc(1, sd->piece);
    for (size_t i = 0; i < sd->pieces && !sd->failed; i++) {
        for (size_t off = 0; off < sd->piece;) {
            ssize_t k = send(sd->fd, buf + off, sd->piece - off, MSG_NOSIGNAL);
            if (k <= 0) {
                sd->failed = errno ? errno : -1;
                break;
            }
            off += (size_t)k;
            sd->sent += (size_t)k;
        }
        if (sd->pause_ms) lb_sleep_ms(sd->pause_ms);
    }
    if (sd->close_after) shutdown(sd->fd, SHUT_WR);
    free(buf);
    return NULL;
}

/* Linger on the server end while the client sends; returns the milliseconds it took. */
static double linger_while(sender *sd, int s) {
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, send_body, sd), 0);
    double t0 = now_ms();
    http_socket_linger(s);
    double took = now_ms() - t0;
    close(s);
    pthread_join(t, NULL);
    return took;
}

Test(socket, the_lingering_close_reads_the_rest_until_the_client_closes) {
    int c, s;
    tcp_pair(&c, &s);
    /* 20 pieces of 8 KiB, 50 ms apart: the client sends for a second, slower than any socket
     * buffer fills, each pause shorter than the idle limit. */
    sender sd = {c, 8192, 20, 50, 1, 0, 0};
    double took = linger_while(&sd, s);
    cr_assert_eq(sd.failed, 0, "a send failed (errno %d) after %zu bytes", sd.failed, sd.sent);
    cr_assert_eq(sd.sent, 20 * 8192);
    cr_assert_geq(took, 900, "it waited for the client (%.0f ms)", took);
    cr_assert_lt(took, HTTP_LINGER_MAX_MS, "and stopped at its FIN (%.0f ms)", took);
    char b[16];
    cr_assert_eq(recv(c, b, sizeof b, 0), 0, "the client sees our FIN, not a reset");
    close(c);
}

Test(socket, the_lingering_close_ends_when_the_client_goes_quiet) {
    int c, s;
    tcp_pair(&c, &s);
    sender sd = {c, 4096, 1, 0, 0, 0, 0}; /* one piece, then silence with the socket open */
    double took = linger_while(&sd, s);
    cr_assert_eq(sd.failed, 0);
    cr_assert_geq(took, HTTP_LINGER_IDLE_MS, "%.0f ms", took);
    cr_assert_lt(took, HTTP_LINGER_MAX_MS, "%.0f ms", took);
    close(c);
}

Test(socket, the_lingering_close_reads_at_most_its_byte_limit, .timeout = 60) {
    int c, s;
    tcp_pair(&c, &s);
    /* a client sending without end (at loopback speed) */
    size_t pieces = HTTP_LINGER_MAX_BYTES / 65536 * 4;
    sender sd = {c, 65536, pieces, 0, 1, 0, 0};
    double took = linger_while(&sd, s);
    cr_assert_neq(sd.failed, 0, "the close stopped the client (sent %zu)", sd.sent);
    cr_assert_geq(sd.sent, HTTP_LINGER_MAX_BYTES, "%zu", sd.sent);
    cr_assert_lt(sd.sent, 2 * HTTP_LINGER_MAX_BYTES, "%zu", sd.sent);
    cr_assert_lt(took, HTTP_LINGER_MAX_MS, "%.0f ms", took);
    close(c);
}
