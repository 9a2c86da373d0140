/* tfboot: see tfboot.h. Both bootstraps first fold the positions into per-cluster sums (one
 * pass), so a replicate costs one draw and a few additions per cluster, not per position. */
#include "analysis/tfboot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* ---- random draws: splitmix64, and a uniform index by a 128-bit multiply (bias < n / 2^64) ---- */

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t draw(uint64_t *rng, size_t n) {
    return (size_t)(((unsigned __int128)splitmix(rng) * n) >> 64);
}

/* ---- per-cluster sums ---- */

#define NSUM 4 /* the sums a statistic may need per cluster */

typedef struct {
    double n;          /* positions */
    double s[NSUM];    /* sums of up to NSUM per-position values */
} Cluster;

/* The clusters of the positions that `keep` accepts, with value(i, out[NSUM]) summed per cluster.
 * Cluster ids are mapped to 0 .. k-1 in order of first appearance (a sample without cluster ids:
 * one cluster per position). Returns k; *out is allocated. */
typedef int (*Keep)(const void *ctx, size_t i);
typedef void (*Value)(const void *ctx, size_t i, double out[NSUM]);

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static size_t fold(const uint32_t *cluster, size_t n, Keep keep, Value value, const void *ctx, Cluster **out) {
    /* distinct ids, sorted, then each position's cluster found by binary search */
    uint32_t *ids = xmalloc((n + 1) * sizeof *ids);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (keep(ctx, i)) {
            ids[k] = cluster ? cluster[i] : (uint32_t)k;
            k++;
        }
    if (cluster) {
        qsort(ids, k, sizeof *ids, cmp_u32);
        size_t u = 0;
        for (size_t i = 0; i < k; i++)
            if (u == 0 || ids[i] != ids[u - 1]) ids[u++] = ids[i];
        k = u;
    }
    Cluster *c = xcalloc(k + 1, sizeof *c);
    size_t seq = 0;
    for (size_t i = 0; i < n; i++) {
        if (!keep(ctx, i)) continue;
        size_t j = seq++;
        if (cluster) {
            const uint32_t *hit = bsearch(&cluster[i], ids, k, sizeof *ids, cmp_u32);
            j = (size_t)(hit - ids);
        }
        double v[NSUM] = {0};
        value(ctx, i, v);
        c[j].n += 1;
        for (int s = 0; s < NSUM; s++) c[j].s[s] += v[s];
    }
    free(ids);
    *out = c;
    return k;
}

/* ---- percentile intervals ---- */

static int cmp_double(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* The 2.5th and 97.5th percentiles of rep[reps] (sorted in place), NaN replicates left out. */
static TfInterval interval(double *rep, int reps) {
    size_t n = 0;
    for (int r = 0; r < reps; r++)
        if (!isnan(rep[r])) rep[n++] = rep[r];
    if (n == 0) return (TfInterval){NAN, NAN};
    qsort(rep, n, sizeof *rep, cmp_double);
    return (TfInterval){tf_percentile(rep, n, 2.5), tf_percentile(rep, n, 97.5)};
}

/* reps replicates of the statistics stat(sums) over k clusters drawn with replacement from c:
 * rep[j][r] for each of the nstat statistics. */
typedef void (*Stat)(const Cluster *sum, double *out);

static void replicate(const Cluster *c, size_t k, int reps, uint64_t seed, Stat stat, int nstat, double **rep) {
    uint64_t rng = seed;
    for (int r = 0; r < reps; r++) {
        Cluster sum = {0};
        for (size_t i = 0; i < k; i++) {
            const Cluster *d = &c[draw(&rng, k)];
            sum.n += d->n;
            for (int s = 0; s < NSUM; s++) sum.s[s] += d->s[s];
        }
        double v[NSUM];
        stat(&sum, v);
        for (int j = 0; j < nstat; j++) rep[j][r] = v[j];
    }
}

static int usable(const TfPos *p) { return !isnan(p->kl) && !isnan(p->lp_base) && !isnan(p->lp_var); }

/* ---- intervals of one sample's means ---- */

static int keep_one(const void *ctx, size_t i) { return usable(&((const TfSample *)ctx)->v[i]); }

static void value_one(const void *ctx, size_t i, double v[NSUM]) {
    const TfPos *p = &((const TfSample *)ctx)->v[i];
    v[0] = p->kl;
    v[1] = exp((double)p->lp_var) - exp((double)p->lp_base);
    v[2] = p->same_top1 != 0;
    v[3] = (double)p->lp_base - (double)p->lp_var;
}

static void stat_one(const Cluster *sum, double *out) {
    for (int s = 0; s < 3; s++) out[s] = sum->s[s] / sum->n;
    out[3] = exp(sum->s[3] / sum->n);
}

void tf_cluster_ci(const TfSample *s, int reps, uint64_t seed, TfCi *out) {
    Cluster *c;
    size_t k = fold(s->cluster, s->n, keep_one, value_one, s, &c);
    TfInterval none = {NAN, NAN};
    *out = (TfCi){.clusters = k, .dp_mean = NAN, .kl_mean = none, .dp_mean_ci = none,
                  .same_top1 = none, .ppl_ratio = none};
    double n = 0, dp = 0;
    for (size_t i = 0; i < k; i++) n += c[i].n, dp += c[i].s[1];
    if (k > 0) out->dp_mean = dp / n;
    if (k > 0 && reps > 0) {
        double *rep[4];
        for (int j = 0; j < 4; j++) rep[j] = xmalloc((size_t)reps * sizeof **rep);
        replicate(c, k, reps, seed, stat_one, 4, rep);
        out->kl_mean = interval(rep[0], reps);
        out->dp_mean_ci = interval(rep[1], reps);
        out->same_top1 = interval(rep[2], reps);
        out->ppl_ratio = interval(rep[3], reps);
        for (int j = 0; j < 4; j++) free(rep[j]);
    }
    free(c);
}

/* ---- paired comparisons ---- */

typedef struct {
    const TfSample *a, *b;
    TfSide sa, sb;
} Pair;

static double side_kl(const TfPos *p, TfSide s) { return s == TF_SIDE_BASE ? 0 : p->kl; }
static double side_ll(const TfPos *p, TfSide s) { return s == TF_SIDE_BASE ? p->lp_base : p->lp_var; }
static int side_ok(const TfPos *p, TfSide s) { return s == TF_SIDE_BASE ? p->top1_base : p->top1_var; }

static int keep_pair(const void *ctx, size_t i) {
    const Pair *p = ctx;
    return usable(&p->a->v[i]) && usable(&p->b->v[i]);
}

static void value_pair(const void *ctx, size_t i, double v[NSUM]) {
    const Pair *p = ctx;
    const TfPos *a = &p->a->v[i], *b = &p->b->v[i];
    v[0] = side_kl(b, p->sb) - side_kl(a, p->sa);
    v[1] = side_ll(b, p->sb) - side_ll(a, p->sa);
    v[2] = side_ok(a, p->sa);
    v[3] = side_ok(b, p->sb);
}

static void stat_pair(const Cluster *sum, double *out) {
    out[0] = sum->s[0] / sum->n;
    out[1] = sum->s[1] / sum->n;
}

void tf_paired(const TfSample *a, TfSide sa, const TfSample *b, TfSide sb, int reps, uint64_t seed,
               TfPaired *out) {
    TfInterval none = {NAN, NAN};
    *out = (TfPaired){.dkl = NAN, .dkl_ci = none, .dll = NAN, .dll_ci = none, .top1_a = NAN,
                      .top1_b = NAN, .odds_ratio = NAN, .p_mcnemar = NAN};
    if (a->n != b->n) return;
    Pair pr = {a, b, sa, sb};
    Cluster *c;
    size_t k = fold(a->cluster, a->n, keep_pair, value_pair, &pr, &c);
    double n = 0, dkl = 0, dll = 0, ok_a = 0, ok_b = 0;
    for (size_t i = 0; i < k; i++) n += c[i].n, dkl += c[i].s[0], dll += c[i].s[1], ok_a += c[i].s[2], ok_b += c[i].s[3];
    for (size_t i = 0; i < a->n; i++) {
        if (!keep_pair(&pr, i)) continue;
        int x = side_ok(&a->v[i], sa), y = side_ok(&b->v[i], sb);
        out->only_a += x && !y;
        out->only_b += y && !x;
    }
    out->n = (size_t)n, out->clusters = k;
    if (k > 0) {
        out->dkl = dkl / n, out->dll = dll / n, out->top1_a = ok_a / n, out->top1_b = ok_b / n;
        out->odds_ratio = out->only_a ? (double)out->only_b / (double)out->only_a : out->only_b ? INFINITY : NAN;
        out->p_mcnemar = tf_mcnemar_exact(out->only_a, out->only_b);
    }
    if (k > 0 && reps > 0) {
        double *rep[2] = {xmalloc((size_t)reps * sizeof(double)), xmalloc((size_t)reps * sizeof(double))};
        replicate(c, k, reps, seed, stat_pair, 2, rep);
        out->dkl_ci = interval(rep[0], reps);
        out->dll_ci = interval(rep[1], reps);
        free(rep[0]), free(rep[1]);
    }
    free(c);
}

/* ---- tests ---- */

double tf_mcnemar_exact(size_t a, size_t b) {
    size_t n = a + b, k = a < b ? a : b;
    if (n == 0) return 1;
    /* P(X <= k) = sum_{i<=k} C(n, i) / 2^n, each term in logs (n may be in the millions) */
    double tail = 0, lg_n1 = lgamma((double)n + 1);
    for (size_t i = 0; i <= k; i++)
        tail += exp(lg_n1 - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) - (double)n * log(2.0));
    return fmin(1, 2 * tail);
}

typedef struct {
    double p;
    size_t i;
} Ranked;

static int cmp_ranked(const void *pa, const void *pb) {
    const Ranked *a = pa, *b = pb;
    return (a->p > b->p) - (a->p < b->p);
}

void tf_bh(const double *p, size_t n, double *adj) {
    Ranked *r = xmalloc((n + 1) * sizeof *r);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(p[i])) r[m++] = (Ranked){p[i], i};
    for (size_t i = 0; i < n; i++)
        if (isnan(p[i])) adj[i] = NAN;
    qsort(r, m, sizeof *r, cmp_ranked);
    double run = 1;
    for (size_t j = m; j-- > 0;) { /* from the largest p down: the running minimum of p m / rank */
        double v = r[j].p * (double)m / (double)(j + 1);
        if (v < run) run = v;
        adj[r[j].i] = run;
    }
    free(r);
}
