/* test_conv_parallel.c — the thread pool behind the convolution (nn_parallel): every index is
 * covered exactly once, grain is respected, nested and concurrent callers are safe (they run
 * serially instead of waiting), thread caps apply, and a forked child still works. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nn_parallel.h"

typedef struct count_ctx {
    atomic_int *hits;
    size_t grain;
    atomic_int small_pieces;
    atomic_int max_worker;
} count_ctx;

static void count(void *ctx, size_t begin, size_t end, size_t worker) {
    count_ctx *c = ctx;
    if (end - begin < c->grain) atomic_fetch_add(&c->small_pieces, 1);
    int w = (int)worker, m = atomic_load(&c->max_worker);
    while (w > m && !atomic_compare_exchange_weak(&c->max_worker, &m, w)) {}
    for (size_t i = begin; i < end; i++) atomic_fetch_add(&c->hits[i], 1);
}

static void check_cover(size_t n, size_t grain) {
    atomic_int *hits = calloc(n ? n : 1, sizeof *hits);
    count_ctx c = {.hits = hits, .grain = grain ? grain : 1};
    nn_parallel_for(n, grain, count, &c);
    for (size_t i = 0; i < n; i++) cr_assert_eq(atomic_load(&hits[i]), 1, "n=%zu grain=%zu index %zu", n, grain, i);
    cr_assert_lt(atomic_load(&c.max_worker), (int)nn_parallel_threads());
    if (n >= grain) cr_assert_eq(atomic_load(&c.small_pieces), 0, "pieces are at least grain long");
    free(hits);
}

Test(parallel, every_index_exactly_once) {
    cr_assert_geq(nn_parallel_threads(), 1);
    const size_t ns[] = {0, 1, 2, 3, 7, 64, 224, 1000, 4099};
    const size_t grains[] = {0, 1, 3, 16, 500};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < sizeof grains / sizeof grains[0]; b++)
            for (int rep = 0; rep < 5; rep++) check_cover(ns[a], grains[b]);
}

static void nested_inner(void *ctx, size_t begin, size_t end, size_t worker) {
    (void)worker;
    atomic_int *sum = ctx;
    for (size_t i = begin; i < end; i++) atomic_fetch_add(sum, 1);
}

static void nested_outer(void *ctx, size_t begin, size_t end, size_t worker) {
    (void)worker;
    for (size_t i = begin; i < end; i++) nn_parallel_for(100, 1, nested_inner, ctx);
}

Test(parallel, nested_calls_do_not_deadlock, .timeout = 30) {
    atomic_int sum = 0;
    nn_parallel_for(50, 1, nested_outer, &sum);
    cr_assert_eq(atomic_load(&sum), 50 * 100);
}

static void *caller(void *arg) {
    for (int rep = 0; rep < 200; rep++) {
        atomic_int sum = 0;
        nn_parallel_for(1000, 10, nested_inner, &sum);
        if (atomic_load(&sum) != 1000) *(int *)arg = 1;
    }
    return NULL;
}

Test(parallel, concurrent_callers, .timeout = 60) {
    pthread_t t[4];
    int bad[4] = {0};
    for (int i = 0; i < 4; i++) cr_assert_eq(pthread_create(&t[i], NULL, caller, &bad[i]), 0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) cr_assert_eq(bad[i], 0);
}

Test(parallel, thread_cap) {
    size_t all = nn_parallel_threads();
    nn_parallel_set_threads(1);
    cr_assert_eq(nn_parallel_threads(), 1);
    atomic_int *hits = calloc(100, sizeof *hits);
    count_ctx c = {.hits = hits, .grain = 1};
    nn_parallel_for(100, 1, count, &c);
    cr_assert_eq(atomic_load(&c.max_worker), 0, "serial runs on the caller only");
    free(hits);
    nn_parallel_set_threads(1000);
    cr_assert_eq(nn_parallel_threads(), all, "clamped to the pool");
    nn_parallel_set_threads(0);
    cr_assert_eq(nn_parallel_threads(), all);
}

Test(parallel, forked_child_runs_serially, .timeout = 30) {
    check_cover(256, 1); /* start the pool */
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        atomic_int sum = 0;
        nn_parallel_for(256, 1, nested_inner, &sum);
        _exit(atomic_load(&sum) == 256 ? 0 : 1);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A worker that stalls in its first piece (as a descheduled thread would) loses the rest of
 * its home block to the caller, which takes it over from the far end instead of waiting. */
typedef struct stall_ctx {
    atomic_int ran_by[8]; /* worker + 1 that ran piece i */
    atomic_int stalled;
} stall_ctx;

/* Sleep 1 ms at a time, up to 5 s, until done(s) holds. */
static void wait_for(stall_ctx *s, int (*done)(stall_ctx *)) {
    for (int ms = 0; !done(s) && ms < 5000; ms++) {
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
}
static int worker_stalled(stall_ctx *s) { return atomic_load(&s->stalled); }
static int rest_of_block_ran(stall_ctx *s) {
    return atomic_load(&s->ran_by[5]) && atomic_load(&s->ran_by[6]) && atomic_load(&s->ran_by[7]);
}

static void stall_piece(void *ctx, size_t begin, size_t end, size_t worker) {
    stall_ctx *s = ctx;
    /* the worker stays in its first piece until pieces 5-7 have run: only the caller can run
     * them meanwhile. The caller's first piece waits for that stall, so it cannot simply
     * finish everything before the worker arrives. */
    if (worker != 0 && !atomic_exchange(&s->stalled, 1)) wait_for(s, rest_of_block_ran);
    if (worker == 0 && begin == 0) wait_for(s, worker_stalled);
    for (size_t i = begin; i < end; i++) atomic_store(&s->ran_by[i], (int)worker + 1);
}

Test(parallel, stalled_worker_pieces_are_taken_over, .timeout = 30) {
    if (nn_parallel_threads() < 2) cr_skip_test("one core: nothing to take over");
    nn_parallel_set_threads(2);
    stall_ctx s = {0};
    nn_parallel_for(8, 1, stall_piece, &s); /* 8 pieces: home blocks 0-3 (caller) and 4-7 */
    cr_assert_eq(atomic_load(&s.stalled), 1, "the worker joined and stalled");
    int caller_took = 0;
    for (int i = 0; i < 8; i++) {
        cr_assert_neq(atomic_load(&s.ran_by[i]), 0, "piece %d ran", i);
        if (i < 4) cr_assert_eq(atomic_load(&s.ran_by[i]), 1, "the caller's own piece %d is not taken from it", i);
        else caller_took += atomic_load(&s.ran_by[i]) == 1;
    }
    cr_assert_geq(caller_took, 3, "the caller took over the stalled worker's pieces (took %d of 4)", caller_took);
    for (int i = 5; i < 8; i++) cr_assert_eq(atomic_load(&s.ran_by[i]), 1, "piece %d was taken over", i);
    nn_parallel_set_threads(0);
}
