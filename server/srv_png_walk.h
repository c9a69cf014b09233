/* srv_png_walk.h — read a PNG's chunks the way stb_image 2.27 does, before stb sees the file:
 * its header (size, depth, colour type, interlacing), the work its compressed image data needs
 * (srv_zwalk.h), and the defects stb mishandles, which are repaired in a copy:
 * - a PLTE with fewer than 256 entries: stb leaves the rest of its 256-entry palette (a stack
 *   array) uninitialised, so a pixel whose index is past the PLTE's end became a colour made of
 *   stack bytes that differed from call to call. The copy's PLTE is padded to 256 entries with
 *   black, as libpng does (png_set_PLTE keeps a zero-filled 256-entry palette);
 * - an empty IDAT chunk: stb computes NULL + 0 (undefined behaviour) on an empty first IDAT,
 *   even one whose CRC is cut off by the end of the file. Empty IDATs carry nothing: the copy
 *   leaves them out. */
#ifndef SRV_PNG_WALK_H
#define SRV_PNG_WALK_H

#include <stddef.h>

#include "srv_zwalk.h"

typedef struct srv_png_info {
    unsigned long width, height; /* from IHDR */
    int depth, color, interlace; /* bit depth, colour type, 0 or 1 (Adam7) */
    size_t raw_len;      /* bytes the image data must inflate to: filter bytes included, every
                          * Adam7 pass */
    int raw;             /* Apple's CgBI variant: plain deflate without the zlib wrapper */
    srv_zwalk z;         /* the IDAT data walked */
    srv_zwalk_end z_end; /* how the walk ended */
    unsigned char *fixed; /* the repaired copy (malloc'd), or NULL if the file needs none */
    size_t fixed_len;
} srv_png_info;

/* 1 if b starts with the PNG signature. */
int srv_png_is(const unsigned char *b, size_t n);

/* Read the header only: 0, or -1 with *why (a static string) if there is no valid IHDR. */
int srv_png_header(const unsigned char *b, size_t n, srv_png_info *info, const char **why);

/* Walk the whole file (after srv_png_header succeeded on it): chunks up to IEND, the IDAT data
 * (srv_zwalk_run with at most raw_len bytes out and max_blocks blocks), and the repaired copy
 * if one is needed. 0, or -1 with *why for a chunk structure stb would misread (a tRNS with
 * more entries than its PLTE) or no memory for the copy. The IDAT walk's outcome is in
 * info->z_end whatever it is; free info->fixed afterwards. */
int srv_png_walk(const unsigned char *b, size_t n, size_t max_blocks, srv_png_info *info,
                 const char **why);

#endif
