/* srv_png_walk.c — a PNG's chunks, walked before stb_image decodes it; see srv_png_walk.h.
 * The walk follows stb_image 2.27's parser (stbi__parse_png_file): chunks in order up to IEND,
 * CRCs not checked, the IDAT chunks' data one zlib stream wherever they are. */
#include "srv_png_walk.h"

#include <stdlib.h>
#include <string.h>

static const unsigned char SIG[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static unsigned long be32(const unsigned char *p) {
    return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, unsigned long v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static int is_type(const unsigned char *chunk, const char *type) {
    return memcmp(chunk + 4, type, 4) == 0;
}

int srv_png_is(const unsigned char *b, size_t n) {
    return n >= 8 && memcmp(b, SIG, 8) == 0;
}

/* Colour channels of a colour type, 0 if it is not one. */
static int channels(int color) {
    switch (color) {
    case 0: return 1;
    case 2: return 3;
    case 3: return 1;
    case 4: return 2;
    case 6: return 4;
    default: return 0;
    }
}

int srv_png_header(const unsigned char *b, size_t n, srv_png_info *info, const char **why) {
    memset(info, 0, sizeof *info);
    size_t i = 8;
    while (i + 8 <= n && is_type(b + i, "CgBI")) { /* stb takes Apple's chunk before IHDR */
        info->raw = 1;
        unsigned long len = be32(b + i);
        if (len > n - i - 8) break;
        i += 12 + len;
    }
    if (i + 8 + 13 > n || !is_type(b + i, "IHDR") || be32(b + i) != 13) {
        *why = "it has no valid IHDR chunk";
        return -1;
    }
    const unsigned char *h = b + i + 8;
    info->width = be32(h);
    info->height = be32(h + 4);
    info->depth = h[8];
    info->color = h[9];
    info->interlace = h[12];
    int d = info->depth;
    if (!channels(info->color)) *why = "its colour type is invalid";
    else if (d != 1 && d != 2 && d != 4 && d != 8 && d != 16) *why = "its bit depth is invalid";
    else if (info->color == 3 && d == 16) *why = "a 16-bit palette is invalid";
    else if (info->interlace > 1) *why = "its interlace method is invalid";
    else return 0;
    return -1;
}

/* Bytes of one (sub)image of w x h pixels as filtered scanlines: a filter byte per row. */
static size_t scanlines(size_t w, size_t h, size_t bits_per_pixel) {
    if (!w || !h) return 0;
    return h * (1 + (w * bits_per_pixel + 7) / 8);
}

static size_t raw_len(const srv_png_info *in) {
    size_t W = in->width, H = in->height, bpp = (size_t)channels(in->color) * (size_t)in->depth;
    if (!in->interlace) return scanlines(W, H, bpp);
    static const int x0[7] = {0, 4, 0, 2, 0, 1, 0}, y0[7] = {0, 0, 4, 0, 2, 0, 1};
    static const int dx[7] = {8, 8, 4, 4, 2, 2, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
    size_t total = 0;
    for (int p = 0; p < 7; p++) {
        size_t pw = W > (size_t)x0[p] ? (W - (size_t)x0[p] + (size_t)dx[p] - 1) / (size_t)dx[p] : 0;
        size_t ph = H > (size_t)y0[p] ? (H - (size_t)y0[p] + (size_t)dy[p] - 1) / (size_t)dy[p] : 0;
        total += scanlines(pw, ph, bpp);
    }
    return total;
}

/* The IDAT pieces in file order, up to IEND (the callback of srv_zwalk_run). */
typedef struct idat_reader {
    const unsigned char *b;
    size_t n, pos;
} idat_reader;

static int next_idat(void *ctx, const unsigned char **p, size_t *len) {
    idat_reader *r = ctx;
    while (r->pos + 8 <= r->n && !is_type(r->b + r->pos, "IEND")) {
        size_t at = r->pos + 8, avail = r->n - at;
        unsigned long clen = be32(r->b + r->pos);
        int idat = is_type(r->b + r->pos, "IDAT");
        r->pos = clen > avail || avail - clen < 4 ? r->n : at + clen + 4;
        if (idat && clen > 0) {
            *p = r->b + at;
            *len = clen < avail ? clen : avail;
            return 1;
        }
    }
    return 0;
}

static unsigned long crc32_png(const unsigned char *p, size_t n) {
    unsigned long c = 0xffffffffUL;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320UL ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffUL;
}

/* The copy of b with the PLTE padded to 256 entries and empty IDATs left out. Only the first
 * PLTE is padded: check_chunks refuses a second one before IEND, but chunks after IEND are
 * copied too, and the buffer has room for one padding. */
static unsigned char *repair(const unsigned char *b, size_t n, size_t *out_n) {
    unsigned char *c = malloc(n + 768);
    if (!c) return NULL;
    memcpy(c, b, 8);
    size_t o = 8, i = 8;
    int padded = 0;
    while (i + 8 <= n) {
        unsigned long len = be32(b + i);
        if (len == 0 && is_type(b + i, "IDAT")) {
            i += n - i < 12 ? n - i : 12; /* dropped, CRC and all (or what is left of it) */
            continue;
        }
        if (len > n - i - 8 || n - i - 8 - len < 4) break; /* cut short: copied as it is */
        if (!padded && is_type(b + i, "PLTE") && len > 0 && len < 768 && len % 3 == 0) {
            padded = 1;
            put_be32(c + o, 768);
            memcpy(c + o + 4, b + i + 4, 4 + len);
            memset(c + o + 8 + len, 0, 768 - len);
            put_be32(c + o + 8 + 768, crc32_png(c + o + 4, 4 + 768));
            o += 12 + 768;
        } else {
            memcpy(c + o, b + i, 12 + len);
            o += 12 + len;
        }
        i += 12 + len;
    }
    memcpy(c + o, b + i, n - i); /* whatever trails (stb reports a truncation itself) */
    *out_n = o + (n - i);
    return c;
}

/* Chunk checks: at most one PLTE, no tRNS longer than the PLTE before it; whether the copy is
 * needed; whether a CgBI chunk comes before IEND (stb then inflates plain deflate). 0, or -1
 * with *why. */
static int check_chunks(const unsigned char *b, size_t n, srv_png_info *info, int *needs_copy,
                        const char **why) {
    size_t i = 8, plte_entries = 0, plte_count = 0;
    *needs_copy = 0;
    while (i + 8 <= n && !is_type(b + i, "IEND")) {
        unsigned long len = be32(b + i);
        if (is_type(b + i, "CgBI")) info->raw = 1;
        if (is_type(b + i, "IDAT") && len == 0) *needs_copy = 1;
        if (is_type(b + i, "PLTE")) {
            if (++plte_count > 1) {
                *why = "it has more than one PLTE chunk";
                return -1;
            }
            plte_entries = len / 3;
            if (info->color == 3 && len > 0 && len < 768 && len % 3 == 0) *needs_copy = 1;
        }
        if (is_type(b + i, "tRNS") && info->color == 3 && plte_entries && len > plte_entries) {
            *why = "its tRNS chunk has more entries than its PLTE";
            return -1;
        }
        if (len > n - i - 8) break;
        i += 12 + len;
    }
    return 0;
}

int srv_png_walk(const unsigned char *b, size_t n, size_t max_blocks, srv_png_info *info,
                 const char **why) {
    info->raw_len = raw_len(info);
    int needs_copy;
    if (check_chunks(b, n, info, &needs_copy, why)) return -1;
    idat_reader r = {b, n, 8};
    info->z_end = srv_zwalk_run(&info->z, info->raw, info->raw_len, max_blocks, next_idat, &r);
    if (needs_copy) {
        info->fixed = repair(b, n, &info->fixed_len);
        if (!info->fixed) {
            *why = "out of memory";
            return -1;
        }
    }
    return 0;
}
