/* http_metrics.h — the daemon's Prometheus counters (GET /metrics).
 *
 * Lock-free (atomics only), so recording never blocks a request. Paths are folded into a fixed
 * set of labels (the API's endpoints, "static" for page files, "other") so a client cannot grow
 * the label set; statuses likewise ("other" for codes outside the list). */
#ifndef HTTP_METRICS_H
#define HTTP_METRICS_H

#include <stddef.h>

/* Record one finished request: its path, HTTP status, and wall time in seconds. */
void http_metrics_request(const char *path, int status, double seconds);

/* Why the connection guard (http_guard.h) closed or refused a connection. */
typedef enum http_drop {
    HTTP_DROP_DEADLINE, /* its request did not arrive within --request-timeout */
    HTTP_DROP_EVICTED,  /* it was waiting, and room was needed (reserve, per-address limit) */
    HTTP_DROP_REFUSED,  /* new, from an address whose connections were all busy */
    HTTP_DROP_COUNT
} http_drop;
void http_metrics_dropped(http_drop why);
/* Open connections gauge (+1 / -1). */
void http_metrics_connections(int delta);

/* In-flight requests and active trainings gauges (+1 / -1). */
void http_metrics_inflight(int delta);
void http_metrics_trainings(int delta);
long http_metrics_trainings_now(void);

/* Render the exposition text (text/plain; version=0.0.4). Returns a malloc'd NUL-terminated
 * string (caller frees) and its length in *len, or NULL when out of memory. */
char *http_metrics_render(size_t *len);

#endif
