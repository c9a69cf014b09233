/* srv_image.h — PNG/JPEG input images as tensors.
 *
 * Decoding (srv_pixels.h) reads the file's own header and walks it before stb_image decodes
 * anything, so an image too large, too much work to decode, corrupt or 16-bit is refused first:
 *   not PNG/JPEG or corrupt -> 415 (field = path); 16-bit PNG -> 415; a side over
 *   max_image_side -> 413 with the size; more than max_tensor_elems values -> 413; decoding
 *   work over max_work_flops -> 413; a JPEG with more than 64 scans -> 415.
 * The same file always decodes to the same pixels. Pixels become float32 v / 255 in [0, 1], layout [H, W, C]:
 *   RGB (C = 3) by default; alpha is dropped; a grey image is replicated into R = G = B.
 *   "grayscale": true -> C = 1: grey images keep their value; colour images use the ITU-R BT.601
 *   luma Y = (0.299 R + 0.587 G + 0.114 B) / 255 computed in float64 from the 8-bit values and
 *   rounded to float32 (numpy: ((0.299*R + 0.587*G + 0.114*B) / 255).astype(np.float32)).
 * Resizing ("resize": [H, W]) is bilinear with align_corners=False, exactly
 * torch.nn.functional.interpolate(x, size=(H, W), mode="bilinear", align_corners=False,
 * antialias=False) in float32:
 *   scale = in / out;  src = max(0, scale * (dst + 0.5) - 0.5);  i0 = floor(src);
 *   i1 = min(i0 + 1, in - 1);  l1 = src - i0;  l0 = 1 - l1
 *   y = l0_h * (l0_w * x[i0h, i0w] + l1_w * x[i0h, i1w]) + l1_h * (l0_w * x[i1h, i0w] + l1_w * x[i1h, i1w])
 */
#ifndef SRV_IMAGE_H
#define SRV_IMAGE_H

#include <cJSON.h>
#include <stddef.h>

#include "srv_api.h"
#include "srv_err.h"
#include "srv_tensor.h"

/* Decode an encoded PNG/JPEG into out [H, W, C] (C = 3, or 1 if grayscale). */
int srv_image_decode(const unsigned char *bytes, size_t n, int grayscale, const srv_limits *lim,
                     const char *path, srv_tensor *out, srv_err *e);

/* Bilinear resize of x [H, W, C] into a new tensor out [OH, OW, C] (formula above). Stops with
 * a 503 once the thread's cancel flag is set (core/nn_cancel.h). */
int srv_image_resize(const srv_tensor *x, size_t OH, size_t OW, const srv_limits *lim,
                     const char *path, srv_tensor *out, srv_err *e);

/* The request's input volume: exactly one of "image" (base64 PNG/JPEG, with optional
 * "grayscale" and "resize") or "input" (a tensor [H, W, C], or [H, W] which becomes C = 1;
 * "resize" applies too). Result is always 3-D [H, W, C]. */
int srv_request_input(const cJSON *req, const srv_limits *lim, srv_tensor *out, srv_err *e);

#endif
