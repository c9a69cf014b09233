/* npy_test.h — .npy tensors in tests, written and read independently of the server's srv_npy
 * and srv_base64 (so a test never checks that code against itself, and HTTP tests, which do not
 * link the server library, can use them too).
 *
 * Writer: a version 1.0 file whose header is padded to 16 bytes (as NumPy before 1.9 padded —
 * NumPy reads both), base64-encoded. Reader: a {"shape", "dtype", "npy"} response tensor with
 * NumPy's canonical header. Failures abort the test (criterion asserts). Caller frees results. */
#ifndef NPY_TEST_H
#define NPY_TEST_H

#include <cJSON.h>
#include <stddef.h>

/* Base64 of a .npy file holding n items of `item` bytes each with dtype descr ('<f4', '<f8',
 * '|u1', '>f4', ...), shape [ndim], fortran_order as given. NUL-terminated, malloc'd. */
char *tnpy_b64(const void *data, size_t item, const char *descr, const size_t *shape, size_t ndim,
               int fortran);
char *tnpy_b64_f32(const float *data, const size_t *shape, size_t ndim);

/* The nested-list tensor `key` of obj (a request built from a fixture) replaced by
 * {"npy": base64 of its float32 values}. */
void tnpy_replace_f32(cJSON *obj, const char *key);

/* A response tensor {"shape": [...], "dtype": "float32", "npy": "..."}: asserts the object's
 * form, that the file's header agrees with "shape" and "dtype", and returns the elements as
 * doubles (float32 or float64 files) with shape/ndim/n filled. */
double *tnpy_read(const cJSON *t, size_t shape[8], size_t *ndim, size_t *n, const char *want_dtype);

/* A response tensor's values as doubles (malloc'd, caller frees; n filled): a .npy tensor
 * (tnpy_read, float32), {"shape", "data"} or a plain list of numbers. */
double *tnpy_values(const cJSON *v, size_t *n);

/* Standard base64 encoding (malloc'd, NUL-terminated) and decoding (asserts it is valid). */
char *tnpy_base64(const unsigned char *p, size_t n);
unsigned char *tnpy_unbase64(const char *s, size_t *len);

#endif
