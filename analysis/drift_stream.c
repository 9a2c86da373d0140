/* drift_stream: see drift_stream.h. */
#include "analysis/drift_stream.h"

#include <stdlib.h>
#include <string.h>

#include "analysis/corpus.h"

int tf_token_offsets(const Tokenizer *t, const IntVec *ids, const char *text, size_t len, int file_start,
                     size_t *off) {
    size_t pos = 0;
    for (size_t i = 0; i < ids->n; i++) {
        size_t n;
        const char *b = tok_bytes(t, ids->v[i], &n);
        if (file_start && i == 0 && n > 0 && b[0] == ' ' && len > 0 && text[0] != ' ') b++, n--;
        if (off) off[i] = pos;
        if (n > len - pos || memcmp(b, text + pos, n)) return -1;
        pos += n;
    }
    if (off) off[ids->n] = pos;
    return pos == len ? 0 : -1;
}

/* ---- TfTrack ---- */

void tftrack_init(TfTrack *tr, const Tokenizer *tok, int aligned) {
    memset(tr, 0, sizeof *tr);
    tr->tok = tok;
    tr->aligned = aligned;
    if (aligned) tr->off = xcalloc(tr->off_cap = 16, sizeof *tr->off);
}

void tftrack_free(TfTrack *tr) {
    intvec_free(&tr->ids);
    free(tr->off);
    memset(tr, 0, sizeof *tr);
}

int tftrack_push(TfTrack *tr, const IntVec *ids, const char *text, size_t len, size_t at) {
    size_t n0 = tr->ids.n;
    for (size_t i = 0; i < ids->n; i++) intvec_push(&tr->ids, ids->v[i]);
    tr->end = at + len;
    if (!tr->aligned) return 0;
    if (tr->ids.n + 1 > tr->off_cap) {
        tr->off_cap = 2 * (tr->ids.n + 1);
        tr->off = xrealloc(tr->off, tr->off_cap * sizeof *tr->off);
    }
    if (tf_token_offsets(tr->tok, ids, text, len, at == 0, tr->off + n0) != 0) {
        tr->aligned = 0;
        return -1;
    }
    for (size_t k = n0; k <= tr->ids.n; k++) tr->off[k] += at;
    return 0;
}

size_t tftrack_frontier(const TfTrack *tr) { return tr->aligned ? tr->off[0] : tr->end; }

void tftrack_window(const TfTrack *tr, long w, int ctx, int start, int *win) {
    win[0] = start;
    memcpy(win + 1, tr->ids.v + ((size_t)w * (size_t)(ctx - 1) - tr->tok0), (size_t)(ctx - 1) * sizeof *win);
}

void tftrack_drop(TfTrack *tr, size_t k) {
    size_t drop = k > tr->tok0 ? k - tr->tok0 : 0;
    if (drop > tr->ids.n) drop = tr->ids.n;
    if (!drop) return;
    if (tr->aligned) memmove(tr->off, tr->off + drop, (tr->ids.n - drop + 1) * sizeof *tr->off);
    memmove(tr->ids.v, tr->ids.v + drop, (tr->ids.n - drop) * sizeof *tr->ids.v);
    tr->ids.n -= drop, tr->tok0 += drop;
}

/* ---- TfLedger ---- */

void tfledger_init(TfLedger *l, int lanes) {
    memset(l, 0, sizeof *l);
    l->lanes = lanes;
}

void tfledger_free(TfLedger *l) {
    free(l->marks), free(l->nll), free(l->seen);
    memset(l, 0, sizeof *l);
}

void tfledger_extend(TfLedger *l, size_t end) {
    if (end <= l->byte0 + l->n) return;
    size_t n = end - l->byte0, L = (size_t)l->lanes;
    if (n > l->cap) { /* lane k's arrays start at k * cap: move them to the new stride */
        size_t cap = 2 * n;
        uint8_t *marks = xcalloc(cap, 1), *seen = L ? xcalloc(L * cap, 1) : NULL;
        double *nll = L ? xcalloc(L * cap, sizeof *nll) : NULL;
        if (l->n) memcpy(marks, l->marks, l->n);
        for (size_t k = 0; k < L && l->n; k++) {
            memcpy(nll + k * cap, l->nll + k * l->cap, l->n * sizeof *nll);
            memcpy(seen + k * cap, l->seen + k * l->cap, l->n);
        }
        free(l->marks), free(l->nll), free(l->seen);
        l->marks = marks, l->nll = nll, l->seen = seen, l->cap = cap;
    } else { /* the new bytes: no class, nothing seen */
        memset(l->marks + l->n, 0, n - l->n);
        for (size_t k = 0; k < L; k++) {
            memset(l->nll + k * l->cap + l->n, 0, (n - l->n) * sizeof *l->nll);
            memset(l->seen + k * l->cap + l->n, 0, n - l->n);
        }
    }
    l->n = n;
}

void tfledger_spread(TfLedger *l, int k, size_t s, size_t e, double lp) {
    double *nll = l->nll + (size_t)k * l->cap;
    uint8_t *seen = l->seen + (size_t)k * l->cap;
    for (size_t b = s; b < e; b++) nll[b - l->byte0] = -lp / (double)(e - s), seen[b - l->byte0] = 1;
}

void tfledger_claim(TfLedger *l, int k, size_t s, size_t e) {
    if (e > s) memset(l->seen + (size_t)k * l->cap + (s - l->byte0), 1, e - s);
}

size_t tfledger_bytes(const TfLedger *l) { return l->cap * (1 + (size_t)l->lanes * (sizeof *l->nll + 1)); }

int tfledger_any(const TfLedger *l, int k, size_t s, size_t e) {
    const uint8_t *seen = l->seen + (size_t)k * l->cap;
    for (size_t b = s; b < e; b++)
        if (seen[b - l->byte0]) return 1;
    return 0;
}

void tfledger_take(TfLedger *l, size_t upto, TfBytes *const *acc, int lang, int nlangs, int nclasses,
                   int all_class) {
    if (upto <= l->byte0) return;
    size_t m = upto - l->byte0;
    if (m > l->n) m = l->n;
    if (!m) return; /* (the arrays are NULL while nothing was held) */
    const double *nb = l->nll;
    const uint8_t *sb = l->seen;
    for (int k = 1; k < l->lanes; k++) {
        if (!acc[k]) continue;
        const double *nv = l->nll + (size_t)k * l->cap;
        const uint8_t *sv = l->seen + (size_t)k * l->cap;
        for (size_t b = 0; b < m; b++) {
            if (!sb[b] || !sv[b]) continue;
            int c = MARK_CLASS(l->marks[b]);
            int ls[2] = {lang, nlangs}, cs[2] = {c, all_class};
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) {
                    TfBytes *t = &acc[k][(size_t)ls[i] * (size_t)nclasses + (size_t)cs[j]];
                    t->nll_base += nb[b], t->nll_var += nv[b], t->bytes += 1;
                }
        }
    }
    size_t rest = l->n - m;
    for (int k = 0; k < l->lanes && rest; k++) {
        memmove(l->nll + (size_t)k * l->cap, l->nll + (size_t)k * l->cap + m, rest * sizeof *l->nll);
        memmove(l->seen + (size_t)k * l->cap, l->seen + (size_t)k * l->cap + m, rest);
    }
    if (rest) memmove(l->marks, l->marks + m, rest);
    l->byte0 += m, l->n = rest;
}
