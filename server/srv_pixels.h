/* srv_pixels.h — PNG/JPEG bytes to 8-bit RGB pixels: stb_image 2.27 (compiled into
 * srv_pixels.c only, PNG and JPEG alone), with everything that bounds the work checked first.
 *
 * Before stb decodes a byte of pixel data:
 * - the size is read from the file's own header (PNG IHDR, JPEG frame header): a side over
 *   max_image_side (or over stb's hard cap of 16384) -> 413 with the size; more than
 *   max_tensor_elems values (width x height x channels) -> 413;
 * - the file is walked (srv_png_walk.h, srv_jpeg_walk.h) and the decoding work estimated in
 *   flop-equivalents (weights in srv_pixels.c, measured against stb): over max_work_flops ->
 *   413 naming the cause; a JPEG with more than SRV_JPEG_MAX_SCANS scans -> 415; compressed PNG
 *   data that is corrupt or inflates to more than the image needs -> 415;
 * - defects stb mishandles are refused (415) or repaired in a copy (a short PNG palette).
 * stb's allocations are zero-filled and capped from the declared size (a bomb fails fast), so
 * the pixels of any file stb accepts never depend on what memory held before: the same file
 * decodes to the same bytes every time.
 * Status 415 otherwise: not PNG/JPEG, corrupt, 16-bit. The field is `path` throughout. */
#ifndef SRV_PIXELS_H
#define SRV_PIXELS_H

#include <stddef.h>

#include "srv_api.h"
#include "srv_err.h"

/* Real encoders write at most 18 scans (libjpeg's progressive script for 4 components; 10 for
 * YCbCr, 6 for grey; mozjpeg's scan optimisation at most 16): 64 leaves room for unusual but
 * honest scripts while the per-scan cost stays small. */
#define SRV_JPEG_MAX_SCANS 64

typedef struct srv_pixels {
    unsigned char *rgb; /* [height, width, 3]; free with srv_pixels_free */
    size_t width, height;
    int grey;           /* the file has one colour channel (grey, grey + alpha): R = G = B */
    double work;        /* the decoding work counted (flop-equivalents) */
} srv_pixels;

/* Decode n bytes into out. `channels` (1 or 3) is what the caller will make of each pixel, for
 * the max_tensor_elems check. Reserves the decoding memory in the request's budget. */
int srv_pixels_decode(const unsigned char *bytes, size_t n, size_t channels, const srv_limits *lim,
                      const char *path, srv_pixels *out, srv_err *e);

void srv_pixels_free(srv_pixels *p);

#endif
