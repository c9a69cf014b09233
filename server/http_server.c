/* http_server.c — the HTTP layer (see http_server.h).
 *
 * libmicrohttpd calls on_request several times per request, like its largepost.c example:
 *   1. first call (no *req_cls yet): the request head is in; create the request's state, refuse
 *      what cannot be served (head too large, unsupported framing, unknown path or method, a
 *      declared body over the limit or the memory budget) before any body is read;
 *   2. upload calls (*upload_data_size > 0): append the next piece of the body, reserving
 *      memory for it as it comes;
 *   3. final call (*upload_data_size == 0): the whole request is in; dispatch and answer.
 * The completion callback logs the request and frees its state. */
#include "http_server.h"

#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_get.h"
#include "http_guard.h"
#include "http_metrics.h"
#include "http_reply.h"
#include "http_req.h"
#include "http_route.h"
#include "http_socket.h"
#include "http_train.h"
#include "http_train_serve.h"
#include "srv_budget.h"

struct http_server {
    struct MHD_Daemon *d;
    http_config cfg;
    http_guard *guard;
    unsigned port;
    atomic_int stopping;
    atomic_long inflight;    /* requests between first callback and completion */
};

static double elapsed_s(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

static void copy_printable(char *dst, size_t cap, const char *src) {
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[i] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
    }
    dst[i] = '\0';
}

static const char *header(struct MHD_Connection *c, const char *name) {
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* ------------------------------------------------------------------------ 1. the first call */

static http_req *req_new(struct MHD_Connection *c, const char *url, const char *method) {
    http_req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    copy_printable(r->method, sizeof r->method, method);
    copy_printable(r->path, sizeof r->path, url);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    r->fd = ci ? ci->connect_fd : -1;
    r->conn = http_guard_conn(c);
    atomic_init(&r->cancel, 0);
    http_metrics_inflight(+1);
    return r;
}

typedef struct framing {
    int content_lengths, transfer_encodings, other_coding;
} framing;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value) {
    (void)kind;
    framing *f = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) f->content_lengths++;
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encodings++;
        /* libmicrohttpd decodes exactly "chunked"; any other coding it would read to the end
         * of the connection, i.e. wait for the timeout. */
        if (!value || strcasecmp(value, "chunked") != 0) f->other_coding = 1;
    }
    return MHD_YES;
}

/* The head's size and the body's framing: what libmicrohttpd accepts but cannot serve, and
 * what it would take ambiguously, answered with the JSON error before any body is read. */
static enum MHD_Result check_head(struct MHD_Connection *c, http_req *r) {
    const union MHD_ConnectionInfo *hs =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (hs && hs->header_size > HTTP_MAX_HEADER_BYTES)
        return http_reply_error(c, r, 431, "too_large", "headers", NULL,
                                "request line and headers of %zu bytes exceed the limit of %zu",
                                hs->header_size, HTTP_MAX_HEADER_BYTES);
    framing f = {0, 0, 0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
    if (f.other_coding)
        return http_reply_error(c, r, 501, "not_implemented", "Transfer-Encoding", NULL,
                                "Transfer-Encoding %s is not supported (only chunked)",
                                header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING));
    if (f.transfer_encodings > 1 || f.content_lengths > 1 ||
        (f.transfer_encodings && f.content_lengths))
        return http_reply_error(c, r, 400, "invalid_argument",
                                f.content_lengths > 1 ? "Content-Length" : "Transfer-Encoding",
                                NULL, "ambiguous body length: %d Content-Length and %d "
                                "Transfer-Encoding headers", f.content_lengths,
                                f.transfer_encodings);
    return MHD_YES;
}

/* A POST body is coming: refuse a declared-too-large one, or one the memory budget has no room
 * for, before reading any of it. */
static enum MHD_Result admit_body(http_server *s, struct MHD_Connection *c, http_req *r,
                                  const char *version) {
    const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) { /* well-formed: libmicrohttpd answered 400 / 413 itself otherwise */
        uintmax_t n = strtoumax(cl, NULL, 10);
        if (n > s->cfg.lim.max_body_bytes)
            return http_reply_error(c, r, 413, "too_large", "body", NULL,
                                    "request body of %ju bytes exceeds the limit of %zu", n,
                                    s->cfg.lim.max_body_bytes);
        r->declared = (size_t)n;
    }
    /* A client that waits for "100 Continue" before sending a big body (curl does, above
     * 1 MiB) is refused now if there is no room for it, before it uploads. libmicrohttpd
     * honours Expect on HTTP/1.1 only; an HTTP/1.0 client sends its body at once, so it gets
     * the usual path (read and dropped, then the 503). */
    const char *expect = header(c, MHD_HTTP_HEADER_EXPECT);
    if (expect && strcasecmp(expect, "100-continue") == 0 && r->declared > 0 && version &&
        strcmp(version, MHD_HTTP_VERSION_1_1) == 0) {
        size_t need = srv_budget_add(SRV_BUDGET_BASE,
                                     srv_budget_mul(r->declared, SRV_BUDGET_PER_BODY_BYTE));
        if (srv_budget_wait_room(need, SRV_BUDGET_EXPECT_WAIT_MS) != 0)
            return http_reply_error(c, r, 503, "busy", NULL, NULL,
                                    "the server's memory is taken by other requests (this one "
                                    "needs %zu MB); retry later", need / 1000000 + 1);
    }
    /* Small, so never kept waiting; the body is reserved for as it arrives (a client that
     * declares 16 MiB and sends nothing holds nothing). */
    (void)srv_budget_reserve(&r->mem, SRV_BUDGET_BASE, 0);
    return MHD_YES;
}

static enum MHD_Result first_call(http_server *s, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, void **req_cls) {
    http_req *r = req_new(c, url, method);
    if (!r) return MHD_NO;
    *req_cls = r;
    atomic_fetch_add(&s->inflight, 1);
    const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    r->body_coming = (cl && strtoumax(cl, NULL, 10) > 0) ||
                     header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
    if (atomic_load(&s->stopping))
        return http_reply_error(c, r, 503, "busy", NULL, NULL, "server is shutting down");
    enum MHD_Result ok = check_head(c, r);
    if (ok != MHD_YES || r->responded) return ok;
    ok = http_route(&s->cfg, c, r, url, method);
    if (ok != MHD_YES || r->responded) return ok;
    /* GETs are answered in the final call, once MHD has the whole request: answering "early"
     * would make MHD close the connection (no keep-alive). */
    if (r->route == HTTP_ROUTE_JSON || r->route == HTTP_ROUTE_TRAIN)
        return admit_body(s, c, r, version);
    return MHD_YES;
}

/* ------------------------------------------------------------------------ 2. the upload calls */

/* An answer in mid-upload: libmicrohttpd 0.9.75 accepts a response only before the body or
 * after all of it, so it goes straight to the socket and MHD closes the connection (nothing
 * more is stored). */
static enum MHD_Result fail_upload(http_req *r, srv_response *err) {
    free(r->body);
    r->body = NULL;
    r->len = r->cap = 0;
    int sent = http_socket_reply(r->fd, 0, err->status, err->content_type, err->retry_after,
                                 err->body, err->len) == 0;
    http_reply_written(r, err->status, sent ? err->len : 0);
    srv_response_free(err);
    return MHD_NO;
}

/* Reserve memory for the body (and the cJSON tree it becomes) as it arrives, 64 KiB ahead.
 * When there is none, read and drop the rest, then answer 503: a client still sending would
 * otherwise meet a closed connection instead. */
static void reserve_body(http_req *r, size_t n) {
    size_t more = r->len + n - r->mem_body;
    if (more < ((size_t)64 << 10)) more = (size_t)64 << 10;
    if (srv_budget_reserve(&r->mem, srv_budget_mul(more, SRV_BUDGET_PER_BODY_BYTE),
                           SRV_BUDGET_WAIT_MS) == 0) {
        r->mem_body += more;
        return;
    }
    size_t whole = r->declared > r->len + n ? r->declared : r->len + n;
    r->refused_mb = srv_budget_mul(whole, SRV_BUDGET_PER_BODY_BYTE) / 1000000 + 1;
    free(r->body);
    r->body = NULL;
    r->cap = 0;
    srv_budget_release(&r->mem);
}

static enum MHD_Result upload(http_server *s, http_req *r, const char *data, size_t *size) {
    size_t n = *size;
    *size = 0;
    if (r->responded) return MHD_YES; /* answered early: MHD discards the rest */
    srv_response err;
    memset(&err, 0, sizeof err);
    if (n > s->cfg.lim.max_body_bytes - r->len) {
        /* Passing the cap mid-upload (chunked, or a lying Content-Length): answer now. */
        srv_error(&err, 413, "too_large", "body", "request body exceeds the limit of %zu bytes",
                  s->cfg.lim.max_body_bytes);
        return fail_upload(r, &err);
    }
    if (!r->refused_mb && r->len + n > r->mem_body) reserve_body(r, n);
    if (r->refused_mb) { /* dropped; the 503 goes out after the body */
        r->len += n;
        return MHD_YES;
    }
    if (r->len + n > r->cap) {
        size_t ncap = r->cap ? r->cap : 8192;
        while (ncap < r->len + n) ncap *= 2;
        if (ncap > s->cfg.lim.max_body_bytes) ncap = s->cfg.lim.max_body_bytes;
        char *nb = realloc(r->body, ncap);
        if (!nb) {
            srv_error(&err, 503, "busy", NULL, "out of memory");
            return fail_upload(r, &err);
        }
        r->body = nb;
        r->cap = ncap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    return MHD_YES;
}

/* ------------------------------------------------------------------------ 3. the final call */

/* POST /conv /pool /mlp /cnn, computed on this connection's thread. The guard watches the
 * client meanwhile (http_guard.h): r->cancel is set when it is gone or the server stops, and
 * the computation stops within milliseconds (srv_handle_json binds it, core/nn_cancel.h). */
static enum MHD_Result serve_json(http_server *s, struct MHD_Connection *c, http_req *r) {
    srv_response sr;
    memset(&sr, 0, sizeof sr);
    srv_budget_set_current(&r->mem); /* the handler's tensors are counted too */
    http_conn_watch(r->conn, &r->cancel);
    /* A stop that began before the watch did not see this request: cancel it here (the stop
     * sets `stopping` before it cancels what is watched, so one of the two catches it). */
    if (atomic_load(&s->stopping)) atomic_store(&r->cancel, 1);
    srv_handle_json(&s->cfg.lim, r->endpoint, header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
                    r->body ? r->body : "", r->len, &r->cancel, &sr);
    int probe = http_conn_unwatch(r->conn);
    if (sr.status == 503 && atomic_load(&s->stopping)) { /* cancelled by the stop */
        srv_response_free(&sr);
        srv_error(&sr, 503, "busy", NULL, "server is shutting down");
    }
    srv_budget_set_current(NULL);
    free(r->body); /* parsed and answered: only the response stays until it is sent */
    r->body = NULL;
    srv_budget_shrink(&r->mem, srv_budget_add(SRV_BUDGET_BASE, sr.len));
    if (probe == 0) return http_reply_srv(c, r, &sr, NULL);
    if (probe < 0) {
        r->note = "client-gone";
    } else { /* half-closed: the probe began the status line, the rest follows */
        int sent = http_socket_reply(r->fd, (size_t)probe, sr.status, sr.content_type,
                                     sr.retry_after, sr.body, sr.len) == 0;
        http_reply_written(r, sr.status, sent ? sr.len : 0);
        r->note = "half-closed";
    }
    srv_response_free(&sr);
    return MHD_NO; /* libmicrohttpd closes the connection */
}

static enum MHD_Result final_call(http_server *s, struct MHD_Connection *c, http_req *r,
                                  const char *url) {
    r->body_coming = 0;
    if (r->responded) return MHD_YES;
    http_conn_busy(r->conn);
    if (r->refused_mb)
        return http_reply_error(c, r, 503, "busy", NULL, NULL,
                                "the server's memory is taken by other requests (this one needs "
                                "%zu MB); retry later", r->refused_mb);
    switch (r->route) {
    case HTTP_ROUTE_HEALTHZ:
        return http_get_healthz(&s->cfg, http_guard_reserve(s->guard), http_guard_open(s->guard),
                                c, r);
    case HTTP_ROUTE_METRICS: return http_get_metrics(c, r);
    case HTTP_ROUTE_STATIC: return http_get_static(&s->cfg, c, r, url);
    case HTTP_ROUTE_JSON: return serve_json(s, c, r);
    case HTTP_ROUTE_TRAIN:
        return http_train_serve(&s->cfg.lim, s->cfg.timeout_s, c, r,
                                header(c, MHD_HTTP_HEADER_CONTENT_TYPE));
    case HTTP_ROUTE_NONE: break;
    }
    return http_reply_error(c, r, 500, "internal", NULL, NULL, "unrouted request");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
    http_server *s = cls;
    if (!*req_cls) return first_call(s, c, url, method, version, req_cls);
    if (*upload_data_size > 0) return upload(s, *req_cls, upload_data, upload_data_size);
    return final_call(s, c, *req_cls, url);
}

/* ------------------------------------------------------------------------ completion */

/* The guard closed the connection because its request (head in, body arriving) took longer
 * than --request-timeout: say so before libmicrohttpd closes it. */
static void answer_timeout(const http_server *s, http_req *r) {
    srv_response sr;
    memset(&sr, 0, sizeof sr);
    srv_error(&sr, 408, "timeout", NULL,
              "the request did not arrive within %u s (--request-timeout)",
              s->cfg.request_timeout_s);
    int sent = http_socket_reply(r->fd, 0, 408, sr.content_type, 0, sr.body, sr.len) == 0;
    http_reply_written(r, 408, sent ? sr.len : 0);
    srv_response_free(&sr);
    r->note = "deadline";
}

static void log_request(const http_req *r, enum MHD_RequestTerminationCode toe, double sec) {
    /* status 0: we never answered (libmicrohttpd rejected the request itself, or the client
     * left). */
    const char *note = r->note                                         ? r->note
                       : toe == MHD_REQUEST_TERMINATED_COMPLETED_OK     ? NULL
                       : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED  ? "timeout"
                       : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN  ? "shutdown"
                                                                        : "aborted";
    char st[8] = "-";
    if (r->status) snprintf(st, sizeof st, "%d", r->status);
    fprintf(stderr, "%s %s %s %zu %.1fms%s%s\n", r->method, r->path, st, r->bytes, sec * 1e3,
            note ? " " : "", note ? note : "");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)c;
    http_server *s = cls;
    http_req *r = *req_cls;
    if (!r) return;
    *req_cls = NULL;
    if (!r->responded && http_conn_timed_out(r->conn)) answer_timeout(s, r);
    http_train_free(r->train); /* cancels a run still going, waits for its thread */
    double sec = elapsed_s(&r->t0);
    log_request(r, toe, sec);
    http_metrics_request(r->path, r->status, sec);
    http_metrics_inflight(-1);
    atomic_fetch_sub(&s->inflight, 1);
    http_conn_waiting(r->conn); /* the next request's deadline starts now */
    srv_budget_release(&r->mem);
    /* Answered before its body was read (first call): the client may still be sending it, and
     * libmicrohttpd closes the connection next. Read and drop the rest first, so that the
     * client reads the answer instead of a reset (the request is over for everything else). */
    int linger = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && r->responded && r->body_coming &&
                 !atomic_load(&s->stopping);
    int fd = r->fd;
    free(r->body);
    free(r);
    if (linger) http_socket_linger(fd);
}

/* MHD's own diagnostics, minus the note it prints each time we close a connection on purpose
 * (mid-upload 413, client gone, an answer written past it). */
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (strstr(msg, "Application reported internal error")) return;
    fprintf(stderr, "nnlabd: libmicrohttpd: %s%s", msg,
            msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

/* ------------------------------------------------------------------------ start / stop */

static struct MHD_Daemon *start_mhd(http_server *s, const struct addrinfo *ai) {
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    /* No MHD_OPTION_PER_IP_CONNECTION_LIMIT: it refuses a newcomer where the guard closes the
     * address's oldest waiting connection instead (http_guard.h). */
    return MHD_start_daemon(flags, (uint16_t)s->cfg.port, http_guard_accept, s->guard, on_request,
                            s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.timeout_s,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY,
                            MHD_OPTION_NOTIFY_CONNECTION, http_guard_notify, s->guard,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
}

http_server *http_server_start(const http_config *cfg, char *err, size_t errlen) {
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char port[16];
    snprintf(port, sizeof port, "%u", cfg->port);
    int gai = getaddrinfo(cfg->host, port, &hints, &ai);
    if (gai != 0 || !ai) {
        snprintf(err, errlen, "cannot resolve --host %s: %s", cfg->host, gai_strerror(gai));
        return NULL;
    }
    http_server *s = calloc(1, sizeof *s);
    http_guard_limits gl = {cfg->max_connections, cfg->reserve_conns, cfg->max_conns_per_ip,
                            cfg->request_timeout_s};
    if (s) s->guard = http_guard_start(&gl);
    if (!s || !s->guard) {
        freeaddrinfo(ai);
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    atomic_init(&s->stopping, 0);
    atomic_init(&s->inflight, 0);
    s->d = start_mhd(s, ai);
    freeaddrinfo(ai);
    if (!s->d) {
        snprintf(err, errlen, "cannot listen on %s:%u (in use? bad address?)", cfg->host,
                 cfg->port);
        http_guard_stop(s->guard);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    return s;
}

unsigned http_server_port(const http_server *s) { return s->port; }

unsigned http_server_reserve(const http_server *s) { return http_guard_reserve(s->guard); }

void http_server_stop(http_server *s, int grace_ms) {
    if (!s) return;
    MHD_socket lfd = MHD_quiesce_daemon(s->d); /* no new connections from here on */
    atomic_store(&s->stopping, 1);
    http_train_abort_all(HTTP_TRAIN_SHUTDOWN_LINE);
    http_guard_cancel_all(s->guard);
    /* Let the streams deliver their last line and the requests in flight finish. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (elapsed_s(&t0) * 1e3 < grace_ms) {
        /* Idle keep-alive connections do not hold us up, requests being answered do. */
        if (atomic_load(&s->inflight) == 0) break;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET) close(lfd);
    http_guard_stop(s->guard);
    free(s);
}
