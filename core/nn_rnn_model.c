/* nn_rnn_model.c — one recurrent layer + linear head, one allocation; see nn_rnn_model.h. */
#include "nn_rnn_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nn_rnn_fast.h"
#include "nn_rnn_head.h"

nn_code nn_rnn_kind_parse(const char *name, nn_rnn_kind *out, nn_error *err) {
    if (!name) return nn_fail(err, NN_INVALID, "model", "model must be a string");
    if (!strcasecmp(name, "rnn") || !strcasecmp(name, "elman")) *out = NN_RNN_ELMAN;
    else if (!strcasecmp(name, "lstm")) *out = NN_RNN_LSTM;
    else if (!strcasecmp(name, "gru")) *out = NN_RNN_GRU;
    else return nn_fail(err, NN_INVALID, "model", "unknown model '%.40s' (rnn, lstm, gru)", name);
    return NN_OK;
}

const char *nn_rnn_kind_name(nn_rnn_kind kind) {
    switch (kind) {
    case NN_RNN_ELMAN: return "rnn";
    case NN_RNN_LSTM: return "lstm";
    case NN_RNN_GRU: return "gru";
    }
    return "?";
}

size_t nn_rnn_kind_gates(nn_rnn_kind kind) {
    switch (kind) {
    case NN_RNN_ELMAN: return 1;
    case NN_RNN_LSTM: return 4;
    case NN_RNN_GRU: return 3;
    }
    return 0;
}

static const char *const param_names[NN_RNN_NPARAMS] = {
    "weight_ih", "weight_hh", "bias_ih", "bias_hh", "fc.weight", "fc.bias",
};

const char *nn_rnn_param_name(int p) {
    return p >= 0 && p < NN_RNN_NPARAMS ? param_names[p] : NULL;
}

size_t nn_rnn_param_shape(nn_rnn_kind kind, size_t I, size_t H, int p, size_t shape[2],
                          size_t *ndim) {
    size_t gh;
    if (nn_size_mul(nn_rnn_kind_gates(kind), H, &gh)) return 0;
    size_t nd = 1;
    switch (p) {
    case NN_RNN_W_IH: shape[0] = gh; shape[1] = I; nd = 2; break;
    case NN_RNN_W_HH: shape[0] = gh; shape[1] = H; nd = 2; break;
    case NN_RNN_B_IH:
    case NN_RNN_B_HH: shape[0] = gh; break;
    case NN_RNN_FC_W: shape[0] = 1; shape[1] = H; nd = 2; break;
    case NN_RNN_FC_B: shape[0] = 1; break;
    default: return 0;
    }
    if (ndim) *ndim = nd;
    size_t n;
    if (nn_size_prod(shape, nd, &n)) return 0;
    return n;
}

nn_code nn_rnn_model_init(nn_rnn_model *m, nn_rnn_kind kind, size_t input, size_t hidden,
                          size_t max_len, nn_error *err) {
    memset(m, 0, sizeof *m);
    if ((unsigned)kind > NN_RNN_GRU) return nn_fail(err, NN_INVALID, "model", "unknown model");
    if (input == 0) return nn_fail(err, NN_INVALID, "input", "input size must be >= 1");
    if (hidden == 0) return nn_fail(err, NN_INVALID, "hidden_size", "hidden_size must be >= 1");
    if (max_len == 0) return nn_fail(err, NN_INVALID, "max_length", "max_length must be >= 1");
    size_t G = nn_rnn_kind_gates(kind);
    size_t numel[NN_RNN_NPARAMS], shape[2], nparams = 0;
    for (int p = 0; p < NN_RNN_NPARAMS; p++) {
        numel[p] = nn_rnn_param_shape(kind, input, hidden, p, shape, NULL);
        if (numel[p] == 0 || nn_size_add(nparams, numel[p], &nparams))
            return nn_fail(err, NN_TOO_LARGE, "hidden_size", "hidden_size is too large");
    }
    /* doubles: 4 * nparams + 4 * max_len*H (h, c, aux, dh) + max_len*G*H + 16*H (scratch) */
    size_t th, tgh, gh, total, a, b;
    if (nn_size_mul(max_len, hidden, &th) || nn_size_mul(G, hidden, &gh) ||
        nn_size_mul(max_len, gh, &tgh) || nn_size_mul(4, nparams, &a) ||
        nn_size_mul(4, th, &b) || nn_size_add(a, b, &total) || nn_size_add(total, tgh, &total) ||
        nn_size_mul(NN_RNN_FAST_SCRATCH(1), hidden, &a) || nn_size_add(total, a, &total) ||
        nn_size_mul(total, sizeof(double), &b))
        return nn_fail(err, NN_TOO_LARGE, "hidden_size", "hidden_size * max_length is too large");
    double *block = calloc(total, sizeof(double));
    if (!block) return nn_fail(err, NN_NOMEM, "hidden_size", "out of memory for the model");
    m->kind = kind;
    m->input = input;
    m->hidden = hidden;
    m->gates = G;
    m->max_len = max_len;
    m->nparams = nparams;
    m->block = block;
    double *q = block;
    m->params = q; q += nparams;
    m->grads = q; q += nparams;
    m->adam_m = q; q += nparams;
    m->adam_v = q; q += nparams;
    size_t off = 0;
    for (int p = 0; p < NN_RNN_NPARAMS; p++) {
        m->numel[p] = numel[p];
        m->p[p] = m->params + off;
        m->g[p] = m->grads + off;
        off += numel[p];
    }
    m->h = q; q += th;
    m->c = q; q += th;
    m->aux = q; q += th;
    m->dh = q; q += th;
    m->gate = q; q += tgh;
    m->scratch = q;
    return NN_OK;
}

void nn_rnn_model_free(nn_rnn_model *m) {
    if (!m) return;
    free(m->block);
    memset(m, 0, sizeof *m);
}

/* Parameters held transposed: W_IH [I, G*H] and W_HH [H, G*H] for PyTorch's [G*H, I], [G*H, H]. */
static size_t torch_cols(const nn_rnn_model *m, int p) {
    return p == NN_RNN_W_IH ? m->input : p == NN_RNN_W_HH ? m->hidden : 0;
}

void nn_rnn_model_set_param(nn_rnn_model *m, int p, const double *src) {
    size_t cols = torch_cols(m, p), rows = m->gates * m->hidden;
    if (!cols) {
        memcpy(m->p[p], src, m->numel[p] * sizeof *src);
        return;
    }
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) m->p[p][c * rows + r] = src[r * cols + c];
}

void nn_rnn_model_get_param(const nn_rnn_model *m, int p, double *dst) {
    size_t cols = torch_cols(m, p), rows = m->gates * m->hidden;
    if (!cols) {
        memcpy(dst, m->p[p], m->numel[p] * sizeof *dst);
        return;
    }
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) dst[r * cols + c] = m->p[p][c * rows + r];
}

void nn_rnn_model_init_uniform(nn_rnn_model *m, nn_rng *rng) {
    double a = 1.0 / sqrt((double)m->hidden);
    for (int p = 0; p < NN_RNN_NPARAMS; p++) {
        size_t cols = torch_cols(m, p), rows = m->gates * m->hidden;
        if (!cols) {
            for (size_t i = 0; i < m->numel[p]; i++) m->p[p][i] = (2.0 * nn_rng_uniform(rng) - 1.0) * a;
            continue;
        }
        for (size_t r = 0; r < rows; r++) /* PyTorch's order, stored transposed */
            for (size_t c = 0; c < cols; c++)
                m->p[p][c * rows + r] = (2.0 * nn_rng_uniform(rng) - 1.0) * a;
    }
}

void nn_rnn_model_zero_grad(nn_rnn_model *m) { memset(m->grads, 0, m->nparams * sizeof *m->grads); }

double nn_rnn_model_forward(nn_rnn_model *m, const double *x, size_t T) {
    size_t I = m->input, H = m->hidden;
    double *const *p = m->p;
    switch (m->kind) {
    case NN_RNN_ELMAN:
        nn_rnn_fast_forward(m->h, x, p[NN_RNN_W_IH], p[NN_RNN_W_HH], p[NN_RNN_B_IH],
                            p[NN_RNN_B_HH], T, I, H, m->scratch);
        break;
    case NN_RNN_LSTM:
        nn_lstm_fast_forward(m->h, m->c, m->gate, m->aux, x, p[NN_RNN_W_IH], p[NN_RNN_W_HH],
                             p[NN_RNN_B_IH], p[NN_RNN_B_HH], T, I, H, m->scratch);
        break;
    case NN_RNN_GRU:
        nn_gru_fast_forward(m->h, m->gate, m->aux, x, p[NN_RNN_W_IH], p[NN_RNN_W_HH],
                            p[NN_RNN_B_IH], p[NN_RNN_B_HH], T, I, H, m->scratch);
        break;
    }
    m->last_len = T;
    double y;
    nn_rnn_head_forward(&y, m->h + (T - 1) * H, p[NN_RNN_FC_W], p[NN_RNN_FC_B], H, 1);
    return y;
}

/* The backward of the last forward; dh_seq [T, H] (may be m->dh) receives dL/dh_t, or NULL. */
static void backward(nn_rnn_model *m, const double *x, double dpred, double *dh_seq) {
    size_t I = m->input, H = m->hidden, T = m->last_len;
    double *const *p = m->p;
    double *const *g = m->g;
    /* Only the last hidden state feeds the head: dh holds dL/dh_{T-1}. */
    memset(m->dh, 0, H * sizeof *m->dh);
    nn_rnn_head_backward(m->dh, g[NN_RNN_FC_W], g[NN_RNN_FC_B], &dpred, m->h + (T - 1) * H,
                         p[NN_RNN_FC_W], H, 1);
    switch (m->kind) {
    case NN_RNN_ELMAN:
        nn_rnn_fast_backward(g[NN_RNN_W_IH], g[NN_RNN_W_HH], g[NN_RNN_B_IH], g[NN_RNN_B_HH],
                             dh_seq, m->dh, m->h, x, p[NN_RNN_W_HH], T, I, H, m->scratch);
        break;
    case NN_RNN_LSTM:
        nn_lstm_fast_backward(g[NN_RNN_W_IH], g[NN_RNN_W_HH], g[NN_RNN_B_IH], g[NN_RNN_B_HH],
                              dh_seq, m->dh, x, m->h, m->c, m->gate, m->aux, p[NN_RNN_W_HH], T,
                              I, H, m->scratch);
        break;
    case NN_RNN_GRU:
        nn_gru_fast_backward(g[NN_RNN_W_IH], g[NN_RNN_W_HH], g[NN_RNN_B_IH], g[NN_RNN_B_HH],
                             dh_seq, m->dh, x, m->h, m->gate, m->aux, p[NN_RNN_W_HH], T, I, H,
                             m->scratch);
        break;
    }
}

void nn_rnn_model_backward(nn_rnn_model *m, const double *x, double dpred) {
    backward(m, x, dpred, NULL);
}

void nn_rnn_model_backward_dh(nn_rnn_model *m, const double *x, double dpred) {
    backward(m, x, dpred, m->dh);
}
