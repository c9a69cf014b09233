/* nn_imageset.h — a borrowed set of labelled grey images, the input of CNN training.
 *
 * Exactly one of `images` (bytes 0..255, as data sets store them: a trainer scales them by
 * 1/255 as it copies a batch) or `pixels` (floats, used as they are) points at count images of
 * h*w values, row-major; labels are 0 .. classes-1. Nothing here owns memory: the set points
 * into a loaded data set (nn_fashion.h) or a caller's buffers. */
#ifndef NN_IMAGESET_H
#define NN_IMAGESET_H

#include <stddef.h>
#include <stdint.h>

typedef struct nn_imageset {
    const uint8_t *images; /* [count, h, w] bytes, or NULL */
    const float *pixels;   /* [count, h, w] floats, or NULL */
    const uint8_t *labels; /* [count] */
    size_t count, h, w;
    size_t classes;
} nn_imageset;

#endif
