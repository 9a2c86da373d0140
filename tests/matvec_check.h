/* matvec_check: the two checks tests/test_matvec*.c make of a fused kernel (formats/dot.h) on rows
 * of stored weights whose reference weights (qdequant_row's: mv_ref_rows) the caller has computed:
 *   mv_against_double  vectors x [max_m][K] (the caller's values), M = 1 .. max_m (every M, or
 *                      with all_m = 0 only 1..5 and max_m: the sanitizer build's reduction), an
 *                      output stride of rows + 3 whose gaps must stay untouched; each output within
 *                      1e-5 of sum |w x| of the double dot product of the reference weights (the
 *                      f32 summation bound); returns the worst |error| / sum |w x|;
 *   mv_weights_exact   x the unit vectors e_k (vector m is e_{k+m}), M at once: each output is the
 *                      reference weight itself, bit for bit (+0 and -0 alike: -0 * 1 + 0 is +0).
 * Header-only (static functions; cmocka's fail_msg on a failure); `what` follows the type's name
 * in the messages ("" or, say, " (random bytes)"). */
#ifndef COLDTOK_MATVEC_CHECK_H
#define COLDTOK_MATVEC_CHECK_H

#include <math.h>
#include <string.h>

#include "formats/dot.h"
#include "formats/qtype.h"
#include "tests/testutil.h"

/* Bytes of a row of K weights: the float types need not be whole blocks of 32 here. */
static size_t mv_row_bytes(uint32_t type, int K) {
    return type == Q_F32 ? 4u * K : type == Q_F16 || type == Q_BF16 ? 2u * K : qtype_row_bytes(type, K);
}

/* The reference weights [rows][K] of the stored rows w, by qdequant_row (the float types weight by
 * weight); the caller frees them. */
static float *mv_ref_rows(uint32_t type, const uint8_t *w, int rows, int K) {
    const size_t rb = mv_row_bytes(type, K);
    float *ref = malloc((size_t)rows * K * sizeof(float));
    assert_non_null(ref);
    for (int r = 0; r < rows; r++) {
        const uint8_t *row = w + (size_t)r * rb;
        float *out = ref + (size_t)r * K;
        if (type == Q_F32 || type == Q_F16 || type == Q_BF16) {
            for (int k = 0; k < K; k++)
                assert_int_equal(qdequant_row(type, row + (size_t)k * (type == Q_F32 ? 4 : 2), out + k, 1), 0);
        } else {
            assert_int_equal(qdequant_row(type, row, out, K), 0);
        }
    }
    return ref;
}

static double mv_against_double(const Dot *d, uint32_t type, const uint8_t *w, const float *ref, int rows, int K,
                                const float *x, int max_m, int all_m, const char *what) {
    const int ldy = rows + 3;
    float *y = malloc((size_t)max_m * ldy * sizeof(float));
    assert_non_null(y);
    double worst = 0;
    for (int M = 1; M <= max_m; M++) {
        if (!all_m && M > 5 && M < max_m) continue;
        for (int i = 0; i < max_m * ldy; i++) y[i] = 12345.0f;
        dot_rows(d, type, w, rows, K, x, M, y, ldy);
        for (int m = 0; m < max_m; m++)
            for (int r = 0; r < ldy; r++) {
                const float got = y[(size_t)m * ldy + r];
                if (m >= M || r >= rows) { /* outside the product: untouched */
                    if (got != 12345.0f) fail_msg("%s%s: y[%d, %d] written outside the output", qtype_name(type), what, m, r);
                    continue;
                }
                double s = 0, a = 0;
                for (int k = 0; k < K; k++) {
                    const double p = (double)ref[(size_t)r * K + k] * x[(size_t)m * K + k];
                    s += p, a += fabs(p);
                }
                const double err = fabs(got - s) / (a > 0 ? a : 1);
                if (!(err <= 1e-5))
                    fail_msg("%s %s%s K=%d M=%d: row %d vector %d: %.9g, double %.9g (%.3g of sum |w x|)",
                             dot_level_name(d->level), qtype_name(type), what, K, M, r, m, got, s, err);
                if (err > worst) worst = err;
            }
    }
    free(y);
    return worst;
}

static void mv_weights_exact(const Dot *d, uint32_t type, const uint8_t *w, const float *ref, int rows, int K, int M,
                             const char *what) {
    float *x = calloc((size_t)M * K, sizeof(float)), *y = malloc((size_t)M * rows * sizeof(float));
    assert_non_null(x), assert_non_null(y);
    for (int k = 0; k + M <= K; k += M) {
        for (int m = 0; m < M; m++) x[(size_t)m * K + k + m] = 1.0f;
        dot_rows(d, type, w, rows, K, x, M, y, rows);
        for (int m = 0; m < M; m++) x[(size_t)m * K + k + m] = 0.0f;
        for (int r = 0; r < rows; r++)
            for (int m = 0; m < M; m++) {
                const float a = y[(size_t)m * rows + r], b = ref[(size_t)r * K + k + m];
                if (memcmp(&a, &b, 4) && !(a == 0 && b == 0))
                    fail_msg("%s %s%s M=%d: W[%d, %d]: kernel %.9g, reference %.9g", dot_level_name(d->level),
                             qtype_name(type), what, M, r, k + m, a, b);
            }
    }
    free(x), free(y);
}

#endif
