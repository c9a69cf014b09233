/* srv_buf.h — a growable output buffer for building JSON responses quickly.
 *
 * Responses can hold millions of numbers (a 256x256x16 conv output is 1 M floats), so numbers
 * are formatted by hand instead of through printf: srv_buf_float writes a float32 with the
 * fewest significant digits that read back to the same float (as numpy and JavaScript print
 * float32: 0.1f is "0.1", 1/255 is "0.003921569"), never more than 9.
 * Allocation failure is sticky: every later call is a no-op and `oom` stays set, so callers
 * check once at the end. */
#ifndef SRV_BUF_H
#define SRV_BUF_H

#include <stddef.h>

typedef struct srv_buf {
    char *p;      /* NUL-terminated while len < cap */
    size_t len, cap;
    int oom;      /* an allocation failed: contents are incomplete */
    int npy;      /* tensors are written as .npy ("output_format": "npy"), see srv_buf_tensor */
} srv_buf;

/* Make room for `extra` more bytes (plus a NUL). Returns 0, or -1 (and sets oom). */
int srv_buf_reserve(srv_buf *b, size_t extra);
void srv_buf_put(srv_buf *b, const char *s, size_t n);
void srv_buf_puts(srv_buf *b, const char *s);
void srv_buf_putc(srv_buf *b, char c);
void srv_buf_printf(srv_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* A JSON string literal with quotes and escapes (bytes >= 0x80 are copied as they are). */
void srv_buf_str(srv_buf *b, const char *s);
void srv_buf_size(srv_buf *b, size_t v);
/* float32 with the fewest digits that read back to it; non-finite values are written as null. */
void srv_buf_float(srv_buf *b, float v);
/* float64 with the fewest digits that read back to it (Python's repr); non-finite as null. */
void srv_buf_double(srv_buf *b, double v);
/* Comma-separated lists in brackets. */
void srv_buf_doubles(srv_buf *b, const double *v, size_t n);
void srv_buf_sizes(srv_buf *b, const size_t *v, size_t n);
/* Tensors: {"shape": [...], "data": [...]}, or with b->npy set
 * {"shape": [...], "dtype": "float32" | "float64", "npy": "<base64 of a .npy file>"} holding the
 * exact bits (srv_npy.h; the base64 text is about 5.4 bytes per float32 instead of ~11). */
void srv_buf_tensor(srv_buf *b, const float *data, const size_t *shape, size_t ndim);
void srv_buf_tensor_f64(srv_buf *b, const double *data, const size_t *shape, size_t ndim);
/* A float vector: the list [v0, v1, ...], or with b->npy a 1-D tensor [n] as above. */
void srv_buf_floats(srv_buf *b, const float *v, size_t n);

/* Write a float's text into out (at least 24 bytes); returns its length. Exposed for tests. */
size_t srv_fmt_float(char *out, float v);

/* Hand the contents over (caller frees) and reset b; NULL if oom. len receives the length. */
char *srv_buf_take(srv_buf *b, size_t *len);
void srv_buf_free(srv_buf *b);

#endif
