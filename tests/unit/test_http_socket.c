/* test_http_socket.c — the client socket used directly (server/http_socket.h), on real loopback
 * TCP connections: a FIN is seen even behind unread bytes, a half-closed client accepts a write
 * while a closed one answers it with a reset (then the peer is "gone"), answers written past
 * libmicrohttpd are whole HTTP messages (with a probe prefix skipped), and the kernel's counts
 * the connection guard reads (bytes received, read or not; our side shut). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
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
