/* nn_filter_presets.h — preset 2-D filters (sobel_x, sobel_y, laplacian, gaussian, sharpen, box,
 * identity), replicated over the input channels to make one filter volume for nn_conv (the
 * HTTP API calls it the "kernel").
 *
 * Every preset is 3x3 (NN_FILTER_PRESET_SIZE). Replication means the same 2-D filter is applied
 * to each channel and the results are summed (that is what a [KH, KW, C] filter does), e.g.
 * sobel_x on an RGB image is the x-gradient of R + G + B. The 2-D values (cross-correlation, as
 * nn_conv applies them):
 *   sobel_x   [-1 0 1; -2 0 2; -1 0 1]       sobel_y  [-1 -2 -1; 0 0 0; 1 2 1]
 *   laplacian [0 1 0; 1 -4 1; 0 1 0]         gaussian [1 2 1; 2 4 2; 1 2 1] / 16
 *   sharpen   [0 -1 0; -1 5 -1; 0 -1 0]      box      all 1/9
 *   identity  [0 0 0; 0 1 0; 0 0 0] */
#ifndef NN_FILTER_PRESETS_H
#define NN_FILTER_PRESETS_H

#include <stddef.h>

#include "nn_status.h"

typedef enum nn_filter_preset {
    NN_FILTER_SOBEL_X = 0,
    NN_FILTER_SOBEL_Y,
    NN_FILTER_LAPLACIAN,
    NN_FILTER_GAUSSIAN,
    NN_FILTER_SHARPEN,
    NN_FILTER_BOX,
    NN_FILTER_IDENTITY,
} nn_filter_preset;

#define NN_FILTER_PRESET_COUNT 7
#define NN_FILTER_PRESET_SIZE 3 /* every preset is 3x3 */

/* Parse a preset name, case-insensitively ("sobel_x", "Sobel X", "sobel-x" all work).
 * NN_INVALID (field "kernel") naming the accepted presets for anything else. */
nn_code nn_filter_preset_parse(const char *name, nn_filter_preset *out, nn_error *err);

/* Canonical name ("sobel_x", ...); "?" for an out-of-range value. */
const char *nn_filter_preset_name(nn_filter_preset preset);

/* The 2-D preset: k2d [3, 3], row-major. */
void nn_filter_preset_2d(float k2d[9], nn_filter_preset preset);

/* Write the preset replicated over C channels into k [1, 3, 3, C] (the layout nn_conv takes for
 * N = 1): k[ky, kx, c] = k2d[ky, kx] for every c. NN_INVALID (field "kernel") for an unknown
 * preset, (field "input") for C == 0; NN_TOO_LARGE if 9*C overflows. */
nn_code nn_filter_preset_fill(float *k, nn_filter_preset preset, size_t C, nn_error *err);

#endif
