/* srv_npy.c — .npy reader and header writer; see srv_npy.h. */
#include "srv_npy.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nn_status.h"

#define MAGIC "\x93NUMPY"
#define MAGIC_LEN 6

/* The header being parsed: [p, end) is the dict text; base is its start, for positions. */
typedef struct cursor {
    const char *p, *end, *base;
    int version;
    char *why;
    size_t why_len;
} cursor;

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int fail(char *why, size_t why_len, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (why && why_len) vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
    return status;
}

/* A malformed header (400), naming the byte offset in the header text. */
static int bad(cursor *c, const char *what) {
    return fail(c->why, c->why_len, 400, "malformed .npy header: %s at header byte %zu", what,
                (size_t)(c->p - c->base));
}

static int peek(const cursor *c) { return c->p < c->end ? (unsigned char)*c->p : -1; }

static void skip_ws(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r' ||
                             *c->p == '\f' || *c->p == '\v'))
        c->p++;
}

static int expect(cursor *c, char ch, const char *what) {
    skip_ws(c);
    if (peek(c) != (unsigned char)ch) return bad(c, what);
    c->p++;
    skip_ws(c);
    return 0;
}

/* A quoted string without escapes (NumPy never writes any): s, n point into the header. */
static int parse_string(cursor *c, const char **s, size_t *n) {
    int q = peek(c);
    if (q != '\'' && q != '"') return bad(c, "expected a quoted string");
    const char *start = ++c->p;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || *c->p == '\n') return bad(c, "escape or line break in a string");
        c->p++;
    }
    if (c->p >= c->end) return bad(c, "unterminated string");
    *s = start;
    *n = (size_t)(c->p - start);
    c->p++;
    return 0;
}

static int is_ident(int ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

static int word(cursor *c, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return 0;
    if (c->p + n < c->end && is_ident((unsigned char)c->p[n])) return 0;
    c->p += n;
    return 1;
}

/* The dtype string (read after the whole header parsed, so a malformed header is a 400 whatever
 * its dtype): what this server reads, or why not. */
static int interpret_descr(const char *s, size_t n, srv_npy *a, char *why, size_t why_len) {
    char d[16];
    if (n >= sizeof d) return fail(why, why_len, 415, ".npy dtype '%.40s' is not supported: send float32 ('<f4'), float64 ('<f8') or uint8 ('|u1')", s);
    memcpy(d, s, n);
    d[n] = '\0';
    if (!strcmp(d, "<f4")) a->dtype = SRV_NPY_F32;
    else if (!strcmp(d, "<f8")) a->dtype = SRV_NPY_F64;
    else if (n == 3 && strchr("|<>=", d[0]) && !strcmp(d + 1, "u1")) a->dtype = SRV_NPY_U8;
    else if (strchr(d, 'O'))
        return fail(why, why_len, 415, ".npy object arrays (pickled Python objects) are not supported: send float32, float64 or uint8");
    else if (d[0] == '>')
        return fail(why, why_len, 415, ".npy dtype '%s' is big-endian: send little-endian data (arr.astype('<f4'))", d);
    else
        return fail(why, why_len, 415, ".npy dtype '%s' is not supported: send float32 ('<f4'), float64 ('<f8') or uint8 ('|u1')", d);
    return 0;
}

static int parse_bool(cursor *c, int *v) {
    if (word(c, "True")) *v = 1;
    else if (word(c, "False")) *v = 0;
    else return bad(c, "fortran_order must be True or False");
    return 0;
}

/* A non-negative decimal integer as Python writes it (no leading zeros), with the 'L' suffix of
 * Python 2 accepted in versions 1.0 and 2.0. */
static int parse_dim(cursor *c, size_t *out) {
    if (peek(c) < '0' || peek(c) > '9') return bad(c, "expected a dimension (a non-negative integer)");
    if (peek(c) == '0' && c->p + 1 < c->end && c->p[1] >= '0' && c->p[1] <= '9')
        return bad(c, "leading zero in a dimension");
    size_t v = 0;
    while (peek(c) >= '0' && peek(c) <= '9') {
        if (nn_size_mul(v, 10, &v) || nn_size_add(v, (size_t)(*c->p - '0'), &v))
            return fail(c->why, c->why_len, 400, ".npy shape has a dimension too large for this machine");
        c->p++;
    }
    if (c->version < 3 && (peek(c) == 'L' || peek(c) == 'l')) c->p++;
    if (is_ident(peek(c)) || peek(c) == '.') return bad(c, "unexpected character after a dimension");
    *out = v;
    return 0;
}

/* A tuple: () or (d,) or (d, d, ...) with an optional trailing comma. */
static int parse_shape(cursor *c, srv_npy *a) {
    if (peek(c) != '(') return bad(c, "shape must be a tuple such as (2, 3)");
    c->p++;
    skip_ws(c);
    a->ndim = 0;
    int commas = 0;
    while (peek(c) != ')') {
        if (a->ndim == SRV_NPY_MAX_DIMS)
            return fail(c->why, c->why_len, 400, ".npy array has more than %d dimensions", SRV_NPY_MAX_DIMS);
        if (parse_dim(c, &a->shape[a->ndim])) return 400;
        a->ndim++;
        skip_ws(c);
        if (peek(c) == ',') {
            c->p++;
            commas++;
            skip_ws(c);
        } else if (peek(c) != ')') {
            return bad(c, "expected ',' or ')' in shape");
        }
    }
    if (a->ndim == 1 && commas == 0) return bad(c, "shape (n) is not a tuple: NumPy writes (n,)");
    c->p++;
    return 0;
}

enum { KEY_DESCR = 1, KEY_FORTRAN = 2, KEY_SHAPE = 4 };

/* What the dict says, before it is interpreted. */
typedef struct header {
    const char *descr;
    size_t descr_len;
    int fortran;
    int seen;
} header;

static int parse_entry(cursor *c, srv_npy *a, header *h) {
    const char *k;
    size_t kn;
    if (parse_string(c, &k, &kn)) return 400;
    int key = kn == 5 && !memcmp(k, "descr", 5)           ? KEY_DESCR
              : kn == 13 && !memcmp(k, "fortran_order", 13) ? KEY_FORTRAN
              : kn == 5 && !memcmp(k, "shape", 5)           ? KEY_SHAPE
                                                            : 0;
    if (!key)
        return fail(c->why, c->why_len, 400, "malformed .npy header: unknown key '%.*s' (descr, fortran_order, shape)",
                    (int)(kn > 40 ? 40 : kn), k);
    if (h->seen & key) return fail(c->why, c->why_len, 400, "malformed .npy header: key '%.*s' given twice", (int)kn, k);
    h->seen |= key;
    if (expect(c, ':', "expected ':' after a key")) return 400;
    if (key == KEY_SHAPE) return parse_shape(c, a);
    if (key == KEY_FORTRAN) return parse_bool(c, &h->fortran);
    if (peek(c) == '[')
        return fail(c->why, c->why_len, 415, ".npy with a structured dtype (a record array) is not supported: send float32, float64 or uint8");
    return parse_string(c, &h->descr, &h->descr_len);
}

static int parse_dict(cursor *c, srv_npy *a) {
    header h = {NULL, 0, 0, 0};
    skip_ws(c);
    if (peek(c) != '{') return bad(c, "the header must be a dict {'descr': ..., 'fortran_order': ..., 'shape': ...}");
    c->p++;
    for (;;) {
        skip_ws(c);
        if (peek(c) == '}') break;
        int rc = parse_entry(c, a, &h);
        if (rc) return rc;
        skip_ws(c);
        if (peek(c) == ',') { c->p++; continue; }
        if (peek(c) != '}') return bad(c, "expected ',' or '}'");
    }
    c->p++;
    skip_ws(c);
    if (c->p != c->end) return bad(c, "text after the dict");
    if (!(h.seen & KEY_DESCR)) return fail(c->why, c->why_len, 400, "malformed .npy header: no 'descr'");
    if (!(h.seen & KEY_FORTRAN)) return fail(c->why, c->why_len, 400, "malformed .npy header: no 'fortran_order'");
    if (!(h.seen & KEY_SHAPE)) return fail(c->why, c->why_len, 400, "malformed .npy header: no 'shape'");
    int rc = interpret_descr(h.descr, h.descr_len, a, c->why, c->why_len);
    if (rc) return rc;
    /* NumPy writes 1-D (and 0-D) arrays as C order; Fortran order matters from 2 dimensions on,
     * but a file that says Fortran is refused whatever its shape, as it says. */
    if (h.fortran)
        return fail(c->why, c->why_len, 415, ".npy in Fortran order is not supported: send a C-order array (np.ascontiguousarray)");
    return 0;
}

int srv_npy_parse(const unsigned char *p, size_t len, srv_npy *a, char *why, size_t why_len) {
    memset(a, 0, sizeof *a);
    if (len < MAGIC_LEN || memcmp(p, MAGIC, MAGIC_LEN) != 0)
        return fail(why, why_len, 415, "not a .npy file (it does not start with \\x93NUMPY)");
    if (len < 10) return fail(why, why_len, 400, "truncated .npy file (%zu bytes)", len);
    int major = p[6], minor = p[7];
    if ((major < 1 || major > 3) || minor != 0)
        return fail(why, why_len, 415, ".npy format version %d.%d is not supported (1.0, 2.0 or 3.0)", major, minor);
    size_t hstart = major == 1 ? 10 : 12, hlen;
    if (len < hstart) return fail(why, why_len, 400, "truncated .npy file (%zu bytes)", len);
    if (major == 1) hlen = (size_t)p[8] | (size_t)p[9] << 8;
    else hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
    if (hlen > SRV_NPY_MAX_HEADER)
        return fail(why, why_len, 400, ".npy header is %zu bytes; the limit is %d", hlen, SRV_NPY_MAX_HEADER);
    if (hlen > len - hstart)
        return fail(why, why_len, 400, "truncated .npy file: the header needs %zu bytes, %zu are left", hlen, len - hstart);
    cursor c = {(const char *)p + hstart, (const char *)p + hstart + hlen, (const char *)p + hstart, major, why, why_len};
    a->version = major;
    int rc = parse_dict(&c, a);
    if (rc) return rc;
    size_t bytes, data_len = len - hstart - hlen;
    if (nn_size_prod(a->shape, a->ndim, &a->n) || nn_size_mul(a->n, srv_npy_itemsize(a->dtype), &bytes))
        return fail(why, why_len, 400, ".npy shape is too large for this machine");
    if (bytes != data_len)
        return fail(why, why_len, 400, ".npy shape needs %zu bytes of %s data but the file holds %zu",
                    bytes, srv_npy_dtype_name(a->dtype), data_len);
    a->data = p + hstart + hlen;
    return 0;
}

size_t srv_npy_itemsize(srv_npy_dtype dtype) {
    return dtype == SRV_NPY_F64 ? 8 : dtype == SRV_NPY_F32 ? 4 : 1;
}

const char *srv_npy_dtype_name(srv_npy_dtype dtype) {
    return dtype == SRV_NPY_F64 ? "float64" : dtype == SRV_NPY_F32 ? "float32" : "uint8";
}

size_t srv_npy_to_f32(const srv_npy *a, float *out) {
    const unsigned char *d = a->data;
    if (a->dtype == SRV_NPY_U8) {
        for (size_t i = 0; i < a->n; i++) out[i] = (float)d[i];
        return a->n;
    }
    if (a->dtype == SRV_NPY_F32) {
        memcpy(out, d, a->n * sizeof(float)); /* little-endian host: the bytes are the floats */
        for (size_t i = 0; i < a->n; i++)
            if (!isfinite(out[i])) return i;
        return a->n;
    }
    for (size_t i = 0; i < a->n; i++) {
        double v;
        memcpy(&v, d + 8 * i, sizeof v);
        if (!isfinite(v) || fabs(v) > 3.4028234663852886e38) return i;
        out[i] = (float)v;
    }
    return a->n;
}

size_t srv_npy_to_f64(const srv_npy *a, double *out) {
    const unsigned char *d = a->data;
    for (size_t i = 0; i < a->n; i++) {
        double v;
        if (a->dtype == SRV_NPY_U8) {
            v = d[i];
        } else if (a->dtype == SRV_NPY_F32) {
            float f;
            memcpy(&f, d + 4 * i, sizeof f);
            v = f;
        } else {
            memcpy(&v, d + 8 * i, sizeof v);
        }
        if (!isfinite(v)) return i;
        out[i] = v;
    }
    return a->n;
}

size_t srv_npy_header(unsigned char *out, srv_npy_dtype dtype, const size_t *shape, size_t ndim) {
    char dict[SRV_NPY_HEADER_CAP];
    if (ndim > SRV_NPY_MAX_DIMS) ndim = SRV_NPY_MAX_DIMS;
    size_t n = (size_t)snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                                dtype == SRV_NPY_F64 ? "<f8" : "<f4");
    for (size_t i = 0; i < ndim; i++)
        n += (size_t)snprintf(dict + n, sizeof dict - n, i ? ", %zu" : "%zu", shape[i]);
    n += (size_t)snprintf(dict + n, sizeof dict - n, ndim == 1 ? ",), }" : "), }");
    /* As numpy.lib.format writes it (so np.save gives the same bytes): spare spaces for the
     * first axis to grow to 21 digits, then spaces and '\n' up to the next multiple of 64 —
     * a whole 64 more when already aligned. */
    if (ndim > 0) {
        char digits[24];
        size_t d = (size_t)snprintf(digits, sizeof digits, "%zu", shape[0]);
        memset(dict + n, ' ', 21 - d);
        n += 21 - d;
    }
    size_t hlen = n + 1, pad = 64 - (10 + hlen) % 64, total = 10 + hlen + pad;
    memcpy(out, MAGIC, MAGIC_LEN);
    out[6] = 1;
    out[7] = 0;
    out[8] = (unsigned char)((hlen + pad) & 0xff);
    out[9] = (unsigned char)((hlen + pad) >> 8);
    memcpy(out + 10, dict, n);
    memset(out + 10 + n, ' ', pad);
    out[total - 1] = '\n';
    return total;
}
