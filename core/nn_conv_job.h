/* nn_conv_job.h — internal: one convolution call as its kernels see it (shapes, buffers,
 * scratch), and the geometry every kernel shares. Not part of the public API. */
#ifndef NN_CONV_JOB_H
#define NN_CONV_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "nn_act.h"

typedef struct nn_conv_job {
    float *y;          /* [OH, OW, N] output, written */
    const float *x;    /* [H, W, C] input */
    const float *k;    /* [N, KH, KW, C] filters */
    const float *bias; /* [N] or NULL */
    size_t H, W, C, N, KH, KW, OH, OW, sh, sw, ph, pw;
    nn_activation act;
    float *ws;         /* scratch, 64-byte aligned, at least the kernel's ws_floats(job) */
    size_t threads;    /* threads the job may use (sizes the per-thread scratch) */
    /* Backward kernels only (NULL in a forward job); each ADDS into its buffer. */
    const float *dy;   /* [OH, OW, N] gradient of the loss w.r.t. y */
    float *dx;         /* [H, W, C] */
    float *dk;         /* [N, KH, KW, C] */
    float *db;         /* [N] */
} nn_conv_job;

/* Filter rows [ky0, ky1) of output row oy that land inside the input (iy = iy0 + ky in [0, H));
 * empty (ky0 == ky1) when the whole window is in the padding. */
static inline void nn_conv_rows_inside(const nn_conv_job *j, size_t oy, ptrdiff_t *iy0, size_t *ky0,
                                       size_t *ky1) {
    ptrdiff_t base = (ptrdiff_t)(oy * j->sh) - (ptrdiff_t)j->ph;
    ptrdiff_t lo = base < 0 ? -base : 0, hi = (ptrdiff_t)j->H - base;
    if (hi > (ptrdiff_t)j->KH) hi = (ptrdiff_t)j->KH;
    if (lo > (ptrdiff_t)j->KH) lo = (ptrdiff_t)j->KH;
    if (hi < lo) hi = lo;
    *iy0 = base;
    *ky0 = (size_t)lo;
    *ky1 = (size_t)hi;
}

/* Output rows per nn_parallel_for piece for `per_row` multiply-adds a row: about 32k of work
 * a piece, so small layers are not cut finer than a thread hand-off is worth. */
static inline size_t nn_conv_row_grain(double per_row) {
    return per_row >= 32768.0 ? 1 : (size_t)(32768.0 / (per_row + 1.0)) + 1;
}

/* Whether a SIMD kernel writes this job's output with streaming (non-temporal) stores, in whole
 * aligned vectors of `lanes` floats. Outputs over 8 MB cannot stay cached anyway, and skipping
 * the read-for-ownership halves the memory traffic of a store-bound layer. */
static inline int nn_conv_streams(const nn_conv_job *j, size_t lanes) {
    return j->N % lanes == 0 && ((uintptr_t)j->y % (lanes * sizeof(float))) == 0 &&
           (double)j->OH * (double)j->OW * (double)j->N * sizeof(float) > (double)((size_t)8 << 20);
}

#endif
