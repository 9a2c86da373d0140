/* config_gguf: see config_gguf.h. */
#include "model/config_gguf.h"

#include <math.h>
#include <stdio.h>

#include "formats/hfnames.h"

/* When a key of a layout is written. */
typedef enum { ALWAYS, IF_HEAD_DIM_OWN, IF_ROPE_SCALED } When;

typedef struct {
    Hparam key;
    When when;
} Row;

static const Row CONVERT[] = {
    {HP_VOCAB_SIZE, ALWAYS},        {HP_CONTEXT_LENGTH, ALWAYS},
    {HP_EMBEDDING_LENGTH, ALWAYS},  {HP_BLOCK_COUNT, ALWAYS},
    {HP_FEED_FORWARD_LENGTH, ALWAYS}, {HP_HEAD_COUNT, ALWAYS},
    {HP_HEAD_COUNT_KV, ALWAYS},     {HP_ROPE_FREQ_BASE, ALWAYS},
    {HP_RMS_EPS, ALWAYS},           {HP_ROPE_DIMENSION_COUNT, ALWAYS},
    {HP_KEY_LENGTH, IF_HEAD_DIM_OWN}, {HP_VALUE_LENGTH, IF_HEAD_DIM_OWN},
    {HP_ROPE_SCALING_TYPE, IF_ROPE_SCALED}, {HP_ROPE_SCALING_FACTOR, IF_ROPE_SCALED},
};

static const Row SYNTH[] = {
    {HP_CONTEXT_LENGTH, ALWAYS},    {HP_EMBEDDING_LENGTH, ALWAYS},
    {HP_BLOCK_COUNT, ALWAYS},       {HP_FEED_FORWARD_LENGTH, ALWAYS},
    {HP_HEAD_COUNT, ALWAYS},        {HP_HEAD_COUNT_KV, ALWAYS},
    {HP_KEY_LENGTH, ALWAYS},        {HP_VALUE_LENGTH, ALWAYS},
    {HP_ROPE_DIMENSION_COUNT, ALWAYS}, {HP_ROPE_FREQ_BASE, ALWAYS},
    {HP_RMS_EPS, ALWAYS},           {HP_VOCAB_SIZE, ALWAYS},
    {HP_ROPE_SCALING_TYPE, IF_ROPE_SCALED}, {HP_ROPE_SCALING_FACTOR, IF_ROPE_SCALED},
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
    case HP_KEY_LENGTH:
    case HP_VALUE_LENGTH: gm_u32(out, key, (uint32_t)c->head_dim_v); break;
    case HP_ROPE_DIMENSION_COUNT: gm_u32(out, key, (uint32_t)c->n_rot); break;
    case HP_ROPE_FREQ_BASE: gm_f32(out, key, c->rope_theta); break;
    case HP_RMS_EPS: gm_f32(out, key, c->rms_eps); break;
    case HP_ROPE_SCALING_TYPE: gm_str(out, key, "linear"); break;
    case HP_ROPE_SCALING_FACTOR: gm_f32(out, key, c->rope_scale); break;
    case HP_ROPE_SCALING_ORIG_CTX: gm_u32(out, key, (uint32_t)c->rope_orig_ctx); break;
    case HP_ROPE_SCALING_YARN_BETA_FAST: gm_f32(out, key, c->yarn_beta_fast); break;
    case HP_ROPE_SCALING_YARN_BETA_SLOW: gm_f32(out, key, c->yarn_beta_slow); break;
    case HP_ROPE_SCALING_ATTN_FACTOR: /* written by rope_extension */
    case HP_ROPE_SCALE_LINEAR: /* older files' spelling: read, never written */
    case HP_COUNT: break;
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
        char key[160];
        snprintf(key, sizeof key, "%s.%s", arch, hparam_name(rows[i].key)->gguf);
        put(c, rows[i].key, key, out);
    }
    rope_extension(c, arch, out);
}
