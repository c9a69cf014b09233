/* nn_adam.c — Adam and global-norm clipping as PyTorch computes them; see nn_adam.h. */
#include "nn_adam.h"

#include <math.h>

#include "nn_cpu.h"
#include "nn_rnn_math.h"

void nn_adam_init(nn_adam *opt, double lr) {
    opt->lr = lr;
    opt->beta1 = 0.9;
    opt->beta2 = 0.999;
    opt->eps = 1e-8;
    opt->step = 0;
}

/* The update loop, written once, compiled plain and with AVX2 (no FMA: the same IEEE operations
 * per element either way, so the same bits on every machine). */
static inline
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
void adam_loop(double *restrict param, const double *restrict grad, double *restrict m,
               double *restrict v, size_t n, double b1, double b2, double eps, double step_size,
               double bc2_sqrt) {
    for (size_t i = 0; i < n; i++) {
        double g = grad[i];
        /* torch's CPU kernels: add(a, b, alpha) = a + alpha*b; addcmul = a + (value*t1)*t2;
         * addcdiv = a + (value*t1)/t2. */
        m[i] = m[i] * b1 + (1.0 - b1) * g;
        v[i] = v[i] * b2 + (1.0 - b2) * g * g;
        double denom = sqrt(v[i]) / bc2_sqrt + eps;
        param[i] = param[i] + (-step_size) * m[i] / denom;
    }
}

#ifdef NN_CPU_X86
__attribute__((target("avx2"))) static void adam_loop_avx2(double *param, const double *grad,
                                                          double *m, double *v, size_t n,
                                                          double b1, double b2, double eps,
                                                          double step_size, double bc2_sqrt) {
    adam_loop(param, grad, m, v, n, b1, b2, eps, step_size, bc2_sqrt);
}
#endif

/* Sum of squares of each tensor, in four interleaved partial sums (torch's reduction is
 * vectorized too; the order differs from a sequential sum only in the last bits). */
static inline
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
void sumsq_loop(double *restrict out, const double *restrict grad, const size_t *numel,
                size_t ntensors) {
    size_t off = 0;
    for (size_t k = 0; k < ntensors; k++) {
        out[k] = nn_rnn_dot4(grad + off, grad + off, numel[k]);
        off += numel[k];
    }
}

#ifdef NN_CPU_X86
__attribute__((target("avx2"))) static void sumsq_loop_avx2(double *out, const double *grad,
                                                           const size_t *numel,
                                                           size_t ntensors) {
    sumsq_loop(out, grad, numel, ntensors);
}
#endif

void nn_adam_step(nn_adam *opt, double *param, const double *grad, double *m, double *v,
                  size_t n) {
    opt->step++;
    double t = (double)opt->step;
    double b1 = opt->beta1, b2 = opt->beta2;
    /* The same scalar expressions, in the same order, as torch.optim.adam._single_tensor_adam. */
    double bias_correction1 = 1.0 - pow(b1, t);
    double bias_correction2 = 1.0 - pow(b2, t);
    double step_size = opt->lr / bias_correction1;
    double bc2_sqrt = sqrt(bias_correction2);
#ifdef NN_CPU_X86
    if (nn_cpu_simd() >= NN_SIMD_AVX2) {
        adam_loop_avx2(param, grad, m, v, n, b1, b2, opt->eps, step_size, bc2_sqrt);
        return;
    }
#endif
    adam_loop(param, grad, m, v, n, b1, b2, opt->eps, step_size, bc2_sqrt);
}

double nn_clip_grad_norm(double *grad, const size_t *numel, size_t ntensors, double max_norm) {
    double total = 0.0, sq[16];
    size_t off = 0;
    for (size_t k0 = 0; k0 < ntensors; k0 += 16) {
        size_t nk = ntensors - k0 < 16 ? ntensors - k0 : 16;
#ifdef NN_CPU_X86
        if (nn_cpu_simd() >= NN_SIMD_AVX2) sumsq_loop_avx2(sq, grad + off, numel + k0, nk);
        else
#endif
            sumsq_loop(sq, grad + off, numel + k0, nk);
        for (size_t k = 0; k < nk; k++) {
            double nrm = sqrt(sq[k]); /* per-tensor norm first, then the norm of the norms, as torch */
            total += nrm * nrm;
            off += numel[k0 + k];
        }
    }
    double total_norm = sqrt(total);
    double coef = max_norm / (total_norm + 1e-6);
    if (coef < 1.0)
        for (size_t i = 0; i < off; i++) grad[i] *= coef;
    return total_norm;
}
