/* http_train.h — a training run on its own thread, feeding a byte queue the HTTP layer drains.
 *
 * The training thread calls srv_train_run() with an emit function that appends each NDJSON line
 * to the queue (blocking while more than a few MiB wait unread, so a slow client cannot make the
 * daemon buffer a whole run); the connection's thread reads the queue and writes it to the
 * socket. Either side may stop the other: the reader cancels (client gone), the server aborts
 * (shutting down: the queue gets a final error line and the run stops). The run's memory (the
 * job) is released by the training thread as soon as the run ends. */
#ifndef HTTP_TRAIN_H
#define HTTP_TRAIN_H

#include <stddef.h>

#include "srv_api.h"

typedef struct http_train http_train;

/* Concurrent-training slots. Returns 1 and takes a slot when fewer than max are taken, else 0.
 * A slot passed to http_train_start is released by the training thread when the run ends;
 * otherwise give it back with http_train_release(). */
int http_train_acquire(size_t max);
void http_train_release(void);
long http_train_active(void);

/* Start `job` on a new thread (takes ownership of job and of one acquired slot). Returns NULL
 * (job freed, slot released) when the thread cannot be started. */
http_train *http_train_start(srv_train_job *job);

/* Copy up to max queued bytes into buf, waiting at most wait_ms for some to arrive.
 * Returns the byte count (> 0), 0 when nothing came in time, -1 when the run ended and
 * everything was read (as soon as the run returns: nothing can be queued after that). */
long http_train_read(http_train *t, char *buf, size_t max, int wait_ms);

/* Wait at most wait_ms for the run to end; 1 if it has. */
int http_train_wait(http_train *t, int wait_ms);

/* After the run ended: take the queued bytes (malloc'd, caller frees; NULL if none) and the
 * status srv_train_run returned (or 503 when the run was aborted). */
char *http_train_take(http_train *t, size_t *len, int *status);

/* 1 once http_train_abort was called. */
int http_train_aborted(http_train *t);

/* Client gone: the run stops within a training step and emits nothing more. */
void http_train_cancel(http_train *t);

/* Server stopping: stop the run and end the queue with `line` (a complete NDJSON line). */
void http_train_abort(http_train *t, const char *line);

/* Server stopping: http_train_abort every run, and every run started from now on. `line` must
 * outlive the runs (a string literal). */
void http_train_abort_all(const char *line);

/* Cancel, wait for the thread, free everything. t may be NULL. */
void http_train_free(http_train *t);

#endif
