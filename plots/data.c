/* data: see data.h. The cell readers, the grouped bars of a table and the figure notes; load_all,
 * which reads the CSV files and hands each figure its data, is in load.c, above the per-figure
 * loaders (data_probe.c, data_drift.c) that use these. */
#include "plots/data.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Probabilities written with %.10g may exceed 1 by rounding; more than this is a wrong file. */
#define PROB_SLACK 1e-6

int read_value(const CsvTable *t, size_t r, int col, double *v, size_t *dropped, Err *err) {
    if (csv_table_number(t, r, col, v, err) < 0) return -1;
    if (!isfinite(*v)) {
        if (!isnan(*v) || *csv_table_cell(t, r, col)) ++*dropped;
        *v = NAN;
    }
    return 0;
}

int read_finite(const CsvTable *t, size_t r, int col, double *v, Err *err) {
    if (csv_table_number(t, r, col, v, err) < 0) return -1;
    if (isfinite(*v)) return 0;
    char shown[80];
    const char *cell = csv_table_cell(t, r, col);
    if (!*cell) return err_set(err, "%s: line %d: empty %s", t->path, t->line[r], t->header[col]);
    return err_set(err, "%s: line %d: %s '%s' is not a finite number", t->path, t->line[r], t->header[col],
                   csv_visible(cell, shown, sizeof shown));
}

void bars_free(Bars *b) {
    names_free(&b->groups);
    names_free(&b->series);
    free(b->v);
}

int load_bars(const CsvTable *t, const char *series_col, const char *group_col, const char *value_col,
              const char *metric, Bars *b, Err *err) {
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
    origins_free(&orig);
    free(gi), free(si), free(row), free(val);
    if (rc < 0) bars_free(b);
    return rc;
}

/* ---- notes ---- */

void fig_note(PlotFigure *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->note, sizeof f->note, fmt, ap);
    va_end(ap);
}
