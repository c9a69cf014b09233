/* nn_rnn_probe.h — how much of the loss's gradient reaches each step of a sequence: the
 * vanishing gradient, measured.
 *
 * A probe set is a few sequences of one length T (a training run takes the first ones of its
 * test set's longest length). For each, with its own loss L_i = (prediction - target)^2, the
 * backprop through time gives dL_i/dh_t for every hidden state t = 0..T-1 (nn_rnn_model.h:
 * nn_rnn_model_backward_dh); the probe reports, per step, the Euclidean norm of that gradient
 * averaged over the set. In an Elman net it shrinks geometrically from the last step back (a
 * product of Jacobians diag(1 - h^2) W_hh); the LSTM's cell state and the GRU's update gate give
 * it paths that do not. */
#ifndef NN_RNN_PROBE_H
#define NN_RNN_PROBE_H

#include <stddef.h>

#include "nn_adding.h"
#include "nn_rnn_model.h"

/* The probe set of `set`: the indices of its first (at most) n sequences whose length is the
 * set's longest, in order, into idx [n]. Returns how many there are (>= 1 when n >= 1). */
size_t nn_rnn_probe_select(const nn_seqset *set, size_t n, size_t *idx);

/* out [T], T = the probe sequences' common length (<= m->max_len): out[t] = the mean over the n
 * sequences set[idx[k]] of ||dL_k/dh_t||_2. n >= 1. Runs the model's forward and backward:
 * its activation cache is overwritten and its gradients are zeroed afterwards (training zeroes
 * them before every step anyway, so a probe between steps changes nothing of a run). */
void nn_rnn_probe_grad_by_step(nn_rnn_model *m, const nn_seqset *set, const size_t *idx,
                               size_t n, double *out);

#endif
