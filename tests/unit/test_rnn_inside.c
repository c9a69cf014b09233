/* test_rnn_inside.c — the recurrent nets from inside, against PyTorch
 * (tests/fixtures/rnn_inside.json, from tests/reference/gen_rnn_inside.py): on the same weights
 * and sequences, the model's output, hidden states, cell states and gates
 * (nn_rnn_model_forward's cache), the gradient of the loss w.r.t. every hidden state
 * (nn_rnn_model_backward_dh; torch: retain_grad on each step's state) and the probe's mean
 * gradient norm by step (nn_rnn_probe.h). And in a training run: the probe is reported at every
 * epoch and changes nothing of the run; nn_rnn_train_begin is exactly where the run starts. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "nn_rnn_probe.h"
#include "nn_rnn_train.h"
#include "rnn_config.h"

static cJSON *load(void) {
    cJSON *doc = fx_require("rnn_inside.json");
    return doc;
}

/* A model for the case's weights (PyTorch's layout), holding sequences up to max_len. */
static void model_of(nn_rnn_model *m, const cJSON *c, size_t max_len) {
    nn_rnn_kind kind;
    cr_assert_eq(nn_rnn_kind_parse(fx_str(c, "model"), &kind, NULL), NN_OK);
    cr_assert_eq(nn_rnn_model_init(m, kind, 2, (size_t)fx_num(c, "hidden"), max_len, NULL), NN_OK);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(c, "weights");
    for (int p = 0; p < NN_RNN_NPARAMS; p++) {
        size_t n;
        double *v = fx_tensor_f64(w, nn_rnn_param_name(p), NULL, NULL, &n);
        cr_assert_eq(n, m->numel[p]);
        nn_rnn_model_set_param(m, p, v);
        free(v);
    }
}

/* got [T, H] with row stride `stride` (a gate's columns inside [T, G*H]) against want [T, H]:
 * each row within tol of its own norm (a gradient that vanished to 1e-40 is still compared to
 * its own scale, not to the last step's). Returns the worst error relative to the row norm. */
static double compare_rows(const double *got, size_t stride, const cJSON *obj, const char *key,
                           size_t T, size_t H, double tol, const char *what) {
    size_t shape[8], nd, n;
    double *want = fx_tensor_f64(obj, key, shape, &nd, &n);
    cr_assert_eq(n, T * H, "%s: %zu values, want %zu", what, n, T * H);
    double worst = 0.0;
    for (size_t t = 0; t < T; t++) {
        double norm = 0.0;
        for (size_t j = 0; j < H; j++) norm += want[t * H + j] * want[t * H + j];
        norm = sqrt(norm);
        for (size_t j = 0; j < H; j++) {
            double err = fabs(got[t * stride + j] - want[t * H + j]) / (norm > 0 ? norm : 1.0);
            worst = fmax(worst, err);
            cr_assert(err <= tol, "%s[%zu][%zu]: nnlab %.17g, torch %.17g", what, t, j,
                      got[t * stride + j], want[t * H + j]);
        }
    }
    free(want);
    return worst;
}

static void check_sequence(nn_rnn_model *m, const cJSON *c, const cJSON *s, double *worst_dh) {
    const char *name = fx_str(c, "name"), *kind = fx_str(c, "model");
    size_t shape[8], nd, n, H = m->hidden;
    double *x = fx_tensor_f64(s, "x", shape, &nd, &n);
    size_t T = shape[0];
    double out = nn_rnn_model_forward(m, x, T), want = fx_num(s, "output");
    cr_assert(fabs(out - want) <= 1e-13 * fmax(1.0, fabs(want)), "%s T=%zu: output %.17g, torch %.17g",
              name, T, out, want);
    compare_rows(m->h, H, s, "hidden", T, H, 1e-13, "hidden");
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(s, "gates");
    const char *names = !strcmp(kind, "lstm") ? "ifgo" : !strcmp(kind, "gru") ? "rzn" : "";
    cr_assert_eq(strlen(names), m->gates == 1 ? 0 : m->gates);
    for (size_t k = 0; names[k]; k++) {
        char key[2] = {names[k], 0};
        compare_rows(m->gate + k * H, m->gates * H, g, key, T, H, 1e-13, key);
    }
    if (!strcmp(kind, "lstm")) compare_rows(m->c, H, s, "cell", T, H, 1e-13, "cell");
    nn_rnn_model_zero_grad(m);
    nn_rnn_model_backward_dh(m, x, 2.0 * (out - fx_num(s, "y")));
    *worst_dh = fmax(*worst_dh, compare_rows(m->dh, H, s, "dh", T, H, 1e-9, "dL/dh"));
    free(x);
}

Test(rnn_inside, states_gates_and_gradient_by_step_match_torch) {
    cJSON *doc = load();
    int cases = 0;
    for (const cJSON *c = fx_cases(doc); c; c = c->next) {
        nn_rnn_model m;
        model_of(&m, c, 64);
        double worst = 0.0;
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(c, "sequences"))
            check_sequence(&m, c, s, &worst);
        cr_log_info("%s: dL/dh_t within %.2g of each step's norm", fx_str(c, "name"), worst);
        nn_rnn_model_free(&m);
        cases++;
    }
    cr_assert_eq(cases, 6);
    cJSON_Delete(doc);
}

/* The probe sequences (all of one length) as a set. */
static void probe_set(nn_seqset *set, const cJSON *probe) {
    const cJSON *seqs = cJSON_GetObjectItemCaseSensitive(probe, "sequences");
    size_t count = (size_t)cJSON_GetArraySize(seqs), T = 0;
    double *x = NULL, y[8];
    size_t len[8];
    cr_assert_leq(count, 8);
    for (size_t i = 0; i < count; i++) {
        size_t shape[8], nd, n;
        const cJSON *si = cJSON_GetArrayItem(seqs, (int)i);
        double *xi = fx_tensor_f64(si, "x", shape, &nd, &n);
        if (!x) x = malloc(count * n * sizeof *x);
        cr_assert(x);
        memcpy(x + i * n, xi, n * sizeof *x);
        T = len[i] = shape[0];
        y[i] = fx_num(si, "y");
        free(xi);
    }
    cr_assert_eq(nn_seqset_copy(set, x, len, y, count, "probe", NULL), NN_OK);
    cr_assert_eq(set->max_len, T);
    free(x);
}

Test(rnn_inside, probe_mean_gradient_norm_matches_torch) {
    cJSON *doc = load();
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases")) {
        const cJSON *probe = cJSON_GetObjectItemCaseSensitive(c, "probe");
        nn_seqset set;
        probe_set(&set, probe);
        nn_rnn_model m;
        model_of(&m, c, set.max_len);
        size_t idx[8], T = set.max_len;
        cr_assert_eq(nn_rnn_probe_select(&set, 8, idx), set.count);
        double *got = calloc(T, sizeof *got);
        cr_assert(got);
        nn_rnn_probe_grad_by_step(&m, &set, idx, set.count, got);
        size_t n;
        double *want = fx_tensor_f64(probe, "grad_by_step", NULL, NULL, &n);
        cr_assert_eq(n, T);
        for (size_t t = 0; t < T; t++)
            cr_assert(fabs(got[t] - want[t]) <= 1e-9 * want[t], "%s t=%zu: %.17g, torch %.17g",
                      fx_str(c, "name"), t, got[t], want[t]);
        for (size_t i = 0; i < m.nparams; i++) cr_assert_eq(m.grads[i], 0.0, "gradients left behind");
        free(got);
        free(want);
        nn_rnn_model_free(&m);
        nn_seqset_free(&set);
    }
    cJSON_Delete(doc);
}

Test(rnn_inside, probe_takes_the_first_sequences_of_the_longest_length) {
    const double x[2 * 15] = {0};
    const size_t len[] = {3, 4, 2, 4, 1, 1};
    const double y[] = {0, 0, 0, 0, 0, 0};
    nn_seqset set;
    cr_assert_eq(nn_seqset_copy(&set, x, len, y, 6, "set", NULL), NN_OK);
    size_t idx[4];
    cr_assert_eq(nn_rnn_probe_select(&set, 4, idx), 2);
    cr_assert_eq(idx[0], 1);
    cr_assert_eq(idx[1], 3);
    cr_assert_eq(nn_rnn_probe_select(&set, 1, idx), 1);
    cr_assert_eq(idx[0], 1);
    nn_seqset_free(&set);
}

typedef struct {
    size_t epochs, steps, count;
    double first[3], last[3];  /* per epoch: grad_by_step[0] and [T-1] */
} probe_log;

static int on_event(void *ctx, const nn_rnn_train_event *ev) {
    probe_log *l = ctx;
    if (ev->kind != NN_RNN_TRAIN_EPOCH) {
        cr_assert_null(ev->grad_by_step);
        return 0;
    }
    if (!ev->grad_by_step) return 0;
    cr_assert_lt(l->epochs, 3);
    l->steps = ev->grad_steps;
    l->count = ev->probe_count;
    l->first[l->epochs] = ev->grad_by_step[0];
    l->last[l->epochs] = ev->grad_by_step[ev->grad_steps - 1];
    for (size_t t = 0; t < ev->grad_steps; t++)
        cr_assert(isfinite(ev->grad_by_step[t]) && ev->grad_by_step[t] >= 0.0);
    l->epochs++;
    return 0;
}

static void small_run(nn_rnn_train_config *c, nn_rnn_kind kind) {
    *c = rc_config(kind, 200, 50, 3);
    c->min_length = 10;
    c->max_length = 25;
    c->seed = 7;
}

Test(rnn_inside, probe_is_reported_every_epoch_and_changes_nothing) {
    for (int k = 0; k < 3; k++) {
        nn_rnn_train_config c;
        small_run(&c, (nn_rnn_kind)k);
        nn_rnn_train_result with, without;
        probe_log log = {0};
        cr_assert_eq(nn_rnn_train_run(&c, on_event, &log, &with, NULL), NN_OK);
        cr_assert_eq(log.epochs, 3);
        cr_assert_eq(log.steps, 25, "the test set's longest length");
        cr_assert_gt(log.count, 0);
        cr_assert_leq(log.count, 32);
        /* Elman's gradient at the first of 25 steps is far below the last step's. */
        if (k == NN_RNN_ELMAN) cr_assert_lt(log.first[2], 1e-2 * log.last[2]);
        c.probe_samples = 0;
        probe_log none = {0};
        cr_assert_eq(nn_rnn_train_run(&c, on_event, &none, &without, NULL), NN_OK);
        cr_assert_eq(none.epochs, 0);
        cr_assert_eq(memcmp(with.train_loss, without.train_loss, 3 * sizeof(double)), 0);
        cr_assert_eq(memcmp(with.test_loss, without.test_loss, 3 * sizeof(double)), 0);
        for (int p = 0; p < NN_RNN_NPARAMS; p++)
            cr_assert_eq(memcmp(with.weights[p], without.weights[p], with.numel[p] * sizeof(double)), 0);
        nn_rnn_train_result_free(&with);
        nn_rnn_train_result_free(&without);
    }
}

/* A run given begin's data sets and initial weights explicitly is the same run, bit for bit. */
Test(rnn_inside, begin_is_where_the_run_starts) {
    for (int k = 0; k < 3; k++) {
        nn_rnn_train_config c;
        small_run(&c, (nn_rnn_kind)k);
        nn_seqset train, test;
        nn_rnn_model m;
        cr_assert_eq(nn_rnn_train_begin(&c, &train, &test, &m, NULL), NN_OK);
        cr_assert_eq(train.count, 200);
        cr_assert_eq(test.count, 50);
        nn_rnn_train_config g = c;
        size_t *tl = malloc(test.count * sizeof *tl), *dl = malloc(train.count * sizeof *dl);
        double *w[NN_RNN_NPARAMS];
        cr_assert(tl && dl);
        for (size_t i = 0; i < train.count; i++) dl[i] = nn_seqset_len(&train, i);
        for (size_t i = 0; i < test.count; i++) tl[i] = nn_seqset_len(&test, i);
        g.data_x = train.x, g.data_len = dl, g.data_y = train.y, g.data_count = train.count;
        g.test_x = test.x, g.test_len = tl, g.test_y = test.y, g.test_count = test.count;
        for (int p = 0; p < NN_RNN_NPARAMS; p++) {
            w[p] = malloc(m.numel[p] * sizeof(double));
            cr_assert(w[p]);
            nn_rnn_model_get_param(&m, p, w[p]);
            g.init[p] = w[p];
            g.init_len[p] = m.numel[p];
        }
        nn_rnn_train_result a, b;
        cr_assert_eq(nn_rnn_train_run(&c, NULL, NULL, &a, NULL), NN_OK);
        cr_assert_eq(nn_rnn_train_run(&g, NULL, NULL, &b, NULL), NN_OK);
        cr_assert_eq(memcmp(a.test_loss, b.test_loss, 3 * sizeof(double)), 0);
        for (int p = 0; p < NN_RNN_NPARAMS; p++) {
            cr_assert_eq(memcmp(a.weights[p], b.weights[p], a.numel[p] * sizeof(double)), 0);
            free(w[p]);
        }
        nn_rnn_train_result_free(&a);
        nn_rnn_train_result_free(&b);
        free(tl);
        free(dl);
        nn_rnn_model_free(&m);
        nn_seqset_free(&train);
        nn_seqset_free(&test);
    }
    /* An invalid configuration: nothing is held. */
    nn_rnn_train_config c;
    small_run(&c, NN_RNN_GRU);
    c.hidden = 0;
    nn_seqset train, test;
    nn_rnn_model m;
    nn_error e;
    cr_assert_eq(nn_rnn_train_begin(&c, &train, &test, &m, &e), NN_INVALID);
    cr_assert_str_eq(e.field, "hidden_size");
    cr_assert_null(train.block);
    cr_assert_null(m.block);
}
