/* Tests of analysis/tfstats: the statistics of a sample of positions against values computed by
 * hand (NumPy's 'linear' percentiles worked out beside each), the histogram's bins, and
 * tf_position on both paths (AVX2 and double) against closed forms on tiny rows and against a
 * double-precision reference built here from metrics.c on 151936-wide random rows. */
#include <math.h>

#include "analysis/metrics.h"
#include "analysis/tfstats.h"
#include "tests/testutil.h"

/* |a − b| <= tol · max(1, |b|) */
#define CLOSE(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol) * fmax(1.0, fabs((double)(b))))
#define REL(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol) * fabs((double)(b)))

static TfPos pos(double kl, double lp_base, double lp_var, int same) {
    return (TfPos){(float)kl, (float)lp_base, (float)lp_var, (uint8_t)same, 0, 0};
}

/* Five positions. KL 0.5, 2, 1, 8, 4; P(true) = 1/2, 1/4, 1, 1/8, 1/2; Q(true) = 1/4, 1/2, 1/2,
 * 1/4, 1 (log-probabilities k ln 2, exact enough in float for 1e-6). */
static void five(TfSample *s) {
    const double L = log(2.0);
    tf_push(s, pos(0.5, -1 * L, -2 * L, 1));
    tf_push(s, pos(2, -2 * L, -1 * L, 0));
    tf_push(s, pos(1, 0, -1 * L, 1));
    tf_push(s, pos(8, -3 * L, -2 * L, 1));
    tf_push(s, pos(4, -1 * L, 0, 0));
}

static void summary_of_five(void **state) {
    (void)state;
    TfSample s = {0};
    five(&s);
    TfSummary m;
    tf_summarize(&s, &m);
    assert_int_equal(m.n, 5);
    assert_int_equal(m.n_nan, 0);
    /* mean 15.5 / 5 = 3.1; squared deviations 6.76 + 1.21 + 4.41 + 24.01 + 0.81 = 37.2,
     * sd² = 37.2 / 4 = 9.3, SE = sqrt(9.3 / 5) */
    CLOSE(m.kl_mean, 3.1, 1e-12);
    CLOSE(m.kl_se, sqrt(9.3 / 5), 1e-12);
    /* KL sorted 0.5 1 2 4 8; h = p/100 · 4. p99.9: h = 3.996 → 4 + 0.996 · 4 = 7.984; p99: 7.84;
     * p95: h = 3.8 → 7.2; p90: 6.4; median: h = 2 → 2; p10: h = 0.4 → 0.5 + 0.4 · 0.5 = 0.7;
     * p5: 0.6; p1: 0.52; p0.1: 0.502 */
    const double kl[TF_NPCT] = {8, 7.984, 7.84, 7.2, 6.4, 2, 0.7, 0.6, 0.52, 0.502, 0.5};
    for (int k = 0; k < TF_NPCT; k++) CLOSE(m.kl_pct[k], kl[k], 1e-12);
    /* Δp = Q − P: −1/4, 1/4, −1/2, 1/8, 1/2; sorted −0.5 −0.25 0.125 0.25 0.5. p99.9:
     * 0.25 + 0.996 · 0.25 = 0.499; p99: 0.49; p95: 0.45; p90: 0.4; median 0.125; p10: −0.5 +
     * 0.4 · 0.25 = −0.4; p5: −0.45; p1: −0.49; p0.1: −0.499. rms = sqrt((1/16 + 1/16 + 1/4 + 1/64 +
     * 1/4) / 5) = sqrt(41/320) */
    const double dp[TF_NPCT] = {0.5, 0.499, 0.49, 0.45, 0.4, 0.125, -0.4, -0.45, -0.49, -0.499, -0.5};
    for (int k = 0; k < TF_NPCT; k++) CLOSE(m.dp_pct[k], dp[k], 1e-6);
    CLOSE(m.dp_rms, sqrt(41.0 / 320), 1e-6);
    CLOSE(m.same_top1, 0.6, 1e-12);
    /* −mean ln P = (1+2+0+3+1)/5 ln 2 → PPL_P = 2^(7/5); PPL_Q = 2^((2+1+1+2+0)/5) = 2^(6/5) */
    CLOSE(m.ppl_base, pow(2, 1.4), 1e-6);
    CLOSE(m.ppl_var, pow(2, 1.2), 1e-6);
    /* lp_base − lp_var in units of ln 2: 1 −1 1 −1 −1, mean −0.2 (PPL_Q/PPL_P = 2^−0.2);
     * deviations 1.2 −0.8 1.2 −0.8 −0.8, Σ² = 4.8, sd² = 1.2, SE = sqrt(1.2/5) ln 2 */
    CLOSE(m.ln_ppl_ratio, -0.2 * log(2.0), 1e-6);
    CLOSE(exp(m.ln_ppl_ratio), m.ppl_var / m.ppl_base, 1e-6);
    CLOSE(m.ln_ppl_ratio_se, sqrt(0.24) * log(2.0), 1e-6);
    /* Pearson (units of ln 2 cancel): x = −1 −2 0 −3 −1 (mean −1.4), y = −2 −1 −1 −2 0 (mean −1.2):
     * Σdxdy = 1.6, Σdx² = 5.2, Σdy² = 2.8 → 1.6 / sqrt(14.56) */
    CLOSE(m.pearson_ll, 1.6 / sqrt(14.56), 1e-6);
    /* the sample itself is not reordered */
    assert_true(s.v[0].kl == 0.5f && s.v[3].kl == 8.0f);
    tf_sample_free(&s);
    assert_null(s.v);
    assert_int_equal(s.n, 0);
}

static void even_median_and_names(void **state) {
    (void)state;
    TfSample s = {0};
    const double v[4] = {4, 1, 3, 2};
    for (int i = 0; i < 4; i++) tf_push(&s, pos(v[i], -1, -1 - v[i], 0));
    TfSummary m;
    tf_summarize(&s, &m);
    /* sorted 1 2 3 4, h = p/100 · 3: median h = 1.5 → 2.5; p90 h = 2.7 → 3.7; p10 h = 0.3 → 1.3 */
    CLOSE(m.kl_pct[5], 2.5, 1e-12);
    CLOSE(m.kl_pct[4], 3.7, 1e-12);
    CLOSE(m.kl_pct[6], 1.3, 1e-12);
    assert_string_equal(TF_PCT_NAME[0], "max");
    assert_string_equal(TF_PCT_NAME[5], "median");
    assert_string_equal(TF_PCT_NAME[9], "p0.1");
    assert_true(TF_PCT[1] == 99.9 && TF_PCT[9] == 0.1 && TF_PCT[10] == 0);
    tf_sample_free(&s);
}

static void pearson_edges(void **state) {
    (void)state;
    TfSummary m;
    TfSample up = {0}, down = {0}, flat = {0};
    for (int i = 1; i <= 3; i++) {
        tf_push(&up, pos(0, -i, -2 * i, 1));     /* y = 2x: +1 */
        tf_push(&down, pos(0, -i, i - 10, 1));   /* y = −x − 10: −1 */
        tf_push(&flat, pos(0, -i, -1, 1));       /* y constant: NAN */
    }
    tf_summarize(&up, &m);
    CLOSE(m.pearson_ll, 1, 1e-12);
    tf_summarize(&down, &m);
    CLOSE(m.pearson_ll, -1, 1e-12);
    tf_summarize(&flat, &m);
    assert_true(isnan(m.pearson_ll));
    assert_false(isnan(m.ln_ppl_ratio));
    tf_sample_free(&up), tf_sample_free(&down), tf_sample_free(&flat);
}

static void empty_one_and_nan(void **state) {
    (void)state;
    TfSample s = {0};
    TfSummary m;
    tf_summarize(&s, &m);
    assert_int_equal(m.n, 0);
    const double *all[] = {&m.kl_mean, &m.kl_se, &m.dp_rms, &m.same_top1, &m.ppl_base, &m.ppl_var,
                           &m.ln_ppl_ratio, &m.ln_ppl_ratio_se, &m.pearson_ll, &m.kl_pct[0], &m.kl_pct[10],
                           &m.dp_pct[5]};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) assert_true(isnan(*all[i]));
    /* one position (and a NAN one, left out) */
    tf_push(&s, pos(NAN, NAN, NAN, 0));
    tf_push(&s, pos(0.25, log(0.5), log(0.25), 1));
    tf_summarize(&s, &m);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.n_nan, 1);
    CLOSE(m.kl_mean, 0.25, 1e-12);
    for (int k = 0; k < TF_NPCT; k++) CLOSE(m.kl_pct[k], 0.25, 1e-12), CLOSE(m.dp_pct[k], -0.25, 1e-7);
    assert_true(isnan(m.kl_se) && isnan(m.ln_ppl_ratio_se) && isnan(m.pearson_ll));
    CLOSE(m.ppl_base, 2, 1e-6);
    CLOSE(m.ppl_var, 4, 1e-6);
    CLOSE(m.same_top1, 1, 0);
    tf_sample_free(&s);
}

static void histogram_bins(void **state) {
    (void)state;
    TfSample s = {0};
    /* bins of one decade from 10^-3: [-3,-2) [-2,-1) [-1,0) [0,∞) in log10 KL */
    const double kl[] = {0, 1e-5, 0.005, 0.05, 0.5, 3, 1e6, INFINITY, NAN, -1e-9};
    for (size_t i = 0; i < sizeof kl / sizeof *kl; i++) tf_push(&s, pos(kl[i], -1, -1, 1));
    size_t c[4];
    /* 0, 1e-5, 0.005 (−2.3) and −1e-9 (rounding below 0) in the first; 0.05 (−1.3); 0.5 (−0.3);
     * 3, 1e6 and +inf in the last; NAN nowhere */
    assert_int_equal(tf_histogram(&s, -3, 1, 4, c), 9);
    assert_int_equal(c[0], 4);
    assert_int_equal(c[1], 1);
    assert_int_equal(c[2], 1);
    assert_int_equal(c[3], 3);
    /* tenths of a decade: 3e-5 is log10 −4.523 → (−4.523 + 8) / 0.1 = 34.77 → bin 34 */
    TfSample one = {0};
    tf_push(&one, pos(3e-5, 0, 0, 1));
    size_t d[100];
    assert_int_equal(tf_histogram(&one, -8, 0.1, 100, d), 1);
    assert_int_equal(d[34], 1);
    assert_int_equal(tf_histogram(&one, -8, 0.1, 0, d), 0);
    tf_sample_free(&s), tf_sample_free(&one);
}

static void bits_per_byte(void **state) {
    (void)state;
    /* 100 bytes at 8 nats each: 800 / ln 2 / 100 bits per byte */
    CLOSE(tf_bits_per_byte(800, 100), 8 / log(2.0), 1e-12);
    assert_true(isnan(tf_bits_per_byte(1, 0)));
}

/* ---- tf_position ---- */

/* Both paths: 0 (double) and 1 (AVX2, when the CPU has it). */
static void both(const float *zp, const float *zq, int n, int t, TfPos out[2]) {
    float *scratch = xmalloc(2 * (size_t)n * sizeof *scratch + 1);
    tf_position_path(0, zp, zq, n, t, &out[0], scratch);
    tf_position_path(1, zp, zq, n, t, &out[1], NULL); /* NULL: its own scratch */
    free(scratch);
}

static void position_closed_forms(void **state) {
    (void)state;
    if (!tf_position_avx2()) printf("# note: no AVX2+FMA here: both runs take the double path\n");
    TfPos o[2];
    /* P = (e, 1, 1) / (e + 2), Q uniform: KL = Σ p ln 3p = ln 3 + e/(e+2) − ln(e+2) */
    const float zp[3] = {1, 0, 0}, zq[3] = {0, 0, 0};
    const double e = exp(1.0), kl = log(3.0) + e / (e + 2) - log(e + 2);
    both(zp, zq, 3, 1, o);
    for (int k = 0; k < 2; k++) {
        REL(o[k].kl, kl, 3e-7);
        CLOSE(o[k].lp_base, -log(e + 2), 1e-7);
        CLOSE(o[k].lp_var, -log(3.0), 1e-7);
        assert_int_equal(o[k].same_top1, 1); /* ties in Q: the first index, 0 */
    }
    /* KL far below float epsilon: P = (1/2, 1/2), Q from logits (0, δ), δ = 2^-10:
     * KL = ln((1 + e^δ)/2) − δ/2 = ln cosh(δ/2), and cosh x − 1 = 2 sinh²(x/2) → about 1.2e-7 */
    const double dl = 1.0 / 1024, x = dl / 2, tiny = log1p(2 * sinh(x / 2) * sinh(x / 2));
    const float ap[2] = {0, 0}, aq[2] = {0, (float)dl};
    both(ap, aq, 2, 0, o);
    for (int k = 0; k < 2; k++) REL(o[k].kl, tiny, 3e-7);
    /* identical rows and rows shifted by a constant: the same distribution */
    float sp[11], sq[11];
    for (int i = 0; i < 11; i++) sp[i] = (float)(i % 4) - 1.5f, sq[i] = sp[i] + 7;
    both(sp, sp, 11, 3, o);
    for (int k = 0; k < 2; k++) assert_true(o[k].kl == 0), assert_true(o[k].lp_base == o[k].lp_var);
    both(sp, sq, 11, 3, o);
    for (int k = 0; k < 2; k++) {
        assert_true(o[k].kl >= 0 && o[k].kl < 1e-12);
        CLOSE(o[k].lp_base, o[k].lp_var, 1e-6);
        assert_int_equal(o[k].same_top1, 1);
    }
}

static void position_infinities(void **state) {
    (void)state;
    TfPos o[2];
    /* P uniform on 3, Q = (1/2, 0, 1/2): KL(P||Q) = ∞ */
    const float u[3] = {0, 0, 0}, gap[3] = {0, -INFINITY, 0};
    both(u, gap, 3, 0, o);
    for (int k = 0; k < 2; k++) assert_true(isinf(o[k].kl) && o[k].kl > 0), CLOSE(o[k].lp_var, -log(2.0), 1e-7);
    /* P = (1/2, 0, 1/2), Q uniform: KL = ln(3/2); lp of the impossible token −∞ */
    both(gap, u, 3, 1, o);
    for (int k = 0; k < 2; k++) {
        REL(o[k].kl, log(1.5), 1e-7);
        assert_true(isinf(o[k].lp_base) && o[k].lp_base < 0);
        CLOSE(o[k].lp_var, -log(3.0), 1e-7);
    }
    /* NaN or +inf anywhere, n_vocab < 1: every field NAN */
    const float bad[3] = {0, NAN, 0}, big[3] = {0, INFINITY, 0};
    for (int k = 0; k < 2; k++) {
        TfPos r;
        tf_position_path(k, u, bad, 3, 0, &r, NULL);
        assert_true(isnan(r.kl) && isnan(r.lp_base) && isnan(r.lp_var) && r.same_top1 == 0);
        tf_position_path(k, big, u, 3, 0, &r, NULL);
        assert_true(isnan(r.kl) && isnan(r.lp_base) && r.same_top1 == 0);
        tf_position_path(k, u, u, 0, 0, &r, NULL);
        assert_true(isnan(r.kl));
        /* a true id out of range: lp NAN, the rest computed */
        tf_position_path(k, u, u, 3, 3, &r, NULL);
        assert_true(r.kl == 0 && isnan(r.lp_base) && isnan(r.lp_var) && r.same_top1 == 1);
        tf_position_path(k, u, u, 3, -1, &r, NULL);
        assert_true(isnan(r.lp_base));
    }
}

static void argmax_ties(void **state) {
    (void)state;
    /* 8 lanes: index 3 (lane 3), 10 (lane 2), 11 (lane 3), 18 (lane 2) */
    float zp[20], zq[20], zr[20];
    for (int i = 0; i < 20; i++) zp[i] = zq[i] = zr[i] = (float)(i % 5) * 0.1f;
    zp[10] = zp[3] = 5;   /* argmax 3 */
    zq[18] = zq[3] = 5;   /* argmax 3 */
    zr[11] = zr[4] = 5;   /* argmax 4 */
    TfPos o[2];
    both(zp, zq, 20, 0, o);
    for (int k = 0; k < 2; k++) assert_int_equal(o[k].same_top1, 1);
    both(zp, zr, 20, 0, o);
    for (int k = 0; k < 2; k++) assert_int_equal(o[k].same_top1, 0);
    /* in the partial last vector (n = 13): ties at 12 and 9 → 9, against one max at 9 */
    float a[13], b[13];
    for (int i = 0; i < 13; i++) a[i] = b[i] = -(float)i;
    a[12] = a[9] = b[9] = 50;
    both(a, b, 13, 12, o);
    for (int k = 0; k < 2; k++) assert_int_equal(o[k].same_top1, 1);
    b[9] = 0, b[12] = 50; /* now 12 */
    both(a, b, 13, 12, o);
    for (int k = 0; k < 2; k++) assert_int_equal(o[k].same_top1, 0);
}

/* xorshift64* and Box-Muller: the same rows on every machine */
static double unit(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return ((double)((*s * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(uint64_t *s) { return sqrt(-2 * log(unit(s))) * cos(2 * M_PI * unit(s)); }

/* A model-like row: N(0, 2.5) logits, a few hundred strong tokens, one dominant one. */
static void row(float *zp, float *zq, int n, double top, double noise, uint64_t *s) {
    for (int i = 0; i < n; i++) {
        zp[i] = (float)(2.5 * gauss(s) + (i % 997 == 5 ? 9 : 0));
        zq[i] = (float)(zp[i] + noise * gauss(s));
    }
    zp[n / 3] = (float)top, zq[n / 3] = (float)(top + noise * gauss(s));
}

/* KL, lp and argmax of the full rows in double from metrics.c. KL two ways: kl_divergence
 * (Σ p (ln p − ln q), good to about 1e-15 nats), and Σ p (d + expm1(−d)), good to 1e-15 relative,
 * for KL too small for the first. */
static void reference(const float *zp, const float *zq, int n, int t, double *kl, double *kl_small, TfPos *ref) {
    double *lp = xmalloc((size_t)n * sizeof *lp), *lq = xmalloc((size_t)n * sizeof *lq), k3 = 0;
    metric_log_softmax(zp, (size_t)n, lp);
    metric_log_softmax(zq, (size_t)n, lq);
    *kl = metric_kl_divergence(lp, lq, (size_t)n);
    for (int i = 0; i < n; i++) k3 += exp(lp[i]) * ((lp[i] - lq[i]) + expm1(lq[i] - lp[i]));
    *kl_small = k3;
    ref->lp_base = (float)lp[t], ref->lp_var = (float)lq[t];
    ref->same_top1 = metric_argmax(lp, (size_t)n) == metric_argmax(lq, (size_t)n);
    free(lp), free(lq);
}

static void wide_rows_match_double(void **state) {
    (void)state;
    const int n = 151936;
    float *zp = xmalloc(n * sizeof *zp), *zq = xmalloc(n * sizeof *zq), *scratch = xmalloc(2 * (size_t)n * sizeof *scratch);
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    /* (dominant logit, noise): KL from about 1e-13 to 4 */
    const double cases[][2] = {{12, 1e-6}, {12, 1e-4}, {20, 0.01}, {12, 0.1}, {30, 0.3}, {12, 1}, {8, 3}};
    double worst = 0;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        row(zp, zq, n, cases[c][0], cases[c][1], &seed);
        int t = (int)(unit(&seed) * n);
        double kl, kl_small;
        TfPos ref, got[2];
        reference(zp, zq, n, t, &kl, &kl_small, &ref);
        tf_position_path(1, zp, zq, n, t, &got[1], scratch);
        tf_position_path(0, zp, zq, n, t, &got[0], NULL);
        if (kl_small > 1e-6) REL(kl_small, kl, 1e-8); /* the two references agree where both can */
        for (int k = 0; k < 2; k++) {
            double rel = fabs(got[k].kl - kl_small) / kl_small;
            worst = fmax(worst, rel);
            /* well below 1e-6; float itself rounds to 6e-8 */
            if (rel >= 4e-7) printf("# path %d: KL %.6e, want %.6e\n", k, got[k].kl, kl_small);
            assert_true(rel < 4e-7);
            if (kl > 1e-6) REL(got[k].kl, kl, 4e-7);
            CLOSE(got[k].lp_base, ref.lp_base, 1e-7);
            CLOSE(got[k].lp_var, ref.lp_var, 1e-7);
            assert_int_equal(got[k].same_top1, ref.same_top1);
        }
        printf("# KL %.3e: relative error %.2e (AVX2), %.2e (double)\n", kl_small,
               fabs(got[1].kl - kl_small) / kl_small, fabs(got[0].kl - kl_small) / kl_small);
    }
    printf("# worst relative error of KL: %.2e\n", worst);
    /* a length that is not a multiple of 8 */
    row(zp, zq, 1003, 10, 0.5, &seed);
    double kl, kl_small;
    TfPos ref, got;
    reference(zp, zq, 1003, 1002, &kl, &kl_small, &ref);
    tf_position(zp, zq, 1003, 1002, &got, scratch);
    REL(got.kl, kl_small, 4e-7);
    CLOSE(got.lp_base, ref.lp_base, 1e-7);
    free(zp), free(zq), free(scratch);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(summary_of_five),
        cmocka_unit_test(even_median_and_names),
        cmocka_unit_test(pearson_edges),
        cmocka_unit_test(empty_one_and_nan),
        cmocka_unit_test(histogram_bins),
        cmocka_unit_test(bits_per_byte),
        cmocka_unit_test(position_closed_forms),
        cmocka_unit_test(position_infinities),
        cmocka_unit_test(argmax_ties),
        cmocka_unit_test(wide_rows_match_double),
    };
    return cmocka_run_group_tests_name("tfstats", tests, NULL, NULL);
}
