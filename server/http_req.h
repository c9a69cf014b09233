/* http_req.h — one HTTP request as the HTTP layer tracks it (private to server/http_*.c).
 *
 * Created by the first call of libmicrohttpd's request callback (MHD's *req_cls), freed by the
 * completion callback; everything in it belongs to that request. */
#ifndef HTTP_REQ_H
#define HTTP_REQ_H

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "http_guard.h"
#include "http_train.h"
#include "srv_budget.h"

typedef enum http_route_kind {
    HTTP_ROUTE_NONE,
    HTTP_ROUTE_STATIC,  /* GET a page file / the OpenAPI document */
    HTTP_ROUTE_HEALTHZ,
    HTTP_ROUTE_METRICS,
    HTTP_ROUTE_JSON,    /* POST /conv /pool /mlp /cnn /check/{conv,pool,mlp} /run/{rnn,lstm,gru} */
    HTTP_ROUTE_TRAIN,   /* POST /train/{rnn,lstm,gru,sweep} */
} http_route_kind;

typedef struct http_req {
    struct timespec t0;
    char method[16];
    char path[256];          /* printable copy for the log */
    http_route_kind route;
    const char *endpoint;    /* srv endpoint / model name */
    char *body;              /* [cap], len bytes used */
    size_t len, cap;
    int responded;           /* an answer is queued (or was written to the socket) */
    int status;              /* its status, 0 if none */
    size_t bytes;            /* answer body bytes handed out */
    const char *note;        /* for the log line: why it ended unusually ("client-gone", ...) */
    int fd;                  /* the client socket (http_socket.h) */
    http_conn *conn;         /* the guard's record of the connection (may be NULL) */
    /* Set when the client is gone or the server stops: the work in progress may stop. */
    atomic_int cancel;
    srv_account mem;         /* memory reserved for this request (srv_budget.h) */
    size_t mem_body;         /* body bytes that reservation covers */
    size_t declared;         /* Content-Length, 0 if none */
    int body_coming;         /* the head announced a body that has not all arrived yet */
    size_t refused_mb;       /* refused for memory (MB it needed): body read, dropped, then 503 */
    http_train *train;
} http_req;

#endif
