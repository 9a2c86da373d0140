/* colddiff: how far a variant's cold start moved from its base's (`coldtok diff`).
 *
 * Two comparisons exist. When both models share one vocabulary (same size, same pieces), the full
 * next-token distributions are compared: KL both ways, Jensen-Shannon, total variation, top-1
 * agreement, top-k overlap, and KL restricted to the keyword tokens. When the vocabularies differ
 * (a distilled model on another tokenizer), only keyword strings are comparable, through p_seq:
 * the full-distribution fields are NAN and `same_vocab` is 0. Both cases fill the keyword-string
 * fields. tok_same_vocab (tokenizer.h) tells which case holds. Definitions: docs/metrics.md.
 * No state; nothing to free. */
#ifndef COLDTOK_COLDDIFF_H
#define COLDTOK_COLDDIFF_H

#include "analysis/coldstart.h"

typedef struct {
    int same_vocab;
    /* full distribution (NAN when !same_vocab) */
    double kl_pq, kl_qp, js, tv; /* nats; P = base, Q = variant */
    double top1_agree;           /* 1 when both put the same token first, else 0 */
    double top10, top100;        /* top-k overlap fractions */
    double kl_keywords;          /* KL(P||Q) restricted to the keyword token ids, renormalized */
    /* keyword strings (always) */
    double spearman_kw;          /* Spearman correlation of p_seq over every selected keyword */
    double kl_keywords_seq;      /* KL of the p_seq vectors renormalized over the keywords */
} ColdDiff;

/* Compares P (base) and Q (variant), which must have been run on the same KwSet. */
void colddiff_compare(const ColdStart *p, const ColdStart *q, int same_vocab, ColdDiff *d);

/* ln(variant / base) for one keyword: from p_bare + p_space when both models hold the keyword as
 * a single token of the same vocabulary, else from p_seq. NAN when a probability is 0. */
double keyword_log_ratio(const KwProb *base, const KwProb *var, int same_vocab);

#endif
