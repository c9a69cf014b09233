/* nn_conv_impl.h — internal: the shape bundle nn_conv.c hands to its kernels (generic C,
 * AVX2, AVX-512). Not part of the public API. */
#ifndef NN_CONV_IMPL_H
#define NN_CONV_IMPL_H

#include <stddef.h>

#include <string.h>

#include "nn_act.h"
#include "nn_status.h"

typedef struct nn_conv_job {
    float *y;          /* [OH, OW, N] */
    const float *x;    /* [H, W, C] */
    const float *k;    /* [N, KH, KW, C] */
    const float *bias; /* [N] or NULL */
    size_t H, W, C, N, KH, KW, OH, OW, sh, sw, ph, pw;
    nn_activation act;
    float *ws;         /* scratch, 64-byte aligned, at least the kernel's *_ws_floats */
    size_t threads;    /* threads the job may use (sizes the per-thread scratch) */
} nn_conv_job;


/* ---- helpers shared by the SIMD kernels (plain C) ---- */

/* Kernel rows [ky0, ky1) of output row oy that land inside the input (iy = iy0 + ky in [0, H));
 * empty (ky0 == ky1) when the whole window is in the padding. */
static inline void nn_conv_kernel_rows(const nn_conv_job *j, size_t oy, ptrdiff_t *iy0, size_t *ky0, size_t *ky1) {
    ptrdiff_t base = (ptrdiff_t)(oy * j->sh) - (ptrdiff_t)j->ph;
    ptrdiff_t lo = base < 0 ? -base : 0, hi = (ptrdiff_t)j->H - base;
    if (hi > (ptrdiff_t)j->KH) hi = (ptrdiff_t)j->KH;
    if (lo > (ptrdiff_t)j->KH) lo = (ptrdiff_t)j->KH;
    if (hi < lo) hi = lo;
    *iy0 = base;
    *ky0 = (size_t)lo;
    *ky1 = (size_t)hi;
}

/* The planar (N = 1) kernels: row length of one zero-padded plane, with slack for whole
 * vectors past the last output column. */
static inline size_t nn_conv_planar_wq(const nn_conv_job *j) {
    size_t wp = j->W + 2 * j->pw;
    return (wp + j->sw - 1) / j->sw + j->KW + 64 + 15;
}

static inline size_t nn_conv_planar_ws_floats(const nn_conv_job *j) {
    size_t f;
    size_t dims[4] = {j->C, j->H, j->sw, nn_conv_planar_wq(j)};
    if (nn_size_prod(dims, 4, &f)) return SIZE_MAX;
    return f;
}

/* dst[i] = x[iy, i*sw + ph - pw, c] for i < Wq, zero outside the input. */
static inline void nn_conv_fill_plane_row(float *dst, const float *src_row, size_t C, size_t c, size_t sw, size_t ph,
                           size_t pw, size_t W, size_t Wq) {
    /* valid i: 0 <= i*sw + ph - pw < W */
    size_t lo = pw > ph ? (pw - ph + sw - 1) / sw : 0;
    size_t hi = (W + pw - ph + sw - 1) / sw;
    if (hi > Wq) hi = Wq;
    if (lo > hi) lo = hi;
    memset(dst, 0, lo * sizeof *dst);
    const float *src = src_row + c + (lo * sw + ph - pw) * C;
    for (size_t i = lo; i < hi; i++, src += sw * C) dst[i] = *src;
    memset(dst + hi, 0, (Wq - hi) * sizeof *dst);
}

/* Floats of scratch each kernel needs for a job (shapes and threads filled in). */
size_t nn_conv_generic_ws_floats(const nn_conv_job *j);
void nn_conv_generic_run(const nn_conv_job *j);

#if defined(__x86_64__) || defined(__i386__)
#define NN_CONV_HAVE_X86 1
size_t nn_conv_avx512_ws_floats(const nn_conv_job *j);
void nn_conv_avx512_run(const nn_conv_job *j);
size_t nn_conv_avx2_ws_floats(const nn_conv_job *j);
void nn_conv_avx2_run(const nn_conv_job *j);
#endif

#endif
