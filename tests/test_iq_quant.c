/* Tests of the i-quant quantizers of quant/quantize.h (IQ4_NL, IQ4_XS, IQ3_S, IQ2_XS) against llama.cpp itself:
 * the llama_oracle helper (docs/testing.md "llama.cpp as an oracle") runs ggml_quantize_chunk on
 * the same rows, with the same importance weights or none, and the bytes must be identical
 * (memcmp; the first differing block is reported; IQ2_XS only with importance weights, which
 * llama.cpp requires for it):
 *   - random rows of several shapes of distribution (gaussian, heavy tails, a single outlier,
 *     near-zero and all-zero sub-blocks, tiny magnitudes where fp16 scales go subnormal),
 *     importance weights random, with zeros, or absent;
 *   - every matrix of the synth-llama F32 fixture, without and with importance weights;
 * and, for the k-quant tensors of the IQ mixtures, the candidate that keeps qquantize_row with
 * importance weights never worse than llama.cpp per block: llama.cpp's own importance-aware block
 * (q*k_imp_ll), byte-identical to ggml's with the same weights;
 * plus the things that follow from the format without the oracle: the decoded row is close, and
 * importance weights move the error to where they are small. Without the oracle the oracle tests
 * skip with the reason. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/qtype.h"
#include "quant/qblock.h" /* the k-quants' llama.cpp-exact importance candidate */
#include "quant/quantize.h"
#include "tests/testutil.h"

static const char *const TYPES[] = {"IQ4_NL", "IQ4_XS", "IQ3_S", "IQ2_XS"};
/* llama.cpp quantizes IQ2_XS only with importance weights (coldtok: uniform ones without) */
static int needs_imp(const char *type) { return !strcmp(type, "IQ2_XS"); }
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* ggml_quantize_chunk of rows x cols floats (imp: cols weights or NULL); free the result.
 * *secs gets the oracle's wall time (process included) when not NULL. */
static uint8_t *oracle_quant(const char *type, const float *x, int64_t rows, int64_t cols,
                             const float *imp, double *secs) {
    const char *o = NEED_ORACLE();
    char dir[64] = "/tmp/coldtok-test-iq-quant.XXXXXX", in[96], out[96], im[96], cmd[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(in, sizeof in, "%s/in", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(im, sizeof im, "%s/imp", dir);
    write_bytes(in, x, (size_t)(rows * cols) * sizeof *x);
    if (imp) write_bytes(im, imp, (size_t)cols * sizeof *imp);
    snprintf(cmd, sizeof cmd, "'%s' quant %s %lld %s %s %s", o, type, (long long)cols, in, out, imp ? im : "");
    const double t0 = now_seconds();
    const int rc = system(cmd);
    if (secs) *secs = now_seconds() - t0;
    if (rc != 0) fail_msg("'%s' exited %d", cmd, rc);
    size_t len;
    Err err;
    uint8_t *q = (uint8_t *)read_file(out, &len, &err);
    unlink(in), unlink(out), unlink(im), rmdir(dir);
    if (!q) fail_msg("%s", err.msg);
    assert_int_equal(len, qtype_row_bytes((uint32_t)qtype_from_name(type), cols) * (size_t)rows);
    return q;
}

/* Quantizes the rows here and with ggml; fails at the first differing block. */
static void same_as_oracle(const char *what, const char *type, const float *x, int64_t rows,
                           int64_t cols, const float *imp) {
    const uint32_t id = (uint32_t)qtype_from_name(type);
    const size_t rb = qtype_row_bytes(id, cols), bb = qtype_block_bytes(id);
    uint8_t *want = oracle_quant(type, x, rows, cols, imp, NULL), *got = xmalloc(rb * (size_t)rows);
    for (int64_t r = 0; r < rows; r++)
        assert_int_equal(qquantize_row(id, x + r * cols, got + (size_t)r * rb, cols, imp), 0);
    for (size_t k = 0; k < rb * (size_t)rows; k++)
        if (got[k] != want[k])
            fail_msg("%s %s%s: byte %zu (block %zu of row %zu) is %02x, ggml's %02x", what, type,
                     imp ? " with importance" : "", k, (k % rb) / bb, k / rb, got[k], want[k]);
    /* the tensor entry point gives the same bytes */
    memset(got, 0, rb * (size_t)rows);
    assert_int_equal(qquantize_rows(id, x, got, rows, cols, imp, NULL), rb * (size_t)rows);
    assert_memory_equal(got, want, rb * (size_t)rows);
    if (!imp) { /* and so does the reference entry point, which takes no importance */
        for (int64_t r = 0; r < rows; r++)
            assert_int_equal(qquantize_row_ref(id, x + r * cols, got + (size_t)r * rb, cols), 0);
        assert_memory_equal(got, want, rb * (size_t)rows);
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

/* Row r of a rows x cols matrix in one of several shapes, by r % 8. */
static void fill_row(float *x, int64_t cols, int64_t r, uint64_t *s) {
    const int kind = (int)(r % 8);
    for (int64_t j = 0; j < cols; j++) {
        float g = gauss(s);
        switch (kind) {
        case 0: x[j] = 0.02f * g; break;                                   /* typical weights */
        case 1: x[j] = g * g * g; break;                                   /* heavy tails */
        case 2: x[j] = j == 37 ? 40.0f : 0.01f * g; break;                 /* one outlier */
        case 3: x[j] = (j / 32) % 3 == 1 ? 0.0f : g; break;                /* zero sub-blocks */
        case 4: x[j] = 1e-6f * g; break;                                   /* subnormal fp16 scales */
        case 5: x[j] = (j / 32) % 2 ? 1e-17f * g : 3.0f * g; break;        /* below GROUP_MAX_EPS */
        case 6: x[j] = (float)(int)(4 * g); break;                         /* ties on the levels */
        default: x[j] = (float)uniform(s) * 2 - 1; break;                  /* uniform */
        }
    }
}

static void random_rows_are_ggmls(void **state) {
    (void)state;
    NEED_ORACLE();
    uint64_t seed = 13;
    const int64_t shapes[][2] = {{24, 256}, {16, 768}, {9, 2048}};
    const size_t n_shapes = sanitizer_build() ? 1 : 3; /* the sanitizer pass: memory, not numbers */
    for (size_t sh = 0; sh < n_shapes; sh++) {
        const int64_t rows = shapes[sh][0], cols = shapes[sh][1];
        float *x = xmalloc((size_t)(rows * cols) * sizeof *x), *imp = xmalloc((size_t)cols * sizeof *imp);
        for (int64_t r = 0; r < rows; r++) fill_row(x + r * cols, cols, r, &seed);
        for (int64_t j = 0; j < cols; j++) /* some columns unimportant, the rest spread widely */
            imp[j] = j % 11 == 3 ? 0.0f : (float)(uniform(&seed) * uniform(&seed) * 5);
        for (size_t k = 0; k < N_TYPES; k++) {
            if (!needs_imp(TYPES[k])) same_as_oracle("random rows", TYPES[k], x, rows, cols, NULL);
            same_as_oracle("random rows", TYPES[k], x, rows, cols, imp);
        }
        free(x);
        free(imp);
    }
}

/* ---- the synth-llama matrices ---- */

/* The synth-llama matrices of one width, stacked: ggml quantizes row by row with importance per
 * column, so one oracle call per width and type gives each matrix's own bytes (one call per
 * matrix took 90 s). The sanitizer pass stacks only the first four matrices. */
static void fixture_matrices_are_ggmls(void **state) {
    (void)state;
    NEED_ORACLE();
    Err err;
    Gguf *g = gguf_open(NEED_FIXTURE("models/synth-llama/synth-llama-F32.gguf"), &err);
    if (!g) fail_msg("%s", err.msg);
    const int limit = sanitizer_build() ? 4 : 1 << 30;
    if (sanitizer_build()) printf("# sanitizer build: the first %d matrices only\n", limit);
    int n = 0, done[64] = {0};
    assert_true(gguf_n_tensors(g) <= 64);
    for (int i = 0; i < gguf_n_tensors(g); i++) {
        const GgufTensor *first = gguf_tensor(g, i);
        if (first->n_dims != 2 || done[i]) continue;
        const int64_t cols = first->ne[0];
        int64_t rows = 0;
        float *x = NULL;
        for (int j = i; j < gguf_n_tensors(g) && n < limit; j++) { /* every matrix of this width */
            const GgufTensor *t = gguf_tensor(g, j);
            if (t->n_dims != 2 || t->ne[0] != cols) continue;
            assert_int_equal(t->type, Q_F32);
            x = realloc(x, (size_t)((rows + t->ne[1]) * cols) * sizeof *x);
            assert_non_null(x);
            memcpy(x + rows * cols, t->data, (size_t)(t->ne[1] * cols) * sizeof *x);
            rows += t->ne[1];
            done[j] = 1;
            n++;
        }
        if (!rows) break;
        uint64_t seed = 7 + (uint64_t)cols;
        float *imp = xmalloc((size_t)cols * sizeof *imp);
        for (int64_t j = 0; j < cols; j++) imp[j] = 0.1f + (float)uniform(&seed);
        char what[64];
        snprintf(what, sizeof what, "synth-llama matrices of %lld columns", (long long)cols);
        for (size_t k = 0; k < N_TYPES; k++) {
            if (!needs_imp(TYPES[k])) same_as_oracle(what, TYPES[k], x, rows, cols, NULL);
            same_as_oracle(what, TYPES[k], x, rows, cols, imp);
        }
        free(imp);
        free(x);
    }
    assert_int_equal(n, sanitizer_build() ? 4 : 16);
    gguf_close(g);
}

/* ---- the k-quants' third candidate ---- */

static void kquant_importance_candidate_is_ggmls(void **state) {
    (void)state;
    NEED_ORACLE();
    static const char *const names[] = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
    void (*const fn[])(const float *, uint8_t *, const float *) = {q2k_imp_ll, q3k_imp_ll, q4k_imp_ll,
                                                                    q5k_imp_ll, q6k_imp_ll};
    uint64_t seed = 21;
    const int64_t rows = 16, cols = 512;
    float *x = xmalloc((size_t)(rows * cols) * sizeof *x), imp[512];
    for (int64_t r = 0; r < rows; r++) fill_row(x + r * cols, cols, r, &seed);
    for (int j = 0; j < cols; j++) imp[j] = j % 13 == 5 ? 0.0f : (float)(uniform(&seed) * 3);
    for (int k = 0; k < 5; k++) {
        const uint32_t id = (uint32_t)qtype_from_name(names[k]);
        const size_t rb = qtype_row_bytes(id, cols), bb = qtype_block_bytes(id);
        uint8_t *want = oracle_quant(names[k], x, rows, cols, imp, NULL), *got = xmalloc(rb * (size_t)rows);
        for (int64_t r = 0; r < rows; r++)
            for (int b = 0; b < cols / 256; b++) fn[k](x + r * cols + 256 * b, got + (size_t)r * rb + b * bb, imp + 256 * b);
        for (size_t i = 0; i < rb * (size_t)rows; i++)
            if (got[i] != want[i])
                fail_msg("%s with importance: byte %zu (row %zu) is %02x, ggml's %02x", names[k], i, i / rb,
                         got[i], want[i]);
        free(want);
        free(got);
    }
    free(x);
}

/* ---- without the oracle ---- */

/* sum imp (x - dequant)^2 over a row, and the plain squared error */
static void row_errors(uint32_t id, const float *x, int64_t n, const float *imp, double *we, double *e) {
    uint8_t q[4096];
    float y[2048];
    assert_int_equal(qquantize_row(id, x, q, n, imp), 0);
    assert_int_equal(qdequant_row(id, q, y, n), 0);
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
    for (size_t k = 0; k < N_TYPES; k++) {
        const uint32_t id = (uint32_t)qtype_from_name(TYPES[k]);
        double we_imp, e_imp, we_none, e_none;
        row_errors(id, x, 2048, imp, &we_imp, &e_imp);
        uint8_t q[2048];
        float y[2048];
        assert_int_equal(qquantize_row(id, x, q, 2048, NULL), 0);
        assert_int_equal(qdequant_row(id, q, y, 2048), 0);
        we_none = e_none = 0;
        for (int j = 0; j < 2048; j++) {
            const double d = (double)x[j] - y[j];
            we_none += imp[j] * d * d;
            e_none += d * d;
        }
        printf("# %s: weighted error %.4g with importance, %.4g without; relative RMS %.4f\n",
               TYPES[k], we_imp, we_none, sqrt(e_none / 2048));
        /* 4.25-4.5 bits: about 0.08 of a unit gaussian; IQ3_S (3.44 bits) about 0.16 */
        const double lim = id == Q_IQ3_S ? 0.2 : id == Q_IQ2_XS ? 0.35 : 0.12;
        assert_true(we_imp < 0.9 * we_none);       /* the important columns come out better */
        assert_true(sqrt(e_none / 2048) < lim);
        /* importance all equal is not "none" (the weights also carry sigma2 + x^2) but is sane */
        double we_flat, e_flat;
        row_errors(id, x, 2048, flat, &we_flat, &e_flat);
        assert_true(sqrt(e_flat / 2048) < lim);
    }
}

static void bad_rows_are_refused(void **state) {
    (void)state;
    float x[256] = {0}, imp[256];
    uint8_t q[256];
    for (int j = 0; j < 256; j++) imp[j] = 1;
    assert_int_equal(qquantize_row(Q_IQ4_XS, x, q, 128, NULL), -1); /* not a multiple of 256 */
    assert_int_equal(qquantize_row(Q_IQ4_NL, x, q, 48, NULL), -1);  /* nor of 32 */
    x[5] = NAN;
    assert_int_equal(qquantize_row(Q_IQ4_NL, x, q, 256, NULL), -1);
    x[5] = 70000.0f; /* beyond fp16 */
    assert_int_equal(qquantize_row(Q_IQ4_XS, x, q, 256, NULL), -1);
    x[5] = 0;
    imp[9] = -1;
    assert_int_equal(qquantize_row(Q_IQ4_XS, x, q, 256, imp), -1);
    /* an all-zero row: scale 0, every level the one nearest 0 (nibble 8) */
    assert_int_equal(qquantize_row(Q_IQ4_NL, x, q, 32, NULL), 0);
    assert_int_equal(q[0] | q[1], 0);
    for (int j = 2; j < 18; j++) assert_int_equal(q[j], 0x88);
    assert_true(qtype_can_quant(Q_IQ4_NL) && qtype_can_quant(Q_IQ4_XS));
}

/* ---- speed: ours against ggml's on the same rows (printed, not asserted) ---- */

static void speed_against_ggml(void **state) {
    (void)state;
    NEED_ORACLE();
    if (sanitizer_build()) { /* a sanitizer build's time says nothing about the code */
        printf("# skip: speed is not measured in a sanitizer build\n");
        skip();
    }
    const int64_t rows = 256, cols = 4096;
    uint64_t seed = 5;
    float *x = xmalloc((size_t)(rows * cols) * sizeof *x);
    for (int64_t i = 0; i < rows * cols; i++) x[i] = 0.02f * gauss(&seed);
    double ggml_s;
    uint8_t *want = oracle_quant("IQ4_XS", x, rows, cols, NULL, &ggml_s);
    uint8_t *got = xmalloc(qtype_row_bytes(Q_IQ4_XS, cols) * (size_t)rows);
    const double t0 = now_seconds();
    for (int64_t r = 0; r < rows; r++)
        qquantize_row(Q_IQ4_XS, x + r * cols, got + r * (int64_t)qtype_row_bytes(Q_IQ4_XS, cols), cols, NULL);
    const double ours = now_seconds() - t0;
    assert_memory_equal(got, want, qtype_row_bytes(Q_IQ4_XS, cols) * (size_t)rows);
    printf("# IQ4_XS %lldx%lld, one thread: coldtok %.3f s, ggml %.3f s (its process and file I/O "
           "included): ratio %.2f\n", (long long)rows, (long long)cols, ours, ggml_s, ours / ggml_s);
    free(x);
    free(want);
    free(got);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_rows_are_ggmls),
        cmocka_unit_test(fixture_matrices_are_ggmls),
        cmocka_unit_test(kquant_importance_candidate_is_ggmls),
        cmocka_unit_test(importance_moves_the_error),
        cmocka_unit_test(bad_rows_are_refused),
        cmocka_unit_test(speed_against_ggml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
