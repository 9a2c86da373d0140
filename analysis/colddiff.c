/* colddiff: see colddiff.h. */
#include "analysis/colddiff.h"

#include <math.h>
#include <stdlib.h>

#include "analysis/metrics.h"

/* The keyword token ids of every selected language, each once. */
static int *keyword_ids(const ColdStart *cs, size_t *n) {
    unsigned char *seen = xcalloc((size_t)cs->n_vocab, 1);
    IntVec ids = {0};
    for (size_t l = 0; l < cs->nlangs; l++)
        for (size_t k = 0; k < cs->langs[l].n; k++) {
            const KwProb *kw = &cs->langs[l].kw[k];
            int two[2] = {kw->bare_id, kw->space_id};
            for (int j = 0; j < 2; j++)
                if (two[j] >= 0 && !seen[two[j]]) {
                    seen[two[j]] = 1;
                    intvec_push(&ids, two[j]);
                }
        }
    free(seen);
    *n = ids.n;
    return ids.v;
}

void colddiff_compare(const ColdStart *p, const ColdStart *q, int same_vocab, ColdDiff *d) {
    d->same_vocab = same_vocab;
    d->kl_pq = d->kl_qp = d->js = d->tv = d->top1_agree = d->top10 = d->top100 = NAN;
    d->kl_keywords = NAN;
    if (same_vocab) {
        size_t n = (size_t)p->n_vocab;
        d->kl_pq = metric_kl_divergence(p->logp, q->logp, n);
        d->kl_qp = metric_kl_divergence(q->logp, p->logp, n);
        d->js = metric_js_divergence(p->logp, q->logp, n);
        d->tv = metric_total_variation(p->logp, q->logp, n);
        d->top1_agree = metric_argmax(p->logp, n) == metric_argmax(q->logp, n);
        d->top10 = metric_top_k_overlap(p->logp, q->logp, n, 10);
        d->top100 = metric_top_k_overlap(p->logp, q->logp, n, 100);
        size_t nid;
        int *ids = keyword_ids(p, &nid);
        d->kl_keywords = metric_kl_restricted(p->logp, q->logp, ids, nid);
        free(ids);
    }
    /* Keyword strings: one vector of p_seq over all selected keywords, in the same order in both. */
    size_t n = 0;
    for (size_t l = 0; l < p->nlangs; l++) n += p->langs[l].n;
    double *a = xcalloc(n ? n : 1, sizeof *a), *b = xcalloc(n ? n : 1, sizeof *b);
    double sa = 0, sb = 0;
    size_t i = 0;
    for (size_t l = 0; l < p->nlangs && l < q->nlangs; l++)
        for (size_t k = 0; k < p->langs[l].n && k < q->langs[l].n; k++, i++) {
            a[i] = p->langs[l].kw[k].p_seq;
            b[i] = q->langs[l].kw[k].p_seq;
            sa += a[i];
            sb += b[i];
        }
    d->spearman_kw = metric_spearman(a, b, i);
    d->kl_keywords_seq = NAN;
    if (sa > 0 && sb > 0) {
        for (size_t j = 0; j < i; j++) {
            a[j] = a[j] > 0 ? log(a[j] / sa) : -INFINITY;
            b[j] = b[j] > 0 ? log(b[j] / sb) : -INFINITY;
        }
        d->kl_keywords_seq = metric_kl_divergence(a, b, i);
    }
    free(a);
    free(b);
}

double keyword_log_ratio(const KwProb *base, const KwProb *var, int same_vocab) {
    double pb = base->p_bare + (base->space_id != base->bare_id ? base->p_space : 0);
    double pv = var->p_bare + (var->space_id != var->bare_id ? var->p_space : 0);
    if (!same_vocab || (base->bare_id < 0 && base->space_id < 0)) pb = base->p_seq, pv = var->p_seq;
    if (pb <= 0 || pv <= 0) return NAN;
    return log(pv / pb);
}
