/* study_report: see study_report.h. */
#include "report/study_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/metrics.h"
#include "report/run_record.h"

struct StudyReport {
    StudyReportOptions o;
    Table *models, *metrics, *keywords, *indent, *top; /* the CSV files' rows */
};

static Table *table_with(const char *const *cols) {
    Table *t = table_new();
    for (; *cols; cols++) table_column(t, *cols, 0);
    return t;
}

StudyReport *study_report_new(const StudyReportOptions *o) {
    StudyReport *rp = xcalloc(1, sizeof *rp);
    rp->o = *o;
    static const char *const models[] = {"model", "path", "kind", "bits_per_weight", "base",
                                         "vocab", "tokenizer", "context", "bytes", "sha256",
                                         "context_id", NULL};
    static const char *const metrics[] = {"model", "base", "context", "scope", "metric", "value",
                                          "context_id", NULL};
    static const char *const keywords[] = {"model", "context", "lang", "keyword", "bare_id",
                                           "space_id", "p_bare", "p_space", "p_sum", "p_seq",
                                           "rank", "log_ratio", "context_id", NULL};
    static const char *const indent[] = {"model", "context", "kind", "width", "newline", "mass",
                                         "context_id", NULL};
    static const char *const top[] = {"model", "context", "rank", "id", "piece", "text", "p",
                                      "context_id", NULL};
    rp->models = table_with(models);
    rp->metrics = table_with(metrics);
    rp->keywords = table_with(keywords);
    rp->indent = table_with(indent);
    rp->top = table_with(top);
    return rp;
}

void study_report_free(StudyReport *rp) {
    if (!rp) return;
    table_free(rp->models);
    table_free(rp->metrics);
    table_free(rp->keywords);
    table_free(rp->indent);
    table_free(rp->top);
    free(rp);
}

/* A number cell: %.10g, empty for NAN. */
static void put_num(Table *t, int col, double v) {
    if (!isnan(v)) table_putf(t, col, "%.10g", v);
}

/* The context of a row is two cells: its tokens' pieces ("context") and their ids ("context_id",
 * the last column, so that readers taking columns by position are unaffected). */
typedef struct {
    const char *piece, *ids;
} CtxCells;

static void metric_row(Table *t, const char *model, const char *base, CtxCells ctx,
                       const char *scope, const char *metric, double v) {
    table_row(t);
    table_put(t, 0, model);
    table_put(t, 1, base ? base : "");
    table_put(t, 2, ctx.piece);
    table_put(t, 3, scope);
    table_put(t, 4, metric);
    put_num(t, 5, v);
    table_put(t, 6, ctx.ids);
}

/* A token's text made visible: whitespace and control bytes escaped. */
static void visible(const char *s, size_t len, Buf *out) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ') buf_puts(out, "␣");
        else if (c == '\n') buf_puts(out, "\\n");
        else if (c == '\t') buf_puts(out, "\\t");
        else if (c == '\r') buf_puts(out, "\\r");
        else if (c < 0x20 || c == 0x7f) buf_printf(out, "\\x%02x", c);
        else buf_putc(out, (char)c);
    }
}

/* The reverse of visible() for control bytes only ("\\n" back to a line break; "␣" stays): the
 * tables escape control bytes themselves, and would show an escape of an escape. */
static void control_bytes(const char *s, Buf *out) {
    for (; *s; s++) {
        unsigned hex;
        if (s[0] == '\\' && (s[1] == 'n' || s[1] == 't' || s[1] == 'r')) {
            buf_putc(out, s[1] == 'n' ? '\n' : s[1] == 't' ? '\t' : '\r');
            s++;
        } else if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &hex) == 1 && s[2] && s[3]) {
            buf_putc(out, (char)hex);
            s += 3;
        } else {
            buf_putc(out, *s);
        }
    }
}

/* ---- the CSV rows of one model in context c (base: the model it is compared with, or NULL) ---- */

/* The model file's (or folder's) bytes and SHA-256 (run_record.h's model_digest), or two empty
 * strings when it cannot be read any more: a hash is provenance, not a reason to lose the run. */
typedef struct {
    char bytes[24], sha256[SHA256_HEX_LEN];
} ModelDigest;

static ModelDigest digest_of(RunRecord *record, const char *path) {
    ModelDigest d = {{0}, {0}};
    uint64_t bytes;
    Err err;
    if (run_record_model_digest(record, path, &bytes, d.sha256, &err) == 0) snprintf(d.bytes, sizeof d.bytes, "%llu", (unsigned long long)bytes);
    else d.sha256[0] = '\0';
    return d;
}

static void add_model_row(StudyReport *rp, const StudyModel *r, const StudyModel *base, int c,
                          const ModelDigest *d) {
    const Entry *e = r->entry;
    table_row(rp->models);
    table_put(rp->models, 0, e->name);
    table_put(rp->models, 1, e->path);
    table_put(rp->models, 2, e->kind);
    put_num(rp->models, 3, r->bpw);
    table_put(rp->models, 4, base ? base->entry->name : "");
    table_putf(rp->models, 5, "%d", r->vocab);
    table_put(rp->models, 6, r->tokenizer_path);
    table_put(rp->models, 7, r->ctx[c].cs.context_piece);
    table_put(rp->models, 8, d->bytes);
    table_put(rp->models, 9, d->sha256);
    table_put(rp->models, 10, r->ctx[c].cs.context_ids);
}

static void add_metric_rows(StudyReport *rp, const StudyModel *r, const StudyModel *base, int c) {
    const char *name = r->entry->name, *bname = base ? base->entry->name : NULL;
    const ColdStart *cs = &r->ctx[c].cs;
    CtxCells ctx = {cs->context_piece, cs->context_ids};
    metric_row(rp->metrics, name, bname, ctx, "all", "entropy", cs->entropy);
    metric_row(rp->metrics, name, bname, ctx, "all", "stp", cs->stp);
    metric_row(rp->metrics, name, bname, ctx, "all", "indent_mass", cs->indent_mass);
    if (cs->english.n) metric_row(rp->metrics, name, bname, ctx, "english", "nlp", cs->nlp);
    for (size_t l = 0; l < cs->nlangs; l++) {
        const LangProb *lp = &cs->langs[l];
        metric_row(rp->metrics, name, bname, ctx, lp->name, "pkp", lp->pkp);
        metric_row(rp->metrics, name, bname, ctx, lp->name, "kap", lp->kap);
        metric_row(rp->metrics, name, bname, ctx, lp->name, "pkp_seq", lp->pkp_seq);
        static const char *const nm[4] = {"n80", "n85", "n90", "n95"};
        for (int f = 0; f < 4; f++)
            metric_row(rp->metrics, name, bname, ctx, lp->name, nm[f], (double)lp->n_mass[f]);
    }
    if (!base) return;
    const ColdDiff *d = &r->ctx[c].diff;
    const ColdStart *bs = &base->ctx[c].cs;
    metric_row(rp->metrics, name, bname, ctx, "all", "kl_pq", d->kl_pq);
    metric_row(rp->metrics, name, bname, ctx, "all", "kl_qp", d->kl_qp);
    metric_row(rp->metrics, name, bname, ctx, "all", "js", d->js);
    metric_row(rp->metrics, name, bname, ctx, "all", "tv", d->tv);
    metric_row(rp->metrics, name, bname, ctx, "all", "top1_agree", d->top1_agree);
    metric_row(rp->metrics, name, bname, ctx, "all", "top10_overlap", d->top10);
    metric_row(rp->metrics, name, bname, ctx, "all", "top100_overlap", d->top100);
    metric_row(rp->metrics, name, bname, ctx, "keywords", "spearman_kw", d->spearman_kw);
    metric_row(rp->metrics, name, bname, ctx, "keywords", "kl_keywords", d->kl_keywords);
    metric_row(rp->metrics, name, bname, ctx, "keywords", "kl_keywords_seq", d->kl_keywords_seq);
    for (size_t l = 0; l < cs->nlangs && l < bs->nlangs; l++) {
        const LangProb *lp = &cs->langs[l], *lb = &bs->langs[l];
        double dp = d->same_vocab ? lp->pkp - lb->pkp : NAN;
        double rel = d->same_vocab && lb->pkp > 0 ? dp / lb->pkp : NAN;
        double dps = lp->pkp_seq - lb->pkp_seq;
        metric_row(rp->metrics, name, bname, ctx, lp->name, "delta_pkp", dp);
        metric_row(rp->metrics, name, bname, ctx, lp->name, "delta_pkp_rel", rel);
        metric_row(rp->metrics, name, bname, ctx, lp->name, "delta_pkp_seq", dps);
    }
}

static void add_keyword_rows(StudyReport *rp, const StudyModel *r, const StudyModel *base, int c) {
    const ColdStart *cs = &r->ctx[c].cs, *bs = base ? &base->ctx[c].cs : NULL;
    Table *t = rp->keywords;
    for (size_t l = 0; l < cs->nlangs; l++) {
        const LangProb *lp = &cs->langs[l];
        for (size_t k = 0; k < lp->n; k++) {
            const KwProb *kp = &lp->kw[k];
            table_row(t);
            table_put(t, 0, r->entry->name);
            table_put(t, 1, cs->context_piece);
            table_put(t, 12, cs->context_ids);
            table_put(t, 2, lp->name);
            table_put(t, 3, kp->word);
            if (kp->bare_id >= 0) table_putf(t, 4, "%d", kp->bare_id);
            if (kp->space_id >= 0) table_putf(t, 5, "%d", kp->space_id);
            put_num(t, 6, kp->p_bare);
            put_num(t, 7, kp->p_space);
            put_num(t, 8, kp->p_bare + (kp->space_id != kp->bare_id ? kp->p_space : 0));
            put_num(t, 9, kp->p_seq);
            if (kp->rank) table_putf(t, 10, "%d", kp->rank);
            if (bs && l < bs->nlangs && k < bs->langs[l].n)
                put_num(t, 11, keyword_log_ratio(&bs->langs[l].kw[k], kp, r->ctx[c].diff.same_vocab));
        }
    }
}

static void add_indent_rows(StudyReport *rp, const StudyModel *r, int c) {
    static const char *const kinds[2] = {"spaces", "tabs"};
    const ColdStart *cs = &r->ctx[c].cs;
    for (int kd = 0; kd < 2; kd++)
        for (int nl = 0; nl < 2; nl++)
            for (int w = 1; w <= INDENT_MAX; w++) {
                if (cs->indent[kd][nl][w] <= 0) continue;
                table_row(rp->indent);
                table_put(rp->indent, 0, r->entry->name);
                table_put(rp->indent, 1, cs->context_piece);
                table_put(rp->indent, 6, cs->context_ids);
                table_put(rp->indent, 2, kinds[kd]);
                table_putf(rp->indent, 3, "%d", w);
                table_putf(rp->indent, 4, "%d", nl);
                put_num(rp->indent, 5, cs->indent[kd][nl][w]);
            }
}

static void add_top_rows(StudyReport *rp, const StudyModel *r, int c) {
    const StudyContext *sc = &r->ctx[c];
    Table *t = rp->top;
    for (size_t i = 0; i < sc->ntop; i++) {
        const StudyToken *tk = &sc->top[i];
        Buf vis = {0};
        visible(tk->text, tk->text_len, &vis);
        table_row(t);
        table_put(t, 0, r->entry->name);
        table_put(t, 1, sc->cs.context_piece);
        table_put(t, 7, sc->cs.context_ids);
        table_putf(t, 2, "%zu", i + 1);
        table_putf(t, 3, "%d", tk->id);
        table_putn(t, 4, tk->piece, tk->piece_len);
        table_put(t, 5, vis.data ? vis.data : "");
        put_num(t, 6, tk->p);
        buf_free(&vis);
    }
}

static int save_csv(const StudyReport *rp, const char *dir, Err *err) {
    const TableFile files[] = {{"models.csv", rp->models}, {"metrics.csv", rp->metrics},
                               {"keywords.csv", rp->keywords}, {"indent.csv", rp->indent},
                               {"top_tokens.csv", rp->top}};
    return table_save_dir(dir, files, sizeof files / sizeof files[0], err);
}

/* ---- terminal tables ---- */

static void fmt_cell(Table *t, int col, const char *fmt, double v) {
    if (isnan(v)) table_put(t, col, "-");
    else table_putf(t, col, fmt, v);
}

/* Per model and context: the distribution summary, top tokens, and languages. */
static void print_probe(const StudyReport *rp, const StudyModel *r, int ncontexts) {
    for (int c = 0; c < ncontexts; c++) {
        const ColdStart *cs = &r->ctx[c].cs;
        printf("\n== %s  (context %s)\n", r->entry->name, cs->context_label);
        printf("entropy %.4f nats   STP %.4f   indentation %.4f   English (NLP) %.4f\n",
               cs->entropy, cs->stp, cs->indent_mass, cs->nlp);
        Table *top = table_new();
        table_column(top, "rank", 1);
        table_column(top, "id", 1);
        table_column(top, "token", 0);
        table_column(top, "p", 1);
        for (size_t i = 0; i < table_nrows(rp->top); i++) {
            if (strcmp(table_cell(rp->top, i, 0), r->entry->name) ||
                strcmp(table_cell(rp->top, i, 1), cs->context_piece) ||
                strcmp(table_cell(rp->top, i, 7), cs->context_ids))
                continue;
            table_row(top);
            table_put(top, 0, table_cell(rp->top, i, 2));
            table_put(top, 1, table_cell(rp->top, i, 3));
            Buf raw = {0};
            control_bytes(table_cell(rp->top, i, 5), &raw);
            table_putn(top, 2, raw.data ? raw.data : "", raw.len);
            buf_free(&raw);
            fmt_cell(top, 3, "%.4f", atof(table_cell(rp->top, i, 6)));
        }
        table_print(top, rp->o.format, "top tokens");
        table_free(top);
        Table *lt = table_new();
        const char *cols[] = {"lang", "keywords", "PKP", "KAP", "PKP_seq", "n80", "n90", "n95", "top keywords"};
        for (int i = 0; i < 9; i++) table_column(lt, cols[i], i >= 1 && i <= 7);
        for (size_t l = 0; l < cs->nlangs; l++) {
            const LangProb *lp = &cs->langs[l];
            table_row(lt);
            table_put(lt, 0, lp->name);
            table_putf(lt, 1, "%zu", lp->n);
            table_putf(lt, 2, "%.4g", lp->pkp);
            table_putf(lt, 3, "%.3g", lp->kap);
            table_putf(lt, 4, "%.4g", lp->pkp_seq);
            table_putf(lt, 5, "%zu", lp->n_mass[0]);
            table_putf(lt, 6, "%zu", lp->n_mass[2]);
            table_putf(lt, 7, "%zu", lp->n_mass[3]);
            /* the three likeliest keywords by p_seq */
            size_t best[3] = {0}, nb = 0;
            double *ps = xmalloc((lp->n ? lp->n : 1) * sizeof *ps);
            for (size_t k = 0; k < lp->n; k++) ps[k] = lp->kw[k].p_seq;
            nb = metric_top_k(ps, lp->n, 3, best);
            Buf b = {0};
            for (size_t i = 0; i < nb; i++) buf_printf(&b, "%s%s", i ? " " : "", lp->kw[best[i]].word);
            table_put(lt, 8, b.data ? b.data : "");
            buf_free(&b);
            free(ps);
        }
        table_print(lt, rp->o.format, "keyword mass per language");
        table_free(lt);
    }
}

static void print_diff(const StudyReport *rp, const StudyModel *res, size_t n) {
    Table *t = table_new();
    const char *cols[] = {"variant", "base", "kind", "bpw", "compare", "KL(P||Q)", "KL(Q||P)", "JS",
                          "TV", "top1", "top10", "top100", "rho_kw", "KL_kw"};
    for (int i = 0; i < 14; i++) table_column(t, cols[i], i == 3 || i >= 5);
    for (size_t i = 0; i < n; i++) {
        const StudyModel *r = &res[i];
        if (r->base < 0) continue;
        const ColdDiff *d = &r->ctx[0].diff;
        table_row(t);
        table_put(t, 0, r->entry->name);
        table_put(t, 1, res[r->base].entry->name);
        table_put(t, 2, r->entry->kind);
        fmt_cell(t, 3, "%.2f", r->bpw);
        table_put(t, 4, d->same_vocab ? "vocab" : "p_seq");
        fmt_cell(t, 5, "%.3e", d->kl_pq);
        fmt_cell(t, 6, "%.3e", d->kl_qp);
        fmt_cell(t, 7, "%.3e", d->js);
        fmt_cell(t, 8, "%.3e", d->tv);
        fmt_cell(t, 9, "%.0f", d->top1_agree);
        fmt_cell(t, 10, "%.2f", d->top10);
        fmt_cell(t, 11, "%.2f", d->top100);
        fmt_cell(t, 12, "%.4f", d->spearman_kw);
        fmt_cell(t, 13, "%.3e", d->same_vocab ? d->kl_keywords : d->kl_keywords_seq);
    }
    table_print(t, rp->o.format, "drift from the base (compare: vocab = full distribution; p_seq = keyword strings only, vocabularies differ)");
    table_free(t);

    /* ΔPKP per language, one column per variant (relative, or on p_seq across vocabularies). */
    Table *d = table_new();
    table_column(d, "lang", 0);
    table_column(d, "base PKP", 1);
    for (size_t i = 0; i < n; i++)
        if (res[i].base >= 0) table_column(d, res[i].entry->name, 1);
    const ColdStart *b0 = NULL;
    for (size_t i = 0; i < n && !b0; i++)
        if (res[i].base >= 0) b0 = &res[res[i].base].ctx[0].cs;
    for (size_t l = 0; b0 && l < b0->nlangs; l++) {
        table_row(d);
        table_put(d, 0, b0->langs[l].name);
        table_putf(d, 1, "%.4g", b0->langs[l].pkp);
        int col = 2;
        for (size_t i = 0; i < n; i++) {
            if (res[i].base < 0) continue;
            const LangProb *lb = &res[res[i].base].ctx[0].cs.langs[l], *lv = &res[i].ctx[0].cs.langs[l];
            if (res[i].ctx[0].diff.same_vocab)
                fmt_cell(d, col++, "%+.2f%%", lb->pkp > 0 ? 100 * (lv->pkp - lb->pkp) / lb->pkp : NAN);
            else
                fmt_cell(d, col++, "%+.2f%% seq", lb->pkp_seq > 0 ? 100 * (lv->pkp_seq - lb->pkp_seq) / lb->pkp_seq : NAN);
        }
    }
    if (b0) table_print(d, rp->o.format, "change of PKP per language (relative to the base)");
    table_free(d);
}

/* ---- the calls ---- */

void study_report_model(const Study *s, size_t i, void *report) {
    StudyReport *rp = report;
    const StudyModel *r = &s->models[i], *base = r->base >= 0 ? &s->models[r->base] : NULL;
    /* hashed once per model, and only when models.csv will be written */
    ModelDigest d = rp->o.outdir ? digest_of(rp->o.record, r->entry->path) : (ModelDigest){{0}, {0}};
    for (int c = 0; c < s->ncontexts; c++) {
        add_model_row(rp, r, base, c, &d);
        add_metric_rows(rp, r, base, c);
        add_keyword_rows(rp, r, base, c);
        add_indent_rows(rp, r, c);
        add_top_rows(rp, r, c);
    }
    if (rp->o.per_model) print_probe(rp, r, s->ncontexts);
}

int study_report_finish(StudyReport *rp, const Study *s, Err *err) {
    int any_diff = 0;
    for (size_t i = 0; i < s->n; i++) any_diff |= s->models[i].base >= 0;
    if (any_diff) print_diff(rp, s->models, s->n);
    if (!rp->o.outdir) return 0;
    if (save_csv(rp, rp->o.outdir, err) != 0) return -1;
    printf("\nwrote %s/{models,metrics,keywords,indent,top_tokens}.csv\n", rp->o.outdir);
    return 0;
}
