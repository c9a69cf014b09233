/* nn_optim.h — optimisers for float32 parameters (the feed-forward nets; the recurrent nets'
 * float64 Adam is nn_adam.h): SGD with momentum, dampening, Nesterov and weight decay, and
 * Adam with weight decay, exactly the float32 arithmetic of torch.optim.SGD / torch.optim.Adam
 * in PyTorch 1.13 (the default single-tensor path), over one flat parameter array:
 *
 *   SGD, per element (wd, mom, damp, lr as float; fma = one rounding, as torch's kernels):
 *     d = wd ? fma(p, wd, g) : g
 *     if mom: buf = first step ? d : fma(d, 1 - damp, buf * mom)
 *             d = nesterov ? fma(buf, mom, d) : buf
 *     p = fma(d, -lr, p)
 *   Adam (step t counted from 1; bias corrections in double, as torch's Python scalars):
 *     g = wd ? fma(p, wd, g) : g
 *     m = fma(g, 1 - beta1, m * beta1)
 *     v = fma((1 - beta2) * g, g, v * beta2)
 *     denom = sqrt(v) / sqrt(1 - beta2^t) + eps                    (eps after the root)
 *     p = p + (-(lr / (1 - beta1^t)) * m) / denom
 *
 * The state (SGD's momentum buffer; Adam's m then v) is a float array the caller keeps,
 * zeroed before the first step. */
#ifndef NN_OPTIM_H
#define NN_OPTIM_H

#include <stddef.h>

#include "nn_status.h"

typedef enum nn_optim_kind { NN_OPTIM_SGD = 0, NN_OPTIM_ADAM } nn_optim_kind;

typedef struct nn_optim {
    nn_optim_kind kind;
    double lr;
    double weight_decay;            /* L2 added to the gradient (both); torch's default 0 */
    double momentum, dampening;     /* SGD; torch's defaults 0, 0 */
    int nesterov;                   /* SGD; needs momentum > 0 and dampening 0 */
    double beta1, beta2, eps;       /* Adam; 0.9, 0.999, 1e-8 */
    size_t step;                    /* steps taken so far */
} nn_optim;

/* SGD with the given learning rate and momentum (0: plain SGD), torch's other defaults. */
void nn_optim_sgd(nn_optim *o, double lr, double momentum);
/* Adam with the given learning rate and torch's defaults. */
void nn_optim_adam(nn_optim *o, double lr);

/* torch's own checks: lr >= 0 ("learning_rate"), momentum >= 0 ("momentum"), weight decay
 * >= 0 ("weight_decay"), Nesterov only with momentum > 0 and no dampening ("nesterov"),
 * betas in [0, 1) ("beta1", "beta2"), eps >= 0 ("eps"); NaN fails every one. */
nn_code nn_optim_validate(const nn_optim *o, nn_error *err);

/* Floats of state for n parameters: SGD with momentum n, plain SGD 0, Adam 2n. */
size_t nn_optim_state_floats(const nn_optim *o, size_t n);

/* One step over n parameters (all of the model's at once); increments o->step.
 * param: [n] updated; grad: [n]; state: [nn_optim_state_floats] (NULL if 0), updated.
 * Errors: those of nn_optim_validate; NULL buffers ("param", "grad", "state"). */
nn_code nn_optim_step(nn_optim *o, float *param, const float *grad, float *state, size_t n,
                      nn_error *err);

#endif
