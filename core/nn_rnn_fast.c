/* nn_rnn_fast.c — recurrent cells for the training loop; see nn_rnn_fast.h.
 * Built with -O3 -fno-trapping-math (see the top Makefile) so gcc vectorizes the run-time-length
 * loops. */
#include "nn_rnn_fast.h"

#include <string.h>

#include "nn_cancel.h"
#include "nn_cpu.h"
#include "nn_rnn_math.h"

/* Each kernel body is written once (an always-inline *_impl) and instantiated four times: plain
 * (SSE2 on x86-64) and AVX2, picked by the SIMD level (nn_cpu.h), each generic and with the assignment's sizes
 * (I = 2, H = 6) as constants so those loops unroll completely. No FMA and no reassociation:
 * every element goes through the same IEEE operations in the same order in all four, so they
 * give bit-identical results on any machine. */
#if defined(__GNUC__)
#define NN_RNN_INLINE inline __attribute__((always_inline))
#else
#define NN_RNN_INLINE inline
#endif

/* y [n] = W x + b, W given transposed: wT [m, n], m >= 1. Axpy form: the inner loops run over
 * the n contiguous outputs (gate rows), so they vectorize. */
static NN_RNN_INLINE void affine_t(double *restrict y, const double *restrict wT,
                                   const double *restrict b, const double *restrict x, size_t n,
                                   size_t m) {
    double x0 = x[0];
    for (size_t j = 0; j < n; j++) y[j] = wT[j] * x0;
    for (size_t k = 1; k < m; k++) {
        const double *wk = wT + k * n;
        double xk = x[k];
        for (size_t j = 0; j < n; j++) y[j] += wk[j] * xk;
    }
    for (size_t j = 0; j < n; j++) y[j] += b[j];
}

/* gT [m, n] += x (x) da: the gradient of W (held transposed) for y = W x. */
static NN_RNN_INLINE void outer_add_t(double *restrict gT, const double *restrict x,
                                      const double *restrict da, size_t n, size_t m) {
    for (size_t k = 0; k < m; k++) {
        double *gk = gT + k * n;
        double xk = x[k];
        for (size_t j = 0; j < n; j++) gk[j] += xk * da[j];
    }
}

/* out [m] = W^T da, W given transposed: out[k] = wT[k, :] . da (nn_rnn_dot4: a fixed order of
 * four partial sums, so it vectorizes and gives the same bits on every instruction set). */
static NN_RNN_INLINE void matvec_t(double *restrict out, const double *restrict wT,
                                   const double *restrict da, size_t n, size_t m) {
    for (size_t k = 0; k < m; k++) out[k] = nn_rnn_dot4(wT + k * n, da, n);
}

static NN_RNN_INLINE void sigmoid_v(double *y, const double *a, size_t n) {
    nn_rnn_sigmoid_v(y, a, n);
}

static NN_RNN_INLINE void tanh_v(double *y, const double *a, size_t n) { nn_rnn_tanh_v(y, a, n); }

/* Whether to stop at time step t: the cancel flag (nn_cancel.h) is looked at every 64 steps, a
 * few milliseconds at the largest hidden size. */
static NN_RNN_INLINE int stop_at(size_t t) { return (t & 63) == 63 && nn_cancelled(); }

/* ---- Elman ---------------------------------------------------------------------------- */

static NN_RNN_INLINE void rnn_fwd(double *h, const double *x, const double *w_ihT,
                                  const double *w_hhT, const double *b_ih, const double *b_hh,
                                  size_t T, size_t I, size_t H, double *scratch) {
    double *gi = scratch, *gh = scratch + H, *zero = scratch + 2 * H;
    memset(zero, 0, H * sizeof *zero);
    for (size_t t = 0; t < T; t++) {
        if (stop_at(t)) return;
        const double *hp = t ? h + (t - 1) * H : zero;
        affine_t(gi, w_ihT, b_ih, x + t * I, H, I);
        affine_t(gh, w_hhT, b_hh, hp, H, H);
        for (size_t j = 0; j < H; j++) gi[j] += gh[j];
        tanh_v(h + t * H, gi, H);
    }
}

static NN_RNN_INLINE void rnn_bwd(double *dw_ihT, double *dw_hhT, double *db_ih, double *db_hh,
                                  double *dh_seq, const double *dh_last, const double *h,
                                  const double *x, const double *w_hhT, size_t T, size_t I,
                                  size_t H, double *scratch) {
    double *dhn = scratch, *da = scratch + H;
    memcpy(dhn, dh_last, H * sizeof *dhn);
    for (size_t t = T; t-- > 0;) {
        if (stop_at(t)) return;
        const double *ht = h + t * H;
        for (size_t j = 0; j < H; j++) da[j] = dhn[j] * (1.0 - ht[j] * ht[j]);
        outer_add_t(dw_ihT, x + t * I, da, H, I);
        if (dh_seq) memcpy(dh_seq + t * H, dhn, H * sizeof *dhn);
        for (size_t j = 0; j < H; j++) {
            db_ih[j] += da[j];
            db_hh[j] += da[j];
        }
        if (t == 0) break; /* h_{-1} = 0: no weight gradient, nothing flows further */
        outer_add_t(dw_hhT, h + (t - 1) * H, da, H, H);
        matvec_t(dhn, w_hhT, da, H, H);
    }
}

/* ---- LSTM ----------------------------------------------------------------------------- */

static NN_RNN_INLINE void lstm_fwd(double *h, double *c, double *gate, double *tc,
                                   const double *x, const double *w_ihT, const double *w_hhT,
                                   const double *b_ih, const double *b_hh, size_t T, size_t I,
                                   size_t H, double *scratch) {
    size_t G = 4 * H;
    double *gh = scratch, *zero = scratch + G;
    memset(zero, 0, H * sizeof *zero);
    for (size_t t = 0; t < T; t++) {
        if (stop_at(t)) return;
        const double *hp = t ? h + (t - 1) * H : zero;
        const double *cp = t ? c + (t - 1) * H : zero;
        double *gt = gate + t * G;
        affine_t(gt, w_ihT, b_ih, x + t * I, G, I);
        affine_t(gh, w_hhT, b_hh, hp, G, H);
        for (size_t j = 0; j < G; j++) gt[j] += gh[j];
        sigmoid_v(gt, gt, 2 * H);
        tanh_v(gt + 2 * H, gt + 2 * H, H);
        sigmoid_v(gt + 3 * H, gt + 3 * H, H);
        const double *ig = gt, *fg = gt + H, *gg = gt + 2 * H, *og = gt + 3 * H;
        double *ct = c + t * H, *tct = tc + t * H, *ht = h + t * H;
        for (size_t j = 0; j < H; j++) ct[j] = fg[j] * cp[j] + ig[j] * gg[j];
        tanh_v(tct, ct, H);
        for (size_t j = 0; j < H; j++) ht[j] = og[j] * tct[j];
    }
}

static NN_RNN_INLINE void lstm_bwd(double *dw_ihT, double *dw_hhT, double *db_ih,
                                   double *db_hh, double *dh_seq, const double *dh_last,
                                   const double *x, const double *h, const double *c,
                                   const double *gate, const double *tc, const double *w_hhT,
                                   size_t T, size_t I, size_t H, double *scratch) {
    size_t G = 4 * H;
    double *dhn = scratch, *dcn = scratch + H, *da = scratch + 2 * H, *zero = scratch + 6 * H;
    memcpy(dhn, dh_last, H * sizeof *dhn);
    memset(dcn, 0, H * sizeof *dcn);
    memset(zero, 0, H * sizeof *zero);
    for (size_t t = T; t-- > 0;) {
        if (stop_at(t)) return;
        const double *gt = gate + t * G, *tct = tc + t * H;
        const double *ig = gt, *fg = gt + H, *gg = gt + 2 * H, *og = gt + 3 * H;
        const double *cp = t ? c + (t - 1) * H : zero;
        double *dai = da, *daf = da + H, *dag = da + 2 * H, *dao = da + 3 * H;
        for (size_t j = 0; j < H; j++) {
            double dcj = dcn[j] + dhn[j] * og[j] * (1.0 - tct[j] * tct[j]);
            dai[j] = dcj * gg[j] * ig[j] * (1.0 - ig[j]);
            daf[j] = dcj * cp[j] * fg[j] * (1.0 - fg[j]);
            dag[j] = dcj * ig[j] * (1.0 - gg[j] * gg[j]);
            dao[j] = dhn[j] * tct[j] * og[j] * (1.0 - og[j]);
            dcn[j] = dcj * fg[j];
        }
        outer_add_t(dw_ihT, x + t * I, da, G, I);
        if (dh_seq) memcpy(dh_seq + t * H, dhn, H * sizeof *dhn);
        for (size_t j = 0; j < G; j++) {
            db_ih[j] += da[j];
            db_hh[j] += da[j];
        }
        if (t == 0) break;
        outer_add_t(dw_hhT, h + (t - 1) * H, da, G, H);
        matvec_t(dhn, w_hhT, da, G, H);
    }
}

/* ---- GRU ------------------------------------------------------------------------------ */

static NN_RNN_INLINE void gru_fwd(double *h, double *gate, double *hn, const double *x,
                                  const double *w_ihT, const double *w_hhT, const double *b_ih,
                                  const double *b_hh, size_t T, size_t I, size_t H,
                                  double *scratch) {
    size_t G = 3 * H;
    double *gi = scratch, *gh = scratch + G, *zero = scratch + 2 * G;
    memset(zero, 0, H * sizeof *zero);
    for (size_t t = 0; t < T; t++) {
        if (stop_at(t)) return;
        const double *hp = t ? h + (t - 1) * H : zero;
        double *gt = gate + t * G;
        affine_t(gi, w_ihT, b_ih, x + t * I, G, I);
        affine_t(gh, w_hhT, b_hh, hp, G, H);
        for (size_t j = 0; j < 2 * H; j++) gi[j] += gh[j];
        sigmoid_v(gt, gi, 2 * H);
        double *hnt = hn + t * H;
        const double *r = gt;
        for (size_t j = 0; j < H; j++) {
            hnt[j] = gh[2 * H + j];
            gi[2 * H + j] += r[j] * gh[2 * H + j];
        }
        tanh_v(gt + 2 * H, gi + 2 * H, H);
        /* torch: h = (h_prev - n) * z + n */
        double *ht = h + t * H;
        const double *z = gt + H, *n = gt + 2 * H;
        for (size_t j = 0; j < H; j++) ht[j] = (hp[j] - n[j]) * z[j] + n[j];
    }
}

static NN_RNN_INLINE void gru_bwd(double *dw_ihT, double *dw_hhT, double *db_ih, double *db_hh,
                                  double *dh_seq, const double *dh_last, const double *x,
                                  const double *h, const double *gate, const double *hn,
                                  const double *w_hhT, size_t T, size_t I, size_t H,
                                  double *scratch) {
    size_t G = 3 * H;
    double *dhn = scratch, *dai = scratch + H, *dah = scratch + 4 * H, *zero = scratch + 7 * H;
    double *dhz = scratch + 8 * H; /* the direct path dh * z */
    memcpy(dhn, dh_last, H * sizeof *dhn);
    memset(zero, 0, H * sizeof *zero);
    for (size_t t = T; t-- > 0;) {
        if (stop_at(t)) return;
        const double *gt = gate + t * G, *hnt = hn + t * H;
        const double *r = gt, *z = gt + H, *n = gt + 2 * H;
        const double *hp = t ? h + (t - 1) * H : zero;
        for (size_t j = 0; j < H; j++) {
            double dan = dhn[j] * (1.0 - z[j]) * (1.0 - n[j] * n[j]);
            double daz = dhn[j] * (hp[j] - n[j]) * z[j] * (1.0 - z[j]);
            double dar = dan * hnt[j] * r[j] * (1.0 - r[j]);
            dai[j] = dar;
            dai[H + j] = daz;
            dai[2 * H + j] = dan;
            dah[j] = dar;
            dah[H + j] = daz;
            dah[2 * H + j] = dan * r[j];
            dhz[j] = dhn[j] * z[j];
        }
        outer_add_t(dw_ihT, x + t * I, dai, G, I);
        if (dh_seq) memcpy(dh_seq + t * H, dhn, H * sizeof *dhn);
        for (size_t j = 0; j < G; j++) {
            db_ih[j] += dai[j];
            db_hh[j] += dah[j];
        }
        if (t == 0) break;
        outer_add_t(dw_hhT, hp, dah, G, H);
        matvec_t(dhn, w_hhT, dah, G, H);
        for (size_t j = 0; j < H; j++) dhn[j] += dhz[j];
    }
}

/* ---- instantiation and dispatch ------------------------------------------------------- */

/* VARIANTS(name, params, args6, args) defines name_base and (on x86) name_avx2, both with the
 * public signature `params`: each runs the always-inline kernel `name` with the constant
 * sizes (args6: I = 2, H = 6) when the call has them, else with the call's own (args).
 * PICK(name) is the variant for the SIMD level (nn_cpu.h). */
#define VARIANT(name, suffix, attr, params, args6, args)                                         \
    attr static void name##suffix params {                                                      \
        if (I == 2 && H == 6) name args6; else name args;                                       \
    }
#ifdef NN_CPU_X86
#define VARIANTS(name, params, args6, args)                                                      \
    VARIANT(name, _base, , params, args6, args)                                                  \
    VARIANT(name, _avx2, __attribute__((target("avx2"))), params, args6, args)
#define PICK(name) (nn_cpu_simd() >= NN_SIMD_AVX2 ? name##_avx2 : name##_base)
#else
#define VARIANTS(name, params, args6, args) VARIANT(name, _base, , params, args6, args)
#define PICK(name) name##_base
#endif

VARIANTS(rnn_fwd,
         (double *h, const double *x, const double *w_ihT, const double *w_hhT,
          const double *b_ih, const double *b_hh, size_t T, size_t I, size_t H, double *scratch),
         (h, x, w_ihT, w_hhT, b_ih, b_hh, T, 2, 6, scratch),
         (h, x, w_ihT, w_hhT, b_ih, b_hh, T, I, H, scratch))

VARIANTS(rnn_bwd,
         (double *dw_ihT, double *dw_hhT, double *db_ih, double *db_hh, double *dh_seq,
          const double *dh_last, const double *h, const double *x, const double *w_hhT, size_t T,
          size_t I, size_t H, double *scratch),
         (dw_ihT, dw_hhT, db_ih, db_hh, dh_seq, dh_last, h, x, w_hhT, T, 2, 6, scratch),
         (dw_ihT, dw_hhT, db_ih, db_hh, dh_seq, dh_last, h, x, w_hhT, T, I, H, scratch))

VARIANTS(lstm_fwd,
         (double *h, double *c, double *gate, double *tc, const double *x, const double *w_ihT,
          const double *w_hhT, const double *b_ih, const double *b_hh, size_t T, size_t I,
          size_t H, double *scratch),
         (h, c, gate, tc, x, w_ihT, w_hhT, b_ih, b_hh, T, 2, 6, scratch),
         (h, c, gate, tc, x, w_ihT, w_hhT, b_ih, b_hh, T, I, H, scratch))

VARIANTS(lstm_bwd,
         (double *dw_ihT, double *dw_hhT, double *db_ih, double *db_hh, double *dh_seq,
          const double *dh_last, const double *x, const double *h, const double *c,
          const double *gate, const double *tc, const double *w_hhT, size_t T, size_t I, size_t H,
          double *scratch),
         (dw_ihT, dw_hhT, db_ih, db_hh, dh_seq, dh_last, x, h, c, gate, tc, w_hhT, T, 2, 6,
          scratch),
         (dw_ihT, dw_hhT, db_ih, db_hh, dh_seq, dh_last, x, h, c, gate, tc, w_hhT, T, I, H,
          scratch))

VARIANTS(gru_fwd,
         (double *h, double *gate, double *hn, const double *x, const double *w_ihT,
          const double *w_hhT, const double *b_ih, const double *b_hh, size_t T, size_t I,
          size_t H, double *scratch),
         (h, gate, hn, x, w_ihT, w_hhT, b_ih, b_hh, T, 2, 6, scratch),
         (h, gate, hn, x, w_ihT, w_hhT, b_ih, b_hh, T, I, H, scratch))

VARIANTS(gru_bwd,
         (double *dw_ihT, double *dw_hhT, double *db_ih, double *db_hh, double *dh_seq,
          const double *dh_last, const double *x, const double *h, const double *gate,
          const double *hn, const double *w_hhT, size_t T, size_t I, size_t H, double *scratch),
         (dw_ihT, dw_hhT, db_ih, db_hh, dh_seq, dh_last, x, h, gate, hn, w_hhT, T, 2, 6, scratch),
         (dw_ihT, dw_hhT, db_ih, db_hh, dh_seq, dh_last, x, h, gate, hn, w_hhT, T, I, H, scratch))

/* ---- the public kernels (nn_rnn_fast.h) ----------------------------------------------- */

void nn_rnn_fast_forward(double *h, const double *x, const double *w_ihT, const double *w_hhT,
                         const double *b_ih, const double *b_hh, size_t T, size_t I, size_t H,
                         double *scratch) {
    PICK(rnn_fwd)(h, x, w_ihT, w_hhT, b_ih, b_hh, T, I, H, scratch);
}

void nn_rnn_fast_backward(double *dw_ihT, double *dw_hhT, double *db_ih, double *db_hh,
                          double *dh_seq, const double *dh_last, const double *h, const double *x,
                          const double *w_hhT, size_t T, size_t I, size_t H, double *scratch) {
    PICK(rnn_bwd)(dw_ihT, dw_hhT, db_ih, db_hh, dh_seq, dh_last, h, x, w_hhT, T, I, H, scratch);
}

void nn_lstm_fast_forward(double *h, double *c, double *gate, double *tc, const double *x,
                          const double *w_ihT, const double *w_hhT, const double *b_ih,
                          const double *b_hh, size_t T, size_t I, size_t H, double *scratch) {
    PICK(lstm_fwd)(h, c, gate, tc, x, w_ihT, w_hhT, b_ih, b_hh, T, I, H, scratch);
}

void nn_lstm_fast_backward(double *dw_ihT, double *dw_hhT, double *db_ih, double *db_hh,
                           double *dh_seq, const double *dh_last, const double *x,
                           const double *h, const double *c, const double *gate,
                           const double *tc, const double *w_hhT, size_t T, size_t I, size_t H,
                           double *scratch) {
    PICK(lstm_bwd)(dw_ihT, dw_hhT, db_ih, db_hh, dh_seq, dh_last, x, h, c, gate, tc, w_hhT, T, I,
                   H, scratch);
}

void nn_gru_fast_forward(double *h, double *gate, double *hn, const double *x,
                         const double *w_ihT, const double *w_hhT, const double *b_ih,
                         const double *b_hh, size_t T, size_t I, size_t H, double *scratch) {
    PICK(gru_fwd)(h, gate, hn, x, w_ihT, w_hhT, b_ih, b_hh, T, I, H, scratch);
}

void nn_gru_fast_backward(double *dw_ihT, double *dw_hhT, double *db_ih, double *db_hh,
                          double *dh_seq, const double *dh_last, const double *x, const double *h,
                          const double *gate, const double *hn, const double *w_hhT, size_t T,
                          size_t I, size_t H, double *scratch) {
    PICK(gru_bwd)(dw_ihT, dw_hhT, db_ih, db_hh, dh_seq, dh_last, x, h, gate, hn, w_hhT, T, I, H,
                  scratch);
}
