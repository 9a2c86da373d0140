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
    [TN_ATTN_POST_NORM] = {"blk.%d.post_attention_norm.weight",
                           "model.layers.%d.post_attention_layernorm.weight"},
    [TN_FFN_PRE_NORM] = {"blk.%d.ffn_norm.weight", "model.layers.%d.pre_feedforward_layernorm.weight"},
    [TN_FFN_POST_NORM] = {"blk.%d.post_ffw_norm.weight",
                          "model.layers.%d.post_feedforward_layernorm.weight"},
    [TN_ATTN_Q_A] = {"blk.%d.attn_q_a.weight", "model.layers.%d.self_attn.q_a_proj.weight"},
    [TN_ATTN_Q_A_NORM] = {"blk.%d.attn_q_a_norm.weight", "model.layers.%d.self_attn.q_a_layernorm.weight"},
    [TN_ATTN_Q_B] = {"blk.%d.attn_q_b.weight", "model.layers.%d.self_attn.q_b_proj.weight"},
    [TN_ATTN_KV_A_MQA] = {"blk.%d.attn_kv_a_mqa.weight", "model.layers.%d.self_attn.kv_a_proj_with_mqa.weight"},
    [TN_ATTN_KV_A_NORM] = {"blk.%d.attn_kv_a_norm.weight", "model.layers.%d.self_attn.kv_a_layernorm.weight"},
    [TN_ATTN_KV_B] = {"blk.%d.attn_kv_b.weight", "model.layers.%d.self_attn.kv_b_proj.weight"},
    [TN_ATTN_K_B] = {"blk.%d.attn_k_b.weight", NULL},
    [TN_ATTN_V_B] = {"blk.%d.attn_v_b.weight", NULL},
    [TN_FFN_GATE_SHEXPS] = {"blk.%d.ffn_gate_shexp.weight", "model.layers.%d.mlp.shared_experts.gate_proj.weight"},
    [TN_FFN_UP_SHEXPS] = {"blk.%d.ffn_up_shexp.weight", "model.layers.%d.mlp.shared_experts.up_proj.weight"},
    [TN_FFN_DOWN_SHEXPS] = {"blk.%d.ffn_down_shexp.weight", "model.layers.%d.mlp.shared_experts.down_proj.weight"},
    [TN_FFN_GATE_INP] = {"blk.%d.ffn_gate_inp.weight", "model.layers.%d.mlp.gate.weight"},
    [TN_FFN_GATE_EXPS] = {"blk.%d.ffn_gate_exps.weight", NULL}, /* HF: one per expert, below */
    [TN_FFN_UP_EXPS] = {"blk.%d.ffn_up_exps.weight", NULL},
    [TN_FFN_DOWN_EXPS] = {"blk.%d.ffn_down_exps.weight", NULL},
    [TN_FFN_GATE_SHEXP] = {"blk.%d.ffn_gate_shexp.weight", "model.layers.%d.mlp.shared_expert.gate_proj.weight"},
    [TN_FFN_UP_SHEXP] = {"blk.%d.ffn_up_shexp.weight", "model.layers.%d.mlp.shared_expert.up_proj.weight"},
    [TN_FFN_DOWN_SHEXP] = {"blk.%d.ffn_down_shexp.weight", "model.layers.%d.mlp.shared_expert.down_proj.weight"},
    [TN_FFN_GATE_INP_SHEXP] = {"blk.%d.ffn_gate_inp_shexp.weight", "model.layers.%d.mlp.shared_expert_gate.weight"},
    [TN_ATTN_QKV] = {"blk.%d.attn_qkv.weight", "model.layers.%d.self_attn.qkv_proj.weight"},
    [TN_ATTN_QKV_BIAS] = {"blk.%d.attn_qkv.bias", "model.layers.%d.self_attn.qkv_proj.bias"},
    [TN_FFN_GATE_UP] = {"blk.%d.ffn_up.weight", "model.layers.%d.mlp.gate_up_proj.weight"},
    [TN_ROPE_FACTORS_SHORT] = {"rope_factors_short.weight", NULL},
    [TN_ROPE_FACTORS_LONG] = {"rope_factors_long.weight", NULL},
};

/* The per-expert transformers names of the routed experts' roles. */
static const struct {
    TensorRole role;
    const char *proj;
} EXPERT_PROJ[] = {
    {TN_FFN_GATE_EXPS, "gate_proj"}, {TN_FFN_UP_EXPS, "up_proj"}, {TN_FFN_DOWN_EXPS, "down_proj"},
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
    [HP_EMBEDDING_SCALE] = {"embedding_scale", "embedding_multiplier"},
    [HP_ATTENTION_SCALE] = {"attention.scale", "attention_multiplier"},
    [HP_RESIDUAL_SCALE] = {"residual_scale", "residual_multiplier"},
    [HP_LOGIT_SCALE] = {"logit_scale", "logits_scaling"},
    /* llama.cpp reads no window for llama (mistral) or starcoder2: never written for them */
    [HP_SLIDING_WINDOW] = {"attention.sliding_window", "sliding_window"},
    [HP_SLIDING_WINDOW_PATTERN] = {"attention.sliding_window_pattern", "sliding_window_pattern"},
    [HP_ATTN_SOFTCAP] = {"attn_logit_softcapping", "attn_logit_softcapping"},
    [HP_FINAL_SOFTCAP] = {"final_logit_softcapping", "final_logit_softcapping"},
    [HP_ROPE_FREQ_BASE_SWA] = {"rope.freq_base_swa", "rope_local_base_freq"},
    [HP_EXPERT_COUNT] = {"expert_count", "num_experts"},
    [HP_EXPERT_USED_COUNT] = {"expert_used_count", "num_experts_per_tok"},
    [HP_EXPERT_FEED_FORWARD_LENGTH] = {"expert_feed_forward_length", "moe_intermediate_size"},
    [HP_EXPERT_SHARED_FEED_FORWARD_LENGTH] = {"expert_shared_feed_forward_length",
                                              "shared_expert_intermediate_size"},
    [HP_Q_LORA_RANK] = {"attention.q_lora_rank", "q_lora_rank"},
    [HP_KV_LORA_RANK] = {"attention.kv_lora_rank", "kv_lora_rank"},
    [HP_KEY_LENGTH_MLA] = {"attention.key_length_mla", NULL},
    [HP_VALUE_LENGTH_MLA] = {"attention.value_length_mla", "v_head_dim"},
    [HP_QK_NOPE_HEAD_DIM] = {NULL, "qk_nope_head_dim"}, /* GGUF: key_length(_mla) - rope dims */
    [HP_LEADING_DENSE_BLOCK_COUNT] = {"leading_dense_block_count", "first_k_dense_replace"},
    [HP_EXPERT_SHARED_COUNT] = {"expert_shared_count", "n_shared_experts"},
    [HP_EXPERT_WEIGHTS_SCALE] = {"expert_weights_scale", "routed_scaling_factor"},
    [HP_EXPERT_WEIGHTS_NORM] = {"expert_weights_norm", "norm_topk_prob"},
    [HP_EXPERT_GATING_FUNC] = {"expert_gating_func", "scoring_func"}, /* GGUF 1 softmax, 2 sigmoid */
    [HP_ROPE_SCALING_YARN_LOG_MUL] = {"rope.scaling.yarn_log_multiplier", NULL}, /* 0.1 mscale_all_dim */
    [HP_ROPE_SCALING_ORIG_CTX] = {"rope.scaling.original_context_length", NULL},
    [HP_ROPE_SCALING_ATTN_FACTOR] = {"rope.scaling.attn_factor", NULL},
    [HP_ROPE_SCALING_YARN_BETA_FAST] = {"rope.scaling.yarn_beta_fast", NULL},
    [HP_ROPE_SCALING_YARN_BETA_SLOW] = {"rope.scaling.yarn_beta_slow", NULL},
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

int hf_tensor_role_for(const char *hf, int sandwich, int *layer) {
    for (int r = 0; r < TN_COUNT; r++) {
        if (sandwich ? r == TN_FFN_NORM : r == TN_ATTN_POST_NORM) continue; /* same HF name */
        if (TENSORS[r].hf && matches(TENSORS[r].hf, hf, layer)) return r;
    }
    return -1;
}

const HparamName *hparam_name(Hparam hp) { return &HPARAMS[hp]; }

const char *tensor_name_expert(TensorRole role, int layer, int expert, char *out, size_t size) {
    if (size) out[0] = '\0';
    for (size_t i = 0; i < sizeof EXPERT_PROJ / sizeof EXPERT_PROJ[0]; i++)
        if (EXPERT_PROJ[i].role == role) {
            snprintf(out, size, "model.layers.%d.mlp.experts.%d.%s.weight", layer, expert, EXPERT_PROJ[i].proj);
            return out;
        }
    return NULL;
}

int hf_expert_role(const char *hf, int *layer, int *expert) {
    int l, x, n = 0;
    char proj[32];
    if (sscanf(hf, "model.layers.%d.mlp.experts.%d.%31[a-z_].weight%n", &l, &x, proj, &n) != 3 ||
        hf[n] != '\0' || l < 0 || x < 0)
        return -1;
    for (size_t i = 0; i < sizeof EXPERT_PROJ / sizeof EXPERT_PROJ[0]; i++)
        if (!strcmp(EXPERT_PROJ[i].proj, proj)) {
            *layer = l, *expert = x;
            return (int)EXPERT_PROJ[i].role;
        }
    return -1;
}
