/* test_http_memory.c — admission by memory (server/srv_budget.h) on the real daemon: while one
 * big request holds the memory budget, another big one waits and then gets 503 + Retry-After
 * (after its body was read, so the client sees the answer), small requests go on at once, the
 * big one finishes normally, and everything reserved is given back. A client that only
 * declares a big body holds almost nothing: bodies are reserved for as they arrive. A client
 * that asks first (Expect: 100-continue) is refused before it uploads, or told to go on. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_support.h"

#define BUDGET "20000000" /* 20 MB: one 1 MB body (~42 MB reserved) fills it */
#define BODY 1000000

/* A valid /conv request padded with spaces to exactly n bytes. */
static char *padded_conv(size_t n) {
    const char *head = "{\"input\": [[[1], [2]], [[3], [4]]], \"kernel\": [[[1]]]";
    char *b = malloc(n + 1);
    cr_assert_not_null(b);
    size_t h = strlen(head);
    memcpy(b, head, h);
    memset(b + h, ' ', n - h - 1);
    b[n - 1] = '}';
    b[n] = '\0';
    return b;
}

static void nap(void) {
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
}

static double reserved(const th_server *s) { return th_metric(s, "nnlab_memory_reserved_bytes"); }

Test(memory, big_requests_wait_for_memory_small_ones_do_not, .timeout = 90) {
    static const char *const args[] = {"--max-memory", BUDGET, NULL};
    th_server s;
    th_start(&s, args);
    th_resp r;

    cr_assert_eq(th_health_limit(&s, "max_memory_bytes"), 20e6);
    cr_assert_eq(th_metric(&s, "nnlab_memory_budget_bytes"), 20e6);

    char *body = padded_conv(BODY);
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "POST /conv HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\nConnection: close\r\n\r\n", BODY);
    /* D: declares a 1 MB body and sends none of it: it holds only the 1 MiB base. */
    int dfd = th_connect(s.port);
    th_send(dfd, head, (size_t)hl);
    double t0 = th_now();
    while (reserved(&s) <= 0 && th_now() - t0 < 10 * th_slow()) nap();
    cr_assert(reserved(&s) > 0 && reserved(&s) < 2e6, "a declared, unsent body holds %g bytes",
              reserved(&s));
    close(dfd);

    /* A: sends 900 kB of its 1 MB body and stops: it holds ~38 MB (more than the budget,
     * allowed because it is alone) while it uploads. */
    int a = th_connect(s.port);
    th_send(a, head, (size_t)hl);
    th_send(a, body, 900000);
    t0 = th_now();
    while (reserved(&s) < 37e6 && th_now() - t0 < 10 * th_slow()) nap();
    cr_assert_geq(reserved(&s), 37e6, "A's reservation is counted: %g", reserved(&s));

    /* C: a small request is not kept waiting. */
    t0 = th_now();
    cr_assert_eq(th_post_json(&s, "/mlp", "{\"input\": [1, 2], \"hidden_layers\": 1, \"hidden_size\": 3, "
                                          "\"output_size\": 2, \"seed\": 1}", &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_lt(th_now() - t0, 1.0 * th_slow(), "a small request waited %.2f s", th_now() - t0);
    th_resp_free(&r);

    /* B: another big one waits (~2 s) and is refused with Retry-After, body read first. */
    t0 = th_now();
    cr_assert_eq(th_request(&s, "POST", "/conv", NULL, body, BODY, &r), 0);
    double waited = th_now() - t0;
    cr_assert_eq(r.status, 503, "B: %ld %s", r.status, r.body);
    cr_assert_str_eq(r.retry_after, "5");
    cr_assert(strstr(r.body, "\"code\":\"busy\"") && strstr(r.body, "memory"), "%s", r.body);
    cr_assert_geq(waited, 1.5, "B was refused after %.2f s, before waiting for room", waited);
    th_resp_free(&r);
    cr_assert_geq(th_metric(&s, "nnlab_memory_refused_total"), 1);

    /* E asks before uploading (Expect: 100-continue, as curl does above 1 MiB): refused with
     * Retry-After after waiting 0.9 s for room (curl waits 1 s for an answer before it
     * uploads anyway), without sending a byte of its body. */
    char ehead[320];
    int ehl = snprintf(ehead, sizeof ehead,
                       "POST /conv HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                       "Content-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
                       BODY);
    int e = th_connect(s.port);
    t0 = th_now();
    th_send(e, ehead, (size_t)ehl);
    double seen_waiting = 0; /* the gauge shows E in the queue while it waits */
    while (seen_waiting < 1 && th_now() - t0 < 0.7) {
        seen_waiting = th_metric(&s, "nnlab_memory_waiting");
        nap();
    }
    cr_assert_eq(seen_waiting, 1, "nnlab_memory_waiting while E waits");
    char *eans = th_recv(e, 10 * th_slow());
    cr_assert(strncmp(eans, "HTTP/1.1 503", 12) == 0, "E: %.200s", eans);
    cr_assert(strstr(eans, "Retry-After: 5") && strstr(eans, "memory"), "E: %.400s", eans);
    cr_assert(!strstr(eans, "100 Continue"), "E was told to upload: %.200s", eans);
    double e_waited = th_now() - t0;
    cr_assert_geq(e_waited, 0.8, "E was refused before waiting for room");
    cr_assert_lt(e_waited, 1.5 * th_slow(), "E waited %.2f s: curl uploads after 1 s", e_waited);
    free(eans);
    close(e);

    /* A finishes normally. */
    th_send(a, body + 900000, BODY - 900000);
    char *ans = th_recv(a, 20 * th_slow());
    cr_assert(strncmp(ans, "HTTP/1.1 200", 12) == 0, "A: %.200s", ans);
    cr_assert(strstr(ans, "\"output\""), "A: %.300s", ans);
    free(ans);
    close(a);

    /* Everything is given back; B now goes through. */
    t0 = th_now();
    while (reserved(&s) != 0 && th_now() - t0 < 10 * th_slow()) nap();
    cr_assert_eq(reserved(&s), 0, "reserved after all answers: %g", reserved(&s));
    cr_assert_eq(th_metric(&s, "nnlab_memory_waiting"), 0);
    cr_assert_eq(th_request(&s, "POST", "/conv", NULL, body, BODY, &r), 0);
    cr_assert_eq(r.status, 200, "B again: %ld %.200s", r.status, r.body);
    th_resp_free(&r);

    /* With room, E is told to go on, uploads, and is answered. */
    e = th_connect(s.port);
    th_send(e, ehead, (size_t)ehl);
    eans = th_recv(e, 1.0 * th_slow());
    cr_assert(strncmp(eans, "HTTP/1.1 100 Continue", 21) == 0, "E again: %.200s", eans);
    free(eans);
    th_send(e, body, BODY);
    eans = th_recv(e, 20 * th_slow());
    cr_assert(strncmp(eans, "HTTP/1.1 200", 12) == 0 && strstr(eans, "\"output\""), "E again: %.300s", eans);
    free(eans);
    close(e);
    free(body);
    cr_assert_eq(th_stop(&s), 0);
}
