/* srv_jpeg_walk.c — a JPEG's markers, walked before stb_image decodes it; see srv_jpeg_walk.h.
 *
 * Refused (they derail stb_image 2.27):
 * - a DHT table whose 16 code counts sum to more than 256 (stb writes past its tables) or to 0
 *   (its bit reader goes negative: UBSan "shift exponent 34");
 * - a scan (SOS) that uses a Huffman table no earlier DHT defined: stb would decode with
 *   uninitialised tables and answer with pixels made of stale heap bytes. Which tables a scan
 *   uses follows stb: baseline scans use DC and AC; progressive DC-first scans (Ss = 0, Ah = 0)
 *   only DC, DC-refinement scans none, AC scans (Ss > 0) only AC;
 * - a DHT or SOS segment cut off by the end of the file: stb reads the missing bytes as zeros
 *   and goes on (a cut SOS once made it decode with an undefined table and index 1e9 bytes
 *   past one: fuzz_conv, after 14 M executions). */
#include "srv_jpeg_walk.h"

#include <string.h>

/* The frame as stb_image lays it out (stbi__process_frame_header). */
typedef struct frame {
    int ncomp, hmax, vmax;
    int id[4], h[4], v[4];
    double mcux, mcuy; /* MCUs across and down */
} frame;

typedef struct state {
    srv_jpeg_info *info;
    frame f;
    int framed;        /* the first SOF0/1/2 was read and stb accepts it */
    int stopped;       /* stb stops decoding here: count nothing more */
    int progressive;   /* a SOF2 marker was seen (which tables scans use) */
    int defined[2][4]; /* [class: 0 DC, 1 AC][table id] */
} state;

/* DHT segment payload [p, end): every table's counts checked, the tables counted. */
static int dht(state *st, const unsigned char *b, size_t p, size_t end) {
    while (p < end) {
        if (p + 17 > end) return -1;
        unsigned tc = b[p] >> 4, th = b[p] & 15;
        size_t sum = 0;
        for (int k = 1; k <= 16; k++) sum += b[p + (size_t)k];
        if (sum > 256 || sum == 0) return -1;
        if (tc <= 1 && th <= 3) st->defined[tc][th] = 1; /* stb rejects other ids itself */
        st->info->huffman_tables++;
        p += 17 + sum;
    }
    return 0;
}

/* SOF0/1/2 payload [p, end): the size, and the layout if stb accepts the frame. */
static void sof(state *st, unsigned m, const unsigned char *b, size_t p, size_t end) {
    if (end - p < 6) return;
    srv_jpeg_info *in = st->info;
    in->sized = 1;
    in->height = (unsigned long)b[p + 1] << 8 | b[p + 2];
    in->width = (unsigned long)b[p + 3] << 8 | b[p + 4];
    in->progressive = m == 0xC2;
    frame *f = &st->f;
    f->ncomp = b[p + 5];
    if (b[p] != 8 || !in->width || !in->height || (f->ncomp != 1 && f->ncomp != 3 && f->ncomp != 4) ||
        end - p != 6 + 3 * (size_t)f->ncomp)
        return;
    f->hmax = f->vmax = 1;
    for (int c = 0; c < f->ncomp; c++) {
        const unsigned char *q = b + p + 6 + 3 * c;
        f->id[c] = q[0];
        f->h[c] = q[1] >> 4;
        f->v[c] = q[1] & 15;
        if (f->h[c] < 1 || f->h[c] > 4 || f->v[c] < 1 || f->v[c] > 4) return;
        if (f->h[c] > f->hmax) f->hmax = f->h[c];
        if (f->v[c] > f->vmax) f->vmax = f->v[c];
    }
    for (int c = 0; c < f->ncomp; c++)
        if (f->hmax % f->h[c] || f->vmax % f->v[c]) return;
    f->mcux = (double)((in->width + 8 * (unsigned)f->hmax - 1) / (8 * (unsigned)f->hmax));
    f->mcuy = (double)((in->height + 8 * (unsigned)f->vmax - 1) / (8 * (unsigned)f->vmax));
    for (int c = 0; c < f->ncomp; c++) in->frame_blocks += f->mcux * f->h[c] * f->mcuy * f->v[c];
    st->framed = 1;
}

/* Blocks one component covers in a scan of its own: its pixels, in 8x8 blocks. */
static double own_blocks(const frame *f, const srv_jpeg_info *in, int c) {
    unsigned long x = (in->width * (unsigned long)f->h[c] + (unsigned long)f->hmax - 1) / (unsigned long)f->hmax;
    unsigned long y = (in->height * (unsigned long)f->v[c] + (unsigned long)f->vmax - 1) / (unsigned long)f->vmax;
    return (double)((x + 7) / 8) * (double)((y + 7) / 8);
}

/* A scan the frame accepts (stbi__process_scan_header): its blocks counted. */
static void count_scan(state *st, const unsigned char *b, size_t i, size_t ns) {
    const frame *f = &st->f;
    srv_jpeg_info *in = st->info;
    if (ns < 1 || ns > 4 || ns > (size_t)f->ncomp) { st->stopped = 1; return; }
    double interleaved = 0, single = 0;
    for (size_t k = 0; k < ns; k++) {
        int c = 0;
        while (c < f->ncomp && f->id[c] != b[i + 5 + 2 * k]) c++;
        if (c == f->ncomp) { st->stopped = 1; return; }
        interleaved += f->mcux * f->h[c] * f->mcuy * f->v[c];
        single = own_blocks(f, in, c);
    }
    unsigned ss = b[i + 5 + 2 * ns], se = b[i + 6 + 2 * ns];
    unsigned ah = b[i + 7 + 2 * ns] >> 4, al = b[i + 7 + 2 * ns] & 15;
    int ok = in->progressive ? ss <= se && se <= 63 && ah <= 13 && al <= 13 : ss == 0 && ah == 0 && al == 0;
    if (!ok) { st->stopped = 1; return; }
    in->scans++;
    in->scan_blocks += ns == 1 ? single : interleaved;
}

/* SOS segment starting at marker i, payload end `end`: tables used must be defined. */
static int sos(state *st, const unsigned char *b, size_t i, size_t end) {
    if (i + 5 > end) return -1;
    size_t ns = b[i + 4];
    if (i + 5 + 2 * ns + 3 > end) return -1; /* shorter than its components say */
    unsigned ss = b[i + 5 + 2 * ns], ah = b[i + 7 + 2 * ns] >> 4;
    int need_dc = !st->progressive || (ss == 0 && ah == 0);
    int need_ac = !st->progressive || ss > 0;
    for (size_t k = 0; k < ns; k++) {
        unsigned td = b[i + 6 + 2 * k] >> 4, ta = b[i + 6 + 2 * k] & 15;
        if (td > 3 || ta > 3) continue; /* stb rejects these itself */
        if ((need_dc && !st->defined[0][td]) || (need_ac && !st->defined[1][ta])) return -1;
    }
    if (st->framed && !st->stopped) count_scan(st, b, i, ns);
    return 0;
}

static int segment(state *st, unsigned m, const unsigned char *b, size_t i, size_t L, size_t n,
                   const char **why) {
    size_t end = i + 2 + L < n ? i + 2 + L : n; /* segment end, clipped to the file */
    if ((m == 0xC4 || m == 0xDA) && i + 2 + L > n) {
        *why = "a Huffman table or scan header is cut off by the end of the file";
        return -1;
    }
    if (m == 0xC2) st->progressive = 1;
    if (m == 0xC0 || m == 0xC1 || m == 0xC2) {
        if (st->info->sized) st->stopped = 1; /* stb refuses a second frame header */
        else sof(st, m, b, i + 4, end);
    }
    if (m == 0xC4 && dht(st, b, i + 4, end)) {
        *why = "a Huffman table is empty or has more than 256 codes";
        return -1;
    }
    if (m == 0xDA && sos(st, b, i, end)) {
        *why = "a scan uses a Huffman table that is not defined";
        return -1;
    }
    return 0;
}

int srv_jpeg_walk(const unsigned char *b, size_t n, srv_jpeg_info *info, const char **why) {
    memset(info, 0, sizeof *info);
    state st;
    memset(&st, 0, sizeof st);
    st.info = info;
    size_t i = 0;
    while (i + 1 < n) {
        if (b[i] != 0xFF) { i++; continue; } /* entropy-coded data */
        unsigned m = b[i + 1];
        if (m == 0xFF) { i++; continue; }     /* fill byte */
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { i += 2; continue; }
        if (m == 0xD9) break;                 /* EOI */
        if (i + 4 > n) break;                 /* truncated: stb reports it */
        size_t L = (size_t)b[i + 2] << 8 | b[i + 3];
        if (L < 2) {
            *why = "a marker segment has a length below 2";
            return -1;
        }
        if (segment(&st, m, b, i, L, n, why)) return -1;
        i += 2 + L;
    }
    return 0;
}
