/* nn_parallel.h — a tiny persistent thread pool and a parallel-for, for using every core in the
 * hot kernels (convolution, pooling) without OpenMP.
 *
 * The pool is created lazily on first use (one worker per extra core; NNLAB_THREADS in the
 * environment caps the total, e.g. NNLAB_THREADS=1 for serial runs) and lives until exit.
 * Callers may come from any thread: when the pool is already busy (another request thread, or a
 * nested call from inside a task) the loop simply runs serially in the calling thread, so
 * nn_parallel_for is always safe and never deadlocks. A child process created by fork() after
 * the pool started has no workers and runs serially too. The library never prints or exits: if
 * the workers cannot be started, everything runs serially. */
#ifndef NN_PARALLEL_H
#define NN_PARALLEL_H

#include <stddef.h>

/* Work on the half-open range [begin, end) of task indices; `worker` is 0 for the calling thread
 * and 1..threads-1 for pool threads (handy for indexing per-thread scratch). */
typedef void (*nn_parallel_fn)(void *ctx, size_t begin, size_t end, size_t worker);

/* Run fn over [0, n), cut into contiguous pieces of at least `grain` indices (grain 0 counts
 * as 1; at most 4 pieces per thread), so one thread may run fn several times, always on
 * disjoint ranges, and every index is covered exactly once. Each thread first runs its own
 * block of pieces (thread t of T: the t-th T-th of the range, the same on every call with the
 * same n, grain and threads, so data it left in its core's cache is found there again), then
 * takes over pieces the others have not started. Returns when all pieces are done. The
 * calling thread works too (as worker 0). n == 0 does nothing.
 * Cancellation (nn_cancel.h): the workers see the caller's cancel binding while they run its
 * pieces, and once the flag is set no further piece is started (fn must check the flag itself
 * to stop inside a piece); the call still returns only when no thread is inside fn. */
void nn_parallel_for(size_t n, size_t grain, nn_parallel_fn fn, void *ctx);

/* Threads a parallel loop may use (>= 1; the calling thread included). */
size_t nn_parallel_threads(void);

/* Cap the threads used by later loops at n (1 = serial; 0 = all cores). Does not start or stop
 * workers; values above the pool size are clamped. For benchmarks and tests. */
void nn_parallel_set_threads(size_t n);

#endif
