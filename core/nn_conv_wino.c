/* nn_conv_wino.c — the path-independent parts of the Winograd convolution: scratch layout and
 * the weight transform (see nn_conv_wino.h). */
#include "nn_conv_wino.h"

int nn_conv_wino_layout(const nn_conv_job *j, size_t gw, nn_wino_layout *lay) {
    nn_wino_layout l = {.gw = gw};
    l.nb = j->N / gw; /* whole groups: nn_conv_wino_applies */
    l.ntx = (j->OW + 1) / 2;
    l.nty = (j->OH + 1) / 2;
    /* input columns 0 .. 2*ntx+1 of the padded row, plus the slack a pass reads past its last
     * tile (whole vectors of up to 16 floats from column 2*t0 + 3); rounded to whole vectors */
    size_t t;
    if (__builtin_mul_overflow(2 * l.ntx + 3, j->C, &l.L) || __builtin_add_overflow(l.L, (size_t)31, &l.L))
        return -1;
    l.L = l.L / 16 * 16; /* = roundup16(cols * C + 16) */
    l.mxs = NN_WINO_TILES * gw + 16; /* +16: rows of M are not 4 KiB apart (store/load aliasing) */
    if (__builtin_mul_overflow(l.nb, 16 * j->C * gw, &l.u_floats)) return -1;
    l.b_floats = l.nb * gw;
    if (__builtin_mul_overflow(l.L, (size_t)4, &l.per_thread)) return -1;
    l.per_thread += 16 * NN_WINO_VGS + 16 * l.mxs;
    if (__builtin_mul_overflow(l.per_thread, j->threads ? j->threads : 1, &t)) return -1;
    if (__builtin_add_overflow(t, l.u_floats + l.b_floats, &l.total)) return -1;
    *lay = l;
    return 0;
}

void nn_conv_wino_pack(const nn_conv_job *j, const nn_wino_layout *lay, float *U, float *bias) {
    const size_t C = j->C, N = j->N, gw = lay->gw;
    for (size_t n = 0; n < N; n++) {
        const size_t b = n / gw, lane = n % gw;
        for (size_t c = 0; c < C; c++) {
            double g[3][3], gg[4][3]; /* G g: rows of the kernel combined */
            for (size_t ky = 0; ky < 3; ky++)
                for (size_t kx = 0; kx < 3; kx++) g[ky][kx] = j->k[((n * 3 + ky) * 3 + kx) * C + c];
            for (size_t kx = 0; kx < 3; kx++) {
                gg[0][kx] = g[0][kx];
                gg[1][kx] = (g[0][kx] + g[1][kx] + g[2][kx]) * 0.5;
                gg[2][kx] = (g[0][kx] - g[1][kx] + g[2][kx]) * 0.5;
                gg[3][kx] = g[2][kx];
            }
            for (size_t r = 0; r < 4; r++) { /* (G g) G^T: the same along the columns */
                const double u[4] = {gg[r][0], (gg[r][0] + gg[r][1] + gg[r][2]) * 0.5,
                                     (gg[r][0] - gg[r][1] + gg[r][2]) * 0.5, gg[r][2]};
                for (size_t s = 0; s < 4; s++) U[((b * 16 + r * 4 + s) * C + c) * gw + lane] = (float)u[s];
            }
        }
    }
    for (size_t i = 0; i < N; i++) bias[i] = j->bias ? j->bias[i] : 0.0f;
}
