/* srv_buf.c — growable output buffer and fast number formatting; see srv_buf.h. */
#include "srv_buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_status.h"
#include "srv_base64.h"
#include "srv_npy.h"

int srv_buf_reserve(srv_buf *b, size_t extra) {
    if (b->oom) return -1;
    if (b->len + extra + 1 <= b->cap && b->p) return 0;
    size_t need = b->len + extra + 1;
    if (need < b->len) { b->oom = 1; return -1; }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) { cap = need; break; }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = 1; return -1; }
    b->p = p;
    b->cap = cap;
    return 0;
}

void srv_buf_put(srv_buf *b, const char *s, size_t n) {
    if (srv_buf_reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void srv_buf_puts(srv_buf *b, const char *s) { srv_buf_put(b, s, strlen(s)); }

void srv_buf_putc(srv_buf *b, char c) {
    if (srv_buf_reserve(b, 1)) return;
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

void srv_buf_printf(srv_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) { srv_buf_put(b, tmp, (size_t)n); return; }
    if (srv_buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at c (lead byte >= 0x80), or 0 if it is invalid (bad
 * continuation, overlong form, surrogate, beyond U+10FFFF, or cut by the terminating NUL). */
static size_t utf8_len(const unsigned char *c) {
    unsigned char b0 = c[0];
    size_t n;
    unsigned min;
    if (b0 >= 0xC2 && b0 <= 0xDF) { n = 2; min = 0x80; }
    else if (b0 >= 0xE0 && b0 <= 0xEF) { n = 3; min = 0x800; }
    else if (b0 >= 0xF0 && b0 <= 0xF4) { n = 4; min = 0x10000; }
    else return 0;
    unsigned cp = b0 & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((c[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (c[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

void srv_buf_str(srv_buf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    srv_buf_putc(b, '"');
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': srv_buf_put(b, "\\\"", 2); break;
        case '\\': srv_buf_put(b, "\\\\", 2); break;
        case '\n': srv_buf_put(b, "\\n", 2); break;
        case '\r': srv_buf_put(b, "\\r", 2); break;
        case '\t': srv_buf_put(b, "\\t", 2); break;
        default:
            if (*c < 0x20) {
                char u[6] = {'\\', 'u', '0', '0', hex[*c >> 4], hex[*c & 15]};
                srv_buf_put(b, u, 6);
            } else if (*c < 0x80) {
                srv_buf_putc(b, (char)*c);
            } else {
                size_t n = utf8_len(c);
                if (n) {
                    srv_buf_put(b, (const char *)c, n);
                    c += n - 1;
                } else {
                    srv_buf_put(b, "\\ufffd", 6); /* invalid UTF-8 never reaches the output */
                }
            }
        }
    }
    srv_buf_putc(b, '"');
}

static size_t fmt_u64(char *out, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

void srv_buf_size(srv_buf *b, size_t v) {
    char tmp[24];
    srv_buf_put(b, tmp, fmt_u64(tmp, (uint64_t)v));
}

/* 10^k for k in [-64, 64]: decimal literals, correctly rounded by the compiler. The scaled
 * value is only rounded to 9 digits, far coarser than a double's error. */
static const double p10_tab[129] = {
    1e-64, 1e-63, 1e-62, 1e-61, 1e-60, 1e-59, 1e-58, 1e-57, 1e-56, 1e-55, 1e-54, 1e-53, 1e-52,
    1e-51, 1e-50, 1e-49, 1e-48, 1e-47, 1e-46, 1e-45, 1e-44, 1e-43, 1e-42, 1e-41, 1e-40, 1e-39,
    1e-38, 1e-37, 1e-36, 1e-35, 1e-34, 1e-33, 1e-32, 1e-31, 1e-30, 1e-29, 1e-28, 1e-27, 1e-26,
    1e-25, 1e-24, 1e-23, 1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13,
    1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3,
    1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31, 1e32, 1e33, 1e34,
    1e35, 1e36, 1e37, 1e38, 1e39, 1e40, 1e41, 1e42, 1e43, 1e44, 1e45, 1e46, 1e47, 1e48, 1e49,
    1e50, 1e51, 1e52, 1e53, 1e54, 1e55, 1e56, 1e57, 1e58, 1e59, 1e60, 1e61, 1e62, 1e63, 1e64
};

static inline double p10(int k) { return p10_tab[k + 64]; }

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* d > 0 as 9 significant digits m (10^8 <= m < 10^9) times 10^(e - 8), trailing zeros dropped,
 * in the shortest of plain or exponent notation; returns the characters written. */
static size_t fmt_digits(char *out, uint32_t m, int e) {
    char *o = out, dig[10];
    dig[0] = (char)('0' + m / 100000000u);
    uint32_t r = m % 100000000u;
    for (int k = 3; k >= 0; k--) {
        uint32_t pair = r % 100u;
        r /= 100u;
        dig[1 + 2 * k] = digit_pairs[2 * pair];
        dig[2 + 2 * k] = digit_pairs[2 * pair + 1];
    }
    int nd = 9;
    while (nd > 1 && dig[nd - 1] == '0') nd--;
    if (e < -4 || e >= 9) {
        *o++ = dig[0];
        if (nd > 1) { *o++ = '.'; memcpy(o, dig + 1, (size_t)nd - 1); o += nd - 1; }
        *o++ = 'e';
        *o++ = e < 0 ? '-' : '+';
        int ae = e < 0 ? -e : e;
        if (ae < 10) *o++ = '0';
        o += fmt_u64(o, (uint64_t)ae);
    } else if (e >= 0) {
        for (int i = 0; i <= e; i++) *o++ = i < nd ? dig[i] : '0';
        if (nd > e + 1) { *o++ = '.'; memcpy(o, dig + e + 1, (size_t)(nd - e - 1)); o += nd - e - 1; }
    } else {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -e - 1; i++) *o++ = '0';
        memcpy(o, dig, (size_t)nd);
        o += nd;
    }
    return (size_t)(o - out);
}

static const uint32_t pow10_u32[10] = {1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u,
                                       10000000u, 100000000u, 1000000000u};

size_t srv_fmt_float(char *out, float v) {
    char *o = out;
    if (!isfinite(v)) { memcpy(o, "null", 4); return 4; }
    if (signbit(v)) *o++ = '-';
    float a = fabsf(v);
    double d = (double)a;
    if (d == 0.0) { *o++ = '0'; return (size_t)(o - out); }
    /* Integers below 2^24 print exactly as integers, the common case for pixel-ish data. */
    if (d < 16777216.0 && d == floor(d)) return (size_t)(o - out) + fmt_u64(o, (uint64_t)d);
    /* Decimal exponent from the binary one (floor(be * log10 2) via 78913 / 2^18), then fixed
     * up by a step, so no log10 call. */
    uint32_t bits;
    memcpy(&bits, &a, sizeof bits);
    int be = (int)((bits >> 23) & 0xff) - 127;
    if (be == -127) be = -149 + 31 - __builtin_clz(bits & 0x7fffff); /* subnormal */
    int e = be >= 0 ? (be * 78913) >> 18 : -((-be * 78913 + (1 << 18) - 1) >> 18);
    double s = d * p10(8 - e);
    while (s < 1e8) { e--; s = d * p10(8 - e); }
    while (s >= 1e9) { e++; s = d * p10(8 - e); }
    uint32_t m = (uint32_t)(s + 0.5);
    if (m >= 1000000000u) { m /= 10; e++; }
    /* Nine digits always read back to the same float; fewer often do. Print the fewest that
     * do (as numpy and JavaScript print float32), so 0.1f is "0.1", not "0.100000001". A
     * candidate reads back to a if it lies between the midpoints to a's neighbours (exact in
     * double); it is computed in double with a relative error below 2^-52, so only one within
     * 2^-50 of a midpoint needs strtof to decide, and no bit is ever lost. */
    uint32_t lo_bits = bits - 1, hi_bits = bits + 1;
    float below, above;
    memcpy(&below, &lo_bits, sizeof below);
    memcpy(&above, &hi_bits, sizeof above);
    double lo = 0.5 * (d + (double)below);
    double hi = isinf(above) ? d + 0.5 * (d - (double)below) : 0.5 * (d + (double)above);
    double tol = d * 0x1p-50;
    int pow2 = (bits & 0x7fffffu) == 0;
    /* A decimal of nd digits is one of nd + 1 digits too, so the digit counts that read back
     * form a run nd >= shortest: walk down from 8 and stop at the first that does not (for
     * most values that is 8 itself: one check). */
    uint32_t best_m = m;
    int best_e = e;
    for (int nd = 8; nd >= 1; nd--) {
        /* the nearest nd-digit decimal: q * 10^(e - nd + 1), q in [10^(nd-1), 10^nd] */
        double q = (double)(int64_t)(d * p10(nd - 1 - e) + 0.5), cand = q * p10(e - nd + 1);
        /* at a power of two the interval is lopsided: the next decimal up may fit instead */
        if (!(cand >= lo - tol && cand <= hi + tol) &&
            !(pow2 && (cand = (q += 1.0) * p10(e - nd + 1)) <= hi + tol))
            break;
        int ee = e;
        if (q >= (double)pow10_u32[nd]) { q /= 10.0; ee++; } /* 9.99... rounded up to 10 */
        uint32_t mm = (uint32_t)q * pow10_u32[9 - nd];
        if (cand <= lo + tol || cand >= hi - tol) { /* near a tie: let strtof decide */
            char tmp[32];
            tmp[fmt_digits(tmp, mm, ee)] = '\0';
            if (strtof(tmp, NULL) != a) break;
        }
        best_m = mm;
        best_e = ee;
    }
    return (size_t)(o - out) + fmt_digits(o, best_m, best_e);
}

void srv_buf_float(srv_buf *b, float v) {
    if (srv_buf_reserve(b, 32)) return;
    b->len += srv_fmt_float(b->p + b->len, v);
    b->p[b->len] = '\0';
}

void srv_buf_double(srv_buf *b, double v) {
    if (!isfinite(v)) { srv_buf_put(b, "null", 4); return; }
    if (v == floor(v) && fabs(v) < 1e15) { srv_buf_printf(b, "%.0f", v); return; }
    /* The fewest significant digits that read back to the same double (Python's repr), so
     * students see 0.1 rather than 0.10000000000000001 and nothing is lost. Doubles are only
     * printed in small numbers (training losses and weights), so the search is affordable. */
    char tmp[32];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v) break;
    }
    srv_buf_puts(b, tmp);
}

static void put_floats_json(srv_buf *b, const float *v, size_t n) {
    /* Reserve once: at most 16 characters per float ("-1.23456789e-05" plus a comma). */
    if (n && n < SIZE_MAX / 32) srv_buf_reserve(b, n * 17 + 2);
    srv_buf_putc(b, '[');
    for (size_t i = 0; i < n && !b->oom; i++) {
        if (srv_buf_reserve(b, 32)) return;
        if (i) b->p[b->len++] = ',';
        b->len += srv_fmt_float(b->p + b->len, v[i]);
    }
    srv_buf_putc(b, ']');
}

void srv_buf_doubles(srv_buf *b, const double *v, size_t n) {
    srv_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) srv_buf_putc(b, ',');
        srv_buf_double(b, v[i]);
    }
    srv_buf_putc(b, ']');
}

void srv_buf_sizes(srv_buf *b, const size_t *v, size_t n) {
    srv_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) srv_buf_putc(b, ',');
        srv_buf_size(b, v[i]);
    }
    srv_buf_putc(b, ']');
}

static size_t prod(const size_t *shape, size_t ndim) {
    size_t n = 1;
    for (size_t i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

/* {"shape": [...], "dtype": "float32", "npy": "<base64 of the .npy file>"}, encoded straight
 * from the header and the data (no copy of them together). */
static void put_npy(srv_buf *b, const void *data, srv_npy_dtype dt, const size_t *shape, size_t ndim) {
    unsigned char hdr[SRV_NPY_HEADER_CAP];
    size_t hl = srv_npy_header(hdr, dt, shape, ndim), bytes, n;
    if (nn_size_mul(prod(shape, ndim), srv_npy_itemsize(dt), &bytes) || nn_size_add(hl, bytes, &n)) {
        b->oom = 1;
        return;
    }
    srv_buf_puts(b, "{\"shape\":");
    srv_buf_sizes(b, shape, ndim);
    srv_buf_puts(b, ",\"dtype\":\"");
    srv_buf_puts(b, srv_npy_dtype_name(dt));
    srv_buf_puts(b, "\",\"npy\":\"");
    if (srv_buf_reserve(b, srv_base64_encoded_len(n))) return;
    b->len += srv_base64_encode_into(b->p + b->len, hdr, hl, data, bytes);
    srv_buf_puts(b, "\"}");
}

void srv_buf_floats(srv_buf *b, const float *v, size_t n) {
    size_t shape[1] = {n};
    if (b->npy) put_npy(b, v, SRV_NPY_F32, shape, 1);
    else put_floats_json(b, v, n);
}

void srv_buf_tensor(srv_buf *b, const float *data, const size_t *shape, size_t ndim) {
    if (b->npy) {
        put_npy(b, data, SRV_NPY_F32, shape, ndim);
        return;
    }
    srv_buf_puts(b, "{\"shape\":");
    srv_buf_sizes(b, shape, ndim);
    srv_buf_puts(b, ",\"data\":");
    put_floats_json(b, data, prod(shape, ndim));
    srv_buf_putc(b, '}');
}

void srv_buf_tensor_f64(srv_buf *b, const double *data, const size_t *shape, size_t ndim) {
    if (b->npy) {
        put_npy(b, data, SRV_NPY_F64, shape, ndim);
        return;
    }
    srv_buf_puts(b, "{\"shape\":");
    srv_buf_sizes(b, shape, ndim);
    srv_buf_puts(b, ",\"data\":");
    srv_buf_doubles(b, data, prod(shape, ndim));
    srv_buf_putc(b, '}');
}

char *srv_buf_take(srv_buf *b, size_t *len) {
    if (b->oom) { srv_buf_free(b); if (len) *len = 0; return NULL; }
    if (!b->p && srv_buf_reserve(b, 0)) return NULL;
    b->p[b->len] = '\0';
    char *p = b->p;
    if (len) *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void srv_buf_free(srv_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}
