/* Tests of the fused dequantize-and-dot kernels of IQ4_NL and IQ4_XS (formats/dot.h), at every
 * instruction-set level this CPU has (dot_init_level: portable, AVX2, AVX-512); the checks
 * tests/test_matvec.c makes for the other types:
 *   - against the f32 path computed independently: each row dequantized by qdequant_row (the
 *     reference dequantizer, formats/lowbit.c) and dotted with each vector in double; row counts
 *     1, 7, 33, M = 1..16, an output stride wider than the rows (the gaps must stay untouched), K of
 *     one block, of several, and of the 0.5B model's widths (IQ4_NL 896 = 28 blocks: the fp16
 *     scales gathered 16 at a time with a partial last group; IQ4_XS 4864 = 19 super-blocks, the
 *     ffn_down width). Bound: |kernel - double| <= 1e-5 * sum |w x|, as test_matvec's;
 *   - each weight bit for bit: with x the unit vectors e_k (M = 1, 2, 4, 16 at once) the output is
 *     W[r, k] itself, which must equal qdequant_row's value exactly (the kernels round one level
 *     times d, or dl = d * (ls - 32), once, as the reference does).
 * Weights: rows quantized from random values by the project's quantizer (qquantize_row_ref: ggml's
 * IQ4_NL / IQ4_XS rules, byte for byte), a few rows scaled up or down a lot; and rows of random
 * bytes (every bit pattern is a valid block; the fp16 scale kept finite), which reach every 6-bit
 * IQ4_XS sub-block scale and every nibble, where a quantizer's output might not. A level the CPU
 * lacks is reported and skipped (the sanitizer build runs it all: ~3 s). */
#include <math.h>
#include <string.h>

#include "formats/convert.h"
#include "formats/dot.h"
#include "formats/qtype.h"
#include "quant/quantize.h"
#include "tests/matvec_check.h"
#include "tests/testutil.h"

#define MAX_M 16

static uint64_t rng = 0x2545f4914f6cdd1du;
static uint64_t next(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}
static double uniform(void) { return (double)(next() >> 11) / 4503599627370496.0 - 1.0; } /* [-1, 1) */

/* rows x K weights of `type`: quantized from random values (raw = 0) or random bytes with each
 * block's fp16 scale replaced by a finite one (raw = 1). */
static uint8_t *make_rows(uint32_t type, int rows, int K, int raw) {
    size_t rb = qtype_row_bytes(type, K), bb = qtype_block_bytes(type);
    uint8_t *w = malloc((size_t)rows * rb);
    float *v = malloc((size_t)K * sizeof(float));
    assert_non_null(w), assert_non_null(v);
    for (int r = 0; r < rows; r++) {
        uint8_t *row = w + (size_t)r * rb;
        if (raw) {
            for (size_t i = 0; i < rb; i++) row[i] = (uint8_t)(next() >> 56);
            for (size_t b = 0; b < rb; b += bb) { /* d: random sign and mantissa, exponent 2^-10 .. 2^5 */
                uint16_t h = f32_to_fp16((float)(uniform() * ldexp(1.0, (int)(next() >> 60) - 10)));
                memcpy(row + b, &h, 2);
            }
            continue;
        }
        double scale = r % 3 == 0 ? 1.0 : r % 3 == 1 ? 37.0 : 0.002;
        for (int k = 0; k < K; k++) v[k] = (float)(uniform() * scale);
        assert_int_equal(qquantize_row_ref(type, v, row, K), 0);
    }
    free(v);
    return w;
}

/* The kernel of d for `type` against double dot products of the reference weights; returns the
 * worst error relative to sum |w x|. */
static double against_double(const Dot *d, uint32_t type, int rows, int K, int raw) {
    uint8_t *w = make_rows(type, rows, K, raw);
    float *ref = mv_ref_rows(type, w, rows, K), *x = malloc((size_t)MAX_M * K * sizeof(float));
    assert_non_null(x);
    for (int i = 0; i < MAX_M * K; i++) x[i] = (float)(uniform() * (i % 5 == 0 ? 10.0 : 1.0));
    double worst = mv_against_double(d, type, w, ref, rows, K, x, MAX_M, 1, raw ? " (random bytes)" : "");
    free(w), free(ref), free(x);
    return worst;
}

/* With x = e_k (vector m is e_{k+m}), the output is each weight itself, bit for bit. */
static void weights_exact_m(const Dot *d, uint32_t type, int rows, int K, int M, int raw) {
    uint8_t *w = make_rows(type, rows, K, raw);
    float *ref = mv_ref_rows(type, w, rows, K);
    mv_weights_exact(d, type, w, ref, rows, K, M, raw ? " (random bytes)" : "");
    free(w), free(ref);
}

static void level(int lvl) {
    Dot d;
    if (dot_init_level(&d, lvl) != lvl) {
        printf("# %s: this CPU lacks it, skipped\n", dot_level_name(lvl));
        skip();
    }
    const uint32_t types[] = {Q_IQ4_NL, Q_IQ4_XS};
    const int row_counts[] = {1, 7, 33}, Ms[] = {1, 2, 4, MAX_M};
    for (int t = 0; t < 2; t++) {
        uint32_t type = types[t];
        assert_true(dot_has(&d, type));
        int blk = qtype_block_elems(type);
        int Ks[] = {blk, 3 * blk, type == Q_IQ4_NL ? 1280 : 4864}; /* both over 1024: dot_gemm.h's segments */
        double worst = 0;
        for (int raw = 0; raw < 2; raw++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) worst = fmax(worst, against_double(&d, type, row_counts[i], Ks[j], raw));
        printf("# %-8s %-6s quantized and random-byte rows 1, 7, 33, K %d, %d, %d, M 1..%d: "
               "worst |error| / sum |w x| = %.2g\n",
               dot_level_name(d.level), qtype_name(type), Ks[0], Ks[1], Ks[2], MAX_M, worst);
        for (int raw = 0; raw < 2; raw++)
            for (int i = 0; i < 4; i++) weights_exact_m(&d, type, 7, type == Q_IQ4_NL ? 18 * blk : 2 * blk, Ms[i], raw);
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
