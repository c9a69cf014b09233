/* http_watch.h — cancel flags for requests that compute in their connection's thread.
 *
 * A /conv, /pool, /mlp or /cnn request computes inside srv_handle_json in its connection's
 * thread, which then cannot notice its client hanging up or the server stopping. While it
 * computes it is registered here with the flag it passed to srv_handle_json: one watcher
 * thread per server looks at every registered client every HTTP_WATCH_MS and sets the flag to
 * HTTP_WATCH_GONE when the client has gone (the `gone` test the server gives), and
 * http_watch_stop sets every flag, and that of any request registered later, to
 * HTTP_WATCH_STOPPING. The computation then stops within milliseconds (core/nn_cancel.h).
 * The watcher sleeps while nothing is registered. Thread-safe. */
#ifndef HTTP_WATCH_H
#define HTTP_WATCH_H

#include <stdatomic.h>

#define HTTP_WATCH_MS 20
#define HTTP_WATCH_GONE 1     /* the client hung up */
#define HTTP_WATCH_STOPPING 2 /* the server is stopping */

typedef struct http_watch http_watch;

/* One registered request; lives on the registering thread's stack. */
typedef struct http_watch_item {
    int fd;
    atomic_int *flag;
    struct http_watch_item *prev, *next;
} http_watch_item;

/* A watcher whose clients are tested with gone(fd) (1: hung up). NULL when the thread cannot
 * start (requests are then not watched). */
http_watch *http_watch_new(int (*gone)(int fd));

/* Watch the client on fd for the request whose cancel flag is *flag (set to 0 here unless the
 * server is already stopping). */
void http_watch_add(http_watch *w, http_watch_item *it, int fd, atomic_int *flag);
void http_watch_remove(http_watch *w, http_watch_item *it);

/* The server is stopping: set every flag, now and from now on. */
void http_watch_stop(http_watch *w);

/* Stop the watcher thread and free it (nothing may be registered). w may be NULL. */
void http_watch_free(http_watch *w);

#endif
