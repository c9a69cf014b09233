/* http_socket.c — the client's socket used directly (see http_socket.h). */
#define _GNU_SOURCE /* POLLRDHUP (Linux): the peer's FIN, seen past unread bytes */
#include "http_socket.h"

#include <errno.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_received (Linux 4.1) */
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

http_peer http_socket_peer(int fd) {
    if (fd < 0) return HTTP_PEER_HERE;
    struct pollfd p = {fd, POLLRDHUP, 0};
    int n;
    do {
        n = poll(&p, 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return HTTP_PEER_HERE;
    /* POLLHUP: both directions shut (after a reset, or our own shutdown). */
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return HTTP_PEER_GONE;
    if (p.revents & POLLRDHUP) return HTTP_PEER_EOF;
    return HTTP_PEER_HERE;
}

/* tcpi_state values (the kernel's enum, include/net/tcp_states.h; <netinet/tcp.h> has them too
 * but cannot be included beside <linux/tcp.h>). */
enum { TCPS_ESTABLISHED = 1, TCPS_CLOSE_WAIT = 8 };

void http_socket_tcp(int fd, http_tcp *t) {
    t->received = -1;
    t->fin_sent = fd < 0; /* nothing to wait for */
    if (fd < 0) return;
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) {
        t->fin_sent = errno == EBADF || errno == ENOTSOCK;
        return;
    }
    /* ESTABLISHED, or CLOSE_WAIT (the client's FIN only): libmicrohttpd has not closed yet. */
    t->fin_sent = ti.tcpi_state != TCPS_ESTABLISHED && ti.tcpi_state != TCPS_CLOSE_WAIT;
    if (len >= offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
        t->received = (long long)ti.tcpi_bytes_received;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

int http_socket_send(int fd, const void *buf, size_t len, int stall_ms) {
    if (fd < 0) return -1;
    const char *p = buf;
    double end = now_ms() + stall_ms;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            end = now_ms() + stall_ms;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            double left = end - now_ms();
            if (left <= 0) return -1;
            struct pollfd pf = {fd, POLLOUT, 0};
            (void)poll(&pf, 1, left < 10 ? (int)left + 1 : 10);
            continue;
        }
        return -1;
    }
    return 0;
}

size_t http_socket_head(char *buf, size_t cap, int status, const char *content_type,
                        long long content_length, int retry_after) {
    const char *reason = MHD_get_reason_phrase_for((unsigned)status);
    char length[48] = "", retry[32] = "";
    if (content_length >= 0) snprintf(length, sizeof length, "Content-Length: %lld\r\n", content_length);
    if (retry_after > 0) snprintf(retry, sizeof retry, "Retry-After: %d\r\n", retry_after);
    int n = snprintf(buf, cap,
                     HTTP_STATUS_PREFIX "%d %s\r\nContent-Type: %s\r\n%s%s"
                     "Cache-Control: no-cache\r\nConnection: close\r\n\r\n",
                     status, reason && *reason ? reason : "Unknown",
                     content_type ? content_type : "application/json", length, retry);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

void http_socket_linger(int fd) {
    if (fd < 0) return;
    shutdown(fd, SHUT_WR);
    char sink[16384];
    size_t got = 0;
    double start = now_ms(), last = start;
    while (got < HTTP_LINGER_MAX_BYTES) {
        double t = now_ms(), idle = last + HTTP_LINGER_IDLE_MS - t, total = start + HTTP_LINGER_MAX_MS - t;
        double left = idle < total ? idle : total;
        if (left <= 0) break;
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, (int)left + 1);
        if (n < 0 && errno != EINTR) break;
        if (n <= 0) continue;
        ssize_t k = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (k == 0) break; /* the client's FIN: nothing more comes, the close will be clean */
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            break; /* reset: the client is gone */
        }
        got += (size_t)k;
        last = now_ms();
    }
}

int http_socket_reply(int fd, size_t skip, int status, const char *content_type, int retry_after,
                      const char *body, size_t len) {
    char head[384];
    size_t hl = http_socket_head(head, sizeof head, status, content_type, (long long)len,
                                 retry_after);
    if (hl == 0 || skip > hl) return -1;
    /* A client that reads nothing for a second does not hold the thread longer. */
    int rc = http_socket_send(fd, head + skip, hl - skip, 1000) == 0 &&
                     http_socket_send(fd, body ? body : "", body ? len : 0, 1000) == 0
                 ? 0
                 : -1;
    if (rc == 0) http_socket_linger(fd);
    return rc;
}
