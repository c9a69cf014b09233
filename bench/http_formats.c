/* http_formats.c — end-to-end /conv over HTTP with a JSON answer against an .npy answer
 * ("output_format": "npy"), in the same run: the 256x256 sample PNG (web/sample.png) through a
 * layer of 16 generated 3x3 filters, so the answer holds a 254x254x16 output (1 032 256 floats).
 *
 *   build/bench/http_formats [NNLABD] [ROUNDS]      (run from the repository root)
 *
 * Starts the daemon on a free port, then for each round sends one request of each format on its
 * own keep-alive connection, in alternating order (the machine's speed drifts; pairs cancel it),
 * timing each from the start of the request to the last byte of the answer (libcurl). Prints one
 * JSON line per format (median and fastest ms, answer bytes) and one with the ratio of the
 * medians and how many rounds .npy was faster, like the other benchmarks. */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "srv_base64.h"

typedef struct body {
    char *p;
    size_t len, cap;
} body;

static size_t on_data(char *p, size_t size, size_t n, void *ctx) {
    body *b = ctx;
    size_t add = size * n;
    if (b->len + add + 1 > b->cap) {
        b->cap = (b->len + add + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) return 0;
    }
    memcpy(b->p + b->len, p, add);
    b->len += add;
    b->p[b->len] = '\0';
    return add;
}

/* Start the daemon (--port 0) and read the URL it prints. */
static pid_t start(const char *bin, char *url, size_t n) {
    int fd[2];
    if (pipe(fd)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        freopen("/dev/null", "w", stderr);
        execl(bin, bin, "--port", "0", "--host", "127.0.0.1", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    char line[256] = "";
    if (!f || !fgets(line, sizeof line, f) || strncmp(line, "listening on ", 13) != 0) {
        kill(pid, SIGTERM);
        return -1;
    }
    line[strcspn(line, "\n")] = '\0';
    snprintf(url, n, "%s/conv", line + 13);
    return pid;
}

/* One request on h; returns ms, or -1 on failure. */
static double post(CURL *h, const char *json, body *b) {
    b->len = 0;
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    double t0 = bench_now_ms();
    CURLcode rc = curl_easy_perform(h);
    double ms = bench_now_ms() - t0;
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200) {
        fprintf(stderr, "http_formats: %s, status %ld: %.200s\n", curl_easy_strerror(rc), status, b->p ? b->p : "");
        return -1;
    }
    return ms;
}

static char *request(const char *png_b64, int npy) {
    const char *fmt = "{\"image\":\"%s\",\"filters\":{\"count\":16,\"size\":3,\"seed\":1}%s}";
    size_t n = strlen(png_b64) + 128;
    char *s = malloc(n);
    if (s) snprintf(s, n, fmt, png_b64, npy ? ",\"output_format\":\"npy\"" : "");
    return s;
}

static char *read_png_b64(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return srv_base64_encode(buf, n, NULL);
}

static void report(const char *name, double *t, int n, size_t bytes) {
    qsort(t, (size_t)n, sizeof *t, bench_cmp_double);
    double med = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    printf("{\"bench\": \"http_formats\", \"case\": \"conv_256x256_16x3x3_%s\", \"requests\": %d, "
           "\"ms_median\": %.2f, \"ms_min\": %.2f, \"bytes\": %zu}\n", name, n, med, t[0], bytes);
}

static double median(const double *t, int n) {
    double *c = malloc((size_t)n * sizeof *c);
    memcpy(c, t, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, bench_cmp_double);
    double m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
    free(c);
    return m;
}

int main(int argc, char **argv) {
    const char *bin = argc > 1 ? argv[1] : "build/nnlabd";
    int rounds = argc > 2 ? atoi(argv[2]) : 40;
    if (rounds < 1 || rounds > 10000) rounds = 40;
    char *png = read_png_b64("web/sample.png");
    char url[256];
    pid_t pid = png ? start(bin, url, sizeof url) : -1;
    if (pid < 0) {
        fprintf(stderr, "http_formats: cannot start %s (or read web/sample.png)\n", bin);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char *req[2] = {request(png, 0), request(png, 1)};
    CURL *h[2];
    body b[2] = {{0}, {0}};
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    for (int f = 0; f < 2; f++) {
        h[f] = curl_easy_init();
        curl_easy_setopt(h[f], CURLOPT_URL, url);
        curl_easy_setopt(h[f], CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h[f], CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h[f], CURLOPT_WRITEDATA, &b[f]);
    }
    double *t[2] = {malloc((size_t)rounds * sizeof(double)), malloc((size_t)rounds * sizeof(double))};
    int faster = 0, rc = 0;
    for (int f = 0; f < 2; f++)
        if (post(h[f], req[f], &b[f]) < 0) rc = 1; /* warm-up: connections, the conv workspace */
    for (int r = 0; r < rounds && !rc; r++) {
        for (int k = 0; k < 2; k++) {
            int f = (r + k) % 2;
            if ((t[f][r] = post(h[f], req[f], &b[f])) < 0) rc = 1;
        }
        faster += t[1][r] < t[0][r];
    }
    if (!rc && !strstr(b[1].p, "\"npy\":\"")) {
        fprintf(stderr, "http_formats: the npy answer holds no .npy tensor\n");
        rc = 1;
    }
    if (!rc) {
        double ratio = median(t[0], rounds) / median(t[1], rounds);
        report("json", t[0], rounds, b[0].len);
        report("npy", t[1], rounds, b[1].len);
        printf("{\"bench\": \"http_formats\", \"case\": \"conv_256x256_16x3x3\", \"json_over_npy\": %.2f, "
               "\"rounds_npy_faster\": %d, \"rounds\": %d}\n", ratio, faster, rounds);
    }
    for (int f = 0; f < 2; f++) {
        curl_easy_cleanup(h[f]);
        free(req[f]);
        free(b[f].p);
        free(t[f]);
    }
    curl_slist_free_all(hdr);
    curl_global_cleanup();
    free(png);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return rc;
}
