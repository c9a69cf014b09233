/* nn_tile.c — which tile-kernel table runs (see nn_tile.h): the forward convolution's choice
 * (NNLAB_SIMD and the CPU's features, nn_conv.c), so both run on the same instruction set. */
#include "nn_tile.h"

#include "nn_conv_impl.h"

int nn_tile_set_impl(int impl) { return nn_conv_set_impl(impl); }

const nn_tile_ops *nn_tile_pick(void) {
    switch (nn_conv_impl_in_use()) {
#if defined(__x86_64__) || defined(__i386__)
    case NN_CONV_IMPL_AVX512: return &nn_tile_avx512_ops;
    case NN_CONV_IMPL_AVX2: return &nn_tile_avx2_ops;
#endif
    default: return &nn_tile_generic_ops;
    }
}
