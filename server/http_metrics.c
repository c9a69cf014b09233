/* http_metrics.c — Prometheus counters (see http_metrics.h). */
#include "http_metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_budget.h"

static const char *const PATHS[] = {
    "/", "/healthz", "/metrics", "/openapi.json", "/conv", "/pool", "/mlp", "/cnn",
    "/train/rnn", "/train/lstm", "/train/gru", "/train/sweep", "/run/rnn", "/run/lstm", "/run/gru",
    "/check/conv", "/check/pool", "/check/mlp",
    "static", "other",
};
#define NPATHS (sizeof PATHS / sizeof PATHS[0])
static const int STATUSES[] = {200, 400, 404, 405, 408, 413, 415, 431, 500, 501, 503,
                               0 /* other */};
#define NSTATUS (sizeof STATUSES / sizeof STATUSES[0])
/* Latency buckets (seconds), Prometheus-style cumulative upper bounds. */
static const double BUCKETS[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                 5, 10, 30, 60};
#define NBUCKETS (sizeof BUCKETS / sizeof BUCKETS[0])

static atomic_ulong g_requests[NPATHS][NSTATUS];
static atomic_ulong g_hist[NPATHS][NBUCKETS + 1]; /* last = +Inf */
static atomic_ullong g_sum_us[NPATHS];
static atomic_long g_inflight;
static atomic_long g_trainings;
static atomic_long g_connections;
static atomic_ulong g_dropped[HTTP_DROP_COUNT];
static const char *const DROP_NAMES[HTTP_DROP_COUNT] = {"deadline", "evicted", "refused"};

static size_t path_index(const char *path) {
    for (size_t i = 0; i + 2 < NPATHS; i++)
        if (strcmp(path, PATHS[i]) == 0) return i;
    /* Page files are the only other paths that can succeed: any path with a dot in its last
     * segment counts as "static", the rest as "other". */
    const char *slash = strrchr(path, '/');
    if (slash && strchr(slash, '.')) return NPATHS - 2;
    return NPATHS - 1;
}

static size_t status_index(int status) {
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (STATUSES[i] == status) return i;
    return NSTATUS - 1;
}

void http_metrics_request(const char *path, int status, double seconds) {
    size_t p = path_index(path ? path : "");
    atomic_fetch_add_explicit(&g_requests[p][status_index(status)], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < NBUCKETS && seconds > BUCKETS[b]) b++;
    atomic_fetch_add_explicit(&g_hist[p][b], 1, memory_order_relaxed);
    if (seconds < 0) seconds = 0;
    atomic_fetch_add_explicit(&g_sum_us[p], (unsigned long long)(seconds * 1e6),
                              memory_order_relaxed);
}

void http_metrics_inflight(int delta) { atomic_fetch_add(&g_inflight, delta); }
void http_metrics_trainings(int delta) { atomic_fetch_add(&g_trainings, delta); }
long http_metrics_trainings_now(void) { return atomic_load(&g_trainings); }
void http_metrics_connections(int delta) { atomic_fetch_add(&g_connections, delta); }
void http_metrics_dropped(http_drop why) {
    if ((unsigned)why < HTTP_DROP_COUNT) atomic_fetch_add(&g_dropped[why], 1);
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) { b->oom = 1; return; }
        if ((size_t)n < b->cap - b->len) { b->len += (size_t)n; return; }
        size_t ncap = b->cap * 2 + (size_t)n + 1;
        char *np = realloc(b->p, ncap);
        if (!np) { b->oom = 1; return; }
        b->p = np;
        b->cap = ncap;
    }
}

static void render_requests(sbuf *b) {
    sb_printf(b, "# HELP nnlab_http_requests_total HTTP requests by path and status.\n"
                 "# TYPE nnlab_http_requests_total counter\n");
    for (size_t p = 0; p < NPATHS; p++)
        for (size_t s = 0; s < NSTATUS; s++) {
            unsigned long n = atomic_load_explicit(&g_requests[p][s], memory_order_relaxed);
            if (n == 0) continue;
            if (STATUSES[s])
                sb_printf(b, "nnlab_http_requests_total{path=\"%s\",status=\"%d\"} %lu\n",
                          PATHS[p], STATUSES[s], n);
            else
                sb_printf(b, "nnlab_http_requests_total{path=\"%s\",status=\"other\"} %lu\n",
                          PATHS[p], n);
        }
}

static void render_durations(sbuf *b) {
    sb_printf(b, "# HELP nnlab_http_request_duration_seconds Time from request to response end.\n"
                 "# TYPE nnlab_http_request_duration_seconds histogram\n");
    for (size_t p = 0; p < NPATHS; p++) {
        unsigned long counts[NBUCKETS + 1], total = 0;
        for (size_t i = 0; i <= NBUCKETS; i++) {
            counts[i] = atomic_load_explicit(&g_hist[p][i], memory_order_relaxed);
            total += counts[i];
        }
        if (total == 0) continue;
        unsigned long cum = 0;
        for (size_t i = 0; i < NBUCKETS; i++) {
            cum += counts[i];
            sb_printf(b, "nnlab_http_request_duration_seconds_bucket{path=\"%s\",le=\"%g\"} %lu\n",
                      PATHS[p], BUCKETS[i], cum);
        }
        sb_printf(b, "nnlab_http_request_duration_seconds_bucket{path=\"%s\",le=\"+Inf\"} %lu\n",
                  PATHS[p], total);
        sb_printf(b, "nnlab_http_request_duration_seconds_sum{path=\"%s\"} %.6f\n", PATHS[p],
                  (double)atomic_load(&g_sum_us[p]) / 1e6);
        sb_printf(b, "nnlab_http_request_duration_seconds_count{path=\"%s\"} %lu\n", PATHS[p],
                  total);
    }
}

static void render_gauges(sbuf *b) {
    sb_printf(b, "# HELP nnlab_http_requests_in_flight Requests being processed.\n"
                 "# TYPE nnlab_http_requests_in_flight gauge\n"
                 "nnlab_http_requests_in_flight %ld\n"
                 "# HELP nnlab_trainings_active Trainings running now.\n"
                 "# TYPE nnlab_trainings_active gauge\n"
                 "nnlab_trainings_active %ld\n",
              atomic_load(&g_inflight), atomic_load(&g_trainings));
    sb_printf(b, "# HELP nnlab_http_connections_open Client connections open now.\n"
                 "# TYPE nnlab_http_connections_open gauge\n"
                 "nnlab_http_connections_open %ld\n"
                 "# HELP nnlab_http_connections_dropped_total Connections the server closed or "
                 "refused: deadline (--request-timeout), evicted (room needed), refused.\n"
                 "# TYPE nnlab_http_connections_dropped_total counter\n",
              atomic_load(&g_connections));
    for (int i = 0; i < HTTP_DROP_COUNT; i++)
        sb_printf(b, "nnlab_http_connections_dropped_total{reason=\"%s\"} %lu\n", DROP_NAMES[i],
                  atomic_load(&g_dropped[i]));
    sb_printf(b, "# HELP nnlab_memory_budget_bytes Memory requests may reserve at once (--max-memory).\n"
                 "# TYPE nnlab_memory_budget_bytes gauge\n"
                 "nnlab_memory_budget_bytes %zu\n"
                 "# HELP nnlab_memory_reserved_bytes Memory reserved by the requests in flight.\n"
                 "# TYPE nnlab_memory_reserved_bytes gauge\n"
                 "nnlab_memory_reserved_bytes %zu\n"
                 "# HELP nnlab_memory_waiting Requests waiting for memory now.\n"
                 "# TYPE nnlab_memory_waiting gauge\n"
                 "nnlab_memory_waiting %zu\n"
                 "# HELP nnlab_memory_refused_total Requests refused (503) for lack of memory.\n"
                 "# TYPE nnlab_memory_refused_total counter\n"
                 "nnlab_memory_refused_total %lu\n",
              srv_budget_total(), srv_budget_used(), srv_budget_waiting(), srv_budget_refused());
}

char *http_metrics_render(size_t *len) {
    sbuf b = {malloc(16384), 0, 16384, 0};
    if (!b.p) return NULL;
    render_requests(&b);
    render_durations(&b);
    render_gauges(&b);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}
