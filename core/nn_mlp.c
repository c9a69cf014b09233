/* nn_mlp.c — linear layers and the MLP; see nn_mlp.h. */
#include "nn_mlp.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_rng.h"
#include "nn_softmax.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define NN_MLP_SSE 1
#endif

/* ---- plain ops -------------------------------------------------------------------------- */

/* y[j] += a * w[j] for j < n (the row update of x·W, contiguous over outputs). */
static void axpy(float *y, float a, const float *w, size_t n) {
    size_t j = 0;
#ifdef NN_MLP_SSE
    __m128 va = _mm_set1_ps(a);
    for (; j + 8 <= n; j += 8) {
        _mm_storeu_ps(y + j, _mm_add_ps(_mm_loadu_ps(y + j), _mm_mul_ps(va, _mm_loadu_ps(w + j))));
        _mm_storeu_ps(y + j + 4,
                      _mm_add_ps(_mm_loadu_ps(y + j + 4), _mm_mul_ps(va, _mm_loadu_ps(w + j + 4))));
    }
#endif
    for (; j < n; j++) y[j] += a * w[j];
}

void nn_linear_forward(float *y, const float *x, const float *W, const float *b, size_t in,
                       size_t out) {
    if (b) memcpy(y, b, out * sizeof *y);
    else memset(y, 0, out * sizeof *y);
    for (size_t i = 0; i < in; i++) axpy(y, x[i], W + i * out, out);
}

void nn_linear_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                        const float *W, size_t in, size_t out) {
    if (db)
        for (size_t j = 0; j < out; j++) db[j] += dy[j];
    for (size_t i = 0; i < in; i++) {
        if (dW) axpy(dW + i * out, x[i], dy, out);
        if (dx) {
            double s = 0.0;
            const float *w = W + i * out;
            for (size_t j = 0; j < out; j++) s += (double)dy[j] * w[j];
            dx[i] += (float)s;
        }
    }
}

/* ---- field names ------------------------------------------------------------------------- */

static pthread_once_t field_once = PTHREAD_ONCE_INIT;
static char field_tbl[3][NN_MLP_MAX_LAYERS][32];

static void field_init(void) {
    for (size_t l = 0; l < NN_MLP_MAX_LAYERS; l++) {
        snprintf(field_tbl[0][l], sizeof field_tbl[0][l], "weights[%zu].weight", l);
        snprintf(field_tbl[1][l], sizeof field_tbl[1][l], "weights[%zu].bias", l);
        snprintf(field_tbl[2][l], sizeof field_tbl[2][l], "hidden_size[%zu]", l);
    }
}

const char *nn_mlp_field(const char *what, size_t l) {
    int k = !strcmp(what, "weight") ? 0 : !strcmp(what, "bias") ? 1 : !strcmp(what, "hidden_size") ? 2 : -1;
    if (k < 0) return "weights";
    if (l >= NN_MLP_MAX_LAYERS) return k == 2 ? "hidden_size" : "weights";
    pthread_once(&field_once, field_init);
    return field_tbl[k][l];
}

/* ---- config ------------------------------------------------------------------------------ */

void nn_mlp_config_uniform(nn_mlp_config *cfg, size_t input_size, size_t hidden_layers,
                           size_t hidden_size, size_t output_size, nn_activation act) {
    memset(cfg, 0, sizeof *cfg);
    cfg->input_size = input_size;
    cfg->hidden_layers = hidden_layers;
    for (size_t l = 0; l < hidden_layers && l < NN_MLP_MAX_HIDDEN; l++) cfg->hidden_sizes[l] = hidden_size;
    cfg->output_size = output_size;
    cfg->act = act;
}

/* Layer l's fan-in / fan-out for a valid config. */
static size_t layer_in(const nn_mlp_config *cfg, size_t l) {
    return l == 0 ? cfg->input_size : cfg->hidden_sizes[l - 1];
}
static size_t layer_out(const nn_mlp_config *cfg, size_t l) {
    return l == cfg->hidden_layers ? cfg->output_size : cfg->hidden_sizes[l];
}

nn_code nn_mlp_validate(const nn_mlp_config *cfg, nn_error *err) {
    if (!cfg) return nn_fail(err, NN_INVALID, "input", "MLP configuration missing");
    if (cfg->input_size == 0) return nn_fail(err, NN_INVALID, "input", "input must not be empty");
    if (cfg->input_size > NN_MLP_MAX_WIDTH)
        return nn_fail(err, NN_TOO_LARGE, "input", "input size %zu exceeds the limit %zu",
                       cfg->input_size, NN_MLP_MAX_WIDTH);
    if (cfg->hidden_layers > NN_MLP_MAX_HIDDEN)
        return nn_fail(err, NN_INVALID, "hidden_layers", "hidden_layers must be <= %d (got %zu)",
                       NN_MLP_MAX_HIDDEN, cfg->hidden_layers);
    for (size_t l = 0; l < cfg->hidden_layers; l++) {
        if (cfg->hidden_sizes[l] == 0)
            return nn_fail(err, NN_INVALID, "hidden_size", "hidden_size[%zu] must be >= 1", l);
        if (cfg->hidden_sizes[l] > NN_MLP_MAX_WIDTH)
            return nn_fail(err, NN_TOO_LARGE, "hidden_size", "hidden_size[%zu] = %zu exceeds the limit %zu",
                           l, cfg->hidden_sizes[l], NN_MLP_MAX_WIDTH);
    }
    if (cfg->output_size == 0) return nn_fail(err, NN_INVALID, "output_size", "output_size must be >= 1");
    if (cfg->output_size > NN_MLP_MAX_WIDTH)
        return nn_fail(err, NN_TOO_LARGE, "output_size", "output_size %zu exceeds the limit %zu",
                       cfg->output_size, NN_MLP_MAX_WIDTH);
    if ((unsigned)cfg->act.kind > (unsigned)NN_ACT_LEAKY_RELU)
        return nn_fail(err, NN_INVALID, "activation", "unknown activation");
    return NN_OK;
}

nn_code nn_mlp_sizes(const nn_mlp_config *cfg, size_t *n_params, size_t *n_acts, nn_error *err) {
    nn_code c = nn_mlp_validate(cfg, err);
    if (c) return c;
    size_t np = 0, na = 0;
    for (size_t l = 0; l <= cfg->hidden_layers; l++) {
        size_t in = layer_in(cfg, l), out = layer_out(cfg, l), w;
        if (nn_size_mul(in, out, &w) || nn_size_add(np, w, &np) || nn_size_add(np, out, &np))
            return nn_fail(err, NN_TOO_LARGE, "hidden_size", "MLP parameter count overflows");
        /* hidden: pre + out; last: logits + probs */
        na += 2 * out; /* out <= 2^24, at most 33 layers: no overflow */
    }
    if (np > SIZE_MAX / sizeof(float) / 2)
        return nn_fail(err, NN_TOO_LARGE, "hidden_size", "MLP has too many parameters");
    if (n_params) *n_params = np;
    if (n_acts) *n_acts = na;
    return NN_OK;
}

double nn_mlp_flops(const nn_mlp_config *cfg) {
    double f = 0.0;
    for (size_t l = 0; l <= cfg->hidden_layers && l <= NN_MLP_MAX_HIDDEN; l++)
        f += 2.0 * (double)layer_in(cfg, l) * (double)layer_out(cfg, l);
    return f;
}

/* ---- model ------------------------------------------------------------------------------- */

nn_code nn_mlp_bind(nn_mlp *m, const nn_mlp_config *cfg, float *params, float *acts,
                    nn_error *err) {
    if (!m) return nn_fail(err, NN_INVALID, "input", "model missing");
    memset(m, 0, sizeof *m);
    size_t np, na;
    nn_code c = nn_mlp_sizes(cfg, &np, &na, err);
    if (c) return c;
    if (!params || !acts) return nn_fail(err, NN_INVALID, "input", "MLP memory missing");
    m->cfg = *cfg;
    m->num_layers = cfg->hidden_layers + 1;
    m->params = params;
    m->num_params = np;
    m->acts = acts;
    m->num_acts = na;
    float *p = params, *a = acts;
    for (size_t l = 0; l < m->num_layers; l++) {
        size_t in = layer_in(cfg, l), out = layer_out(cfg, l);
        m->in_size[l] = in;
        m->out_size[l] = out;
        m->weight[l] = p;
        p += in * out;
        m->bias[l] = p;
        p += out;
        m->pre[l] = a;
        a += out;
        if (l + 1 < m->num_layers) {
            m->out[l] = a;
            a += out;
        } else {
            m->out[l] = m->pre[l];
        }
    }
    m->logits = m->out[m->num_layers - 1];
    m->probs = a;
    return NN_OK;
}

nn_code nn_mlp_create(nn_mlp *m, const nn_mlp_config *cfg, nn_error *err) {
    if (!m) return nn_fail(err, NN_INVALID, "input", "model missing");
    memset(m, 0, sizeof *m);
    size_t np, na;
    nn_code c = nn_mlp_sizes(cfg, &np, &na, err);
    if (c) return c;
    void *mem = NULL;
    if (posix_memalign(&mem, 64, (np + na) * sizeof(float)) != 0 || !mem)
        return nn_fail(err, NN_NOMEM, "input", "cannot allocate the MLP (%zu floats)", np + na);
    memset(mem, 0, (np + na) * sizeof(float));
    c = nn_mlp_bind(m, cfg, mem, (float *)mem + np, err);
    if (c) {
        free(mem);
        return c;
    }
    m->memory = mem;
    return NN_OK;
}

void nn_mlp_free(nn_mlp *m) {
    if (!m) return;
    free(m->memory);
    memset(m, 0, sizeof *m);
}

nn_code nn_mlp_init_params_rng(nn_mlp *m, nn_rng *rng, nn_init_kind kind, nn_error *err) {
    if (!m || !m->params || !rng) return nn_fail(err, NN_INVALID, "input", "model missing");
    for (size_t l = 0; l < m->num_layers; l++) {
        size_t in = m->in_size[l], out = m->out_size[l];
        nn_code c = nn_init_fill(m->weight[l], in * out, in, out, kind, rng, err);
        if (c) return c;
        c = nn_init_fill(m->bias[l], out, in, out, NN_INIT_UNIFORM, rng, err);
        if (c) return c;
    }
    return NN_OK;
}

nn_code nn_mlp_init_params_numpy(nn_mlp *m, nn_mt19937 *mt, nn_init_kind kind, nn_error *err) {
    if (!m || !m->params || !mt) return nn_fail(err, NN_INVALID, "input", "model missing");
    for (size_t l = 0; l < m->num_layers; l++) {
        size_t in = m->in_size[l], out = m->out_size[l];
        nn_code c = nn_init_fill_numpy(m->weight[l], in * out, kind, mt, err);
        if (c) return c;
        memset(m->bias[l], 0, out * sizeof *m->bias[l]);
    }
    return NN_OK;
}

nn_code nn_mlp_init_params(nn_mlp *m, uint64_t seed, nn_init_kind kind, nn_error *err) {
    if (nn_init_is_numpy(kind)) {
        nn_mt19937 mt;
        nn_code c = nn_init_numpy_seed(&mt, seed, err);
        return c ? c : nn_mlp_init_params_numpy(m, &mt, kind, err);
    }
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    return nn_mlp_init_params_rng(m, &rng, kind, err);
}

nn_code nn_mlp_set_layer(nn_mlp *m, size_t l, const float *W, size_t w_len, const float *b,
                         size_t b_len, nn_error *err) {
    if (!m || !m->params) return nn_fail(err, NN_INVALID, "weights", "model missing");
    if (l >= m->num_layers)
        return nn_fail(err, NN_INVALID, "weights", "the MLP has %zu layers, got weights for layer %zu",
                       m->num_layers, l);
    size_t in = m->in_size[l], out = m->out_size[l];
    if (!W || w_len != in * out)
        return nn_fail(err, NN_INVALID, nn_mlp_field("weight", l),
                       "weights[%zu].weight must have shape [%zu, %zu] (%zu values, got %zu)", l, in,
                       out, in * out, W ? w_len : 0);
    if (b && b_len != out)
        return nn_fail(err, NN_INVALID, nn_mlp_field("bias", l),
                       "weights[%zu].bias must have %zu values (got %zu)", l, out, b_len);
    memcpy(m->weight[l], W, in * out * sizeof(float));
    if (b) memcpy(m->bias[l], b, out * sizeof(float));
    else memset(m->bias[l], 0, out * sizeof(float));
    return NN_OK;
}

nn_code nn_mlp_forward(nn_mlp *m, const float *x, nn_error *err) {
    if (!m || !m->params) return nn_fail(err, NN_INVALID, "input", "model missing");
    if (!x) return nn_fail(err, NN_INVALID, "input", "input missing");
    const float *h = x;
    for (size_t l = 0; l < m->num_layers; l++) {
        size_t in = m->in_size[l], out = m->out_size[l];
        nn_linear_forward(m->pre[l], h, m->weight[l], m->bias[l], in, out);
        if (l + 1 < m->num_layers) nn_act_forward(m->out[l], m->pre[l], out, m->cfg.act);
        h = m->out[l];
    }
    nn_softmax_forward(m->probs, m->logits, m->cfg.output_size);
    return NN_OK;
}

nn_code nn_mlp_backward(nn_mlp *m, float *grads, float *dx, const float *dlogits, const float *x,
                        float *scratch, nn_error *err) {
    if (!m || !m->params || !x || !dlogits) return nn_fail(err, NN_INVALID, "input", "model or input missing");
    if (!grads) return nn_fail(err, NN_INVALID, "grads", "gradient buffer missing");
    if (!scratch) return nn_fail(err, NN_INVALID, "scratch", "scratch buffer missing");
    size_t width = 0;
    for (size_t l = 0; l < m->num_layers; l++)
        if (m->out_size[l] > width) width = m->out_size[l];
    float *dcur = scratch, *dnext = scratch + width;
    memcpy(dcur, dlogits, m->out_size[m->num_layers - 1] * sizeof(float));
    for (size_t l = m->num_layers; l-- > 0;) {
        size_t in = m->in_size[l], out = m->out_size[l];
        float *gW = grads + (m->weight[l] - m->params), *gb = grads + (m->bias[l] - m->params);
        if (l + 1 < m->num_layers) {
            /* dcur is d(out[l]); turn it into d(pre[l]) in dnext, then swap. */
            memset(dnext, 0, out * sizeof(float));
            nn_act_backward(dnext, dcur, m->pre[l], out, m->cfg.act);
            float *t = dcur; dcur = dnext; dnext = t;
        }
        const float *h = l == 0 ? x : m->out[l - 1];
        float *din = NULL;
        if (l > 0) {
            din = dnext;
            memset(din, 0, in * sizeof(float));
        } else {
            din = dx;
        }
        nn_linear_backward(din, gW, gb, dcur, h, m->weight[l], in, out);
        if (l > 0) { float *t = dcur; dcur = dnext; dnext = t; }
    }
    return NN_OK;
}
