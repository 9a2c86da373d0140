/* plot: see plot.h. The driver: load_all (data.c) reads and checks every CSV file first, then
 * each figure that has data gets a script — script_head (layout.c), then its drawer (fig_*.c) —
 * which gnuplot runs (gnuplot.c). Names from the CSV files only ever reach a script through
 * gp_quote, and the data blocks hold numbers only, so no CSV content can break or steer a script. */
#include "plots/plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plots/data.h"
#include "plots/figures.h"
#include "plots/gnuplot.h"
#include "plots/layout.h"

static const char *const fig_names[PLOT_NFIGURES] = {
    [FIG_PKP] = "pkp_by_language",       [FIG_KL] = "kl_vs_bits",
    [FIG_HEAT] = "keyword_heatmap",      [FIG_COVERAGE] = "coverage_by_language",
    [FIG_DIST] = "drift_kl_distribution", [FIG_KW_RATIO] = "drift_keyword_vs_other",
    [FIG_DRIFT_KL] = "drift_kl_vs_bits",  [FIG_DRIFT_TOP1] = "drift_top1_vs_bits",
    [FIG_DRIFT_PPL] = "drift_ppl_vs_bits", [FIG_STP] = "cold_start_stp",
    [FIG_NLP] = "cold_start_nlp",         [FIG_INDENT] = "cold_start_indent",
    [FIG_CONC] = "keyword_concentration",
};

/* What coverage_summary.csv's match rule means (docs/coverage.md). */
static const char *match_text(const char *m) {
    if (!strcmp(m, "bare")) return "match bare: the keyword itself is one token";
    if (!strcmp(m, "space")) return "match space: the keyword after a space is one token";
    if (!strcmp(m, "either")) return "match either: the keyword, or the keyword after a space, is one token";
    if (!strcmp(m, "several")) return "rows of different match rules";
    return "match rule not recorded in coverage_summary.csv";
}

/* " and 2 not quantizations" when some points are drawn apart. */
static void separate_note(char *dst, size_t cap, const KlData *k) {
    if (k->nseparate) snprintf(dst, cap, ", %zu not %s", k->nseparate, k->nseparate == 1 ? "a quantization" : "quantizations");
    else *dst = '\0';
}

int plot_format_parse(const char *s) {
    for (int i = PLOT_PNG; i <= PLOT_PDF; i++)
        if (!strcmp(s, format_ext((PlotFormat)i))) return i;
    return -1;
}

/* Lines of gnuplot's stderr that are not empty, as warnings. */
static void keep_warnings(Buf *warn, const char *fig, const char *text) {
    for (const char *p = text; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *q = p;
        while (q < p + n && (*q == ' ' || *q == '\t')) q++;
        if (q < p + n) buf_printf(warn, "%s: gnuplot: %.*s\n", fig, (int)(p + n - q), q);
        p = e ? e + 1 : NULL;
    }
}

/* A copy of path without trailing slashes (but "/" stays "/"). */
static char *trim_slashes(const char *path) {
    char *p = xstrdup(path);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
    return p;
}

/* gnuplot receives the output path as a string in its script, so it must survive gp_quote. */
static int is_plain_text(const char *s) {
    size_t n = strlen(s);
    if (utf8_valid_prefix(s, n) != n) return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 0;
    return 1;
}

static const char *plural(size_t n, const char *one, const char *many) { return n == 1 ? one : many; }

/* " (5 models x 2 contexts)" when the series are (model, context) pairs. */
static void contexts_note(char *dst, size_t cap, int several, size_t nmodels, const char *what, size_t ncontexts) {
    if (several) snprintf(dst, cap, " (%zu %s x %zu contexts)", nmodels, what, ncontexts);
    else *dst = '\0';
}

/* A statistic of drift.csv against bits per weight, with its intervals as error bars. */
static void draw_drift_stat(Buf *s, const Term *tm, const KlData *k, const char *title, const char *ylabel,
                            PlotFigure *f, Buf *warn) {
    size_t unlabelled = 0;
    char sep[64], y[160];
    snprintf(y, sizeof y, "%s%s", ylabel, k->has_ci ? " (bars: 95% CI, bootstrap over files)" : "");
    draw_kl(s, tm, k, title, y, &unlabelled);
    separate_note(sep, sizeof sep, k);
    fig_note(f, "%zu %s%s%s", k->n, plural(k->n, "variant", "variants"), sep,
             k->has_ci ? ", with 95% intervals" : ", no intervals in drift.csv");
    if (unlabelled)
        buf_printf(warn, "%s: %zu of %zu points left without a label: no free room next to them\n", f->name, unlabelled,
                   k->n);
}

/* A bar per model (and context) of one cold-start measure. */
static void draw_measure(Buf *s, const Term *tm, const Bars *b, const char *title, const char *ylabel, PlotFigure *f) {
    char ctx[128];
    draw_bars(s, tm, b, title, ylabel, NULL, 0, 0);
    contexts_note(ctx, sizeof ctx, b->several, b->nmodels, plural(b->nmodels, "model", "models"), b->ncontexts);
    fig_note(f, "%zu %s%s", b->groups.n, b->several ? "series" : plural(b->groups.n, "model", "models"), ctx);
}

/* The most a figure of each kind draws (docs/plots.md "Limits"): past that a figure is unreadable
 * (a legend of hundreds of entries, bars thinner than a pixel) and gnuplot's time grows with the
 * square of the bars (40,000 models took 172 s), so the figure is refused, with one line. */
#define MAX_BAR_SERIES 100  /* bars in a group: models, tokenizers, variants */
#define MAX_BARS 2000       /* bars in the figure */
#define MAX_KL_POINTS 1000  /* points of kl_vs_bits and the drift_*_vs_bits figures */
#define MAX_HEAT_ROWS 200   /* keyword_heatmap variants */
#define MAX_DIST_LINES 100  /* drift_kl_distribution variants */

/* what: the series (models, tokenizers ...), groups: the groups on the x axis (languages, models) */
static int bars_past_limit(const Bars *b, const char *what, const char *groups, char *why, size_t cap) {
    size_t bars = b->groups.n * b->series.n;
    if (b->series.n <= MAX_BAR_SERIES && bars <= MAX_BARS) return 0;
    snprintf(why, cap, "%zu %s x %zu %s = %zu bars, past the limit of %d %s and %d bars a figure "
             "shows (docs/plots.md)", b->series.n, what, b->groups.n, groups, bars, MAX_BAR_SERIES, what, MAX_BARS);
    return 1;
}

static int points_past_limit(const KlData *k, char *why, size_t cap) {
    if (k->n <= MAX_KL_POINTS) return 0;
    snprintf(why, cap, "%zu points, past the limit of %d a figure shows (docs/plots.md)", k->n, MAX_KL_POINTS);
    return 1;
}

/* 1 (and why) when figure i has more to draw than its kind's limit. */
static int past_limit(int i, const Loaded *d, char *why, size_t cap) {
    switch (i) {
    case FIG_PKP: return bars_past_limit(&d->pkp, d->pkp.several ? "series" : "models", "languages", why, cap);
    case FIG_COVERAGE: return bars_past_limit(&d->cov, "tokenizers", "languages", why, cap);
    case FIG_KW_RATIO: return bars_past_limit(&d->kwr, "variants", "languages", why, cap);
    case FIG_STP: return bars_past_limit(&d->stp, "series", "models", why, cap);
    case FIG_NLP: return bars_past_limit(&d->nlp, "series", "models", why, cap);
    case FIG_INDENT: return bars_past_limit(&d->indent, "series", "models", why, cap);
    case FIG_CONC: return bars_past_limit(&d->conc, "levels", d->conc.several ? "series" : "models", why, cap);
    case FIG_KL: return points_past_limit(&d->kl, why, cap);
    case FIG_DRIFT_KL: return points_past_limit(&d->dkl, why, cap);
    case FIG_DRIFT_TOP1: return points_past_limit(&d->dtop1, why, cap);
    case FIG_DRIFT_PPL: return points_past_limit(&d->dppl, why, cap);
    case FIG_HEAT:
        if (d->heat.variants.n <= MAX_HEAT_ROWS) return 0;
        snprintf(why, cap, "%zu rows, past the limit of %d a figure shows (docs/plots.md)", d->heat.variants.n,
                 MAX_HEAT_ROWS);
        return 1;
    case FIG_DIST:
        if (d->dist.variants.n <= MAX_DIST_LINES) return 0;
        snprintf(why, cap, "%zu variants, past the limit of %d lines a figure shows (docs/plots.md)",
                 d->dist.variants.n, MAX_DIST_LINES);
        return 1;
    }
    return 0;
}

/* Writes figure i's script (after its head) and its note. */
static void draw_figure(int i, Buf *s, const Term *tm, const Loaded *d, PlotFigure *f, Buf *warn) {
    char ctx[128];
    switch (i) {
    case FIG_PKP:
        draw_bars(s, tm, &d->pkp, "PKP: probability mass on each language's keyword tokens at cold start", "PKP",
                  "model", 0, 0);
        contexts_note(ctx, sizeof ctx, d->pkp.several, d->pkp.nmodels, plural(d->pkp.nmodels, "model", "models"),
                      d->pkp.ncontexts);
        fig_note(f, "%zu %s x %zu %s%s", d->pkp.groups.n, plural(d->pkp.groups.n, "language", "languages"),
             d->pkp.series.n, d->pkp.several ? "series" : plural(d->pkp.series.n, "model", "models"), ctx);
        break;
    case FIG_KL: {
        size_t unlabelled = 0;
        char sep[64];
        draw_kl(s, tm, &d->kl, "KL(P||Q) of each variant from its base, against bits per weight", "KL(P||Q), nats",
                &unlabelled);
        contexts_note(ctx, sizeof ctx, d->kl.several, d->kl.nmodels, plural(d->kl.nmodels, "variant", "variants"),
                      d->kl.ncontexts);
        separate_note(sep, sizeof sep, &d->kl);
        fig_note(f, "%zu %s%s in %zu %s%s", d->kl.n,
             d->kl.several ? "points" : plural(d->kl.n, "variant", "variants"), ctx, d->kl.families.n,
             plural(d->kl.families.n, "family", "families"), sep);
        if (unlabelled)
            buf_printf(warn, "kl_vs_bits: %zu of %zu points left without a label: no free room next to them\n",
                       unlabelled, d->kl.n);
        break;
    }
    case FIG_HEAT:
        draw_heat(s, tm, &d->heat);
        contexts_note(ctx, sizeof ctx, d->heat.several, d->heat.nmodels, plural(d->heat.nmodels, "variant", "variants"),
                      d->heat.ncontexts);
        fig_note(f, "%zu %s (of %zu) x %zu %s%s", d->heat.kw.n, plural(d->heat.kw.n, "keyword", "keywords"),
             d->heat.total_kw, d->heat.variants.n,
             d->heat.several ? "rows" : plural(d->heat.variants.n, "variant", "variants"), ctx);
        break;
    case FIG_COVERAGE: {
        char title[200];
        snprintf(title, sizeof title, "Keyword coverage per language and tokenizer (%s)", match_text(d->match));
        draw_bars(s, tm, &d->cov, title, "coverage (covered keywords / keywords)", "tokenizer", 1.0, 0);
        fig_note(f, "%zu %s x %zu %s%s%s", d->cov.groups.n, plural(d->cov.groups.n, "language", "languages"),
             d->cov.series.n, plural(d->cov.series.n, "tokenizer", "tokenizers"), *d->match ? ", match " : "", d->match);
        break;
    }
    case FIG_DIST:
        draw_dist(s, tm, &d->dist);
        fig_note(f, "%zu %s, up to %zu %s", d->dist.variants.n,
             plural(d->dist.variants.n, "variant", "variants"), d->dist.most, plural(d->dist.most, "bin", "bins"));
        break;
    case FIG_DRIFT_KL:
        draw_drift_stat(s, tm, &d->dkl, "Mean KL(P||Q) per position over the corpus, against bits per weight",
                        "mean KL(P||Q), nats", f, warn);
        break;
    case FIG_DRIFT_TOP1:
        draw_drift_stat(s, tm, &d->dtop1, "Share of positions where the variant's top-1 token is the base's",
                        "same top-1", f, warn);
        break;
    case FIG_DRIFT_PPL:
        draw_drift_stat(s, tm, &d->dppl, "Perplexity of the variant over the base's, on the corpus",
                        "PPL variant / PPL base", f, warn);
        break;
    case FIG_STP:
        draw_measure(s, tm, &d->stp, "STP: cold-start probability of structural tokens (punctuation, symbols, "
                     "whitespace)", "STP", f);
        break;
    case FIG_NLP:
        draw_measure(s, tm, &d->nlp, "NLP: cold-start probability of English words (the English control set's PKP)",
                     "NLP", f);
        break;
    case FIG_INDENT:
        draw_measure(s, tm, &d->indent, "Cold-start probability of indentation tokens (newlines, then only spaces "
                     "or only tabs)", "indentation mass", f);
        break;
    case FIG_CONC: {
        char title[200];
        snprintf(title, sizeof title, "Keyword concentration: keywords holding 80-95%% of a language's keyword mass "
                 "(mean over %zu %s)", d->conc_langs, plural(d->conc_langs, "language", "languages"));
        draw_bars(s, tm, &d->conc, title, "keywords (by decreasing p_sum)", "share of the keyword mass", 0, 0);
        contexts_note(ctx, sizeof ctx, d->conc.several, d->conc.nmodels, plural(d->conc.nmodels, "model", "models"),
                      d->conc.ncontexts);
        fig_note(f, "%zu %s x %zu %s, mean over up to %zu %s%s", d->conc.groups.n,
                 d->conc.several ? "series" : plural(d->conc.groups.n, "model", "models"), d->conc.series.n,
                 plural(d->conc.series.n, "level", "levels"), d->conc_langs,
                 plural(d->conc_langs, "language", "languages"), ctx);
        break;
    }
    case FIG_KW_RATIO:
        draw_bars(s, tm, &d->kwr, "Mean KL(P||Q) at keyword positions / mean KL(P||Q) at other positions",
                  ">1: compression hurts keyword positions more", "variant", 0, 1);
        fig_note(f, "%zu %s x %zu %s", d->kwr.groups.n, plural(d->kwr.groups.n, "language", "languages"),
             d->kwr.series.n, plural(d->kwr.series.n, "variant", "variants"));
        break;
    }
}

int plot_all(const PlotOptions *opt, PlotFigure figs[PLOT_NFIGURES], Buf *warnings, Err *err) {
    Err local;
    if (!err) err = &local;
    Buf scratch = {0};
    Buf *warn = warnings ? warnings : &scratch;
    for (int i = 0; i < PLOT_NFIGURES; i++) {
        memset(&figs[i], 0, sizeof figs[i]);
        figs[i].name = fig_names[i];
    }
    PlotOptions o = *opt;
    char *dir = trim_slashes(opt->dir), *figdir = trim_slashes(opt->figdir);
    o.dir = dir, o.figdir = figdir;
    Loaded d = {0};
    int ret = -1;
    if (!is_dir(dir)) {
        err_set(err, "%s: no such directory", dir);
        goto out;
    }
    if (!is_plain_text(figdir) || strlen(figdir) + 32 > sizeof figs[0].path) {
        err_set(err, "%s: the output folder's name must be UTF-8 text without control characters, at most %zu bytes "
                     "(gnuplot gets it inside its script)", figdir, sizeof figs[0].path - 32);
        goto out;
    }
    if (load_all(&o, &d, figs, warn, err) < 0) goto out;
    int any = 0, refused = -1, draw[PLOT_NFIGURES];
    for (int i = 0; i < PLOT_NFIGURES; i++) {
        char why[256];
        draw[i] = d.have[i]; /* d.have stays as loaded: loaded_free frees by it */
        if (d.have[i] && past_limit(i, &d, why, sizeof why)) {
            draw[i] = 0;
            fig_note(&figs[i], "not drawn: %s", why);
            buf_printf(warn, "%s: not drawn: %s\n", figs[i].name, why);
            if (refused < 0) refused = i;
        }
        any |= draw[i];
    }
    if (!any && refused >= 0) { /* the one line says why nothing was drawn */
        err_set(err, "%s: %s", figs[refused].name, figs[refused].note);
        goto out;
    }
    Term tm;
    if (any && (term_pick(&tm, o.format, o.width, o.height, err) < 0 || make_dirs(figdir, err) < 0)) goto out;
    for (int i = 0; i < PLOT_NFIGURES; i++) {
        if (!draw[i]) continue;
        PlotFigure *f = &figs[i];
        snprintf(f->path, sizeof f->path, "%s/%s.%s", figdir, f->name, format_ext(o.format));
        /* gnuplot writes a temporary beside the figure, renamed onto it when complete: a figure
         * is replaced whole or not at all, also when two runs draw into one folder */
        char *tmp;
        if (out_temp(f->path, &tmp, err)) goto out;
        Buf s = {0}, out = {0};
        script_head(&s, &tm, tmp);
        draw_figure(i, &s, &tm, &d, f, warn);
        if (getenv("COLDTOK_PLOT_DEBUG")) fputs(s.data, stderr); /* the script, for whoever debugs a figure */
        int rc = gp_run(s.data, s.len, &out, err);
        if (rc == 0) keep_warnings(warn, f->name, out.data);
        buf_free(&s);
        buf_free(&out);
        if (rc == 0) rc = out_commit(tmp, f->path, err);
        else unlink(tmp); /* ours; the figure at f->path, if any, stays as it was */
        free(tmp);
        if (rc < 0) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            err_set(err, "%s: %s", f->name, msg);
            goto out;
        }
        f->drawn = 1;
    }
    ret = 0;
out:
    loaded_free(&d);
    buf_free(&scratch);
    free(dir);
    free(figdir);
    return ret;
}
