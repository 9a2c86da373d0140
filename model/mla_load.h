/* mla_load: the hyper-parameters of deepseek2 (DeepSeek-V2, DeepSeek-Coder-V2) for model/model.c:
 * its multi-head latent attention (model/mla.h) and the layout of its mixture of experts
 * (model/moe.h), from GGUF keys or config.json. The tensors are model.c's (latent attention) and
 * model/moe_load.h's (experts).
 *
 * GGUF (llama.cpp): ARCH.attention.kv_lora_rank (required), q_lora_rank (0 or absent: a direct
 * attn_q), key_length_mla / value_length_mla (newer converters, whose key_length and
 * value_length describe llama.cpp's absorbed form) or else key_length / value_length (older
 * files); expert_count (absent: every layer dense), expert_used_count, expert_feed_forward_length,
 * expert_shared_count, leading_dense_block_count (default 0, as llama.cpp), expert_weights_norm,
 * expert_weights_scale, expert_gating_func (softmax only).
 * config.json (DeepseekV2Config): kv_lora_rank, q_lora_rank, qk_nope_head_dim, qk_rope_head_dim,
 * v_head_dim; n_routed_experts (null: every layer dense), num_experts_per_tok,
 * moe_intermediate_size, n_shared_experts, first_k_dense_replace, norm_topk_prob,
 * routed_scaling_factor; refused by name: attention_bias true, moe_layer_freq other than 1,
 * topk_method other than greedy, scoring_func other than softmax, and norm_topk_prob with a
 * routed_scaling_factor other than 1 (DeepSeek-V2's gate scales only unnormalised weights,
 * llama.cpp's graph scales both: the two disagree there).
 * In both, keys and values are decompressed per head, so n_head_kv = n_head; head_dim is
 * qk_nope + qk_rope, n_rot qk_rope, head_dim_v v_head_dim.
 *
 * No allocation. Errors: -1 with one line "PATH: problem" in *err. */
#ifndef COLDTOK_MLA_LOAD_H
#define COLDTOK_MLA_LOAD_H

#include <jansson.h>

#include "common/util.h"
#include "formats/gguf.h"
#include "model/model.h"

int mla_config_gguf(const Gguf *g, const char *arch, Config *c, const char *path, Err *err);
int mla_config_json(json_t *root, Config *c, const char *path, Err *err);

#endif
