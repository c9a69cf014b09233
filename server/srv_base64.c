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

/* Where the base64 text starts: after a "data:<type>;base64," prefix if there is one, else 0;
 * SIZE_MAX (and *why) for a malformed data: URL. */
static size_t data_start(const char *s, size_t n, const char **why) {
    if (n < 5 || strncasecmp(s, "data:", 5) != 0) return 0;
    const char *comma = memchr(s, ',', n);
    if (!comma || comma - s < 12 || strncasecmp(comma - 7, ";base64", 7) != 0) {
        *why = "a data: URL must be data:<type>;base64,<data>";
        return SIZE_MAX;
    }
    return (size_t)(comma - s) + 1;
}

/* The end of the text s[0..n): the final, partial group of k characters (in acc) and pad '='
 * characters, the first at offset last. Appends the group's bytes to out[0..*o); returns NULL,
 * or the reason the ending is wrong (*pos: where). */
static const char *decode_end(unsigned char *out, size_t *o, uint32_t acc, size_t k, size_t pad,
                              size_t last, size_t n, size_t *pos) {
    if (*o == 0 && k == 0) return pad ? "only padding" : "empty";
    if (k == 1 || (pad && (k == 0 || pad != 4 - k))) {
        *pos = pad ? last : n;
        return "wrong length or padding";
    }
    if ((k == 2 && (acc & 0xF)) || (k == 3 && (acc & 0x3))) {
        *pos = n;
        return "non-zero unused bits in the last group";
    }
    if (k == 2) {
        out[(*o)++] = (unsigned char)(acc >> 4);
    } else if (k == 3) {
        out[(*o)++] = (unsigned char)(acc >> 10);
        out[(*o)++] = (unsigned char)(acc >> 2);
    }
    return NULL;
}

unsigned char *srv_base64_decode(const char *s, size_t n, size_t *out_len, const char **why,
                                 size_t *pos) {
    *out_len = 0;
    *pos = 0;
    size_t start = data_start(s, n, why);
    if (start == SIZE_MAX) return NULL;
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
    *why = decode_end(out, &o, acc, k, pad, last, n, pos);
    if (*why) {
        free(out);
        return NULL;
    }
    *out_len = o;
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
