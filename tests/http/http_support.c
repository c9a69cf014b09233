/* http_support.c — see http_support.h. */
#define _GNU_SOURCE /* memmem */
#include "http_support.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

double th_slow(void) {
    const char *e = getenv("NNLAB_TEST_SLOW");
    double v = e ? atof(e) : 1.0;
    return v >= 1.0 ? v : 1.0;
}

double th_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void th_sleep(double seconds) {
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static pid_t spinners[TH_MAX_SPINNERS];

void th_cpu_load_start(int n) {
    for (int i = 0; i < n && i < TH_MAX_SPINNERS; i++) {
        pid_t pid = fork();
        cr_assert(pid >= 0, "fork: %s", strerror(errno));
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            alarm(600);
            for (volatile unsigned long k = 0;; k++) {
            }
        }
        spinners[i] = pid;
    }
}

void th_cpu_load_stop(void) {
    for (int i = 0; i < TH_MAX_SPINNERS; i++) {
        if (spinners[i] <= 0) continue;
        kill(spinners[i], SIGKILL);
        waitpid(spinners[i], NULL, 0);
        spinners[i] = 0;
    }
}

void th_start(th_server *s, const char *const *args) {
    memset(s, 0, sizeof *s);
    const char *bin = getenv("NNLABD_BIN");
    if (!bin || !*bin) bin = "build/nnlabd";
    cr_assert(access(bin, X_OK) == 0, "daemon %s not built (make daemon)", bin);
    snprintf(s->log, sizeof s->log, "/tmp/nnlabd-test-%d-XXXXXX", (int)getpid());
    int logfd = mkstemp(s->log);
    cr_assert(logfd >= 0, "mkstemp: %s", strerror(errno));
    int pfd[2];
    cr_assert(pipe(pfd) == 0);
    const char *argv[64];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--host";
    argv[n++] = "127.0.0.1";
    for (int i = 0; args && args[i] && n < 62; i++) argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        /* If the test process dies (a failed assertion in a fixture), the daemon goes too. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pfd[1], 1);
        dup2(logfd, 2);
        close(pfd[0]);
        close(pfd[1]);
        close(logfd);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    close(logfd);
    s->pid = pid;
    char line[256];
    size_t got = 0;
    double deadline = th_now() + 15 * th_slow();
    while (got + 1 < sizeof line && th_now() < deadline) {
        struct pollfd p = {pfd[0], POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t k = read(pfd[0], line + got, 1);
        if (k <= 0) break;
        if (line[got] == '\n') break;
        got++;
    }
    line[got] = '\0';
    close(pfd[0]);
    const char *colon = strrchr(line, ':');
    cr_assert(strncmp(line, "listening on http://", 20) == 0 && colon,
              "daemon did not report its port (got '%s'; log %s)", line, s->log);
    s->port = atoi(colon + 1);
    cr_assert(s->port > 0 && s->port < 65536);
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
}

int th_stop(th_server *s) {
    if (s->pid <= 0) return -1;
    kill(s->pid, SIGTERM);
    int status = 0;
    double deadline = th_now() + 20 * th_slow();
    pid_t r = 0;
    while ((r = waitpid(s->pid, &status, WNOHANG)) == 0 && th_now() < deadline) {
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    if (r == 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
        status = -1;
    }
    s->pid = 0;
    int code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code != 0) {
        size_t len = 0;
        char *log = th_read_file(s->log, &len);
        fprintf(stderr, "---- daemon exited with %d; its log (%s):\n%s\n----\n", code, s->log,
                log ? log : "(unreadable)");
        free(log);
    } else {
        unlink(s->log);
    }
    return code;
}

typedef struct membuf {
    char *p;
    size_t len, cap;
} membuf;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx) {
    membuf *b = ctx;
    size_t n = size * nmemb;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = (b->cap ? b->cap * 2 : 4096) + n;
        char *np = realloc(b->p, ncap);
        if (!np) return 0;
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

static void header_value(const char *line, size_t n, const char *name, char *dst, size_t cap) {
    size_t nl = strlen(name);
    if (n > nl + 1 && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
        const char *v = line + nl + 1;
        while (*v == ' ') v++;
        size_t k = (size_t)(line + n - v);
        while (k > 0 && (v[k - 1] == '\r' || v[k - 1] == '\n')) k--;
        if (k >= cap) k = cap - 1;
        memcpy(dst, v, k);
        dst[k] = '\0';
    }
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx) {
    th_resp *r = ctx;
    size_t n = size * nmemb;
    header_value(data, n, "Content-Type", r->content_type, sizeof r->content_type);
    header_value(data, n, "Allow", r->allow, sizeof r->allow);
    header_value(data, n, "Retry-After", r->retry_after, sizeof r->retry_after);
    return n;
}

typedef struct upload {
    const char *p;
    size_t left;
    size_t piece;          /* bytes handed to libcurl per call */
    size_t pause_at;       /* pause once, before handing over the byte at this offset (0: never) */
    double pause_s;
    size_t sent;
} upload;

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ctx) {
    upload *u = ctx;
    size_t n = size * nmemb;
    if (n > u->piece) n = u->piece; /* several chunks */
    if (n > u->left) n = u->left;
    if (u->pause_at && u->sent < u->pause_at && u->sent + n > u->pause_at) n = u->pause_at - u->sent;
    if (u->pause_at && u->sent == u->pause_at && n > 0) {
        th_sleep(u->pause_s);
        u->pause_at = 0;
    }
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    u->sent += n;
    return n;
}

/* One request; the body goes through on_read when `u` is given (chunked, or with its length
 * declared), else as libcurl's POSTFIELDS. */
static int request(const th_server *s, const char *method, const char *path,
                   const char *const *headers, const char *body, size_t len, int chunked,
                   upload *u, th_resp *out) {
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    cr_assert(c);
    char url[1024];
    snprintf(url, sizeof url, "%s%s", s->base, path);
    membuf b = {0};
    struct curl_slist *hl = NULL;
    for (int i = 0; headers && headers[i]; i++) hl = curl_slist_append(hl, headers[i]);
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(60 * th_slow()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    if (strcmp(method, "HEAD") == 0) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        if (chunked) {
            hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
            curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, u);
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        } else if (u) {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, u);
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        } else {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        }
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &out->seconds);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    out->body = b.p ? b.p : calloc(1, 1);
    out->len = b.len;
    return (int)rc;
}

int th_request_ex(const th_server *s, const char *method, const char *path,
                  const char *const *headers, const char *body, size_t len, int chunked,
                  th_resp *out) {
    upload u = {body, len, 65536, 0, 0, 0};
    return request(s, method, path, headers, body, len, chunked, chunked ? &u : NULL, out);
}

int th_upload_paused(const th_server *s, const char *path, const char *body, size_t len,
                     int chunked, size_t pause_at, double pause_s, th_resp *out) {
    const char *headers[] = {"Content-Type: application/json", NULL};
    upload u = {body, len, 16384, pause_at, pause_s, 0};
    return request(s, "POST", path, headers, body, len, chunked, &u, out);
}

int th_request(const th_server *s, const char *method, const char *path, const char *ctype,
               const char *body, size_t len, th_resp *out) {
    char h[200];
    snprintf(h, sizeof h, "Content-Type: %s", ctype ? ctype : "application/json");
    const char *headers[] = {h, NULL};
    return th_request_ex(s, method, path, body ? headers : NULL, body, len, 0, out);
}

void th_expect(const th_server *s, const char *method, const char *path, const char *json,
               long status, th_resp *out) {
    cr_assert_eq(th_request(s, method, path, NULL, json, json ? strlen(json) : 0, out), 0,
                 "%s %s: no answer", method, path);
    cr_assert_eq(out->status, status, "%s %s: %ld, not %ld: %.300s", method, path, out->status, status,
                 out->body ? out->body : "");
}

void th_expect_post_only(const th_server *s, const char *path) {
    th_resp r;
    th_expect(s, "GET", path, NULL, 405, &r);
    cr_assert_str_eq(r.allow, "POST", "GET %s", path);
    th_resp_free(&r);
}

int th_post_json(const th_server *s, const char *path, const char *json, th_resp *out) {
    return th_request(s, "POST", path, NULL, json, strlen(json), out);
}

void th_resp_free(th_resp *r) {
    free(r->body);
    r->body = NULL;
}

cJSON *th_json(const th_resp *r) {
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    cr_assert(j, "response (status %ld) is not JSON: %.300s", r->status, r->body);
    return j;
}

double th_metric(const th_server *s, const char *name) {
    th_resp r;
    cr_assert_eq(th_request(s, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    double v = -1;
    size_t nl = strlen(name);
    for (const char *p = r.body; p && *p;) {
        const char *e = strchr(p, '\n');
        if (strncmp(p, name, nl) == 0 && p[nl] == ' ') v = atof(p + nl + 1);
        p = e ? e + 1 : NULL;
    }
    th_resp_free(&r);
    return v;
}

cJSON *th_line_json(const char *line, size_t len, const char **type) {
    cJSON *j = cJSON_ParseWithLength(line, len);
    cr_assert(j, "NDJSON line is not JSON: %.200s", line);
    *type = cJSON_GetStringValue(cJSON_GetObjectItem(j, "type"));
    cr_assert(*type, "every line has a type: %.200s", line);
    return j;
}

double th_health_limit(const th_server *s, const char *name) {
    th_resp r;
    cr_assert_eq(th_request(s, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    cJSON *h = th_json(&r);
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(h, "limits"), name);
    cr_assert(cJSON_IsNumber(v), "healthz limits.%s: %.300s", name, r.body);
    double out = v->valuedouble;
    cJSON_Delete(h);
    th_resp_free(&r);
    return out;
}

static double wait_metric(const th_server *s, const char *name, double want, int at_least,
                          double seconds) {
    double end = th_now() + seconds, v = -1;
    do {
        v = th_metric(s, name);
        if (v == want || (at_least && v > want)) break;
        th_sleep(0.01);
    } while (th_now() < end);
    return v;
}

int th_collect_lines(void *ctx, const char *line, size_t len, double t) {
    (void)t;
    th_lines *ls = ctx;
    cJSON *j = cJSON_ParseWithLength(line, len);
    cr_assert(j, "NDJSON line is not JSON: %.200s", line);
    cr_assert_lt(ls->n, TH_LINES_MAX, "more than %d lines", TH_LINES_MAX);
    ls->items[ls->n++] = j;
    return 0;
}

double th_wait_metric(const th_server *s, const char *name, double want, double seconds) {
    return wait_metric(s, name, want, 0, seconds);
}

double th_wait_metric_min(const th_server *s, const char *name, double min, double seconds) {
    return wait_metric(s, name, min, 1, seconds);
}

char *th_wait_log(const th_server *s, const char *const *needles, double seconds) {
    double end = th_now() + seconds;
    for (;;) {
        char *log = th_read_file(s->log, NULL);
        int all = log != NULL;
        for (int i = 0; all && needles[i]; i++) all = strstr(log, needles[i]) != NULL;
        if (all || th_now() >= end) return log ? log : calloc(1, 1);
        free(log);
        th_sleep(0.01);
    }
}

void th_lines_free(th_lines *ls) {
    for (int i = 0; i < ls->n; i++) cJSON_Delete(ls->items[i]);
    ls->n = 0;
}

char *th_read_file(const char *path, size_t *len) { return fx_read_file(path, len); }

char *th_base64(const unsigned char *d, size_t n) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc((n + 2) / 3 * 4 + 1), *p = o;
    cr_assert(o);
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
        *p++ = A[v >> 18];
        *p++ = A[(v >> 12) & 63];
        *p++ = A[(v >> 6) & 63];
        *p++ = A[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0);
        *p++ = A[v >> 18];
        *p++ = A[(v >> 12) & 63];
        *p++ = i + 1 < n ? A[(v >> 6) & 63] : '=';
        *p++ = '=';
    }
    *p = '\0';
    return o;
}

typedef struct streamctx {
    membuf line;
    th_line_fn fn;
    void *ctx;
    double t0;
    int hung_up;
} streamctx;

static size_t on_stream(char *data, size_t size, size_t nmemb, void *ctx) {
    streamctx *st = ctx;
    size_t n = size * nmemb;
    double t = th_now() - st->t0;
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            if (st->fn(st->ctx, st->line.p ? st->line.p : "", st->line.len, t)) {
                st->hung_up = 1;
                return 0; /* abort the transfer: curl closes the connection */
            }
            st->line.len = 0;
            if (st->line.p) st->line.p[0] = '\0';
        } else if (on_body(data + i, 1, 1, &st->line) != 1) {
            return 0;
        }
    }
    return n;
}

long th_stream(const th_server *s, const char *path, const char *json, th_line_fn on_line,
               void *ctx) {
    CURL *c = curl_easy_init();
    cr_assert(c);
    char url[1024];
    snprintf(url, sizeof url, "%s%s", s->base, path);
    streamctx st = {{0}, on_line, ctx, th_now(), 0};
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(120 * th_slow()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 1024L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    free(st.line.p);
    if (rc != CURLE_OK && !(st.hung_up && rc == CURLE_WRITE_ERROR)) return 0;
    return status;
}

int th_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    return fd;
}

void th_send(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        cr_assert(k > 0, "send failed: the server closed before answering?");
        p += k;
        n -= (size_t)k;
    }
}

char *th_recv_until(int fd, const char *needle, double seconds) {
    size_t cap = 65536, len = 0;
    char *buf = calloc(1, cap);
    cr_assert_not_null(buf);
    double end = th_now() + seconds;
    while (th_now() < end && len + 1 < cap && !(needle && strstr(buf, needle))) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t k = recv(fd, buf + len, cap - 1 - len, 0);
        if (k <= 0) break;
        len += (size_t)k;
    }
    buf[len] = '\0';
    return buf;
}

char *th_recv(int fd, double seconds) { return th_recv_until(fd, NULL, seconds); }

char *th_recv_all(int fd, double seconds, size_t *len) {
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    double end = th_now() + seconds;
    while (th_now() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        if (n + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        ssize_t k = recv(fd, buf + n, cap - 1 - n, 0);
        if (k <= 0) break;
        n += (size_t)k;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int th_connect_from(int port, const char *src) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    cr_assert(inet_pton(AF_INET, src, &a.sin_addr) == 1);
    cr_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind %s: %s", src, strerror(errno));
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    return fd;
}

/* Decode a chunked body in place order; -1 when it is cut short. */
static int dechunk(const char *p, const char *end, th_raw *out) {
    membuf b = {0};
    for (;;) {
        char *e = NULL;
        unsigned long size = strtoul(p, &e, 16);
        const char *nl = e ? strstr(e, "\r\n") : NULL;
        if (!e || e == p || !nl || nl > end) break;
        p = nl + 2;
        if (size == 0) {
            out->body = b.p ? b.p : calloc(1, 1);
            out->len = b.len;
            return 0;
        }
        if ((size_t)(end - p) < size + 2) break;
        cr_assert(on_body((char *)p, 1, size, &b) == size);
        p += size + 2;
    }
    free(b.p);
    return -1;
}

int th_parse_raw(const char *buf, size_t n, th_raw *out) {
    memset(out, 0, sizeof *out);
    const char *hend = memmem(buf, n, "\r\n\r\n", 4);
    if (n < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || !hend) return -1;
    out->status = strtol(buf + 9, NULL, 10);
    const char *body = hend + 4, *end = buf + n;
    char head[8192];
    size_t hl = (size_t)(hend - buf) < sizeof head - 1 ? (size_t)(hend - buf) : sizeof head - 1;
    memcpy(head, buf, hl);
    head[hl] = '\0';
    for (char *h = head; *h; h++) *h = (char)tolower((unsigned char)*h);
    if (strstr(head, "\ntransfer-encoding: chunked")) {
        out->chunked = 1;
        return dechunk(body, end, out);
    }
    size_t len = (size_t)(end - body);
    const char *cl = strstr(head, "\ncontent-length:");
    if (cl) {
        size_t want = strtoul(cl + 16, NULL, 10);
        if (want > len) return -1;
        len = want;
    }
    out->body = malloc(len + 1);
    cr_assert_not_null(out->body);
    memcpy(out->body, body, len);
    out->body[len] = '\0';
    out->len = len;
    return 0;
}
