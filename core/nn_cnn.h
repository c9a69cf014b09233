/* nn_cnn.h — a feed-forward CNN: a list of layers (conv, pool, global pool, MLP) run in sequence
 * on one image [H, W, C], every intermediate kept.
 *
 * Shapes flow as in the API: conv [H, W, C] -> [OH, OW, filters]; pool [H, W, C] -> [OH, OW, C];
 * global_pool [H, W, C] -> [C]; mlp takes the previous output flattened (row-major, so a
 * [H, W, C] volume becomes H*W*C inputs) -> [output_size]. After a global pool or an MLP the
 * data is a vector: only an MLP may follow.
 *
 * Memory: a model is built for one input shape and makes ONE allocation holding every parameter
 * (one contiguous block, layer by layer) and every activation; the conv scratch workspace is
 * grown once and kept. nn_cnn_forward reuses all of it and never allocates after the first call.
 * A model is not safe to run from two threads at once.
 *
 * Parameters are given per layer (copied at build time; the spec's pointers need only live until
 * nn_cnn_create returns) or generated from one seed: one nn_rng seeded with `seed` draws, layer by
 * layer in order, each generated conv bank [N, KH, KW, C] with the layer's init (bias zero unless
 * given) and each generated MLP as nn_mlp_init_params_rng does. Same seed -> same bits anywhere.
 * Layers with a NumPy init (numpy_rand, numpy_randn) draw instead from one MT19937 seeded as
 * np.random.seed(seed) (seed <= 2^32 - 1, else NN_INVALID "seed"), layer by layer in order: a
 * conv layer's N calls rand/randn(KH, KW, C), then an MLP's rand/randn(in, hidden), ...,
 * (hidden, out) with zero biases; the other layers' nn_rng stream is not affected by them.
 *
 * Errors name the layer and its field, e.g. field "architecture[2].size", message
 * "architecture[2] (pool): window 5x5 is larger than its 3x3x32 input". Field strings are static. */
#ifndef NN_CNN_H
#define NN_CNN_H

#include <stddef.h>
#include <stdint.h>

#include "nn_act.h"
#include "nn_conv.h"
#include "nn_init.h"
#include "nn_mlp.h"
#include "nn_pool.h"
#include "nn_status.h"

#define NN_CNN_MAX_LAYERS 32
#define NN_CNN_DEFAULT_LAYERS 6 /* layers in the default architecture */

typedef enum nn_layer_type {
    NN_LAYER_CONV = 0,
    NN_LAYER_POOL,
    NN_LAYER_GLOBAL_POOL,
    NN_LAYER_MLP,
} nn_layer_type;

/* One layer's description. Zero-initialise, set `type` and the fields of that type. */
typedef struct nn_layer_spec {
    nn_layer_type type;

    /* conv: N kernels KH x KW (x input channels), stride/padding/activation in `conv` */
    size_t filters;       /* N >= 1 */
    size_t size_h, size_w;/* kernel size, >= 1 */
    nn_conv_params conv;  /* stride_h, stride_w >= 1; pad_h, pad_w; act */
    nn_init_kind init;    /* for generated kernels (zero = he, the API's default) */
    const float *kernels; /* optional given bank [N, KH, KW, C_in]; NULL -> generated */
    size_t kernels_len;   /* number of floats at kernels (must be N*KH*KW*C_in) */
    const float *bias;    /* optional [N]; NULL -> zeros */
    size_t bias_len;      /* must be N */

    /* pool: kind, window and stride; global_pool: pool.kind only */
    nn_pool_params pool;

    /* mlp: hidden_layers, hidden_sizes, output_size, act (input_size is ignored: it is the
     * previous layer's output, flattened); mlp_init for generated weights (a zeroed spec means
     * he; the default architecture uses uniform, PyTorch's Linear default) */
    nn_mlp_config mlp;
    nn_init_kind mlp_init;
    /* optional given weights for linear layer l < mlp.hidden_layers + 1, NULL -> generated
     * (all layers must be given, or none): W [in, out] and b [out] */
    const float *mlp_weight[NN_MLP_MAX_LAYERS];
    size_t mlp_weight_len[NN_MLP_MAX_LAYERS];
    const float *mlp_bias[NN_MLP_MAX_LAYERS]; /* NULL -> zeros */
    size_t mlp_bias_len[NN_MLP_MAX_LAYERS];
} nn_layer_spec;

/* One layer's spec with every other field zero (given kernels, bias or MLP weights can be set
 * afterwards): a conv of `filters` kernels size_h x size_w, a pooling layer, a global pooling
 * layer, an MLP of hidden_layers x hidden_size (activation act after each) -> output_size. */
void nn_layer_conv(nn_layer_spec *s, size_t filters, size_t size_h, size_t size_w, nn_conv_params p,
                   nn_init_kind init);
void nn_layer_pool(nn_layer_spec *s, nn_pool_params p);
void nn_layer_global_pool(nn_layer_spec *s, nn_pool_kind kind);
void nn_layer_mlp(nn_layer_spec *s, size_t hidden_layers, size_t hidden_size, size_t output_size,
                  nn_activation act, nn_init_kind init);

/* "conv" | "pool" | "global_pool" | "mlp", case-insensitive ("global-pool", "globalpool",
 * "dense"/"fc"/"linear" for mlp also accepted). NN_INVALID with the given field name. */
nn_code nn_layer_type_parse(const char *name, nn_layer_type *out, const char *field,
                            nn_error *err);
const char *nn_layer_type_name(nn_layer_type type);
/* The i-th accepted spelling (lower case; each type's canonical name, the one
 * nn_layer_type_name returns, comes before its aliases) and its type; NULL past the end. The
 * daemon lists these in GET /healthz so that clients use the parser's own list. */
const char *nn_layer_type_alias(size_t i, nn_layer_type *type);

/* Fill specs[0..NN_CNN_DEFAULT_LAYERS) with the API's default architecture:
 *   conv 16 3x3 stride 2 pad 0 ReLU (he) -> max-pool 2/2 -> conv 32 3x3 stride 1 pad 1 ReLU (he)
 *   -> max-pool 2/2 -> global average pool -> MLP (1 hidden layer of 20, tanh; uniform) -> 1000.
 * Returns NN_CNN_DEFAULT_LAYERS. */
size_t nn_cnn_default_spec(nn_layer_spec specs[NN_CNN_DEFAULT_LAYERS]);

/* What a valid architecture costs, filled by nn_cnn_validate (any pointer may be NULL). */
typedef struct nn_cnn_info {
    size_t out_shape[NN_CNN_MAX_LAYERS][3]; /* layer i output shape (ndim 3 or 1) */
    size_t out_ndim[NN_CNN_MAX_LAYERS];
    size_t num_params;                      /* floats in the parameter block */
    size_t num_acts;                        /* floats in the activation block (softmax included) */
    size_t bytes;                           /* the one allocation nn_cnn_create makes (at most) */
    size_t ws_bytes;                        /* conv scratch nn_cnn_forward grows (the largest
                                               conv layer's, nn_conv_workspace_size) */
    double flops;                           /* one forward pass: convs and MLPs 2 per mul-add,
                                               pools their work (nn_pool_work,
                                               nn_global_pool_work) */
    double work;                            /* flops plus the floats of scratch each conv
                                               layer fills (a work budget's measure) */
} nn_cnn_info;

/* Check an architecture for an input [H, W, C] without allocating. Errors name
 * "architecture[i].<field>": type, filters, size, stride, padding, activation, init, kernels, bias,
 * function, hidden_layers, hidden_size, output_size, weights (and "architecture" for 0 or more
 * than NN_CNN_MAX_LAYERS layers, "input" for a zero or oversized input). */
nn_code nn_cnn_validate(const nn_layer_spec *specs, size_t n, size_t H, size_t W, size_t C,
                        nn_cnn_info *info, nn_error *err);

typedef struct nn_cnn_layer {
    nn_layer_type type;
    nn_layer_spec spec;        /* copy of the spec (data pointers cleared) */
    size_t in_shape[3], in_ndim;
    size_t out_shape[3], out_ndim;
    size_t out_len;            /* floats in output */
    float *output;             /* this layer's output, inside the model's allocation */
    float *kernels;            /* conv: [N, KH, KW, C_in] inside params */
    float *bias;               /* conv: [N] inside params */
    nn_mlp mlp;                /* mlp: bound inside the model's params / activations */
    double flops;
} nn_cnn_layer;

typedef struct nn_cnn {
    size_t num_layers;
    nn_cnn_layer layers[NN_CNN_MAX_LAYERS];
    size_t in_h, in_w, in_c;   /* the input shape the model was built for */
    float *params;             /* [num_params] every parameter, layer by layer */
    size_t num_params;
    float *acts;               /* [num_acts] every activation */
    size_t num_acts;
    float *logits;             /* [num_outputs] the last layer's output (== layers[n-1].output) */
    float *probs;              /* [num_outputs] softmax(logits), or NULL without softmax */
    size_t num_outputs;
    double flops;
    nn_workspace ws;           /* conv scratch, kept across forward calls */
    void *memory;              /* the one allocation */
} nn_cnn;

/* Validate, allocate once and fill the parameters (given or from seed). with_softmax != 0 makes
 * nn_cnn_forward also fill probs. On failure *m is left freeable. Errors: nn_cnn_validate's,
 * NN_NOMEM. Release with nn_cnn_free. */
nn_code nn_cnn_create(nn_cnn *m, const nn_layer_spec *specs, size_t n, size_t H, size_t W,
                      size_t C, uint64_t seed, int with_softmax, nn_error *err);

/* Run x [in_h, in_w, in_c] through every layer; afterwards layers[i].output holds each
 * intermediate, m->logits the result and m->probs its softmax. Errors: NULL x ("input"),
 * NN_NOMEM growing the conv workspace on the first call, NN_CANCELLED (nn_cancel.h; field
 * "cancelled", outputs unspecified). */
nn_code nn_cnn_forward(nn_cnn *m, const float *x, nn_error *err);

void nn_cnn_free(nn_cnn *m);

/* Static field name "architecture[i].<what>" (what is one of the names listed at
 * nn_cnn_validate); "architecture" for i >= NN_CNN_MAX_LAYERS or an unknown what. */
const char *nn_cnn_field(size_t i, const char *what);

#endif
