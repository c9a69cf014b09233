/* srv_stb_image.c — stb_image's implementation (Debian's header, srv_stb_image.h's build of it)
 * and the allocator it uses. It is alone in this translation unit so that it alone is compiled
 * with -fwrapv (Makefile, mk/fuzz.mk): stb 2.27 multiplies a JPEG block's DC value, which a
 * corrupt file can drive without bound (each block adds up to +-32767 to the prediction), by
 * the quantiser or by 2^Al in int (stbi__jpeg_decode_block_prog_dc: -294903 * 8192 in the
 * file fuzz_image found, tests/data/bad_images/jpeg_dc_overflow.jpg). In C that overflow is
 * undefined; with -fwrapv it wraps, the same on every build, and the file decodes to
 * deterministic garbage as any corrupt entropy data does (stb 2.28 and later refuse it). Our
 * own code keeps UBSan's signed-overflow checks. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "srv_stb_image.h" /* the declarations and SRV_STB_CAP_HEADER (no implementation yet) */

/* stb_image's allocations are zero-filled, so that nothing it leaves unwritten (the planes of
 * components no scan covers, a progressive JPEG's coefficients without a DC scan, blocks after
 * a scan that ends early) is stale heap memory in the answer; grown blocks are zeroed too. Each
 * allocation is capped (per thread) from the image's declared size, so a decompression bomb (a
 * tiny IDAT that inflates to gigabytes) fails fast instead of allocating. A header before each
 * block keeps its size (16 bytes keep malloc's alignment). */
static _Thread_local size_t stbi_cap = SRV_STB_CAP_HEADER;

void srv_stb_set_cap(size_t bytes) { stbi_cap = bytes; }

typedef union block_head {
    size_t size;
    max_align_t align;
} block_head;

static void *zero_malloc(size_t n) {
    if (n > stbi_cap) return NULL;
    block_head *h = calloc(1, sizeof *h + n);
    if (!h) return NULL;
    h->size = n;
    return h + 1;
}

static void *zero_realloc(void *p, size_t n) {
    if (!p) return zero_malloc(n);
    if (n > stbi_cap) return NULL;
    block_head *h = (block_head *)p - 1;
    size_t old = h->size;
    h = realloc(h, sizeof *h + n);
    if (!h) return NULL;
    if (n > old) memset((unsigned char *)(h + 1) + old, 0, n - old);
    h->size = n;
    return h + 1;
}

static void zero_free(void *p) {
    if (p) free((block_head *)p - 1);
}

#define STBI_MALLOC(sz) zero_malloc(sz)
#define STBI_REALLOC(p, newsz) zero_realloc(p, newsz)
#define STBI_FREE(p) zero_free(p)
#define STB_IMAGE_IMPLEMENTATION
#include "srv_stb_begin.h"
#include <stb_image.h>
#include "srv_stb_end.h"
