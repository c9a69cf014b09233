/* ndjson_sink.c — collect and split a job's NDJSON output; see ndjson_sink.h. */
#include "ndjson_sink.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

int emit(void *ctx, const char *data, size_t len) {
    sink *s = ctx;
    s->calls++;
    if (s->len + len + 1 > s->cap) {
        s->cap = (s->len + len + 1) * 2;
        s->buf = realloc(s->buf, s->cap);
        cr_assert_not_null(s->buf);
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->buf[s->len] = '\0';
    for (size_t i = 0; i < len; i++) s->lines += data[i] == '\n';
    if (s->cancel_after_lines && s->lines >= s->cancel_after_lines) atomic_store(s->flag, 1);
    return s->refuse_after && s->calls >= s->refuse_after;
}

int parse_lines(const char *text, cJSON **out, int max) {
    int n = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        cr_assert_not_null(nl, "line without newline: %.200s", p);
        const char *end;
        cJSON *j = cJSON_ParseWithLengthOpts(p, (size_t)(nl - p), &end, 0);
        cr_assert_not_null(j, "not JSON: %.*s", (int)(nl - p > 300 ? 300 : nl - p), p);
        cr_assert_eq(end, nl, "garbage in line");
        cr_assert(cJSON_IsObject(j));
        cr_assert_lt(n, max);
        out[n++] = j;
        p = nl + 1;
    }
    return n;
}

const char *type_of(const cJSON *j) { return cJSON_GetObjectItem(j, "type")->valuestring; }

cJSON *sink_done(const sink *s) {
    cr_assert_eq(s->calls, 1, "one emit call");
    cJSON *r = cJSON_Parse(s->buf);
    cr_assert_not_null(r, "not JSON: %.300s", s->buf ? s->buf : "");
    cr_assert_str_eq(type_of(r), "done");
    return r;
}
