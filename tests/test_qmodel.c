/* Tests of quant/recipe (which tensor gets which type) and quant/qmodel (whole-model quantization
 * to GGUF), against independent references:
 *   - the recipe rules against llama.cpp's llama_tensor_get_type worked out by hand for a 32-layer
 *     GQA model (the layer lists are in the comments);
 *   - quantizing synth-llama-F32.gguf with a pure legacy type gives tensors byte-identical to
 *     llama-quantize's files, and every metadata key of the source unchanged;
 *   - the reported RMSE equals the RMSE recomputed from the written file;
 *   - an HF folder converted to GGUF gives PyTorch's logits (tests/data/hf-*), a Q8_0 file gives
 *     the fixture's dequant-reference logits;
 *   - its tokenizer.json converted to tokenizer.ggml.* keys encodes every code snippet
 *     (tests/data/code-snippets.jsonl) to the same ids as the tokenizer.json itself;
 *   - failures leave neither OUT nor OUT.tmp. */
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/forward.h"
#include "formats/gguf.h"
#include "formats/gguf_write.h"
#include "model/model.h"
#include "quant/qmodel.h"
#include "formats/qtype.h"
#include "quant/quantize.h"
#include "quant/recipe.h"
#include "tests/testutil.h"
#include "tokenizer/tokenizer.h"

#define SYNTH "models/synth-llama/"

static char tmpdir[64];

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/coldtok-qmodel-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp(const char *name) {
    static char p[4][160];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

/* ---- recipe ---- */

static Recipe recipe(const char *name, int mix) {
    Recipe r;
    Err err;
    if (recipe_init(&r, name, mix, &err)) fail_msg("%s", err.msg);
    return r;
}

static uint32_t type_of(const Recipe *r, const RecipeModel *m, const char *name, int64_t cols) {
    return recipe_type(r, m, name, cols, NULL, 0);
}

static void recipe_rules(void **state) {
    (void)state;
    const RecipeModel m = {32, 32, 8, 1}; /* 32 layers, GQA 4 */
    char name[64];
    /* llama.cpp use_more_bits(i, 32): i < 4, i >= 28, or (i - 4) % 3 == 2 */
    static const int more[] = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
    Recipe q4km = recipe("q4_k_m", 0), q3km = recipe("Q3_K_M", 0), q2k = recipe("Q2_K", 1);
    Recipe q4ks = recipe("Q4_K_S", 0), pure = recipe("Q4_K", 0), q40 = recipe("Q4_0", 1);
    for (int l = 0; l < 32; l++) {
        int mb = 0;
        for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) mb |= more[i] == l;
        snprintf(name, sizeof name, "blk.%d.attn_v.weight", l);
        assert_int_equal(type_of(&q4km, &m, name, 4096), mb ? Q_Q6_K : Q_Q4_K);
        assert_int_equal(type_of(&q3km, &m, name, 4096), l < 2 ? Q_Q5_K : Q_Q4_K);
        assert_int_equal(type_of(&q2k, &m, name, 4096), Q_Q4_K); /* gqa 4 */
        assert_int_equal(type_of(&q4ks, &m, name, 4096), l < 4 ? Q_Q5_K : Q_Q4_K);
        assert_int_equal(type_of(&pure, &m, name, 4096), Q_Q4_K);
        snprintf(name, sizeof name, "blk.%d.ffn_down.weight", l);
        assert_int_equal(type_of(&q4km, &m, name, 14336), mb ? Q_Q6_K : Q_Q4_K);
        assert_int_equal(type_of(&q3km, &m, name, 14336), l < 2 ? Q_Q5_K : Q_Q4_K); /* 32/16 */
        assert_int_equal(type_of(&q2k, &m, name, 14336), Q_Q3_K);
        assert_int_equal(type_of(&q4ks, &m, name, 14336), l < 4 ? Q_Q5_K : Q_Q4_K); /* 32/8 */
        snprintf(name, sizeof name, "blk.%d.attn_output.weight", l);
        assert_int_equal(type_of(&q4km, &m, name, 4096), Q_Q4_K);
        assert_int_equal(type_of(&q3km, &m, name, 4096), Q_Q4_K);
        assert_int_equal(type_of(&q2k, &m, name, 4096), Q_Q3_K);
        snprintf(name, sizeof name, "blk.%d.ffn_gate.weight", l);
        assert_int_equal(type_of(&q2k, &m, name, 4096), Q_Q2_K);
        assert_int_equal(type_of(&q40, &m, name, 4096), Q_Q4_0);
    }
    /* the output matrix: Q6_K in every mixture but Q8_0; kept in the base type when pure */
    assert_int_equal(type_of(&q4km, &m, "output.weight", 4096), Q_Q6_K);
    assert_int_equal(type_of(&q40, &m, "output.weight", 4096), Q_Q6_K);
    assert_int_equal(type_of(&pure, &m, "output.weight", 4096), Q_Q4_K);
    assert_int_equal(type_of(&q4km, &m, "token_embd.weight", 4096), Q_Q4_K);
    const RecipeModel tied = {32, 32, 8, 0}; /* no output.weight: token_embd is the output */
    assert_int_equal(type_of(&q4km, &tied, "token_embd.weight", 4096), Q_Q6_K);
    /* Q2_K without GQA: attn_v in Q3_K */
    const RecipeModel mha = {32, 32, 32, 1};
    assert_int_equal(type_of(&q2k, &mha, "blk.5.attn_v.weight", 4096), Q_Q3_K);
    /* rows of 896 (Qwen2.5-0.5B): output Q8_0 (llama.cpp), k-quants fall back */
    char why[200];
    assert_int_equal(type_of(&q4km, &m, "output.weight", 896), Q_Q8_0);
    assert_int_equal(recipe_type(&pure, &m, "blk.0.attn_q.weight", 896, why, sizeof why), Q_Q5_0);
    assert_non_null(strstr(why, "fallback"));
    assert_int_equal(type_of(&q2k, &m, "blk.0.ffn_gate.weight", 896), Q_Q4_0);
    assert_int_equal(type_of(&q4km, &m, "blk.0.ffn_down.weight", 896), Q_Q8_0); /* Q6_K -> Q8_0 */
    Recipe q5k = recipe("Q5_K", 0);
    assert_int_equal(type_of(&q5k, &m, "blk.0.ffn_up.weight", 896), Q_Q5_1);
    /* 172 columns (stories260K's n_ff): no 32-block type fits: F16 */
    assert_int_equal(recipe_type(&q4km, &m, "blk.0.ffn_down.weight", 172, why, sizeof why), Q_F16);
    assert_int_equal(type_of(&q40, &m, "blk.0.ffn_down.weight", 172), Q_F16);
    /* overrides: glob, last match wins, a non-fitting override falls back too */
    Err err;
    assert_int_equal(recipe_add_override(&pure, "blk.*.ffn_down.weight=Q8_0", &err), 0);
    assert_int_equal(recipe_add_override(&pure, "blk.3.*=q6_k", &err), 0);
    assert_int_equal(type_of(&pure, &m, "blk.2.ffn_down.weight", 4096), Q_Q8_0);
    assert_int_equal(type_of(&pure, &m, "blk.3.ffn_down.weight", 4096), Q_Q6_K);
    assert_int_equal(type_of(&pure, &m, "blk.3.attn_q.weight", 4096), Q_Q6_K);
    assert_int_equal(type_of(&pure, &m, "blk.13.attn_q.weight", 4096), Q_Q4_K);
    assert_int_equal(recipe_type(&pure, &m, "blk.3.attn_q.weight", 896, why, sizeof why), Q_Q8_0);
    assert_non_null(strstr(why, "--keep"));
    assert_non_null(strstr(why, "fallback"));
    assert_int_equal(recipe_add_override(&pure, "nothing", &err), -1);
    assert_int_equal(recipe_add_override(&pure, "x=Q9_9", &err), -1);
    assert_int_equal(recipe_add_override(&pure, "x=IQ1_S", &err), -1);
    assert_int_equal(recipe_add_override(&pure, "=Q4_0", &err), -1);
    recipe_free(&pure);
    /* names, file types */
    Recipe r;
    assert_int_equal(recipe_init(&r, "Q4_K_X", 0, &err), -1);
    assert_non_null(strstr(err.msg, "Q4_K_M"));
    assert_int_equal(recipe_init(&r, "IQ1_S", 0, &err), -1);
    assert_int_equal(recipe("Q4_K_M", 0).ftype, 15);
    assert_int_equal(recipe("Q4_K", 0).ftype, 15); /* as llama-quantize --pure Q4_K writes */
    assert_int_equal(recipe("Q8_0", 0).ftype, 7);
    assert_int_equal(recipe("Q5_0", 0).ftype, 8);
    assert_int_equal(recipe("Q2_K", 0).ftype, 10);
    assert_int_equal(recipe("Q3_K_S", 0).ftype, 11);
    assert_int_equal(recipe("BF16", 0).ftype, 32);
    /* which tensors are matrices to quantize */
    assert_true(recipe_quantizable("blk.0.attn_q.weight", 2));
    assert_true(recipe_quantizable("token_embd.weight", 2));
    assert_false(recipe_quantizable("blk.0.attn_norm.weight", 1));
    assert_false(recipe_quantizable("blk.0.attn_q_norm.weight", 2));
    assert_false(recipe_quantizable("blk.0.attn_q.bias", 1));
    assert_false(recipe_quantizable("blk.0.attn_q.weight", 1));
    assert_false(recipe_quantizable("rope_freqs.weight", 1));
}

/* ---- whole models ---- */

static QModel *quantize_info(const char *src, const char *type, int mix, const char *out,
                             const QmInfo *info) {
    Err err;
    Recipe r = recipe(type, mix);
    QModel *q = qm_open(src, &err);
    if (!q) fail_msg("%s", err.msg);
    if (qm_plan(q, &r, &err)) fail_msg("%s", err.msg);
    if (qm_write(q, out, info, &r, &err)) fail_msg("%s", err.msg);
    recipe_free(&r);
    return q;
}

static QModel *quantize(const char *src, const char *type, int mix, const char *out) {
    const QmInfo info = {.method = "rtn", .calibration = "none"};
    return quantize_info(src, type, mix, out, &info);
}

static Gguf *open_gguf(const char *path) {
    Err err;
    Gguf *g = gguf_open(path, &err);
    if (!g) fail_msg("%s", err.msg);
    return g;
}

/* every key of a (but the ones quantize rewrites) is in b with the same rendering */
static void same_metadata(const Gguf *a, const Gguf *b) {
    for (int i = 0; i < gguf_n_kv(a); i++) {
        const char *k = gguf_kv_key(a, i);
        if (!strcmp(k, "general.file_type") || !strcmp(k, "general.quantization_version")) continue;
        int j = gguf_find_kv(b, k);
        if (j < 0) fail_msg("key %s was not copied", k);
        assert_int_equal(gguf_kv_type(a, i), gguf_kv_type(b, j));
        Buf x = {0}, y = {0};
        gguf_kv_format(a, i, &x);
        gguf_kv_format(b, j, &y);
        assert_string_equal(x.data, y.data);
        int et1, et2;
        uint64_t n1, n2;
        if (gguf_arr_info(a, i, &et1, &n1) == 0) { /* arrays: every element */
            assert_int_equal(gguf_arr_info(b, j, &et2, &n2), 0);
            assert_int_equal(et1, et2);
            assert_int_equal(n1, n2);
            for (uint64_t e = 0; e < n1; e++) {
                size_t l1, l2;
                const char *s1 = gguf_arr_str(a, i, e, &l1), *s2 = gguf_arr_str(b, j, e, &l2);
                if (s1) {
                    assert_int_equal(l1, l2);
                    assert_memory_equal(s1, s2, l1);
                } else {
                    double d1, d2;
                    assert_int_equal(gguf_arr_float(a, i, e, &d1), 0);
                    assert_int_equal(gguf_arr_float(b, j, e, &d2), 0);
                    assert_true(d1 == d2);
                }
            }
        }
        buf_free(&x);
        buf_free(&y);
    }
}

static void legacy_files_match_llama_cpp(void **state) {
    (void)state;
    const char *src = NEED_FIXTURE(SYNTH "synth-llama-F32.gguf");
    char srcbuf[4096];
    snprintf(srcbuf, sizeof srcbuf, "%s", src);
    static const struct { const char *type; int64_t ftype; } T[] = {
        {"Q8_0", 7}, {"Q4_0", 2}, {"Q4_1", 3}, {"Q5_0", 8}, {"Q5_1", 9}};
    for (size_t k = 0; k < sizeof T / sizeof T[0]; k++) {
        const char *out = tmp("legacy.gguf");
        qm_close(quantize(srcbuf, T[k].type, 0, out));
        char rel[128];
        snprintf(rel, sizeof rel, SYNTH "synth-llama-%s.gguf", T[k].type);
        Gguf *ref = open_gguf(NEED_FIXTURE(rel)), *got = open_gguf(out), *f32 = open_gguf(srcbuf);
        assert_int_equal(gguf_n_tensors(got), gguf_n_tensors(ref));
        for (int i = 0; i < gguf_n_tensors(ref); i++) {
            const GgufTensor *a = gguf_tensor(ref, i), *b = gguf_find_tensor(got, a->name);
            assert_non_null(b);
            assert_int_equal(a->type, b->type);
            assert_int_equal(a->nbytes, b->nbytes);
            if (memcmp(a->data, b->data, a->nbytes))
                fail_msg("%s %s: not byte-identical to llama.cpp's", T[k].type, a->name);
        }
        same_metadata(f32, got);
        int64_t v;
        assert_int_equal(gguf_get_int(got, "general.file_type", &v), 0);
        assert_int_equal(v, T[k].ftype);
        assert_int_equal(gguf_get_int(got, "general.quantization_version", &v), 0);
        assert_int_equal(v, 2);
        size_t len;
        const char *s = gguf_get_str(got, "coldtok.quantize.method", &len);
        assert_non_null(s);
        assert_memory_equal(s, "rtn", 3);
        assert_int_equal(gguf_get_int(got, "coldtok.quantize.calibration_tokens", &v), 0);
        assert_int_equal(v, 0);
        assert_non_null(gguf_get_str(got, "coldtok.quantize.calibration", &len));
        gguf_close(ref);
        gguf_close(got);
        gguf_close(f32);
        assert_false(is_file(tmp("legacy.gguf.tmp")));
        unlink(out);
    }
}

/* the RMSE qm reports is the RMSE of the written tensors against the source, recomputed here;
 * and for the k-quants it is no worse than llama.cpp's (the synth-llama k-quant files) */
static void reported_rmse_is_real(void **state) {
    (void)state;
    char src[4096];
    snprintf(src, sizeof src, "%s", NEED_FIXTURE(SYNTH "synth-llama-F32.gguf"));
    const char *types[] = {"Q3_K", "Q6_K", "Q5_0"};
    for (int k = 0; k < 3; k++) {
        const char *out = tmp("rmse.gguf");
        QModel *q = quantize(src, types[k], 0, out);
        Gguf *got = open_gguf(out), *f32 = open_gguf(src);
        char rel[128];
        snprintf(rel, sizeof rel, SYNTH "synth-llama-%s.gguf", types[k]);
        Gguf *ref = open_gguf(NEED_FIXTURE(rel));
        for (int i = 0; i < qm_n_tensors(q); i++) {
            const QmTensor *t = qm_tensor(q, i);
            const GgufTensor *a = gguf_find_tensor(f32, t->name), *b = gguf_find_tensor(got, t->name),
                             *c = gguf_find_tensor(ref, t->name);
            assert_int_equal(b->type, t->type);
            assert_int_equal(b->nbytes, t->bytes);
            if (!t->quantize) {
                assert_int_equal(t->type, Q_F32);
                assert_memory_equal(a->data, b->data, a->nbytes);
                continue;
            }
            const int64_t n = a->ne[0], rows = a->ne[1];
            float *y = xmalloc((size_t)n * sizeof(float)), *z = xmalloc((size_t)n * sizeof(float));
            double se = 0, se_ll = 0, ss = 0;
            for (int64_t r = 0; r < rows; r++) {
                const float *x = (const float *)a->data + r * n;
                qdequant_row(b->type, (const uint8_t *)b->data + r * qtype_row_bytes(b->type, n), y, n);
                qdequant_row(c->type, (const uint8_t *)c->data + r * qtype_row_bytes(c->type, n), z, n);
                for (int64_t j = 0; j < n; j++) {
                    se += ((double)y[j] - x[j]) * ((double)y[j] - x[j]);
                    se_ll += ((double)z[j] - x[j]) * ((double)z[j] - x[j]);
                    ss += (double)x[j] * x[j];
                }
            }
            const double cnt = (double)n * rows;
            assert_true(fabs(sqrt(se / cnt) - t->rmse) <= 1e-9 * t->rmse);
            assert_true(fabs(sqrt(ss / cnt) - t->rms) <= 1e-9 * t->rms);
            assert_true(se <= se_ll); /* k-quants: never worse; Q5_0: identical */
            free(y);
            free(z);
        }
        gguf_close(got);
        gguf_close(f32);
        gguf_close(ref);
        qm_close(q);
        unlink(out);
    }
}

/* requantizing a quantized file: the output is the quantization of the dequantized input */
static void requantize_quantized_input(void **state) {
    (void)state;
    char src[4096];
    snprintf(src, sizeof src, "%s", NEED_FIXTURE(SYNTH "synth-llama-Q8_0.gguf"));
    const char *out = tmp("requant.gguf");
    qm_close(quantize(src, "Q4_K_M", 0, out));
    Gguf *in = open_gguf(src), *got = open_gguf(out);
    int n_q6 = 0;
    for (int i = 0; i < gguf_n_tensors(in); i++) {
        const GgufTensor *a = gguf_tensor(in, i), *b = gguf_find_tensor(got, a->name);
        if (a->n_dims == 1) {
            assert_memory_equal(a->data, b->data, a->nbytes);
            continue;
        }
        n_q6 += b->type == Q_Q6_K;
        const int64_t n = a->ne[0];
        const size_t ra = qtype_row_bytes(a->type, n), rb = qtype_row_bytes(b->type, n);
        float *x = xmalloc((size_t)n * sizeof(float));
        uint8_t *want = xmalloc(rb);
        for (int64_t r = 0; r < a->ne[1]; r++) {
            qdequant_row(a->type, (const uint8_t *)a->data + r * ra, x, n);
            assert_int_equal(qquantize_row(b->type, x, want, n, NULL), 0);
            assert_memory_equal(want, (const uint8_t *)b->data + r * rb, rb);
        }
        free(x);
        free(want);
    }
    /* Q4_K_M on 2 layers: output, blk.1.attn_v, blk.1.ffn_down (use_more_bits(1, 2)) */
    assert_int_equal(n_q6, 3);
    gguf_close(in);
    gguf_close(got);
}

/* importance given through QmInfo reaches the scale searches: the weighted error qm reports is
 * the one of the written file, and below that of the file written without importance */
static const float *skewed(void *ctx, const QmTensor *t) {
    float *w = ctx;
    for (int64_t j = 0; j < t->ne[0]; j++) w[j] = j % 7 == 0 ? 50.0f : 0.2f;
    return w;
}

static double weighted_rel(const GgufTensor *a, const GgufTensor *b, const float *w) {
    const int64_t n = a->ne[0];
    float *y = xmalloc((size_t)n * sizeof(float));
    double e = 0, s = 0;
    for (int64_t r = 0; r < a->ne[1]; r++) {
        const float *x = (const float *)a->data + r * n;
        qdequant_row(b->type, (const uint8_t *)b->data + r * qtype_row_bytes(b->type, n), y, n);
        for (int64_t j = 0; j < n; j++) {
            e += w[j] * ((double)y[j] - x[j]) * ((double)y[j] - x[j]);
            s += w[j] * (double)x[j] * x[j];
        }
    }
    free(y);
    return sqrt(e / s);
}

static void importance_reaches_quantizer(void **state) {
    (void)state;
    char src[4096];
    snprintf(src, sizeof src, "%s", NEED_FIXTURE(SYNTH "synth-llama-F32.gguf"));
    float w[512];
    const QmInfo info = {.method = "rtn", .calibration = "none", .importance = skewed, .ctx = w};
    const char *with = tmp("imp.gguf"), *without = tmp("noimp.gguf");
    const char *types[] = {"Q4_K", "Q4_0"};
    for (int k = 0; k < 2; k++) {
        QModel *q = quantize_info(src, types[k], 0, with, &info);
        qm_close(quantize(src, types[k], 0, without));
        Gguf *f32 = open_gguf(src), *a = open_gguf(with), *b = open_gguf(without);
        int n = 0;
        for (int i = 0; i < qm_n_tensors(q); i++) {
            const QmTensor *t = qm_tensor(q, i);
            if (t->n_dims != 2) {
                assert_true(t->wrel == -1);
                continue;
            }
            const GgufTensor *x = gguf_find_tensor(f32, t->name);
            float ww[512];
            skewed(ww, t);
            const double got = weighted_rel(x, gguf_find_tensor(a, t->name), ww);
            const double plain = weighted_rel(x, gguf_find_tensor(b, t->name), ww);
            assert_true(fabs(got - t->wrel) <= 1e-9 * got);
            if (!(got < plain)) fail_msg("%s %s: weighted error %g with importance, %g without", types[k], t->name, got, plain);
            n++;
        }
        assert_int_equal(n, 16);
        printf("# %s: importance-weighted relative error of blk.0.ffn_up.weight %.4f with importance\n",
               types[k], qm_tensor(q, 8)->wrel);
        gguf_close(f32);
        gguf_close(a);
        gguf_close(b);
        qm_close(q);
    }
}

/* ---- logits of the written files ---- */

static float *logits(const char *model, const int *ids, int n, int *n_vocab) {
    Err err;
    Model *m = model_load(model, &err);
    if (!m) fail_msg("%s", err.msg);
    Forward *f = fwd_new(m, COMPUTE_F32, &err);
    if (!f) fail_msg("%s", err.msg);
    float *lg = xmalloc((size_t)n * m->cfg.n_vocab * sizeof(float));
    if (fwd_eval(f, ids, n, lg, 1, &err)) fail_msg("%s", err.msg);
    *n_vocab = m->cfg.n_vocab;
    fwd_free(f);
    model_free(m);
    return lg;
}

static double max_abs_diff(const float *a, const float *b, size_t n, double *scale) {
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    *scale = s;
    return d;
}

/* an HF folder written as a GGUF (F32 and, for F16/BF16 folders, F16/BF16 kept exact) gives
 * PyTorch's logits: names, Q/K permutation, hyper-parameters and tied output all right */
static void hf_folders_give_pytorch_logits(void **state) {
    (void)state;
    static const char *const dirs[] = {"hf-llama-f32", "hf-llama-bf16", "hf-qwen2-f32",
                                       "hf-qwen2-f16", "hf-qwen3-f32", "hf-llama-tied-f16"};
    int done = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char dir[128], path[200];
        snprintf(dir, sizeof dir, "tests/data/%s", dirs[d]);
        if (!is_dir(dir)) continue;
        const char *out = tmp("hf.gguf");
        QModel *q = quantize(dir, "F32", 0, out);
        assert_non_null(qm_note(q)); /* no tokenizer.json in these folders: said */
        qm_close(q);
        snprintf(path, sizeof path, "%s/prompt.json", dir);
        int ids[64], n = read_prompt(path, ids, 64), nv;
        float *lg = logits(out, ids, n, &nv);
        snprintf(path, sizeof path, "%s/torch.logits.f32", dir);
        size_t nr = 0;
        float *want = read_f32(path, &nr);
        assert_non_null(want);
        assert_int_equal(nr, (size_t)n * nv);
        double s, e = max_abs_diff(lg, want, nr, &s);
        printf("# %s -> GGUF F32: max |coldtok - torch| = %.3g (max |logit| %.3g)\n", dirs[d], e, s);
        if (e > 1e-4 * s) fail_msg("%s: %.3g > 1e-4 x %.3g", dirs[d], e, s);
        free(lg);
        free(want);
        unlink(out);
        done++;
    }
    if (!done) {
        printf("# skip: tests/data/hf-* absent\n");
        skip();
    }
}

/* the pure Q8_0 file is byte-identical to llama.cpp's, so its logits are the fixture's
 * dequant-reference logits within the forward pass tolerance */
static void q8_0_logits_match_reference(void **state) {
    (void)state;
    char src[4096], path[4096];
    snprintf(src, sizeof src, "%s", NEED_FIXTURE(SYNTH "synth-llama-F32.gguf"));
    const char *out = tmp("q8.gguf");
    qm_close(quantize(src, "Q8_0", 0, out));
    snprintf(path, sizeof path, "%s", NEED_FIXTURE(SYNTH "prompt.json"));
    int ids[64], n = read_prompt(path, ids, 64), nv;
    float *lg = logits(out, ids, n, &nv);
    snprintf(path, sizeof path, "%s", NEED_FIXTURE(SYNTH "synth-llama-Q8_0.prompt.dequant.logits.f32"));
    size_t nr = 0;
    float *want = read_f32(path, &nr);
    assert_int_equal(nr, (size_t)n * nv);
    double s, e = max_abs_diff(lg, want, nr, &s);
    printf("# Q8_0 written by coldtok: max |logits - dequant reference| = %.3g (max %.3g)\n", e, s);
    assert_true(e <= 1e-4 * s);
    free(lg);
    free(want);
    unlink(out);
}

/* ---- the tokenizer of an HF folder ---- */

static void copy_file(const char *from, const char *to) {
    size_t len;
    Err err;
    char *d = read_file(from, &len, &err);
    if (!d) fail_msg("%s", err.msg);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, len, f), len);
    fclose(f);
    free(d);
}

/* an HF folder (hf-llama-f32's weights) with the given tokenizer.json, quantized */
static void hf_with_tokenizer(const char *tokjson, const char *out) {
    char dir[200], p[300];
    snprintf(dir, sizeof dir, "%s", tmp("hftok"));
    mkdir(dir, 0755);
    static const char *files[] = {"config.json", "model.safetensors"};
    for (int i = 0; i < 2; i++) {
        char from[200];
        snprintf(from, sizeof from, "tests/data/hf-llama-f32/%s", files[i]);
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        copy_file(from, p);
    }
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    copy_file(tokjson, p);
    qm_close(quantize(dir, "Q8_0", 0, out));
}

static int64_t arr_int(const Gguf *g, const char *key, uint64_t i) {
    int64_t v = -1;
    assert_int_equal(gguf_arr_int(g, gguf_find_kv(g, key), i, &v), 0);
    return v;
}

static void hf_tokenizer_round_trip(void **state) {
    (void)state;
    if (!is_dir("tests/data/hf-llama-f32")) {
        printf("# skip: tests/data/hf-llama-f32 absent\n");
        skip();
    }
    static const char *const toks[] = {"tests/data/tiny-bytelevel-tokenizer.json",
                                       "tests/data/tiny-spm-tokenizer.json"};
    for (int k = 0; k < 2; k++) {
        const char *out = tmp("tok.gguf");
        hf_with_tokenizer(toks[k], out);
        Err err;
        Tokenizer *a = tok_load(toks[k], &err), *b = a ? tok_load(out, &err) : NULL;
        if (!a || !b) fail_msg("%s", err.msg);
        FILE *f = fopen("tests/data/code-snippets.jsonl", "r");
        assert_non_null(f);
        char line[65536];
        int n = 0;
        while (fgets(line, sizeof line, f)) {
            json_error_t je;
            json_t *o = json_loads(line, JSON_ALLOW_NUL, &je);
            assert_non_null(o);
            json_t *t = json_object_get(o, "text");
            const char *text = json_string_value(t);
            const size_t tl = json_string_length(t);
            IntVec x = {0}, y = {0};
            assert_int_equal(tok_encode(a, text, tl, 0, &x, &err), 0);
            assert_int_equal(tok_encode(b, text, tl, 0, &y, &err), 0);
            assert_int_equal(x.n, y.n);
            if (x.n) assert_memory_equal(x.v, y.v, x.n * sizeof(int));
            intvec_free(&x);
            intvec_free(&y);
            json_decref(o);
            n++;
        }
        fclose(f);
        assert_true(n > 100);
        printf("# %s: %d snippets, same ids from the converted GGUF\n", toks[k], n);
        /* and the whole tokenizer.json rides along */
        Gguf *g = open_gguf(out);
        size_t len, flen;
        const char *hj = gguf_get_str(g, "tokenizer.huggingface.json", &len);
        char *file = read_file(toks[k], &flen, &err);
        assert_non_null(hj);
        assert_int_equal(len, flen);
        assert_memory_equal(hj, file, len);
        free(file);
        gguf_close(g);
        tok_free(a);
        tok_free(b);
        unlink(out);
    }
    /* GPT-2 style (ByteLevel regex): the keys llama.cpp expects, token types, padding to the
     * model's 128 embedding rows (cov-tiny: 37 tokens, a special and a plain added token) */
    const char *out = tmp("tok.gguf");
    hf_with_tokenizer("tests/data/cov-tiny-tokenizer.json", out);
    Gguf *g = open_gguf(out);
    size_t len;
    const char *s = gguf_get_str(g, "tokenizer.ggml.pre", &len);
    assert_true(s && len == 5 && !memcmp(s, "gpt-2", 5)); /* llama.cpp's name; "gpt2" is refused */
    int et;
    uint64_t n;
    assert_int_equal(gguf_arr_info(g, gguf_find_kv(g, "tokenizer.ggml.tokens"), &et, &n), 0);
    assert_int_equal(n, 128);
    assert_int_equal(arr_int(g, "tokenizer.ggml.token_type", 0), 1);  /* normal */
    assert_int_equal(arr_int(g, "tokenizer.ggml.token_type", 37), 3); /* <|endoftext|>: control */
    assert_int_equal(arr_int(g, "tokenizer.ggml.token_type", 38), 4); /* <custom>: user-defined */
    assert_int_equal(arr_int(g, "tokenizer.ggml.token_type", 39), 5); /* [PAD39]: unused */
    s = gguf_arr_str(g, gguf_find_kv(g, "tokenizer.ggml.tokens"), 39, &len);
    assert_true(len == 7 && !memcmp(s, "[PAD39]", 7));
    s = gguf_arr_str(g, gguf_find_kv(g, "tokenizer.ggml.merges"), 2, &len);
    assert_true(len == 6 && !memcmp(s, "\xc4\xa0 def", 6)); /* "Ġ def" */
    gguf_close(g);
    unlink(out);
}

/* ---- failures ---- */

/* a one-matrix llama-named GGUF whose matrix holds `big` at one place */
static void write_model(const char *path, float big) {
    float x[64 * 4];
    for (int i = 0; i < 256; i++) x[i] = 0.01f * (float)((i * 7) % 13 - 6);
    x[70] = big;
    GgufWriter *w = gw_new();
    gw_kv_str(w, "general.architecture", "llama");
    Err err;
    int64_t ne[2] = {64, 4};
    if (gw_add_tensor(w, "blk.0.attn_q.weight", Q_F32, 2, ne, &err) < 0 || gw_begin(w, path, &err) ||
        gw_data(w, x, sizeof x, &err) || gw_end(w, &err))
        fail_msg("%s", err.msg);
    gw_free(w);
}

static void failures_leave_nothing(void **state) {
    (void)state;
    const char *src = tmp("big.gguf"), *out = tmp("big-out.gguf");
    write_model(src, 1e5f);
    Err err;
    Recipe r = recipe("Q8_0", 0);
    QModel *q = qm_open(src, &err);
    assert_non_null(q);
    assert_int_equal(qm_plan(q, &r, &err), 0);
    const QmInfo info = {.method = "rtn", .calibration = "none"};
    assert_int_equal(qm_write(q, out, &info, &r, &err), -1);
    printf("# %s\n", err.msg);
    assert_non_null(strstr(err.msg, "blk.0.attn_q.weight row 1"));
    assert_false(is_file(out));
    assert_false(is_file(tmp("big-out.gguf.tmp")));
    /* --keep F32 for it works */
    assert_int_equal(recipe_add_override(&r, "blk.0.attn_q.weight=F32", &err), 0);
    assert_int_equal(qm_plan(q, &r, &err), 0);
    assert_int_equal(qm_write(q, out, &info, &r, &err), 0);
    assert_true(is_file(out));
    qm_close(q);
    recipe_free(&r);
    /* an output folder that does not exist */
    write_model(src, 0.5f);
    r = recipe("Q4_0", 0);
    q = qm_open(src, &err);
    assert_int_equal(qm_plan(q, &r, &err), 0);
    assert_int_equal(qm_write(q, tmp("no/such/dir/x.gguf"), &info, &r, &err), -1);
    assert_false(is_file(tmp("no/such/dir/x.gguf.tmp")));
    qm_close(q);
    /* unreadable inputs: one line naming the file */
    assert_null(qm_open(tmp("absent.gguf"), &err));
    assert_non_null(strstr(err.msg, "absent.gguf"));
    FILE *f = fopen(tmp("junk.gguf"), "wb");
    fputs("not a gguf file at all", f);
    fclose(f);
    assert_null(qm_open(tmp("junk.gguf"), &err));
    assert_non_null(strstr(err.msg, "junk.gguf"));
    assert_null(strchr(err.msg, '\n'));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recipe_rules),
        cmocka_unit_test(legacy_files_match_llama_cpp),
        cmocka_unit_test(reported_rmse_is_real),
        cmocka_unit_test(requantize_quantized_input),
        cmocka_unit_test(importance_reaches_quantizer),
        cmocka_unit_test(hf_folders_give_pytorch_logits),
        cmocka_unit_test(q8_0_logits_match_reference),
        cmocka_unit_test(hf_tokenizer_round_trip),
        cmocka_unit_test(failures_leave_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
