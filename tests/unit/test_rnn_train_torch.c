/* test_rnn_train_torch.c — nn_rnn_train against PyTorch (tests/fixtures/rnn_train.json, written by
 * tests/reference/gen_rnn.py): the same initial weights and data must give the same loss at every
 * optimiser step (relative 1e-8) and the same final weights, for Elman/LSTM/GRU, batch 1 and
 * mini-batches with binding clipping. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "nn_rnn_train.h"

typedef struct {
    double *loss;
    size_t n, cap;
} step_log;

static int record(void *ctx, const nn_rnn_train_event *ev) {
    step_log *log = ctx;
    if (ev->kind == NN_RNN_TRAIN_STEP) {
        cr_assert_eq(ev->step, log->n + 1);
        if (log->n < log->cap) log->loss[log->n] = ev->loss;
        log->n++;
    }
    return 0;
}

static void run_case(const cJSON *c) {
    const char *name = fx_str(c, "name");
    nn_rnn_train_config cfg;
    nn_rnn_train_config_default(&cfg);
    cr_assert_eq(nn_rnn_kind_parse(fx_str(c, "model"), &cfg.model, NULL), NN_OK);
    cfg.hidden = (size_t)fx_num(c, "hidden");
    cfg.epochs = (size_t)fx_num(c, "epochs");
    cfg.batch_size = (size_t)fx_num(c, "batch_size");
    cfg.lr = fx_num(c, "lr");
    cfg.clip = fx_num(c, "clip");

    size_t nlen, nx, ny, nloss;
    double *lenf = fx_tensor_f64(c, "len", NULL, NULL, &nlen);
    double *x = fx_tensor_f64(c, "x", NULL, NULL, &nx);
    double *y = fx_tensor_f64(c, "y", NULL, NULL, &ny);
    double *want = fx_tensor_f64(c, "losses", NULL, NULL, &nloss);
    size_t *len = malloc(nlen * sizeof *len);
    cr_assert(len);
    for (size_t i = 0; i < nlen; i++) len[i] = (size_t)lenf[i];
    cr_assert_eq(nlen, ny);
    cfg.data_x = x;
    cfg.data_len = len;
    cfg.data_y = y;
    cfg.data_count = nlen;
    cfg.test_x = x; /* the test set is irrelevant here; skip generating one */
    cfg.test_len = len;
    cfg.test_y = y;
    cfg.test_count = nlen;

    const cJSON *init = cJSON_GetObjectItemCaseSensitive(c, "init");
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(c, "final");
    double *iw[NN_RNN_NPARAMS];
    for (int p = 0; p < NN_RNN_NPARAMS; p++) {
        iw[p] = fx_tensor_f64(init, nn_rnn_param_name(p), NULL, NULL, &cfg.init_len[p]);
        cfg.init[p] = iw[p];
    }

    step_log log = {malloc(nloss * sizeof(double)), 0, nloss};
    cr_assert(log.loss);
    nn_rnn_train_result r;
    nn_error err;
    nn_code rc = nn_rnn_train_run(&cfg, record, &log, &r, &err);
    cr_assert_eq(rc, NN_OK, "%s: %s", name, err.message);
    cr_assert_eq(log.n, nloss, "%s: %zu steps, torch took %zu", name, log.n, nloss);
    cr_assert_eq(r.steps, nloss);
    double worst = 0.0;
    for (size_t s = 0; s < nloss; s++) {
        double rel = fabs(log.loss[s] - want[s]) / fabs(want[s]);
        if (rel > worst) worst = rel;
        cr_assert(rel <= 1e-8, "%s step %zu: loss %.17g, torch %.17g (rel %.3g)", name, s + 1,
                  log.loss[s], want[s], rel);
    }
    /* The run must actually learn something, or matching would prove little: the last epoch's
     * mean loss is below the first's. */
    size_t spe = nloss / cfg.epochs;
    double first = 0.0, last = 0.0;
    for (size_t s = 0; s < spe; s++) {
        first += want[s];
        last += want[nloss - spe + s];
    }
    cr_assert(last < 0.9 * first, "%s: torch did not learn (%g -> %g)", name, first, last);
    for (int p = 0; p < NN_RNN_NPARAMS; p++) {
        size_t n;
        double *w = fx_tensor_f64(fin, nn_rnn_param_name(p), NULL, NULL, &n);
        cr_assert_eq(n, r.numel[p]);
        double e = fx_max_rel_err_f64(r.weights[p], w, n, 1e-3);
        cr_assert(e <= 1e-8, "%s final %s: rel err %.3g", name, r.names[p], e);
        free(w);
    }
    /* The clip cases really exercise clipping (torch reports how often it bound). */
    if (strstr(name, "clip")) cr_assert(fx_num(c, "clipped_steps") > nloss / 2);
    cr_log_info("%s: %zu steps (%g clipped), worst relative loss error %.3g", name, nloss,
                fx_num(c, "clipped_steps"), worst);
    nn_rnn_train_result_free(&r);
    for (int p = 0; p < NN_RNN_NPARAMS; p++) free(iw[p]);
    free(log.loss);
    free(len);
    free(lenf);
    free(x);
    free(y);
    free(want);
}

Test(rnn_train_torch, every_step_matches_pytorch) {
    cJSON *doc = fx_require("rnn_train.json");
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
    cr_assert_eq(cJSON_GetArraySize(cases), 6);
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) run_case(c);
    cJSON_Delete(doc);
}
