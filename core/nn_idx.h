/* nn_idx.h — read an IDX file of unsigned bytes (the MNIST family's format), gzip-compressed or
 * plain, through zlib.
 *
 * The format (big-endian): two zero bytes, a type byte (0x08 = unsigned byte), the number of
 * dimensions D, then D 32-bit sizes, then the values in row-major order. An image file is
 * [count, rows, cols] (magic 0x00000803), a label file [count] (0x00000801).
 *
 * nn_idx_read checks the header against the shape the caller expects and reads the values
 * straight into the caller's buffer (no second copy), then checks that the file ends there: a
 * wrong magic, another shape, a truncated or damaged gzip stream or trailing bytes are errors
 * that say what was found. zlib reads a file that is not gzip-compressed as it is, so both
 * forms are accepted. Errors are NN_INVALID with the caller's field; the message names the file
 * and the problem. Thread-safe (nothing shared). */
#ifndef NN_IDX_H
#define NN_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "nn_status.h"

#define NN_IDX_MAX_DIMS 4

/* The header of an IDX file: ndim sizes. */
typedef struct nn_idx_header {
    size_t ndim;
    size_t dims[NN_IDX_MAX_DIMS];
} nn_idx_header;

/* Read only the header of `path` (a few bytes: cheap enough for a health check). Errors: the
 * file cannot be opened ("cannot open ...: <strerror>"), it is too short, the magic is not an
 * unsigned-byte IDX magic, or it has 0 or more than NN_IDX_MAX_DIMS dimensions. */
nn_code nn_idx_read_header(const char *path, nn_idx_header *h, const char *field, nn_error *err);

/* NN_OK when h is dims[0..ndim) exactly, else NN_INVALID: "<file> holds A x B bytes, expected
 * C x D" (path only names the file in the message). */
nn_code nn_idx_expect(const nn_idx_header *h, const size_t *dims, size_t ndim, const char *path,
                      const char *field, nn_error *err);

/* Read `path`, whose shape must be dims[0..ndim) exactly, into dst [prod(dims)] bytes. */
nn_code nn_idx_read(const char *path, uint8_t *dst, const size_t *dims, size_t ndim,
                    const char *field, nn_error *err);

#endif
