/* ndjson_sink.h — what a training job emits (srv_api.h's srv_emit_fn), collected and split into
 * JSON lines, for the unit tests of the streamed endpoints (no socket). Failures abort the test
 * (criterion asserts). */
#ifndef NDJSON_SINK_H
#define NDJSON_SINK_H

#include <cJSON.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct sink {
    char *buf;              /* everything emitted, NUL-terminated (malloc'd: free it) */
    size_t len, cap;
    int calls;
    int lines;
    int cancel_after_lines; /* > 0: set *flag when this many lines arrived */
    atomic_int *flag;
    int refuse_after;       /* > 0: return nonzero from this call on */
} sink;

/* The srv_emit_fn: ctx is a sink. */
int emit(void *ctx, const char *data, size_t len);

/* Split NDJSON text into parsed lines (at most max; each must be one JSON object ending in a
 * newline); returns how many. Caller cJSON_Delete()s each. */
int parse_lines(const char *text, cJSON **out, int max);

/* A run that did not stream: one emit call whose text is the "done" object; that object
 * parsed (caller cJSON_Delete()s it). */
cJSON *sink_done(const sink *s);

/* The "type" member of a line. */
const char *type_of(const cJSON *j);

#endif
