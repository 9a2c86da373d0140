/* Tests of the IQ3_XXS quantizer (quant/iq3xxsquant.c through quant/quantize.h) against llama.cpp
 * itself: the llama_oracle helper (docs/testing.md "llama.cpp as an oracle") runs
 * ggml_quantize_chunk on the same rows, with the same importance weights or none, and the bytes
 * must be identical (the first differing block is reported):
 *   - random rows of several shapes of distribution (gaussian, heavy tails, a single outlier,
 *     all-zero sub-blocks, tiny magnitudes where the fp16 scale goes subnormal, sub-blocks below
 *     the quantizer's 1e-8 threshold next to large ones, values on the levels, uniform),
 *     importance weights random with zeros (a whole sub-block of them too), or absent;
 *   - every matrix of the synth-llama F32 fixture, without and with importance weights;
 * and what follows from the format without the oracle: an all-zero row is the all-zero block,
 * the decoded signs are x's but for at most one value in 8 (the 7 stored bits make the number of
 * minus signs even), the decoded row is close, importance weights move the error to where they
 * are small.
 * In a sanitizer build ($COLDTOK contains "asan") the oracle comparisons run a reduced set (one
 * small shape, four fixture matrices): the full set is ~10x slower there. */
#include <math.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/qtype.h"
#include "quant/quantize.h"
#include "tests/testutil.h"

/* Quantizes the rows here and with ggml; fails at the first differing block. */
static void same_as_oracle(const char *what, const float *x, int64_t rows, int64_t cols, const float *imp) {
    const char *o = NEED_ORACLE();
    const size_t rb = qtype_row_bytes(Q_IQ3_XXS, cols), bb = qtype_block_bytes(Q_IQ3_XXS);
    size_t len;
    uint8_t *want = oracle_quant_chunk(o, "IQ3_XXS", x, rows, cols, imp, &len), *got = xmalloc(rb * (size_t)rows);
    assert_int_equal(len, rb * (size_t)rows);
    for (int64_t r = 0; r < rows; r++)
        assert_int_equal(qquantize_row(Q_IQ3_XXS, x + r * cols, got + (size_t)r * rb, cols, imp), 0);
    for (size_t k = 0; k < len; k++)
        if (got[k] != want[k])
            fail_msg("%s IQ3_XXS%s: byte %zu (block %zu of row %zu) is %02x, ggml's %02x", what,
                     imp ? " with importance" : "", k, (k % rb) / bb, k / rb, got[k], want[k]);
    /* the tensor entry point gives the same bytes, and without importance the reference one too */
    memset(got, 0, len);
    assert_int_equal(qquantize_rows(Q_IQ3_XXS, x, got, rows, cols, imp, NULL), len);
    assert_memory_equal(got, want, len);
    if (!imp) {
        for (int64_t r = 0; r < rows; r++)
            assert_int_equal(qquantize_row_ref(Q_IQ3_XXS, x + r * cols, got + (size_t)r * rb, cols), 0);
        assert_memory_equal(got, want, len);
    }
    free(want);
    free(got);
}

/* ---- random rows ---- */

static uint64_t next(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 11;
}
static double uniform(uint64_t *s) { return (next(s) + 0.5) / 9007199254740992.0; }
static float gauss(uint64_t *s) {
    return (float)(sqrt(-2 * log(uniform(s))) * cos(6.283185307179586 * uniform(s)));
}

/* Row r of a matrix in one of several shapes, by r % 8. */
static void fill_row(float *x, int64_t cols, int64_t r, uint64_t *s) {
    const int kind = (int)(r % 8);
    for (int64_t j = 0; j < cols; j++) {
        float g = gauss(s);
        switch (kind) {
        case 0: x[j] = 0.02f * g; break;                            /* typical weights */
        case 1: x[j] = g * g * g; break;                            /* heavy tails */
        case 2: x[j] = j == 37 ? 40.0f : 0.01f * g; break;          /* one outlier */
        case 3: x[j] = (j / 32) % 3 == 1 ? 0.0f : g; break;         /* zero sub-blocks */
        case 4: x[j] = 1e-6f * g; break;                            /* subnormal fp16 scale */
        case 5: x[j] = (j / 32) % 2 ? 3e-9f * g : 3.0f * g; break;  /* sub-blocks below 1e-8 */
        case 6: x[j] = (float)(int)(4 * g); break;                  /* ties on the levels */
        default: x[j] = (float)uniform(s) * 2 - 1; break;           /* uniform */
        }
    }
}

static void random_rows_are_ggmls(void **state) {
    (void)state;
    NEED_ORACLE();
    uint64_t seed = 31;
    const int64_t shapes[][2] = {{16, 256}, {24, 768}, {9, 2048}};
    const size_t n_shapes = sanitizer_build() ? 1 : 3;
    for (size_t sh = 0; sh < n_shapes; sh++) {
        const int64_t rows = shapes[sh][0], cols = shapes[sh][1];
        float *x = xmalloc((size_t)(rows * cols) * sizeof *x), *imp = xmalloc((size_t)cols * sizeof *imp);
        for (int64_t r = 0; r < rows; r++) fill_row(x + r * cols, cols, r, &seed);
        for (int64_t j = 0; j < cols; j++) /* some columns unimportant (a whole sub-block of the
                                               * first block: no trial scale fits there), the rest
                                               * spread widely */
            imp[j] = j % 11 == 3 || (j >= 64 && j < 96) ? 0.0f : (float)(uniform(&seed) * uniform(&seed) * 5);
        same_as_oracle("random rows", x, rows, cols, NULL);
        same_as_oracle("random rows", x, rows, cols, imp);
        free(x);
        free(imp);
    }
}

/* ---- the synth-llama matrices ---- */

static void fixture_matrices_are_ggmls(void **state) {
    (void)state;
    NEED_ORACLE();
    Err err;
    Gguf *g = gguf_open(NEED_FIXTURE("models/synth-llama/synth-llama-F32.gguf"), &err);
    if (!g) fail_msg("%s", err.msg);
    uint64_t seed = 11;
    int n = 0;
    const int limit = sanitizer_build() ? 4 : 1000;
    for (int i = 0; i < gguf_n_tensors(g) && n < limit; i++) {
        const GgufTensor *t = gguf_tensor(g, i);
        if (t->n_dims != 2) continue;
        assert_int_equal(t->type, Q_F32);
        const int64_t cols = t->ne[0], rows = t->ne[1];
        float *imp = xmalloc((size_t)cols * sizeof *imp);
        for (int64_t j = 0; j < cols; j++) imp[j] = 0.1f + (float)uniform(&seed);
        same_as_oracle(t->name, t->data, rows, cols, NULL);
        same_as_oracle(t->name, t->data, rows, cols, imp);
        free(imp);
        n++;
    }
    assert_int_equal(n, sanitizer_build() ? 4 : 16);
    gguf_close(g);
}

/* ---- without the oracle ---- */

static void zero_row_is_the_zero_block(void **state) {
    (void)state;
    float x[512] = {0};
    uint8_t q[196];
    memset(q, 0xAB, sizeof q);
    assert_int_equal(qtype_row_bytes(Q_IQ3_XXS, 512), sizeof q);
    assert_int_equal(qquantize_row(Q_IQ3_XXS, x, q, 512, NULL), 0);
    for (size_t k = 0; k < sizeof q; k++) assert_int_equal(q[k], 0);
    /* below the 1e-8 threshold counts as zero too */
    for (int j = 0; j < 256; j++) x[j] = j % 2 ? 9e-9f : -9e-9f;
    assert_int_equal(qquantize_row(Q_IQ3_XXS, x, q, 256, NULL), 0);
    for (int k = 0; k < 98; k++) assert_int_equal(q[k], 0);
    assert_true(qtype_can_quant(Q_IQ3_XXS));
    assert_int_equal(qquantize_row(Q_IQ3_XXS, x, q, 128, NULL), -1); /* not a multiple of 256 */
}

static void signs_and_error(void **state) {
    (void)state;
    uint64_t seed = 77;
    float x[2048], y[2048], imp[2048];
    uint8_t q[2048];
    for (int j = 0; j < 2048; j++) {
        x[j] = gauss(&seed);
        imp[j] = j % 4 == 0 ? 100.0f : 0.01f; /* every fourth column matters */
    }
    assert_int_equal(qquantize_row(Q_IQ3_XXS, x, q, 2048, NULL), 0);
    assert_int_equal(qdequant_row(Q_IQ3_XXS, q, y, 2048), 0);
    double e = 0, we_none = 0;
    int wrong = 0;
    for (int g = 0; g < 2048 / 8; g++) { /* at most one sign in 8 differs: the 8th bit is parity */
        int bad = 0;
        for (int i = 0; i < 8; i++) bad += (x[8 * g + i] < 0) != (y[8 * g + i] < 0);
        assert_true(bad <= 1);
        wrong += bad;
    }
    for (int j = 0; j < 2048; j++) {
        e += ((double)x[j] - y[j]) * ((double)x[j] - y[j]);
        we_none += imp[j] * ((double)x[j] - y[j]) * ((double)x[j] - y[j]);
    }
    assert_int_equal(qquantize_row(Q_IQ3_XXS, x, q, 2048, imp), 0);
    assert_int_equal(qdequant_row(Q_IQ3_XXS, q, y, 2048), 0);
    double we_imp = 0;
    for (int j = 0; j < 2048; j++) we_imp += imp[j] * ((double)x[j] - y[j]) * ((double)x[j] - y[j]);
    printf("# IQ3_XXS: relative RMS %.4f; %d of 2048 signs flipped for parity; weighted error %.4g "
           "with importance, %.4g without\n", sqrt(e / 2048), wrong, we_imp, we_none);
    assert_true(sqrt(e / 2048) < 0.25); /* 3.06 bits: about 0.2 of a unit gaussian */
    assert_true(wrong > 0 && wrong < 2048 / 8);
    assert_true(we_imp < 0.9 * we_none);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_rows_are_ggmls),
        cmocka_unit_test(fixture_matrices_are_ggmls),
        cmocka_unit_test(zero_row_is_the_zero_block),
        cmocka_unit_test(signs_and_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
