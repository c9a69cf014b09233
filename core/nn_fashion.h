/* nn_fashion.h — the Fashion-MNIST data set (Zalando Research, MIT licence): 70 000 grey
 * 28x28 images of clothing in 10 classes, 60 000 for training and 10 000 for testing, as Debian's
 * package dataset-fashion-mnist installs them (NN_FASHION_DIR):
 *   train-images-idx3-ubyte.gz [60000, 28, 28]   train-labels-idx1-ubyte.gz [60000]
 *   t10k-images-idx3-ubyte.gz  [10000, 28, 28]   t10k-labels-idx1-ubyte.gz  [10000]
 * (the same names without .gz, uncompressed, are read when the .gz file is absent).
 *
 * nn_fashion_load reads all four into ONE allocation of bytes, exactly as stored (pixel 0..255,
 * label 0..9), and checks every header (magic, dimensions, counts) and every label. The images
 * stay bytes (55 MB; as floats they would be 220 MB): a trainer converts each batch it uses
 * (pixel / 255). A loaded set is read-only and may be shared by any number of threads. */
#ifndef NN_FASHION_H
#define NN_FASHION_H

#include <stddef.h>
#include <stdint.h>

#include "nn_imageset.h"
#include "nn_status.h"

#define NN_FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define NN_FASHION_PACKAGE "dataset-fashion-mnist"
#define NN_FASHION_SIDE 28
#define NN_FASHION_PIXELS (NN_FASHION_SIDE * NN_FASHION_SIDE)
#define NN_FASHION_CLASSES 10
#define NN_FASHION_TRAIN 60000
#define NN_FASHION_TEST 10000

typedef struct nn_fashion {
    nn_imageset train, test; /* bytes (images), pointing into memory */
    void *memory;  /* the one allocation */
    size_t bytes;  /* its size (nn_fashion_bytes()) */
} nn_fashion;

/* The class names, index = label: "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
 * "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot". */
extern const char *const nn_fashion_class_names[NN_FASHION_CLASSES];

/* Bytes one loaded set holds: 70 000 * (784 + 1). */
size_t nn_fashion_bytes(void);

/* Load the four files from dir (NULL: NN_FASHION_DIR). On failure *fm holds nothing; the error
 * (NN_INVALID, field "dataset"; NN_NOMEM) names the file and what is wrong with it. */
nn_code nn_fashion_load(nn_fashion *fm, const char *dir, nn_error *err);

/* Check the four headers only (fast): 0 when each file opens and has the expected shape.
 * Fills *train / *test (may be NULL) with the counts found. Same errors as nn_fashion_load. */
nn_code nn_fashion_probe(const char *dir, size_t *train, size_t *test, nn_error *err);

void nn_fashion_free(nn_fashion *fm);

#endif
