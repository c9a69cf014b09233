/* nn_pool_sep_body.h — internal: the separable pooling kernel (nn_pool_sep.h), written once over
 * a small vector interface and included once per instruction set by nn_pool_sep.c, which
 * defines before each inclusion:
 *   SFX(name)        the name with the instruction set's suffix
 *   VT               the functions' target attribute (or empty)
 *   VEC, VL          vector type, lanes
 *   V_LOADU(p) V_STOREU(p, v) V_SET1(x)
 *   V_ADD(a, b)      a + b
 *   V_MUL(a, b)      a * b
 *   V_MAXNAN(a, b)   PyTorch's scan step with a earlier, b later: b if b > a or b is NaN, else a
 * Every operation is one IEEE operation per lane, and the scalar tails do the same operation,
 * so every instruction set gives the same bits. The end of this file undefines the interface,
 * for the next instance. The SEP_COUNT_* hooks (nn_pool_sep.c) mark what
 * nn_pool_sep_count counts; a test compiles them into a counter to check the count. */

/* a[i] = step(a[i], b[i]) for i < n: the max step, b later. */
VT static void SFX(acc_max)(float *restrict a, const float *restrict b, size_t n) {
    size_t i = 0;
    for (; i + 2 * VL <= n; i += 2 * VL) {
        VEC a0 = V_MAXNAN(V_LOADU(a + i), V_LOADU(b + i));
        VEC a1 = V_MAXNAN(V_LOADU(a + i + VL), V_LOADU(b + i + VL));
        V_STOREU(a + i, a0);
        V_STOREU(a + i + VL, a1);
    }
    for (; i + VL <= n; i += VL) V_STOREU(a + i, V_MAXNAN(V_LOADU(a + i), V_LOADU(b + i)));
    for (; i < n; i++) a[i] = sep_max1(a[i], b[i]);
}

/* a[i] = a[i] + b[i] for i < n. */
VT static void SFX(acc_sum)(float *restrict a, const float *restrict b, size_t n) {
    size_t i = 0;
    for (; i + 2 * VL <= n; i += 2 * VL) {
        VEC a0 = V_ADD(V_LOADU(a + i), V_LOADU(b + i));
        VEC a1 = V_ADD(V_LOADU(a + i + VL), V_LOADU(b + i + VL));
        V_STOREU(a + i, a0);
        V_STOREU(a + i + VL, a1);
    }
    for (; i + VL <= n; i += VL) V_STOREU(a + i, V_ADD(V_LOADU(a + i), V_LOADU(b + i)));
    for (; i < n; i++) a[i] = a[i] + b[i];
}

VT static void SFX(acc)(float *restrict a, const float *restrict b, size_t n, int is_max) {
    SEP_COUNT_RUN(n);
    if (is_max) SFX(acc_max)(a, b, n);
    else SFX(acc_sum)(a, b, n);
}

/* a[i] = the first row's contribution b[i]: b[i] itself for max (PyTorch's step from -inf
 * gives it, NaN and -inf included), 0 + b[i] for the sum (as the direct kernels start: a -0
 * becomes +0). */
VT static void SFX(first)(float *restrict a, const float *restrict b, size_t n, int is_max) {
    SEP_COUNT_RUN(n);
    if (is_max) {
        memcpy(a, b, n * sizeof *a);
        return;
    }
    size_t i = 0;
    VEC z = V_SET1(0.0f);
    for (; i + VL <= n; i += VL) V_STOREU(a + i, V_ADD(z, V_LOADU(b + i)));
    for (; i < n; i++) a[i] = 0.0f + b[i];
}

/* a[i] *= s for i < n. */
VT static void SFX(scale)(float *a, float s, size_t n) {
    SEP_COUNT_RUN(n);
    size_t i = 0;
    VEC v = V_SET1(s);
    for (; i + VL <= n; i += VL) V_STOREU(a + i, V_MUL(V_LOADU(a + i), v));
    for (; i < n; i++) a[i] = a[i] * s;
}

/* The horizontal pass, kx-outermost: h [m, C] = the reductions of one input row's windows for m
 * consecutive outputs, xr at the first one's first pixel. Every kx adds one run of m * C floats:
 * the row itself for stride 1, else its stride phases (split into ph first). */
VT static void SFX(horiz_kx)(float *restrict h, const float *xr, size_t C, size_t sw, size_t kw,
                             size_t m, float *restrict ph, int is_max) {
    const size_t n = m * C;
    const float *src = xr;
    size_t per = 0, extra = 0;
    if (sw > 1) {
        size_t npx = (m - 1) * sw + kw;
        sep_split_phases(ph, xr, npx, C, sw);
        src = ph;
        per = npx / sw;
        extra = npx % sw;
    }
    for (size_t kx = 0; kx < kw; kx++) {
        /* outputs 0..m-1 read pixel ox * sw + kx: element ox + kx / sw of phase kx % sw */
        size_t q = kx % sw, at = sw > 1 ? q * per + (q < extra ? q : extra) + kx / sw : kx;
        if (kx == 0) {
            SEP_COUNT_RUN(n);
            memcpy(h, src + at * C, n * sizeof *h);
        } else {
            SFX(acc)(h, src + at * C, n, is_max);
        }
    }
}

/* The horizontal pass output by output (few outputs per tile): h [m, C] as above. */
VT static void SFX(horiz_ox)(float *restrict h, const float *xr, size_t C, size_t sw, size_t kw,
                             size_t m, int is_max) {
    for (size_t ox = 0; ox < m; ox++) {
        const float *src = xr + ox * sw * C;
        if (C == 1) { /* one float per column: a scalar loop, no call per column */
            SEP_COUNT_SCALAR(kw - 1);
            float a = src[0];
            if (is_max)
                for (size_t k = 1; k < kw; k++) a = sep_max1(a, src[k]);
            else
                for (size_t k = 1; k < kw; k++) a = a + src[k];
            h[ox] = a;
            continue;
        }
        SEP_COUNT_RUN(C);
        memcpy(h + ox * C, src, C * sizeof *h);
        for (size_t k = 1; k < kw; k++) SFX(acc)(h + ox * C, src + k * C, C, is_max);
    }
}

/* One column tile: outputs [o0, o0 + m) of every output row of y [OH, OW, C]. Each input row
 * the windows use is reduced along x once (into h), then combined into the output rows whose
 * windows hold it, in increasing row order; an output row is started by its window's first row
 * and scaled (the average) after its last, while it is in the cache. h holds m * C floats, ph
 * the tile's stride phases. */
VT static int SFX(tile)(float *y, const float *x, size_t W, size_t C, size_t OH, size_t OW,
                        const nn_pool_params *p, int by_kx, size_t o0, size_t m, float *h,
                        float *ph, size_t *meter) {
    const int is_max = p->kind == NN_POOL_MAX;
    const size_t kh = p->size_h, kw = p->size_w, sh = p->stride_h, sw = p->stride_w, n = m * C;
    const size_t rows = (OH - 1) * sh + kh;
    const float inv = 1.0f / (float)(kh * kw);
    float *y0 = y + o0 * C;
    for (size_t r = 0; r < rows; r++) {
        /* the output rows whose windows hold row r: ceil((r + 1 - kh) / sh) .. r / sh */
        size_t lo = r + 1 > kh ? (r + 1 - kh + sh - 1) / sh : 0, hi = r / sh;
        if (hi > OH - 1) hi = OH - 1;
        if (lo > hi) continue; /* between windows (stride over the window's height) */
        if (nn_cancel_tick(meter, kw * n)) return 1;
        const float *xr = x + (r * W + o0 * sw) * C;
        if (by_kx) SFX(horiz_kx)(h, xr, C, sw, kw, m, ph, is_max);
        else SFX(horiz_ox)(h, xr, C, sw, kw, m, is_max);
        for (size_t oy = lo; oy <= hi; oy++) {
            if (nn_cancel_tick(meter, n)) return 1;
            float *yr = y0 + oy * OW * C;
            if (r == oy * sh) SFX(first)(yr, h, n, is_max);
            else SFX(acc)(yr, h, n, is_max);
            if (!is_max && r == oy * sh + kh - 1) SFX(scale)(yr, inv, n);
        }
    }
    return 0;
}

/* Tiles [t0, t1) of the plan. */
VT static int SFX(tiles)(float *y, const float *x, size_t W, size_t C, size_t OH, size_t OW,
                         const nn_pool_params *p, const nn_pool_sep_plan *plan, size_t t0,
                         size_t t1) {
    float h[SEP_TILE_FLOATS], ph[SEP_PHASE_FLOATS];
    size_t meter = 0;
    for (size_t t = t0; t < t1; t++) {
        size_t o0 = t * plan->per_tile, m = OW - o0 < plan->per_tile ? OW - o0 : plan->per_tile;
        if (SFX(tile)(y, x, W, C, OH, OW, p, plan->by_kx, o0, m, h, ph, &meter)) return 1;
    }
    return 0;
}

#undef SFX
#undef VT
#undef VEC
#undef VL
#undef V_LOADU
#undef V_STOREU
#undef V_SET1
#undef V_ADD
#undef V_MUL
#undef V_MAXNAN
