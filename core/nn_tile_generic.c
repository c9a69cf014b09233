/* nn_tile_generic.c — the portable tile kernels (any CPU): one float per "vector", one fmaf per
 * term, so the results are the same bits as the SIMD paths' (fmaf is exact even where it is
 * computed in software). */
#include <math.h>

#include "nn_tile.h"

#define TT
#define TN(name) gen_##name
#define TV float
#define TL 1
#define T_SIZES1 T_SIZES_8
#define T_SIZES2 T_SIZES_4
#define T_SETS_SIZES1 T_SIZES_3
#define T_SETS_SIZES2 T_SIZES_1
#define T_LOAD(p) (*(p))
#define T_STORE(p, v) (*(p) = (v))
#define T_LOADT(p, n) ((void)(n), *(p))
#define T_STORET(p, v, n) ((void)(n), *(p) = (v))
#define T_BCAST(p) (*(p))
#define T_ZERO() 0.0f
#define T_ADD(a, b) ((a) + (b))
#define T_FMA(a, b, c) fmaf(a, b, c)
#define T_RELU(v) (0.0f > (v) ? 0.0f : (v)) /* as max_ps(0, v): NaN kept */
#define T_LEAKY(v, s) ((v) < 0.0f ? (v) * (s) : (v))
#define TI uint32_t
#define T_IDX(i) ((uint32_t)(i))
#define T_ISTORET(p, v, n) ((void)(n), *(p) = (v))
#define TM int
#define T_TAKE(v, m) ((v) > (m) || (v) != (v))
#define T_SEL(k, a, b) ((k) ? (a) : (b))
#define T_ISEL(k, a, b) ((k) ? (a) : (b))
#define T_MUL(a, b) ((a) * (b))
#define T_SUB(a, b) ((a) - (b))
#define T_LE(a, b) ((a) <= (b))
#define T_GT(a, b) ((a) > (b))
#include "nn_tile_body.h"

const nn_tile_ops nn_tile_generic_ops = {"generic", gen_corr, gen_dw, gen_colsum, gen_poolmax, gen_actgrad};
