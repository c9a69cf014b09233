/* srv_render.c — feature maps to base64 PNGs; see srv_render.h. stb_image_write is compiled
 * into this translation unit only. */
#include "srv_render.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "srv_base64.h"

#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "srv_stb_begin.h"
#include <stb_image_write.h>
#include "srv_stb_end.h"

typedef struct png_out {
    unsigned char *p;
    size_t len, cap;
    int oom;
} png_out;

static void png_write(void *ctx, void *data, int size) {
    png_out *o = ctx;
    if (o->oom || size <= 0) return;
    size_t need = o->len + (size_t)size;
    if (need > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4096;
        while (cap < need) cap *= 2;
        unsigned char *p = realloc(o->p, cap);
        if (!p) { o->oom = 1; return; }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, data, (size_t)size);
    o->len = need;
}

unsigned char *srv_render_png(const float *x, size_t H, size_t W, size_t C, size_t c,
                              float *min, float *max, size_t *png_len) {
    size_t n = H * W;
    if (H > INT_MAX || W > INT_MAX) return NULL;
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        float v = x[i * C + c];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    *min = lo;
    *max = hi;
    unsigned char *px = malloc(n ? n : 1);
    if (!px) return NULL;
    float scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;
    for (size_t i = 0; i < n; i++) {
        float v = (x[i * C + c] - lo) * scale;
        px[i] = (unsigned char)(v >= 0.0f ? (v <= 255.0f ? (int)(v + 0.5f) : 255) : 0);
    }
    png_out o = {0};
    int ok = stbi_write_png_to_func(png_write, &o, (int)W, (int)H, 1, px, (int)W);
    free(px);
    if (!ok || o.oom) {
        free(o.p);
        return NULL;
    }
    *png_len = o.len;
    return o.p;
}

int srv_render_maps(srv_buf *b, const float *x, size_t H, size_t W, size_t C) {
    srv_buf_puts(b, "\"maps\":[");
    for (size_t c = 0; c < C; c++) {
        float lo, hi;
        size_t len, blen;
        unsigned char *png = srv_render_png(x, H, W, C, c, &lo, &hi, &len);
        if (!png) return -1;
        char *s = srv_base64_encode(png, len, &blen);
        free(png);
        if (!s) return -1;
        if (c) srv_buf_putc(b, ',');
        srv_buf_puts(b, "{\"png\":\"");
        srv_buf_put(b, s, blen);
        free(s);
        srv_buf_puts(b, "\",\"min\":");
        srv_buf_float(b, lo);
        srv_buf_puts(b, ",\"max\":");
        srv_buf_float(b, hi);
        srv_buf_putc(b, '}');
    }
    srv_buf_putc(b, ']');
    return b->oom ? -1 : 0;
}
