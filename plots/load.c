/* load: load_all (data.h): reads every CSV file of a folder that is there, then hands each figure
 * its data through the per-figure loaders of data.c, data_probe.c and data_drift.c. */
#include "plots/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The CSV files read, in this order (a malformed one stops the reading). */
enum { SRC_METRICS, SRC_MODELS, SRC_KEYWORDS, SRC_COVERAGE, SRC_DRIFT, SRC_HIST, SRC_DRIFT_MODELS, NSOURCES };

static const char *const req_metrics[] = {"model", "base", "scope", "metric", "value", NULL};
static const char *const req_models[] = {"model", "bits_per_weight", "base", NULL};
static const char *const req_kw[] = {"model", "keyword", "log_ratio", NULL};
static const char *const req_cov[] = {"tokenizer", "lang", "coverage", NULL};
static const char *const req_drift[] = {"variant", "lang", "positions", "statistic", "value", NULL};
static const char *const req_hist[] = {"variant", "log10_kl_lo", "log10_kl_hi", "count", NULL};
static const char *const req_dmodels[] = {"model", "role", "bits_per_weight", NULL};

static const struct {
    const char *file;
    const char *const *required;
} sources[NSOURCES] = {
    [SRC_METRICS] = {"metrics.csv", req_metrics},
    [SRC_MODELS] = {"models.csv", req_models},
    [SRC_KEYWORDS] = {"keywords.csv", req_kw},
    [SRC_COVERAGE] = {"coverage_summary.csv", req_cov},
    [SRC_DRIFT] = {"drift.csv", req_drift},
    [SRC_HIST] = {"drift_kl_hist.csv", req_hist},
    [SRC_DRIFT_MODELS] = {"drift_models.csv", req_dmodels},
};

/* The files of DIR, read when they are there. */
typedef struct {
    const char *dir;
    CsvTable t[NSOURCES];
    int read[NSOURCES]; /* 1 read, 0 absent, -1 error */
} Sources;

/* Reads DIR/name when it exists: 1 read, 0 absent, -1 error. */
static int read_if_there(CsvTable *t, const char *dir, const char *name, const char *const *req, Err *err) {
    Buf p = {0};
    buf_printf(&p, "%s/%s", dir, name);
    int rc = 0;
    if (is_file(p.data)) rc = csv_table_read(t, p.data, req, err) < 0 ? -1 : 1;
    else memset(t, 0, sizeof *t);
    buf_free(&p);
    return rc;
}

/* 1 when file i was read; else figure f is skipped because the file is absent. */
static int present(const Sources *src, int i, PlotFigure *f) {
    if (src->read[i]) return 1;
    fig_note(f, "%s/%s absent", src->dir, sources[i].file);
    return 0;
}

static int any_value(const double *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) return 1;
    return 0;
}

/* 1 when the bars have a value to draw; else they are freed and f says that there is no "what"
 * in DIR/file i. */
static int keep_bars(Bars *b, const Sources *src, int i, const char *what, PlotFigure *f, Buf *warn) {
    if (!any_value(b->v, b->groups.n * b->series.n)) {
        fig_note(f, "no %s in %s/%s", what, src->dir, sources[i].file);
        bars_free(b);
        return 0;
    }
    if (b->dropped) buf_printf(warn, "%s: %zu non-finite value(s) shown as 'no value'\n", f->name, b->dropped);
    return 1;
}

/* Each take_* sets d->have[] of its figure (1: its data kept; 0: its note says why there is none)
 * and returns 0, or -1 on an error in its file. */

static int take_pkp(const Sources *src, Loaded *d, PlotFigure *f, Buf *warn, Err *err) {
    if (!present(src, SRC_METRICS, f)) return 0;
    if (load_bars(&src->t[SRC_METRICS], "model", "scope", "value", "pkp", &d->pkp, err) < 0) return -1;
    d->have[FIG_PKP] = keep_bars(&d->pkp, src, SRC_METRICS, "pkp value for a language", f, warn);
    return 0;
}

static int take_kl(const Sources *src, Loaded *d, PlotFigure *f, Buf *warn, Err *err) {
    if (!present(src, SRC_METRICS, f) || !present(src, SRC_MODELS, f)) return 0;
    if (load_kl(&src->t[SRC_METRICS], &src->t[SRC_MODELS], &d->kl, err) < 0) return -1;
    if (d->kl.no_bits)
        buf_printf(warn, "kl_vs_bits: %zu variant(s) left out: no bits_per_weight in %s/models.csv\n", d->kl.no_bits,
                   src->dir);
    if (d->kl.dropped) buf_printf(warn, "kl_vs_bits: %zu non-finite kl_pq value(s) left out\n", d->kl.dropped);
    if (!d->kl.n) {
        fig_note(f, "no variant with both a kl_pq value (scope all) in metrics.csv and bits_per_weight in models.csv");
        kl_free(&d->kl);
        return 0;
    }
    d->have[FIG_KL] = 1;
    return 0;
}

static int take_heat(const Sources *src, int top, Loaded *d, PlotFigure *f, Buf *warn, Err *err) {
    if (!present(src, SRC_KEYWORDS, f)) return 0;
    if (load_heat(&src->t[SRC_KEYWORDS], top, &d->heat, err) < 0) return -1;
    if (!any_value(d->heat.v, d->heat.kw.n * d->heat.variants.n)) {
        fig_note(f, "no log_ratio value in %s/keywords.csv (no variant)", src->dir);
        heat_free(&d->heat);
        return 0;
    }
    if (d->heat.dropped)
        buf_printf(warn, "keyword_heatmap: %zu non-finite log_ratio value(s) shown as 'no value'\n", d->heat.dropped);
    d->have[FIG_HEAT] = 1;
    return 0;
}

static int take_coverage(const Sources *src, Loaded *d, PlotFigure *f, Buf *warn, Err *err) {
    if (!present(src, SRC_COVERAGE, f)) return 0;
    if (load_bars(&src->t[SRC_COVERAGE], "tokenizer", "lang", "coverage", NULL, &d->cov, err) < 0) return -1;
    d->have[FIG_COVERAGE] = keep_bars(&d->cov, src, SRC_COVERAGE, "coverage value", f, warn);
    coverage_match(&src->t[SRC_COVERAGE], d->match, sizeof d->match);
    return 0;
}

static int take_dist(const Sources *src, Loaded *d, PlotFigure *f, Buf *warn, Err *err) {
    if (!present(src, SRC_HIST, f)) return 0;
    if (load_dist(&src->t[SRC_HIST], &d->dist, err) < 0) return -1;
    if (d->dist.empty)
        buf_printf(warn, "drift_kl_distribution: %zu variant(s) left out: no position counted in %s/drift_kl_hist.csv\n",
                   d->dist.empty, src->dir);
    if (!d->dist.variants.n) {
        fig_note(f, "no variant with a position counted in %s/drift_kl_hist.csv", src->dir);
        dist_free(&d->dist);
        return 0;
    }
    d->have[FIG_DIST] = 1;
    return 0;
}

static int take_kw_ratio(const Sources *src, Loaded *d, PlotFigure *f, Buf *warn, Err *err) {
    if (!present(src, SRC_DRIFT, f)) return 0;
    if (load_kw_ratio(&src->t[SRC_DRIFT], &d->kwr, &d->kwr_zero, err) < 0) return -1;
    if (!d->kwr.groups.n) {
        fig_note(f, "no language with kl_mean at both keyword and other positions in %s/drift.csv", src->dir);
        bars_free(&d->kwr);
        return 0;
    }
    if (d->kwr.dropped)
        buf_printf(warn, "drift_keyword_vs_other: %zu non-finite kl_mean value(s) shown as 'no value'\n",
                   d->kwr.dropped);
    if (d->kwr_zero)
        buf_printf(warn, "drift_keyword_vs_other: %zu ratio(s) shown as 'no value': kl_mean 0 at other positions\n",
                   d->kwr_zero);
    d->have[FIG_KW_RATIO] = 1;
    return 0;
}

/* Figure fig: drift.csv's statistic stat against bits per weight, into k. */
static int take_drift_stat(const Sources *src, int fig, const char *stat, KlData *k, Loaded *d, PlotFigure *f,
                           Buf *warn, Err *err) {
    if (!present(src, SRC_DRIFT, f) || !present(src, SRC_DRIFT_MODELS, f)) return 0;
    if (load_drift_kl(&src->t[SRC_DRIFT], &src->t[SRC_DRIFT_MODELS], stat, k, err) < 0) return -1;
    if (k->no_bits)
        buf_printf(warn, "%s: %zu variant(s) left out: no bits_per_weight in %s/drift_models.csv\n", f->name,
                   k->no_bits, src->dir);
    if (!k->n) {
        fig_note(f, "no variant with %s (lang all, positions all) in drift.csv and bits_per_weight in "
                    "drift_models.csv", stat);
        kl_free(k);
        return 0;
    }
    d->have[fig] = 1;
    return 0;
}

/* Figure fig: metric's value per model, into b. */
static int take_measure(const Sources *src, int fig, const char *metric, const char *shown, Bars *b, Loaded *d,
                        PlotFigure *f, Buf *warn, Err *err) {
    if (!present(src, SRC_METRICS, f)) return 0;
    if (load_measure(&src->t[SRC_METRICS], metric, shown, b, err) < 0) return -1;
    char what[64];
    snprintf(what, sizeof what, "%s value", metric);
    d->have[fig] = keep_bars(b, src, SRC_METRICS, what, f, warn);
    return 0;
}

static int take_conc(const Sources *src, Loaded *d, PlotFigure *f, Buf *warn, Err *err) {
    if (!present(src, SRC_METRICS, f)) return 0;
    if (load_conc(&src->t[SRC_METRICS], &d->conc, &d->conc_langs, err) < 0) return -1;
    d->have[FIG_CONC] = keep_bars(&d->conc, src, SRC_METRICS, "n80, n85, n90 or n95 value for a language", f, warn);
    return 0;
}

void loaded_free(Loaded *d) {
    if (d->have[FIG_PKP]) bars_free(&d->pkp);
    if (d->have[FIG_KL]) kl_free(&d->kl);
    if (d->have[FIG_HEAT]) heat_free(&d->heat);
    if (d->have[FIG_COVERAGE]) bars_free(&d->cov);
    if (d->have[FIG_DIST]) dist_free(&d->dist);
    if (d->have[FIG_KW_RATIO]) bars_free(&d->kwr);
    if (d->have[FIG_DRIFT_KL]) kl_free(&d->dkl);
    if (d->have[FIG_DRIFT_TOP1]) kl_free(&d->dtop1);
    if (d->have[FIG_DRIFT_PPL]) kl_free(&d->dppl);
    if (d->have[FIG_STP]) bars_free(&d->stp);
    if (d->have[FIG_NLP]) bars_free(&d->nlp);
    if (d->have[FIG_INDENT]) bars_free(&d->indent);
    if (d->have[FIG_CONC]) bars_free(&d->conc);
    memset(d->have, 0, sizeof d->have);
}

int load_all(const PlotOptions *o, Loaded *d, PlotFigure *figs, Buf *warn, Err *err) {
    Sources src = {.dir = o->dir};
    int ret = -1;
    for (int i = 0; i < NSOURCES; i++) {
        src.read[i] = read_if_there(&src.t[i], o->dir, sources[i].file, sources[i].required, err);
        if (src.read[i] < 0) goto out;
    }
    if (take_pkp(&src, d, &figs[FIG_PKP], warn, err) < 0 || take_kl(&src, d, &figs[FIG_KL], warn, err) < 0 ||
        take_heat(&src, o->top_keywords, d, &figs[FIG_HEAT], warn, err) < 0 ||
        take_coverage(&src, d, &figs[FIG_COVERAGE], warn, err) < 0 ||
        take_dist(&src, d, &figs[FIG_DIST], warn, err) < 0 || take_kw_ratio(&src, d, &figs[FIG_KW_RATIO], warn, err) < 0 ||
        take_drift_stat(&src, FIG_DRIFT_KL, "kl_mean", &d->dkl, d, &figs[FIG_DRIFT_KL], warn, err) < 0 ||
        take_drift_stat(&src, FIG_DRIFT_TOP1, "same_top1", &d->dtop1, d, &figs[FIG_DRIFT_TOP1], warn, err) < 0 ||
        take_drift_stat(&src, FIG_DRIFT_PPL, "ppl_ratio", &d->dppl, d, &figs[FIG_DRIFT_PPL], warn, err) < 0 || 
        take_measure(&src, FIG_STP, "stp", "STP", &d->stp, d, &figs[FIG_STP], warn, err) < 0 ||
        take_measure(&src, FIG_NLP, "nlp", "NLP", &d->nlp, d, &figs[FIG_NLP], warn, err) < 0 ||
        take_measure(&src, FIG_INDENT, "indent_mass", "indentation mass", &d->indent, d, &figs[FIG_INDENT], warn,
                     err) < 0 ||
        take_conc(&src, d, &figs[FIG_CONC], warn, err) < 0)
        goto out;
    ret = 0;
out:
    if (ret < 0) loaded_free(d);
    for (int i = 0; i < NSOURCES; i++)
        if (src.read[i] > 0) csv_table_free(&src.t[i]);
    return ret;
}
