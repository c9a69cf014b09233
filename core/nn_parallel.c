/* nn_parallel.c — persistent worker pool behind nn_parallel_for; see nn_parallel.h.
 *
 * One job at a time. A caller that wins `busy` writes the job, then publishes it by storing a
 * new generation in `job_word`. The range is cut into pieces, each claimed by one thread
 * (`claimed`): every thread has a home block of pieces, the same on every call, and then takes
 * over what is left of the others' (run_pieces). The caller works too, so it never waits for
 * a worker that has not started: a worker must first *join* the job (a CAS that bumps the active count in `job_word`, only while the
 * job is open). When every piece is done the caller closes the job and waits only for the
 * workers that joined — they have nothing left to take, so that wait is short. This matters on
 * a shared machine, where a worker can be descheduled for a whole time slice.
 *
 * Workers spin briefly after a job (kernels are often called back to back and waking a
 * sleeping thread costs tens of microseconds), then sleep on a condition variable. */
#include "nn_parallel.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "nn_cancel.h"

#define MAX_THREADS 64
#define SPIN_ITERS 4000
#define PIECES_PER_THREAD 4

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() ((void)0)
#endif

/* job_word = generation << 32 | CLOSED | number of workers inside the job */
#define CLOSED ((uint64_t)1 << 31)
#define ACTIVE_MASK ((uint64_t)0xffff)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pid_t pool_pid;                /* a forked child has no workers: it runs serially */
static size_t pool_threads = 1;       /* workers + the caller */
static atomic_size_t cap_threads = 1; /* nn_parallel_set_threads */
static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv = PTHREAD_COND_INITIALIZER;
static _Atomic uint64_t job_word = CLOSED; /* generation 0, closed: no job yet */

/* The current job; written by the caller while no worker is inside, read by joined workers. */
static nn_parallel_fn job_fn;
static void *job_ctx;
static const atomic_int *job_cancel; /* the caller's cancel binding (nn_cancel.h) */
static size_t job_n, job_pieces, job_threads;
static atomic_size_t pieces_done;

static atomic_uchar claimed[MAX_THREADS * PIECES_PER_THREAD]; /* piece i taken */

static int claim(size_t i) {
    return !atomic_load_explicit(&claimed[i], memory_order_relaxed) &&
           !atomic_exchange_explicit(&claimed[i], 1, memory_order_relaxed);
}

/* Thread `me` first runs its own block [lo, hi) of pieces (the same block on every call, so
 * data a previous call left in this core's cache is found there again), then takes what is
 * left of the others' going down from lo - 1 (wrapping around): the far end of the previous
 * block, so a late or descheduled thread loses its last pieces, not its first. Once the job
 * is cancelled, the pieces left are claimed and counted without being run. */
static void run_pieces(size_t me) {
    const size_t P = job_pieces, T = job_threads;
    const size_t lo = P * me / T, hi = P * (me + 1) / T;
    for (size_t k = 0; k < P; k++) {
        size_t i = k < hi - lo ? lo + k : (lo + P - 1 - (k - (hi - lo))) % P; /* lo-1, lo-2, ... */
        if (!claim(i)) continue;
        if (!nn_cancelled())
            job_fn(job_ctx, job_n * i / job_pieces, job_n * (i + 1) / job_pieces, me);
        atomic_fetch_add_explicit(&pieces_done, 1, memory_order_release);
    }
}

static void *worker_main(void *arg) {
    size_t me = (size_t)(uintptr_t)arg;
    uint64_t seen = 0; /* generation last looked at */
    for (;;) {
        uint64_t w;
        int spins = 0;
        while (((w = atomic_load_explicit(&job_word, memory_order_acquire)) >> 32) == seen &&
               spins < SPIN_ITERS) {
            cpu_relax();
            spins++;
        }
        if ((w >> 32) == seen) {
            pthread_mutex_lock(&wake_mu);
            while (((w = atomic_load_explicit(&job_word, memory_order_acquire)) >> 32) == seen)
                pthread_cond_wait(&wake_cv, &wake_mu);
            pthread_mutex_unlock(&wake_mu);
        }
        seen = w >> 32;
        /* Join while the job is open; a closed or newer job is left alone. */
        int joined = 0;
        while (!(w & CLOSED) && (w >> 32) == seen) {
            if (atomic_compare_exchange_weak_explicit(&job_word, &w, w + 1, memory_order_acquire,
                                                      memory_order_acquire)) {
                joined = 1;
                break;
            }
        }
        if (!joined) continue;
        if (me < job_threads) {
            nn_cancel_bind(job_cancel); /* the caller's flag, for the kernels' own checks */
            run_pieces(me);
            nn_cancel_bind(NULL);
        }
        atomic_fetch_sub_explicit(&job_word, 1, memory_order_release);
    }
    return NULL;
}

static void pool_init(void) {
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t want = ncpu > 0 ? (size_t)ncpu : 1;
    const char *env = getenv("NNLAB_THREADS");
    if (env && *env) {
        long v = strtol(env, NULL, 10);
        if (v >= 1) want = (size_t)v;
    }
    if (want > MAX_THREADS) want = MAX_THREADS;
    size_t started = 1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (size_t i = 1; i < want; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, worker_main, (void *)(uintptr_t)i) != 0) break;
        started++;
    }
    pthread_attr_destroy(&attr);
    pool_threads = started;
    pool_pid = getpid();
    atomic_store(&cap_threads, started);
}

size_t nn_parallel_threads(void) {
    pthread_once(&once, pool_init);
    return atomic_load(&cap_threads);
}

void nn_parallel_set_threads(size_t n) {
    pthread_once(&once, pool_init);
    if (n == 0 || n > pool_threads) n = pool_threads;
    atomic_store(&cap_threads, n);
}

static void wait_until(atomic_size_t *v, size_t want) {
    for (unsigned spins = 0; atomic_load_explicit(v, memory_order_acquire) != want; spins++) {
        cpu_relax();
        if (spins > SPIN_ITERS) sched_yield(); /* a descheduled worker needs this core */
    }
}

void nn_parallel_for(size_t n, size_t grain, nn_parallel_fn fn, void *ctx) {
    if (n == 0) return;
    if (grain == 0) grain = 1;
    size_t threads = nn_parallel_threads();
    size_t pieces = n / grain;
    if (pieces > threads * PIECES_PER_THREAD) pieces = threads * PIECES_PER_THREAD;
    if (pieces <= 1 || threads <= 1 || getpid() != pool_pid || pthread_mutex_trylock(&busy) != 0) {
        fn(ctx, 0, n, 0);
        return;
    }
    /* No worker is inside (the previous job was closed and drained), so this is safe. */
    job_fn = fn;
    job_ctx = ctx;
    job_cancel = nn_cancel_current();
    job_n = n;
    job_pieces = pieces;
    job_threads = threads < pieces ? threads : pieces;
    for (size_t i = 0; i < pieces; i++) atomic_store_explicit(&claimed[i], 0, memory_order_relaxed);
    atomic_store_explicit(&pieces_done, 0, memory_order_relaxed);
    uint64_t next_gen = (atomic_load_explicit(&job_word, memory_order_relaxed) >> 32) + 1;
    pthread_mutex_lock(&wake_mu);
    atomic_store_explicit(&job_word, next_gen << 32, memory_order_release); /* open, 0 inside */
    pthread_cond_broadcast(&wake_cv);
    pthread_mutex_unlock(&wake_mu);

    run_pieces(0);
    wait_until(&pieces_done, pieces);
    /* Close: late workers will not join; the ones inside find no piece and leave. */
    uint64_t w = atomic_fetch_or_explicit(&job_word, CLOSED, memory_order_acq_rel) | CLOSED;
    for (unsigned spins = 0; (w & ACTIVE_MASK) != 0; spins++) {
        cpu_relax();
        if (spins > SPIN_ITERS) sched_yield();
        w = atomic_load_explicit(&job_word, memory_order_acquire);
    }
    pthread_mutex_unlock(&busy);
}
