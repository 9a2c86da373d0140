/* Tests of the fused dequantize-and-dot kernels of the grid i-quants (formats/dot_grid.h, the
 * portable kernel of formats/dot.c) at every instruction-set level this CPU has, as
 * tests/test_matvec.c tests the other types:
 *   - against double dot products of qdequant_row's weights (the reference dequantizer): rows 1,
 *     7 and 33, K of 1, 3 and 2 blocks of 256, M = 1..16, an output stride wider than the rows (the
 *     gaps must stay untouched). Bound: |kernel - double| <= 1e-5 * sum |w x|;
 *   - each weight bit for bit: with x the unit vectors, the output is W[r, k] itself, equal to
 *     qdequant_row's float (the kernels multiply db once by +-grid: the reference's rounding of
 *     db * grid), at M = 1, 2, 4 and 16.
 * Weights: half the rows quantized from random values by the project's quantizer of the type
 * (quant/; IQ2_XXS, IQ1_S and IQ1_M have none: random bytes there too), the other half random bytes (every bit
 * pattern decodes; every grid entry, sign pattern and scale shows up) with a finite random fp16 d,
 * some rows scaled by 37 or 0.002. In a sanitizer build ($COLDTOK contains "asan") M runs 1..5
 * and 16 against double. */
#include <math.h>
#include <string.h>

#include "formats/convert.h"
#include "formats/dot.h"
#include "formats/qtype.h"
#include "quant/quantize.h"
#include "tests/matvec_check.h"
#include "tests/testutil.h"

static const uint32_t TYPES[] = {Q_IQ3_S, Q_IQ2_XS, Q_IQ2_XXS, Q_IQ2_S, Q_IQ3_XXS, Q_IQ1_S, Q_IQ1_M};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])
#define MAX_M 16

static uint64_t rng = 0x2545f4914f6cdd1du;
static uint64_t next(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}
static double uniform(void) { return (double)(next() >> 11) / 4503599627370496.0 - 1.0; } /* [-1, 1) */

static int sanitized(void) {
    const char *bin = getenv("COLDTOK");
    return bin && strstr(bin, "asan") != NULL;
}

/* rows x K weights of `type`: even rows quantized (where the project has a quantizer), odd rows
 * random bytes with d = a random fp16 of magnitude `scale` (0.002, 1 or 37 by row). */
static uint8_t *make_rows(uint32_t type, int rows, int K) {
    const size_t rb = qtype_row_bytes(type, K), bb = qtype_block_bytes(type);
    uint8_t *w = malloc((size_t)rows * rb);
    float *v = malloc((size_t)K * sizeof(float));
    assert_non_null(w), assert_non_null(v);
    for (int r = 0; r < rows; r++) {
        const double scale = r % 3 == 0 ? 1.0 : r % 3 == 1 ? 37.0 : 0.002;
        uint8_t *row = w + (size_t)r * rb;
        if (r % 2 == 0 && qtype_can_quant(type)) {
            for (int k = 0; k < K; k++) v[k] = (float)(uniform() * scale);
            assert_int_equal(qquantize_row_ref(type, v, row, K), 0);
            continue;
        }
        for (size_t i = 0; i < rb; i++) row[i] = (uint8_t)(next() >> 56);
        for (size_t b = 0; b < rb / bb; b++) {
            const uint16_t d = f32_to_fp16((float)(uniform() * scale * 0.05));
            uint8_t *blk = row + b * bb;
            if (type == Q_IQ1_M) /* d in the top nibbles of the four 16-bit scales at 48 */
                for (int i = 0; i < 4; i++) blk[49 + 2 * i] = (uint8_t)((blk[49 + 2 * i] & 0x0F) | ((d >> 4 * i) & 0xF) << 4);
            else memcpy(blk, &d, 2); /* the others keep d in their first two bytes */
        }
    }
    free(v);
    return w;
}

/* The kernel against double dot products of the reference weights; returns the worst error
 * relative to sum |w x|. Under the sanitizers M 6..15 are skipped. */
static double against_double(const Dot *d, uint32_t type, int rows, int K) {
    uint8_t *w = make_rows(type, rows, K);
    float *ref = mv_ref_rows(type, w, rows, K), *x = malloc((size_t)MAX_M * K * sizeof(float));
    assert_non_null(x);
    for (int i = 0; i < MAX_M * K; i++) x[i] = (float)(uniform() * (i % 5 == 0 ? 10.0 : 1.0));
    const double worst = mv_against_double(d, type, w, ref, rows, K, x, MAX_M, !sanitized(), "");
    free(w), free(ref), free(x);
    return worst;
}

/* With x = e_k (vector m is e_{k+m}), the output is each weight itself, bit for bit. */
static void weights_exact(const Dot *d, uint32_t type, int rows, int K, int M) {
    uint8_t *w = make_rows(type, rows, K);
    float *ref = mv_ref_rows(type, w, rows, K);
    mv_weights_exact(d, type, w, ref, rows, K, M, "");
    free(w), free(ref);
}

static void level(int lvl) {
    Dot d;
    if (dot_init_level(&d, lvl) != lvl) {
        printf("# %s: this CPU lacks it, skipped\n", dot_level_name(lvl));
        skip();
    }
    const int row_counts[] = {1, 7, 33}, Ks[] = {256, 768, 512}, Ms[] = {1, 2, 4, MAX_M};
    for (size_t t = 0; t < N_TYPES; t++) {
        const uint32_t type = TYPES[t];
        assert_true(dot_has(&d, type));
        double worst = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) worst = fmax(worst, against_double(&d, type, row_counts[i], Ks[j]));
        printf("# %-8s %-7s rows 1, 7, 33, K 256, 768, 512, M 1..%d: worst |error| / sum |w x| = %.2g\n",
               dot_level_name(d.level), qtype_name(type), MAX_M, worst);
        for (int i = 0; i < 4; i++) weights_exact(&d, type, 6, 512, Ms[i]);
    }
}

static void portable_kernels(void **state) { (void)state, level(CONVERT_PORTABLE); }
static void avx2_kernels(void **state) { (void)state, level(CONVERT_AVX2); }
static void avx512_kernels(void **state) { (void)state, level(CONVERT_AVX512); }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(portable_kernels),
        cmocka_unit_test(avx2_kernels),
        cmocka_unit_test(avx512_kernels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
