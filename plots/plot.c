/* plot: see plot.h. Each figure has a loader (checked CSV table → a small struct) and a drawer
 * (struct → gnuplot script); plot_all loads everything, then draws. Names from the CSV files
 * only ever reach a script through gp_quote, and the data blocks hold numbers only, so no CSV
 * content can break or steer a script. */
#include "plots/plot.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plots/csvtable.h"
#include "plots/gnuplot.h"

/* ---- names interned in order of first appearance ---- */

typedef struct {
    char **v;
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

static size_t names_add(Names *ns, const char *s) {
    long found = names_find(ns, s);
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
    }
    ns->v[ns->n] = xstrdup(s);
    names_place(ns, ns->n);
    return ns->n++;
}

static void names_free(Names *ns) {
    for (size_t i = 0; i < ns->n; i++) free(ns->v[i]);
    free(ns->v);
    free(ns->slot);
    memset(ns, 0, sizeof *ns);
}

static size_t names_widest(const Names *ns, size_t max_chars) {
    size_t w = 0;
    for (size_t i = 0; i < ns->n; i++) {
        size_t n = gp_text_width(ns->v[i], max_chars);
        if (n > w) w = n;
    }
    return w;
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
} Bars;

static void bars_free(Bars *b) {
    names_free(&b->groups);
    names_free(&b->series);
    free(b->v);
}

/* Rows of t with metric == metric (when metric is not NULL; then scopes all/english are not
 * languages and are left out) become bars: group = group_col, series = series_col, value =
 * value_col, which must lie in [0, 1]. Each (group, series) pair may appear once. */
static int load_bars(const CsvTable *t, const char *series_col, const char *group_col,
                     const char *value_col, const char *metric, Bars *b, Err *err) {
    memset(b, 0, sizeof *b);
    int cs = csv_table_col(t, series_col), cg = csv_table_col(t, group_col);
    int cv = csv_table_col(t, value_col), cm = metric ? csv_table_col(t, "metric") : -1;
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
        si[n] = names_add(&b->series, csv_table_cell(t, r, cs));
        row[n] = r;
        val[n++] = v;
    }
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
            char sn[80], gn[80];
            err_set(err, "%s: line %d: a second row for %s '%s', %s '%s'%s%s (the first is on line %d)",
                    t->path, t->line[row[i]], series_col, csv_visible(b->series.v[si[i]], sn, sizeof sn),
                    group_col, csv_visible(b->groups.v[gi[i]], gn, sizeof gn), metric ? ", metric " : "",
                    metric ? metric : "", t->line[first[k]]);
            free(first);
            goto out;
        }
        first[k] = (long)row[i];
        b->v[k] = val[i];
    }
    free(first);
    rc = 0;
out:
    free(gi), free(si), free(row), free(val);
    if (rc < 0) bars_free(b);
    return rc;
}

typedef struct {
    char *model;
    size_t family;
    double bits, kl;
} KlPoint;

typedef struct {
    Names families; /* the base model of each family */
    KlPoint *p;
    size_t n;
    size_t no_bits;  /* variants left out: no bits_per_weight in models.csv */
    size_t dropped;  /* non-finite KL values left out */
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

/* kl_pq over the whole distribution (scope all) of each variant, with its bits per weight from
 * models.csv; the family is the variant's base (metrics.csv, else models.csv). */
static int load_kl(const CsvTable *m, const CsvTable *models, KlData *k, Err *err) {
    memset(k, 0, sizeof *k);
    Names mnames = {0};
    double *bits = xmalloc((models->nrows + 1) * sizeof *bits);
    const char **mbase = xmalloc((models->nrows + 1) * sizeof *mbase);
    int mm = csv_table_col(models, "model"), mb = csv_table_col(models, "bits_per_weight");
    int mba = csv_table_col(models, "base");
    int rc = -1;
    for (size_t r = 0; r < models->nrows; r++) {
        const char *name = csv_table_cell(models, r, mm);
        if (names_find(&mnames, name) >= 0) {
            char shown[80];
            err_set(err, "%s: line %d: model '%s' is listed twice", models->path, models->line[r],
                    csv_visible(name, shown, sizeof shown));
            goto out;
        }
        size_t i = names_add(&mnames, name);
        size_t ignored = 0;
        if (read_value(models, r, mb, &bits[i], &ignored, err) < 0) goto out;
        if (bits[i] <= 0) {
            err_set(err, "%s: line %d: bits_per_weight %g is not positive", models->path, models->line[r], bits[i]);
            goto out;
        }
        mbase[i] = csv_table_cell(models, r, mba);
    }
    int cm = csv_table_col(m, "model"), cb = csv_table_col(m, "base"), cs = csv_table_col(m, "scope");
    int cmet = csv_table_col(m, "metric"), cv = csv_table_col(m, "value");
    Names seen = {0};
    k->p = xmalloc((m->nrows + 1) * sizeof *k->p);
    for (size_t r = 0; r < m->nrows; r++) {
        if (strcmp(csv_table_cell(m, r, cmet), "kl_pq") || strcmp(csv_table_cell(m, r, cs), "all")) continue;
        const char *model = csv_table_cell(m, r, cm);
        if (names_find(&seen, model) >= 0) {
            char shown[80];
            err_set(err, "%s: line %d: a second kl_pq row for model '%s', scope all", m->path, m->line[r],
                    csv_visible(model, shown, sizeof shown));
            names_free(&seen);
            goto out;
        }
        names_add(&seen, model);
        double v;
        if (read_value(m, r, cv, &v, &k->dropped, err) < 0) {
            names_free(&seen);
            goto out;
        }
        if (v < -1e-9) {
            err_set(err, "%s: line %d: kl_pq %g is negative", m->path, m->line[r], v);
            names_free(&seen);
            goto out;
        }
        long mi = names_find(&mnames, model);
        const char *base = csv_table_cell(m, r, cb);
        if (!*base && mi >= 0) base = mbase[mi];
        if (!*base) {
            char shown[80];
            err_set(err, "%s: line %d: kl_pq row for model '%s' names no base", m->path, m->line[r],
                    csv_visible(model, shown, sizeof shown));
            names_free(&seen);
            goto out;
        }
        if (isnan(v)) continue;
        if (mi < 0 || isnan(bits[mi])) {
            k->no_bits++;
            continue;
        }
        k->p[k->n++] = (KlPoint){xstrdup(model), names_add(&k->families, base), bits[mi], v < 0 ? 0 : v};
    }
    names_free(&seen);
    qsort(k->p, k->n, sizeof *k->p, by_family_bits);
    rc = 0;
out:
    names_free(&mnames);
    free(bits);
    free(mbase);
    if (rc < 0) kl_free(k);
    return rc;
}

typedef struct {
    Names kw, variants; /* the keywords shown (most moved first); the variants */
    double *v;          /* [variants.n][kw.n] log ratios; NAN = no value */
    size_t total_kw;    /* keywords with a log ratio, before keeping the top N */
    size_t dropped;     /* non-finite log ratios left out */
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

/* log_ratio per variant x keyword. A keyword in several languages is one column: its probability
 * does not depend on the language, so the first row for it is used. */
static int load_heat(const CsvTable *t, int top, Heat *h, Err *err) {
    memset(h, 0, sizeof *h);
    int cm = csv_table_col(t, "model"), ck = csv_table_col(t, "keyword"), cl = csv_table_col(t, "log_ratio");
    Names all = {0};
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
        vi[n] = names_add(&h->variants, csv_table_cell(t, r, cm));
        ki[n] = names_add(&all, kw);
        val[n++] = v;
    }
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
    free(vi), free(ki), free(val);
    if (rc < 0) heat_free(h);
    return rc;
}

/* ---- drawing ---- */

typedef struct {
    PlotFormat format;
    const char *name;     /* gnuplot terminal */
    int width, height;    /* pixels */
    double font;          /* points */
    double cw, lh;        /* one character's width and one line's height, in pixels */
} Term;

static const char *const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define NCOLOURS (sizeof colours / sizeof *colours)

/* Longest name shown in a legend or on an axis; longer ones lose their middle. */
#define NAME_CHARS 36

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
    buf_puts(s, "\nset border 3 lc rgb '#444444'\nset tics nomirror\n");
}

/* The figure's title at the top of the canvas (a label, so that a legend placed under it does
 * not push it down onto the plot). */
static void put_title(Buf *s, const Term *tm, const char *title) {
    buf_puts(s, "set label 1 ");
    gp_quote(s, title, 0);
    buf_printf(s, " at screen 0.5, screen %.4f center font ',%g'\n", 1 - 1.1 * tm->lh / tm->height, tm->font * 1.1);
}

static void put_number(Buf *s, double v) {
    if (isnan(v)) buf_puts(s, " NaN");
    else buf_printf(s, " %.10g", v);
}

/* x tick labels from names at 0, 1, ...: level when the widest fits its slot (slot_px wide),
 * else rotated by 45 degrees when lines that far apart do not collide, else upright (90
 * degrees) in a font small enough for one line per slot; when even the smallest readable font
 * is too tall, only every k-th name is written. Returns the bottom margin needed, in character
 * heights of the plot's font. */
static double put_xtics(Buf *s, const Term *tm, const Names *ns, double slot_px) {
    double widest = (double)names_widest(ns, NAME_CHARS);
    double angle = 0, scale = 1;
    size_t step = 1;
    if ((widest + 1) * tm->cw > slot_px) {
        if (slot_px >= 1.5 * tm->lh) angle = 45;
        else angle = 90, scale = fmax(0.6, fmin(1, slot_px / (1.05 * tm->lh)));
        if (slot_px < 1.05 * tm->lh * scale) step = (size_t)ceil(1.05 * tm->lh * scale / slot_px);
    }
    buf_puts(s, "set xtics (");
    for (size_t i = 0, first = 1; i < ns->n; i += step, first = 0) {
        if (!first) buf_puts(s, ", ");
        gp_quote(s, ns->v[i], NAME_CHARS);
        buf_printf(s, " %zu", i);
    }
    buf_puts(s, ") scale 0");
    if (angle > 0) buf_printf(s, " rotate by %g right", angle);
    if (scale < 1) buf_printf(s, " font ',%.1f'", tm->font * scale);
    buf_putc(s, '\n');
    if (angle == 0) return 2.5;
    /* the rotated label's height: its width times sin(angle), plus one line and the axis gap */
    return widest * tm->cw * scale * sin(angle * M_PI / 180) / tm->lh + 2;
}

static void draw_bars(Buf *s, const Term *tm, const Bars *b, const char *title, const char *ylabel,
                      const char *keytitle, double ymax) {
    size_t ng = b->groups.n, ns = b->series.n;
    double plot_px = tm->width - 15 * tm->cw;
    put_title(s, tm, title);
    buf_puts(s, "set ylabel ");
    gp_quote(s, ylabel, 0);
    buf_printf(s, "\nset lmargin 12\nset rmargin 3\nset xrange [-0.5:%zu.5]\n", ng - 1);
    double bmargin = put_xtics(s, tm, &b->groups, plot_px / (double)ng);
    buf_printf(s, "set bmargin %.1f\n", bmargin);
    if (ymax > 0) {
        buf_printf(s, "set yrange [0:%g]\nset ytics 0, %g, %g\n", ymax * 1.04, ymax / 5, ymax);
    } else {
        double top = 0;
        for (size_t i = 0; i < ng * ns; i++)
            if (b->v[i] > top) top = b->v[i];
        buf_printf(s, "set yrange [0:%.10g]\n", top > 0 ? top * 1.08 : 1);
    }
    /* the legend under the title, in rows, so that the bars keep the full width */
    int missing = 0;
    for (size_t i = 0; i < ng * ns; i++) missing |= isnan(b->v[i]);
    double entry_px = ((double)names_widest(&b->series, NAME_CHARS) + 8) * tm->cw;
    size_t cols = (size_t)fmax(1, floor((tm->width - 6 * tm->cw) / entry_px));
    size_t entries = ns + (size_t)missing;
    if (cols > entries) cols = entries;
    size_t rows = (entries + cols - 1) / cols;
    buf_printf(s, "set tmargin %.1f\n", 4.2 + 1.2 * (double)rows);
    buf_puts(s, "set grid ytics back lt 1 lc rgb '#e4e4e4' lw 1\n");
    buf_printf(s, "set key at screen 0.5, screen %.4f center top horizontal maxcols %zu Left reverse samplen 2 spacing 1.1 title ",
               1 - 2.3 * tm->lh / tm->height, cols);
    gp_quote(s, keytitle, 0);
    double w = 0.8 / (double)ns; /* each group spans 0.8 of its slot */
    buf_printf(s, "\nset boxwidth %g absolute\nset style fill solid 0.9 border lc rgb '#333333'\n", w);

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
        buf_puts(s, " title ");
        gp_quote(s, b->series.v[i], NAME_CHARS);
    }
    if (missing) buf_puts(s, ", \\\n     $missing using 1:2 with points pt 2 ps 1.2 lw 2 lc rgb '#222222' title 'no value'");
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

static void draw_kl(Buf *s, const Term *tm, const KlData *k, size_t *unlabelled) {
    double lo = INFINITY, hi = -INFINITY, bmin = INFINITY, bmax = -INFINITY;
    for (size_t i = 0; i < k->n; i++) {
        if (k->p[i].kl > 0) lo = fmin(lo, k->p[i].kl);
        hi = fmax(hi, k->p[i].kl);
        bmin = fmin(bmin, k->p[i].bits), bmax = fmax(bmax, k->p[i].bits);
    }
    int any_zero = 0;
    for (size_t i = 0; i < k->n; i++) any_zero |= k->p[i].kl <= 0;
    int logy = !any_zero && hi / lo >= 100;
    double y0, y1;
    if (logy) {
        y0 = pow(10, floor(log10(lo) - 0.2));
        y1 = pow(10, ceil(log10(hi) + 0.2));
    } else {
        y0 = 0;
        y1 = hi > 0 ? hi * 1.15 : 1;
    }
    double span = bmax - bmin, x0 = bmin - 0.1 * span - 0.5, x1 = bmax + 0.1 * span + 0.5;
    if (x0 < 0) x0 = 0;

    /* the plot area, fixed so that labels can be placed in pixels */
    static const char key_title[] = "family (base model)";
    double key_chars = fmax((double)names_widest(&k->families, NAME_CHARS) + 8, sizeof key_title + 3);
    double key_px = key_chars * tm->cw;
    double L = 12 * tm->cw, R = tm->width - key_px - 2 * tm->cw;
    double B = 4 * tm->lh, T = tm->height - 3 * tm->lh;
    buf_printf(s, "set lmargin at screen %.4f\nset rmargin at screen %.4f\n", L / tm->width, R / tm->width);
    buf_printf(s, "set bmargin at screen %.4f\nset tmargin at screen %.4f\n", B / tm->height, T / tm->height);
    buf_printf(s, "set xrange [%g:%g]\nset yrange [%g:%g]\n", x0, x1, y0, y1);
    if (logy) buf_puts(s, "set logscale y 10\nset format y '%.0e'\n");
    put_title(s, tm, "KL(P||Q) of each variant from its base, against bits per weight");
    buf_puts(s, "set xlabel 'bits per weight'\nset ylabel 'KL(P||Q), nats'\n"
                "set grid xtics ytics back lt 1 lc rgb '#e4e4e4' lw 1\n");
    buf_printf(s, "set key at screen %.4f, %.4f left top vertical Left reverse title '%s'\n",
               (R + 2 * tm->cw) / tm->width, T / tm->height, key_title);

    double pr = tm->lh * 0.45; /* a point's half-size in pixels */
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
        double w = (double)gp_text_width(k->p[i].model, NAME_CHARS) * tm->cw * 0.9, h = tm->lh * 0.9;
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
        double ox = dx[pick] * (pr + 4) / tm->cw, oy = dy[pick] * (pr + 2 + h / 2) / tm->lh;
        const char *align = dx[pick] > 0 ? "left" : dx[pick] < 0 ? "right" : "center";
        buf_puts(s, "set label ");
        gp_quote(s, k->p[i].model, NAME_CHARS);
        buf_printf(s, " at first %.10g, first %.10g %s offset character %.3f, %.3f font ',%g' front\n",
                   k->p[i].bits, k->p[i].kl, align, ox, oy, tm->font * 0.85);
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
    for (size_t f = 0; f < k->families.n; f++) {
        buf_printf(s, "%s$f%zu using 1:2 with linespoints lw 2 pt %d ps 1.4 lc rgb '%s' title ", f ? ", \\\n     " : "",
                   f, (int[]){7, 5, 9, 11, 13}[f % 5], colours[f % NCOLOURS]);
        gp_quote(s, k->families.v[f], NAME_CHARS);
    }
    buf_putc(s, '\n');
}

static void draw_heat(Buf *s, const Term *tm, const Heat *h) {
    size_t nk = h->kw.n, nv = h->variants.n;
    double m = 0;
    for (size_t i = 0; i < nk * nv; i++)
        if (!isnan(h->v[i])) m = fmax(m, fabs(h->v[i]));
    if (m == 0) m = 1;
    double lmargin = (double)names_widest(&h->variants, NAME_CHARS) + 3;
    char title[160];
    snprintf(title, sizeof title, "Keywords whose probability moved most in each variant: the top %zu of %zu", nk, h->total_kw);
    put_title(s, tm, title);
    buf_puts(s, "set tmargin 4\n");
    buf_printf(s, "set lmargin %.1f\nset rmargin 14\n", lmargin);
    double slot_px = (tm->width - (lmargin + 14) * tm->cw) / (double)nk;
    double bmargin = put_xtics(s, tm, &h->kw, slot_px);
    buf_printf(s, "set bmargin %.1f\n", bmargin);
    buf_puts(s, "set ytics (");
    for (size_t v = 0; v < nv; v++) {
        if (v) buf_puts(s, ", ");
        gp_quote(s, h->variants.v[v], NAME_CHARS);
        buf_printf(s, " %zu", nv - 1 - v); /* the first variant on top */
    }
    buf_puts(s, ") scale 0\nset border 0\n");
    buf_printf(s, "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\n", nk - 1, nv - 1);
    buf_printf(s, "set cbrange [%.10g:%.10g]\nset cblabel 'ln(p_sum variant / p_sum base)'\n", -m, m);
    buf_puts(s, "set palette defined (0 '#2166ac', 0.25 '#92c5de', 0.5 '#f7f7f7', 0.75 '#f4a582', 1 '#b2182b')\n"
                "set object 1 rectangle from graph 0, graph 0 to graph 1, graph 1 behind "
                "fillcolor rgb '#b0b0b0' fillstyle solid noborder\n");
    for (size_t k = 1; k < nk && slot_px >= 8; k++) /* cell borders, while cells are wide enough */
        buf_printf(s, "set arrow from %zu.5, graph 0 to %zu.5, graph 1 nohead front lc rgb 'white' lw 1\n", k - 1, k - 1);
    for (size_t v = 1; v < nv; v++)
        buf_printf(s, "set arrow from graph 0, first %zu.5 to graph 1, first %zu.5 nohead front lc rgb 'white' lw 2\n", v - 1, v - 1);
    int missing = 0;
    for (size_t i = 0; i < nk * nv; i++) missing |= isnan(h->v[i]);
    if (missing) buf_printf(s, "set label 'grey: no value' at graph 1, graph 1 right offset 0, 0.8 font ',%g' tc rgb '#555555'\n", tm->font * 0.85);
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

static const char *const fig_names[PLOT_NFIGURES] = {"pkp_by_language", "kl_vs_bits", "keyword_heatmap",
                                                     "coverage_by_language"};
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
    *tm = (Term){.format = o->format, .name = name, .width = o->width, .height = o->height, .font = 13};
    /* Text sizes measured on these terminals with DejaVu Sans: a point is a pixel in pngcairo and
     * svg (and in pdfcairo at fontscale 0.71, width/100 inches), an average code character is
     * about 0.6 em wide, and gnuplot spaces lines 1.5 em apart. The estimates err on the wide side. */
    tm->cw = 0.62 * tm->font;
    tm->lh = 1.5 * tm->font;
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
    Bars pkp, cov;
    KlData kl;
    Heat heat;
    int have[PLOT_NFIGURES];
} Loaded;

static void loaded_free(Loaded *d) {
    if (d->have[0]) bars_free(&d->pkp);
    if (d->have[1]) kl_free(&d->kl);
    if (d->have[2]) heat_free(&d->heat);
    if (d->have[3]) bars_free(&d->cov);
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
    CsvTable metrics, models, kw, cov;
    int rm = read_if_there(&metrics, o->dir, "metrics.csv", req_metrics, err);
    int rmo = rm < 0 ? -1 : read_if_there(&models, o->dir, "models.csv", req_models, err);
    int rk = rmo < 0 ? -1 : read_if_there(&kw, o->dir, "keywords.csv", req_kw, err);
    int rc = rk < 0 ? -1 : read_if_there(&cov, o->dir, "coverage_summary.csv", req_cov, err);
    int ret = -1;
    if (rc < 0) goto out;

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
    ret = 0;
out:
    if (ret < 0) loaded_free(d), memset(d->have, 0, sizeof d->have);
    if (rm > 0) csv_table_free(&metrics);
    if (rmo > 0) csv_table_free(&models);
    if (rk > 0) csv_table_free(&kw);
    if (rc > 0) csv_table_free(&cov);
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

/* Writes figure i's script (after its head) and its note. */
static void draw_figure(int i, Buf *s, const Term *tm, const Loaded *d, PlotFigure *f, Buf *warn) {
    switch (i) {
    case 0:
        draw_bars(s, tm, &d->pkp, "PKP: probability mass on each language's keyword tokens at cold start", "PKP",
                  "model", 0);
        note(f->note, sizeof f->note, "%zu %s x %zu %s", d->pkp.groups.n, plural(d->pkp.groups.n, "language", "languages"),
             d->pkp.series.n, plural(d->pkp.series.n, "model", "models"));
        break;
    case 1: {
        size_t unlabelled = 0;
        draw_kl(s, tm, &d->kl, &unlabelled);
        note(f->note, sizeof f->note, "%zu %s in %zu %s", d->kl.n, plural(d->kl.n, "variant", "variants"),
             d->kl.families.n, plural(d->kl.families.n, "family", "families"));
        if (unlabelled)
            buf_printf(warn, "kl_vs_bits: %zu of %zu points left without a label: no free room next to them\n",
                       unlabelled, d->kl.n);
        break;
    }
    case 2:
        draw_heat(s, tm, &d->heat);
        note(f->note, sizeof f->note, "%zu %s (of %zu) x %zu %s", d->heat.kw.n, plural(d->heat.kw.n, "keyword", "keywords"),
             d->heat.total_kw, d->heat.variants.n, plural(d->heat.variants.n, "variant", "variants"));
        break;
    case 3:
        draw_bars(s, tm, &d->cov, "Keyword coverage per language and tokenizer", "coverage (covered keywords / keywords)",
                  "tokenizer", 1.0);
        note(f->note, sizeof f->note, "%zu %s x %zu %s", d->cov.groups.n, plural(d->cov.groups.n, "language", "languages"),
             d->cov.series.n, plural(d->cov.series.n, "tokenizer", "tokenizers"));
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
