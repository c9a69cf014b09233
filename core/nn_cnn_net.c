/* nn_cnn_net.c — the trainable CNN; see nn_cnn_net.h.
 *
 * The layer list is expanded into ops (an MLP into its linear layers) and every buffer is laid
 * out in one block, each 64-byte aligned: parameters, gradients, optimiser state, the input
 * batch, each op's output batch (and a max pooling's argmax), two gradient buffers, the
 * probabilities and the targets. The ops themselves are the batched kernels of nn_conv_batch.h,
 * nn_pool_batch.h, nn_linear.h and nn_loss.h. */
#include "nn_cnn_net.h"

#include <stdlib.h>
#include <string.h>

#include "nn_conv_batch.h"
#include "nn_linear.h"
#include "nn_loss.h"
#include "nn_pool_batch.h"
#include "nn_rng.h"
#include "nn_softmax.h"

#define ALIGN 64

static size_t align_up(size_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

/* ---- layout ------------------------------------------------------------------------------ */

/* Fill net->ops (shapes only) from the specs, whose output shapes nn_cnn_validate computed. */
static nn_code expand(nn_cnn_net *net, const nn_layer_spec *specs, size_t n, const nn_cnn_info *info,
                      nn_error *err) {
    size_t in[3] = {net->in_h, net->in_w, net->in_c}, in_len = net->in_len, k = 0;
    for (size_t i = 0; i < n; i++) {
        const nn_layer_spec *s = &specs[i];
        size_t nlin = s->type == NN_LAYER_MLP ? s->mlp.hidden_layers + 1 : 1;
        int drawn = (s->type == NN_LAYER_CONV && !s->kernels && nn_init_is_numpy(s->init)) ||
                    (s->type == NN_LAYER_MLP && !s->mlp_weight[0] && nn_init_is_numpy(s->mlp_init));
        if (drawn)
            return nn_fail(err, NN_INVALID, nn_cnn_field(i, "init"),
                           "architecture[%zu]: a trained net draws its weights from its seed (he, xavier, "
                           "uniform, he_normal), not from NumPy's generator", i);
        if (k + nlin > NN_NET_MAX_OPS)
            return nn_fail(err, NN_TOO_LARGE, nn_cnn_field(i, "hidden_layers"),
                           "the net has more than %d steps (conv, pool and linear layers)", NN_NET_MAX_OPS);
        for (size_t l = 0; l < nlin; l++, k++) {
            nn_net_op *op = &net->ops[k];
            memset(op, 0, sizeof *op);
            op->layer = i;
            memcpy(op->in_shape, in, sizeof in);
            op->in_len = in_len;
            if (s->type == NN_LAYER_MLP) {
                op->type = NN_OP_LINEAR;
                op->in_shape[0] = in_len;
                op->out_len = l < s->mlp.hidden_layers ? s->mlp.hidden_sizes[l] : s->mlp.output_size;
                op->out_shape[0] = op->out_len;
                op->act = l < s->mlp.hidden_layers ? s->mlp.act : (nn_activation){NN_ACT_IDENTITY, 0.0f};
            } else {
                op->type = s->type == NN_LAYER_CONV ? NN_OP_CONV : s->type == NN_LAYER_POOL ? NN_OP_POOL : NN_OP_GLOBAL_POOL;
                memcpy(op->out_shape, info->out_shape[i], sizeof op->out_shape);
                op->out_len = 1;
                for (size_t d = 0; d < info->out_ndim[i]; d++) op->out_len *= info->out_shape[i][d];
                op->filters = s->filters;
                op->kh = s->size_h;
                op->kw = s->size_w;
                op->conv = s->conv;
                op->pool = s->pool;
            }
            memcpy(in, op->out_shape, sizeof in);
            in_len = op->out_len;
        }
    }
    net->num_ops = k;
    net->classes = in_len;
    return NN_OK;
}

static size_t op_weights(const nn_net_op *op) {
    if (op->type == NN_OP_CONV) return op->filters * op->kh * op->kw * op->in_shape[2];
    if (op->type == NN_OP_LINEAR) return op->in_len * op->out_len;
    return 0;
}

static size_t op_biases(const nn_net_op *op) {
    return op->type == NN_OP_CONV ? op->filters : op->type == NN_OP_LINEAR ? op->out_len : 0;
}

static int op_argmax(const nn_net_op *op) {
    return (op->type == NN_OP_POOL || op->type == NN_OP_GLOBAL_POOL) && op->pool.kind == NN_POOL_MAX;
}

/* Point every buffer into base (or, with base NULL, only count): returns the block's bytes.
 * The shapes were validated, so with batch and parameter counts below SIZE_MAX / 64 (checked
 * by the caller) nothing overflows. */
static size_t bind(nn_cnn_net *net, char *base) {
    size_t off = 0, B = net->batch, biggest = net->in_len;
#define TAKE(ptr, type, count)                                                                      \
    do {                                                                                           \
        if (base) (ptr) = (type *)(void *)(base + off);                                            \
        off += align_up((count) * sizeof(type));                                                   \
    } while (0)
    size_t P = 0;
    for (size_t k = 0; k < net->num_ops; k++)
        P += align_up(op_weights(&net->ops[k]) * 4) / 4 + align_up(op_biases(&net->ops[k]) * 4) / 4;
    net->num_params = P;
    TAKE(net->params, float, P);
    TAKE(net->grads, float, P);
    TAKE(net->opt_state, float, nn_optim_state_floats(&net->opt, P));
    TAKE(net->input, float, B * net->in_len);
    size_t p = 0;
    for (size_t k = 0; k < net->num_ops; k++) {
        nn_net_op *op = &net->ops[k];
        if (base && op_weights(op)) {
            op->w = net->params + p;
            op->dw = net->grads + p;
            p += align_up(op_weights(op) * 4) / 4;
            op->b = net->params + p;
            op->db = net->grads + p;
            p += align_up(op_biases(op) * 4) / 4;
        }
        TAKE(op->out, float, B * op->out_len);
        if (op_argmax(op)) TAKE(op->argmax, uint32_t, B * op->out_len);
        if (op->out_len > biggest) biggest = op->out_len;
    }
    TAKE(net->gbuf[0], float, B * biggest);
    TAKE(net->gbuf[1], float, B * biggest);
    TAKE(net->probs, float, B * net->classes);
    TAKE(net->targets, int32_t, B);
    TAKE(net->labels, uint8_t, B);
    TAKE(net->pred, uint8_t, B);
#undef TAKE
    if (base) net->logits = net->ops[net->num_ops - 1].out;
    return off;
}

/* The convolution and linear scratch for a full batch. */
static nn_code scratch_bytes(const nn_cnn_net *net, size_t *bytes, nn_error *err) {
    size_t most = 0;
    for (size_t k = 0; k < net->num_ops; k++) {
        const nn_net_op *op = &net->ops[k];
        size_t b = 0;
        nn_code c = NN_OK;
        if (op->type == NN_OP_CONV)
            c = nn_conv_batch_workspace_size(net->batch, op->in_shape[0], op->in_shape[1], op->in_shape[2],
                                             op->filters, op->kh, op->kw, &op->conv, &b, err);
        else if (op->type == NN_OP_LINEAR)
            c = nn_linear_workspace_size(net->batch, op->in_len, op->out_len, &b, err);
        if (c) return c;
        if (b > most) most = b;
    }
    *bytes = most;
    return NN_OK;
}

/* One image's forward and backward work (work-budget units): convolutions and linear layers at
 * their flops, the backward twice the forward (dx and dW); pooling at the batched kernels' own
 * counts (nn_pool_batch.h), which for large max windows are several times /cnn's count. */
static void train_work(nn_cnn_net *net) {
    double pool_inference = 0.0, fwd = 0.0, bwd = 0.0;
    for (size_t k = 0; k < net->num_ops; k++) {
        const nn_net_op *op = &net->ops[k];
        const size_t *in = op->in_shape, *out = op->out_shape;
        int am = op_argmax(op);
        if (op->type == NN_OP_POOL) {
            pool_inference += nn_pool_work(out[0], out[1], in[2], &op->pool);
            fwd += nn_pool_batch_forward_work(out[0], out[1], in[2], &op->pool, am);
            bwd += nn_pool_batch_backward_work(out[0], out[1], in[2], &op->pool, am);
        } else if (op->type == NN_OP_GLOBAL_POOL) {
            pool_inference += nn_global_pool_work(in[0], in[1], in[2]);
            fwd += nn_global_pool_batch_forward_work(in[0], in[1], in[2], op->pool.kind, am);
            bwd += nn_global_pool_batch_backward_work(in[0], in[1], in[2], op->pool.kind, am);
        }
    }
    double rest = net->flops_forward - pool_inference;
    net->work_forward = rest + fwd;
    net->work_backward = 2.0 * rest + bwd;
}

/* Validate and lay out (no allocation): net's shapes, ops and sizes are set. */
static nn_code layout(nn_cnn_net *net, const nn_layer_spec *specs, size_t n, size_t H, size_t W, size_t C,
                      size_t batch, const nn_optim *opt, size_t *block, size_t *scratch, nn_error *err) {
    nn_cnn_info info;
    nn_code c = nn_cnn_validate(specs, n, H, W, C, &info, err);
    if (c) return c;
    if (batch == 0) return nn_fail(err, NN_INVALID, "batch_size", "batch_size must be >= 1");
    net->num_layers = n;
    net->in_h = H;
    net->in_w = W;
    net->in_c = C;
    net->in_len = H * W * C;
    net->batch = batch;
    net->opt = *opt;
    net->opt.step = 0;
    net->flops_forward = info.flops;
    if ((c = expand(net, specs, n, &info, err))) return c;
    train_work(net);
    if (net->classes < 2)
        return nn_fail(err, NN_INVALID, "architecture",
                       "the last layer gives %zu value per image; a classifier needs one per class (>= 2)", net->classes);
    /* every buffer is at most batch x (the largest of the validated counts): bound them */
    size_t most = info.num_params > info.num_acts ? info.num_params : info.num_acts;
    if (batch > SIZE_MAX / 64 / (most + 1) / 8)
        return nn_fail(err, NN_TOO_LARGE, "batch_size", "batch_size %zu is too large for this net", batch);
    *block = bind(net, NULL);
    return scratch_bytes(net, scratch, err);
}

nn_code nn_cnn_net_plan(const nn_layer_spec *specs, size_t n, size_t H, size_t W, size_t C,
                        size_t batch, const nn_optim *opt, size_t *bytes, double work[2],
                        size_t *classes, nn_error *err) {
    nn_cnn_net *net = calloc(1, sizeof *net);
    if (!net) return nn_fail(err, NN_NOMEM, "architecture", "out of memory");
    size_t block = 0, scratch = 0;
    nn_code c = layout(net, specs, n, H, W, C, batch, opt, &block, &scratch, err);
    if (!c) {
        if (bytes) *bytes = block + scratch;
        if (work) {
            work[0] = net->work_forward;
            work[1] = net->work_backward;
        }
        if (classes) *classes = net->classes;
    }
    free(net);
    return c;
}

/* ---- parameters -------------------------------------------------------------------------- */

/* Given weights copied, the rest drawn from rng in layer order; biases zero unless given. */
static nn_code init_params(nn_cnn_net *net, const nn_layer_spec *specs, uint64_t seed, nn_error *err) {
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (size_t k = 0; k < net->num_ops; k++) {
        nn_net_op *op = &net->ops[k];
        const nn_layer_spec *s = &specs[op->layer];
        size_t nw = op_weights(op), nb = op_biases(op);
        if (!nw) continue;
        size_t l = 0;
        while (k - l > 0 && net->ops[k - l - 1].layer == op->layer) l++; /* linear layer l of its MLP */
        const float *w = op->type == NN_OP_CONV ? s->kernels : s->mlp_weight[l];
        const float *b = op->type == NN_OP_CONV ? s->bias : s->mlp_bias[l];
        nn_init_kind kind = op->type == NN_OP_CONV ? s->init : s->mlp_init;
        size_t fan_in = op->type == NN_OP_CONV ? op->kh * op->kw * op->in_shape[2] : op->in_len;
        size_t fan_out = op->type == NN_OP_CONV ? op->filters * op->kh * op->kw : op->out_len;
        if (w) memcpy(op->w, w, nw * sizeof *w);
        else {
            nn_code c = nn_init_fill(op->w, nw, fan_in, fan_out, kind, &rng, err);
            if (c) return c;
        }
        if (b) memcpy(op->b, b, nb * sizeof *b);
    }
    return NN_OK;
}

void nn_cnn_net_free(nn_cnn_net *net) {
    if (!net) return;
    free(net->memory);
    nn_workspace_free(&net->ws);
    memset(net, 0, sizeof *net);
}

nn_code nn_cnn_net_create(nn_cnn_net *net, const nn_layer_spec *specs, size_t n, size_t H,
                          size_t W, size_t C, size_t batch, const nn_optim *opt,
                          uint64_t seed, nn_error *err) {
    if (!net || !opt) return nn_fail(err, NN_INVALID, "architecture", "net or optimiser missing");
    memset(net, 0, sizeof *net);
    nn_code c = nn_optim_validate(opt, err);
    size_t block = 0, scratch = 0;
    if (!c) c = layout(net, specs, n, H, W, C, batch, opt, &block, &scratch, err);
    if (c) return c;
    void *mem = NULL;
    if (posix_memalign(&mem, ALIGN, block) != 0 || !mem)
        return nn_fail(err, NN_NOMEM, "architecture", "cannot allocate the net (%zu bytes)", block);
    memset(mem, 0, block); /* zero biases and optimiser state; every page touched now */
    net->memory = mem;
    net->bytes = block;
    bind(net, mem);
    for (size_t i = 0; i < n; i++) {
        net->specs[i] = specs[i];
        net->specs[i].kernels = net->specs[i].bias = NULL;
        memset(net->specs[i].mlp_weight, 0, sizeof net->specs[i].mlp_weight);
        memset(net->specs[i].mlp_bias, 0, sizeof net->specs[i].mlp_bias);
    }
    if ((c = init_params(net, specs, seed, err)) || (c = nn_workspace_reserve(&net->ws, scratch, err))) {
        nn_cnn_net_free(net);
        return c;
    }
    return NN_OK;
}

/* ---- forward and backward ---------------------------------------------------------------- */

static nn_code op_forward(nn_cnn_net *net, nn_net_op *op, const float *x, size_t b, nn_error *err) {
    const size_t *s = op->in_shape;
    switch (op->type) {
    case NN_OP_CONV:
        return nn_conv_batch_forward(op->out, x, op->w, op->b, b, s[0], s[1], s[2], op->filters, op->kh, op->kw,
                                     &op->conv, &net->ws, err);
    case NN_OP_POOL:
        return nn_pool_batch_forward(op->out, op->argmax, x, b, s[0], s[1], s[2], &op->pool, err);
    case NN_OP_GLOBAL_POOL:
        return nn_global_pool_batch_forward(op->out, op->argmax, x, b, s[0], s[1], s[2], op->pool.kind, err);
    case NN_OP_LINEAR: {
        nn_code c = nn_linear_batch_forward(op->out, x, op->w, op->b, b, op->in_len, op->out_len, &net->ws, err);
        if (!c && op->act.kind != NN_ACT_IDENTITY) nn_act_forward(op->out, op->out, b * op->out_len, op->act);
        return c;
    }
    }
    return nn_fail(err, NN_INVALID, "architecture", "unknown op");
}

nn_code nn_cnn_net_forward(nn_cnn_net *net, size_t b, nn_error *err) {
    if (!net || !net->memory) return nn_fail(err, NN_INVALID, "architecture", "net missing");
    if (b == 0 || b > net->batch)
        return nn_fail(err, NN_INVALID, "batch_size", "batch of %zu images (1 to %zu)", b, net->batch);
    const float *x = net->input;
    for (size_t k = 0; k < net->num_ops; k++) {
        nn_code c = op_forward(net, &net->ops[k], x, b, err);
        if (c) return c;
        x = net->ops[k].out;
    }
    return NN_OK;
}

/* dx (NULL for the first op) += the input gradient of op given dy; the parameter gradients
 * are added into op->dw / op->db. dy may be overwritten (a linear layer's activation). */
static nn_code op_backward(nn_cnn_net *net, nn_net_op *op, float *dx, float *dy, const float *x, size_t b,
                           nn_error *err) {
    const size_t *s = op->in_shape;
    switch (op->type) {
    case NN_OP_CONV:
        return nn_conv_batch_backward(dx, op->dw, op->db, dy, op->out, x, op->w, b, s[0], s[1], s[2], op->filters,
                                      op->kh, op->kw, &op->conv, &net->ws, err);
    case NN_OP_POOL:
        return dx ? nn_pool_batch_backward(dx, dy, op->argmax, x, b, s[0], s[1], s[2], &op->pool, err) : NN_OK;
    case NN_OP_GLOBAL_POOL:
        return dx ? nn_global_pool_batch_backward(dx, dy, op->argmax, x, b, s[0], s[1], s[2], op->pool.kind, err)
                  : NN_OK;
    case NN_OP_LINEAR:
        if (op->act.kind != NN_ACT_IDENTITY) nn_act_grad_output(dy, dy, op->out, b * op->out_len, op->act);
        return nn_linear_batch_backward(dx, op->dw, op->db, dy, x, op->w, b, op->in_len, op->out_len, &net->ws, err);
    }
    return nn_fail(err, NN_INVALID, "architecture", "unknown op");
}

static nn_code set_targets(nn_cnn_net *net, size_t b, const uint8_t *labels, nn_error *err) {
    if (!labels) return nn_fail(err, NN_INVALID, "target", "labels missing");
    for (size_t i = 0; i < b; i++) {
        if (labels[i] >= net->classes)
            return nn_fail(err, NN_INVALID, "target", "label %u is not a class of this net (0 to %zu)", labels[i],
                           net->classes - 1);
        net->targets[i] = labels[i];
    }
    return NN_OK;
}

nn_code nn_cnn_net_loss(nn_cnn_net *net, size_t b, const uint8_t *labels, double *loss,
                        float *losses, size_t *correct, nn_error *err) {
    nn_code c = set_targets(net, b, labels, err);
    if (c) return c;
    if (losses)
        for (size_t i = 0; i < b; i++) {
            double li;
            if ((c = nn_softmax_ce(&li, NULL, NULL, net->logits + i * net->classes, net->targets + i, 1,
                                   net->classes, err)))
                return c;
            losses[i] = (float)li;
        }
    return nn_softmax_ce(loss, NULL, correct, net->logits, net->targets, b, net->classes, err);
}

/* The loss's gradient through every op into net->grads (overwritten); the mean loss and the
 * correct count of the batch on the way (either may be NULL). */
static nn_code backward(nn_cnn_net *net, size_t b, const uint8_t *labels, double *loss, size_t *correct,
                        nn_error *err) {
    nn_code c = set_targets(net, b, labels, err);
    if (c) return c;
    memset(net->grads, 0, net->num_params * sizeof *net->grads);
    float *dy = net->gbuf[0], *dx = net->gbuf[1];
    memset(dy, 0, b * net->classes * sizeof *dy);
    if ((c = nn_softmax_ce(loss, dy, correct, net->logits, net->targets, b, net->classes, err))) return c;
    for (size_t k = net->num_ops; k-- > 0;) {
        nn_net_op *op = &net->ops[k];
        const float *x = k ? net->ops[k - 1].out : net->input;
        float *d = k ? dx : NULL;
        if (d) memset(d, 0, b * op->in_len * sizeof *d);
        if ((c = op_backward(net, op, d, dy, x, b, err))) return c;
        float *t = dy;
        dy = dx;
        dx = t;
    }
    return NN_OK;
}

nn_code nn_cnn_net_backward(nn_cnn_net *net, size_t b, const uint8_t *labels, nn_error *err) {
    return backward(net, b, labels, NULL, NULL, err);
}

nn_code nn_cnn_net_update(nn_cnn_net *net, nn_error *err) {
    return nn_optim_step(&net->opt, net->params, net->grads, net->opt_state, net->num_params, err);
}

nn_code nn_cnn_net_train_step(nn_cnn_net *net, size_t b, const uint8_t *labels, double *loss,
                              size_t *correct, nn_error *err) {
    nn_code c = nn_cnn_net_forward(net, b, err);
    if (!c) c = backward(net, b, labels, loss, correct, err);
    if (!c) c = nn_cnn_net_update(net, err);
    return c;
}

nn_code nn_cnn_net_predict(nn_cnn_net *net, size_t b, uint8_t *pred, nn_error *err) {
    nn_code c = nn_cnn_net_forward(net, b, err);
    if (c) return c;
    size_t K = net->classes;
    for (size_t i = 0; i < b; i++) {
        const float *z = net->logits + i * K;
        nn_softmax_forward(net->probs + i * K, z, K);
        if (!pred) continue;
        size_t best = 0;
        for (size_t k = 1; k < K; k++)
            if (z[k] > z[best] || (z[k] != z[k] && z[best] == z[best])) best = k; /* NaN wins, as torch.argmax */
        pred[i] = (uint8_t)best;
    }
    return NN_OK;
}

/* ---- data in and weights out ------------------------------------------------------------- */

void nn_cnn_net_load(nn_cnn_net *net, const nn_imageset *set, const size_t *idx, size_t first,
                     size_t b) {
    size_t n = net->in_len;
    for (size_t i = 0; i < b; i++) {
        size_t src = idx ? idx[i] : first + i;
        float *dst = net->input + i * n;
        net->labels[i] = set->labels[src];
        if (set->images) {
            const uint8_t *p = set->images + src * n;
            for (size_t j = 0; j < n; j++) dst[j] = (float)p[j] / 255.0f;
        } else {
            memcpy(dst, set->pixels + src * n, n * sizeof *dst);
        }
    }
}

void nn_cnn_net_export(const nn_cnn_net *net, nn_layer_spec *specs) {
    for (size_t i = 0; i < net->num_layers; i++) specs[i] = net->specs[i];
    for (size_t k = 0, l = 0; k < net->num_ops; k++) {
        const nn_net_op *op = &net->ops[k];
        nn_layer_spec *s = &specs[op->layer];
        l = k && net->ops[k - 1].layer == op->layer ? l + 1 : 0;
        if (op->type == NN_OP_CONV) {
            s->kernels = op->w;
            s->kernels_len = op_weights(op);
            s->bias = op->b;
            s->bias_len = op->filters;
        } else if (op->type == NN_OP_LINEAR) {
            s->mlp_weight[l] = op->w;
            s->mlp_weight_len[l] = op_weights(op);
            s->mlp_bias[l] = op->b;
            s->mlp_bias_len[l] = op->out_len;
        }
    }
}
