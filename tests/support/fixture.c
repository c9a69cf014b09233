/* fixture.c — see fixture.h. Test-only code: failures abort loudly. */
#include "fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fx_dir(void) {
    const char *d = getenv("NNLAB_FIXTURES");
    return d && *d ? d : "tests/fixtures";
}

char *fx_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len) *len = (size_t)n;
    }
    return buf;
}

cJSON *fx_load(const char *path) {
    char full[1024];
    if (path[0] == '/') snprintf(full, sizeof full, "%s", path);
    else snprintf(full, sizeof full, "%s/%s", fx_dir(), path);
    char *buf = fx_read_file(full, NULL);
    if (!buf) { fprintf(stderr, "fixture: cannot read %s\n", full); return NULL; }
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    if (!j) fprintf(stderr, "fixture: %s is not valid JSON\n", full);
    return j;
}

cJSON *fx_require(const char *path) {
    cJSON *j = fx_load(path);
    if (!j) { fprintf(stderr, "fixture: %s missing: run make fixtures\n", path); abort(); }
    return j;
}

const cJSON *fx_cases(const cJSON *doc) {
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
    if (!cJSON_IsArray(cases)) { fprintf(stderr, "fixture: no \"cases\" array\n"); abort(); }
    return cases->child;
}

static double *tensor(const cJSON *obj, const char *key, size_t shape[8], size_t *ndim, size_t *n) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!t) { fprintf(stderr, "fixture: no tensor '%s'\n", key); abort(); }
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(t, "data");
    if (!cJSON_IsArray(data)) data = t; /* a bare array: 1-D */
    size_t nd = 0, count = 1;
    if (cJSON_IsArray(sh)) {
        const cJSON *d;
        cJSON_ArrayForEach(d, sh) {
            if (nd == 8) { fprintf(stderr, "fixture: '%s' has > 8 dims\n", key); abort(); }
            shape[nd] = (size_t)d->valuedouble;
            count *= shape[nd++];
        }
    } else {
        shape[0] = (size_t)cJSON_GetArraySize(data);
        nd = 1;
        count = shape[0];
    }
    if ((size_t)cJSON_GetArraySize(data) != count) {
        fprintf(stderr, "fixture: '%s' shape/data mismatch\n", key); abort();
    }
    double *out = malloc((count ? count : 1) * sizeof *out);
    if (!out) abort();
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, data) out[i++] = v->valuedouble;
    if (ndim) *ndim = nd;
    if (n) *n = count;
    return out;
}

double *fx_tensor_f64(const cJSON *obj, const char *key, size_t shape[8], size_t *ndim, size_t *n) {
    size_t sh[8];
    return tensor(obj, key, shape ? shape : sh, ndim, n);
}

float *fx_tensor_f32(const cJSON *obj, const char *key, size_t shape[8], size_t *ndim, size_t *n) {
    size_t sh[8], count;
    double *d = tensor(obj, key, shape ? shape : sh, ndim, &count);
    float *f = malloc((count ? count : 1) * sizeof *f);
    if (!f) abort();
    for (size_t i = 0; i < count; i++) f[i] = (float)d[i];
    free(d);
    if (n) *n = count;
    return f;
}

double fx_num(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v)) { fprintf(stderr, "fixture: no number '%s'\n", key); abort(); }
    return v->valuedouble;
}

const char *fx_str(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Fold element (g, w) into *worst; 0 when only one of them is NaN (the error is then infinite). */
static int fold_rel_err(double g, double w, double floor, double *worst) {
    if (isnan(w) != isnan(g)) return 0;
    if (!isnan(w)) {
        double e = fabs(g - w) / fmax(fabs(w), floor);
        if (e > *worst) *worst = e;
    }
    return 1;
}

double fx_max_rel_err_f32(const float *got, const double *want, size_t n, double floor) {
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        if (!fold_rel_err(got[i], want[i], floor, &worst)) return INFINITY;
    return worst;
}

double fx_max_rel_err_f64(const double *got, const double *want, size_t n, double floor) {
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        if (!fold_rel_err(got[i], want[i], floor, &worst)) return INFINITY;
    return worst;
}

static void add_copy(cJSON *req, const char *key, const cJSON *v) {
    if (!v) {
        fprintf(stderr, "fixture case: no \"%s\"\n", key);
        abort();
    }
    cJSON_AddItemToObject(req, key, cJSON_Duplicate(v, 1));
}

void fx_add_activation(cJSON *req, const cJSON *c) {
    const char *act = fx_str(c, "activation");
    add_copy(req, "activation", cJSON_GetObjectItem(c, "activation"));
    if (act && !strcmp(act, "leaky_relu")) add_copy(req, "negative_slope", cJSON_GetObjectItem(c, "negative_slope"));
}

cJSON *fx_conv_request(const cJSON *c) {
    cJSON *req = cJSON_CreateObject();
    add_copy(req, "input", cJSON_GetObjectItem(c, "input"));
    add_copy(req, "kernels", cJSON_GetObjectItem(c, "kernels"));
    const cJSON *bias = cJSON_GetObjectItem(c, "bias");
    if (bias) add_copy(req, "bias", cJSON_GetObjectItem(bias, "data"));
    add_copy(req, "stride", cJSON_GetObjectItem(c, "stride"));
    add_copy(req, "padding", cJSON_GetObjectItem(c, "padding"));
    fx_add_activation(req, c);
    return req;
}
