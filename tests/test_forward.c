/* Tests of model/ (GGUF and safetensors loading, the forward pass) against independent references:
 *  - every GGUF in the fixtures (stories260K, synth-llama in 13 types, synth-qwen2): logits of BOS
 *    alone and of the prompt (all positions) vs the float64 numpy dequant reference (1e-4 relative
 *    to max |logit|) and vs llama.cpp (within the gap the fixtures' agreement.tsv reports + margin);
 *  - the KV cache: a prompt fed one token at a time, and after a rewind, equals the batch pass;
 *  - whole windows (512 and 600 positions) in one call equal one position per call, and
 *    fwd_eval_last's rows equal the tail of fwd_eval(all);
 *  - Hugging Face folders written by tests/reference/torch_ref.py vs its plain-PyTorch forward pass,
 *    and the same weights converted here to GGUF (with llama.cpp's Q/K row permutation for llama)
 *    vs the HF folder;
 *  - hostile models (unknown arch, missing tensor, wrong shape, absurd dims, bad safetensors) give
 *    one clear error. */
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "model/forward.h"
#include "formats/gguf_write.h"
#include "model/model.h"
#include "formats/safetensors.h"
#include "quant/synth.h"
#include "formats/qtype.h"
#include "tests/testutil.h"

/* ---- helpers ---- */

static int argmax(const float *x, int n, double *gap) {
    int best = 0, second = -1;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) second = best, best = i;
        else if (second < 0 || x[i] > x[second]) second = i;
    if (gap) *gap = x[best] - x[second];
    return best;
}

/* Runs tokens through a fresh forward pass: [n][n_vocab] logits (caller frees). */
static float *run(const Model *m, const int *ids, int n, Compute c) {
    Err err;
    Forward *f = fwd_new(m, c, &err);
    assert_non_null(f);
    float *lg = xmalloc((size_t)n * m->cfg.n_vocab * sizeof(float));
    if (fwd_eval(f, ids, n, lg, 1, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(fwd_pos(f), n);
    fwd_free(f);
    return lg;
}

/* The same, one position per call: [n][n_vocab] (caller frees). On one thread: the numbers do
 * not depend on the thread count (every panel and head is computed the same way by whichever
 * thread takes it), and hundreds of steps of a tiny model would otherwise be thousands of parallel
 * regions, each a scheduler slice when the machine is busy. */
static float *run_one_by_one(const Model *m, const int *ids, int n, Compute c) {
    Err err;
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
#endif
    Forward *f = fwd_new(m, c, &err);
    assert_non_null(f);
    size_t V = (size_t)m->cfg.n_vocab;
    float *lg = xmalloc((size_t)n * V * sizeof(float));
    for (int i = 0; i < n; i++)
        if (fwd_eval(f, &ids[i], 1, lg + (size_t)i * V, 0, &err) != 0) fail_msg("%s", err.msg);
    fwd_free(f);
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    return lg;
}

/* n token ids of a model with vocabulary V: BOS (bos) then a fixed pseudo-random walk. */
static void some_ids(int *ids, int n, int V, int bos) { walk_ids(ids, n, V, bos, 12345); }

/* ---- the fixtures ---- */

typedef struct {
    char stem[200]; /* models/DIR/NAME */
    char kind[16];  /* bos | prompt */
    double max_abs_diff;
} Agreement;

static int read_agreement(Agreement *a, int cap) {
    const char *p = fixture("agreement.tsv");
    if (!p) return 0;
    FILE *fp = fopen(p, "r");
    char line[1024];
    int n = 0;
    while (fp && fgets(line, sizeof line, fp) && n < cap) {
        char stem[200], kind[16];
        double d;
        if (sscanf(line, "%199s %15s %*d %lf", stem, kind, &d) == 3) {
            snprintf(a[n].stem, sizeof a[n].stem, "%s", stem);
            snprintf(a[n].kind, sizeof a[n].kind, "%s", kind);
            a[n].max_abs_diff = d;
            n++;
        }
    }
    if (fp) fclose(fp);
    return n;
}

static void fixture_models_match_references(void **state) {
    (void)state;
    NEED_FIXTURE("agreement.tsv");
    Agreement ag[128];
    int n_ag = read_agreement(ag, 128), checked = 0;
    assert_true(n_ag >= 40);
    for (int i = 0; i < n_ag; i++) {
        char path[600], ref[600], prompt[600];
        snprintf(path, sizeof path, "%.199s.gguf", ag[i].stem);
        const char *gguf = fixture(path);
        if (!gguf) continue;
        char gpath[4200];
        snprintf(gpath, sizeof gpath, "%s", gguf);
        const char *slash = strrchr(ag[i].stem, '/');
        snprintf(prompt, sizeof prompt, "%.*s/prompt.json", (int)(slash - ag[i].stem), ag[i].stem);
        int ids[64], n = read_prompt(fixture(prompt), ids, 64);
        int bos = !strcmp(ag[i].kind, "bos");
        if (bos) n = 1;
        Err err;
        Model *m = model_load(gpath, &err);
        if (!m) fail_msg("%s", err.msg);
        int V = m->cfg.n_vocab;
        float *lg = run(m, ids, n, COMPUTE_F32);
        for (int r = 0; r < 2; r++) {
            const char *which = r ? "llamacpp" : "dequant";
            snprintf(ref, sizeof ref, "%.199s%s.%s.logits.f32", ag[i].stem, bos ? "" : ".prompt", which);
            size_t nr;
            float *want = read_f32(fixture(ref), &nr);
            assert_non_null(want);
            assert_int_equal(nr, (size_t)n * V);
            double scale = max_abs(want, nr), d = max_diff(lg, want, nr);
            /* dequant: exact computation, 1e-4 relative; llama.cpp: its own gap to the dequant
             * reference (activation quantization), plus a small margin for our rounding */
            double tol = r ? ag[i].max_abs_diff * 1.1 + 1e-4 * scale : 1e-4 * scale;
            if (d > tol)
                fail_msg("%s vs %s: max |diff| %.3g > %.3g", gpath, which, d, tol);
            if (!r)
                for (int p = 0; p < n; p++) {
                    double gap;
                    int want_top = argmax(want + (size_t)p * V, V, &gap);
                    if (gap > 1e-3 * scale)
                        assert_int_equal(argmax(lg + (size_t)p * V, V, NULL), want_top);
                }
            free(want);
        }
        free(lg);
        model_free(m);
        checked++;
    }
    printf("# %d fixture (model, context) pairs checked\n", checked);
    assert_int_equal(checked, n_ag);
}

/* The KV cache: token by token, and after a rewind, equals the batch pass. */
static void incremental_equals_batch(void **state) {
    (void)state;
    const char *g = NEED_FIXTURE("models/synth-qwen2/synth-qwen2-Q8_0.gguf");
    char gpath[4200];
    snprintf(gpath, sizeof gpath, "%s", g);
    int ids[64], n = read_prompt(fixture("models/synth-qwen2/prompt.json"), ids, 64);
    Err err;
    Model *m = model_load(gpath, &err);
    assert_non_null(m);
    int V = m->cfg.n_vocab;
    float *batch = run(m, ids, n, COMPUTE_F32);
    Forward *f = fwd_new(m, COMPUTE_F32, &err);
    float *one = xmalloc((size_t)V * sizeof(float));
    for (int i = 0; i < n; i++) {
        assert_int_equal(fwd_eval(f, &ids[i], 1, one, 0, &err), 0);
        assert_true(max_diff(one, batch + (size_t)i * V, (size_t)V) < 1e-4);
    }
    /* rewind to 3 positions and continue with the rest as one batch */
    fwd_rewind(f, 3);
    assert_int_equal(fwd_pos(f), 3);
    assert_int_equal(fwd_eval(f, ids + 3, n - 3, one, 0, &err), 0);
    assert_true(max_diff(one, batch + (size_t)(n - 1) * V, (size_t)V) < 1e-4);
    /* an id outside the vocabulary is refused */
    int bad = V;
    assert_int_equal(fwd_eval(f, &bad, 1, one, 0, &err), -1);
    assert_non_null(strstr(err.msg, "outside the vocabulary"));
    fwd_free(f);
    free(one);
    free(batch);
    model_free(m);
}

/* The forward pass's own conversions (SIMD F16 and Q8_0 paths) equal quant's reference
 * dequantizers bit for bit, for every block type in the fixtures. */
static void panel_conversion_is_exact(void **state) {
    (void)state;
    const char *types[] = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                           "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char rel[128], path[4200];
        snprintf(rel, sizeof rel, "models/synth-llama/synth-llama-%s.gguf", types[i]);
        snprintf(path, sizeof path, "%s", NEED_FIXTURE(rel));
        Err err;
        Model *m = model_load(path, &err);
        assert_non_null(m);
        const Tensor *W = &m->layers[0].w_down; /* [256, 512] */
        size_t n = (size_t)W->rows * W->cols;
        float *a = xmalloc(n * sizeof(float)), *b = xmalloc(n * sizeof(float));
        fwd_dequant_rows(W, 0, (int)W->rows, a);
        size_t rb = qtype_row_bytes(W->type, W->cols);
        for (int64_t r = 0; r < W->rows; r++)
            assert_int_equal(qdequant_row(W->type, (const uint8_t *)W->data + r * rb, b + r * W->cols, W->cols), 0);
        assert_memory_equal(a, b, n * sizeof(float));
        /* and both equal the fixture's gguf-py dequantization */
        snprintf(rel, sizeof rel, "models/synth-llama/%s.blk0_ffn_down.dequant.f32", types[i]);
        size_t nr;
        float *want = read_f32(NEED_FIXTURE(rel), &nr);
        assert_int_equal(nr, n);
        assert_memory_equal(a, want, n * sizeof(float));
        free(want), free(a), free(b);
        model_free(m);
    }
}

/* More positions than the memory-bound matmul path takes (32): one call of 45 tokens with all
 * logits equals 45 calls of one token, on a real model (stories260K). */
static void long_batches_split_correctly(void **state) {
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s", NEED_FIXTURE("models/stories260K/stories260K-Q8_0mix.gguf"));
    Err err;
    Model *m = model_load(path, &err);
    assert_non_null(m);
    int V = m->cfg.n_vocab, n = 45, ids[45];
    for (int i = 0; i < n; i++) ids[i] = i ? 3 + (i * 37) % 500 : 1;
    float *batch = run(m, ids, n, COMPUTE_F32);
    Forward *f = fwd_new(m, COMPUTE_F32, &err);
    float *one = xmalloc((size_t)V * sizeof(float));
    double worst = 0;
    for (int i = 0; i < n; i++) {
        assert_int_equal(fwd_eval(f, &ids[i], 1, one, 0, &err), 0);
        worst = fmax(worst, max_diff(one, batch + (size_t)i * V, (size_t)V) / max_abs(one, (size_t)V));
    }
    printf("# 45 positions: batch vs one at a time, max relative diff %.2g\n", worst);
    assert_true(worst < 1e-5);
    fwd_free(f);
    free(one);
    free(batch);
    model_free(m);
}

/* A whole window in one call equals the same tokens one per call. The window runs as one internal
 * step of 512 positions (oneDNN attention over blocks of rows, big panels, run-time-M primitives);
 * one per call is the cold-start path (GEMV panels, scalar attention). Both compute the same f32
 * arithmetic in different summation orders, so each dot product differs by a few roundings
 * (f32 unit roundoff 6e-8, sums of up to ~600 terms): ~1e-6 of the logit scale. The bound,
 * 1e-5 x max |logit| per row, is 10x that and 10x tighter than the 1e-4 allowed against the
 * float64 references; a wrong key, a mask off by one position or a wrong GQA head moves logits
 * by percents. Models: stories260K (a real trained model, GQA 8:4, head_dim 8; llama2.c trained
 * it with seq_len 512 — the GGUF's context_length 128 is the converter's default, and the forward
 * pass does not limit positions) over 600 positions (a step of 512, then 88 attending to it), and
 * synth-qwen2 Q4_K (q/k/v biases, NEOX RoPE, head_dim 64, GQA 4:2; context 32768) over 512. */
static void window_equals_one_at_a_time(void **state) {
    (void)state;
    const char *rel[] = {"models/stories260K/stories260K-Q8_0mix.gguf", "models/synth-qwen2/synth-qwen2-Q4_K.gguf"};
    const int lens[] = {600, 512}, bos[] = {1, 256};
    for (int k = 0; k < 2; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s", NEED_FIXTURE(rel[k]));
        Err err;
        Model *m = model_load(path, &err);
        assert_non_null(m);
        int V = m->cfg.n_vocab, n = lens[k], *ids = xmalloc((size_t)n * sizeof(int));
        some_ids(ids, n, V, bos[k]);
        float *window = run(m, ids, n, COMPUTE_F32), *one = run_one_by_one(m, ids, n, COMPUTE_F32);
        double worst = worst_row_diff(window, one, n, V);
        printf("# %s, %d positions: one call vs one per call, max |diff| / max |logit| = %.2g\n",
               rel[k], n, worst);
        assert_true(worst < 1e-5);
        free(window), free(one), free(ids);
        model_free(m);
    }
}

/* fwd_eval_last(n_out = k) equals the last k rows of fwd_eval(all), also when the rows span two
 * internal steps (600 positions = 512 + 88); fwd_eval(all = 0) is the last row; n_out 0 fills the
 * cache only; n_out > n is refused. */
static void eval_last_equals_tail_rows(void **state) {
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s", NEED_FIXTURE("models/stories260K/stories260K-F32.gguf"));
    Err err;
    Model *m = model_load(path, &err);
    assert_non_null(m);
    int V = m->cfg.n_vocab, n = 600, ids[600];
    some_ids(ids, n, V, 1);
    float *all = run(m, ids, n, COMPUTE_F32), *lg = xmalloc((size_t)n * V * sizeof(float));
    Forward *f = fwd_new(m, COMPUTE_F32, &err);
    const int ks[] = {7, 100, 600}; /* 100: rows of both steps; 1 is fwd_eval(all = 0) below */
    double worst = 0;
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        fwd_rewind(f, 0);
        if (fwd_eval_last(f, ids, n, ks[i], lg, &err)) fail_msg("%s", err.msg);
        assert_int_equal(fwd_pos(f), n);
        worst = fmax(worst, worst_row_diff(lg, all + (size_t)(n - ks[i]) * V, ks[i], V));
    }
    fwd_rewind(f, 0);
    assert_int_equal(fwd_eval(f, ids, n, lg, 0, &err), 0);
    worst = fmax(worst, worst_row_diff(lg, all + (size_t)(n - 1) * V, 1, V));
    printf("# fwd_eval_last vs the tail of fwd_eval(all): max |diff| / max |logit| = %.2g\n", worst);
    /* the same rows from the same step; only the output matmul's M (so its kernel and summation
     * order: GEMV for one row, gemm otherwise) differs: roundings of one dot product of n_embd */
    assert_true(worst < 1e-5);
    /* n_out 0: the cache is filled and no logits are written */
    fwd_rewind(f, 0);
    lg[0] = 12345.0f;
    assert_int_equal(fwd_eval_last(f, ids, 10, 0, lg, &err), 0);
    assert_int_equal(fwd_pos(f), 10);
    assert_true(lg[0] == 12345.0f);
    assert_int_equal(fwd_eval_last(f, ids, 10, 11, lg, &err), -1);
    printf("# %s\n", err.msg);
    assert_non_null(strstr(err.msg, "11 logit rows asked of 10 positions"));
    assert_int_equal(fwd_pos(f), 10);
    fwd_free(f);
    free(all), free(lg);
    model_free(m);
}

/* bf16 compute: close to f32, not equal (a loose sanity bound: it rounds weights and activations). */
static void bf16_compute_is_close(void **state) {
    (void)state;
    const char *g = NEED_FIXTURE("models/synth-llama/synth-llama-F16.gguf");
    char gpath[4200];
    snprintf(gpath, sizeof gpath, "%s", g);
    int ids[64], n = read_prompt(fixture("models/synth-llama/prompt.json"), ids, 64);
    Err err;
    Model *m = model_load(gpath, &err);
    assert_non_null(m);
    size_t nv = (size_t)n * m->cfg.n_vocab;
    float *a = run(m, ids, n, COMPUTE_F32), *b = run(m, ids, n, COMPUTE_BF16);
    double d = max_diff(a, b, nv), s = max_abs(a, nv);
    printf("# bf16 vs f32: max |diff| %.3g (max |logit| %.3g)\n", d, s);
    assert_true(d > 0 && d < 0.03 * s);
    free(a), free(b);
    /* and over 100 positions (more than 32: big panels, bf16 primitives with run-time M) */
    int lids[100];
    some_ids(lids, 100, m->cfg.n_vocab, 1);
    nv = (size_t)100 * m->cfg.n_vocab;
    a = run(m, lids, 100, COMPUTE_F32), b = run(m, lids, 100, COMPUTE_BF16);
    d = max_diff(a, b, nv), s = max_abs(a, nv);
    printf("# bf16 vs f32, 100 positions: max |diff| %.3g (max |logit| %.3g)\n", d, s);
    assert_true(d > 0 && d < 0.03 * s);
    free(a), free(b);
    model_free(m);
}

/* ---- Hugging Face folders vs PyTorch, and HF vs GGUF ---- */

/* Converts an HF folder (F32/F16/BF16 safetensors) to a GGUF file the way llama.cpp's
 * convert_hf_to_gguf.py does: llama.cpp names, ne order reversed, and for llama the rows of q_proj
 * and k_proj permuted per head so that adjacent-pair RoPE equals HF's rotate_half. */
static void permute_rows(const uint8_t *src, uint8_t *dst, int64_t rows, size_t row_bytes, int n_head) {
    int64_t hd = rows / n_head, half = hd / 2;
    for (int h = 0; h < n_head; h++)
        for (int64_t i = 0; i < half; i++)
            for (int j = 0; j < 2; j++) /* GGUF row 2i+j of the head = HF row i + j*half */
                memcpy(dst + (size_t)(h * hd + 2 * i + j) * row_bytes,
                       src + (size_t)(h * hd + i + j * half) * row_bytes, row_bytes);
}

static void hf_to_gguf(const char *dir, const char *out) {
    Err err;
    Model *m = model_load(dir, &err);
    if (!m) fail_msg("%s", err.msg);
    SafeTensors *st = st_open(dir, &err);
    assert_non_null(st);
    const Config *c = &m->cfg;
    GgufWriter *w = gw_new();
    const char *arch = arch_name(c->arch);
    char k[128];
#define KEY(s) (snprintf(k, sizeof k, "%s.%s", arch, s), k)
    gw_kv_str(w, "general.architecture", arch);
    gw_kv_u32(w, KEY("embedding_length"), (uint32_t)c->n_embd);
    gw_kv_u32(w, KEY("block_count"), (uint32_t)c->n_layer);
    gw_kv_u32(w, KEY("feed_forward_length"), (uint32_t)c->n_ff);
    gw_kv_u32(w, KEY("attention.head_count"), (uint32_t)c->n_head);
    gw_kv_u32(w, KEY("attention.head_count_kv"), (uint32_t)c->n_head_kv);
    gw_kv_u32(w, KEY("attention.key_length"), (uint32_t)c->head_dim);
    gw_kv_f32(w, KEY("rope.freq_base"), c->rope_theta);
    gw_kv_f32(w, KEY("attention.layer_norm_rms_epsilon"), c->rms_eps);
    if (c->rope_scale != 1) {
        gw_kv_str(w, KEY("rope.scaling.type"), "linear");
        gw_kv_f32(w, KEY("rope.scaling.factor"), c->rope_scale);
    }
#undef KEY
    static const char *const map[][2] = {
        {"model.embed_tokens.weight", "token_embd.weight"}, {"model.norm.weight", "output_norm.weight"},
        {"lm_head.weight", "output.weight"}, {"input_layernorm.weight", "attn_norm.weight"},
        {"self_attn.q_proj.weight", "attn_q.weight"}, {"self_attn.k_proj.weight", "attn_k.weight"},
        {"self_attn.v_proj.weight", "attn_v.weight"}, {"self_attn.q_proj.bias", "attn_q.bias"},
        {"self_attn.k_proj.bias", "attn_k.bias"}, {"self_attn.v_proj.bias", "attn_v.bias"},
        {"self_attn.q_norm.weight", "attn_q_norm.weight"}, {"self_attn.k_norm.weight", "attn_k_norm.weight"},
        {"self_attn.o_proj.weight", "attn_output.weight"},
        {"post_attention_layernorm.weight", "ffn_norm.weight"}, {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"}, {"mlp.down_proj.weight", "ffn_down.weight"},
    };
    int n = st_n_tensors(st);
    int *perm_heads = xcalloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++) {
        const StTensor *t = st_tensor(st, i);
        char name[128] = "";
        int layer = -1, off = 0;
        const char *rest = t->name;
        if (sscanf(t->name, "model.layers.%d.%n", &layer, &off) == 1 && off) rest = t->name + off;
        for (size_t j = 0; j < sizeof map / sizeof map[0]; j++)
            if (!strcmp(rest, map[j][0])) {
                if (layer >= 0) snprintf(name, sizeof name, "blk.%d.%s", layer, map[j][1]);
                else snprintf(name, sizeof name, "%s", map[j][1]);
            }
        assert_true(name[0]);
        if (c->arch == ARCH_LLAMA && strstr(rest, "q_proj")) perm_heads[i] = c->n_head;
        if (c->arch == ARCH_LLAMA && strstr(rest, "k_proj")) perm_heads[i] = c->n_head_kv;
        int64_t ne[2] = {t->shape[t->n_dims - 1], t->n_dims == 2 ? t->shape[0] : 1};
        assert_true(gw_add_tensor(w, name, t->type, t->n_dims, ne, &err) > 0);
    }
    int64_t nf = c->n_rot / 2; /* Llama 3 frequency divisors travel as a tensor, as in llama.cpp */
    if (m->rope_freqs) assert_true(gw_add_tensor(w, "rope_freqs.weight", Q_F32, 1, &nf, &err) > 0);
    assert_int_equal(gw_begin(w, out, &err), 0);
    for (int i = 0; i < n; i++) {
        const StTensor *t = st_tensor(st, i);
        if (!perm_heads[i]) {
            assert_int_equal(gw_data(w, t->data, t->nbytes, &err), 0);
            continue;
        }
        int64_t rows = t->n_dims == 2 ? t->shape[0] : t->shape[0];
        size_t rb = t->nbytes / (size_t)rows;
        uint8_t *p = xmalloc(t->nbytes);
        permute_rows(t->data, p, rows, rb, perm_heads[i]);
        assert_int_equal(gw_data(w, p, t->nbytes, &err), 0);
        free(p);
    }
    if (m->rope_freqs) assert_int_equal(gw_data(w, m->rope_freqs, (size_t)nf * 4, &err), 0);
    assert_int_equal(gw_end(w, &err), 0);
    gw_free(w);
    free(perm_heads);
    st_close(st);
    model_free(m);
}

static const char *const HF_DIRS[] = {"hf-llama-f32", "hf-llama-bf16", "hf-qwen2-f32",
                                      "hf-qwen2-f16", "hf-qwen3-f32", "hf-llama-tied-f16"};

static int hf_dir(char *out, size_t size, const char *name) {
    snprintf(out, size, "tests/data/%s", name);
    return is_dir(out);
}

static void hf_folders_match_pytorch(void **state) {
    (void)state;
    int done = 0;
    for (size_t d = 0; d < sizeof HF_DIRS / sizeof HF_DIRS[0]; d++) {
        char dir[256], path[300];
        if (!hf_dir(dir, sizeof dir, HF_DIRS[d])) continue;
        snprintf(path, sizeof path, "%s/prompt.json", dir);
        int ids[64], n = read_prompt(path, ids, 64);
        Err err;
        Model *m = model_load(dir, &err);
        if (!m) fail_msg("%s", err.msg);
        float *lg = run(m, ids, n, COMPUTE_F32);
        snprintf(path, sizeof path, "%s/torch.logits.f32", dir);
        size_t nr;
        float *want = read_f32(path, &nr);
        assert_non_null(want);
        assert_int_equal(nr, (size_t)n * m->cfg.n_vocab);
        double d1 = max_diff(lg, want, nr), s = max_abs(want, nr);
        printf("# %s: max |coldtok - torch| = %.3g (max |logit| %.3g)\n", dir, d1, s);
        if (d1 > 1e-4 * s) fail_msg("%s: %.3g > 1e-4 x %.3g", dir, d1, s);
        /* the same weights as GGUF */
        char gguf[] = "/tmp/coldtok-test-hfXXXXXX";
        int fd = mkstemp(gguf);
        assert_true(fd >= 0);
        close(fd);
        hf_to_gguf(dir, gguf);
        Model *g = model_load(gguf, &err);
        if (!g) fail_msg("%s", err.msg);
        assert_int_equal(g->cfg.rope, m->cfg.arch == ARCH_LLAMA ? ROPE_NORMAL : ROPE_NEOX);
        float *lg2 = run(g, ids, n, COMPUTE_F32);
        double d2 = max_diff(lg, lg2, nr);
        printf("# %s: max |HF - GGUF| = %.3g\n", dir, d2);
        assert_true(d2 < 1e-5 * s);
        free(lg2);
        model_free(g);
        unlink(gguf);
        free(want);
        free(lg);
        model_free(m);
        done++;
    }
    if (!done) {
        printf("# skip: tests/data/hf-* absent (make references)\n");
        skip();
    }
}

/* ---- hostile inputs ---- */

/* Writes a tiny llama-shaped GGUF with one thing wrong and returns model_load's error. */
typedef enum { OK, BAD_ARCH, NO_WK, WRONG_SHAPE, BAD_HEADS, IQ_MATRIX, HUGE_EMBD } Flaw;

static const char *load_flawed(Flaw flaw, char *msg, size_t size) {
    char path[] = "/tmp/coldtok-test-badXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    Err err;
    GgufWriter *w = gw_new();
    int E = 64, V = 300, F = 128, H = 4, KV = 2, hd = 16;
    gw_kv_str(w, "general.architecture", flaw == BAD_ARCH ? "gptneox" : "llama");
    gw_kv_u32(w, "llama.embedding_length", flaw == HUGE_EMBD ? 1u << 30 : (uint32_t)E);
    gw_kv_u32(w, "llama.block_count", 1);
    gw_kv_u32(w, "llama.feed_forward_length", (uint32_t)F);
    gw_kv_u32(w, "llama.attention.head_count", flaw == BAD_HEADS ? 3 : (uint32_t)H);
    gw_kv_u32(w, "llama.attention.head_count_kv", (uint32_t)KV);
    gw_kv_u32(w, "llama.attention.key_length", (uint32_t)hd);
    gw_kv_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    struct { const char *name; int64_t cols, rows; } t[] = {
        {"token_embd.weight", E, V}, {"output_norm.weight", E, 1}, {"blk.0.attn_norm.weight", E, 1},
        {"blk.0.attn_q.weight", E, H * hd}, {"blk.0.attn_k.weight", E, flaw == WRONG_SHAPE ? KV * hd + 1 : KV * hd},
        {"blk.0.attn_v.weight", E, KV * hd}, {"blk.0.attn_output.weight", H * hd, E},
        {"blk.0.ffn_norm.weight", E, 1}, {"blk.0.ffn_gate.weight", E, F}, {"blk.0.ffn_up.weight", E, F},
        {"blk.0.ffn_down.weight", F, E},
    };
    int n = (int)(sizeof t / sizeof t[0]);
    for (int i = 0; i < n; i++) {
        if (flaw == NO_WK && !strcmp(t[i].name, "blk.0.attn_k.weight")) continue;
        int64_t ne[2] = {t[i].cols, t[i].rows};
        uint32_t type = t[i].rows == 1 ? Q_F32 : flaw == IQ_MATRIX && i == 3 ? 40 /* NVFP4 */ : Q_F16;
        assert_true(gw_add_tensor(w, t[i].name, type, t[i].rows > 1 ? 2 : 1, ne, &err) > 0);
    }
    assert_int_equal(gw_begin(w, path, &err), 0);
    static uint8_t zeros[1 << 16];
    for (int i = 0; i < n; i++) {
        if (flaw == NO_WK && !strcmp(t[i].name, "blk.0.attn_k.weight")) continue;
        uint32_t type = t[i].rows == 1 ? Q_F32 : flaw == IQ_MATRIX && i == 3 ? 40 /* NVFP4 */ : Q_F16;
        size_t nb = qtype_row_bytes(type, t[i].cols) * (size_t)t[i].rows;
        assert_int_equal(gw_data(w, zeros, nb, &err), 0);
    }
    assert_int_equal(gw_end(w, &err), 0);
    gw_free(w);
    Model *m = model_load(path, &err);
    unlink(path);
    if (m) {
        model_free(m);
        return NULL;
    }
    snprintf(msg, size, "%s", err.msg);
    return msg;
}

static void hostile_models_are_one_clear_error(void **state) {
    (void)state;
    char msg[1024];
    assert_null(load_flawed(OK, msg, sizeof msg)); /* the unflawed file loads */
    struct { Flaw f; const char *want; } cases[] = {
        {BAD_ARCH, "unsupported architecture 'gptneox'"},
        {NO_WK, "missing tensor blk.0.attn_k.weight"},
        {WRONG_SHAPE, "blk.0.attn_k.weight has shape [33, 64], expected [32, 64]"},
        {BAD_HEADS, "n_head 3 is not a multiple of n_head_kv 2"},
        {IQ_MATRIX, "blk.0.attn_q.weight has type NVFP4 (ggml type 40), which coldtok cannot convert"},
        {HUGE_EMBD, "out of range"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *e = load_flawed(cases[i].f, msg, sizeof msg);
        assert_non_null(e);
        printf("# %s\n", e);
        if (!strstr(e, cases[i].want)) fail_msg("'%s' lacks '%s'", e, cases[i].want);
        assert_null(strchr(e, '\n'));
        assert_true(!strncmp(e, "/tmp/coldtok-test-bad", 21));
    }
}

/* Writes bytes to a temporary .safetensors file and returns st_open's error (NULL if it opened). */
static const char *st_error(const char *header, size_t data_bytes, char *msg, size_t size) {
    char path[] = "/tmp/coldtok-test-stXXXXXX.safetensors";
    int fd = mkstemps(path, 12);
    assert_true(fd >= 0);
    uint64_t n = strlen(header);
    assert_int_equal(write(fd, &n, 8), 8);
    assert_int_equal(write(fd, header, n), (ssize_t)n);
    static uint8_t zeros[4096];
    assert_int_equal(write(fd, zeros, data_bytes), (ssize_t)data_bytes);
    close(fd);
    Err err;
    SafeTensors *st = st_open(path, &err);
    unlink(path);
    if (st) {
        st_close(st);
        return NULL;
    }
    snprintf(msg, size, "%s", err.msg);
    return msg;
}

static void hostile_safetensors_are_one_clear_error(void **state) {
    (void)state;
    char msg[1024];
    assert_null(st_error("{\"a\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]}}", 12, msg, sizeof msg));
    struct { const char *h; size_t data; const char *want; } cases[] = {
        {"{\"a\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,14]}}", 12, "outside"},
        {"{\"a\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,10]}}", 12, "10 bytes for 6 elements"},
        {"{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[2,6]}}", 8, "overlap"},
        {"{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "unknown dtype 'Q4'"},
        {"{\"a\":{\"dtype\":\"F16\",\"shape\":[-2],\"data_offsets\":[0,4]}}", 4, "bad shape"},
        {"{\"a\":", 4, "not valid JSON"},
        {"[1,2]", 4, "not a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *e = st_error(cases[i].h, cases[i].data, msg, sizeof msg);
        assert_non_null(e);
        printf("# %s\n", e);
        if (!strstr(e, cases[i].want)) fail_msg("'%s' lacks '%s'", e, cases[i].want);
    }
}

/* synth: a written model loads with the intended config and gives finite, non-constant logits;
 * the same seed gives the same bytes. */
static void synth_models_load(void **state) {
    (void)state;
    const char *presets[] = {"tiny-llama", "tiny-qwen2", "tiny-qwen3"};
    uint32_t types[] = {Q_F16, Q_Q8_0, Q_BF16};
    for (int i = 0; i < 3; i++) {
        SynthSpec s;
        assert_int_equal(synth_preset(presets[i], &s), 0);
        s.type = types[i];
        char path[] = "/tmp/coldtok-test-synthXXXXXX";
        int fd = mkstemp(path);
        close(fd);
        Err err;
        assert_int_equal(synth_write(&s, path, &err), 0);
        Model *m = model_load(path, &err);
        if (!m) fail_msg("%s", err.msg);
        assert_int_equal(m->cfg.arch, s.arch);
        assert_int_equal(m->cfg.n_vocab, s.n_vocab);
        assert_int_equal(m->cfg.head_dim, s.head_dim);
        assert_int_equal(m->cfg.tied, s.tied);
        assert_int_equal(m->layers[0].wq.type, types[i]);
        assert_true((m->layers[0].bq != NULL) == (s.arch == ARCH_QWEN2));
        assert_true((m->layers[0].q_norm != NULL) == (s.arch == ARCH_QWEN3));
        int ids[3] = {256, 72, 105};
        float *lg = run(m, ids, 3, COMPUTE_F32);
        double mn = lg[0], mx = lg[0];
        for (int j = 0; j < 3 * s.n_vocab; j++) {
            assert_true(isfinite(lg[j]));
            mn = fmin(mn, lg[j]), mx = fmax(mx, lg[j]);
        }
        assert_true(mx - mn > 1e-3);
        free(lg);
        model_free(m);
        /* reproducible */
        size_t la, lb;
        char *a = read_file(path, &la, &err);
        assert_int_equal(synth_write(&s, path, &err), 0);
        char *b = read_file(path, &lb, &err);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        free(a), free(b);
        unlink(path);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixture_models_match_references),
        cmocka_unit_test(incremental_equals_batch),
        cmocka_unit_test(long_batches_split_correctly),
        cmocka_unit_test(window_equals_one_at_a_time),
        cmocka_unit_test(eval_last_equals_tail_rows),
        cmocka_unit_test(panel_conversion_is_exact),
        cmocka_unit_test(bf16_compute_is_close),
        cmocka_unit_test(hf_folders_match_pytorch),
        cmocka_unit_test(hostile_models_are_one_clear_error),
        cmocka_unit_test(hostile_safetensors_are_one_clear_error),
        cmocka_unit_test(synth_models_load),
    };
    return cmocka_run_group_tests_name("forward", tests, NULL, NULL);
}
