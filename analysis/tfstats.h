/* tfstats: teacher-forced drift statistics (`coldtok drift`, docs/metrics.md "Teacher-forced drift").
 *
 * Per scored position the runner calls tf_position on the two models' raw logits and pushes the
 * resulting TfPos into a TfSample; tf_summarize turns a sample into the statistics of drift.csv and
 * tf_histogram into the rows of drift_kl_hist.csv. P is the base model, Q the variant.
 *
 * Ownership: a TfSample owns its array (tf_sample_free releases it; a zeroed TfSample is empty and
 * valid). Nothing else allocates beyond the call, and there is no state: tf_position may run on
 * several threads at once. Nothing here fails: bad values become NAN, as each function says. */
#ifndef COLDTOK_TFSTATS_H
#define COLDTOK_TFSTATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    float kl;          /* KL(P||Q) in nats of the full next-token distributions at this position */
    float lp_base;     /* ln P(true next token) */
    float lp_var;      /* ln Q(true next token) */
    uint8_t same_top1; /* 1 when argmax P == argmax Q (first index on ties) */
    uint8_t top1_base; /* 1 when argmax P is the true next token */
    uint8_t top1_var;  /* 1 when argmax Q is the true next token */
} TfPos;

/* ---- one position ---- */

/* From the raw logits of one position (zp: base, zq: variant, n_vocab each; row ids are token ids)
 * and the id of the token that actually comes next. scratch: 2 · n_vocab floats the call may
 * overwrite (one buffer per thread), or NULL to have it allocated for the call.
 * On a CPU with AVX2 and FMA (tf_position_avx2): log-softmaxes max-shifted, exp in float 8 lanes
 * at a time with the rounding of every logit difference kept (Cody-Waite reduction of an exact
 * float pair), sums accumulated in double, and KL summed as Σ p (d + e^-d − 1), d = ln p − ln q:
 * every term is >= 0, plus one Newton step for the rounding of the two log-normalizers, so the
 * relative error of KL stays near 1e-7 however small KL is (checked against double precision in
 * tests/test_tfstats.c); probabilities below e^-87 (1.6e-38) count as 0. About 0.4 ms per
 * position at n_vocab 151936 (bench/bench_tfstats.c). Otherwise, and for rows holding a -inf logit (a token of probability 0): in double
 * (metrics.c's log_softmax and argmax, KL in the same form), which allocates two n_vocab arrays.
 * A NaN or +inf logit makes every field NAN and same_top1 0, and so does n_vocab < 1. A true_id
 * outside [0, n_vocab) makes lp_base and lp_var NAN. */
void tf_position(const float *zp, const float *zq, int n_vocab, int true_id, TfPos *out, float *scratch);

/* The same on a chosen path: 0 = double precision (the reference), 1 = AVX2
 * (path 0 when the CPU lacks it). For tests and benchmarks. */
void tf_position_path(int path, const float *zp, const float *zq, int n_vocab, int true_id, TfPos *out,
                      float *scratch);
/* 1 when tf_position takes the AVX2 path on this CPU. */
int tf_position_avx2(void);

/* ---- a sample of positions ---- */

typedef struct {
    TfPos *v;
    uint32_t *cluster; /* [n] the cluster (file) of each position, or NULL (analysis/tfboot.h) */
    size_t n, cap;
} TfSample;

/* Appends p; tf_push_in also records its cluster. A sample is filled by one of the two only. */
void tf_push(TfSample *s, TfPos p);
void tf_push_in(TfSample *s, TfPos p, uint32_t cluster);
void tf_sample_free(TfSample *s);

/* Percentiles reported, highest first, and their names in drift.csv (kl_NAME, dp_NAME). */
#define TF_NPCT 11
extern const double TF_PCT[TF_NPCT];           /* 100, 99.9, 99, 95, 90, 50, 10, 5, 1, 0.1, 0 */
extern const char *const TF_PCT_NAME[TF_NPCT]; /* "max", "p99.9", ..., "median", ..., "min" */

typedef struct {
    size_t n;                             /* positions used */
    size_t n_nan;                         /* positions left out: a NAN field */
    double kl_mean, kl_se;                /* mean KL and its standard error sd / sqrt(n) */
    double kl_pct[TF_NPCT];               /* KL at each TF_PCT */
    double dp_pct[TF_NPCT];               /* Δp = Q(true) − P(true), probabilities */
    double dp_rms;                        /* sqrt(mean Δp²) */
    double same_top1;                     /* fraction of positions with the same argmax */
    double ppl_base, ppl_var;             /* exp(−mean ln P(true)), exp(−mean ln Q(true)) */
    double ln_ppl_ratio, ln_ppl_ratio_se; /* mean(lp_base − lp_var) = ln(PPL_Q / PPL_P), its SE */
    double pearson_ll;                    /* Pearson correlation of lp_base and lp_var */
} TfSummary;

/* Statistics of the positions of s whose kl, lp_base and lp_var are not NAN (the others are
 * counted in n_nan). Sorts copies, never s. Means are two-pass in double; sd uses n − 1.
 * Percentiles: NumPy's default ('linear'): with the n values sorted x_0 <= ... <= x_{n−1},
 * h = p/100 (n − 1), P(p) = x_⌊h⌋ + (h − ⌊h⌋)(x_⌊h⌋+1 − x_⌊h⌋) (x_h itself when h is whole).
 * n == 0: every double field NAN. n == 1: the SEs and pearson_ll NAN; pearson_ll also NAN when
 * either side has zero variance. */
void tf_summarize(const TfSample *s, TfSummary *out);

/* NumPy's default ('linear') percentile p (0..100) of sorted x[n], n >= 1, as described above. */
double tf_percentile(const double *sorted, size_t n, double p);

/* Counts log10(kl) of every position into nbins bins of width `width` (> 0) starting at lo:
 * bin k holds lo + k·width <= log10 kl < lo + (k+1)·width; KL <= 10^lo (0 included) is counted in
 * the first bin and KL at or above the top (+inf included) in the last. NAN KL is not counted.
 * counts[nbins] is overwritten. Returns the number of positions counted (0 when nbins < 1). */
size_t tf_histogram(const TfSample *s, double lo, double width, int nbins, size_t *counts);

/* ---- across vocabularies ---- */

/* A variant on another tokenizer has no common next-token distribution: its text is compared in
 * bits per byte. The runner sums per group −ln P(true) of every scored token of each model over
 * the same bytes of text. */
typedef struct {
    double nll_base, nll_var; /* Σ −ln p(true token), nats */
    size_t bytes;             /* UTF-8 bytes of the text those tokens cover */
} TfBytes;

/* nll / ln 2 / bytes; NAN when bytes == 0. */
double tf_bits_per_byte(double nll, size_t bytes);

#endif
