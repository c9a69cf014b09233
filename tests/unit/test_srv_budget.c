/* test_srv_budget.c — the daemon's memory budget (server/srv_budget.h): reservations add up and
 * are given back, a request alone may exceed the budget, small requests never wait, a full
 * budget makes a reservation wait for room (and get it when another request releases) or time
 * out, and the current-request hook turns a refusal into a 503 naming the field. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "srv_budget.h"

#define MB ((size_t)1000000)

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void reset(size_t total) {
    srv_budget_init(total);
    cr_assert_eq(srv_budget_used(), 0, "a previous test left %zu bytes reserved", srv_budget_used());
}

Test(budget, unlimited_by_default_counts_nothing_without_a_current_request) {
    reset(0);
    srv_account a = {0};
    cr_assert_eq(srv_budget_reserve(&a, (size_t)1 << 40, 0), 0);
    cr_assert_eq(a.held, (size_t)1 << 40);
    srv_budget_release(&a);
    cr_assert_eq(a.held, 0);
    cr_assert_eq(srv_budget_used(), 0);
    srv_err e = {0};
    srv_budget_set_current(NULL);
    cr_assert_eq(srv_budget_need(SIZE_MAX, "x", &e), 0, "no current request: nothing counted");
    cr_assert_eq(srv_budget_mul(SIZE_MAX / 2, 3), SIZE_MAX, "saturates");
    cr_assert_eq(srv_budget_mul(7, 6), 42);
}

Test(budget, reservations_add_up_and_a_lone_request_may_exceed_the_budget) {
    reset(100 * MB);
    srv_account a = {0}, b = {0};
    cr_assert_eq(srv_budget_reserve(&a, 150 * MB, 0), 0, "alone: allowed over the budget");
    cr_assert_eq(srv_budget_used(), 150 * MB);
    unsigned long refused = srv_budget_refused();
    cr_assert_eq(srv_budget_reserve(&b, 10 * MB, 0), -1, "no room while a holds more than all");
    cr_assert_eq(b.held, 0);
    cr_assert_eq(srv_budget_refused(), refused + 1);
    cr_assert_eq(srv_budget_reserve(&b, 3 * MB, 0), 0, "a small request is always admitted");
    cr_assert_eq(srv_budget_used(), 153 * MB);
    cr_assert_eq(srv_budget_reserve(&b, 2 * MB, 0), -1, "but not past the small allowance");
    cr_assert_eq(srv_budget_reserve(&a, 5 * MB, 0), 0, "small holders do not count: a is still alone");
    cr_assert_eq(srv_budget_used(), 158 * MB);
    srv_budget_release(&a);
    cr_assert_eq(srv_budget_used(), 3 * MB);
    cr_assert_eq(srv_budget_reserve(&b, 90 * MB, 0), 0, "room again");
    cr_assert_eq(srv_budget_reserve(&a, 10 * MB, 0), -1, "93 + 10 > 100");
    cr_assert_eq(srv_budget_reserve(&a, 7 * MB, 0), 0, "93 + 7 = 100 fits");
    srv_budget_release(&a);
    srv_budget_release(&b);
    cr_assert_eq(srv_budget_used(), 0);
}

typedef struct holder {
    srv_account *acct;
    double release_after_s;
} holder;

static void *release_later(void *arg) {
    holder *h = arg;
    struct timespec ts = {0, (long)(h->release_after_s * 1e9)};
    nanosleep(&ts, NULL);
    srv_budget_release(h->acct);
    return NULL;
}

Test(budget, a_full_budget_waits_for_room_then_times_out) {
    reset(100 * MB);
    srv_account a = {0}, b = {0};
    cr_assert_eq(srv_budget_reserve(&a, 80 * MB, 0), 0);
    /* nobody releases: b waits its whole time, then is refused */
    double t0 = now_s();
    cr_assert_eq(srv_budget_reserve(&b, 50 * MB, 300), -1);
    double waited = now_s() - t0;
    cr_assert(waited >= 0.28 && waited < 2.0, "waited %.3f s for a 300 ms timeout", waited);
    /* a releases after 100 ms: b gets its room without waiting the full 5 s */
    holder h = {&a, 0.1};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, release_later, &h), 0);
    t0 = now_s();
    cr_assert_eq(srv_budget_reserve(&b, 50 * MB, 5000), 0);
    waited = now_s() - t0;
    pthread_join(t, NULL);
    cr_assert(waited >= 0.05 && waited < 2.0, "b got room after %.3f s", waited);
    srv_budget_release(&b);
    cr_assert_eq(srv_budget_used(), 0);
}

typedef struct queued {
    srv_account acct;
    size_t bytes;
    int rc;
} queued;

static void *reserve_in_turn(void *arg) {
    queued *q = arg;
    q->rc = srv_budget_reserve(&q->acct, q->bytes, 10000);
    return NULL;
}

static void sleep_s(double s) {
    struct timespec ts = {0, (long)(s * 1e9)};
    nanosleep(&ts, NULL);
}

/* First come, first served: room that appears goes to the oldest waiter, and a newcomer that
 * would fit at once still queues behind it. A waiter that times out leaves the queue. */
Test(budget, waiters_are_served_in_arrival_order, .timeout = 30) {
    reset(100 * MB);
    srv_account a = {0};
    cr_assert_eq(srv_budget_reserve(&a, 80 * MB, 0), 0);
    queued b = {.bytes = 50 * MB}, c = {.bytes = 50 * MB};
    pthread_t tb, tc;
    cr_assert_eq(pthread_create(&tb, NULL, reserve_in_turn, &b), 0);
    while (srv_budget_waiting() < 1) sleep_s(0.001);
    cr_assert_eq(pthread_create(&tc, NULL, reserve_in_turn, &c), 0);
    while (srv_budget_waiting() < 2) sleep_s(0.001);
    /* d would fit beside a (80 + 15 <= 100) but b and c came first: d waits, times out */
    srv_account d = {0};
    double t0 = now_s();
    cr_assert_eq(srv_budget_reserve(&d, 15 * MB, 300), -1, "a newcomer jumped the queue");
    cr_assert_geq(now_s() - t0, 0.28);
    cr_assert_eq(srv_budget_waiting(), 2, "d left the queue when it timed out");
    /* one that may not wait (it holds much already) is not held up by the queue */
    srv_account e = {0};
    cr_assert_eq(srv_budget_reserve(&e, 5 * MB, 0), 0);
    cr_assert_eq(srv_budget_reserve(&e, 10 * MB, 0), 0, "e holds 15 MB: it takes room that is there");
    srv_budget_release(&e);
    /* room for one 50 MB request (30 + 50): it must be b's, the older; c keeps waiting */
    srv_budget_shrink(&a, 30 * MB);
    pthread_join(tb, NULL);
    cr_assert_eq(b.rc, 0, "b came first and is served first");
    cr_assert_eq(srv_budget_waiting(), 1, "c still waits");
    srv_budget_release(&a); /* now c fits (50 + 50) */
    pthread_join(tc, NULL);
    cr_assert_eq(c.rc, 0);
    cr_assert_eq(srv_budget_waiting(), 0);
    srv_budget_release(&b.acct);
    srv_budget_release(&c.acct);
    cr_assert_eq(srv_budget_used(), 0);
}

/* Asking before uploading (Expect: 100-continue): the answer waits for room like a reservation
 * would, but nothing is reserved either way. */
Test(budget, asking_for_room_reserves_nothing) {
    reset(100 * MB);
    cr_assert_eq(srv_budget_wait_room(500 * MB, 0), 0, "alone, a big request is admitted");
    cr_assert_eq(srv_budget_wait_room(2 * MB, 0), 0);
    cr_assert_eq(srv_budget_used(), 0);
    srv_account a = {0};
    cr_assert_eq(srv_budget_reserve(&a, 80 * MB, 0), 0);
    cr_assert_eq(srv_budget_wait_room(2 * MB, 0), 0, "small: never kept waiting");
    cr_assert_eq(srv_budget_wait_room(15 * MB, 0), 0, "fits beside a");
    unsigned long refused = srv_budget_refused();
    double t0 = now_s();
    cr_assert_eq(srv_budget_wait_room(50 * MB, 300), -1);
    double waited = now_s() - t0;
    cr_assert(waited >= 0.28 && waited < 2.0, "waited %.3f s for a 300 ms timeout", waited);
    cr_assert_eq(srv_budget_refused(), refused + 1, "a refusal is counted");
    holder h = {&a, 0.1};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, release_later, &h), 0);
    t0 = now_s();
    cr_assert_eq(srv_budget_wait_room(50 * MB, 5000), 0, "room once a gives back");
    waited = now_s() - t0;
    pthread_join(t, NULL);
    cr_assert(waited >= 0.05 && waited < 2.0, "room after %.3f s", waited);
    cr_assert_eq(srv_budget_used(), 0, "asking reserved nothing");
}

Test(budget, a_request_holding_much_never_waits_so_two_cannot_deadlock) {
    reset(1000 * MB);
    srv_account a = {0}, b = {0};
    cr_assert_eq(srv_budget_reserve(&a, 600 * MB, 0), 0);
    cr_assert_eq(srv_budget_reserve(&b, 400 * MB, 0), 0);
    double t0 = now_s();
    cr_assert_eq(srv_budget_reserve(&a, 200 * MB, 5000), -1);
    cr_assert_eq(srv_budget_reserve(&b, 200 * MB, 5000), -1);
    cr_assert_lt(now_s() - t0, 0.5, "refused at once, not after waiting on each other");
    /* giving back what is no longer needed makes room */
    srv_budget_shrink(&b, 100 * MB);
    cr_assert_eq(b.held, 100 * MB);
    cr_assert_eq(srv_budget_used(), 700 * MB);
    cr_assert_eq(srv_budget_reserve(&a, 200 * MB, 0), 0);
    srv_budget_shrink(&a, 900 * MB); /* more than it holds: no-op */
    cr_assert_eq(a.held, 800 * MB);
    srv_budget_release(&a);
    srv_budget_release(&b);
    cr_assert_eq(srv_budget_used(), 0);
}

Test(budget, current_request_refusal_is_a_503_naming_the_field) {
    reset(10 * MB);
    srv_account other = {0}, mine = {0};
    cr_assert_eq(srv_budget_reserve(&other, 20 * MB, 0), 0);
    srv_budget_set_current(&mine);
    srv_err e = {0};
    cr_assert_eq(srv_budget_need(1 * MB, "input", &e), 0, "small: admitted");
    cr_assert_eq(mine.held, 1 * MB);
    double t0 = now_s();
    cr_assert_eq(srv_budget_need(5 * MB, "output", &e), -1);
    cr_assert_geq(now_s() - t0, SRV_BUDGET_WAIT_MS / 1000.0 * 0.9, "waited before refusing");
    cr_assert_eq(e.status, 503);
    cr_assert_str_eq(e.field, "output");
    cr_assert(strstr(e.message, "memory"), "%s", e.message);
    srv_budget_set_current(NULL);
    srv_budget_release(&mine);
    srv_budget_release(&other);
    cr_assert_eq(srv_budget_used(), 0);
}

/* A request whose handler needs more than the whole budget can never fit: 413 at once, not a
 * wait and a 503 + Retry-After that would send its client round forever. Claims add up; a
 * body reserved beyond the budget (alone) does not count against them. */
Test(budget, needing_more_than_the_whole_budget_is_413_at_once) {
    reset(10 * MB);
    srv_account other = {0}, mine = {0};
    cr_assert_eq(srv_budget_reserve(&other, 8 * MB, 0), 0);
    srv_budget_set_current(&mine);
    srv_err e = {0};
    double t0 = now_s();
    cr_assert_eq(srv_budget_need(11 * MB, "output", &e), -1);
    cr_assert_lt(now_s() - t0, 0.5, "refused after %.2f s: it waited for room", now_s() - t0);
    cr_assert_eq(e.status, 413, "%d %s", e.status, e.message);
    cr_assert_str_eq(e.field, "output");
    cr_assert(strstr(e.message, "11 MB") && strstr(e.message, "10 MB"), "%s", e.message);
    cr_assert_eq(mine.held, 0, "nothing was reserved");
    srv_budget_release(&other);
    /* 6 + 6 MB of claims exceed it too, though each fits */
    srv_err e2 = {0};
    cr_assert_eq(srv_budget_need(6 * MB, "input", &e2), 0);
    cr_assert_eq(srv_budget_need(6 * MB, "output", &e2), -1);
    cr_assert_eq(e2.status, 413);
    /* a claim for another account (a training job) follows the same rule */
    srv_account job = {0};
    srv_err e3 = {0};
    cr_assert_eq(srv_budget_claim(&job, 20 * MB, "samples", &e3), -1);
    cr_assert_eq(e3.status, 413);
    cr_assert_eq(srv_budget_claim(&job, 3 * MB, "samples", &e3), 0);
    cr_assert_eq(job.held, 3 * MB);
    srv_budget_set_current(NULL);
    srv_budget_release(&mine);
    srv_budget_release(&job);
    cr_assert_eq(srv_budget_used(), 0);
}

Test(budget, auto_budget_is_half_of_a_real_limit) {
    size_t a = srv_budget_auto();
    cr_assert_gt(a, 16 * MB, "auto budget %zu", a);
}
