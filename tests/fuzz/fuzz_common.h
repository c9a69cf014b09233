/* fuzz_common.h — shared by the libFuzzer harnesses: small limits so each iteration is
 * cheap, and the checks every response must pass whatever the input:
 *   - the status is one of the contract's (200, 400, 404, 405, 413, 415, 503); a 500 is a bug;
 *   - the body is one valid JSON document (so never a bare NaN/Infinity, never truncated);
 *   - an error body is exactly the contract's object {"error": {status, code, message, field?}}
 *     with the same status as the response.
 * A violated check calls abort(), which libFuzzer reports as a crash with the input saved. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Limits small enough that no input costs more than a few milliseconds. */
static inline void fuzz_limits(srv_limits *lim) {
    srv_limits_default(lim);
    lim->max_body_bytes = 1 << 20;
    lim->max_image_side = 64;
    lim->max_tensor_elems = 4096;
    lim->max_work_flops = 2e5;
    lim->max_samples = 8;
    lim->max_epochs = 2;
    lim->max_length = 8;
    lim->max_hidden = 4;
    lim->max_trainings = 1;
}

static inline void fuzz_die(const char *what, const char *body, size_t len) {
    fprintf(stderr, "fuzz check failed: %s\nbody (%zu bytes): %.*s\n", what, len,
            (int)(len > 2000 ? 2000 : len), body ? body : "");
    abort();
}

static inline int fuzz_status_ok(int s) {
    return s == 200 || s == 400 || s == 404 || s == 405 || s == 413 || s == 415 || s == 503;
}

/* Check one JSON document (a whole body, or one NDJSON line without its '\n'). */
static inline void fuzz_check_json(int status, const char *body, size_t len) {
    if (!fuzz_status_ok(status)) fuzz_die("status outside the contract (a 500 is a bug)", body, len);
    if (!body || len == 0) fuzz_die("empty body", body, len);
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!j) fuzz_die("body is not valid JSON", body, len);
    while (end && end < body + len && (*end == '\n' || *end == ' ' || *end == '\r')) end++;
    if (end != body + len) fuzz_die("trailing bytes after the JSON document", body, len);
    if (status != 200) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "status");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        const cJSON *field = cJSON_GetObjectItemCaseSensitive(e, "field");
        if (!cJSON_IsObject(e) || !cJSON_IsNumber(st) || st->valuedouble != status ||
            !cJSON_IsString(code) || !cJSON_IsString(msg) || (field && !cJSON_IsString(field)))
            fuzz_die("error body is not the contract's error object", body, len);
    }
    cJSON_Delete(j);
}

static inline void fuzz_check_response(const srv_response *r) {
    if (!r->content_type) fuzz_die("no content type", r->body, r->len);
    if (r->status == 503 && r->retry_after <= 0) fuzz_die("503 without Retry-After", r->body, r->len);
    fuzz_check_json(r->status, r->body, r->len);
}

/* POST data[0..size) to endpoint ep through srv_handle_json with fuzz_limits; the response must
 * pass fuzz_check_response, and a 200 also `ok_check` (may be NULL). */
static inline void fuzz_endpoint(const char *ep, const uint8_t *data, size_t size,
                                 void (*ok_check)(const srv_response *)) {
    srv_limits lim;
    fuzz_limits(&lim);
    srv_response r = {0};
    srv_handle_json(&lim, ep, "application/json", (const char *)data, size, NULL, &r);
    fuzz_check_response(&r);
    if (ok_check && r.status == 200) ok_check(&r);
    srv_response_free(&r);
}

#endif
