/* fuzz_image.c — libFuzzer harness for the image decoding path: srv_image_decode (stb_image,
 * PNG/JPEG only, header checks before decoding) and srv_image_resize.
 * Input: byte 0 = flags (bit 0 grayscale, bit 1 also resize), byte 1/2 = resize height/width
 * (1..64), the rest = the encoded file. Checks: on success the shape is [H, W, 1 or 3] within
 * the limits and every value is in [0, 1] (resized: within 1e-6, float rounding); on failure the status is 413 or 415; the resized
 * tensor has the requested shape and stays in [0, 1]. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "srv_image.h"

static void check_pixels(const srv_tensor *t, size_t c, const srv_limits *lim, float tol) {
    if (t->ndim != 3 || t->shape[2] != c || t->shape[0] == 0 || t->shape[1] == 0 ||
        t->shape[0] > lim->max_image_side || t->shape[1] > lim->max_image_side ||
        t->n != t->shape[0] * t->shape[1] * c || t->n > lim->max_tensor_elems)
        fuzz_die("decoded tensor has a wrong shape", "", 0);
    for (size_t i = 0; i < t->n; i++)
        if (!(t->data[i] >= -tol && t->data[i] <= 1.0f + tol)) fuzz_die("pixel outside [0, 1]", "", 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    srv_limits lim;
    fuzz_limits(&lim);
    lim.max_work_flops = 1e8; /* decoding only: a 64x64 image counts ~1e6-1e7, a bomb more */
    int gray = data[0] & 1, resize = data[0] & 2;
    size_t rh = (size_t)(data[1] % 64) + 1, rw = (size_t)(data[2] % 64) + 1;
    srv_tensor img;
    srv_err e = {0};
    if (srv_image_decode(data + 3, size - 3, gray, &lim, "image", &img, &e) != 0) {
        if (e.status != 413 && e.status != 415 && e.status != 400)
            fuzz_die("decode failure with a status other than 400/413/415", e.message, 0);
        srv_tensor_free(&img);
        return 0;
    }
    check_pixels(&img, gray ? 1 : 3, &lim, 0.0f);
    if (resize) {
        srv_tensor r;
        srv_err e2 = {0};
        if (srv_image_resize(&img, rh, rw, &lim, "resize", &r, &e2) == 0) {
            if (r.shape[0] != rh || r.shape[1] != rw) fuzz_die("resize gave a wrong shape", "", 0);
            check_pixels(&r, gray ? 1 : 3, &lim, 1e-6f); /* bilinear rounding */
            srv_tensor_free(&r);
        } else if (e2.status != 413 && e2.status != 400) {
            fuzz_die("resize failed with an unexpected status", e2.message, 0);
        }
    }
    srv_tensor_free(&img);
    return 0;
}
