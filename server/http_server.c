/* http_server.c — the HTTP layer (see http_server.h). */
#include "http_server.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "http_assets.h"
#include "http_train.h"
#include "srv_budget.h"
#include "srv_dataset.h"
#include "srv_metrics.h"

/* How often a waiting reader checks whether its client is still there (ms). */
#define POLL_MS 100
/* Seconds a 503 "busy" asks the client to wait. */
#define RETRY_AFTER_S 5

typedef enum route_kind {
    ROUTE_NONE,
    ROUTE_STATIC,  /* GET a page file / the OpenAPI document */
    ROUTE_HEALTHZ,
    ROUTE_METRICS,
    ROUTE_JSON,    /* POST /conv /pool /mlp /cnn */
    ROUTE_TRAIN,   /* POST /train/{rnn,lstm,gru,cnn} */
} route_kind;

typedef struct http_req http_req;
struct http_req {
    struct timespec t0;
    char method[16];
    char path[256];          /* printable copy for the log */
    route_kind route;
    const char *endpoint;    /* srv endpoint / model name */
    char *body;
    size_t len, cap;
    int responded;           /* a response is queued */
    int status;
    size_t bytes;            /* response body bytes handed to MHD */
    int fd;                  /* the client socket, to notice a hang-up while waiting */
    int client_gone;
    srv_account mem;         /* memory reserved for this request (srv_budget.h) */
    size_t mem_body;         /* body bytes that reservation covers */
    size_t declared;         /* Content-Length, 0 if none */
    size_t refused_mb;       /* refused for memory (MB it needed): body read, dropped, then 503 */
    http_train *train;
    http_req *prev, *next;   /* in the server's list of running trainings */
};

struct http_server {
    struct MHD_Daemon *d;
    srv_config cfg;
    unsigned port;
    atomic_int stopping;
    atomic_long inflight;    /* requests between first callback and completion */
    pthread_mutex_t mu;      /* guards the training list */
    http_req *trainings;
};

/* Same shape as the error lines of srv_train_run. */
static const char SHUTDOWN_LINE[] =
    "{\"type\":\"error\",\"status\":503,\"code\":\"busy\","
    "\"message\":\"server is shutting down\"}\n";

/* ---------------------------------------------------------------------------- helpers */

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

/* 1 when the client closed its end (or the socket failed): recv peeks without consuming. */
static int peer_closed(int fd) {
    if (fd < 0) return 0;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return 0;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    return 1;
}

/* Send all of buf on a non-blocking socket, waiting at most ~1 s in total. 0 on success. */
static int send_all(int fd, const char *buf, size_t len) {
    for (int spins = 0; len > 0 && spins < 100;) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            struct pollfd p = {fd, POLLOUT, 0};
            (void)poll(&p, 1, 10);
            spins++;
        } else {
            return -1;
        }
    }
    return len == 0 ? 0 : -1;
}

/* An error in mid-upload: the body passed the cap (chunked, no Content-Length), or the memory
 * budget ran out. libmicrohttpd 0.9.75 accepts a response only before the body or after all of
 * it, so write the answer (413, or 503 with Retry-After) straight to the socket and let MHD
 * close the connection: nothing more is stored. The short drain after shutdown(SHUT_WR) is the
 * usual "lingering close" — closing with unread input would reset the connection and could
 * destroy the answer before the client reads it. */
static void raw_error(int fd, http_req *r, srv_response *err) {
    srv_response sr = *err;
    char head[320], retry[32] = "";
    if (sr.retry_after > 0) snprintf(retry, sizeof retry, "Retry-After: %d\r\n", sr.retry_after);
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
                      sr.status, sr.status == 413 ? "Content Too Large" : "Service Unavailable",
                      sr.content_type ? sr.content_type : "application/json", sr.len, retry);
    r->status = sr.status;
    if (fd >= 0 && hl > 0 && send_all(fd, head, (size_t)hl) == 0 &&
        send_all(fd, sr.body ? sr.body : "", sr.len) == 0) {
        r->bytes = sr.len;
        shutdown(fd, SHUT_WR);
        char sink[16384];
        for (int i = 0; i < 25; i++) { /* at most ~250 ms, 400 KiB */
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, 10) > 0 && recv(fd, sink, sizeof sink, 0) <= 0) break;
        }
    }
    srv_response_free(&sr);
    memset(err, 0, sizeof *err);
}

/* Queue `body` (ownership taken; malloc'd or NULL) with the given status and headers. */
static enum MHD_Result send_body(struct MHD_Connection *c, http_req *r, int status,
                                 const char *ctype, char *body, size_t len, int retry_after,
                                 const char *allow) {
    struct MHD_Response *resp =
        body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (ctype) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (ok == MHD_YES) {
        r->responded = 1;
        r->status = status;
        r->bytes = len;
    }
    return ok;
}

static enum MHD_Result send_srv(struct MHD_Connection *c, http_req *r, srv_response *sr,
                                const char *allow) {
    char *body = sr->body;
    sr->body = NULL; /* MHD frees it */
    enum MHD_Result ok = send_body(c, r, sr->status, sr->content_type, body, sr->len,
                                   sr->retry_after, allow);
    srv_response_free(sr);
    return ok;
}

#if defined(__GNUC__)
__attribute__((format(printf, 7, 8)))
#endif
static enum MHD_Result send_error(struct MHD_Connection *c, http_req *r, int status,
                                  const char *code, const char *field, const char *allow,
                                  const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    srv_response sr;
    memset(&sr, 0, sizeof sr);
    srv_error(&sr, status, code, field, "%s", msg);
    if (status == 503 && sr.retry_after <= 0) sr.retry_after = RETRY_AFTER_S;
    return send_srv(c, r, &sr, allow);
}

/* ---------------------------------------------------------------------------- routing */

static const struct {
    const char *path, *endpoint;
    route_kind kind;
} POST_ROUTES[] = {
    {"/conv", "conv", ROUTE_JSON},        {"/pool", "pool", ROUTE_JSON},
    {"/mlp", "mlp", ROUTE_JSON},          {"/cnn", "cnn", ROUTE_JSON},
    {"/train/rnn", "rnn", ROUTE_TRAIN},   {"/train/lstm", "lstm", ROUTE_TRAIN},
    {"/train/gru", "gru", ROUTE_TRAIN},   {"/train/cnn", "cnn", ROUTE_TRAIN},
};

/* A page file path is safe to map onto --web-root: no "..", no hidden files, no backslashes. */
static int safe_path(const char *url) {
    if (url[0] != '/' || strstr(url, "/.") || strchr(url, '\\')) return 0;
    return 1;
}

static int web_root_has(const http_server *s, const char *url) {
    if (!s->cfg.web_root[0] || !safe_path(url)) return 0;
    char p[2048];
    snprintf(p, sizeof p, "%s%s", s->cfg.web_root, strcmp(url, "/") == 0 ? "/index.html" : url);
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_get_path(const http_server *s, const char *url) {
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0) return 1;
    if (strcmp(url, "/openapi.json") == 0) return http_asset_find(url) != NULL;
    if (s->cfg.web_root[0]) return web_root_has(s, url);
    return http_asset_find(url) != NULL;
}

/* Decide what the request is; on 404 / 405 answer at once (before reading any body). */
static enum MHD_Result route(http_server *s, struct MHD_Connection *c, http_req *r,
                             const char *url, const char *method) {
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    for (size_t i = 0; i < sizeof POST_ROUTES / sizeof POST_ROUTES[0]; i++)
        if (strcmp(url, POST_ROUTES[i].path) == 0) {
            if (strcmp(method, "POST") != 0)
                return send_error(c, r, 405, "method_not_allowed", "method", "POST",
                                  "%s %s: only POST is allowed", r->method, r->path);
            r->route = POST_ROUTES[i].kind;
            r->endpoint = POST_ROUTES[i].endpoint;
            return MHD_YES;
        }
    if (is_get_path(s, url)) {
        if (!is_get)
            return send_error(c, r, 405, "method_not_allowed", "method", "GET, HEAD",
                              "%s %s: only GET and HEAD are allowed", r->method, r->path);
        r->route = strcmp(url, "/healthz") == 0   ? ROUTE_HEALTHZ
                   : strcmp(url, "/metrics") == 0 ? ROUTE_METRICS
                                                  : ROUTE_STATIC;
        return MHD_YES;
    }
    return send_error(c, r, 404, "not_found", "path", NULL, "no such path: %s", r->path);
}

/* ---------------------------------------------------------------------------- GET handlers */

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n >= 0 && n <= (64L << 20) && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    if (buf) *len = (size_t)n;
    return buf;
}

static enum MHD_Result serve_static(http_server *s, struct MHD_Connection *c, http_req *r,
                                    const char *url) {
    const char *name = strcmp(url, "/") == 0 ? "/index.html" : url;
    if (s->cfg.web_root[0] && strcmp(url, "/openapi.json") != 0) {
        char p[2048];
        snprintf(p, sizeof p, "%s%s", s->cfg.web_root, name);
        size_t len = 0;
        char *data = read_file(p, &len);
        if (!data)
            return send_error(c, r, 404, "not_found", "path", NULL, "cannot read %s", r->path);
        return send_body(c, r, 200, http_content_type(name), data, len, 0, NULL);
    }
    const http_asset *a = http_asset_find(url);
    if (!a) return send_error(c, r, 404, "not_found", "path", NULL, "no such path: %s", r->path);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, http_content_type(name));
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    enum MHD_Result ok = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    if (ok == MHD_YES) {
        r->responded = 1;
        r->status = 200;
        r->bytes = a->len;
    }
    return ok;
}

static enum MHD_Result serve_healthz(http_server *s, struct MHD_Connection *c, http_req *r) {
    const srv_limits *l = &s->cfg.lim;
    cJSON *o = cJSON_CreateObject(), *lim = cJSON_CreateObject();
    if (o && lim) {
        cJSON_AddStringToObject(o, "status", "ok");
        cJSON_AddStringToObject(o, "version", NNLABD_VERSION);
        cJSON_AddNumberToObject(lim, "max_body_bytes", (double)l->max_body_bytes);
        cJSON_AddNumberToObject(lim, "max_image_side", (double)l->max_image_side);
        cJSON_AddNumberToObject(lim, "max_tensor_elems", (double)l->max_tensor_elems);
        cJSON_AddNumberToObject(lim, "max_work_flops", l->max_work_flops);
        cJSON_AddNumberToObject(lim, "max_samples", (double)l->max_samples);
        cJSON_AddNumberToObject(lim, "max_epochs", (double)l->max_epochs);
        cJSON_AddNumberToObject(lim, "max_length", (double)l->max_length);
        cJSON_AddNumberToObject(lim, "max_hidden", (double)l->max_hidden);
        cJSON_AddNumberToObject(lim, "max_trainings", (double)l->max_trainings);
        cJSON_AddNumberToObject(lim, "max_connections", (double)s->cfg.max_connections);
        cJSON_AddNumberToObject(lim, "timeout_s", (double)s->cfg.timeout_s);
        cJSON_AddNumberToObject(lim, "max_memory_bytes", (double)srv_budget_total());
        cJSON_AddItemToObject(o, "limits", lim);
        lim = NULL;
        cJSON_AddNumberToObject(o, "active_trainings", (double)http_train_active());
        cJSON_AddNumberToObject(o, "memory_reserved_bytes", (double)srv_budget_used());
        srv_dataset_health(o);
    }
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    cJSON_Delete(lim);
    if (!text) return send_error(c, r, 503, "busy", NULL, NULL, "out of memory");
    /* cJSON allocates with malloc by default, so MHD may free() it. */
    return send_body(c, r, 200, "application/json", text, strlen(text), 0, NULL);
}

static enum MHD_Result serve_metrics(struct MHD_Connection *c, http_req *r) {
    size_t len = 0;
    char *text = srv_metrics_render(&len);
    if (!text) return send_error(c, r, 503, "busy", NULL, NULL, "out of memory");
    return send_body(c, r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, 0, NULL);
}

/* ---------------------------------------------------------------------------- training */

static void list_add(http_server *s, http_req *r) {
    pthread_mutex_lock(&s->mu);
    r->prev = NULL;
    r->next = s->trainings;
    if (s->trainings) s->trainings->prev = r;
    s->trainings = r;
    /* A stop that began before we registered would miss us: abort here instead. */
    if (atomic_load(&s->stopping)) http_train_abort(r->train, SHUTDOWN_LINE);
    pthread_mutex_unlock(&s->mu);
}

static void list_remove(http_server *s, http_req *r) {
    pthread_mutex_lock(&s->mu);
    if (r->prev) r->prev->next = r->next;
    else if (s->trainings == r) s->trainings = r->next;
    if (r->next) r->next->prev = r->prev;
    r->prev = r->next = NULL;
    pthread_mutex_unlock(&s->mu);
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
        if (peer_closed(r->fd)) {
            r->client_gone = 1;
            http_train_cancel(r->train);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
}

static enum MHD_Result serve_train(http_server *s, struct MHD_Connection *c, http_req *r,
                                   const char *ctype) {
    if (!http_train_acquire(s->cfg.lim.max_trainings))
        return send_error(c, r, 503, "busy", NULL, NULL,
                          "%zu trainings are running (the limit); retry later",
                          s->cfg.lim.max_trainings);
    srv_response err;
    memset(&err, 0, sizeof err);
    srv_train_job *job = srv_train_prepare(&s->cfg.lim, r->endpoint, ctype,
                                           r->body ? r->body : "", r->len, &err);
    free(r->body); /* the job holds its own copies */
    r->body = NULL;
    r->len = r->cap = 0;
    srv_budget_release(&r->mem); /* trainings are bounded by --max-trainings instead */
    if (!job) {
        http_train_release();
        return send_srv(c, r, &err, NULL);
    }
    srv_response_free(&err);
    int streaming = srv_train_streaming(job);
    r->train = http_train_start(job);
    if (!r->train) return send_error(c, r, 503, "busy", NULL, NULL, "cannot start a training");
    list_add(s, r);

    if (streaming) {
        struct MHD_Response *resp =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, r, NULL);
        if (!resp) return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        MHD_add_response_header(resp, "X-Accel-Buffering", "no");
        enum MHD_Result ok = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
        if (ok == MHD_YES) {
            r->responded = 1;
            r->status = 200;
        }
        return ok;
    }
    /* Not streamed: the whole result is one JSON body, so wait here (this connection's own
     * thread) and watch for a hang-up meanwhile. The run may outlast the inactivity timeout:
     * it is off while we wait, and setting it again afterwards restarts MHD's timer. */
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    while (!http_train_wait(r->train, POLL_MS)) {
        if (peer_closed(r->fd)) {
            r->client_gone = 1;
            http_train_cancel(r->train);
            return MHD_NO; /* close; the completion callback frees the run */
        }
    }
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, s->cfg.timeout_s);
    size_t len = 0;
    int status = 500;
    char *body = http_train_take(r->train, &len, &status);
    if (http_train_aborted(r->train) || status == 503 || !body) {
        free(body);
        return send_error(c, r, 503, "busy", NULL, NULL,
                          http_train_aborted(r->train) ? "server is shutting down"
                                                       : "training failed (out of memory)");
    }
    return send_body(c, r, status, "application/json", body, len, 0, NULL);
}

/* ---------------------------------------------------------------------------- MHD callbacks */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
    http_server *s = cls;
    http_req *r = *req_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        *req_cls = r;
        clock_gettime(CLOCK_MONOTONIC, &r->t0);
        copy_printable(r->method, sizeof r->method, method);
        copy_printable(r->path, sizeof r->path, url);
        r->fd = -1;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci) r->fd = ci->connect_fd;
        srv_metrics_inflight(+1);
        atomic_fetch_add(&s->inflight, 1);
        if (atomic_load(&s->stopping))
            return send_error(c, r, 503, "busy", NULL, NULL, "server is shutting down");
        if (route(s, c, r, url, method) != MHD_YES) return MHD_NO;
        if (r->responded) return MHD_YES;
        /* GETs are answered on the next call, after MHD has the whole request: answering
         * "early" would make MHD close the connection (no keep-alive). */
        if (r->route == ROUTE_JSON || r->route == ROUTE_TRAIN) {
            /* Refuse a declared-too-large body before reading any of it. */
            const char *cl =
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (cl) {
                char *end = NULL;
                errno = 0;
                uintmax_t n = strtoumax(cl, &end, 10);
                if (errno == 0 && end != cl && n > s->cfg.lim.max_body_bytes)
                    return send_error(c, r, 413, "too_large", "body", NULL,
                                      "request body of %ju bytes exceeds the limit of %zu", n,
                                      s->cfg.lim.max_body_bytes);
                if (errno == 0 && end != cl) r->declared = (size_t)n;
            }
            /* A client that waits for "100 Continue" before sending a big body (curl does,
             * above 1 MiB) is refused now if there is no room for it, before it uploads.
             * libmicrohttpd honours Expect on HTTP/1.1 only; an HTTP/1.0 client sends its body
             * at once, so it gets the usual path (read and dropped, then the 503). */
            const char *expect =
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
            if (expect && strcasecmp(expect, "100-continue") == 0 && r->declared > 0 &&
                version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0) {
                size_t need = srv_budget_add(SRV_BUDGET_BASE,
                                             srv_budget_mul(r->declared, SRV_BUDGET_PER_BODY_BYTE));
                if (srv_budget_wait_room(need, SRV_BUDGET_EXPECT_WAIT_MS) != 0)
                    return send_error(c, r, 503, "busy", NULL, NULL,
                                      "the server's memory is taken by other requests (this one "
                                      "needs %zu MB); retry later", need / 1000000 + 1);
            }
            /* Small, so never kept waiting; the body is reserved for as it arrives (a client
             * that declares 16 MiB and sends nothing holds nothing). */
            (void)srv_budget_reserve(&r->mem, SRV_BUDGET_BASE, 0);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->responded) return MHD_YES; /* discard */
        srv_response late;
        memset(&late, 0, sizeof late);
        if (n > s->cfg.lim.max_body_bytes - r->len) {
            /* Passing the cap mid-upload (chunked, or a lying Content-Length): answer now and
             * read no more. */
            srv_error(&late, 413, "too_large", "body", "request body exceeds the limit of %zu bytes",
                      s->cfg.lim.max_body_bytes);
        } else if (r->refused_mb) { /* dropped; the 503 goes out after the body */
            r->len += n;
            return MHD_YES;
        } else if (r->len + n > r->mem_body) {
            /* Reserve for the body (and the cJSON tree it becomes) as it arrives, 64 KiB ahead. */
            size_t more = r->len + n - r->mem_body;
            if (more < ((size_t)64 << 10)) more = (size_t)64 << 10;
            if (srv_budget_reserve(&r->mem, srv_budget_mul(more, SRV_BUDGET_PER_BODY_BYTE),
                                   SRV_BUDGET_WAIT_MS) == 0) {
                r->mem_body += more;
            } else {
                /* Read and drop the rest, then answer: a client still sending would otherwise
                 * meet a closed connection instead of the 503. */
                size_t whole = r->declared > r->len + n ? r->declared : r->len + n;
                r->refused_mb = srv_budget_mul(whole, SRV_BUDGET_PER_BODY_BYTE) / 1000000 + 1;
                free(r->body);
                r->body = NULL;
                r->len += n;
                r->cap = 0;
                srv_budget_release(&r->mem);
                return MHD_YES;
            }
        }
        if (late.status) {
            free(r->body);
            r->body = NULL;
            r->len = r->cap = 0;
            raw_error(r->fd, r, &late);
            r->responded = 1;
            return MHD_NO; /* MHD closes the connection */
        }
        if (r->len + n > r->cap) {
            size_t ncap = r->cap ? r->cap : 8192;
            while (ncap < r->len + n) ncap *= 2;
            if (ncap > s->cfg.lim.max_body_bytes) ncap = s->cfg.lim.max_body_bytes;
            char *nb = realloc(r->body, ncap);
            if (!nb) return send_error(c, r, 503, "busy", NULL, NULL, "out of memory");
            r->body = nb;
            r->cap = ncap;
        }
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        return MHD_YES;
    }
    if (r->responded) return MHD_YES;
    if (r->refused_mb)
        return send_error(c, r, 503, "busy", NULL, NULL,
                          "the server's memory is taken by other requests (this one needs "
                          "%zu MB); retry later", r->refused_mb);

    switch (r->route) {
    case ROUTE_HEALTHZ: return serve_healthz(s, c, r);
    case ROUTE_METRICS: return serve_metrics(c, r);
    case ROUTE_STATIC: return serve_static(s, c, r, url);
    case ROUTE_JSON: {
        const char *ctype =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        srv_response sr;
        memset(&sr, 0, sizeof sr);
        srv_budget_set_current(&r->mem); /* the handler's tensors are counted too */
        srv_handle_json(&s->cfg.lim, r->endpoint, ctype, r->body ? r->body : "", r->len, &sr);
        srv_budget_set_current(NULL);
        free(r->body); /* parsed and answered: only the response stays until it is sent */
        r->body = NULL;
        srv_budget_shrink(&r->mem, srv_budget_add(SRV_BUDGET_BASE, sr.len));
        return send_srv(c, r, &sr, NULL);
    }
    case ROUTE_TRAIN: {
        const char *ctype =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        return serve_train(s, c, r, ctype);
    }
    case ROUTE_NONE: break;
    }
    return send_error(c, r, 500, "internal", NULL, NULL, "unrouted request");
}

/* MHD's own diagnostics, minus the note it prints each time we close a connection on purpose
 * (mid-upload 413, client gone). */
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (strstr(msg, "Application reported internal error")) return;
    fprintf(stderr, "nnlabd: libmicrohttpd: %s%s", msg,
            msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)c;
    http_server *s = cls;
    http_req *r = *req_cls;
    if (!r) return;
    *req_cls = NULL;
    if (r->train) {
        list_remove(s, r);
        http_train_free(r->train); /* cancels a run still going, waits for its thread */
    }
    double sec = elapsed_s(&r->t0);
    /* 0: we never answered (libmicrohttpd rejected the request itself, or the client left). */
    int status = r->status;
    const char *note = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
                       : r->client_gone                          ? " client-gone"
                       : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? " timeout"
                       : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? " shutdown"
                                                                       : " aborted";
    char st[8] = "-";
    if (status) snprintf(st, sizeof st, "%d", status);
    fprintf(stderr, "%s %s %s %zu %.1fms%s\n", r->method, r->path, st, r->bytes, sec * 1e3, note);
    srv_metrics_request(r->path, status, sec);
    srv_metrics_inflight(-1);
    atomic_fetch_sub(&s->inflight, 1);
    srv_budget_release(&r->mem);
    free(r->body);
    free(r);
}

/* ---------------------------------------------------------------------------- start / stop */

http_server *http_server_start(const srv_config *cfg, char *err, size_t errlen) {
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
    if (!s) {
        freeaddrinfo(ai);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    atomic_init(&s->stopping, 0);
    atomic_init(&s->inflight, 0);
    pthread_mutex_init(&s->mu, NULL);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->d) {
        snprintf(err, errlen, "cannot listen on %s:%u (in use? bad address?)", cfg->host,
                 cfg->port);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    return s;
}

unsigned http_server_port(const http_server *s) { return s->port; }

void http_server_stop(http_server *s, int grace_ms) {
    if (!s) return;
    MHD_socket lfd = MHD_quiesce_daemon(s->d); /* no new connections from here on */
    atomic_store(&s->stopping, 1);
    pthread_mutex_lock(&s->mu);
    for (http_req *r = s->trainings; r; r = r->next) http_train_abort(r->train, SHUTDOWN_LINE);
    pthread_mutex_unlock(&s->mu);
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
    pthread_mutex_destroy(&s->mu);
    free(s);
}
