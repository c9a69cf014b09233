/* fuzz_train.c — libFuzzer harness for POST /train/{rnn,lstm,gru,sweep}: the first byte picks the
 * model (or the sweep), the rest is the body. srv_train_prepare parses and validates it; a valid job is then run
 * to the end under tiny limits (a few hundred flops), and every emitted NDJSON line (or the
 * single non-streaming body) must be valid JSON: a diverging run must say so, never print NaN. */
#include "fuzz_common.h"

typedef struct emit_ctx {
    int streaming;
    int lines;
    int done;  /* saw the final "done" or "error" line */
} emit_ctx;

static int on_emit(void *vctx, const char *data, size_t len) {
    emit_ctx *ctx = vctx;
    if (ctx->done) fuzz_die("output after the final line", data, len);
    if (ctx->streaming) {
        if (len == 0 || data[len - 1] != '\n') fuzz_die("NDJSON line without '\\n'", data, len);
        if (memchr(data, '\n', len - 1)) fuzz_die("several lines in one emit", data, len);
        fuzz_check_json(200, data, len - 1);
        /* the final line's "type" is "done" or "error" (data is not NUL-terminated: parse it) */
        cJSON *j = cJSON_ParseWithLength(data, len - 1);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
        if (cJSON_IsString(type) &&
            (strcmp(type->valuestring, "done") == 0 || strcmp(type->valuestring, "error") == 0))
            ctx->done = 1;
        cJSON_Delete(j);
    }
    ctx->lines++;
    return 0;
}

static const char *const MODELS[] = {"rnn", "lstm", "gru", "sweep"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    srv_limits lim;
    fuzz_limits(&lim);
    const char *model = MODELS[data[0] % 4];
    srv_response err = {0};
    srv_train_job *job =
        srv_train_prepare(&lim, model, "application/json", (const char *)data + 1, size - 1, &err);
    if (!job) {
        if (err.status == 200) fuzz_die("prepare failed with status 200", err.body, err.len);
        fuzz_check_response(&err);
        srv_response_free(&err);
        return 0;
    }
    srv_response_free(&err);
    emit_ctx ctx = {srv_train_streaming(job), 0, 0};
    int status = srv_train_run(job, on_emit, &ctx, NULL);
    if (!fuzz_status_ok(status)) fuzz_die("srv_train_run returned a status outside the contract", "", 0);
    if (ctx.streaming && !ctx.done) fuzz_die("stream ended without a done/error line", "", 0);
    if (ctx.lines == 0) fuzz_die("run emitted nothing", "", 0);
    srv_train_free(job);
    return 0;
}
