/* metrics: see metrics.h. */
#include "analysis/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

double metric_log_softmax(const float *z, size_t n, double *logp) {
    double max = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (z[i] > max) max = z[i];
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += exp((double)z[i] - max);
    double lse = max + log(sum);
    for (size_t i = 0; i < n; i++) logp[i] = (double)z[i] - lse;
    return lse;
}

void metric_probs_from_log(const double *logp, size_t n, double *p) {
    for (size_t i = 0; i < n; i++) p[i] = exp(logp[i]);
}

double metric_entropy(const double *logp, size_t n) {
    double h = 0;
    for (size_t i = 0; i < n; i++)
        if (logp[i] > -INFINITY) h -= exp(logp[i]) * logp[i];
    return h;
}

double metric_kl_divergence(const double *logp, const double *logq, size_t n) {
    double kl = 0;
    for (size_t i = 0; i < n; i++)
        if (logp[i] > -INFINITY) kl += exp(logp[i]) * (logp[i] - logq[i]);
    return kl;
}

/* log((e^a + e^b) / 2) without overflow or underflow. */
static double log_mean_exp(double a, double b) {
    double m = a > b ? a : b;
    if (m == -INFINITY) return -INFINITY;
    return m + log((exp(a - m) + exp(b - m)) / 2);
}

double metric_js_divergence(const double *logp, const double *logq, size_t n) {
    double js = 0;
    for (size_t i = 0; i < n; i++) {
        double logm = log_mean_exp(logp[i], logq[i]);
        if (logp[i] > -INFINITY) js += exp(logp[i]) * (logp[i] - logm);
        if (logq[i] > -INFINITY) js += exp(logq[i]) * (logq[i] - logm);
    }
    return js / 2;
}

double metric_total_variation(const double *logp, const double *logq, size_t n) {
    double tv = 0;
    for (size_t i = 0; i < n; i++) tv += fabs(exp(logp[i]) - exp(logq[i]));
    return tv / 2;
}

double metric_kl_restricted(const double *logp, const double *logq, const int *ids, size_t n_ids) {
    double mp = 0, mq = 0;
    for (size_t i = 0; i < n_ids; i++) {
        mp += exp(logp[ids[i]]);
        mq += exp(logq[ids[i]]);
    }
    if (mp <= 0 || mq <= 0) return NAN;
    double lmp = log(mp), lmq = log(mq), kl = 0;
    for (size_t i = 0; i < n_ids; i++) {
        double a = logp[ids[i]] - lmp, b = logq[ids[i]] - lmq;
        if (a > -INFINITY) kl += exp(a) * (a - b);
    }
    return kl;
}

size_t metric_argmax(const double *x, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

size_t metric_top_k(const double *x, size_t n, size_t k, size_t *top) {
    if (k > n) k = n;
    /* Insertion into a sorted list of k: k is small (<= a few hundred) next to n. */
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (len == k && !(x[i] > x[top[k - 1]])) continue;
        size_t j = len < k ? len++ : k - 1;
        while (j > 0 && x[i] > x[top[j - 1]]) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = i;
    }
    return len;
}

double metric_top_k_overlap(const double *logp, const double *logq, size_t n, size_t k) {
    if (k > n) k = n;
    if (k == 0) return NAN;
    size_t *a = xmalloc(k * sizeof *a), *b = xmalloc(k * sizeof *b);
    metric_top_k(logp, n, k, a);
    metric_top_k(logq, n, k, b);
    size_t common = 0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++)
            if (a[i] == b[j]) {
                common++;
                break;
            }
    free(a);
    free(b);
    return (double)common / (double)k;
}

/* ---- Spearman ---- */

typedef struct {
    double v;
    size_t i;
} Ranked;

static int cmp_ranked(const void *pa, const void *pb) {
    const Ranked *a = pa, *b = pb;
    if (a->v < b->v) return -1;
    if (a->v > b->v) return 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* Fractional ranks (1-based; tied values share the mean of their ranks). */
static void ranks(const double *x, size_t n, double *r) {
    Ranked *s = xmalloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++) s[i] = (Ranked){x[i], i};
    qsort(s, n, sizeof *s, cmp_ranked);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && s[j + 1].v == s[i].v) j++;
        double mean = (double)(i + j) / 2 + 1;
        for (size_t k = i; k <= j; k++) r[s[k].i] = mean;
        i = j + 1;
    }
    free(s);
}

double metric_spearman(const double *x, const double *y, size_t n) {
    if (n < 2) return NAN;
    double *rx = xmalloc(n * sizeof *rx), *ry = xmalloc(n * sizeof *ry);
    ranks(x, n, rx);
    ranks(y, n, ry);
    /* Pearson correlation of the ranks: exact with ties, unlike the 1 - 6Σd²/(n(n²-1)) shortcut. */
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) mx += rx[i], my += ry[i];
    mx /= (double)n, my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (rx[i] - mx) * (ry[i] - my);
        sxx += (rx[i] - mx) * (rx[i] - mx);
        syy += (ry[i] - my) * (ry[i] - my);
    }
    free(rx);
    free(ry);
    if (sxx == 0 || syy == 0) return NAN;
    return sxy / sqrt(sxx * syy);
}

static int cmp_desc(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? 1 : a > b ? -1 : 0;
}

size_t metric_members_for_mass(const double *p, size_t n, double fraction) {
    if (n == 0) return 0;
    double *s = xmalloc(n * sizeof *s), total = 0;
    memcpy(s, p, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_desc);
    for (size_t i = 0; i < n; i++) total += s[i];
    size_t count = 0;
    if (total > 0) {
        /* A relative slack of 1e-12 keeps "exactly 80%" from needing one more member because
         * of rounding in the running sum. */
        double goal = fraction * total * (1 - 1e-12), acc = 0;
        while (count < n && acc < goal) acc += s[count++];
    }
    free(s);
    return count;
}
