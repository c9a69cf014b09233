/* srv_pixels.c — PNG/JPEG decoding with the work bounded first; see srv_pixels.h. stb_image is
 * (srv_stb_image.c) is built with PNG and JPEG alone and a hard dimension cap. */
#include "srv_pixels.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cancel.h"
#include "srv_budget.h"
#include "srv_jpeg_walk.h"
#include "srv_png_walk.h"
#include "srv_stb_image.h"


/* Decoding work in flop-equivalents: max_work_flops (default 2e10, "1-2 s of one core") bounds
 * decoding as it bounds arithmetic, at 20 flop-equivalents per ns of stb's CPU time. Measured on
 * the release build (gcc -O2), CPU time of one core (docs/reliability.md has the runs):
 *   JPEG, an 8x8 block a scan covers: 40-46 ns in a scan with no data, more with real
 *     coefficients (the inverse DCT of a baseline block) -> 2048 (~100 ns); the last pass of a
 *     progressive frame (dequantisation, inverse DCT): ~145 ns a block -> 3072;
 *   JPEG, a Huffman table defined: 0.4 us (one code) to 1.2 us (162 codes) -> 24576;
 *   PNG, a deflate block with the fixed codes: 1.5 us (stb rebuilds the fixed tables for every
 *     block: 10 bits of input each) -> 32768; with dynamic codes: 0.9 us for the smallest code
 *     set zlib accepts (91 bits), more for larger sets -> 24576; a stored block -> 1024;
 *   PNG, a byte of compressed data: walking it here and inflating it in stb, ~7-10 ns -> 200;
 *     an inflated byte (unfiltering, copying): ~2.1 ns -> 64;
 *   both, a pixel's colour conversion and output: 4-5 ns -> 128.
 * Real images count 14-35 flop-equivalents per ns of their decoding (a 2048x2048 photo as PNG
 * 3.3e9 for 142 ms, as progressive JPEG 1.9e9 for 69 ms; a 4096x4096 grey progressive JPEG
 * 6.2e9 for 206 ms): all far within the default. */
#define WORK_JPEG_BLOCK 2048.0
#define WORK_JPEG_FINAL 3072.0
#define WORK_JPEG_TABLE 24576.0
#define WORK_ZFIXED 32768.0
#define WORK_ZDYNAMIC 24576.0
#define WORK_ZSTORED 1024.0
#define WORK_PNG_INPUT 200.0
#define WORK_PNG_BYTE 64.0
#define WORK_PIXEL 128.0

static int check_size(unsigned long w, unsigned long h, size_t channels, const srv_limits *lim,
                      const char *path, srv_err *e) {
    if (w == 0 || h == 0) return srv_fail(e, 415, path, "%s has no pixels (%lux%lu)", path, w, h);
    if (w > lim->max_image_side || h > lim->max_image_side)
        return srv_fail(e, 413, path, "%s is %lux%lu; the limit is %zux%zu", path, w, h,
                        lim->max_image_side, lim->max_image_side);
    if (w > STBI_MAX_DIMENSIONS || h > STBI_MAX_DIMENSIONS)
        return srv_fail(e, 413, path, "%s is %lux%lu; at most %dx%d can be decoded", path, w, h,
                        STBI_MAX_DIMENSIONS, STBI_MAX_DIMENSIONS);
    if ((double)w * (double)h * (double)channels > (double)lim->max_tensor_elems)
        return srv_fail(e, 413, path, "%s is %lux%lu: %.0f values, over the limit of %zu", path,
                        w, h, (double)w * (double)h * (double)channels, lim->max_tensor_elems);
    return 0;
}

static int over_budget(double work, const char *what, const char *path, const srv_limits *lim,
                       srv_err *e) {
    if (work <= lim->max_work_flops) return 0;
    return srv_fail(e, 413, path, "decoding %s needs %.3g flops (%s); the limit is %.3g", path,
                    work, what, lim->max_work_flops);
}

/* A JPEG's walk: corrupt tables, size, scans and work. */
static int walk_jpeg(const unsigned char *b, size_t n, size_t channels, const srv_limits *lim,
                     const char *path, double *work, srv_err *e) {
    srv_jpeg_info j;
    const char *why = NULL;
    if (srv_jpeg_walk(b, n, &j, &why)) return srv_fail(e, 415, path, "%s is a corrupt JPEG: %s", path, why);
    if (!j.sized) return 0; /* no frame: stb says what is wrong */
    if (check_size(j.width, j.height, channels, lim, path, e)) return -1;
    if (j.scans > SRV_JPEG_MAX_SCANS)
        return srv_fail(e, 415, path, "%s has %zu scans; at most %d are accepted (encoders write "
                                      "up to 18)", path, j.scans, SRV_JPEG_MAX_SCANS);
    *work = WORK_JPEG_BLOCK * j.scan_blocks + (j.progressive ? WORK_JPEG_FINAL * j.frame_blocks : 0) +
            WORK_JPEG_TABLE * (double)j.huffman_tables + WORK_PIXEL * (double)j.width * (double)j.height;
    char what[96];
    snprintf(what, sizeof what, "%zu scans over a %lux%lu frame", j.scans, j.width, j.height);
    return over_budget(*work, what, path, lim, e);
}

/* A PNG's walk: size, compressed data, work; *fixed is the repaired copy or NULL. */
static int walk_png(const unsigned char *b, size_t n, size_t channels, const srv_limits *lim,
                    const char *path, double *work, unsigned char **fixed, size_t *fixed_n,
                    srv_err *e) {
    srv_png_info p;
    const char *why = NULL;
    if (srv_png_header(b, n, &p, &why)) return srv_fail(e, 415, path, "%s is a corrupt PNG: %s", path, why);
    if (check_size(p.width, p.height, channels, lim, path, e)) return -1;
    double pixels = WORK_PIXEL * (double)p.width * (double)p.height;
    double room = (lim->max_work_flops - pixels) / WORK_ZDYNAMIC + 1;
    size_t max_blocks = room < 1 ? 1 : room >= (double)SIZE_MAX ? SIZE_MAX : (size_t)room;
    if (srv_png_walk(b, n, max_blocks, &p, &why)) return srv_fail(e, 415, path, "%s is a corrupt PNG: %s", path, why);
    *fixed = p.fixed;
    *fixed_n = p.fixed_len;
    if (p.z_end == SRV_ZWALK_CORRUPT)
        return srv_fail(e, 415, path, "%s is a corrupt PNG: its compressed data is invalid (%s)", path, p.z.error);
    if (p.z_end == SRV_ZWALK_TOO_MUCH_OUT)
        return srv_fail(e, 415, path, "%s could not be decoded: its compressed data expands beyond "
                                      "what a %lux%lu image needs", path, p.width, p.height);
    double coded = (double)(p.z.blocks[1] + p.z.blocks[2]);
    *work = WORK_ZFIXED * (double)p.z.blocks[1] + WORK_ZDYNAMIC * (double)p.z.blocks[2] +
            WORK_ZSTORED * (double)p.z.blocks[0] + WORK_PNG_INPUT * (double)p.z.in +
            WORK_PNG_BYTE * (double)p.z.out + pixels;
    char what[96];
    snprintf(what, sizeof what, "%s%.0f compressed blocks for a %lux%lu image",
             p.z_end == SRV_ZWALK_TOO_MANY_BLOCKS ? "over " : "", coded, p.width, p.height);
    return over_budget(*work, what, path, lim, e);
}

/* stb's failure strings may embed raw bytes of the file ("XXXX PNG chunk not known"): keep
 * printable ASCII only so the JSON message stays valid UTF-8. */
static void clean_reason(char *dst, size_t cap, const char *src) {
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[i] = '\0';
}

/* stb_image itself, on a file that passed the walks (the size is checked again: a file no walk
 * read is decoded only if stb's own header says it fits). */
static int run_stb(const unsigned char *b, size_t n, size_t channels, const srv_limits *lim,
                   const char *path, srv_pixels *out, srv_err *e) {
    int w, h, comp;
    srv_stb_set_cap(SRV_STB_CAP_HEADER);
    if (!stbi_info_from_memory(b, (int)n, &w, &h, &comp))
        return srv_fail(e, 415, path, "%s is not a PNG or JPEG image (or is corrupt)", path);
    if (stbi_is_16_bit_from_memory(b, (int)n))
        return srv_fail(e, 415, path, "%s is a 16-bit image; only 8-bit PNG/JPEG is supported", path);
    if (w <= 0 || h <= 0) return srv_fail(e, 415, path, "%s has no pixels", path);
    if (check_size((unsigned long)w, (unsigned long)h, channels, lim, path, e)) return -1;
    /* stb's 8-bit RGB buffer and its working planes, held while decoding */
    if (srv_budget_need(srv_budget_mul((size_t)w * (size_t)h, 8), path, e)) return -1;
    /* Every legitimate allocation (output, PNG inflate buffer, JPEG component and coefficient
     * planes) is a few bytes per pixel of the declared size; more means a bomb. */
    srv_stb_set_cap(8 * ((size_t)w + 32) * ((size_t)h + 32) + ((size_t)1 << 20));
    int gw, gh, gc;
    unsigned char *px = stbi_load_from_memory(b, (int)n, &gw, &gh, &gc, 3);
    srv_stb_set_cap(SRV_STB_CAP_HEADER);
    if (!px) {
        char why[96];
        clean_reason(why, sizeof why, stbi_failure_reason());
        if (strcmp(why, "outofmem") == 0)
            return srv_fail(e, 415, path, "%s could not be decoded: its compressed data expands "
                                          "beyond what a %dx%d image needs", path, w, h);
        return srv_fail(e, 415, path, "%s could not be decoded: %s", path, why);
    }
    if (gw != w || gh != h) {
        stbi_image_free(px);
        return srv_fail(e, 415, path, "%s: inconsistent image header", path);
    }
    out->rgb = px;
    out->width = (size_t)w;
    out->height = (size_t)h;
    out->grey = comp <= 2;
    return 0;
}

int srv_pixels_decode(const unsigned char *bytes, size_t n, size_t channels, const srv_limits *lim,
                      const char *path, srv_pixels *out, srv_err *e) {
    memset(out, 0, sizeof *out);
    if (n > INT_MAX) return srv_fail(e, 413, path, "%s: encoded image too large", path);
    unsigned char *fixed = NULL;
    size_t fixed_n = 0;
    int rc;
    /* stb takes anything starting with 0xFF fill bytes then SOI as a JPEG: walk all of those. */
    if (n >= 2 && bytes[0] == 0xFF)
        rc = walk_jpeg(bytes, n, channels, lim, path, &out->work, e);
    else if (srv_png_is(bytes, n))
        rc = walk_png(bytes, n, channels, lim, path, &out->work, &fixed, &fixed_n, e);
    else
        rc = 0; /* neither: stb says so */
    /* stb cannot be interrupted: a request cancelled during the walk (client gone, daemon
     * stopping) does not start it; once started it is bounded by the work budget (~1 s). */
    if (rc == 0 && nn_cancelled()) rc = srv_fail_cancelled(e);
    if (rc == 0)
        rc = fixed ? run_stb(fixed, fixed_n, channels, lim, path, out, e)
                   : run_stb(bytes, n, channels, lim, path, out, e);
    free(fixed);
    return rc;
}

void srv_pixels_free(srv_pixels *p) {
    if (p->rgb) stbi_image_free(p->rgb);
    p->rgb = NULL;
}
