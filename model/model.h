/* model: a transformer language model ready for the forward pass, loaded from a GGUF file, a
 * .safetensors file (with config.json beside it) or a Hugging Face folder (config.json plus
 * model.safetensors or model.safetensors.index.json with shards).
 *
 * Whatever the source, the model ends up in one internal layout: hyper-parameters in a Config and,
 * per layer, Tensors that point straight into the file mappings (no copy of any matrix). Matrices
 * keep their stored block type (F32, F16, BF16, Q8_0, ..., Q6_K); the forward pass converts them
 * panel by panel. Only the small vectors (norm weights, biases, rope factors) are converted to f32
 * at load time.
 *
 * Hugging Face quantized checkpoints (config.json quantization_config: GPTQ, AWQ; formats/hfquant.h):
 * the packed linear layers are read in place too and dequantized panel by panel like GGUF blocks;
 * a linear left plain (an exempt module, lm_head) is read as the plain tensor it is; any other
 * quant_method is refused with one line naming it.
 *
 * Supported architectures: those of model/arch.h: llama (also Mistral-style checkpoints, tied or
 * untied output; an HF mistral config's sliding_window is applied, a GGUF llama file has none, as
 * in llama.cpp), qwen2 (q/k/v biases), qwen3 (per-head q/k RMSNorm), gemma, gemma2 and
 * gemma3 (model/config_gemma.h: embedding scale, sandwich norms, sliding windows, soft-caps, a
 * local RoPE base; the (1 + w) of their HF norms is added at load time), phi3 (fused qkv and
 * gate_up matrices, read as row ranges of the stored tensor; LongRoPE), qwen2moe / qwen3moe
 * (experts: model/moe_load.h), deepseek2 (multi-head latent attention and experts with shared
 * ones: model/mla_load.h, model/mla.h), starcoder2 (LayerNorm with bias, biases everywhere, GELU
 * MLP; HF sliding_window) and granite (llama with embedding, attention, residual and logit
 * multipliers); tensor names are
 * formats/hfnames.h's. RoPE: llama.cpp permutes the Q/K rows of llama models when it converts
 * them to GGUF and then rotates adjacent pairs (2i, 2i+1); the Hugging Face checkpoint rotates
 * halves (i, i + n_rot/2). Rather than permuting rows, the loader records which style matches the
 * stored rows (the family's rope_gguf or rope_hf: GGUF llama: NORMAL; HF llama, qwen2, qwen3 in
 * either format: NEOX), so the same weights give the same logits from either file.
 *
 * Ownership: model_load returns a Model the caller frees with model_free; every Tensor lives as
 * long as the Model. A Model is read-only after loading and may be shared by threads.
 * Errors: model_load returns NULL with one line "PATH: problem" in *err (unknown architecture,
 * missing tensor, wrong shape, absurd dimension, unsupported type ...). */
#ifndef COLDTOK_MODEL_H
#define COLDTOK_MODEL_H

#include <stdint.h>

#include "common/util.h"
#include "formats/hfquant.h" /* HqTensor: a GPTQ / AWQ packed linear layer */
#include "model/arch.h" /* Arch, RopeStyle, arch_name: what each family has */
#include "model/rope_scaling.h" /* RopeScalingType: YaRN, LongRoPE */

/* Mixture of experts (model/moe.h): how the FFN of an expert layer routes and mixes. */
typedef struct {
    int n_expert;       /* routed experts per expert layer; 0: a dense model */
    int n_expert_used;  /* experts each position is routed to (top k) */
    int n_ff_exp;       /* hidden width of one routed expert */
    int n_ff_shexp;     /* hidden width of the shared expert (all shared experts side by side); 0: none */
    int n_dense_lead;   /* the first layers keep a dense FFN (n_ff wide) instead of experts */
    MoeGating gating;   /* softmax or sigmoid of the router logits (model/arch.h) */
    int norm_topk;      /* 1: the k picked weights are divided by their sum */
    float scale;        /* routed scaling factor multiplying the picked weights (1: none) */
    int shexp_gate;     /* 1: the shared expert's output times sigmoid(x . gate_inp_shexp) */
} MoeConfig;

typedef struct {
    Arch arch;
    int n_vocab;     /* rows of the embedding matrix */
    int n_embd;      /* model width */
    int n_layer;
    int n_ff;        /* FFN hidden width */
    int n_head;      /* query heads */
    int n_head_kv;   /* key/value heads (GQA: n_head is a multiple of it) */
    int head_dim;    /* per-head width of q and k */
    int head_dim_v;  /* per-head width of v and of the attention output (head_dim but in MLA) */
    int n_rot;       /* dims of each head that RoPE rotates (<= head_dim, even) */
    int n_ctx;       /* trained context length (informational; 0 when unknown) */
    float rms_eps;   /* the norms' epsilon (RMSNorm, or LayerNorm when the family has it) */
    float rope_theta;
    float rope_scale; /* linear position scaling: angle uses pos / rope_scale (1 = none) */
    RopeStyle rope;
    int tied;        /* 1 when the output matrix is the token embedding */
    Activation act;  /* the FFN's (model/arch.h): the family's, or what config.json names */
    float attn_scale;    /* multiplies q . k; 0 means 1/sqrt(head_dim) */
    float attn_softcap;  /* > 0: attention scores soft-capped to (-cap, cap) by cap * tanh(s / cap) */
    float final_softcap; /* > 0: logits soft-capped likewise */
    /* Gemma's and granite's multipliers; 0 means none (1) */
    float embd_scale;     /* multiplies the token embeddings (Gemma: sqrtf(n_embd); granite's
                           * embedding_multiplier) */
    float residual_scale; /* multiplies each block's output before the residual add */
    float logit_scale;    /* divides the logits */
    /* Gemma (model/config_gemma.h); 0 in the other families */
    int n_swa;           /* > 0: the window of the sliding-window layers (each Layer.window) */
    int swa_period;      /* which layers slide: l % swa_period < swa_period - 1; 0: all of them */
    float rope_theta_swa; /* > 0: the sliding-window layers rotate with this base, unscaled and
                          * without rope_freqs (Gemma 3's rope_local_base_freq); 0: as the others */
    MoeConfig moe;       /* moe.n_expert 0: every FFN is dense */
    /* multi-head latent attention (deepseek2; model/mla.h), 0 otherwise. head_dim is then
     * qk_nope + n_rot (the per-head q/k width, RoPE on the last n_rot dims as stored), head_dim_v
     * v_head_dim, n_head_kv = n_head: keys and values are decompressed per head into the cache. */
    int kv_lora_rank;    /* width of the compressed KV latent (> 0: MLA) */
    int q_lora_rank;     /* width of the low-rank q (attn_q_a / attn_q_b); 0: a direct attn_q */
    float yarn_log_mul;  /* deepseek2 YaRN: mscale_all_dim (GGUF rope.scaling.yarn_log_multiplier
                          * / 0.1); the attention scale is then (0.1 m ln factor + 1)^2 / sqrt(hd) */
    /* RoPE scaling beyond linear and llama3 (model/rope_scaling.h). The forward pass reads only
     * rope_attn_factor and Model.rope_freqs (YaRN's ramp and LongRoPE's short factors are folded
     * into it at load time); the other fields say what the file said, for the GGUF writers. */
    RopeScalingType rope_scaling;
    float rope_factor;      /* YaRN: the context extension factor */
    int rope_orig_ctx;      /* YaRN, LongRoPE: the pre-training context (0: unknown) */
    float yarn_beta_fast, yarn_beta_slow; /* YaRN: the ramp's ends, in rotations */
    float rope_attn_factor; /* multiplies RoPE's cos and sin (YaRN's mscale, LongRoPE's attention
                             * factor); 0 means 1 */
} Config;

/* A matrix or vector inside a mapped file. Matrices are [rows, cols] with cols contiguous (GGUF
 * ne = [cols, rows]); vectors have rows == 1.
 * A linear layer of a GPTQ / AWQ / AQLM / FP8 / compressed-tensors checkpoint (hq.method != HQ_NONE)
 * is packed: its rows are hq_rows_f32's (fwd_dequant_rows and the matmuls call it), data points at
 * its qweight (codes, F8 weight, weight_packed) and type is meaningless (Q_F32 by convention); only the matrices of layers can be packed. */
typedef struct {
    const void *data; /* NULL when the (optional) tensor is absent */
    uint32_t type;    /* formats/qtype.h QType */
    int64_t rows, cols;
    const char *name; /* the name in the file, for messages */
    HqTensor hq;      /* hq.method HQ_NONE: a plain tensor of type `type` */
} Tensor;

/* The FFN of an expert layer (model/moe.h). Each routed expert is its own three matrices: in a
 * GGUF file slices of the 3-D ffn_{gate,up,down}_exps tensors (no copy), in an HF checkpoint the
 * per-expert tensors. */
typedef struct {
    Tensor router;          /* [n_expert, n_embd] ffn_gate_inp: router logits = x . router^T */
    Tensor *gate, *up;      /* [n_expert] of [n_ff_exp, n_embd] */
    Tensor *down;           /* [n_expert] of [n_embd, n_ff_exp] */
    Tensor sh_gate, sh_up;  /* [n_ff_shexp, n_embd] the shared expert; data NULL: none */
    Tensor sh_down;         /* [n_embd, n_ff_shexp] */
    Tensor sh_gate_inp;     /* [1, n_embd] the shared expert's sigmoid gate; data NULL: none */
    int layer;              /* the layer it belongs to */
} MoeLayer;

typedef struct {
    const float *attn_norm; /* [n_embd] */
    Tensor wq;              /* [n_head * head_dim, n_embd] */
    Tensor wk;              /* [n_head_kv * head_dim, n_embd] */
    Tensor wv;              /* [n_head_kv * head_dim, n_embd] */
    const float *bq;        /* [n_head * head_dim]    qwen2 (NULL otherwise) */
    const float *bk;        /* [n_head_kv * head_dim] qwen2 */
    const float *bv;        /* [n_head_kv * head_dim] qwen2 */
    const float *q_norm;    /* [head_dim] qwen3 (NULL otherwise) */
    const float *k_norm;    /* [head_dim] qwen3 */
    Tensor wo;              /* [n_embd, n_head * head_dim] */
    const float *ffn_norm;  /* [n_embd] */
    Tensor w_gate;          /* [n_ff, n_embd]; absent (data NULL) for a non-gated FFN (ACT_GELU) */
    Tensor w_up;            /* [n_ff, n_embd] */
    Tensor w_down;          /* [n_embd, n_ff] */
    /* optional biases (NULL when absent): LayerNorm's (starcoder2), the output projection's and
     * the FFN's (starcoder2; llama / granite with attention_bias, mlp_bias) */
    const float *attn_norm_b; /* [n_embd] */
    const float *ffn_norm_b;  /* [n_embd] */
    const float *bo;          /* [n_embd] */
    const float *b_gate;      /* [n_ff] */
    const float *b_up;        /* [n_ff] */
    const float *b_down;      /* [n_embd] */
    int window;             /* > 0: sliding-window attention over this many positions (the query's
                             * own included); 0: the layer attends to every earlier position */
    const float *attn_post_norm; /* [n_embd] Gemma 2/3: RMSNorm of the attention output before the
                                  * residual add (NULL otherwise) */
    const float *ffn_post_norm;  /* [n_embd] Gemma 2/3: likewise of the FFN output */
    MoeLayer *moe;          /* the layer's experts (w_gate/up/down then absent); NULL: a dense FFN */
    /* multi-head latent attention (Config.kv_lora_rank > 0; wq is then [n_head * head_dim, n_embd]
     * when q_lora_rank is 0, absent otherwise; wk, wv absent). nope = head_dim - n_rot. */
    Tensor wq_a;            /* [q_lora_rank, n_embd] */
    const float *q_a_norm;  /* [q_lora_rank] */
    Tensor wq_b;            /* [n_head * head_dim, q_lora_rank] */
    Tensor wkv_a;           /* [kv_lora_rank + n_rot, n_embd]: the latent, then the shared k_pe */
    const float *kv_a_norm; /* [kv_lora_rank] */
    Tensor wkv_b;           /* [n_head * (nope + head_dim_v), kv_lora_rank], per head k_nope rows
                             * then v rows (HF, older GGUF); or absent and the split form: */
    Tensor wk_b;            /* [n_head * kv_lora_rank, nope]: per head k_nope's rows transposed */
    Tensor wv_b;            /* [n_head * head_dim_v, kv_lora_rank] */
} Layer;

typedef struct Model Model;
struct Model {
    Config cfg;
    Tensor tok_embd;           /* [n_vocab, n_embd] */
    const float *output_norm;  /* [n_embd] */
    const float *output_norm_b; /* [n_embd] LayerNorm bias (starcoder2), or NULL */
    Tensor output;             /* [n_vocab, n_embd]; a copy of tok_embd's descriptor when tied */
    const float *rope_freqs;   /* [n_rot / 2] divisors of the RoPE frequencies (Llama 3, YaRN,
                                * LongRoPE's short factors), or NULL */
    const float *rope_long;    /* [n_rot / 2] LongRoPE's long-context factors (not used by the
                                * forward pass; kept for the GGUF writer), or NULL */
    Layer *layers;             /* [n_layer] */
    /* the sources, for model_free */
    void *gguf;                /* Gguf *, or NULL */
    void *st;                  /* SafeTensors *, or NULL */
    float *vectors;            /* storage of the f32 vectors above */
    char *path;
    char *format;              /* "gguf" or "safetensors" */
    struct Prefault *prefault; /* the weights' pages read ahead (common/prefault.h), or NULL */
};

Model *model_load(const char *path, Err *err);
void model_free(Model *m);

/* Bytes of all weight matrices a forward pass reads (each matrix once; a tied output counts once). */
uint64_t model_weight_bytes(const Model *m);
/* Bits per weight as stored: the bytes of every tensor in the model's file(s) over their element
 * count, vectors and both embedding and output included (what `coldtok info` prints); a packed
 * GPTQ/AWQ matrix counts all its parts' bytes over its rows x cols weights. NAN for none. */
double model_bits_per_weight(const Model *m);
/* 1 when P (a safetensors tensor's data) is a stored part of one of the model's packed layers
 * (qweight, codes, scales, codebooks, ...): read through its HqTensor, never as a tensor of its own. */
int model_packed_part(const Model *m, const void *p);

#endif
