/* test_http_basic.c — the GET endpoints, routing, configuration and a clean stop, against the
 * real daemon. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_support.h"

static th_server srv;

static void up(void) { th_start(&srv, NULL); }
static void down(void) { cr_assert_eq(th_stop(&srv), 0, "daemon must exit 0 on SIGTERM"); }

TestSuite(basic, .init = up, .fini = down, .timeout = 60);

Test(basic, healthz_reports_status_version_and_limits) {
    th_resp r;
    th_expect(&srv, "GET", "/healthz", NULL, 200, &r);
    cr_assert(strstr(r.content_type, "application/json"));
    cJSON *j = th_json(&r);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "status")), "ok");
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(j, "version")));
    cJSON *lim = cJSON_GetObjectItem(j, "limits");
    cr_assert(cJSON_IsObject(lim));
    cr_assert_eq(cJSON_GetObjectItem(lim, "max_body_bytes")->valuedouble, 16.0 * 1024 * 1024);
    cr_assert_eq(cJSON_GetObjectItem(lim, "max_image_side")->valuedouble, 4096);
    cr_assert_eq(cJSON_GetObjectItem(lim, "max_tensor_elems")->valuedouble, 16.0 * 1024 * 1024);
    static const char *const keys[] = {"max_work_flops", "max_samples", "max_epochs",
                                       "max_length", "max_hidden", "max_trainings",
                                       "max_connections", "timeout_s"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        cJSON *v = cJSON_GetObjectItem(lim, keys[i]);
        cr_assert(cJSON_IsNumber(v) && v->valuedouble > 0, "limits.%s", keys[i]);
    }
    /* The connection guard's defaults (a class behind one address fits in them). */
    cr_assert_eq(cJSON_GetObjectItem(lim, "max_connections")->valuedouble, 256);
    cr_assert_eq(cJSON_GetObjectItem(lim, "max_connections_per_ip")->valuedouble, 128);
    cr_assert_eq(cJSON_GetObjectItem(lim, "reserve_connections")->valuedouble, 16);
    cr_assert_eq(cJSON_GetObjectItem(lim, "request_timeout_s")->valuedouble, 60);
    cr_assert_eq(cJSON_GetObjectItem(lim, "max_header_bytes")->valuedouble, 32768);
    cr_assert_geq(cJSON_GetObjectItem(j, "open_connections")->valuedouble, 1);
    cJSON_Delete(j);
    th_resp_free(&r);
}

/* healthz lists every layer-type spelling /cnn accepts (the page reads this list), and /cnn
 * runs an architecture written with each of them. */
Test(basic, healthz_lists_the_layer_types_cnn_accepts) {
    th_resp r;
    cr_assert_eq(th_request(&srv, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    cJSON *j = th_json(&r);
    th_resp_free(&r);
    cJSON *types = cJSON_GetObjectItem(j, "layer_types");
    cr_assert(cJSON_IsObject(types));
    static const char *const canon[] = {"conv", "pool", "global_pool", "mlp"};
    static const char *const layer[] = {
        "{\"type\":\"%s\",\"filters\":2,\"size\":3}", "{\"type\":\"%s\",\"size\":2}",
        "{\"type\":\"%s\"}", "{\"type\":\"%s\",\"hidden_layers\":0,\"output_size\":3}"};
    size_t total = 0;
    for (size_t t = 0; t < 4; t++) {
        cJSON *names = cJSON_GetObjectItem(types, canon[t]), *name;
        cr_assert(cJSON_IsArray(names) && cJSON_GetArraySize(names) >= 1, "layer_types.%s", canon[t]);
        cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(names, 0)), canon[t]);
        cJSON_ArrayForEach(name, names) {
            char arch[4][96], body[512];
            for (size_t k = 0; k < 4; k++)
                snprintf(arch[k], sizeof arch[k], layer[k], k == t ? name->valuestring : canon[k]);
            snprintf(body, sizeof body, "{\"input\":{\"shape\":[6,6,1],\"data\":[%s]},"
                     "\"architecture\":[%s,%s,%s,%s]}",
                     "0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5",
                     arch[0], arch[1], arch[2], arch[3]);
            cr_assert_eq(th_post_json(&srv, "/cnn", body, &r), 0);
            cr_assert_eq(r.status, 200, "/cnn with type \"%s\": %ld %.*s", name->valuestring, (long)r.status,
                         (int)r.len, r.body);
            th_resp_free(&r);
            total++;
        }
    }
    cr_assert_eq(cJSON_GetArraySize(types), 4);
    cr_assert_geq(total, 11, "conv/convolution, pool/pooling, 3 global pools, mlp/dense/fc/linear");
    cJSON_Delete(j);
}

/* The answer's body is the file at path (from the repository root) byte for byte. */
static void expect_body_is_file(const th_resp *r, const char *path) {
    size_t len = 0;
    char *want = th_read_file(path, &len);
    cr_assert(want, "%s", path);
    cr_assert(r->len == len && memcmp(r->body, want, len) == 0, "the body must be %s byte for byte", path);
    free(want);
}

Test(basic, root_serves_the_page) {
    th_resp r;
    th_expect(&srv, "GET", "/", NULL, 200, &r);
    cr_assert(strstr(r.content_type, "text/html"), "content type %s", r.content_type);
    expect_body_is_file(&r, "web/index.html");
    th_resp_free(&r);
}

Test(basic, sample_png_is_embedded_with_its_type) {
    th_resp r;
    th_expect(&srv, "GET", "/sample.png", NULL, 200, &r);
    cr_assert_str_eq(r.content_type, "image/png");
    expect_body_is_file(&r, "web/sample.png");
    cr_assert(memcmp(r.body, "\x89PNG", 4) == 0);
    th_resp_free(&r);
}

Test(basic, head_gives_headers_only) {
    th_resp r;
    th_expect(&srv, "HEAD", "/healthz", NULL, 200, &r);
    cr_assert_eq(r.len, 0);
    th_resp_free(&r);
}

Test(basic, openapi_is_served_as_json) {
    th_resp r;
    th_expect(&srv, "GET", "/openapi.json", NULL, 200, &r);
    cr_assert(strstr(r.content_type, "application/json"));
    cJSON *j = th_json(&r);
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(j, "openapi"));
    cr_assert(v && v[0] == '3', "an OpenAPI 3 document");
    expect_body_is_file(&r, "server/openapi.json");
    cJSON_Delete(j);
    th_resp_free(&r);
}

/* The contract's error object: the response's status, `code` and `field`. */
static void expect_error_object(const th_resp *r, const char *code, const char *field) {
    cJSON *j = th_json(r), *e = cJSON_GetObjectItem(j, "error");
    cr_assert_eq(cJSON_GetObjectItem(e, "status")->valuedouble, (double)r->status);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(e, "code")), code);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(e, "field")), field);
    cJSON_Delete(j);
}

Test(basic, unknown_path_is_404_json) {
    th_resp r;
    th_expect(&srv, "GET", "/no/such/thing", NULL, 404, &r);
    expect_error_object(&r, "not_found", "path");
    th_resp_free(&r);
}

Test(basic, wrong_method_is_405_with_allow) {
    th_resp r;
    th_expect_post_only(&srv, "/conv");
    th_expect(&srv, "POST", "/healthz", "{}", 405, &r);
    cr_assert(strstr(r.allow, "GET"));
    expect_error_object(&r, "method_not_allowed", "method");
    th_resp_free(&r);
}

Test(basic, metrics_count_requests_by_path_and_status) {
    th_resp r;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(th_request(&srv, "GET", "/healthz", NULL, NULL, 0, &r), 0);
        th_resp_free(&r);
    }
    cr_assert_eq(th_request(&srv, "GET", "/nope", NULL, NULL, 0, &r), 0);
    th_resp_free(&r);
    /* Counted when complete, just after the client read the answer: wait for the counts. */
    double wait = 5 * th_slow();
    cr_assert_eq(th_wait_metric(&srv, "nnlab_http_requests_total{path=\"/healthz\",status=\"200\"}", 3, wait), 3);
    cr_assert_eq(th_wait_metric(&srv, "nnlab_http_requests_total{path=\"other\",status=\"404\"}", 1, wait), 1);
    cr_assert_eq(th_metric(&srv, "nnlab_trainings_active"), 0);
    /* The /metrics request being answered is itself in flight (the one before it may be too
     * for a moment). */
    cr_assert_eq(th_wait_metric(&srv, "nnlab_http_requests_in_flight", 1, wait), 1);
    cr_assert_eq(th_metric(&srv,
                           "nnlab_http_request_duration_seconds_count{path=\"/healthz\"}"), 3);
    cr_assert_eq(th_metric(&srv, "nnlab_http_request_duration_seconds_bucket"
                                 "{path=\"/healthz\",le=\"+Inf\"}"), 3);
    cr_assert_eq(th_request(&srv, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    cr_assert(strstr(r.content_type, "text/plain"));
    cr_assert(strstr(r.body, "# TYPE nnlab_http_request_duration_seconds histogram"));
    th_resp_free(&r);
}

Test(basic, request_log_has_one_line_per_request) {
    th_resp r;
    cr_assert_eq(th_request(&srv, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    size_t bytes = r.len;
    th_resp_free(&r);
    cr_assert_eq(th_request(&srv, "DELETE", "/mlp", NULL, NULL, 0, &r), 0);
    th_resp_free(&r);
    char want[64];
    snprintf(want, sizeof want, "GET /healthz 200 %zu ", bytes);
    const char *const lines[] = {want, "DELETE /mlp 405 ", NULL};
    char *log = th_wait_log(&srv, lines, 5 * th_slow());
    cr_assert(strstr(log, want), "log line '%s...' in:\n%s", want, log);
    cr_assert(strstr(log, "DELETE /mlp 405 "), "%s", log);
    cr_assert(strstr(log, "ms\n"));
    free(log);
}

/* --------------------------------------------------------------- configuration */

static char *run_capture(const char *cmd, int *status) {
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    char *out = calloc(1, 65536);
    size_t n = fread(out, 1, 65535, p);
    out[n] = '\0';
    *status = pclose(p);
    return out;
}

Test(config, help_lists_every_flag_with_its_variable) {
    const char *bin = getenv("NNLABD_BIN") ? getenv("NNLABD_BIN") : "build/nnlabd";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --help", bin);
    int st = 0;
    char *out = run_capture(cmd, &st);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    static const char *const flags[] = {
        "--host", "NNLAB_HOST", "--port", "NNLAB_PORT", "--threads", "--max-connections",
        "--timeout", "--web-root", "--max-body", "--max-image-side", "--max-tensor-elems",
        "--max-work", "--max-samples", "--max-epochs", "--max-length", "--max-hidden",
        "--max-trainings", "NNLAB_MAX_TRAININGS", "--max-memory", "off = no limit", "16777216",
        "--max-connections-per-ip", "NNLAB_MAX_CONNECTIONS_PER_IP", "--reserve-connections",
        "NNLAB_RESERVE_CONNECTIONS", "--request-timeout", "NNLAB_REQUEST_TIMEOUT",
        "8080", "127.0.0.1"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        cr_assert(strstr(out, flags[i]), "--help mentions %s:\n%s", flags[i], out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s --port banana 2>&1", bin);
    out = run_capture(cmd, &st);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "a bad value is a usage error");
    cr_assert(strstr(out, "--port"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s --max-memory offf 2>&1", bin);
    out = run_capture(cmd, &st);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "only the word 'off' is accepted");
    cr_assert(strstr(out, "--max-memory"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s --frobnicate 1 2>&1", bin);
    out = run_capture(cmd, &st);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    free(out);
}

Test(config, flags_override_environment_override_defaults, .timeout = 60) {
    setenv("NNLAB_MAX_BODY", "12345", 1);
    setenv("NNLAB_MAX_TRAININGS", "3", 1);
    const char *args[] = {"--max-trainings", "2", "--max-hidden=17", NULL};
    th_server s;
    th_start(&s, args);
    unsetenv("NNLAB_MAX_BODY");
    unsetenv("NNLAB_MAX_TRAININGS");
    th_resp r;
    cr_assert_eq(th_request(&s, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    cJSON *j = th_json(&r), *lim = cJSON_GetObjectItem(j, "limits");
    cr_assert_eq(cJSON_GetObjectItem(lim, "max_body_bytes")->valuedouble, 12345);
    cr_assert_eq(cJSON_GetObjectItem(lim, "max_trainings")->valuedouble, 2);
    cr_assert_eq(cJSON_GetObjectItem(lim, "max_hidden")->valuedouble, 17);
    cr_assert_gt(cJSON_GetObjectItem(lim, "max_memory_bytes")->valuedouble, 0, "auto budget");
    cJSON_Delete(j);
    th_resp_free(&r);
    cr_assert_eq(th_stop(&s), 0);

    /* --max-memory off: no budget (reported as 0), from the flag or the environment */
    const char *off[] = {"--max-memory", "off", NULL};
    th_start(&s, off);
    cr_assert_eq(th_request(&s, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    j = th_json(&r);
    lim = cJSON_GetObjectItem(j, "limits");
    cr_assert_eq(cJSON_GetObjectItem(lim, "max_memory_bytes")->valuedouble, 0);
    cJSON_Delete(j);
    th_resp_free(&r);
    cr_assert_eq(th_stop(&s), 0);
    setenv("NNLAB_MAX_MEMORY", "12000000", 1);
    const char *none[] = {NULL};
    th_start(&s, none);
    unsetenv("NNLAB_MAX_MEMORY");
    cr_assert_eq(th_metric(&s, "nnlab_memory_budget_bytes"), 12e6);
    cr_assert_eq(th_stop(&s), 0);
}

Test(config, web_root_serves_files_from_disk, .timeout = 60) {
    char dir[] = "/tmp/nnlab-webroot-XXXXXX";
    cr_assert(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/index.html", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs("<p>from disk</p>", f);
    fclose(f);
    const char *args[] = {"--web-root", dir, NULL};
    th_server s;
    th_start(&s, args);
    th_resp r;
    cr_assert_eq(th_request(&s, "GET", "/", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "<p>from disk</p>");
    th_resp_free(&r);
    cr_assert_eq(th_request(&s, "GET", "/../etc/passwd", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 404);
    th_resp_free(&r);
    cr_assert_eq(th_stop(&s), 0);
    unlink(path);
    rmdir(dir);
}

/* --------------------------------------------------------------- connection limits */

/* Seconds until the server closes fd (reads EOF), at most `limit`; returns limit if it didn't. */
static double time_to_close(int fd, double limit) {
    double t0 = th_now();
    while (th_now() - t0 < limit) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) > 0) {
            char c;
            if (recv(fd, &c, 1, 0) <= 0) return th_now() - t0;
        }
    }
    return limit;
}

Test(config, idle_connections_time_out, .timeout = 60) {
    const char *args[] = {"--timeout", "1", NULL};
    th_server s;
    th_start(&s, args);
    int fd = th_connect(s.port);
    send(fd, "GET /hea", 8, MSG_NOSIGNAL); /* half a request, then silence */
    double t = time_to_close(fd, 10 * th_slow());
    cr_assert(t >= 0.5 && t < 5 * th_slow(), "closed after %.2f s (timeout 1 s)", t);
    close(fd);
    cr_assert_eq(th_stop(&s), 0);
}

/* The hard limit (with no reserve: the guard closes nobody to make room). */
Test(config, connection_limit_is_enforced, .timeout = 60) {
    const char *args[] = {"--max-connections", "2", "--reserve-connections", "0", NULL};
    th_server s;
    th_start(&s, args);
    int a = th_connect(s.port), b = th_connect(s.port);
    th_sleep(0.2);
    int c = th_connect(s.port); /* accepted by the kernel, closed by the daemon */
    double t = time_to_close(c, 3 * th_slow());
    cr_assert_lt(t, 2 * th_slow(), "the third connection must be refused");
    close(c);
    close(a);
    close(b);
    /* Capacity is back once the daemon has ended the two connections (their threads notice the
     * close and libmicrohttpd cleans up after them): until then a newcomer is still refused. */
    th_resp r;
    int rc = -1;
    for (double end = th_now() + 5 * th_slow(); rc != 0 && th_now() < end; th_sleep(0.05)) {
        rc = th_request(&s, "GET", "/healthz", NULL, NULL, 0, &r);
        if (rc == 0) cr_assert_eq(r.status, 200);
        th_resp_free(&r);
    }
    cr_assert_eq(rc, 0, "the connections were never given back (curl error %d)", rc);
    cr_assert_eq(th_stop(&s), 0);
}

/* Every top-level page file is embedded byte for byte, with a type from its extension. */
Test(basic, every_page_file_is_served_with_its_type) {
    DIR *d = opendir("web");
    cr_assert(d);
    struct dirent *e;
    int n = 0;
    static const struct { const char *ext, *type; } T[] = {
        {".html", "text/html"}, {".js", "text/javascript"}, {".css", "text/css"},
        {".png", "image/png"}, {".json", "application/json"}, {".svg", "image/svg+xml"}};
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[512], url[512];
        snprintf(path, sizeof path, "web/%s", e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        snprintf(url, sizeof url, "/%s", e->d_name);
        th_resp r;
        cr_assert_eq(th_request(&srv, "GET", url, NULL, NULL, 0, &r), 0);
        cr_assert_eq(r.status, 200, "%s", url);
        size_t len = 0;
        char *want = th_read_file(path, &len);
        cr_assert(want && r.len == len && memcmp(want, r.body, len) == 0, "%s differs", url);
        free(want);
        const char *dot = strrchr(e->d_name, '.');
        for (size_t i = 0; dot && i < sizeof T / sizeof T[0]; i++)
            if (strcmp(dot, T[i].ext) == 0)
                cr_assert(strncmp(r.content_type, T[i].type, strlen(T[i].type)) == 0,
                          "%s served as %s", url, r.content_type);
        th_resp_free(&r);
        n++;
    }
    closedir(d);
    cr_assert_geq(n, 2, "index.html and sample.png at least");
}
