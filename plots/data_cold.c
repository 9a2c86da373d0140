/* data_cold: the data of cold_start_mass and keyword_concentration (metrics.csv of `coldtok
 * probe/diff`) and the match rule of coverage_summary.csv; see data.h. */
#include "plots/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Probabilities written with %.10g may exceed 1 by rounding; more than this is a wrong file. */
#define PROB_SLACK 1e-6

/* One (series, metric, value) cell of a model-by-metric table being built. */
typedef struct {
    size_t model, metric;
    double v;
} Cell;

/* Bars with groups = models, series = those of the metrics names[] that have a value; the value
 * of a (model, metric) is the mean of its cells (one cell each, except for per-language means). */
static void cells_to_bars(Bars *b, const Cell *c, size_t n, const char *const *names, const char *const *shown,
                          size_t nmetrics, size_t *most_cells) {
    double *sum = xcalloc(b->groups.n * nmetrics + 1, sizeof *sum);
    size_t *cnt = xcalloc(b->groups.n * nmetrics + 1, sizeof *cnt);
    size_t *col = xmalloc((nmetrics + 1) * sizeof *col);
    for (size_t i = 0; i < n; i++) {
        if (isnan(c[i].v)) continue;
        sum[c[i].model * nmetrics + c[i].metric] += c[i].v;
        cnt[c[i].model * nmetrics + c[i].metric]++;
    }
    for (size_t m = 0; m < nmetrics; m++) {
        size_t any = 0;
        for (size_t g = 0; g < b->groups.n; g++) any += cnt[g * nmetrics + m];
        col[m] = any ? names_add_shown(&b->series, names[m], shown[m]) : (size_t)-1;
    }
    size_t ns = b->series.n;
    b->v = xmalloc((b->groups.n * ns + 1) * sizeof *b->v);
    for (size_t i = 0; i < b->groups.n * ns; i++) b->v[i] = NAN;
    for (size_t g = 0; g < b->groups.n; g++)
        for (size_t m = 0; m < nmetrics; m++) {
            size_t k = g * nmetrics + m;
            if (col[m] == (size_t)-1 || !cnt[k]) continue;
            b->v[g * ns + col[m]] = sum[k] / (double)cnt[k];
            if (most_cells && cnt[k] > *most_cells) *most_cells = cnt[k];
        }
    free(sum), free(cnt), free(col);
}

/* Rows of metrics.csv whose metric is one of names[] (and whose scope want_scope(m, scope)
 * accepts) become bars of (model [@ context]) x metric: the mean of a model's rows for a metric
 * (*most_cells: the most rows one mean is over). A second row for one (model, context, scope,
 * metric) is an error; values must lie in [0, 1] when prob, else be >= 0. */
static int collect(const CsvTable *t, const char *const *names, const char *const *shown, size_t nmetrics,
                   int (*want_scope)(size_t m, const char *scope), int prob, Bars *b, size_t *most_cells, Err *err) {
    memset(b, 0, sizeof *b);
    int cm = csv_table_col(t, "model"), cs = csv_table_col(t, "scope"), cmet = csv_table_col(t, "metric");
    int cv = csv_table_col(t, "value"), cc = csv_table_col(t, "context");
    b->several = several_contexts(t, cm, cc);
    Cell *c = xmalloc((t->nrows + 1) * sizeof *c);
    Names seen = {0};
    Origins orig = {0};
    Buf key = {0};
    size_t n = 0;
    int rc = -1;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *metric = csv_table_cell(t, r, cmet), *scope = csv_table_cell(t, r, cs);
        size_t m = 0;
        while (m < nmetrics && strcmp(metric, names[m])) m++;
        if (m == nmetrics || !want_scope(m, scope)) continue;
        const char *model = csv_table_cell(t, r, cm), *ctx = csv_table_cell(t, r, cc);
        key.len = 0;
        buf_printf(&key, "%zu:%s%zu:%s%zu:%s%s", strlen(model), model, strlen(ctx), ctx, strlen(scope), scope, metric);
        if (names_find(&seen, key.data) >= 0) {
            char sm[80], ss[80];
            err_set(err, "%s: line %d: a second %s row for model '%s', scope '%s'", t->path, t->line[r], metric,
                    csv_visible(model, sm, sizeof sm), csv_visible(scope, ss, sizeof ss));
            goto out;
        }
        names_add_shown(&seen, key.data, "");
        double v;
        if (read_value(t, r, cv, &v, &b->dropped, err) < 0) goto out;
        if (prob && (v < -PROB_SLACK || v > 1 + PROB_SLACK)) {
            err_set(err, "%s: line %d: %s %g is outside [0, 1]", t->path, t->line[r], metric, v);
            goto out;
        }
        if (!prob && v < 0) {
            err_set(err, "%s: line %d: %s %g is negative", t->path, t->line[r], metric, v);
            goto out;
        }
        if (b->several) origins_note(&orig, model, ctx);
        c[n++] = (Cell){add_series(&b->groups, model, ctx, b->several), m, v};
    }
    b->nmodels = orig.models.n, b->ncontexts = orig.contexts.n;
    cells_to_bars(b, c, n, names, shown, nmetrics, most_cells);
    rc = 0;
out:
    free(c);
    names_free(&seen);
    origins_free(&orig);
    buf_free(&key);
    if (rc < 0) bars_free(b);
    return rc;
}

/* nlp is the English control set's PKP (scope english); stp and indent_mass are over the whole
 * distribution (scope all). */
static int nlp_scope(size_t m, const char *scope) { return (void)m, !strcmp(scope, "english"); }
static int all_scope(size_t m, const char *scope) { return (void)m, !strcmp(scope, "all"); }

int load_measure(const CsvTable *t, const char *metric, const char *shown, Bars *b, Err *err) {
    const char *names[1] = {metric}, *shown1[1] = {shown};
    return collect(t, names, shown1, 1, strcmp(metric, "nlp") ? all_scope : nlp_scope, 1, b, NULL, err);
}

/* n80 .. n95 are per language: every scope but all and english. */
static int lang_scope(size_t m, const char *scope) {
    (void)m;
    return *scope && strcmp(scope, "all") && strcmp(scope, "english");
}

int load_conc(const CsvTable *t, Bars *b, size_t *langs, Err *err) {
    static const char *const names[] = {"n80", "n85", "n90", "n95"};
    static const char *const shown[] = {"n80", "n85", "n90", "n95"};
    *langs = 0;
    return collect(t, names, shown, 4, lang_scope, 0, b, langs, err);
}

void coverage_match(const CsvTable *t, char *match, size_t cap) {
    int cm = csv_table_col(t, "match");
    *match = '\0';
    if (cm < 0 || !t->nrows) return;
    const char *first = csv_table_cell(t, 0, cm);
    for (size_t r = 1; r < t->nrows; r++)
        if (strcmp(csv_table_cell(t, r, cm), first)) {
            snprintf(match, cap, "several");
            return;
        }
    snprintf(match, cap, "%s", first);
}
