/* hfnames: the Hugging Face checkpoint conventions next to llama.cpp's GGUF ones, as data.
 *
 * Tensors: every tensor role a model may have, with its GGUF (llama.cpp) name and its HF
 * (transformers) name; "%d" stands for the layer. A role one convention lacks is NULL there:
 * rope_freqs is GGUF-only (an HF checkpoint derives it from config.json), rotary_emb.inv_freq an
 * HF buffer that converters drop. Two roles may share a GGUF name when the HF checkpoints of
 * different families name the tensor differently (ffn_up: mlp.up_proj, StarCoder2's mlp.c_fc).
 * Hyper-parameters: the GGUF metadata key of each (after "ARCH.") and the config.json key that
 * holds the same value, where there is a flat one.
 *
 * A new architecture's tensors and keys are new rows in hfnames.c (which of them a family has is
 * model/arch.h's business). No state, no allocation. */
#ifndef COLDTOK_HFNAMES_H
#define COLDTOK_HFNAMES_H

#include <stddef.h>

typedef enum {
    TN_TOKEN_EMBD, TN_OUTPUT_NORM, TN_OUTPUT, TN_ROPE_FREQS,
    TN_ATTN_NORM, TN_ATTN_Q, TN_ATTN_K, TN_ATTN_V, TN_ATTN_Q_BIAS, TN_ATTN_K_BIAS, TN_ATTN_V_BIAS,
    TN_ATTN_Q_NORM, TN_ATTN_K_NORM, TN_ATTN_OUT, TN_ATTN_OUT_BIAS,
    TN_FFN_NORM, TN_FFN_GATE, TN_FFN_UP, TN_FFN_DOWN,
    TN_HF_ROTARY_INV_FREQ,
    /* LayerNorm biases (starcoder2), the attention output's and the MLP's biases (starcoder2;
     * llama and granite when attention_bias / mlp_bias) */
    TN_ATTN_NORM_BIAS, TN_FFN_NORM_BIAS, TN_OUTPUT_NORM_BIAS,
    TN_FFN_GATE_BIAS, TN_FFN_UP_BIAS, TN_FFN_DOWN_BIAS,
    /* StarCoder2's MLP in its HF names (mlp.c_fc, mlp.c_proj), llama.cpp's ffn_up / ffn_down */
    TN_FFN_C_FC, TN_FFN_C_FC_BIAS, TN_FFN_C_PROJ, TN_FFN_C_PROJ_BIAS,
    /* Gemma 2/3's sandwich norms. Their HF names clash with llama's: there post_attention_layernorm
     * is the norm after attention (the FFN's input norm is pre_feedforward_layernorm), so a family
     * with post-norms (model/arch.h post_norms) loads its FFN input norm as TN_FFN_PRE_NORM (GGUF
     * name the same as TN_FFN_NORM's) and maps HF names with hf_tensor_role_for(.., 1, ..). */
    TN_ATTN_POST_NORM, TN_FFN_PRE_NORM, TN_FFN_POST_NORM,
    /* mixture of experts (model/moe.h): the router, the routed experts (in GGUF one 3-D tensor
     * [n_expert, rows, cols] per kind; in HF one tensor per expert: tensor_name_expert), the
     * shared expert and its gate */
    TN_FFN_GATE_INP, TN_FFN_GATE_EXPS, TN_FFN_UP_EXPS, TN_FFN_DOWN_EXPS,
    TN_FFN_GATE_SHEXP, TN_FFN_UP_SHEXP, TN_FFN_DOWN_SHEXP, TN_FFN_GATE_INP_SHEXP,
    /* multi-head latent attention (deepseek2); attn_k_b / attn_v_b are the per-head 3-D halves of
     * attn_kv_b that newer llama.cpp converters write (k_b transposed) */
    TN_ATTN_Q_A, TN_ATTN_Q_A_NORM, TN_ATTN_Q_B, TN_ATTN_KV_A_MQA, TN_ATTN_KV_A_NORM, TN_ATTN_KV_B,
    TN_ATTN_K_B, TN_ATTN_V_B,
    /* deepseek2's shared experts: llama.cpp's *_shexp names, transformers' mlp.shared_experts.* */
    TN_FFN_GATE_SHEXPS, TN_FFN_UP_SHEXPS, TN_FFN_DOWN_SHEXPS,
    /* phi3: q, k and v stacked in one matrix (rows q, then k, then v), gate and up likewise (rows
     * gate, then up: llama.cpp keeps the name ffn_up for the stacked pair); LongRoPE's divisors
     * of the RoPE frequencies (GGUF only: an HF config.json lists them under rope_scaling) */
    TN_ATTN_QKV, TN_ATTN_QKV_BIAS, TN_FFN_GATE_UP, TN_ROPE_FACTORS_SHORT, TN_ROPE_FACTORS_LONG,
    TN_COUNT
} TensorRole;

typedef struct {
    const char *gguf; /* llama.cpp's name, or NULL */
    const char *hf;   /* transformers' name, or NULL */
} TensorName;

/* The names of a role (role < TN_COUNT). */
const TensorName *tensor_name(TensorRole role);
/* The role's name in one convention (gguf 1: llama.cpp's, 0: transformers') for a layer, into
 * out; NULL (and out "") when that convention has no such tensor. */
const char *tensor_name_in(TensorRole role, int gguf, int layer, char *out, size_t size);
/* The role of a transformers tensor name, and its layer (-1 for a tensor of the whole model);
 * -1 when the name is none of the table's. */
int hf_tensor_role(const char *hf, int *layer);
/* The same for a family with sandwich norms (sandwich 1: post_attention_layernorm is
 * TN_ATTN_POST_NORM) or without (0: as hf_tensor_role). */
int hf_tensor_role_for(const char *hf, int sandwich, int *layer);
/* The transformers name of one routed expert's matrix (role TN_FFN_{GATE,UP,DOWN}_EXPS) of a
 * layer, e.g. model.layers.3.mlp.experts.7.up_proj.weight, into out; NULL for another role. */
const char *tensor_name_expert(TensorRole role, int layer, int expert, char *out, size_t size);
/* The role (TN_FFN_*_EXPS), layer and expert of such a name; -1 when it is none. */
int hf_expert_role(const char *hf, int *layer, int *expert);

typedef enum {
    HP_VOCAB_SIZE, HP_CONTEXT_LENGTH, HP_EMBEDDING_LENGTH, HP_BLOCK_COUNT, HP_FEED_FORWARD_LENGTH,
    HP_HEAD_COUNT, HP_HEAD_COUNT_KV, HP_KEY_LENGTH, HP_VALUE_LENGTH, HP_ROPE_DIMENSION_COUNT,
    HP_ROPE_FREQ_BASE, HP_RMS_EPS, HP_ROPE_SCALING_TYPE, HP_ROPE_SCALING_FACTOR,
    HP_ROPE_SCALE_LINEAR,
    HP_LAYERNORM_EPS, /* starcoder2 (HP_SLIDING_WINDOW: with Gemma's keys below) */
    /* granite's multipliers */
    HP_EMBEDDING_SCALE, HP_ATTENTION_SCALE, HP_RESIDUAL_SCALE, HP_LOGIT_SCALE,
    /* sliding windows, soft-caps, local RoPE base (Gemma 2/3) */
    HP_SLIDING_WINDOW, HP_SLIDING_WINDOW_PATTERN, HP_ATTN_SOFTCAP, HP_FINAL_SOFTCAP,
    HP_ROPE_FREQ_BASE_SWA,
    /* mixture of experts */
    HP_EXPERT_COUNT, HP_EXPERT_USED_COUNT, HP_EXPERT_FEED_FORWARD_LENGTH,
    HP_EXPERT_SHARED_FEED_FORWARD_LENGTH,
    /* multi-head latent attention (deepseek2) and the MoE keys llama.cpp requires of it */
    HP_Q_LORA_RANK, HP_KV_LORA_RANK, HP_KEY_LENGTH_MLA, HP_VALUE_LENGTH_MLA,
    HP_QK_NOPE_HEAD_DIM, HP_LEADING_DENSE_BLOCK_COUNT, HP_EXPERT_SHARED_COUNT,
    HP_EXPERT_WEIGHTS_SCALE, HP_EXPERT_WEIGHTS_NORM, HP_EXPERT_GATING_FUNC, HP_ROPE_SCALING_YARN_LOG_MUL,
    /* YaRN and LongRoPE (model/rope_scaling.h) */
    HP_ROPE_SCALING_ORIG_CTX, HP_ROPE_SCALING_ATTN_FACTOR, HP_ROPE_SCALING_YARN_BETA_FAST,
    HP_ROPE_SCALING_YARN_BETA_SLOW,
    HP_COUNT
} Hparam;

typedef struct {
    const char *gguf; /* metadata key after "ARCH." */
    const char *hf;   /* config.json key, or NULL (rope scaling is a nested object there) */
} HparamName;

/* The keys of a hyper-parameter (hp < HP_COUNT). */
const HparamName *hparam_name(Hparam hp);

#endif
