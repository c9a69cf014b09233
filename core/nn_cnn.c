/* nn_cnn.c — the feed-forward CNN; see nn_cnn.h. */
#include "nn_cnn.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nn_cancel.h"
#include "nn_rng.h"
#include "nn_softmax.h"

/* Every tensor in the model's block starts on a 64-byte boundary. */
#define ALIGN_FLOATS 16
static size_t round_up(size_t n) { return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS; }

/* ---- field names ------------------------------------------------------------------------- */

static const char *const field_whats[] = {"", "type", "filters", "size", "stride", "padding",
                                          "activation", "init", "kernels", "bias", "function",
                                          "hidden_layers", "hidden_size", "output_size", "weights"};
#define N_WHATS (sizeof field_whats / sizeof field_whats[0])
static pthread_once_t field_once = PTHREAD_ONCE_INIT;
static char field_tbl[NN_CNN_MAX_LAYERS][N_WHATS][40];

static void field_init(void) {
    for (size_t i = 0; i < NN_CNN_MAX_LAYERS; i++)
        for (size_t k = 0; k < N_WHATS; k++)
            snprintf(field_tbl[i][k], sizeof field_tbl[i][k], k ? "architecture[%zu].%s" : "architecture[%zu]%s",
                     i, field_whats[k]);
}

const char *nn_cnn_field(size_t i, const char *what) {
    if (i >= NN_CNN_MAX_LAYERS || !what) return "architecture";
    for (size_t k = 0; k < N_WHATS; k++)
        if (!strcmp(what, field_whats[k])) {
            pthread_once(&field_once, field_init);
            return field_tbl[i][k];
        }
    return "architecture";
}

/* Fail naming layer i's field. */
#if defined(__GNUC__)
__attribute__((format(printf, 6, 7)))
#endif
static nn_code layer_fail(nn_error *err, nn_code code, size_t i, nn_layer_type t, const char *what,
                          const char *fmt, ...) {
    if (!err) return code;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nn_fail(err, code, nn_cnn_field(i, what), "architecture[%zu] (%s): %s", i,
                   nn_layer_type_name(t), msg);
}

/* Re-label an error that a sub-function (pool, mlp, conv) reported with its own field name. */
static nn_code relabel(nn_error *err, nn_code code, size_t i, nn_layer_type t) {
    if (!err) return code;
    const char *what = err->field ? err->field : "";
    if (!strcmp(what, "kernel")) what = "size";
    else if (!strcmp(what, "input")) what = "";
    else if (!strncmp(what, "weights", 7)) what = "weights";
    else if (!strncmp(what, "hidden_size", 11)) what = "hidden_size";
    char msg[sizeof err->message];
    memcpy(msg, err->message, sizeof msg);
    msg[sizeof msg - 1] = '\0';
    return layer_fail(err, code, i, t, what, "%.150s", msg);
}

/* ---- names ------------------------------------------------------------------------------- */

/* Every accepted spelling, canonical name first for each type: the parser and the list that
 * clients are given (nn_layer_type_alias) are this one table, so they cannot disagree. */
static const struct {
    const char *name;
    nn_layer_type type;
} layer_names[] = {
    {"conv", NN_LAYER_CONV},          {"convolution", NN_LAYER_CONV},
    {"pool", NN_LAYER_POOL},          {"pooling", NN_LAYER_POOL},
    {"global_pool", NN_LAYER_GLOBAL_POOL}, {"global-pool", NN_LAYER_GLOBAL_POOL},
    {"globalpool", NN_LAYER_GLOBAL_POOL},
    {"mlp", NN_LAYER_MLP},            {"dense", NN_LAYER_MLP},
    {"fc", NN_LAYER_MLP},             {"linear", NN_LAYER_MLP},
};

const char *nn_layer_type_alias(size_t i, nn_layer_type *type) {
    if (i >= sizeof layer_names / sizeof layer_names[0]) return NULL;
    if (type) *type = layer_names[i].type;
    return layer_names[i].name;
}

nn_code nn_layer_type_parse(const char *name, nn_layer_type *out, const char *field,
                            nn_error *err) {
    if (!field) field = "type";
    if (!name) return nn_fail(err, NN_INVALID, field, "layer type must be a string");
    for (size_t i = 0; i < sizeof layer_names / sizeof layer_names[0]; i++)
        if (!strcasecmp(name, layer_names[i].name)) {
            *out = layer_names[i].type;
            return NN_OK;
        }
    return nn_fail(err, NN_INVALID, field,
                   "unknown layer type '%.40s' (conv, pool, global_pool, mlp)", name);
}

const char *nn_layer_type_name(nn_layer_type type) {
    switch (type) {
    case NN_LAYER_CONV: return "conv";
    case NN_LAYER_POOL: return "pool";
    case NN_LAYER_GLOBAL_POOL: return "global_pool";
    case NN_LAYER_MLP: return "mlp";
    }
    return "?";
}

size_t nn_cnn_default_spec(nn_layer_spec specs[NN_CNN_DEFAULT_LAYERS]) {
    memset(specs, 0, NN_CNN_DEFAULT_LAYERS * sizeof specs[0]);
    nn_activation relu = {NN_ACT_RELU, 0.01f}, tanh_act = {NN_ACT_TANH, 0.01f};
    specs[0].type = NN_LAYER_CONV;
    specs[0].filters = 16;
    specs[0].size_h = specs[0].size_w = 3;
    specs[0].conv = (nn_conv_params){2, 2, 0, 0, relu};
    specs[0].init = NN_INIT_HE;
    specs[1].type = NN_LAYER_POOL;
    specs[1].pool = (nn_pool_params){NN_POOL_MAX, 2, 2, 2, 2};
    specs[2].type = NN_LAYER_CONV;
    specs[2].filters = 32;
    specs[2].size_h = specs[2].size_w = 3;
    specs[2].conv = (nn_conv_params){1, 1, 1, 1, relu};
    specs[2].init = NN_INIT_HE;
    specs[3].type = NN_LAYER_POOL;
    specs[3].pool = (nn_pool_params){NN_POOL_MAX, 2, 2, 2, 2};
    specs[4].type = NN_LAYER_GLOBAL_POOL;
    specs[4].pool.kind = NN_POOL_AVG;
    specs[5].type = NN_LAYER_MLP;
    nn_mlp_config_uniform(&specs[5].mlp, 0, 1, 20, 1000, tanh_act);
    specs[5].mlp_init = NN_INIT_UNIFORM;
    return NN_CNN_DEFAULT_LAYERS;
}

/* ---- validation -------------------------------------------------------------------------- */

static int act_ok(nn_activation a) { return (unsigned)a.kind <= (unsigned)NN_ACT_LEAKY_RELU; }
static int init_ok(nn_init_kind k) { return (unsigned)k <= (unsigned)NN_INIT_LAST; }

/* The checks of one layer kind given its input shape: they fill its output shape, parameter and
 * activation float counts (unrounded) and flops (all zeroed by check_layer). */
static nn_code check_conv(const nn_layer_spec *s, size_t i, nn_layer_type t, const size_t in[3],
                          size_t out[3], size_t *out_ndim, size_t *n_params, size_t *n_acts,
                          double *flops, nn_error *err) {
    size_t H = in[0], W = in[1], C = in[2], N = s->filters, KH = s->size_h, KW = s->size_w;
    const nn_conv_params *p = &s->conv;
    if (N == 0) return layer_fail(err, NN_INVALID, i, t, "filters", "filters must be >= 1");
    if (KH == 0 || KW == 0)
        return layer_fail(err, NN_INVALID, i, t, "size", "kernel size must be >= 1 (got %zux%zu)", KH, KW);
    if (p->stride_h == 0 || p->stride_w == 0)
        return layer_fail(err, NN_INVALID, i, t, "stride", "stride must be >= 1 (got %zux%zu)",
                          p->stride_h, p->stride_w);
    if (!act_ok(p->act)) return layer_fail(err, NN_INVALID, i, t, "activation", "unknown activation");
    if (!s->kernels && !init_ok(s->init)) return layer_fail(err, NN_INVALID, i, t, "init", "unknown init");
    size_t ph2, pw2, Hp, Wp;
    if (nn_size_mul(p->pad_h, 2, &ph2) || nn_size_mul(p->pad_w, 2, &pw2) ||
        nn_size_add(H, ph2, &Hp) || nn_size_add(W, pw2, &Wp))
        return layer_fail(err, NN_TOO_LARGE, i, t, "padding", "padding %zux%zu is too large",
                          p->pad_h, p->pad_w);
    if (KH > Hp || KW > Wp)
        return layer_fail(err, NN_INVALID, i, t, "size",
                          "kernel %zux%zu is larger than its padded %zux%zu input", KH, KW, Hp, Wp);
    out[0] = (Hp - KH) / p->stride_h + 1;
    out[1] = (Wp - KW) / p->stride_w + 1;
    out[2] = N;
    *out_ndim = 3;
    size_t kdims[4] = {N, KH, KW, C}, kn, an;
    if (nn_size_prod(kdims, 4, &kn) || nn_size_add(kn, N, n_params))
        return layer_fail(err, NN_TOO_LARGE, i, t, "filters", "the kernel bank is too large");
    if (nn_size_prod(out, 3, &an))
        return layer_fail(err, NN_TOO_LARGE, i, t, "filters", "the output is too large");
    *n_acts = an;
    if (s->kernels && s->kernels_len != kn)
        return layer_fail(err, NN_INVALID, i, t, "kernels",
                          "kernels must have shape [%zu, %zu, %zu, %zu] (%zu values, got %zu)", N, KH,
                          KW, C, kn, s->kernels_len);
    if (s->bias && s->bias_len != N)
        return layer_fail(err, NN_INVALID, i, t, "bias", "bias must have %zu values (got %zu)", N,
                          s->bias_len);
    *flops = 2.0 * (double)an * (double)KH * (double)KW * (double)C;
    return NN_OK;
}

static nn_code check_pool(const nn_layer_spec *s, size_t i, nn_layer_type t, const size_t in[3],
                          size_t out[3], size_t *out_ndim, size_t *n_acts, double *flops, nn_error *err) {
    size_t OH, OW;
    nn_code c = nn_pool_output_size(in[0], in[1], in[2], &s->pool, &OH, &OW, err);
    if (c) return relabel(err, c, i, t);
    out[0] = OH;
    out[1] = OW;
    out[2] = in[2];
    *out_ndim = 3;
    *n_acts = OH * OW * in[2]; /* <= the input's size, which did not overflow */
    *flops = nn_pool_work(OH, OW, in[2], &s->pool);
    return NN_OK;
}

static nn_code check_global(const nn_layer_spec *s, size_t i, nn_layer_type t, const size_t in[3],
                            size_t out[3], size_t *out_ndim, size_t *n_acts, double *flops, nn_error *err) {
    if (s->pool.kind != NN_POOL_MAX && s->pool.kind != NN_POOL_AVG)
        return layer_fail(err, NN_INVALID, i, t, "function", "unknown pooling function");
    out[0] = in[2];
    *out_ndim = 1;
    *n_acts = in[2];
    *flops = nn_global_pool_work(in[0], in[1], in[2]);
    return NN_OK;
}

static nn_code check_mlp(const nn_layer_spec *s, size_t i, nn_layer_type t, const size_t in[3],
                         size_t in_ndim, size_t out[3], size_t *out_ndim, size_t *n_params,
                         size_t *n_acts, double *flops, nn_mlp_config *mlp_cfg,
                         nn_error *err) {
    *mlp_cfg = s->mlp;
    size_t nin = 1;
    for (size_t d = 0; d < in_ndim; d++) nin *= in[d]; /* a product already checked */
    mlp_cfg->input_size = nin;
    if (!init_ok(s->mlp_init) && !s->mlp_weight[0])
        return layer_fail(err, NN_INVALID, i, t, "init", "unknown init");
    size_t np, na;
    nn_code c = nn_mlp_sizes(mlp_cfg, &np, &na, err);
    if (c) return relabel(err, c, i, t);
    size_t L = mlp_cfg->hidden_layers + 1;
    if (s->mlp_weight[0]) {
        for (size_t l = 0; l < L; l++) {
            size_t lin = l == 0 ? nin : mlp_cfg->hidden_sizes[l - 1];
            size_t lout = l + 1 == L ? mlp_cfg->output_size : mlp_cfg->hidden_sizes[l];
            if (!s->mlp_weight[l] || s->mlp_weight_len[l] != lin * lout)
                return layer_fail(err, NN_INVALID, i, t, "weights",
                                  "weights[%zu].weight must have shape [%zu, %zu] (%zu values, got %zu)",
                                  l, lin, lout, lin * lout, s->mlp_weight[l] ? s->mlp_weight_len[l] : 0);
            if (s->mlp_bias[l] && s->mlp_bias_len[l] != lout)
                return layer_fail(err, NN_INVALID, i, t, "weights",
                                  "weights[%zu].bias must have %zu values (got %zu)", l, lout,
                                  s->mlp_bias_len[l]);
        }
        for (size_t l = L; l < NN_MLP_MAX_LAYERS; l++)
            if (s->mlp_weight[l])
                return layer_fail(err, NN_INVALID, i, t, "weights",
                                  "the MLP has %zu layers but weights for layer %zu were given", L, l);
    }
    out[0] = mlp_cfg->output_size;
    *out_ndim = 1;
    *n_params = np;
    *n_acts = na;
    *flops = nn_mlp_flops(mlp_cfg);
    return NN_OK;
}

/* Checks one layer given its input shape; fills its output shape, parameter and activation float
 * counts (unrounded) and flops. */
static nn_code check_layer(const nn_layer_spec *s, size_t i, const size_t in[3], size_t in_ndim,
                           size_t out[3], size_t *out_ndim, size_t *n_params, size_t *n_acts,
                           double *flops, nn_mlp_config *mlp_cfg, nn_error *err) {
    nn_layer_type t = s->type;
    *n_params = 0;
    *n_acts = 0;
    *flops = 0.0;
    static const char *const needs[] = {[NN_LAYER_CONV] = "a convolution", [NN_LAYER_POOL] = "pooling",
                                        [NN_LAYER_GLOBAL_POOL] = "global pooling"};
    if ((t == NN_LAYER_CONV || t == NN_LAYER_POOL || t == NN_LAYER_GLOBAL_POOL) && in_ndim != 3)
        return layer_fail(err, NN_INVALID, i, t, "type",
                          "%s needs an [H, W, C] input, but the previous layer outputs a vector", needs[t]);
    switch (t) {
    case NN_LAYER_CONV: return check_conv(s, i, t, in, out, out_ndim, n_params, n_acts, flops, err);
    case NN_LAYER_POOL: return check_pool(s, i, t, in, out, out_ndim, n_acts, flops, err);
    case NN_LAYER_GLOBAL_POOL: return check_global(s, i, t, in, out, out_ndim, n_acts, flops, err);
    case NN_LAYER_MLP:
        return check_mlp(s, i, t, in, in_ndim, out, out_ndim, n_params, n_acts, flops, mlp_cfg, err);
    }
    return layer_fail(err, NN_INVALID, i, t, "type", "unknown layer type");
}

/* Per-layer results of a validation pass (shared by validate and create). */
typedef struct plan {
    size_t out[NN_CNN_MAX_LAYERS][3], out_ndim[NN_CNN_MAX_LAYERS];
    size_t n_params[NN_CNN_MAX_LAYERS], n_acts[NN_CNN_MAX_LAYERS];
    double flops[NN_CNN_MAX_LAYERS];
    nn_mlp_config mlp[NN_CNN_MAX_LAYERS];
    size_t total_params, total_acts, num_outputs; /* rounded floats */
    size_t ws_bytes;                              /* the largest conv layer's scratch */
    double total_flops, total_work;
} plan;

static nn_code make_plan(const nn_layer_spec *specs, size_t n, size_t H, size_t W, size_t C,
                         int with_softmax, plan *pl, nn_error *err) {
    if (n == 0 || !specs) return nn_fail(err, NN_INVALID, "architecture", "the architecture has no layers");
    if (n > NN_CNN_MAX_LAYERS)
        return nn_fail(err, NN_INVALID, "architecture", "the architecture has %zu layers (at most %d)", n,
                       NN_CNN_MAX_LAYERS);
    if (H == 0 || W == 0 || C == 0)
        return nn_fail(err, NN_INVALID, "input", "input must not be empty (got %zux%zux%zu)", H, W, C);
    size_t in[3] = {H, W, C}, in_ndim = 3, tmp;
    if (nn_size_prod(in, 3, &tmp) || tmp > SIZE_MAX / 64)
        return nn_fail(err, NN_TOO_LARGE, "input", "input %zux%zux%zu is too large", H, W, C);
    size_t tp = 0, ta = 0;
    double tf = 0.0;
    pl->ws_bytes = 0;
    pl->total_work = 0.0;
    for (size_t i = 0; i < n; i++) {
        const nn_layer_spec *s = &specs[i];
        nn_code c = check_layer(s, i, in, in_ndim, pl->out[i], &pl->out_ndim[i], &pl->n_params[i],
                                &pl->n_acts[i], &pl->flops[i], &pl->mlp[i], err);
        if (c) return c;
        size_t wsb = 0;
        if (s->type == NN_LAYER_CONV &&
            (c = nn_conv_workspace_size(in[0], in[1], in[2], s->filters, s->size_h, s->size_w, &s->conv, &wsb, err)))
            return relabel(err, c, i, s->type);
        if (wsb > pl->ws_bytes) pl->ws_bytes = wsb;
        pl->total_work += pl->flops[i] + (double)wsb / sizeof(float);
        /* Sizes beyond SIZE_MAX/64 floats can never be allocated; refusing them keeps the sums below
         * free of overflow. */
        if (pl->n_params[i] > SIZE_MAX / 64 || pl->n_acts[i] > SIZE_MAX / 64 ||
            nn_size_add(tp, round_up(pl->n_params[i]), &tp) || nn_size_add(ta, round_up(pl->n_acts[i]), &ta) ||
            tp > SIZE_MAX / 64 || ta > SIZE_MAX / 64)
            return layer_fail(err, NN_TOO_LARGE, i, specs[i].type, "", "the model is too large");
        tf += pl->flops[i];
        memcpy(in, pl->out[i], sizeof in);
        in_ndim = pl->out_ndim[i];
    }
    size_t nout = 1;
    for (size_t d = 0; d < in_ndim; d++) nout *= in[d];
    pl->num_outputs = nout;
    if (with_softmax) ta += round_up(nout);
    pl->total_params = tp;
    pl->total_acts = ta;
    pl->total_flops = tf;
    return NN_OK;
}

nn_code nn_cnn_validate(const nn_layer_spec *specs, size_t n, size_t H, size_t W, size_t C,
                        nn_cnn_info *info, nn_error *err) {
    plan *pl = malloc(sizeof *pl);
    if (!pl) return nn_fail(err, NN_NOMEM, "architecture", "out of memory");
    nn_code c = make_plan(specs, n, H, W, C, 1, pl, err);
    if (!c && info) {
        memset(info, 0, sizeof *info);
        for (size_t i = 0; i < n; i++) {
            memcpy(info->out_shape[i], pl->out[i], sizeof info->out_shape[i]);
            info->out_ndim[i] = pl->out_ndim[i];
        }
        info->num_params = pl->total_params;
        info->num_acts = pl->total_acts;
        info->bytes = (pl->total_params + pl->total_acts) * sizeof(float);
        info->ws_bytes = pl->ws_bytes;
        info->work = pl->total_work;
        info->flops = pl->total_flops;
    }
    free(pl);
    return c;
}

/* ---- build and run ----------------------------------------------------------------------- */

void nn_cnn_free(nn_cnn *m) {
    if (!m) return;
    free(m->memory);
    nn_workspace_free(&m->ws);
    memset(m, 0, sizeof *m);
}

/* Whether a layer generates its parameters with a NumPy init. */
static int uses_numpy(const nn_layer_spec *specs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const nn_layer_spec *s = &specs[i];
        if (s->type == NN_LAYER_CONV && !s->kernels && nn_init_is_numpy(s->init)) return 1;
        if (s->type == NN_LAYER_MLP && !s->mlp_weight[0] && nn_init_is_numpy(s->mlp_init)) return 1;
    }
    return 0;
}

/* Point layer i of a model into its blocks (pp: its parameters, ap: its activations) and fill
 * its weights: given, NumPy's stream (mt), or the seeded generator (rng). The error is not yet
 * relabelled with the layer. */
static nn_code bind_layer(nn_cnn_layer *L, const nn_layer_spec *s, const plan *pl, size_t i, const size_t in[3],
                          size_t in_ndim, float *pp, float *ap, nn_rng *rng, nn_mt19937 *mt, nn_error *err) {
    nn_code c;
    L->type = s->type;
    L->spec = *s;
    L->spec.kernels = NULL;
    L->spec.bias = NULL;
    memset(L->spec.mlp_weight, 0, sizeof L->spec.mlp_weight);
    memset(L->spec.mlp_bias, 0, sizeof L->spec.mlp_bias);
    memcpy(L->in_shape, in, sizeof L->in_shape);
    L->in_ndim = in_ndim;
    memcpy(L->out_shape, pl->out[i], sizeof L->out_shape);
    L->out_ndim = pl->out_ndim[i];
    L->out_len = 1;
    for (size_t d = 0; d < L->out_ndim; d++) L->out_len *= L->out_shape[d];
    L->flops = pl->flops[i];
    if (s->type == NN_LAYER_CONV) {
        size_t N = s->filters, per = s->size_h * s->size_w * in[2];
        L->kernels = pp;
        L->bias = pp + N * per;
        if (s->kernels) memcpy(L->kernels, s->kernels, N * per * sizeof(float));
        else if (nn_init_is_numpy(s->init)) {
            if ((c = nn_init_fill_numpy(L->kernels, N * per, s->init, mt, err))) return c;
        } else if ((c = nn_init_fill(L->kernels, N * per, per, N * s->size_h * s->size_w, s->init,
                                     rng, err)))
            return c;
        if (s->bias) memcpy(L->bias, s->bias, N * sizeof(float));
        L->output = ap;
    } else if (s->type == NN_LAYER_MLP) {
        size_t np, na;
        if ((c = nn_mlp_sizes(&pl->mlp[i], &np, &na, err))) return c;
        if ((c = nn_mlp_bind(&L->mlp, &pl->mlp[i], pp, ap, err))) return c;
        if (s->mlp_weight[0]) {
            for (size_t l = 0; l < L->mlp.num_layers; l++)
                if ((c = nn_mlp_set_layer(&L->mlp, l, s->mlp_weight[l], s->mlp_weight_len[l],
                                          s->mlp_bias[l], s->mlp_bias_len[l], err)))
                    return c;
        } else if (nn_init_is_numpy(s->mlp_init)) {
            if ((c = nn_mlp_init_params_numpy(&L->mlp, mt, s->mlp_init, err))) return c;
        } else if ((c = nn_mlp_init_params_rng(&L->mlp, rng, s->mlp_init, err))) {
            return c;
        }
        L->output = L->mlp.logits;
    } else {
        L->output = ap;
    }
    return NN_OK;
}

nn_code nn_cnn_create(nn_cnn *m, const nn_layer_spec *specs, size_t n, size_t H, size_t W,
                      size_t C, uint64_t seed, int with_softmax, nn_error *err) {
    if (!m) return nn_fail(err, NN_INVALID, "architecture", "model missing");
    memset(m, 0, sizeof *m);
    plan *pl = malloc(sizeof *pl);
    if (!pl) return nn_fail(err, NN_NOMEM, "architecture", "out of memory");
    nn_code c = make_plan(specs, n, H, W, C, with_softmax, pl, err);
    if (c) goto done;
    nn_mt19937 mt; /* NumPy's stream, for the layers with a NumPy init (seeded only then) */
    if (uses_numpy(specs, n) && (c = nn_init_numpy_seed(&mt, seed, err))) goto done;
    size_t total = pl->total_params + pl->total_acts;
    void *mem = NULL;
    if (posix_memalign(&mem, 64, (total ? total : 1) * sizeof(float)) != 0 || !mem) {
        c = nn_fail(err, NN_NOMEM, "architecture", "cannot allocate the model (%zu bytes)",
                    total * sizeof(float));
        goto done;
    }
    /* Touch every page now, so no forward call pays for fresh pages. */
    memset(mem, 0, total * sizeof(float));
    m->memory = mem;
    m->params = mem;
    m->num_params = pl->total_params;
    m->acts = (float *)mem + pl->total_params;
    m->num_acts = pl->total_acts;
    m->num_layers = n;
    m->in_h = H;
    m->in_w = W;
    m->in_c = C;
    m->flops = pl->total_flops;

    nn_rng rng;
    nn_rng_seed(&rng, seed);
    float *pp = m->params, *ap = m->acts;
    size_t in[3] = {H, W, C}, in_ndim = 3;
    for (size_t i = 0; i < n; i++) {
        const nn_layer_spec *s = &specs[i];
        if ((c = bind_layer(&m->layers[i], s, pl, i, in, in_ndim, pp, ap, &rng, &mt, err))) {
            c = relabel(err, c, i, s->type);
            nn_cnn_free(m);
            goto done;
        }
        pp += round_up(pl->n_params[i]);
        ap += round_up(pl->n_acts[i]);
        memcpy(in, pl->out[i], sizeof in);
        in_ndim = pl->out_ndim[i];
    }
    m->logits = m->layers[n - 1].output;
    m->num_outputs = pl->num_outputs;
    m->probs = with_softmax ? ap : NULL;
done:
    free(pl);
    return c;
}

nn_code nn_cnn_forward(nn_cnn *m, const float *x, nn_error *err) {
    if (!m || !m->memory) return nn_fail(err, NN_INVALID, "architecture", "model missing");
    if (!x) return nn_fail(err, NN_INVALID, "input", "input missing");
    const float *cur = x;
    for (size_t i = 0; i < m->num_layers; i++) {
        nn_cnn_layer *L = &m->layers[i];
        const size_t *s = L->in_shape;
        nn_code c = NN_OK;
        switch (L->type) {
        case NN_LAYER_CONV:
            c = nn_conv2d_forward(L->output, cur, L->kernels, L->bias, s[0], s[1], s[2], L->spec.filters,
                                  L->spec.size_h, L->spec.size_w, &L->spec.conv, &m->ws, err);
            break;
        case NN_LAYER_POOL:
            c = nn_pool2d_forward(L->output, cur, s[0], s[1], s[2], &L->spec.pool, err);
            break;
        case NN_LAYER_GLOBAL_POOL:
            c = nn_global_pool_forward(L->output, cur, s[0], s[1], s[2], L->spec.pool.kind, err);
            break;
        case NN_LAYER_MLP:
            c = nn_mlp_forward(&L->mlp, cur, err);
            break;
        }
        if (!c && nn_cancelled()) c = nn_fail(err, NN_CANCELLED, "cancelled", "the network was cancelled");
        if (c == NN_CANCELLED) return c;
        if (c) return relabel(err, c, i, L->type);
        cur = L->output;
    }
    if (m->probs) nn_softmax_forward(m->probs, m->logits, m->num_outputs);
    return NN_OK;
}
