/* Tests of quant/kqsearch.c: the grid scale searches computed many trial scales (or sub-blocks) at
 * once must give bit for bit what the serial searches give. The references are this file's own
 * one-trial-at-a-time transcriptions of ggml's make_qx_quants and make_qkx2_quants and of
 * coldtok's serial make_qkx3_fast (kquants.c before the lanes); inputs are random blocks of several
 * scales, with the cases that take the searches' other branches: all-positive blocks (minimum
 * clamped to 0), zeros, constant and all-zero sub-blocks (the early returns), values whose fp16
 * block scales would underflow, uniform and uneven weights, both error measures of make_qkx2. */
#include <math.h>
#include <string.h>

#include "quant/qblock.h"
#include "tests/testutil.h"

/* ---- the serial references ---- */

static float ref_qx(int n, int nmax, const float *x, int8_t *L, const float *qw) {
    float max = signed_absmax(x, n, NULL);
    if (fabsf(max) < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max, sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = MAX(-nmax, MIN(nmax - 1, nearest_int(iscale * x[i])));
        L[i] = (int8_t)(l + nmax);
        float w = qw ? qw[i] : x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f, best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = MAX(-nmax, MIN(nmax - 1, nearest_int(iscale * x[i])));
            float w = qw ? qw[i] : x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) L[i] = (int8_t)(nmax + MAX(-nmax, MIN(nmax - 1, nearest_int(iscale * x[i]))));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

static float ref_qkx2(int n, int nmax, const float *x, const float *w, uint8_t *L, float *the_min, float rmin,
                      float rdelta, int nstep, int use_mad) {
    float min = x[0], max = x[0], sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min), scale = 1 / iscale, best_error = 0;
    for (int i = 0; i < n; ++i) {
        L[i] = (uint8_t)MAX(0, MIN(nmax, nearest_int(iscale * (x[i] - min))));
        float diff = scale * L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += w[i] * diff;
    }
    uint8_t Laux[32];
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            int l = MAX(0, MIN(nmax, nearest_int(iscale * (x[i] - min))));
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += w[i] * diff;
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

static float ref_qkx3(int n, int nmax, const float *x, const float *w, uint8_t *L, float *the_min, float rmin,
                      float rdelta, int nstep) {
    float min = x[0], max = x[0];
    double sw = 0, sx = 0, sxx = 0;
    for (int i = 0; i < n; ++i) {
        min = x[i] < min ? x[i] : min;
        max = x[i] > max ? x[i] : max;
        sw += w[i];
        sx += (double)w[i] * x[i];
        sxx += (double)w[i] * x[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max <= min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min), scale = 1 / iscale;
    double best = 0;
    for (int i = 0; i < n; ++i) {
        L[i] = (uint8_t)MAX(0, MIN(nmax, nearest_int(iscale * (x[i] - min))));
        double d = (double)scale * L[i] + min - x[i];
        best += w[i] * d * d;
    }
    uint8_t Laux[32];
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        double sl = 0, sl2 = 0, sxl = 0;
        for (int i = 0; i < n; ++i) {
            int l = MAX(0, MIN(nmax, nearest_int(iscale * (x[i] - min))));
            Laux[i] = (uint8_t)l;
            sl += (double)w[i] * l;
            sl2 += (double)w[i] * l * l;
            sxl += (double)w[i] * l * x[i];
        }
        double D = sw * sl2 - sl * sl;
        if (D > 0) {
            double s = (sw * sxl - sx * sl) / D, m = (sl2 * sx - sl * sxl) / D;
            if (m > 0) {
                m = 0;
                s = sxl / sl2;
            }
            double e = s * s * sl2 + 2 * s * m * sl + m * m * sw - 2 * s * sxl - 2 * m * sx + sxx;
            if (e < best) {
                memcpy(L, Laux, (size_t)n);
                best = e;
                scale = (float)s;
                min = (float)m;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* ---- random sub-blocks ---- */

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static float uniform01(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)(((rng >> 11) + 0.5) * (1.0 / 9007199254740992.0));
}
static float gauss(void) { return sqrtf(-2 * logf(uniform01())) * cosf(6.2831853f * uniform01()); }

/* 8 sub-blocks of n values and weights; kind picks the case */
static void fill(int kind, int n, float *x, float *w) {
    /* kind 7: subnormal values, where a search's inverse scale overflows to infinity */
    const float scale = kind == 5 ? 1e-6f : kind == 6 ? 3e-8f : kind == 7 ? 1e-39f : 0.02f;
    for (int i = 0; i < 8 * n; i++) {
        x[i] = scale * gauss();
        if (kind == 1) x[i] = fabsf(x[i]);                  /* minimum clamped to 0 */
        if (kind == 2 && i % n < n / 2) x[i] = 0;           /* half zeros */
        if (kind == 3 && (i / n) % 3 == 0) x[i] = 0.01f;    /* constant sub-blocks */
        if (kind == 4 && (i / n) % 2 == 0) x[i] = 0;        /* all-zero sub-blocks */
        w[i] = kind % 2 ? uniform01() : fabsf(x[i]) + 0.01f; /* uneven or |x|-like weights */
    }
}

#define ROUNDS(asan) ((asan) ? 300 : 3000)

static void qx_matches_serial(void **state) {
    (void)state;
    const int rounds = ROUNDS(sanitizer_build());
    int tried = 0;
    for (int r = 0; r < rounds; r++)
        for (int kind = 0; kind < 7; kind++) {
            float x[256], w[256];
            fill(kind, 32, x, w);
            static const int nmaxes[] = {4, 8, 16, 32};
            const int n = r % 2 ? 16 : 32, nmax = nmaxes[r % 4];
            int8_t L1[256], L2[256];
            const float *qw = r % 3 == 0 ? NULL : w;
            const float s1 = ref_qx(n, nmax, x, L1, qw), s2 = make_qx_quants(n, nmax, x, L2, qw);
            if (memcmp(&s1, &s2, sizeof s1) || memcmp(L1, L2, (size_t)n))
                fail_msg("make_qx_quants differs from the serial search: round %d kind %d n %d nmax %d", r, kind, n,
                         nmax);
            /* 16 sub-blocks of 16 at once (Q6_K, Q3_K) */
            float x16[256], w16[256], sa[16], sb[16];
            fill(kind, 32, x16, w16);
            for (int j = 0; j < 16; j++) sa[j] = ref_qx(16, nmax, x16 + 16 * j, L1 + 16 * j, qw ? w16 + 16 * j : NULL);
            make_qx_quants16(nmax, x16, L2, qw ? w16 : NULL, sb);
            if (memcmp(sa, sb, sizeof sa) || memcmp(L1, L2, 256))
                fail_msg("make_qx_quants16 differs from the serial search: round %d kind %d nmax %d", r, kind, nmax);
            tried++;
        }
    print_message("# make_qx_quants: %d searches and as many batches of 16 equal to the serial one\n", tried);
}

static void qkx_match_serial(void **state) {
    (void)state;
    const int rounds = ROUNDS(sanitizer_build());
    int tried = 0;
    for (int r = 0; r < rounds; r++)
        for (int kind = 0; kind < 8; kind++) {
            const int n = r % 2 ? 16 : 32, nmax = r % 3 == 0 ? 3 : r % 3 == 1 ? 15 : 31, mad = r % 4 == 0;
            float x[256], w[256];
            fill(kind, n, x, w);
            uint8_t L1[256], L2[256], L3[256];
            float s1[8], m1[8], s2[8], m2[8], s3[8], m3[8];
            /* Q4_K's reference grid, and the candidate's */
            for (int j = 0; j < 8; j++) {
                s1[j] = ref_qkx2(n, nmax, x + j * n, w + j * n, L1 + j * n, &m1[j], -1.f, 0.1f, 20, mad);
                s2[j] = make_qkx2_quants(n, nmax, x + j * n, w + j * n, L2 + j * n, &m2[j], -1.f, 0.1f, 20, mad);
            }
            make_qkx2_quants8(n, nmax, x, w, L3, s3, m3, -1.f, 0.1f, 20, mad);
            if (memcmp(s1, s2, sizeof s1) || memcmp(m1, m2, sizeof m1) || memcmp(L1, L2, (size_t)(8 * n)))
                fail_msg("make_qkx2_quants differs from the serial search: round %d kind %d", r, kind);
            if (memcmp(s1, s3, sizeof s1) || memcmp(m1, m3, sizeof m1) || memcmp(L1, L3, (size_t)(8 * n)))
                fail_msg("make_qkx2_quants8 differs from the serial search: round %d kind %d", r, kind);
            for (int j = 0; j < 8; j++) {
                s1[j] = ref_qkx3(n, nmax, x + j * n, w + j * n, L1 + j * n, &m1[j], -0.9f, 0.05f, 36);
                s2[j] = make_qkx3_fast(n, nmax, x + j * n, w + j * n, L2 + j * n, &m2[j], -0.9f, 0.05f, 36);
            }
            make_qkx3_fast8(n, nmax, x, w, L3, s3, m3, -0.9f, 0.05f, 36);
            if (memcmp(s1, s2, sizeof s1) || memcmp(m1, m2, sizeof m1) || memcmp(L1, L2, (size_t)(8 * n)))
                fail_msg("make_qkx3_fast differs from the serial search: round %d kind %d", r, kind);
            if (memcmp(s1, s3, sizeof s1) || memcmp(m1, m3, sizeof m1) || memcmp(L1, L3, (size_t)(8 * n)))
                fail_msg("make_qkx3_fast8 differs from the serial search: round %d kind %d", r, kind);
            tried += 8;
        }
    print_message("# make_qkx2/3: %d sub-blocks each, equal to the serial searches\n", tried);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qx_matches_serial),
        cmocka_unit_test(qkx_match_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
