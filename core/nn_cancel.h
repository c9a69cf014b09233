/* nn_cancel.h — cooperative cancellation of long computations.
 *
 * A caller that may have to stop a computation early (a server whose client went away, or
 * that is shutting down) binds a flag to its thread with nn_cancel_bind before calling into
 * the library. Every long loop of the library looks at the bound flag at least once per
 * NN_CANCEL_EVERY units of work (well under a millisecond) and, once it is nonzero, stops: the
 * function returns NN_CANCELLED (field "cancelled") and whatever it was writing is unspecified.
 * The loops that check: convolution (every kernel, its scratch fill included), windowed and
 * global pooling, the CNN between and inside layers, the recurrent cells' forward and
 * backward passes through time, each training sample and each test-set sample
 * (nn_rnn_train_run). nn_parallel_for carries the caller's binding to the pool's workers for the
 * duration of its job, and starts no new piece once the flag is set.
 *
 * The binding is per thread, so the library's signatures do not change and code that never
 * binds a flag pays one thread-local load per check. The flag is only read (relaxed): the
 * caller owns it and sets it from any thread. */
#ifndef NN_CANCEL_H
#define NN_CANCEL_H

#include <stdatomic.h>
#include <stddef.h>

/* Units of work (multiply-adds, compared or added floats) between two looks at the flag. */
#define NN_CANCEL_EVERY ((size_t)1 << 18)

/* This thread's flag; use the functions below. */
extern _Thread_local const atomic_int *nn_cancel_flag_;

/* Bind flag (NULL: none) to this thread; returns the previous binding, to restore after. */
const atomic_int *nn_cancel_bind(const atomic_int *flag);

/* The flag bound to this thread (NULL when none). */
static inline const atomic_int *nn_cancel_current(void) { return nn_cancel_flag_; }

/* 1 once this thread's bound flag is nonzero. */
static inline int nn_cancelled(void) {
    const atomic_int *f = nn_cancel_flag_;
    return f && atomic_load_explicit(f, memory_order_relaxed) != 0;
}

/* For a loop that does `work` units per iteration: counts them down in *meter (start it at
 * 0) and looks at the flag once NN_CANCEL_EVERY have passed (and on the first call). */
static inline int nn_cancel_tick(size_t *meter, size_t work) {
    if (*meter > work) {
        *meter -= work;
        return 0;
    }
    *meter = NN_CANCEL_EVERY;
    return nn_cancelled();
}

#endif
