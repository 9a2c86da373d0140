/* synth: see synth.h. */
#include "quant/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf_meta.h"
#include "formats/gguf_write.h"
#include "formats/hfnames.h"
#include "formats/qtype.h"
#include "model/config_gguf.h"
#include "quant/quantize.h"

typedef struct {
    const char *name;
    SynthSpec s;
} Preset;

/* Shapes from the models' published config.json files. The rows give the shape fields in order;
 * the fields after std (bias, granite's scales) are named where a row has them, 0 elsewhere. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const Preset PRESETS[] = {
    {"qwen2.5-0.5b", {ARCH_QWEN2, 151936, 896, 24, 4864, 14, 2, 64, 1e6f, 1e-6f, 1, Q_F16, 1, 0.02f}},
    {"qwen2.5-1.5b", {ARCH_QWEN2, 151936, 1536, 28, 8960, 12, 2, 128, 1e6f, 1e-6f, 1, Q_F16, 1, 0.02f}},
    {"qwen2.5-7b", {ARCH_QWEN2, 152064, 3584, 28, 18944, 28, 4, 128, 1e6f, 1e-6f, 0, Q_F16, 1, 0.02f}},
    {"llama-3.2-1b", {ARCH_LLAMA, 128256, 2048, 16, 8192, 32, 8, 64, 5e5f, 1e-5f, 1, Q_F16, 1, 0.02f}},
    {"qwen3-0.6b", {ARCH_QWEN3, 151936, 1024, 28, 3072, 16, 8, 128, 1e6f, 1e-6f, 1, Q_F16, 1, 0.02f}},
    {"tiny-llama", {ARCH_LLAMA, 512, 128, 2, 256, 4, 2, 32, 1e4f, 1e-5f, 0, Q_F16, 1, 0.05f}},
    {"tiny-qwen2", {ARCH_QWEN2, 512, 128, 2, 256, 4, 2, 32, 1e6f, 1e-6f, 1, Q_F16, 1, 0.05f}},
    {"tiny-qwen3", {ARCH_QWEN3, 512, 128, 2, 256, 4, 2, 64, 1e6f, 1e-6f, 1, Q_F16, 1, 0.05f}},
    {"starcoder2-3b", {ARCH_STARCODER2, 49152, 3072, 30, 12288, 24, 2, 128, 999999.4420358813f, 1e-5f, 1,
                       Q_F16, 1, 0.02f}},
    /* ibm-granite/granite-3b-code-base: model_type llama, attention_bias and mlp_bias */
    {"granite-3b-code", {ARCH_LLAMA, 49152, 2560, 32, 10240, 32, 32, 80, 1e7f, 1e-5f, 1, Q_F16, 1, 0.02f,
                         .bias = 1}},
    /* mistralai/Mistral-7B-v0.1 (its sliding_window 4096 has no GGUF key: llama.cpp reads none) */
    {"mistral-7b", {ARCH_LLAMA, 32000, 4096, 32, 14336, 32, 8, 128, 1e4f, 1e-5f, 0, Q_F16, 1, 0.02f}},
    {"tiny-starcoder2", {ARCH_STARCODER2, 512, 128, 2, 256, 4, 2, 32, 1e5f, 1e-5f, 1, Q_F16, 1, 0.05f}},
    /* granite-3.0's multipliers (embedding 12, attention 1/64, residual 0.22, logits 8) */
    {"tiny-granite", {ARCH_GRANITE, 512, 128, 2, 256, 4, 2, 32, 1e4f, 1e-6f, 1, Q_F16, 1, 0.05f,
                      .embd_scale = 12, .attn_scale = 0.015625f, .residual_scale = 0.22f, .logit_scale = 8}},
};
#pragma GCC diagnostic pop

int synth_preset(const char *name, SynthSpec *s) {
    for (size_t i = 0; i < sizeof PRESETS / sizeof PRESETS[0]; i++)
        if (!strcmp(PRESETS[i].name, name)) {
            *s = PRESETS[i].s;
            return 0;
        }
    return -1;
}

const char *synth_preset_names(void) {
    return "qwen2.5-0.5b, qwen2.5-1.5b, qwen2.5-7b, llama-3.2-1b, qwen3-0.6b, starcoder2-3b, "
           "granite-3b-code, mistral-7b, tiny-llama, tiny-qwen2, tiny-qwen3, tiny-starcoder2, tiny-granite";
}

int synth_type_ok(uint32_t t) { return qtype_can_quant(t) && qtype_can_dequant(t); }

/* llama.cpp's fallback when a k-quant does not fit a matrix (columns not a multiple of 256, as
 * Qwen2.5-0.5B's 896): the type llama_tensor_get_type picks instead. */
static uint32_t fit_type(uint32_t t, int64_t cols) {
    if (qtype_row_bytes(t, cols)) return t;
    switch (t) {
    case Q_Q2_K:
    case Q_Q3_K: return Q_Q4_0;
    case Q_Q4_K: return Q_Q5_0;
    case Q_Q5_K: return Q_Q5_1;
    case Q_Q6_K: return Q_Q8_0;
    default: return t;
    }
}

/* ---- random numbers: splitmix64, one stream per tensor ---- */

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform with mean `mean` and standard deviation `std`. */
static void fill_uniform(uint64_t *rng, float *x, int64_t n, float mean, float std) {
    float a = std * 1.7320508f; /* uniform(-a, a) has std a / sqrt(3) */
    for (int64_t i = 0; i < n; i++) {
        float u = (float)(splitmix(rng) >> 40) * (1.0f / 16777216.0f); /* [0, 1) */
        x[i] = mean + a * (2 * u - 1);
    }
}

/* x -> the type's blocks (quant/quantize.h, threads over rows), rows of `cols` values. */
static int convert(uint32_t type, const float *x, uint8_t *out, int64_t rows, int64_t cols) {
    return qquantize_rows(type, x, out, rows, cols, NULL, NULL) ? 0 : -1;
}

/* ---- the file ---- */

typedef struct {
    char name[64];
    uint32_t type;
    int64_t cols, rows; /* rows 1 for vectors */
    float mean, std;
} Plan;

/* The GPT-2 byte-to-unicode mapping: printable bytes stand for themselves, the others are mapped
 * to U+0100 onward, so every byte token is a visible string. */
static void byte_token(int b, char out[8]) {
    int n = 0, cp = b;
    if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255))) {
        for (int c = 0; c < b; c++)
            if (!((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255))) n++;
        cp = 256 + n;
    }
    out[utf8_encode((uint32_t)cp, out)] = '\0';
}

static void write_vocab(GgufWriter *w, int n_vocab, const char *pre) {
    static const char *const merges[] = {"Ġ t", "Ġ a", "h e", "i n", "r e", "o n", "Ġt he", "e r"};
    static const char *const merged[] = {"Ġt", "Ġa", "he", "in", "re", "on", "Ġthe", "er"};
    int n_merges = 8, eot = 256;
    char **tok = xmalloc((size_t)n_vocab * sizeof *tok);
    int32_t *type = xmalloc((size_t)n_vocab * sizeof *type);
    for (int i = 0; i < n_vocab; i++) {
        char b[32];
        if (i < 256) byte_token(i, b), type[i] = 1;
        else if (i == eot) snprintf(b, sizeof b, "<|endoftext|>"), type[i] = 3;
        else if (i - eot - 1 < n_merges) snprintf(b, sizeof b, "%s", merged[i - eot - 1]), type[i] = 1;
        else snprintf(b, sizeof b, "<|unused_%d|>", i), type[i] = 5;
        tok[i] = xstrdup(b);
    }
    gw_kv_str(w, "tokenizer.ggml.model", "gpt2");
    gw_kv_str(w, "tokenizer.ggml.pre", pre);
    gw_kv_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tok, (size_t)n_vocab);
    gw_kv_arr_i32(w, "tokenizer.ggml.token_type", type, (size_t)n_vocab);
    gw_kv_arr_str(w, "tokenizer.ggml.merges", merges, (size_t)n_merges);
    gw_kv_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)eot);
    gw_kv_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eot);
    gw_kv_bool(w, "tokenizer.ggml.add_bos_token", 0);
    for (int i = 0; i < n_vocab; i++) free(tok[i]);
    free(tok);
    free(type);
}

static int check_spec(const SynthSpec *s, const char *path, Err *err) {
    if (!synth_type_ok(s->type))
        return err_set(err, "%s: synth cannot write %s matrices", path,
                       qtype_name(s->type) ? qtype_name(s->type) : "that type");
    /* k-quants fall back per matrix (fit_type); the fallbacks need 32 */
    int be = qtype_block_elems(s->type) > 32 ? 32 : qtype_block_elems(s->type);
    if (s->n_vocab < 258 + 8 || s->n_vocab > (1 << 22) || s->n_embd < 1 || s->n_embd > 65536 ||
        s->n_layer < 1 || s->n_layer > 1024 || s->n_ff < 1 || s->n_ff > (1 << 20) || s->n_head < 1 ||
        s->n_head_kv < 1 || s->n_head % s->n_head_kv || s->head_dim < 2 || s->head_dim % 2 ||
        s->head_dim > 1024 || (int64_t)s->n_head * s->head_dim > (1 << 20))
        return err_set(err, "%s: synth dimensions out of range (n_vocab >= 266, heads a multiple of "
                       "kv heads, even head_dim)", path);
    if (s->n_embd % be || s->n_ff % be || (s->n_head * s->head_dim) % be)
        return err_set(err, "%s: n_embd %d, n_ff %d and n_head*head_dim %d must be multiples of %d for %s",
                       path, s->n_embd, s->n_ff, s->n_head * s->head_dim, be, qtype_name(s->type));
    return 0;
}

int synth_write(const SynthSpec *s, const char *path, Err *err) {
    if (check_spec(s, path, err)) return -1;
    const ArchInfo *a = arch_info(s->arch);
    int64_t E = s->n_embd, Q = (int64_t)s->n_head * s->head_dim,
            KV = (int64_t)s->n_head_kv * s->head_dim, F = s->n_ff;
    GgufWriter *w = gw_new();
    /* the presets' published contexts: Llama 3.2 131072, Qwen 32768 */
    const Config c = {.arch = s->arch, .n_vocab = s->n_vocab, .n_embd = s->n_embd,
                      .n_layer = s->n_layer, .n_ff = s->n_ff, .n_head = s->n_head,
                      .n_head_kv = s->n_head_kv, .head_dim = s->head_dim, .head_dim_v = s->head_dim,
                      .n_rot = s->head_dim,
                      .n_ctx = s->arch == ARCH_LLAMA ? 131072 : 32768, .rms_eps = s->rms_eps,
                      .rope_theta = s->rope_theta, .rope_scale = 1, .rope = a->rope_gguf,
                      .tied = s->tied, .act = a->act, .embd_scale = s->embd_scale,
                      .attn_scale = s->attn_scale, .residual_scale = s->residual_scale,
                      .logit_scale = s->logit_scale};
    GgufMeta *meta = gm_new();
    config_to_gguf(&c, "coldtok synth", CONFIG_KEYS_SYNTH, meta);
    gm_write(meta, w);
    gm_free(meta);
    write_vocab(w, s->n_vocab, s->arch == ARCH_LLAMA ? "llama-bpe" : "qwen2");

    /* tensors in llama.cpp's order; the optional ones a family requires (model/arch.h) */
    int cap = 8 + 24 * s->n_layer, n = 0;
    /* an optional kind of tensor is written when the family requires it, or allows it and the
     * spec asks for biases */
#define WRITES(presence) ((presence) == TENSORS_REQUIRED || ((presence) == TENSORS_ALLOWED && s->bias))
    Plan *p = xcalloc((size_t)cap, sizeof *p);
    float mstd = s->std;
#define ADD(type_, cols_, rows_, mean_, std_, role, layer)                                    \
    do {                                                                                      \
        tensor_name_in(role, 1, layer, p[n].name, sizeof p[n].name);                          \
        p[n].type = type_, p[n].cols = cols_, p[n].rows = rows_, p[n].mean = mean_, p[n].std = std_; \
        n++;                                                                                  \
    } while (0)
    ADD(s->type, E, s->n_vocab, 0, mstd, TN_TOKEN_EMBD, 0);
    for (int l = 0; l < s->n_layer; l++) {
        ADD(Q_F32, E, 1, 1, 0.1f, TN_ATTN_NORM, l);
        if (WRITES(a->norm_bias)) ADD(Q_F32, E, 1, 0, 0.1f, TN_ATTN_NORM_BIAS, l);
        ADD(s->type, E, Q, 0, mstd, TN_ATTN_Q, l);
        ADD(s->type, E, KV, 0, mstd, TN_ATTN_K, l);
        ADD(s->type, E, KV, 0, mstd, TN_ATTN_V, l);
        if (WRITES(a->qkv_bias)) {
            ADD(Q_F32, Q, 1, 0, 0.1f, TN_ATTN_Q_BIAS, l);
            ADD(Q_F32, KV, 1, 0, 0.1f, TN_ATTN_K_BIAS, l);
            ADD(Q_F32, KV, 1, 0, 0.1f, TN_ATTN_V_BIAS, l);
        }
        if (a->qk_norm == TENSORS_REQUIRED) {
            ADD(Q_F32, s->head_dim, 1, 1, 0.1f, TN_ATTN_Q_NORM, l);
            ADD(Q_F32, s->head_dim, 1, 1, 0.1f, TN_ATTN_K_NORM, l);
        }
        ADD(s->type, Q, E, 0, mstd, TN_ATTN_OUT, l);
        if (WRITES(a->out_bias)) ADD(Q_F32, E, 1, 0, 0.1f, TN_ATTN_OUT_BIAS, l);
        ADD(Q_F32, E, 1, 1, 0.1f, TN_FFN_NORM, l);
        if (WRITES(a->norm_bias)) ADD(Q_F32, E, 1, 0, 0.1f, TN_FFN_NORM_BIAS, l);
        if (a->act != ACT_GELU) ADD(s->type, E, F, 0, mstd, TN_FFN_GATE, l); /* ACT_GELU: no gate */
        ADD(s->type, E, F, 0, mstd, TN_FFN_UP, l);
        ADD(s->type, F, E, 0, mstd, TN_FFN_DOWN, l);
        if (WRITES(a->ffn_bias)) {
            if (a->act != ACT_GELU) ADD(Q_F32, F, 1, 0, 0.1f, TN_FFN_GATE_BIAS, l);
            ADD(Q_F32, F, 1, 0, 0.1f, TN_FFN_UP_BIAS, l);
            ADD(Q_F32, E, 1, 0, 0.1f, TN_FFN_DOWN_BIAS, l);
        }
    }
    ADD(Q_F32, E, 1, 1, 0.1f, TN_OUTPUT_NORM, 0);
    if (WRITES(a->norm_bias)) ADD(Q_F32, E, 1, 0, 0.1f, TN_OUTPUT_NORM_BIAS, 0);
#undef WRITES
    if (!s->tied) ADD(s->type, E, s->n_vocab, 0, mstd, TN_OUTPUT, 0);
#undef ADD
    int r = 0;
    for (int i = 0; i < n && r == 0; i++) {
        int64_t ne[2] = {p[i].cols, p[i].rows};
        p[i].type = fit_type(p[i].type, p[i].cols);
        if (gw_add_tensor(w, p[i].name, p[i].type, p[i].rows > 1 ? 2 : 1, ne, err) < 0) r = -1;
    }
    if (r == 0) r = gw_begin(w, path, err);
    /* data, in chunks of whole rows of about 4 MiB */
    float *x = NULL;
    uint8_t *q = NULL;
    for (int i = 0; i < n && r == 0; i++) {
        uint64_t rng = s->seed * 0x2545f4914f6cdd1dull + (uint64_t)i;
        int64_t chunk = ((int64_t)1 << 20) / p[i].cols;
        if (chunk < 1) chunk = 1;
        if (chunk > p[i].rows) chunk = p[i].rows;
        x = xrealloc(x, (size_t)(chunk * p[i].cols) * sizeof(float));
        q = xrealloc(q, qtype_row_bytes(p[i].type, p[i].cols) * (size_t)chunk);
        for (int64_t r0 = 0; r0 < p[i].rows && r == 0; r0 += chunk) {
            int64_t nr = p[i].rows - r0 < chunk ? p[i].rows - r0 : chunk;
            fill_uniform(&rng, x, nr * p[i].cols, p[i].mean, p[i].std);
            if (convert(p[i].type, x, q, nr, p[i].cols) != 0)
                r = err_set(err, "%s: cannot quantize %s to %s", path, p[i].name, qtype_name(p[i].type));
            else
                r = gw_data(w, q, qtype_row_bytes(p[i].type, p[i].cols) * (size_t)nr, err);
        }
        progress("writing %s: tensor %d/%d", path, i + 1, n);
    }
    progress_done();
    if (r == 0) r = gw_end(w, err);
    free(x);
    free(q);
    free(p);
    gw_free(w);
    if (r != 0) remove(path);
    return r;
}
