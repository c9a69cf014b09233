/* test_srv_util.c — the daemon's input/output helpers without a socket: strict JSON (trailing
 * garbage, duplicate keys, integers), Content-Type, base64, number formatting, error objects. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_rng.h"
#include "srv_api.h"
#include "srv_base64.h"
#include "srv_buf.h"
#include "srv_json.h"
#include "srv_tensor.h"

static cJSON *parse(const char *s, srv_err *e) {
    memset(e, 0, sizeof *e);
    return srv_json_parse(s, strlen(s), e);
}

/* body is refused with a 400 naming `field` (NULL: any); the error, for further checks. */
static srv_err refused(const char *body, const char *field) {
    srv_err e;
    cr_assert_null(parse(body, &e), "%s accepted", body);
    cr_assert_eq(e.status, 400, "%s: status %d", body, e.status);
    if (field) cr_assert_str_eq(e.field, field, "%s", body);
    return e;
}

Test(srv_json, accepts_object_with_whitespace) {
    srv_err e;
    cJSON *j = parse("  {\"a\": 1, \"b\": [1, 2]} \r\n\t", &e);
    cr_assert_not_null(j);
    cr_assert_eq(e.status, 0);
    cJSON_Delete(j);
}

Test(srv_json, rejects_trailing_garbage) {
    srv_err e = refused("{\"a\": 1} x", "body");
    cr_assert_not_null(strstr(e.message, "byte 9"), "%s", e.message);
    refused("{\"a\": 1}{}", NULL);
}

Test(srv_json, rejects_malformed_and_non_object) {
    refused("{\"a\": }", "body");
    refused("[1, 2]", NULL);
    refused("", NULL);
    refused("{\"a\": NaN}", NULL);
}

Test(srv_json, body_need_not_be_nul_terminated) {
    srv_err e = {0};
    const char buf[] = {'{', '}', 'X'};
    cJSON *j = srv_json_parse(buf, 2, &e);
    cr_assert_not_null(j);
    cJSON_Delete(j);
}

/* JSON strings may not hold raw control characters, and \u0000 would cut a C string short (an
 * image's base64 silently truncated): both are 400, escaped forms of other characters are fine. */
Test(srv_json, rejects_control_characters_and_nul_in_strings) {
    static const struct { const char *body; size_t len; int ok; } cases[] = {
        {"{\"image\": \"QUJD\\u0000REVG\"}", 0, 0},  /* escaped NUL */
        {"{\"image\": \"QUJD\tREVG\"}", 0, 0},       /* raw tab inside a string */
        {"{\"a\": \"x\ny\"}", 0, 0},                 /* raw newline inside a string */
        {"{\"image\": \"QUJD\0REVG\"}", 22, 0},     /* raw NUL inside a string */
        {"{\"a\": \"x\\\\u0000\"}", 0, 1},           /* an escaped backslash, then text */
        {"{\"a\": \"\\t \\n \\u0041 \\\"\"}", 0, 1}, /* escapes are fine */
        {"{\n\t\"a\":\r\n 1}", 0, 1},                /* whitespace outside strings is fine */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        srv_err e = {0};
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].body);
        cJSON *j = srv_json_parse(cases[i].body, len, &e);
        if (cases[i].ok) {
            cr_assert_not_null(j, "case %zu should parse: %s", i, e.message);
            cJSON_Delete(j);
        } else {
            cr_assert_null(j, "case %zu should be refused", i);
            cr_assert_eq(e.status, 400, "case %zu", i);
            cr_assert_str_eq(e.field, "body", "case %zu", i);
        }
    }
}

Test(srv_json, duplicate_keys_named_with_path) {
    refused("{\"a\": 1, \"a\": 2}", "a");
    refused("{\"arch\": [{\"x\": 1}, {\"size\": 1, \"size\": 2}]}", "arch[1].size");
    /* Many keys take the sorting path. */
    char big[4096];
    size_t n = (size_t)snprintf(big, sizeof big, "{");
    for (int i = 0; i < 40; i++) n += (size_t)snprintf(big + n, sizeof big - n, "\"k%d\": %d,", i, i);
    snprintf(big + n, sizeof big - n, "\"k17\": 0}");
    refused(big, "k17");
}

Test(srv_json, integers_validated_from_double) {
    srv_err e;
    cJSON *j = parse("{\"a\": 1.5, \"b\": 1e300, \"c\": -3, \"d\": \"7\", \"e\": 4.0, \"f\": 1e2}", &e);
    cr_assert_not_null(j);
    long long v;
    memset(&e, 0, sizeof e);
    cr_assert_eq(srv_json_int_opt(j, "a", "", 0, 100, 0, &v, &e), -1);
    cr_assert_str_eq(e.field, "a");
    memset(&e, 0, sizeof e);
    cr_assert_eq(srv_json_int_opt(j, "b", "x", 0, 100, 0, &v, &e), -1);
    cr_assert_str_eq(e.field, "x.b");
    memset(&e, 0, sizeof e);
    cr_assert_eq(srv_json_int_opt(j, "c", "", 0, 100, 0, &v, &e), -1);
    cr_assert_eq(e.status, 400);
    memset(&e, 0, sizeof e);
    cr_assert_eq(srv_json_int_opt(j, "d", "", 0, 100, 0, &v, &e), -1);
    memset(&e, 0, sizeof e);
    cr_assert_eq(srv_json_int_opt(j, "e", "", 0, 100, 0, &v, &e), 0);
    cr_assert_eq(v, 4);
    cr_assert_eq(srv_json_int_opt(j, "f", "", 0, 100, 0, &v, &e), 0);
    cr_assert_eq(v, 100);
    cr_assert_eq(srv_json_int_opt(j, "missing", "", 0, 100, 42, &v, &e), 0);
    cr_assert_eq(v, 42);
    long long pair[2];
    cJSON *p = parse("{\"s\": [2, 3], \"t\": [1], \"u\": 5}", &e);
    cr_assert_eq(srv_json_pair_opt(p, "s", "", 1, 9, 1, pair, &e), 0);
    cr_assert(pair[0] == 2 && pair[1] == 3);
    cr_assert_eq(srv_json_pair_opt(p, "u", "", 1, 9, 1, pair, &e), 0);
    cr_assert(pair[0] == 5 && pair[1] == 5);
    cr_assert_eq(srv_json_pair_opt(p, "t", "", 1, 9, 1, pair, &e), -1);
    cr_assert_str_eq(e.field, "t");
    cJSON_Delete(p);
    cJSON_Delete(j);
}

Test(srv_json, content_type_rules) {
    srv_err e = {0};
    cr_assert_eq(srv_check_content_type(NULL, &e), 0);
    cr_assert_eq(srv_check_content_type("application/json", &e), 0);
    cr_assert_eq(srv_check_content_type("Application/JSON; charset=UTF-8", &e), 0);
    cr_assert_eq(srv_check_content_type("application/x-www-form-urlencoded", &e), 0);
    cr_assert_eq(srv_check_content_type("application/vnd.api+json", &e), 0);
    cr_assert_eq(srv_check_content_type("text/plain", &e), -1);
    cr_assert_eq(e.status, 415);
    cr_assert_str_eq(e.field, "Content-Type");
    memset(&e, 0, sizeof e);
    cr_assert_eq(srv_check_content_type("application/json; charset=latin1", &e), -1);
    cr_assert_eq(e.status, 415);
}

Test(srv_error, contract_object) {
    srv_response r;
    srv_error(&r, 400, "invalid_argument", "stride", "stride must be >= %d", 1);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(r.content_type, "application/json");
    cJSON *j = cJSON_Parse(r.body);
    cr_assert_not_null(j);
    cJSON *err = cJSON_GetObjectItem(j, "error");
    cr_assert_eq(cJSON_GetObjectItem(err, "status")->valuedouble, 400);
    cr_assert_str_eq(cJSON_GetObjectItem(err, "code")->valuestring, "invalid_argument");
    cr_assert_str_eq(cJSON_GetObjectItem(err, "message")->valuestring, "stride must be >= 1");
    cr_assert_str_eq(cJSON_GetObjectItem(err, "field")->valuestring, "stride");
    cJSON_Delete(j);
    srv_response_free(&r);
    srv_error(&r, 503, NULL, NULL, "busy \"quoted\"\n");
    cr_assert_eq(r.retry_after, 5);
    j = cJSON_Parse(r.body);
    cr_assert_not_null(j);
    err = cJSON_GetObjectItem(j, "error");
    cr_assert_null(cJSON_GetObjectItem(err, "field"));
    cr_assert_str_eq(cJSON_GetObjectItem(err, "code")->valuestring, "busy");
    cr_assert_str_eq(cJSON_GetObjectItem(err, "message")->valuestring, "busy \"quoted\"\n");
    cJSON_Delete(j);
    srv_response_free(&r);
}

Test(srv_limits, defaults) {
    srv_limits l;
    srv_limits_default(&l);
    cr_assert_eq(l.max_body_bytes, 16u << 20);
    cr_assert_eq(l.max_image_side, 4096u);
    cr_assert_eq(l.max_tensor_elems, 16u << 20);
    cr_assert(l.max_work_flops > 1e9);
    cr_assert(l.max_trainings >= 1);
}

/* ---- base64 ---------------------------------------------------------------------------- */

static unsigned char *b64(const char *s, size_t *n, const char **why) {
    size_t pos;
    return srv_base64_decode(s, strlen(s), n, why, &pos);
}

Test(srv_base64, decodes_valid_forms) {
    size_t n;
    const char *why;
    unsigned char *p = b64("aGVsbG8=", &n, &why);
    cr_assert_not_null(p);
    cr_assert_eq(n, 5u);
    cr_assert_eq(memcmp(p, "hello", 5), 0);
    free(p);
    p = b64("aGVsbG8", &n, &why); /* padding optional */
    cr_assert_not_null(p);
    cr_assert_eq(n, 5u);
    free(p);
    p = b64("aGVs\r\nbG8h\n", &n, &why); /* line breaks ignored */
    cr_assert_not_null(p);
    cr_assert_eq(memcmp(p, "hello!", 6), 0);
    free(p);
    p = b64("data:image/png;base64,aGk=", &n, &why);
    cr_assert_not_null(p);
    cr_assert_eq(n, 2u);
    cr_assert_eq(memcmp(p, "hi", 2), 0);
    free(p);
}

Test(srv_base64, rejects_invalid) {
    size_t n;
    const char *why;
    const char *bad[] = {"", "====", "a", "aGVsbG8==", "aGVs!G8=", "aGk=aGk=", "aGVsbG-_", "aGl=",
                         "data:image/png,aGk=", "aG=k"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char *p = b64(bad[i], &n, &why);
        cr_assert_null(p, "'%s' should not decode", bad[i]);
        cr_assert_not_null(why);
    }
}

Test(srv_base64, roundtrip_random) {
    nn_rng rng;
    nn_rng_seed(&rng, 7);
    for (size_t len = 1; len < 200; len++) {
        unsigned char buf[200];
        for (size_t i = 0; i < len; i++) buf[i] = (unsigned char)nn_rng_u64(&rng);
        size_t elen, dlen, pos;
        const char *why;
        char *enc = srv_base64_encode(buf, len, &elen);
        cr_assert_eq(elen, (len + 2) / 3 * 4);
        unsigned char *dec = srv_base64_decode(enc, elen, &dlen, &why, &pos);
        cr_assert_not_null(dec);
        cr_assert_eq(dlen, len);
        cr_assert_eq(memcmp(dec, buf, len), 0);
        free(dec);
        free(enc);
    }
}

/* Two parts encode as their concatenation, at every split and every length mod 3. */
Test(srv_base64, encode_into_two_parts) {
    unsigned char buf[16];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof buf; len++) {
        char *whole = srv_base64_encode(buf, len, NULL);
        for (size_t split = 0; split <= len; split++) {
            char out[32];
            memset(out, '#', sizeof out);
            size_t n = srv_base64_encode_into(out, buf, split, buf + split, len - split);
            cr_assert_eq(n, srv_base64_encoded_len(len));
            cr_assert_eq(memcmp(out, whole, n), 0, "len %zu split %zu: %.*s vs %s", len, split, (int)n, out, whole);
            cr_assert_eq(out[n], '#', "wrote past the end");
        }
        free(whole);
    }
}

/* ---- numbers --------------------------------------------------------------------------- */

/* Significant digits of a printed number: mantissa digits without leading and trailing zeros. */
static int sig_digits(const char *s) {
    char d[40];
    int n = 0;
    for (const char *p = s; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && (n || *p != '0')) d[n++] = *p;
    while (n > 1 && d[n - 1] == '0') n--;
    return n;
}

/* The fewest %.*g digits that read back to v. */
static int fewest_digits(float v) {
    char t[40];
    for (int p = 1; p < 9; p++) {
        snprintf(t, sizeof t, "%.*g", p, (double)v);
        if (strtof(t, NULL) == v) return p;
    }
    return 9;
}

static void check_float(float v, char *s) {
    size_t n = srv_fmt_float(s, v);
    s[n] = '\0';
    float back = strtof(s, NULL);
    cr_assert(back == v || (v == 0 && back == 0), "%.9g printed as %s", (double)v, s);
    cr_assert(n <= 15, "%s too long", s);
    /* shortest: as few significant digits as any string that reads back (integers below 2^24
     * are printed whole, so their digit count is theirs) */
    if (!(fabsf(v) < 16777216.0f && v == floorf(v)))
        cr_assert_leq(sig_digits(s), fewest_digits(v), "%.9g printed as %s, not the shortest",
                      (double)v, s);
}

Test(srv_buf, float_format_roundtrips_and_is_shortest) {
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    char s[40];
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = (uint32_t)nn_rng_u64(&rng);
        float v;
        memcpy(&v, &bits, 4);
        if (isfinite(v)) check_float(v, s);
    }
    /* the values students see most: pixels k/255, their multiples by small kernels, decimals */
    for (int k = 0; k <= 255 * 8; k++) {
        check_float((float)k / 255.0f, s);
        check_float(-(float)k / 255.0f * 0.125f, s);
        check_float((float)k * 0.001f, s);
    }
    const struct { float v; const char *s; } cases[] = {
        {0.0f, "0"}, {-0.0f, "-0"}, {1.0f, "1"}, {0.5f, "0.5"}, {-2.25f, "-2.25"}, {255.0f, "255"},
        {0.1f, "0.1"}, {1e-5f, "1e-05"}, {1e10f, "1e+10"}, {123456789.0f, "123456790"},
        {16777216.0f, "16777216"}, {3.4028235e38f, "3.4028235e+38"}, {0.0001f, "0.0001"},
        {0.001f, "0.001"}, {1.0f / 255.0f, "0.003921569"}, {0.2f, "0.2"}, {-0.3f, "-0.3"},
        {1.17549435e-38f, "1.1754944e-38"}, {1.4e-45f, "1e-45"}, {0.33333334f, "0.33333334"},
        {123456.7f, "123456.7"}, {16777218.0f, "16777218"}, {1e9f, "1e+09"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = srv_fmt_float(s, cases[i].v);
        s[n] = '\0';
        char ref[40];
        snprintf(ref, sizeof ref, "%.9g", (double)cases[i].v);
        cr_assert_str_eq(s, cases[i].s, "got %s (printf %s)", s, ref);
    }
    cr_assert_eq(srv_fmt_float(s, NAN), 4u);
    cr_assert_eq(strncmp(s, "null", 4), 0);
}

Test(srv_buf, strings_are_escaped) {
    srv_buf b = {0};
    srv_buf_str(&b, "a\"b\\c\n\x01");
    cr_assert_str_eq(b.p, "\"a\\\"b\\\\c\\n\\u0001\"");
    srv_buf_free(&b);
    /* Valid UTF-8 passes through; invalid bytes (stray continuation, overlong, surrogate, cut
     * sequence) become U+FFFD so a response is always valid UTF-8. */
    srv_buf_str(&b, "\xc3\xa9|\x80|\xc0\xaf|\xed\xa0\x80|\xf0\x9f\x98\x80|\xe2\x82");
    cr_assert_str_eq(b.p, "\"\xc3\xa9|\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\xf0\x9f\x98\x80|\\ufffd\\ufffd\"", "%s", b.p);
    srv_buf_free(&b);
}

/* ---- tensors --------------------------------------------------------------------------- */

Test(srv_tensor, object_and_nested_forms) {
    srv_err e;
    cJSON *j = parse("{\"a\": {\"shape\": [2, 3], \"data\": [1, 2, 3, 4, 5, 6]},"
                     " \"b\": [[1, 2, 3], [4, 5, 6]], \"c\": [[1, 2], [3]], \"d\": {\"shape\": [2, 2], \"data\": [1, 2, 3]},"
                     " \"f\": [1, \"x\"], \"g\": {\"shape\": [2, 0], \"data\": []}, \"h\": [1e39]}", &e);
    cr_assert_not_null(j);
    srv_tensor a, b, t;
    cr_assert_eq(srv_tensor_parse(cJSON_GetObjectItem(j, "a"), "a", 100, &a, &e), 0);
    cr_assert_eq(srv_tensor_parse(cJSON_GetObjectItem(j, "b"), "b", 100, &b, &e), 0);
    cr_assert_eq(a.ndim, 2u);
    cr_assert_eq(b.ndim, 2u);
    cr_assert(a.shape[0] == 2 && a.shape[1] == 3 && b.shape[0] == 2 && b.shape[1] == 3);
    cr_assert_eq(memcmp(a.data, b.data, 6 * sizeof(float)), 0);
    cr_assert_eq(a.data[5], 6.0f);
    srv_tensor_free(&a);
    srv_tensor_free(&b);
    const char *bad[] = {"c", "d", "f", "g", "h"};
    for (size_t i = 0; i < 5; i++) {
        memset(&e, 0, sizeof e);
        cr_assert_eq(srv_tensor_parse(cJSON_GetObjectItem(j, bad[i]), bad[i], 100, &t, &e), -1, "%s", bad[i]);
        cr_assert_eq(e.status, 400);
        cr_assert_eq(strncmp(e.field, bad[i], 1), 0, "%s: field %s", bad[i], e.field);
    }
    memset(&e, 0, sizeof e);
    cr_assert_eq(srv_tensor_parse(cJSON_GetObjectItem(j, "a"), "a", 5, &t, &e), -1);
    cr_assert_eq(e.status, 413);
    cJSON_Delete(j);
}

Test(srv_buf, double_format_is_shortest_roundtrip) {
    const struct { double v; const char *s; } cases[] = {
        {0.1, "0.1"}, {0.32851640082199668, "0.3285164008219967"}, {1.0 / 3.0, "0.3333333333333333"},
        {2.0, "2"}, {-1e-300, "-1e-300"}, {1e300, "1e+300"}, {5e-324, "5e-324"}, {123456.75, "123456.75"},
        {NAN, "null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        srv_buf b = {0};
        srv_buf_double(&b, cases[i].v);
        size_t len;
        char *s = srv_buf_take(&b, &len);
        cr_assert_str_eq(s, cases[i].s);
        free(s);
    }
    nn_rng rng;
    nn_rng_seed(&rng, 2);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = nn_rng_u64(&rng);
        double v;
        memcpy(&v, &bits, 8);
        if (!isfinite(v)) continue;
        srv_buf b = {0};
        srv_buf_double(&b, v);
        size_t len;
        char *s = srv_buf_take(&b, &len);
        cr_assert(strtod(s, NULL) == v, "%.17g printed as %s", v, s);
        free(s);
    }
}
