/* nn_conv_wino.h — internal: Winograd F(2x2, 3x3) convolution for 3x3, stride-1 layers with few
 * input channels and many filters (the RGB first layer of a CNN). Not part of the public API.
 *
 * Each 2x2 block of outputs ("tile") is computed from its 4x4 input patch d as
 *   Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A
 * (Lavin & Gray, 2015), 16 multiplies per tile and filter per channel instead of 36. With only
 * C <= 4 input channels the transforms are a large share of the work, so it pays only for many
 * filters (the rule below is measured).
 *
 * Rounding differs from the direct sum (the transforms add and subtract inputs and weights
 * before multiplying): on unit-scale data the results stay within the library's 1e-5 agreement
 * with the float64 reference (worst seen 1.8e-6). Its error grows with the data's scale like
 * the direct sum's, about 1.5-2x larger (0-255 pixels, 64 filters: 1.2e-4 vs 7.9e-5). And
 * every path (generic C, AVX2, AVX-512) performs the same operations in the same order on each
 * lane, so they still agree to the bit:
 *   U[xi][c][n] = float(G g G^T) computed in double (nn_conv_wino_pack)
 *   input, per channel:  D = B^T d  (rows: d0 - d2, d1 + d2, d2 - d1, d1 - d3), then V = D B
 *                        (the same four combinations along the row)
 *   M[xi][n] = (xi == 5 ? bias[n] : 0), then M = fma(V[xi][c], U[xi][c][n], M) for c = 0..C-1
 *              (xi = 5 is position (1, 1), which A^T A maps with weight 1 to all four outputs)
 *   per row r of M: a_r = (m_r0 + m_r1) + m_r2,  b_r = (m_r1 - m_r2) - m_r3
 *   y00 = (a0 + a1) + a2, y10 = (a1 - a2) - a3, y01 = (b0 + b1) + b2, y11 = (b1 - b2) - b3
 *   then the activation of nn_conv_act.h. */
#ifndef NN_CONV_WINO_H
#define NN_CONV_WINO_H

#include "nn_conv_job.h"

/* Filters come in groups of NN_WINO_GROUP (four AVX-512 vectors); a layer takes this path only
 * with whole groups. Measured against the direct kernel on 224x224x3 (2 threads): N = 64 and
 * 128 faster (0.67 vs 0.86 ms, 1.50 vs 1.81 ms), N = 96 level, N = 48 level, N = 32 1.7x and
 * N = 16 1.6x slower: with few filters the transforms cost more than the multiplies saved. */
#define NN_WINO_GROUP 64
#define NN_WINO_MAX_C 4
#define NN_WINO_TILES 2 /* tiles per multiply pass: M stays in L1 (measured best of 1..6) */
#define NN_WINO_VGS 16  /* floats per transformed-input row of a pass: 2 * TILES * MAX_C */

/* Does this job take the Winograd path? The same answer on every path. */
static inline int nn_conv_wino_applies(const nn_conv_job *j) {
    return j->KH == 3 && j->KW == 3 && j->sh == 1 && j->sw == 1 && j->C >= 1 && j->C <= NN_WINO_MAX_C &&
           j->N >= NN_WINO_GROUP && j->N % NN_WINO_GROUP == 0;
}

/* Scratch layout for filter groups of gw lanes (a divisor of NN_WINO_GROUP, a multiple of
 * 16): transformed weights U [NB][16][C][gw], bias [NB * gw], then per thread: 4 column-transformed input rows of L
 * floats, V [16][VGS], M [16][mxs]. Every part is a multiple of 16 floats (64-byte aligned). */
typedef struct nn_wino_layout {
    size_t gw, nb, ntx, nty, L, mxs, u_floats, b_floats, per_thread, total;
} nn_wino_layout;

/* Fills lay for the job; 0 on success, -1 when the sizes overflow. */
int nn_conv_wino_layout(const nn_conv_job *j, size_t gw, nn_wino_layout *lay);

/* U and bias as the header comment says. */
void nn_conv_wino_pack(const nn_conv_job *j, const nn_wino_layout *lay, float *U, float *bias);

#endif
