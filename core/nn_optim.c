/* nn_optim.c — float32 SGD and Adam as torch.optim computes them; see nn_optim.h.
 *
 * The loops are compiled twice, plain and with the FMA instructions (chosen at run time), so
 * fmaf is one instruction where the CPU has it; the operations, and so the bits, are the same. */
#include "nn_optim.h"

#include <math.h>

void nn_optim_sgd(nn_optim *o, double lr, double momentum) {
    *o = (nn_optim){.kind = NN_OPTIM_SGD, .lr = lr, .momentum = momentum, .beta1 = 0.9,
                    .beta2 = 0.999, .eps = 1e-8};
}

void nn_optim_adam(nn_optim *o, double lr) {
    nn_optim_sgd(o, lr, 0.0);
    o->kind = NN_OPTIM_ADAM;
}

nn_code nn_optim_validate(const nn_optim *o, nn_error *err) {
    if (!o || (o->kind != NN_OPTIM_SGD && o->kind != NN_OPTIM_ADAM))
        return nn_fail(err, NN_INVALID, "optimizer", "unknown optimizer");
    if (!(o->lr >= 0.0 && isfinite(o->lr)))
        return nn_fail(err, NN_INVALID, "learning_rate", "learning rate must be >= 0 (got %g)", o->lr);
    if (!(o->weight_decay >= 0.0 && isfinite(o->weight_decay)))
        return nn_fail(err, NN_INVALID, "weight_decay", "weight decay must be >= 0 (got %g)", o->weight_decay);
    if (o->kind == NN_OPTIM_SGD) {
        if (!(o->momentum >= 0.0 && isfinite(o->momentum)))
            return nn_fail(err, NN_INVALID, "momentum", "momentum must be >= 0 (got %g)", o->momentum);
        if (!isfinite(o->dampening))
            return nn_fail(err, NN_INVALID, "dampening", "dampening must be a number");
        if (o->nesterov && (o->momentum <= 0.0 || o->dampening != 0.0))
            return nn_fail(err, NN_INVALID, "nesterov", "Nesterov momentum requires a momentum and zero dampening");
        return NN_OK;
    }
    if (!(o->beta1 >= 0.0 && o->beta1 < 1.0))
        return nn_fail(err, NN_INVALID, "beta1", "beta1 must be in [0, 1) (got %g)", o->beta1);
    if (!(o->beta2 >= 0.0 && o->beta2 < 1.0))
        return nn_fail(err, NN_INVALID, "beta2", "beta2 must be in [0, 1) (got %g)", o->beta2);
    if (!(o->eps >= 0.0 && isfinite(o->eps)))
        return nn_fail(err, NN_INVALID, "eps", "eps must be >= 0 (got %g)", o->eps);
    return NN_OK;
}

size_t nn_optim_state_floats(const nn_optim *o, size_t n) {
    if (o->kind == NN_OPTIM_ADAM) return 2 * n;
    return o->momentum != 0.0 ? n : 0;
}

/* Scalars as torch passes them to its float kernels (Python floats cast to float). */
typedef struct optim_k {
    float lr_neg, wd, mom, one_minus_damp;
    int use_wd, use_mom, nesterov, first;
    float b1, one_minus_b1, b2, one_minus_b2, bc2_sqrt, eps, step_neg;
} optim_k;

/* The update loops, once per ATTR (plain, and the FMA target). Where torch rounds twice the
 * product and the sum are separate statements, so no compiler contracts them into an fma;
 * where torch's compiled kernel fuses them (add with alpha; addcmul, whose vector
 * `self + value * t1 * t2` GCC contracts: measured against torch's output) fmaf says so. */
#define OPTIM_LOOPS(ATTR, SGD, ADAM)                                                         \
    static ATTR void SGD(float *restrict p, const float *restrict g, float *restrict buf,    \
                         size_t n, const optim_k *k) {                                       \
        for (size_t i = 0; i < n; i++) {                                                     \
            float d = k->use_wd ? fmaf(p[i], k->wd, g[i]) : g[i];                            \
            if (k->use_mom) {                                                                \
                float decayed = buf[i] * k->mom;                                             \
                float b = k->first ? d : fmaf(d, k->one_minus_damp, decayed);                \
                buf[i] = b;                                                                  \
                d = k->nesterov ? fmaf(b, k->mom, d) : b;                                    \
            }                                                                                \
            p[i] = fmaf(d, k->lr_neg, p[i]);                                                 \
        }                                                                                    \
    }                                                                                        \
    static ATTR void ADAM(float *restrict p, const float *restrict g, float *restrict m,      \
                          float *restrict v, size_t n, const optim_k *k) {                   \
        for (size_t i = 0; i < n; i++) {                                                     \
            float gi = k->use_wd ? fmaf(p[i], k->wd, g[i]) : g[i];                           \
            float m1 = m[i] * k->b1;                                                         \
            float mi = fmaf(gi, k->one_minus_b1, m1);                                        \
            float v1 = v[i] * k->b2;                                                         \
            float vi = fmaf(k->one_minus_b2 * gi, gi, v1);                                   \
            float denom = sqrtf(vi) / k->bc2_sqrt + k->eps;                                  \
            float stepped = k->step_neg * mi / denom;                                        \
            m[i] = mi;                                                                       \
            v[i] = vi;                                                                       \
            p[i] = p[i] + stepped;                                                           \
        }                                                                                    \
    }

OPTIM_LOOPS(, sgd_plain, adam_plain)

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define NN_OPTIM_FMA 1
OPTIM_LOOPS(__attribute__((target("fma"))), sgd_fma, adam_fma)

static int have_fma(void) {
    static int cached = -1; /* benign race: every thread computes the same value */
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("fma") ? 1 : 0;
    }
    return cached;
}
#endif

nn_code nn_optim_step(nn_optim *o, float *param, const float *grad, float *state, size_t n,
                      nn_error *err) {
    nn_code rc = nn_optim_validate(o, err);
    if (rc) return rc;
    if (n && (!param || !grad))
        return nn_fail(err, NN_INVALID, !param ? "param" : "grad", "parameters and gradients must not be NULL");
    if (n && nn_optim_state_floats(o, n) && !state) return nn_fail(err, NN_INVALID, "state", "state must not be NULL");
    optim_k k = {.lr_neg = (float)-o->lr, .wd = (float)o->weight_decay, .use_wd = o->weight_decay != 0.0,
                 .first = o->step == 0};
    o->step++;
    int fma = 0;
#ifdef NN_OPTIM_FMA
    fma = have_fma();
#endif
    if (o->kind == NN_OPTIM_SGD) {
        k.use_mom = o->momentum != 0.0;
        k.mom = (float)o->momentum;
        k.one_minus_damp = (float)(1.0 - o->dampening);
        k.nesterov = o->nesterov;
#ifdef NN_OPTIM_FMA
        if (fma) sgd_fma(param, grad, state, n, &k);
        else
#endif
            sgd_plain(param, grad, state, n, &k);
        (void)fma;
        return NN_OK;
    }
    /* torch's _single_tensor_adam: Python floats, in this order */
    double t = (double)o->step, bc1 = 1.0 - pow(o->beta1, t), bc2 = 1.0 - pow(o->beta2, t);
    k.b1 = (float)o->beta1, k.one_minus_b1 = (float)(1.0 - o->beta1);
    k.b2 = (float)o->beta2, k.one_minus_b2 = (float)(1.0 - o->beta2);
    k.bc2_sqrt = (float)sqrt(bc2), k.eps = (float)o->eps, k.step_neg = (float)-(o->lr / bc1);
#ifdef NN_OPTIM_FMA
    if (fma) adam_fma(param, grad, state, state + n, n, &k);
    else
#endif
        adam_plain(param, grad, state, state + n, n, &k);
    (void)fma;
    return NN_OK;
}
