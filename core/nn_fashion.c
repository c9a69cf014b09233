/* nn_fashion.c — Fashion-MNIST from its four IDX files; see nn_fashion.h. */
#include "nn_fashion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_idx.h"

const char *const nn_fashion_class_names[NN_FASHION_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};

enum { F_TRAIN_IMAGES, F_TRAIN_LABELS, F_TEST_IMAGES, F_TEST_LABELS, NFILES };

static const struct {
    const char *name;
    size_t count;
    int images;
} FILES[NFILES] = {
    {"train-images-idx3-ubyte", NN_FASHION_TRAIN, 1},
    {"train-labels-idx1-ubyte", NN_FASHION_TRAIN, 0},
    {"t10k-images-idx3-ubyte", NN_FASHION_TEST, 1},
    {"t10k-labels-idx1-ubyte", NN_FASHION_TEST, 0},
};

size_t nn_fashion_bytes(void) {
    return (size_t)(NN_FASHION_TRAIN + NN_FASHION_TEST) * (NN_FASHION_PIXELS + 1);
}

/* dir/name.gz, or dir/name when only the uncompressed file exists. */
static nn_code file_path(char *buf, size_t len, const char *dir, size_t f, nn_error *err) {
    int n = snprintf(buf, len, "%s/%s.gz", dir, FILES[f].name);
    if (n < 0 || (size_t)n >= len)
        return nn_fail(err, NN_INVALID, "dataset", "the data directory path is too long");
    if (access(buf, F_OK) != 0) {
        char plain[4096];
        snprintf(plain, sizeof plain, "%s/%s", dir, FILES[f].name);
        if (access(plain, F_OK) == 0) memcpy(buf, plain, strlen(plain) + 1);
    }
    return NN_OK;
}

static void shape_of(size_t f, size_t dims[3], size_t *ndim) {
    dims[0] = FILES[f].count;
    dims[1] = dims[2] = NN_FASHION_SIDE;
    *ndim = FILES[f].images ? 3 : 1;
}

nn_code nn_fashion_probe(const char *dir, size_t *train, size_t *test, nn_error *err) {
    if (!dir) dir = NN_FASHION_DIR;
    char path[4096];
    for (size_t f = 0; f < NFILES; f++) {
        nn_code c = file_path(path, sizeof path, dir, f, err);
        if (c) return c;
        nn_idx_header h;
        if ((c = nn_idx_read_header(path, &h, "dataset", err))) return c;
        size_t dims[3], nd;
        shape_of(f, dims, &nd);
        if ((c = nn_idx_expect(&h, dims, nd, path, "dataset", err))) return c;
    }
    if (train) *train = NN_FASHION_TRAIN;
    if (test) *test = NN_FASHION_TEST;
    return NN_OK;
}

static nn_code check_labels(const uint8_t *labels, size_t n, size_t f, nn_error *err) {
    for (size_t i = 0; i < n; i++)
        if (labels[i] >= NN_FASHION_CLASSES)
            return nn_fail(err, NN_INVALID, "dataset", "%s.gz: label %zu is %u (0 to %d expected)",
                           FILES[f].name, i, labels[i], NN_FASHION_CLASSES - 1);
    return NN_OK;
}

nn_code nn_fashion_load(nn_fashion *fm, const char *dir, nn_error *err) {
    if (!fm) return nn_fail(err, NN_INVALID, "dataset", "no data set given");
    memset(fm, 0, sizeof *fm);
    if (!dir) dir = NN_FASHION_DIR;
    size_t bytes = nn_fashion_bytes();
    uint8_t *mem = malloc(bytes);
    if (!mem) return nn_fail(err, NN_NOMEM, "dataset", "cannot allocate %zu bytes for Fashion-MNIST", bytes);
    uint8_t *dst[NFILES];
    dst[F_TRAIN_IMAGES] = mem;
    dst[F_TEST_IMAGES] = dst[F_TRAIN_IMAGES] + (size_t)NN_FASHION_TRAIN * NN_FASHION_PIXELS;
    dst[F_TRAIN_LABELS] = dst[F_TEST_IMAGES] + (size_t)NN_FASHION_TEST * NN_FASHION_PIXELS;
    dst[F_TEST_LABELS] = dst[F_TRAIN_LABELS] + NN_FASHION_TRAIN;
    char path[4096];
    nn_code c = NN_OK;
    for (size_t f = 0; f < NFILES && !c; f++) {
        size_t dims[3], nd;
        shape_of(f, dims, &nd);
        if (!(c = file_path(path, sizeof path, dir, f, err)) && !(c = nn_idx_read(path, dst[f], dims, nd, "dataset", err)) &&
            !FILES[f].images)
            c = check_labels(dst[f], FILES[f].count, f, err);
    }
    if (c) {
        free(mem);
        return c;
    }
    fm->memory = mem;
    fm->bytes = bytes;
    fm->train = (nn_imageset){dst[F_TRAIN_IMAGES], NULL, dst[F_TRAIN_LABELS], NN_FASHION_TRAIN,
                              NN_FASHION_SIDE, NN_FASHION_SIDE, NN_FASHION_CLASSES};
    fm->test = (nn_imageset){dst[F_TEST_IMAGES], NULL, dst[F_TEST_LABELS], NN_FASHION_TEST,
                             NN_FASHION_SIDE, NN_FASHION_SIDE, NN_FASHION_CLASSES};
    return NN_OK;
}

void nn_fashion_free(nn_fashion *fm) {
    if (!fm) return;
    free(fm->memory);
    memset(fm, 0, sizeof *fm);
}
