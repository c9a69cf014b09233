/* test_http_cancel.c — a client that goes away stops its work at once, a client that only
 * half-closes (shutdown(SHUT_WR) after its request) still gets its whole answer; on raw sockets,
 * against the real daemon.
 *
 * The hard cases are those where recv() alone is fooled: a pipelined request still unread before
 * the FIN (the daemon must look past it), and a FIN that is only a half-close (the daemon must
 * write to tell it from a close). "At once" is 0.5 s (times NNLAB_TEST_SLOW). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_support.h"

/* Long runs, always cancelled. QUIET streams no line until its one epoch ends (report_every is
 * huge), so only the hang-up check can notice a close; the epoch takes ~10 s of an idle core
 * for the Elman net (a smaller one ended in 0.5 s on an idle machine, before the test looked). */
static const char LONG_RUN[] =
    "{\"samples\": 20000, \"test_samples\": 100, \"epochs\": 200, \"report_every\": 200, "
    "\"stream\": false, \"seed\": 3}";
static const char QUIET_RUN[] =
    "{\"samples\": 50000, \"test_samples\": 100, \"epochs\": 1, \"hidden_size\": 64, "
    "\"min_length\": 100, \"max_length\": 120, \"report_every\": 100000000, \"seed\": 3}";
static const char PIPELINED[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

static double wait_gauge(const th_server *s, double want, double seconds) {
    return th_wait_metric(s, "nnlab_trainings_active", want, seconds);
}

static int post(const th_server *s, const char *path, const char *json) {
    int fd = th_connect(s->port);
    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n", path, strlen(json));
    th_send(fd, head, (size_t)n);
    th_send(fd, json, strlen(json));
    return fd;
}

/* Seconds from now until no training runs (cr_assert'ed under `limit`). */
static double time_to_cancel(const th_server *s, double limit, const char *what) {
    double t0 = th_now();
    cr_assert_eq(wait_gauge(s, 0, 5 * th_slow()), 0, "%s: the run never stopped", what);
    double t = th_now() - t0;
    fprintf(stderr, "cancel: %s -> run stopped after %.0f ms\n", what, t * 1e3);
    cr_assert_lt(t, limit, "%s: the run stopped only after %.2f s", what, t);
    return t;
}

/* A non-streamed training; one more request pipelined behind it (still unread when the client
 * leaves); then close. */
Test(cancel, pipelined_request_then_close_cancels_a_non_streamed_run, .timeout = 120) {
    th_server s;
    th_start(&s, NULL);
    int fd = post(&s, "/train/gru", LONG_RUN);
    cr_assert_eq(wait_gauge(&s, 1, 10 * th_slow()), 1, "the run started");
    th_send(fd, PIPELINED, strlen(PIPELINED));
    th_sleep(0.3); /* the daemon looked at the socket since: the request is there, unread */
    close(fd);
    time_to_cancel(&s, 0.5 * th_slow(), "non-streamed, pipelined + close");
    cr_assert_eq(th_stop(&s), 0);
}

Test(cancel, pipelined_request_then_close_cancels_a_quiet_stream, .timeout = 120) {
    th_server s;
    th_start(&s, NULL);
    int fd = post(&s, "/train/gru", QUIET_RUN);
    char *start = th_recv_until(fd, "\"type\":\"start\"", 10 * th_slow()); /* head, "start" line */
    cr_assert(strstr(start, "\"type\":\"start\""), "stream began: %.300s", start);
    free(start);
    th_send(fd, PIPELINED, strlen(PIPELINED));
    th_sleep(0.3);
    close(fd); /* nothing unread on our side: a plain FIN */
    time_to_cancel(&s, 0.5 * th_slow(), "quiet stream, pipelined + close");
    cr_assert_eq(th_stop(&s), 0);
}

/* ~1-2 s of training (fewer epochs under the slower sanitizer build), a line per epoch only:
 * the stream has pauses of a few hundred ms, when the daemon looks at its client. */
static void medium_run(char *buf, size_t cap, int stream) {
    snprintf(buf, cap, "{\"samples\": 20000, \"test_samples\": 100, \"epochs\": %d, "
             "\"hidden_size\": 16, \"report_every\": 100000000, \"stream\": %s, "
             "\"seed\": 4}", th_slow() > 1 ? 2 : 6, stream ? "true" : "false");
}

/* Send a request, half-close, read the whole answer (the daemon closes after it). */
static void half_closed_answer(const th_server *s, const char *path, const char *json, th_raw *a) {
    int fd = post(s, path, json);
    shutdown(fd, SHUT_WR);
    size_t n = 0;
    char *raw = th_recv_all(fd, 60 * th_slow(), &n);
    close(fd);
    cr_assert_eq(th_parse_raw(raw, n, a), 0, "a whole answer: %.300s", raw + (n > 300 ? n - 300 : 0));
    cr_assert_eq(a->status, 200, "%.300s", raw);
    free(raw);
}

/* A medium run of `path` whose client half-closes. */
static void half_closed_run(const th_server *s, const char *path, int stream, th_raw *a) {
    char body[256];
    medium_run(body, sizeof body, stream);
    half_closed_answer(s, path, body, a);
}

Test(cancel, half_closed_client_gets_its_non_streamed_answer, .timeout = 120) {
    th_server s;
    th_start(&s, NULL);
    th_raw a;
    half_closed_run(&s, "/train/gru", 0, &a);
    cJSON *j = cJSON_ParseWithLength(a.body, a.len); /* leading spaces are JSON whitespace */
    cr_assert(j, "the body is JSON: %.300s", a.body);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "type")), "done");
    cJSON_Delete(j);
    free(a.body);
    cr_assert_eq(th_metric(&s, "nnlab_trainings_active"), 0);
    cr_assert_eq(th_stop(&s), 0);
}

Test(cancel, half_closed_client_gets_its_whole_stream, .timeout = 120) {
    th_server s;
    th_start(&s, NULL);
    th_raw a;
    half_closed_run(&s, "/train/lstm", 1, &a);
    cr_assert(a.chunked);
    int lines = 0;
    const char *last = NULL;
    for (char *line = strtok(a.body, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        cr_assert(j, "line %d is JSON: '%.200s'", lines, line);
        last = cJSON_GetStringValue(cJSON_GetObjectItem(j, "type"));
        cr_assert(last);
        last = strcmp(last, "done") == 0 ? "done" : "other";
        cJSON_Delete(j);
        lines++;
    }
    cr_assert_gt(lines, 2);
    cr_assert_str_eq(last, "done", "the stream ends with the done line");
    free(a.body);
    cr_assert_eq(th_stop(&s), 0);
}

/* Half-closed, then closed while the run goes on: noticed too. */
Test(cancel, half_close_then_close_cancels_the_run, .timeout = 120) {
    th_server s;
    th_start(&s, NULL);
    static const char *const runs[] = {LONG_RUN, QUIET_RUN};
    for (int i = 0; i < 2; i++) {
        int fd = post(&s, "/train/rnn", runs[i]);
        cr_assert_eq(wait_gauge(&s, 1, 10 * th_slow()), 1, "the run started");
        shutdown(fd, SHUT_WR);
        th_sleep(0.5); /* half-closed for a while: the run must go on */
        cr_assert_eq(th_metric(&s, "nnlab_trainings_active"), 1, "a half-close does not cancel");
        char *got = th_recv(fd, 0.3); /* whatever came so far, so that close sends a FIN */
        free(got);
        close(fd);
        time_to_cancel(&s, 0.5 * th_slow(), i ? "stream, half-close then close"
                                               : "non-streamed, half-close then close");
    }
    cr_assert_eq(th_stop(&s), 0);
}

/* Computations over the default work budget (the daemon is given 1e12): a /pool of ~0.6
 * CPU-seconds with a small answer (32 x 2049 outputs: 2048 rows of 2048-wide windows, the
 * separable kernel's heaviest kind of horizontal pass), and one of ~8 CPU-seconds. */
static const char *const BIG_WORK[] = {"--max-work", "1e12", NULL};
static const char HEAVY_POOL[] =
    "{\"input\": [[[0.5]]], \"resize\": [2048, 4096], \"function\": \"max\", \"size\": [64, 2048], "
    "\"stride\": [64, 1]}";
static const char HEAVIER_POOL[] =
    "{\"input\": [[[0.5]]], \"resize\": [4096, 4096], \"size\": 2048, \"stride\": 1}";

Test(cancel, half_closed_client_gets_a_computed_answer, .timeout = 120) {
    th_server s;
    th_start(&s, BIG_WORK);
    double t0 = th_now();
    th_raw a;
    half_closed_answer(&s, "/pool", HEAVY_POOL, &a);
    double t = th_now() - t0;
    cJSON *j = cJSON_ParseWithLength(a.body, a.len);
    cr_assert(j, "JSON body");
    cJSON *shape = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "output"), "shape");
    cr_assert_eq(cJSON_GetArrayItem(shape, 0)->valuedouble, 32);
    cr_assert_eq(cJSON_GetArrayItem(shape, 1)->valuedouble, 2049);
    cJSON_Delete(j);
    free(a.body);
    cr_assert_eq(th_stop(&s), 0);
    fprintf(stderr, "cancel: half-closed /pool answered in %.0f ms\n", t * 1e3);
}

/* A client that closes while its /pool computes: the daemon notices (the request's cancel flag
 * is set; its log line says client-gone) and writes no answer. */
Test(cancel, close_during_a_computation_is_noticed, .timeout = 120) {
    th_server s;
    th_start(&s, BIG_WORK);
    int fd = post(&s, "/pool", HEAVIER_POOL);
    th_sleep(0.2);
    close(fd);
    th_resp r; /* the next request is answered as usual, after the /pool's log line */
    double end = th_now() + 30 * th_slow();
    char *log = NULL;
    while (th_now() < end) {
        cr_assert_eq(th_request(&s, "GET", "/healthz", NULL, NULL, 0, &r), 0);
        th_resp_free(&r);
        free(log);
        log = th_read_file(s.log, NULL);
        if (log && strstr(log, "POST /pool")) break;
        th_sleep(0.1);
    }
    cr_assert(log && strstr(log, "POST /pool - 0 "), "no answer was written:\n%s", log);
    cr_assert(strstr(strstr(log, "POST /pool"), "client-gone"), "the hang-up was noticed:\n%s", log);
    free(log);
    cr_assert_eq(th_stop(&s), 0);
}
