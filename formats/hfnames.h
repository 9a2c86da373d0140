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

typedef enum {
    HP_VOCAB_SIZE, HP_CONTEXT_LENGTH, HP_EMBEDDING_LENGTH, HP_BLOCK_COUNT, HP_FEED_FORWARD_LENGTH,
    HP_HEAD_COUNT, HP_HEAD_COUNT_KV, HP_KEY_LENGTH, HP_VALUE_LENGTH, HP_ROPE_DIMENSION_COUNT,
    HP_ROPE_FREQ_BASE, HP_RMS_EPS, HP_ROPE_SCALING_TYPE, HP_ROPE_SCALING_FACTOR,
    HP_ROPE_SCALE_LINEAR,
    HP_LAYERNORM_EPS, HP_SLIDING_WINDOW,
    /* granite's multipliers */
    HP_EMBEDDING_SCALE, HP_ATTENTION_SCALE, HP_RESIDUAL_SCALE, HP_LOGIT_SCALE,
    HP_COUNT
} Hparam;

typedef struct {
    const char *gguf; /* metadata key after "ARCH." */
    const char *hf;   /* config.json key, or NULL (rope scaling is a nested object there) */
} HparamName;

/* The keys of a hyper-parameter (hp < HP_COUNT). */
const HparamName *hparam_name(Hparam hp);

#endif
