/* nn_adam.h — the Adam optimiser with PyTorch's defaults and its exact update
 * (torch.optim.Adam, no weight decay, no amsgrad), over a flat parameter vector:
 *   t += 1
 *   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
 *   denom = sqrt(v) / sqrt(1 - beta2^t) + eps           (eps after the square root, as torch)
 *   p -= (lr / (1 - beta1^t)) m / denom
 * and gradient clipping by global norm as torch.nn.utils.clip_grad_norm_ (L2). */
#ifndef NN_ADAM_H
#define NN_ADAM_H

#include <stddef.h>

typedef struct nn_adam {
    double lr;     /* 0.001 */
    double beta1;  /* 0.9 */
    double beta2;  /* 0.999 */
    double eps;    /* 1e-8 */
    size_t step;   /* steps taken so far */
} nn_adam;

/* PyTorch's defaults with the given learning rate, step 0. */
void nn_adam_init(nn_adam *opt, double lr);

/* One step over n parameters (all of the model's, at once): increments opt->step. m, v start
 * zeroed. */
void nn_adam_step(nn_adam *opt,
                  double *param,      /* [n] updated in place */
                  const double *grad, /* [n] */
                  double *m,          /* [n] first moment, updated */
                  double *v,          /* [n] second moment, updated */
                  size_t n);

/* clip_grad_norm_: grad is ntensors tensors back to back, numel[k] values each. total_norm =
 * || (||g_0||, ||g_1||, ...) ||_2; if max_norm / (total_norm + 1e-6) < 1 every gradient is
 * multiplied by it. Returns total_norm. max_norm = +INFINITY never clips. */
double nn_clip_grad_norm(double *grad, const size_t *numel, size_t ntensors, double max_norm);

#endif
