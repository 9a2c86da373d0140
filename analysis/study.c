/* study: see study.h. */
#include "analysis/study.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/metrics.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

/* The keyword lists: the built-in ones or a file, restricted to LANGS. */
static int load_keywords(KwSet *kw, const StudyOptions *o, Err *err) {
    int rc = o->keywords_file ? kw_load_file(kw, o->keywords_file, err) : kw_load_builtin(kw, err);
    if (rc == 0 && o->keywords_file) {
        /* The English control set comes with the built-in data even for a user keyword file. */
        KwSet builtin = {0};
        Err ignored;
        if (kw_load_builtin(&builtin, &ignored) == 0) {
            KwLang *en = kw_find(&builtin, "english");
            if (en && !kw_find(kw, "english")) {
                Buf text = {0};
                for (size_t i = 0; i < en->nwords; i++) buf_printf(&text, "english\t%s\n", en->words[i]);
                rc = kw_load_text(kw, "data/control/english.tsv", text.data, text.len, 1, err);
                buf_free(&text);
            }
        }
        kw_free(&builtin);
    }
    if (rc == 0) rc = kw_select(kw, o->langs, err);
    return rc;
}

/* LEN bytes at S as a NUL-terminated heap copy (S may hold NUL bytes). */
static char *copy_bytes(const char *s, size_t len) {
    char *d = xmalloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

/* The top_n likeliest next tokens of one context, with their pieces and bytes. */
static void keep_top(StudyContext *sc, const Tokenizer *tok, int top_n) {
    const ColdStart *cs = &sc->cs;
    size_t *top = xmalloc((size_t)top_n * sizeof *top);
    sc->ntop = metric_top_k(cs->logp, (size_t)cs->n_vocab, (size_t)top_n, top);
    sc->top = xcalloc(sc->ntop ? sc->ntop : 1, sizeof *sc->top);
    for (size_t i = 0; i < sc->ntop; i++) {
        StudyToken *t = &sc->top[i];
        t->id = (int)top[i];
        const char *piece = t->id < tok_vocab_size(tok) ? tok_piece(tok, t->id, &t->piece_len) : "";
        const char *text = t->id < tok_vocab_size(tok) ? tok_bytes(tok, t->id, &t->text_len) : "";
        t->piece = copy_bytes(piece, t->piece_len);
        t->text = copy_bytes(text, t->text_len);
        t->p = exp(cs->logp[t->id]);
    }
    free(top);
}

/* Measures one model in every context. TAG ("model i of n: name") prefixes the progress line.
 * The tokenizer is handed back in *tok_out for the comparison with later variants. */
static int run_model(const Entry *e, const char *tag, const StudyOptions *o, const KwSet *kw,
                     StudyModel *r, Tokenizer **tok_out, Err *err) {
    r->tokenizer_path = model_tokenizer_path(e->path, e->tokenizer);
    /* the model first, so that a bad file is named as such, not as a tokenizer that is missing */
    progress("%s: loading model", tag);
    Model *m = model_load(e->path, err);
    if (!m) return -1;
    progress("%s: loading tokenizer", tag);
    Tokenizer *tok = tok_load(r->tokenizer_path, err);
    if (!tok) {
        model_free(m);
        return -1;
    }
    r->bpw = isnan(e->bpw) ? model_bits_per_weight(m) : e->bpw;
    r->vocab = m->cfg.n_vocab;
    Forward *f = fwd_new(m, o->compute, err);
    int rc = f ? 0 : -1;
    r->ctx = xcalloc((size_t)o->ncontexts, sizeof *r->ctx);
    for (int c = 0; c < o->ncontexts && rc == 0; c++) {
        IntVec ids = {0};
        int text = o->context_is_text && o->context_is_text[c];
        progress("%s: cold start, context %s%s", tag, text ? "text " : "", o->contexts[c]);
        rc = coldstart_context_ids(tok, o->contexts[c], text, &ids, err);
        if (rc == 0) rc = coldstart_run_ids(f, m->cfg.n_vocab, tok, kw, ids.v, (int)ids.n, &r->ctx[c].cs, err);
        if (rc == 0) keep_top(&r->ctx[c], tok, o->top_n);
        intvec_free(&ids);
    }
    progress_done();
    fwd_free(f);
    model_free(m);
    *tok_out = tok;
    return rc;
}

static void free_models(StudyModel *models, size_t n, int ncontexts) {
    for (size_t i = 0; i < n; i++) {
        StudyModel *r = &models[i];
        for (int c = 0; r->ctx && c < ncontexts; c++) {
            coldstart_free(&r->ctx[c].cs);
            for (size_t k = 0; k < r->ctx[c].ntop; k++) {
                free(r->ctx[c].top[k].piece);
                free(r->ctx[c].top[k].text);
            }
            free(r->ctx[c].top);
        }
        free(r->ctx);
        free(r->tokenizer_path);
    }
    free(models);
}

void study_free(Study *s) {
    free_models(s->models, s->n, s->ncontexts);
    kw_free(&s->kw);
    memset(s, 0, sizeof *s);
}

/* 1 when a model after the i-th has model j as its base. */
static int base_of_later(const Manifest *m, size_t j, size_t i) {
    for (size_t k = i + 1; k < m->n; k++)
        if (m->e[k].base && !strcmp(m->e[k].base, m->e[j].name)) return 1;
    return 0;
}

int study_run(const Manifest *m, const StudyOptions *o, Study *s, Err *err) {
    memset(s, 0, sizeof *s);
    if (load_keywords(&s->kw, o, err) != 0) {
        kw_free(&s->kw);
        return -1;
    }
    s->ncontexts = o->ncontexts;
    s->models = xcalloc(m->n ? m->n : 1, sizeof *s->models);
    /* A model's tokenizer, kept while it is the base of a model still to run. */
    Tokenizer **toks = xcalloc(m->n ? m->n : 1, sizeof *toks);
    int rc = 0;
    for (size_t i = 0; i < m->n && rc == 0; i++) {
        StudyModel *r = &s->models[i];
        r->entry = &m->e[i];
        r->base = -1;
        if (m->e[i].base)
            for (size_t j = 0; j < i; j++)
                if (!strcmp(m->e[j].name, m->e[i].base)) r->base = (int)j;
        Buf tag = {0};
        buf_printf(&tag, "model %zu of %zu: %s", i + 1, m->n, m->e[i].name);
        rc = run_model(&m->e[i], tag.data, o, &s->kw, r, &toks[i], err);
        buf_free(&tag);
        if (rc == 0 && r->base >= 0) {
            const StudyModel *b = &s->models[r->base];
            int same = b->vocab == r->vocab && tok_same_vocab(toks[r->base], toks[i]);
            for (int c = 0; c < o->ncontexts; c++)
                colddiff_compare(&b->ctx[c].cs, &r->ctx[c].cs, same, &r->ctx[c].diff);
        }
        if (rc == 0) {
            s->n = i + 1;
            if (o->model_done) o->model_done(s, i, o->model_done_arg);
        }
        /* Free the tokenizers no later model compares with. */
        for (size_t j = 0; j <= i; j++)
            if (toks[j] && !base_of_later(m, j, i)) {
                tok_free(toks[j]);
                toks[j] = NULL;
            }
    }
    for (size_t i = 0; i < m->n; i++) tok_free(toks[i]);
    free(toks);
    if (rc != 0) {
        free_models(s->models, m->n, s->ncontexts); /* the failed model's partial results too */
        kw_free(&s->kw);
        memset(s, 0, sizeof *s);
    }
    return rc;
}
