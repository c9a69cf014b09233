/* nn_conv_wino_body.h — the Winograd F(2x2, 3x3) kernel (nn_conv_wino.h,
 * NN_CONV_FWD_WINOGRAD), written once over the vector interface (nn_conv_vec.h) so that the
 * generic, AVX2 and AVX-512 paths run the same operations in the same order on every lane.
 * The including file defines, besides the vector interface (the portable file: the subset this
 * body uses, VEC = float) and v_act (nn_conv_act_body.h, or the scalar nn_conv_act1):
 *   WINO_NV             vectors per filter group (VL * WINO_NV divides NN_WINO_GROUP and is a
 *                       multiple of 16)
 *   WINO_FUSED (optional)  fuse the multiply with the output transform, keeping M in registers
 *                       (needs 32 vector registers: the AVX-512 path; with AVX2's 16 it spills
 *                       and measured 1.5x slower)
 * Both strategies perform the same operations in the same order on each lane; only the loop
 * order and where M lives differ. */
#include <string.h>

#include "nn_cancel.h"
#include "nn_conv_vec.h"
#include "nn_conv_wino.h"
#include "nn_parallel.h"

#define WGW ((size_t)(VL * WINO_NV)) /* filters per group */

V_INLINE VT void wino_put(float *p, VEC v, int stream) {
    if (V_CAN_STREAM && stream) V_STREAM(p, v);
    else V_STOREU(p, v);
}

V_INLINE VT VEC wino_act(VEC v, nn_activation act) { return v_act(v, act.kind, V_SET1(act.negative_slope)); }

typedef struct wino_plan {
    const nn_conv_job *j;
    nn_wino_layout lay;
    const float *U, *bias; /* [NB][16][C][WGW], [NB * WGW] */
    float *scratch;        /* per thread: lay.per_thread floats */
    int stream;
} wino_plan;

/* The 4 input rows of row pair ty, zero-padded, then D = B^T d down the columns. */
static VT void wino_in_rows(const wino_plan *pl, size_t ty, float *P) {
    const nn_conv_job *j = pl->j;
    const size_t C = j->C, L = pl->lay.L, W = j->W;
    for (size_t k = 0; k < 4; k++) {
        float *row = P + k * L;
        ptrdiff_t iy = (ptrdiff_t)(2 * ty + k) - (ptrdiff_t)j->ph;
        if (iy < 0 || iy >= (ptrdiff_t)j->H) {
            memset(row, 0, L * sizeof *row);
            continue;
        }
        const size_t lo = j->pw * C, hi = lo + W * C; /* hi <= L by the layout */
        memset(row, 0, lo * sizeof *row);
        memcpy(row + lo, j->x + (size_t)iy * W * C, W * C * sizeof *row);
        memset(row + hi, 0, (L - hi) * sizeof *row);
    }
    float *p0 = P, *p1 = P + L, *p2 = P + 2 * L, *p3 = P + 3 * L;
    for (size_t i = 0; i < L; i += VL) { /* L is a multiple of 16 */
        VEC a = V_LOADU(p0 + i), b = V_LOADU(p1 + i), c = V_LOADU(p2 + i), d = V_LOADU(p3 + i);
        V_STOREU(p0 + i, V_SUB(a, c));
        V_STOREU(p1 + i, V_ADD(b, c));
        V_STOREU(p2 + i, V_SUB(c, b));
        V_STOREU(p3 + i, V_SUB(b, d));
    }
}

/* V = D B along the row for tiles t0 .. t0+TILES-1: V[xi = 4r + s][2*t*C + c]. */
static VT void wino_in_tiles(const wino_plan *pl, const float *P, size_t t0, float *V) {
    const size_t C = pl->j->C, L = pl->lay.L, n = 2 * NN_WINO_TILES * C;
    for (size_t r = 0; r < 4; r++) {
        const float *d = P + r * L + 2 * t0 * C; /* reads stay inside the row: layout slack */
        float *v = V + r * 4 * NN_WINO_VGS;
        for (size_t q = 0; q < n; q += VL) {
            VEC e0 = V_LOADU(d + q), e1 = V_LOADU(d + q + C), e2 = V_LOADU(d + q + 2 * C),
               e3 = V_LOADU(d + q + 3 * C);
            V_STOREU(v + q, V_SUB(e0, e2));
            V_STOREU(v + NN_WINO_VGS + q, V_ADD(e1, e2));
            V_STOREU(v + 2 * NN_WINO_VGS + q, V_SUB(e2, e1));
            V_STOREU(v + 3 * NN_WINO_VGS + q, V_SUB(e1, e3));
        }
    }
}

#ifndef WINO_FUSED
/* M[xi][t][group lanes] for nt tiles of one filter group; CC = C as a constant so the weights
 * of one xi stay in registers across the tiles. */
static inline __attribute__((always_inline)) VT void wino_mult(const float *U, const float *bias, const float *V,
                                                             float *M, size_t mxs, size_t nt, const int CC) {
    for (int xi = 0; xi < 16; xi++) {
        VEC u[NN_WINO_MAX_C][WINO_NV], init[WINO_NV];
#pragma GCC unroll 4
        for (int c = 0; c < CC; c++)
#pragma GCC unroll 16
            for (int v = 0; v < WINO_NV; v++) u[c][v] = V_LOAD(U + ((size_t)xi * (size_t)CC + (size_t)c) * WGW + (size_t)v * VL);
#pragma GCC unroll 16
        for (int v = 0; v < WINO_NV; v++) init[v] = xi == 5 ? V_LOAD(bias + (size_t)v * VL) : V_ZERO();
        const float *vx = V + (size_t)xi * NN_WINO_VGS;
        float *m = M + (size_t)xi * mxs;
        for (size_t t = 0; t < nt; t++) {
            VEC acc[WINO_NV];
#pragma GCC unroll 16
            for (int v = 0; v < WINO_NV; v++) acc[v] = init[v];
#pragma GCC unroll 4
            for (int c = 0; c < CC; c++) {
                VEC b = V_BCAST(vx + 2 * t * (size_t)CC + (size_t)c);
#pragma GCC unroll 16
                for (int v = 0; v < WINO_NV; v++) acc[v] = V_FMA(b, u[c][v], acc[v]);
            }
#pragma GCC unroll 16
            for (int v = 0; v < WINO_NV; v++) V_STORE(m + t * WGW + (size_t)v * VL, acc[v]);
        }
    }
}

static VT void wino_mult_c(const float *U, const float *bias, const float *V, float *M, size_t mxs, size_t nt,
                           size_t C) {
    switch (C) {
    case 1: wino_mult(U, bias, V, M, mxs, nt, 1); break;
    case 2: wino_mult(U, bias, V, M, mxs, nt, 2); break;
    case 3: wino_mult(U, bias, V, M, mxs, nt, 3); break;
    default: wino_mult(U, bias, V, M, mxs, nt, 4); break;
    }
}

/* Y = A^T M A for one tile of one filter group, activation, store. y: output pixel (oy, ox),
 * first filter of the group; rows / cols: 1 or 2 outputs (the last tile of an odd size). */
static VT void wino_out(const wino_plan *pl, const float *M, float *y, int rows, int cols) {
    const nn_conv_job *j = pl->j;
    const size_t mxs = pl->lay.mxs, N = j->N, row = j->OW * N;
    for (size_t v = 0; v < WINO_NV; v++) {
        VEC m[16];
#pragma GCC unroll 16
        for (size_t k = 0; k < 16; k++) m[k] = V_LOAD(M + k * mxs + v * VL);
        VEC a[4], b[4];
#pragma GCC unroll 4
        for (size_t r = 0; r < 4; r++) {
            a[r] = V_ADD(V_ADD(m[4 * r], m[4 * r + 1]), m[4 * r + 2]);
            b[r] = V_SUB(V_SUB(m[4 * r + 1], m[4 * r + 2]), m[4 * r + 3]);
        }
        float *p = y + v * VL;
        wino_put(p, wino_act(V_ADD(V_ADD(a[0], a[1]), a[2]), j->act), pl->stream);
        if (cols) wino_put(p + N, wino_act(V_ADD(V_ADD(b[0], b[1]), b[2]), j->act), pl->stream);
        if (rows) {
            wino_put(p + row, wino_act(V_SUB(V_SUB(a[1], a[2]), a[3]), j->act), pl->stream);
            if (cols) wino_put(p + row + N, wino_act(V_SUB(V_SUB(b[1], b[2]), b[3]), j->act), pl->stream);
        }
    }
}

#else

/* The multiply and the output transform fused, M never leaves registers: for each vector v of
 * the group and each row r of the 4x4 tile, the 4 products of that row are summed over the
 * channels, reduced to a_r, b_r, and folded into the 4 outputs (the same operations, in the
 * same order, as wino_mult + wino_out). */
static inline __attribute__((always_inline)) VT void wino_fused(const wino_plan *pl, const float *U,
                                                              const float *bias, const float *V, float *y,
                                                              size_t nt, int rows, int lastcols, const int CC) {
    const nn_conv_job *j = pl->j;
    const size_t N = j->N, row = j->OW * N;
    for (size_t v = 0; v < WINO_NV; v++) {
        VEC y00[NN_WINO_TILES], y01[NN_WINO_TILES], y10[NN_WINO_TILES], y11[NN_WINO_TILES];
#pragma GCC unroll 4
        for (size_t t = 0; t < NN_WINO_TILES; t++) y00[t] = y01[t] = y10[t] = y11[t] = V_ZERO(); /* -Wmaybe-uninitialized */
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            VEC u[4][NN_WINO_MAX_C];
#pragma GCC unroll 4
            for (int s = 0; s < 4; s++)
#pragma GCC unroll 4
                for (int c = 0; c < CC; c++)
                    u[s][c] = V_LOAD(U + ((size_t)(4 * r + s) * (size_t)CC + (size_t)c) * WGW + v * VL);
#pragma GCC unroll 4
            for (size_t t = 0; t < NN_WINO_TILES; t++) {
                if (t >= nt) break;
                VEC m[4];
#pragma GCC unroll 4
                for (int s = 0; s < 4; s++) {
                    m[s] = 4 * r + s == 5 ? V_LOAD(bias + v * VL) : V_ZERO();
                    const float *vx = V + (size_t)(4 * r + s) * NN_WINO_VGS + 2 * t * (size_t)CC;
#pragma GCC unroll 4
                    for (int c = 0; c < CC; c++) m[s] = V_FMA(V_BCAST(vx + c), u[s][c], m[s]);
                }
                VEC a = V_ADD(V_ADD(m[0], m[1]), m[2]), b = V_SUB(V_SUB(m[1], m[2]), m[3]);
                if (r == 0) y00[t] = a, y01[t] = b;
                else if (r == 1) y00[t] = V_ADD(y00[t], a), y01[t] = V_ADD(y01[t], b), y10[t] = a, y11[t] = b;
                else if (r == 2)
                    y00[t] = V_ADD(y00[t], a), y01[t] = V_ADD(y01[t], b), y10[t] = V_SUB(y10[t], a),
                    y11[t] = V_SUB(y11[t], b);
                else y10[t] = V_SUB(y10[t], a), y11[t] = V_SUB(y11[t], b);
            }
        }
#pragma GCC unroll 4
        for (size_t t = 0; t < NN_WINO_TILES; t++) {
            if (t >= nt) break;
            const int cols = t + 1 < nt || lastcols;
            float *p = y + 2 * t * N + v * VL;
            wino_put(p, wino_act(y00[t], j->act), pl->stream);
            if (cols) wino_put(p + N, wino_act(y01[t], j->act), pl->stream);
            if (rows) {
                wino_put(p + row, wino_act(y10[t], j->act), pl->stream);
                if (cols) wino_put(p + row + N, wino_act(y11[t], j->act), pl->stream);
            }
        }
    }
}

static VT void wino_fused_c(const wino_plan *pl, const float *U, const float *bias, const float *V, float *y,
                            size_t nt, int rows, int lastcols, size_t C) {
    switch (C) {
    case 1: wino_fused(pl, U, bias, V, y, nt, rows, lastcols, 1); break;
    case 2: wino_fused(pl, U, bias, V, y, nt, rows, lastcols, 2); break;
    case 3: wino_fused(pl, U, bias, V, y, nt, rows, lastcols, 3); break;
    default: wino_fused(pl, U, bias, V, y, nt, rows, lastcols, 4); break;
    }
}
#endif /* WINO_FUSED */

static VT void wino_rows(void *ctx, size_t begin, size_t end, size_t worker) {
    const wino_plan *pl = ctx;
    const nn_conv_job *j = pl->j;
    const nn_wino_layout *lay = &pl->lay;
    const size_t C = j->C, N = j->N, OW = j->OW;
    float *P = pl->scratch + worker * lay->per_thread;
    float *V = P + 4 * lay->L;
    float *M = V + 16 * NN_WINO_VGS; /* unused by WINO_FUSED */
    (void)M;
    size_t meter = 0;
    for (size_t ty = begin; ty < end; ty++) {
        wino_in_rows(pl, ty, P);
        const size_t oy = 2 * ty;
        const int rows = oy + 1 < j->OH;
        for (size_t t0 = 0; t0 < lay->ntx; t0 += NN_WINO_TILES) {
            const size_t nt = lay->ntx - t0 < NN_WINO_TILES ? lay->ntx - t0 : NN_WINO_TILES;
            if (nn_cancel_tick(&meter, 36 * nt * C * N)) goto out; /* 4x4 tiles, 9 taps each */
            wino_in_tiles(pl, P, t0, V);
            for (size_t b = 0; b < lay->nb; b++) {
                const size_t n0 = b * WGW;
                const float *U = pl->U + b * 16 * C * WGW;
                float *y = j->y + (oy * OW + 2 * t0) * N + n0;
#ifdef WINO_FUSED
                wino_fused_c(pl, U, pl->bias + n0, V, y, nt, rows, 2 * (t0 + nt) - 1 < OW, C);
#else
                wino_mult_c(U, pl->bias + n0, V, M, lay->mxs, nt, C);
                for (size_t t = 0; t < nt; t++) wino_out(pl, M + t * WGW, y + 2 * t * N, rows, 2 * (t0 + t) + 1 < OW);
#endif
            }
        }
    }
out:
    if (pl->stream) V_FENCE(); /* order the non-temporal stores before the pool's "done" */
}

static size_t wino_ws_floats(const nn_conv_job *j) {
    nn_wino_layout lay;
    return nn_conv_wino_layout(j, WGW, &lay) ? SIZE_MAX : lay.total;
}

static VT void wino_run(const nn_conv_job *j) {
    wino_plan pl = {.j = j};
    nn_conv_wino_layout(j, WGW, &pl.lay); /* sized (and checked) by wino_ws_floats */
    float *U = j->ws, *bias = U + pl.lay.u_floats;
    nn_conv_wino_pack(j, &pl.lay, U, bias);
    pl.U = U;
    pl.bias = bias;
    pl.scratch = bias + pl.lay.b_floats;
    pl.stream = V_CAN_STREAM && nn_conv_streams(j, VL);
    nn_parallel_for(pl.lay.nty, 1, wino_rows, &pl);
}
