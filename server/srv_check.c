/* srv_check.c — what /check/{conv,pool,mlp} share: the answer and the tolerance, the comparison,
 * the replay of the candidate mistakes and the response (see srv_check.h). */
#include "srv_check.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "srv_endpoints.h"
#include "srv_json.h"

const char *const srv_check_keys[] = {"answer", "tolerance", NULL};

/* The outcome of comparing `got` with `ref` element by element. */
typedef struct check_cmp {
    double atol;       /* the absolute tolerance used */
    size_t bad;        /* elements out of tolerance */
    size_t worst;      /* flat index of the (first) element with the largest |got - expected| */
    double max_abs, max_rel;
} check_cmp;

static int parse_tolerance(const cJSON *req, srv_check *chk, srv_err *e) {
    static const char *const keys[] = {"atol", "rtol", NULL};
    chk->rtol = SRV_CHECK_RTOL;
    const cJSON *t = srv_json_get(req, "tolerance");
    if (!t) return 0;
    if (!cJSON_IsObject(t))
        return srv_fail(e, 400, "tolerance", "tolerance must be an object {\"atol\": a, \"rtol\": r}");
    if (srv_json_only_keys(t, "tolerance", keys, e)) return -1;
    if (srv_json_num_opt(t, "rtol", "tolerance", SRV_CHECK_RTOL, &chk->rtol, e)) return -1;
    if (chk->rtol < 0 || chk->rtol > 1)
        return srv_fail(e, 400, "tolerance.rtol", "tolerance.rtol must be between 0 and 1 (got %g)", chk->rtol);
    chk->atol_given = srv_json_get(t, "atol") != NULL;
    if (srv_json_num_opt(t, "atol", "tolerance", 0, &chk->atol, e)) return -1;
    if (chk->atol < 0 || chk->atol > 1e30)
        return srv_fail(e, 400, "tolerance.atol", "tolerance.atol must be between 0 and 1e30 (got %g)", chk->atol);
    return 0;
}

int srv_check_begin(const srv_limits *lim, const cJSON *req, double ref_flops, srv_check *chk,
                    srv_err *e) {
    memset(chk, 0, sizeof *chk);
    chk->t0 = srv_now_ms();
    chk->flops = ref_flops;
    if (parse_tolerance(req, chk, e)) return -1;
    const cJSON *a = srv_json_get(req, "answer");
    if (!a)
        return srv_fail(e, 400, "answer", "answer is missing: give the tensor you computed (nested "
                        "arrays, {\"shape\", \"data\"} or {\"npy\": base64})");
    return srv_tensor_parse(a, "answer", lim->max_tensor_elems, &chk->answer, e);
}

srv_check_cand *srv_check_add(srv_check *chk, const char *code, srv_check_fill_fn fill, int arg,
                              double flops, const size_t *shape, size_t ndim, const char *fmt, ...) {
    if (chk->ncand >= SRV_CHECK_MAX_CANDIDATES || ndim > SRV_TENSOR_MAX_DIMS) return NULL;
    srv_check_cand *c = &chk->cand[chk->ncand++];
    memset(c, 0, sizeof *c);
    c->code = code;
    c->fill = fill;
    c->arg = arg;
    c->flops = flops;
    c->ndim = ndim;
    memcpy(c->shape, shape, ndim * sizeof *shape);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
    chk->flops += flops;
    return c;
}

int srv_check_afford(const srv_check *chk, const srv_limits *lim, const char *field, srv_err *e) {
    if (chk->flops <= lim->max_work_flops) return 0;
    return srv_fail(e, 413, field, "checking this answer needs %.3g flops (the operation and %zu "
                    "recomputations with a classic mistake); the limit is %.3g",
                    chk->flops, chk->ncand, lim->max_work_flops);
}

void srv_check_free(srv_check *chk) { srv_tensor_free(&chk->answer); }

void srv_check_transpose_hw(float *out, const float *y, size_t OH, size_t OW, size_t C) {
    for (size_t oy = 0; oy < OH; oy++)
        for (size_t ox = 0; ox < OW; ox++) memcpy(out + (ox * OH + oy) * C, y + (oy * OW + ox) * C, C * sizeof *out);
}

void srv_check_fill_block(float *out, const float *answer, size_t CH, size_t CW, const float *y,
                          size_t OH, size_t OW, size_t C) {
    memcpy(out, answer, CH * CW * C * sizeof *out);
    for (size_t oy = 0; oy < OH; oy++) memcpy(out + oy * CW * C, y + oy * OW * C, OW * C * sizeof *out);
}

/* ---- comparing ---------------------------------------------------------------------------- */

/* The shape without its dimensions of size 1. */
static size_t squeeze(const size_t *shape, size_t ndim, size_t *out) {
    size_t k = 0;
    for (size_t i = 0; i < ndim; i++)
        if (shape[i] != 1) out[k++] = shape[i];
    return k;
}

static int same_shape(const size_t *a, size_t na, const size_t *b, size_t nb) {
    size_t sa[SRV_TENSOR_MAX_DIMS], sb[SRV_TENSOR_MAX_DIMS];
    size_t ka = squeeze(a, na, sa), kb = squeeze(b, nb, sb);
    return ka == kb && memcmp(sa, sb, ka * sizeof *sa) == 0;
}

/* atol, scaled to the values unless the request fixed it: float32 rounding grows with them. */
static double atol_for(const srv_check *chk, const float *ref, size_t n) {
    if (chk->atol_given) return chk->atol;
    double m = 1;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)ref[i]) > m) m = fabs((double)ref[i]);
    return SRV_CHECK_ATOL * m;
}

static int out_of_tolerance(double ref, double got, double atol, double rtol) {
    return fabs(got - ref) > atol + rtol * fabs(ref);
}

static void compare(const srv_check *chk, const float *ref, const float *got, size_t n, check_cmp *r) {
    memset(r, 0, sizeof *r);
    r->atol = atol_for(chk, ref, n);
    for (size_t i = 0; i < n; i++) {
        double x = ref[i], d = fabs((double)got[i] - x), tol = r->atol + chk->rtol * fabs(x);
        double rel = d / fmax(fabs(x), fmax(r->atol, FLT_MIN));
        r->bad += d > tol;
        if (rel > r->max_rel) r->max_rel = rel;
        if (d > r->max_abs) {
            r->max_abs = d;
            r->worst = i;
        }
    }
}

/* Whether got reproduces ref within the tolerance (stops at the first element that does not). */
static int reproduces(const srv_check *chk, const float *ref, const float *got, size_t n) {
    double atol = atol_for(chk, ref, n);
    for (size_t i = 0; i < n; i++)
        if (out_of_tolerance(ref[i], got[i], atol, chk->rtol)) return 0;
    return 1;
}

/* ---- diagnosing --------------------------------------------------------------------------- */

typedef struct check_diag {
    size_t matched[SRV_CHECK_MAX_CANDIDATES]; /* candidates that reproduce the answer */
    size_t nmatched;
    char shape_note[400];                     /* "" unless the shapes differ */
} check_diag;

static int code_matched(const srv_check *chk, const check_diag *d, const char *code) {
    for (size_t i = 0; i < d->nmatched; i++)
        if (strcmp(chk->cand[d->matched[i]].code, code) == 0) return 1;
    return 0;
}

static int cand_fits(const srv_check *chk, const srv_check_cand *c) {
    return same_shape(c->shape, c->ndim, chk->answer.shape, chk->answer.ndim);
}

/* The first candidate with the code of candidate i (among those of the answer's shape when
 * fitting), so a code is listed once whatever its variants. */
static size_t first_of_code(const srv_check *chk, size_t i, int fitting) {
    for (size_t j = 0; j < i; j++)
        if (strcmp(chk->cand[j].code, chk->cand[i].code) == 0 && (!fitting || cand_fits(chk, &chk->cand[j])))
            return j;
    return i;
}

/* "Your answer's shape is [..]; the expected shape is [..]. That is the shape ... gives." */
static void shape_note(const srv_check *chk, const size_t *shape, size_t ndim, check_diag *d) {
    char want[80], got[80];
    srv_shape_str(want, sizeof want, shape, ndim);
    srv_shape_str(got, sizeof got, chk->answer.shape, chk->answer.ndim);
    int k = snprintf(d->shape_note, sizeof d->shape_note,
                     "Your answer's shape is %s but the expected shape is %s.", got, want);
    size_t used = k > 0 ? (size_t)k : 0, listed = 0;
    for (size_t i = 0; i < chk->ncand && used < sizeof d->shape_note - 60; i++) {
        const srv_check_cand *c = &chk->cand[i];
        if (!cand_fits(chk, c) || first_of_code(chk, i, 1) != i) continue;
        k = snprintf(d->shape_note + used, sizeof d->shape_note - used, "%s%s", listed++ ?
                     ", " : " That is the shape these mistakes give: ", c->code);
        if (k > 0) used += (size_t)k;
    }
    if (listed && used < sizeof d->shape_note - 2) snprintf(d->shape_note + used, sizeof d->shape_note - used, ".");
}

/* Replay every candidate of the answer's shape; one scratch tensor the answer's size. */
static int diagnose(srv_check *chk, void *ctx, const srv_limits *lim, check_diag *d, srv_err *e) {
    srv_tensor buf = {0};
    size_t n = chk->answer.n;
    for (size_t i = 0; i < chk->ncand; i++) {
        const srv_check_cand *c = &chk->cand[i];
        if (!cand_fits(chk, c) || code_matched(chk, d, c->code)) continue;
        if (!buf.data && srv_tensor_alloc(&buf, &n, 1, lim->max_tensor_elems, "answer", e)) return -1;
        if (c->fill(ctx, c, buf.data, e)) {
            srv_tensor_free(&buf);
            return -1;
        }
        if (reproduces(chk, buf.data, chk->answer.data, n)) d->matched[d->nmatched++] = i;
    }
    srv_tensor_free(&buf);
    return 0;
}

/* ---- the response ------------------------------------------------------------------------- */

static void write_worst(srv_buf *out, const check_cmp *c, const float *expected, const float *got,
                        const size_t *shape, size_t ndim) {
    size_t idx[SRV_TENSOR_MAX_DIMS], rest = c->worst;
    for (size_t k = ndim; k-- > 0;) {
        idx[k] = rest % shape[k];
        rest /= shape[k];
    }
    srv_buf_puts(out, ",\"worst\":{\"index\":");
    srv_buf_sizes(out, idx, ndim);
    srv_buf_puts(out, ",\"expected\":");
    srv_buf_float(out, expected[c->worst]);
    srv_buf_puts(out, ",\"got\":");
    srv_buf_float(out, got[c->worst]);
    srv_buf_putc(out, '}');
}

/* Wrong elements per position of the first two dimensions (a vector: per element). */
static int write_map(srv_buf *out, const srv_check *chk, const check_cmp *c, const float *expected,
                     const size_t *shape, size_t ndim, const srv_limits *lim, srv_err *e) {
    size_t mshape[2] = {ndim ? shape[0] : 1, ndim >= 2 ? shape[1] : 1}, mdim = ndim >= 2 ? 2 : 1;
    srv_tensor map = {0};
    if (srv_tensor_alloc(&map, mshape, mdim, lim->max_tensor_elems, "mismatch_map", e)) return -1;
    size_t per = chk->answer.n / map.n;
    for (size_t i = 0; i < chk->answer.n; i++)
        map.data[i / per] += (float)out_of_tolerance(expected[i], chk->answer.data[i], c->atol, chk->rtol);
    srv_buf_puts(out, ",\"mismatch_map\":");
    srv_buf_tensor(out, map.data, map.shape, map.ndim);
    srv_tensor_free(&map);
    return 0;
}

static void write_diagnosis(srv_buf *out, const srv_check *chk, const check_diag *d, int pass) {
    srv_buf_puts(out, ",\"diagnosis\":[");
    int first = 1;
    if (d->shape_note[0]) {
        srv_buf_puts(out, "{\"code\":\"shape_mismatch\",\"message\":");
        srv_buf_str(out, d->shape_note);
        srv_buf_putc(out, '}');
        first = 0;
    }
    for (size_t i = 0; i < d->nmatched; i++, first = 0) {
        const srv_check_cand *c = &chk->cand[d->matched[i]];
        srv_buf_puts(out, first ? "{\"code\":" : ",{\"code\":");
        srv_buf_str(out, c->code);
        srv_buf_puts(out, ",\"message\":");
        srv_buf_str(out, c->message);
        srv_buf_putc(out, '}');
    }
    srv_buf_puts(out, "],\"mistakes_tried\":[");
    for (size_t i = 0, listed = 0; i < chk->ncand && !pass; i++) {
        if (first_of_code(chk, i, 0) != i) continue; /* a variant of a code already listed */
        if (listed++) srv_buf_putc(out, ',');
        srv_buf_str(out, chk->cand[i].code);
    }
    srv_buf_putc(out, ']');
}

static void write_errors(srv_buf *out, const srv_check *chk, const check_cmp *c, int shaped) {
    srv_buf_puts(out, ",\"tolerance\":{\"atol\":");
    srv_buf_double(out, c->atol);
    srv_buf_puts(out, ",\"rtol\":");
    srv_buf_double(out, chk->rtol);
    srv_buf_puts(out, "},\"max_abs_error\":");
    if (shaped) srv_buf_double(out, c->max_abs); else srv_buf_puts(out, "null");
    srv_buf_puts(out, ",\"max_rel_error\":");
    if (shaped) srv_buf_double(out, c->max_rel); else srv_buf_puts(out, "null");
    srv_buf_puts(out, ",\"mismatches\":");
    if (shaped) srv_buf_size(out, c->bad); else srv_buf_puts(out, "null");
    srv_buf_puts(out, ",\"elements\":");
    srv_buf_size(out, chk->answer.n);
}

int srv_check_finish(srv_check *chk, void *ctx, const float *expected, const size_t *shape,
                     size_t ndim, const srv_limits *lim, srv_buf *out, srv_err *e) {
    const srv_tensor *a = &chk->answer;
    int shaped = same_shape(shape, ndim, a->shape, a->ndim);
    check_cmp cmp = {0};
    check_diag d = {{0}, 0, ""};
    size_t n = 1;
    for (size_t k = 0; k < ndim; k++) n *= shape[k];
    if (shaped) compare(chk, expected, a->data, a->n, &cmp);
    else cmp.atol = atol_for(chk, expected, n);
    int pass = shaped && cmp.bad == 0;
    if (!shaped) shape_note(chk, shape, ndim, &d);
    if (!pass && diagnose(chk, ctx, lim, &d, e)) return -1;

    srv_buf_puts(out, pass ? "{\"pass\":true" : "{\"pass\":false");
    write_errors(out, chk, &cmp, shaped);
    if (shaped) write_worst(out, &cmp, expected, a->data, shape, ndim);
    else srv_buf_puts(out, ",\"worst\":null");
    srv_buf_puts(out, ",\"expected_shape\":");
    srv_buf_sizes(out, shape, ndim);
    srv_buf_puts(out, ",\"got_shape\":");
    srv_buf_sizes(out, a->shape, a->ndim);
    write_diagnosis(out, chk, &d, pass);
    if (shaped && !pass) {
        if (write_map(out, chk, &cmp, expected, shape, ndim, lim, e)) return -1;
    } else {
        srv_buf_puts(out, ",\"mismatch_map\":null");
    }
    srv_buf_puts(out, ",\"flops\":");
    srv_buf_double(out, chk->flops);
    srv_buf_puts(out, ",\"elapsed_ms\":");
    srv_buf_printf(out, "%.3f", srv_now_ms() - chk->t0);
    srv_buf_putc(out, '}');
    return 0;
}
