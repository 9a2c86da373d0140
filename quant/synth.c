/* synth: see synth.h. */
#include "quant/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/gguf_meta.h"
#include "formats/gguf_write.h"
#include "formats/hfnames.h"
#include "formats/qtype.h"
#include "tokenizer/tokconv.h"
#include "model/config_gguf.h"
#include "model/rope_scaling.h"
#include "quant/quantize.h"

typedef struct {
    const char *name;
    SynthSpec s;
} Preset;

/* Shapes from the models' published config.json files. Rows give the first fields positionally
 * (the experts of a mixture after std); the other optional ones (Gemma's windows and caps, MLA,
 * RoPE scaling, biases, granite's scales) by name; fields left out are 0, as C says: the warning
 * about them is off for this table only. */
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
    /* CodeGemma 7B; Gemma 2 2B (window 4096 on even layers, soft-caps 50 / 30); Gemma 3 1B (window
     * 512 on five layers of six, local RoPE base 10000, global 1e6) */
    {"codegemma-7b", {ARCH_GEMMA, 256000, 3072, 28, 24576, 16, 16, 256, 1e4f, 1e-6f, 1, Q_F16, 1, 0.02f}},
    {"gemma-2-2b", {ARCH_GEMMA2, 256000, 2304, 26, 9216, 8, 4, 256, 1e4f, 1e-6f, 1, Q_F16, 1, 0.02f,
                    .n_swa = 4096, .swa_period = 2, .attn_softcap = 50, .final_softcap = 30}},
    {"gemma-3-1b", {ARCH_GEMMA3, 262144, 1152, 26, 6912, 4, 1, 256, 1e6f, 1e-6f, 1, Q_F16, 1, 0.02f,
                    .n_swa = 512, .swa_period = 6, .rope_theta_swa = 1e4f}},
    {"tiny-gemma", {ARCH_GEMMA, 512, 128, 2, 256, 4, 2, 32, 1e4f, 1e-6f, 1, Q_F16, 1, 0.05f}},
    {"tiny-gemma2", {ARCH_GEMMA2, 512, 128, 4, 256, 4, 2, 32, 1e4f, 1e-6f, 1, Q_F16, 1, 0.05f,
                     .n_swa = 6, .swa_period = 2, .attn_softcap = 50, .final_softcap = 30}},
    {"tiny-gemma3", {ARCH_GEMMA3, 512, 128, 6, 256, 4, 2, 32, 1e6f, 1e-6f, 1, Q_F16, 1, 0.05f,
                     .n_swa = 6, .swa_period = 6, .rope_theta_swa = 1e4f}},
    /* Qwen/Qwen3-Coder-30B-A3B-Instruct: 128 experts of 768, 8 used, no shared expert */
    {"qwen3-coder-30b-a3b", {ARCH_QWEN3MOE, 151936, 2048, 48, 6144, 32, 4, 128, 1e7f, 1e-6f, 0, Q_F16,
                             1, 0.02f, 128, 8, 768, 0}},
    {"tiny-qwen2moe", {ARCH_QWEN2MOE, 512, 128, 2, 256, 4, 2, 32, 1e6f, 1e-6f, 0, Q_F16, 1, 0.05f, 8,
                       2, 64, 128}},
    {"tiny-qwen3moe", {ARCH_QWEN3MOE, 512, 128, 2, 256, 4, 2, 64, 1e6f, 1e-6f, 0, Q_F16, 1, 0.05f, 8,
                       4, 64, 0}},
    /* deepseek-ai/DeepSeek-Coder-V2-Lite-Base: MLA (kv_lora_rank 512, q direct, qk 128 + 64 rope,
     * v 128), layer 0 dense (10944), then 64 experts of 1408, 6 used, 2 shared */
    {"deepseek-coder-v2-lite", {ARCH_DEEPSEEK2, 102400, 2048, 27, 10944, 16, 16, 192, 1e4f, 1e-6f, 0,
                                Q_F16, 1, 0.02f, 64, 6, 1408, 2816, .kv_lora_rank = 512,
                                .head_dim_v = 128, .n_dense_lead = 1, .n_rot = 64}},
    {"tiny-deepseek2", {ARCH_DEEPSEEK2, 512, 128, 2, 256, 4, 4, 48, 1e4f, 1e-6f, 0, Q_F16, 1, 0.05f,
                        8, 2, 64, 128, .kv_lora_rank = 64, .head_dim_v = 32, .n_dense_lead = 1,
                        .n_rot = 16}},
    /* Phi-3.5-mini-instruct: 131072 context, LongRoPE over the original 4096 */
    {"phi-3.5-mini", {ARCH_PHI3, 32064, 3072, 32, 8192, 32, 32, 96, 1e4f, 1e-5f, 0, Q_F16, 1, 0.02f,
                      .n_ctx = 131072, .rope_scaling = ROPE_SCALING_LONGROPE, .rope_orig_ctx = 4096}},
    {"tiny-phi3", {ARCH_PHI3, 512, 128, 2, 256, 4, 2, 32, 1e4f, 1e-5f, 0, Q_F16, 1, 0.05f}},
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
    return "qwen2.5-0.5b, qwen2.5-1.5b, qwen2.5-7b, llama-3.2-1b, qwen3-0.6b, codegemma-7b, gemma-2-2b, "
           "gemma-3-1b, phi-3.5-mini, qwen3-coder-30b-a3b, deepseek-coder-v2-lite, starcoder2-3b, "
           "granite-3b-code, mistral-7b, tiny-llama, tiny-qwen2, tiny-qwen3, tiny-gemma, tiny-gemma2, "
           "tiny-gemma3, tiny-phi3, tiny-qwen2moe, tiny-qwen3moe, tiny-deepseek2, tiny-starcoder2, "
           "tiny-granite";
}

/* the legacy and k-quant types (and F32/F16/BF16): not the i-quants quantize writes, whose
 * fall-backs fit_type does not know */
int synth_type_ok(uint32_t t) {
    const int iq = t == Q_IQ4_NL || t == Q_IQ4_XS || t == Q_IQ3_S || t == Q_IQ2_XS;
    if (t == Q_IQ2_S) return 0;
    return !iq && qtype_can_quant(t) && qtype_can_dequant(t);
}

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

/* ---- block pools (SynthSpec.block_pool) ---- */

#define POOL_BLOCKS 65536

typedef struct {
    uint32_t type;
    float std;
    uint8_t *b;   /* POOL_BLOCKS blocks */
    size_t bb;    /* bytes per block */
} Pool;

/* The pool of (type, std), made on first use in one of the n slots of pools. */
static const Pool *pool_for(Pool *pools, int n, uint32_t type, float std, uint64_t seed) {
    for (int i = 0; i < n; i++)
        if (pools[i].b && pools[i].type == type && pools[i].std == std) return &pools[i];
    for (int i = 0; i < n; i++) {
        if (pools[i].b) continue;
        int64_t be = qtype_block_elems(type);
        float *x = xmalloc((size_t)(POOL_BLOCKS * be) * sizeof(float));
        uint64_t rng = seed ^ 0x5bd1e995ull;
        fill_uniform(&rng, x, POOL_BLOCKS * be, 0, std);
        Pool *p = &pools[i];
        p->bb = qtype_row_bytes(type, be);
        p->b = xmalloc(p->bb * POOL_BLOCKS);
        if (convert(type, x, p->b, POOL_BLOCKS, be) != 0) {
            free(p->b), p->b = NULL;
            free(x);
            return NULL;
        }
        free(x);
        p->type = type, p->std = std;
        return p;
    }
    return NULL;
}

static void fill_from_pool(const Pool *p, uint64_t *rng, uint8_t *out, size_t n_blocks) {
    for (size_t i = 0; i < n_blocks; i++)
        memcpy(out + i * p->bb, p->b + (size_t)(splitmix(rng) % POOL_BLOCKS) * p->bb, p->bb);
}

/* ---- the file ---- */

typedef struct {
    char name[64];
    uint32_t type;
    int64_t cols, rows; /* rows 1 for vectors */
    float mean, std;
    int64_t experts;    /* > 1: a 3-D tensor of this many [rows, cols] matrices; else 0 or 1 */
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

/* A tokenizer.json's vocabulary as tokconv converts it (padded to n_vocab rows). */
static int write_real_vocab(GgufWriter *w, const char *tokenizer, int n_vocab, const char *path,
                            Err *err) {
    TokConvKv *kvs = NULL;
    char *note = NULL;
    int n = tokconv_from_json(tokenizer, n_vocab, &kvs, &note, err), bad = n <= 0;
    if (n == 0) err_set(err, "%s: its tokenizer %s cannot be written: %s", path, tokenizer, note ? note : "?");
    for (int i = 0; i < n && !bad; i++) { /* more tokens than rows: a file no reader would take */
        uint64_t count = 0;
        if (!strcmp(kvs[i].key, "tokenizer.ggml.tokens") && kvs[i].val.len >= 12)
            memcpy(&count, kvs[i].val.data + 4, 8); /* the element type, then the count */
        if (count > (uint64_t)n_vocab)
            bad = err_set(err, "%s: its tokenizer %s has %llu tokens, more than the %d rows of the embedding",
                          path, tokenizer, (unsigned long long)count, n_vocab);
    }
    for (int i = 0; i < n && !bad; i++)
        if (strcmp(kvs[i].key, "tokenizer.huggingface.json")) /* 11 MB that no reader here needs */
            gw_kv_raw(w, kvs[i].key, kvs[i].type, kvs[i].val.data, kvs[i].val.len);
    if (n > 0) tokconv_free(kvs, n);
    free(note);
    return bad ? -1 : 0;
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
    if (s->n_rot < 0 || s->n_rot % 2 || s->n_rot > s->head_dim || s->n_ctx < 0 || s->rope_orig_ctx < 0 ||
        (s->rope_scaling == ROPE_SCALING_YARN && !(s->rope_factor >= 1)))
        return err_set(err, "%s: synth rope dims out of range (even rot <= head_dim; yarn factor >= 1)", path);
    if (s->arch == ARCH_PHI3 && s->n_head * s->head_dim != s->n_embd) /* llama.cpp's phi3 wo is square */
        return err_set(err, "%s: phi3 needs n_head*head_dim (%d) = n_embd (%d)", path, s->n_head * s->head_dim,
                       s->n_embd);
    if (s->n_embd % be || s->n_ff % be || (s->n_head * s->head_dim) % be)
        return err_set(err, "%s: n_embd %d, n_ff %d and n_head*head_dim %d must be multiples of %d for %s",
                       path, s->n_embd, s->n_ff, s->n_head * s->head_dim, be, qtype_name(s->type));
    const ArchInfo *a = arch_info(s->arch);
    if (a->moe && !(a->mla && s->n_expert == 0) && (s->n_expert < 1 || s->n_expert > 4096 || s->n_expert_used < 1 ||
                   s->n_expert_used > s->n_expert || s->n_ff_exp < 1 || s->n_ff_exp % be ||
                   s->n_ff_exp > (1 << 20) || s->n_ff_shexp < 0 || s->n_ff_shexp % be ||
                   s->n_ff_shexp > (1 << 20) ||
                   (a->moe_shexp != TENSORS_ALLOWED &&
                    (a->moe_shexp == TENSORS_REQUIRED) != (s->n_ff_shexp > 0)) ||
                   (a->mla && (s->n_ff_shexp % s->n_ff_exp || s->n_dense_lead < 0)))) /* deepseek2 */
        return err_set(err, "%s: synth %s experts: 1 <= experts_used <= experts, ff_exp (and ff_shexp, "
                       "which %s %s) multiples of %d", path, a->name, a->name,
                       a->moe_shexp == TENSORS_REQUIRED ? "needs" : "does not have", be);
    if (a->mla) {
        int nope = s->head_dim - s->n_rot;
        if (s->kv_lora_rank < 1 || s->kv_lora_rank > 65536 || s->q_lora_rank < 0 || s->q_lora_rank > 65536 ||
            s->n_rot < 2 || s->n_rot % 2 || nope < 1 || s->head_dim_v < 1 || s->head_dim_v > 1024 ||
            s->n_head_kv != s->n_head)
            return err_set(err, "%s: synth deepseek2 dimensions out of range (kv_lora >= 1, even rope dims "
                           "below head_dim, v_head_dim >= 1, kv heads = heads)", path);
        if (s->kv_lora_rank % be || s->q_lora_rank % be || nope % be)
            return err_set(err, "%s: kv_lora %d, q_lora %d and head_dim - rope dims %d must be multiples "
                           "of %d for %s", path, s->kv_lora_rank, s->q_lora_rank, nope, be, qtype_name(s->type));
    }
    return 0;
}

/* One tensor of the plan. */
static void plan(Plan *p, int *n, TensorRole role, int layer, uint32_t type, int64_t cols,
                 int64_t rows, float mean, float std, int64_t heads) {
    tensor_name_in(role, 1, layer, p[*n].name, sizeof p[*n].name);
    p[*n].type = type, p[*n].cols = cols, p[*n].rows = rows, p[*n].mean = mean, p[*n].std = std;
    p[*n].experts = heads; /* a 3-D tensor of `heads` matrices [rows, cols], as the experts' */
    (*n)++;
}

/* A layer's multi-head latent attention tensors, as llama.cpp's converter writes them today:
 * q (direct or low-rank), the latent projection and its norm, attn_k_b [n_head][kv_lora, nope],
 * attn_v_b [n_head][v, kv_lora], the output projection. */
static void add_mla(Plan *p, int *n, const SynthSpec *s, int l) {
    int64_t E = s->n_embd, H = s->n_head, hd = s->head_dim, hv = s->head_dim_v, R = s->kv_lora_rank;
    int64_t Rq = s->q_lora_rank, rot = s->n_rot, nope = hd - rot;
    if (Rq > 0) {
        plan(p, n, TN_ATTN_Q_A, l, s->type, E, Rq, 0, s->std, 1);
        plan(p, n, TN_ATTN_Q_A_NORM, l, Q_F32, Rq, 1, 1, 0.1f, 1);
        plan(p, n, TN_ATTN_Q_B, l, s->type, Rq, H * hd, 0, s->std, 1);
    } else {
        plan(p, n, TN_ATTN_Q, l, s->type, E, H * hd, 0, s->std, 1);
    }
    plan(p, n, TN_ATTN_KV_A_MQA, l, s->type, E, R + rot, 0, s->std, 1);
    plan(p, n, TN_ATTN_KV_A_NORM, l, Q_F32, R, 1, 1, 0.1f, 1);
    plan(p, n, TN_ATTN_K_B, l, s->type, nope, R, 0, s->std, H);
    plan(p, n, TN_ATTN_V_B, l, s->type, R, hv, 0, s->std, H);
    plan(p, n, TN_ATTN_OUT, l, s->type, H * hv, E, 0, s->std, 1);
}

int synth_write(const SynthSpec *s, const char *path, Err *err) {
    if (check_spec(s, path, err)) return -1;
    const ArchInfo *a = arch_info(s->arch);
    int64_t E = s->n_embd, Q = (int64_t)s->n_head * s->head_dim,
            KV = (int64_t)s->n_head_kv * s->head_dim, F = s->n_ff;
    GgufWriter *w = gw_new();
    /* the presets' published contexts: Llama 3.2 and Phi-3.5 131072, Qwen 32768 */
    const int n_ctx = s->n_ctx                                         ? s->n_ctx
                      : s->arch == ARCH_LLAMA || s->arch == ARCH_PHI3 ? 131072
                      : s->arch == ARCH_DEEPSEEK2                     ? 163840 /* DeepSeek-Coder-V2-Lite */
                                                                      : 32768;
    const int n_rot = s->n_rot ? s->n_rot : s->head_dim, orig = s->rope_orig_ctx ? s->rope_orig_ctx : 4096;
    Config c = {.arch = s->arch, .n_vocab = s->n_vocab, .n_embd = s->n_embd,
                      .n_layer = s->n_layer, .n_ff = s->n_ff, .n_head = s->n_head,
                      .n_head_kv = s->n_head_kv, .head_dim = s->head_dim,
                      .head_dim_v = a->mla ? s->head_dim_v : s->head_dim,
                      .n_rot = n_rot,
                      .kv_lora_rank = a->mla ? s->kv_lora_rank : 0, .q_lora_rank = a->mla ? s->q_lora_rank : 0,
                      .n_ctx = n_ctx, .rms_eps = s->rms_eps,
                      .rope_theta = s->rope_theta, .rope_scale = 1, .rope = a->rope_gguf,
                      .tied = s->tied || a->tied_always, .act = a->act,
                      /* Gemma 2/3: windows, caps and local base as the spec says */
                      .n_swa = s->n_swa, .swa_period = s->swa_period ? s->swa_period : a->swa_period,
                      .attn_softcap = s->attn_softcap, .final_softcap = s->final_softcap,
                      .rope_theta_swa = s->rope_theta_swa,
                      /* granite's multipliers */
                      .embd_scale = s->embd_scale, .attn_scale = s->attn_scale,
                      .residual_scale = s->residual_scale, .logit_scale = s->logit_scale,
                      .moe = {.n_expert = a->moe ? s->n_expert : 0, .n_expert_used = s->n_expert_used,
                              .n_ff_exp = s->n_ff_exp, .n_ff_shexp = s->n_ff_shexp,
                              .n_dense_lead = a->mla ? s->n_dense_lead : 0, .scale = 1}};
    if (s->rope_scaling != ROPE_SCALING_NONE) { /* config_gguf.h writes what llama.cpp reads */
        c.rope_scaling = s->rope_scaling, c.rope_orig_ctx = orig, c.rope_factor = s->rope_factor;
        c.yarn_beta_fast = s->yarn_beta_fast ? s->yarn_beta_fast : (float)YARN_BETA_FAST_DEFAULT;
        c.yarn_beta_slow = s->yarn_beta_slow ? s->yarn_beta_slow : (float)YARN_BETA_SLOW_DEFAULT;
        double attn = s->rope_attn_factor ? s->rope_attn_factor
                      : s->rope_scaling == ROPE_SCALING_YARN ? 1 : rope_longrope_attn_factor((double)n_ctx / orig, orig);
        c.rope_attn_factor = (float)(s->rope_scaling == ROPE_SCALING_YARN ? attn * rope_yarn_mscale(s->rope_factor, 1) : attn);
        if (a->mla && s->rope_scaling == ROPE_SCALING_YARN && s->yarn_mscale > 0) {
            /* deepseek2: yarn_log_multiplier; cos and sin by attn_factor alone (model/mla_load.h) */
            c.yarn_log_mul = s->yarn_mscale;
            c.rope_attn_factor = (float)attn;
        }
    } else {
        c.rope_attn_factor = s->rope_attn_factor; /* rope.scaling.attn_factor alone, when given */
    }
    GgufMeta *meta = gm_new();
    config_to_gguf(&c, "coldtok synth", CONFIG_KEYS_SYNTH, meta);
    gm_write(meta, w);
    gm_free(meta);
    if (!s->tokenizer) {
        write_vocab(w, s->n_vocab, s->arch == ARCH_LLAMA ? "llama-bpe" : "qwen2");
    } else if (write_real_vocab(w, s->tokenizer, s->n_vocab, path, err)) {
        gw_free(w);
        return -1;
    }
    const int64_t X = a->moe ? s->n_expert : 0, FE = s->n_ff_exp, FS = s->n_ff_shexp;

    /* tensors in llama.cpp's order; the optional ones a family requires (model/arch.h) */
    int cap = 8 + 32 * s->n_layer, n = 0;
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
#define ADD_EXPERTS(cols_, rows_, role, layer)                                                \
    do {                                                                                      \
        ADD(s->type, cols_, rows_, 0, mstd, role, layer);                                     \
        p[n - 1].experts = X;                                                                 \
    } while (0)
    ADD(s->type, E, s->n_vocab, 0, mstd, TN_TOKEN_EMBD, 0);
    if (s->rope_scaling == ROPE_SCALING_LONGROPE) { /* positive divisors, uniform */
        ADD(Q_F32, n_rot / 2, 1, 10, 3, TN_ROPE_FACTORS_LONG, 0);
        ADD(Q_F32, n_rot / 2, 1, 2, 0.5f, TN_ROPE_FACTORS_SHORT, 0);
    }
    for (int l = 0; l < s->n_layer; l++) {
        ADD(Q_F32, E, 1, 1, 0.1f, TN_ATTN_NORM, l);
        if (a->mla) { /* deepseek2: latent attention in the split form; the dense FFN below */
            add_mla(p, &n, s, l);
            ADD(Q_F32, E, 1, 1, 0.1f, TN_FFN_NORM, l);
            if (X > 0 && l >= s->n_dense_lead) { /* routed experts and the shared ones (no gate) */
                ADD(Q_F32, E, X, 0, mstd, TN_FFN_GATE_INP, l);
                ADD_EXPERTS(E, FE, TN_FFN_GATE_EXPS, l);
                ADD_EXPERTS(E, FE, TN_FFN_UP_EXPS, l);
                ADD_EXPERTS(FE, E, TN_FFN_DOWN_EXPS, l);
                if (FS > 0) {
                    ADD(s->type, E, FS, 0, mstd, TN_FFN_GATE_SHEXP, l);
                    ADD(s->type, E, FS, 0, mstd, TN_FFN_UP_SHEXP, l);
                    ADD(s->type, FS, E, 0, mstd, TN_FFN_DOWN_SHEXP, l);
                }
                continue;
            }
            ADD(s->type, E, F, 0, mstd, TN_FFN_GATE, l);
            ADD(s->type, E, F, 0, mstd, TN_FFN_UP, l);
            ADD(s->type, F, E, 0, mstd, TN_FFN_DOWN, l);
            continue;
        }
        if (WRITES(a->norm_bias)) ADD(Q_F32, E, 1, 0, 0.1f, TN_ATTN_NORM_BIAS, l);
        if (a->fused_qkv) {
            ADD(s->type, E, Q + 2 * KV, 0, mstd, TN_ATTN_QKV, l);
        } else {
            ADD(s->type, E, Q, 0, mstd, TN_ATTN_Q, l);
            ADD(s->type, E, KV, 0, mstd, TN_ATTN_K, l);
            ADD(s->type, E, KV, 0, mstd, TN_ATTN_V, l);
        }
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
        if (a->post_norms == TENSORS_REQUIRED) ADD(Q_F32, E, 1, 1, 0.1f, TN_ATTN_POST_NORM, l);
        ADD(Q_F32, E, 1, 1, 0.1f, TN_FFN_NORM, l);
        if (WRITES(a->norm_bias)) ADD(Q_F32, E, 1, 0, 0.1f, TN_FFN_NORM_BIAS, l);
        if (X > 0) { /* routed experts (router F32, as llama.cpp's quantizer keeps it), shared one */
            ADD(Q_F32, E, X, 0, mstd, TN_FFN_GATE_INP, l);
            ADD_EXPERTS(E, FE, TN_FFN_GATE_EXPS, l);
            ADD_EXPERTS(E, FE, TN_FFN_UP_EXPS, l);
            ADD_EXPERTS(FE, E, TN_FFN_DOWN_EXPS, l);
            if (FS > 0) {
                ADD(Q_F32, E, 1, 0, mstd, TN_FFN_GATE_INP_SHEXP, l);
                ADD(s->type, E, FS, 0, mstd, TN_FFN_GATE_SHEXP, l);
                ADD(s->type, E, FS, 0, mstd, TN_FFN_UP_SHEXP, l);
                ADD(s->type, FS, E, 0, mstd, TN_FFN_DOWN_SHEXP, l);
            }
            continue;
        }
        if (a->fused_gate_up) {
            ADD(s->type, E, 2 * F, 0, mstd, TN_FFN_GATE_UP, l);
        } else {
            if (a->act != ACT_GELU) ADD(s->type, E, F, 0, mstd, TN_FFN_GATE, l); /* ACT_GELU: no gate */
            ADD(s->type, E, F, 0, mstd, TN_FFN_UP, l);
        }
        ADD(s->type, F, E, 0, mstd, TN_FFN_DOWN, l);
        if (WRITES(a->ffn_bias)) {
            if (a->act != ACT_GELU) ADD(Q_F32, F, 1, 0, 0.1f, TN_FFN_GATE_BIAS, l);
            ADD(Q_F32, F, 1, 0, 0.1f, TN_FFN_UP_BIAS, l);
            ADD(Q_F32, E, 1, 0, 0.1f, TN_FFN_DOWN_BIAS, l);
        }
        if (a->post_norms == TENSORS_REQUIRED) ADD(Q_F32, E, 1, 1, 0.1f, TN_FFN_POST_NORM, l);
    }
    ADD(Q_F32, E, 1, 1, 0.1f, TN_OUTPUT_NORM, 0);
    if (WRITES(a->norm_bias)) ADD(Q_F32, E, 1, 0, 0.1f, TN_OUTPUT_NORM_BIAS, 0);
#undef WRITES
    if (!c.tied) ADD(s->type, E, s->n_vocab, 0, mstd, TN_OUTPUT, 0);
#undef ADD_EXPERTS
#undef ADD
    int r = 0;
    for (int i = 0; i < n && r == 0; i++) {
        int64_t ne[3] = {p[i].cols, p[i].rows, p[i].experts};
        int nd = p[i].experts > 1 ? 3 : p[i].rows > 1 ? 2 : 1;
        p[i].type = fit_type(p[i].type, p[i].cols);
        if (gw_add_tensor(w, p[i].name, p[i].type, nd, ne, err) < 0) r = -1;
        if (p[i].experts > 1) p[i].rows *= p[i].experts; /* the data: all experts' rows in a row */
    }
    /* written to a temporary beside PATH, renamed onto it when complete (common/util.h) */
    char *tmp = NULL;
    if (r == 0) r = out_temp(path, &tmp, err);
    if (r == 0) r = gw_begin(w, tmp, err);
    /* data, in chunks of whole rows of about 4 MiB */
    float *x = NULL;
    uint8_t *q = NULL;
    Pool pools[4] = {{0}};
    for (int i = 0; i < n && r == 0; i++) {
        uint64_t rng = s->seed * 0x2545f4914f6cdd1dull + (uint64_t)i;
        const Pool *pool = s->block_pool && qtype_block_elems(p[i].type) > 1 && p[i].mean == 0
                               ? pool_for(pools, 4, p[i].type, p[i].std, s->seed) : NULL;
        int64_t chunk = ((int64_t)1 << 20) / p[i].cols;
        if (chunk < 1) chunk = 1;
        if (chunk > p[i].rows) chunk = p[i].rows;
        x = xrealloc(x, (size_t)(chunk * p[i].cols) * sizeof(float));
        q = xrealloc(q, qtype_row_bytes(p[i].type, p[i].cols) * (size_t)chunk);
        for (int64_t r0 = 0; r0 < p[i].rows && r == 0; r0 += chunk) {
            int64_t nr = p[i].rows - r0 < chunk ? p[i].rows - r0 : chunk;
            if (pool) {
                fill_from_pool(pool, &rng, q, (size_t)(nr * p[i].cols / qtype_block_elems(p[i].type)));
                r = gw_data(w, q, qtype_row_bytes(p[i].type, p[i].cols) * (size_t)nr, err);
                continue;
            }
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
    for (int i = 0; i < 4; i++) free(pools[i].b);
    free(x);
    free(q);
    free(p);
    gw_free(w);
    if (r == 0) r = out_commit(tmp, path, err);
    else if (tmp) unlink(tmp); /* ours; whatever was at PATH stays */
    free(tmp);
    return r;
}
