/* config_gguf: see config_gguf.h. */
#include "model/config_gguf.h"

#include <math.h>
#include <stdio.h>

#include "formats/hfnames.h"

/* When a key of a layout is written. */
typedef enum {
    ALWAYS, IF_HEAD_DIM_OWN, IF_ROPE_SCALED,
    IF_NORM_RMS, IF_NORM_LAYER, /* the family's norm (model/arch.h) */
    IF_MULTIPLIERS,             /* granite's scales */
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
    case HP_KEY_LENGTH:
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
    case HP_SLIDING_WINDOW: /* llama.cpp reads none for the families that have one here */
    case HP_ROPE_SCALING_TYPE: gm_str(out, key, "linear"); break;
    case HP_ROPE_SCALING_FACTOR: gm_f32(out, key, c->rope_scale); break;
    case HP_ROPE_SCALE_LINEAR: /* older files' spelling: read, never written */
    case HP_COUNT: break;
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
        const ArchInfo *a = arch_info(c->arch);
        if ((rows[i].when == IF_NORM_RMS && a->norm != NORM_RMS) ||
            (rows[i].when == IF_NORM_LAYER && a->norm != NORM_LAYER) ||
            (rows[i].when == IF_MULTIPLIERS && !a->multipliers))
            continue;
        char key[160];
        snprintf(key, sizeof key, "%s.%s", arch, hparam_name(rows[i].key)->gguf);
        put(c, rows[i].key, key, out);
    }
}
