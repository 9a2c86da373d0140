/* Tests of analysis/metrics against values computed by hand (closed forms noted beside each). */
#include <math.h>

#include "analysis/metrics.h"
#include "tests/testutil.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

/* P = (1/2, 1/2) and Q = (1/4, 3/4), from logits (0, 0) and (0, ln 3). */
static void two_point(double *lp, double *lq) {
    const float zp[2] = {0.0f, 0.0f};
    const float zq[2] = {0.0f, (float)log(3.0)};
    metric_log_softmax(zp, 2, lp);
    metric_log_softmax(zq, 2, lq);
}

static void softmax_matches_closed_form(void **state) {
    (void)state;
    double lp[2], lq[2], q[2];
    two_point(lp, lq);
    metric_probs_from_log(lq, 2, q);
    assert_true(fabs(q[0] - 0.25) < 1e-7); /* ln 3 rounded to float: 1e-7 relative */
    assert_true(fabs(q[1] - 0.75) < 1e-7);
    /* Large logits must not overflow: softmax(1000, 1000) = (1/2, 1/2). */
    const float big[2] = {1000.0f, 1000.0f};
    double lb[2];
    metric_log_softmax(big, 2, lb);
    NEAR(lb[0], -log(2.0));
}

static void divergences_match_hand_values(void **state) {
    (void)state;
    double lp[2] = {log(0.5), log(0.5)}, lq[2] = {log(0.25), log(0.75)};
    /* KL(P||Q) = 1/2 ln 2 + 1/2 ln(2/3) = 1/2 ln(4/3) */
    NEAR(metric_kl_divergence(lp, lq, 2), 0.5 * log(4.0 / 3.0));
    /* KL(Q||P) = 1/4 ln(1/2) + 3/4 ln(3/2) */
    NEAR(metric_kl_divergence(lq, lp, 2), 0.25 * log(0.5) + 0.75 * log(1.5));
    NEAR(metric_kl_divergence(lp, lp, 2), 0.0);
    /* M = (3/8, 5/8): JS = (1/2 ln(4/3) + 1/2 ln(4/5) + 1/4 ln(2/3) + 3/4 ln(6/5)) / 2 */
    double js = (0.5 * log(4.0 / 3) + 0.5 * log(0.8) + 0.25 * log(2.0 / 3) + 0.75 * log(1.2)) / 2;
    NEAR(metric_js_divergence(lp, lq, 2), js);
    NEAR(metric_js_divergence(lp, lq, 2), metric_js_divergence(lq, lp, 2));
    NEAR(metric_total_variation(lp, lq, 2), 0.25);
    /* Disjoint supports: JS = ln 2, TV = 1, KL infinite. */
    double la[2] = {0, -INFINITY}, lb[2] = {-INFINITY, 0};
    NEAR(metric_js_divergence(la, lb, 2), log(2.0));
    NEAR(metric_total_variation(la, lb, 2), 1.0);
    assert_true(isinf(metric_kl_divergence(la, lb, 2)));
    /* Entropy of the uniform distribution on 4 is ln 4; of a point mass 0. */
    double lu[4] = {-log(4.0), -log(4.0), -log(4.0), -log(4.0)};
    NEAR(metric_entropy(lu, 4), log(4.0));
    NEAR(metric_entropy(la, 2), 0.0);
}

static void underflowing_tails_still_count(void **state) {
    (void)state;
    /* p = (1, e^-800) and q = (1, e^-900) in logits: exp(-800) underflows a double, so the KL
     * contribution of the tail is 0 to double precision, and the result must be finite. */
    const float zp[2] = {0.0f, -800.0f}, zq[2] = {0.0f, -900.0f};
    double lp[2], lq[2];
    metric_log_softmax(zp, 2, lp);
    metric_log_softmax(zq, 2, lq);
    NEAR(lp[1], -800.0);
    double kl = metric_kl_divergence(lp, lq, 2);
    assert_true(isfinite(kl) && kl >= 0 && kl < 1e-300);
}

static void restricted_kl_renormalizes(void **state) {
    (void)state;
    /* On S = {0, 1}: P_S = (1/2, 1/2), Q_S = (1/4, 3/4) → 1/2 ln(4/3) */
    double lp[3] = {log(0.2), log(0.2), log(0.6)}, lq[3] = {log(0.1), log(0.3), log(0.6)};
    int ids[2] = {0, 1};
    NEAR(metric_kl_restricted(lp, lq, ids, 2), 0.5 * log(4.0 / 3.0));
    double lz[3] = {-INFINITY, -INFINITY, 0};
    assert_true(isnan(metric_kl_restricted(lz, lq, ids, 2)));
}

static void top_k_and_overlap(void **state) {
    (void)state;
    double x[6] = {0.1, 0.4, 0.4, 0.05, 0.3, 0.05};
    size_t top[6];
    assert_int_equal(metric_top_k(x, 6, 3, top), 3);
    assert_int_equal(top[0], 1); /* ties: lower index first */
    assert_int_equal(top[1], 2);
    assert_int_equal(top[2], 4);
    assert_int_equal(metric_argmax(x, 6), 1);
    assert_int_equal(metric_top_k(x, 6, 10, top), 6);
    double y[6] = {0.4, 0.1, 0.4, 0.05, 0.3, 0.05};
    /* top-2: {1,2} vs {0,2} → 1/2; top-3: {1,2,4} vs {0,2,4} → 2/3 */
    NEAR(metric_top_k_overlap(x, y, 6, 2), 0.5);
    NEAR(metric_top_k_overlap(x, y, 6, 3), 2.0 / 3.0);
    NEAR(metric_top_k_overlap(x, x, 6, 3), 1.0);
}

static void spearman_with_ties(void **state) {
    (void)state;
    double x[5] = {1, 2, 3, 4, 5}, y[5] = {5, 6, 7, 8, 7};
    /* ranks of y: 1 2 3.5 5 3.5 → Σdxdy = 8, Σdx² = 10, Σdy² = 9.5 → 8/sqrt(95) */
    NEAR(metric_spearman(x, y, 5), 8.0 / sqrt(95.0));
    double r[5] = {10, 8, 6, 4, 2};
    NEAR(metric_spearman(x, r, 5), -1.0);
    double c[5] = {3, 3, 3, 3, 3};
    assert_true(isnan(metric_spearman(x, c, 5)));
}

static void mass_quantiles(void **state) {
    (void)state;
    double p[4] = {0.2, 0.5, 0.1, 0.2};
    assert_int_equal(metric_members_for_mass(p, 4, 0.5), 1);
    assert_int_equal(metric_members_for_mass(p, 4, 0.7), 2); /* exactly 0.7 is enough */
    assert_int_equal(metric_members_for_mass(p, 4, 0.8), 3);
    assert_int_equal(metric_members_for_mass(p, 4, 0.95), 4);
    assert_int_equal(metric_members_for_mass(p, 0, 0.8), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(softmax_matches_closed_form),
        cmocka_unit_test(divergences_match_hand_values),
        cmocka_unit_test(underflowing_tails_still_count),
        cmocka_unit_test(restricted_kl_renormalizes),
        cmocka_unit_test(top_k_and_overlap),
        cmocka_unit_test(spearman_with_ties),
        cmocka_unit_test(mass_quantiles),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
