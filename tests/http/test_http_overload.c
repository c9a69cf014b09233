/* test_http_overload.c — the connection guard on a loaded machine: waves of reconnecting slow
 * clients while every core is busy, and a health check from the same address that must always
 * be answered. A binary of its own, so that its CPU load does not run beside the timing checks
 * of the other suites (the HTTP suites run their tests two at a time). */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_support.h"
#include "http_trickle.h"

/* A client on its own thread: every 20 ms a GET /healthz or a small POST /conv, in turn, each on
 * a new connection, counting answers and failures (no assertions off the test's main thread). */
typedef struct prober {
    int port;
    atomic_int stop;
    int probes, failures;
    double worst;
    char first_failure[160];
} prober;

#define SMALL_CONV "{\"input\":[[[0.1],[0.2]],[[0.3],[0.4]]],\"kernel\":\"box\",\"padding\":1}"
static const char *const PROBES[] = {
    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "POST /conv HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
    "Content-Length: 66\r\n\r\n" SMALL_CONV,
};
_Static_assert(sizeof SMALL_CONV - 1 == 66, "the Content-Length above");

static int probe_once(int port, const char *req, double *seconds) {
    double t0 = th_now();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    size_t len = strlen(req);
    ok = ok && send(fd, req, len, MSG_NOSIGNAL) == (ssize_t)len;
    char buf[16] = "";
    size_t n = 0;
    while (ok && n < 12 && th_now() - t0 < 10) { /* "HTTP/1.1 200" */
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t k = recv(fd, buf + n, 12 - n, 0);
        if (k <= 0) break;
        n += (size_t)k;
    }
    if (fd >= 0) close(fd);
    *seconds = th_now() - t0;
    return ok && n == 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 : errno ? errno : -1;
}

static void *prober_run(void *arg) {
    prober *p = arg;
    while (!atomic_load(&p->stop)) {
        double sec = 0;
        errno = 0;
        const char *req = PROBES[p->probes % 2];
        int rc = probe_once(p->port, req, &sec);
        if (rc != 0 && p->failures++ == 0)
            snprintf(p->first_failure, sizeof p->first_failure, "probe %d (%.11s): %s after %.0f ms",
                     p->probes, req, rc > 0 ? strerror(rc) : "no 200 answer", sec * 1e3);
        if (sec > p->worst) p->worst = sec;
        p->probes++;
        th_sleep(0.02);
    }
    return NULL;
}

/* On a loaded machine (four busy processes), 300 connections reconnect at once every 0.4 s
 * (x NNLAB_TEST_SLOW) and trickle a head byte in between, against --max-connections 64: each
 * wave closes some 250 waiting connections, whose threads then wait for a core to end. Meanwhile
 * health checks and small requests from the same address must all be answered: neither closed
 * as "waiting" nor refused at libmicrohttpd's hard limit while closed connections still hold
 * their slots. */
Test(overload, waves_of_reconnecting_connections_on_a_loaded_machine, .timeout = 180) {
    const char *args[] = {"--max-connections", "64", NULL};
    th_server s;
    th_start(&s, args);
    static trickle t;
    trickle_open(&t, s.port, 300);
    th_cpu_load_start(4);
    prober p;
    memset(&p, 0, sizeof p);
    p.port = s.port;
    atomic_init(&p.stop, 0);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, prober_run, &p), 0);
    double t0 = th_now(), next_wave = t0;
    int waves = 0;
    for (int turn = 0; th_now() - t0 < 8 * th_slow(); turn++) {
        if (th_now() >= next_wave) {
            trickle_close(&t);
            trickle_open(&t, s.port, 300);
            waves++;
            next_wave += 0.4 * th_slow();
        }
        trickle_byte(&t, s.port, turn % t.n);
        th_sleep(2.0 / t.n);
    }
    atomic_store(&p.stop, 1);
    pthread_join(th, NULL);
    th_cpu_load_stop();
    double evicted = th_metric(&s, "nnlab_http_connections_dropped_total{reason=\"evicted\"}");
    trickle_close(&t);
    fprintf(stderr, "overload: %d waves of 300 on a loaded machine, %.0f evicted: %d probes, "
            "%d failed, slowest %.0f ms\n", waves, evicted, p.probes, p.failures, p.worst * 1e3);
    cr_assert_eq(p.failures, 0, "%d of %d probes failed; first: %s", p.failures, p.probes,
                 p.first_failure);
    cr_assert_eq(th_stop(&s), 0);
}
