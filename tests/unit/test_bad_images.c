/* test_bad_images.c — the known-bad image set (tests/data/bad_images) straight through
 * srv_handle_json("conv"), without a socket: every file marked "4xx" in manifest.json
 * gets a 400/413/415 (exactly its "status" where the manifest gives one) with the contract's
 * error object naming the field "image", "any" files get 200 or such an error, controls get 200;
 * each answer within the file's max_ms. Files whose manifest entry carries a "known_issue" (an
 * open, reported bug) are checked and logged, not failed. Then every file is decoded twice with
 * the heap and the stack full of different garbage, and the two answers must be the same bytes.
 * The same set is posted over HTTP to the sanitizer daemon by tests/reliability/bad_images.py. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn_cancel.h"
#include "srv_api.h"
#include "srv_base64.h"
#include "srv_image.h"

#define DIR "tests/data/bad_images"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            char *p = realloc(buf, cap + 1);
            if (!p) { free(buf); fclose(f); return NULL; }
            buf = p;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* 1 if body is {"error": {"status": status, "code": str, "message": str, "field": "image"}}. */
static int is_image_error(const srv_response *r) {
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "status");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(e, "field");
    int ok = cJSON_IsNumber(st) && st->valuedouble == r->status && cJSON_IsString(code) &&
             cJSON_IsString(msg) && cJSON_IsString(field) &&
             strcmp(field->valuestring, "image") == 0;
    cJSON_Delete(j);
    return ok;
}

static cJSON *load_manifest(void) {
    size_t mlen = 0;
    char *mtext = slurp(DIR "/manifest.json", &mlen);
    cr_assert_not_null(mtext, "cannot read " DIR "/manifest.json (run from the repository root)");
    cJSON *manifest = cJSON_Parse(mtext);
    free(mtext);
    cr_assert(cJSON_IsArray(manifest) && cJSON_GetArraySize(manifest) >= 40,
              "manifest.json lists the crafted files");
    return manifest;
}

Test(bad_images, every_file_gets_its_expected_answer, .timeout = 120) {
    cJSON *manifest = load_manifest();
    srv_limits lim;
    srv_limits_default(&lim);
    int checked = 0, known = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, manifest) {
        const char *file = cJSON_GetObjectItemCaseSensitive(m, "file")->valuestring;
        const char *expect = cJSON_GetObjectItemCaseSensitive(m, "expect")->valuestring;
        double max_ms = cJSON_GetObjectItemCaseSensitive(m, "max_ms")->valuedouble;
        const cJSON *issue = cJSON_GetObjectItemCaseSensitive(m, "known_issue");
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(m, "status");
        char path[512];
        snprintf(path, sizeof path, DIR "/%s", file);
        size_t n = 0;
        char *bytes = slurp(path, &n);
        cr_assert_not_null(bytes, "cannot read %s", path);
        size_t b64len = 0;
        char *b64 = n ? srv_base64_encode((const unsigned char *)bytes, n, &b64len) : NULL;
        free(bytes);
        cJSON *req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "image", b64 ? b64 : "");
        cJSON_AddStringToObject(req, "kernel", "box");
        free(b64);
        char *body = cJSON_PrintUnformatted(req);
        cJSON_Delete(req);
        srv_response r = {0};
        double t0 = now_ms();
        srv_handle_json(&lim, "conv", "application/json", body, strlen(body), NULL, &r);
        double ms = now_ms() - t0;
        free(body);
        int is4xx = r.status == 400 || r.status == 413 || r.status == 415;
        int ok;
        if (strcmp(expect, "4xx") == 0)
            ok = is4xx && is_image_error(&r) && (!cJSON_IsNumber(want) || r.status == want->valueint);
        else if (strcmp(expect, "200") == 0) ok = r.status == 200;
        else ok = r.status == 200 || (is4xx && is_image_error(&r));
        ok = ok && ms < max_ms;
        if (cJSON_IsString(issue)) {
            known++;
            cr_log_warn("%s: %s (known issue: %s) -> %d in %.1f ms", file,
                        ok ? "XPASS" : "XFAIL", issue->valuestring, r.status, ms);
        } else {
            cr_expect(ok, "%s: want %s within %.0f ms, got %d in %.1f ms: %.*s", file, expect,
                      max_ms, r.status, ms, (int)(r.len > 200 ? 200 : r.len),
                      r.body ? r.body : "");
            checked++;
        }
        srv_response_free(&r);
    }
    cJSON_Delete(manifest);
    cr_assert(checked >= 40, "checked %d files (%d known issues logged)", checked, known);
}

/* Fill a large stretch of the stack below the caller's frame with `byte`, so that the frames of
 * the next call (at the same depth) start out holding it. */
__attribute__((noinline)) static void garble_stack(unsigned char byte) {
    volatile unsigned char junk[256 * 1024];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = byte;
}

typedef struct outcome {
    int status;
    char message[256];
    size_t n;
    float *data;
} outcome;

/* Decode with the heap's fresh blocks filled with ~pattern (glibc's M_PERTURB: malloc'd memory
 * starts as ~pattern, freed memory becomes pattern) and the stack with pattern. */
static outcome decode_in_garbage(const unsigned char *bytes, size_t n, int gray, unsigned char pattern) {
    srv_limits lim;
    srv_limits_default(&lim);
    outcome o = {0};
    srv_tensor t;
    srv_err e = {0};
    mallopt(M_PERTURB, pattern);
    garble_stack(pattern);
    int rc = srv_image_decode(bytes, n, gray, &lim, "image", &t, &e);
    mallopt(M_PERTURB, 0);
    o.status = rc ? e.status : 200;
    snprintf(o.message, sizeof o.message, "%s", rc ? e.message : "");
    if (!rc) {
        o.n = t.n;
        o.data = malloc(t.n * sizeof *o.data);
        cr_assert_not_null(o.data);
        memcpy(o.data, t.data, t.n * sizeof *o.data);
        srv_tensor_free(&t);
    }
    return o;
}

Test(bad_images, every_file_decodes_the_same_whatever_memory_held, .timeout = 300) {
    cJSON *manifest = load_manifest();
    int decoded = 0, differing = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, manifest) {
        const char *file = cJSON_GetObjectItemCaseSensitive(m, "file")->valuestring;
        char path[512];
        snprintf(path, sizeof path, DIR "/%s", file);
        size_t n = 0;
        char *bytes = slurp(path, &n);
        cr_assert_not_null(bytes, "cannot read %s", path);
        for (int gray = 0; gray <= 1; gray++) {
            outcome a = decode_in_garbage((const unsigned char *)bytes, n, gray, 0x5A);
            outcome b = decode_in_garbage((const unsigned char *)bytes, n, gray, 0xA3);
            int same = a.status == b.status && strcmp(a.message, b.message) == 0 && a.n == b.n &&
                       (a.n == 0 || memcmp(a.data, b.data, a.n * sizeof *a.data) == 0);
            if (!same) {
                size_t diff = 0;
                for (size_t i = 0; i < a.n && a.n == b.n; i++) diff += a.data[i] != b.data[i];
                cr_log_error("%s%s: two decodes differ: %d/%d, %zu of %zu values differ (%s)", file,
                             gray ? " (gray)" : "", a.status, b.status, diff, a.n, a.message);
                differing++;
            }
            decoded += a.status == 200;
            free(a.data);
            free(b.data);
        }
        free(bytes);
    }
    cJSON_Delete(manifest);
    cr_assert(decoded >= 10, "only %d decodes succeeded: the comparison proves little", decoded);
    cr_assert_eq(differing, 0, "%d decodes depended on what memory held before (see above)", differing);
}

/* stb_image cannot be interrupted: a request already cancelled (client gone, daemon stopping)
 * when the walks are done does not start it. */
Test(bad_images, a_cancelled_request_does_not_start_decoding) {
    size_t n = 0;
    char *bytes = slurp(DIR "/control_valid.png", &n);
    cr_assert_not_null(bytes);
    srv_limits lim;
    srv_limits_default(&lim);
    atomic_int flag = 1;
    const atomic_int *outer = nn_cancel_bind(&flag);
    srv_tensor t;
    srv_err e = {0};
    int rc = srv_image_decode((const unsigned char *)bytes, n, 0, &lim, "image", &t, &e);
    nn_cancel_bind(outer);
    cr_assert_eq(rc, -1);
    cr_assert_eq(e.status, 503, "%d %s", e.status, e.message);
    atomic_store(&flag, 0);
    outer = nn_cancel_bind(&flag);
    memset(&e, 0, sizeof e);
    cr_assert_eq(srv_image_decode((const unsigned char *)bytes, n, 0, &lim, "image", &t, &e), 0, "%s", e.message);
    nn_cancel_bind(outer);
    srv_tensor_free(&t);
    free(bytes);
}
