/* srv_train.c — POST /train/{rnn,lstm,gru}: the adding-problem training job, streamed as NDJSON.
 *
 * srv_train_prepare validates everything, admits the run (work per step, estimated time,
 * memory reserved for the job's lifetime) and copies what the run needs (the request body can
 * be freed right after); srv_train_run runs nn_rnn_train_run with the cancel flag bound (checked
 * inside every pass through time) and a progress callback that ends a run past its time limit,
 * formats progress lines (every report_every steps and at least every 5 s), watches for
 * divergence (a non-finite loss ends the run with an error line "diverged at step N"), and
 * emits epoch and done lines. The epoch lines carry the probe's gradient by step
 * (nn_rnn_probe.h); with "export": "pytorch" the start line (or, not streamed, the done object)
 * carries the run as a PyTorch script (srv_rnn_export.h). POST /train/sweep is a job of its own
 * kind (srv_sweep.h) run through the same functions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cancel.h"
#include "nn_rnn_train.h"
#include "srv_api.h"
#include "srv_budget.h"
#include "srv_buf.h"
#include "srv_clock.h"
#include "srv_endpoints.h"
#include "srv_json.h"
#include "srv_rnn_export.h"
#include "srv_rnn_params.h"
#include "srv_sweep.h"
#include "srv_tensor.h"
#include "srv_train_cnn.h"
#include "srv_train_line.h"

#define PROGRESS_MAX_GAP_MS 5000.0

struct srv_train_job {
    srv_cnn_job *cnn;     /* POST /train/cnn: everything is in there (srv_train_cnn.h) */
    nn_rnn_train_config cfg;
    int stream;
    size_t report_every;
    /* owned copies behind cfg's pointers */
    double *data_x, *data_y, *test_x, *test_y;
    size_t *data_len, *test_len;
    double *init[NN_RNN_NPARAMS];
    /* admission */
    double est_seconds;   /* nn_rnn_train_estimate_seconds */
    double max_seconds;   /* the limit, enforced on the run's own CPU time too */
    size_t mem_bytes;     /* reserved in mem for the job's lifetime */
    srv_account mem;
    /* run state */
    srv_emit_fn emit;
    void *ctx;
    const atomic_int *cancel;
    int stopped;          /* the client or the server asked to stop */
    size_t diverged_step; /* nonzero: the loss went non-finite at this step */
    int diverged_at_start; /* ... and before any update: the initial weights or the data did it */
    size_t over_time_epoch; /* nonzero: the run passed max_seconds during this epoch */
    size_t last_step;     /* the last optimiser step reported by the core */
    double t0, last_line_ms;
    double cpu0, cpu_checked_ms; /* the run thread's CPU clock at the start; last look at it */
    double loss_sum;      /* batch losses since the last progress line */
    size_t loss_n;
    srv_buf line;
    int export_pytorch;   /* "export": "pytorch" */
    srv_sweep *sweep;     /* POST /train/sweep: everything is in there (srv_sweep.h) */
};

static void job_free_data(srv_train_job *j) {
    free(j->data_x);
    free(j->data_y);
    free(j->data_len);
    free(j->test_x);
    free(j->test_y);
    free(j->test_len);
    for (int p = 0; p < NN_RNN_NPARAMS; p++) free(j->init[p]);
}

void srv_train_free(srv_train_job *job) {
    if (!job) return;
    srv_cnn_job_free(job->cnn);
    srv_budget_release(&job->mem);
    job_free_data(job);
    srv_buf_free(&job->line);
    srv_sweep_free(job->sweep);
    free(job);
}

int srv_train_streaming(const srv_train_job *job) {
    return !job ? 0 : job->cnn ? srv_cnn_job_streaming(job->cnn) : job->stream;
}

double srv_train_estimate_seconds(const srv_train_job *job) {
    return !job ? 0.0 : job->cnn ? srv_cnn_job_estimate_seconds(job->cnn) : job->est_seconds;
}

size_t srv_train_memory_bytes(const srv_train_job *job) {
    return !job ? 0 : job->cnn ? srv_cnn_job_memory_bytes(job->cnn) : job->mem_bytes;
}

/* One sample's x given as a tensor [T, 2] ({"shape", "data"} or {"npy"}) into a malloc'd *t. */
static int tensor_steps(const cJSON *x, const char *xp, const srv_limits *lim, double **t, size_t *len,
                        srv_err *e) {
    size_t shape[SRV_TENSOR_MAX_DIMS], nd, n;
    size_t max = lim->max_length < ((size_t)1 << 40) ? 2 * lim->max_length : lim->max_length;
    if (srv_tensor_parse_f64(x, xp, max, shape, &nd, &n, t, e)) return -1;
    if (nd != 2 || shape[1] != 2) {
        free(*t);
        *t = NULL;
        return srv_fail(e, 400, xp, "%s must be [T, 2]: a value and a marker per step", xp);
    }
    *len = shape[0];
    return 0;
}

/* A data set [{"x": [[value, marker], ...], "y": target}, ...] into back-to-back arrays; an x may
 * also be a tensor [T, 2] (tmp[i] holds those, read in the first pass). */
static int read_dataset(const cJSON *v, const char *path, const srv_limits *lim, double **tmp,
                        double **xs, size_t **lens, double **ys, srv_err *e) {
    size_t n = (size_t)cJSON_GetArraySize(v), total = 0, i = 0;
    char ip[96], xp[120], yp[120];
    *lens = malloc(n * sizeof **lens);
    *ys = malloc(n * sizeof **ys);
    if (!*lens || !*ys) return srv_fail(e, 503, path, "out of memory for %s", path);
    /* First pass: lengths. */
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        srv_path_index(ip, sizeof ip, path, i);
        srv_path_key(xp, sizeof xp, ip, "x");
        static const char *const keys[] = {"x", "y", NULL};
        if (!cJSON_IsObject(c)) return srv_fail(e, 400, ip, "%s must be {\"x\": [[value, marker], ...], \"y\": sum}", ip);
        if (srv_json_only_keys(c, ip, keys, e)) return -1;
        const cJSON *x = srv_json_get(c, "x");
        size_t len = 0;
        if (cJSON_IsObject(x)) {
            if (tensor_steps(x, xp, lim, &tmp[i], &len, e)) return -1;
        } else if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) == 0) {
            return srv_fail(e, 400, xp, "%s must be a non-empty list of [value, marker] pairs (or a tensor [T, 2])", xp);
        } else {
            len = (size_t)cJSON_GetArraySize(x);
        }
        if (len > lim->max_length)
            return srv_fail(e, 413, xp, "%s has %zu steps; the limit is %zu", xp, len, lim->max_length);
        (*lens)[i] = len;
        total += len;
    }
    *xs = malloc(total * 2 * sizeof **xs);
    if (!*xs) return srv_fail(e, 503, path, "out of memory for %s", path);
    size_t off = 0;
    i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        srv_path_index(ip, sizeof ip, path, i);
        srv_path_key(xp, sizeof xp, ip, "x");
        srv_path_key(yp, sizeof yp, ip, "y");
        const cJSON *x = srv_json_get(c, "x"), *y = srv_json_get(c, "y");
        if (tmp[i]) {
            memcpy(*xs + 2 * off, tmp[i], 2 * (*lens)[i] * sizeof **xs);
            off += (*lens)[i];
        }
        size_t t = 0;
        for (const cJSON *s = tmp[i] ? NULL : x->child; s; s = s->next, t++) {
            char sp[140];
            srv_path_index(sp, sizeof sp, xp, t);
            if (!cJSON_IsArray(s) || cJSON_GetArraySize(s) != 2)
                return srv_fail(e, 400, sp, "%s must be a pair [value, marker]", sp);
            for (int k = 0; k < 2; k++) {
                char kp[150];
                srv_path_index(kp, sizeof kp, sp, (size_t)k);
                if (srv_json_num(cJSON_GetArrayItem(s, k), kp, &(*xs)[2 * off + (size_t)k], e)) return -1;
            }
            off++;
        }
        if (!y) return srv_fail(e, 400, yp, "%s is missing", yp);
        if (srv_json_num(y, yp, &(*ys)[i], e)) return -1;
    }
    return 0;
}

static int parse_dataset(const cJSON *v, const char *path, const srv_limits *lim, double **xs,
                         size_t **lens, double **ys, size_t *count, srv_err *e) {
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return srv_fail(e, 400, path, "%s must be a non-empty list of {\"x\": [[value, marker], ...], \"y\": sum}", path);
    size_t n = (size_t)cJSON_GetArraySize(v);
    if (n > lim->max_samples)
        return srv_fail(e, 413, path, "%s has %zu samples; the limit is %zu", path, n, lim->max_samples);
    double **tmp = calloc(n, sizeof *tmp);
    if (!tmp) return srv_fail(e, 503, path, "out of memory for %s", path);
    int rc = read_dataset(v, path, lim, tmp, xs, lens, ys, e);
    for (size_t i = 0; i < n; i++) free(tmp[i]);
    free(tmp);
    if (rc == 0) *count = n;
    return rc;
}

static int parse_init(const cJSON *v, srv_train_job *j, const srv_limits *lim, srv_err *e) {
    if (!cJSON_IsObject(v))
        return srv_fail(e, 400, "init", "init must be an object of weights by PyTorch name (weight_ih, weight_hh, bias_ih, bias_hh, fc.weight, fc.bias)");
    for (const cJSON *c = v->child; c; c = c->next) {
        int p = -1;
        for (int k = 0; k < NN_RNN_NPARAMS; k++)
            if (strcmp(c->string, nn_rnn_param_name(k)) == 0) p = k;
        char path[96];
        srv_path_key(path, sizeof path, "init", c->string);
        if (p < 0)
            return srv_fail(e, 400, path, "unknown weight '%.40s' (weight_ih, weight_hh, bias_ih, bias_hh, fc.weight, fc.bias)", c->string);
        size_t want[2], wnd, shape[SRV_TENSOR_MAX_DIMS], nd, n;
        size_t wn = nn_rnn_param_shape(j->cfg.model, NN_ADDING_FEATURES, j->cfg.hidden, p, want, &wnd);
        double *data;
        if (srv_tensor_parse_f64(c, path, lim->max_tensor_elems, shape, &nd, &n, &data, e)) return -1;
        int ok = n == wn && (nd == wnd || (wnd == 1 && nd == 1));
        for (size_t d = 0; ok && d < nd; d++) ok = shape[d] == want[d];
        if (!ok) {
            free(data);
            char ws[64];
            srv_shape_str(ws, sizeof ws, want, wnd);
            return srv_fail(e, 400, path, "%s must have shape %s for %s with hidden_size %zu", path, ws,
                            nn_rnn_kind_name(j->cfg.model), j->cfg.hidden);
        }
        j->init[p] = data;
        j->cfg.init[p] = data;
        j->cfg.init_len[p] = n;
    }
    return 0;
}

/* "probe_samples" (0: none) and "export" ("pytorch", within the body limit). */
static int parse_inside(srv_train_job *j, const srv_limits *lim, const cJSON *req, srv_err *e) {
    long long v;
    if (srv_json_int_opt(req, "probe_samples", "", 0, 1LL << 53, (long long)j->cfg.probe_samples, &v, e)) return -1;
    if ((unsigned long long)v > lim->max_samples)
        return srv_fail(e, 413, "probe_samples", "probe_samples is %lld; this server's limit is %zu", v, lim->max_samples);
    j->cfg.probe_samples = (size_t)v;
    const char *ex;
    if (srv_json_string_opt(req, "export", "", NULL, &ex, e)) return -1;
    if (!ex) return 0;
    if (strcmp(ex, "pytorch") != 0)
        return srv_fail(e, 400, "export", "export must be \"pytorch\" (a script that trains the same net in PyTorch)");
    size_t bytes = srv_rnn_export_bound(&j->cfg);
    if (bytes > lim->max_body_bytes)
        return srv_fail(e, 413, "export", "the PyTorch script would take up to %zu bytes of data; the limit is %zu: "
                        "export a run with fewer or shorter sequences", bytes, lim->max_body_bytes);
    j->export_pytorch = 1;
    return 0;
}

static size_t longest(const size_t *len, size_t n) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m = len[i] > m ? len[i] : m;
    return m;
}

/* Work budget: one step and one test-set evaluation must each stay within max_work_flops (about
 * a second: progress, divergence and the time limit are checked between steps). Forward cost
 * per time step ~ 2*G*H*(I + H); backward ~ 2x forward. The whole run must be estimated within
 * max_train_seconds. */
static int check_work(srv_train_job *j, const srv_limits *lim, srv_err *e) {
    const nn_rnn_train_config *c = &j->cfg;
    double G = (double)nn_rnn_kind_gates(c->model), H = (double)c->hidden;
    double fwd = 2.0 * G * H * (NN_ADDING_FEATURES + H) + 2.0 * H;
    size_t n = c->data_x ? c->data_count : c->samples, nt = c->test_x ? c->test_count : c->test_samples;
    double len = (double)(c->data_x ? longest(c->data_len, c->data_count) : c->max_length);
    double tlen = (double)(c->test_x ? longest(c->test_len, c->test_count) : c->max_length);
    double B = (double)(c->batch_size < n ? c->batch_size : n);
    double step = B * len * 3.0 * fwd, eval = (double)nt * tlen * fwd;
    if (step > lim->max_work_flops)
        return srv_fail(e, 413, "batch_size", "one training step would need %.3g flops; the limit is %.3g", step, lim->max_work_flops);
    if (eval > lim->max_work_flops)
        return srv_fail(e, 413, c->test_x ? "test_dataset" : "test_samples",
                        "evaluating the test set would need %.3g flops; the limit is %.3g", eval, lim->max_work_flops);
    j->est_seconds = nn_rnn_train_estimate_seconds(c);
    j->max_seconds = lim->max_train_seconds;
    if (j->est_seconds > lim->max_train_seconds)
        return srv_fail(e, 413, "epochs",
                        "this run is estimated at %.*f s of computing (%zu epochs of %zu samples); the limit is "
                        "%g s (--max-train-seconds): ask for fewer epochs, samples or steps, or a smaller hidden_size",
                        j->est_seconds < 10 ? 1 : 0, j->est_seconds, c->epochs, n, lim->max_train_seconds);
    return 0;
}

/* The run's memory, reserved for the job's lifetime: what nn_rnn_train_run allocates, our copies of
 * given data sets, and the done line (weights, predictions and examples as text). */
static int reserve_memory(srv_train_job *j, srv_err *e) {
    const nn_rnn_train_config *c = &j->cfg;
    size_t bytes = nn_rnn_train_memory_bytes(c), copy = 0;
    for (int s = 0; s < 2; s++) {
        const size_t *len = s ? c->test_len : c->data_len;
        size_t count = s ? c->test_count : c->data_count;
        for (size_t i = 0; len && i < count; i++) copy = srv_budget_add(copy, len[i]);
        copy = srv_budget_mul(srv_budget_add(srv_budget_mul(copy, 2), 2 * count), sizeof(double));
        bytes = srv_budget_add(bytes, copy);
        copy = 0;
    }
    /* the done line's numbers as text (~32 bytes each): the weights, the kept predictions and
     * the examples' steps */
    size_t numbers = 2 * NN_RNN_TRAIN_PREDICTIONS + 2 * NN_RNN_TRAIN_EXAMPLES * c->max_length;
    for (int p = 0; p < NN_RNN_NPARAMS; p++)
        numbers += nn_rnn_param_shape(c->model, NN_ADDING_FEATURES, c->hidden, p, (size_t[2]){0}, NULL);
    bytes = srv_budget_add(bytes, srv_budget_mul(numbers, 32));
    /* a PyTorch export: the script, the line that carries it as JSON text, the queue's copy */
    if (j->export_pytorch) bytes = srv_budget_add(bytes, srv_budget_mul(srv_rnn_export_bound(c), 3));
    j->mem_bytes = bytes;
    return srv_budget_claim(&j->mem, bytes, c->data_x ? "dataset" : "samples", e);
}

static int prepare(srv_train_job *j, const srv_limits *lim, const cJSON *req, srv_err *e) {
    static const char *const keys[] = {"samples", "test_samples", "min_length", "max_length", "epochs",
                                       "hidden_size", "learning_rate", "clip", "batch_size", "seed",
                                       "report_every", "stream", "dataset", "test_dataset", "init",
                                       "probe_samples", "export", NULL};
    if (srv_json_only_keys(req, "", keys, e)) return -1;
    nn_rnn_train_config *c = &j->cfg;
    long long v;
    /* Each size: 400 below its domain, 413 above the configured limit. */
    struct { const char *key; size_t *dst; long long lo; size_t max; } sizes[] = {
        {"samples", &c->samples, 1, lim->max_samples},
        {"test_samples", &c->test_samples, 1, lim->max_samples},
        {"min_length", &c->min_length, 2, lim->max_length},
        {"max_length", &c->max_length, 2, lim->max_length},
        {"epochs", &c->epochs, 1, lim->max_epochs},
        {"hidden_size", &c->hidden, 1, lim->max_hidden},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        /* Read any integer, then name the real range (the configured limit, not 2^53). */
        if (srv_json_int_opt(req, sizes[i].key, "", -(1LL << 53), (1LL << 53), (long long)*sizes[i].dst, &v, e)) return -1;
        if (v < sizes[i].lo)
            return srv_fail(e, 400, sizes[i].key, "%s must be between %lld and %zu (got %lld)", sizes[i].key,
                            sizes[i].lo, sizes[i].max, v);
        if ((unsigned long long)v > sizes[i].max)
            return srv_fail(e, 413, sizes[i].key, "%s is %lld; this server's limit is %zu", sizes[i].key, v, sizes[i].max);
        *sizes[i].dst = (size_t)v;
    }
    if (c->max_length < c->min_length)
        return srv_fail(e, 400, "max_length", "max_length (%zu) must be >= min_length (%zu)", c->max_length, c->min_length);
    if (srv_json_int_opt(req, "batch_size", "", 1, (1LL << 53), 1, &v, e)) return -1;
    c->batch_size = (size_t)v;
    if (srv_json_int_opt(req, "report_every", "", 1, (1LL << 53), 500, &v, e)) return -1;
    j->report_every = (size_t)v;
    if (srv_rnn_params_optim(req, c, &j->stream, e)) return -1;
    const cJSON *ds = srv_json_get(req, "dataset"), *ts = srv_json_get(req, "test_dataset");
    if (ds) {
        if (parse_dataset(ds, "dataset", lim, &j->data_x, &j->data_len, &j->data_y, &c->data_count, e)) return -1;
        c->data_x = j->data_x;
        c->data_len = j->data_len;
        c->data_y = j->data_y;
    }
    if (ts) {
        if (parse_dataset(ts, "test_dataset", lim, &j->test_x, &j->test_len, &j->test_y, &c->test_count, e)) return -1;
        c->test_x = j->test_x;
        c->test_len = j->test_len;
        c->test_y = j->test_y;
    }
    size_t n_train = ds ? c->data_count : c->samples;
    if (c->batch_size > n_train)
        return srv_fail(e, 400, "batch_size", "batch_size (%zu) must be <= the number of training samples (%zu)", c->batch_size, n_train);
    const cJSON *init = srv_json_get(req, "init");
    if (init && parse_init(init, j, lim, e)) return -1;
    if (parse_inside(j, lim, req, e)) return -1;
    nn_error ne;
    nn_error_clear(&ne);
    if (nn_rnn_train_validate(c, &ne) != NN_OK) return srv_fail_nn(e, &ne, NULL);
    if (check_work(j, lim, e)) return -1;
    return reserve_memory(j, e);
}

srv_train_job *srv_train_prepare(const srv_limits *lim, const char *model,
                                 const char *content_type, const char *body, size_t len,
                                 srv_response *err) {
    memset(err, 0, sizeof *err);
    srv_limits defaults;
    if (!lim) {
        srv_limits_default(&defaults);
        lim = &defaults;
    }
    srv_err e = {0};
    nn_rnn_kind kind = NN_RNN_ELMAN;
    int cnn = model && !strcmp(model, "cnn"), sweep = model && !strcmp(model, "sweep");
    if (!model || (!cnn && !sweep && strcmp(model, "rnn") && strcmp(model, "lstm") && strcmp(model, "gru"))) {
        srv_error(err, 404, "not_found", NULL, "no such model: /train/%.20s (rnn, lstm, gru, cnn, sweep)",
                  model ? model : "");
        return NULL;
    }
    if (!cnn && !sweep) nn_rnn_kind_parse(model, &kind, NULL);
    if (len > lim->max_body_bytes) {
        srv_fail(&e, 413, "body", "the body is %zu bytes; the limit is %zu", len, lim->max_body_bytes);
        srv_err_response(&e, err);
        return NULL;
    }
    if (srv_check_content_type(content_type, &e)) {
        srv_err_response(&e, err);
        return NULL;
    }
    cJSON *req = srv_json_parse(body, len, &e);
    if (!req) {
        srv_err_response(&e, err);
        return NULL;
    }
    srv_train_job *j = calloc(1, sizeof *j);
    if (!j) {
        cJSON_Delete(req);
        srv_error(err, 503, "busy", NULL, "out of memory");
        return NULL;
    }
    nn_rnn_train_config_default(&j->cfg);
    j->cfg.model = kind;
    int rc = srv_take_output_format(req, &j->line.npy, &e);
    if (rc == 0 && cnn) rc = (j->cnn = srv_cnn_job_prepare(lim, req, j->line.npy, &e)) ? 0 : -1;
    else if (rc == 0 && sweep) rc = (j->sweep = srv_sweep_prepare(lim, req, &j->stream, &e)) ? 0 : -1;
    else if (rc == 0) rc = prepare(j, lim, req, &e);
    cJSON_Delete(req);
    if (rc) {
        srv_train_free(j);
        srv_err_response(&e, err);
        return NULL;
    }
    return j;
}

/* ---- the run --------------------------------------------------------------------------- */

/* Send the line being built (streaming only); a refusal stops the run. */
static void send_line(srv_train_job *j) {
    srv_train_send(&j->line, j->emit, j->ctx, &j->stopped);
    j->last_line_ms = srv_now_ms();
}

static double elapsed(const srv_train_job *j) { return srv_now_ms() - j->t0; }

static void put_elapsed(srv_buf *b, const srv_train_job *j) {
    srv_buf_puts(b, ",\"elapsed_ms\":");
    srv_buf_printf(b, "%.1f", elapsed(j));
}

/* ,"baseline_loss":test,"baseline_train_loss":train (the MSE of always predicting 1) */
static void put_baselines(srv_buf *b, double test, double train) {
    srv_buf_puts(b, ",\"baseline_loss\":");
    srv_buf_double(b, test);
    srv_buf_puts(b, ",\"baseline_train_loss\":");
    srv_buf_double(b, train);
}

static int on_progress(void *ctx, const nn_rnn_train_event *ev) {
    srv_train_job *j = ctx;
    int stop = srv_train_check(j->cancel, &j->stopped, j->max_seconds, j->cpu0, &j->cpu_checked_ms);
    if (stop == 2) j->over_time_epoch = ev->epoch;
    if (stop) return 1;
    srv_buf *b = &j->line;
    if (ev->kind == NN_RNN_TRAIN_STEP) {
        j->last_step = ev->step;
        if (!isfinite(ev->loss)) { /* the loss of the weights before this step's update */
            j->diverged_step = ev->step;
            j->diverged_at_start = ev->step == 1;
            return 1;
        }
        j->loss_sum += ev->loss;
        j->loss_n++;
        if (!j->stream) return 0;
        if (ev->step % j->report_every != 0 && srv_now_ms() - j->last_line_ms < PROGRESS_MAX_GAP_MS) return 0;
        srv_buf_printf(b, "{\"type\":\"progress\",\"epoch\":%zu,\"step\":%zu,\"steps\":%zu,\"loss\":", ev->epoch,
                       ev->step, ev->epochs * ev->steps_per_epoch);
        srv_buf_double(b, j->loss_sum / (double)j->loss_n);
        put_elapsed(b, j);
        srv_buf_putc(b, '}');
        j->loss_sum = 0;
        j->loss_n = 0;
        send_line(j);
        return j->stopped;
    }
    if (!isfinite(ev->train_loss) || !isfinite(ev->test_loss)) {
        j->diverged_step = ev->step ? ev->step : 1;
        return 1;
    }
    if (!j->stream) return 0;
    srv_buf_printf(b, "{\"type\":\"epoch\",\"epoch\":%zu,\"epochs\":%zu,\"step\":%zu,\"train_loss\":", ev->epoch, ev->epochs, ev->step);
    srv_buf_double(b, ev->train_loss);
    srv_buf_puts(b, ",\"test_loss\":");
    srv_buf_double(b, ev->test_loss);
    put_baselines(b, ev->baseline_test, ev->baseline_train);
    if (ev->grad_by_step) {
        srv_buf_puts(b, ",\"gradient_by_step\":");
        srv_buf_doubles(b, ev->grad_by_step, ev->grad_steps);
        srv_buf_printf(b, ",\"probe_samples\":%zu", ev->probe_count);
    }
    put_elapsed(b, j);
    srv_buf_putc(b, '}');
    send_line(j);
    return j->stopped;
}

/* ,"pytorch": "<script>" (srv_rnn_export.h); a failure (out of memory) spoils the line. */
static void put_export(srv_buf *b, const srv_train_job *j) {
    srv_err e = {0};
    srv_buf_puts(b, ",\"pytorch\":");
    if (srv_rnn_export_put(b, &j->cfg, &e)) b->oom = 1;
}

static void put_start(srv_buf *b, const srv_train_job *j) {
    const nn_rnn_train_config *c = &j->cfg;
    size_t n = c->data_x ? c->data_count : c->samples, nt = c->test_x ? c->test_count : c->test_samples;
    size_t B = c->batch_size < n ? c->batch_size : n;
    srv_buf_puts(b, "{\"type\":\"start\",\"model\":");
    srv_buf_str(b, nn_rnn_kind_name(c->model));
    srv_buf_printf(b, ",\"samples\":%zu,\"test_samples\":%zu,\"min_length\":%zu,\"max_length\":%zu,"
                      "\"epochs\":%zu,\"hidden_size\":%zu,\"batch_size\":%zu,\"steps_per_epoch\":%zu,"
                      "\"report_every\":%zu,\"seed\":%llu,\"learning_rate\":",
                   n, nt, c->min_length, c->max_length, c->epochs, c->hidden, c->batch_size,
                   (n + B - 1) / B, j->report_every, (unsigned long long)c->seed);
    srv_buf_double(b, c->lr);
    srv_buf_puts(b, ",\"clip\":");
    srv_buf_double(b, c->clip);
    srv_buf_printf(b, ",\"given_dataset\":%s,\"given_init\":%s", c->data_x ? "true" : "false",
                   (c->init[0] || c->init[1] || c->init[2] || c->init[3] || c->init[4] || c->init[5]) ? "true" : "false");
    srv_buf_printf(b, ",\"probe_samples\":%zu", c->probe_samples);
    if (j->export_pytorch) put_export(b, j);
    srv_buf_putc(b, '}');
}

/* The first test samples' targets and the trained net's predictions, and the first few whole
 * (so a client can draw predictions against targets and show what a sequence looks like). */
static void put_predictions(srv_buf *b, const nn_rnn_train_result *r) {
    srv_buf_puts(b, ",\"test_predictions\":[");
    for (size_t i = 0; i < r->pred_count; i++) {
        srv_buf_puts(b, i ? ",{\"y\":" : "{\"y\":");
        srv_buf_double(b, r->pred_y[i]);
        srv_buf_puts(b, ",\"pred\":");
        srv_buf_double(b, r->pred[i]);
        srv_buf_putc(b, '}');
    }
    srv_buf_puts(b, "],\"examples\":[");
    const double *x = r->example_x;
    for (size_t i = 0; i < r->example_count; i++) {
        srv_buf_puts(b, i ? ",{\"x\":[" : "{\"x\":[");
        for (size_t t = 0; t < r->example_len[i]; t++, x += 2) {
            srv_buf_puts(b, t ? ",[" : "[");
            srv_buf_double(b, x[0]);
            srv_buf_putc(b, ',');
            srv_buf_double(b, x[1]);
            srv_buf_putc(b, ']');
        }
        srv_buf_puts(b, "],\"y\":");
        srv_buf_double(b, r->pred_y[i]);
        srv_buf_puts(b, ",\"pred\":");
        srv_buf_double(b, r->pred[i]);
        srv_buf_putc(b, '}');
    }
    srv_buf_putc(b, ']');
}

static void put_done(srv_buf *b, const srv_train_job *j, const nn_rnn_train_result *r) {
    srv_buf_puts(b, "{\"type\":\"done\",\"model\":");
    srv_buf_str(b, nn_rnn_kind_name(r->model));
    srv_buf_printf(b, ",\"epochs\":%zu,\"steps\":%zu,\"train_loss\":", r->epochs, r->steps);
    srv_buf_doubles(b, r->train_loss, r->epochs);
    srv_buf_puts(b, ",\"test_loss\":");
    srv_buf_doubles(b, r->test_loss, r->epochs);
    put_baselines(b, r->baseline_test, r->baseline_train);
    srv_buf_puts(b, ",\"test_accuracy\":");
    srv_buf_double(b, r->test_accuracy);
    put_predictions(b, r);
    srv_buf_puts(b, ",\"weights\":{");
    for (int p = 0; p < NN_RNN_NPARAMS; p++) {
        if (p) srv_buf_putc(b, ',');
        srv_buf_str(b, r->names[p]);
        srv_buf_putc(b, ':');
        srv_buf_tensor_f64(b, r->weights[p], r->shape[p], r->ndim[p]);
    }
    srv_buf_putc(b, '}');
    if (j->export_pytorch && !j->stream) put_export(b, j);
    put_elapsed(b, j);
    srv_buf_putc(b, '}');
}

/* The outcome as an error (srv_train_line.h). Returns the status. */
static int emit_error(srv_train_job *j, int status, const char *field, const char *msg, size_t step) {
    return srv_train_error(&j->line, j->emit, j->ctx, j->stream, &j->stopped, status, step ? "diverged" : NULL,
                           field, msg, step);
}

/* The field a divergence is blamed on, and the message. A loss already non-finite at step 1,
 * before any update, comes from the initial weights or the data, not from the learning rate:
 * "init" when the request gave the weights, else "dataset" when it gave the data. */
static const char *divergence_cause(const srv_train_job *j, char *msg, size_t n) {
    const nn_rnn_train_config *c = &j->cfg;
    int given_init = 0;
    for (int p = 0; p < NN_RNN_NPARAMS; p++) given_init |= c->init[p] != NULL;
    if (j->diverged_at_start && given_init) {
        snprintf(msg, n, "diverged at step 1: the loss is not finite with the given initial weights, "
                         "before any update (check init)");
        return "init";
    }
    if (j->diverged_at_start && c->data_x) {
        snprintf(msg, n, "diverged at step 1: the loss is not finite on the given data set, before "
                         "any update (check dataset)");
        return "dataset";
    }
    snprintf(msg, n, "diverged at step %zu: the loss is not finite (lower learning_rate or clip)",
             j->diverged_step);
    return "learning_rate";
}

int srv_train_run(srv_train_job *j, srv_emit_fn emit, void *ctx, const atomic_int *cancel) {
    if (!j || !emit) return 500;
    if (j->cnn) return srv_cnn_job_run(j->cnn, emit, ctx, cancel);
    if (j->sweep) return srv_sweep_run(j->sweep, emit, ctx, cancel);
    j->emit = emit;
    j->ctx = ctx;
    j->cancel = cancel;
    j->stopped = 0;
    j->diverged_step = 0;
    j->diverged_at_start = 0;
    j->over_time_epoch = 0;
    j->last_step = 0;
    j->loss_sum = 0;
    j->loss_n = 0;
    j->t0 = j->last_line_ms = j->cpu_checked_ms = srv_now_ms();
    j->cpu0 = srv_thread_cpu_s();
    if (j->stream) {
        put_start(&j->line, j);
        send_line(j);
        if (j->stopped) return 503;
    }
    nn_rnn_train_result res;
    nn_error ne;
    nn_error_clear(&ne);
    const atomic_int *outer = nn_cancel_bind(cancel);
    nn_code rc = nn_rnn_train_run(&j->cfg, on_progress, j, &res, &ne);
    nn_cancel_bind(outer);
    /* The core may catch a non-finite loss itself, before the step's update. */
    if (rc == NN_INVALID && !j->diverged_step && ne.field && strcmp(ne.field, "learning_rate") == 0 &&
        strstr(ne.message, "diverged")) {
        j->diverged_step = j->last_step + 1;
        j->diverged_at_start = j->last_step == 0;
    }
    int status;
    if (rc == NN_OK) {
        put_done(&j->line, j, &res);
        nn_rnn_train_result_free(&res);
        status = srv_train_send_done(&j->line, emit, ctx, j->stream, &j->stopped);
    } else if (j->diverged_step) {
        char msg[200];
        const char *field = divergence_cause(j, msg, sizeof msg);
        status = emit_error(j, 400, field, msg, j->diverged_step);
    } else if (j->over_time_epoch && !j->stopped) {
        char msg[240];
        srv_train_over_time_msg(msg, sizeof msg, "run", j->max_seconds, "in epoch", j->over_time_epoch, j->cfg.epochs,
                                j->est_seconds);
        status = emit_error(j, 413, "epochs", msg, 0);
    } else if (rc == NN_CANCELLED || j->stopped) {
        status = 503; /* cancelled: nothing more is emitted */
    } else {
        status = emit_error(j, srv_train_status(rc), ne.field, ne.message[0] ? ne.message : nn_code_name(rc), 0);
    }
    srv_buf_free(&j->line);
    return status;
}
