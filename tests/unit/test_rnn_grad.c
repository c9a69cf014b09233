/* test_rnn_grad.c — gradient checks of every recurrent cell (Elman, LSTM, GRU), the linear head,
 * the MSE loss and the whole model against central finite differences in float64: relative
 * error <= 1e-6 on random small shapes over several timesteps. The loss used for the cells is
 * L = sum_t sum_j R[t, j] h_t[j] with random R, so the gradient flows into every h_t, not only
 * the last; the gradients w.r.t. x, h0 (and c0) are checked as well as the parameters. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_gru.h"
#include "nn_lstm.h"
#include "nn_rng.h"
#include "nn_elman.h"
#include "nn_rnn_head.h"
#include "nn_rnn_model.h"

enum { ELMAN, LSTM, GRU };

typedef struct {
    int cell;
    size_t T, I, H, G;
    double *x, *h0, *c0, *w_ih, *w_hh, *b_ih, *b_hh, *R;
    double *h, *c, *gate, *aux;
} problem;

static double urand(nn_rng *r, double a) { return (2.0 * nn_rng_uniform(r) - 1.0) * a; }

static double *filled(nn_rng *r, size_t n, double a) {
    double *p = malloc((n ? n : 1) * sizeof *p);
    cr_assert(p);
    for (size_t i = 0; i < n; i++) p[i] = urand(r, a);
    return p;
}

static double *zeros(size_t n) {
    double *p = calloc(n ? n : 1, sizeof *p);
    cr_assert(p);
    return p;
}

static void forward(problem *p) {
    switch (p->cell) {
    case ELMAN:
        nn_elman_forward(p->h, p->x, p->h0, p->w_ih, p->w_hh, p->b_ih, p->b_hh, p->T, p->I, p->H);
        break;
    case LSTM:
        nn_lstm_forward(p->h, p->c, p->gate, p->aux, p->x, p->h0, p->c0, p->w_ih, p->w_hh,
                        p->b_ih, p->b_hh, p->T, p->I, p->H);
        break;
    case GRU:
        nn_gru_forward(p->h, p->gate, p->aux, p->x, p->h0, p->w_ih, p->w_hh, p->b_ih, p->b_hh,
                       p->T, p->I, p->H);
        break;
    }
}

static double loss(problem *p) {
    forward(p);
    double s = 0.0;
    for (size_t i = 0; i < p->T * p->H; i++) s += p->R[i] * p->h[i];
    return s;
}

/* Compare the analytic gradient g of array a (n values) with central differences. */
static double check_array(problem *p, double *a, const double *g, size_t n, const char *what) {
    const double eps = 1e-5;
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double keep = a[i];
        a[i] = keep + eps;
        double lp = loss(p);
        a[i] = keep - eps;
        double lm = loss(p);
        a[i] = keep;
        double num = (lp - lm) / (2 * eps);
        double rel = fabs(g[i] - num) / fmax(fmax(fabs(g[i]), fabs(num)), 1e-4);
        if (rel > worst) worst = rel;
        cr_assert(rel <= 1e-6, "cell %d T=%zu I=%zu H=%zu: d%s[%zu] analytic %.12g numeric %.12g",
                  p->cell, p->T, p->I, p->H, what, i, g[i], num);
    }
    return worst;
}

static void gradcheck_cell(int cell, uint64_t seed) {
    nn_rng r;
    nn_rng_seed(&r, seed);
    problem p = {.cell = cell};
    p.T = 1 + (size_t)nn_rng_range(&r, 0, 5);
    p.I = 1 + (size_t)nn_rng_range(&r, 0, 3);
    p.H = 1 + (size_t)nn_rng_range(&r, 0, 4);
    p.G = cell == ELMAN ? 1 : cell == LSTM ? 4 : 3;
    size_t T = p.T, I = p.I, H = p.H, GH = p.G * p.H;
    p.x = filled(&r, T * I, 1.0);
    p.h0 = filled(&r, H, 0.8);
    p.c0 = filled(&r, H, 0.8);
    p.w_ih = filled(&r, GH * I, 0.8);
    p.w_hh = filled(&r, GH * H, 0.8);
    p.b_ih = filled(&r, GH, 0.5);
    p.b_hh = filled(&r, GH, 0.5);
    p.R = filled(&r, T * H, 1.0);
    p.h = zeros(T * H);
    p.c = zeros(T * H);
    p.gate = zeros(T * GH);
    p.aux = zeros(T * H);
    double *dx = zeros(T * I), *dh0 = zeros(H), *dc0 = zeros(H);
    double *dwi = zeros(GH * I), *dwh = zeros(GH * H), *dbi = zeros(GH), *dbh = zeros(GH);
    double *scratch = zeros(8 * GH);
    forward(&p);
    switch (cell) {
    case ELMAN:
        nn_elman_backward(dx, dh0, dwi, dwh, dbi, dbh, p.R, p.h, p.x, p.h0, p.w_ih, p.w_hh, T, I, H,
                        scratch);
        break;
    case LSTM:
        nn_lstm_backward(dx, dh0, dc0, dwi, dwh, dbi, dbh, p.R, p.x, p.h0, p.c0, p.h, p.c, p.gate,
                         p.aux, p.w_ih, p.w_hh, T, I, H, scratch);
        break;
    case GRU:
        nn_gru_backward(dx, dh0, dwi, dwh, dbi, dbh, p.R, p.x, p.h0, p.h, p.gate, p.aux, p.w_ih,
                        p.w_hh, T, I, H, scratch);
        break;
    }
    check_array(&p, p.w_ih, dwi, GH * I, "w_ih");
    check_array(&p, p.w_hh, dwh, GH * H, "w_hh");
    check_array(&p, p.b_ih, dbi, GH, "b_ih");
    check_array(&p, p.b_hh, dbh, GH, "b_hh");
    check_array(&p, p.x, dx, T * I, "x");
    check_array(&p, p.h0, dh0, H, "h0");
    if (cell == LSTM) check_array(&p, p.c0, dc0, H, "c0");

    /* Backward adds: a second call doubles every gradient. */
    double *dwi2 = malloc(GH * I * sizeof *dwi2);
    cr_assert(dwi2);
    memcpy(dwi2, dwi, GH * I * sizeof *dwi2);
    forward(&p);
    if (cell == ELMAN)
        nn_elman_backward(NULL, NULL, dwi, dwh, dbi, dbh, p.R, p.h, p.x, p.h0, p.w_ih, p.w_hh, T, I,
                        H, scratch);
    else if (cell == LSTM)
        nn_lstm_backward(NULL, NULL, NULL, dwi, dwh, dbi, dbh, p.R, p.x, p.h0, p.c0, p.h, p.c,
                         p.gate, p.aux, p.w_ih, p.w_hh, T, I, H, scratch);
    else
        nn_gru_backward(NULL, NULL, dwi, dwh, dbi, dbh, p.R, p.x, p.h0, p.h, p.gate, p.aux,
                        p.w_ih, p.w_hh, T, I, H, scratch);
    for (size_t i = 0; i < GH * I; i++) cr_assert_float_eq(dwi[i], 2 * dwi2[i], 1e-12);

    double *all[] = {p.x, p.h0, p.c0, p.w_ih, p.w_hh, p.b_ih, p.b_hh, p.R, p.h, p.c, p.gate,
                     p.aux, dx, dh0, dc0, dwi, dwh, dbi, dbh, scratch, dwi2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
}

Test(rnn_grad, elman_cell) {
    for (uint64_t s = 1; s <= 8; s++) gradcheck_cell(ELMAN, s);
}

Test(rnn_grad, lstm_cell) {
    for (uint64_t s = 1; s <= 8; s++) gradcheck_cell(LSTM, 100 + s);
}

Test(rnn_grad, gru_cell) {
    for (uint64_t s = 1; s <= 8; s++) gradcheck_cell(GRU, 200 + s);
}

/* Cells starting from zeros (h0 = c0 = NULL), as the model runs them, agree with explicit zeros. */
Test(rnn_grad, null_initial_state_is_zero) {
    nn_rng r;
    nn_rng_seed(&r, 7);
    size_t T = 4, I = 2, H = 3;
    double *x = filled(&r, T * I, 1), *w_ih = filled(&r, 4 * H * I, 1), *w_hh = filled(&r, 4 * H * H, 1);
    double *b_ih = filled(&r, 4 * H, 1), *b_hh = filled(&r, 4 * H, 1), *z = zeros(H);
    double h1[12], h2[12], c1[12], c2[12], g1[48], g2[48], a1[12], a2[12];
    nn_lstm_forward(h1, c1, g1, a1, x, NULL, NULL, w_ih, w_hh, b_ih, b_hh, T, I, H);
    nn_lstm_forward(h2, c2, g2, a2, x, z, z, w_ih, w_hh, b_ih, b_hh, T, I, H);
    cr_assert_arr_eq(h1, h2, sizeof h1);
    nn_gru_forward(h1, g1, a1, x, NULL, w_ih, w_hh, b_ih, b_hh, T, I, H);
    nn_gru_forward(h2, g2, a2, x, z, w_ih, w_hh, b_ih, b_hh, T, I, H);
    cr_assert_arr_eq(h1, h2, sizeof h1);
    nn_elman_forward(h1, x, NULL, w_ih, w_hh, b_ih, b_hh, T, I, H);
    nn_elman_forward(h2, x, z, w_ih, w_hh, b_ih, b_hh, T, I, H);
    cr_assert_arr_eq(h1, h2, sizeof h1);
    free(x); free(w_ih); free(w_hh); free(b_ih); free(b_hh); free(z);
}

/* The head and the MSE: y = W h + b, L = mean (y - t)^2. */
Test(rnn_grad, head_and_mse) {
    nn_rng r;
    nn_rng_seed(&r, 42);
    for (int rep = 0; rep < 5; rep++) {
        size_t H = 1 + (size_t)nn_rng_range(&r, 0, 6), O = 1 + (size_t)nn_rng_range(&r, 0, 3);
        double *h = filled(&r, H, 1), *w = filled(&r, O * H, 1), *b = filled(&r, O, 1);
        double *t = filled(&r, O, 1), *y = zeros(O), *dy = zeros(O);
        double *dh = zeros(H), *dw = zeros(O * H), *db = zeros(O);
        nn_rnn_head_forward(y, h, w, b, H, O);
        nn_rnn_mse_backward(dy, y, t, O);
        nn_rnn_head_backward(dh, dw, db, dy, h, w, H, O);
        double *arrs[3] = {h, w, b}, *grads[3] = {dh, dw, db};
        size_t ns[3] = {H, O * H, O};
        for (int a = 0; a < 3; a++)
            for (size_t i = 0; i < ns[a]; i++) {
                double keep = arrs[a][i], eps = 1e-5;
                arrs[a][i] = keep + eps;
                nn_rnn_head_forward(y, h, w, b, H, O);
                double lp = nn_rnn_mse_forward(y, t, O);
                arrs[a][i] = keep - eps;
                nn_rnn_head_forward(y, h, w, b, H, O);
                double lm = nn_rnn_mse_forward(y, t, O);
                arrs[a][i] = keep;
                double num = (lp - lm) / (2 * eps), g = grads[a][i];
                double rel = fabs(g - num) / fmax(fmax(fabs(g), fabs(num)), 1e-4);
                cr_assert(rel <= 1e-6, "head array %d [%zu]: %.12g vs %.12g", a, i, g, num);
            }
        free(h); free(w); free(b); free(t); free(y); free(dy); free(dh); free(dw); free(db);
    }
}

/* The whole model (cell + head + squared error) for each kind, over every parameter. */
Test(rnn_grad, model_all_parameters) {
    nn_rng r;
    nn_rng_seed(&r, 3);
    for (int kind = NN_RNN_ELMAN; kind <= NN_RNN_GRU; kind++) {
        nn_rnn_model m;
        size_t T = 5, I = 2, H = 4;
        cr_assert_eq(nn_rnn_model_init(&m, (nn_rnn_kind)kind, I, H, 9, NULL), NN_OK);
        nn_rnn_model_init_uniform(&m, &r);
        double x[10], target = 0.7;
        for (size_t i = 0; i < T * I; i++) x[i] = nn_rng_uniform(&r);
        nn_rnn_model_zero_grad(&m);
        double d = nn_rnn_model_forward(&m, x, T) - target;
        nn_rnn_model_backward(&m, x, 2 * d);
        for (size_t i = 0; i < m.nparams; i++) {
            double keep = m.params[i], eps = 1e-5;
            m.params[i] = keep + eps;
            double dp = nn_rnn_model_forward(&m, x, T) - target;
            m.params[i] = keep - eps;
            double dm = nn_rnn_model_forward(&m, x, T) - target;
            m.params[i] = keep;
            double num = (dp * dp - dm * dm) / (2 * eps), g = m.grads[i];
            double rel = fabs(g - num) / fmax(fmax(fabs(g), fabs(num)), 1e-4);
            cr_assert(rel <= 1e-6, "%s param %zu: %.12g vs %.12g", nn_rnn_kind_name(m.kind), i,
                      g, num);
        }
        nn_rnn_model_free(&m);
    }
}
