/* srv_npy.h — NumPy's .npy files: the reader for tensors sent as {"npy": "<base64>"} and the
 * header writer for "output_format": "npy".
 *
 * The format (numpy.lib.format): the magic "\x93NUMPY", a version byte pair (1.0, 2.0 or 3.0),
 * the header length (uint16 little-endian for 1.0, uint32 for 2.0 and 3.0), the header — a
 * Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
 * spaces and a newline (latin-1 for 1.0/2.0, UTF-8 for 3.0) — then the raw elements.
 *
 * Read: exactly the keys descr, fortran_order and shape (any order, either quote, whitespace as
 * Python allows, a trailing comma; an 'L' suffix on shape entries as Python 2 wrote them in
 * 1.0/2.0); dtypes '<f4' (float32), '<f8' (float64) and uint8 ('|u1', any byte order);
 * C order; at most SRV_NPY_MAX_DIMS dimensions; the data exactly prod(shape) * itemsize bytes.
 * The answer for anything else is an HTTP status with the reason:
 *   415: not a .npy file (magic), a version other than 1.0/2.0/3.0, another dtype, big-endian
 *        data, Fortran order, an object or structured array — a real .npy this server does not
 *        read;
 *   400: a malformed file — truncated, a header that is not the dict above, a shape that
 *        disagrees with the data size.
 * The parser only reads its input (no allocation), so it is safe on any bytes.
 *
 * Written: version 1.0 with '<f4' or '<f8', C order, the header padded to 64 bytes as NumPy
 * pads it (np.save writes the same bytes for the same array).
 *
 * The elements are little-endian in the file and in memory: this module requires a
 * little-endian host (x86-64, AArch64), checked at compile time. */
#ifndef SRV_NPY_H
#define SRV_NPY_H

#include <stddef.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "srv_npy reads and writes little-endian elements in place: a little-endian host is required"
#endif

#define SRV_NPY_MAX_DIMS 8
/* Largest header accepted (numpy.lib.format's own default limit). */
#define SRV_NPY_MAX_HEADER 10000
/* Room for any header srv_npy_header writes (8 dimensions of 20 digits need at most 352). */
#define SRV_NPY_HEADER_CAP 384

typedef enum srv_npy_dtype { SRV_NPY_F32 = 0, SRV_NPY_F64, SRV_NPY_U8 } srv_npy_dtype;

typedef struct srv_npy {
    int version;                      /* 1, 2 or 3 (the minor is always 0) */
    srv_npy_dtype dtype;
    size_t ndim;                      /* 0 for a scalar */
    size_t shape[SRV_NPY_MAX_DIMS];
    size_t n;                         /* prod(shape) */
    const unsigned char *data;        /* into the parsed bytes: n * itemsize, little-endian */
} srv_npy;

/* Parse the whole file p[0..len): 0 with *a filled, or 400/415 with the reason in why. */
int srv_npy_parse(const unsigned char *p, size_t len, srv_npy *a, char *why, size_t why_len);

size_t srv_npy_itemsize(srv_npy_dtype dtype);
/* "float32", "float64", "uint8" */
const char *srv_npy_dtype_name(srv_npy_dtype dtype);

/* The elements of a as float32 into out[0..a->n): returns a->n when all are finite float32
 * values, else the index of the first that is not (NaN, infinite, or a float64 beyond float32's
 * range); out is then partly written. uint8 values are kept as they are (0..255). */
size_t srv_npy_to_f32(const srv_npy *a, float *out);
/* The same as float64 (float32 and uint8 widen exactly). */
size_t srv_npy_to_f64(const srv_npy *a, double *out);

/* Write the version 1.0 header (magic to newline) of a C-order array of dtype F32 or F64 and
 * this shape (ndim <= SRV_NPY_MAX_DIMS) into out (SRV_NPY_HEADER_CAP bytes); returns its length,
 * a multiple of 64. */
size_t srv_npy_header(unsigned char *out, srv_npy_dtype dtype, const size_t *shape, size_t ndim);

#endif
