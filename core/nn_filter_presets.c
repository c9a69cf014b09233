/* nn_filter_presets.c — preset 3x3 filters; see nn_filter_presets.h. */
#include "nn_filter_presets.h"

#include <ctype.h>
#include <string.h>

static const char *const names[NN_FILTER_PRESET_COUNT] = {
    "sobel_x", "sobel_y", "laplacian", "gaussian", "sharpen", "box", "identity",
};

static const float presets[NN_FILTER_PRESET_COUNT][9] = {
    {-1, 0, 1, -2, 0, 2, -1, 0, 1},
    {-1, -2, -1, 0, 0, 0, 1, 2, 1},
    {0, 1, 0, 1, -4, 1, 0, 1, 0},
    {1.0f / 16, 2.0f / 16, 1.0f / 16, 2.0f / 16, 4.0f / 16, 2.0f / 16, 1.0f / 16, 2.0f / 16, 1.0f / 16},
    {0, -1, 0, -1, 5, -1, 0, -1, 0},
    {1.0f / 9, 1.0f / 9, 1.0f / 9, 1.0f / 9, 1.0f / 9, 1.0f / 9, 1.0f / 9, 1.0f / 9, 1.0f / 9},
    {0, 0, 0, 0, 1, 0, 0, 0, 0},
};

/* Lowercase, with ' ' and '-' read as '_' ("Sobel X" -> "sobel_x"). */
static void canon(char *out, size_t cap, const char *in) {
    size_t j = 0;
    for (; *in && j + 1 < cap; in++) {
        unsigned char ch = (unsigned char)*in;
        out[j++] = (ch == ' ' || ch == '-') ? '_' : (char)tolower(ch);
    }
    out[j] = '\0';
}

nn_code nn_filter_preset_parse(const char *name, nn_filter_preset *out, nn_error *err) {
    if (!name) return nn_fail(err, NN_INVALID, "kernel", "kernel preset must be a string");
    char s[32];
    if (strlen(name) < sizeof s) {
        canon(s, sizeof s, name);
        for (int i = 0; i < NN_FILTER_PRESET_COUNT; i++)
            if (!strcmp(s, names[i])) {
                if (out) *out = (nn_filter_preset)i;
                return NN_OK;
            }
    }
    return nn_fail(err, NN_INVALID, "kernel",
                   "unknown kernel preset '%.40s' (sobel_x, sobel_y, laplacian, gaussian, sharpen, "
                   "box, identity)", name);
}

const char *nn_filter_preset_name(nn_filter_preset preset) {
    if ((unsigned)preset >= NN_FILTER_PRESET_COUNT) return "?";
    return names[preset];
}

void nn_filter_preset_2d(float k2d[9], nn_filter_preset preset) {
    if ((unsigned)preset >= NN_FILTER_PRESET_COUNT) {
        memset(k2d, 0, 9 * sizeof *k2d);
        return;
    }
    memcpy(k2d, presets[preset], 9 * sizeof *k2d);
}

nn_code nn_filter_preset_fill(float *k, nn_filter_preset preset, size_t C, nn_error *err) {
    if ((unsigned)preset >= NN_FILTER_PRESET_COUNT)
        return nn_fail(err, NN_INVALID, "kernel", "unknown kernel preset %d", (int)preset);
    if (C == 0) return nn_fail(err, NN_INVALID, "input", "input must have at least 1 channel");
    size_t total;
    if (nn_size_mul(C, 9, &total))
        return nn_fail(err, NN_TOO_LARGE, "input", "channel count %zu is too large", C);
    for (size_t t = 0; t < 9; t++)
        for (size_t c = 0; c < C; c++) k[t * C + c] = presets[preset][t];
    return NN_OK;
}
