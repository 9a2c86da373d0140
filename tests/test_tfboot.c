/* Tests of analysis/tfboot: cluster-bootstrap intervals on samples whose bootstrap distribution is
 * known by hand (identical clusters: a point; two clusters: the interval spans the two cluster
 * means), the coverage of the 95% interval on simulated data (near 95%, where the position-level
 * standard error covers far less), McNemar's exact p-values and Benjamini–Hochberg worked out by
 * hand, a paired comparison counted by hand, and tf_position's top-1 correctness on both paths. */
#include <math.h>
#include <stdlib.h>

#include "analysis/tfboot.h"
#include "analysis/tfstats.h"
#include "tests/testutil.h"

#define CLOSE(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol) * fmax(1.0, fabs((double)(b))))

static TfPos at(double kl, double lp_base, double lp_var, int same, int ok_base, int ok_var) {
    return (TfPos){(float)kl, (float)lp_base, (float)lp_var, (uint8_t)same, (uint8_t)ok_base, (uint8_t)ok_var};
}

/* Every cluster the same: every replicate is the sample itself, so lo = hi = the mean. */
static void identical_clusters(void **state) {
    (void)state;
    TfSample s = {0};
    for (uint32_t f = 0; f < 5; f++) {
        tf_push_in(&s, at(1, -1, -2, 1, 0, 0), f);
        tf_push_in(&s, at(3, -1, -1, 0, 0, 0), f);
    }
    TfCi ci;
    tf_cluster_ci(&s, 500, 7, &ci);
    assert_int_equal(ci.clusters, 5);
    CLOSE(ci.kl_mean.lo, 2, 1e-12);
    CLOSE(ci.kl_mean.hi, 2, 1e-12);
    CLOSE(ci.same_top1.lo, 0.5, 1e-12);
    CLOSE(ci.same_top1.hi, 0.5, 1e-12);
    CLOSE(ci.ppl_ratio.lo, exp(0.5), 1e-12); /* mean(lp_base − lp_var) = (1 + 0) / 2 */
    CLOSE(ci.dp_mean, (exp(-2.0) - exp(-1.0)) / 2, 1e-7);
    tf_sample_free(&s);
}

/* Two clusters of equal size with means 1 and 5: a replicate is AA, AB, BA or BB (means 1, 3, 3,
 * 5), each AA or BB with probability 1/4, so the 2.5th percentile of 1000 replicates is 1 and the
 * 97.5th is 5 (unless fewer than 25 of 1000 draws were AA: probability ~1e-80). Positions in the
 * order A B A B: clusters are ids, not runs. */
static void two_clusters(void **state) {
    (void)state;
    TfSample s = {0};
    for (int i = 0; i < 6; i++) tf_push_in(&s, at(i % 2 ? 5 : 1, -1, -1, 0, 0, 0), i % 2 ? 9 : 4);
    TfCi ci, again, other;
    tf_cluster_ci(&s, 1000, 1, &ci);
    assert_int_equal(ci.clusters, 2);
    CLOSE(ci.kl_mean.lo, 1, 1e-12);
    CLOSE(ci.kl_mean.hi, 5, 1e-12);
    /* seeded: the same seed gives the same interval; reps 0: none */
    tf_cluster_ci(&s, 1000, 1, &again);
    assert_true(again.kl_mean.lo == ci.kl_mean.lo && again.kl_mean.hi == ci.kl_mean.hi);
    tf_cluster_ci(&s, 0, 1, &other);
    assert_true(isnan(other.kl_mean.lo) && isnan(other.kl_mean.hi) && other.clusters == 2);
    /* without cluster ids every position is its own cluster: the plain bootstrap of six values */
    TfSample flat = {0};
    for (size_t i = 0; i < s.n; i++) tf_push(&flat, s.v[i]);
    tf_cluster_ci(&flat, 1000, 1, &other);
    assert_int_equal(other.clusters, 6);
    assert_true(other.kl_mean.lo > 1 && other.kl_mean.hi < 5); /* six draws rarely all alike */
    /* NAN positions are left out */
    tf_push_in(&s, at(NAN, -1, -1, 0, 0, 0), 11);
    tf_cluster_ci(&s, 1000, 1, &other);
    assert_int_equal(other.clusters, 2);
    tf_sample_free(&s);
    tf_sample_free(&flat);
}

/* Normal(0, 1) by Box–Muller from a small LCG (the test's own randomness). */
static double gauss(uint64_t *x) {
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    double u = ((*x >> 11) + 0.5) / 9007199254740992.0;
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    double v = ((*x >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Files whose positions share a file effect: KL = 1 + 0.5 · file effect + 0.1 · noise, 40 files
 * of 50 positions, true mean 1. Over 200 simulated corpora the 95% cluster interval holds the true
 * mean about 95% of the time (a percentile bootstrap with 40 clusters is a little narrow: 88-99%
 * accepted), while ± 1.96 SE over positions, which ignores the file effect, holds it far less. */
static void coverage_of_clustered_data(void **state) {
    (void)state;
    uint64_t rng = 12345;
    int covered = 0, se_covered = 0, runs = 200;
    for (int r = 0; r < runs; r++) {
        TfSample s = {0};
        for (uint32_t f = 0; f < 40; f++) {
            double effect = 0.5 * gauss(&rng);
            for (int i = 0; i < 50; i++) tf_push_in(&s, at(1 + effect + 0.1 * gauss(&rng), -1, -1, 0, 0, 0), f);
        }
        TfCi ci;
        TfSummary m;
        tf_cluster_ci(&s, 400, (uint64_t)r + 1, &ci);
        tf_summarize(&s, &m);
        covered += ci.kl_mean.lo <= 1 && 1 <= ci.kl_mean.hi;
        se_covered += fabs(m.kl_mean - 1) <= 1.96 * m.kl_se;
        tf_sample_free(&s);
    }
    printf("# 95%% cluster CI covered the true mean in %d of %d runs; ± 1.96 SE in %d\n", covered, runs, se_covered);
    assert_true(covered >= 176 && covered <= 198);
    assert_true(se_covered < 100);
}

static void mcnemar_by_hand(void **state) {
    (void)state;
    /* a = 2, b = 10: 2 · (C(12,0) + C(12,1) + C(12,2)) / 2^12 = 2 · 79 / 4096 */
    CLOSE(tf_mcnemar_exact(2, 10), 158.0 / 4096, 1e-12);
    CLOSE(tf_mcnemar_exact(10, 2), 158.0 / 4096, 1e-12);
    CLOSE(tf_mcnemar_exact(0, 6), 2.0 / 64, 1e-12);
    CLOSE(tf_mcnemar_exact(5, 5), 1, 0); /* 2 · P(X <= 5) > 1: capped */
    CLOSE(tf_mcnemar_exact(0, 0), 1, 0);
    /* a large count stays finite: 2 · P(X <= 4900) for Bin(10000, 1/2), z ≈ −2.0: ≈ 0.0455 */
    double p = tf_mcnemar_exact(4900, 5100);
    assert_true(p > 0.044 && p < 0.048);
}

static void bh_by_hand(void **state) {
    (void)state;
    /* sorted 0.005, 0.01, 0.03, 0.04 → 0.02, 0.02, 0.04, 0.04 (p·4/rank, running minimum from the top) */
    double p[5] = {0.01, 0.04, NAN, 0.03, 0.005}, adj[5];
    tf_bh(p, 5, adj);
    CLOSE(adj[0], 0.02, 1e-12);
    CLOSE(adj[1], 0.04, 1e-12);
    assert_true(isnan(adj[2]));
    CLOSE(adj[3], 0.04, 1e-12);
    CLOSE(adj[4], 0.02, 1e-12);
    double q[2] = {0.6, 0.9};
    tf_bh(q, 2, q); /* in place; capped at 1 */
    CLOSE(q[0], 0.9, 1e-12);
    CLOSE(q[1], 0.9, 1e-12);
}

/* Two variants over the same 4 positions of 2 files, and the base's side of the first. */
static void paired_by_hand(void **state) {
    (void)state;
    TfSample a = {0}, b = {0};
    /*                    kl   lp_base lp_var same ok_base ok_var */
    tf_push_in(&a, at(0.10, -1.0, -1.5, 1, 1, 1), 0);
    tf_push_in(&a, at(0.20, -2.0, -2.5, 1, 0, 0), 0);
    tf_push_in(&a, at(0.30, -1.0, -1.0, 0, 1, 0), 1);
    tf_push_in(&a, at(0.40, -3.0, -2.0, 0, 0, 1), 1);
    tf_push_in(&b, at(0.50, -1.0, -2.0, 0, 1, 0), 0);
    tf_push_in(&b, at(0.60, -2.0, -2.0, 1, 0, 1), 0);
    tf_push_in(&b, at(0.70, -1.0, -1.5, 0, 1, 1), 1);
    tf_push_in(&b, at(0.80, -3.0, -4.0, 0, 0, 0), 1);
    TfPaired p;
    tf_paired(&a, TF_SIDE_VARIANT, &b, TF_SIDE_VARIANT, 200, 3, &p);
    assert_int_equal(p.n, 4);
    assert_int_equal(p.clusters, 2);
    CLOSE(p.dkl, 0.4, 1e-6);                                   /* every position +0.4 */
    assert_true(fabs(p.dkl_ci.lo - 0.4) < 1e-6 && fabs(p.dkl_ci.hi - 0.4) < 1e-6);
    CLOSE(p.dll, ((-2.0 + 1.5) + (-2.0 + 2.5) + (-1.5 + 1.0) + (-4.0 + 2.0)) / 4, 1e-6);
    CLOSE(p.top1_a, 0.5, 1e-12);
    CLOSE(p.top1_b, 0.5, 1e-12);
    /* a's ok 1 0 0 1, b's 0 1 1 0: a alone right at 2 positions, b alone at 2 */
    assert_int_equal(p.only_a, 2);
    assert_int_equal(p.only_b, 2);
    CLOSE(p.odds_ratio, 1, 1e-12);
    CLOSE(p.p_mcnemar, 1, 0);
    /* the base (read from a) against a: KL 0 vs a's, lp_base vs lp_var, ok_base vs ok_var */
    tf_paired(&a, TF_SIDE_BASE, &a, TF_SIDE_VARIANT, 200, 3, &p);
    CLOSE(p.dkl, 0.25, 1e-6);
    CLOSE(p.dll, (-0.5 - 0.5 + 0 + 1.0) / 4, 1e-6);
    assert_int_equal(p.only_a, 1); /* position 3: base right, variant wrong */
    assert_int_equal(p.only_b, 1); /* position 4 */
    /* different lengths: nothing */
    tf_push_in(&b, at(0.1, -1, -1, 0, 0, 0), 2);
    tf_paired(&a, TF_SIDE_VARIANT, &b, TF_SIDE_VARIANT, 200, 3, &p);
    assert_true(isnan(p.dkl) && p.n == 0);
    tf_sample_free(&a);
    tf_sample_free(&b);
}

/* top1_base / top1_var: argmax P / argmax Q is the true token, on both paths (first index on ties). */
static void position_correctness(void **state) {
    (void)state;
    float zp[20], zq[20];
    for (int i = 0; i < 20; i++) zp[i] = zq[i] = (float)(i % 5) * 0.1f;
    zp[3] = zp[10] = 5; /* argmax 3 */
    zq[4] = 5;          /* argmax 4 */
    for (int path = 0; path < 2; path++) {
        TfPos o;
        tf_position_path(path, zp, zq, 20, 3, &o, NULL);
        assert_true(o.top1_base == 1 && o.top1_var == 0);
        tf_position_path(path, zp, zq, 20, 4, &o, NULL);
        assert_true(o.top1_base == 0 && o.top1_var == 1);
        tf_position_path(path, zp, zq, 20, 10, &o, NULL); /* tied with 3, which comes first */
        assert_true(o.top1_base == 0 && o.top1_var == 0);
        tf_position_path(path, zp, zq, 20, 25, &o, NULL); /* out of range */
        assert_true(o.top1_base == 0 && o.top1_var == 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identical_clusters),   cmocka_unit_test(two_clusters),
        cmocka_unit_test(coverage_of_clustered_data), cmocka_unit_test(mcnemar_by_hand),
        cmocka_unit_test(bh_by_hand),           cmocka_unit_test(paired_by_hand),
        cmocka_unit_test(position_correctness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
