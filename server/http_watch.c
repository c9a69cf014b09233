/* http_watch.c — the watcher thread behind request cancel flags; see http_watch.h. */
#include "http_watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct http_watch {
    pthread_mutex_t mu;
    pthread_cond_t cv;        /* an item was added, or the watcher should exit */
    http_watch_item *items;
    int (*gone)(int fd);
    int stopping, exiting;
    pthread_t thread;
};

static void *watch_main(void *arg) {
    http_watch *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->exiting) {
        if (!w->items) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        /* A peek per registered socket, under the lock: the requests cannot unregister (and
         * free their item) meanwhile, and a peek takes microseconds. */
        for (http_watch_item *it = w->items; it; it = it->next)
            if (!atomic_load(it->flag) && w->gone(it->fd)) atomic_store(it->flag, HTTP_WATCH_GONE);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += HTTP_WATCH_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!w->exiting && pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

http_watch *http_watch_new(int (*gone)(int fd)) {
    http_watch *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    w->gone = gone;
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    return w;
}

void http_watch_add(http_watch *w, http_watch_item *it, int fd, atomic_int *flag) {
    it->fd = fd;
    it->flag = flag;
    it->prev = NULL;
    if (!w) {
        atomic_store(flag, 0);
        return;
    }
    pthread_mutex_lock(&w->mu);
    atomic_store(flag, w->stopping ? HTTP_WATCH_STOPPING : 0);
    it->next = w->items;
    if (w->items) w->items->prev = it;
    else pthread_cond_signal(&w->cv); /* only an idle watcher sleeps without a deadline */
    w->items = it;
    pthread_mutex_unlock(&w->mu);
}

void http_watch_remove(http_watch *w, http_watch_item *it) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    if (it->prev) it->prev->next = it->next;
    else if (w->items == it) w->items = it->next;
    if (it->next) it->next->prev = it->prev;
    it->prev = it->next = NULL;
    pthread_mutex_unlock(&w->mu);
}

void http_watch_stop(http_watch *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    for (http_watch_item *it = w->items; it; it = it->next) atomic_store(it->flag, HTTP_WATCH_STOPPING);
    pthread_mutex_unlock(&w->mu);
}

void http_watch_free(http_watch *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->exiting = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
