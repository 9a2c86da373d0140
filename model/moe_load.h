/* moe_load: the mixture-of-experts part of loading a model (model/model.c calls it): the MoE
 * hyper-parameters from GGUF keys or config.json, and each expert layer's tensors (MoeLayer).
 *
 * GGUF (llama.cpp): ARCH.expert_count, expert_used_count (required), expert_feed_forward_length
 * (n_ff / expert_used_count when absent, as llama.cpp), expert_shared_feed_forward_length (n_ff
 * when absent, for a family with a shared expert). The routed experts are 3-D tensors
 * blk.N.ffn_{gate,up,down}_exps.weight of ne [cols, rows, n_expert]; each expert becomes a Tensor
 * pointing at its slice of the mapping (no copy). The router blk.N.ffn_gate_inp.weight [n_expert,
 * n_embd]; the shared expert ffn_{gate,up,down}_shexp and its gate ffn_gate_inp_shexp ([n_embd],
 * read as a [1, n_embd] matrix).
 * config.json (transformers): num_experts, num_experts_per_tok, moe_intermediate_size,
 * shared_expert_intermediate_size (a family with a shared expert), norm_topk_prob (default false,
 * as the config classes); decoder_sparse_step other than 1 and a non-empty mlp_only_layers (dense
 * layers between the expert ones) are refused naming the key. Tensors mlp.gate.weight,
 * mlp.experts.E.{gate,up,down}_proj.weight, mlp.shared_expert.*, mlp.shared_expert_gate.weight.
 *
 * How the router mixes (gating, norm_topk, scale, shared-expert gate) comes from the family's row
 * in model/arch.h (GGUF) or from config.json (norm_topk_prob); dense lead layers (n_dense_lead)
 * are 0 for the Qwen families.
 *
 * Reading: the expert tensors' pages get no read-around (MADV_RANDOM: a fault reads its page, not
 * the disk's read_ahead_kb around it), and the layer's dense matrices and router are asked for at
 * load (MADV_WILLNEED, exactly their bytes), so a cold start reads the dense part plus the picked
 * experts (model/moe.c asks for those) rather than their neighbours. Advice only: no error.
 *
 * Ownership: moe_load_layer allocates the layer's MoeLayer and its expert arrays as one block,
 * freed with free(layer->moe). Errors: -1 with one line "PATH: problem" in *err (a missing key or
 * tensor, a wrongly shaped tensor naming expected and actual shape, an unsupported key). */
#ifndef COLDTOK_MOE_LOAD_H
#define COLDTOK_MOE_LOAD_H

#include <jansson.h>

#include "common/util.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "model/model.h"

/* Fills c->moe for the family a (nothing for a dense family). arch: general.architecture. */
int moe_config_gguf(const Gguf *g, const char *arch, const ArchInfo *a, Config *c, const char *path,
                    Err *err);
int moe_config_json(json_t *root, const ArchInfo *a, Config *c, const char *path, Err *err);

/* 1 when layer l of a model with this config has experts rather than a dense FFN. */
int moe_is_expert_layer(const Config *c, int l);

/* The expert tensors of layer l into y->moe, from the GGUF file g or else the safetensors st. */
int moe_load_layer(const Gguf *g, const SafeTensors *st, const Config *c, const ArchInfo *a, int l,
                   Layer *y, const char *path, Err *err);

/* Before the tensors of an expert model are read: read-around off for all tensor data, the output
 * matrix asked for (see Reading above). */
void moe_advise_reads(const Gguf *g, const SafeTensors *st, int tied);

/* Stored bytes of the layer's experts, router and shared expert (0 for NULL). */
uint64_t moe_layer_bytes(const MoeLayer *L, int n_expert);

#endif
