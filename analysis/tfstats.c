/* tfstats: see tfstats.h.
 *
 * tf_position runs for every scored position over the full vocabulary of two models (151936 logits
 * twice for Qwen), so it is written as three streaming passes over 8-wide float vectors (AVX2 and
 * FMA intrinsics, used when the CPU has them; otherwise everything runs in double):
 *   1. max, metric_argmax (first index), min and a NaN flag of each row;
 *   2. S = Σ e^(z − max) of each row, summed in double → lse = max + ln S;
 *   3. KL = Σ p (d + e^−d − 1), d = ln p − ln q = (zp − zq) − (lseP − lseQ).
 * Pass 3 uses Σ q = Σ p = 1 to add Σ (q − p) = 0 to Σ p d: every term is ≥ 0, so no cancellation
 * between terms, and f(d) = d + e^−d − 1 is taken from its Taylor series when |d| < 1, where the
 * direct form would cancel. (Σ p d alone, as metrics.c's kl_divergence sums it, loses about 1e-15
 * nats to cancellation: all of a KL of 1e-14.) In this form an error δ in lseP − lseQ adds δ²/2,
 * which one Newton step takes back (kl_row). */
#include "analysis/tfstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/metrics.h"
#include "common/util.h"

/* ---- the AVX2 + FMA path ---- */

#if defined(__x86_64__)
#include <immintrin.h>

#define W 8
typedef __m256 vf;
typedef __m256d vd;

/* Every function on vectors is inlined into position_avx2. */
#define INLINE static inline __attribute__((always_inline, target("avx2,fma")))

INLINE vf vk(float c) { return _mm256_set1_ps(c); }

/* a − b as the exact pair hi + lo (Knuth's TwoSum: no FMA, no reassociation involved). */
INLINE void two_diff(vf a, vf b, vf *hi, vf *lo) {
    vf s = _mm256_sub_ps(a, b), bb = _mm256_sub_ps(s, a);
    *hi = s;
    *lo = _mm256_sub_ps(_mm256_sub_ps(a, _mm256_sub_ps(s, bb)), _mm256_add_ps(b, bb));
}

/* e^(hi + lo) for |lo| <= ulp(hi), within about 1 ulp; 0 when hi < −87 (−inf included, whatever
 * lo is), hi capped at 88 (e^88 < FLT_MAX). Cephes expf: n = round(x / ln 2) by the 1.5 · 2^23
 * trick, r = x − n ln 2 in two steps (LN2_HI has 9 bits: n · LN2_HI is exact) plus lo, e^r by a
 * degree-7 polynomial, 2^n put into the exponent bits. Inputs are never NaN here. */
INLINE vf vexp(vf hi, vf lo) {
    vf tiny = _mm256_cmp_ps(hi, vk(-87.0f), _CMP_LT_OQ);
    vf x = _mm256_max_ps(_mm256_min_ps(hi, vk(88.0f)), vk(-87.0f));
    vf t = _mm256_fmadd_ps(x, vk(1.44269504088896341f), vk(12582912.0f));
    vf n = _mm256_sub_ps(t, vk(12582912.0f));
    vf r = _mm256_fnmadd_ps(n, vk(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, vk(-2.12194440e-4f), r);
    r = _mm256_add_ps(r, _mm256_andnot_ps(tiny, lo)); /* lo is NaN next to a −inf */
    vf y = _mm256_fmadd_ps(r, vk(1.9875691500e-4f), vk(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, r, vk(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, r, vk(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, r, vk(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, r, vk(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, vk(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000 - 127)), 23);
    return _mm256_andnot_ps(tiny, _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
}

/* p (d + e^−d − 1) = p d + q − p. |d| < 1: p d² Σ_k (−d)^k / (k+2)!, k = 0..9 (the first term
 * left out is below 1/12! = 2.1e-9, relative to the sum, which is >= 1/e), where the direct form
 * would cancel; else p (d − 1) + q, which cancels at most by a factor 3.8 (d = −1). p = 0 gives
 * q: the term's limit, and what makes Σ q − Σ p = 0 hold. */
INLINE vf vkl_term(vf d, vf p, vf q) {
    vf u = _mm256_sub_ps(_mm256_setzero_ps(), d);
    vf small = _mm256_cmp_ps(_mm256_andnot_ps(vk(-0.0f), d), vk(1.0f), _CMP_LT_OQ);
    vf g = _mm256_fmadd_ps(u, vk(2.5052108385441720e-8f), vk(2.7557319223985893e-7f)); /* 1/11!, 1/10! */
    g = _mm256_fmadd_ps(g, u, vk(2.7557319223985888e-6f));                              /* 1/9! */
    g = _mm256_fmadd_ps(g, u, vk(2.4801587301587302e-5f));                              /* 1/8! */
    g = _mm256_fmadd_ps(g, u, vk(1.9841269841269841e-4f));                              /* 1/7! */
    g = _mm256_fmadd_ps(g, u, vk(1.3888888888888889e-3f));                              /* 1/6! */
    g = _mm256_fmadd_ps(g, u, vk(8.3333333333333333e-3f));                              /* 1/5! */
    g = _mm256_fmadd_ps(g, u, vk(4.1666666666666667e-2f));                              /* 1/4! */
    g = _mm256_fmadd_ps(g, u, vk(1.6666666666666667e-1f));                              /* 1/3! */
    g = _mm256_fmadd_ps(g, u, vk(0.5f));                                                /* 1/2! */
    vf near = _mm256_mul_ps(p, _mm256_mul_ps(_mm256_mul_ps(d, d), g));
    vf far = _mm256_fmadd_ps(p, _mm256_sub_ps(d, vk(1.0f)), q);
    return _mm256_blendv_ps(far, near, small);
}

/* acc += the 8 lanes of v, in double. */
INLINE void vacc(vd *acc, vf v) {
    vd a = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), b = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    *acc = _mm256_add_pd(*acc, _mm256_add_pd(a, b));
}

INLINE double vsum(vd a) {
    double x[4];
    _mm256_storeu_pd(x, a);
    return (x[0] + x[1]) + (x[2] + x[3]);
}

/* Lanes 0..rem-1 of p, the others pad: the last partial vector of a row. */
INLINE vf vload_tail(const float *p, size_t rem, float pad) {
    float a[W];
    for (size_t j = 0; j < W; j++) a[j] = j < rem ? p[j] : pad;
    return _mm256_loadu_ps(a);
}

/* Pass 1: max, first index of max, min, and whether a lane saw a NaN. */
typedef struct {
    float max, min;
    int arg;
    int nan;
} RowScan;

INLINE void scan_step(vf x, __m256i idx, vf *m, __m256i *im, vf *mn, vf *nan) {
    vf up = _mm256_cmp_ps(x, *m, _CMP_GT_OQ);
    *m = _mm256_blendv_ps(*m, x, up);
    *im = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(*im), _mm256_castsi256_ps(idx), up));
    *mn = _mm256_blendv_ps(*mn, x, _mm256_cmp_ps(x, *mn, _CMP_LT_OQ));
    *nan = _mm256_or_ps(*nan, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

INLINE RowScan scan_row(const float *z, size_t n) {
    vf m = vk(-INFINITY), mn = vk(INFINITY), nan = _mm256_setzero_ps();
    __m256i im = _mm256_setzero_si256(), idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), step = _mm256_set1_epi32(W);
    size_t i = 0;
    for (; i + W <= n; i += W, idx = _mm256_add_epi32(idx, step)) scan_step(_mm256_loadu_ps(z + i), idx, &m, &im, &mn, &nan);
    if (i < n) scan_step(vload_tail(z + i, n - i, z[0]), idx, &m, &im, &mn, &nan); /* a copy of z[0] changes nothing */
    float mv[W], mnv[W], nv[W];
    int iv[W];
    _mm256_storeu_ps(mv, m), _mm256_storeu_ps(mnv, mn), _mm256_storeu_ps(nv, nan);
    _mm256_storeu_si256((__m256i *)iv, im);
    RowScan r = {-INFINITY, INFINITY, 0, 0};
    for (int j = 0; j < W; j++) {
        if (mv[j] > r.max || (mv[j] == r.max && iv[j] < r.arg)) r.max = mv[j], r.arg = iv[j];
        if (mnv[j] < r.min) r.min = mnv[j];
        r.nan |= nv[j] != 0;
    }
    return r;
}

/* Pass 2: e[i] = e^(z[i] − m); returns Σ e[i] in double. */
INLINE double exp_row(const float *z, size_t n, float m, float *e) {
    vd acc = _mm256_setzero_pd();
    vf vm = vk(m), hi, lo;
    size_t i = 0;
    for (; i + W <= n; i += W) {
        two_diff(_mm256_loadu_ps(z + i), vm, &hi, &lo);
        vf v = vexp(hi, lo);
        _mm256_storeu_ps(e + i, v);
        vacc(&acc, v);
    }
    if (i < n) {
        float t[W];
        two_diff(vload_tail(z + i, n - i, -INFINITY), vm, &hi, &lo); /* pads: e^−inf = 0 */
        vf v = vexp(hi, lo);
        _mm256_storeu_ps(t, v);
        memcpy(e + i, t, (n - i) * sizeof *t);
        vacc(&acc, v);
    }
    return vsum(acc);
}

/* One vector of pass 3: p = ep / Sp, q = eq / Sq, d = (zp − zq) − (lseP − lseQ) from an exact
 * pair; adds the terms to acc[0] and p d to acc[1]. */
INLINE void kl_step(vf zp, vf zq, vf ep, vf eq, vf inv_sp, vf inv_sq, vf c_hi, vf c_lo, vd acc[2]) {
    vf dh, dl, h2, l2;
    two_diff(zp, zq, &dh, &dl);
    two_diff(dh, c_hi, &h2, &l2);
    vf d = _mm256_add_ps(h2, _mm256_add_ps(l2, _mm256_sub_ps(dl, c_lo))), p = _mm256_mul_ps(ep, inv_sp);
    vacc(&acc[0], vkl_term(d, p, _mm256_mul_ps(eq, inv_sq)));
    vacc(&acc[1], _mm256_mul_ps(p, d));
}

/* Pass 3: F(c) = Σ p (d + e^−d − 1) with d = D − c, D = zp − zq, c = lseP − lseQ. F is least at
 * the true c, where F = KL, and grows by δ²/2 when c is off by δ: the rounding of the float exps
 * in Sp and Sq makes δ about 1e-9, which matters when KL is below 1e-11 or so. One Newton step
 * takes it back: F' = dF/dc = Σ p (e^−d − 1) = F − Σ p d, F'' = Σ q ≈ 1, KL = F − F'²/2. */
INLINE double kl_row(const float *zp, const float *zq, const float *ep, const float *eq, size_t n, double sp,
                     double sq, double lse_p, double lse_q) {
    double c = lse_p - lse_q;
    float c_hi = (float)c, c_lo = (float)(c - (double)c_hi);
    vf inv_sp = vk((float)(1 / sp)), inv_sq = vk((float)(1 / sq)), vc_hi = vk(c_hi), vc_lo = vk(c_lo);
    vd acc[2] = {_mm256_setzero_pd(), _mm256_setzero_pd()};
    size_t i = 0;
    for (; i + W <= n; i += W)
        kl_step(_mm256_loadu_ps(zp + i), _mm256_loadu_ps(zq + i), _mm256_loadu_ps(ep + i), _mm256_loadu_ps(eq + i),
                inv_sp, inv_sq, vc_hi, vc_lo, acc);
    if (i < n) /* pads: p = q = 0 */
        kl_step(vload_tail(zp + i, n - i, 0), vload_tail(zq + i, n - i, 0), vload_tail(ep + i, n - i, 0),
                vload_tail(eq + i, n - i, 0), inv_sp, inv_sq, vc_hi, vc_lo, acc);
    double f = vsum(acc[0]), slope = f - vsum(acc[1]);
    return fmax(0, f - slope * slope / 2); /* KL >= 0, also when it is 0 up to rounding */
}

/* The whole position when every logit is finite: 0, else -1 (out untouched). */
__attribute__((target("avx2,fma"))) static int position_avx2(const float *zp, const float *zq, size_t n,
                                                             int true_id, TfPos *out, float *scratch) {
    RowScan a = scan_row(zp, n), b = scan_row(zq, n);
    if (a.nan || b.nan || !isfinite(a.max) || !isfinite(b.max) || !isfinite(a.min) || !isfinite(b.min)) return -1;
    float *ep = scratch, *eq = scratch + n;
    double sp = exp_row(zp, n, a.max, ep), sq = exp_row(zq, n, b.max, eq);
    double lse_p = a.max + log(sp), lse_q = b.max + log(sq);
    out->kl = (float)kl_row(zp, zq, ep, eq, n, sp, sq, lse_p, lse_q);
    out->same_top1 = a.arg == b.arg;
    out->top1_base = true_id == a.arg;
    out->top1_var = true_id == b.arg;
    if (true_id >= 0 && (size_t)true_id < n) {
        out->lp_base = (float)((double)zp[true_id] - lse_p);
        out->lp_var = (float)((double)zq[true_id] - lse_q);
    } else {
        out->lp_base = out->lp_var = NAN;
    }
    return 0;
}

int tf_position_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
static int position_avx2(const float *zp, const float *zq, size_t n, int t, TfPos *out, float *scratch) {
    (void)zp, (void)zq, (void)n, (void)t, (void)out, (void)scratch;
    return -1;
}

int tf_position_avx2(void) { return 0; }
#endif

/* In double: log_softmax and argmax of metrics.c, KL in the same form as pass 3 (terms >= 0; a
 * token with p = 0 contributes q). The reference, the path of CPUs without AVX2, and that of rows
 * with a −inf logit. A NaN or +inf anywhere: every field NAN. */
static void position_double(const float *zp, const float *zq, size_t n, int true_id, TfPos *out) {
    *out = (TfPos){NAN, NAN, NAN, 0, 0, 0};
    for (size_t i = 0; i < n; i++)
        if (isnan(zp[i]) || isnan(zq[i]) || zp[i] == INFINITY || zq[i] == INFINITY) return;
    double *lp = xmalloc(n * sizeof *lp), *lq = xmalloc(n * sizeof *lq), kl = 0;
    metric_log_softmax(zp, n, lp);
    metric_log_softmax(zq, n, lq);
    for (size_t i = 0; i < n; i++) {
        double d = lp[i] - lq[i];
        kl += lp[i] > -INFINITY ? exp(lp[i]) * (d + expm1(-d)) : exp(lq[i]);
    }
    out->kl = (float)kl;
    size_t ap = metric_argmax(lp, n), aq = metric_argmax(lq, n);
    out->same_top1 = ap == aq;
    out->top1_base = true_id >= 0 && (size_t)true_id == ap;
    out->top1_var = true_id >= 0 && (size_t)true_id == aq;
    if (true_id >= 0 && (size_t)true_id < n) out->lp_base = (float)lp[true_id], out->lp_var = (float)lq[true_id];
    free(lp);
    free(lq);
}

void tf_position_path(int path, const float *zp, const float *zq, int n_vocab, int true_id, TfPos *out,
                      float *scratch) {
    if (n_vocab < 1) {
        *out = (TfPos){NAN, NAN, NAN, 0, 0, 0};
        return;
    }
    size_t n = (size_t)n_vocab;
    if (path == 1 && tf_position_avx2()) {
        float *own = scratch ? NULL : xmalloc(2 * n * sizeof *own);
        int rc = position_avx2(zp, zq, n, true_id, out, scratch ? scratch : own);
        free(own);
        if (rc == 0) return;
    }
    position_double(zp, zq, n, true_id, out);
}

void tf_position(const float *zp, const float *zq, int n_vocab, int true_id, TfPos *out, float *scratch) {
    tf_position_path(1, zp, zq, n_vocab, true_id, out, scratch);
}

/* ---- samples ---- */

void tf_push(TfSample *s, TfPos p) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
        if (s->cluster) s->cluster = xrealloc(s->cluster, s->cap * sizeof *s->cluster);
    }
    s->v[s->n++] = p;
}

void tf_push_in(TfSample *s, TfPos p, uint32_t cluster) {
    if (!s->cluster) s->cluster = xmalloc((s->cap ? s->cap : 1) * sizeof *s->cluster);
    tf_push(s, p);
    s->cluster[s->n - 1] = cluster;
}

void tf_sample_free(TfSample *s) {
    free(s->v);
    free(s->cluster);
    memset(s, 0, sizeof *s);
}

const double TF_PCT[TF_NPCT] = {100, 99.9, 99, 95, 90, 50, 10, 5, 1, 0.1, 0};
const char *const TF_PCT_NAME[TF_NPCT] = {"max", "p99.9", "p99", "p95", "p90", "median",
                                          "p10", "p5",    "p1",  "p0.1", "min"};

static int cmp_double(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* NumPy's lerp, which is exact at both ends. */
double tf_percentile(const double *x, size_t n, double p) {
    double h = p / 100 * (double)(n - 1);
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1) return x[n - 1];
    double t = h - (double)lo, a = x[lo], b = x[lo + 1];
    if (t == 0) return a;
    return t < 0.5 ? a + (b - a) * t : b - (b - a) * (1 - t);
}

static double mean_of(const double *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s / (double)n;
}

/* Standard error of the mean m of x[n]: sd (n − 1) / sqrt(n); NAN for n < 2. */
static double se_of(const double *x, size_t n, double m) {
    if (n < 2) return NAN;
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    return sqrt(ss / (double)(n - 1)) / sqrt((double)n);
}

static double pearson(const double *x, const double *y, size_t n) {
    if (n < 2) return NAN;
    double mx = mean_of(x, n), my = mean_of(y, n), sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (sxx == 0 || syy == 0) return NAN;
    return sxy / sqrt(sxx * syy);
}

void tf_summarize(const TfSample *s, TfSummary *out) {
    memset(out, 0, sizeof *out);
    size_t n = 0, cap = s->n + 1;
    double *kl = xmalloc(cap * sizeof *kl), *dp = xmalloc(cap * sizeof *dp);
    double *lb = xmalloc(cap * sizeof *lb), *lv = xmalloc(cap * sizeof *lv), *dl = xmalloc(cap * sizeof *dl);
    size_t same = 0;
    for (size_t i = 0; i < s->n; i++) {
        const TfPos *p = &s->v[i];
        if (isnan(p->kl) || isnan(p->lp_base) || isnan(p->lp_var)) {
            out->n_nan++;
            continue;
        }
        kl[n] = p->kl, lb[n] = p->lp_base, lv[n] = p->lp_var;
        dp[n] = exp(lv[n]) - exp(lb[n]);
        dl[n] = lb[n] - lv[n];
        same += p->same_top1 != 0;
        n++;
    }
    out->n = n;
    if (n == 0) {
        out->kl_mean = out->kl_se = out->dp_rms = out->same_top1 = NAN;
        out->ppl_base = out->ppl_var = out->ln_ppl_ratio = out->ln_ppl_ratio_se = out->pearson_ll = NAN;
        for (int k = 0; k < TF_NPCT; k++) out->kl_pct[k] = out->dp_pct[k] = NAN;
    } else {
        out->kl_mean = mean_of(kl, n);
        out->kl_se = se_of(kl, n, out->kl_mean);
        double ss = 0;
        for (size_t i = 0; i < n; i++) ss += dp[i] * dp[i];
        out->dp_rms = sqrt(ss / (double)n);
        out->same_top1 = (double)same / (double)n;
        out->ppl_base = exp(-mean_of(lb, n));
        out->ppl_var = exp(-mean_of(lv, n));
        out->ln_ppl_ratio = mean_of(dl, n);
        out->ln_ppl_ratio_se = se_of(dl, n, out->ln_ppl_ratio);
        out->pearson_ll = pearson(lb, lv, n);
        qsort(kl, n, sizeof *kl, cmp_double);
        qsort(dp, n, sizeof *dp, cmp_double);
        for (int k = 0; k < TF_NPCT; k++) {
            out->kl_pct[k] = tf_percentile(kl, n, TF_PCT[k]);
            out->dp_pct[k] = tf_percentile(dp, n, TF_PCT[k]);
        }
    }
    free(kl), free(dp), free(lb), free(lv), free(dl);
}

size_t tf_histogram(const TfSample *s, double lo, double width, int nbins, size_t *counts) {
    if (nbins < 1) return 0;
    memset(counts, 0, (size_t)nbins * sizeof *counts);
    size_t total = 0;
    for (size_t i = 0; i < s->n; i++) {
        double kl = s->v[i].kl;
        if (isnan(kl)) continue;
        double k = kl > 0 ? floor((log10(kl) - lo) / width) : 0; /* ±inf for 0 and +inf KL */
        counts[k < 0 ? 0 : k >= nbins ? nbins - 1 : (int)k]++;
        total++;
    }
    return total;
}

double tf_bits_per_byte(double nll, size_t bytes) { return bytes ? nll / log(2.0) / (double)bytes : NAN; }
