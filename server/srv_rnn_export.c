/* srv_rnn_export.c — the PyTorch script of a recurrent training run; see srv_rnn_export.h. */
#include "srv_rnn_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_budget.h"

#define MARKER "# @nnlab-run@\n"

size_t srv_rnn_export_bound(const nn_rnn_train_config *cfg) {
    /* Per step 2 float64 (16 bytes), per sequence its length and target (16), as base64 (4/3),
     * plus the weights (4 per-gate blocks of G*H*(H+2) at most) and the code (~4 KB). */
    size_t steps = 0, seqs = 0;
    for (int s = 0; s < 2; s++) {
        const size_t *len = s ? cfg->test_len : cfg->data_len;
        size_t count = s ? (cfg->test_x ? cfg->test_count : cfg->test_samples)
                         : (cfg->data_x ? cfg->data_count : cfg->samples);
        if (s ? cfg->test_x != NULL : cfg->data_x != NULL)
            for (size_t i = 0; i < count; i++) steps = srv_budget_add(steps, len[i]);
        else
            steps = srv_budget_add(steps, srv_budget_mul(count, cfg->max_length));
        seqs = srv_budget_add(seqs, count);
    }
    size_t gh = srv_budget_mul(nn_rnn_kind_gates(cfg->model), cfg->hidden);
    size_t weights = srv_budget_mul(4, srv_budget_mul(gh, srv_budget_add(cfg->hidden, 2)));
    size_t raw = srv_budget_add(srv_budget_mul(steps, 16), srv_budget_mul(seqs, 16));
    raw = srv_budget_add(raw, srv_budget_mul(weights, 8));
    return srv_budget_add(srv_budget_mul(raw / 3 + 1, 4), 16384);
}

/* "name": {"shape", "dtype", "npy"} (s->npy is set) on a line of its own, after a comma unless
 * it is DATA's first (train_x): DATA is valid JSON as well as Python. */
static void put_array(srv_buf *s, const char *name, const double *v, size_t n0, size_t n1) {
    size_t shape[2] = {n0, n1};
    srv_buf_printf(s, "%s    \"%s\": ", strcmp(name, "train_x") ? ",\n" : "\n", name);
    srv_buf_tensor_f64(s, v, shape, n1 ? 2 : 1);
}

/* A set as train_x [steps, 2], train_length [count] (as float64: exact), train_y [count]. */
static int put_set(srv_buf *s, const char *prefix, const nn_seqset *set) {
    double *len = malloc(set->count * sizeof *len);
    if (!len) return -1;
    for (size_t i = 0; i < set->count; i++) len[i] = (double)nn_seqset_len(set, i);
    char name[32];
    snprintf(name, sizeof name, "%s_x", prefix);
    put_array(s, name, set->x, set->total, 2);
    snprintf(name, sizeof name, "%s_length", prefix);
    put_array(s, name, len, set->count, 0);
    snprintf(name, sizeof name, "%s_y", prefix);
    put_array(s, name, set->y, set->count, 0);
    free(len);
    return 0;
}

static int put_run(srv_buf *s, const nn_rnn_train_config *cfg, nn_rnn_model *m,
                   const nn_seqset *train, const nn_seqset *test) {
    srv_buf_puts(s, "RUN = {\"model\": ");
    srv_buf_str(s, nn_rnn_kind_name(cfg->model));
    srv_buf_printf(s, ", \"hidden_size\": %zu, \"epochs\": %zu, \"batch_size\": %zu, "
                      "\"seed\": %llu, \"learning_rate\": ",
                   cfg->hidden, cfg->epochs, cfg->batch_size, (unsigned long long)cfg->seed);
    srv_buf_double(s, cfg->lr);
    srv_buf_puts(s, ", \"clip\": ");
    srv_buf_double(s, cfg->clip);
    srv_buf_puts(s, "}\nDATA = {");
    if (put_set(s, "train", train) || put_set(s, "test", test)) return -1;
    for (int p = 0; p < NN_RNN_NPARAMS; p++) {
        size_t shape[2], nd;
        size_t n = nn_rnn_param_shape(m->kind, m->input, m->hidden, p, shape, &nd);
        double *w = malloc(n * sizeof *w);
        if (!w) return -1;
        nn_rnn_model_get_param(m, p, w);
        put_array(s, nn_rnn_param_name(p), w, shape[0], nd == 2 ? shape[1] : 0);
        free(w);
    }
    srv_buf_puts(s, "\n}\n");
    return 0;
}

int srv_rnn_export_put(srv_buf *b, const nn_rnn_train_config *cfg, srv_err *e) {
    nn_seqset train, test;
    nn_rnn_model m;
    nn_error ne;
    nn_error_clear(&ne);
    if (nn_rnn_train_begin(cfg, &train, &test, &m, &ne) != NN_OK) return srv_fail_nn(e, &ne, NULL);
    const char *t = srv_rnn_export_template, *mark = strstr(t, MARKER);
    srv_buf s = {0};
    s.npy = 1;
    int rc = mark ? 0 : -1;
    if (rc == 0) {
        srv_buf_put(&s, t, (size_t)(mark - t));
        rc = put_run(&s, cfg, &m, &train, &test);
        srv_buf_puts(&s, mark + strlen(MARKER));
    }
    nn_rnn_model_free(&m);
    nn_seqset_free(&train);
    nn_seqset_free(&test);
    if (rc == 0 && !s.oom) srv_buf_str(b, s.p);
    int oom = rc || s.oom;
    srv_buf_free(&s);
    if (!mark) return srv_fail(e, 500, "export", "the export template has no run marker");
    return oom ? srv_fail(e, 503, "export", "out of memory writing the PyTorch script") : 0;
}
