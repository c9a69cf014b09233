/* rnn_table.c — the assignment's experiment over seeds 1..5: Elman RNN, LSTM, GRU on the adding
 * problem (5000 samples, 1000 test, lengths 3..9, 20 epochs, hidden 6, Adam lr 0.001, clip 3,
 * batch 1). Prints the Markdown table of docs/recurrent.md: final train and test loss per model
 * per seed, medians, baseline, test accuracy, and the wall time. `make rnn-table`. */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "nn_rnn_train.h"

#define NSEEDS 5

static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof v[0], bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(void) {
    const nn_rnn_kind kinds[3] = {NN_RNN_ELMAN, NN_RNN_LSTM, NN_RNN_GRU};
    const char *label[3] = {"Elman RNN", "LSTM", "GRU"};
    printf("| model | seed | train loss | test loss | baseline train | baseline test | test accuracy |\n");
    printf("|---|---|---|---|---|---|---|\n");
    double total_ms = 0.0, cpu0 = cpu_ms();
    double med_train[3], med_test[3], med_acc[3];
    for (int k = 0; k < 3; k++) {
        double tr[NSEEDS], te[NSEEDS], acc[NSEEDS];
        for (int s = 0; s < NSEEDS; s++) {
            nn_rnn_train_config cfg;
            nn_rnn_train_config_default(&cfg);
            cfg.model = kinds[k];
            cfg.seed = (uint64_t)(s + 1);
            nn_rnn_train_result r;
            nn_error err;
            double t0 = bench_now_ms();
            nn_code rc = nn_rnn_train_run(&cfg, NULL, NULL, &r, &err);
            double ms = bench_now_ms() - t0;
            if (rc) {
                fprintf(stderr, "rnn_table: %s\n", err.message);
                return 1;
            }
            total_ms += ms;
            tr[s] = r.train_loss[r.epochs - 1];
            te[s] = r.test_loss[r.epochs - 1];
            acc[s] = r.test_accuracy;
            printf("| %s | %d | %.3e | %.3e | %.4f | %.4f | %.1f%% |\n", label[k], s + 1, tr[s],
                   te[s], r.baseline_train, r.baseline_test, 100.0 * acc[s]);
            nn_rnn_train_result_free(&r);
        }
        med_train[k] = median(tr, NSEEDS);
        med_test[k] = median(te, NSEEDS);
        med_acc[k] = median(acc, NSEEDS);
    }
    printf("\n| model | median train loss | median test loss | median test accuracy |\n|---|---|---|---|\n");
    for (int k = 0; k < 3; k++)
        printf("| %s | %.3e | %.3e | %.1f%% |\n", label[k], med_train[k], med_test[k],
               100.0 * med_acc[k]);
    printf("\n15 runs (3 models x 5 seeds x 20 epochs x 5000 sequences): %.0f ms wall, %.0f ms CPU, "
           "one thread; %.0f ms CPU per experiment (3 models x 20 epochs).\n",
           total_ms, cpu_ms() - cpu0, (cpu_ms() - cpu0) / NSEEDS);
    return 0;
}
