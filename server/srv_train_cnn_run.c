/* srv_train_cnn_run.c — running a /train/cnn job: the net built from the job's layers, trained
 * by nn_cnn_train_run with a progress callback that stops on cancel, and the NDJSON lines
 * (start, progress, epoch, done or error); see srv_train_cnn.h and docs/api.md. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn_fashion.h"
#include "srv_clock.h"
#include "srv_endpoints.h"
#include "srv_train_cnn_job.h"
#include "srv_train_line.h"

/* A progress line at least this often (the contract says every second). */
#define PROGRESS_GAP_MS 900.0

static double elapsed(const srv_cnn_job *j) { return srv_now_ms() - j->t0; }

/* Send the line being built (streaming only); a refusal stops the run. */
static void send_line(srv_cnn_job *j) {
    srv_train_send(&j->line, j->emit, j->ctx, &j->stopped);
    j->last_line_ms = srv_now_ms();
}

/* ,"key":value */
static void put_num(srv_buf *b, const char *key, double v) {
    srv_buf_printf(b, ",\"%s\":", key);
    srv_buf_double(b, v);
}

static void put_classes(srv_buf *b) {
    srv_buf_puts(b, ",\"classes\":[");
    for (int k = 0; k < NN_FASHION_CLASSES; k++) {
        if (k) srv_buf_putc(b, ',');
        srv_buf_str(b, nn_fashion_class_names[k]);
    }
    srv_buf_putc(b, ']');
}

/* "layers": [{"type", "output_shape", "params"}, ...] from the net's ops, grouped by layer. */
static void put_layers(srv_buf *b, const nn_cnn_net *net) {
    srv_buf_puts(b, ",\"layers\":[");
    for (size_t i = 0, o = 0; i < net->num_layers; i++) {
        size_t params = 0;
        const nn_net_op *last = NULL;
        for (; o < net->num_ops && net->ops[o].layer == i; o++) {
            last = &net->ops[o];
            if (last->type == NN_OP_CONV)
                params += last->filters * last->kh * last->kw * last->in_shape[2] + last->filters;
            else if (last->type == NN_OP_LINEAR)
                params += last->in_len * last->out_len + last->out_len;
        }
        if (i) srv_buf_putc(b, ',');
        srv_buf_puts(b, "{\"type\":");
        srv_buf_str(b, nn_layer_type_name(net->specs[i].type));
        srv_buf_puts(b, ",\"output_shape\":");
        int vec = last->type == NN_OP_GLOBAL_POOL || last->type == NN_OP_LINEAR;
        srv_buf_sizes(b, last->out_shape, vec ? 1 : 3);
        srv_buf_printf(b, ",\"params\":%zu}", params);
    }
    srv_buf_putc(b, ']');
}

static void put_start(srv_cnn_job *j) {
    const nn_cnn_train_config *c = &j->cfg;
    srv_buf *b = &j->line;
    srv_buf_puts(b, "{\"type\":\"start\",\"model\":\"cnn\",\"dataset\":");
    srv_buf_str(b, j->train_name);
    srv_buf_puts(b, ",\"test_dataset\":");
    srv_buf_str(b, j->test_name);
    srv_buf_printf(b, ",\"train_samples\":%zu,\"test_samples\":%zu,\"epochs\":%zu,\"batch_size\":%zu,"
                      "\"steps_per_epoch\":%zu,\"report_every\":%zu,\"shuffle\":%s,\"seed\":%llu,\"optimizer\":",
                   c->train_samples, c->test_samples, c->epochs, c->batch_size,
                   (c->train_samples + c->batch_size - 1) / c->batch_size, j->report_every,
                   c->shuffle ? "true" : "false", (unsigned long long)j->seed);
    srv_buf_str(b, j->opt.kind == NN_OPTIM_SGD ? "sgd" : "adam");
    put_num(b, "learning_rate", j->opt.lr);
    put_num(b, "lr_decay", j->cfg.lr_decay);
    if (j->opt.kind == NN_OPTIM_SGD) {
        put_num(b, "momentum", j->opt.momentum);
    }
    srv_buf_puts(b, ",\"input_shape\":[28,28,1]");
    put_layers(b, &j->net);
    srv_buf_printf(b, ",\"parameters\":%zu,\"given_init\":%s,\"estimated_seconds\":", j->net.num_params,
                   j->given_init ? "true" : "false");
    srv_buf_printf(b, "%.1f", j->est_seconds);
    put_classes(b);
    srv_buf_putc(b, '}');
}

static void put_progress(srv_cnn_job *j, const nn_cnn_event *ev) {
    srv_buf *b = &j->line;
    double now = srv_now_ms(), secs = (now - j->last_line_ms) / 1e3;
    srv_buf_printf(b, "{\"type\":\"progress\",\"epoch\":%zu,\"step\":%zu,\"steps\":%zu,\"loss\":", ev->epoch,
                   ev->step, ev->epochs * ev->steps_per_epoch);
    srv_buf_double(b, j->loss_sum / (double)j->images_sum);
    put_num(b, "accuracy", (double)j->correct_sum / (double)j->images_sum);
    srv_buf_printf(b, ",\"images_per_s\":%.0f,\"elapsed_ms\":%.1f}", secs > 0 ? (double)j->images_sum / secs : 0.0,
                   now - j->t0);
    j->loss_sum = 0;
    j->correct_sum = j->images_sum = 0;
    send_line(j);
}

/* The confusion matrix as rows (true class) of counts. */
static void put_confusion(srv_buf *b, const size_t *conf, size_t k) {
    srv_buf_puts(b, ",\"confusion\":[");
    for (size_t r = 0; r < k; r++) {
        if (r) srv_buf_putc(b, ',');
        srv_buf_sizes(b, conf + r * k, k);
    }
    srv_buf_putc(b, ']');
}

/* The first conv layer's kernels [N, KH, KW, C] (omitted when the net has no conv layer). */
static void put_kernels(srv_buf *b, const nn_cnn_net *net) {
    for (size_t o = 0; o < net->num_ops; o++) {
        const nn_net_op *op = &net->ops[o];
        if (op->type != NN_OP_CONV) continue;
        size_t shape[4] = {op->filters, op->kh, op->kw, op->in_shape[2]};
        srv_buf_puts(b, ",\"kernels\":");
        srv_buf_tensor(b, op->w, shape, 4);
        return;
    }
}

static void put_epoch(srv_cnn_job *j, const nn_cnn_event *ev) {
    srv_buf *b = &j->line;
    srv_buf_printf(b, "{\"type\":\"epoch\",\"epoch\":%zu,\"epochs\":%zu,\"step\":%zu,\"train_loss\":", ev->epoch,
                   ev->epochs, ev->step);
    srv_buf_double(b, ev->train_loss);
    put_num(b, "train_accuracy", ev->train_accuracy);
    put_num(b, "test_loss", ev->test_loss);
    put_num(b, "test_accuracy", ev->test_accuracy);
    put_confusion(b, ev->confusion, ev->classes);
    put_kernels(b, ev->net);
    srv_buf_printf(b, ",\"elapsed_ms\":%.1f}", elapsed(j));
    send_line(j);
}

static int on_progress(void *ctx, const nn_cnn_event *ev) {
    srv_cnn_job *j = ctx;
    int stop = srv_train_check(j->cancel, &j->stopped, j->max_seconds, j->cpu0, &j->cpu_checked_ms);
    if (stop == 2) j->over_time_epoch = ev->epoch ? ev->epoch : 1;
    if (stop) return 1;
    if (ev->kind == NN_CNN_STEP) {
        j->last_step = ev->step;
        j->loss_sum += ev->loss * (double)ev->batch;
        j->correct_sum += ev->correct;
        j->images_sum += ev->batch;
        if (j->stream && (ev->step % j->report_every == 0 || srv_now_ms() - j->last_line_ms >= PROGRESS_GAP_MS))
            put_progress(j, ev);
    } else if (ev->kind == NN_CNN_EPOCH && j->stream) {
        put_epoch(j, ev);
    }
    return j->stopped;
}

/* The first test images with their true and predicted classes, for the page's grid. */
static void put_examples(srv_buf *b, const srv_cnn_job *j, const nn_cnn_train_result *r) {
    srv_buf_puts(b, ",\"examples\":[");
    size_t shape[3] = {NN_FASHION_SIDE, NN_FASHION_SIDE, 1};
    float px[NN_FASHION_PIXELS];
    for (size_t i = 0; i < r->num_examples; i++) {
        const nn_imageset *s = &j->test;
        for (size_t p = 0; p < NN_FASHION_PIXELS; p++)
            px[p] = s->images ? (float)s->images[i * NN_FASHION_PIXELS + p] / 255.0f : s->pixels[i * NN_FASHION_PIXELS + p];
        if (i) srv_buf_putc(b, ',');
        srv_buf_printf(b, "{\"index\":%zu,\"label\":%u,\"predicted\":%u,\"p\":", i, s->labels[i], r->example_pred[i]);
        srv_buf_float(b, r->example_prob[i]);
        srv_buf_puts(b, ",\"image\":");
        srv_buf_tensor(b, px, shape, 3);
        srv_buf_putc(b, '}');
    }
    srv_buf_putc(b, ']');
}

static void put_done(srv_cnn_job *j, const nn_cnn_train_result *r) {
    srv_buf *b = &j->line;
    size_t E = r->epochs;
    srv_buf_printf(b, "{\"type\":\"done\",\"model\":\"cnn\",\"epochs\":%zu,\"steps\":%zu,\"train_loss\":", E, r->steps);
    srv_buf_doubles(b, r->train_loss, E);
    srv_buf_puts(b, ",\"train_accuracy\":");
    srv_buf_doubles(b, r->train_accuracy, E);
    srv_buf_puts(b, ",\"test_loss\":");
    srv_buf_doubles(b, r->test_loss, E);
    srv_buf_puts(b, ",\"test_accuracy\":");
    srv_buf_doubles(b, r->test_accuracy, E);
    srv_buf_puts(b, ",\"final\":{\"train_loss\":");
    srv_buf_double(b, r->train_loss[E - 1]);
    put_num(b, "train_accuracy", r->train_accuracy[E - 1]);
    put_num(b, "test_loss", r->test_loss[E - 1]);
    put_num(b, "test_accuracy", r->test_accuracy[E - 1]);
    srv_buf_putc(b, '}');
    put_confusion(b, r->confusion, r->classes);
    put_classes(b);
    nn_layer_spec specs[NN_CNN_MAX_LAYERS];
    nn_cnn_net_export(&j->net, specs);
    srv_buf_puts(b, ",\"weights\":");
    srv_arch_write(b, specs, j->net.num_layers, NN_FASHION_SIDE, NN_FASHION_SIDE, 1);
    put_examples(b, j, r);
    srv_buf_printf(b, ",\"elapsed_ms\":%.1f}", elapsed(j));
}

/* The outcome as an error (srv_train_line.h). Returns the status. */
static int emit_error(srv_cnn_job *j, int status, const char *code, const char *field, const char *msg,
                      size_t step) {
    return srv_train_error(&j->line, j->emit, j->ctx, j->stream, &j->stopped, status, code, field, msg, step);
}

/* The field a divergence is blamed on, and the message. A loss already non-finite at step 1,
 * before any update, comes from the initial weights or the data, not from the learning rate:
 * "init" when the request gave the weights, else "dataset" when it gave the training images. */
static const char *divergence_cause(const srv_cnn_job *j, char *msg, size_t n) {
    if (j->last_step == 0 && j->given_init) {
        snprintf(msg, n, "diverged at step 1: the loss is not finite with the given initial weights, "
                         "before any update (check init)");
        return "init";
    }
    if (j->last_step == 0 && j->own_px[0]) {
        snprintf(msg, n, "diverged at step 1: the loss is not finite on the given data set, before "
                         "any update (check dataset)");
        return "dataset";
    }
    snprintf(msg, n, "diverged at step %zu: the loss is not finite (lower learning_rate)", j->last_step + 1);
    return "learning_rate";
}

static int finish(srv_cnn_job *j, nn_code rc, const nn_error *ne, nn_cnn_train_result *res) {
    if (rc == NN_OK) {
        put_done(j, res);
        return srv_train_send_done(&j->line, j->emit, j->ctx, j->stream, &j->stopped);
    }
    if (j->over_time_epoch && !j->stopped) {
        char msg[240];
        srv_train_over_time_msg(msg, sizeof msg, "run", j->max_seconds, "in epoch", j->over_time_epoch, j->cfg.epochs,
                                j->est_seconds);
        return emit_error(j, 413, NULL, "epochs", msg, 0);
    }
    if (rc == NN_CANCELLED || j->stopped) return 503; /* cancelled: nothing more is emitted */
    if (rc == NN_INVALID && ne->field && !strcmp(ne->field, "learning_rate")) {
        char msg[240];
        const char *field = divergence_cause(j, msg, sizeof msg);
        return emit_error(j, 400, "diverged", field, msg, j->last_step + 1);
    }
    return emit_error(j, srv_train_status(rc), NULL, ne->field, ne->message[0] ? ne->message : nn_code_name(rc), 0);
}

int srv_cnn_job_run(srv_cnn_job *j, srv_emit_fn emit, void *ctx, const atomic_int *cancel) {
    if (!j || !emit) return 500;
    j->emit = emit;
    j->ctx = ctx;
    j->cancel = cancel;
    j->stopped = 0;
    j->last_step = 0;
    j->over_time_epoch = 0;
    j->loss_sum = 0;
    j->correct_sum = j->images_sum = 0;
    j->t0 = j->last_line_ms = j->cpu_checked_ms = srv_now_ms();
    j->cpu0 = srv_thread_cpu_s();
    nn_error ne;
    nn_error_clear(&ne);
    nn_cnn_train_result res;
    memset(&res, 0, sizeof res);
    nn_code rc = nn_cnn_net_create(&j->net, j->arch->specs, j->arch->n, NN_FASHION_SIDE, NN_FASHION_SIDE, 1,
                                   j->cfg.batch_size, &j->opt, j->init_seed, &ne);
    if (rc == NN_OK && j->stream) {
        put_start(j);
        send_line(j);
    }
    if (rc == NN_OK && !j->stopped) rc = nn_cnn_train_run(&j->net, &j->cfg, on_progress, j, &res, &ne);
    int status = finish(j, rc, &ne, &res);
    nn_cnn_train_result_free(&res);
    nn_cnn_net_free(&j->net);
    srv_buf_free(&j->line);
    return status;
}
