/* hfnames: see hfnames.h. */
#include "formats/hfnames.h"

#include <stdio.h>
#include <string.h>

static const TensorName TENSORS[TN_COUNT] = {
    [TN_TOKEN_EMBD] = {"token_embd.weight", "model.embed_tokens.weight"},
    [TN_OUTPUT_NORM] = {"output_norm.weight", "model.norm.weight"},
    [TN_OUTPUT] = {"output.weight", "lm_head.weight"},
    [TN_ROPE_FREQS] = {"rope_freqs.weight", NULL},
    [TN_ATTN_NORM] = {"blk.%d.attn_norm.weight", "model.layers.%d.input_layernorm.weight"},
    [TN_ATTN_Q] = {"blk.%d.attn_q.weight", "model.layers.%d.self_attn.q_proj.weight"},
    [TN_ATTN_K] = {"blk.%d.attn_k.weight", "model.layers.%d.self_attn.k_proj.weight"},
    [TN_ATTN_V] = {"blk.%d.attn_v.weight", "model.layers.%d.self_attn.v_proj.weight"},
    [TN_ATTN_Q_BIAS] = {"blk.%d.attn_q.bias", "model.layers.%d.self_attn.q_proj.bias"},
    [TN_ATTN_K_BIAS] = {"blk.%d.attn_k.bias", "model.layers.%d.self_attn.k_proj.bias"},
    [TN_ATTN_V_BIAS] = {"blk.%d.attn_v.bias", "model.layers.%d.self_attn.v_proj.bias"},
    [TN_ATTN_Q_NORM] = {"blk.%d.attn_q_norm.weight", "model.layers.%d.self_attn.q_norm.weight"},
    [TN_ATTN_K_NORM] = {"blk.%d.attn_k_norm.weight", "model.layers.%d.self_attn.k_norm.weight"},
    [TN_ATTN_OUT] = {"blk.%d.attn_output.weight", "model.layers.%d.self_attn.o_proj.weight"},
    [TN_ATTN_OUT_BIAS] = {"blk.%d.attn_output.bias", "model.layers.%d.self_attn.o_proj.bias"},
    [TN_FFN_NORM] = {"blk.%d.ffn_norm.weight", "model.layers.%d.post_attention_layernorm.weight"},
    [TN_FFN_GATE] = {"blk.%d.ffn_gate.weight", "model.layers.%d.mlp.gate_proj.weight"},
    [TN_FFN_UP] = {"blk.%d.ffn_up.weight", "model.layers.%d.mlp.up_proj.weight"},
    [TN_FFN_DOWN] = {"blk.%d.ffn_down.weight", "model.layers.%d.mlp.down_proj.weight"},
    [TN_HF_ROTARY_INV_FREQ] = {NULL, "model.layers.%d.self_attn.rotary_emb.inv_freq"},
    [TN_ATTN_NORM_BIAS] = {"blk.%d.attn_norm.bias", "model.layers.%d.input_layernorm.bias"},
    [TN_FFN_NORM_BIAS] = {"blk.%d.ffn_norm.bias", "model.layers.%d.post_attention_layernorm.bias"},
    [TN_OUTPUT_NORM_BIAS] = {"output_norm.bias", "model.norm.bias"},
    [TN_FFN_GATE_BIAS] = {"blk.%d.ffn_gate.bias", "model.layers.%d.mlp.gate_proj.bias"},
    [TN_FFN_UP_BIAS] = {"blk.%d.ffn_up.bias", "model.layers.%d.mlp.up_proj.bias"},
    [TN_FFN_DOWN_BIAS] = {"blk.%d.ffn_down.bias", "model.layers.%d.mlp.down_proj.bias"},
    [TN_FFN_C_FC] = {"blk.%d.ffn_up.weight", "model.layers.%d.mlp.c_fc.weight"},
    [TN_FFN_C_FC_BIAS] = {"blk.%d.ffn_up.bias", "model.layers.%d.mlp.c_fc.bias"},
    [TN_FFN_C_PROJ] = {"blk.%d.ffn_down.weight", "model.layers.%d.mlp.c_proj.weight"},
    [TN_FFN_C_PROJ_BIAS] = {"blk.%d.ffn_down.bias", "model.layers.%d.mlp.c_proj.bias"},
};

static const HparamName HPARAMS[HP_COUNT] = {
    [HP_VOCAB_SIZE] = {"vocab_size", "vocab_size"},
    [HP_CONTEXT_LENGTH] = {"context_length", "max_position_embeddings"},
    [HP_EMBEDDING_LENGTH] = {"embedding_length", "hidden_size"},
    [HP_BLOCK_COUNT] = {"block_count", "num_hidden_layers"},
    [HP_FEED_FORWARD_LENGTH] = {"feed_forward_length", "intermediate_size"},
    [HP_HEAD_COUNT] = {"attention.head_count", "num_attention_heads"},
    [HP_HEAD_COUNT_KV] = {"attention.head_count_kv", "num_key_value_heads"},
    [HP_KEY_LENGTH] = {"attention.key_length", "head_dim"},
    [HP_VALUE_LENGTH] = {"attention.value_length", NULL},
    [HP_ROPE_DIMENSION_COUNT] = {"rope.dimension_count", NULL},
    [HP_ROPE_FREQ_BASE] = {"rope.freq_base", "rope_theta"},
    [HP_RMS_EPS] = {"attention.layer_norm_rms_epsilon", "rms_norm_eps"},
    [HP_ROPE_SCALING_TYPE] = {"rope.scaling.type", NULL},
    [HP_ROPE_SCALING_FACTOR] = {"rope.scaling.factor", NULL},
    [HP_ROPE_SCALE_LINEAR] = {"rope.scale_linear", NULL}, /* older GGUF files' linear factor */
    [HP_LAYERNORM_EPS] = {"attention.layer_norm_epsilon", "norm_epsilon"}, /* starcoder2 */
    /* llama.cpp reads no window for llama (mistral) or starcoder2: never written for them */
    [HP_SLIDING_WINDOW] = {"attention.sliding_window", "sliding_window"},
    [HP_EMBEDDING_SCALE] = {"embedding_scale", "embedding_multiplier"},
    [HP_ATTENTION_SCALE] = {"attention.scale", "attention_multiplier"},
    [HP_RESIDUAL_SCALE] = {"residual_scale", "residual_multiplier"},
    [HP_LOGIT_SCALE] = {"logit_scale", "logits_scaling"},
};

const TensorName *tensor_name(TensorRole role) { return &TENSORS[role]; }

const char *tensor_name_in(TensorRole role, int gguf, int layer, char *out, size_t size) {
    const char *fmt = gguf ? TENSORS[role].gguf : TENSORS[role].hf;
    if (size) out[0] = '\0';
    if (!fmt) return NULL;
    snprintf(out, size, fmt, layer);
    return out;
}

/* 1 when name is pattern with a layer number (>= 0, as sscanf's %d reads it) for its "%d". */
static int matches(const char *pattern, const char *name, int *layer) {
    const char *d = strstr(pattern, "%d");
    if (!d) {
        *layer = -1;
        return !strcmp(pattern, name);
    }
    const size_t pre = (size_t)(d - pattern);
    int l, n = 0;
    if (strncmp(name, pattern, pre) != 0 || sscanf(name + pre, "%d%n", &l, &n) != 1 || l < 0)
        return 0;
    *layer = l;
    return !strcmp(name + pre + n, d + 2);
}

int hf_tensor_role(const char *hf, int *layer) {
    for (int r = 0; r < TN_COUNT; r++)
        if (TENSORS[r].hf && matches(TENSORS[r].hf, hf, layer)) return r;
    return -1;
}

const HparamName *hparam_name(Hparam hp) { return &HPARAMS[hp]; }
