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

void nn_layer_conv(nn_layer_spec *s, size_t filters, size_t size_h, size_t size_w, nn_conv_params p,
                   nn_init_kind init) {
    memset(s, 0, sizeof *s);
    s->type = NN_LAYER_CONV;
    s->filters = filters;
    s->size_h = size_h;
    s->size_w = size_w;
    s->conv = p;
    s->init = init;
}

void nn_layer_pool(nn_layer_spec *s, nn_pool_params p) {
    memset(s, 0, sizeof *s);
    s->type = NN_LAYER_POOL;
    s->pool = p;
}

void nn_layer_global_pool(nn_layer_spec *s, nn_pool_kind kind) {
    memset(s, 0, sizeof *s);
    s->type = NN_LAYER_GLOBAL_POOL;
    s->pool.kind = kind;
}

void nn_layer_mlp(nn_layer_spec *s, size_t hidden_layers, size_t hidden_size, size_t output_size,
                  nn_activation act, nn_init_kind init) {
    memset(s, 0, sizeof *s);
    s->type = NN_LAYER_MLP;
    nn_mlp_config_uniform(&s->mlp, 0, hidden_layers, hidden_size, output_size, act);
    s->mlp_init = init;
}

size_t nn_cnn_default_spec(nn_layer_spec specs[NN_CNN_DEFAULT_LAYERS]) {
    const nn_activation relu = {NN_ACT_RELU, 0.01f}, tanh_act = {NN_ACT_TANH, 0.01f};
    const nn_pool_params max2 = {NN_POOL_MAX, 2, 2, 2, 2};
    nn_layer_conv(&specs[0], 16, 3, 3, (nn_conv_params){2, 2, 0, 0, relu}, NN_INIT_HE);
    nn_layer_pool(&specs[1], max2);
    nn_layer_conv(&specs[2], 32, 3, 3, (nn_conv_params){1, 1, 1, 1, relu}, NN_INIT_HE);
    nn_layer_pool(&specs[3], max2);
    nn_layer_global_pool(&specs[4], NN_POOL_AVG);
    nn_layer_mlp(&specs[5], 1, 20, 1000, tanh_act, NN_INIT_UNIFORM);
    return NN_CNN_DEFAULT_LAYERS;
}

/* ---- validation -------------------------------------------------------------------------- */

static int act_ok(nn_activation a) { return (unsigned)a.kind <= (unsigned)NN_ACT_LEAKY_RELU; }
static int init_ok(nn_init_kind k) { return (unsigned)k <= (unsigned)NN_INIT_LAST; }

/* What the check of one layer finds: its output shape, its parameter and activation float counts
 * (unrounded), its flops and, for an MLP, its configuration with the input size filled in. */
typedef struct layer_plan {
    size_t out[3], out_ndim;
    size_t n_params, n_acts;
    double flops;
    nn_mlp_config mlp;
} layer_plan;

static nn_code check_conv(const nn_layer_spec *s, size_t i, const size_t in[3], layer_plan *lp,
                          nn_error *err) {
    const nn_layer_type t = NN_LAYER_CONV;
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
    lp->out[0] = (Hp - KH) / p->stride_h + 1;
    lp->out[1] = (Wp - KW) / p->stride_w + 1;
    lp->out[2] = N;
    lp->out_ndim = 3;
    size_t kdims[4] = {N, KH, KW, C}, kn, an;
    if (nn_size_prod(kdims, 4, &kn) || nn_size_add(kn, N, &lp->n_params))
        return layer_fail(err, NN_TOO_LARGE, i, t, "filters", "the kernel bank is too large");
    if (nn_size_prod(lp->out, 3, &an))
        return layer_fail(err, NN_TOO_LARGE, i, t, "filters", "the output is too large");
    lp->n_acts = an;
    if (s->kernels && s->kernels_len != kn)
        return layer_fail(err, NN_INVALID, i, t, "kernels",
                          "kernels must have shape [%zu, %zu, %zu, %zu] (%zu values, got %zu)", N, KH, KW,
                          C, kn, s->kernels_len);
    if (s->bias && s->bias_len != N)
        return layer_fail(err, NN_INVALID, i, t, "bias", "bias must have %zu values (got %zu)", N,
                          s->bias_len);
    lp->flops = 2.0 * (double)an * (double)KH * (double)KW * (double)C;
    return NN_OK;
}

static nn_code check_pool(const nn_layer_spec *s, size_t i, const size_t in[3], layer_plan *lp,
                          nn_error *err) {
    size_t OH, OW;
    nn_code c = nn_pool_output_size(in[0], in[1], in[2], &s->pool, &OH, &OW, err);
    if (c) return relabel(err, c, i, NN_LAYER_POOL);
    lp->out[0] = OH;
    lp->out[1] = OW;
    lp->out[2] = in[2];
    lp->out_ndim = 3;
    lp->n_acts = OH * OW * in[2]; /* <= the input's size, which did not overflow */
    lp->flops = nn_pool_work(OH, OW, in[2], &s->pool);
    return NN_OK;
}

static nn_code check_global_pool(const nn_layer_spec *s, size_t i, const size_t in[3], layer_plan *lp,
                                 nn_error *err) {
    if (s->pool.kind != NN_POOL_MAX && s->pool.kind != NN_POOL_AVG)
        return layer_fail(err, NN_INVALID, i, NN_LAYER_GLOBAL_POOL, "function", "unknown pooling function");
    lp->out[0] = in[2];
    lp->out_ndim = 1;
    lp->n_acts = in[2];
    lp->flops = nn_global_pool_work(in[0], in[1], in[2]);
    return NN_OK;
}

/* Given MLP weights: every linear layer of cfg has a weight of its shape (and a bias of its
 * width, if any), and no layer beyond them has one. */
static nn_code check_mlp_weights(const nn_layer_spec *s, size_t i, const nn_mlp_config *cfg,
                                 nn_error *err) {
    const nn_layer_type t = NN_LAYER_MLP;
    size_t L = cfg->hidden_layers + 1;
    for (size_t l = 0; l < L; l++) {
        size_t lin = l == 0 ? cfg->input_size : cfg->hidden_sizes[l - 1];
        size_t lout = l + 1 == L ? cfg->output_size : cfg->hidden_sizes[l];
        if (!s->mlp_weight[l] || s->mlp_weight_len[l] != lin * lout)
            return layer_fail(err, NN_INVALID, i, t, "weights",
                              "weights[%zu].weight must have shape [%zu, %zu] (%zu values, got %zu)", l,
                              lin, lout, lin * lout, s->mlp_weight[l] ? s->mlp_weight_len[l] : 0);
        if (s->mlp_bias[l] && s->mlp_bias_len[l] != lout)
            return layer_fail(err, NN_INVALID, i, t, "weights",
                              "weights[%zu].bias must have %zu values (got %zu)", l, lout, s->mlp_bias_len[l]);
    }
    for (size_t l = L; l < NN_MLP_MAX_LAYERS; l++)
        if (s->mlp_weight[l])
            return layer_fail(err, NN_INVALID, i, t, "weights",
                              "the MLP has %zu layers but weights for layer %zu were given", L, l);
    return NN_OK;
}

static nn_code check_mlp(const nn_layer_spec *s, size_t i, const size_t in[3], size_t in_ndim,
                         layer_plan *lp, nn_error *err) {
    nn_mlp_config *cfg = &lp->mlp;
    *cfg = s->mlp;
    size_t nin = 1;
    for (size_t d = 0; d < in_ndim; d++) nin *= in[d]; /* a product already checked */
    cfg->input_size = nin;
    if (!init_ok(s->mlp_init) && !s->mlp_weight[0])
        return layer_fail(err, NN_INVALID, i, NN_LAYER_MLP, "init", "unknown init");
    size_t np, na;
    nn_code c = nn_mlp_sizes(cfg, &np, &na, err);
    if (c) return relabel(err, c, i, NN_LAYER_MLP);
    if (s->mlp_weight[0] && (c = check_mlp_weights(s, i, cfg, err))) return c;
    lp->out[0] = cfg->output_size;
    lp->out_ndim = 1;
    lp->n_params = np;
    lp->n_acts = na;
    lp->flops = nn_mlp_flops(cfg);
    return NN_OK;
}

/* Checks one layer given its input shape [in_ndim] (3: [H, W, C], 1: a vector) and fills *lp. */
static nn_code check_layer(const nn_layer_spec *s, size_t i, const size_t in[3], size_t in_ndim,
                           layer_plan *lp, nn_error *err) {
    nn_layer_type t = s->type;
    lp->n_params = 0;
    lp->n_acts = 0;
    lp->flops = 0.0;
    /* After a global pool or an MLP the data is a vector: only an MLP may follow. */
    static const char *const needs[] = {[NN_LAYER_CONV] = "a convolution", [NN_LAYER_POOL] = "pooling",
                                        [NN_LAYER_GLOBAL_POOL] = "global pooling"};
    if ((t == NN_LAYER_CONV || t == NN_LAYER_POOL || t == NN_LAYER_GLOBAL_POOL) && in_ndim != 3)
        return layer_fail(err, NN_INVALID, i, t, "type",
                          "%s needs an [H, W, C] input, but the previous layer outputs a vector", needs[t]);
    switch (t) {
    case NN_LAYER_CONV: return check_conv(s, i, in, lp, err);
    case NN_LAYER_POOL: return check_pool(s, i, in, lp, err);
    case NN_LAYER_GLOBAL_POOL: return check_global_pool(s, i, in, lp, err);
    case NN_LAYER_MLP: return check_mlp(s, i, in, in_ndim, lp, err);
    }
    return layer_fail(err, NN_INVALID, i, t, "type", "unknown layer type");
}

/* Per-layer results of a validation pass (shared by validate and create). */
typedef struct plan {
    layer_plan layer[NN_CNN_MAX_LAYERS];
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
        layer_plan *lp = &pl->layer[i];
        nn_code c = check_layer(s, i, in, in_ndim, lp, err);
        if (c) return c;
        size_t wsb = 0;
        if (s->type == NN_LAYER_CONV &&
            (c = nn_conv_workspace_size(in[0], in[1], in[2], s->filters, s->size_h, s->size_w, &s->conv, &wsb, err)))
            return relabel(err, c, i, s->type);
        if (wsb > pl->ws_bytes) pl->ws_bytes = wsb;
        pl->total_work += lp->flops + (double)wsb / sizeof(float);
        /* Sizes beyond SIZE_MAX/64 floats can never be allocated; refusing them keeps the sums below
         * free of overflow. */
        if (lp->n_params > SIZE_MAX / 64 || lp->n_acts > SIZE_MAX / 64 ||
            nn_size_add(tp, round_up(lp->n_params), &tp) || nn_size_add(ta, round_up(lp->n_acts), &ta) ||
            tp > SIZE_MAX / 64 || ta > SIZE_MAX / 64)
            return layer_fail(err, NN_TOO_LARGE, i, specs[i].type, "", "the model is too large");
        tf += lp->flops;
        memcpy(in, lp->out, sizeof in);
        in_ndim = lp->out_ndim;
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
            memcpy(info->out_shape[i], pl->layer[i].out, sizeof info->out_shape[i]);
            info->out_ndim[i] = pl->layer[i].out_ndim;
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

/* Where generated parameters come from: one nn_rng stream, and NumPy's MT19937 for the layers
 * with a NumPy init (seeded only when a layer has one). */
typedef struct param_source {
    nn_rng rng;
    nn_mt19937 mt;
} param_source;

/* The one allocation: every parameter, then every activation, each layer's at a rounded offset. */
static nn_code alloc_model(nn_cnn *m, const plan *pl, nn_error *err) {
    size_t total = pl->total_params + pl->total_acts;
    void *mem = NULL;
    if (posix_memalign(&mem, 64, (total ? total : 1) * sizeof(float)) != 0 || !mem)
        return nn_fail(err, NN_NOMEM, "architecture", "cannot allocate the model (%zu bytes)",
                       total * sizeof(float));
    /* Touch every page now, so no forward call pays for fresh pages. */
    memset(mem, 0, total * sizeof(float));
    m->memory = mem;
    m->params = mem;
    m->num_params = pl->total_params;
    m->acts = (float *)mem + pl->total_params;
    m->num_acts = pl->total_acts;
    return NN_OK;
}

/* Layer L's copy of its spec (without the caller's data pointers) and its shapes. */
static void describe_layer(nn_cnn_layer *L, const nn_layer_spec *s, const layer_plan *lp,
                           const size_t in[3], size_t in_ndim) {
    L->type = s->type;
    L->spec = *s;
    L->spec.kernels = NULL;
    L->spec.bias = NULL;
    memset(L->spec.mlp_weight, 0, sizeof L->spec.mlp_weight);
    memset(L->spec.mlp_bias, 0, sizeof L->spec.mlp_bias);
    memcpy(L->in_shape, in, sizeof L->in_shape);
    L->in_ndim = in_ndim;
    memcpy(L->out_shape, lp->out, sizeof L->out_shape);
    L->out_ndim = lp->out_ndim;
    L->out_len = 1;
    for (size_t d = 0; d < L->out_ndim; d++) L->out_len *= L->out_shape[d];
    L->flops = lp->flops;
}

/* A conv layer's bank [N, KH, KW, C] and bias [N] at pp: given, or generated (bias zero). */
static nn_code fill_conv(nn_cnn_layer *L, const nn_layer_spec *s, size_t C, float *pp,
                         param_source *src, nn_error *err) {
    size_t N = s->filters, per = s->size_h * s->size_w * C;
    L->kernels = pp;
    L->bias = pp + N * per;
    nn_code c = NN_OK;
    if (s->kernels) memcpy(L->kernels, s->kernels, N * per * sizeof(float));
    else if (nn_init_is_numpy(s->init)) c = nn_init_fill_numpy(L->kernels, N * per, s->init, &src->mt, err);
    else c = nn_init_fill(L->kernels, N * per, per, N * s->size_h * s->size_w, s->init, &src->rng, err);
    if (c) return c;
    if (s->bias) memcpy(L->bias, s->bias, N * sizeof(float));
    return NN_OK;
}

/* An MLP layer bound at pp / ap, its weights given or generated. */
static nn_code fill_mlp(nn_cnn_layer *L, const nn_layer_spec *s, const nn_mlp_config *cfg, float *pp,
                        float *ap, param_source *src, nn_error *err) {
    nn_code c = nn_mlp_bind(&L->mlp, cfg, pp, ap, err);
    if (c) return c;
    if (s->mlp_weight[0]) {
        for (size_t l = 0; l < L->mlp.num_layers; l++)
            if ((c = nn_mlp_set_layer(&L->mlp, l, s->mlp_weight[l], s->mlp_weight_len[l], s->mlp_bias[l],
                                      s->mlp_bias_len[l], err)))
                return c;
        return NN_OK;
    }
    if (nn_init_is_numpy(s->mlp_init)) return nn_mlp_init_params_numpy(&L->mlp, &src->mt, s->mlp_init, err);
    return nn_mlp_init_params_rng(&L->mlp, &src->rng, s->mlp_init, err);
}

/* Lay out and fill every layer in order (the generators' streams run layer by layer), then
 * point logits and probs. */
static nn_code fill_layers(nn_cnn *m, const nn_layer_spec *specs, const plan *pl, int with_softmax,
                           param_source *src, nn_error *err) {
    float *pp = m->params, *ap = m->acts;
    size_t in[3] = {m->in_h, m->in_w, m->in_c}, in_ndim = 3;
    for (size_t i = 0; i < m->num_layers; i++) {
        nn_cnn_layer *L = &m->layers[i];
        const nn_layer_spec *s = &specs[i];
        const layer_plan *lp = &pl->layer[i];
        describe_layer(L, s, lp, in, in_ndim);
        nn_code c = NN_OK;
        L->output = ap;
        if (s->type == NN_LAYER_CONV) c = fill_conv(L, s, in[2], pp, src, err);
        else if (s->type == NN_LAYER_MLP && !(c = fill_mlp(L, s, &lp->mlp, pp, ap, src, err)))
            L->output = L->mlp.logits;
        if (c) return relabel(err, c, i, s->type);
        pp += round_up(lp->n_params);
        ap += round_up(lp->n_acts);
        memcpy(in, lp->out, sizeof in);
        in_ndim = lp->out_ndim;
    }
    m->logits = m->layers[m->num_layers - 1].output;
    m->probs = with_softmax ? ap : NULL; /* make_plan counted its floats after the layers' */
    return NN_OK;
}

nn_code nn_cnn_create(nn_cnn *m, const nn_layer_spec *specs, size_t n, size_t H, size_t W,
                      size_t C, uint64_t seed, int with_softmax, nn_error *err) {
    if (!m) return nn_fail(err, NN_INVALID, "architecture", "model missing");
    memset(m, 0, sizeof *m);
    plan *pl = malloc(sizeof *pl);
    if (!pl) return nn_fail(err, NN_NOMEM, "architecture", "out of memory");
    param_source src;
    nn_code c = make_plan(specs, n, H, W, C, with_softmax, pl, err);
    if (!c && uses_numpy(specs, n)) c = nn_init_numpy_seed(&src.mt, seed, err);
    if (!c) c = alloc_model(m, pl, err);
    if (!c) {
        m->num_layers = n;
        m->in_h = H;
        m->in_w = W;
        m->in_c = C;
        m->flops = pl->total_flops;
        m->num_outputs = pl->num_outputs;
        nn_rng_seed(&src.rng, seed);
        if ((c = fill_layers(m, specs, pl, with_softmax, &src, err))) nn_cnn_free(m);
    }
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
