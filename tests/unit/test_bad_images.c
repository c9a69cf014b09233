/* test_bad_images.c — the known-bad image set (tests/data/bad_images) straight through
 * srv_handle_json("conv"), without a socket: every file marked "4xx" in manifest.json gets a
 * 400/413/415 with the contract's error object naming the field "image", "any" files get 200 or
 * such an error, controls get 200; each answer within the file's max_ms. Files whose manifest
 * entry carries a "known_issue" (an open, reported bug) are checked and logged, not failed. The
 * same set is posted over HTTP to the sanitizer daemon by tests/reliability/bad_images.py. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srv_api.h"
#include "srv_base64.h"

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

Test(bad_images, every_file_gets_its_expected_answer, .timeout = 120) {
    size_t mlen = 0;
    char *mtext = slurp(DIR "/manifest.json", &mlen);
    cr_assert_not_null(mtext, "cannot read " DIR "/manifest.json (run from the repository root)");
    cJSON *manifest = cJSON_Parse(mtext);
    free(mtext);
    cr_assert(cJSON_IsArray(manifest) && cJSON_GetArraySize(manifest) >= 40,
              "manifest.json lists the crafted files");
    srv_limits lim;
    srv_limits_default(&lim);
    int checked = 0, known = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, manifest) {
        const char *file = cJSON_GetObjectItemCaseSensitive(m, "file")->valuestring;
        const char *expect = cJSON_GetObjectItemCaseSensitive(m, "expect")->valuestring;
        double max_ms = cJSON_GetObjectItemCaseSensitive(m, "max_ms")->valuedouble;
        const cJSON *issue = cJSON_GetObjectItemCaseSensitive(m, "known_issue");
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
        if (strcmp(expect, "4xx") == 0) ok = is4xx && is_image_error(&r);
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
