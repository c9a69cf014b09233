/* nn_conv_dispatch.h — internal: the convolution's compute kernels, one table per instruction
 * set, and how nn_conv.c picks one. Not part of the public API.
 *
 * Every decision is taken once per call, in nn_conv.c:
 *   1. the operation, from the shapes alone (nn_conv_choose): Winograd, planar or broadcast,
 *      the same on every instruction set, so every path does the same arithmetic (same bits);
 *   2. the table, from the SIMD level (nn_cpu_simd(), nn_cpu.h);
 *   3. its entry for the operation: ws_floats() sizes the scratch, run() computes.
 * The kernel files never look at the CPU, the environment or the choice of algorithm again.
 *
 * Each table lives in its instruction set's file (nn_conv_generic.c, nn_conv_avx2.c,
 * nn_conv_avx512.c). The SIMD files define a small vector interface (nn_conv_vec.h) and
 * include the kernel bodies written once over it: nn_conv_act_body.h (activations),
 * nn_conv_bcast_body.h, nn_conv_planar_body.h, nn_conv_wino_body.h.
 *
 * The training kernels (the batched layers' forward, dx, dW, bias gradient, max pooling with
 * positions, the activations' gradient: nn_tile.h) are each table's `tile` member; their bodies
 * are instantiated in the same files over the same vector interface (nn_tile_body.h), and
 * nn_conv_batch.c, nn_linear.c and nn_pool_batch.c run them at the level nn_cpu_simd() gives.
 *
 * How to add a forward kernel:
 *   - give it a slot in nn_conv_op and a job: nn_conv_job (nn_conv_job.h);
 *   - write the portable kernel in nn_conv_generic.c (or a file of its own) and fill the slot
 *     of nn_conv_isa_generic: the portable table is the fallback of every level;
 *   - optionally the SIMD kernels: a body nn_conv_<name>_body.h over the vector interface,
 *     included by nn_conv_avx2.c and nn_conv_avx512.c, each filling its own slot. A slot left
 *     NULL falls back to the level below (AVX-512 -> AVX2 -> portable), so one instruction set
 *     can land at a time;
 *   - every implementation of a slot gives the same bits (test_conv_bits.c compares all the
 *     levels the CPU has with memcmp), and a naive reference sits beside them (nn_conv.c);
 *   - the entry point validates, builds the job, and runs nn_conv_kernel_for(slot). */
#ifndef NN_CONV_DISPATCH_H
#define NN_CONV_DISPATCH_H

#include <stddef.h>

#include "nn_conv_job.h"
#include "nn_cpu.h"
#include "nn_tile.h"

typedef enum nn_conv_op {
    /* forward, one of these per call (nn_conv_choose) */
    NN_CONV_FWD_WINOGRAD = 0, /* 3x3, stride 1, C <= 4, N a multiple of 64 (nn_conv_wino.h) */
    NN_CONV_FWD_PLANAR,       /* N = 1: input split into planes, many pixels per vector */
    NN_CONV_FWD_BROADCAST,    /* N > 1: one input value broadcast against a block of filters */
    NN_CONV_OPS
} nn_conv_op;

/* One compute kernel. ws_floats: scratch floats it needs for the job (shapes and threads
 * filled in), SIZE_MAX if that overflows; run: the computation (job->ws set). */
typedef struct nn_conv_kernel {
    size_t (*ws_floats)(const nn_conv_job *j);
    void (*run)(const nn_conv_job *j);
} nn_conv_kernel;

/* The kernels of one instruction set, indexed by nn_conv_op; {NULL, NULL}: not written. */
typedef struct nn_conv_isa {
    const char *name; /* "generic", "avx2", "avx512" (nn_cpu_simd_name) */
    nn_conv_kernel op[NN_CONV_OPS];
    const nn_tile_ops *tile; /* the training kernels (nn_tile.h) */
} nn_conv_isa;

extern const nn_conv_isa nn_conv_isa_generic;
#ifdef NN_CPU_X86
extern const nn_conv_isa nn_conv_isa_avx2;
extern const nn_conv_isa nn_conv_isa_avx512;
#endif

/* The forward operation for these shapes (shapes of j filled in). */
nn_conv_op nn_conv_choose(const nn_conv_job *j);

/* The kernel for op at SIMD level `level`: that table's entry, else the nearest level below
 * that has one; NULL if none has (nn_cpu_simd() gives the level in use). */
const nn_conv_kernel *nn_conv_kernel_at(nn_simd level, nn_conv_op op);

/* nn_conv_kernel_at(nn_cpu_simd(), op). */
const nn_conv_kernel *nn_conv_kernel_for(nn_conv_op op);

#endif
