/* plot: see plot.h. Each figure has a loader (checked CSV table → a small struct) and a drawer
 * (struct → gnuplot script); plot_all loads everything, then draws. Names from the CSV files
 * only ever reach a script through gp_quote, and the data blocks hold numbers only, so no CSV
 * content can break or steer a script. Layout is computed here in pixels (text widths from the
 * font's advance widths), so that nothing depends on gnuplot's own guesses of text sizes. */
#include "plots/plot.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/csvtable.h"
#include "plots/gnuplot.h"

/* Longest name shown in a legend or on an axis; longer ones lose their middle. */
#define NAME_CHARS 36
/* Longest context shown after a model name ("model @ context"). */
#define CTX_CHARS 24

/* ---- names interned in order of first appearance ---- */

typedef struct {
    char **v;     /* keys */
    char **shown; /* [n] the text drawn for each key (already shortened) */
    size_t *tail; /* [n] bytes at the end of shown that a cut must keep (" @ context") */
    size_t n, cap;
    size_t *slot; /* open addressing: index + 1, 0 = empty; nslot a power of two */
    size_t nslot;
} Names;

static size_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return (size_t)h;
}

static long names_find(const Names *ns, const char *s) {
    if (!ns->nslot) return -1;
    for (size_t h = hash_str(s) & (ns->nslot - 1);; h = (h + 1) & (ns->nslot - 1)) {
        size_t k = ns->slot[h];
        if (!k) return -1;
        if (!strcmp(ns->v[k - 1], s)) return (long)(k - 1);
    }
}

static void names_place(Names *ns, size_t i) {
    size_t h = hash_str(ns->v[i]) & (ns->nslot - 1);
    while (ns->slot[h]) h = (h + 1) & (ns->nslot - 1);
    ns->slot[h] = i + 1;
}

/* Index of key, added when new with the text shown (NULL: the key shortened to NAME_CHARS), whose
 * last tail bytes are to be kept whole when it is cut to fit. */
static size_t names_add_tailed(Names *ns, const char *key, const char *shown, size_t tail) {
    long found = names_find(ns, key);
    if (found >= 0) return (size_t)found;
    if (2 * (ns->n + 1) > ns->nslot) {
        free(ns->slot);
        ns->nslot = ns->nslot ? 2 * ns->nslot : 64;
        ns->slot = xcalloc(ns->nslot, sizeof *ns->slot);
        for (size_t i = 0; i < ns->n; i++) names_place(ns, i);
    }
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? 2 * ns->cap : 16;
        ns->v = xrealloc(ns->v, ns->cap * sizeof *ns->v);
        ns->shown = xrealloc(ns->shown, ns->cap * sizeof *ns->shown);
        ns->tail = xrealloc(ns->tail, ns->cap * sizeof *ns->tail);
    }
    ns->v[ns->n] = xstrdup(key);
    if (shown) {
        ns->shown[ns->n] = xstrdup(shown);
    } else {
        Buf b = {0};
        gp_shorten(&b, key, NAME_CHARS);
        ns->shown[ns->n] = b.data ? b.data : xstrdup("");
    }
    ns->tail[ns->n] = tail;
    names_place(ns, ns->n);
    return ns->n++;
}

static size_t names_add_shown(Names *ns, const char *key, const char *shown) {
    return names_add_tailed(ns, key, shown, 0);
}

static size_t names_add(Names *ns, const char *key) { return names_add_shown(ns, key, NULL); }

static void names_free(Names *ns) {
    for (size_t i = 0; i < ns->n; i++) free(ns->v[i]), free(ns->shown[i]);
    free(ns->v);
    free(ns->shown);
    free(ns->tail);
    free(ns->slot);
    memset(ns, 0, sizeof *ns);
}

/* ---- (model, context) ---- */

/* metrics.csv and keywords.csv have a context column: one probe with several --context writes
 * rows that differ only in it. A model is then several series, "model @ context". Whether a file
 * needs that is decided once per file: when some model has rows with two contexts. */

/* An unambiguous key for (name, ctx): the length of name first. */
static void pair_key(Buf *key, const char *name, const char *ctx) {
    key->len = 0;
    buf_printf(key, "%zu:%s%s", strlen(name), name, ctx);
}

/* 1 when some value of column cm comes with two values of column cc (-1: no such column). */
static int several_contexts(const CsvTable *t, int cm, int cc) {
    if (cc < 0) return 0;
    Names models = {0}, pairs = {0};
    Buf key = {0};
    int several = 0;
    for (size_t r = 0; r < t->nrows && !several; r++) {
        pair_key(&key, csv_table_cell(t, r, cm), csv_table_cell(t, r, cc));
        names_add_shown(&models, csv_table_cell(t, r, cm), "");
        names_add_shown(&pairs, key.data, "");
        several = pairs.n > models.n;
    }
    buf_free(&key);
    names_free(&models);
    names_free(&pairs);
    return several;
}

/* Adds the series of name (in context ctx when several): key (name, ctx), shown "name @ ctx". */
static size_t add_series(Names *ns, const char *name, const char *ctx, int several) {
    if (!several) return names_add(ns, name);
    Buf key = {0}, shown = {0};
    pair_key(&key, name, ctx);
    gp_shorten(&shown, name, NAME_CHARS);
    size_t head = shown.len;
    buf_puts(&shown, " @ ");
    gp_shorten(&shown, ctx, CTX_CHARS);
    size_t i = names_add_tailed(ns, key.data, shown.data, shown.len - head);
    buf_free(&key);
    buf_free(&shown);
    return i;
}

/* How many models and contexts the series of a figure come from (when several contexts). */
typedef struct {
    Names models, contexts;
} Origins;

static void origins_note(Origins *o, const char *model, const char *ctx) {
    names_add_shown(&o->models, model, "");
    names_add_shown(&o->contexts, ctx, "");
}

/* ---- loaders ---- */

/* A bound on figure grids (groups x series, variants x keywords), far above anything readable,
 * so that a hostile file cannot ask for gigabytes. */
#define MAX_CELLS ((size_t)1 << 24)

/* Probabilities written with %.10g may exceed 1 by rounding; more than this is a wrong file. */
#define PROB_SLACK 1e-6

/* A value a figure can use: NAN when the cell is empty or not finite (counted in *dropped). */
static int read_value(const CsvTable *t, size_t r, int col, double *v, size_t *dropped, Err *err) {
    if (csv_table_number(t, r, col, v, err) < 0) return -1;
    if (!isfinite(*v)) {
        if (!isnan(*v) || *csv_table_cell(t, r, col)) ++*dropped;
        *v = NAN;
    }
    return 0;
}

typedef struct {
    Names groups, series; /* x groups (languages); bars in a group (models or tokenizers) */
    double *v;            /* [groups.n][series.n]; NAN = no value */
    size_t dropped;       /* non-finite values left out */
    int several;          /* series are (model, context) pairs */
    size_t nmodels, ncontexts;
} Bars;

static void bars_free(Bars *b) {
    names_free(&b->groups);
    names_free(&b->series);
    free(b->v);
}

/* Rows of t with metric == metric (when metric is not NULL; then scopes all/english are not
 * languages and are left out) become bars: group = group_col, series = series_col (with the
 * context, when the file has several), value = value_col, which must lie in [0, 1]. Each
 * (group, series) pair may appear once. */
static int load_bars(const CsvTable *t, const char *series_col, const char *group_col,
                     const char *value_col, const char *metric, Bars *b, Err *err) {
    memset(b, 0, sizeof *b);
    int cs = csv_table_col(t, series_col), cg = csv_table_col(t, group_col);
    int cv = csv_table_col(t, value_col), cm = metric ? csv_table_col(t, "metric") : -1;
    int cc = csv_table_col(t, "context");
    b->several = several_contexts(t, cs, cc);
    Origins orig = {0};
    size_t n = 0, *gi = xmalloc((t->nrows + 1) * sizeof *gi), *si = xmalloc((t->nrows + 1) * sizeof *si);
    size_t *row = xmalloc((t->nrows + 1) * sizeof *row);
    double *val = xmalloc((t->nrows + 1) * sizeof *val);
    int rc = -1;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *g = csv_table_cell(t, r, cg);
        if (metric && strcmp(csv_table_cell(t, r, cm), metric)) continue;
        if (metric && (!strcmp(g, "all") || !strcmp(g, "english"))) continue;
        if (!*g || !*csv_table_cell(t, r, cs)) {
            err_set(err, "%s: line %d: empty %s", t->path, t->line[r], *g ? series_col : group_col);
            goto out;
        }
        double v;
        if (read_value(t, r, cv, &v, &b->dropped, err) < 0) goto out;
        if (v < -PROB_SLACK || v > 1 + PROB_SLACK) {
            err_set(err, "%s: line %d: %s %g is outside [0, 1]", t->path, t->line[r],
                    metric ? metric : value_col, v);
            goto out;
        }
        gi[n] = names_add(&b->groups, g);
        si[n] = add_series(&b->series, csv_table_cell(t, r, cs), csv_table_cell(t, r, cc), b->several);
        if (b->several) origins_note(&orig, csv_table_cell(t, r, cs), csv_table_cell(t, r, cc));
        row[n] = r;
        val[n++] = v;
    }
    b->nmodels = orig.models.n, b->ncontexts = orig.contexts.n;
    size_t ng = b->groups.n, nser = b->series.n;
    if (ng && nser > MAX_CELLS / ng) {
        err_set(err, "%s: %zu %ss x %zu %ss: too many to draw", t->path, ng, group_col, nser, series_col);
        goto out;
    }
    b->v = xmalloc((ng * nser + 1) * sizeof *b->v);
    long *first = xmalloc((ng * nser + 1) * sizeof *first);
    for (size_t i = 0; i < ng * nser; i++) b->v[i] = NAN, first[i] = -1;
    for (size_t i = 0; i < n; i++) {
        size_t k = gi[i] * nser + si[i];
        if (first[k] >= 0) {
            char sn[80], gn[80], cn[80];
            err_set(err, "%s: line %d: a second row for %s '%s'%s%s%s, %s '%s'%s%s (the first is on line %d)",
                    t->path, t->line[row[i]], series_col, csv_visible(csv_table_cell(t, row[i], cs), sn, sizeof sn),
                    b->several ? ", context '" : "", b->several ? csv_visible(csv_table_cell(t, row[i], cc), cn, sizeof cn) : "",
                    b->several ? "'" : "", group_col, csv_visible(b->groups.v[gi[i]], gn, sizeof gn),
                    metric ? ", metric " : "", metric ? metric : "", t->line[first[k]]);
            free(first);
            goto out;
        }
        first[k] = (long)row[i];
        b->v[k] = val[i];
    }
    free(first);
    rc = 0;
out:
    names_free(&orig.models), names_free(&orig.contexts);
    free(gi), free(si), free(row), free(val);
    if (rc < 0) bars_free(b);
    return rc;
}

typedef struct {
    char *model;   /* the label next to the point: the model name */
    size_t family;
    double bits, kl;
} KlPoint;

typedef struct {
    Names families; /* the base model of each family (with the context, when several) */
    KlPoint *p;
    size_t n;
    size_t no_bits;  /* variants left out: no bits_per_weight in models.csv */
    size_t dropped;  /* non-finite KL values left out */
    int several;     /* families are (base, context) pairs */
    size_t nmodels, ncontexts;
} KlData;

static void kl_free(KlData *k) {
    for (size_t i = 0; i < k->n; i++) free(k->p[i].model);
    free(k->p);
    names_free(&k->families);
}

static int by_family_bits(const void *a, const void *b) {
    const KlPoint *x = a, *y = b;
    if (x->family != y->family) return x->family < y->family ? -1 : 1;
    return (x->bits > y->bits) - (x->bits < y->bits);
}

/* bits_per_weight and base of each model in models.csv. The file has one row per model and
 * context: the rows of one model must agree on its bits. */
typedef struct {
    Names names;
    double *bits;
    const char **base;
} ModelInfo;

static void info_free(ModelInfo *mi) {
    names_free(&mi->names);
    free(mi->bits);
    free(mi->base);
}

static int load_models(const CsvTable *models, ModelInfo *mi, Err *err) {
    memset(mi, 0, sizeof *mi);
    mi->bits = xmalloc((models->nrows + 1) * sizeof *mi->bits);
    mi->base = xmalloc((models->nrows + 1) * sizeof *mi->base);
    int *line = xmalloc((models->nrows + 1) * sizeof *line);
    int mm = csv_table_col(models, "model"), mb = csv_table_col(models, "bits_per_weight");
    int mba = csv_table_col(models, "base"), mc = csv_table_col(models, "context");
    Names pairs = {0};
    Buf key = {0};
    int rc = -1;
    for (size_t r = 0; r < models->nrows; r++) {
        const char *name = csv_table_cell(models, r, mm), *ctx = csv_table_cell(models, r, mc);
        char shown[80], shown_ctx[80];
        pair_key(&key, name, ctx);
        if (names_find(&pairs, key.data) >= 0) {
            if (mc >= 0)
                err_set(err, "%s: line %d: model '%s', context '%s' is listed twice", models->path, models->line[r],
                        csv_visible(name, shown, sizeof shown), csv_visible(ctx, shown_ctx, sizeof shown_ctx));
            else
                err_set(err, "%s: line %d: model '%s' is listed twice", models->path, models->line[r],
                        csv_visible(name, shown, sizeof shown));
            goto out;
        }
        names_add_shown(&pairs, key.data, "");
        double bits;
        size_t ignored = 0;
        if (read_value(models, r, mb, &bits, &ignored, err) < 0) goto out;
        if (bits <= 0) {
            err_set(err, "%s: line %d: bits_per_weight %g is not positive", models->path, models->line[r], bits);
            goto out;
        }
        long known = names_find(&mi->names, name);
        if (known >= 0) {
            double had = mi->bits[known];
            if (!(isnan(had) && isnan(bits)) && had != bits) {
                err_set(err, "%s: line %d: model '%s' has bits_per_weight %g here and %g on line %d", models->path,
                        models->line[r], csv_visible(name, shown, sizeof shown), bits, had, line[known]);
                goto out;
            }
            continue;
        }
        size_t i = names_add_shown(&mi->names, name, "");
        mi->bits[i] = bits;
        mi->base[i] = csv_table_cell(models, r, mba);
        line[i] = models->line[r];
    }
    rc = 0;
out:
    free(line);
    buf_free(&key);
    names_free(&pairs);
    if (rc < 0) info_free(mi);
    return rc;
}

/* kl_pq over the whole distribution (scope all) of each variant (and context), with its bits per
 * weight from models.csv; the family is the variant's base (metrics.csv, else models.csv), and
 * its context when the file has several. */
static int load_kl(const CsvTable *m, const CsvTable *models, KlData *k, Err *err) {
    memset(k, 0, sizeof *k);
    ModelInfo mi;
    if (load_models(models, &mi, err) < 0) return -1;
    int cm = csv_table_col(m, "model"), cb = csv_table_col(m, "base"), cs = csv_table_col(m, "scope");
    int cmet = csv_table_col(m, "metric"), cv = csv_table_col(m, "value"), cc = csv_table_col(m, "context");
    k->several = several_contexts(m, cm, cc);
    Names seen = {0};
    Origins orig = {0};
    Buf key = {0};
    int rc = -1;
    k->p = xmalloc((m->nrows + 1) * sizeof *k->p);
    for (size_t r = 0; r < m->nrows; r++) {
        if (strcmp(csv_table_cell(m, r, cmet), "kl_pq") || strcmp(csv_table_cell(m, r, cs), "all")) continue;
        const char *model = csv_table_cell(m, r, cm), *ctx = csv_table_cell(m, r, cc);
        pair_key(&key, model, k->several ? ctx : "");
        if (names_find(&seen, key.data) >= 0) {
            char shown[80], shown_ctx[80];
            err_set(err, "%s: line %d: a second kl_pq row for model '%s'%s%s%s, scope all", m->path, m->line[r],
                    csv_visible(model, shown, sizeof shown), k->several ? ", context '" : "",
                    k->several ? csv_visible(ctx, shown_ctx, sizeof shown_ctx) : "", k->several ? "'" : "");
            goto out;
        }
        names_add_shown(&seen, key.data, "");
        double v;
        if (read_value(m, r, cv, &v, &k->dropped, err) < 0) goto out;
        if (v < -1e-9) {
            err_set(err, "%s: line %d: kl_pq %g is negative", m->path, m->line[r], v);
            goto out;
        }
        long i = names_find(&mi.names, model);
        const char *base = csv_table_cell(m, r, cb);
        if (!*base && i >= 0) base = mi.base[i];
        if (!*base) {
            char shown[80];
            err_set(err, "%s: line %d: kl_pq row for model '%s' names no base", m->path, m->line[r],
                    csv_visible(model, shown, sizeof shown));
            goto out;
        }
        if (isnan(v)) continue;
        if (i < 0 || isnan(mi.bits[i])) {
            k->no_bits++;
            continue;
        }
        if (k->several) origins_note(&orig, model, ctx);
        k->p[k->n++] = (KlPoint){xstrdup(model), add_series(&k->families, base, ctx, k->several), mi.bits[i],
                                 v < 0 ? 0 : v};
    }
    k->nmodels = orig.models.n, k->ncontexts = orig.contexts.n;
    qsort(k->p, k->n, sizeof *k->p, by_family_bits);
    rc = 0;
out:
    buf_free(&key);
    names_free(&seen);
    names_free(&orig.models), names_free(&orig.contexts);
    info_free(&mi);
    if (rc < 0) kl_free(k);
    return rc;
}

typedef struct {
    Names kw, variants; /* the keywords shown (most moved first); the variants */
    double *v;          /* [variants.n][kw.n] log ratios; NAN = no value */
    size_t total_kw;    /* keywords with a log ratio, before keeping the top N */
    size_t dropped;     /* non-finite log ratios left out */
    int several;        /* variants are (model, context) pairs */
    size_t nmodels, ncontexts;
} Heat;

static void heat_free(Heat *h) {
    names_free(&h->kw);
    names_free(&h->variants);
    free(h->v);
}

typedef struct {
    double score;
    size_t idx;
} Ranked;

static int by_score(const void *a, const void *b) {
    const Ranked *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* log_ratio per variant (and context) x keyword. A keyword in several languages is one column:
 * its probability does not depend on the language, so the first row for it is used. */
static int load_heat(const CsvTable *t, int top, Heat *h, Err *err) {
    memset(h, 0, sizeof *h);
    int cm = csv_table_col(t, "model"), ck = csv_table_col(t, "keyword"), cl = csv_table_col(t, "log_ratio");
    int cc = csv_table_col(t, "context");
    h->several = several_contexts(t, cm, cc);
    Names all = {0};
    Origins orig = {0};
    size_t n = 0, *vi = xmalloc((t->nrows + 1) * sizeof *vi), *ki = xmalloc((t->nrows + 1) * sizeof *ki);
    double *val = xmalloc((t->nrows + 1) * sizeof *val);
    int rc = -1;
    for (size_t r = 0; r < t->nrows; r++) {
        if (!*csv_table_cell(t, r, cl)) continue; /* a base model */
        const char *kw = csv_table_cell(t, r, ck);
        if (!*kw) {
            err_set(err, "%s: line %d: empty keyword", t->path, t->line[r]);
            goto out;
        }
        double v;
        if (read_value(t, r, cl, &v, &h->dropped, err) < 0) goto out;
        vi[n] = add_series(&h->variants, csv_table_cell(t, r, cm), csv_table_cell(t, r, cc), h->several);
        if (h->several) origins_note(&orig, csv_table_cell(t, r, cm), csv_table_cell(t, r, cc));
        ki[n] = names_add_shown(&all, kw, "");
        val[n++] = v;
    }
    h->nmodels = orig.models.n, h->ncontexts = orig.contexts.n;
    size_t nv = h->variants.n, nk = all.n;
    if (nv && nk > MAX_CELLS / nv) {
        err_set(err, "%s: %zu variants x %zu keywords: too many to draw", t->path, nv, nk);
        goto out;
    }
    double *full = xmalloc((nv * nk + 1) * sizeof *full);
    char *set = xcalloc(nv * nk + 1, 1);
    for (size_t i = 0; i < nv * nk; i++) full[i] = NAN;
    for (size_t i = 0; i < n; i++) {
        size_t c = vi[i] * nk + ki[i];
        if (!set[c]) full[c] = val[i], set[c] = 1;
    }
    Ranked *rank = xmalloc((nk + 1) * sizeof *rank);
    for (size_t k = 0; k < nk; k++) {
        rank[k] = (Ranked){-1, k};
        for (size_t v = 0; v < nv; v++)
            if (!isnan(full[v * nk + k]) && fabs(full[v * nk + k]) > rank[k].score) rank[k].score = fabs(full[v * nk + k]);
    }
    qsort(rank, nk, sizeof *rank, by_score);
    size_t keep = nk < (size_t)top ? nk : (size_t)top;
    for (size_t k = 0; k < keep; k++) names_add(&h->kw, all.v[rank[k].idx]);
    h->v = xmalloc((nv * keep + 1) * sizeof *h->v);
    for (size_t v = 0; v < nv; v++)
        for (size_t k = 0; k < keep; k++) h->v[v * keep + k] = full[v * nk + rank[k].idx];
    h->total_kw = nk;
    free(full), free(set), free(rank);
    rc = 0;
out:
    names_free(&all);
    names_free(&orig.models), names_free(&orig.contexts);
    free(vi), free(ki), free(val);
    if (rc < 0) heat_free(h);
    return rc;
}

/* ---- drift (coldtok drift): drift_kl_hist.csv and drift.csv ---- */

/* A cell that must hold a finite number. */
static int read_finite(const CsvTable *t, size_t r, int col, double *v, Err *err) {
    if (csv_table_number(t, r, col, v, err) < 0) return -1;
    if (isfinite(*v)) return 0;
    char shown[80];
    const char *cell = csv_table_cell(t, r, col);
    if (!*cell) return err_set(err, "%s: line %d: empty %s", t->path, t->line[r], t->header[col]);
    return err_set(err, "%s: line %d: %s '%s' is not a finite number", t->path, t->line[r], t->header[col],
                   csv_visible(cell, shown, sizeof shown));
}

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

static void dist_free(Dist *d) {
    names_free(&d->variants);
    free(d->b);
}

static int by_variant_lo(const void *a, const void *b) {
    const Bin *x = a, *y = b;
    if (x->var != y->var) return x->var < y->var ? -1 : 1;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* drift_kl_hist.csv: one row per variant and bin; each variant's counts become fractions of its
 * own total, so that variants scored on different numbers of positions compare. */
static int load_dist(const CsvTable *t, Dist *d, Err *err) {
    memset(d, 0, sizeof *d);
    int cv = csv_table_col(t, "variant"), clo = csv_table_col(t, "log10_kl_lo");
    int chi = csv_table_col(t, "log10_kl_hi"), cc = csv_table_col(t, "count");
    Names all = {0}, seen = {0};
    Buf key = {0};
    Bin *b = xmalloc((t->nrows + 1) * sizeof *b);
    int *seen_line = xmalloc((t->nrows + 1) * sizeof *seen_line);
    double *total = NULL;
    size_t *keep = NULL, *bins = NULL;
    int rc = -1;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *v = csv_table_cell(t, r, cv);
        char shown[80];
        if (!*v) {
            err_set(err, "%s: line %d: empty variant", t->path, t->line[r]);
            goto out;
        }
        double lo, hi, count;
        if (read_finite(t, r, clo, &lo, err) < 0 || read_finite(t, r, chi, &hi, err) < 0 ||
            read_finite(t, r, cc, &count, err) < 0)
            goto out;
        if (!(lo < hi)) {
            err_set(err, "%s: line %d: a bin from %g to %g (log10_kl_lo must be below log10_kl_hi)", t->path,
                    t->line[r], lo, hi);
            goto out;
        }
        if (count < 0) {
            err_set(err, "%s: line %d: count %g is negative", t->path, t->line[r], count);
            goto out;
        }
        key.len = 0;
        buf_printf(&key, "%zu:%s%.17g", strlen(v), v, lo);
        long first = names_find(&seen, key.data);
        if (first >= 0) {
            err_set(err, "%s: line %d: a second row for variant '%s', log10_kl_lo %g (the first is on line %d)",
                    t->path, t->line[r], csv_visible(v, shown, sizeof shown), lo, seen_line[first]);
            goto out;
        }
        seen_line[names_add_shown(&seen, key.data, "")] = t->line[r];
        b[d->n++] = (Bin){names_add(&all, v), lo, hi, count};
    }
    total = xcalloc(all.n + 1, sizeof *total);
    keep = xmalloc((all.n + 1) * sizeof *keep);
    for (size_t i = 0; i < d->n; i++) total[b[i].var] += b[i].frac;
    for (size_t v = 0; v < all.n; v++) {
        if (total[v] > 0) keep[v] = names_add_shown(&d->variants, all.v[v], all.shown[v]);
        else keep[v] = SIZE_MAX, d->empty++;
    }
    bins = xcalloc(d->variants.n + 1, sizeof *bins);
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (keep[b[i].var] == SIZE_MAX) continue;
        b[n] = b[i];
        b[n].frac /= total[b[i].var];
        b[n].var = keep[b[i].var];
        if (++bins[b[n].var] > d->most) d->most = bins[b[n].var];
        n++;
    }
    d->n = n;
    qsort(b, n, sizeof *b, by_variant_lo);
    d->b = b, b = NULL;
    rc = 0;
out:
    names_free(&all), names_free(&seen);
    buf_free(&key);
    free(b), free(seen_line), free(total), free(keep), free(bins);
    if (rc < 0) dist_free(d);
    return rc;
}

/* drift.csv: mean KL at keyword positions over mean KL at other positions, per language (not
 * "all") and variant. A language is a group when some variant has both; a variant is a series
 * when it has either in one of those languages. *zero counts ratios left out because the mean at
 * other positions is 0. Any second row for one (variant, lang, positions, statistic) is an error. */
static int load_kw_ratio(const CsvTable *t, Bars *b, size_t *zero, Err *err) {
    memset(b, 0, sizeof *b);
    *zero = 0;
    int cv = csv_table_col(t, "variant"), cl = csv_table_col(t, "lang"), cp = csv_table_col(t, "positions");
    int cs = csv_table_col(t, "statistic"), cval = csv_table_col(t, "value");
    Names seen = {0}, pairs = {0}, vars = {0}, langs = {0};
    Buf key = {0};
    int *seen_line = xmalloc((t->nrows + 1) * sizeof *seen_line);
    size_t *pv = xmalloc((t->nrows + 1) * sizeof *pv), *pl = xmalloc((t->nrows + 1) * sizeof *pl);
    double *kw = xmalloc((t->nrows + 1) * sizeof *kw), *other = xmalloc((t->nrows + 1) * sizeof *other);
    size_t *gi = NULL, *si = NULL;
    int rc = -1;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *v = csv_table_cell(t, r, cv), *l = csv_table_cell(t, r, cl);
        const char *pos = csv_table_cell(t, r, cp), *stat = csv_table_cell(t, r, cs);
        char sv[80], sl[80], sp[80], ss[80];
        if (!*v || !*l) {
            err_set(err, "%s: line %d: empty %s", t->path, t->line[r], *v ? "lang" : "variant");
            goto out;
        }
        key.len = 0;
        buf_printf(&key, "%zu:%s%zu:%s%zu:%s%s", strlen(v), v, strlen(l), l, strlen(pos), pos, stat);
        long first = names_find(&seen, key.data);
        if (first >= 0) {
            err_set(err, "%s: line %d: a second row for variant '%s', lang '%s', positions '%s', statistic '%s' "
                         "(the first is on line %d)", t->path, t->line[r], csv_visible(v, sv, sizeof sv),
                    csv_visible(l, sl, sizeof sl), csv_visible(pos, sp, sizeof sp), csv_visible(stat, ss, sizeof ss),
                    seen_line[first]);
            goto out;
        }
        seen_line[names_add_shown(&seen, key.data, "")] = t->line[r];
        int is_kw = !strcmp(pos, "keyword");
        if (strcmp(stat, "kl_mean") || !strcmp(l, "all") || (!is_kw && strcmp(pos, "other"))) continue;
        double x;
        if (read_value(t, r, cval, &x, &b->dropped, err) < 0) goto out;
        if (x < -1e-9) {
            err_set(err, "%s: line %d: kl_mean %g is negative", t->path, t->line[r], x);
            goto out;
        }
        pair_key(&key, v, l);
        size_t n0 = pairs.n, p = names_add_shown(&pairs, key.data, "");
        if (p == n0) pv[p] = names_add(&vars, v), pl[p] = names_add(&langs, l), kw[p] = other[p] = NAN;
        (is_kw ? kw : other)[p] = x < 0 ? 0 : x;
    }
    /* the ratio of each pair; the languages that have one */
    char *has = xcalloc(langs.n + 1, 1);
    for (size_t p = 0; p < pairs.n; p++) {
        double ratio = NAN;
        if (!isnan(kw[p]) && !isnan(other[p])) {
            if (other[p] > 0) ratio = kw[p] / other[p];
            else ++*zero;
        }
        kw[p] = ratio;
        if (!isnan(ratio)) has[pl[p]] = 1;
    }
    gi = xmalloc((langs.n + 1) * sizeof *gi);
    si = xmalloc((vars.n + 1) * sizeof *si);
    for (size_t g = 0; g < langs.n; g++) gi[g] = has[g] ? names_add_shown(&b->groups, langs.v[g], langs.shown[g]) : SIZE_MAX;
    char *used = xcalloc(vars.n + 1, 1);
    for (size_t p = 0; p < pairs.n; p++) used[pv[p]] |= gi[pl[p]] != SIZE_MAX;
    for (size_t v = 0; v < vars.n; v++) si[v] = used[v] ? names_add_shown(&b->series, vars.v[v], vars.shown[v]) : SIZE_MAX;
    free(has), free(used);
    size_t ng = b->groups.n, ns = b->series.n;
    if (ng && ns > MAX_CELLS / ng) {
        err_set(err, "%s: %zu languages x %zu variants: too many to draw", t->path, ng, ns);
        goto out;
    }
    b->v = xmalloc((ng * ns + 1) * sizeof *b->v);
    for (size_t i = 0; i < ng * ns; i++) b->v[i] = NAN;
    for (size_t p = 0; p < pairs.n; p++)
        if (gi[pl[p]] != SIZE_MAX) b->v[gi[pl[p]] * ns + si[pv[p]]] = kw[p];
    rc = 0;
out:
    names_free(&seen), names_free(&pairs), names_free(&vars), names_free(&langs);
    buf_free(&key);
    free(seen_line), free(pv), free(pl), free(kw), free(other), free(gi), free(si);
    if (rc < 0) bars_free(b);
    return rc;
}

/* ---- drawing: text measured in pixels ---- */

typedef struct {
    PlotFormat format;
    const char *name; /* gnuplot terminal */
    int width, height; /* pixels */
    double font;       /* the base font size as written into the script, in the terminal's points */
    double em;         /* that font's em, in pixels */
} Term;

static const char *const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define NCOLOURS (sizeof colours / sizeof *colours)

/* Text is measured from the font's advance widths; this covers hinting, which rounds each
 * advance to whole pixels in pngcairo (measured: 20 'm' are 340 px where 337.7 are expected). */
#define TEXT_SLACK 1.04
/* The height of a line of text (DejaVu Sans ascent + descent is 1.164 em). */
#define LINE_EM 1.25

/* Width in pixels of the text gp_quote(s, max_chars) shows, at scale times the base font. */
static double text_px(const Term *tm, const char *s, size_t max_chars, double scale) {
    return gp_text_em(s, max_chars) * tm->em * scale * TEXT_SLACK;
}

static void script_head(Buf *s, const Term *tm, const char *out) {
    buf_puts(s, "set encoding utf8\n");
    switch (tm->format) {
    case PLOT_PNG:
        buf_printf(s, "set terminal %s size %d,%d font 'DejaVu Sans,%g' noenhanced background rgb 'white'\n",
                   tm->name, tm->width, tm->height, tm->font);
        break;
    case PLOT_SVG:
        buf_printf(s, "set terminal svg size %d,%d fixed font 'DejaVu Sans,%g' noenhanced background rgb 'white'\n",
                   tm->width, tm->height, tm->font);
        break;
    case PLOT_PDF:
        buf_printf(s, "set terminal pdfcairo size %gin,%gin font 'DejaVu Sans,%g' fontscale 0.71 linewidth 1 noenhanced\n",
                   tm->width / 100.0, tm->height / 100.0, tm->font);
        break;
    }
    buf_puts(s, "set output ");
    gp_quote(s, out, 0);
    buf_puts(s, "\nset border 3 lc rgb '#444444'\nset tics nomirror\nunset key\n");
}

/* A label (text already quoted by the caller follows "set label ") at pixel (x, y), y up, its
 * middle at y; align is left, center or right. */
static void put_label_at(Buf *s, const Term *tm, double x, double y, const char *align, double scale,
                         int rotate, const char *colour) {
    buf_printf(s, " at screen %.5f, screen %.5f %s", x / tm->width, y / tm->height, align);
    if (rotate) buf_puts(s, " rotate by 90");
    buf_printf(s, " font ',%.2f'", tm->font * scale);
    if (colour) buf_printf(s, " tc rgb '%s'", colour);
    buf_puts(s, " front\n");
}

static void put_text(Buf *s, const Term *tm, const char *text, size_t max_chars, double x, double y,
                     const char *align, double scale, int rotate, const char *colour) {
    buf_puts(s, "set label ");
    gp_quote(s, text, max_chars);
    put_label_at(s, tm, x, y, align, scale, rotate, colour);
}

/* The figure's title at the top of the canvas, in a font small enough to fit its width. Returns
 * the y (pixels, up) under which the rest may start. */
static double put_title(Buf *s, const Term *tm, const char *title) {
    double scale = fmin(1.1, (tm->width - 1.5 * tm->em) / (text_px(tm, title, 0, 1) + 1e-9));
    double y = tm->height - 1.25 * tm->em;
    put_text(s, tm, title, 0, tm->width / 2.0, y, "center", fmax(0.3, scale), 0, NULL);
    return y - 0.5 * LINE_EM * 1.1 * tm->em - 0.6 * tm->em;
}

/* The plot area, in pixels from the bottom-left corner of the canvas. */
typedef struct {
    double L, R, B, T;
} Area;

/* On a canvas too small for its text, the plot keeps at least 20% of the width and 15% of the
 * height (the text then overlaps it, but no size turns negative). */
static void keep_area(const Term *tm, Area *a) {
    double minw = 0.2 * tm->width, minh = 0.15 * tm->height;
    if (a->R - a->L < minw) a->L = fmax(1, a->R - minw), a->R = fmin(tm->width - 1, a->L + minw);
    if (a->T - a->B < minh) a->B = fmax(1, a->T - minh), a->T = fmin(tm->height - 1, a->B + minh);
}

static void set_area(Buf *s, const Term *tm, Area a) {
    buf_printf(s, "set lmargin at screen %.5f\nset rmargin at screen %.5f\n", a.L / tm->width, a.R / tm->width);
    buf_printf(s, "set bmargin at screen %.5f\nset tmargin at screen %.5f\n", a.B / tm->height, a.T / tm->height);
}

/* text as drawn in at most room pixels at scale (room 0: no limit), written into out: when it is
 * too wide, its middle (before its last tail bytes, which stay whole while they can) gives way to
 * "…", keeping at least 6 code points. */
static const char *fit_text(const Term *tm, const char *text, size_t tail, double scale, double room, Buf *out) {
    out->len = 0;
    buf_puts(out, text);
    if (room <= 0 || text_px(tm, text, 0, scale) <= room) return out->data;
    size_t len = strlen(text);
    if (tail > len) tail = len;
    char *head = xstrdup(text);
    head[len - tail] = '\0';
    for (size_t keep = gp_text_width(head, 0); tail && keep-- > 6;) { /* the head alone gives way */
        out->len = 0;
        gp_shorten(out, head, keep);
        buf_puts(out, text + len - tail);
        if (text_px(tm, out->data, 0, scale) <= room) break;
    }
    free(head);
    if (text_px(tm, out->data, 0, scale) > room) { /* the whole text gives way */
        size_t keep = gp_text_width(text, 0);
        do {
            out->len = 0;
            gp_shorten(out, text, --keep);
        } while (keep > 6 && text_px(tm, out->data, 0, scale) > room);
    }
    return out->data;
}

/* Name i of ns as fit_text draws it. */
static const char *fit_name(const Term *tm, const Names *ns, size_t i, double scale, double room, Buf *out) {
    return fit_text(tm, ns->shown[i], ns->tail[i], scale, room, out);
}

/* ---- legends, drawn here rather than by gnuplot, whose text widths are guesses ---- */

typedef enum { SAMPLE_BOX, SAMPLE_LINE, SAMPLE_CROSS } SampleKind;

typedef struct {
    const char *text; /* shown as is (already shortened) */
    size_t tail;      /* bytes at its end kept whole when it is cut */
    SampleKind kind;
    const char *colour;
    int pattern;      /* SAMPLE_BOX: 0 solid, else a gnuplot fill pattern */
    int pt;           /* SAMPLE_LINE: the point type */
} Entry;

static double sample_em(SampleKind k) { return k == SAMPLE_LINE ? 2.6 : 1.6; }

static double entry_px(const Term *tm, const Entry *e, double room, double scale, Buf *t) {
    return (sample_em(e->kind) + 0.5) * tm->em * scale + text_px(tm, fit_text(tm, e->text, e->tail, scale, room, t), 0, scale);
}

/* A legend's layout: entries row by row in cols columns, each column as wide as its widest
 * entry, at scale times the base font, names cut to room pixels (0: as they are). */
typedef struct {
    double scale, room;
    size_t cols, rows;
    double *colw; /* [cols] pixels, spacing not included */
    double width, height;
} LegendFit;

/* The most columns that fit in avail pixels at this scale and cut; fills f. */
static void legend_grid(const Term *tm, const Entry *e, size_t n, int titled, double avail, double scale,
                        double room, LegendFit *f) {
    double spacing = 1.5 * tm->em * scale, narrowest = INFINITY;
    double *w = xmalloc((n + 1) * sizeof *w);
    Buf t = {0};
    for (size_t i = 0; i < n; i++) w[i] = entry_px(tm, &e[i], room, scale, &t), narrowest = fmin(narrowest, w[i]);
    buf_free(&t);
    size_t most = (size_t)fmax(1, fmin((double)n, floor((avail + spacing) / (narrowest + spacing))));
    f->scale = scale, f->room = room;
    f->colw = xrealloc(f->colw, (most + 1) * sizeof *f->colw);
    for (size_t cols = most; cols >= 1; cols--) {
        size_t rows = (n + cols - 1) / cols, used = (n + rows - 1) / rows; /* 3 + 2 rather than 4 + 1 */
        double total = -spacing;
        for (size_t j = 0; j < used; j++) f->colw[j] = 0;
        for (size_t i = 0; i < n; i++) f->colw[i % used] = fmax(f->colw[i % used], w[i]);
        for (size_t j = 0; j < used; j++) total += f->colw[j] + spacing;
        f->cols = used, f->rows = rows, f->width = total;
        if (total <= avail) break;
    }
    f->height = (double)(f->rows + (size_t)titled) * 1.3 * tm->em * scale;
    free(w);
}

/* A legend at most max_h pixels high when possible: smaller fonts first, then shorter names. */
static void legend_fit(const Term *tm, const Entry *e, size_t n, int titled, double max_h, LegendFit *f) {
    static const double scales[] = {1, 0.9, 0.8, 0.7};
    static const double cuts[] = {0.4, 0.3, 0.22}; /* of the width */
    double avail = tm->width - 2 * tm->em;
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < sizeof scales / sizeof *scales; i++) {
        legend_grid(tm, e, n, titled, avail, scales[i], 0, f);
        if (f->height <= max_h && f->width <= avail) return;
    }
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        legend_grid(tm, e, n, titled, avail, 0.7, cuts[i] * avail, f);
        if (f->height <= max_h && f->width <= avail) return;
    }
}

/* The entries in rows under a title line, centred, from y = top down (see LegendFit), taking at
 * most max_h pixels when they can. Returns the y of the legend's bottom. */
static double put_legend(Buf *s, const Term *tm, double top, double max_h, const char *title, const Entry *e,
                         size_t n) {
    if (n == 0) return top;
    LegendFit f;
    legend_fit(tm, e, n, title != NULL, max_h, &f);
    double em = tm->em * f.scale, spacing = 1.5 * em, row_h = 1.3 * em;
    double y = top - 0.5 * row_h;
    if (title) {
        put_text(s, tm, title, 0, tm->width / 2.0, y, "center", f.scale, 0, NULL);
        y -= row_h;
    }
    double x = (tm->width - f.width) / 2;
    Buf t = {0};
    for (size_t i = 0; i < n; i++) {
        size_t col = i % f.cols;
        if (col == 0 && i > 0) y -= row_h, x = (tm->width - f.width) / 2;
        double sw = sample_em(e[i].kind) * em, h = 0.8 * em;
        switch (e[i].kind) {
        case SAMPLE_BOX:
            buf_printf(s, "set object rectangle from screen %.5f, screen %.5f to screen %.5f, screen %.5f front "
                          "fillcolor rgb '%s' ",
                       x / tm->width, (y - h / 2) / tm->height, (x + sw) / tm->width, (y + h / 2) / tm->height,
                       e[i].colour);
            if (e[i].pattern) buf_printf(s, "fillstyle pattern %d border lc rgb '#333333'\n", e[i].pattern);
            else buf_puts(s, "fillstyle solid 0.9 border lc rgb '#333333'\n");
            break;
        case SAMPLE_LINE:
            buf_printf(s, "set arrow from screen %.5f, screen %.5f to screen %.5f, screen %.5f nohead lw 2 lc rgb '%s' front\n",
                       x / tm->width, y / tm->height, (x + sw) / tm->width, y / tm->height, e[i].colour);
            buf_printf(s, "set label '' at screen %.5f, screen %.5f point pt %d ps %.2f lc rgb '%s' front\n",
                       (x + sw / 2) / tm->width, y / tm->height, e[i].pt, 1.4 * f.scale, e[i].colour);
            break;
        case SAMPLE_CROSS:
            buf_printf(s, "set label '' at screen %.5f, screen %.5f point pt 2 ps %.2f lw 2 lc rgb '%s' front\n",
                       (x + sw / 2) / tm->width, y / tm->height, 1.2 * f.scale, e[i].colour);
            break;
        }
        put_text(s, tm, fit_text(tm, e[i].text, e[i].tail, f.scale, f.room, &t), 0, x + sw + 0.5 * em, y, "left",
                 f.scale, 0, NULL);
        x += f.colw[col] + spacing;
    }
    buf_free(&t);
    free(f.colw);
    return top - f.height;
}

/* ---- axes ---- */

/* A step of 1, 2 or 5 times a power of ten giving about n intervals over span. */
static double nice_step(double span, double n) {
    double raw = span / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/* A nice step for about n intervals over span, fewer when the axis is short (axis_px pixels):
 * tick labels at least 2.2 ems apart. */
static double step_for(double span, double n, double axis_px, double em) {
    return nice_step(span, fmin(n, fmax(1, floor(axis_px / (2.2 * em)))));
}

/* The widest of the tick labels printf(fmt) writes for lo, lo + step, ... up to hi. */
static double ticks_px(const Term *tm, const char *fmt, double lo, double hi, double step) {
    double w = 0;
    for (double k = 0; lo + k * step <= hi * (1 + 1e-9) + 1e-300 && k < 1000; k++) {
        char t[64];
        snprintf(t, sizeof t, fmt, lo + k * step);
        w = fmax(w, text_px(tm, t, 0, 1));
    }
    return w;
}

/* How the names under the x axis are written: level when the widest fits its slot, else rotated
 * by 45 degrees when lines that far apart do not collide, else upright (90 degrees) in a font
 * small enough for one line per slot, naming only every step-th slot when even the smallest
 * readable font is too tall. Names that would take more than max_ext pixels of height are
 * shortened further. */
typedef struct {
    double angle, scale;
    size_t step;
    double room; /* the most pixels a name may take (0: no limit); longer ones are cut */
    double ext;  /* pixels the labels take under the axis, gap included */
    double left; /* pixels the first labels reach left of the plot (45 degrees), beyond slot 0 */
} XLabels;

/* The widest of names 0, step, 2 step, ... (those drawn), each fit to room, at scale. */
static double widest_drawn(const Term *tm, const Names *ns, size_t step, double scale, double room) {
    double w = 0;
    Buf t = {0};
    for (size_t i = 0; i < ns->n; i += step) w = fmax(w, text_px(tm, fit_name(tm, ns, i, scale, room, &t), 0, scale));
    buf_free(&t);
    return w;
}

static XLabels fit_xlabels(const Term *tm, const Names *ns, double slot, double max_ext) {
    XLabels x = {.angle = 0, .scale = 1, .step = 1};
    slot = fmax(slot, 1);
    double lh = LINE_EM * tm->em, gap = 0.6 * tm->em;
    if (widest_drawn(tm, ns, 1, 1, 0) + tm->em > slot) {
        if (slot >= 1.5 * lh) x.angle = 45;
        else x.angle = 90, x.scale = fmax(0.6, fmin(1, slot / (1.1 * lh)));
        if (slot < 1.1 * lh * x.scale) x.step = (size_t)ceil(1.1 * lh * x.scale / slot);
    }
    double sn = sin(x.angle * M_PI / 180), cs = cos(x.angle * M_PI / 180), h = lh * x.scale;
    if (x.angle > 0) x.room = (max_ext - gap - h * cs) / sn;
    double widest = widest_drawn(tm, ns, x.step, x.scale, x.room);
    x.ext = x.angle == 0 ? gap + h : gap + widest * sn + h * cs;
    Buf t = {0};
    for (size_t i = 0; x.angle == 45 && i < ns->n; i += x.step) /* label i ends at its tick, slot i */
        x.left = fmax(x.left, text_px(tm, fit_name(tm, ns, i, x.scale, x.room, &t), 0, x.scale) * cs + h * sn -
                                  ((double)i + 0.5) * slot);
    buf_free(&t);
    return x;
}

static void put_xlabels(Buf *s, const Term *tm, const Names *ns, const XLabels *x) {
    Buf t = {0};
    buf_puts(s, "set xtics (");
    for (size_t i = 0, first = 1; i < ns->n; i += x->step, first = 0) {
        if (!first) buf_puts(s, ", ");
        gp_quote(s, fit_name(tm, ns, i, x->scale, x->room, &t), 0);
        buf_printf(s, " %zu", i);
    }
    buf_puts(s, ") scale 0");
    if (x->angle > 0) buf_printf(s, " rotate by %g right", x->angle);
    buf_printf(s, " font ',%.2f'\n", tm->font * x->scale);
    buf_free(&t);
}

/* The plot area's left edge and x labels for n slots between L0 and R: labels rotated by 45
 * degrees may need a wider left margin, which narrows the slots, so this settles in a few rounds. */
static XLabels fit_x_axis(const Term *tm, const Names *ns, double *L, double R, double max_ext) {
    double L0 = *L;
    XLabels x = fit_xlabels(tm, ns, (R - *L) / (double)ns->n, max_ext);
    for (int round = 0; round < 4 && x.left > *L - 0.5 * tm->em; round++) {
        *L = fmax(L0, x.left + 0.5 * tm->em);
        x = fit_xlabels(tm, ns, (R - *L) / (double)ns->n, max_ext);
    }
    return x;
}

static void put_number(Buf *s, double v) {
    if (isnan(v)) buf_puts(s, " NaN");
    else buf_printf(s, " %.10g", v);
}

/* ---- grouped bars ---- */

/* y from 0 to ymax (0: a little above the highest bar); hline > 0: a dashed line across at that
 * height, always in range. */
static void draw_bars(Buf *s, const Term *tm, const Bars *b, const char *title, const char *ylabel,
                      const char *keytitle, double ymax, double hline) {
    size_t ng = b->groups.n, ns = b->series.n;
    double em = tm->em;
    double top = put_title(s, tm, title);

    /* the legend under the title, in rows, so that the bars keep the full width */
    int missing = 0;
    for (size_t i = 0; i < ng * ns; i++) missing |= isnan(b->v[i]);
    Entry *e = xmalloc((ns + 1) * sizeof *e);
    for (size_t i = 0; i < ns; i++)
        e[i] = (Entry){b->series.shown[i], b->series.tail[i], SAMPLE_BOX, colours[i % NCOLOURS],
                       i >= NCOLOURS ? 1 + (int)((i / NCOLOURS - 1) % 7) : 0, 0};
    if (missing) e[ns] = (Entry){"no value", 0, SAMPLE_CROSS, "#222222", 0, 0};
    double legend_bottom = put_legend(s, tm, top, 0.3 * tm->height, keytitle, e, ns + (size_t)missing);
    free(e);

    /* y from 0: to ymax, or a little above the highest bar; ticks as many as the height allows,
     * so the left margin is made for the widest labels of any of those steps */
    double top_value = ymax, hi = ymax * 1.04;
    if (ymax <= 0) {
        top_value = 0;
        for (size_t i = 0; i < ng * ns; i++)
            if (b->v[i] > top_value) top_value = b->v[i];
        if (hline > top_value) top_value = hline;
        if (!(top_value > 0)) top_value = 1;
        hi = top_value * 1.08;
    }
    double ticks_w = 0;
    for (double n = 1; n <= 6; n++) ticks_w = fmax(ticks_w, ticks_px(tm, "%g", 0, hi, nice_step(ymax > 0 ? ymax : hi, n)));
    Area a;
    a.T = legend_bottom - 0.9 * em;
    a.L = 0.5 * em + LINE_EM * em + 0.6 * em + ticks_w + 0.9 * em;
    a.R = tm->width - 1.0 * em;
    XLabels x = fit_x_axis(tm, &b->groups, &a.L, a.R, 0.45 * tm->height);
    a.B = x.ext + 0.5 * em;
    keep_area(tm, &a);
    double step = step_for(ymax > 0 ? ymax : hi, ymax > 0 ? 5 : 6, a.T - a.B, em);
    set_area(s, tm, a);
    buf_puts(s, "set label "); /* along the axis, in a smaller font when longer than the axis */
    gp_quote(s, ylabel, 0);
    put_label_at(s, tm, 0.5 * em + 0.5 * LINE_EM * em, (a.B + a.T) / 2, "center",
                 fmax(0.3, fmin(1, (a.T - a.B) / text_px(tm, ylabel, 0, 1))), 1, NULL);
    if (hline > 0)
        buf_printf(s, "set arrow from graph 0, first %.10g to graph 1, first %.10g nohead front lw 1.5 dt 2 "
                      "lc rgb '#333333'\n", hline, hline);
    buf_printf(s, "set xrange [-0.5:%zu.5]\n", ng - 1);
    put_xlabels(s, tm, &b->groups, &x);
    buf_printf(s, "set yrange [0:%.10g]\nset ytics 0, %.10g\nset format y '%%g'\n", hi, step);
    buf_puts(s, "set grid ytics back lt 1 lc rgb '#e4e4e4' lw 1\n");
    double w = 0.8 / (double)ns; /* each group spans 0.8 of its slot */
    buf_printf(s, "set boxwidth %g absolute\nset style fill solid 0.9 border lc rgb '#333333'\n", w);

    buf_puts(s, "$bars << EOD\n");
    for (size_t g = 0; g < ng; g++) {
        buf_printf(s, "%zu", g);
        for (size_t i = 0; i < ns; i++) put_number(s, b->v[g * ns + i]);
        buf_putc(s, '\n');
    }
    /* a missing value gets a cross on the axis, so that it does not read as zero */
    buf_puts(s, "EOD\n");
    if (missing) {
        buf_puts(s, "$missing << EOD\n");
        for (size_t g = 0; g < ng; g++)
            for (size_t i = 0; i < ns; i++)
                if (isnan(b->v[g * ns + i])) buf_printf(s, "%g 0\n", (double)g - 0.4 + ((double)i + 0.5) * w);
        buf_puts(s, "EOD\n");
    }
    buf_puts(s, "plot ");
    for (size_t i = 0; i < ns; i++) {
        buf_printf(s, "%s$bars using ($1 - 0.4 + %g):%zu with boxes lc rgb '%s'", i ? ", \\\n     " : "",
                   ((double)i + 0.5) * w, i + 2, colours[i % NCOLOURS]);
        if (i >= NCOLOURS) buf_printf(s, " fillstyle pattern %zu border lc rgb '#333333'", 1 + (i / NCOLOURS - 1) % 7);
        buf_puts(s, " notitle");
    }
    if (missing) buf_puts(s, ", \\\n     $missing using 1:2 with points pt 2 ps 1.2 lw 2 lc rgb '#222222' notitle");
    buf_putc(s, '\n');
}

/* ---- kl_vs_bits: point labels placed where they hide nothing ---- */

typedef struct {
    double x0, y0, x1, y1; /* pixels, y up */
} Box;

static double overlap(Box a, Box b) {
    double w = fmin(a.x1, b.x1) - fmax(a.x0, b.x0), h = fmin(a.y1, b.y1) - fmax(a.y0, b.y0);
    return w > 0 && h > 0 ? w * h : 0;
}

static const int kl_points[] = {7, 5, 9, 11, 13};

static void draw_kl(Buf *s, const Term *tm, const KlData *k, size_t *unlabelled) {
    double em = tm->em;
    double lo = INFINITY, hi = -INFINITY, bmin = INFINITY, bmax = -INFINITY;
    for (size_t i = 0; i < k->n; i++) {
        if (k->p[i].kl > 0) lo = fmin(lo, k->p[i].kl);
        hi = fmax(hi, k->p[i].kl);
        bmin = fmin(bmin, k->p[i].bits), bmax = fmax(bmax, k->p[i].bits);
    }
    int any_zero = 0;
    for (size_t i = 0; i < k->n; i++) any_zero |= k->p[i].kl <= 0;
    int logy = !any_zero && hi / lo >= 100;
    double y0, y1, ystep = 0, ytick_w;
    if (logy) {
        y0 = pow(10, floor(log10(lo) - 0.2));
        y1 = pow(10, ceil(log10(hi) + 0.2));
        ytick_w = 0;
        for (double d = log10(y0); d <= log10(y1) + 1e-9; d++) { /* the labels of the decades */
            char t[32];
            snprintf(t, sizeof t, "%.0e", pow(10, d));
            ytick_w = fmax(ytick_w, text_px(tm, t, 0, 1));
        }
    } else {
        y0 = 0;
        y1 = hi > 0 ? hi * 1.15 : 1;
        ytick_w = 0;
        for (double n = 1; n <= 6; n++) ytick_w = fmax(ytick_w, ticks_px(tm, "%g", 0, y1, nice_step(y1, n)));
    }
    double span = bmax - bmin, x0 = bmin - 0.1 * span - 0.5, x1 = bmax + 0.1 * span + 0.5;
    if (x0 < 0) x0 = 0;

    double top = put_title(s, tm, "KL(P||Q) of each variant from its base, against bits per weight");
    Entry *e = xmalloc((k->families.n + 1) * sizeof *e);
    for (size_t f = 0; f < k->families.n; f++)
        e[f] = (Entry){k->families.shown[f], k->families.tail[f], SAMPLE_LINE, colours[f % NCOLOURS], 0,
                       kl_points[f % (sizeof kl_points / sizeof *kl_points)]};
    double legend_bottom = put_legend(s, tm, top, 0.3 * tm->height, "family (base model)", e, k->families.n);
    free(e);

    /* the plot area, fixed so that labels can be placed in pixels */
    double L = 0.5 * em + LINE_EM * em + 0.6 * em + ytick_w + 0.9 * em, R = tm->width - 1.5 * em;
    double B = 0.5 * em + 2 * LINE_EM * em + 1.0 * em, T = legend_bottom - 0.9 * em;
    Area pa = {L, R, B, T};
    keep_area(tm, &pa);
    L = pa.L, R = pa.R, B = pa.B, T = pa.T;
    set_area(s, tm, pa);
    buf_printf(s, "set xrange [%g:%g]\nset yrange [%g:%g]\n", x0, x1, y0, y1);
    if (logy) { /* a tick every decade, or every few when the axis is short */
        double decades = log10(y1 / y0), fit = fmax(1, floor((T - B) / (1.6 * em)));
        buf_printf(s, "set logscale y 10\nset format y '%%.0e'\nset ytics 1e%.0f\n", fmax(1, ceil(decades / fit)));
    } else {
        ystep = step_for(y1, 6, T - B, em);
        buf_printf(s, "set ytics 0, %.10g\nset format y '%%g'\n", ystep);
    }
    put_text(s, tm, "bits per weight", 0, (L + R) / 2, 0.5 * em + 0.5 * LINE_EM * em, "center", 1, 0, NULL);
    put_text(s, tm, "KL(P||Q), nats", 0, 0.5 * em + 0.5 * LINE_EM * em, (B + T) / 2, "center", 1, 1, NULL);
    buf_puts(s, "set grid xtics ytics back lt 1 lc rgb '#e4e4e4' lw 1\n");

    double pr = 0.45 * LINE_EM * em; /* a point's half-size in pixels */
    Box *placed = xmalloc((2 * k->n + 1) * sizeof *placed);
    size_t np = 0;
    for (size_t i = 0; i < k->n; i++) {
        double px = L + (k->p[i].bits - x0) / (x1 - x0) * (R - L);
        double py = logy ? B + (log10(k->p[i].kl) - log10(y0)) / (log10(y1) - log10(y0)) * (T - B)
                         : B + (k->p[i].kl - y0) / (y1 - y0) * (T - B);
        placed[np++] = (Box){px - pr, py - pr, px + pr, py + pr};
    }
    /* the lines between a family's points, as a trail of small boxes: better not covered */
    Box *trail = NULL;
    size_t nt = 0, capt = 0;
    for (size_t i = 1; i < k->n; i++) {
        if (k->p[i].family != k->p[i - 1].family) continue;
        Box a = placed[i - 1], b = placed[i];
        double ax = (a.x0 + a.x1) / 2, ay = (a.y0 + a.y1) / 2, bx = (b.x0 + b.x1) / 2, by = (b.y0 + b.y1) / 2;
        size_t steps = (size_t)(hypot(bx - ax, by - ay) / 6) + 1;
        for (size_t t = 1; t < steps; t++) {
            if (nt == capt) capt = capt ? 2 * capt : 64, trail = xrealloc(trail, capt * sizeof *trail);
            double x = ax + (bx - ax) * (double)t / (double)steps, y = ay + (by - ay) * (double)t / (double)steps;
            trail[nt++] = (Box){x - 1.5, y - 1.5, x + 1.5, y + 1.5};
        }
    }
    Box area = {L, B, R, T};
    for (size_t i = 0; i < k->n; i++) {
        Box pt = placed[i];
        double px = (pt.x0 + pt.x1) / 2, py = (pt.y0 + pt.y1) / 2;
        double w = text_px(tm, k->p[i].model, NAME_CHARS, 0.85), h = LINE_EM * em * 0.85;
        /* candidate spots: right, left, above, below, the four corners, then a line farther out */
        static const double dx[] = {1, -1, 0, 0, 1, 1, -1, -1, 0, 0, 1, 1, -1, -1};
        static const double dy[] = {0, 0, 1, -1, 1, -1, 1, -1, 2, -2, 2, -2, 2, -2};
        double best = INFINITY;
        size_t pick = 0;
        Box pick_box = {0};
        for (size_t c = 0; c < sizeof dx / sizeof *dx; c++) {
            double cx = px + dx[c] * (pr + 4 + w / 2) * (dx[c] != 0);
            double cy = py + dy[c] * (pr + 2 + h / 2);
            Box bx = {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
            double hard = w * h - overlap(bx, area); /* what would fall outside the plot */
            for (size_t j = 0; j < np; j++) hard += overlap(bx, placed[j]);
            if (hard > 0.5) continue; /* hides a point or another label (0.5 px² of rounding) */
            double soft = 0;
            for (size_t j = 0; j < nt; j++) soft += overlap(bx, trail[j]);
            if (soft < best) best = soft, pick = c, pick_box = bx;
        }
        if (best == INFINITY) { /* no free spot: better no label than one over another */
            (*unlabelled)++;
            continue;
        }
        placed[np++] = pick_box;
        const char *align = dx[pick] > 0 ? "left" : dx[pick] < 0 ? "right" : "center";
        double ax = dx[pick] > 0 ? pick_box.x0 : dx[pick] < 0 ? pick_box.x1 : px;
        put_text(s, tm, k->p[i].model, NAME_CHARS, ax, (pick_box.y0 + pick_box.y1) / 2, align, 0.85, 0, NULL);
    }
    free(trail);
    free(placed);

    for (size_t f = 0; f < k->families.n; f++) {
        buf_printf(s, "$f%zu << EOD\n", f);
        for (size_t i = 0; i < k->n; i++)
            if (k->p[i].family == f) buf_printf(s, "%.10g %.10g\n", k->p[i].bits, k->p[i].kl);
        buf_puts(s, "EOD\n");
    }
    buf_puts(s, "plot ");
    for (size_t f = 0; f < k->families.n; f++)
        buf_printf(s, "%s$f%zu using 1:2 with linespoints lw 2 pt %d ps 1.4 lc rgb '%s' notitle", f ? ", \\\n     " : "",
                   f, kl_points[f % (sizeof kl_points / sizeof *kl_points)], colours[f % NCOLOURS]);
    buf_putc(s, '\n');
}

/* ---- drift_kl_distribution: one line per variant over bins of log10 KL ---- */

/* "1e-8", ..., "0.1", "1", "10", "1e2" ...: the label of 10^k on the KL axis. */
static void decade_label(char *t, size_t cap, int k) {
    if (k >= -1 && k <= 1) snprintf(t, cap, "%g", pow(10, k));
    else snprintf(t, cap, "1e%d", k);
}

static void draw_dist(Buf *s, const Term *tm, const Dist *d) {
    double em = tm->em;
    size_t nv = d->variants.n;
    double x0 = INFINITY, x1 = -INFINITY, ymax = 0;
    for (size_t i = 0; i < d->n; i++)
        x0 = fmin(x0, d->b[i].lo), x1 = fmax(x1, d->b[i].hi), ymax = fmax(ymax, d->b[i].frac);
    double hi = ymax > 0 ? ymax * 1.08 : 1;

    double top = put_title(s, tm, "Per-position KL(P||Q) over the scored positions: the share of positions in each bin");
    Entry *e = xmalloc((nv + 1) * sizeof *e);
    for (size_t v = 0; v < nv; v++)
        e[v] = (Entry){d->variants.shown[v], d->variants.tail[v], SAMPLE_LINE, colours[v % NCOLOURS], 0,
                       kl_points[v % (sizeof kl_points / sizeof *kl_points)]};
    double legend_bottom = put_legend(s, tm, top, 0.3 * tm->height, "variant", e, nv);
    free(e);

    double ticks_w = 0;
    for (double n = 1; n <= 6; n++) ticks_w = fmax(ticks_w, ticks_px(tm, "%g", 0, hi, nice_step(hi, n)));
    Area a = {0.5 * em + LINE_EM * em + 0.6 * em + ticks_w + 0.9 * em, tm->width - 1.5 * em,
              0.5 * em + 2 * LINE_EM * em + 1.0 * em, legend_bottom - 0.9 * em};
    keep_area(tm, &a);
    set_area(s, tm, a);
    buf_printf(s, "set xrange [%.10g:%.10g]\nset yrange [0:%.10g]\n", x0, x1, hi);

    /* x: a tick on every decade (every k-th when labels would be closer than 4 ems), labelled
     * with KL itself; the bin edges when not one decade is in range */
    int k0 = (int)ceil(x0 - 1e-9), k1 = (int)floor(x1 + 1e-9);
    char t[32];
    buf_puts(s, "set xtics (");
    if (k1 >= k0) {
        int every = (int)fmax(1, ceil((k1 - k0 + 1) * 4 * em / fmax(1, a.R - a.L)));
        for (int k = k0; k <= k1; k += every) {
            decade_label(t, sizeof t, k);
            buf_printf(s, "%s'%s' %d", k == k0 ? "" : ", ", t, k);
        }
    } else {
        buf_printf(s, "'%.2g' %.10g, '%.2g' %.10g", pow(10, x0), x0, pow(10, x1), x1);
    }
    buf_puts(s, ")\n");
    buf_printf(s, "set ytics 0, %.10g\nset format y '%%g'\n", step_for(hi, 6, a.T - a.B, em));
    put_text(s, tm, "KL(P||Q) at a position, nats (log scale)", 0, (a.L + a.R) / 2, 0.5 * em + 0.5 * LINE_EM * em,
             "center", 1, 0, NULL);
    static const char ylabel[] = "fraction of the variant's positions";
    put_text(s, tm, ylabel, 0, 0.5 * em + 0.5 * LINE_EM * em, (a.B + a.T) / 2, "center",
             fmax(0.3, fmin(1, (a.T - a.B) / text_px(tm, ylabel, 0, 1))), 1, NULL);
    buf_puts(s, "set grid xtics ytics back lt 1 lc rgb '#e4e4e4' lw 1\n");

    /* a point on every few bins, so that the lines can be told apart without colour */
    size_t every = d->most / 12 + 1;
    for (size_t v = 0; v < nv; v++) {
        buf_printf(s, "$v%zu << EOD\n", v);
        for (size_t i = 0; i < d->n; i++)
            if (d->b[i].var == v) buf_printf(s, "%.10g %.10g\n", (d->b[i].lo + d->b[i].hi) / 2, d->b[i].frac);
        buf_puts(s, "EOD\n");
    }
    buf_puts(s, "plot ");
    for (size_t v = 0; v < nv; v++)
        buf_printf(s, "%s$v%zu using 1:2 with linespoints lw 2 pt %d ps 1.2 pi %zu lc rgb '%s' notitle",
                   v ? ", \\\n     " : "", v, kl_points[v % (sizeof kl_points / sizeof *kl_points)], every,
                   colours[v % NCOLOURS]);
    buf_putc(s, '\n');
}

/* ---- keyword heat map ---- */

static void draw_heat(Buf *s, const Term *tm, const Heat *h) {
    size_t nk = h->kw.n, nv = h->variants.n;
    double em = tm->em;
    double m = 0;
    for (size_t i = 0; i < nk * nv; i++)
        if (!isnan(h->v[i])) m = fmax(m, fabs(h->v[i]));
    if (m == 0) m = 1;
    char title[160];
    snprintf(title, sizeof title, "Keywords whose probability moved most in each variant: the top %zu of %zu", nk, h->total_kw);
    double top = put_title(s, tm, title);
    int missing = 0;
    for (size_t i = 0; i < nk * nv; i++) missing |= isnan(h->v[i]);

    /* right of the plot: a gap, the colour box, its tick labels, its label (rotated) */
    double cbticks = 0;
    for (double n = 1; n <= 2.5; n += 0.5) {
        double st = nice_step(m, n);
        cbticks = fmax(cbticks, fmax(ticks_px(tm, "%g", 0, m, st), ticks_px(tm, "%g", -floor(m / st) * st, 0, st)));
    }
    Area a;
    a.T = top - (missing ? LINE_EM * em : 0) - 0.6 * em;
    /* the variants' names take at most 35% of the width: a smaller font, then shorter names */
    double room = 0.35 * tm->width, yscale = fmax(0.8, fmin(1, room / widest_drawn(tm, &h->variants, 1, 1, 0)));
    a.L = 0.5 * em + widest_drawn(tm, &h->variants, 1, yscale, room) + 0.9 * em;
    double box_w = 1.2 * em, right = 1.0 * em + box_w + 0.6 * em + cbticks + 0.6 * em + LINE_EM * em + 0.5 * em;
    a.R = tm->width - right;
    XLabels x = fit_x_axis(tm, &h->kw, &a.L, a.R, 0.45 * tm->height);
    a.B = x.ext + 0.5 * em;
    keep_area(tm, &a);
    set_area(s, tm, a);
    double slot_px = (a.R - a.L) / (double)nk;
    put_xlabels(s, tm, &h->kw, &x);
    Buf t = {0};
    buf_puts(s, "set ytics (");
    for (size_t v = 0; v < nv; v++) {
        if (v) buf_puts(s, ", ");
        gp_quote(s, fit_name(tm, &h->variants, v, yscale, room, &t), 0);
        buf_printf(s, " %zu", nv - 1 - v); /* the first variant on top */
    }
    buf_printf(s, ") scale 0 font ',%.2f'\nset border 0\n", tm->font * yscale);
    buf_free(&t);
    buf_printf(s, "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\n", nk - 1, nv - 1);
    double cbstep = step_for(m, 2.5, (a.T - a.B) / 2, em); /* ticks on both sides of 0 */
    buf_printf(s, "set cbrange [%.10g:%.10g]\nset cbtics %.10g\nset format cb '%%g'\n", -m, m, cbstep);
    buf_printf(s, "set colorbox user origin screen %.5f, screen %.5f size screen %.5f, screen %.5f\n",
               (a.R + 1.0 * em) / tm->width, a.B / tm->height, box_w / tm->width, (a.T - a.B) / tm->height);
    static const char cblabel[] = "ln(p_sum variant / p_sum base)";
    put_text(s, tm, cblabel, 0, tm->width - 0.5 * em - 0.5 * LINE_EM * em, (a.B + a.T) / 2, "center",
             fmax(0.3, fmin(1, (a.T - a.B) / text_px(tm, cblabel, 0, 1))), 1, NULL);
    buf_puts(s, "set palette defined (0 '#2166ac', 0.25 '#92c5de', 0.5 '#f7f7f7', 0.75 '#f4a582', 1 '#b2182b')\n"
                "set object 1 rectangle from graph 0, graph 0 to graph 1, graph 1 behind "
                "fillcolor rgb '#b0b0b0' fillstyle solid noborder\n");
    for (size_t k = 1; k < nk && slot_px >= 8; k++) /* cell borders, while cells are wide enough */
        buf_printf(s, "set arrow from %zu.5, graph 0 to %zu.5, graph 1 nohead front lc rgb 'white' lw 1\n", k - 1, k - 1);
    for (size_t v = 1; v < nv; v++)
        buf_printf(s, "set arrow from graph 0, first %zu.5 to graph 1, first %zu.5 nohead front lc rgb 'white' lw 2\n", v - 1, v - 1);
    if (missing) put_text(s, tm, "grey: no value", 0, a.R, a.T + 0.5 * LINE_EM * em + 0.2 * em, "right", 0.85, 0, "#555555");
    buf_puts(s, "$heat << EOD\n");
    for (size_t v = 0; v < nv; v++) {
        for (size_t k = 0; k < nk; k++) {
            if (isnan(h->v[v * nk + k])) continue; /* no box: the grey background shows */
            buf_printf(s, "%zu %zu %.10g\n", k, nv - 1 - v, h->v[v * nk + k]);
        }
    }
    /* boxes rather than an image: any grid (even 1 x 1) works, and a missing cell stays grey */
    buf_puts(s, "EOD\nset style fill solid 1 noborder\n"
                "plot $heat using 1:2:(0.5):(0.5):3 with boxxyerror fillcolor palette notitle\n");
}
/* ---- the driver ---- */

static const char *const fig_names[PLOT_NFIGURES] = {"pkp_by_language",      "kl_vs_bits",
                                                     "keyword_heatmap",      "coverage_by_language",
                                                     "drift_kl_distribution", "drift_keyword_vs_other"};
static const char *const fmt_ext[] = {"png", "svg", "pdf"};

int plot_format_parse(const char *s) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, fmt_ext[i])) return i;
    return -1;
}

static int has_word(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ' ' || p[-1] == '\n') && (p[n] == ' ' || p[n] == '\n' || !p[n])) return 1;
    return 0;
}

/* Picks the terminal for the format from what this gnuplot has. */
static int pick_terminal(Term *tm, const PlotOptions *o, Err *err) {
    static const char probe[] = "print GPVAL_TERMINALS\n";
    Buf out = {0};
    if (gp_run(probe, sizeof probe - 1, &out, err) < 0) {
        buf_free(&out);
        return -1;
    }
    const char *list = out.data ? out.data : "";
    const char *name = NULL;
    if (o->format == PLOT_PNG) name = has_word(list, "pngcairo") ? "pngcairo" : has_word(list, "png") ? "png" : NULL;
    else if (o->format == PLOT_SVG) name = has_word(list, "svg") ? "svg" : NULL;
    else name = has_word(list, "pdfcairo") ? "pdfcairo" : NULL;
    buf_free(&out);
    if (!name)
        return err_set(err, "gnuplot: this gnuplot cannot write %s (no %s terminal); try --format %s",
                       fmt_ext[o->format], o->format == PLOT_PNG ? "pngcairo or png" : o->format == PLOT_SVG ? "svg" : "pdfcairo",
                       o->format == PLOT_PNG ? "svg" : "png");
    /* Measured on gnuplot 5.4 with DejaVu Sans: pngcairo and the libgd png terminal draw a
     * 13 pt font with an em of 13 * 4/3 px (96 dpi), and so does pdfcairo at fontscale 0.71 with
     * width/100 inches (100 px to the inch); the svg terminal takes the size in px, so it gets
     * 13 * 4/3 to look the same. */
    *tm = (Term){.format = o->format, .name = name, .width = o->width, .height = o->height, .font = 13};
    tm->em = 13 * 4 / 3.0;
    if (o->format == PLOT_SVG) tm->font = tm->em;
    return 0;
}

static int make_dirs(const char *path, Err *err) {
    char *p = xstrdup(path);
    for (char *q = p + 1;; q++) {
        if (*q == '/' || !*q) {
            char c = *q;
            *q = '\0';
            if (mkdir(p, 0777) < 0 && errno != EEXIST) {
                err_set(err, "%s: cannot create: %s", p, strerror(errno));
                free(p);
                return -1;
            }
            *q = c;
            if (!c) break;
        }
    }
    free(p);
    if (!is_dir(path)) return err_set(err, "%s: not a directory", path);
    return 0;
}

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

static void note(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(char *dst, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

/* Everything read from DIR. */
typedef struct {
    Bars pkp, cov, kwr;
    KlData kl;
    Heat heat;
    Dist dist;
    size_t kwr_zero; /* keyword/other ratios left out: kl_mean 0 at other positions */
    int have[PLOT_NFIGURES];
} Loaded;

static void loaded_free(Loaded *d) {
    if (d->have[0]) bars_free(&d->pkp);
    if (d->have[1]) kl_free(&d->kl);
    if (d->have[2]) heat_free(&d->heat);
    if (d->have[3]) bars_free(&d->cov);
    if (d->have[4]) dist_free(&d->dist);
    if (d->have[5]) bars_free(&d->kwr);
}

static int any_value(const double *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) return 1;
    return 0;
}

/* Reads every CSV file present (any malformed one is an error), and keeps the data of each figure
 * that has some; the others get a note saying why they are skipped. */
static int load_all(const PlotOptions *o, Loaded *d, PlotFigure *figs, Buf *warn, Err *err) {
    static const char *const req_metrics[] = {"model", "base", "scope", "metric", "value", NULL};
    static const char *const req_models[] = {"model", "bits_per_weight", "base", NULL};
    static const char *const req_kw[] = {"model", "keyword", "log_ratio", NULL};
    static const char *const req_cov[] = {"tokenizer", "lang", "coverage", NULL};
    static const char *const req_drift[] = {"variant", "lang", "positions", "statistic", "value", NULL};
    static const char *const req_hist[] = {"variant", "log10_kl_lo", "log10_kl_hi", "count", NULL};
    CsvTable metrics, models, kw, cov, drift, hist;
    int rm = read_if_there(&metrics, o->dir, "metrics.csv", req_metrics, err);
    int rmo = rm < 0 ? -1 : read_if_there(&models, o->dir, "models.csv", req_models, err);
    int rk = rmo < 0 ? -1 : read_if_there(&kw, o->dir, "keywords.csv", req_kw, err);
    int rc = rk < 0 ? -1 : read_if_there(&cov, o->dir, "coverage_summary.csv", req_cov, err);
    int rd = rc < 0 ? -1 : read_if_there(&drift, o->dir, "drift.csv", req_drift, err);
    int rh = rd < 0 ? -1 : read_if_there(&hist, o->dir, "drift_kl_hist.csv", req_hist, err);
    int ret = -1;
    if (rh < 0) goto out;

    if (!rm) {
        note(figs[0].note, sizeof figs[0].note, "%s/metrics.csv absent", o->dir);
    } else {
        if (load_bars(&metrics, "model", "scope", "value", "pkp", &d->pkp, err) < 0) goto out;
        d->have[0] = 1;
        if (!any_value(d->pkp.v, d->pkp.groups.n * d->pkp.series.n)) {
            note(figs[0].note, sizeof figs[0].note, "no pkp value for a language in %s/metrics.csv", o->dir);
            bars_free(&d->pkp), d->have[0] = 0;
        } else if (d->pkp.dropped) {
            buf_printf(warn, "pkp_by_language: %zu non-finite value(s) shown as 'no value'\n", d->pkp.dropped);
        }
    }

    if (!rm || !rmo) {
        note(figs[1].note, sizeof figs[1].note, "%s/%s absent", o->dir, !rm ? "metrics.csv" : "models.csv");
    } else {
        if (load_kl(&metrics, &models, &d->kl, err) < 0) goto out;
        d->have[1] = 1;
        if (d->kl.no_bits)
            buf_printf(warn, "kl_vs_bits: %zu variant(s) left out: no bits_per_weight in %s/models.csv\n",
                       d->kl.no_bits, o->dir);
        if (d->kl.dropped) buf_printf(warn, "kl_vs_bits: %zu non-finite kl_pq value(s) left out\n", d->kl.dropped);
        if (!d->kl.n) {
            note(figs[1].note, sizeof figs[1].note,
                 "no variant with both a kl_pq value (scope all) in metrics.csv and bits_per_weight in models.csv");
            kl_free(&d->kl), d->have[1] = 0;
        }
    }

    if (!rk) {
        note(figs[2].note, sizeof figs[2].note, "%s/keywords.csv absent", o->dir);
    } else {
        if (load_heat(&kw, o->top_keywords, &d->heat, err) < 0) goto out;
        d->have[2] = 1;
        if (!any_value(d->heat.v, d->heat.kw.n * d->heat.variants.n)) {
            note(figs[2].note, sizeof figs[2].note, "no log_ratio value in %s/keywords.csv (no variant)", o->dir);
            heat_free(&d->heat), d->have[2] = 0;
        } else if (d->heat.dropped) {
            buf_printf(warn, "keyword_heatmap: %zu non-finite log_ratio value(s) shown as 'no value'\n", d->heat.dropped);
        }
    }

    if (!rc) {
        note(figs[3].note, sizeof figs[3].note, "%s/coverage_summary.csv absent", o->dir);
    } else {
        if (load_bars(&cov, "tokenizer", "lang", "coverage", NULL, &d->cov, err) < 0) goto out;
        d->have[3] = 1;
        if (!any_value(d->cov.v, d->cov.groups.n * d->cov.series.n)) {
            note(figs[3].note, sizeof figs[3].note, "no coverage value in %s/coverage_summary.csv", o->dir);
            bars_free(&d->cov), d->have[3] = 0;
        } else if (d->cov.dropped) {
            buf_printf(warn, "coverage_by_language: %zu non-finite value(s) shown as 'no value'\n", d->cov.dropped);
        }
    }

    if (!rh) {
        note(figs[4].note, sizeof figs[4].note, "%s/drift_kl_hist.csv absent", o->dir);
    } else {
        if (load_dist(&hist, &d->dist, err) < 0) goto out;
        d->have[4] = 1;
        if (d->dist.empty)
            buf_printf(warn, "drift_kl_distribution: %zu variant(s) left out: no position counted in %s/drift_kl_hist.csv\n",
                       d->dist.empty, o->dir);
        if (!d->dist.variants.n) {
            note(figs[4].note, sizeof figs[4].note, "no variant with a position counted in %s/drift_kl_hist.csv", o->dir);
            dist_free(&d->dist), d->have[4] = 0;
        }
    }

    if (!rd) {
        note(figs[5].note, sizeof figs[5].note, "%s/drift.csv absent", o->dir);
    } else {
        if (load_kw_ratio(&drift, &d->kwr, &d->kwr_zero, err) < 0) goto out;
        d->have[5] = 1;
        if (!d->kwr.groups.n) {
            note(figs[5].note, sizeof figs[5].note,
                 "no language with kl_mean at both keyword and other positions in %s/drift.csv", o->dir);
            bars_free(&d->kwr), d->have[5] = 0;
        } else {
            if (d->kwr.dropped)
                buf_printf(warn, "drift_keyword_vs_other: %zu non-finite kl_mean value(s) shown as 'no value'\n",
                           d->kwr.dropped);
            if (d->kwr_zero)
                buf_printf(warn, "drift_keyword_vs_other: %zu ratio(s) shown as 'no value': kl_mean 0 at other positions\n",
                           d->kwr_zero);
        }
    }
    ret = 0;
out:
    if (ret < 0) loaded_free(d), memset(d->have, 0, sizeof d->have);
    if (rm > 0) csv_table_free(&metrics);
    if (rmo > 0) csv_table_free(&models);
    if (rk > 0) csv_table_free(&kw);
    if (rc > 0) csv_table_free(&cov);
    if (rd > 0) csv_table_free(&drift);
    if (rh > 0) csv_table_free(&hist);
    return ret;
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
    if (several) note(dst, cap, " (%zu %s x %zu contexts)", nmodels, what, ncontexts);
    else *dst = '\0';
}

/* Writes figure i's script (after its head) and its note. */
static void draw_figure(int i, Buf *s, const Term *tm, const Loaded *d, PlotFigure *f, Buf *warn) {
    char ctx[128];
    switch (i) {
    case 0:
        draw_bars(s, tm, &d->pkp, "PKP: probability mass on each language's keyword tokens at cold start", "PKP",
                  "model", 0, 0);
        contexts_note(ctx, sizeof ctx, d->pkp.several, d->pkp.nmodels, plural(d->pkp.nmodels, "model", "models"),
                      d->pkp.ncontexts);
        note(f->note, sizeof f->note, "%zu %s x %zu %s%s", d->pkp.groups.n, plural(d->pkp.groups.n, "language", "languages"),
             d->pkp.series.n, d->pkp.several ? "series" : plural(d->pkp.series.n, "model", "models"), ctx);
        break;
    case 1: {
        size_t unlabelled = 0;
        draw_kl(s, tm, &d->kl, &unlabelled);
        contexts_note(ctx, sizeof ctx, d->kl.several, d->kl.nmodels, plural(d->kl.nmodels, "variant", "variants"),
                      d->kl.ncontexts);
        note(f->note, sizeof f->note, "%zu %s%s in %zu %s", d->kl.n,
             d->kl.several ? "points" : plural(d->kl.n, "variant", "variants"), ctx, d->kl.families.n,
             plural(d->kl.families.n, "family", "families"));
        if (unlabelled)
            buf_printf(warn, "kl_vs_bits: %zu of %zu points left without a label: no free room next to them\n",
                       unlabelled, d->kl.n);
        break;
    }
    case 2:
        draw_heat(s, tm, &d->heat);
        contexts_note(ctx, sizeof ctx, d->heat.several, d->heat.nmodels, plural(d->heat.nmodels, "variant", "variants"),
                      d->heat.ncontexts);
        note(f->note, sizeof f->note, "%zu %s (of %zu) x %zu %s%s", d->heat.kw.n, plural(d->heat.kw.n, "keyword", "keywords"),
             d->heat.total_kw, d->heat.variants.n,
             d->heat.several ? "rows" : plural(d->heat.variants.n, "variant", "variants"), ctx);
        break;
    case 3:
        draw_bars(s, tm, &d->cov, "Keyword coverage per language and tokenizer", "coverage (covered keywords / keywords)",
                  "tokenizer", 1.0, 0);
        note(f->note, sizeof f->note, "%zu %s x %zu %s", d->cov.groups.n, plural(d->cov.groups.n, "language", "languages"),
             d->cov.series.n, plural(d->cov.series.n, "tokenizer", "tokenizers"));
        break;
    case 4:
        draw_dist(s, tm, &d->dist);
        note(f->note, sizeof f->note, "%zu %s, up to %zu %s", d->dist.variants.n,
             plural(d->dist.variants.n, "variant", "variants"), d->dist.most, plural(d->dist.most, "bin", "bins"));
        break;
    case 5:
        draw_bars(s, tm, &d->kwr, "Mean KL(P||Q) at keyword positions / mean KL(P||Q) at other positions",
                  ">1: compression hurts keyword positions more", "variant", 0, 1);
        note(f->note, sizeof f->note, "%zu %s x %zu %s", d->kwr.groups.n, plural(d->kwr.groups.n, "language", "languages"),
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
    int any = 0;
    for (int i = 0; i < PLOT_NFIGURES; i++) any |= d.have[i];
    Term tm;
    if (any && (pick_terminal(&tm, &o, err) < 0 || make_dirs(figdir, err) < 0)) goto out;
    for (int i = 0; i < PLOT_NFIGURES; i++) {
        if (!d.have[i]) continue;
        PlotFigure *f = &figs[i];
        snprintf(f->path, sizeof f->path, "%s/%s.%s", figdir, f->name, fmt_ext[o.format]);
        Buf s = {0}, out = {0};
        script_head(&s, &tm, f->path);
        draw_figure(i, &s, &tm, &d, f, warn);
        if (getenv("COLDTOK_PLOT_DEBUG")) fputs(s.data, stderr); /* the script, for whoever debugs a figure */
        int rc = gp_run(s.data, s.len, &out, err);
        if (rc == 0) keep_warnings(warn, f->name, out.data);
        buf_free(&s);
        buf_free(&out);
        if (rc < 0) {
            unlink(f->path); /* a half-written figure is worse than none */
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
