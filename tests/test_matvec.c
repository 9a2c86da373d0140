/* Tests of the fused dequantize-and-dot kernels (formats/dot.h), at every instruction-set level
 * this CPU has (dot_init_level: portable, AVX2, AVX-512), for every type with a kernel:
 *   - against the f32 path computed independently: each row dequantized by qdequant_row (the
 *     reference dequantizer) and dotted with each vector in double; odd row counts (1, 7, 33),
 *     M = 1..16, an output stride wider than the rows (the gaps must stay untouched), K of one and
 *     of several blocks, and of 1280 columns (and, for the float types, K that is not a multiple of 32). Bound: the
 *     f32 summation error, |kernel - double| <= 1e-5 * sum |w x| (a few hundred terms of unit
 *     roundoff 6e-8 at most; 10x tighter than the logits tests' 1e-4 against float64);
 *   - each weight bit for bit: with x the unit vectors e_k, the kernel's output is W[r, k] itself
 *     (every other product is an exact 0), which must equal qdequant_row's value exactly — the
 *     per-weight kernels dequantize with the reference's float operations, in its order, and the
 *     factored ones (1 to 4 vectors) round one code times d as the reference rounds q * d.
 * Weights: rows quantized from random values by the reference quantizer (formats quantized by
 * llama.cpp's rules), raw halves and bfloat16s for the float types. A level the CPU lacks is
 * reported and skipped. */
#include <math.h>
#include <string.h>

#include "formats/convert.h"
#include "formats/dot.h"
#include "formats/qtype.h"
#include "quant/quantize.h"
#include "tests/matvec_check.h"
#include "tests/testutil.h"

static const uint32_t TYPES[] = {Q_F32, Q_F16, Q_BF16, Q_Q8_0, Q_Q4_0, Q_Q5_0,
                                 Q_Q4_K, Q_Q5_K, Q_Q6_K, Q_Q4_1, Q_Q5_1};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])
#define MAX_M 16

static uint64_t rng = 0x9e3779b97f4a7c15u;
static double uniform(void) { /* [-1, 1) */
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 4503599627370496.0 - 1.0;
}

/* rows x K weights of `type` from random values (a few rows scaled up or down a lot, so the block
 * scales vary); returns the stored bytes. */
static uint8_t *make_rows(uint32_t type, int rows, int K) {
    size_t rb = mv_row_bytes(type, K);
    uint8_t *w = malloc((size_t)rows * rb);
    float *v = malloc((size_t)K * sizeof(float));
    assert_non_null(w), assert_non_null(v);
    for (int r = 0; r < rows; r++) {
        double scale = r % 3 == 0 ? 1.0 : r % 3 == 1 ? 37.0 : 0.002;
        for (int k = 0; k < K; k++) v[k] = (float)(uniform() * scale);
        uint8_t *row = w + (size_t)r * rb;
        if (type == Q_F32) memcpy(row, v, (size_t)K * 4);
        else if (type == Q_F16 || type == Q_BF16)
            for (int k = 0; k < K; k++) {
                uint16_t h = type == Q_F16 ? f32_to_fp16(v[k]) : f32_to_bf16(v[k]);
                memcpy(row + 2 * k, &h, 2);
            }
        else assert_int_equal(qquantize_row_ref(type, v, row, K), 0);
    }
    free(v);
    return w;
}

/* The kernel of d for `type` against double dot products of the reference weights; returns the
 * worst error relative to sum |w x|. */
static double against_double(const Dot *d, uint32_t type, int rows, int K) {
    uint8_t *w = make_rows(type, rows, K);
    float *ref = mv_ref_rows(type, w, rows, K), *x = malloc((size_t)MAX_M * K * sizeof(float));
    assert_non_null(x);
    for (int i = 0; i < MAX_M * K; i++) x[i] = (float)(uniform() * (i % 5 == 0 ? 10.0 : 1.0));
    double worst = mv_against_double(d, type, w, ref, rows, K, x, MAX_M, 1, "");
    free(w), free(ref), free(x);
    return worst;
}

/* With x = e_k, each weight itself, bit for bit; M = 1, 2, 4 and 16 vectors at once (1 and 2 take
 * the factored kernels of Q8_0, Q4_0, Q5_0, Q4_1, Q5_1, Q4_K and Q5_K, 4 those of Q5_0, Q4_1 and
 * Q5_1, more the per-weight ones, in tiles of 2-4 rows and single rows: 7 rows have both). */
static void weights_exact(const Dot *d, uint32_t type, int rows, int K) {
    uint8_t *w = make_rows(type, rows, K);
    float *ref = mv_ref_rows(type, w, rows, K);
    const int Ms[] = {1, 2, 4, MAX_M};
    for (int i = 0; i < 4; i++) mv_weights_exact(d, type, w, ref, rows, K, Ms[i], "");
    free(w), free(ref);
}

static void level(int lvl) {
    Dot d;
    if (dot_init_level(&d, lvl) != lvl) {
        printf("# %s: this CPU lacks it, skipped\n", dot_level_name(lvl));
        skip();
    }
    const int row_counts[] = {1, 7, 33};
    for (size_t t = 0; t < N_TYPES; t++) {
        uint32_t type = TYPES[t];
        assert_true(dot_has(&d, type));
        int blk = qtype_block_elems(type) > 32 ? qtype_block_elems(type) : 32;
        /* 1280: more than the 1024 columns a small-matrix-product tile decodes at once (dot_gemm.h) */
        int Ks[] = {blk, 3 * blk, type == Q_F32 || type == Q_F16 || type == Q_BF16 ? 67 : 2 * blk, 1280};
        double worst = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) worst = fmax(worst, against_double(&d, type, row_counts[i], Ks[j]));
        printf("# %-8s %-5s rows 1, 7, 33, K %d, %d, %d, %d, M 1..%d: worst |error| / sum |w x| = %.2g\n",
               dot_level_name(d.level), qtype_name(type), Ks[0], Ks[1], Ks[2], Ks[3], MAX_M, worst);
        weights_exact(&d, type, 7, 2 * blk);
    }
}

static void portable_kernels(void **state) { (void)state, level(CONVERT_PORTABLE); }
static void avx2_kernels(void **state) { (void)state, level(CONVERT_AVX2); }
static void avx512_kernels(void **state) { (void)state, level(CONVERT_AVX512); }

/* Types without a kernel are reported as such (the matmul takes its panel path for them). */
static void other_types_have_none(void **state) {
    (void)state;
    Dot d;
    dot_init(&d);
    assert_false(dot_has(&d, Q_Q3_K));
    assert_false(dot_has(&d, Q_TQ1_0));
    assert_false(dot_has(&d, Q_COUNT_MAX + 5));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(portable_kernels),
        cmocka_unit_test(avx2_kernels),
        cmocka_unit_test(avx512_kernels),
        cmocka_unit_test(other_types_have_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
