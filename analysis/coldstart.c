/* coldstart: see coldstart.h. */
#include "analysis/coldstart.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "analysis/metrics.h"
#include "analysis/vocab.h"

/* ---- token classes ---- */

static int is_structural_cp(int32_t cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f') return 1;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO: case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK: case UTF8PROC_CATEGORY_SO: case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
        return 1;
    default:
        return 0;
    }
}

void classify_token(const char *text, size_t len, TokClass *c) {
    memset(c, 0, sizeof *c);
    if (len == 0 || utf8_valid_prefix(text, len) != len) return;
    int structural = 1;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = utf8_decode((const uint8_t *)text + i, len - i, &cp);
        if (!is_structural_cp((int32_t)cp)) structural = 0;
        i += (size_t)n;
    }
    c->structural = structural;
    /* Indentation (optional newlines, then a run of only spaces or only tabs) is the vocabulary
     * census's definition: one parser serves both. */
    int width;
    unsigned f = vocab_classify(text, len, &width);
    if (!(f & (VOC_SPACES | VOC_NL_SPACES | VOC_TABS | VOC_NL_TABS))) return;
    c->indent_kind = f & (VOC_SPACES | VOC_NL_SPACES) ? 1 : 2;
    c->indent_width = width;
    c->newline = (f & (VOC_NL_SPACES | VOC_NL_TABS)) != 0;
}

/* ---- the context token ---- */

int coldstart_context(const Tokenizer *tok, const char *spec, int *id, Err *err) {
    int n = tok_vocab_size(tok);
    if (!strcmp(spec, "none"))
        return err_set(err, "--context none: a cold start needs a context token (use bos, an id or a token)");
    if (!strcmp(spec, "bos")) {
        *id = tok_bos(tok) >= 0 ? tok_bos(tok) : tok_eos(tok);
        if (*id < 0) return err_set(err, "%s: the tokenizer has neither BOS nor EOS: name a --context token", tok_path(tok));
        return 0;
    }
    char *end;
    long v = strtol(spec, &end, 10);
    if (*spec && !*end) {
        if (v < 0 || v >= n) return err_set(err, "--context %s: id out of range (vocabulary of %d)", spec, n);
        *id = (int)v;
        return 0;
    }
    *id = tok_id_of_piece(tok, spec, strlen(spec));
    if (*id < 0) return err_set(err, "--context '%s': no such token in %s", spec, tok_path(tok));
    return 0;
}

/* 1 when SPEC is decimal ids separated by commas, with at least one comma. */
static int is_id_list(const char *spec) {
    int commas = 0, digits = 0;
    for (const char *p = spec; *p; p++) {
        if (*p == ',') {
            if (!digits) return 0;
            commas++, digits = 0;
        } else if (*p >= '0' && *p <= '9') {
            digits++;
        } else {
            return 0;
        }
    }
    return commas > 0 && digits > 0;
}

int coldstart_context_ids(const Tokenizer *tok, const char *spec, int text, IntVec *ids, Err *err) {
    if (text) {
        int start = tok_bos(tok) >= 0 ? tok_bos(tok) : tok_eos(tok);
        size_t before = ids->n;
        if (start >= 0) intvec_push(ids, start);
        Err e;
        if (tok_encode(tok, spec, strlen(spec), 0, ids, &e) != 0)
            return err_set(err, "--context-text '%s': %s", spec, e.msg);
        if (ids->n == before) return err_set(err, "--context-text '%s': no tokens (the text is empty and %s has neither BOS nor EOS)", spec, tok_path(tok));
        return 0;
    }
    if (is_id_list(spec)) {
        int n = tok_vocab_size(tok);
        for (const char *p = spec; *p;) {
            char *end;
            long v = strtol(p, &end, 10);
            if (v < 0 || v >= n || end - p > 9)
                return err_set(err, "--context %s: id %.*s out of range (vocabulary of %d)", spec, (int)(end - p), p, n);
            intvec_push(ids, (int)v);
            p = *end ? end + 1 : end;
        }
        return 0;
    }
    int id;
    if (coldstart_context(tok, spec, &id, err) != 0) return -1;
    intvec_push(ids, id);
    return 0;
}

/* The context's pieces and ids, each joined by spaces, and "pieces (ids)" for the tables. */
static void context_labels(const Tokenizer *tok, const int *ids, int n, ColdStart *cs) {
    Buf piece = {0}, num = {0}, label = {0};
    for (int i = 0; i < n; i++) {
        size_t len = 0;
        const char *p = ids[i] < tok_vocab_size(tok) ? tok_piece(tok, ids[i], &len) : "";
        if (i) buf_putc(&piece, ' '), buf_putc(&num, ' ');
        buf_append(&piece, p, len);
        buf_printf(&num, "%d", ids[i]);
    }
    buf_printf(&label, "%s (%s)", piece.data ? piece.data : "", num.data);
    cs->context_piece = piece.data ? piece.data : xstrdup("");
    cs->context_ids = num.data;
    cs->context_label = label.data;
}

/* ---- keyword probabilities ---- */

/* Fills a language's single-token ids and probabilities, and its canonical tokenization into
 * seqs (one IntVec per keyword). */
static int fill_singles(const Tokenizer *tok, const double *logp, const KwLang *kl, LangProb *lp,
                        IntVec *seqs, Err *err) {
    lp->name = kl->name;
    lp->n = kl->nwords;
    lp->kw = xcalloc(lp->n ? lp->n : 1, sizeof *lp->kw);
    Buf space = {0};
    for (size_t i = 0; i < lp->n; i++) {
        KwProb *k = &lp->kw[i];
        const char *w = kl->words[i];
        k->word = w;
        k->bare_id = tok_id_of_bytes(tok, w, strlen(w));
        buf_clear(&space);
        buf_putc(&space, ' ');
        buf_puts(&space, w);
        k->space_id = tok_id_of_bytes(tok, space.data, space.len);
        k->p_bare = k->bare_id >= 0 ? exp(logp[k->bare_id]) : 0;
        k->p_space = k->space_id >= 0 ? exp(logp[k->space_id]) : 0;
        if (tok_encode(tok, w, strlen(w), TOK_ENC_NO_SPECIAL, &seqs[i], err) != 0) {
            buf_free(&space);
            return -1;
        }
        k->n_seq = (int)seqs[i].n;
    }
    buf_free(&space);
    return 0;
}

/* Rank of the likelier of a keyword's single tokens: 1 + how many tokens are strictly likelier. */
static void fill_ranks(const double *logp, int n_vocab, LangProb *lp) {
    for (size_t i = 0; i < lp->n; i++) {
        KwProb *k = &lp->kw[i];
        int id = k->p_space > k->p_bare ? k->space_id : k->bare_id;
        if (id < 0) id = k->space_id;
        if (id < 0) continue;
        int above = 0;
        for (int t = 0; t < n_vocab; t++) above += logp[t] > logp[id];
        k->rank = above + 1;
    }
}

/* Language totals: PKP counts each token id once (a keyword's bare form may be another's space
 * form only in odd user lists, but two languages' files are never mixed here). */
static void fill_totals(const double *logp, int n_vocab, LangProb *lp) {
    unsigned char *seen = xcalloc((size_t)n_vocab, 1);
    double *mass = xcalloc(lp->n ? lp->n : 1, sizeof *mass);
    lp->pkp = lp->pkp_seq = 0;
    for (size_t i = 0; i < lp->n; i++) {
        KwProb *k = &lp->kw[i];
        int ids[2] = {k->bare_id, k->space_id};
        for (int j = 0; j < 2; j++)
            if (ids[j] >= 0 && !seen[ids[j]]) {
                seen[ids[j]] = 1;
                lp->pkp += exp(logp[ids[j]]);
            }
        mass[i] = k->p_bare + (k->space_id != k->bare_id ? k->p_space : 0);
        lp->pkp_seq += k->p_seq;
    }
    lp->kap = lp->n ? lp->pkp / (double)lp->n : 0;
    static const double fractions[4] = {0.80, 0.85, 0.90, 0.95};
    for (int f = 0; f < 4; f++) lp->n_mass[f] = metric_members_for_mass(mass, lp->n, fractions[f]);
    free(mass);
    free(seen);
}

/* One keyword to score with the chain rule. */
typedef struct {
    const IntVec *seq;
    double *p_seq;
} SeqJob;

static int cmp_job(const void *pa, const void *pb) {
    const IntVec *a = ((const SeqJob *)pa)->seq, *b = ((const SeqJob *)pb)->seq;
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++)
        if (a->v[i] != b->v[i]) return a->v[i] < b->v[i] ? -1 : 1;
    return a->n < b->n ? -1 : a->n > b->n;
}

/* Scores every job. rows[d] holds the log-distribution after the context and the first d tokens
 * of the sequence now in the cache (stack[0..depth)); row 0 is the cold start itself. Jobs are
 * sorted, so consecutive keywords share their longest common prefix in the cache. */
static int score_sequences(Forward *fwd, int n_vocab, const double *logp0, SeqJob *jobs,
                           size_t njobs, Err *err) {
    qsort(jobs, njobs, sizeof *jobs, cmp_job);
    size_t maxlen = 1;
    for (size_t i = 0; i < njobs; i++)
        if (jobs[i].seq->n > maxlen) maxlen = jobs[i].seq->n;
    double **rows = xcalloc(maxlen, sizeof *rows);
    rows[0] = (double *)logp0;
    int *stack = xcalloc(maxlen, sizeof *stack);
    float *logits = xmalloc(maxlen * (size_t)n_vocab * sizeof *logits);
    size_t depth = 0;
    int base = fwd_pos(fwd), rc = 0;
    for (size_t j = 0; j < njobs && rc == 0; j++) {
        const IntVec *s = jobs[j].seq;
        if (s->n == 0) {
            *jobs[j].p_seq = 0;
            continue;
        }
        /* The cache must hold s[0 .. n-2]: keep the common prefix, evaluate the rest in one batch. */
        size_t need = s->n - 1, keep = 0;
        while (keep < depth && keep < need && stack[keep] == s->v[keep]) keep++;
        if (keep < need) {
            fwd_rewind(fwd, base + (int)keep);
            int m = (int)(need - keep);
            progress("p_seq: keyword %zu of %zu", j + 1, njobs);
            if (fwd_eval(fwd, s->v + keep, m, logits, 1, err) != 0) rc = -1;
            for (int r = 0; r < m && rc == 0; r++) {
                size_t d = keep + (size_t)r + 1;
                if (!rows[d]) rows[d] = xmalloc((size_t)n_vocab * sizeof **rows);
                metric_log_softmax(logits + (size_t)r * (size_t)n_vocab, (size_t)n_vocab, rows[d]);
                stack[d - 1] = s->v[d - 1];
            }
        }
        depth = need;
        double lp = 0;
        for (size_t d = 0; d < s->n; d++) lp += rows[d][s->v[d]];
        *jobs[j].p_seq = exp(lp);
    }
    progress_done();
    fwd_rewind(fwd, base);
    for (size_t d = 1; d < maxlen; d++) free(rows[d]);
    free(rows);
    free(stack);
    free(logits);
    return rc;
}

/* ---- the whole run ---- */

static void measure_distribution(const Tokenizer *tok, ColdStart *cs) {
    cs->entropy = metric_entropy(cs->logp, (size_t)cs->n_vocab);
    for (int id = 0; id < tok_vocab_size(tok); id++) {
        if (tok_flags(tok, id) & (TOK_SPECIAL | TOK_UNUSED)) continue;
        size_t len;
        const char *text = tok_bytes(tok, id, &len);
        TokClass c;
        classify_token(text, len, &c);
        double p = exp(cs->logp[id]);
        if (c.structural) cs->stp += p;
        if (c.indent_kind) {
            int w = c.indent_width < INDENT_MAX ? c.indent_width : INDENT_MAX;
            cs->indent[c.indent_kind - 1][c.newline][w] += p;
            cs->indent_mass += p;
        }
    }
}

int coldstart_run(Forward *fwd, int n_vocab, const Tokenizer *tok, const KwSet *kw, int context,
                  ColdStart *cs, Err *err) {
    return coldstart_run_ids(fwd, n_vocab, tok, kw, &context, 1, cs, err);
}

int coldstart_run_ids(Forward *fwd, int n_vocab, const Tokenizer *tok, const KwSet *kw,
                      const int *context, int n, ColdStart *cs, Err *err) {
    memset(cs, 0, sizeof *cs);
    if (tok_vocab_size(tok) > n_vocab)
        return err_set(err, "%s: the tokenizer has %d tokens but the model only %d output rows",
                       tok_path(tok), tok_vocab_size(tok), n_vocab);
    if (n < 1) return err_set(err, "a cold start needs a context of at least one token");
    cs->n_vocab = n_vocab;
    cs->context = context[n - 1];
    cs->n_context = n;
    context_labels(tok, context, n, cs);
    cs->logp = xmalloc((size_t)n_vocab * sizeof *cs->logp);
    float *logits = xmalloc((size_t)n_vocab * sizeof *logits);
    fwd_rewind(fwd, 0);
    int rc = fwd_eval(fwd, context, n, logits, 0, err);
    if (rc == 0) metric_log_softmax(logits, (size_t)n_vocab, cs->logp);
    free(logits);
    if (rc != 0) return -1;
    measure_distribution(tok, cs);

    /* Every selected language, then the English control set, as one list of jobs. */
    size_t nsel = 0;
    for (size_t i = 0; i < kw->nlangs; i++) nsel += kw->langs[i].selected;
    cs->langs = xcalloc(nsel ? nsel : 1, sizeof *cs->langs);
    const KwLang *english = kw_find(kw, "english");
    size_t total = english ? english->nwords : 0;
    for (size_t i = 0; i < kw->nlangs; i++)
        if (kw->langs[i].selected) total += kw->langs[i].nwords;
    IntVec *seqs = xcalloc(total ? total : 1, sizeof *seqs);
    SeqJob *jobs = xcalloc(total ? total : 1, sizeof *jobs);
    size_t at = 0;
    for (size_t i = 0; i < kw->nlangs && rc == 0; i++) {
        if (!kw->langs[i].selected) continue;
        LangProb *lp = &cs->langs[cs->nlangs++];
        rc = fill_singles(tok, cs->logp, &kw->langs[i], lp, seqs + at, err);
        for (size_t k = 0; k < lp->n; k++, at++) jobs[at] = (SeqJob){seqs + at, &lp->kw[k].p_seq};
    }
    if (rc == 0 && english) {
        rc = fill_singles(tok, cs->logp, english, &cs->english, seqs + at, err);
        for (size_t k = 0; k < cs->english.n; k++, at++)
            jobs[at] = (SeqJob){seqs + at, &cs->english.kw[k].p_seq};
    }
    if (rc == 0) rc = score_sequences(fwd, n_vocab, cs->logp, jobs, at, err);
    for (size_t i = 0; i < total; i++) intvec_free(&seqs[i]);
    free(seqs);
    free(jobs);
    if (rc != 0) return -1;
    for (size_t i = 0; i < cs->nlangs; i++) {
        fill_ranks(cs->logp, n_vocab, &cs->langs[i]);
        fill_totals(cs->logp, n_vocab, &cs->langs[i]);
    }
    if (english) {
        fill_ranks(cs->logp, n_vocab, &cs->english);
        fill_totals(cs->logp, n_vocab, &cs->english);
        cs->nlp = cs->english.pkp;
    }
    return 0;
}

void coldstart_free(ColdStart *cs) {
    for (size_t i = 0; i < cs->nlangs; i++) free(cs->langs[i].kw);
    free(cs->langs);
    free(cs->english.kw);
    free(cs->logp);
    free(cs->context_label);
    free(cs->context_piece);
    free(cs->context_ids);
    memset(cs, 0, sizeof *cs);
}
