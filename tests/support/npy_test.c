/* npy_test.c — see npy_test.h. Test-only code: failures abort via criterion asserts. */
#include "npy_test.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *tnpy_base64(const unsigned char *p, size_t n) {
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    cr_assert(out);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *o++ = B64[v >> 18];
        *o++ = B64[(v >> 12) & 63];
        *o++ = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        *o++ = i + 2 < n ? B64[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

unsigned char *tnpy_unbase64(const char *s, size_t *len) {
    size_t n = strlen(s);
    cr_assert(n % 4 == 0, "base64 length %zu", n);
    unsigned char *out = malloc(n / 4 * 3 + 1);
    cr_assert(out);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            const char *c = strchr(B64, s[i + k]);
            if (s[i + k] == '=') pad++;
            else cr_assert(c && s[i + k], "bad base64 character at %zu", i + (size_t)k);
            v = v << 6 | (s[i + k] == '=' ? 0u : (uint32_t)(c - B64));
        }
        out[o++] = (unsigned char)(v >> 16);
        if (pad < 2) out[o++] = (unsigned char)(v >> 8);
        if (pad < 1) out[o++] = (unsigned char)v;
    }
    *len = o;
    return out;
}

char *tnpy_b64(const void *data, size_t item, const char *descr, const size_t *shape, size_t ndim,
               int fortran) {
    char dict[512];
    int w = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': (", descr,
                     fortran ? "True" : "False");
    size_t n = 1;
    for (size_t d = 0; d < ndim; d++) {
        w += snprintf(dict + w, sizeof dict - (size_t)w, "%zu,%s", shape[d], d + 1 < ndim ? " " : "");
        n *= shape[d];
    }
    w += snprintf(dict + w, sizeof dict - (size_t)w, "), }");
    size_t hlen = ((size_t)w + 10 + 1 + 15) / 16 * 16 - 10;
    size_t total = 10 + hlen + n * item;
    unsigned char *f = malloc(total);
    cr_assert(f);
    memcpy(f, "\x93NUMPY\x01\x00", 8);
    f[8] = (unsigned char)(hlen & 255);
    f[9] = (unsigned char)(hlen >> 8);
    memset(f + 10, ' ', hlen);
    memcpy(f + 10, dict, (size_t)w);
    f[10 + hlen - 1] = '\n';
    memcpy(f + 10 + hlen, data, n * item);
    char *s = tnpy_base64(f, total);
    free(f);
    return s;
}

char *tnpy_b64_f32(const float *data, const size_t *shape, size_t ndim) {
    return tnpy_b64(data, 4, "<f4", shape, ndim, 0);
}

double *tnpy_read(const cJSON *t, size_t shape[8], size_t *ndim, size_t *n, const char *want_dtype) {
    cr_assert(cJSON_IsObject(t), "a tensor object expected");
    const cJSON *sh = cJSON_GetObjectItem(t, "shape"), *dt = cJSON_GetObjectItem(t, "dtype"),
                *np = cJSON_GetObjectItem(t, "npy");
    cr_assert(cJSON_IsArray(sh) && cJSON_IsString(dt) && cJSON_IsString(np), "not {shape, dtype, npy}");
    cr_assert_null(cJSON_GetObjectItem(t, "data"), "an npy tensor has no \"data\"");
    cr_assert_str_eq(dt->valuestring, want_dtype);
    size_t len;
    unsigned char *f = tnpy_unbase64(np->valuestring, &len);
    cr_assert(len >= 10 && memcmp(f, "\x93NUMPY\x01\x00", 8) == 0, "not a version 1.0 .npy");
    size_t hlen = (size_t)f[8] | (size_t)f[9] << 8;
    cr_assert((10 + hlen) % 64 == 0, "data not 64-byte aligned (header %zu)", hlen);
    char *h = malloc(hlen + 1);
    memcpy(h, f + 10, hlen);
    h[hlen] = '\0';
    int f64 = strcmp(want_dtype, "float64") == 0;
    cr_assert(strstr(h, f64 ? "'descr': '<f8'" : "'descr': '<f4'"), "%s", h);
    cr_assert(strstr(h, "'fortran_order': False"), "%s", h);
    const char *p = strstr(h, "'shape': (");
    cr_assert(p, "%s", h);
    p += 10;
    *ndim = 0;
    *n = 1;
    while (*p != ')') {
        char *end;
        shape[*ndim] = strtoull(p, &end, 10);
        cr_assert(end > p, "%s", h);
        cr_assert_eq((double)shape[*ndim], cJSON_GetArrayItem(sh, (int)*ndim)->valuedouble, "shape disagrees");
        *n *= shape[(*ndim)++];
        p = end;
        while (*p == ',' || *p == ' ') p++;
    }
    cr_assert_eq(*ndim, (size_t)cJSON_GetArraySize(sh));
    cr_assert_eq(h[hlen - 1], '\n');
    size_t item = f64 ? 8 : 4;
    cr_assert_eq(len, 10 + hlen + *n * item, "data size");
    double *out = malloc((*n ? *n : 1) * sizeof *out);
    for (size_t i = 0; i < *n; i++) {
        if (f64) {
            memcpy(&out[i], f + 10 + hlen + 8 * i, 8);
        } else {
            float v;
            memcpy(&v, f + 10 + hlen + 4 * i, 4);
            out[i] = v;
        }
    }
    free(h);
    free(f);
    return out;
}

void tnpy_replace_f32(cJSON *obj, const char *key) {
    size_t shape[8], nd, n;
    float *x = fx_tensor_f32(obj, key, shape, &nd, &n);
    char *s = tnpy_b64_f32(x, shape, nd);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "npy", s);
    cJSON_ReplaceItemInObject(obj, key, o);
    free(s);
    free(x);
}

double *tnpy_values(const cJSON *v, size_t *n) {
    size_t shape[8], nd;
    if (cJSON_GetObjectItem(v, "npy")) return tnpy_read(v, shape, &nd, n, "float32");
    const cJSON *d = cJSON_IsObject(v) ? cJSON_GetObjectItem(v, "data") : v;
    cr_assert(cJSON_IsArray(d), "not a tensor");
    *n = (size_t)cJSON_GetArraySize(d);
    double *out = malloc((*n + 1) * sizeof *out);
    cr_assert_not_null(out);
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, d) out[i++] = c->valuedouble;
    return out;
}
