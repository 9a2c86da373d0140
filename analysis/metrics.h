/* metrics: statistics of next-token distributions, all in double precision.
 *
 * Distributions are arrays of n probabilities (summing to 1) or of n log-probabilities. Divergences
 * are in nats and are computed from log-probabilities, so tokens whose probability underflows a
 * double still contribute exactly. No allocation except where a function says so; no state. */
#ifndef COLDTOK_METRICS_H
#define COLDTOK_METRICS_H

#include <stddef.h>

/* logp[i] = z[i] - logsumexp(z), accumulated in double. Returns logsumexp(z). */
double metric_log_softmax(const float *z, size_t n, double *logp);
/* p[i] = exp(logp[i]). */
void metric_probs_from_log(const double *logp, size_t n, double *p);

/* -sum p log p. */
double metric_entropy(const double *logp, size_t n);
/* KL(P||Q) = sum p (log p - log q); terms with p == 0 contribute 0. */
double metric_kl_divergence(const double *logp, const double *logq, size_t n);
/* Jensen-Shannon: (KL(P||M) + KL(Q||M)) / 2 with M = (P+Q)/2; bounded by log 2. */
double metric_js_divergence(const double *logp, const double *logq, size_t n);
/* Total variation: sum |p - q| / 2. */
double metric_total_variation(const double *logp, const double *logq, size_t n);
/* KL(P_S||Q_S) of both distributions restricted to the ids in S and renormalized over them
 * (ids listed once each). Returns NAN when either has no mass on S. */
double metric_kl_restricted(const double *logp, const double *logq, const int *ids, size_t n_ids);

/* Index of the largest value (the first one on ties). */
size_t metric_argmax(const double *x, size_t n);
/* Writes the indices of the k largest values, largest first (ties: lower index first), into top.
 * k is clamped to n; returns the number written. */
size_t metric_top_k(const double *x, size_t n, size_t k, size_t *top);
/* |top k of P ∩ top k of Q| / k. */
double metric_top_k_overlap(const double *logp, const double *logq, size_t n, size_t k);

/* Spearman rank correlation of x and y (average ranks for ties); NAN when n < 2 or a side is
 * constant. */
double metric_spearman(const double *x, const double *y, size_t n);

/* Given the probabilities of a set's members, the smallest number of members (taken largest first)
 * whose probabilities add up to at least `fraction` of the set's total mass; 0 for an empty set or
 * zero mass. */
size_t metric_members_for_mass(const double *p, size_t n, double fraction);

#endif
