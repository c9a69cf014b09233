/* test_rnn_fast.c — the fast training kernels (nn_rnn_fast.h) against the general reference
 * cells (nn_elman.h, nn_lstm.h, nn_gru.h) on random weights and shapes — the gradient they keep
 * for every hidden state (dh_seq) included — including the
 * assignment's I = 2, H = 6, which runs a separately compiled constant-size instance — and the
 * vectorizable exp / sigmoid / tanh (nn_rnn_math.h) against libm. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cpu.h"
#include "nn_gru.h"
#include "nn_lstm.h"
#include "nn_rng.h"
#include "nn_elman.h"
#include "nn_rnn_fast.h"
#include "nn_rnn_math.h"

Test(rnn_math, exp_within_two_ulp_of_libm) {
    double worst = 0.0;
    for (double x = -708.0; x < 709.0; x += 0.000987654) {
        double a = nn_rnn_exp1(x), b = exp(x);
        double ulp = nextafter(b, INFINITY) - b;
        double u = fabs(a - b) / ulp;
        if (u > worst) worst = u;
    }
    cr_assert(worst <= 2.0, "worst error %.2f ulp", worst);
    cr_assert_eq(nn_rnn_exp1(0.0), 1.0);
    const double e = 2.718281828459045;
    cr_assert(fabs(nn_rnn_exp1(1.0) - e) <= 2 * DBL_EPSILON * e);
    /* Clamped outside [-708, 709]: finite, saturating. */
    cr_assert(nn_rnn_exp1(1000.0) > 1e307 && isfinite(nn_rnn_exp1(1000.0)));
    cr_assert(nn_rnn_exp1(-1000.0) < 1e-307 && nn_rnn_exp1(-1000.0) >= 0.0);
}

Test(rnn_math, sigmoid_and_tanh) {
    double ws = 0.0, wt = 0.0;
    for (double x = -40.0; x < 40.0; x += 0.0001234) {
        double s = nn_rnn_sigmoid1(x), sref = 1.0 / (1.0 + exp(-x));
        ws = fmax(ws, fabs(s - sref) / sref);
        wt = fmax(wt, fabs(nn_rnn_tanh1(x) - tanh(x)));
    }
    cr_assert(ws < 1e-15, "sigmoid relative error %g", ws);
    cr_assert(wt < 5e-16, "tanh absolute error %g", wt);
    cr_assert_eq(nn_rnn_sigmoid1(800.0), 1.0);
    cr_assert(nn_rnn_sigmoid1(-800.0) < 1e-300);
    cr_assert_eq(nn_rnn_tanh1(400.0), 1.0);
    cr_assert_eq(nn_rnn_tanh1(-400.0), -1.0);
    cr_assert_eq(nn_rnn_tanh1(0.0), 0.0);
}

Test(rnn_math, vector_forms_give_the_scalar_bits) {
    nn_rng r;
    nn_rng_seed(&r, 17);
    for (size_t n = 1; n <= 27; n++) {
        double a[27], s[27], t[27];
        for (size_t i = 0; i < n; i++) a[i] = (nn_rng_uniform(&r) - 0.5) * 60.0;
        nn_rnn_sigmoid_v(s, a, n);
        nn_rnn_tanh_v(t, a, n);
        for (size_t i = 0; i < n; i++) {
            cr_assert_eq(s[i], nn_rnn_sigmoid1(a[i]), "n=%zu i=%zu", n, i);
            cr_assert_eq(t[i], nn_rnn_tanh1(a[i]), "n=%zu i=%zu", n, i);
        }
        double b[27], d = nn_rnn_dot4(a, a, n), ref[4] = {0, 0, 0, 0};
        for (size_t i = 0; i < n; i++) b[i] = a[i];
        for (size_t i = 0; i < n; i++) ref[i & 3] += a[i] * b[i];
        cr_assert_eq(d, (ref[0] + ref[1]) + (ref[2] + ref[3]));
    }
}

static double *rnd(nn_rng *r, size_t n, double a) {
    double *p = malloc((n ? n : 1) * sizeof *p);
    cr_assert(p);
    for (size_t i = 0; i < n; i++) p[i] = (2.0 * nn_rng_uniform(r) - 1.0) * a;
    return p;
}

static double *zeros(size_t n) {
    double *p = calloc(n ? n : 1, sizeof *p);
    cr_assert(p);
    return p;
}

/* [rows, cols] -> [cols, rows] */
static double *transposed(const double *w, size_t rows, size_t cols) {
    double *t = zeros(rows * cols);
    for (size_t i = 0; i < rows; i++)
        for (size_t k = 0; k < cols; k++) t[k * rows + i] = w[i * cols + k];
    return t;
}

static void expect_close(const double *got, const double *want, size_t n, double tol,
                         const char *what, int cell, size_t I, size_t H) {
    for (size_t i = 0; i < n; i++)
        cr_assert(fabs(got[i] - want[i]) <= tol * fmax(1.0, fabs(want[i])),
                  "cell %d I=%zu H=%zu %s[%zu]: fast %.17g reference %.17g", cell, I, H, what, i,
                  got[i], want[i]);
}

/* dL/dh_t by the reference cells, independently of the fast kernels' recurrence: the rest of the
 * sequence, x[t+1..T), run from h0 = h[t] (and c0 = c[t]) with dL/dh_{T-1} = dh_last, gives it as
 * the gradient w.r.t. h0. */
static void reference_dh_at(double *out, int cell, size_t t, size_t T, size_t I, size_t H,
                            const double *x, const double *h, const double *c, const double *w_ih,
                            const double *w_hh, const double *b_ih, const double *b_hh,
                            const double *dh_last) {
    size_t n = T - 1 - t, GH = (cell == 0 ? 1 : cell == 1 ? 4 : 3) * H;
    memset(out, 0, H * sizeof *out);
    if (n == 0) {
        memcpy(out, dh_last, H * sizeof *out);
        return;
    }
    const double *xs = x + (t + 1) * I, *h0 = h + t * H, *c0 = c + t * H;
    double *hs = zeros(n * H), *cs = zeros(n * H), *gs = zeros(n * GH), *as = zeros(n * H);
    double *dh = zeros(n * H), *dwi = zeros(GH * I), *dwh = zeros(GH * H), *dbi = zeros(GH);
    double *dbh = zeros(GH), *scratch = zeros(8 * GH);
    memcpy(dh + (n - 1) * H, dh_last, H * sizeof *dh);
    if (cell == 0) {
        nn_elman_forward(hs, xs, h0, w_ih, w_hh, b_ih, b_hh, n, I, H);
        nn_elman_backward(NULL, out, dwi, dwh, dbi, dbh, dh, hs, xs, h0, w_ih, w_hh, n, I, H,
                          scratch);
    } else if (cell == 1) {
        nn_lstm_forward(hs, cs, gs, as, xs, h0, c0, w_ih, w_hh, b_ih, b_hh, n, I, H);
        nn_lstm_backward(NULL, out, NULL, dwi, dwh, dbi, dbh, dh, xs, h0, c0, hs, cs, gs, as, w_ih,
                         w_hh, n, I, H, scratch);
    } else {
        nn_gru_forward(hs, gs, as, xs, h0, w_ih, w_hh, b_ih, b_hh, n, I, H);
        nn_gru_backward(NULL, out, dwi, dwh, dbi, dbh, dh, xs, h0, hs, gs, as, w_ih, w_hh, n, I, H,
                        scratch);
    }
    double *all[] = {hs, cs, gs, as, dh, dwi, dwh, dbi, dbh, scratch};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
}

/* cell: 0 Elman, 1 LSTM, 2 GRU. */
static void compare(int cell, size_t T, size_t I, size_t H, uint64_t seed) {
    nn_rng r;
    nn_rng_seed(&r, seed);
    size_t G = cell == 0 ? 1 : cell == 1 ? 4 : 3, GH = G * H;
    double *x = rnd(&r, T * I, 1.0), *w_ih = rnd(&r, GH * I, 0.7), *w_hh = rnd(&r, GH * H, 0.7);
    double *b_ih = rnd(&r, GH, 0.5), *b_hh = rnd(&r, GH, 0.5), *dh_last = rnd(&r, H, 1.0);
    double *w_ihT = transposed(w_ih, GH, I), *w_hhT = transposed(w_hh, GH, H);
    double *h1 = zeros(T * H), *c1 = zeros(T * H), *g1 = zeros(T * GH), *a1 = zeros(T * H);
    double *h2 = zeros(T * H), *c2 = zeros(T * H), *g2 = zeros(T * GH), *a2 = zeros(T * H);
    double *dh = zeros(T * H), *scratch = zeros(NN_RNN_FAST_SCRATCH(H) > 8 * GH ? NN_RNN_FAST_SCRATCH(H) : 8 * GH);
    memcpy(dh + (T - 1) * H, dh_last, H * sizeof *dh);
    double *dwi1 = zeros(GH * I), *dwh1 = zeros(GH * H), *dbi1 = zeros(GH), *dbh1 = zeros(GH);
    double *dwi2 = zeros(GH * I), *dwh2 = zeros(GH * H), *dbi2 = zeros(GH), *dbh2 = zeros(GH);
    double *dhs2 = zeros(T * H), *dref = zeros(H);
    if (cell == 0) {
        nn_elman_forward(h1, x, NULL, w_ih, w_hh, b_ih, b_hh, T, I, H);
        nn_elman_backward(NULL, NULL, dwi1, dwh1, dbi1, dbh1, dh, h1, x, NULL, w_ih, w_hh, T, I, H,
                        scratch);
        nn_rnn_fast_forward(h2, x, w_ihT, w_hhT, b_ih, b_hh, T, I, H, scratch);
        nn_rnn_fast_backward(dwi2, dwh2, dbi2, dbh2, dhs2, dh_last, h2, x, w_hhT, T, I, H,
                             scratch);
    } else if (cell == 1) {
        nn_lstm_forward(h1, c1, g1, a1, x, NULL, NULL, w_ih, w_hh, b_ih, b_hh, T, I, H);
        nn_lstm_backward(NULL, NULL, NULL, dwi1, dwh1, dbi1, dbh1, dh, x, NULL, NULL, h1, c1, g1,
                         a1, w_ih, w_hh, T, I, H, scratch);
        nn_lstm_fast_forward(h2, c2, g2, a2, x, w_ihT, w_hhT, b_ih, b_hh, T, I, H, scratch);
        nn_lstm_fast_backward(dwi2, dwh2, dbi2, dbh2, dhs2, dh_last, x, h2, c2, g2, a2, w_hhT, T,
                              I, H, scratch);
        expect_close(c2, c1, T * H, 1e-14, "c", cell, I, H);
    } else {
        nn_gru_forward(h1, g1, a1, x, NULL, w_ih, w_hh, b_ih, b_hh, T, I, H);
        nn_gru_backward(NULL, NULL, dwi1, dwh1, dbi1, dbh1, dh, x, NULL, h1, g1, a1, w_ih, w_hh,
                        T, I, H, scratch);
        nn_gru_fast_forward(h2, g2, a2, x, w_ihT, w_hhT, b_ih, b_hh, T, I, H, scratch);
        nn_gru_fast_backward(dwi2, dwh2, dbi2, dbh2, dhs2, dh_last, x, h2, g2, a2, w_hhT, T, I,
                             H, scratch);
    }
    for (size_t t = 0; t < T; t++) {
        reference_dh_at(dref, cell, t, T, I, H, x, h1, c1, w_ih, w_hh, b_ih, b_hh, dh_last);
        expect_close(dhs2 + t * H, dref, H, 1e-13, "dh_seq", cell, I, H);
    }
    expect_close(h2, h1, T * H, 1e-14, "h", cell, I, H);
    expect_close(g2, g1, T * GH, 1e-14, "gate", cell, I, H);
    double *dwi2t = transposed(dwi2, I, GH), *dwh2t = transposed(dwh2, H, GH);
    expect_close(dwi2t, dwi1, GH * I, 1e-13, "dw_ih", cell, I, H);
    expect_close(dwh2t, dwh1, GH * H, 1e-13, "dw_hh", cell, I, H);
    expect_close(dbi2, dbi1, GH, 1e-13, "db_ih", cell, I, H);
    expect_close(dbh2, dbh1, GH, 1e-13, "db_hh", cell, I, H);
    double *all[] = {x, w_ih, w_hh, b_ih, b_hh, dh_last, w_ihT, w_hhT, h1, c1, g1, a1, h2, c2,
                     g2, a2, dh, scratch, dwi1, dwh1, dbi1, dbh1, dwi2, dwh2, dbi2, dbh2, dwi2t,
                     dwh2t, dhs2, dref};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
}

static const size_t shapes[][3] = {
    /* T, I, H */
    {9, 2, 6}, {3, 2, 6}, {1, 2, 6}, {5, 1, 1}, {4, 3, 5}, {7, 2, 7}, {6, 4, 8}, {2, 2, 13},
};

Test(rnn_fast, elman_matches_reference) {
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        compare(0, shapes[s][0], shapes[s][1], shapes[s][2], 100 + s);
}

Test(rnn_fast, lstm_matches_reference) {
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        compare(1, shapes[s][0], shapes[s][1], shapes[s][2], 200 + s);
}

Test(rnn_fast, gru_matches_reference) {
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        compare(2, shapes[s][0], shapes[s][1], shapes[s][2], 300 + s);
}

/* Forward and backward of one cell with the fast kernels; every output, concatenated, into out
 * (returns its length). */
static size_t fast_outputs(double *out, int cell, size_t T, size_t I, size_t H, uint64_t seed) {
    nn_rng r;
    nn_rng_seed(&r, seed);
    size_t G = cell == 0 ? 1 : cell == 1 ? 4 : 3, GH = G * H;
    double *x = rnd(&r, T * I, 1.0), *w_ihT = rnd(&r, I * GH, 0.7), *w_hhT = rnd(&r, H * GH, 0.7);
    double *b_ih = rnd(&r, GH, 0.5), *b_hh = rnd(&r, GH, 0.5), *dh_last = rnd(&r, H, 1.0);
    double *scratch = zeros(NN_RNN_FAST_SCRATCH(H));
    /* out: h, c, tc [T, H]; gate [T, GH]; dw_ihT [I, GH]; dw_hhT [H, GH]; db_ih, db_hh [GH];
     * dh_seq [T, H] */
    size_t n = 4 * T * H + T * GH + I * GH + H * GH + 2 * GH;
    memset(out, 0, n * sizeof *out);
    double *h = out, *c = h + T * H, *tc = c + T * H, *gate = tc + T * H, *dwi = gate + T * GH;
    double *dwh = dwi + I * GH, *dbi = dwh + H * GH, *dbh = dbi + GH, *dhs = dbh + GH;
    if (cell == 0) {
        nn_rnn_fast_forward(h, x, w_ihT, w_hhT, b_ih, b_hh, T, I, H, scratch);
        nn_rnn_fast_backward(dwi, dwh, dbi, dbh, dhs, dh_last, h, x, w_hhT, T, I, H, scratch);
    } else if (cell == 1) {
        nn_lstm_fast_forward(h, c, gate, tc, x, w_ihT, w_hhT, b_ih, b_hh, T, I, H, scratch);
        nn_lstm_fast_backward(dwi, dwh, dbi, dbh, dhs, dh_last, x, h, c, gate, tc, w_hhT, T, I, H,
                              scratch);
    } else {
        nn_gru_fast_forward(h, gate, c, x, w_ihT, w_hhT, b_ih, b_hh, T, I, H, scratch);
        nn_gru_fast_backward(dwi, dwh, dbi, dbh, dhs, dh_last, x, h, gate, c, w_hhT, T, I, H,
                             scratch);
    }
    double *all[] = {x, w_ihT, w_hhT, b_ih, b_hh, dh_last, scratch};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
    return n;
}

/* The portable and the AVX2 builds (nn_cpu.h picks one), generic and constant-size, give the
 * same bits for every cell. */
Test(rnn_fast, every_simd_level_gives_the_same_bits) {
    enum { MAX_OUT = 4096 };
    static double out[NN_SIMD_LEVELS][MAX_OUT];
    for (int cell = 0; cell < 3; cell++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            size_t n = 0;
            int ran[NN_SIMD_LEVELS] = {0};
            for (int level = 0; level < NN_SIMD_LEVELS; level++) {
                if ((int)nn_cpu_set_simd(level) != level) continue;
                ran[level] = 1;
                n = fast_outputs(out[level], cell, shapes[s][0], shapes[s][1], shapes[s][2], 400 + s);
                cr_assert_leq(n, (size_t)MAX_OUT);
            }
            for (int level = 1; level < NN_SIMD_LEVELS; level++)
                cr_assert(!ran[level] || !memcmp(out[level], out[0], n * sizeof(double)),
                          "cell %d shape %zu: level %d differs from generic", cell, s, level);
        }
    nn_cpu_set_simd(NN_SIMD_AUTO);
}
