/* http_support.h — helpers for the HTTP integration tests: start the real daemon on a free port,
 * talk to it with libcurl, read JSON answers.
 *
 * The daemon binary is $NNLABD_BIN (default build/nnlabd). It is started with --port 0 and the
 * port it prints on stdout; its stderr (the request log) goes to a temporary file that is shown
 * when the daemon exits uncleanly (e.g. a sanitizer report). $NNLAB_TEST_SLOW (default 1)
 * multiplies the time limits, for the sanitizer build. */
#ifndef HTTP_SUPPORT_H
#define HTTP_SUPPORT_H

#include <cJSON.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct th_server {
    pid_t pid;
    int port;
    char base[64];   /* "http://127.0.0.1:PORT" */
    char log[256];   /* path of the daemon's stderr */
} th_server;

typedef struct th_resp {
    long status;
    char *body;              /* NUL-terminated, malloc'd */
    size_t len;
    char content_type[128];
    char allow[64];
    char retry_after[16];
    double seconds;          /* total transfer time */
} th_resp;

/* Time-limit multiplier ($NNLAB_TEST_SLOW). */
double th_slow(void);

/* Start the daemon with extra flags (NULL-terminated list, may be NULL). Asserts on failure. */
void th_start(th_server *s, const char *const *args);
/* SIGTERM, wait; returns the exit status (or -1 if killed / not exiting within 20 s). */
int th_stop(th_server *s);

/* One request. body may be NULL; ctype NULL means "application/json" for a body. Returns 0 on
 * transport success (any HTTP status), the curl error code otherwise. */
int th_request(const th_server *s, const char *method, const char *path, const char *ctype,
               const char *body, size_t len, th_resp *out);
/* Same with extra raw header lines (NULL-terminated) and chunked upload of body when chunked. */
int th_request_ex(const th_server *s, const char *method, const char *path,
                  const char *const *headers, const char *body, size_t len, int chunked,
                  th_resp *out);
/* A POST of a JSON body handed to libcurl 16 KiB at a time (chunked, or with its length
 * declared), pausing pause_s seconds once, before the byte at offset pause_at: a client that is
 * still sending, or slow to, when the daemon answers. */
int th_upload_paused(const th_server *s, const char *path, const char *body, size_t len,
                     int chunked, size_t pause_at, double pause_s, th_resp *out);
int th_post_json(const th_server *s, const char *path, const char *json, th_resp *out);
/* A request with the JSON body `json` (NULL: none) that must be answered with `status`
 * (asserts both). */
void th_expect(const th_server *s, const char *method, const char *path, const char *json,
               long status, th_resp *out);
/* A GET of the POST-only `path` is refused: 405 with "Allow: POST". */
void th_expect_post_only(const th_server *s, const char *path);
void th_resp_free(th_resp *r);

/* Parse the response body as JSON (asserts it is). Caller cJSON_Delete()s. */
cJSON *th_json(const th_resp *r);

/* Value of a Prometheus sample line "name value" (exact name incl. labels), or -1. */
double th_metric(const th_server *s, const char *name);
/* The number limits.<name> of GET /healthz (asserts 200 and a number). */
double th_health_limit(const th_server *s, const char *name);
/* Poll th_metric until it equals want or `seconds` pass; returns the last value seen. The daemon
 * counts a request when it is complete, i.e. just after its client has read the answer: a
 * count or gauge read right after an answer may lag by that request (and the gauge of requests
 * in flight may still hold the previous /metrics request), so tests wait for the value. */
double th_wait_metric(const th_server *s, const char *name, double want, double seconds);
/* The same until it is at least min. */
double th_wait_metric_min(const th_server *s, const char *name, double min, double seconds);
/* The daemon's log once it holds every one of needles (NULL-terminated), or after `seconds`
 * what it holds then (malloc'd; the log line of a request is written when it completes). */
char *th_wait_log(const th_server *s, const char *const *needles, double seconds);

/* Raw sockets, for what libcurl will not do (half-sent bodies, slow clients): a TCP connection
 * to the daemon on loopback, and a send of all of p (asserting the server did not close). */
int th_connect(int port);
void th_send(int fd, const char *p, size_t n);
/* What the server sends within `seconds`, until it closes (at most 64 KiB; malloc'd). */
char *th_recv(int fd, double seconds);
/* The same, but returning as soon as what arrived contains needle. */
char *th_recv_until(int fd, const char *needle, double seconds);
/* The same without a size cap; *len gets the byte count (the buffer is NUL-terminated too). */
char *th_recv_all(int fd, double seconds, size_t *len);
/* A connection to the daemon from another loopback address (e.g. "127.0.0.2": Linux routes all
 * of 127/8 to lo), to act as a second client address. */
int th_connect_from(int port, const char *src);

/* An HTTP/1.1 answer read off a raw socket: the status, and the body decoded (by
 * Content-Length, chunked, or up to the close). Returns 0 on success, -1 if buf is not a
 * complete answer. out->body is malloc'd and NUL-terminated. */
typedef struct th_raw {
    long status;
    char *body;
    size_t len;
    int chunked;
} th_raw;
int th_parse_raw(const char *buf, size_t n, th_raw *out);

/* Whole file (NUL-terminated, malloc'd) or NULL: fx_read_file. */
char *th_read_file(const char *path, size_t *len);
/* Standard base64 of data (malloc'd). */
char *th_base64(const unsigned char *data, size_t len);

/* Seconds since an arbitrary fixed point; sleep for some seconds. */
double th_now(void);
void th_sleep(double seconds);

/* A streamed request: calls on_line for every complete line with its arrival time (seconds
 * since the request started); on_line returns nonzero to hang up. Returns the HTTP status
 * (0 on transport failure other than our own hang-up). */
typedef int (*th_line_fn)(void *ctx, const char *line, size_t len, double t);
long th_stream(const th_server *s, const char *path, const char *json, th_line_fn on_line,
               void *ctx);

/* One NDJSON line (for a th_line_fn) parsed: a JSON object with a string "type" (else the test
 * fails), into *type. The caller cJSON_Delete()s it; *type lives as long as it. */
cJSON *th_line_json(const char *line, size_t len, const char **type);

/* The lines of a streamed answer, each parsed: th_collect_lines is a th_line_fn whose ctx is a
 * th_lines (a line that is not JSON, or more than TH_LINES_MAX lines, fail the test);
 * th_lines_free deletes them. */
#define TH_LINES_MAX 4096
typedef struct th_lines {
    cJSON *items[TH_LINES_MAX];
    int n;
} th_lines;
int th_collect_lines(void *ctx, const char *line, size_t len, double t);
void th_lines_free(th_lines *ls);

/* A loaded machine: n busy-looping child processes (at most TH_MAX_SPINNERS), so that the
 * daemon's threads wait for a core as on a busy CI runner. They die with the test process
 * (PR_SET_PDEATHSIG) and after 10 minutes at the latest; th_cpu_load_stop ends them. */
#define TH_MAX_SPINNERS 8
void th_cpu_load_start(int n);
void th_cpu_load_stop(void);

/* Test data directory: tests/data (files of the HTTP tests are named http_*). */
#define TH_DATA "tests/data"

#endif
