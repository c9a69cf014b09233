/* test_image_walk.c — the walks that bound decoding before stb_image runs (issue 13):
 * srv_zwalk against zlib itself (the reference inflater) on streams of every compression level
 * and strategy, cut into pieces and corrupted; the counts srv_png_walk and srv_jpeg_walk give for
 * crafted files of tests/data/bad_images whose structure is known. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "srv_jpeg_walk.h"
#include "srv_png_walk.h"
#include "srv_zwalk.h"

/* Input in pieces of `piece` bytes (0: one piece). */
typedef struct pieces {
    const unsigned char *p;
    size_t n, done, piece;
} pieces;

static int next_piece(void *ctx, const unsigned char **p, size_t *n) {
    pieces *s = ctx;
    if (s->done >= s->n) return 0;
    size_t k = s->piece && s->piece < s->n - s->done ? s->piece : s->n - s->done;
    *p = s->p + s->done;
    *n = k;
    s->done += k;
    return 1;
}

/* zlib's verdict on a raw deflate stream: 1 if it ends properly, with its length in *out. */
static int zlib_ends(const unsigned char *z, size_t n, size_t *out) {
    z_stream st;
    memset(&st, 0, sizeof st);
    cr_assert_eq(inflateInit2(&st, -15), Z_OK);
    st.next_in = (unsigned char *)z;
    st.avail_in = (uInt)n;
    static unsigned char buf[1 << 16];
    int rc;
    *out = 0;
    do {
        st.next_out = buf;
        st.avail_out = sizeof buf;
        rc = inflate(&st, Z_NO_FLUSH);
        *out += sizeof buf - st.avail_out;
    } while (rc == Z_OK && (st.avail_in || st.avail_out == 0));
    inflateEnd(&st);
    return rc == Z_STREAM_END;
}

Test(image_walk, zwalk_agrees_with_zlib_on_every_kind_of_stream, .timeout = 120) {
    static const int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED};
    size_t cap = 1 << 16;
    unsigned char *raw = malloc(cap), *z = malloc(2 * cap + 1024);
    srand(7);
    int ended = 0, refused = 0;
    for (int it = 0; it < 2000; it++) {
        size_t n = (size_t)rand() % cap;
        int kind = rand() % 3;
        for (size_t i = 0; i < n; i++)
            raw[i] = (unsigned char)(kind == 0 ? rand() : kind == 1 ? "abcab"[rand() % 5] : (int)(i / 97));
        z_stream st;
        memset(&st, 0, sizeof st);
        cr_assert_eq(deflateInit2(&st, rand() % 10, Z_DEFLATED, 8 + rand() % 8, 1 + rand() % 9,
                                  strategies[rand() % 5]), Z_OK);
        st.next_in = raw;
        st.avail_in = (uInt)n;
        st.next_out = z;
        st.avail_out = (uInt)(2 * cap + 1024);
        cr_assert_eq(deflate(&st, Z_FINISH), Z_STREAM_END);
        size_t zn = st.total_out;
        deflateEnd(&st);
        if (it % 2 && zn > 2) /* corrupt a few bits past the header */
            for (int k = 1 + rand() % 4; k > 0; k--) z[2 + (size_t)rand() % (zn - 2)] ^= (unsigned char)(1 << (rand() % 8));
        size_t zout = 0;
        int zok = zlib_ends(z + 2, zn - 2, &zout);
        pieces src = {z, zn, 0, rand() % 3 ? 0 : 1 + (size_t)rand() % 64};
        srv_zwalk w;
        srv_zwalk_end r = srv_zwalk_run(&w, 0, (size_t)-1, (size_t)-1, next_piece, &src);
        cr_assert_eq(r == SRV_ZWALK_DONE, zok, "stream %d: walk %d (%s), zlib %s", it, r,
                     w.error ? w.error : "-", zok ? "ends" : "fails");
        if (zok) cr_assert_eq(w.out, zout, "stream %d: %zu bytes out, zlib %zu", it, w.out, zout);
        ended += zok;
        refused += !zok;
    }
    cr_assert(ended > 1000 && refused > 100, "%d ended, %d refused", ended, refused);
    free(raw);
    free(z);
}

static srv_zwalk_end walk_buf(const unsigned char *z, size_t n, size_t max_out, size_t max_blocks,
                              srv_zwalk *w) {
    pieces src = {z, n, 0, 0};
    return srv_zwalk_run(w, 0, max_out, max_blocks, next_piece, &src);
}

Test(image_walk, zwalk_stops_at_its_limits) {
    unsigned char raw[4000], z[8000];
    memset(raw, 'x', sizeof raw);
    uLongf zn = sizeof z;
    cr_assert_eq(compress2(z, &zn, raw, sizeof raw, 9), Z_OK);
    srv_zwalk w;
    cr_assert_eq(walk_buf(z, zn, sizeof raw, 10, &w), SRV_ZWALK_DONE);
    cr_assert_eq(w.out, sizeof raw);
    cr_assert_eq(walk_buf(z, zn, sizeof raw - 1, 10, &w), SRV_ZWALK_TOO_MUCH_OUT);
    cr_assert_eq(walk_buf(z, zn, sizeof raw, 0, &w), SRV_ZWALK_TOO_MANY_BLOCKS);
    cr_assert_eq(walk_buf(z, zn / 2, sizeof raw, 10, &w), SRV_ZWALK_TRUNCATED);
    z[0] = 0x79; /* header check fails */
    cr_assert_eq(walk_buf(z, zn, sizeof raw, 10, &w), SRV_ZWALK_CORRUPT);
    cr_assert_str_eq(w.error, "incorrect header check");
}

static unsigned char *slurp(const char *name, size_t *n) {
    char path[256];
    snprintf(path, sizeof path, "tests/data/bad_images/%s", name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s (run from the repository root)", path);
    unsigned char *b = malloc(8 << 20);
    *n = fread(b, 1, 8 << 20, f);
    fclose(f);
    return b;
}

static srv_png_info png_of(const char *name, const char **why, int *rc) {
    size_t n;
    unsigned char *b = slurp(name, &n);
    srv_png_info p;
    cr_assert_eq(srv_png_header(b, n, &p, why), 0, "%s", name);
    *rc = srv_png_walk(b, n, (size_t)-1, &p, why);
    free(b);
    return p;
}

Test(image_walk, png_walk_sizes_repairs_and_refusals) {
    const char *why = NULL;
    int rc;
    srv_png_info p = png_of("png_interlaced_control.png", &why, &rc);
    cr_assert_eq(rc, 0);
    /* 64x64 RGB in Adam7: passes of 8x8, 8x8, 16x8, 16x16, 32x16, 32x32, 64x32 pixels */
    cr_assert_eq(p.raw_len, 8 * 25 + 8 * 25 + 8 * 49 + 16 * 49 + 16 * 97 + 32 * 97 + 32 * 193);
    cr_assert_eq(p.z_end, SRV_ZWALK_DONE);
    cr_assert_eq(p.z.out, p.raw_len);
    cr_assert_null(p.fixed);
    p = png_of("png_palette_short_plte.png", &why, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_not_null(p.fixed, "a one-entry PLTE is padded in a copy");
    cr_assert_eq(p.fixed_len, 355 + 765);
    free(p.fixed);
    /* Chunks after IEND are copied too; a second short PLTE there must not be padded as well
     * (the copy has room for one padding: it overflowed, found by fuzz_image). */
    p = png_of("png_plte_after_iend.png", &why, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_not_null(p.fixed);
    cr_assert_eq(p.fixed_len, 665 + 765, "only the first PLTE is padded (got %zu)", p.fixed_len);
    free(p.fixed);
    p = png_of("png_fixed_block_bomb.png", &why, &rc);
    cr_assert_eq(p.z_end, SRV_ZWALK_DONE);
    cr_assert_eq(p.z.blocks[1], 800000);
    p = png_of("png_dynamic_blocks_2000.png", &why, &rc);
    cr_assert_eq(p.z_end, SRV_ZWALK_DONE);
    cr_assert_eq(p.z.blocks[2], 2000);
    cr_assert_eq(p.z.blocks[0], 1); /* the image data, stored */
    cr_assert_eq(p.z.out, p.raw_len);
    p = png_of("png_trns_longer_than_plte.png", &why, &rc);
    cr_assert_eq(rc, -1);
    cr_assert(strstr(why, "tRNS"), "%s", why);
    p = png_of("png_two_plte.png", &why, &rc);
    cr_assert_eq(rc, -1);
    cr_assert(strstr(why, "more than one PLTE"), "%s", why);
}

static srv_jpeg_info jpeg_of(const char *name) {
    size_t n;
    unsigned char *b = slurp(name, &n);
    srv_jpeg_info j;
    const char *why = NULL;
    cr_assert_eq(srv_jpeg_walk(b, n, &j, &why), 0, "%s: %s", name, why);
    free(b);
    return j;
}

Test(image_walk, jpeg_walk_counts_scans_and_blocks) {
    /* libjpeg's script over 64x64 YCbCr (8x8 blocks per component): two interleaved DC scans of
     * 3 x 64 blocks, eight AC scans of 64 */
    srv_jpeg_info j = jpeg_of("jpg_progressive_libjpeg_script.jpg");
    cr_assert(j.sized && j.progressive);
    cr_assert_eq(j.width, 64);
    cr_assert_eq(j.scans, 10);
    cr_assert_eq(j.scan_blocks, 2 * 192 + 8 * 64);
    cr_assert_eq(j.frame_blocks, 192);
    cr_assert_eq(j.huffman_tables, 2);
    j = jpeg_of("jpg_baseline_48_scans.jpg");
    cr_assert_eq(j.scans, 48);
    cr_assert_eq(j.scan_blocks, 48.0 * 288 * 288 * 3);
    j = jpeg_of("jpg_progressive_400_scans.jpg");
    cr_assert_eq(j.scans, 401);
    j = jpeg_of("jpg_16385x8.jpg");
    cr_assert(j.sized && j.width == 16385 && j.height == 8);
}
