/* srv_render.h — feature maps as PNG images for the page ("render": true).
 *
 * Each channel of a [H, W, C] volume becomes one 8-bit grey PNG (stb_image_write), normalised
 * to its own range: p = round(255 * (v - min) / (max - min)) (all 0 when max == min), encoded
 * as base64 without a data: prefix. The JSON written is
 *   "maps": [{"png": "<base64>", "min": m, "max": M}, ...]   (one per channel) */
#ifndef SRV_RENDER_H
#define SRV_RENDER_H

#include <stddef.h>

#include "srv_buf.h"

/* Append "maps":[...] (with the key) to b. Returns 0, or -1 on allocation failure. */
int srv_render_maps(srv_buf *b, const float *x, size_t H, size_t W, size_t C);

/* One map: 8-bit grey PNG bytes of channel c of x [H, W, C] into a malloc'd buffer. */
unsigned char *srv_render_png(const float *x, size_t H, size_t W, size_t C, size_t c,
                              float *min, float *max, size_t *png_len);

#endif
