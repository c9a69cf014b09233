/* srv_base64.c — strict base64; see srv_base64.h. */
#include "srv_base64.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char enc_tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decoding table: 0..63 for the alphabet, -1 for anything else; built at compile time. */
#define R4(b) b, b + 1, b + 2, b + 3
#define R16(b) R4(b), R4(b + 4), R4(b + 8), R4(b + 12)
#define N4 -1, -1, -1, -1
#define N16 N4, N4, N4, N4
static const signed char dec_tab[256] = {
    N16, N16,                                   /* 0x00-0x1f */
    N4, N4, -1, -1, -1, 62, -1, -1, -1, 63,     /* 0x20-0x2f: '+' 0x2b, '/' 0x2f */
    R4(52), R4(56), 60, 61, -1, -1, -1, -1, -1, -1, /* '0'-'9' */
    -1, R16(0), R4(16), R4(20), 24, 25, -1, -1, -1, -1, -1, /* 'A'-'Z' */
    -1, R16(26), R4(42), R4(46), 50, 51, -1, -1, -1, -1, -1, /* 'a'-'z' */
    N16, N16, N16, N16, N16, N16, N16, N16,     /* 0x80-0xff */
};

static int dec(unsigned char c) { return dec_tab[c]; }

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

unsigned char *srv_base64_decode(const char *s, size_t n, size_t *out_len, const char **why,
                                 size_t *pos) {
    *out_len = 0;
    *pos = 0;
    size_t start = 0;
    if (n >= 5 && strncasecmp(s, "data:", 5) == 0) {
        const char *comma = memchr(s, ',', n);
        if (!comma || comma - s < 12 || strncasecmp(comma - 7, ";base64", 7) != 0) {
            *why = "a data: URL must be data:<type>;base64,<data>";
            return NULL;
        }
        start = (size_t)(comma - s) + 1;
    }
    unsigned char *out = malloc(n / 4 * 3 + 3);
    if (!out) { *why = "out of memory"; return NULL; }
    uint32_t acc = 0;
    size_t k = 0, o = 0, pad = 0, last = start;
    size_t i = start;
    for (;;) {
        /* Fast path: whole groups of four alphabet characters at a group boundary. */
        while (k == 0 && i + 4 <= n) {
            int a = dec((unsigned char)s[i]), b = dec((unsigned char)s[i + 1]);
            int c = dec((unsigned char)s[i + 2]), d = dec((unsigned char)s[i + 3]);
            if ((a | b | c | d) < 0) break;
            if (pad) break; /* reported by the slow path */
            uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
            out[o++] = (unsigned char)(v >> 16);
            out[o++] = (unsigned char)(v >> 8);
            out[o++] = (unsigned char)v;
            i += 4;
        }
        if (i >= n) break;
        unsigned char c = (unsigned char)s[i];
        if (is_ws((char)c)) { i++; continue; }
        if (c == '=') {
            if (pad == 0) last = i;
            pad++;
            i++;
            continue;
        }
        int v = dec(c);
        if (v < 0 || pad) {
            *pos = i;
            *why = pad ? "data after '=' padding" : "invalid base64 character";
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)v;
        if (++k == 4) {
            out[o++] = (unsigned char)(acc >> 16);
            out[o++] = (unsigned char)(acc >> 8);
            out[o++] = (unsigned char)acc;
            acc = 0;
            k = 0;
        }
        i++;
    }
    if (o == 0 && k == 0) {
        *why = pad ? "only padding" : "empty";
        free(out);
        return NULL;
    }
    /* k is the number of characters in the final, partial group. */
    if (k == 1 || (pad && (k == 0 || pad != 4 - k))) {
        *pos = pad ? last : n;
        *why = "wrong length or padding";
        free(out);
        return NULL;
    }
    if (k == 2) {
        if (acc & 0xF) { *pos = n; *why = "non-zero unused bits in the last group"; free(out); return NULL; }
        out[o++] = (unsigned char)(acc >> 4);
    } else if (k == 3) {
        if (acc & 0x3) { *pos = n; *why = "non-zero unused bits in the last group"; free(out); return NULL; }
        out[o++] = (unsigned char)(acc >> 10);
        out[o++] = (unsigned char)(acc >> 2);
    }
    *out_len = o;
    *why = NULL;
    return out;
}

size_t srv_base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

/* Whole groups: n a multiple of 3. Returns the characters written. */
static size_t encode_groups(char *out, const unsigned char *p, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o] = enc_tab[v >> 18];
        out[o + 1] = enc_tab[(v >> 12) & 63];
        out[o + 2] = enc_tab[(v >> 6) & 63];
        out[o + 3] = enc_tab[v & 63];
        o += 4;
    }
    return o;
}

/* The last 1 or 2 bytes, padded. */
static size_t encode_tail(char *out, const unsigned char *p, size_t n) {
    if (n == 0) return 0;
    uint32_t v = (uint32_t)p[0] << 16 | (n == 2 ? (uint32_t)p[1] << 8 : 0);
    out[0] = enc_tab[v >> 18];
    out[1] = enc_tab[(v >> 12) & 63];
    out[2] = n == 2 ? enc_tab[(v >> 6) & 63] : '=';
    out[3] = '=';
    return 4;
}

size_t srv_base64_encode_into(char *dst, const unsigned char *a, size_t na, const unsigned char *b,
                              size_t nb) {
    size_t ga = na / 3 * 3, o = encode_groups(dst, a, ga);
    /* The group that straddles a's end and b's start, if any. */
    unsigned char mid[3];
    size_t m = 0, used_b = 0;
    while (ga + m < na) { mid[m] = a[ga + m]; m++; }
    if (m) {
        while (m < 3 && used_b < nb) mid[m++] = b[used_b++];
        if (m == 3) o += encode_groups(dst + o, mid, 3);
        else return o + encode_tail(dst + o, mid, m);
    }
    if (used_b == nb) return o; /* (b may be NULL: no pointer arithmetic on it) */
    size_t gb = (nb - used_b) / 3 * 3;
    o += encode_groups(dst + o, b + used_b, gb);
    return o + encode_tail(dst + o, b + used_b + gb, nb - used_b - gb);
}

char *srv_base64_encode(const unsigned char *p, size_t n, size_t *out_len) {
    size_t len = srv_base64_encoded_len(n);
    char *out = malloc(len + 1);
    if (!out) return NULL;
    size_t o = srv_base64_encode_into(out, p, n, NULL, 0);
    out[o] = '\0';
    if (out_len) *out_len = o;
    return out;
}
