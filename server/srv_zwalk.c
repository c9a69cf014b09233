/* srv_zwalk.c — walk a zlib stream's blocks without inflating it; see srv_zwalk.h.
 * The decoding follows RFC 1951; the checks and their words are zlib's (inflate.c, inftrees.c). */
#include "srv_zwalk.h"

#include <stdint.h>
#include <string.h>

/* Input bits, least significant first, refilled from the pieces. */
typedef struct bits {
    const unsigned char *p, *end; /* the current piece */
    srv_zwalk_next_fn next;
    void *ctx;
    uint64_t buf;
    unsigned cnt;   /* bits held in buf */
    size_t in;      /* bytes taken from the input */
    int eof;        /* no more pieces */
    int short_;     /* a read needed bits past the end of the input */
} bits;

static int have_byte(bits *s) {
    while (s->p == s->end) {
        size_t n = 0;
        if (s->eof || !s->next(s->ctx, &s->p, &n)) {
            s->eof = 1;
            return 0;
        }
        s->end = s->p + n;
    }
    return 1;
}

/* Bits above cnt in buf are either zero or the input's next bits (a refill of 8 bytes at once
 * loads more than it counts): ORing the same bytes in again later changes nothing. */
static void fill(bits *s) {
    if (s->end - s->p >= 8) {
        const unsigned char *q = s->p;
        uint64_t v = (uint64_t)q[0] | (uint64_t)q[1] << 8 | (uint64_t)q[2] << 16 | (uint64_t)q[3] << 24 |
                     (uint64_t)q[4] << 32 | (uint64_t)q[5] << 40 | (uint64_t)q[6] << 48 | (uint64_t)q[7] << 56;
        unsigned whole = (63 - s->cnt) >> 3;
        s->buf |= v << s->cnt;
        s->p += whole;
        s->in += whole;
        s->cnt += 8 * whole;
        return;
    }
    while (s->cnt <= 56 && (s->p < s->end || have_byte(s))) {
        s->buf |= (uint64_t)*s->p++ << s->cnt;
        s->cnt += 8;
        s->in++;
    }
}

/* The next k (<= 16) bits; 0 and short_ set when the input ends first. */
static unsigned take(bits *s, unsigned k) {
    if (s->cnt < k) fill(s);
    if (s->cnt < k) {
        s->short_ = 1;
        return 0;
    }
    unsigned v = (unsigned)(s->buf & ((1u << k) - 1));
    s->buf >>= k;
    s->cnt -= k;
    return v;
}

/* A canonical Huffman code, decoded bit by bit, or, once the look-up table is built, the codes
 * of up to ZFAST bits with one look-up (indexed by the next ZFAST input bits). The table costs
 * ~1500 writes, so a block's table is built only after its first FAST_AFTER symbols: a block of
 * a few symbols (a bomb is thousands of empty blocks) is walked far cheaper than stb decodes
 * it, a real block of thousands of symbols at full speed. */
#define ZFAST 10
#define MAXBITS 15
#define FAST_AFTER 64
typedef struct huff {
    uint16_t fast[1 << ZFAST]; /* symbol | length << 9; 0: not a code of <= ZFAST bits */
    uint16_t count[MAXBITS + 1];
    uint16_t symbol[288];
    int fast_ready;
} huff;

/* Build h from n code lengths. 0: complete; 1: incomplete but allowed (one code of length 1,
 * or no code at all); -1: over-subscribed or incomplete (zlib's rule; codelen: no exception). */
static int build(huff *h, const unsigned char *len, int n, int codelen) {
    memset(h->count, 0, sizeof h->count);
    int used = 0;
    for (int i = 0; i < n; i++) /* zeros skipped: counting them is a chain of stores to one slot */
        if (len[i]) {
            h->count[len[i]]++;
            used++;
        }
    h->count[0] = (uint16_t)(n - used);
    int left = 1, max = 0;
    for (int k = 1; k <= MAXBITS; k++) {
        left = 2 * left - h->count[k];
        if (left < 0) return -1;
        if (h->count[k]) max = k;
    }
    uint16_t offs[MAXBITS + 2];
    offs[1] = 0;
    for (int k = 1; k <= MAXBITS; k++) offs[k + 1] = (uint16_t)(offs[k] + h->count[k]);
    for (int i = 0; i < n; i++)
        if (len[i]) h->symbol[offs[len[i]]++] = (uint16_t)i;
    h->fast_ready = 0;
    if (left == 0) return 0;
    return (codelen || max > 1) && max != 0 ? -1 : 1;
}

static void build_fast(huff *h) {
    memset(h->fast, 0, sizeof h->fast);
    unsigned code = 0;
    int idx = 0;
    for (int k = 1; k <= ZFAST; k++, code <<= 1)
        for (int c = 0; c < h->count[k]; c++, code++, idx++) {
            unsigned rev = 0; /* the code, first bit lowest, as it arrives */
            for (int b = 0; b < k; b++) rev |= ((code >> b) & 1u) << (k - 1 - b);
            for (unsigned j = rev; j < (1u << ZFAST); j += 1u << k)
                h->fast[j] = (uint16_t)(h->symbol[idx] | k << 9);
        }
    h->fast_ready = 1;
}

/* The next symbol; -1 for a bit sequence that is no code (or the input ended: short_). */
static int decode(bits *s, const huff *h) {
    if (s->cnt < MAXBITS) fill(s);
    unsigned e = h->fast_ready ? h->fast[s->buf & ((1u << ZFAST) - 1)] : 0;
    if (e) {
        unsigned k = e >> 9;
        if (k > s->cnt) {
            s->short_ = 1;
            return -1;
        }
        s->buf >>= k;
        s->cnt -= k;
        return (int)(e & 511);
    }
    int code = 0, first = 0, index = 0;
    for (unsigned k = 1; k <= MAXBITS; k++) {
        if (k > s->cnt) {
            s->short_ = 1;
            return -1;
        }
        code |= (int)((s->buf >> (k - 1)) & 1);
        int count = h->count[k];
        if (code - first < count) {
            s->buf >>= k;
            s->cnt -= k;
            return h->symbol[index + code - first];
        }
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return -1;
}

static const uint16_t LBASE[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                   31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t LEXT[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t DBASE[30] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
                                   33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
                                   1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t DEXT[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

typedef struct walk {
    bits s;
    srv_zwalk *w;
    size_t max_out;
    huff lit, dist;             /* a dynamic block's codes */
    huff fixed_lit, fixed_dist; /* built at the first fixed block */
    int fixed_built;
} walk;

static srv_zwalk_end corrupt(walk *k, const char *why) {
    k->w->error = why;
    return SRV_ZWALK_CORRUPT;
}

/* The symbols of one block, up to its end code. */
static srv_zwalk_end codes(walk *k, huff *lit, huff *dist) {
    bits *s = &k->s;
    for (size_t done = 0;; done++) {
        if (done == FAST_AFTER) {
            if (!lit->fast_ready) build_fast(lit);
            if (!dist->fast_ready) build_fast(dist);
        }
        int sym = decode(s, lit);
        if (s->short_) return SRV_ZWALK_TRUNCATED;
        if (sym < 0 || sym > 285) return corrupt(k, "invalid literal/length code");
        if (sym == 256) return SRV_ZWALK_DONE;
        if (sym < 256) {
            k->w->out++;
        } else {
            sym -= 257;
            size_t len = LBASE[sym] + take(s, LEXT[sym]);
            int d = decode(s, dist);
            if (s->short_) return SRV_ZWALK_TRUNCATED;
            if (d < 0 || d > 29) return corrupt(k, "invalid distance code");
            size_t back = DBASE[d] + take(s, DEXT[d]);
            if (s->short_) return SRV_ZWALK_TRUNCATED;
            if (back > k->w->out) return corrupt(k, "invalid distance too far back");
            k->w->out += len;
        }
        if (k->w->out > k->max_out) return SRV_ZWALK_TOO_MUCH_OUT;
    }
}

static srv_zwalk_end stored(walk *k) {
    bits *s = &k->s;
    take(s, s->cnt & 7); /* to a byte boundary */
    unsigned len = take(s, 16), nlen = take(s, 16);
    if (s->short_) return SRV_ZWALK_TRUNCATED;
    if (len != (~nlen & 0xffffu)) return corrupt(k, "invalid stored block lengths");
    k->w->out += len;
    if (k->w->out > k->max_out) return SRV_ZWALK_TOO_MUCH_OUT;
    for (; len && s->cnt >= 8; len--) take(s, 8);
    if (len) s->buf = 0; /* cnt is 0: the bytes loaded ahead are skipped with the block */
    while (len) {
        if (!have_byte(s)) return SRV_ZWALK_TRUNCATED;
        size_t got = (size_t)(s->end - s->p) < len ? (size_t)(s->end - s->p) : len;
        s->p += got;
        s->in += got;
        len -= (unsigned)got;
    }
    return SRV_ZWALK_DONE;
}

static void build_fixed(walk *k) {
    unsigned char l[288];
    memset(l, 8, 144);
    memset(l + 144, 9, 112);
    memset(l + 256, 7, 24);
    memset(l + 280, 8, 8);
    build(&k->fixed_lit, l, 288, 0);
    memset(l, 5, 32);
    build(&k->fixed_dist, l, 32, 0);
    build_fast(&k->fixed_lit); /* once per stream: every fixed block uses them */
    build_fast(&k->fixed_dist);
    k->fixed_built = 1;
}

/* A dynamic block's code lengths (RFC 1951 3.2.7) into k->lit and k->dist. */
static srv_zwalk_end dynamic(walk *k) {
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    bits *s = &k->s;
    unsigned nlen = take(s, 5) + 257, ndist = take(s, 5) + 1, ncode = take(s, 4) + 4;
    if (s->short_) return SRV_ZWALK_TRUNCATED;
    if (nlen > 286 || ndist > 30) return corrupt(k, "too many length or distance symbols");
    unsigned char len[286 + 30];
    memset(len, 0, 19);
    for (unsigned i = 0; i < ncode; i++) len[order[i]] = (unsigned char)take(s, 3);
    if (s->short_) return SRV_ZWALK_TRUNCATED;
    huff *cl = &k->lit; /* the code length code is needed only until lit is built */
    if (build(cl, len, 19, 1) != 0) return corrupt(k, "invalid code lengths set");
    unsigned n = 0;
    while (n < nlen + ndist) {
        int sym = decode(s, cl);
        if (s->short_) return SRV_ZWALK_TRUNCATED;
        if (sym < 0) return corrupt(k, "invalid code lengths set");
        if (sym < 16) {
            len[n++] = (unsigned char)sym;
            continue;
        }
        unsigned char v = 0;
        unsigned rep;
        if (sym == 16) {
            if (n == 0) return corrupt(k, "invalid bit length repeat");
            v = len[n - 1];
            rep = 3 + take(s, 2);
        } else {
            rep = sym == 17 ? 3 + take(s, 3) : 11 + take(s, 7);
        }
        if (s->short_) return SRV_ZWALK_TRUNCATED;
        if (n + rep > nlen + ndist) return corrupt(k, "invalid bit length repeat");
        memset(len + n, v, rep);
        n += rep;
    }
    if (len[256] == 0) return corrupt(k, "invalid code -- missing end-of-block");
    if (build(&k->lit, len, (int)nlen, 0) < 0) return corrupt(k, "invalid literal/lengths set");
    if (build(&k->dist, len + nlen, (int)ndist, 0) < 0) return corrupt(k, "invalid distances set");
    return SRV_ZWALK_DONE;
}

static srv_zwalk_end header(walk *k) {
    unsigned cmf = take(&k->s, 8), flg = take(&k->s, 8);
    if (k->s.short_) return SRV_ZWALK_TRUNCATED;
    if ((cmf * 256 + flg) % 31) return corrupt(k, "incorrect header check");
    if ((cmf & 15) != 8) return corrupt(k, "unknown compression method");
    if ((cmf >> 4) > 7) return corrupt(k, "invalid window size");
    if (flg & 32) return corrupt(k, "needs a preset dictionary (not allowed in PNG)");
    return SRV_ZWALK_DONE;
}

static srv_zwalk_end blocks(walk *k, size_t max_blocks) {
    bits *s = &k->s;
    for (;;) {
        unsigned last = take(s, 1), type = take(s, 2);
        if (s->short_) return SRV_ZWALK_TRUNCATED;
        if (type == 3) return corrupt(k, "invalid block type");
        k->w->blocks[type]++;
        if (k->w->blocks[1] + k->w->blocks[2] > max_blocks) return SRV_ZWALK_TOO_MANY_BLOCKS;
        srv_zwalk_end r;
        if (type == 0) {
            r = stored(k);
        } else if (type == 1) {
            if (!k->fixed_built) build_fixed(k);
            r = codes(k, &k->fixed_lit, &k->fixed_dist);
        } else {
            r = dynamic(k);
            if (r == SRV_ZWALK_DONE) r = codes(k, &k->lit, &k->dist);
        }
        if (r != SRV_ZWALK_DONE) return r;
        if (last) return SRV_ZWALK_DONE;
    }
}

srv_zwalk_end srv_zwalk_run(srv_zwalk *w, int raw, size_t max_out, size_t max_blocks,
                            srv_zwalk_next_fn next, void *ctx) {
    memset(w, 0, sizeof *w);
    walk k;
    memset(&k, 0, sizeof k);
    k.s.next = next;
    k.s.ctx = ctx;
    k.w = w;
    k.max_out = max_out;
    srv_zwalk_end r = raw ? SRV_ZWALK_DONE : header(&k);
    if (r == SRV_ZWALK_DONE) r = blocks(&k, max_blocks);
    w->in = k.s.in - k.s.cnt / 8; /* whole bytes fetched ahead are not consumed */
    return r;
}
