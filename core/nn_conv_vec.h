/* nn_conv_vec.h — internal: the vector interface the convolution kernels are written over.
 *
 * A kernel body (nn_conv_*_body.h) is written once with the names below; each instruction set's
 * file (nn_conv_avx512.c, nn_conv_avx2.c, nn_conv_generic.c) defines them with its intrinsics,
 * then includes this header and the bodies it runs (the two 256-bit files take the part they
 * share from nn_vec256.h). Every operation is one IEEE operation per
 * lane (fused multiply-adds round once), so a body performs the same arithmetic on every
 * instruction set and they all give the same bits.
 *
 *   VT                     attribute of the file's functions (target("..."), or empty)
 *   VEC, VL                vector type, lanes per vector
 *   VMASK                  a lane mask (bodies that store partial vectors, compare or blend)
 *   V_LOAD(p) V_LOADU(p)   aligned / unaligned load
 *   V_STORE(p, v) V_STOREU(p, v)  aligned / unaligned store
 *   V_STREAM(p, v)         aligned non-temporal store; V_CAN_STREAM 0 if there is none
 *   V_FENCE()              orders the non-temporal stores before the pool's "done"
 *   V_MASK_FIRST(n)        mask of lanes [0, n); n may exceed VL (all lanes)
 *   V_MASKSTORE(p, m, v)   store the lanes of m
 *   V_BCAST(p) V_SET1(x) V_ZERO()   every lane *p / x / +0
 *   V_ADD V_SUB V_MUL V_DIV(a, b)
 *   V_FMA(a, b, c)         a * b + c, rounded once;  V_FNMA(a, b, c): c - a * b, rounded once
 *   V_MAX(a, b)            max; b where either is NaN (as maxps)
 *   V_ROUND(x)             to the nearest integer, ties to even
 *   V_SCALE2N(p, n)        p * 2^n for integral n, rounded once (also into the subnormals)
 *   V_ABS(x)               sign bit cleared;  V_OR_SIGN(t, x): t with x's sign bit or-ed in
 *   V_LT(a, b) V_GE(a, b)  ordered compares -> VMASK
 *   V_BLEND(m, a, b)       b in the lanes of m, a elsewhere
 * The training kernels' body (nn_tile_body.h) needs a few more, listed there: partial loads and
 * stores by lane count (V_LOADN, V_STOREN), vectors of uint32 indices (VIDX, V_IDX, V_ISTOREN,
 * V_IBLEND) and max pooling's compare (V_TAKE); each file defines them before including it.
 * The portable file defines what the Winograd and training bodies need, with VEC = float,
 * VL = 1.
 * Every helper a body defines is static, so each file gets its own instance. */
#ifndef NN_CONV_VEC_H
#define NN_CONV_VEC_H

#include "nn_conv_job.h"

#if !defined(VL) || !defined(V_LOAD) || !defined(V_FMA)
#error "define the vector interface (nn_conv_vec.h) before including a convolution body"
#endif

#define V_INLINE static inline __attribute__((always_inline))

#endif
