/* srv_sweep.c — POST /train/sweep: final test loss against sequence length for each model; see
 * srv_sweep.h. Each point is an nn_rnn_train_run whose progress callback checks the cancel flag
 * after every optimiser step and reports every epoch. */
#include "srv_sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cancel.h"
#include "nn_rnn_train.h"
#include "srv_budget.h"
#include "srv_buf.h"
#include "srv_endpoints.h"
#include "srv_json.h"
#include "srv_rnn_params.h"
#include "srv_train_line.h"

#define NMODELS 3

typedef struct point {
    nn_rnn_kind model;
    size_t length;
    double train_loss, test_loss, baseline, accuracy, seconds;
} point;

struct srv_sweep {
    nn_rnn_train_config base;      /* the settings; model and lengths set per point */
    nn_rnn_kind models[NMODELS];
    size_t nmodels;
    size_t lengths[SRV_SWEEP_MAX_LENGTHS];
    size_t nlengths;
    int stream;
    double est_seconds;            /* the whole sweep, by the core's cost model */
    double max_seconds;            /* the limit, enforced on the sweep's own CPU time too */
    srv_account mem;               /* the largest point's memory, held for the sweep's lifetime */
    point pts[NMODELS * SRV_SWEEP_MAX_LENGTHS];
    /* run state */
    srv_emit_fn emit;
    void *ctx;
    const atomic_int *cancel;
    int stopped;
    int over_time;                 /* the CPU time passed max_seconds */
    size_t index;                  /* the point being trained (0-based) */
    double t0, cpu0, cpu_checked_ms;
    srv_buf line;
};

void srv_sweep_free(srv_sweep *s) {
    if (!s) return;
    srv_budget_release(&s->mem);
    srv_buf_free(&s->line);
    free(s);
}

static int parse_models(srv_sweep *s, const cJSON *req, srv_err *e) {
    const cJSON *v = srv_json_get(req, "models");
    if (!v) {
        for (int k = 0; k < NMODELS; k++) s->models[k] = (nn_rnn_kind)k;
        s->nmodels = NMODELS;
        return 0;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > NMODELS)
        return srv_fail(e, 400, "models", "models must be a list of 1 to 3 of \"rnn\", \"lstm\", \"gru\"");
    const cJSON *m;
    cJSON_ArrayForEach(m, v) {
        char path[32];
        srv_path_index(path, sizeof path, "models", s->nmodels);
        nn_rnn_kind k;
        if (!cJSON_IsString(m) || nn_rnn_kind_parse(m->valuestring, &k, NULL) != NN_OK)
            return srv_fail(e, 400, path, "%s must be \"rnn\", \"lstm\" or \"gru\"", path);
        for (size_t i = 0; i < s->nmodels; i++)
            if (s->models[i] == k) return srv_fail(e, 400, path, "%s repeats %s", path, nn_rnn_kind_name(k));
        s->models[s->nmodels++] = k;
    }
    return 0;
}

static int parse_lengths(srv_sweep *s, const srv_limits *lim, const cJSON *req, srv_err *e) {
    static const size_t defaults[] = {10, 25, 50, 100, 200};
    const cJSON *v = srv_json_get(req, "lengths");
    if (!v) {
        for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
            if (defaults[i] <= lim->max_length) s->lengths[s->nlengths++] = defaults[i];
        if (s->nlengths == 0) s->lengths[s->nlengths++] = lim->max_length; /* a tiny server */
        return 0;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > SRV_SWEEP_MAX_LENGTHS)
        return srv_fail(e, 400, "lengths", "lengths must be a list of 1 to %d sequence lengths", SRV_SWEEP_MAX_LENGTHS);
    const cJSON *t;
    cJSON_ArrayForEach(t, v) {
        char path[32];
        srv_path_index(path, sizeof path, "lengths", s->nlengths);
        long long T;
        if (srv_json_int(t, path, 2, 1LL << 53, &T, e)) return -1;
        if ((unsigned long long)T > lim->max_length)
            return srv_fail(e, 413, path, "%s is %lld; this server's limit is %zu", path, T, lim->max_length);
        s->lengths[s->nlengths++] = (size_t)T;
    }
    return 0;
}

/* The training settings every point shares (the /train parameters a sweep takes). */
static int parse_settings(srv_sweep *s, const srv_limits *lim, const cJSON *req, srv_err *e) {
    nn_rnn_train_config *c = &s->base;
    struct { const char *key; size_t *dst; size_t max; } sizes[] = {
        {"samples", &c->samples, lim->max_samples},   {"test_samples", &c->test_samples, lim->max_samples},
        {"epochs", &c->epochs, lim->max_epochs},      {"hidden_size", &c->hidden, lim->max_hidden},
        {"batch_size", &c->batch_size, lim->max_samples},
    };
    long long v;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (srv_json_int_opt(req, sizes[i].key, "", 1, 1LL << 53, (long long)*sizes[i].dst, &v, e)) return -1;
        if ((unsigned long long)v > sizes[i].max)
            return srv_fail(e, 413, sizes[i].key, "%s is %lld; this server's limit is %zu", sizes[i].key, v, sizes[i].max);
        *sizes[i].dst = (size_t)v;
    }
    if (c->batch_size > c->samples)
        return srv_fail(e, 400, "batch_size", "batch_size (%zu) must be <= samples (%zu)", c->batch_size, c->samples);
    return srv_rnn_params_optim(req, c, &s->stream, e);
}

/* Admission, as a training's (srv_train.c): each point's optimiser step and test-set evaluation
 * within max_work_flops (the forward costs ~2*G*H*(I + H) + 2H per time step, backward twice
 * that; progress and the time limit are looked at between steps); the whole sweep's estimated
 * time (nn_rnn_train_estimate_seconds, summed) within max_train_seconds; and the memory of its
 * largest point (they run one after another) claimed for the sweep's lifetime. */
static int admit(srv_sweep *s, const srv_limits *lim, srv_err *e) {
    nn_rnn_train_config c = s->base;
    size_t bytes = 0;
    s->est_seconds = 0.0;
    for (size_t i = 0; i < s->nmodels; i++)
        for (size_t k = 0; k < s->nlengths; k++) {
            c.model = s->models[i];
            c.min_length = c.max_length = s->lengths[k];
            double G = (double)nn_rnn_kind_gates(c.model), H = (double)c.hidden;
            double fwd = (2.0 * G * H * (NN_ADDING_FEATURES + H) + 2.0 * H) * (double)c.max_length;
            double step = (double)c.batch_size * 3.0 * fwd, eval = (double)c.test_samples * fwd;
            if (step > lim->max_work_flops)
                return srv_fail(e, 413, "batch_size", "one training step at length %zu needs %.3g flops; the limit is %.3g",
                                c.max_length, step, lim->max_work_flops);
            if (eval > lim->max_work_flops)
                return srv_fail(e, 413, "test_samples", "evaluating the test set at length %zu needs %.3g flops; the limit is %.3g",
                                c.max_length, eval, lim->max_work_flops);
            s->est_seconds += nn_rnn_train_estimate_seconds(&c);
            size_t b = nn_rnn_train_memory_bytes(&c);
            bytes = b > bytes ? b : bytes;
        }
    s->max_seconds = lim->max_train_seconds;
    if (s->est_seconds > lim->max_train_seconds)
        return srv_fail(e, 413, "epochs",
                        "this sweep is estimated at %.*f s of computing (%zu trainings); the limit is %g s "
                        "(--max-train-seconds): ask for fewer epochs, samples, models or lengths",
                        s->est_seconds < 10 ? 1 : 0, s->est_seconds, s->nmodels * s->nlengths, lim->max_train_seconds);
    return srv_budget_claim(&s->mem, srv_budget_add(bytes, (size_t)1 << 20), "samples", e);
}

srv_sweep *srv_sweep_prepare(const srv_limits *lim, const cJSON *req, int *stream, srv_err *e) {
    static const char *const keys[] = {"models", "lengths", "samples", "test_samples", "epochs", "hidden_size",
                                       "learning_rate", "clip", "batch_size", "seed", "stream", NULL};
    if (srv_json_only_keys(req, "", keys, e)) return NULL;
    srv_sweep *s = calloc(1, sizeof *s);
    if (!s) {
        srv_fail(e, 503, NULL, "out of memory");
        return NULL;
    }
    nn_rnn_train_config_default(&s->base);
    s->base.probe_samples = 0;
    if (parse_models(s, req, e) || parse_lengths(s, lim, req, e) || parse_settings(s, lim, req, e) ||
        admit(s, lim, e)) {
        srv_sweep_free(s);
        return NULL;
    }
    *stream = s->stream;
    return s;
}

/* ---- the run --------------------------------------------------------------------------- */

static void send_line(srv_sweep *s) { srv_train_send(&s->line, s->emit, s->ctx, &s->stopped); }

static double elapsed_ms(const srv_sweep *s) { return srv_now_ms() - s->t0; }

static size_t npoints(const srv_sweep *s) { return s->nmodels * s->nlengths; }

static int on_progress(void *ctx, const nn_rnn_train_event *ev) {
    srv_sweep *s = ctx;
    if (srv_train_check(s->cancel, &s->stopped, s->max_seconds, s->cpu0, &s->cpu_checked_ms) == 2) s->over_time = 1;
    if (s->over_time) return 1;
    if (s->stopped || ev->kind != NN_RNN_TRAIN_EPOCH || !s->stream) return s->stopped;
    const point *p = &s->pts[s->index];
    srv_buf *b = &s->line;
    srv_buf_puts(b, "{\"type\":\"progress\",\"model\":");
    srv_buf_str(b, nn_rnn_kind_name(p->model));
    srv_buf_printf(b, ",\"length\":%zu,\"point\":%zu,\"points\":%zu,\"epoch\":%zu,\"epochs\":%zu,\"test_loss\":",
                   p->length, s->index + 1, npoints(s), ev->epoch, ev->epochs);
    srv_buf_double(b, ev->test_loss);
    srv_buf_printf(b, ",\"elapsed_ms\":%.1f}", elapsed_ms(s));
    send_line(s);
    return s->stopped;
}

/* A point's members (no braces): "model", "length", the losses, "seconds". */
static void put_point(srv_buf *b, const point *p) {
    srv_buf_puts(b, "\"model\":");
    srv_buf_str(b, nn_rnn_kind_name(p->model));
    srv_buf_printf(b, ",\"length\":%zu,\"train_loss\":", p->length);
    srv_buf_double(b, p->train_loss);
    srv_buf_puts(b, ",\"test_loss\":");
    srv_buf_double(b, p->test_loss);
    srv_buf_puts(b, ",\"baseline_loss\":");
    srv_buf_double(b, p->baseline);
    srv_buf_puts(b, ",\"test_accuracy\":");
    srv_buf_double(b, p->accuracy);
    srv_buf_printf(b, ",\"seconds\":%.3f", p->seconds);
}

static void put_start(srv_sweep *s) {
    const nn_rnn_train_config *c = &s->base;
    srv_buf *b = &s->line;
    srv_buf_puts(b, "{\"type\":\"start\",\"models\":[");
    for (size_t i = 0; i < s->nmodels; i++) {
        if (i) srv_buf_putc(b, ',');
        srv_buf_str(b, nn_rnn_kind_name(s->models[i]));
    }
    srv_buf_puts(b, "],\"lengths\":");
    srv_buf_sizes(b, s->lengths, s->nlengths);
    srv_buf_printf(b, ",\"points\":%zu,\"samples\":%zu,\"test_samples\":%zu,\"epochs\":%zu,\"hidden_size\":%zu,"
                      "\"batch_size\":%zu,\"seed\":%llu,\"learning_rate\":",
                   npoints(s), c->samples, c->test_samples, c->epochs, c->hidden, c->batch_size,
                   (unsigned long long)c->seed);
    srv_buf_double(b, c->lr);
    srv_buf_puts(b, ",\"clip\":");
    srv_buf_double(b, c->clip);
    srv_buf_printf(b, ",\"estimated_seconds\":%.3g}", s->est_seconds);
    send_line(s);
}

/* One point: train, record, and (streaming) its line. Returns the core's code. */
static nn_code run_point(srv_sweep *s, point *p, nn_error *ne) {
    nn_rnn_train_config c = s->base;
    c.model = p->model;
    c.min_length = c.max_length = p->length;
    nn_rnn_train_result r;
    double t0 = srv_now_ms();
    nn_code rc = nn_rnn_train_run(&c, on_progress, s, &r, ne);
    if (rc) return rc;
    p->train_loss = r.train_loss[r.epochs - 1];
    p->test_loss = r.test_loss[r.epochs - 1];
    p->baseline = r.baseline_test;
    p->accuracy = r.test_accuracy;
    p->seconds = (srv_now_ms() - t0) / 1000.0;
    if (s->stream) {
        srv_buf *b = &s->line;
        srv_buf_printf(b, "{\"type\":\"point\",\"point\":%zu,\"points\":%zu,", s->index + 1, npoints(s));
        put_point(b, p);
        srv_buf_puts(b, ",\"test_losses\":");
        srv_buf_doubles(b, r.test_loss, r.epochs);
        srv_buf_printf(b, ",\"elapsed_ms\":%.1f}", elapsed_ms(s));
        send_line(s);
    }
    nn_rnn_train_result_free(&r);
    return NN_OK;
}

static int emit_error(srv_sweep *s, int status, const char *field, const char *msg) {
    return srv_train_error(&s->line, s->emit, s->ctx, s->stream, &s->stopped, status, NULL, field, msg, 0);
}

/* Every point in order; 0, or the HTTP status the sweep ended with. */
static int run_points(srv_sweep *s) {
    s->index = 0;
    for (size_t k = 0; k < s->nlengths; k++)
        for (size_t i = 0; i < s->nmodels; i++, s->index++) {
            point *p = &s->pts[s->index];
            p->model = s->models[i];
            p->length = s->lengths[k];
            nn_error ne;
            nn_error_clear(&ne);
            nn_code rc = run_point(s, p, &ne);
            if (s->over_time && !s->stopped) {
                char msg[240];
                srv_train_over_time_msg(msg, sizeof msg, "sweep", s->max_seconds, "at point", s->index + 1, npoints(s),
                                        s->est_seconds);
                return emit_error(s, 413, "epochs", msg);
            }
            if (rc == NN_CANCELLED || s->stopped) return 503;
            if (rc) return emit_error(s, srv_train_status(rc), ne.field, ne.message[0] ? ne.message : nn_code_name(rc));
        }
    return 0;
}

int srv_sweep_run(srv_sweep *s, srv_emit_fn emit, void *ctx, const atomic_int *cancel) {
    s->emit = emit;
    s->ctx = ctx;
    s->cancel = cancel;
    s->stopped = s->over_time = 0;
    s->t0 = s->cpu_checked_ms = srv_now_ms();
    s->cpu0 = srv_thread_cpu_s();
    if (s->stream) put_start(s);
    const atomic_int *outer = nn_cancel_bind(cancel); /* the kernels look at it inside every pass */
    int status = s->stopped ? 503 : run_points(s);
    nn_cancel_bind(outer);
    if (status) return status;
    srv_buf *b = &s->line;
    srv_buf_puts(b, "{\"type\":\"done\",\"points\":[");
    for (size_t i = 0; i < npoints(s); i++) {
        srv_buf_puts(b, i ? ",{" : "{");
        put_point(b, &s->pts[i]);
        srv_buf_putc(b, '}');
    }
    srv_buf_printf(b, "],\"elapsed_ms\":%.1f}", elapsed_ms(s));
    return srv_train_send_done(b, emit, ctx, s->stream, &s->stopped);
}
