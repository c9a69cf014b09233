/* nn_tile.c — which tile-kernel table runs (see nn_tile.h): the SIMD level nn_cpu_simd() picks
 * for every kernel, so these and the forward convolution run on the same instruction set. */
#include "nn_tile.h"

#include "nn_cpu.h"

int nn_tile_set_impl(int impl) { return (int)nn_cpu_set_simd(impl); }

const nn_tile_ops *nn_tile_pick(void) {
    switch (nn_cpu_simd()) {
#ifdef NN_CPU_X86
    case NN_SIMD_AVX512: return &nn_tile_avx512_ops;
    case NN_SIMD_AVX2: return &nn_tile_avx2_ops;
#endif
    default: return &nn_tile_generic_ops;
    }
}
