/* mla: the inputs of DeepSeek-V2's multi-head latent attention (MLA), as ordinary per-head
 * queries, keys and values, so that the forward pass's attention runs on them unchanged.
 *
 * MLA (Config.kv_lora_rank > 0, model/model.h): per position x [n_embd]
 *   q      = Wq x, or Wq_b rmsnorm(Wq_a x)            [n_head, nope + rot] (nope dims, then rot)
 *   kv_a   = Wkv_a x                                   [kv_lora + rot]
 *   c      = rmsnorm(kv_a[0 .. kv_lora))               the compressed latent
 *   k_pe   = kv_a[kv_lora ..)                          one RoPE part shared by every head
 *   k_nope, v = Wkv_b c                                [n_head, nope], [n_head, head_dim_v]
 * and attention per head over keys [k_nope | k_pe] with queries [q_nope | q_pe], RoPE on the rot
 * dims only (RoPE of k_pe is the same for every head).
 * This module decompresses: it writes each head's key and value in full, so the cache holds
 * n_head keys of head_dim = nope + rot and n_head values of head_dim_v (llama.cpp's "MHA" form
 * of MLA; its absorbed "MQA" form, which caches the latent, gives the same scores). A dot
 * product does not care about the order of dims, so each head's q and k are laid out RoPE part
 * FIRST, [q_pe | q_nope] and [k_pe | k_nope]: the forward pass's rope() rotates the first n_rot
 * dims of every head as for the other families.
 * The key weights come in two forms: attn_kv_b [n_head * (nope + hv), kv_lora] (Hugging Face,
 * older GGUF files) or the split attn_k_b (per head [kv_lora, nope], k_nope's rows transposed)
 * and attn_v_b [n_head * hv, kv_lora] that newer llama.cpp converters write. attn_k_b is
 * transposed back into an f32 scratch matrix [n_head * nope, kv_lora] once per call (per layer
 * and step; a few MB for DeepSeek-V2-Lite) and multiplied like any f32 weight.
 *
 * Ownership: an Mla borrows its Model and owns its scratch; one thread at a time uses it.
 * Errors: mla_qkv returns -1 with one line in *err (a matmul failure). */
#ifndef COLDTOK_MLA_H
#define COLDTOK_MLA_H

#include "common/util.h"
#include "model/matmul.h"
#include "model/model.h"

typedef struct Mla Mla;

/* NULL when the model has no latent attention (Config.kv_lora_rank 0). */
Mla *mla_new(const Model *m);
void mla_free(Mla *a);

/* Layer L's queries q [M, n_head * head_dim], keys k [M, n_head * head_dim] and values
 * v [M, n_head * head_dim_v] (rows of the caches) from its normed input xb [M, n_embd]; q and k
 * per head [pe | nope], before RoPE. */
int mla_qkv(Mla *a, Matmul *mm, const Layer *L, const float *xb, int M, float *q, float *k,
            float *v, Err *err);

#endif
