/* data_probe: the data of kl_vs_bits and keyword_heatmap, from the files `coldtok probe/diff`
 * write (metrics.csv, models.csv, keywords.csv); see data.h. */
#include "plots/data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plots/gnuplot.h"

void kl_free(KlData *k) {
    for (size_t i = 0; i < k->n; i++) free(k->p[i].model), free(k->p[i].method);
    free(k->p);
    names_free(&k->families);
    names_free(&k->series);
}

/* bits_per_weight and base of each model in models.csv. The file has one row per model and
 * context: the rows of one model must agree on its bits. */
typedef struct {
    Names names;
    double *bits;
    const char **base;
    Provenance *pv; /* its cells point into the table */
} ModelInfo;

static void info_free(ModelInfo *mi) {
    names_free(&mi->names);
    free(mi->bits);
    free(mi->base);
    free(mi->pv);
}

static int load_models(const CsvTable *models, ModelInfo *mi, Err *err) {
    memset(mi, 0, sizeof *mi);
    mi->bits = xmalloc((models->nrows + 1) * sizeof *mi->bits);
    mi->base = xmalloc((models->nrows + 1) * sizeof *mi->base);
    mi->pv = xmalloc((models->nrows + 1) * sizeof *mi->pv);
    int cmeth = csv_table_col(models, "method"), ccal = csv_table_col(models, "calibration");
    int ckind = csv_table_col(models, "kind");
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
        mi->pv[i] = (Provenance){csv_table_cell(models, r, cmeth), csv_table_cell(models, r, ccal),
                                 csv_table_cell(models, r, ckind), cmeth >= 0, ckind >= 0};
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
        kl_add_point(k, model, add_series(&k->families, base, ctx, k->several), &mi.pv[i], mi.bits[i], v < 0 ? 0 : v,
                     NAN, NAN);
    }
    k->nmodels = orig.models.n, k->ncontexts = orig.contexts.n;
    kl_finish(k);
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
    free(h->score);
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

/* The label of keyword k: "kw (lang)", "kw (c, cpp)", "kw (bash, c +14)"; its language part is
 * kept whole when the label is cut. */
static void add_kw_label(Names *kw, const char *key, const char *l1, const char *l2, size_t nlangs) {
    Buf shown = {0}, langs = {0};
    gp_shorten(&shown, key, NAME_CHARS);
    if (nlangs == 1) buf_printf(&langs, " (%s)", l1);
    else if (nlangs == 2) buf_printf(&langs, " (%s, %s)", l1, l2);
    else if (nlangs > 2) buf_printf(&langs, " (%s, %s +%zu)", l1, l2, nlangs - 2);
    if (langs.len) buf_puts(&shown, langs.data);
    names_add_tailed(kw, key, shown.data, langs.len);
    buf_free(&shown);
    buf_free(&langs);
}

/* A keyword in several languages is one column: its probability does not depend on the language,
 * so the first row for it is used, and its label names the languages. Each cell's contribution to
 * the divergence is p_sum(base) x |log_ratio|, with p_sum(base) = p_sum(variant) / e^log_ratio
 * (weight 1 when the file has no p_sum column); a keyword's score is the sum over the variants. */
int load_heat(const CsvTable *t, int top, Heat *h, Err *err) {
    memset(h, 0, sizeof *h);
    int cm = csv_table_col(t, "model"), ck = csv_table_col(t, "keyword"), cl = csv_table_col(t, "log_ratio");
    int cc = csv_table_col(t, "context"), cp = csv_table_col(t, "p_sum"), clang = csv_table_col(t, "lang");
    h->several = several_contexts(t, cm, cc);
    Names all = {0}, kwlangs = {0};
    Origins orig = {0};
    Buf key = {0};
    size_t n = 0, *vi = xmalloc((t->nrows + 1) * sizeof *vi), *ki = xmalloc((t->nrows + 1) * sizeof *ki);
    double *val = xmalloc((t->nrows + 1) * sizeof *val), *wt = xmalloc((t->nrows + 1) * sizeof *wt);
    size_t *nl = NULL;
    const char **l1 = NULL, **l2 = NULL;
    int rc = -1;
    for (size_t r = 0; r < t->nrows; r++) {
        if (!*csv_table_cell(t, r, cl)) continue; /* a base model */
        const char *kw = csv_table_cell(t, r, ck);
        if (!*kw) {
            err_set(err, "%s: line %d: empty keyword", t->path, t->line[r]);
            goto out;
        }
        double v, p = 1;
        size_t ignored = 0;
        if (read_value(t, r, cl, &v, &h->dropped, err) < 0) goto out;
        if (cp >= 0 && read_value(t, r, cp, &p, &ignored, err) < 0) goto out;
        vi[n] = add_series(&h->variants, csv_table_cell(t, r, cm), csv_table_cell(t, r, cc), h->several);
        if (h->several) origins_note(&orig, csv_table_cell(t, r, cm), csv_table_cell(t, r, cc));
        ki[n] = names_add_shown(&all, kw, "");
        wt[n] = cp >= 0 ? p * exp(-v) : 1;
        val[n++] = v;
    }
    h->nmodels = orig.models.n, h->ncontexts = orig.contexts.n;
    size_t nv = h->variants.n, nk = all.n;
    if (nv && nk > MAX_CELLS / nv) {
        err_set(err, "%s: %zu variants x %zu keywords: too many to draw", t->path, nv, nk);
        goto out;
    }
    /* the languages of each keyword, from every row (bases too), in order of appearance */
    nl = xcalloc(nk + 1, sizeof *nl);
    l1 = xcalloc(nk + 1, sizeof *l1), l2 = xcalloc(nk + 1, sizeof *l2);
    for (size_t r = 0; clang >= 0 && r < t->nrows; r++) {
        long k = names_find(&all, csv_table_cell(t, r, ck));
        const char *lang = csv_table_cell(t, r, clang);
        if (k < 0 || !*lang) continue;
        pair_key(&key, all.v[k], lang);
        size_t before = kwlangs.n;
        if (names_add_shown(&kwlangs, key.data, "") < before) continue;
        if (!nl[k]) l1[k] = lang;
        else if (nl[k] == 1) l2[k] = lang;
        nl[k]++;
    }
    double *full = xmalloc((nv * nk + 1) * sizeof *full), *wfull = xmalloc((nv * nk + 1) * sizeof *wfull);
    char *set = xcalloc(nv * nk + 1, 1);
    for (size_t i = 0; i < nv * nk; i++) full[i] = NAN, wfull[i] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t c = vi[i] * nk + ki[i];
        if (!set[c]) full[c] = val[i], wfull[c] = wt[i], set[c] = 1;
    }
    Ranked *rank = xmalloc((nk + 1) * sizeof *rank);
    for (size_t k = 0; k < nk; k++) {
        rank[k] = (Ranked){0, k};
        for (size_t v = 0; v < nv; v++) {
            double c = wfull[v * nk + k] * fabs(full[v * nk + k]);
            if (isfinite(c)) rank[k].score += c;
        }
    }
    qsort(rank, nk, sizeof *rank, by_score);
    size_t keep = nk < (size_t)top ? nk : (size_t)top;
    h->score = xmalloc((keep + 1) * sizeof *h->score);
    for (size_t k = 0; k < keep; k++) {
        size_t j = rank[k].idx;
        add_kw_label(&h->kw, all.v[j], l1[j], l2[j], nl[j]);
        h->score[k] = rank[k].score;
    }
    h->v = xmalloc((nv * keep + 1) * sizeof *h->v);
    for (size_t v = 0; v < nv; v++)
        for (size_t k = 0; k < keep; k++) h->v[v * keep + k] = full[v * nk + rank[k].idx];
    h->total_kw = nk;
    free(full), free(wfull), free(set), free(rank);
    rc = 0;
out:
    names_free(&all), names_free(&kwlangs);
    origins_free(&orig);
    buf_free(&key);
    free(vi), free(ki), free(val), free(wt), free(nl), free(l1), free(l2);
    if (rc < 0) heat_free(h);
    return rc;
}
