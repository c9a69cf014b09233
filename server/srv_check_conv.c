/* srv_check_conv.c — POST /check/conv: a student's convolution against /conv's, and the classic
 * mistakes that reproduce it (srv_check.h).
 *
 * The reference y is computed exactly as /conv computes it (the same bits). The activation
 * mistakes and pixels left in 0–255 are elementwise functions of the output before its
 * activation, z, computed once when the first of them needs it (255·x ⋆ k + b = 255·(z − b) + b).
 * The plain window sum is the same for every kernel, so it costs one one-map convolution. Every
 * other mistake is one convolution with changed kernels, input or parameters. */
#include <stdlib.h>
#include <string.h>

#include "nn_conv.h"
#include "srv_budget.h"
#include "srv_check.h"
#include "srv_endpoints.h"
#include "srv_ops.h"
#include "srv_workspace.h"

typedef struct conv_check {
    srv_conv_op op;
    srv_tensor z;                /* [OH, OW, N] the reference before its activation (lazily) */
    srv_tensor y;                /* [OH, OW, N] the reference */
    const srv_limits *lim;
    const srv_tensor *answer;
} conv_check;

/* The variants of the mistakes that change the convolution's parameters. */
enum { ALT_PAD0, ALT_STRIDE1, ALT_PAD_SAME, ALT_PAD_CORNER };

/* y [OH', OW', N'] = the op's convolution of x [H, W, C] with k [N', KH, KW, C] under p. */
static int conv_into(const conv_check *cc, float *y, const float *x, size_t H, size_t W, size_t C,
                     const float *k, size_t N, const float *bias, const nn_conv_params *p, srv_err *e) {
    nn_error ne;
    nn_error_clear(&ne);
    const srv_tensor *kt = &cc->op.k;
    size_t ws_bytes;
    if (nn_conv_workspace_size(H, W, C, N, kt->shape[1], kt->shape[2], p, &ws_bytes, &ne) != NN_OK)
        return srv_fail_nn(e, &ne, NULL);
    nn_workspace *ws = srv_workspace_get(ws_bytes, cc->op.kfield, e);
    if (!ws) return -1;
    if (nn_conv2d_forward(y, x, k, bias, H, W, C, N, kt->shape[1], kt->shape[2], p, ws, &ne) != NN_OK)
        return srv_fail_nn(e, &ne, NULL);
    return 0;
}

static int conv_op_into(const conv_check *cc, float *y, const nn_conv_params *p, srv_err *e) {
    const srv_conv_op *op = &cc->op;
    return conv_into(cc, y, op->x.data, op->x.shape[0], op->x.shape[1], op->x.shape[2], op->k.data,
                     op->k.shape[0], op->bias, p, e);
}

/* ---- the mistakes -------------------------------------------------------------------------- */

/* kernel_ignored: y[., ., n] = act(bias[n] + the window's plain sum over KH, KW and C). */
static int ones_fill(void *ctx, const srv_check_cand *c, float *out, srv_err *e) {
    (void)c;
    const conv_check *cc = ctx;
    const srv_conv_op *op = &cc->op;
    size_t N = op->k.shape[0], pos = op->OH * op->OW;
    size_t kshape[4] = {1, op->k.shape[1], op->k.shape[2], op->k.shape[3]};
    srv_tensor ones = {0};
    if (srv_tensor_alloc(&ones, kshape, 4, cc->lim->max_tensor_elems, "kernel", e)) return -1;
    for (size_t i = 0; i < ones.n; i++) ones.data[i] = 1.0f;
    nn_conv_params p = op->p;
    p.act.kind = NN_ACT_IDENTITY;
    int rc = conv_into(cc, out, op->x.data, op->x.shape[0], op->x.shape[1], op->x.shape[2], ones.data, 1, NULL, &p, e);
    srv_tensor_free(&ones);
    /* Spread the one sum map over the N maps, from the end (out[i] is read before out[i*N] is written). */
    for (size_t i = pos; rc == 0 && i-- > 0;) {
        float s = out[i];
        for (size_t n = N; n-- > 0;) out[i * N + n] = nn_act_scalar(op->bias[n] + s, op->p.act);
    }
    return rc;
}

/* kernel_flipped: true convolution, every kernel turned by 180 degrees. */
static int flip_fill(void *ctx, const srv_check_cand *c, float *out, srv_err *e) {
    (void)c;
    const conv_check *cc = ctx;
    const srv_tensor *k = &cc->op.k;
    size_t N = k->shape[0], KH = k->shape[1], KW = k->shape[2], C = k->shape[3];
    srv_tensor f = {0};
    if (srv_tensor_alloc(&f, k->shape, 4, cc->lim->max_tensor_elems, "kernel", e)) return -1;
    for (size_t n = 0; n < N; n++)
        for (size_t ky = 0; ky < KH; ky++)
            for (size_t kx = 0; kx < KW; kx++)
                memcpy(f.data + ((n * KH + ky) * KW + kx) * C,
                       k->data + ((n * KH + (KH - 1 - ky)) * KW + (KW - 1 - kx)) * C, C * sizeof(float));
    const srv_tensor *x = &cc->op.x;
    int rc = conv_into(cc, out, x->data, x->shape[0], x->shape[1], x->shape[2], f.data, N, cc->op.bias, &cc->op.p, e);
    srv_tensor_free(&f);
    return rc;
}

static int flip_changes(const srv_tensor *k) {
    size_t N = k->shape[0], KH = k->shape[1], KW = k->shape[2], C = k->shape[3];
    for (size_t n = 0; n < N; n++)
        for (size_t ky = 0; ky < KH; ky++)
            for (size_t kx = 0; kx < KW; kx++)
                if (memcmp(k->data + ((n * KH + ky) * KW + kx) * C,
                           k->data + ((n * KH + (KH - 1 - ky)) * KW + (KW - 1 - kx)) * C, C * sizeof(float)))
                    return 1;
    return 0;
}

/* Channel c of a [.., C] array into a [..] one. */
static void take_channel(float *dst, const float *src, size_t n, size_t C, size_t c) {
    for (size_t i = 0; i < n; i++) dst[i] = src[i * C + c];
}

/* channels_not_summed: one map per (kernel, input channel): out [OH, OW, N, C]. */
static int channels_fill(void *ctx, const srv_check_cand *cand, float *out, srv_err *e) {
    (void)cand;
    const conv_check *cc = ctx;
    const srv_conv_op *op = &cc->op;
    size_t H = op->x.shape[0], W = op->x.shape[1], C = op->x.shape[2];
    size_t N = op->k.shape[0], KH = op->k.shape[1], KW = op->k.shape[2], pos = op->OH * op->OW;
    size_t xs[3] = {H, W, 1}, ks[4] = {N, KH, KW, 1}, ys[3] = {op->OH, op->OW, N};
    srv_tensor xc = {0}, kc = {0}, yc = {0};
    size_t lim = cc->lim->max_tensor_elems;
    int rc = -1;
    if (srv_tensor_alloc(&xc, xs, 3, lim, "input", e) || srv_tensor_alloc(&kc, ks, 4, lim, "kernel", e) ||
        srv_tensor_alloc(&yc, ys, 3, lim, "answer", e))
        goto done;
    for (size_t c = 0; c < C; c++) {
        take_channel(xc.data, op->x.data, H * W, C, c);
        take_channel(kc.data, op->k.data, N * KH * KW, C, c);
        if (conv_into(cc, yc.data, xc.data, H, W, 1, kc.data, N, op->bias, &op->p, e)) goto done;
        for (size_t i = 0; i < pos * N; i++) out[i * C + c] = yc.data[i];
    }
    rc = 0;
done:
    srv_tensor_free(&xc);
    srv_tensor_free(&kc);
    srv_tensor_free(&yc);
    return rc;
}

/* z, the reference before its activation, computed on first use. */
static int preactivation(conv_check *cc, srv_err *e) {
    if (cc->z.data) return 0;
    size_t shape[3] = {cc->op.OH, cc->op.OW, cc->op.k.shape[0]};
    if (srv_tensor_alloc(&cc->z, shape, 3, cc->lim->max_tensor_elems, "output", e)) return -1;
    nn_conv_params p = cc->op.p;
    p.act.kind = NN_ACT_IDENTITY;
    return conv_op_into(cc, cc->z.data, &p, e);
}

/* activation_missing (arg NN_ACT_IDENTITY) and wrong_activation (arg: the activation used). */
static int act_fill(void *ctx, const srv_check_cand *c, float *out, srv_err *e) {
    conv_check *cc = ctx;
    if (preactivation(cc, e)) return -1;
    nn_activation a = {(nn_act_kind)c->arg, cc->op.p.act.negative_slope};
    nn_act_forward(out, cc->z.data, cc->z.n, a);
    return 0;
}

/* not_normalised: pixels 0-255, i.e. 255 times every sum: act(255 (z - b) + b). */
static int raw_pixels_fill(void *ctx, const srv_check_cand *c, float *out, srv_err *e) {
    (void)c;
    conv_check *cc = ctx;
    if (preactivation(cc, e)) return -1;
    size_t N = cc->op.k.shape[0];
    for (size_t i = 0; i < cc->z.n; i++) {
        float b = cc->op.bias[i % N];
        out[i] = nn_act_scalar(255.0f * (cc->z.data[i] - b) + b, cc->op.p.act);
    }
    return 0;
}

/* The op's parameters with the mistake of variant v (ALT_PAD0, ALT_STRIDE1, ALT_PAD_SAME). */
static nn_conv_params alt_params(const srv_conv_op *op, int v) {
    nn_conv_params p = op->p;
    if (v == ALT_PAD0) p.pad_h = p.pad_w = 0;
    if (v == ALT_STRIDE1) p.stride_h = p.stride_w = 1;
    if (v == ALT_PAD_SAME) {
        p.pad_h = op->k.shape[1] / 2;
        p.pad_w = op->k.shape[2] / 2;
    }
    return p;
}

/* padding_missing, stride_ignored, padding_wrong ("same" padding). */
static int params_fill(void *ctx, const srv_check_cand *c, float *out, srv_err *e) {
    const conv_check *cc = ctx;
    nn_conv_params p = alt_params(&cc->op, c->arg);
    return conv_op_into(cc, out, &p, e);
}

/* padding_wrong: the image copied into the top-left corner of the padded array (every zero
 * row and column at the bottom and the right). */
static int corner_fill(void *ctx, const srv_check_cand *c, float *out, srv_err *e) {
    (void)c;
    const conv_check *cc = ctx;
    const srv_conv_op *op = &cc->op;
    size_t H = op->x.shape[0], W = op->x.shape[1], C = op->x.shape[2];
    size_t PH = H + 2 * op->p.pad_h, PW = W + 2 * op->p.pad_w, shape[3] = {PH, PW, C};
    srv_tensor xp = {0};
    if (srv_tensor_alloc(&xp, shape, 3, cc->lim->max_tensor_elems, "input", e)) return -1;
    for (size_t y = 0; y < H; y++) memcpy(xp.data + y * PW * C, op->x.data + y * W * C, W * C * sizeof(float));
    nn_conv_params p = op->p;
    p.pad_h = p.pad_w = 0;
    int rc = conv_into(cc, out, xp.data, PH, PW, C, op->k.data, op->k.shape[0], op->bias, &p, e);
    srv_tensor_free(&xp);
    return rc;
}

/* transposed: out [OW, OH, N] = the reference with H and W swapped. */
static int transpose_fill(void *ctx, const srv_check_cand *c, float *out, srv_err *e) {
    (void)c;
    (void)e;
    const conv_check *cc = ctx;
    srv_check_transpose_hw(out, cc->y.data, cc->op.OH, cc->op.OW, cc->op.k.shape[0]);
    return 0;
}

/* output_size_ceil: the answer has the rounded-up size [c->shape]; its first OH x OW block must
 * be the reference, whatever the extra row / column holds. */
static int ceil_fill(void *ctx, const srv_check_cand *c, float *out, srv_err *e) {
    (void)e;
    const conv_check *cc = ctx;
    srv_check_fill_block(out, cc->answer->data, c->shape[0], c->shape[1], cc->y.data, cc->op.OH, cc->op.OW,
                         cc->op.k.shape[0]);
    return 0;
}

/* ---- which mistakes apply ------------------------------------------------------------------- */

/* The output size for parameters p, or 0 when the mistake makes no output at all. */
static int alt_size(const srv_conv_op *op, const nn_conv_params *p, size_t shape[3]) {
    nn_error ne;
    nn_error_clear(&ne);
    const size_t *x = op->x.shape, *k = op->k.shape;
    shape[2] = k[0];
    return nn_conv_output_size(x[0], x[1], x[2], k[0], k[1], k[2], p, &shape[0], &shape[1], &ne) == NN_OK;
}

static double alt_flops(const srv_conv_op *op, const size_t shape[3]) {
    return nn_conv_flops(shape[0], shape[1], op->k.shape[0], op->k.shape[1], op->k.shape[2], op->k.shape[3]);
}

static int kernel_all_ones(const srv_tensor *k) {
    for (size_t i = 0; i < k->n; i++)
        if (k->data[i] != 1.0f) return 0;
    return 1;
}

static void add_kernel_mistakes(srv_check *chk, const srv_conv_op *op, const size_t y[3]) {
    size_t C = op->x.shape[2], N = op->k.shape[0];
    if (!kernel_all_ones(&op->k))
        srv_check_add(chk, "kernel_ignored", ones_fill, 0, op->flops / (double)N, y, 3,
                      "Your answer is the plain sum of each window: the kernel's weights were never "
                      "multiplied in. Each output is bias + the sum of x * k over the window and the "
                      "channels, not bias + the sum of x.");
    if (flip_changes(&op->k))
        srv_check_add(chk, "kernel_flipped", flip_fill, 0, op->flops, y, 3,
                      "Your answer is a true convolution (the kernel turned by 180 degrees). PyTorch "
                      "and this course use cross-correlation: slide the kernel as it is, "
                      "k[0][0] over the window's top-left pixel.");
    if (C > 1) {
        size_t s[4] = {y[0], y[1], N, C};
        srv_check_add(chk, "channels_not_summed", channels_fill, 0, op->flops, s, 4,
                      "Your answer has one map per input channel (%zu of them): the products must also "
                      "be summed over the channels, so each kernel gives one output map.", C);
    }
}

static void add_activation_mistakes(srv_check *chk, const srv_conv_op *op, const size_t y[3]) {
    static const nn_act_kind acts[] = {NN_ACT_RELU, NN_ACT_LEAKY_RELU, NN_ACT_SIGMOID, NN_ACT_TANH};
    const char *want = nn_act_name(op->p.act.kind);
    if (op->p.act.kind != NN_ACT_IDENTITY)
        srv_check_add(chk, "activation_missing", act_fill, NN_ACT_IDENTITY, 0, y, 3,
                      "Your answer is the value before the activation: apply %s to every output.", want);
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        if (acts[i] != op->p.act.kind)
            srv_check_add(chk, "wrong_activation", act_fill, (int)acts[i], 0, y, 3,
                          "Your answer used the activation %s instead of %s.", nn_act_name(acts[i]), want);
}

static void add_shape_mistakes(srv_check *chk, const srv_conv_op *op, const size_t y[3]) {
    const nn_conv_params *p = &op->p;
    size_t s[3], KH = op->k.shape[1], KW = op->k.shape[2];
    nn_conv_params q = alt_params(op, ALT_PAD0);
    if ((p->pad_h || p->pad_w) && alt_size(op, &q, s))
        srv_check_add(chk, "padding_missing", params_fill, ALT_PAD0, alt_flops(op, s), s, 3,
                      "Your answer has no zero padding: pad the input with %zu row(s) and %zu column(s) "
                      "of zeros on every side first.", p->pad_h, p->pad_w);
    q = alt_params(op, ALT_PAD_SAME);
    if ((q.pad_h != p->pad_h || q.pad_w != p->pad_w) && alt_size(op, &q, s))
        srv_check_add(chk, "padding_wrong", params_fill, ALT_PAD_SAME, alt_flops(op, s), s, 3,
                      "Your answer used \"same\" padding (%zu, %zu: the kernel's half) instead of the "
                      "padding asked for (%zu, %zu).", KH / 2, KW / 2, p->pad_h, p->pad_w);
    if (p->pad_h || p->pad_w)
        srv_check_add(chk, "padding_wrong", corner_fill, ALT_PAD_CORNER, op->flops, y, 3,
                      "Your answer put the image in the top-left corner of the padded array, so every "
                      "zero row and column is at the bottom and the right: put %zu zero row(s) above "
                      "and below and %zu column(s) left and right.", p->pad_h, p->pad_w);
    q = alt_params(op, ALT_STRIDE1);
    if ((p->stride_h > 1 || p->stride_w > 1) && alt_size(op, &q, s))
        srv_check_add(chk, "stride_ignored", params_fill, ALT_STRIDE1, alt_flops(op, s), s, 3,
                      "Your answer moves the window one pixel at a time: with stride (%zu, %zu) it "
                      "moves that many pixels, which gives %zu x %zu outputs, not %zu x %zu.",
                      p->stride_h, p->stride_w, y[0], y[1], s[0], s[1]);
}

/* ceil((n + 2p - k) / s) + 1. */
static size_t ceil_size(size_t n, size_t pad, size_t k, size_t s) { return (n + 2 * pad - k + s - 1) / s + 1; }

static void add_layout_mistakes(srv_check *chk, const srv_conv_op *op, const size_t y[3]) {
    const nn_conv_params *p = &op->p;
    size_t c[3] = {ceil_size(op->x.shape[0], p->pad_h, op->k.shape[1], p->stride_h),
                   ceil_size(op->x.shape[1], p->pad_w, op->k.shape[2], p->stride_w), y[2]};
    if (c[0] != y[0] || c[1] != y[1])
        srv_check_add(chk, "output_size_ceil", ceil_fill, 0, 0, c, 3,
                      "Your answer has %zu x %zu outputs: the size is floor((n + 2p - k) / s) + 1, "
                      "rounded down, which gives %zu x %zu (a window must fit inside the padded input).",
                      c[0], c[1], y[0], y[1]);
    size_t t[3] = {y[1], y[0], y[2]};
    srv_check_add(chk, "transposed", transpose_fill, 0, 0, t, 3,
                  "Your answer has H and W swapped (transposed): the layout is [H, W, C], rows first.");
    if (op->from_image)
        srv_check_add(chk, "not_normalised", raw_pixels_fill, 0, 0, y, 3,
                      "Your answer used the pixel values 0-255: divide the image by 255 first, so "
                      "every pixel is in [0, 1].");
}

/* ---- what the replays allocate ----------------------------------------------------------------- */

/* The convolution scratch of x [H, W, C] with N kernels of the op's size under p (0 when p gives
 * no output: such a candidate was never added). */
static size_t ws_for(const srv_conv_op *op, size_t H, size_t W, size_t C, size_t N, const nn_conv_params *p) {
    nn_error ne;
    nn_error_clear(&ne);
    size_t bytes = 0;
    return nn_conv_workspace_size(H, W, C, N, op->k.shape[1], op->k.shape[2], p, &bytes, &ne) == NN_OK ? bytes : 0;
}

/* What replaying c allocates, as its fill does: its temporaries (*elems in all, *largest the
 * biggest; the pre-activation z is counted by the caller, once) and the scratch of its
 * convolution (*ws). */
static void cand_needs(const srv_conv_op *op, const srv_check_cand *c, size_t *elems, size_t *largest, size_t *ws) {
    size_t H = op->x.shape[0], W = op->x.shape[1], C = op->x.shape[2];
    size_t N = op->k.shape[0], KH = op->k.shape[1], KW = op->k.shape[2];
    size_t t[3] = {0, 0, 0};
    nn_conv_params p = op->p;
    *ws = 0;
    if (c->fill == ones_fill) {
        t[0] = KH * KW * C;
        p.act.kind = NN_ACT_IDENTITY;
        *ws = ws_for(op, H, W, C, 1, &p);
    } else if (c->fill == flip_fill || c->fill == act_fill || c->fill == raw_pixels_fill) {
        if (c->fill == flip_fill) t[0] = N * KH * KW * C;
        *ws = ws_for(op, H, W, C, N, &p);
    } else if (c->fill == channels_fill) {
        t[0] = H * W, t[1] = N * KH * KW, t[2] = op->OH * op->OW * N;
        *ws = ws_for(op, H, W, 1, N, &p);
    } else if (c->fill == params_fill) {
        p = alt_params(op, c->arg);
        *ws = ws_for(op, H, W, C, N, &p);
    } else if (c->fill == corner_fill) {
        size_t PH = H + 2 * p.pad_h, PW = W + 2 * p.pad_w;
        t[0] = srv_budget_mul(srv_budget_mul(PH, PW), C);
        p.pad_h = p.pad_w = 0;
        *ws = ws_for(op, PH, PW, C, N, &p);
    }
    *elems = srv_budget_add(srv_budget_add(t[0], t[1]), t[2]);
    *largest = t[0] > t[1] ? (t[0] > t[2] ? t[0] : t[2]) : (t[1] > t[2] ? t[1] : t[2]);
}

/* Every replayed candidate's scratch, then the reservation (srv_check_reserve): the reference,
 * and the largest convolution scratch of all (one per thread, grown to the largest). */
static int reserve(const conv_check *cc, srv_check *chk, srv_err *e) {
    const srv_conv_op *op = &cc->op;
    size_t shape[3] = {op->OH, op->OW, op->k.shape[0]}, n = op->OH * op->OW * op->k.shape[0];
    size_t ws = ws_for(op, op->x.shape[0], op->x.shape[1], op->x.shape[2], op->k.shape[0], &op->p);
    int z_counted = 0;
    for (size_t i = 0; i < chk->ncand; i++) {
        srv_check_cand *c = &chk->cand[i];
        if (!srv_check_replays(chk, c)) continue;
        size_t elems, largest, cws;
        cand_needs(op, c, &elems, &largest, &cws);
        if ((c->fill == act_fill || c->fill == raw_pixels_fill) && !z_counted) { /* z, once */
            elems = srv_budget_add(elems, n);
            largest = largest > n ? largest : n;
            z_counted = 1;
        }
        c->scratch = srv_budget_mul(elems, SRV_BUDGET_PER_ELEMENT);
        c->scratch_elems = largest;
        if (cws > ws) ws = cws;
    }
    return srv_check_reserve(chk, cc->lim, n, shape, 3, ws, op->kfield, e);
}

/* ---- the endpoint ----------------------------------------------------------------------------- */

/* y = the reference, as /conv computes it (the same code path, the same bits). */
static int reference(conv_check *cc, srv_err *e) {
    size_t shape[3] = {cc->op.OH, cc->op.OW, cc->op.k.shape[0]};
    if (srv_tensor_alloc(&cc->y, shape, 3, cc->lim->max_tensor_elems, "output", e)) return -1;
    if (conv_op_into(cc, cc->y.data, &cc->op.p, e)) return -1;
    return srv_check_finite(cc->y.data, cc->y.n, "input", e);
}

/* The pre-activation that the activation and pixel-range mistakes share is one more pass. */
static void count_preactivation(srv_check *chk, double flops) {
    for (size_t i = 0; i < chk->ncand; i++)
        if (chk->cand[i].fill == act_fill || chk->cand[i].fill == raw_pixels_fill) {
            chk->flops += flops;
            return;
        }
}

int srv_check_conv(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e) {
    conv_check cc = {.lim = lim};
    srv_check chk = {0};
    if (srv_conv_parse(lim, req, srv_check_keys, &cc.op, e)) return -1;
    int rc = -1;
    if (srv_check_begin(lim, req, cc.op.flops, &chk, e)) goto done;
    cc.answer = &chk.answer;
    size_t y[3] = {cc.op.OH, cc.op.OW, cc.op.k.shape[0]};
    add_kernel_mistakes(&chk, &cc.op, y);
    add_activation_mistakes(&chk, &cc.op, y);
    add_shape_mistakes(&chk, &cc.op, y);
    add_layout_mistakes(&chk, &cc.op, y);
    count_preactivation(&chk, cc.op.flops);
    if (srv_check_afford(&chk, lim, cc.op.kfield, e)) goto done;
    if (reserve(&cc, &chk, e)) goto done;
    if (reference(&cc, e)) goto done;
    rc = srv_check_finish(&chk, &cc, cc.y.data, cc.y.shape, 3, lim, out, e);
done:
    srv_check_free(&chk);
    srv_conv_op_free(&cc.op);
    srv_tensor_free(&cc.z);
    srv_tensor_free(&cc.y);
    return rc;
}
