/* bench_rnn.c — time per epoch of the assignment's recurrent-net training (5000 sequences of
 * length 3..9, hidden 6, Adam lr 0.001, clip 3, batch 1, plus the 1000-sequence test pass), one
 * JSON line per model, and one line for the whole experiment (the three models, 20 epochs each). */
#include <stdio.h>

#include "bench.h"
#include "nn_rnn_train.h"

typedef struct {
    nn_rnn_kind kind;
    size_t epochs;
} job;

static void run(void *ctx) {
    const job *j = ctx;
    nn_rnn_train_config c;
    nn_rnn_train_config_default(&c);
    c.model = j->kind;
    c.epochs = j->epochs;
    nn_rnn_train_result r;
    nn_error e;
    if (nn_rnn_train_run(&c, NULL, NULL, &r, &e) != NN_OK) {
        fprintf(stderr, "bench_rnn: %s\n", e.message);
        exit(1);
    }
    nn_rnn_train_result_free(&r);
}

static void run_all(void *ctx) {
    (void)ctx;
    for (int k = NN_RNN_ELMAN; k <= NN_RNN_GRU; k++) {
        job j = {(nn_rnn_kind)k, 20};
        run(&j);
    }
}

int main(void) {
    const char *op[3] = {"train_rnn_epoch", "train_lstm_epoch", "train_gru_epoch"};
    const size_t epochs = 4; /* per timed run: amortizes data generation and allocation */
    for (int k = NN_RNN_ELMAN; k <= NN_RNN_GRU; k++) {
        job j = {(nn_rnn_kind)k, epochs};
        double ms = bench_median_ms(run, &j, 1) / (double)epochs;
        bench_report(op[k], "5000 seq len 3-9 + 1000 test, h6, batch 1", ms, 0);
    }
    double ms = bench_median_ms(run_all, NULL, 0);
    bench_report("train_all_3_models_20_epochs", "assignment settings, 3 x 20 epochs", ms, 0);
    return 0;
}
