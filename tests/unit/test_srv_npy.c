/* test_srv_npy.c — the .npy reader and header writer (server/srv_npy.h) against files NumPy
 * wrote (tests/fixtures/npy/, from tests/reference/gen_npy.py): every valid file gives NumPy's
 * dtype, shape and values; every refused one its status (415 unsupported, 400 malformed) and
 * reason; the header writer gives np.save's bytes; write -> read round trips; the float
 * conversions catch non-finite values. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "srv_npy.h"

static unsigned char *read_npy(const char *name, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, "%s/npy/%s.npy", fx_dir(), name);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s (make fixtures)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc((size_t)n + 1);
    cr_assert(p);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* A valid case: dtype, shape, values, and (for NumPy's own version 1.0 float files) the header
 * our writer produces for the same array is byte for byte np.save's. */
static void check_ok(const cJSON *c, const unsigned char *raw, const srv_npy *a) {
    const char *name = fx_str(c, "name");
    cr_assert_str_eq(srv_npy_dtype_name(a->dtype), fx_str(c, "dtype"), "%s", name);
    const cJSON *shape = cJSON_GetObjectItem(c, "shape"), *values = cJSON_GetObjectItem(c, "values");
    cr_assert_eq(a->ndim, (size_t)cJSON_GetArraySize(shape), "%s", name);
    for (size_t d = 0; d < a->ndim; d++)
        cr_assert_eq(a->shape[d], (size_t)cJSON_GetArrayItem(shape, (int)d)->valuedouble, "%s dim %zu", name, d);
    cr_assert_eq(a->n, (size_t)cJSON_GetArraySize(values), "%s", name);
    double *d64 = malloc((a->n + 1) * sizeof *d64);
    float *f32 = malloc((a->n + 1) * sizeof *f32);
    cr_assert_eq(srv_npy_to_f64(a, d64), a->n, "%s", name);
    size_t i = 0;
    for (const cJSON *v = values->child; v; v = v->next, i++)
        cr_assert(d64[i] == v->valuedouble && signbit(d64[i]) == signbit(v->valuedouble),
                  "%s[%zu]: %.17g, NumPy %.17g", name, i, d64[i], v->valuedouble);
    size_t conv = srv_npy_to_f32(a, f32);
    if (strcmp(name, "f64_tiny_huge") == 0) {
        cr_assert_eq(conv, 1, "-2.5e300 does not fit float32");
    } else {
        cr_assert_eq(conv, a->n, "%s", name);
        for (i = 0; i < a->n; i++) cr_assert(f32[i] == (float)d64[i], "%s[%zu]", name, i);
    }
    const cJSON *hl = cJSON_GetObjectItem(c, "header_len");
    if (cJSON_IsNumber(hl) && raw[6] == 1 && a->dtype != SRV_NPY_U8) {
        unsigned char h[SRV_NPY_HEADER_CAP];
        size_t n = srv_npy_header(h, a->dtype, a->shape, a->ndim);
        cr_assert_eq(n, (size_t)hl->valuedouble, "%s: header length %zu, np.save %g", name, n, hl->valuedouble);
        cr_assert(memcmp(h, raw, n) == 0, "%s: header differs from np.save's:\n%.*s\n%.*s", name, (int)n - 10,
                  (const char *)h + 10, (int)n - 10, (const char *)raw + 10);
    }
    free(d64);
    free(f32);
}

Test(npy, numpy_files) {
    cJSON *doc = fx_require("npy/cases.json");
    int ok = 0, refused = 0, headers = 0;
    for (const cJSON *c = cJSON_GetObjectItem(doc, "cases")->child; c; c = c->next) {
        const char *name = fx_str(c, "name");
        size_t len;
        unsigned char *raw = read_npy(name, &len);
        srv_npy a;
        char why[256] = "";
        int want = (int)fx_num(c, "status");
        int got = srv_npy_parse(raw, len, &a, why, sizeof why);
        cr_assert_eq(got, want, "%s: status %d (%s), expected %d", name, got, why, want);
        if (want == 0) {
            check_ok(c, raw, &a);
            ok++;
            headers += cJSON_IsNumber(cJSON_GetObjectItem(c, "header_len"));
        } else {
            cr_assert(strstr(why, fx_str(c, "why")), "%s: reason '%s' does not say '%s'", name, why, fx_str(c, "why"));
            refused++;
        }
        free(raw);
    }
    cr_assert_geq(ok, 20);
    cr_assert_geq(refused, 50);
    cr_assert_geq(headers, 14);
    cJSON_Delete(doc);
}

/* Every prefix of a valid file is refused (never read past the end: ASan would catch it). */
Test(npy, every_truncation_is_refused) {
    size_t len;
    unsigned char *raw = read_npy("f32_2x3_v3", &len);
    for (size_t n = 0; n < len; n++) {
        unsigned char *p = malloc(n ? n : 1);
        memcpy(p, raw, n);
        srv_npy a;
        char why[256];
        int st = srv_npy_parse(p, n, &a, why, sizeof why);
        cr_assert(st == 400 || st == 415, "prefix of %zu bytes: status %d", n, st);
        free(p);
    }
    free(raw);
}

static void roundtrip(srv_npy_dtype dt, const size_t *shape, size_t ndim) {
    size_t n = 1;
    for (size_t d = 0; d < ndim; d++) n *= shape[d];
    size_t item = srv_npy_itemsize(dt);
    unsigned char *buf = malloc(SRV_NPY_HEADER_CAP + n * item + 1);
    size_t hl = srv_npy_header(buf, dt, shape, ndim);
    cr_assert_eq(hl % 64, 0);
    for (size_t i = 0; i < n; i++) {
        if (dt == SRV_NPY_F32) {
            float v = (float)i * -0.37f + 1e-3f;
            memcpy(buf + hl + 4 * i, &v, 4);
        } else {
            double v = (double)i * 1.0000000001 - 7.5;
            memcpy(buf + hl + 8 * i, &v, 8);
        }
    }
    srv_npy a;
    char why[256] = "";
    cr_assert_eq(srv_npy_parse(buf, hl + n * item, &a, why, sizeof why), 0, "%s", why);
    cr_assert_eq(a.dtype, dt);
    cr_assert_eq(a.ndim, ndim);
    cr_assert_eq(a.n, n);
    cr_assert_eq(memcmp(a.shape, shape, ndim * sizeof *shape), 0);
    cr_assert(a.data == buf + hl);
    cr_assert_eq(memcmp(a.data, buf + hl, n * item), 0);
    free(buf);
}

Test(npy, write_then_read) {
    size_t s1[1] = {1}, s2[2] = {254, 16}, s3[3] = {254, 254, 16}, s8[8] = {1, 2, 3, 1, 2, 1, 2, 3};
    size_t big[4] = {123456789012ull, 0, 1, 99999999999999999ull};
    roundtrip(SRV_NPY_F32, s1, 1);
    roundtrip(SRV_NPY_F32, s2, 2);
    roundtrip(SRV_NPY_F32, s3, 3);
    roundtrip(SRV_NPY_F64, s8, 8);
    roundtrip(SRV_NPY_F64, s2, 0);
    roundtrip(SRV_NPY_F32, big, 4); /* 0 elements; long digits in the header */
    size_t huge[8] = {(size_t)-1, (size_t)-1, (size_t)-1, (size_t)-1, (size_t)-1, (size_t)-1, (size_t)-1, (size_t)-1};
    unsigned char h[SRV_NPY_HEADER_CAP];
    size_t n = srv_npy_header(h, SRV_NPY_F64, huge, 8);
    cr_assert(n <= SRV_NPY_HEADER_CAP && n % 64 == 0 && h[n - 1] == '\n');
}

Test(npy, non_finite_values_are_found) {
    size_t shape[1] = {4};
    unsigned char buf[SRV_NPY_HEADER_CAP + 64];
    size_t hl = srv_npy_header(buf, SRV_NPY_F32, shape, 1);
    float f[4] = {1.0f, 2.0f, NAN, 3.0f};
    memcpy(buf + hl, f, sizeof f);
    srv_npy a;
    char why[128];
    cr_assert_eq(srv_npy_parse(buf, hl + sizeof f, &a, why, sizeof why), 0);
    float out[4];
    double d[4];
    cr_assert_eq(srv_npy_to_f32(&a, out), 2);
    cr_assert_eq(srv_npy_to_f64(&a, d), 2);
    hl = srv_npy_header(buf, SRV_NPY_F64, shape, 1);
    double v[4] = {1.0, 1e39, -INFINITY, 0.0};
    memcpy(buf + hl, v, sizeof v);
    cr_assert_eq(srv_npy_parse(buf, hl + sizeof v, &a, why, sizeof why), 0);
    cr_assert_eq(srv_npy_to_f32(&a, out), 1, "1e39 is beyond float32");
    cr_assert_eq(srv_npy_to_f64(&a, d), 2, "but a fine float64");
}
