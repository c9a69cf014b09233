/* srv_tensor.h — tensors in requests: {"shape": [...], "data": [...]}, nested arrays, or
 * {"npy": "<base64 of a .npy file>"}.
 *
 * Input is checked completely: the shape's entries are integers >= 1, data has exactly
 * prod(shape) elements, every element is a finite number, nested arrays are rectangular, and
 * the element count is within the limit (413 beyond it). Values are stored as float32.
 * A .npy (srv_npy.h: float32, float64 or uint8, C order) gives the shape from its header; a
 * "shape" or "dtype" beside "npy" must agree with the file (so a tensor of an "output_format":
 * "npy" response can be sent back as it is). Its errors name "<path>.npy": 415 for a .npy this
 * server does not read, 400 for a malformed one or bad base64; the decoded size and the elements
 * are counted against the memory budget before they are allocated. */
#ifndef SRV_TENSOR_H
#define SRV_TENSOR_H

#include <cJSON.h>
#include <stddef.h>

#include "srv_err.h"

#define SRV_TENSOR_MAX_DIMS 8

typedef struct srv_tensor {
    size_t ndim;
    size_t shape[SRV_TENSOR_MAX_DIMS];
    size_t n;      /* prod(shape) */
    float *data;   /* malloc'd, row-major */
} srv_tensor;

/* Parse v (at `path`) into t. max_elems bounds the element count (413). */
int srv_tensor_parse(const cJSON *v, const char *path, size_t max_elems, srv_tensor *t, srv_err *e);

/* The same in float64 (training inputs): *data is malloc'd (caller frees), shape holds up to
 * SRV_TENSOR_MAX_DIMS dimensions. */
int srv_tensor_parse_f64(const cJSON *v, const char *path, size_t max_elems, size_t *shape,
                         size_t *ndim, size_t *n, double **data, srv_err *e);

/* Allocate a tensor of the given shape (zero-filled). 413 if over max_elems, 503 if no memory. */
int srv_tensor_alloc(srv_tensor *t, const size_t *shape, size_t ndim, size_t max_elems,
                     const char *path, srv_err *e);

void srv_tensor_free(srv_tensor *t);

/* "[2, 3, 4]" into out. */
void srv_shape_str(char *out, size_t n, const size_t *shape, size_t ndim);

#endif
