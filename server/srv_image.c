/* srv_image.c — images as input tensors: decoded pixels (srv_pixels.h) to floats, resizing, and
 * the request's input volume; see srv_image.h. */
#include "srv_image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cancel.h"
#include "srv_base64.h"
#include "srv_json.h"
#include "srv_pixels.h"

int srv_image_decode(const unsigned char *bytes, size_t n, int grayscale, const srv_limits *lim,
                     const char *path, srv_tensor *out, srv_err *e) {
    memset(out, 0, sizeof *out);
    size_t C = grayscale ? 1 : 3;
    srv_pixels px;
    if (srv_pixels_decode(bytes, n, C, lim, path, &px, e)) return -1;
    size_t shape[3] = {px.height, px.width, C};
    if (srv_tensor_alloc(out, shape, 3, lim->max_tensor_elems, path, e)) {
        srv_pixels_free(&px);
        return -1;
    }
    size_t np = px.width * px.height;
    float *d = out->data;
    const unsigned char *rgb = px.rgb;
    float lut[256]; /* v / 255 in float32, exactly what the division gives */
    for (int v = 0; v < 256; v++) lut[v] = (float)v / 255.0f;
    if (!grayscale) {
        for (size_t i = 0; i < np * 3; i++) d[i] = lut[rgb[i]];
    } else if (px.grey) {
        /* A grey source: R = G = B, keep the value itself. */
        for (size_t i = 0; i < np; i++) d[i] = lut[rgb[3 * i]];
    } else {
        for (size_t i = 0; i < np; i++) {
            const unsigned char *p = rgb + 3 * i;
            d[i] = (float)((0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) / 255.0);
        }
    }
    srv_pixels_free(&px);
    return 0;
}

int srv_image_resize(const srv_tensor *x, size_t OH, size_t OW, const srv_limits *lim,
                     const char *path, srv_tensor *out, srv_err *e) {
    size_t H = x->shape[0], W = x->shape[1], C = x->shape[2];
    size_t shape[3] = {OH, OW, C};
    if (srv_tensor_alloc(out, shape, 3, lim->max_tensor_elems, path, e)) return -1;
    float sh = (float)H / (float)OH, sw = (float)W / (float)OW;
    for (size_t oy = 0; oy < OH; oy++) {
        if (nn_cancelled()) { /* a row is at most max_image_side * C values */
            srv_tensor_free(out);
            return srv_fail_cancelled(e);
        }
        float sy = sh * ((float)oy + 0.5f) - 0.5f;
        if (sy < 0) sy = 0;
        size_t y0 = (size_t)sy;
        size_t y1 = y0 + (y0 < H - 1 ? 1 : 0);
        float ly1 = sy - (float)y0, ly0 = 1.0f - ly1;
        for (size_t ox = 0; ox < OW; ox++) {
            float sx = sw * ((float)ox + 0.5f) - 0.5f;
            if (sx < 0) sx = 0;
            size_t x0 = (size_t)sx;
            size_t x1 = x0 + (x0 < W - 1 ? 1 : 0);
            float lx1 = sx - (float)x0, lx0 = 1.0f - lx1;
            const float *a = x->data + (y0 * W + x0) * C, *b = x->data + (y0 * W + x1) * C;
            const float *c = x->data + (y1 * W + x0) * C, *d = x->data + (y1 * W + x1) * C;
            float *o = out->data + (oy * OW + ox) * C;
            for (size_t k = 0; k < C; k++)
                o[k] = ly0 * (lx0 * a[k] + lx1 * b[k]) + ly1 * (lx0 * c[k] + lx1 * d[k]);
        }
    }
    return 0;
}

int srv_request_input(const cJSON *req, const srv_limits *lim, srv_tensor *out, srv_err *e) {
    memset(out, 0, sizeof *out);
    const cJSON *img = srv_json_get(req, "image"), *in = srv_json_get(req, "input");
    if (img && in) return srv_fail(e, 400, "input", "give either \"image\" or \"input\", not both");
    if (!img && !in)
        return srv_fail(e, 400, "input", "missing \"image\" (base64 PNG/JPEG) or \"input\" (tensor [H, W, C])");
    int gray;
    if (srv_json_bool_opt(req, "grayscale", "", 0, &gray, e)) return -1;
    if (img) {
        const char *s;
        if (srv_json_string(img, "image", &s, e)) return -1;
        size_t len, pos;
        const char *why;
        unsigned char *bytes = srv_base64_decode(s, strlen(s), &len, &why, &pos);
        if (!bytes) {
            if (strcmp(why, "out of memory") == 0) return srv_fail(e, 503, "image", "out of memory");
            return srv_fail(e, 400, "image", "image is not valid base64: %s (at character %zu)", why, pos);
        }
        int rc = srv_image_decode(bytes, len, gray, lim, "image", out, e);
        free(bytes);
        if (rc) return -1;
    } else {
        if (srv_json_get(req, "grayscale"))
            return srv_fail(e, 400, "grayscale", "grayscale applies to \"image\" only");
        if (srv_tensor_parse(in, "input", lim->max_tensor_elems, out, e)) return -1;
        if (out->ndim == 2) {
            out->shape[2] = 1;
            out->ndim = 3;
        }
        if (out->ndim != 3) {
            srv_tensor_free(out);
            return srv_fail(e, 400, "input", "input must be [H, W, C] (or [H, W])");
        }
    }
    const cJSON *rs = srv_json_get(req, "resize");
    if (rs) {
        long long size[2];
        if (!cJSON_IsArray(rs)) {
            srv_tensor_free(out);
            return srv_fail(e, 400, "resize", "resize must be [H, W]");
        }
        if (srv_json_pair_opt(req, "resize", "", 1, (long long)lim->max_image_side, 1, size, e)) {
            srv_tensor_free(out);
            return -1;
        }
        srv_tensor r;
        int rc = srv_image_resize(out, (size_t)size[0], (size_t)size[1], lim, "resize", &r, e);
        srv_tensor_free(out);
        if (rc) return -1;
        *out = r;
    }
    return 0;
}
