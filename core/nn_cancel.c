/* nn_cancel.c — the per-thread cancel binding; see nn_cancel.h. */
#include "nn_cancel.h"

_Thread_local const atomic_int *nn_cancel_flag_;

const atomic_int *nn_cancel_bind(const atomic_int *flag) {
    const atomic_int *prev = nn_cancel_flag_;
    nn_cancel_flag_ = flag;
    return prev;
}
