/* data_probe: the data of kl_vs_bits and keyword_heatmap, from the files `coldtok probe/diff`
 * write (metrics.csv, models.csv, keywords.csv); see data.h. */
#include "plots/data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kl_free(KlData *k) {
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

/* Each variant's bits per weight come from models.csv; its family is its base (metrics.csv, else
 * models.csv), and its context when the file has several. */
int load_kl(const CsvTable *m, const CsvTable *models, KlData *k, Err *err) {
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
    origins_free(&orig);
    info_free(&mi);
    if (rc < 0) kl_free(k);
    return rc;
}

void heat_free(Heat *h) {
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

/* A keyword in several languages is one column: its probability does not depend on the language,
 * so the first row for it is used. */
int load_heat(const CsvTable *t, int top, Heat *h, Err *err) {
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
    origins_free(&orig);
    free(vi), free(ki), free(val);
    if (rc < 0) heat_free(h);
    return rc;
}
