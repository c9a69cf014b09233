/* test_filter_presets.c — kernel presets: values, replication over channels, parsing errors, and the
 * effect of each preset in a real convolution. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_conv.h"
#include "nn_filter_presets.h"

Test(filter_presets, presets_have_their_textbook_values) {
    float k[9];
    nn_filter_preset_2d(k, NN_FILTER_SOBEL_X);
    const float sx[9] = {-1, 0, 1, -2, 0, 2, -1, 0, 1};
    cr_assert_eq(memcmp(k, sx, sizeof sx), 0);
    nn_filter_preset_2d(k, NN_FILTER_SOBEL_Y);
    const float sy[9] = {-1, -2, -1, 0, 0, 0, 1, 2, 1};
    cr_assert_eq(memcmp(k, sy, sizeof sy), 0);
    /* sums: derivative filters 0, smoothing filters 1, sharpen 1, identity 1 */
    const struct { nn_filter_preset p; float sum; } sums[] = {
        {NN_FILTER_SOBEL_X, 0}, {NN_FILTER_SOBEL_Y, 0}, {NN_FILTER_LAPLACIAN, 0}, {NN_FILTER_GAUSSIAN, 1},
        {NN_FILTER_SHARPEN, 1}, {NN_FILTER_BOX, 1}, {NN_FILTER_IDENTITY, 1},
    };
    for (size_t i = 0; i < sizeof sums / sizeof sums[0]; i++) {
        nn_filter_preset_2d(k, sums[i].p);
        float s = 0;
        for (int t = 0; t < 9; t++) s += k[t];
        cr_assert_float_eq(s, sums[i].sum, 1e-6, "%s", nn_filter_preset_name(sums[i].p));
    }
    nn_filter_preset_2d(k, NN_FILTER_LAPLACIAN);
    cr_assert_float_eq(k[4], -4.0f, 0);
    nn_filter_preset_2d(k, NN_FILTER_GAUSSIAN);
    cr_assert_float_eq(k[4], 0.25f, 0);
}

Test(filter_presets, fill_replicates_over_channels) {
    size_t C = 3;
    float k[9 * 3], k2d[9];
    cr_assert_eq(nn_filter_preset_fill(k, NN_FILTER_SHARPEN, C, NULL), NN_OK);
    nn_filter_preset_2d(k2d, NN_FILTER_SHARPEN);
    for (size_t t = 0; t < 9; t++)
        for (size_t c = 0; c < C; c++) cr_assert_float_eq(k[t * C + c], k2d[t], 0);
}

Test(filter_presets, parse_names_and_errors) {
    nn_filter_preset p;
    const char *names[] = {"sobel_x", "sobel_y", "laplacian", "gaussian", "sharpen", "box", "identity"};
    for (int i = 0; i < NN_FILTER_PRESET_COUNT; i++) {
        cr_assert_eq(nn_filter_preset_parse(names[i], &p, NULL), NN_OK);
        cr_assert_eq((int)p, i);
        cr_assert_str_eq(nn_filter_preset_name(p), names[i]);
    }
    cr_assert_eq(nn_filter_preset_parse("Sobel X", &p, NULL), NN_OK);
    cr_assert_eq(p, NN_FILTER_SOBEL_X);
    cr_assert_eq(nn_filter_preset_parse("SOBEL-Y", &p, NULL), NN_OK);
    cr_assert_eq(p, NN_FILTER_SOBEL_Y);
    nn_error e;
    cr_assert_eq(nn_filter_preset_parse("emboss", &p, &e), NN_INVALID);
    cr_assert_str_eq(e.field, "kernel");
    cr_assert_not_null(strstr(e.message, "emboss"));
    cr_assert_not_null(strstr(e.message, "sobel_x"), "the message lists the presets");
    cr_assert_eq(nn_filter_preset_parse(NULL, &p, &e), NN_INVALID);
    cr_assert_eq(nn_filter_preset_fill(NULL, (nn_filter_preset)99, 3, &e), NN_INVALID);
    cr_assert_str_eq(e.field, "kernel");
    float k[9];
    cr_assert_eq(nn_filter_preset_fill(k, NN_FILTER_BOX, 0, &e), NN_INVALID);
    cr_assert_str_eq(e.field, "input");
    cr_assert_eq(nn_filter_preset_fill(k, NN_FILTER_BOX, SIZE_MAX / 2, &e), NN_TOO_LARGE);
    cr_assert_str_eq(nn_filter_preset_name((nn_filter_preset)42), "?");
}

/* On a horizontal ramp x[i][j][c] = j, sobel_x responds 8*C everywhere (inside), sobel_y 0,
 * the laplacian 0, and identity/box/gaussian give C*j at the centre column. */
Test(filter_presets, presets_in_a_convolution) {
    enum { H = 6, W = 7, C = 3 };
    float x[H * W * C], k[9 * C], y[(H - 2) * (W - 2)];
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            for (int c = 0; c < C; c++) x[(i * W + j) * C + c] = (float)j;
    nn_conv_params p = {1, 1, 0, 0, {NN_ACT_IDENTITY, 0.01f}};
    nn_filter_preset_fill(k, NN_FILTER_SOBEL_X, C, NULL);
    cr_assert_eq(nn_conv2d_forward(y, x, k, NULL, H, W, C, 1, 3, 3, &p, NULL, NULL), NN_OK);
    for (int i = 0; i < (H - 2) * (W - 2); i++) cr_assert_float_eq(y[i], 8.0f * C, 1e-5);
    nn_filter_preset_fill(k, NN_FILTER_SOBEL_Y, C, NULL);
    nn_conv2d_forward(y, x, k, NULL, H, W, C, 1, 3, 3, &p, NULL, NULL);
    for (int i = 0; i < (H - 2) * (W - 2); i++) cr_assert_float_eq(y[i], 0.0f, 1e-5);
    nn_filter_preset_fill(k, NN_FILTER_LAPLACIAN, C, NULL);
    nn_conv2d_forward(y, x, k, NULL, H, W, C, 1, 3, 3, &p, NULL, NULL);
    for (int i = 0; i < (H - 2) * (W - 2); i++) cr_assert_float_eq(y[i], 0.0f, 1e-5);
    const nn_filter_preset centred[] = {NN_FILTER_IDENTITY, NN_FILTER_BOX, NN_FILTER_GAUSSIAN, NN_FILTER_SHARPEN};
    for (size_t t = 0; t < 4; t++) {
        nn_filter_preset_fill(k, centred[t], C, NULL);
        nn_conv2d_forward(y, x, k, NULL, H, W, C, 1, 3, 3, &p, NULL, NULL);
        for (int i = 0; i < H - 2; i++)
            for (int j = 0; j < W - 2; j++)
                cr_assert_float_eq(y[i * (W - 2) + j], (float)(C * (j + 1)), 1e-4, "%s", nn_filter_preset_name(centred[t]));
    }
}
