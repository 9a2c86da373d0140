/* Tests of quant/quantize: against llama.cpp's own quantizations of the synth-llama fixtures (the
 * F32 file re-quantized by llama-quantize --pure, c392e509), and on hand-made rows whose results
 * follow from the block formulas (worked out in the comments).
 *   - Q8_0 Q4_0 Q4_1 Q5_0 Q5_1: every matrix byte-identical to llama.cpp's;
 *   - k-quants: qquantize_row_ref byte-identical to llama.cpp's, and qquantize_row's reconstruction
 *     RMSE no worse than llama.cpp's on every tensor (both figures printed as "# " lines);
 *   - importance weights lower the weighted error; bad input is refused. */
#include <math.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/qtype.h"
#include "quant/quantize.h"
#include "tests/testutil.h"

#define DIR "models/synth-llama/"

static Gguf *open_fixture(const char *type) {
    char rel[128];
    snprintf(rel, sizeof rel, DIR "synth-llama-%s.gguf", type);
    const char *p = NEED_FIXTURE(rel);
    Err err;
    Gguf *g = gguf_open(p, &err);
    if (!g) fail_msg("%s", err.msg);
    return g;
}

/* Compares every 2-D tensor of the F32 file, quantized here, with the same tensor of the TYPE
 * file. ref: use qquantize_row_ref. Returns the number of byte-identical tensors; sums squared
 * errors (ours, llama.cpp's) per tensor into the arrays when given and prints them. */
static int compare_type(const char *type_name, int ref, int print_rmse, int *n_worse) {
    Gguf *f32 = open_fixture("F32"), *q = open_fixture(type_name);
    const uint32_t type = (uint32_t)qtype_from_name(type_name);
    int n2d = 0, same = 0;
    double tot_me = 0, tot_ll = 0, tot_n = 0;
    *n_worse = 0;
    for (int i = 0; i < gguf_n_tensors(f32); i++) {
        const GgufTensor *a = gguf_tensor(f32, i);
        const GgufTensor *b = gguf_find_tensor(q, a->name);
        assert_non_null(b);
        if (a->n_dims != 2) {
            assert_int_equal(b->type, Q_F32); /* the norms stay F32 (README) */
            continue;
        }
        n2d++;
        assert_int_equal(a->type, Q_F32);
        assert_int_equal(b->type, type); /* --pure: every matrix in the named type */
        const int64_t n = a->ne[0], rows = a->ne[1];
        const size_t rb = qtype_row_bytes(type, n);
        assert_int_equal(b->nbytes, rb * (size_t)rows);
        uint8_t *buf = xmalloc(rb * (size_t)rows);
        float *r = xmalloc((size_t)n * sizeof(float));
        double se_me = 0, se_ll = 0;
        for (int64_t row = 0; row < rows; row++) {
            const float *x = (const float *)a->data + row * n;
            uint8_t *y = buf + (size_t)row * rb;
            assert_int_equal(ref ? qquantize_row_ref(type, x, y, n) : qquantize_row(type, x, y, n, NULL), 0);
            assert_int_equal(qdequant_row(type, y, r, n), 0);
            for (int64_t j = 0; j < n; j++) se_me += ((double)r[j] - x[j]) * ((double)r[j] - x[j]);
            assert_int_equal(qdequant_row(type, (const uint8_t *)b->data + (size_t)row * rb, r, n), 0);
            for (int64_t j = 0; j < n; j++) se_ll += ((double)r[j] - x[j]) * ((double)r[j] - x[j]);
        }
        if (!memcmp(buf, b->data, rb * (size_t)rows)) same++;
        else if (ref) {
            size_t k = 0;
            while (buf[k] == ((const uint8_t *)b->data)[k]) k++;
            printf("# %s %s: first difference at byte %zu\n", type_name, a->name, k);
        }
        const double cnt = (double)n * (double)rows;
        if (print_rmse)
            printf("# %-5s %-26s rmse coldtok %.6e  llama.cpp %.6e  (%+.2f%%)\n", type_name, a->name,
                   sqrt(se_me / cnt), sqrt(se_ll / cnt), 100 * (sqrt(se_me / se_ll) - 1));
        if (se_me > se_ll) (*n_worse)++;
        tot_me += se_me, tot_ll += se_ll, tot_n += cnt;
        free(buf);
        free(r);
    }
    assert_int_equal(n2d, 16);
    if (print_rmse)
        printf("# %-5s all 16 matrices             rmse coldtok %.6e  llama.cpp %.6e  (%+.2f%%)\n",
               type_name, sqrt(tot_me / tot_n), sqrt(tot_ll / tot_n), 100 * (sqrt(tot_me / tot_ll) - 1));
    gguf_close(f32);
    gguf_close(q);
    return same;
}

static void legacy_byte_exact(void **state) {
    (void)state;
    const char *types[] = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"};
    for (int i = 0; i < 5; i++) {
        int worse;
        int same = compare_type(types[i], 0, 0, &worse);
        if (same != 16) fail_msg("%s: only %d of 16 matrices byte-identical to llama.cpp", types[i], same);
        /* the reference entry point is the same thing for these types */
        assert_int_equal(compare_type(types[i], 1, 0, &worse), 16);
    }
}

static void kquant_reference_byte_exact(void **state) {
    (void)state;
    const char *types[] = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
    for (int i = 0; i < 5; i++) {
        int worse;
        int same = compare_type(types[i], 1, 0, &worse);
        if (same != 16) fail_msg("%s reference: only %d of 16 matrices byte-identical", types[i], same);
    }
}

static void kquant_rmse_no_worse(void **state) {
    (void)state;
    const char *types[] = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
    for (int i = 0; i < 5; i++) {
        int worse;
        compare_type(types[i], 0, 1, &worse);
        if (worse) fail_msg("%s: %d tensors reconstruct worse than llama.cpp's", types[i], worse);
    }
}

/* ---- hand-made rows ---- */

static const uint32_t ALL[] = {Q_Q8_0, Q_Q4_0, Q_Q4_1, Q_Q5_0, Q_Q5_1,
                               Q_Q2_K, Q_Q3_K, Q_Q4_K, Q_Q5_K, Q_Q6_K};
#define N_ALL (sizeof ALL / sizeof ALL[0])
#define ROW 512

/* quantize + dequantize a row; asserts success and finite output */
static void round_trip(uint32_t type, const float *x, float *y, int64_t n, const float *imp) {
    uint8_t q[ROW * 4];
    assert_int_equal(qquantize_row(type, x, q, n, imp), 0);
    assert_int_equal(qdequant_row(type, q, y, n), 0);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(y[i])) fail_msg("%s: element %lld is not finite", qtype_name(type), (long long)i);
}

static void zeros_and_constants(void **state) {
    (void)state;
    float x[ROW], y[ROW];
    for (size_t t = 0; t < N_ALL; t++) {
        memset(x, 0, sizeof x);
        round_trip(ALL[t], x, y, ROW, NULL);
        for (int i = 0; i < ROW; i++) assert_true(y[i] == 0.0f);
        /* a positive and a negative constant come back within fp16 rounding of the one scale (and,
         * for the k-quants, of the 6-bit sub-scale, which is at its top code 63 / 15 / 31 here) */
        for (int s = -1; s <= 1; s += 2) {
            for (int i = 0; i < ROW; i++) x[i] = 0.3f * s;
            round_trip(ALL[t], x, y, ROW, NULL);
            for (int i = 0; i < ROW; i++)
                if (fabsf(y[i] - x[i]) > 0.3f * 2e-3f)
                    fail_msg("%s: constant %g came back as %g", qtype_name(ALL[t]), x[i], y[i]);
        }
    }
    /* exact cases: Q4_0 of 0.5: d = max/-8 = -0.0625 (exact in fp16), q = (int)(0.5*-16 + 8.5) = 0,
     * x = d*(0-8) = 0.5; Q8_0 of 0.5: d = 0.5/127, q = 127, x = 127*fp16(d). */
    for (int i = 0; i < 32; i++) x[i] = 0.5f;
    round_trip(Q_Q4_0, x, y, 32, NULL);
    for (int i = 0; i < 32; i++) assert_true(y[i] == 0.5f);
    round_trip(Q_Q8_0, x, y, 32, NULL);
    for (int i = 0; i < 32; i++) assert_true(y[i] == 127 * fp16_to_f32(f32_to_fp16(0.5f / 127)));
}

/* a smooth row of small values with one large outlier */
static void outlier(void **state) {
    (void)state;
    float x[ROW], y[ROW];
    const int at = 37;
    for (int i = 0; i < ROW; i++) x[i] = 0.01f * sinf(0.7f * i);
    x[at] = 10.0f;
    for (size_t t = 0; t < N_ALL; t++) {
        round_trip(ALL[t], x, y, ROW, NULL);
        /* the outlier sets its block's scale: it comes back within a few fp16 roundings */
        if (fabsf(y[at] - 10.0f) > 10.0f * 0.01f)
            fail_msg("%s: the outlier 10 came back as %g", qtype_name(ALL[t]), y[at]);
        /* blocks without it are not disturbed: error below a step of their own scale */
        const int be = qtype_block_elems(ALL[t]);
        double se = 0, sx = 0;
        for (int i = 0; i < ROW; i++) {
            if (i / be == at / be) continue;
            se += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
            sx += (double)x[i] * x[i];
        }
        if (sqrt(se / sx) > 0.3)
            fail_msg("%s: blocks without the outlier have relative rmse %.3f", qtype_name(ALL[t]),
                     sqrt(se / sx));
    }
}

static void tiny_and_extreme(void **state) {
    (void)state;
    float x[ROW], y[ROW];
    uint8_t q[ROW * 4];
    const float mags[] = {1e-30f, 1e-8f, 1e-6f, 1e-5f, 1e-4f, 60000.0f, 65504.0f};
    for (size_t t = 0; t < N_ALL; t++) {
        const int kquant = qtype_block_elems(ALL[t]) == 256;
        for (size_t m = 0; m < sizeof mags / sizeof mags[0]; m++) {
            for (int i = 0; i < ROW; i++) x[i] = mags[m] * (((i * 37) % 17) - 8) / 8.0f;
            round_trip(ALL[t], x, y, ROW, NULL);
            /* never further off than the largest magnitude, never worse than all zeros (which is
             * what the fp16 scales give below ~1e-7 * levels), and for the k-quants, whose
             * super-block scale can reach fp16's subnormals, still a real fit down to 1e-6:
             * relative rmse below 0.3 (Q2_K, 4 levels for 17 values, is the worst at 0.25) */
            double se = 0, sx = 0;
            for (int i = 0; i < ROW; i++) {
                if (fabsf(y[i] - x[i]) > mags[m] * 1.01f)
                    fail_msg("%s at magnitude %g: %g came back as %g", qtype_name(ALL[t]), mags[m],
                             x[i], y[i]);
                se += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
                sx += (double)x[i] * x[i];
            }
            assert_true(se <= sx);
            if (kquant && mags[m] >= 1e-6f && sqrt(se / sx) > 0.3)
                fail_msg("%s at magnitude %g: relative rmse %.3f", qtype_name(ALL[t]), mags[m],
                         sqrt(se / sx));
        }
        /* beyond the fp16 range of the scales, NaN, infinity: refused */
        for (int i = 0; i < ROW; i++) x[i] = 0.1f;
        x[5] = 70000.0f;
        assert_int_equal(qquantize_row(ALL[t], x, q, ROW, NULL), -1);
        x[5] = NAN;
        assert_int_equal(qquantize_row(ALL[t], x, q, ROW, NULL), -1);
        assert_int_equal(qquantize_row_ref(ALL[t], x, q, ROW), -1);
        x[5] = -INFINITY;
        assert_int_equal(qquantize_row(ALL[t], x, q, ROW, NULL), -1);
    }
    /* F32 and BF16 hold big values */
    for (int i = 0; i < ROW; i++) x[i] = 0.1f;
    x[5] = 1e30f;
    round_trip(Q_F32, x, y, ROW, NULL);
    assert_true(y[5] == 1e30f);
    round_trip(Q_BF16, x, y, ROW, NULL);
    assert_true(fabsf(y[5] - 1e30f) < 1e30f * 4e-3f);
    assert_int_equal(qquantize_row(Q_F16, x, q, ROW, NULL), -1);
}

static void bad_arguments(void **state) {
    (void)state;
    float x[ROW] = {0};
    uint8_t q[ROW * 4];
    assert_int_equal(qquantize_row(Q_Q4_K, x, q, 128, NULL), -1); /* not a multiple of 256 */
    assert_int_equal(qquantize_row(Q_Q8_0, x, q, 48, NULL), -1);  /* not a multiple of 32 */
    assert_int_equal(qquantize_row(Q_Q8_1, x, q, 32, NULL), -1);  /* ggml type we do not write */
    assert_int_equal(qquantize_row(22 /* IQ2_S */, x, q, 256, NULL), -1);
    assert_int_equal(qquantize_row(1000, x, q, 256, NULL), -1);
    float imp[ROW];
    for (int i = 0; i < ROW; i++) imp[i] = 1;
    imp[3] = -1;
    assert_int_equal(qquantize_row(Q_Q4_K, x, q, 256, imp), -1); /* negative importance */
    /* coldtok writes exactly the 13 types it read first and IQ4_NL, IQ4_XS, IQ3_S, IQ2_XS
     * (tests/test_iq_quant.c), IQ3_XXS (tests/test_iq3xxs_quant.c); the other i-quants, TQ and MXFP4 it only reads */
    static const uint32_t writes[] = {Q_F32, Q_F16, Q_BF16, Q_Q8_0, Q_Q4_0, Q_Q4_1, Q_Q5_0,
                                      Q_Q5_1, Q_Q2_K, Q_Q3_K, Q_Q4_K, Q_Q5_K, Q_Q6_K,
                                      Q_IQ4_NL, Q_IQ4_XS, Q_IQ3_S, Q_IQ2_XS,
                                      Q_IQ3_XXS};
    for (uint32_t t = 0; t < 64; t++) {
        int w = 0;
        for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) w |= writes[i] == t;
        assert_int_equal(qtype_can_quant(t), w);
        if (w) assert_true(qtype_can_dequant(t)); /* writes only what it reads */
    }
}

/* ---- importance ---- */

static uint64_t rng = 88172645463325252ull;
static float uniform(void) { /* xorshift64, in [-1, 1) */
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

static double weighted_se(uint32_t type, const float *x, const uint8_t *q, const float *w, int n) {
    float y[ROW];
    assert_int_equal(qdequant_row(type, q, y, n), 0);
    double s = 0;
    for (int i = 0; i < n; i++) s += (w ? w[i] : 1.0) * ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
    return s;
}

static void importance(void **state) {
    (void)state;
    float x[ROW], imp[ROW];
    uint8_t a[ROW * 4], b[ROW * 4], c[ROW * 4];
    /* columns of very unequal importance, as activations of real models have */
    for (int i = 0; i < ROW; i++) imp[i] = (i % 7 == 0) ? 50.0f : 0.2f + 0.1f * (i % 3);
    for (size_t t = 0; t < N_ALL; t++) {
        const uint32_t type = ALL[t];
        double w_imp = 0, w_plain = 0, w_ref = 0;
        for (int row = 0; row < 32; row++) {
            for (int i = 0; i < ROW; i++) x[i] = 0.05f * uniform() * (1 + (i % 5 == 0));
            assert_int_equal(qquantize_row(type, x, a, ROW, imp), 0);
            assert_int_equal(qquantize_row(type, x, b, ROW, NULL), 0);
            assert_int_equal(qquantize_row_ref(type, x, c, ROW), 0);
            double wi = weighted_se(type, x, a, imp, ROW), wr = weighted_se(type, x, c, imp, ROW);
            /* per row never worse than the reference on the weighted error (per-block choice) */
            assert_true(wi <= wr);
            /* and without importance never worse than the reference on the plain error */
            assert_true(weighted_se(type, x, b, NULL, ROW) <= weighted_se(type, x, c, NULL, ROW));
            w_imp += wi, w_ref += wr, w_plain += weighted_se(type, x, b, imp, ROW);
        }
        printf("# %-5s weighted error with importance %.4e, without %.4e, reference %.4e\n",
               qtype_name(type), w_imp, w_plain, w_ref);
        if (type == Q_Q8_0) assert_true(w_imp == w_plain); /* Q8_0 ignores importance */
        else if (!(w_imp < w_plain))
            fail_msg("%s: importance did not lower the weighted error", qtype_name(type));
    }
}

static void rows_match_row_by_row(void **state) {
    (void)state;
    enum { R = 40, N = 512 };
    float *x = xmalloc(R * N * sizeof(float));
    for (int i = 0; i < R * N; i++) x[i] = uniform();
    for (size_t t = 0; t < N_ALL; t++) {
        const size_t rb = qtype_row_bytes(ALL[t], N);
        uint8_t *m = xmalloc(R * rb), *r = xmalloc(rb);
        assert_int_equal(qquantize_rows(ALL[t], x, m, R, N, NULL, NULL), R * rb);
        for (int row = 0; row < R; row++) {
            assert_int_equal(qquantize_row(ALL[t], x + row * N, r, N, NULL), 0);
            assert_memory_equal(m + row * rb, r, rb);
        }
        free(m);
        free(r);
    }
    /* a bad row is named */
    x[17 * N + 3] = NAN;
    uint8_t *m = xmalloc(R * qtype_row_bytes(Q_Q4_0, N));
    int64_t bad = -1;
    assert_int_equal(qquantize_rows(Q_Q4_0, x, m, R, N, NULL, &bad), 0);
    assert_int_equal(bad, 17);
    free(m);
    free(x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(legacy_byte_exact),
        cmocka_unit_test(kquant_reference_byte_exact),
        cmocka_unit_test(kquant_rmse_no_worse),
        cmocka_unit_test(zeros_and_constants),
        cmocka_unit_test(outlier),
        cmocka_unit_test(tiny_and_extreme),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(importance),
        cmocka_unit_test(rows_match_row_by_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
