/* srv_zwalk.h — walk a zlib stream (RFC 1950 around RFC 1951 deflate) without writing what it
 * inflates to: count its blocks and the bytes it would produce, so that the cost of inflating it
 * is known before a decoder spends it.
 *
 * Why: stb_image 2.27 rebuilds its Huffman tables for every deflate block. An empty block with
 * the fixed codes is 10 bits of input and ~9 us of stb's time, so a 1.25 MB PNG made of such
 * blocks takes ~10 s to decode although it inflates to nothing (measured). The walk itself
 * builds the fixed tables once and decodes a symbol with one table look-up.
 *
 * The stream is valid as zlib 1.2 defines it (inflate's checks and its words in `error`):
 * header check, method 8, window <= 32K, no preset dictionary; stored lengths; code length sets
 * neither over-subscribed nor incomplete (a single code of length 1 is allowed for literals and
 * distances, as zlib does); no more than 286 literal/length and 30 distance codes; a block's
 * end code present; no distance beyond the data produced so far. The Adler-32 after the final
 * block is not read (stb_image does not check it either).
 *
 * Input comes in consecutive pieces (a PNG's IDAT chunks) from a callback. */
#ifndef SRV_ZWALK_H
#define SRV_ZWALK_H

#include <stddef.h>

/* The next piece of input: set *p, *n and return 1, or return 0 at the end of the input. */
typedef int (*srv_zwalk_next_fn)(void *ctx, const unsigned char **p, size_t *n);

typedef enum srv_zwalk_end {
    SRV_ZWALK_DONE = 0,     /* the final block ended */
    SRV_ZWALK_TRUNCATED,    /* the input ended before the final block did */
    SRV_ZWALK_CORRUPT,      /* not a valid stream: see error */
    SRV_ZWALK_TOO_MUCH_OUT, /* it would inflate to more than max_out bytes */
    SRV_ZWALK_TOO_MANY_BLOCKS /* more than max_blocks blocks with Huffman codes */
} srv_zwalk_end;

typedef struct srv_zwalk {
    size_t out;          /* bytes inflated so far */
    size_t blocks[3];    /* blocks begun, by type: 0 stored, 1 fixed codes, 2 dynamic codes */
    size_t in;           /* input bytes consumed (whole bytes begun) */
    const char *error;   /* SRV_ZWALK_CORRUPT: why (a static string) */
} srv_zwalk;

/* Walk the stream: a zlib header first unless raw (plain deflate, as in Apple's CgBI PNGs).
 * Stops at the end of the final block or at the first of the other outcomes (max_blocks counts
 * the blocks with Huffman codes: stored blocks cost little and are bounded by the input's
 * size). w is filled in every case (counts up to where the walk stopped). */
srv_zwalk_end srv_zwalk_run(srv_zwalk *w, int raw, size_t max_out, size_t max_blocks,
                            srv_zwalk_next_fn next, void *ctx);

#endif
