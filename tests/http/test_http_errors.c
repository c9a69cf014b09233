/* test_http_errors.c — a table of bad requests, each with the status and "field" the contract's
 * error object must carry, sent to the real daemon; plus the 413-before-reading checks on a raw
 * socket (declared and chunked bodies over the cap are refused while the client is still
 * sending). After the table the daemon must still answer normally. */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_support.h"

/* Limits of the daemon under test (small, so "too large" cases stay small). */
#define MAX_BODY 65536
static const char *const ARGS[] = {"--max-body", "65536", "--max-image-side", "200",
                                   "--max-hidden", "64", "--max-epochs", "100",
                                   "--max-samples", "10000", NULL};

typedef struct bad {
    const char *name, *method, *path;
    const char *ctype;   /* NULL = application/json */
    const char *body;    /* @NAME@ placeholders are replaced, see expand() */
    int status;
    const char *field;   /* NULL = no field expected */
} bad;

#define IMG3 "[[[0.1],[0.2],[0.3]],[[0.4],[0.5],[0.6]],[[0.7],[0.8],[0.9]]]"

static const bad TABLE[] = {
    /* JSON syntax and shape */
    {"malformed JSON", "POST", "/conv", NULL, "{\"input\": [1, 2", 400, "body"},
    {"trailing garbage", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernel\":\"box\"} xyz", 400, "body"},
    {"two JSON values", "POST", "/mlp", NULL, "{} {}", 400, "body"},
    {"empty body", "POST", "/conv", NULL, "", 400, "body"},
    {"array, not object", "POST", "/pool", NULL, "[1, 2, 3]", 400, "body"},
    {"NaN literal", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernel\":\"box\",\"stride\":NaN}", 400, "body"},
    {"deeply nested", "POST", "/conv", NULL, "@DEEP@", 400, "body"},
    {"not JSON content type", "POST", "/conv", "text/plain", "{\"input\":" IMG3 ",\"kernel\":\"box\"}", 415, "Content-Type"},
    {"CSV content type", "POST", "/train/rnn", "text/csv", "epochs,1", 415, "Content-Type"},
    {"duplicate key", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernel\":\"box\",\"kernel\":\"laplacian\"}", 400, "kernel"},
    {"unknown field", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernal\":\"box\"}", 400, "kernal"},
    /* images */
    {"bad base64", "POST", "/conv", NULL, "{\"image\":\"@@@not base64@@@\",\"kernel\":\"box\"}", 400, "image"},
    {"base64 of text", "POST", "/conv", NULL, "{\"image\":\"aGVsbG8gd29ybGQsIG5vdCBhbiBpbWFnZQ==\",\"kernel\":\"box\"}", 415, "image"},
    {"GIF image", "POST", "/conv", NULL, "{\"image\":\"@GIF@\",\"kernel\":\"box\"}", 415, "image"},
    {"16-bit PNG", "POST", "/conv", NULL, "{\"image\":\"@PNG16@\",\"kernel\":\"box\"}", 415, "image"},
    {"image wider than the limit", "POST", "/conv", NULL, "{\"image\":\"@WIDE@\",\"kernel\":\"box\"}", 413, "image"},
    {"image larger than the limit", "POST", "/conv", NULL, "{\"image\":\"@SAMPLE@\",\"kernel\":\"sobel_x\"}", 413, "image"},
    {"image and input", "POST", "/conv", NULL, "{\"image\":\"@SMALL@\",\"input\":" IMG3 ",\"kernel\":\"box\"}", 400, "input"},
    {"no input", "POST", "/conv", NULL, "{\"kernel\":\"box\"}", 400, "input"},
    {"input of wrong type", "POST", "/conv", NULL, "{\"input\":\"pixels\",\"kernel\":\"box\"}", 400, "input"},
    {"ragged input", "POST", "/conv", NULL, "{\"input\":[[[1],[2]],[[3]]],\"kernel\":\"box\"}", 400, "input"},
    /* conv parameters */
    {"unknown kernel preset", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernel\":\"blurry\"}", 400, "kernel"},
    {"kernel does not fit", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernel\":[[[1],[1],[1],[1]],[[1],[1],[1],[1]],[[1],[1],[1],[1]],[[1],[1],[1],[1]]]}", 400, "kernel"},
    {"kernel channel mismatch", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernel\":[[[1,1]]]}", 400, "kernel"},
    {"stride 0", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernel\":\"box\",\"stride\":0}", 400, "stride"},
    {"stride non-integer", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernel\":\"box\",\"stride\":1.5}", 400, "stride"},
    {"stride as string", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernel\":\"box\",\"stride\":\"2\"}", 400, "stride"},
    {"stride huge", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernel\":\"box\",\"stride\":1e300}", 400, "stride"},
    {"negative padding", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernel\":\"box\",\"padding\":-1}", 400, "padding"},
    {"unknown activation", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernel\":\"box\",\"activation\":\"swish\"}", 400, "activation"},
    {"render not boolean", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"kernel\":\"box\",\"render\":\"yes\"}", 400, "render"},
    {"filters count 0", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"filters\":{\"count\":0,\"size\":3}}", 400, "filters.count"},
    {"filters unknown init", "POST", "/conv", NULL, "{\"input\":" IMG3 ",\"filters\":{\"count\":2,\"size\":3,\"init\":\"bogus\"}}", 400, "filters.init"},
    /* pool */
    {"pool unknown function", "POST", "/pool", NULL, "{\"input\":" IMG3 ",\"function\":\"median\",\"size\":2}", 400, "function"},
    {"pool size 0", "POST", "/pool", NULL, "{\"input\":" IMG3 ",\"function\":\"max\",\"size\":0}", 400, "size"},
    {"pool size non-integer", "POST", "/pool", NULL, "{\"input\":" IMG3 ",\"function\":\"max\",\"size\":2.5}", 400, "size"},
    /* mlp */
    {"mlp negative hidden_layers", "POST", "/mlp", NULL, "{\"input\":[1,2],\"hidden_layers\":-1,\"hidden_size\":3,\"output_size\":2}", 400, "hidden_layers"},
    {"mlp hidden_size non-integer", "POST", "/mlp", NULL, "{\"input\":[1,2],\"hidden_layers\":1,\"hidden_size\":2.5,\"output_size\":2}", 400, "hidden_size"},
    {"mlp output_size 0", "POST", "/mlp", NULL, "{\"input\":[1,2],\"hidden_layers\":1,\"hidden_size\":3,\"output_size\":0}", 400, "output_size"},
    {"mlp unknown activation", "POST", "/mlp", NULL, "{\"input\":[1,2],\"hidden_layers\":1,\"hidden_size\":3,\"output_size\":2,\"activation\":\"leaky\"}", 400, "activation"},
    {"mlp input of strings", "POST", "/mlp", NULL, "{\"input\":[\"a\",\"b\"],\"hidden_layers\":1,\"hidden_size\":3,\"output_size\":2}", 400, "input"},
    {"mlp output_size as bool", "POST", "/mlp", NULL, "{\"input\":[1,2],\"hidden_layers\":1,\"hidden_size\":3,\"output_size\":true}", 400, "output_size"},
    /* cnn */
    {"cnn unknown layer type", "POST", "/cnn", NULL, "{\"input\":" IMG3 ",\"architecture\":[{\"type\":\"transformer\"}]}", 400, "architecture[0].type"},
    {"cnn architecture not a list", "POST", "/cnn", NULL, "{\"input\":" IMG3 ",\"architecture\":7}", 400, "architecture"},
    /* training */
    {"train epochs 0", "POST", "/train/rnn", NULL, "{\"epochs\":0}", 400, "epochs"},
    {"train epochs over the limit", "POST", "/train/lstm", NULL, "{\"epochs\":101}", 413, "epochs"},
    {"train hidden_size over the limit", "POST", "/train/gru", NULL, "{\"hidden_size\":65}", 413, "hidden_size"},
    {"train learning_rate string", "POST", "/train/rnn", NULL, "{\"learning_rate\":\"fast\"}", 400, "learning_rate"},
    {"train samples non-integer", "POST", "/train/rnn", NULL, "{\"samples\":10.5}", 400, "samples"},
    {"train stream not boolean", "POST", "/train/gru", NULL, "{\"stream\":\"yes\"}", 400, "stream"},
    {"train malformed JSON", "POST", "/train/gru", NULL, "{\"epochs\":", 400, "body"},
    /* routing and size */
    {"unknown model", "POST", "/train/transformer", NULL, "{}", 404, "path"},
    {"unknown path", "POST", "/convolve", NULL, "{}", 404, "path"},
    {"sub-path", "GET", "/conv/extra", NULL, NULL, 404, "path"},
    {"GET on a POST endpoint", "GET", "/train/rnn", NULL, NULL, 405, "method"},
    {"PUT on a POST endpoint", "PUT", "/conv", NULL, "{}", 405, "method"},
    {"DELETE on a GET endpoint", "DELETE", "/metrics", NULL, NULL, 405, "method"},
    {"body over the limit", "POST", "/conv", NULL, "@BIG@", 413, "body"},
    {"body over the limit (training)", "POST", "/train/rnn", NULL, "@BIG@", 413, "body"},
};
#define NTABLE (sizeof TABLE / sizeof TABLE[0])

static char *b64_file(const char *path) {
    size_t len = 0;
    char *data = th_read_file(path, &len);
    cr_assert(data, "%s", path);
    char *b = th_base64((const unsigned char *)data, len);
    free(data);
    return b;
}

/* Replace one @NAME@ placeholder (at most one per body). */
static char *expand(const char *body) {
    if (!body) return NULL;
    const char *at = strchr(body, '@');
    const char *end = at ? strchr(at + 1, '@') : NULL;
    if (!at || !end || end == at + 1 || strspn(at + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") !=
                                             (size_t)(end - at - 1))
        return strdup(body);
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)(end - at - 1), at + 1);
    char *val = NULL;
    if (strcmp(name, "GIF") == 0) val = b64_file(TH_DATA "/http_tiny.gif");
    else if (strcmp(name, "PNG16") == 0) val = b64_file(TH_DATA "/http_16bit.png");
    else if (strcmp(name, "WIDE") == 0) val = b64_file(TH_DATA "/http_wide.png");
    else if (strcmp(name, "SMALL") == 0) val = b64_file(TH_DATA "/http_small.png");
    else if (strcmp(name, "SAMPLE") == 0) val = b64_file("web/sample.png");
    else if (strcmp(name, "DEEP") == 0) {
        size_t d = 5000;
        val = malloc(2 * d + 20);
        size_t k = (size_t)sprintf(val, "{\"input\":");
        for (size_t i = 0; i < d; i++) val[k++] = '[';
        for (size_t i = 0; i < d; i++) val[k++] = ']';
        val[k++] = '}';
        val[k] = '\0';
        return val; /* the whole body */
    } else if (strcmp(name, "BIG") == 0) {
        size_t n = MAX_BODY + 1000;
        val = malloc(n + 1);
        memset(val, ' ', n);
        val[0] = '{';
        val[n - 1] = '}';
        val[n] = '\0';
        return val;
    }
    cr_assert(val, "unknown placeholder %s", name);
    size_t n = strlen(body) + strlen(val) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int)(at - body), body, val, end + 1);
    free(val);
    return out;
}

Test(errors, table_of_bad_requests, .timeout = 120) {
    cr_assert_geq(NTABLE, 40);
    th_server s;
    th_start(&s, ARGS);
    int failures = 0;
    for (size_t i = 0; i < NTABLE; i++) {
        const bad *b = &TABLE[i];
        char *body = expand(b->body);
        th_resp r;
        int rc = th_request(&s, b->method, b->path, b->ctype, body, body ? strlen(body) : 0, &r);
        free(body);
        if (rc != 0) {
            fprintf(stderr, "FAIL [%s]: transport error %d\n", b->name, rc);
            failures++;
            th_resp_free(&r);
            continue;
        }
        cJSON *j = cJSON_ParseWithLength(r.body, r.len);
        cJSON *e = cJSON_GetObjectItem(j, "error");
        const char *field = cJSON_GetStringValue(cJSON_GetObjectItem(e, "field"));
        cJSON *st = cJSON_GetObjectItem(e, "status");
        const char *code = cJSON_GetStringValue(cJSON_GetObjectItem(e, "code"));
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(e, "message"));
        int ok = r.status == b->status && e && cJSON_IsNumber(st) &&
                 st->valuedouble == (double)b->status && code && msg && *msg &&
                 strstr(r.content_type, "application/json") &&
                 (b->field ? field && strcmp(field, b->field) == 0 : field == NULL);
        if (b->status == 405) ok = ok && r.allow[0];
        if (!ok) {
            fprintf(stderr, "FAIL [%s]: want %d field %s, got %ld: %.300s\n", b->name, b->status,
                    b->field ? b->field : "(none)", r.status, r.body);
            failures++;
        }
        cJSON_Delete(j);
        th_resp_free(&r);
    }
    /* Nothing above may have hurt the daemon. */
    th_resp r;
    cr_assert_eq(th_post_json(&s, "/conv", "{\"input\":" IMG3 ",\"kernel\":\"box\"}", &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    th_resp_free(&r);
    cr_assert_eq(th_stop(&s), 0);
    cr_assert_eq(failures, 0, "%d of %zu bad requests got the wrong answer (see above)", failures,
                 NTABLE);
}

/* ------------------------------------------------ 413 before the body is read (raw socket) */


/* A raw connection with the head of a JSON POST sent; `framing` is its Content-Length or
 * Transfer-Encoding line (without CRLF). */
static int post_head(const th_server *s, const char *path, const char *framing) {
    int fd = th_connect(s->port);
    char head[256];
    int n = snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     "application/json\r\n%s\r\n\r\n", path, framing);
    th_send(fd, head, (size_t)n);
    return fd;
}

Test(errors, declared_oversized_body_refused_before_it_is_sent, .timeout = 60) {
    th_server s;
    th_start(&s, ARGS);
    int fd = post_head(&s, "/conv", "Content-Length: 100000000");
    th_send(fd, "{\"input\": [", 11);
    /* We sent 11 of the 100 MB: the answer must come now, not after the rest. */
    char *resp = th_recv(fd, 5 * th_slow());
    cr_assert(strncmp(resp, "HTTP/1.1 413", 12) == 0, "got: %.200s", resp);
    cr_assert(strstr(resp, "\"field\":\"body\""), "%s", resp);
    free(resp);
    close(fd);
    cr_assert_eq(th_stop(&s), 0);
}

Test(errors, chunked_oversized_upload_refused_mid_stream, .timeout = 60) {
    th_server s;
    th_start(&s, ARGS);
    int fd = post_head(&s, "/mlp", "Transfer-Encoding: chunked");
    /* 2 chunks of 40000 bytes (80000 > 65536), and no terminating chunk: the upload is
     * "still going" when the server must answer. */
    static char chunk[40000];
    memset(chunk, ' ', sizeof chunk);
    for (int i = 0; i < 2; i++) {
        char sz[32];
        int k = snprintf(sz, sizeof sz, "%zx\r\n", sizeof chunk);
        th_send(fd, sz, (size_t)k);
        th_send(fd, chunk, sizeof chunk);
        th_send(fd, "\r\n", 2);
    }
    char *resp = th_recv(fd, 5 * th_slow());
    cr_assert(strncmp(resp, "HTTP/1.1 413", 12) == 0, "got: %.200s", resp);
    cr_assert(strstr(resp, "\"field\":\"body\""), "%s", resp);
    free(resp);
    close(fd);
    /* And through libcurl's chunked upload as a client would do it. */
    size_t big = 3 * MAX_BODY;
    char *body = malloc(big);
    memset(body, ' ', big);
    const char *h[] = {"Content-Type: application/json", NULL};
    th_resp r;
    cr_assert_eq(th_request_ex(&s, "POST", "/conv", h, body, big, 1, &r), 0);
    cr_assert_eq(r.status, 413);
    cJSON *j = th_json(&r);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"),
                                                               "field")), "body");
    cJSON_Delete(j);
    th_resp_free(&r);
    free(body);
    /* A chunked body under the limit is fine. */
    const char *ok = "{\"input\":" IMG3 ",\"kernel\":\"box\"}";
    cr_assert_eq(th_request_ex(&s, "POST", "/conv", h, ok, strlen(ok), 1, &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    th_resp_free(&r);
    cr_assert_eq(th_stop(&s), 0);
}

/* Broken HTTP (answered by libmicrohttpd itself) leaves the daemon serving. */
Test(errors, broken_http_does_not_hurt_the_daemon, .timeout = 60) {
    th_server s;
    th_start(&s, ARGS);
    static const char *const junk[] = {
        "GARBAGE\r\n\r\n",
        "POST /conv HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        "POST /conv HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST /conv HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "GET /healthz HTTP/9.9\r\n\r\n",
        "\x01\x02\x03\xff\xfe\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        int fd = th_connect(s.port);
        send(fd, junk[i], strlen(junk[i]), MSG_NOSIGNAL);
        char *resp = th_recv(fd, 1.0 * th_slow());
        cr_assert(resp[0] == '\0' || strncmp(resp, "HTTP/1.", 7) == 0, "junk %zu: %.100s", i, resp);
        cr_assert(strncmp(resp, "HTTP/1.1 500", 12) != 0, "junk %zu got a 500", i);
        free(resp);
        close(fd);
    }
    char longurl[70000] = "/";
    memset(longurl + 1, 'a', sizeof longurl - 2);
    th_resp r;
    cr_assert_eq(th_request(&s, "GET", longurl, NULL, NULL, 0, &r), 0);
    cr_assert_geq(r.status, 400);
    cr_assert_lt(r.status, 500);
    th_resp_free(&r);
    cr_assert_eq(th_request(&s, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    th_resp_free(&r);
    cr_assert_eq(th_metric(&s, "nnlab_http_requests_total{path=\"/conv\",status=\"500\"}"), -1,
                 "no 500 was counted");
    cr_assert_eq(th_stop(&s), 0);
}

/* Request heads libmicrohttpd accepts but cannot serve (a transfer coding other than chunked: it
 * would read the body until the connection closes, i.e. wait for the timeout), heads with an
 * ambiguous body length, and heads over the size limit that still fit libmicrohttpd's buffer:
 * answered at once, in JSON, before any body is read. */
Test(errors, framing_errors_are_answered_at_once_in_json, .timeout = 60) {
    th_server s;
    th_start(&s, ARGS);
    static char big[48 << 10]; /* a 40 KiB header: over the 32 KiB limit, inside MHD's 64 KiB */
    snprintf(big, sizeof big, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %0*d\r\n\r\n", 40 << 10, 0);
    static const struct {
        const char *raw;
        int status;
        const char *field;
    } cases[] = {
        {"POST /conv HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b\x08", 501,
         "Transfer-Encoding"},
        {"POST /train/gru HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\n",
         501, "Transfer-Encoding"},
        {"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", 501,
         "Transfer-Encoding"},
        {"POST /conv HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n"
         "\r\n2\r\n{}\r\n0\r\n\r\n", 400, "Transfer-Encoding"},
        {"POST /conv HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400,
         "Content-Length"},
        {big, 431, "headers"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = th_connect(s.port);
        double t0 = th_now();
        th_send(fd, cases[i].raw, strlen(cases[i].raw));
        size_t n = 0;
        char *raw = th_recv_all(fd, 5 * th_slow(), &n); /* the server closes after answering */
        double t = th_now() - t0;
        close(fd);
        th_raw a;
        cr_assert_eq(th_parse_raw(raw, n, &a), 0, "case %zu: an answer: %.200s", i, raw);
        cr_assert_eq(a.status, cases[i].status, "case %zu: %.300s", i, raw);
        cr_assert_lt(t, 2 * th_slow(), "case %zu: answered after %.2f s", i, t);
        cJSON *j = cJSON_ParseWithLength(a.body, a.len);
        cr_assert(j, "case %zu: JSON body: %.200s", i, a.body);
        cJSON *e = cJSON_GetObjectItem(j, "error");
        cr_assert_eq(cJSON_GetObjectItem(e, "status")->valuedouble, cases[i].status);
        cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(e, "field")), cases[i].field);
        cJSON_Delete(j);
        free(a.body);
        free(raw);
    }
    cr_assert_eq(th_stop(&s), 0);
}

/* ------------------------------------ a client still sending when the early 413 comes reads it */

/* The daemon's answer is readable on fd (it came while the body was still being sent). */
static void await_answer(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    cr_assert_eq(poll(&p, 1, (int)(5000 * th_slow())), 1, "no answer while the body was coming");
}

/* Send what a client that has not looked at its socket yet still sends after the answer came:
 * every send must succeed (the daemon reads and drops it; a close would reset the connection and
 * fail these sends before the client reads its answer: curl's error 55). Then the answer, a 413
 * on the body, is there to read up to a clean end. */
static void send_rest_and_read_413(int fd, const char *rest, size_t n) {
    th_sleep(0.3); /* slower than the answer; longer than a 250 ms linger */
    for (size_t off = 0; off < n; off += 8192) {
        th_send(fd, rest + off, n - off < 8192 ? n - off : 8192);
        th_sleep(0.005);
    }
    shutdown(fd, SHUT_WR);
    size_t len = 0;
    char *raw = th_recv_all(fd, 10 * th_slow(), &len);
    th_raw a;
    cr_assert_eq(th_parse_raw(raw, len, &a), 0, "a whole answer: %.200s", raw);
    cr_assert_eq(a.status, 413, "%.300s", raw);
    cr_assert(strstr(a.body, "\"field\":\"body\""), "%s", a.body);
    free(a.body);
    free(raw);
}

Test(errors, declared_oversized_body_sent_anyway_gets_its_413, .timeout = 60) {
    th_server s;
    th_start(&s, ARGS);
    size_t n = 3 * MAX_BODY; /* a body over the limit, all of it sent as declared */
    char *body = malloc(n);
    memset(body, ' ', n);
    char length[64];
    snprintf(length, sizeof length, "Content-Length: %zu", n);
    int fd = post_head(&s, "/conv", length);
    th_send(fd, body, 1000);
    await_answer(fd);
    send_rest_and_read_413(fd, body + 1000, n - 1000);
    close(fd);
    free(body);
    cr_assert_eq(th_stop(&s), 0);
}

Test(errors, chunked_oversized_body_sent_on_gets_its_413, .timeout = 60) {
    th_server s;
    th_start(&s, ARGS);
    /* 10 chunks of 16 KiB and the last chunk: the cap is passed in the fifth */
    static char chunks[10 * (16384 + 16) + 8];
    size_t n = 0, fifth = 0;
    for (int i = 0; i < 10; i++) {
        n += (size_t)sprintf(chunks + n, "4000\r\n");
        memset(chunks + n, ' ', 16384);
        n += 16384;
        n += (size_t)sprintf(chunks + n, "\r\n");
        if (i == 4) fifth = n;
    }
    n += (size_t)sprintf(chunks + n, "0\r\n\r\n");
    int fd = post_head(&s, "/mlp", "Transfer-Encoding: chunked");
    th_send(fd, chunks, fifth);
    await_answer(fd);
    send_rest_and_read_413(fd, chunks + fifth, n - fifth);
    close(fd);
    cr_assert_eq(th_stop(&s), 0);
}

/* The same through libcurl, which reads the answer as soon as it sees it but fails the transfer
 * (error 55, "send failure") when a send meets the reset first: here it hands over its body
 * 16 KiB at a time and stops for 0.5 s after two pieces (one the daemon had not read when it
 * answered), as a loaded machine may stop it. */
Test(errors, curl_pausing_mid_upload_gets_the_413, .timeout = 60) {
    th_server s;
    th_start(&s, ARGS);
    size_t n = 3 * MAX_BODY;
    char *body = malloc(n);
    memset(body, ' ', n);
    for (int chunked = 0; chunked < 2; chunked++) {
        th_resp r;
        int rc = th_upload_paused(&s, "/conv", body, n, chunked, chunked ? 5 * 16384 : 2 * 16384, 0.5, &r);
        cr_assert_eq(rc, 0, "%s upload: curl error %d", chunked ? "chunked" : "declared", rc);
        cr_assert_eq(r.status, 413, "%s", r.body);
        cJSON *j = th_json(&r);
        cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"),
                                                                   "field")), "body");
        cJSON_Delete(j);
        th_resp_free(&r);
    }
    free(body);
    cr_assert_eq(th_stop(&s), 0);
}
