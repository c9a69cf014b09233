/* fuzz_train_cnn.c — libFuzzer harness for POST /train/cnn: the input is the body, handed to
 * srv_train_prepare (the daemon's entry for every /train/<model>). A valid job is run to the
 * end under tiny limits (cnn_limits: at most 4 inline images a set, 2 epochs, 4096 parameters,
 * 2e5 flops a step), and its output must keep the contract:
 *   - streamed: every line is one valid JSON object ending in '\n' (never NaN), of a known type,
 *     the first "start" (or "error"), the last "done" or "error", nothing after it, and the run
 *     returns that line's status; not streamed: exactly one body, the done object or an error
 *     object with the status the run returns;
 *   - a done event's "weights" go back in as "init" (the same request otherwise): they must be
 *     accepted (docs/api.md: "init" is "a done event's weights").
 * Fashion-MNIST is never loaded: the data directory is one that does not exist (what --data-dir
 * sets), so a request without both inline sets gets 503 dataset_unavailable, which the
 * contract sends without Retry-After (the only 503 checked that way); with both it trains. */
#include <unistd.h>

#include "fuzz_common.h"
#include "srv_dataset.h"

#define NO_DATA_DIR "/nonexistent/nnlab-fuzz-no-fashion-mnist"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (access(NO_DATA_DIR, F_OK) == 0) {
        fprintf(stderr, "fuzz_train_cnn: %s exists; the harness needs a data dir that does not\n", NO_DATA_DIR);
        abort();
    }
    srv_dataset_set_dir(NO_DATA_DIR);
    return 0;
}

/* fuzz_limits (2e5 flops a step: the smallest nets train, e.g. a 4x4 max pool into a linear
 * layer, 1.3e5 for a 28x28 image by the server's count), with at most 4 images a set: a run of 2
 * epochs then costs about 5-15 ms under the sanitizers, most of it fixed (decoding the images,
 * allocating the net, writing and parsing the done line). */
static void cnn_limits(srv_limits *lim) {
    fuzz_limits(lim);
    lim->max_samples = 4;
}

typedef struct emit_ctx {
    int streaming;
    int lines;
    int ended;        /* saw the final "done" or "error" line */
    int end_status;   /* its status: 200 for done */
    cJSON *done;      /* the done object (owned) */
    char *body;       /* not streamed: the body (owned) */
    size_t body_len;
} emit_ctx;

static const char *json_str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An error line {"type": "error", "status", "code", "message", "field"?, "step"?}. */
static int check_error_line(const cJSON *j, const char *data, size_t len) {
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(j, "field");
    if (!cJSON_IsNumber(st) || st->valuedouble == 200 || !fuzz_status_ok((int)st->valuedouble) ||
        st->valuedouble != (int)st->valuedouble || !json_str(j, "code") || !json_str(j, "message") ||
        (field && !cJSON_IsString(field)))
        fuzz_die("error line is not {type, status (an error of the contract), code, message, field?}", data, len);
    return (int)st->valuedouble;
}

static void on_line(emit_ctx *ctx, const char *data, size_t len) {
    if (len == 0 || data[len - 1] != '\n') fuzz_die("NDJSON line without '\\n'", data, len);
    if (memchr(data, '\n', len - 1)) fuzz_die("several lines in one emit", data, len);
    fuzz_check_json(200, data, len - 1);
    cJSON *j = cJSON_ParseWithLength(data, len - 1);
    const char *type = json_str(j, "type");
    if (!type) fuzz_die("line without a \"type\"", data, len);
    int first = ctx->lines == 0;
    if (!strcmp(type, "start")) {
        if (!first) fuzz_die("start line after the first", data, len);
        const char *ds = json_str(j, "dataset"), *ts = json_str(j, "test_dataset");
        if (!ds || !ts || strcmp(ds, "inline") || strcmp(ts, "inline"))
            fuzz_die("a run without both inline sets started (Fashion-MNIST is unavailable here)", data, len);
    } else if (!strcmp(type, "error")) {
        ctx->ended = 1;
        ctx->end_status = check_error_line(j, data, len);
    } else if (!strcmp(type, "done")) {
        if (first) fuzz_die("done without a start line", data, len);
        ctx->ended = 1;
        ctx->end_status = 200;
        ctx->done = j;
        return;
    } else if (strcmp(type, "progress") && strcmp(type, "epoch")) {
        fuzz_die("line of an unknown type", data, len);
    } else if (first) {
        fuzz_die("first line is neither start nor error", data, len);
    }
    cJSON_Delete(j);
}

static int on_emit(void *vctx, const char *data, size_t len) {
    emit_ctx *ctx = vctx;
    if (ctx->ended) fuzz_die("output after the final line", data, len);
    if (ctx->streaming) {
        on_line(ctx, data, len);
    } else {
        /* one body; its status is what the run returns, so it is checked after the run */
        ctx->body = malloc(len ? len : 1);
        if (!ctx->body) abort();
        memcpy(ctx->body, data, len);
        ctx->body_len = len;
        ctx->ended = 1;
    }
    ctx->lines++;
    return 0;
}

/* A refused request: the contract's error response. 503 dataset_unavailable is the one 503
 * without Retry-After (fuzz_check_response's rule holds for every other), names "dataset", and
 * only comes when the request does not give both sets inline. */
static void check_refusal(const uint8_t *data, size_t size, const srv_response *r) {
    if (r->status == 200) fuzz_die("prepare failed with status 200", r->body, r->len);
    cJSON *j = r->status == 503 && r->body ? cJSON_ParseWithLength(r->body, r->len) : NULL;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const char *code = json_str(e, "code");
    if (code && !strcmp(code, SRV_DATASET_UNAVAILABLE)) {
        if (r->retry_after != 0) fuzz_die("dataset_unavailable with a Retry-After", r->body, r->len);
        const char *field = json_str(e, "field");
        if (!field || strcmp(field, "dataset")) fuzz_die("dataset_unavailable not naming \"dataset\"", r->body, r->len);
        fuzz_check_json(r->status, r->body, r->len);
        cJSON *req = cJSON_ParseWithLength((const char *)data, size);
        const cJSON *ds = cJSON_GetObjectItemCaseSensitive(req, "dataset");
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(req, "test_dataset");
        if (ds && ts && !cJSON_IsNull(ds) && !cJSON_IsNull(ts))
            fuzz_die("dataset_unavailable for a request with both sets inline", r->body, r->len);
        cJSON_Delete(req);
    } else {
        fuzz_check_response(r);
    }
    cJSON_Delete(j);
}

/* The request again with "init": the done event's weights in place of "architecture" / "init":
 * the same net, so it must be admitted. */
static void check_init_round_trip(const srv_limits *lim, const uint8_t *data, size_t size, const cJSON *done) {
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(done, "weights");
    if (!cJSON_IsArray(w)) fuzz_die("done without \"weights\"", "", 0);
    cJSON *req = cJSON_ParseWithLength((const char *)data, size);
    if (!cJSON_IsObject(req)) {
        /* the server's parser took what cJSON's plain one does not: nothing to compare */
        cJSON_Delete(req);
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(req, "architecture");
    cJSON_DeleteItemFromObjectCaseSensitive(req, "init");
    cJSON_AddItemToObject(req, "init", cJSON_Duplicate(w, 1));
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!body) abort();
    srv_response err = {0};
    srv_train_job *job = srv_train_prepare(lim, "cnn", "application/json", body, strlen(body), &err);
    if (!job) {
        fprintf(stderr, "request: %.2000s\n", body);
        fuzz_die("a done event's weights were refused as \"init\"", err.body, err.len);
    }
    srv_train_free(job);
    srv_response_free(&err);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    srv_limits lim;
    cnn_limits(&lim);
    srv_response err = {0};
    srv_train_job *job = srv_train_prepare(&lim, "cnn", "application/json", (const char *)data, size, &err);
    if (!job) {
        check_refusal(data, size, &err);
        srv_response_free(&err);
        return 0;
    }
    srv_response_free(&err);
    emit_ctx ctx = {0};
    ctx.streaming = srv_train_streaming(job);
    int status = srv_train_run(job, on_emit, &ctx, NULL);
    srv_train_free(job);
    if (!fuzz_status_ok(status)) fuzz_die("srv_train_run returned a status outside the contract", "", 0);
    if (ctx.lines == 0) fuzz_die("run emitted nothing", "", 0);
    if (ctx.streaming) {
        if (!ctx.ended) fuzz_die("stream ended without a done/error line", "", 0);
        if (status != ctx.end_status) fuzz_die("the run's status is not its final line's", "", 0);
    } else {
        if (ctx.body_len == 0 || ctx.body[ctx.body_len - 1] != '\n')
            fuzz_die("body without its final '\\n'", ctx.body, ctx.body_len);
        fuzz_check_json(status, ctx.body, ctx.body_len);
        if (status == 200) {
            ctx.done = cJSON_ParseWithLength(ctx.body, ctx.body_len);
            const char *type = json_str(ctx.done, "type");
            if (!type || strcmp(type, "done")) fuzz_die("a 200 body that is not the done object", ctx.body, ctx.body_len);
        }
    }
    if (ctx.done) check_init_round_trip(&lim, data, size, ctx.done);
    cJSON_Delete(ctx.done);
    free(ctx.body);
    return 0;
}
