/* srv_image.c — image decoding and resizing; see srv_image.h. stb_image is compiled into this
 * translation unit only, with PNG and JPEG alone and a hard dimension cap. */
#include "srv_image.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cancel.h"
#include "srv_base64.h"
#include "srv_budget.h"
#include "srv_json.h"

/* stb_image's allocations go through a per-thread cap set from the image's declared size, so a
 * decompression bomb (a tiny IDAT that inflates to gigabytes) fails fast instead of allocating. */
static _Thread_local size_t stbi_cap = (size_t)16 << 20;

static void *cap_malloc(size_t n) { return n <= stbi_cap ? malloc(n) : NULL; }
static void *cap_realloc(void *p, size_t n) { return n <= stbi_cap ? realloc(p, n) : NULL; }

#define STBI_MALLOC(sz) cap_malloc(sz)
#define STBI_REALLOC(p, newsz) cap_realloc(p, newsz)
#define STBI_FREE(p) free(p)
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS (1 << 14) /* hard cap; the configurable limit is checked first */
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include "srv_stb_begin.h"
#include <stb_image.h>
#include "srv_stb_end.h"

/* Walk every JPEG marker segment (also those between progressive scans) before stb_image 2.27
 * sees the file, and refuse what derails it:
 * - a DHT table whose 16 code counts sum to more than 256 (stb writes past its tables) or to 0
 *   (its bit reader goes negative: UBSan "shift exponent 34");
 * - a scan (SOS) that uses a Huffman table no earlier DHT defined: stb would decode with
 *   uninitialised tables and answer with pixels made of stale heap bytes. Which tables a scan
 *   uses follows stb: baseline scans use DC and AC; progressive DC-first scans (Ss = 0, Ah = 0)
 *   only DC, DC-refinement scans none, AC scans (Ss > 0) only AC;
 * - a DHT or SOS segment cut off by the end of the file: stb reads the missing bytes as zeros
 *   and goes on (a cut SOS once made it decode with an undefined table and index 1e9 bytes
 *   past one: fuzz_conv, after 14 M executions). */
static int jpeg_tables_ok(const unsigned char *b, size_t n) {
    int defined[2][4] = {{0}}; /* [class: 0 DC, 1 AC][table id] */
    int progressive = 0;
    size_t i = 0;
    while (i + 1 < n) {
        if (b[i] != 0xFF) { i++; continue; } /* entropy-coded data */
        unsigned m = b[i + 1];
        if (m == 0xFF) { i++; continue; }     /* fill byte */
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { i += 2; continue; }
        if (m == 0xD9) return 1;              /* EOI */
        if (i + 4 > n) return 1;              /* truncated: stb reports it */
        size_t L = (size_t)b[i + 2] << 8 | b[i + 3];
        if (L < 2) return 0;
        size_t end = i + 2 + L < n ? i + 2 + L : n; /* segment end, clipped to the file */
        if (m == 0xC2) progressive = 1;
        if ((m == 0xC4 || m == 0xDA) && i + 2 + L > n) return 0; /* cut off */
        if (m == 0xC4) {
            size_t p = i + 4;
            while (p < end) {
                if (p + 17 > end) return 0;
                unsigned tc = b[p] >> 4, th = b[p] & 15;
                size_t sum = 0;
                for (int k = 1; k <= 16; k++) sum += b[p + (size_t)k];
                if (sum > 256 || sum == 0) return 0;
                if (tc <= 1 && th <= 3) defined[tc][th] = 1; /* stb rejects other ids itself */
                p += 17 + sum;
            }
        }
        if (m == 0xDA) {
            if (i + 5 > end) return 0;
            size_t ns = b[i + 4];
            if (i + 5 + 2 * ns + 3 > end) return 0; /* shorter than its components say */
            unsigned ss = b[i + 5 + 2 * ns], ah = b[i + 7 + 2 * ns] >> 4;
            int need_dc = !progressive || (ss == 0 && ah == 0);
            int need_ac = !progressive || ss > 0;
            for (size_t k = 0; k < ns; k++) {
                unsigned td = b[i + 6 + 2 * k] >> 4, ta = b[i + 6 + 2 * k] & 15;
                if (td > 3 || ta > 3) continue; /* stb rejects these itself */
                if ((need_dc && !defined[0][td]) || (need_ac && !defined[1][ta])) return 0;
            }
        }
        i += 2 + L;
    }
    return 1;
}

/* stb_image 2.27 computes NULL + 0 on a PNG whose first IDAT chunk is empty (undefined
 * behaviour). Empty IDAT chunks carry nothing: return a copy without them (or NULL if there are
 * none, *out_n untouched). stb acts on a chunk once its 8-byte header is there, so an empty IDAT
 * whose CRC is cut off by the end of the file counts too. */
static unsigned char *png_drop_empty_idat(const unsigned char *b, size_t n, size_t *out_n) {
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n < 8 || memcmp(b, sig, 8) != 0) return NULL;
    int found = 0;
    for (size_t i = 8; i + 8 <= n;) {
        size_t len = (size_t)b[i] << 24 | (size_t)b[i + 1] << 16 | (size_t)b[i + 2] << 8 | b[i + 3];
        if (len == 0 && memcmp(b + i + 4, "IDAT", 4) == 0) { found = 1; break; }
        if (i + 12 > n || len > n - i - 12) break;
        i += 12 + len;
    }
    if (!found) return NULL;
    unsigned char *c = malloc(n);
    if (!c) return NULL;
    memcpy(c, b, 8);
    size_t o = 8, i = 8;
    while (i + 8 <= n) {
        size_t len = (size_t)b[i] << 24 | (size_t)b[i + 1] << 16 | (size_t)b[i + 2] << 8 | b[i + 3];
        if (len == 0 && memcmp(b + i + 4, "IDAT", 4) == 0) {
            i += n - i < 12 ? n - i : 12;     /* drop it, CRC and all (or what is left of it) */
            continue;
        }
        if (i + 12 > n || len > n - i - 12) break;
        memcpy(c + o, b + i, 12 + len);
        o += 12 + len;
        i += 12 + len;
    }
    memcpy(c + o, b + i, n - i); /* whatever trails (stb reports a truncation itself) */
    *out_n = o + (n - i);
    return c;
}

/* stb's failure strings may embed raw bytes of the file ("XXXX PNG chunk not known"): keep
 * printable ASCII only so the JSON message stays valid UTF-8. */
static void clean_reason(char *dst, size_t cap, const char *src) {
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[i] = '\0';
}

static int decode(const unsigned char *bytes, size_t n, int grayscale, const srv_limits *lim,
                  const char *path, srv_tensor *out, srv_err *e);

int srv_image_decode(const unsigned char *bytes, size_t n, int grayscale, const srv_limits *lim,
                     const char *path, srv_tensor *out, srv_err *e) {
    memset(out, 0, sizeof *out);
    /* stb takes anything starting with 0xFF fill bytes then SOI as a JPEG: scan all of those. */
    if (n >= 2 && bytes[0] == 0xFF && !jpeg_tables_ok(bytes, n))
        return srv_fail(e, 415, path, "%s is a corrupt JPEG (a Huffman table is empty, too large, or used before it is defined)", path);
    size_t cn = 0;
    unsigned char *copy = png_drop_empty_idat(bytes, n, &cn);
    int rc = copy ? decode(copy, cn, grayscale, lim, path, out, e) : decode(bytes, n, grayscale, lim, path, out, e);
    free(copy);
    return rc;
}

static int decode(const unsigned char *bytes, size_t n, int grayscale, const srv_limits *lim,
                  const char *path, srv_tensor *out, srv_err *e) {
    if (n > INT_MAX) return srv_fail(e, 413, path, "%s: encoded image too large", path);
    int w, h, comp;
    stbi_cap = (size_t)16 << 20;
    if (!stbi_info_from_memory(bytes, (int)n, &w, &h, &comp))
        return srv_fail(e, 415, path, "%s is not a PNG or JPEG image (or is corrupt)", path);
    if (stbi_is_16_bit_from_memory(bytes, (int)n))
        return srv_fail(e, 415, path, "%s is a 16-bit image; only 8-bit PNG/JPEG is supported", path);
    if (w <= 0 || h <= 0)
        return srv_fail(e, 415, path, "%s has no pixels", path);
    if ((size_t)w > lim->max_image_side || (size_t)h > lim->max_image_side)
        return srv_fail(e, 413, path, "%s is %dx%d; the limit is %zux%zu", path, w, h,
                        lim->max_image_side, lim->max_image_side);
    size_t C = grayscale ? 1 : 3;
    size_t shape[3] = {(size_t)h, (size_t)w, C};
    if ((size_t)w * (size_t)h * C > lim->max_tensor_elems)
        return srv_fail(e, 413, path, "%s has more than %zu values", path, lim->max_tensor_elems);
    /* stb's 8-bit RGB buffer and its working planes, held while decoding */
    if (srv_budget_need(srv_budget_mul((size_t)w * (size_t)h, 8), path, e)) return -1;
    int gw, gh, gc;
    /* Every legitimate allocation (output, PNG inflate buffer, JPEG component and coefficient
     * planes) is a few bytes per pixel of the declared size; more means a bomb. */
    stbi_cap = 8 * ((size_t)w + 32) * ((size_t)h + 32) + ((size_t)1 << 20);
    unsigned char *px = stbi_load_from_memory(bytes, (int)n, &gw, &gh, &gc, 3);
    stbi_cap = (size_t)16 << 20;
    if (!px) {
        char why[96];
        clean_reason(why, sizeof why, stbi_failure_reason());
        if (strcmp(why, "outofmem") == 0)
            return srv_fail(e, 415, path, "%s could not be decoded: its compressed data expands beyond what a %dx%d image needs", path, w, h);
        return srv_fail(e, 415, path, "%s could not be decoded: %s", path, why);
    }
    if (gw != w || gh != h) {
        stbi_image_free(px);
        return srv_fail(e, 415, path, "%s: inconsistent image header", path);
    }
    if (srv_tensor_alloc(out, shape, 3, lim->max_tensor_elems, path, e)) {
        stbi_image_free(px);
        return -1;
    }
    size_t np = (size_t)w * (size_t)h;
    float *d = out->data;
    float lut[256]; /* v / 255 in float32, exactly what the division gives */
    for (int v = 0; v < 256; v++) lut[v] = (float)v / 255.0f;
    if (!grayscale) {
        for (size_t i = 0; i < np * 3; i++) d[i] = lut[px[i]];
    } else if (comp <= 2) {
        /* A grey source: R = G = B, keep the value itself. */
        for (size_t i = 0; i < np; i++) d[i] = lut[px[3 * i]];
    } else {
        for (size_t i = 0; i < np; i++) {
            const unsigned char *p = px + 3 * i;
            d[i] = (float)((0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) / 255.0);
        }
    }
    stbi_image_free(px);
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
