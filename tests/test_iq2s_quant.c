/* Tests of the IQ2_S quantizer (quant/iq2squant.c through quant/quantize.h) against llama.cpp
 * itself: the llama_oracle helper (docs/testing.md "llama.cpp as an oracle") runs
 * ggml_quantize_chunk on the same rows, with the same importance weights or none (ggml quantizes
 * IQ2_S without importance too), and the bytes must be identical (memcmp; the first differing
 * block is reported):
 *   - random rows of several shapes of distribution (gaussian, heavy tails, a single outlier,
 *     zero sub-blocks, sub-blocks below ggml's 1e-8 threshold, tiny magnitudes where the fp16
 *     scale goes subnormal, ties on the levels), importance weights random with zeros, all zero,
 *     or absent;
 *   - every matrix of the synth-llama F32 fixture, without and with importance weights;
 * plus what follows from the format without the oracle: the decoded row is close, importance
 * weights move the error to where they are large, a sub-block of zeros is stored as zeros, bad
 * rows are refused. Without the oracle the oracle tests skip with the reason. The ASan/UBSan pass
 * ($COLDTOK names an asan build) runs one shape and four fixture matrices: the same code paths,
 * a tenth of the work. */
#include <math.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/qtype.h"
#include "quant/quantize.h"
#include "tests/testutil.h"
#include "tests/quantcheck.h"

/* ggml_quantize_chunk to IQ2_S of rows x cols floats (imp: cols weights or NULL); free it. */
static uint8_t *oracle_quant(const float *x, int64_t rows, int64_t cols, const float *imp) {
    size_t len;
    uint8_t *q = oracle_quant_chunk(NEED_ORACLE(), "IQ2_S", x, rows, cols, imp, &len);
    assert_int_equal(len, qtype_row_bytes(Q_IQ2_S, cols) * (size_t)rows);
    return q;
}

/* ggml builds its IQ2_S neighbour table in every process (seconds), so the oracle is asked once
 * for many matrices: without importance every block of 256 is quantized on its own, so matrices
 * of any width go in one call as rows of 256; with importance, matrices of one width and one
 * importance vector go in one call. A Batch gathers the matrices of one call. */
typedef struct {
    float *x;
    int64_t n; /* floats gathered */
} Batch;

static void batch_add(Batch *b, const float *x, int64_t n) {
    b->x = realloc(b->x, (size_t)(b->n + n) * sizeof *b->x);
    assert_non_null(b->x);
    memcpy(b->x + b->n, x, (size_t)n * sizeof *x);
    b->n += n;
}

/* ggml's bytes of the batch, quantized as rows of cols (imp: cols weights or NULL) */
static uint8_t *batch_quant(const Batch *b, int64_t cols, const float *imp) {
    return oracle_quant(b->x, b->n / cols, cols, imp);
}

/* ---- random rows ---- */

/* Row r of a matrix in one of several shapes, by r % 8. */
static void fill_row(float *x, int64_t cols, int64_t r, uint64_t *s) {
    const int kind = (int)(r % 8);
    for (int64_t j = 0; j < cols; j++) {
        float g = gauss(s);
        switch (kind) {
        case 0: x[j] = 0.02f * g; break;                            /* typical weights */
        case 1: x[j] = g * g * g; break;                            /* heavy tails */
        case 2: x[j] = j == 37 ? 40.0f : 0.01f * g; break;          /* one outlier */
        case 3: x[j] = (j / 16) % 3 == 1 ? 0.0f : g; break;         /* zero sub-blocks of 16 */
        case 4: x[j] = 1e-6f * g; break;                            /* subnormal fp16 scale */
        case 5: x[j] = (j / 16) % 2 ? 1e-9f * g : 3.0f * g; break;  /* below GROUP_MAX_EPS_IQ2_S */
        case 6: x[j] = (float)(int)(4 * g); break;                  /* ties on the levels */
        default: x[j] = (float)uniform(s) * 2 - 1; break;           /* uniform */
        }
    }
}

static void random_rows_are_ggmls(void **state) {
    (void)state;
    NEED_ORACLE();
    uint64_t seed = 17;
    const int64_t shapes[][2] = {{24, 256}, {16, 768}, {9, 2048}};
    const size_t n_shapes = sanitizer_build() ? 1 : 3;
    float *x[3], *imp[3];
    Batch plain = {0};
    for (size_t sh = 0; sh < n_shapes; sh++) {
        const int64_t rows = shapes[sh][0], cols = shapes[sh][1];
        x[sh] = xmalloc((size_t)(rows * cols) * sizeof *x[sh]);
        imp[sh] = xmalloc((size_t)cols * sizeof *imp[sh]);
        for (int64_t r = 0; r < rows; r++) fill_row(x[sh] + r * cols, cols, r, &seed);
        for (int64_t j = 0; j < cols; j++) /* some columns unimportant, the rest spread widely */
            imp[sh][j] = j % 11 == 3 ? 0.0f : (float)(uniform(&seed) * uniform(&seed) * 5);
        batch_add(&plain, x[sh], rows * cols);
    }
    uint8_t *want = batch_quant(&plain, 256, NULL);
    size_t at = 0;
    for (size_t sh = 0; sh < n_shapes; sh++) {
        const int64_t rows = shapes[sh][0], cols = shapes[sh][1];
        quant_same("random rows", "IQ2_S", x[sh], rows, cols, NULL, want + at);
        at += qtype_row_bytes(Q_IQ2_S, cols) * (size_t)rows;
        uint8_t *w = oracle_quant(x[sh], rows, cols, imp[sh]);
        quant_same("random rows", "IQ2_S", x[sh], rows, cols, imp[sh], w);
        free(w);
        if (sh == 0) { /* importance all zero: no trial fits, the first guess stays */
            memset(imp[sh], 0, (size_t)cols * sizeof *imp[sh]);
            w = oracle_quant(x[sh], rows, cols, imp[sh]);
            quant_same("random rows, zero importance", "IQ2_S", x[sh], rows, cols, imp[sh], w);
            free(w);
        }
        free(x[sh]);
        free(imp[sh]);
    }
    free(want);
    free(plain.x);
}

/* ---- the synth-llama matrices ---- */

static void fixture_matrices_are_ggmls(void **state) {
    (void)state;
    NEED_ORACLE();
    Err err;
    Gguf *g = gguf_open(NEED_FIXTURE("models/synth-llama/synth-llama-F32.gguf"), &err);
    if (!g) fail_msg("%s", err.msg);
    uint64_t seed = 7;
    const int every = sanitizer_build() ? 4 : 1; /* the sanitizer pass: a quarter of them */
    const GgufTensor *mat[16];
    int n = 0, seen = 0;
    for (int i = 0; i < gguf_n_tensors(g); i++) {
        const GgufTensor *t = gguf_tensor(g, i);
        if (t->n_dims != 2) continue;
        assert_int_equal(t->type, Q_F32);
        if (seen++ % every == 0 && n < 16) mat[n++] = t;
    }
    assert_int_equal(seen, 16);
    assert_int_equal(n, 16 / every);
    /* without importance: all in one call */
    Batch plain = {0};
    for (int i = 0; i < n; i++) batch_add(&plain, mat[i]->data, mat[i]->ne[0] * mat[i]->ne[1]);
    uint8_t *want = batch_quant(&plain, 256, NULL);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        quant_same(mat[i]->name, "IQ2_S", mat[i]->data, mat[i]->ne[1], mat[i]->ne[0], NULL, want + at);
        at += qtype_row_bytes(Q_IQ2_S, mat[i]->ne[0]) * (size_t)mat[i]->ne[1];
    }
    free(want);
    free(plain.x);
    /* with importance: one call per width (256 and 512 here), one importance vector each */
    for (int done = 0, i0 = 0; done < n; i0++) {
        const int64_t cols = mat[i0]->ne[0];
        int first = 1;
        for (int i = 0; i < i0; i++) first &= mat[i]->ne[0] != cols;
        if (!first) continue;
        float *imp = xmalloc((size_t)cols * sizeof *imp);
        for (int64_t j = 0; j < cols; j++) imp[j] = 0.1f + (float)uniform(&seed);
        Batch b = {0};
        for (int i = i0; i < n; i++)
            if (mat[i]->ne[0] == cols) batch_add(&b, mat[i]->data, cols * mat[i]->ne[1]);
        want = batch_quant(&b, cols, imp);
        at = 0;
        for (int i = i0; i < n; i++) {
            if (mat[i]->ne[0] != cols) continue;
            quant_same(mat[i]->name, "IQ2_S", mat[i]->data, mat[i]->ne[1], cols, imp, want + at);
            at += qtype_row_bytes(Q_IQ2_S, cols) * (size_t)mat[i]->ne[1];
            done++;
        }
        free(want);
        free(b.x);
        free(imp);
    }
    gguf_close(g);
}

/* ---- without the oracle ---- */

/* sum imp (x - dequant)^2 and the plain squared error of a row quantized with q_imp (or none) */
static void row_errors(const float *x, int64_t n, const float *q_imp, const float *imp, double *we, double *e) {
    uint8_t q[1024];
    float y[2048];
    assert_int_equal(qquantize_row(Q_IQ2_S, x, q, n, q_imp), 0);
    assert_int_equal(qdequant_row(Q_IQ2_S, q, y, n), 0);
    *we = *e = 0;
    for (int64_t j = 0; j < n; j++) {
        const double d = (double)x[j] - y[j];
        *we += imp[j] * d * d;
        *e += d * d;
    }
}

static void importance_moves_the_error(void **state) {
    (void)state;
    uint64_t seed = 99;
    float x[2048], imp[2048], flat[2048];
    for (int j = 0; j < 2048; j++) {
        x[j] = gauss(&seed);
        imp[j] = j % 4 == 0 ? 100.0f : 0.01f; /* every fourth column matters */
        flat[j] = 1.0f;
    }
    double we_imp, e_imp, we_none, e_none, we_flat, e_flat;
    row_errors(x, 2048, imp, imp, &we_imp, &e_imp);
    row_errors(x, 2048, NULL, imp, &we_none, &e_none);
    row_errors(x, 2048, flat, imp, &we_flat, &e_flat);
    printf("# IQ2_S: weighted error %.4g with importance, %.4g without; relative RMS %.4f (%.4f "
           "with importance all 1)\n", we_imp, we_none, sqrt(e_none / 2048), sqrt(e_flat / 2048));
    /* 2.5 bits a weight: about 0.25 of a unit gaussian (IQ2_XS, 2.31 bits, about 0.3) */
    assert_true(we_imp < 0.9 * we_none);
    assert_true(sqrt(e_none / 2048) < 0.3);
    assert_true(sqrt(e_flat / 2048) < 0.3);
}

static void zero_sub_blocks_stay_zero(void **state) {
    (void)state;
    uint64_t seed = 3;
    float x[256], y[256];
    uint8_t q[82];
    for (int j = 0; j < 256; j++) x[j] = j / 16 == 5 ? 0.0f : gauss(&seed);
    assert_int_equal(qquantize_row(Q_IQ2_S, x, q, 256, NULL), 0);
    assert_int_equal(qdequant_row(Q_IQ2_S, q, y, 256), 0);
    /* its groups: grid index 0 (every value level 0), no signs, scale nibble 0: it decodes to
     * d (0.5 + 0) / 4 * 8 = d for all 16 values, not to zeros (the format has no zero level) */
    assert_int_equal(q[2 + 10] | q[2 + 11] | q[34 + 10] | q[34 + 11], 0);
    assert_int_equal(q[66 + 2] >> 4, 0); /* qh: groups 10, 11 are bits 4..7 of byte 2 */
    assert_int_equal(q[74 + 2] >> 4, 0); /* sub-block 5: the high nibble of scales[2] */
    for (int j = 80; j < 96; j++) assert_true(y[j] == y[80] && y[j] > 0);
    /* an all-zero row is all zero bytes */
    memset(x, 0, sizeof x);
    memset(q, 0xAA, sizeof q);
    assert_int_equal(qquantize_row(Q_IQ2_S, x, q, 256, NULL), 0);
    for (int k = 0; k < 82; k++) assert_int_equal(q[k], 0);
}

static void bad_rows_are_refused(void **state) {
    (void)state;
    float x[512] = {0}, imp[512];
    uint8_t q[512];
    for (int j = 0; j < 512; j++) imp[j] = 1;
    assert_true(qtype_can_quant(Q_IQ2_S));
    assert_int_equal(qquantize_row(Q_IQ2_S, x, q, 128, NULL), -1); /* not a multiple of 256 */
    x[5] = NAN;
    assert_int_equal(qquantize_row(Q_IQ2_S, x, q, 256, NULL), -1);
    x[5] = 70000.0f; /* beyond fp16 */
    assert_int_equal(qquantize_row(Q_IQ2_S, x, q, 256, NULL), -1);
    x[5] = 0;
    imp[300] = -1;
    assert_int_equal(qquantize_row(Q_IQ2_S, x, q, 512, imp), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_rows_are_ggmls),
        cmocka_unit_test(fixture_matrices_are_ggmls),
        cmocka_unit_test(importance_moves_the_error),
        cmocka_unit_test(zero_sub_blocks_stay_zero),
        cmocka_unit_test(bad_rows_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
