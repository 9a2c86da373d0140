/* data_drift: the data of drift_kl_distribution and drift_keyword_vs_other, from the files
 * `coldtok drift` writes (drift_kl_hist.csv, drift.csv); see data.h. */
#include "plots/data.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void dist_free(Dist *d) {
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
int load_dist(const CsvTable *t, Dist *d, Err *err) {
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
int load_kw_ratio(const CsvTable *t, Bars *b, size_t *zero, Err *err) {
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

/* drift.csv's statistic over all languages and positions, with its interval, for each variant that
 * drift_models.csv gives bits per weight; the family is drift_models.csv's base (role base). */
int load_drift_kl(const CsvTable *t, const CsvTable *models, const char *statname, KlData *k, Err *err) {
    memset(k, 0, sizeof *k);
    int mm = csv_table_col(models, "model"), mrole = csv_table_col(models, "role");
    int mb = csv_table_col(models, "bits_per_weight"), mmeth = csv_table_col(models, "method");
    int mcal = csv_table_col(models, "calibration");
    const char *base = NULL;
    for (size_t r = 0; r < models->nrows && !base; r++)
        if (!strcmp(csv_table_cell(models, r, mrole), "base")) base = csv_table_cell(models, r, mm);
    if (!base) return err_set(err, "%s: no model with role base", models->path);
    size_t fam = names_add(&k->families, base);
    int cv = csv_table_col(t, "variant"), cl = csv_table_col(t, "lang"), cp = csv_table_col(t, "positions");
    int cs = csv_table_col(t, "statistic"), cval = csv_table_col(t, "value");
    k->p = xmalloc((models->nrows + 1) * sizeof *k->p);
    for (size_t r = 0; r < models->nrows; r++) {
        const char *name = csv_table_cell(models, r, mm);
        if (!strcmp(csv_table_cell(models, r, mrole), "base")) continue;
        double bits, stat[3] = {NAN, NAN, NAN}; /* the statistic, its lo, its hi */
        size_t ignored = 0;
        if (read_value(models, r, mb, &bits, &ignored, err) < 0) return kl_free(k), -1;
        for (size_t i = 0; i < t->nrows; i++) {
            if (strcmp(csv_table_cell(t, i, cv), name) || strcmp(csv_table_cell(t, i, cl), "all") ||
                strcmp(csv_table_cell(t, i, cp), "all"))
                continue;
            const char *st = csv_table_cell(t, i, cs);
            size_t n = strlen(statname);
            if (strncmp(st, statname, n)) continue;
            int j = !st[n] ? 0 : !strcmp(st + n, "_lo") ? 1 : !strcmp(st + n, "_hi") ? 2 : -1;
            if (j < 0) continue;
            if (read_value(t, i, cval, &stat[j], &k->dropped, err) < 0) return kl_free(k), -1;
            if (stat[j] < -1e-9) {
                err_set(err, "%s: line %d: %s %g is negative", t->path, t->line[i], st, stat[j]);
                return kl_free(k), -1;
            }
        }
        if (isnan(stat[0])) continue; /* compared per byte, or not scored */
        if (isnan(bits)) {
            k->no_bits++;
            continue;
        }
        Provenance pv = {csv_table_cell(models, r, mmeth), csv_table_cell(models, r, mcal), "", mmeth >= 0, 0};
        /* drift_models.csv has no kind: with a method column, a variant without one is drawn apart */
        kl_add_point(k, name, fam, &pv, bits, fmax(stat[0], 0), stat[1], stat[2]);
    }
    kl_finish(k);
    return 0;
}
