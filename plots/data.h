/* data (private to plots/): the data of each figure, read from the CSV files of an analysis folder
 * (through common/csvtable) and checked before anything is drawn.
 *
 * load_all reads every CSV file present: a malformed file, a value out of range or a duplicate
 * row is an error (-1, one line "PATH: line N: ..." in err) before any figure is drawn. A figure
 * without data is left out with a note in its PlotFigure saying why; values left out are counted
 * and reported as warnings. Each loader fills a struct that owns all it holds (copies of names, no
 * pointer into a CSV table); its *_free releases it, and a loader that fails leaves nothing to
 * free.
 *
 * data.c: the cell readers, the grouped bars of a table (load_bars) and load_all.
 * data_probe.c: what `coldtok probe/diff` wrote (kl_pq against bits, keyword log ratios).
 * data_drift.c: what `coldtok drift` wrote (the KL histogram, KL at keyword / other positions). */
#ifndef COLDTOK_PLOTS_DATA_H
#define COLDTOK_PLOTS_DATA_H

#include <stddef.h>

#include "common/csvtable.h"
#include "common/util.h"
#include "plots/names.h"
#include "plots/plot_types.h"

/* A bound on figure grids (groups x series, variants x keywords), far above anything readable,
 * so that a hostile file cannot ask for gigabytes. */
#define MAX_CELLS ((size_t)1 << 24)

/* Grouped bars: pkp_by_language, coverage_by_language, drift_keyword_vs_other. */
typedef struct {
    Names groups, series; /* x groups (languages); bars in a group (models or tokenizers) */
    double *v;            /* [groups.n][series.n]; NAN = no value */
    size_t dropped;       /* non-finite values left out */
    int several;          /* series are (model, context) pairs */
    size_t nmodels, ncontexts;
} Bars;

/* kl_vs_bits and drift_kl_vs_bits: one point per variant, a line per series: the variants of one
 * family (base) made by one method (rtn, imatrix, gptq-code, ...; the whole family when the files
 * record no method). A variant that is not a quantization of its base (distilled, scaled,
 * fine-tuned: see model_is_separate) is a separate point, never joined to a line. */
typedef struct {
    char *model;   /* the label next to the point: the model name */
    size_t family;
    size_t series; /* index into KlData.series; unused when separate */
    char *method;  /* its method's name (method_label), while loading */
    int separate;
    double bits, kl;
    double lo, hi; /* the KL's interval (drift_kl_vs_bits), NAN when none */
} KlPoint;

typedef struct {
    Names families; /* the base model of each family (with the context, when several) */
    Names series;   /* the lines: a family, or (family, method) */
    KlPoint *p;     /* lines sorted by series, then bits; then the separate points */
    size_t n;
    size_t nseparate; /* points not on a line */
    int by_method;    /* the files record methods: a line per (family, method) */
    int has_ci;       /* some point has an interval */
    size_t no_bits;  /* variants left out: no bits_per_weight in models.csv */
    size_t dropped;  /* non-finite KL values left out */
    int several;     /* families are (base, context) pairs */
    size_t nmodels, ncontexts;
} KlData;

/* How a variant's row in models.csv / drift_models.csv tells what it is (columns method,
 * calibration and kind, each optional). */
typedef struct {
    const char *method, *calibration, *kind; /* "" when the column is absent or the cell empty */
    int has_method, has_kind;                /* the columns are there */
} Provenance;

/* 1 when the variant is not a quantization of its base, and so drawn apart: the file records
 * where variants come from (a method or kind column) and this one's kind is distill, finetune or
 * scale, or it has no quantization method and a kind other than quant or fp16 (or none given). */
int model_is_separate(const Provenance *pv);
/* The name of the variant's method, written into out: "rtn", "gptq-code", "gptq-code+text" (the
 * calibration files' names without folder and extension, joined by +), else its kind. */
void method_label(const Provenance *pv, Buf *out);

/* Building a KlData (data_kl.c): points are added one by one (k->p must have room), then
 * kl_finish names the lines and sorts the points. */
void kl_add_point(KlData *k, const char *model, size_t family, const Provenance *pv, double bits, double kl,
                  double lo, double hi);
void kl_finish(KlData *k);

/* keyword_heatmap: variants x the keywords that contribute most to the divergence, ranked by
 * sum over variants of p_sum(base) x |log_ratio| (p_sum(base) = p_sum(variant) / e^log_ratio). */
typedef struct {
    Names kw, variants; /* the keywords shown (largest contribution first, shown with their
                         * languages); the variants */
    double *score;      /* [kw.n] each keyword's contribution */
    double *v;          /* [variants.n][kw.n] log ratios; NAN = no value */
    size_t total_kw;    /* keywords with a log ratio, before keeping the top N */
    size_t dropped;     /* non-finite log ratios left out */
    int several;        /* variants are (model, context) pairs */
    size_t nmodels, ncontexts;
} Heat;

/* drift_kl_distribution: one line per variant over bins of log10 KL. */
typedef struct {
    size_t var;
    double lo, hi; /* the bin's edges in log10 KL */
    double frac;   /* its share of the variant's positions */
} Bin;

typedef struct {
    Names variants; /* those drawn: some position counted; in order of first appearance */
    Bin *b;         /* sorted by variant, then lo */
    size_t n;
    size_t most;    /* the most bins of one variant */
    size_t empty;   /* variants left out: their counts add up to 0 */
} Dist;

/* The figures, in the order of plot_all's figs[]. */
enum { FIG_PKP, FIG_KL, FIG_HEAT, FIG_COVERAGE, FIG_DIST, FIG_KW_RATIO, FIG_DRIFT_KL, FIG_DRIFT_TOP1, FIG_DRIFT_PPL,
       FIG_STP, FIG_NLP, FIG_INDENT, FIG_CONC };

/* Everything read from DIR; have[i]: figure i has data. */
typedef struct {
    Bars pkp, cov, kwr, stp, nlp, indent, conc;
    KlData kl, dkl, dtop1, dppl;
    char match[64];  /* coverage_summary.csv's match rule: "bare", "space", "either", "" unknown,
                      * "several" when rows differ */
    size_t conc_langs; /* keyword_concentration: the most languages a model's mean is over */
    Heat heat;
    Dist dist;
    size_t kwr_zero; /* keyword/other ratios left out: kl_mean 0 at other positions */
    int have[PLOT_NFIGURES];
} Loaded;

/* Reads every CSV file in o->dir and keeps the data of each figure that has some; figs[i].note
 * says why figure i is left out, warn receives the notes about values left out. On error
 * nothing is kept. */
int load_all(const PlotOptions *o, Loaded *d, PlotFigure *figs, Buf *warn, Err *err);
void loaded_free(Loaded *d);

/* Writes the note of a figure (what it shows, or why it was skipped). */
void fig_note(PlotFigure *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the loaders and cell readers (data*.c) ---- */

/* A value a figure can use: NAN when the cell is empty or not finite (counted in *dropped). */
int read_value(const CsvTable *t, size_t r, int col, double *v, size_t *dropped, Err *err);
/* A cell that must hold a finite number. */
int read_finite(const CsvTable *t, size_t r, int col, double *v, Err *err);

/* Rows of t with metric == metric (when metric is not NULL; then scopes all/english are not
 * languages and are left out) become bars: group = group_col, series = series_col (with the
 * context, when the file has several), value = value_col, which must lie in [0, 1]. Each
 * (group, series) pair may appear once. */
int load_bars(const CsvTable *t, const char *series_col, const char *group_col, const char *value_col,
              const char *metric, Bars *b, Err *err);
void bars_free(Bars *b);

/* kl_pq over the whole distribution (scope all) of each variant (and context) in metrics m, with
 * its bits per weight from models. */
int load_kl(const CsvTable *m, const CsvTable *models, KlData *k, Err *err);
void kl_free(KlData *k);

/* log_ratio per variant (and context) x keyword, the top keywords that moved most. */
int load_heat(const CsvTable *t, int top, Heat *h, Err *err);
void heat_free(Heat *h);

/* drift.csv's statistic stat (kl_mean, same_top1, ppl_ratio) with its interval stat_lo/stat_hi,
 * lang all, positions all, with drift_models.csv (bits_per_weight, method, calibration): the
 * variants on the base's vocabulary, the value in KlPoint.kl. */
int load_drift_kl(const CsvTable *drift, const CsvTable *models, const char *stat, KlData *k, Err *err);

/* cold_start_stp, cold_start_nlp, cold_start_indent: metrics.csv's stp or indent_mass (scope
 * all) or nlp (scope english), a bar per model (and context); the one series is named shown. */
int load_measure(const CsvTable *t, const char *metric, const char *shown, Bars *b, Err *err);
/* keyword_concentration: n80 .. n95 per model, each the mean over the model's languages (*langs:
 * the most languages one mean is over). Values are counts of keywords, not probabilities. */
int load_conc(const CsvTable *t, Bars *b, size_t *langs, Err *err);
/* The match column of coverage_summary.csv into match (see Loaded.match). */
void coverage_match(const CsvTable *t, char *match, size_t cap);

/* drift_kl_hist.csv: each variant's counts as fractions of its own total. */
int load_dist(const CsvTable *t, Dist *d, Err *err);
void dist_free(Dist *d);

/* drift.csv: mean KL at keyword positions over mean KL at other positions, per language and
 * variant; *zero counts the ratios left out because the mean at other positions is 0. */
int load_kw_ratio(const CsvTable *t, Bars *b, size_t *zero, Err *err);

#endif
