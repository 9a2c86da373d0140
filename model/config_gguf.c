/* config_gguf: see config_gguf.h. */
#include "model/config_gguf.h"

#include <math.h>
#include <stdio.h>

#include "formats/gguf.h" /* GGUF_BOOL */
#include "formats/hfnames.h"

/* When a key of a layout is written. */
typedef enum {
    ALWAYS, IF_HEAD_DIM_OWN, IF_ROPE_SCALED,
    IF_SWA, IF_SWA_PATTERN, IF_ATTN_SOFTCAP, IF_FINAL_SOFTCAP, IF_ROPE_SWA, /* Gemma 2/3 */
    IF_EXPERTS, IF_SHARED_EXPERT, /* mixtures of experts */
    IF_NORM_RMS, IF_NORM_LAYER,   /* the family's norm (model/arch.h) */
    IF_MULTIPLIERS,               /* granite's scales */
} When;

typedef struct {
    Hparam key;
    When when;
} Row;

static const Row CONVERT[] = {
    {HP_VOCAB_SIZE, ALWAYS},        {HP_CONTEXT_LENGTH, ALWAYS},
    {HP_EMBEDDING_LENGTH, ALWAYS},  {HP_BLOCK_COUNT, ALWAYS},
    {HP_FEED_FORWARD_LENGTH, ALWAYS}, {HP_HEAD_COUNT, ALWAYS},
    {HP_HEAD_COUNT_KV, ALWAYS},     {HP_ROPE_FREQ_BASE, ALWAYS},
    {HP_RMS_EPS, IF_NORM_RMS},      {HP_LAYERNORM_EPS, IF_NORM_LAYER},
    {HP_ROPE_DIMENSION_COUNT, ALWAYS},
    {HP_KEY_LENGTH, IF_HEAD_DIM_OWN}, {HP_VALUE_LENGTH, IF_HEAD_DIM_OWN},
    {HP_ROPE_SCALING_TYPE, IF_ROPE_SCALED}, {HP_ROPE_SCALING_FACTOR, IF_ROPE_SCALED},
    {HP_SLIDING_WINDOW, IF_SWA}, {HP_SLIDING_WINDOW_PATTERN, IF_SWA_PATTERN},
    {HP_ATTN_SOFTCAP, IF_ATTN_SOFTCAP}, {HP_FINAL_SOFTCAP, IF_FINAL_SOFTCAP},
    {HP_ROPE_FREQ_BASE_SWA, IF_ROPE_SWA},
    {HP_EXPERT_COUNT, IF_EXPERTS},  {HP_EXPERT_USED_COUNT, IF_EXPERTS},
    {HP_EXPERT_FEED_FORWARD_LENGTH, IF_EXPERTS},
    {HP_EXPERT_SHARED_FEED_FORWARD_LENGTH, IF_SHARED_EXPERT},
    {HP_EMBEDDING_SCALE, IF_MULTIPLIERS}, {HP_ATTENTION_SCALE, IF_MULTIPLIERS},
    {HP_RESIDUAL_SCALE, IF_MULTIPLIERS}, {HP_LOGIT_SCALE, IF_MULTIPLIERS},
};

static const Row SYNTH[] = {
    {HP_CONTEXT_LENGTH, ALWAYS},    {HP_EMBEDDING_LENGTH, ALWAYS},
    {HP_BLOCK_COUNT, ALWAYS},       {HP_FEED_FORWARD_LENGTH, ALWAYS},
    {HP_HEAD_COUNT, ALWAYS},        {HP_HEAD_COUNT_KV, ALWAYS},
    {HP_KEY_LENGTH, ALWAYS},        {HP_VALUE_LENGTH, ALWAYS},
    {HP_ROPE_DIMENSION_COUNT, ALWAYS}, {HP_ROPE_FREQ_BASE, ALWAYS},
    {HP_RMS_EPS, IF_NORM_RMS},      {HP_LAYERNORM_EPS, IF_NORM_LAYER},
    {HP_VOCAB_SIZE, ALWAYS},
    {HP_ROPE_SCALING_TYPE, IF_ROPE_SCALED}, {HP_ROPE_SCALING_FACTOR, IF_ROPE_SCALED},
    {HP_SLIDING_WINDOW, IF_SWA}, {HP_SLIDING_WINDOW_PATTERN, IF_SWA_PATTERN},
    {HP_ATTN_SOFTCAP, IF_ATTN_SOFTCAP}, {HP_FINAL_SOFTCAP, IF_FINAL_SOFTCAP},
    {HP_ROPE_FREQ_BASE_SWA, IF_ROPE_SWA},
    {HP_EXPERT_COUNT, IF_EXPERTS},  {HP_EXPERT_USED_COUNT, IF_EXPERTS},
    {HP_EXPERT_FEED_FORWARD_LENGTH, IF_EXPERTS},
    {HP_EXPERT_SHARED_FEED_FORWARD_LENGTH, IF_SHARED_EXPERT},
    {HP_EMBEDDING_SCALE, IF_MULTIPLIERS}, {HP_ATTENTION_SCALE, IF_MULTIPLIERS},
    {HP_RESIDUAL_SCALE, IF_MULTIPLIERS}, {HP_LOGIT_SCALE, IF_MULTIPLIERS},
};

/* The value of one key, in its GGUF type. */
static void put(const Config *c, Hparam hp, const char *key, GgufMeta *out) {
    switch (hp) {
    case HP_VOCAB_SIZE: gm_u32(out, key, (uint32_t)c->n_vocab); break;
    case HP_CONTEXT_LENGTH: gm_u32(out, key, (uint32_t)(c->n_ctx > 0 ? c->n_ctx : 2048)); break;
    case HP_EMBEDDING_LENGTH: gm_u32(out, key, (uint32_t)c->n_embd); break;
    case HP_BLOCK_COUNT: gm_u32(out, key, (uint32_t)c->n_layer); break;
    case HP_FEED_FORWARD_LENGTH: gm_u32(out, key, (uint32_t)c->n_ff); break;
    case HP_HEAD_COUNT: gm_u32(out, key, (uint32_t)c->n_head); break;
    case HP_HEAD_COUNT_KV: gm_u32(out, key, (uint32_t)c->n_head_kv); break;
    case HP_KEY_LENGTH: gm_u32(out, key, (uint32_t)c->head_dim); break;
    case HP_VALUE_LENGTH: gm_u32(out, key, (uint32_t)c->head_dim_v); break;
    case HP_ROPE_DIMENSION_COUNT: gm_u32(out, key, (uint32_t)c->n_rot); break;
    case HP_ROPE_FREQ_BASE: gm_f32(out, key, c->rope_theta); break;
    case HP_RMS_EPS:
    case HP_LAYERNORM_EPS: gm_f32(out, key, c->rms_eps); break;
    /* granite: 0 (none) is 1; the attention scale's 0 (1/sqrt(head_dim)) is written as that */
    case HP_EMBEDDING_SCALE: gm_f32(out, key, c->embd_scale > 0 ? c->embd_scale : 1); break;
    case HP_ATTENTION_SCALE:
        gm_f32(out, key, c->attn_scale > 0 ? c->attn_scale : 1 / sqrtf((float)c->head_dim));
        break;
    case HP_RESIDUAL_SCALE: gm_f32(out, key, c->residual_scale > 0 ? c->residual_scale : 1); break;
    case HP_LOGIT_SCALE: gm_f32(out, key, c->logit_scale > 0 ? c->logit_scale : 1); break;
    case HP_ROPE_SCALING_TYPE: gm_str(out, key, "linear"); break;
    case HP_ROPE_SCALING_FACTOR: gm_f32(out, key, c->rope_scale); break;
    case HP_SLIDING_WINDOW: gm_u32(out, key, (uint32_t)c->n_swa); break;
    case HP_SLIDING_WINDOW_PATTERN: gm_u32(out, key, (uint32_t)c->swa_period); break;
    case HP_ATTN_SOFTCAP: gm_f32(out, key, c->attn_softcap); break;
    case HP_FINAL_SOFTCAP: gm_f32(out, key, c->final_softcap); break;
    case HP_ROPE_FREQ_BASE_SWA: gm_f32(out, key, c->rope_theta_swa); break;
    case HP_EXPERT_COUNT: gm_u32(out, key, (uint32_t)c->moe.n_expert); break;
    case HP_EXPERT_USED_COUNT: gm_u32(out, key, (uint32_t)c->moe.n_expert_used); break;
    case HP_EXPERT_FEED_FORWARD_LENGTH: gm_u32(out, key, (uint32_t)c->moe.n_ff_exp); break;
    case HP_EXPERT_SHARED_FEED_FORWARD_LENGTH: gm_u32(out, key, (uint32_t)c->moe.n_ff_shexp); break;
    case HP_Q_LORA_RANK: gm_u32(out, key, (uint32_t)c->q_lora_rank); break;
    case HP_KV_LORA_RANK: gm_u32(out, key, (uint32_t)c->kv_lora_rank); break;
    case HP_KEY_LENGTH_MLA: gm_u32(out, key, (uint32_t)c->head_dim); break;
    case HP_VALUE_LENGTH_MLA: gm_u32(out, key, (uint32_t)c->head_dim_v); break;
    case HP_LEADING_DENSE_BLOCK_COUNT: gm_u32(out, key, (uint32_t)c->moe.n_dense_lead); break;
    case HP_EXPERT_SHARED_COUNT: /* deepseek2: the shared experts, each n_ff_exp wide */
        gm_u32(out, key, (uint32_t)(c->moe.n_ff_exp > 0 ? c->moe.n_ff_shexp / c->moe.n_ff_exp : 0));
        break;
    case HP_EXPERT_WEIGHTS_SCALE: gm_f32(out, key, c->moe.scale); break;
    case HP_EXPERT_WEIGHTS_NORM: { /* a GGUF bool: one byte */
        Buf b = {0};
        buf_putc(&b, (char)(c->moe.norm_topk != 0));
        gm_take(out, key, GGUF_BOOL, &b);
        buf_free(&b);
        break;
    }
    case HP_EXPERT_GATING_FUNC: gm_u32(out, key, c->moe.gating == MOE_GATING_SOFTMAX ? 1 : 2); break;
    case HP_ROPE_SCALING_YARN_LOG_MUL: gm_f32(out, key, 0.1f * c->yarn_log_mul); break;
    case HP_QK_NOPE_HEAD_DIM: /* config.json only */
    case HP_ROPE_SCALING_ORIG_CTX: gm_u32(out, key, (uint32_t)c->rope_orig_ctx); break;
    case HP_ROPE_SCALING_YARN_BETA_FAST: gm_f32(out, key, c->yarn_beta_fast); break;
    case HP_ROPE_SCALING_YARN_BETA_SLOW: gm_f32(out, key, c->yarn_beta_slow); break;
    case HP_ROPE_SCALING_ATTN_FACTOR: /* written by rope_extension */
    case HP_ROPE_SCALE_LINEAR: /* older files' spelling: read, never written */
    case HP_COUNT: break;
    }
}

/* Whether a key of the sliding-window, soft-cap, expert, norm or multiplier kinds is written for c
 * (the others: 1). */
static int written(const Config *c, When when) {
    const ArchInfo *a = arch_info(c->arch);
    switch (when) {
    case IF_SWA: return c->n_swa > 0;
    case IF_SWA_PATTERN: return c->n_swa > 0 && a && c->swa_period != a->swa_period;
    case IF_ATTN_SOFTCAP: return c->attn_softcap > 0;
    case IF_FINAL_SOFTCAP: return c->final_softcap > 0;
    case IF_ROPE_SWA: return c->n_swa > 0 && c->rope_theta_swa > 0;
    case IF_EXPERTS: return c->moe.n_expert > 0;
    case IF_SHARED_EXPERT: return c->moe.n_ff_shexp > 0;
    case IF_NORM_RMS: return a && a->norm == NORM_RMS;
    case IF_NORM_LAYER: return a && a->norm == NORM_LAYER;
    case IF_MULTIPLIERS: return a && a->multipliers;
    default: return 1;
    }
}

static void put_key(const Config *c, const char *arch, Hparam hp, GgufMeta *out) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, hparam_name(hp)->gguf);
    put(c, hp, key, out);
}

/* YaRN and LongRoPE as llama.cpp reads them (model/model.c's gguf_rope_extension): the type, the
 * factor (YaRN), the original context, the beta keys when not the defaults, and
 * rope.scaling.attn_factor, the part of the attention factor llama.cpp does not derive itself
 * (for YaRN it multiplies 0.1 ln(factor) + 1). LongRoPE's factors are tensors (the writers'). */
static void rope_extension(const Config *c, const char *arch, GgufMeta *out) {
    char key[160];
    if (c->rope_scaling == ROPE_SCALING_NONE) { /* an attention factor alone (llama.cpp applies it) */
        if (c->rope_attn_factor > 0 && c->rope_attn_factor != 1) {
            snprintf(key, sizeof key, "%s.%s", arch, hparam_name(HP_ROPE_SCALING_ATTN_FACTOR)->gguf);
            gm_f32(out, key, c->rope_attn_factor);
        }
        return;
    }
    snprintf(key, sizeof key, "%s.%s", arch, hparam_name(HP_ROPE_SCALING_TYPE)->gguf);
    gm_str(out, key, rope_scaling_name(c->rope_scaling));
    double attn = c->rope_attn_factor > 0 ? c->rope_attn_factor : 1;
    if (c->rope_scaling == ROPE_SCALING_YARN) {
        snprintf(key, sizeof key, "%s.%s", arch, hparam_name(HP_ROPE_SCALING_FACTOR)->gguf);
        gm_f32(out, key, c->rope_factor);
        attn /= rope_yarn_mscale(c->rope_factor, 1);
        if (c->yarn_beta_fast != YARN_BETA_FAST_DEFAULT) put_key(c, arch, HP_ROPE_SCALING_YARN_BETA_FAST, out);
        if (c->yarn_beta_slow != YARN_BETA_SLOW_DEFAULT) put_key(c, arch, HP_ROPE_SCALING_YARN_BETA_SLOW, out);
    }
    if (c->rope_orig_ctx > 0) put_key(c, arch, HP_ROPE_SCALING_ORIG_CTX, out);
    if (fabs(attn - 1) > 1e-7) {
        snprintf(key, sizeof key, "%s.%s", arch, hparam_name(HP_ROPE_SCALING_ATTN_FACTOR)->gguf);
        gm_f32(out, key, (float)attn);
    }
}

/* One key ARCH.KEY of hyper-parameter hp. */
static void mla_put(const Config *c, Hparam hp, GgufMeta *out) { put_key(c, arch_name(c->arch), hp, out); }

/* deepseek2's multi-head latent attention. llama.cpp's loader wants q_lora_rank unless the model
 * has DeepSeek-V2-Lite's 27 layers (0: a direct attn_q), and the expert keys even when every
 * layer is dense. CONVERT (attn_kv_b kept whole): key/value_length are the per-head widths and
 * head_count_kv n_head, as older converters wrote. SYNTH (attn_k_b / attn_v_b, as newer
 * converters write): key_length = kv_lora_rank + rope dims, value_length = kv_lora_rank,
 * head_count_kv 1 (llama.cpp's absorbed form), the per-head widths in *_mla. */
static void mla_keys(const Config *c, ConfigKeyLayout layout, GgufMeta *out) {
    static const Hparam common[] = {HP_Q_LORA_RANK, HP_KV_LORA_RANK, HP_LEADING_DENSE_BLOCK_COUNT,
                                    HP_EXPERT_FEED_FORWARD_LENGTH, HP_EXPERT_SHARED_COUNT};
    Config k = *c; /* every layer dense: the converter writes intermediate_size as the expert width */
    if (k.moe.n_expert == 0) k.moe.n_ff_exp = c->n_ff, k.moe.n_ff_shexp = 0, k.moe.n_dense_lead = c->n_layer;
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) mla_put(&k, common[i], out);
    if (c->rope_scaling == ROPE_SCALING_YARN && c->yarn_log_mul > 0) {
        /* llama.cpp's deepseek2 with yarn_log_multiplier (0.1 mscale_all_dim, as its converter
         * writes it) scales cos and sin by rope.scaling.attn_factor alone, not by the
         * 0.1 ln(factor) + 1 that rope_extension divided out */
        mla_put(c, HP_ROPE_SCALING_YARN_LOG_MUL, out);
        char key[160];
        snprintf(key, sizeof key, "%s.%s", arch_name(c->arch), hparam_name(HP_ROPE_SCALING_ATTN_FACTOR)->gguf);
        if (fabs(c->rope_attn_factor - 1) > 1e-7) gm_f32(out, key, c->rope_attn_factor);
        else gm_remove(out, key);
    }
    if (c->moe.n_expert > 0) { /* as the converter: the scale always, the norm when true */
        mla_put(c, HP_EXPERT_WEIGHTS_SCALE, out);
        if (c->moe.norm_topk) mla_put(c, HP_EXPERT_WEIGHTS_NORM, out);
    }
    if (layout == CONFIG_KEYS_CONVERT) {
        mla_put(c, HP_KEY_LENGTH, out);
        mla_put(c, HP_VALUE_LENGTH, out);
        mla_put(c, HP_HEAD_COUNT_KV, out);
        return;
    }
    mla_put(c, HP_KEY_LENGTH_MLA, out);
    mla_put(c, HP_VALUE_LENGTH_MLA, out);
    Config absorbed = *c;
    absorbed.head_dim = c->kv_lora_rank + c->n_rot;
    absorbed.head_dim_v = c->kv_lora_rank;
    absorbed.n_head_kv = 1;
    mla_put(&absorbed, HP_KEY_LENGTH, out);
    mla_put(&absorbed, HP_VALUE_LENGTH, out);
    mla_put(&absorbed, HP_HEAD_COUNT_KV, out);
}

void config_to_gguf(const Config *c, const char *name, ConfigKeyLayout layout, GgufMeta *out) {
    const char *arch = arch_name(c->arch);
    gm_str(out, "general.architecture", arch);
    gm_str(out, "general.name", name);
    const Row *rows = layout == CONFIG_KEYS_SYNTH ? SYNTH : CONVERT;
    const size_t n = layout == CONFIG_KEYS_SYNTH ? sizeof SYNTH / sizeof SYNTH[0]
                                                 : sizeof CONVERT / sizeof CONVERT[0];
    for (size_t i = 0; i < n; i++) {
        if (rows[i].when == IF_HEAD_DIM_OWN && c->head_dim * c->n_head == c->n_embd &&
            c->head_dim_v == c->head_dim)
            continue;
        if (rows[i].when == IF_ROPE_SCALED && c->rope_scale == 1) continue;
        if (!written(c, rows[i].when)) continue;
        char key[160];
        snprintf(key, sizeof key, "%s.%s", arch, hparam_name(rows[i].key)->gguf);
        put(c, rows[i].key, key, out);
    }
    rope_extension(c, arch, out);
    if (c->kv_lora_rank > 0) mla_keys(c, layout, out);
}
