/* http_train_serve.c — training requests over HTTP (see http_train_serve.h). */
#include "http_train_serve.h"

#include <stdlib.h>
#include <string.h>

#include "http_reply.h"
#include "http_socket.h"

/* How often a waiting reader looks at its client (ms). */
#define POLL_MS 100

/* Same shape as the error lines of srv_train_run. */
const char HTTP_TRAIN_SHUTDOWN_LINE[] =
    "{\"type\":\"error\",\"status\":503,\"code\":\"busy\","
    "\"message\":\"server is shutting down\"}\n";

static void client_gone(http_req *r) {
    r->note = "client-gone";
    atomic_store(&r->cancel, 1);
    http_train_cancel(r->train);
}

/* Content reader of a streamed training: blocks (in this connection's own thread) until the
 * training thread queued a line, the run ended, or the client hung up. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    http_req *r = cls;
    for (;;) {
        long n = http_train_read(r->train, buf, max, POLL_MS);
        if (n > 0) {
            r->bytes += (size_t)n;
            return (ssize_t)n;
        }
        if (n < 0) return MHD_CONTENT_READER_END_OF_STREAM;
        http_peer p = http_socket_peer(r->fd);
        if (p == HTTP_PEER_GONE) {
            client_gone(r);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (p == HTTP_PEER_EOF && max > 0) {
            /* The probe: leading whitespace of the next line (a line always follows, since
             * http_train_read ends the stream as soon as the run returns). */
            buf[0] = ' ';
            r->bytes++;
            r->note = "half-closed";
            return 1;
        }
    }
}

/* Wait for a non-streamed run while watching the client. After a FIN the answer is started on
 * the socket (*committed) and kept alive with spaces. Returns 0 when the client is gone. */
static int await_run(http_req *r, int *committed) {
    while (!http_train_wait(r->train, POLL_MS)) {
        http_peer p = http_socket_peer(r->fd);
        if (p == HTTP_PEER_EOF || *committed) {
            char head[384];
            size_t hl = *committed ? 0
                                   : http_socket_head(head, sizeof head, 200, "application/json",
                                                      -1, 0);
            int rc = *committed ? http_socket_send(r->fd, " ", 1, 1000)
                                : hl ? http_socket_send(r->fd, head, hl, 1000) : -1;
            if (rc != 0) p = HTTP_PEER_GONE;
            *committed = 1;
            r->note = "half-closed";
        }
        if (p == HTTP_PEER_GONE) {
            client_gone(r);
            return 0;
        }
    }
    return 1;
}

/* The outcome of a finished non-streamed run, through libmicrohttpd or, when the answer was
 * started on the socket, as the rest of its body. */
static enum MHD_Result answer_run(struct MHD_Connection *c, http_req *r, int committed) {
    size_t len = 0;
    int status = 500;
    char *body = http_train_take(r->train, &len, &status);
    srv_response err;
    memset(&err, 0, sizeof err);
    if (http_train_aborted(r->train) || status == 503 || !body) {
        free(body);
        srv_error(&err, 503, "busy", NULL, "%s",
                  http_train_aborted(r->train) ? "server is shutting down"
                                               : "training failed (out of memory)");
        if (!committed) return http_reply_srv(c, r, &err, NULL);
        body = err.body;
        len = err.len;
        err.body = NULL;
    }
    if (!committed) return http_reply_body(c, r, status, "application/json", body, len, 0, NULL);
    int sent = http_socket_send(r->fd, body ? body : "", len, 1000) == 0;
    if (sent) http_socket_linger(r->fd);
    http_reply_written(r, 200, sent ? len : 0);
    free(body);
    return MHD_NO; /* answered (or the client left): libmicrohttpd closes the connection */
}

enum MHD_Result http_train_serve(const srv_limits *lim, unsigned timeout_s,
                                 struct MHD_Connection *c, http_req *r, const char *ctype) {
    if (!http_train_acquire(lim->max_trainings))
        return http_reply_error(c, r, 503, "busy", NULL, NULL,
                                "%zu trainings are running (the limit); retry later",
                                lim->max_trainings);
    srv_response err;
    memset(&err, 0, sizeof err);
    srv_train_job *job =
        srv_train_prepare(lim, r->endpoint, ctype, r->body ? r->body : "", r->len, &err);
    free(r->body); /* the job holds its own copies */
    r->body = NULL;
    r->len = r->cap = 0;
    srv_budget_release(&r->mem); /* trainings are bounded by --max-trainings instead */
    if (!job) {
        http_train_release();
        return http_reply_srv(c, r, &err, NULL);
    }
    srv_response_free(&err);
    int streaming = srv_train_streaming(job);
    r->train = http_train_start(job);
    if (!r->train)
        return http_reply_error(c, r, 503, "busy", NULL, NULL, "cannot start a training");
    if (streaming) return http_reply_stream(c, r, "application/x-ndjson", stream_reader, r);
    /* The run may outlast the inactivity timeout: it is off while we wait, and setting it again
     * afterwards restarts MHD's timer. */
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    int committed = 0;
    if (!await_run(r, &committed)) return MHD_NO; /* close; the completion callback frees the run */
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, timeout_s);
    return answer_run(c, r, committed);
}
