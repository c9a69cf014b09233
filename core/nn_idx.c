/* nn_idx.c — IDX files through zlib; see nn_idx.h. */
#include "nn_idx.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_TYPE_UBYTE 0x08
#define CHUNK ((size_t)1 << 30) /* gzread takes an unsigned count */

/* The last path component, so messages stay short whatever the directory. */
static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static nn_code open_gz(const char *path, gzFile *out, const char *field, nn_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        char why[96];
        if (strerror_r(errno, why, sizeof why) != 0) why[0] = '\0';
        return nn_fail(err, NN_INVALID, field, "cannot open %.120s: %s", path, why);
    }
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        return nn_fail(err, NN_NOMEM, field, "cannot read %.120s: out of memory", path);
    }
    gzbuffer(f, 1 << 17);
    *out = f;
    return NN_OK;
}

/* Read exactly n bytes; anything less is a truncated or damaged file. */
static nn_code read_exact(gzFile f, const char *path, void *dst, size_t n, const char *what,
                          const char *field, nn_error *err) {
    unsigned char *p = dst;
    size_t got = 0;
    while (got < n) {
        size_t want = n - got < CHUNK ? n - got : CHUNK;
        int r = gzread(f, p + got, (unsigned)want);
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (got == n) return NN_OK;
    int zerr = Z_OK;
    const char *msg = gzerror(f, &zerr);
    if (zerr != Z_OK && zerr != Z_STREAM_END && msg && *msg)
        return nn_fail(err, NN_INVALID, field, "%s is damaged (%s, in the %s)", base_name(path), msg,
                       what);
    return nn_fail(err, NN_INVALID, field, "%s is truncated: %zu of %zu bytes of the %s",
                   base_name(path), got, n, what);
}

static nn_code read_header(gzFile f, const char *path, nn_idx_header *h, const char *field,
                           nn_error *err) {
    unsigned char magic[4];
    nn_code c = read_exact(f, path, magic, 4, "header", field, err);
    if (c) return c;
    if (magic[0] != 0 || magic[1] != 0 || magic[2] != IDX_TYPE_UBYTE)
        return nn_fail(err, NN_INVALID, field,
                       "%s is not an IDX file of bytes (magic %02x%02x%02x%02x, want 000008xx)",
                       base_name(path), magic[0], magic[1], magic[2], magic[3]);
    if (magic[3] == 0 || magic[3] > NN_IDX_MAX_DIMS)
        return nn_fail(err, NN_INVALID, field, "%s has %u dimensions (1 to %d supported)",
                       base_name(path), magic[3], NN_IDX_MAX_DIMS);
    h->ndim = magic[3];
    unsigned char d[4 * NN_IDX_MAX_DIMS];
    if ((c = read_exact(f, path, d, 4 * h->ndim, "header", field, err))) return c;
    for (size_t i = 0; i < h->ndim; i++)
        h->dims[i] = (size_t)d[4 * i] << 24 | (size_t)d[4 * i + 1] << 16 | (size_t)d[4 * i + 2] << 8 |
                     (size_t)d[4 * i + 3];
    return NN_OK;
}

nn_code nn_idx_read_header(const char *path, nn_idx_header *h, const char *field, nn_error *err) {
    if (!path || !h) return nn_fail(err, NN_INVALID, field, "no file given");
    gzFile f;
    nn_code c = open_gz(path, &f, field, err);
    if (c) return c;
    c = read_header(f, path, h, field, err);
    gzclose(f);
    return c;
}

static void shape_str(char *buf, size_t len, const size_t *dims, size_t ndim) {
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ndim && off < len; i++) {
        int w = snprintf(buf + off, len - off, i ? " x %zu" : "%zu", dims[i]);
        if (w < 0) break;
        off += (size_t)w;
    }
}

nn_code nn_idx_expect(const nn_idx_header *h, const size_t *dims, size_t ndim, const char *path,
                      const char *field, nn_error *err) {
    int same = h->ndim == ndim;
    for (size_t i = 0; same && i < ndim; i++) same = h->dims[i] == dims[i];
    if (same) return NN_OK;
    char got[80], want[80];
    shape_str(got, sizeof got, h->dims, h->ndim);
    shape_str(want, sizeof want, dims, ndim);
    return nn_fail(err, NN_INVALID, field, "%s holds %s bytes, expected %s", base_name(path), got, want);
}

nn_code nn_idx_read(const char *path, uint8_t *dst, const size_t *dims, size_t ndim,
                    const char *field, nn_error *err) {
    if (!path || !dst || !dims || ndim == 0 || ndim > NN_IDX_MAX_DIMS)
        return nn_fail(err, NN_INVALID, field, "bad arguments to nn_idx_read");
    size_t n;
    if (nn_size_prod(dims, ndim, &n)) return nn_fail(err, NN_TOO_LARGE, field, "shape overflows");
    gzFile f;
    nn_code c = open_gz(path, &f, field, err);
    if (c) return c;
    nn_idx_header h;
    if ((c = read_header(f, path, &h, field, err)) || (c = nn_idx_expect(&h, dims, ndim, path, field, err)))
        goto done;
    if ((c = read_exact(f, path, dst, n, "data", field, err))) goto done;
    unsigned char extra;
    int r = gzread(f, &extra, 1);
    int zerr = Z_OK;
    const char *msg = gzerror(f, &zerr);
    if (r > 0)
        c = nn_fail(err, NN_INVALID, field, "%s has bytes after its %zu values", base_name(path), n);
    else if (r < 0 || (zerr != Z_OK && zerr != Z_STREAM_END))
        c = nn_fail(err, NN_INVALID, field, "%s is damaged (%s, at its end)", base_name(path),
                    msg && *msg ? msg : "read error");
done:
    gzclose(f);
    return c;
}
