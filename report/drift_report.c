/* drift_report: see drift_report.h. */
#include "report/drift_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/tfboot.h"

/* ---- numbers into cells ---- */

static void cell(Table *t, int col, const char *fmt, double v) {
    if (isnan(v)) table_put(t, col, "-");
    else table_putf(t, col, fmt, v);
}

static Table *table_with(const char *const *cols) {
    Table *t = table_new();
    for (int i = 0; cols[i]; i++) table_column(t, cols[i] + (cols[i][0] == '#'), cols[i][0] == '#');
    return t;
}

/* ---- the report ---- */

/* How the intervals are drawn (DriftReportOptions) and the scratch sample of a selection. */
typedef struct {
    int reps;       /* bootstrap replicates; 0: no intervals */
    uint64_t seed;
    TfSample sc;
} Boot;

typedef struct {
    Table *tidy;   /* drift.csv */
    Table *hist;   /* drift_kl_hist.csv */
    Table *models; /* drift_models.csv */
    Table *corpus; /* drift_corpus.csv */
    Table *compare; /* drift_compare.csv, or NULL */
} Csvs;

static void tidy_row(Table *t, const char *variant, const char *lang, const char *cls, const char *stat, double v) {
    table_row(t);
    table_put(t, 0, variant);
    table_put(t, 1, lang);
    table_put(t, 2, cls);
    table_put(t, 3, stat);
    if (isnan(v)) table_put(t, 4, "");
    else table_putf(t, 4, "%.10g", v);
}

static void tidy_summary(Table *t, const char *variant, const char *lang, const char *cls, const TfSummary *s,
                         const TfCi *ci) {
    char name[32];
    tidy_row(t, variant, lang, cls, "n", (double)s->n);
    tidy_row(t, variant, lang, cls, "files", (double)ci->clusters);
    tidy_row(t, variant, lang, cls, "kl_mean", s->kl_mean);
    tidy_row(t, variant, lang, cls, "kl_se", s->kl_se);
    tidy_row(t, variant, lang, cls, "kl_mean_lo", ci->kl_mean.lo);
    tidy_row(t, variant, lang, cls, "kl_mean_hi", ci->kl_mean.hi);
    tidy_row(t, variant, lang, cls, "dp_mean", ci->dp_mean);
    tidy_row(t, variant, lang, cls, "dp_mean_lo", ci->dp_mean_ci.lo);
    tidy_row(t, variant, lang, cls, "dp_mean_hi", ci->dp_mean_ci.hi);
    for (int i = 0; i < TF_NPCT; i++) {
        snprintf(name, sizeof name, "kl_%s", TF_PCT_NAME[i]);
        tidy_row(t, variant, lang, cls, name, s->kl_pct[i]);
    }
    for (int i = 0; i < TF_NPCT; i++) {
        snprintf(name, sizeof name, "dp_%s", TF_PCT_NAME[i]);
        tidy_row(t, variant, lang, cls, name, s->dp_pct[i]);
    }
    tidy_row(t, variant, lang, cls, "dp_rms", s->dp_rms);
    tidy_row(t, variant, lang, cls, "same_top1", s->same_top1);
    tidy_row(t, variant, lang, cls, "same_top1_lo", ci->same_top1.lo);
    tidy_row(t, variant, lang, cls, "same_top1_hi", ci->same_top1.hi);
    tidy_row(t, variant, lang, cls, "ppl_base", s->ppl_base);
    tidy_row(t, variant, lang, cls, "ppl_variant", s->ppl_var);
    tidy_row(t, variant, lang, cls, "ln_ppl_ratio", s->ln_ppl_ratio);
    tidy_row(t, variant, lang, cls, "ln_ppl_ratio_se", s->ln_ppl_ratio_se);
    tidy_row(t, variant, lang, cls, "ppl_ratio", exp(s->ln_ppl_ratio));
    tidy_row(t, variant, lang, cls, "ppl_ratio_lo", ci->ppl_ratio.lo);
    tidy_row(t, variant, lang, cls, "ppl_ratio_hi", ci->ppl_ratio.hi);
    tidy_row(t, variant, lang, cls, "pearson_ll", s->pearson_ll);
}

static const char *class_name(int c) { return c == TF_ALL ? "all" : MARK_NAME[c]; }
static const char *lang_name(const TfRun *r, int l) { return l == r->nlangs ? "all" : r->langs[l]; }

/* The summary of model m's positions in language l and class c, and (ci not NULL) the cluster-
 * bootstrap intervals of its means. */
static void summarize(const TfRun *r, int m, int l, int c, Boot *b, TfSummary *s, TfCi *ci) {
    tfrun_select(r, m, l, c, &b->sc);
    tf_summarize(&b->sc, s);
    if (ci) tf_cluster_ci(&b->sc, b->reps, b->seed, ci);
}

/* "[lo, hi]" of an interval, values printed with fmt (scaled by k); "-" without one. */
static void interval_cell(Table *t, int col, const char *fmt, TfInterval v, double k) {
    if (isnan(v.lo) || isnan(v.hi)) {
        table_put(t, col, "-");
        return;
    }
    char f[32];
    snprintf(f, sizeof f, "[%s, %s]", fmt, fmt);
    table_putf(t, col, f, k * v.lo, k * v.hi);
}

/* Order of the class columns: all, then keyword, indent, structural, other. */
static const int CLASS_ORDER[TF_CLASSES] = {TF_ALL, MARK_KEYWORD, MARK_INDENT, MARK_STRUCT, MARK_OTHER};

#define HIST_LO (-8.0)
#define HIST_WIDTH 0.1
#define HIST_BINS 100

/* Overall, per variant on the base's vocabulary. */
static void print_overall(const TfRun *r, TableFormat fmt, Boot *b) {
    static const char *const OVERALL[] = {"variant", "#positions", "#files", "#KL mean", "#± SE", "#95% CI",
                                          "#KL p99", "#KL max", "#same top-1", "#95% CI", "#Δp RMS",
                                          "#PPL base", "#PPL variant", "#PPL ratio", "#95% CI", "#r(ll)", NULL};
    Table *t = table_with(OVERALL);
    TfSummary s;
    TfCi ci;
    char title[320];
    for (int m = 1; m < r->nmodels; m++) {
        const TfModel *tm = &r->models[m];
        if (!tm->same_vocab) continue;
        summarize(r, m, r->nlangs, TF_ALL, b, &s, &ci);
        table_row(t);
        table_put(t, 0, tm->name);
        table_putf(t, 1, "%zu", s.n);
        table_putf(t, 2, "%zu", ci.clusters);
        cell(t, 3, "%.4g", s.kl_mean);
        cell(t, 4, "%.2g", s.kl_se);
        interval_cell(t, 5, "%.4g", ci.kl_mean, 1);
        cell(t, 6, "%.4g", s.kl_pct[2]);
        cell(t, 7, "%.4g", s.kl_pct[0]);
        cell(t, 8, "%.2f%%", 100 * s.same_top1);
        interval_cell(t, 9, "%.2f", ci.same_top1, 100);
        cell(t, 10, "%.4f", s.dp_rms);
        cell(t, 11, "%.3f", s.ppl_base);
        cell(t, 12, "%.3f", s.ppl_var);
        if (isnan(s.ln_ppl_ratio_se)) cell(t, 13, "%.4f", exp(s.ln_ppl_ratio));
        else table_putf(t, 13, "%.4f ± %.4f", exp(s.ln_ppl_ratio), exp(s.ln_ppl_ratio) * s.ln_ppl_ratio_se);
        interval_cell(t, 14, "%.4f", ci.ppl_ratio, 1);
        cell(t, 15, "%.5f", s.pearson_ll);
    }
    snprintf(title, sizeof title, "Drift from %s over %ld positions (ctx %d, second half of each window; "
             "± SE over positions, 95%% CI by bootstrap over files, %d replicates)", r->models[0].name, r->positions,
             r->ctx, b->reps);
    if (table_nrows(t)) table_print(t, fmt, title);
    table_free(t);
}

/* Per class of the true next token. */
static void print_by_class(const TfRun *r, TableFormat fmt, Boot *b) {
    static const char *const CLASSES[] = {"variant", "next token", "#positions", "#KL mean", "#± SE", "#95% CI",
                                          "#KL p99", "#same top-1", "#Δp RMS", "#PPL ratio", NULL};
    Table *t = table_with(CLASSES);
    TfSummary s;
    TfCi ci;
    for (int m = 1; m < r->nmodels; m++) {
        if (!r->models[m].same_vocab) continue;
        for (int k = 0; k < TF_CLASSES; k++) {
            summarize(r, m, r->nlangs, CLASS_ORDER[k], b, &s, &ci);
            table_row(t);
            table_put(t, 0, r->models[m].name);
            table_put(t, 1, class_name(CLASS_ORDER[k]));
            table_putf(t, 2, "%zu", s.n);
            cell(t, 3, "%.4g", s.kl_mean);
            cell(t, 4, "%.2g", s.kl_se);
            interval_cell(t, 5, "%.4g", ci.kl_mean, 1);
            cell(t, 6, "%.4g", s.kl_pct[2]);
            cell(t, 7, "%.2f%%", 100 * s.same_top1);
            cell(t, 8, "%.4f", s.dp_rms);
            cell(t, 9, "%.4f", exp(s.ln_ppl_ratio));
        }
    }
    if (table_nrows(t)) table_print(t, fmt, "Where the drift happens: by the class of the true next token");
    table_free(t);
}

/* Per language. */
static void print_by_language(const TfRun *r, TableFormat fmt, Boot *b) {
    static const char *const LANGS[] = {"variant", "lang", "#positions", "#files", "#KL mean", "#± SE", "#95% CI",
                                        "#KL keyword", "#KL other", "#keyword/other", "#same top-1", "#PPL ratio",
                                        NULL};
    Table *t = table_with(LANGS);
    TfSummary s;
    TfCi ci;
    for (int m = 1; m < r->nmodels; m++) {
        if (!r->models[m].same_vocab) continue;
        for (int l = 0; l < r->nlangs; l++) {
            TfSummary kw, other;
            summarize(r, m, l, TF_ALL, b, &s, &ci);
            if (s.n == 0) continue;
            summarize(r, m, l, MARK_KEYWORD, b, &kw, NULL);
            summarize(r, m, l, MARK_OTHER, b, &other, NULL);
            table_row(t);
            table_put(t, 0, r->models[m].name);
            table_put(t, 1, r->langs[l]);
            table_putf(t, 2, "%zu", s.n);
            table_putf(t, 3, "%zu", ci.clusters);
            cell(t, 4, "%.4g", s.kl_mean);
            cell(t, 5, "%.2g", s.kl_se);
            interval_cell(t, 6, "%.4g", ci.kl_mean, 1);
            cell(t, 7, "%.4g", kw.kl_mean);
            cell(t, 8, "%.4g", other.kl_mean);
            cell(t, 9, "%.3f", kw.kl_mean / other.kl_mean);
            cell(t, 10, "%.2f%%", 100 * s.same_top1);
            cell(t, 11, "%.4f", exp(s.ln_ppl_ratio));
        }
    }
    if (table_nrows(t)) table_print(t, fmt, "Per language");
    table_free(t);
}

/* Variants compared per byte. */
static void print_by_byte(const TfRun *r, TableFormat fmt) {
    static const char *const BYTES[] = {"variant", "lang", "#bytes", "#bpb base", "#bpb variant", "#Δ bpb",
                                        "#keyword bpb base", "#keyword bpb variant", NULL};
    Table *t = table_with(BYTES);
    for (int m = 1; m < r->nmodels; m++) {
        if (r->models[m].same_vocab) continue;
        for (int l = 0; l <= r->nlangs; l++) {
            const TfBytes *b = tfrun_bytes(r, m, l, TF_ALL), *k = tfrun_bytes(r, m, l, MARK_KEYWORD);
            if (b->bytes == 0) continue;
            table_row(t);
            table_put(t, 0, r->models[m].name);
            table_put(t, 1, lang_name(r, l));
            table_putf(t, 2, "%zu", b->bytes);
            cell(t, 3, "%.4f", tf_bits_per_byte(b->nll_base, b->bytes));
            cell(t, 4, "%.4f", tf_bits_per_byte(b->nll_var, b->bytes));
            cell(t, 5, "%+.4f", tf_bits_per_byte(b->nll_var - b->nll_base, b->bytes));
            cell(t, 6, "%.4f", tf_bits_per_byte(k->nll_base, k->bytes));
            cell(t, 7, "%.4f", tf_bits_per_byte(k->nll_var, k->bytes));
        }
    }
    if (table_nrows(t)) table_print(t, fmt, "Variants compared per byte (bits per byte over the bytes both scored)");
    table_free(t);
}

/* Paired comparisons: every pair (a, b) of the base and the variants on its vocabulary, over the
 * same positions (all languages and classes): ΔKL and Δll with paired cluster-bootstrap intervals,
 * McNemar's exact test on top-1 correctness, p-values adjusted by Benjamini–Hochberg over the
 * pairs. The base's side of a pair is read from the other model's sample (TF_SIDE_BASE). */
static void compare_pairs(const TfRun *r, TableFormat fmt, Boot *b, Table *csv) {
    static const char *const COLS[] = {"a", "b", "#positions", "#files", "#ΔKL (b−a)", "#95% CI", "#Δll (b−a)",
                                       "#95% CI", "#top-1 a", "#top-1 b", "#only a", "#only b", "#odds ratio",
                                       "#p McNemar", "#p (BH)", NULL};
    int nm = r->nmodels, np = 0;
    TfSample *sel = xcalloc((size_t)nm, sizeof *sel);
    for (int m = 1; m < nm; m++)
        if (r->models[m].same_vocab) tfrun_select(r, m, r->nlangs, TF_ALL, &sel[m]);
    TfPaired *pr = xcalloc((size_t)nm * (size_t)nm, sizeof *pr);
    int(*ab)[2] = xcalloc((size_t)nm * (size_t)nm, sizeof *ab);
    for (int a = 0; a < nm; a++)
        for (int c = a + 1; c < nm; c++) {
            if ((a > 0 && !r->models[a].same_vocab) || !r->models[c].same_vocab) continue;
            const TfSample *sa = a == 0 ? &sel[c] : &sel[a];
            tf_paired(sa, a == 0 ? TF_SIDE_BASE : TF_SIDE_VARIANT, &sel[c], TF_SIDE_VARIANT, b->reps, b->seed, &pr[np]);
            ab[np][0] = a, ab[np][1] = c, np++;
        }
    double *p = xmalloc(((size_t)np + 1) * sizeof *p), *adj = xmalloc(((size_t)np + 1) * sizeof *adj);
    for (int i = 0; i < np; i++) p[i] = pr[i].p_mcnemar;
    tf_bh(p, (size_t)np, adj);
    Table *t = table_with(COLS);
    for (int i = 0; i < np; i++) {
        const TfPaired *q = &pr[i];
        Table *out[2] = {t, csv};
        for (int k = 0; k < 2; k++) {
            Table *u = out[k];
            if (!u) continue;
            int x = k == 1; /* the CSV has the intervals as two columns each */
            table_row(u);
            table_put(u, 0, r->models[ab[i][0]].name);
            table_put(u, 1, r->models[ab[i][1]].name);
            table_putf(u, 2, "%zu", q->n);
            table_putf(u, 3, "%zu", q->clusters);
            cell(u, 4, x ? "%.10g" : "%+.4g", q->dkl);
            if (x) cell(u, 5, "%.10g", q->dkl_ci.lo), cell(u, 6, "%.10g", q->dkl_ci.hi);
            else interval_cell(u, 5, "%+.4g", q->dkl_ci, 1);
            cell(u, 6 + x, x ? "%.10g" : "%+.4g", q->dll);
            if (x) cell(u, 8, "%.10g", q->dll_ci.lo), cell(u, 9, "%.10g", q->dll_ci.hi);
            else interval_cell(u, 7, "%+.4g", q->dll_ci, 1);
            cell(u, 8 + 2 * x, x ? "%.10g" : "%.4f", q->top1_a);
            cell(u, 9 + 2 * x, x ? "%.10g" : "%.4f", q->top1_b);
            table_putf(u, 10 + 2 * x, "%zu", q->only_a);
            table_putf(u, 11 + 2 * x, "%zu", q->only_b);
            cell(u, 12 + 2 * x, x ? "%.10g" : "%.3f", q->odds_ratio);
            cell(u, 13 + 2 * x, x ? "%.10g" : "%.3g", q->p_mcnemar);
            cell(u, 14 + 2 * x, x ? "%.10g" : "%.3g", adj[i]);
        }
    }
    char title[256];
    snprintf(title, sizeof title, "Paired comparisons on the same %ld positions (95%% CI: paired bootstrap over "
             "files, %d replicates; McNemar's exact test on top-1 correctness, BH over %d pairs)",
             r->positions, b->reps, np);
    if (table_nrows(t)) table_print(t, fmt, title);
    table_free(t);
    for (int m = 0; m < nm; m++) tf_sample_free(&sel[m]);
    free(sel), free(pr), free(ab), free(p), free(adj);
}

/* The corpus: files scored and skipped, windows, time. */
static void print_corpus(const TfRun *r, TableFormat fmt) {
    static const char *const CORPUS[] = {"files", "#scored", "#empty", "#not UTF-8", "#shorter than a window",
                                         "#no language", "#unaligned", "#windows", "#seconds", "#tokens/s",
                                         "#not drawn", NULL};
    Table *t = table_with(CORPUS);
    table_row(t);
    table_putf(t, 0, "%zu", r->files + r->unknown);
    table_putf(t, 1, "%zu", r->scored);
    table_putf(t, 2, "%zu", r->empty);
    table_putf(t, 3, "%zu", r->not_utf8);
    table_putf(t, 4, "%zu", r->too_short);
    table_putf(t, 5, "%zu", r->unknown);
    table_putf(t, 6, "%zu", r->unaligned);
    table_putf(t, 7, "%ld", r->windows);
    table_putf(t, 8, "%.1f", r->seconds);
    long tokens = 0;
    for (int m = 0; m < r->nmodels; m++) tokens += r->models[m].tokens;
    cell(t, 9, "%.0f", r->seconds > 0 ? (double)tokens / r->seconds : NAN);
    table_putf(t, 10, "%zu", r->unsampled);
    table_print(t, fmt, "Corpus (tokens/s: every model's tokens)");
    table_free(t);
    if (r->max_tokens > 0) { /* the draw of --max-tokens, per language */
        printf("\nwindows drawn per language (--max-tokens %ld, seed %llu):", r->max_tokens,
               (unsigned long long)r->seed);
        for (int l = 0; l < r->nlangs; l++)
            if (r->lang_windows[l]) printf(" %s %ld", r->langs[l], r->lang_windows[l]);
        printf("\n");
    }
}

/* drift.csv: every (variant, language, class) with positions; bpb rows for byte comparisons;
 * drift_kl_hist.csv: the histogram of log10 KL per variant on the base's vocabulary. */
static void add_tidy_rows(const TfRun *r, Csvs *csv, Boot *b) {
    TfSummary s;
    TfCi ci;
    for (int m = 1; m < r->nmodels; m++) {
        const char *name = r->models[m].name;
        for (int l = 0; l <= r->nlangs; l++)
            for (int k = 0; k < TF_CLASSES; k++) {
                int c = CLASS_ORDER[k];
                if (r->models[m].same_vocab) {
                    summarize(r, m, l, c, b, &s, &ci);
                    if (s.n) tidy_summary(csv->tidy, name, lang_name(r, l), class_name(c), &s, &ci);
                } else {
                    const TfBytes *b = tfrun_bytes(r, m, l, c);
                    if (b->bytes == 0) continue;
                    tidy_row(csv->tidy, name, lang_name(r, l), class_name(c), "bytes", (double)b->bytes);
                    tidy_row(csv->tidy, name, lang_name(r, l), class_name(c), "bpb_base", tf_bits_per_byte(b->nll_base, b->bytes));
                    tidy_row(csv->tidy, name, lang_name(r, l), class_name(c), "bpb_variant", tf_bits_per_byte(b->nll_var, b->bytes));
                }
            }
        if (r->models[m].same_vocab) {
            size_t counts[HIST_BINS];
            tf_histogram(&r->models[m].pos, HIST_LO, HIST_WIDTH, HIST_BINS, counts);
            for (int i = 0; i < HIST_BINS; i++) {
                table_row(csv->hist);
                table_put(csv->hist, 0, name);
                table_putf(csv->hist, 1, "%.1f", HIST_LO + i * HIST_WIDTH);
                table_putf(csv->hist, 2, "%.1f", HIST_LO + (i + 1) * HIST_WIDTH);
                table_putf(csv->hist, 3, "%zu", counts[i]);
            }
        }
    }
}

/* drift_models.csv */
static void add_model_rows(const TfRun *r, Csvs *csv) {
    for (int m = 0; m < r->nmodels; m++) {
        const TfModel *tm = &r->models[m];
        table_row(csv->models);
        table_put(csv->models, 0, tm->name);
        table_put(csv->models, 1, m == 0 ? "base" : "variant");
        table_put(csv->models, 2, tm->path);
        table_put(csv->models, 3, tm->tokenizer_path);
        table_put(csv->models, 4, m == 0 ? "" : tm->same_vocab ? "1" : "0");
        table_putf(csv->models, 5, "%d", tm->n_vocab);
        cell(csv->models, 6, "%.4f", tm->bpw);
        table_putf(csv->models, 7, "%ld", tm->tokens);
    }
}

/* drift_corpus.csv */
static void add_corpus_rows(const TfRun *r, Csvs *csv) {
    const struct {
        const char *name;
        double v;
    } corpus[] = {{"ctx", r->ctx},           {"files", (double)(r->files + r->unknown)},
                  {"scored", (double)r->scored}, {"empty", (double)r->empty},
                  {"not_utf8", (double)r->not_utf8}, {"shorter_than_window", (double)r->too_short},
                  {"no_language", (double)r->unknown}, {"unaligned", (double)r->unaligned},
                  {"windows", (double)r->windows}, {"positions", (double)r->positions},
                  {"seconds", r->seconds}, {"not_drawn", (double)r->unsampled},
                  {"max_tokens", (double)r->max_tokens}, {"seed", (double)r->seed}};
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        table_row(csv->corpus);
        table_put(csv->corpus, 0, corpus[i].name);
        table_putf(csv->corpus, 1, "%.10g", corpus[i].v);
    }
    for (int l = 0; l < r->nlangs; l++) { /* windows_LANG: the windows scored per language */
        if (!r->lang_windows[l]) continue;
        table_row(csv->corpus);
        table_putf(csv->corpus, 0, "windows_%s", r->langs[l]);
        table_putf(csv->corpus, 1, "%ld", r->lang_windows[l]);
    }
}

/* The tables on stdout and, with CSV, the rows of the CSV files. */
static void report(const TfRun *r, const DriftReportOptions *o, Csvs *csv) {
    Boot b = {.reps = o->boot_reps, .seed = o->seed};
    print_overall(r, o->format, &b);
    print_by_class(r, o->format, &b);
    print_by_language(r, o->format, &b);
    print_by_byte(r, o->format);
    if (o->compare) compare_pairs(r, o->format, &b, csv ? csv->compare : NULL);
    print_corpus(r, o->format);
    if (csv) {
        add_tidy_rows(r, csv, &b);
        add_model_rows(r, csv);
        add_corpus_rows(r, csv);
    }
    tf_sample_free(&b.sc);
}

static int save(const Csvs *c, const char *dir, Err *err) {
    const TableFile files[] = {{"drift.csv", c->tidy},          {"drift_kl_hist.csv", c->hist},
                               {"drift_models.csv", c->models}, {"drift_corpus.csv", c->corpus},
                               {"drift_compare.csv", c->compare}};
    return table_save_dir(dir, files, sizeof files / sizeof files[0] - !c->compare, err);
}

int drift_report(const TfRun *run, const DriftReportOptions *o, Err *err) {
    if (!o->outdir) {
        report(run, o, NULL);
        return 0;
    }
    static const char *const TIDY[] = {"variant", "lang", "positions", "statistic", "#value", NULL};
    static const char *const HIST[] = {"variant", "#log10_kl_lo", "#log10_kl_hi", "#count", NULL};
    static const char *const MODELS[] = {"model", "role", "path", "tokenizer", "#same_vocab", "#n_vocab",
                                         "#bits_per_weight", "#tokens", NULL};
    static const char *const CORPUS[] = {"statistic", "#value", NULL};
    static const char *const COMPARE[] = {"model_a", "model_b", "#positions", "#files", "#dkl", "#dkl_lo", "#dkl_hi",
                                          "#dll", "#dll_lo", "#dll_hi", "#top1_a", "#top1_b", "#only_a", "#only_b",
                                          "#odds_ratio", "#p_mcnemar", "#p_bh", NULL};
    Csvs csv = {table_with(TIDY), table_with(HIST), table_with(MODELS), table_with(CORPUS),
                o->compare ? table_with(COMPARE) : NULL};
    report(run, o, &csv);
    int rc = save(&csv, o->outdir, err);
    if (rc == 0)
        printf("\nwrote %s/drift.csv, drift_kl_hist.csv, drift_models.csv, drift_corpus.csv%s\n", o->outdir,
               o->compare ? ", drift_compare.csv" : "");
    table_free(csv.tidy), table_free(csv.hist), table_free(csv.models), table_free(csv.corpus);
    if (csv.compare) table_free(csv.compare);
    return rc;
}

/* ---- the --positions file ---- */

static int positions_open(void *arg, Err *err) {
    DriftPositionsCsv *pc = arg;
    if (out_open(&pc->out, pc->path, err)) return -1;
    pc->f = pc->out.f;
    fputs("variant,file,window,position,next_id,next_piece,class,kl,lp_base,lp_variant,same_top1,top1_base,"
          "top1_variant\n", pc->f);
    return 0;
}

static void positions_window(void *arg, const TfWindow *w) {
    FILE *f = ((DriftPositionsCsv *)arg)->f;
    for (int i = 0; i < w->n; i++) {
        int next = w->win[w->first + i + 1];
        size_t len;
        const char *b = tok_piece(w->tok, next, &len); /* "Ċ", "<0x0A>": one line */
        const TfPos *p = &w->pos[i];
        table_csv_field(f, w->variant, strlen(w->variant));
        fputc(',', f);
        table_csv_field(f, w->file, strlen(w->file));
        fprintf(f, ",%ld,%d,%d,", w->window, w->first + i, next);
        table_csv_field(f, b, len);
        fprintf(f, ",%s,%.9g,%.9g,%.9g,%d,%d,%d\n", w->cls[i] == TF_ALL ? "unaligned" : MARK_NAME[w->cls[i]],
                (double)p->kl, (double)p->lp_base, (double)p->lp_var, p->same_top1, p->top1_base, p->top1_var);
    }
}

static int positions_close(void *arg, Err *err) {
    DriftPositionsCsv *pc = arg;
    /* err NULL: the run failed, and the file it would have replaced stays as it was */
    int rc = out_close(&pc->out, err != NULL, err);
    pc->f = NULL;
    return rc;
}

TfPositionSink drift_positions_csv(DriftPositionsCsv *pc, const char *path) {
    pc->path = path;
    pc->f = NULL;
    return (TfPositionSink){positions_open, positions_window, positions_close, pc};
}
