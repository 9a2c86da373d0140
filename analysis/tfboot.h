/* tfboot: uncertainty of drift statistics that respects how the data were drawn (docs/drift.md
 * "Uncertainty").
 *
 * Positions of one file are not independent (they share the file's style, names and topic), so a
 * standard error sd/sqrt(n) over positions is too small. Files are the units that were sampled:
 * the intervals here come from a cluster bootstrap that resamples whole files with replacement,
 * `reps` times, recomputes each statistic as (sum over the drawn files' positions) / (their
 * positions), and takes the 2.5th and 97.5th percentiles of the replicates (NumPy's 'linear'
 * percentile): a 95% percentile interval. Seeded (splitmix64), so a run is reproducible.
 *
 * Paired comparisons of two models on the same positions: the difference in mean KL and in mean
 * log-likelihood of the true next token, with a paired cluster-bootstrap interval (both models
 * resampled by the same draws), and McNemar's exact test on top-1 correctness (is the model's
 * argmax the true next token): b = positions only model b gets right, a = only model a; the odds
 * ratio b/a and the exact two-sided binomial p-value of min(a, b) under Bin(a + b, 1/2).
 * tf_bh adjusts a family of p-values by Benjamini–Hochberg.
 *
 * Clusters: a TfSample's `cluster` array (the file index of each position); a sample without one
 * is treated as one cluster per position (the plain bootstrap).
 * Positions with a NAN kl, lp_base or lp_var are left out, as in tf_summarize.
 * No state, nothing kept beyond a call; nothing fails: NAN marks what cannot be computed. */
#ifndef COLDTOK_TFBOOT_H
#define COLDTOK_TFBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/tfstats.h"

#define TF_BOOT_REPS 1000 /* the default number of replicates */

typedef struct {
    double lo, hi; /* NAN when there are no positions, or reps < 1 */
} TfInterval;

/* 95% cluster-bootstrap intervals of the means tf_summarize reports. */
typedef struct {
    size_t clusters;      /* files (clusters) holding the positions used */
    double dp_mean;       /* mean Δp = Q(true) − P(true) (the point estimate of dp_mean_ci) */
    TfInterval kl_mean;   /* of mean KL */
    TfInterval dp_mean_ci;
    TfInterval same_top1; /* of the fraction with the same argmax */
    TfInterval ppl_ratio; /* of PPL_Q / PPL_P = exp(mean(lp_base − lp_var)) */
} TfCi;

void tf_cluster_ci(const TfSample *s, int reps, uint64_t seed, TfCi *out);

/* One side of a paired comparison, read from a variant's sample: its own (variant) side, or the
 * base's side of it (KL 0, lp_base, top1_base). */
typedef enum { TF_SIDE_VARIANT, TF_SIDE_BASE } TfSide;

typedef struct {
    size_t n, clusters;         /* positions and files used */
    double dkl;                 /* mean KL_b − mean KL_a (KL from the base) */
    TfInterval dkl_ci;
    double dll;                 /* mean ln p_b(true) − mean ln p_a(true), nats per position */
    TfInterval dll_ci;
    double top1_a, top1_b;      /* fractions of positions whose argmax is the true next token */
    size_t only_a, only_b;      /* discordant pairs: only a right, only b right */
    double odds_ratio;          /* only_b / only_a (inf when only_a is 0, NAN when both are) */
    double p_mcnemar;           /* exact two-sided; 1 when there are no discordant pairs */
} TfPaired;

/* Compares side sa of sample a with side sb of sample b, position by position: both samples must
 * hold the same positions in the same order (n equal; clusters taken from a). reps replicates,
 * seed as above. a->n != b->n: every field NAN / 0. */
void tf_paired(const TfSample *a, TfSide sa, const TfSample *b, TfSide sb, int reps, uint64_t seed,
               TfPaired *out);

/* McNemar's exact two-sided p-value for discordant counts a and b:
 * min(1, 2 · P(X <= min(a, b))), X ~ Bin(a + b, 1/2); 1 when a + b is 0. */
double tf_mcnemar_exact(size_t a, size_t b);

/* Benjamini–Hochberg adjusted p-values of p[n] into adj[n] (adj may be p): adj_(i) =
 * min over j >= i of p_(j) n / j with p sorted ascending, capped at 1. NAN p stay NAN and do not
 * count in n. */
void tf_bh(const double *p, size_t n, double *adj);

#endif
