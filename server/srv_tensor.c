/* srv_tensor.c — tensor input parsing; see srv_tensor.h. */
#include "srv_tensor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_base64.h"
#include "srv_budget.h"
#include "srv_json.h"
#include "srv_npy.h"

_Static_assert(SRV_NPY_MAX_DIMS == SRV_TENSOR_MAX_DIMS, "a .npy may have as many dimensions as a tensor");

void srv_tensor_free(srv_tensor *t) {
    if (!t) return;
    free(t->data);
    memset(t, 0, sizeof *t);
}

void srv_shape_str(char *out, size_t n, const size_t *shape, size_t ndim) {
    size_t used = 0;
    int w = snprintf(out, n, "[");
    if (w > 0) used = (size_t)w;
    for (size_t i = 0; i < ndim && used < n; i++) {
        w = snprintf(out + used, n - used, "%s%zu", i ? ", " : "", shape[i]);
        if (w > 0) used += (size_t)w;
    }
    if (used < n) snprintf(out + used, n - used, "]");
}

int srv_tensor_alloc(srv_tensor *t, const size_t *shape, size_t ndim, size_t max_elems,
                     const char *path, srv_err *e) {
    memset(t, 0, sizeof *t);
    if (ndim > SRV_TENSOR_MAX_DIMS) return srv_fail(e, 400, path, "%s has too many dimensions", path);
    size_t n;
    if (nn_size_prod(shape, ndim, &n) || n > max_elems)
        return srv_fail(e, 413, path, "%s would have more than %zu elements", path, max_elems);
    if (srv_budget_need(srv_budget_mul(n, SRV_BUDGET_PER_ELEMENT), path, e)) return -1;
    t->data = calloc(n ? n : 1, sizeof *t->data);
    if (!t->data) return srv_fail(e, 503, path, "out of memory for %s", path);
    t->ndim = ndim;
    memcpy(t->shape, shape, ndim * sizeof *shape);
    t->n = n;
    return 0;
}

/* Elements go to float (f64 == 0) or double storage. */
typedef struct sink {
    int f64;
    float *f;
    double *d;
} sink;

static int put_number(const cJSON *v, sink *dst, const char *path, size_t idx, srv_err *e) {
    if (!cJSON_IsNumber(v))
        return srv_fail(e, 400, path, "%s: element %zu is not a number", path, idx);
    double d = v->valuedouble;
    if (!isfinite(d) || (!dst->f64 && fabs(d) > 3.4028234663852886e38))
        return srv_fail(e, 400, path, "%s: element %zu is not a finite %s", path, idx,
                        dst->f64 ? "number" : "float32");
    if (dst->f64) dst->d[idx] = d;
    else dst->f[idx] = (float)d;
    return 0;
}

/* Nested arrays: the shape comes from the first elements; every sub-array is then checked. */
static int fill_nested(const cJSON *v, const size_t *shape, size_t ndim, size_t depth, sink *dst,
                       size_t *idx, const char *path, srv_err *e) {
    if (depth == ndim) {
        int rc = put_number(v, dst, path, *idx, e);
        (*idx)++;
        return rc;
    }
    if (!cJSON_IsArray(v) || (size_t)cJSON_GetArraySize(v) != shape[depth])
        return srv_fail(e, 400, path,
                        "%s is not rectangular: expected an array of %zu at depth %zu (element %zu)",
                        path, shape[depth], depth, *idx);
    for (const cJSON *c = v->child; c; c = c->next)
        if (fill_nested(c, shape, ndim, depth + 1, dst, idx, path, e)) return -1;
    return 0;
}

static void *alloc_elems(size_t n, int f64) {
    return calloc(n ? n : 1, f64 ? sizeof(double) : sizeof(float));
}

/* Optional "shape" and "dtype" beside "npy" (a response's tensor sent back as it is) must agree
 * with the file. */
static int npy_matches(const cJSON *v, const char *path, const srv_npy *a, srv_err *e) {
    const cJSON *sh = srv_json_get(v, "shape"), *dt = srv_json_get(v, "dtype");
    char p[180];
    if (sh) {
        srv_path_key(p, sizeof p, path, "shape");
        int same = cJSON_IsArray(sh) && (size_t)cJSON_GetArraySize(sh) == a->ndim;
        size_t i = 0;
        for (const cJSON *c = same ? sh->child : NULL; c; c = c->next, i++)
            same = same && cJSON_IsNumber(c) && c->valuedouble == (double)a->shape[i];
        if (!same) {
            char s[96];
            srv_shape_str(s, sizeof s, a->shape, a->ndim);
            return srv_fail(e, 400, p, "%s disagrees with the .npy file's shape %s", p, s);
        }
    }
    if (dt) {
        srv_path_key(p, sizeof p, path, "dtype");
        if (!cJSON_IsString(dt) || strcmp(dt->valuestring, srv_npy_dtype_name(a->dtype)) != 0)
            return srv_fail(e, 400, p, "%s disagrees with the .npy file's dtype %s", p, srv_npy_dtype_name(a->dtype));
    }
    return 0;
}

/* The elements of a checked .npy into a malloc'd float or double array. */
static int npy_elements(const srv_npy *a, const char *np, size_t max_elems, int f64, void **out, srv_err *e) {
    if (a->ndim == 0 || a->ndim > SRV_TENSOR_MAX_DIMS)
        return srv_fail(e, 400, np, "%s must have 1 to %d dimensions (the file has %zu)", np, SRV_TENSOR_MAX_DIMS, a->ndim);
    for (size_t d = 0; d < a->ndim; d++)
        if (a->shape[d] == 0) return srv_fail(e, 400, np, "%s has an empty dimension (%zu is 0)", np, d);
    if (a->n > max_elems) return srv_fail(e, 413, np, "%s has %zu elements; the limit is %zu", np, a->n, max_elems);
    if (srv_budget_need(srv_budget_mul(a->n, f64 ? sizeof(double) : sizeof(float)), np, e)) return -1;
    void *mem = alloc_elems(a->n, f64);
    if (!mem) return srv_fail(e, 503, np, "out of memory for %s", np);
    size_t bad = f64 ? srv_npy_to_f64(a, mem) : srv_npy_to_f32(a, mem);
    if (bad != a->n) {
        free(mem);
        return srv_fail(e, 400, np, "%s: element %zu is not a finite %s", np, bad, f64 ? "number" : "float32");
    }
    *out = mem;
    return 0;
}

/* {"npy": "<base64 of a .npy file>"} (optionally with "shape" and "dtype" that must agree). The
 * decoded file is counted against the memory budget before it is decoded, the elements before
 * they are allocated. */
static int parse_npy(const cJSON *v, const char *path, size_t max_elems, int f64, size_t *shape,
                     size_t *ndim, size_t *count, void **out, srv_err *e) {
    static const char *const keys[] = {"npy", "shape", "dtype", NULL};
    if (srv_json_only_keys(v, path, keys, e)) return -1;
    char np[180];
    srv_path_key(np, sizeof np, path, "npy");
    const cJSON *s = srv_json_get(v, "npy");
    if (!cJSON_IsString(s)) return srv_fail(e, 400, np, "%s must be a string: the base64 of a .npy file", np);
    size_t slen = strlen(s->valuestring), blen, pos;
    if (srv_budget_need(slen / 4 * 3 + 3, np, e)) return -1;
    const char *why;
    unsigned char *bytes = srv_base64_decode(s->valuestring, slen, &blen, &why, &pos);
    if (!bytes) {
        if (strcmp(why, "out of memory") == 0) return srv_fail(e, 503, np, "out of memory for %s", np);
        return srv_fail(e, 400, np, "%s is not valid base64: %s (at character %zu)", np, why, pos);
    }
    srv_npy a;
    char reason[200];
    int st = srv_npy_parse(bytes, blen, &a, reason, sizeof reason);
    int rc = st ? srv_fail(e, st, np, "%s: %s", np, reason) : npy_matches(v, path, &a, e);
    if (!rc) rc = npy_elements(&a, np, max_elems, f64, out, e);
    free(bytes);
    if (rc) return -1;
    memcpy(shape, a.shape, a.ndim * sizeof *shape);
    *ndim = a.ndim;
    *count = a.n;
    return 0;
}

/* Shared parser: fills shape/ndim/n and a malloc'd array in *out (float or double). */
static int parse_any(const cJSON *v, const char *path, size_t max_elems, int f64, size_t *shape,
                     size_t *ndim, size_t *count, void **out, srv_err *e) {
    *out = NULL;
    sink dst = {f64, NULL, NULL};
    size_t nd = 0, n;
    if (cJSON_IsObject(v) && srv_json_get(v, "npy")) return parse_npy(v, path, max_elems, f64, shape, ndim, count, out, e);
    if (cJSON_IsObject(v)) {
        static const char *const keys[] = {"shape", "data", NULL};
        if (srv_json_only_keys(v, path, keys, e)) return -1;
        const cJSON *sh = srv_json_get(v, "shape"), *data = srv_json_get(v, "data");
        char sp[160], dp[160], ip[180];
        srv_path_key(sp, sizeof sp, path, "shape");
        srv_path_key(dp, sizeof dp, path, "data");
        if (!sh) return srv_fail(e, 400, sp, "%s is missing", sp);
        if (!data) return srv_fail(e, 400, dp, "%s is missing (or give \"npy\": the base64 of a .npy file)", dp);
        if (!cJSON_IsArray(sh)) return srv_fail(e, 400, sp, "%s must be an array of integers", sp);
        nd = (size_t)cJSON_GetArraySize(sh);
        if (nd == 0 || nd > SRV_TENSOR_MAX_DIMS)
            return srv_fail(e, 400, sp, "%s must have 1 to %d dimensions", sp, SRV_TENSOR_MAX_DIMS);
        size_t i = 0;
        for (const cJSON *c = sh->child; c; c = c->next, i++) {
            long long d;
            srv_path_index(ip, sizeof ip, sp, i);
            if (srv_json_int(c, ip, 1, (1LL << 40), &d, e)) return -1;
            shape[i] = (size_t)d;
        }
        if (nn_size_prod(shape, nd, &n) || n > max_elems)
            return srv_fail(e, 413, path, "%s has more than %zu elements", path, max_elems);
        if (!cJSON_IsArray(data)) return srv_fail(e, 400, dp, "%s must be a flat array of numbers", dp);
        size_t got = (size_t)cJSON_GetArraySize(data);
        if (got != n) {
            char s[96];
            srv_shape_str(s, sizeof s, shape, nd);
            return srv_fail(e, 400, dp, "%s has %zu elements but shape %s needs %zu", dp, got, s, n);
        }
        void *mem = alloc_elems(n, f64);
        if (!mem) return srv_fail(e, 503, path, "out of memory for %s", path);
        if (f64) dst.d = mem;
        else dst.f = mem;
        i = 0;
        for (const cJSON *c = data->child; c; c = c->next, i++)
            if (put_number(c, &dst, dp, i, e)) { free(mem); return -1; }
        *ndim = nd;
        *count = n;
        *out = mem;
        return 0;
    }
    if (!cJSON_IsArray(v))
        return srv_fail(e, 400, path, "%s must be a tensor: {\"shape\": [...], \"data\": [...]}, {\"npy\": \"<base64>\"} or nested arrays", path);
    const cJSON *c = v;
    while (cJSON_IsArray(c)) {
        if (nd == SRV_TENSOR_MAX_DIMS)
            return srv_fail(e, 400, path, "%s has more than %d dimensions", path, SRV_TENSOR_MAX_DIMS);
        size_t len = (size_t)cJSON_GetArraySize(c);
        if (len == 0) return srv_fail(e, 400, path, "%s contains an empty array", path);
        shape[nd++] = len;
        c = c->child;
    }
    if (nn_size_prod(shape, nd, &n) || n > max_elems)
        return srv_fail(e, 413, path, "%s has more than %zu elements", path, max_elems);
    void *mem = alloc_elems(n, f64);
    if (!mem) return srv_fail(e, 503, path, "out of memory for %s", path);
    if (f64) dst.d = mem;
    else dst.f = mem;
    size_t idx = 0;
    if (fill_nested(v, shape, nd, 0, &dst, &idx, path, e)) { free(mem); return -1; }
    *ndim = nd;
    *count = n;
    *out = mem;
    return 0;
}

int srv_tensor_parse(const cJSON *v, const char *path, size_t max_elems, srv_tensor *t, srv_err *e) {
    memset(t, 0, sizeof *t);
    void *mem;
    if (parse_any(v, path, max_elems, 0, t->shape, &t->ndim, &t->n, &mem, e)) {
        memset(t, 0, sizeof *t);
        return -1;
    }
    t->data = mem;
    return 0;
}

int srv_tensor_parse_f64(const cJSON *v, const char *path, size_t max_elems, size_t *shape,
                         size_t *ndim, size_t *n, double **data, srv_err *e) {
    void *mem;
    if (parse_any(v, path, max_elems, 1, shape, ndim, n, &mem, e)) return -1;
    *data = mem;
    return 0;
}
