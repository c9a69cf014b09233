/* srv_budget.c — the process-wide memory budget; see srv_budget.h. */
#include "srv_budget.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t freed;          /* on CLOCK_MONOTONIC: see init_cond */
static pthread_once_t cond_once = PTHREAD_ONCE_INIT;
static size_t total;                  /* 0: unlimited */
static size_t used;
static size_t big_holders;            /* accounts holding more than SRV_BUDGET_SMALL */
static unsigned long refused;
static _Thread_local srv_account *current;

/* Requests waiting for room, oldest first: only the oldest may take room that appears, so a
 * stream of newcomers cannot starve one that has waited longer. The nodes live on the waiters'
 * stacks. */
typedef struct waiter {
    struct waiter *next;
} waiter;
static waiter *queue_head, *queue_tail;
static size_t queue_len;

static void init_cond(void) {
    pthread_condattr_t at;
    pthread_condattr_init(&at);
    pthread_condattr_setclock(&at, CLOCK_MONOTONIC); /* deadlines immune to clock changes */
    pthread_cond_init(&freed, &at);
    pthread_condattr_destroy(&at);
}

size_t srv_budget_mul(size_t n, size_t per) {
    return per && n > SIZE_MAX / per ? SIZE_MAX : n * per;
}

size_t srv_budget_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

/* ---------------------------------------------------------------- the default budget */

/* A byte count from the first line of `path` ("max", huge or unreadable: 0). */
static size_t read_limit(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[64] = "";
    size_t v = 0;
    if (fgets(line, sizeof line, f)) {
        char *end = NULL;
        errno = 0;
        unsigned long long u = strtoull(line, &end, 10);
        /* cgroup v1 says "no limit" with a number near 2^63 */
        if (errno == 0 && end != line && u < ((unsigned long long)1 << 60)) v = (size_t)u;
    }
    fclose(f);
    return v;
}

/* The smallest limit in `file` from the cgroup directory root/rel up to root. */
static size_t walk_up(const char *root, const char *rel, const char *file) {
    char dir[1024];
    if (snprintf(dir, sizeof dir, "%s%s", root, rel) >= (int)sizeof dir) return 0;
    size_t best = 0, rlen = strlen(root);
    for (;;) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, file);
        size_t v = read_limit(p);
        if (v && (!best || v < best)) best = v;
        char *slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) < rlen) break;
        *slash = '\0'; /* the parent group */
    }
    return best;
}

/* This process's memory limit from its cgroup (v2 "0::/path", or v1's memory controller),
 * checking every ancestor group: a limit may be set on a parent (a systemd slice, a pod). */
static size_t cgroup_limit(void) {
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return 0;
    size_t best = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c2 = '\0';
        const char *ctrl = c1 + 1, *rel = c2 + 1;
        if (strcmp(rel, "/") == 0) rel = "";
        size_t v = 0;
        if (strncmp(line, "0", 1) == 0 && *ctrl == '\0')
            v = walk_up("/sys/fs/cgroup", rel, "memory.max");
        else if (strstr(ctrl, "memory"))
            v = walk_up("/sys/fs/cgroup/memory", rel, "memory.limit_in_bytes");
        if (v && (!best || v < best)) best = v;
    }
    fclose(f);
    return best;
}

size_t srv_budget_auto(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    size_t limit = pages > 0 && page > 0 ? srv_budget_mul((size_t)pages, (size_t)page) : 0;
    size_t cg = cgroup_limit();
    if (cg && (!limit || cg < limit)) limit = cg;
    return limit ? limit / 2 : (size_t)1 << 30;
}

/* ---------------------------------------------------------------- reservations */

void srv_budget_init(size_t bytes) {
    pthread_once(&cond_once, init_cond);
    pthread_mutex_lock(&mu);
    total = bytes;
    pthread_mutex_unlock(&mu);
}

size_t srv_budget_total(void) {
    pthread_mutex_lock(&mu);
    size_t t = total;
    pthread_mutex_unlock(&mu);
    return t;
}

size_t srv_budget_used(void) {
    pthread_mutex_lock(&mu);
    size_t u = used;
    pthread_mutex_unlock(&mu);
    return u;
}

size_t srv_budget_waiting(void) {
    pthread_mutex_lock(&mu);
    size_t n = queue_len;
    pthread_mutex_unlock(&mu);
    return n;
}

unsigned long srv_budget_refused(void) {
    pthread_mutex_lock(&mu);
    unsigned long r = refused;
    pthread_mutex_unlock(&mu);
    return r;
}

/* Small requests never wait (the first rule of fits), so they never queue either. */
static int stays_small(const srv_account *a, size_t bytes) {
    return total == 0 || (a->held <= SRV_BUDGET_SMALL && bytes <= SRV_BUDGET_SMALL - a->held);
}

/* Room for `bytes` more on top of a's holding: it stays small (small requests never queue
 * behind a big one), or it is within the budget, or no other big request holds anything (a
 * request alone may exceed the budget; small ones do not count). */
static int fits(const srv_account *a, size_t bytes) {
    if (stays_small(a, bytes)) return 1;
    if (used <= total && bytes <= total - used) return 1;
    return big_holders == (a->held > SRV_BUDGET_SMALL ? 1u : 0u);
}

/* Set a's holding to `held`, keeping used and big_holders in step. Under mu. */
static void set_held(srv_account *a, size_t held) {
    big_holders -= a->held > SRV_BUDGET_SMALL;
    used = used - a->held;
    used = srv_budget_add(used, held);
    a->held = held;
    big_holders += a->held > SRV_BUDGET_SMALL;
}

static void unqueue(waiter *w) {
    waiter **pp = &queue_head, *prev = NULL;
    while (*pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    *pp = w->next;
    if (queue_tail == w) queue_tail = prev;
    queue_len--;
    pthread_cond_broadcast(&freed); /* a new oldest waiter may fit now */
}

/* Wait under mu until `bytes` more fit on a's holding, up to wait_ms, first come first served:
 * 0, or -1 (counted). A request that may not wait (wait_ms <= 0) takes room that is there,
 * queue or not: it already holds much and finishing it frees the most. */
static int wait_fit(const srv_account *a, size_t bytes, int wait_ms) {
    if (stays_small(a, bytes) || ((wait_ms <= 0 || !queue_head) && fits(a, bytes))) return 0;
    if (wait_ms <= 0) {
        refused++;
        return -1;
    }
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    waiter me = {NULL};
    if (queue_tail) queue_tail->next = &me;
    else queue_head = &me;
    queue_tail = &me;
    queue_len++;
    int rc = 0;
    while (queue_head != &me || !fits(a, bytes)) {
        if (pthread_cond_timedwait(&freed, &mu, &deadline) == ETIMEDOUT) {
            if (queue_head == &me && fits(a, bytes)) break;
            refused++;
            rc = -1;
            break;
        }
    }
    unqueue(&me);
    return rc;
}

int srv_budget_reserve(srv_account *a, size_t bytes, int wait_ms) {
    if (!a || bytes == 0) return 0;
    pthread_once(&cond_once, init_cond);
    /* Only a request that holds little may wait: one holding a lot and waiting for more
     * could wait on another doing the same, and both would time out. */
    if (a->held > SRV_BUDGET_SMALL) wait_ms = 0;
    pthread_mutex_lock(&mu);
    int rc = wait_fit(a, bytes, wait_ms);
    if (rc == 0) set_held(a, srv_budget_add(a->held, bytes));
    pthread_mutex_unlock(&mu);
    return rc;
}

int srv_budget_wait_room(size_t bytes, int wait_ms) {
    if (bytes == 0) return 0;
    pthread_once(&cond_once, init_cond);
    const srv_account fresh = {0};
    pthread_mutex_lock(&mu);
    int rc = wait_fit(&fresh, bytes, wait_ms);
    pthread_mutex_unlock(&mu);
    return rc;
}

void srv_budget_shrink(srv_account *a, size_t keep) {
    if (a && a->claimed > keep) a->claimed = keep;
    if (!a || a->held <= keep) return;
    pthread_mutex_lock(&mu);
    set_held(a, keep);
    pthread_cond_broadcast(&freed);
    pthread_mutex_unlock(&mu);
}

void srv_budget_release(srv_account *a) { srv_budget_shrink(a, 0); }

void srv_budget_set_current(srv_account *a) { current = a; }

int srv_budget_claim(srv_account *a, size_t bytes, const char *field, srv_err *e) {
    if (!a || bytes == 0) return 0;
    size_t whole = srv_budget_total(), want = srv_budget_add(a->claimed, bytes);
    if (whole && want > whole)
        return srv_fail(e, 413, field,
                        "this request needs %.0f MB of memory; the server's whole budget is "
                        "%.0f MB (--max-memory)", (double)want / 1e6, (double)whole / 1e6);
    if (srv_budget_reserve(a, bytes, SRV_BUDGET_WAIT_MS) != 0)
        return srv_fail(e, 503, field,
                        "the server's memory is taken by other requests (this one needs %.0f MB "
                        "more); retry later", (double)bytes / 1e6);
    a->claimed = want;
    return 0;
}

int srv_budget_need(size_t bytes, const char *field, srv_err *e) {
    return srv_budget_claim(current, bytes, field, e);
}
