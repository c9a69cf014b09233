/* nn_pool_impl.h — internal: choose the pooling kernels, for the tests that check every path
 * gives the same bits. Not part of the public API. */
#ifndef NN_POOL_IMPL_H
#define NN_POOL_IMPL_H

/* on = 1: the AVX-512 kernels if the CPU has them (ignoring NNLAB_SIMD); on = 0: the SSE /
 * portable ones. Returns 1 if AVX-512 is now in use. Not thread-safe against running pools. */
int nn_pool_set_avx512(int on);

#endif
