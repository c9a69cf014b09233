/* http_train.c — training thread + byte queue (see http_train.h). */
#include "http_train.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_metrics.h"

/* The producer waits while this much is unread (a slow client throttles its own run). */
#define HIGH_WATER ((size_t)4 << 20)

struct http_train {
    http_train *prev, *next; /* in the list of runs (http_train_abort_all) */
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* signalled on data, drain, end, cancel */
    char *buf;
    size_t off, len, cap;    /* unread bytes are buf[off, len) */
    int ran;                 /* srv_train_run returned: nothing more will be queued */
    int finished;            /* the thread is done with the job */
    int aborted;             /* server stopping: no more emits are queued */
    int oom;                 /* queue could not grow: the run was cancelled */
    int status;
    atomic_int cancel;
    srv_train_job *job;
    pthread_t thread;
};

static atomic_long g_slots;

/* The runs that exist, so that a stopping server can end them all. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static http_train *g_runs;
static int g_stopping;
static const char *g_stop_line;

int http_train_acquire(size_t max) {
    long cur = atomic_load(&g_slots);
    do {
        if (cur < 0 || (size_t)cur >= max) return 0;
    } while (!atomic_compare_exchange_weak(&g_slots, &cur, cur + 1));
    http_metrics_trainings(+1);
    return 1;
}

void http_train_release(void) {
    atomic_fetch_sub(&g_slots, 1);
    http_metrics_trainings(-1);
}

long http_train_active(void) { return atomic_load(&g_slots); }

static void deadline_in(struct timespec *ts, int ms) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Append under the lock; compacts the consumed prefix first. 0 on success. */
static int append_locked(http_train *t, const char *data, size_t len) {
    if (t->off > 0 && t->off == t->len) t->off = t->len = 0;
    if (t->len + len > t->cap) {
        if (t->off > 0) {
            memmove(t->buf, t->buf + t->off, t->len - t->off);
            t->len -= t->off;
            t->off = 0;
        }
        if (t->len + len > t->cap) {
            size_t ncap = t->cap ? t->cap : 4096;
            while (ncap < t->len + len) ncap *= 2;
            char *nb = realloc(t->buf, ncap);
            if (!nb) return -1;
            t->buf = nb;
            t->cap = ncap;
        }
    }
    memcpy(t->buf + t->len, data, len);
    t->len += len;
    return 0;
}

static int emit(void *ctx, const char *data, size_t len) {
    http_train *t = ctx;
    pthread_mutex_lock(&t->mu);
    while (!atomic_load(&t->cancel) && t->len - t->off > HIGH_WATER) {
        struct timespec ts;
        deadline_in(&ts, 200);
        pthread_cond_timedwait(&t->cv, &t->mu, &ts);
    }
    int stop = atomic_load(&t->cancel) || t->aborted;
    if (!stop && append_locked(t, data, len) != 0) {
        t->oom = 1;
        atomic_store(&t->cancel, 1);
        stop = 1;
    }
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    return stop;
}

static void *train_main(void *arg) {
    http_train *t = arg;
    int status = srv_train_run(t->job, emit, t, &t->cancel);
    pthread_mutex_lock(&t->mu);
    t->status = status;
    t->ran = 1; /* readers may end the stream now, before the job is freed */
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    /* Free the run's memory now, not when the connection goes away. */
    srv_train_free(t->job);
    t->job = NULL;
    http_train_release();
    pthread_mutex_lock(&t->mu);
    t->finished = 1;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

http_train *http_train_start(srv_train_job *job) {
    http_train *t = calloc(1, sizeof *t);
    if (!t) goto fail;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&t->cancel, 0);
    t->job = job;
    if (pthread_create(&t->thread, NULL, train_main, t) != 0) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        free(t);
        goto fail;
    }
    pthread_mutex_lock(&g_mu);
    t->next = g_runs;
    if (g_runs) g_runs->prev = t;
    g_runs = t;
    /* A stop that began before we registered would miss us: abort here instead. */
    if (g_stopping) http_train_abort(t, g_stop_line);
    pthread_mutex_unlock(&g_mu);
    return t;
fail:
    srv_train_free(job);
    http_train_release();
    return NULL;
}

long http_train_read(http_train *t, char *buf, size_t max, int wait_ms) {
    pthread_mutex_lock(&t->mu);
    if (t->len == t->off && !t->ran) {
        struct timespec ts;
        deadline_in(&ts, wait_ms);
        while (t->len == t->off && !t->ran)
            if (pthread_cond_timedwait(&t->cv, &t->mu, &ts) == ETIMEDOUT) break;
    }
    long n;
    if (t->len > t->off) {
        size_t k = t->len - t->off < max ? t->len - t->off : max;
        memcpy(buf, t->buf + t->off, k);
        t->off += k;
        n = (long)k;
        pthread_cond_broadcast(&t->cv); /* a producer may wait for the drain */
    } else {
        n = t->ran ? -1 : 0;
    }
    pthread_mutex_unlock(&t->mu);
    return n;
}

int http_train_wait(http_train *t, int wait_ms) {
    pthread_mutex_lock(&t->mu);
    if (!t->finished) {
        struct timespec ts;
        deadline_in(&ts, wait_ms);
        while (!t->finished)
            if (pthread_cond_timedwait(&t->cv, &t->mu, &ts) == ETIMEDOUT) break;
    }
    int done = t->finished;
    pthread_mutex_unlock(&t->mu);
    return done;
}

char *http_train_take(http_train *t, size_t *len, int *status) {
    pthread_mutex_lock(&t->mu);
    *status = t->aborted || t->oom ? 503 : t->status;
    char *out = NULL;
    *len = 0;
    if (t->len > t->off) {
        out = malloc(t->len - t->off + 1);
        if (out) {
            *len = t->len - t->off;
            memcpy(out, t->buf + t->off, *len);
            out[*len] = '\0';
        }
        t->off = t->len;
    }
    pthread_mutex_unlock(&t->mu);
    return out;
}

int http_train_aborted(http_train *t) {
    pthread_mutex_lock(&t->mu);
    int a = t->aborted;
    pthread_mutex_unlock(&t->mu);
    return a;
}

void http_train_cancel(http_train *t) {
    pthread_mutex_lock(&t->mu);
    atomic_store(&t->cancel, 1);
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

void http_train_abort(http_train *t, const char *line) {
    pthread_mutex_lock(&t->mu);
    if (!t->aborted && !t->ran) { /* a run that returned has its last line queued already */
        atomic_store(&t->cancel, 1);
        t->aborted = 1;
        (void)append_locked(t, line, strlen(line));
    }
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

void http_train_abort_all(const char *line) {
    pthread_mutex_lock(&g_mu);
    g_stopping = 1;
    g_stop_line = line;
    for (http_train *t = g_runs; t; t = t->next) http_train_abort(t, line);
    pthread_mutex_unlock(&g_mu);
}

void http_train_free(http_train *t) {
    if (!t) return;
    pthread_mutex_lock(&g_mu);
    if (t->prev) t->prev->next = t->next;
    else if (g_runs == t) g_runs = t->next;
    if (t->next) t->next->prev = t->prev;
    pthread_mutex_unlock(&g_mu);
    http_train_cancel(t);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t->buf);
    free(t);
}
