/* test_http_limits.c — slow and greedy clients against the real daemon's connection guard: many
 * connections trickling a byte now and then do not lock anyone out (health checks and small
 * requests still answer promptly), a request has a total deadline to arrive, and one client
 * address cannot take the connections of another. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_support.h"
#include "http_trickle.h"

#define IMG3 "[[[0.1],[0.2],[0.3]],[[0.4],[0.5],[0.6]],[[0.7],[0.8],[0.9]]]"
static const char SMALL_CONV[] = "{\"input\":" IMG3 ",\"kernel\":\"box\",\"padding\":1}";

/* Seconds until the server closes fd (at most limit; returns limit when it did not). */
static double time_to_close(int fd, double limit) {
    double t0 = th_now();
    while (th_now() - t0 < limit) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 20) > 0 && trickle_closed_by_server(fd)) return th_now() - t0;
        if (p.revents & POLLIN) { /* an answer: read it and go on waiting for the close */
            char buf[4096];
            if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) return th_now() - t0;
        }
    }
    return limit;
}

/* ---------------------------------------------------------------- slow clients */

/* For `seconds`: every connection trickles a byte every 2 s, and every 200 ms a /healthz or a
 * small /conv on a new connection must answer 200 promptly. */
static void trickle_and_probe(const th_server *s, trickle *t, double seconds) {
    double t0 = th_now(), next_probe = t0, worst = 0;
    int probes = 0, turn = 0;
    while (th_now() - t0 < seconds) {
        double per_byte = 2.0 / t->n; /* round robin: each connection every 2 s */
        trickle_byte(t, s->port, turn % t->n);
        turn++;
        if (th_now() >= next_probe) {
            th_resp r;
            int rc = probes % 2 ? th_post_json(s, "/conv", SMALL_CONV, &r)
                                : th_request(s, "GET", "/healthz", NULL, NULL, 0, &r);
            cr_assert_eq(rc, 0, "probe %d (%s) failed at t=%.1f s: curl error %d", probes,
                         probes % 2 ? "/conv" : "/healthz", th_now() - t0, rc);
            cr_assert_eq(r.status, 200, "probe %d: %ld %.200s", probes, r.status, r.body);
            if (r.seconds > worst) worst = r.seconds;
            th_resp_free(&r);
            probes++;
            next_probe += 0.2;
        }
        th_sleep(per_byte);
    }
    fprintf(stderr, "limits: %d trickling connections (%d reopened): %d probes, slowest %.0f ms\n",
            t->n, t->reopened, probes, worst * 1e3);
    cr_assert_lt(worst, 1.0 * th_slow(), "slowest probe %.2f s", worst);
}

/* The defaults: 300 connections from one address (the tests' and the probes' both). */
Test(limits, three_hundred_trickling_connections_do_not_lock_others_out, .timeout = 120) {
    th_server s;
    th_start(&s, NULL);
    static trickle t;
    trickle_open(&t, s.port, 300);
    trickle_and_probe(&s, &t, 8);
    double evicted = th_metric(&s, "nnlab_http_connections_dropped_total{reason=\"evicted\"}");
    double open = th_metric(&s, "nnlab_http_connections_open");
    trickle_close(&t);
    fprintf(stderr, "limits: %.0f evicted, %.0f open at the end\n", evicted, open);
    cr_assert_gt(evicted, 0, "the oldest waiting connections made room");
    cr_assert_leq(open, 256, "at most --max-connections open");
    cr_assert_eq(th_stop(&s), 0);
}

/* Without a per-address limit, the reserve alone keeps room for newcomers. */
Test(limits, the_reserve_keeps_room_without_a_per_address_limit, .timeout = 120) {
    const char *args[] = {"--max-connections-per-ip", "0", "--max-connections", "64", NULL};
    th_server s;
    th_start(&s, args);
    static trickle t;
    trickle_open(&t, s.port, 100);
    trickle_and_probe(&s, &t, 6);
    cr_assert_gt(th_metric(&s, "nnlab_http_connections_dropped_total{reason=\"evicted\"}"), 0);
    trickle_close(&t);
    cr_assert_eq(th_stop(&s), 0);
}

/* Evidence, not age: an upload arriving at speed (100 KiB/s here, a slow link) is not closed to
 * make room while other connections of its address trickle, although after a moment it is older
 * than all of them: a new connection from the address arrives every 100 ms, each closing one
 * waiting connection, and the closed tricklers reconnect. */
Test(limits, an_upload_at_speed_outlives_trickling_connections_of_its_address, .timeout = 60) {
    const char *args[] = {"--max-connections-per-ip", "8", NULL};
    th_server s;
    th_start(&s, args);
    static trickle t;
    trickle_open(&t, s.port, 7); /* the address's 8 connections: 7 tricklers and the upload */
    for (int k = 0; k < 15; k++) {
        for (int i = 0; i < t.n; i++) trickle_byte(&t, s.port, i);
        th_sleep(0.1);
    }
    enum { PAD = 256 * 1024, PIECE = 5 * 1024 };
    size_t len = strlen(SMALL_CONV) + PAD;
    int up = th_connect(s.port);
    char head[256];
    int n = snprintf(head, sizeof head, "POST /conv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", len);
    th_send(up, head, (size_t)n);
    th_send(up, SMALL_CONV, strlen(SMALL_CONV) - 1); /* the closing brace goes last */
    static char spaces[PIECE];
    memset(spaces, ' ', sizeof spaces);
    double t0 = th_now(), next_new = t0;
    for (size_t sent = 0; sent < PAD; sent += PIECE) {
        th_send(up, spaces, sent + PIECE <= PAD ? PIECE : PAD - sent);
        for (int i = 0; i < t.n; i++) trickle_byte(&t, s.port, i);
        if (th_now() >= next_new && t.n < TRICKLE_MAX) {
            t.fd[t.n] = th_connect(s.port);
            t.sent[t.n++] = 0;
            next_new += 0.1;
        }
        th_sleep(0.05);
    }
    th_send(up, "}", 1);
    char *got = th_recv(up, 10 * th_slow());
    double evicted = th_metric(&s, "nnlab_http_connections_dropped_total{reason=\"evicted\"}");
    fprintf(stderr, "limits: 256 KiB upload in %.1f s beside %d trickling connections "
            "(%d reopened), %.0f evicted: %.12s\n", th_now() - t0, t.n, t.reopened, evicted, got);
    cr_assert(strncmp(got, "HTTP/1.1 200", 12) == 0, "the upload is answered: %.200s", got);
    cr_assert_gt(evicted, 20, "room was made %.0f times meanwhile", evicted);
    free(got);
    close(up);
    trickle_close(&t);
    cr_assert_eq(th_stop(&s), 0);
}

/* ---------------------------------------------------------------- the request deadline */

/* A byte every 0.3 s keeps libmicrohttpd's inactivity timer (60 s) from ever firing; the total
 * deadline (2 s) closes the connection anyway: silently while the head is incomplete, with a
 * 408 in JSON once the body is being sent. An idle keep-alive connection is closed at its
 * deadline too. */
Test(limits, a_request_must_arrive_within_its_deadline, .timeout = 60) {
    const char *args[] = {"--request-timeout", "2", NULL};
    th_server s;
    th_start(&s, args);
    static const char *const phases[] = {"head", "body"};
    for (int k = 0; k < 2; k++) {
        int fd = th_connect(s.port);
        const char *head = "POST /conv HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           "Content-Length: 1000\r\n\r\n";
        if (k == 1) th_send(fd, head, strlen(head));
        double t0 = th_now();
        char got[8192] = "";
        size_t n = 0;
        for (size_t i = 0; th_now() - t0 < 10; i++) {
            if (trickle_closed_by_server(fd) &&
                recv(fd, got + n, sizeof got - 1 - n, MSG_DONTWAIT) <= 0)
                break;
            ssize_t k2 = recv(fd, got + n, sizeof got - 1 - n, MSG_DONTWAIT);
            if (k2 > 0) n += (size_t)k2;
            got[n] = '\0';
            if (send(fd, k ? " " : head + i % 20, 1, MSG_NOSIGNAL) != 1) break;
            th_sleep(0.3);
        }
        double t = th_now() - t0;
        fprintf(stderr, "limits: trickled %s closed after %.2f s: %.60s\n", phases[k], t, got);
        cr_assert(t > 1.5 && t < 2 + 1.5 * th_slow(), "%s: closed after %.2f s (deadline 2 s)",
                  phases[k], t);
        if (k == 1) {
            cr_assert(strstr(got, "HTTP/1.1 408") && strstr(got, "\"status\":408"),
                      "a 408 with the JSON error: %s", got);
        }
        close(fd);
    }
    int fd = th_connect(s.port); /* keep-alive: an answer, then nothing */
    const char *get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    th_send(fd, get, strlen(get));
    double t = time_to_close(fd, 10);
    cr_assert(t > 1.5 && t < 2 + 1.5 * th_slow(), "idle keep-alive closed after %.2f s", t);
    close(fd);
    cr_assert_eq(th_metric(&s, "nnlab_http_connections_dropped_total{reason=\"deadline\"}"), 3);
    cr_assert_eq(th_stop(&s), 0);
}

/* ---------------------------------------------------------------- per client address */

static const char NON_STREAMED_LONG[] =
    "{\"samples\": 20000, \"test_samples\": 100, \"epochs\": 200, \"stream\": false, \"seed\": 3}";

static int start_busy(int port) {
    int fd = th_connect(port);
    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST /train/gru HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n", strlen(NON_STREAMED_LONG));
    th_send(fd, head, (size_t)n);
    th_send(fd, NON_STREAMED_LONG, strlen(NON_STREAMED_LONG));
    return fd;
}

/* GET path from another loopback address (the test's own address is at its limit). */
static char *get_from(int port, const char *src, const char *path) {
    int fd = th_connect_from(port, src);
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     path);
    th_send(fd, req, (size_t)n);
    char *got = th_recv(fd, 2 * th_slow());
    close(fd);
    return got;
}

static double metric_from(int port, const char *name) {
    char *got = get_from(port, "127.0.0.3", "/metrics");
    double v = -1;
    size_t nl = strlen(name);
    for (const char *p = got; p && *p;) {
        const char *e = strchr(p, '\n');
        if (strncmp(p, name, nl) == 0 && p[nl] == ' ') v = atof(p + nl + 1);
        p = e ? e + 1 : NULL;
    }
    free(got);
    return v;
}

Test(limits, one_address_cannot_take_the_connections_of_another, .timeout = 120) {
    const char *args[] = {"--max-connections-per-ip", "3", "--max-trainings", "3", NULL};
    th_server s;
    th_start(&s, args);
    int a[4];
    for (int i = 0; i < 3; i++) { /* waiting (idle) connections, oldest first */
        a[i] = th_connect(s.port);
        th_sleep(0.05);
    }
    int b = th_connect_from(s.port, "127.0.0.2"); /* another client, mid-request */
    const char *head = "POST /conv HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    th_send(b, head, strlen(head));
    th_sleep(0.1);
    a[3] = th_connect(s.port); /* the fourth from 127.0.0.1: its oldest waiting one goes */
    cr_assert_lt(time_to_close(a[0], 2 * th_slow()), 2 * th_slow(), "the oldest was closed");
    th_sleep(0.2);
    for (int i = 1; i < 4; i++)
        cr_assert(!trickle_closed_by_server(a[i]), "connection %d is open", i);
    char rest[128];
    int n = snprintf(rest, sizeof rest, "Content-Length: %zu\r\n\r\n%s", strlen(SMALL_CONV),
                     SMALL_CONV);
    th_send(b, rest, (size_t)n);
    char *got = th_recv(b, 2 * th_slow());
    cr_assert(strncmp(got, "HTTP/1.1 200", 12) == 0, "the other address is served: %.200s", got);
    free(got);
    for (int i = 0; i < 4; i++) close(a[i]);
    close(b);
    th_sleep(0.2);

    /* All of an address's connections busy: a new one from it is refused, others are not. */
    for (int i = 0; i < 3; i++) a[i] = start_busy(s.port);
    double t0 = th_now();
    while (metric_from(s.port, "nnlab_trainings_active") != 3 && th_now() - t0 < 10 * th_slow())
        th_sleep(0.02);
    int extra = th_connect(s.port);
    cr_assert_lt(time_to_close(extra, 2 * th_slow()), 2 * th_slow(), "refused");
    close(extra);
    cr_assert_eq(metric_from(s.port, "nnlab_http_connections_dropped_total{reason=\"refused\"}"),
                 1);
    got = get_from(s.port, "127.0.0.2", "/healthz");
    cr_assert(strncmp(got, "HTTP/1.1 200", 12) == 0, "another address is served: %.200s", got);
    free(got);
    for (int i = 0; i < 3; i++) close(a[i]);
    cr_assert_eq(th_stop(&s), 0);
}
