/* srv_budget.c — the process-wide memory budget; see srv_budget.h. */
#include "srv_budget.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t freed = PTHREAD_COND_INITIALIZER;
static size_t total;   /* 0: unlimited */
static size_t used;
static unsigned long refused;
static _Thread_local srv_account *current;

/* A byte count from the first line of `path` ("max" or unreadable: 0). */
static size_t read_limit(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[64] = "";
    size_t v = 0;
    if (fgets(line, sizeof line, f)) {
        char *end = NULL;
        errno = 0;
        unsigned long long u = strtoull(line, &end, 10);
        if (errno == 0 && end != line && u < (unsigned long long)SIZE_MAX) v = (size_t)u;
    }
    fclose(f);
    return v;
}

size_t srv_budget_auto(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    size_t limit = pages > 0 && page > 0 ? srv_budget_mul((size_t)pages, (size_t)page) : 0;
    /* v1 reports "no limit" as a huge number: the min() below ignores it */
    const char *const files[] = {"/sys/fs/cgroup/memory.max",
                                 "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
    for (size_t i = 0; i < 2; i++) {
        size_t v = read_limit(files[i]);
        if (v > 0 && (limit == 0 || v < limit)) limit = v;
    }
    return limit ? limit / 2 : (size_t)1 << 30;
}

void srv_budget_init(size_t bytes) {
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

unsigned long srv_budget_refused(void) {
    pthread_mutex_lock(&mu);
    unsigned long r = refused;
    pthread_mutex_unlock(&mu);
    return r;
}

size_t srv_budget_mul(size_t n, size_t per) {
    return per && n > SIZE_MAX / per ? SIZE_MAX : n * per;
}

/* Room for `bytes` more on top of a's holding: within the budget, or a holds all there is, or
 * a stays small (so small requests never queue behind a big one). */
static int fits(const srv_account *a, size_t bytes) {
    if (total == 0 || used == a->held) return 1;
    if (a->held <= SRV_BUDGET_SMALL && bytes <= SRV_BUDGET_SMALL - a->held) return 1;
    return used <= total && bytes <= total - used;
}

int srv_budget_reserve(srv_account *a, size_t bytes, int wait_ms) {
    if (!a || bytes == 0) return 0;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&mu);
    int rc = 0;
    while (!fits(a, bytes)) {
        if (wait_ms <= 0 || pthread_cond_timedwait(&freed, &mu, &deadline) == ETIMEDOUT) {
            if (!fits(a, bytes)) rc = -1;
            break;
        }
    }
    if (rc == 0) {
        size_t add = bytes > SIZE_MAX - used ? SIZE_MAX - used : bytes;
        used += add;
        a->held += add;
    } else {
        refused++;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

void srv_budget_release(srv_account *a) {
    if (!a || a->held == 0) return;
    pthread_mutex_lock(&mu);
    used -= a->held;
    a->held = 0;
    pthread_cond_broadcast(&freed);
    pthread_mutex_unlock(&mu);
}

void srv_budget_set_current(srv_account *a) { current = a; }

int srv_budget_need(size_t bytes, const char *field, srv_err *e) {
    if (!current) return 0;
    if (srv_budget_reserve(current, bytes, SRV_BUDGET_WAIT_MS) == 0) return 0;
    return srv_fail(e, 503, field,
                    "the server's memory is taken by other requests (this one needs %.0f MB "
                    "more); retry later", (double)bytes / 1e6);
}
