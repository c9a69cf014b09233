/* test_fashion.c — the IDX reader and the Fashion-MNIST loader: the installed data set (counts,
 * labels, pixel sums that NumPy computed from the same files), uncompressed copies, and every
 * kind of broken file (missing, truncated, damaged gzip, wrong magic, wrong count, bad label,
 * trailing bytes), each with an error naming the file and the problem. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nn_fashion.h"
#include "nn_idx.h"

/* ---- the installed data set ------------------------------------------------------------- */

Test(fashion, loads_the_installed_set) {
    nn_fashion fm;
    nn_error err;
    nn_error_clear(&err);
    cr_assert_eq(nn_fashion_load(&fm, NULL, &err), NN_OK, "%s (install %s)", err.message, NN_FASHION_PACKAGE);
    cr_assert_eq(fm.train.count, 60000u);
    cr_assert_eq(fm.test.count, 10000u);
    cr_assert_eq(fm.train.h, 28u);
    cr_assert_eq(fm.train.classes, 10u);
    cr_assert_eq(fm.bytes, nn_fashion_bytes());
    /* The reference values: numpy.frombuffer(gzip.open(...).read(), uint8, offset=16/8). */
    static const uint8_t train_first[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
    static const uint8_t test_first[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    cr_assert_arr_eq(fm.train.labels, train_first, 10);
    cr_assert_arr_eq(fm.test.labels, test_first, 10);
    uint64_t sum = 0, tsum = 0;
    size_t per_class[10] = {0};
    for (size_t i = 0; i < (size_t)60000 * 784; i++) sum += fm.train.images[i];
    for (size_t i = 0; i < (size_t)10000 * 784; i++) tsum += fm.test.images[i];
    for (size_t i = 0; i < 60000; i++) per_class[fm.train.labels[i]]++;
    cr_assert_eq(sum, 3431114169ull);
    cr_assert_eq(tsum, 573469082ull);
    cr_assert_eq(fm.train.images[14 * 28 + 14], 217);
    for (int k = 0; k < 10; k++) cr_assert_eq(per_class[k], 6000u);
    cr_assert_str_eq(nn_fashion_class_names[0], "T-shirt/top");
    cr_assert_str_eq(nn_fashion_class_names[9], "Ankle boot");
    nn_fashion_free(&fm);
    cr_assert_null(fm.memory);
}

Test(fashion, probe_reads_only_the_headers) {
    size_t tr = 0, te = 0;
    nn_error err;
    cr_assert_eq(nn_fashion_probe(NULL, &tr, &te, &err), NN_OK, "%s", err.message);
    cr_assert_eq(tr, 60000u);
    cr_assert_eq(te, 10000u);
}

/* ---- broken copies ------------------------------------------------------------------------ */

/* A scratch directory holding a small, valid-looking data set we then break. The images and
 * labels keep the real counts (the loader insists on them), so each file is written through
 * zlib from a pattern. */
static char dir[64];

static void write_file(const char *name, const unsigned char *hdr, size_t hlen, size_t n,
                       unsigned char fill, int gz) {
    char path[160];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, gz ? ".gz" : "");
    unsigned char *buf = malloc(hlen + n);
    cr_assert_not_null(buf);
    memcpy(buf, hdr, hlen);
    for (size_t i = 0; i < n; i++) buf[hlen + i] = (unsigned char)((i * 7 + fill) % (fill ? 256 : 10));
    if (gz) {
        gzFile f = gzopen(path, "wb1");
        cr_assert_not_null(f);
        cr_assert_eq(gzwrite(f, buf, (unsigned)(hlen + n)), (int)(hlen + n));
        cr_assert_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f);
        cr_assert_eq(fwrite(buf, 1, hlen + n, f), hlen + n);
        fclose(f);
    }
    free(buf);
}

static void put_be32(unsigned char *p, size_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* One file of the set: images [count, 28, 28] or labels [count] (labels 0..9, images a
 * pattern). */
static void write_part(const char *name, size_t count, int images, int gz) {
    unsigned char hdr[16] = {0, 0, 8, (unsigned char)(images ? 3 : 1)};
    put_be32(hdr + 4, count);
    if (images) {
        put_be32(hdr + 8, 28);
        put_be32(hdr + 12, 28);
    }
    write_file(name, hdr, images ? 16 : 8, images ? count * 784 : count, images ? 3 : 0, gz);
}

static void make_set(int gz) {
    write_part("train-images-idx3-ubyte", 60000, 1, gz);
    write_part("train-labels-idx1-ubyte", 60000, 0, gz);
    write_part("t10k-images-idx3-ubyte", 10000, 1, gz);
    write_part("t10k-labels-idx1-ubyte", 10000, 0, gz);
}

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/nnlab_fashion_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void) {
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static void expect_error(const char *has1, const char *has2) {
    nn_fashion fm;
    nn_error err;
    nn_error_clear(&err);
    cr_assert_eq(nn_fashion_load(&fm, dir, &err), NN_INVALID, "loaded a broken set");
    cr_assert_null(fm.memory);
    cr_assert_str_eq(err.field, "dataset");
    cr_assert(strstr(err.message, has1), "message '%s' lacks '%s'", err.message, has1);
    if (has2) cr_assert(strstr(err.message, has2), "message '%s' lacks '%s'", err.message, has2);
}

TestSuite(fashion_broken, .init = setup, .fini = teardown);

Test(fashion_broken, a_good_copy_loads_gz_or_plain) {
    make_set(1);
    nn_fashion fm;
    nn_error err;
    cr_assert_eq(nn_fashion_load(&fm, dir, &err), NN_OK, "%s", err.message);
    cr_assert_eq(fm.train.images[1], 10);
    cr_assert_eq(fm.test.labels[3], 1);
    nn_fashion_free(&fm);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -f '%s'/*.gz", dir);
    cr_assert_eq(system(cmd), 0);
    make_set(0);
    cr_assert_eq(nn_fashion_load(&fm, dir, &err), NN_OK, "plain files: %s", err.message);
    cr_assert_eq(fm.train.images[1], 10);
    nn_fashion_free(&fm);
}

Test(fashion_broken, a_missing_file_is_named) {
    make_set(1);
    char path[160];
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte.gz", dir);
    cr_assert_eq(unlink(path), 0);
    expect_error("t10k-labels-idx1-ubyte.gz", "No such file");
    size_t tr;
    nn_error err;
    cr_assert_eq(nn_fashion_probe(dir, &tr, NULL, &err), NN_INVALID);
    cr_assert(strstr(err.message, "t10k-labels"), "%s", err.message);
}

Test(fashion_broken, a_truncated_gzip_is_reported) {
    make_set(1);
    char path[160];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
    cr_assert_eq(truncate(path, 20000), 0);
    expect_error("train-images-idx3-ubyte.gz", NULL);
}

Test(fashion_broken, a_damaged_gzip_is_reported) {
    make_set(1);
    char path[160];
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte.gz", dir);
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f);
    fseek(f, -6, SEEK_END); /* inside the CRC-32 of the gzip trailer */
    fputc(0x55, f);
    fputc(0xaa, f);
    fclose(f);
    expect_error("train-labels-idx1-ubyte.gz is damaged", NULL);
}

Test(fashion_broken, a_wrong_magic_is_reported) {
    make_set(1);
    unsigned char hdr[8] = {0, 0, 0x0d, 1}; /* float32 IDX */
    put_be32(hdr + 4, 10000);
    write_file("t10k-labels-idx1-ubyte", hdr, 8, 10000, 0, 1);
    expect_error("not an IDX file of bytes", "00000d01");
}

Test(fashion_broken, a_wrong_count_is_reported) {
    make_set(1);
    write_part("t10k-images-idx3-ubyte", 9999, 1, 1);
    expect_error("t10k-images-idx3-ubyte.gz holds 9999 x 28 x 28 bytes, expected 10000 x 28 x 28", NULL);
}

Test(fashion_broken, a_label_out_of_range_is_reported) {
    make_set(1);
    unsigned char hdr[8] = {0, 0, 8, 1};
    put_be32(hdr + 4, 60000);
    write_file("train-labels-idx1-ubyte", hdr, 8, 60000, 11, 1); /* labels 11, 18, ... */
    expect_error("label 0 is 11", NULL);
}

Test(fashion_broken, trailing_bytes_are_reported) {
    make_set(1);
    unsigned char hdr[8] = {0, 0, 8, 1};
    put_be32(hdr + 4, 10000);
    write_file("t10k-labels-idx1-ubyte", hdr, 8, 10001, 0, 1);
    expect_error("has bytes after its 10000 values", NULL);
}

Test(idx, header_and_shape_checks) {
    nn_idx_header h = {2, {3, 4}};
    size_t want[2] = {3, 4}, other[2] = {3, 5};
    nn_error err;
    cr_assert_eq(nn_idx_expect(&h, want, 2, "/x/y.gz", "f", &err), NN_OK);
    cr_assert_eq(nn_idx_expect(&h, other, 2, "/x/y.gz", "f", &err), NN_INVALID);
    cr_assert_str_eq(err.message, "y.gz holds 3 x 4 bytes, expected 3 x 5");
    cr_assert_str_eq(err.field, "f");
    cr_assert_eq(nn_idx_read_header("/nonexistent/file.gz", &h, "f", &err), NN_INVALID);
    cr_assert(strstr(err.message, "cannot open /nonexistent/file.gz"), "%s", err.message);
}
