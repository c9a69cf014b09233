/* nn_conv_bcast_body.h — the "pixel-broadcast" direct kernel for many output channels (N > 1,
 * NN_CONV_FWD_BROADCAST), written once over the vector interface (nn_conv_vec.h) and the
 * activations (nn_conv_act_body.h).
 *
 * Filters are repacked to blocks of BC_NV vectors, [N / block][KH*KW*C][block], so one output
 * pixel's channels of a block are BC_NV vectors; a register tile of P pixels x nv vectors walks
 * the filter window, broadcasting one input value per pixel into nv FMAs. Channels-last means
 * each filter row (KW*C values) is contiguous in the input, so no im2col copy is needed; rows
 * falling in the vertical padding are skipped, and the few tiles touching the horizontal
 * padding gather a zero-padded patch. Bias and activation are fused into the store. Rows of
 * the output are split across the threads of nn_parallel.
 *
 * The including file defines, besides the vector interface:
 *   BC_NV             vectors per filter block (2 or 4)
 *   BC_ACC            accumulator vectors of a tile: P = BC_ACC / nv pixels (at most 24)
 *   BC_PIX_L9_NV1     (optional) pixels of the one-vector tile when KW*C = 9 (default BC_ACC)
 *   BC_EXP_BUFFERED   (optional) sigmoid / tanh tiles go through a buffer to an out-of-line
 *                     store: their dozen constants would spill the accumulators otherwise */
#include "nn_cancel.h"
#include "nn_conv_vec.h"
#include "nn_parallel.h"

#define BC_BLOCK ((size_t)BC_NV * VL) /* filters per block */
#ifndef BC_PIX_L9_NV1
#define BC_PIX_L9_NV1 BC_ACC
#endif

typedef struct bc_tile_args {
    const float *a;    /* pixel 0, filter row ky0: a[p*a_pix + r*a_row + j], j < L */
    size_t a_pix, a_row, rows, L;
    const float *w;    /* packed block at filter row ky0: w[(r*L + j)*nv*VL + v*VL + lane] */
    const float *bias; /* nv*VL, zero-padded */
    float *y;          /* pixel 0, first channel of the block; pixel stride N */
    size_t N, npix;    /* pixels actually stored (<= P) */
    VMASK last;        /* lanes of the last vector that exist */
    int stream;        /* full, aligned vectors: non-temporal stores */
    nn_activation act;
} bc_tile_args;

V_INLINE VT void bc_put(const bc_tile_args *t, float *y, int v, int nv, VEC o) {
    if (t->stream) V_STREAM(y + v * VL, o);
    else if (v == nv - 1) V_MASKSTORE(y + v * VL, t->last, o);
    else V_STOREU(y + v * VL, o);
}

#ifdef BC_EXP_BUFFERED
/* Sigmoid / tanh and store of a finished tile held in buf[p * nv + v]. */
static VT __attribute__((noinline)) void bc_store_exp(const bc_tile_args *t, const VEC *buf, int nv) {
    const VEC slope = V_SET1(t->act.negative_slope);
    for (size_t p = 0; p < t->npix; p++) {
        float *y = t->y + p * t->N;
        for (int v = 0; v < nv; v++) {
            VEC a = buf[p * (size_t)nv + (size_t)v];
            bc_put(t, y, v, nv, t->act.kind == NN_ACT_SIGMOID ? v_sigmoid(a) : v_act(a, t->act.kind, slope));
        }
    }
}
#endif

/* LC > 0: the row length L is the compile-time constant LC, so the j loop unrolls completely
 * and every load gets a constant displacement (the 3x3 RGB case spends most of its time in
 * loop overhead otherwise: L = 9). */
V_INLINE VT void bc_tile(const bc_tile_args *t, const int P, const int NV, const int LC) {
    VEC acc[BC_ACC][BC_NV];
#pragma GCC unroll 24
    for (int p = 0; p < P; p++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[p][v] = V_LOAD(t->bias + v * VL);
    const size_t stride = (size_t)NV * VL;
    const size_t L = LC > 0 ? (size_t)LC : t->L;
    for (size_t r = 0; r < t->rows; r++) {
        const float *a = t->a + r * t->a_row;
        const float *w = t->w + r * L * stride;
#pragma GCC unroll 9
        for (size_t j = 0; j < L; j++) {
            VEC wv[BC_NV];
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) wv[v] = V_LOAD(w + j * stride + v * VL);
#pragma GCC unroll 24
            for (int p = 0; p < P; p++) {
                VEC b = V_BCAST(a + p * t->a_pix + j);
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++) acc[p][v] = V_FMA(b, wv[v], acc[p][v]);
            }
        }
    }
    const nn_act_kind kind = t->act.kind;
#ifdef BC_EXP_BUFFERED
    if (kind == NN_ACT_SIGMOID || kind == NN_ACT_TANH) {
        VEC buf[BC_ACC * BC_NV];
#pragma GCC unroll 24
        for (int p = 0; p < P; p++)
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) buf[p * NV + v] = acc[p][v];
        bc_store_exp(t, buf, NV);
        return;
    }
#endif
    const VEC slope = V_SET1(t->act.negative_slope);
#pragma GCC unroll 24
    for (int p = 0; p < P; p++) {
        if ((size_t)p >= t->npix) break;
        float *y = t->y + p * t->N;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) bc_put(t, y, v, NV, v_act(acc[p][v], kind, slope));
    }
}

/* One function per vector count (and for L = 9), so every tile's accumulators live in
 * registers. */
typedef void (*bc_tile_fn)(const bc_tile_args *);
static VT void bc_tile_1(const bc_tile_args *t) { bc_tile(t, BC_ACC, 1, 0); }
static VT void bc_tile_2(const bc_tile_args *t) { bc_tile(t, BC_ACC / 2, 2, 0); }
static VT void bc_tile_1_l9(const bc_tile_args *t) { bc_tile(t, BC_PIX_L9_NV1, 1, 9); }
static VT void bc_tile_2_l9(const bc_tile_args *t) { bc_tile(t, BC_ACC / 2, 2, 9); }
#if BC_NV == 4
static VT void bc_tile_3(const bc_tile_args *t) { bc_tile(t, BC_ACC / 3, 3, 0); }
static VT void bc_tile_4(const bc_tile_args *t) { bc_tile(t, BC_ACC / 4, 4, 0); }
static VT void bc_tile_3_l9(const bc_tile_args *t) { bc_tile(t, BC_ACC / 3, 3, 9); }
static VT void bc_tile_4_l9(const bc_tile_args *t) { bc_tile(t, BC_ACC / 4, 4, 9); }
static bc_tile_fn const bc_tiles[2][5] = {{NULL, bc_tile_1, bc_tile_2, bc_tile_3, bc_tile_4},
                                          {NULL, bc_tile_1_l9, bc_tile_2_l9, bc_tile_3_l9, bc_tile_4_l9}};
#elif BC_NV == 2
static bc_tile_fn const bc_tiles[2][3] = {{NULL, bc_tile_1, bc_tile_2}, {NULL, bc_tile_1_l9, bc_tile_2_l9}};
#else
#error "BC_NV must be 2 or 4"
#endif

/* Pixels of the tile of nv vectors, as bc_tiles instantiates it. */
static size_t bc_tile_pixels(size_t nv, int l9) { return l9 && nv == 1 ? BC_PIX_L9_NV1 : BC_ACC / nv; }

typedef struct bc_plan {
    const nn_conv_job *j;
    const float *wpack; /* blocks of [K][nv*VL] */
    const float *bias;  /* [N rounded up to BC_BLOCK] zero-padded */
    float *patches;     /* per worker: BC_ACC * K */
    size_t K, nblocks;
    int stream;
} bc_plan;

/* Scratch: packed filters (K x N rounded up to VL), bias, per-thread patches. */
static size_t bc_ws_parts(const nn_conv_job *j, size_t *wfloats, size_t *bfloats) {
    size_t K = j->KH * j->KW * j->C, npad = (j->N + VL - 1) / VL * VL, w, b, pt, total;
    if (__builtin_mul_overflow(K, npad, &w)) return SIZE_MAX;
    b = (j->N + BC_BLOCK - 1) / BC_BLOCK * BC_BLOCK;
    if (__builtin_mul_overflow(K, (size_t)BC_ACC, &pt) || __builtin_mul_overflow(pt, j->threads, &pt))
        return SIZE_MAX;
    if (__builtin_add_overflow(w, b, &total) || __builtin_add_overflow(total, pt, &total)) return SIZE_MAX;
    if (wfloats) *wfloats = w;
    if (bfloats) *bfloats = b;
    return total;
}

static size_t bc_ws_floats(const nn_conv_job *j) { return bc_ws_parts(j, NULL, NULL); }

/* The zero-padded patch [P][KH][KW][C] (filter rows ky0..ky1 filled) of output pixels start ..
 * start+P-1 of the output row whose window starts at input row iy0; pixels from npix on are
 * zeros. Only the few tiles that touch the horizontal padding need it. One select per float,
 * not a memcpy / memset per filter column: with C = 3 those calls cost several times the
 * tile's arithmetic (measured: 13 % of the 64-filter layer's time on one core). */
static void bc_gather_patch(const nn_conv_job *j, float *patch, size_t start, size_t P, size_t npix,
                            ptrdiff_t iy0, size_t ky0, size_t ky1) {
    const size_t C = j->C, KW = j->KW, L = KW * C;
    for (size_t p = 0; p < P; p++) {
        ptrdiff_t ix0 = (ptrdiff_t)((start + p) * j->sw) - (ptrdiff_t)j->pw;
        for (size_t r = ky0; r < ky1; r++) {
            float *dst = patch + (p * j->KH + r) * L;
            const float *row = j->x + (size_t)(iy0 + (ptrdiff_t)r) * j->W * C;
            for (size_t kx = 0; kx < KW; kx++) {
                ptrdiff_t ix = ix0 + (ptrdiff_t)kx;
                int inside = p < npix && ix >= 0 && ix < (ptrdiff_t)j->W;
                const float *src = row + (inside ? (size_t)ix * C : 0); /* always a valid read */
                for (size_t c = 0; c < C; c++) dst[kx * C + c] = inside ? src[c] : 0.0f;
            }
        }
    }
}

/* Where tile t (pixels start .. start+P-1 of output row oy, filter rows ky0..ky1 inside the
 * input from iy0) reads its inputs: the input itself when the window is inside it, else a
 * gathered patch; nothing when every filter row is in the padding (only the bias counts). */
static void bc_tile_input(const bc_plan *pl, bc_tile_args *t, float *patch, size_t start, size_t P,
                          ptrdiff_t iy0, size_t ky0, size_t ky1) {
    const nn_conv_job *j = pl->j;
    const size_t C = j->C, KW = j->KW, L = KW * C;
    ptrdiff_t ix0 = (ptrdiff_t)(start * j->sw) - (ptrdiff_t)j->pw;
    ptrdiff_t ixl = (ptrdiff_t)((start + P - 1) * j->sw) - (ptrdiff_t)j->pw + (ptrdiff_t)KW;
    if (ky1 == ky0) {
        t->a = j->x;
        t->a_pix = t->a_row = 0;
    } else if (t->npix == P && ix0 >= 0 && ixl <= (ptrdiff_t)j->W) {
        t->a = j->x + ((size_t)(iy0 + (ptrdiff_t)ky0) * j->W + (size_t)ix0) * C;
        t->a_pix = j->sw * C;
        t->a_row = j->W * C;
    } else {
        bc_gather_patch(j, patch, start, P, t->npix, iy0, ky0, ky1);
        t->a = patch + ky0 * L;
        t->a_pix = j->KH * L;
        t->a_row = L;
    }
}

static VT void bc_rows(void *ctx, size_t begin, size_t end, size_t worker) {
    const bc_plan *pl = ctx;
    const nn_conv_job *j = pl->j;
    const size_t L = j->KW * j->C, K = pl->K, N = j->N;
    float *patch = pl->patches + worker * BC_ACC * K;
    for (size_t oy = begin; oy < end; oy++) {
        ptrdiff_t iy0;
        size_t ky0, ky1;
        nn_conv_rows_inside(j, oy, &iy0, &ky0, &ky1);
        const float *wblk = pl->wpack;
        for (size_t b = 0; b < pl->nblocks; b++) {
            size_t n0 = b * BC_BLOCK, nb = N - n0 < BC_BLOCK ? N - n0 : BC_BLOCK, nv = (nb + VL - 1) / VL;
            const size_t P = bc_tile_pixels(nv, L == 9);
            bc_tile_fn fn = bc_tiles[L == 9][nv];
            bc_tile_args t = {.rows = ky1 - ky0, .L = L, .w = wblk + ky0 * L * nv * VL, .bias = pl->bias + n0,
                              .N = N, .last = V_MASK_FIRST(nb - (nv - 1) * VL), .stream = pl->stream,
                              .act = j->act};
            /* the cancel flag: once per row of a block of filters, and every `every` tiles
             * (a counter, not a work meter: that one cost 4 % on 56x56x64) */
            if (nn_cancelled()) goto out;
            const size_t every = NN_CANCEL_EVERY / (P * nb * K) + 1;
            for (size_t ox = 0, tiles = 0; ox < j->OW; ox += P) {
                if (__builtin_expect(++tiles == every, 0)) {
                    tiles = 0;
                    if (nn_cancelled()) goto out;
                }
                size_t start = ox;
                t.npix = P;
                if (ox + P > j->OW) {
                    if (j->OW >= P) start = j->OW - P; /* overlap: the same values rewritten */
                    else t.npix = j->OW;
                }
                t.y = j->y + (oy * j->OW + start) * N + n0;
                bc_tile_input(pl, &t, patch, start, P, iy0, ky0, ky1);
                fn(&t);
            }
            wblk += K * nv * VL;
        }
    }
out:
    if (pl->stream) V_FENCE();
}

/* Block b (nv vectors) holds k[n0 + lane][t] at [t][lane]; then the zero-padded bias. */
static VT void bc_pack(const nn_conv_job *j, bc_plan *pl, size_t wfloats, size_t bfloats) {
    const size_t K = pl->K, N = j->N;
    float *w = j->ws;
    pl->wpack = w;
    for (size_t b = 0; b < pl->nblocks; b++) {
        size_t n0 = b * BC_BLOCK, nb = N - n0 < BC_BLOCK ? N - n0 : BC_BLOCK, width = (nb + VL - 1) / VL * VL;
        for (size_t t = 0; t < K; t++) {
            float *dst = w + t * width;
            for (size_t i = 0; i < width; i++) dst[i] = i < nb ? j->k[(n0 + i) * K + t] : 0.0f;
        }
        w += K * width;
    }
    float *bias = j->ws + wfloats;
    for (size_t i = 0; i < bfloats; i++) bias[i] = (j->bias && i < N) ? j->bias[i] : 0.0f;
    pl->bias = bias;
    pl->patches = bias + bfloats;
}

static VT void bc_run(const nn_conv_job *j) {
    size_t wfloats = 0, bfloats = 0;
    bc_ws_parts(j, &wfloats, &bfloats); /* sized (and checked) by bc_ws_floats */
    bc_plan pl = {.j = j, .K = j->KH * j->KW * j->C, .nblocks = (j->N + BC_BLOCK - 1) / BC_BLOCK,
                  .stream = nn_conv_streams(j, VL)};
    bc_pack(j, &pl, wfloats, bfloats);
    nn_parallel_for(j->OH, nn_conv_row_grain((double)j->OW * (double)j->N * (double)pl.K), bc_rows, &pl);
}
