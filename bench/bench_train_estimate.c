/* bench_train_estimate.c — the training cost model (nn_rnn_train_estimate_seconds, which the
 * daemon compares with --max-train-seconds) against whole runs on this machine: one JSON line
 * per case with the estimate, the CPU time of the fastest of three runs, and their ratio. A ratio far from 1
 * means the model's constants (core/nn_rnn_train.c) need recalibrating for this machine. */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "nn_rnn_train.h"

typedef struct tcase {
    const char *name;
    nn_rnn_kind model;
    size_t hidden, samples, test_samples, min_len, max_len, epochs, batch;
} tcase;

static const tcase CASES[] = {
    {"assignment rnn", NN_RNN_ELMAN, 6, 5000, 1000, 3, 9, 4, 1},
    {"assignment lstm", NN_RNN_LSTM, 6, 5000, 1000, 3, 9, 4, 1},
    {"assignment gru", NN_RNN_GRU, 6, 5000, 1000, 3, 9, 4, 1},
    {"gru h32 len 3-9", NN_RNN_GRU, 32, 5000, 1000, 3, 9, 2, 1},
    {"lstm h64 len 10-100", NN_RNN_LSTM, 64, 500, 100, 10, 100, 2, 1},
    {"rnn h128 len 100", NN_RNN_ELMAN, 128, 200, 50, 100, 100, 2, 8},
    {"lstm h256 len 1000 batch 12", NN_RNN_LSTM, 256, 12, 1, 1000, 1000, 1, 12},
};

/* CPU seconds of this process (the training runs on this thread only): what the run costs with
 * a core to itself, however loaded the machine is while it is measured. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run(void *ctx) {
    const nn_rnn_train_config *c = ctx;
    nn_rnn_train_result r;
    nn_error e;
    if (nn_rnn_train_run(c, NULL, NULL, &r, &e) != NN_OK) {
        fprintf(stderr, "bench_train_estimate: %s\n", e.message);
        exit(1);
    }
    nn_rnn_train_result_free(&r);
}

int main(void) {
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const tcase *t = &CASES[i];
        nn_rnn_train_config c;
        nn_rnn_train_config_default(&c);
        c.model = t->model;
        c.hidden = t->hidden;
        c.samples = t->samples;
        c.test_samples = t->test_samples;
        c.min_length = t->min_len;
        c.max_length = t->max_len;
        c.epochs = t->epochs;
        c.batch_size = t->batch;
        double est = nn_rnn_train_estimate_seconds(&c), best = 1e30;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = cpu_s();
            run(&c);
            double s = cpu_s() - t0;
            if (s < best) best = s;
        }
        printf("{\"op\": \"train_estimate\", \"shape\": \"%s\", \"estimated_s\": %.4f, \"measured_s\": %.4f, "
               "\"measured_over_estimated\": %.2f}\n", t->name, est, best, best / est);
        fflush(stdout);
    }
    return 0;
}
