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
 * in llama.cpp), qwen2 (q/k/v biases), qwen3 (per-head q/k RMSNorm), starcoder2 (LayerNorm with
 * bias, biases everywhere, GELU MLP; HF sliding_window) and granite (llama with embedding,
 * attention, residual and logit multipliers); tensor names are
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
    /* granite's multipliers; 0 means none (1) */
    float embd_scale;     /* multiplies the token embeddings */
    float residual_scale; /* multiplies each block's output before the residual add */
    float logit_scale;    /* divides the logits */
} Config;

/* A matrix or vector inside a mapped file. Matrices are [rows, cols] with cols contiguous (GGUF
 * ne = [cols, rows]); vectors have rows == 1.
 * A linear layer of a GPTQ / AWQ checkpoint (hq.method != HQ_NONE) is packed: its rows are
 * hq_rows_f32's (fwd_dequant_rows and the matmuls call it), data points at its qweight and type
 * is meaningless (Q_F32 by convention); only the matrices of layers can be packed. */
typedef struct {
    const void *data; /* NULL when the (optional) tensor is absent */
    uint32_t type;    /* formats/qtype.h QType */
    int64_t rows, cols;
    const char *name; /* the name in the file, for messages */
    HqTensor hq;      /* hq.method HQ_NONE: a plain tensor of type `type` */
} Tensor;

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
} Layer;

typedef struct Model Model;
struct Model {
    Config cfg;
    Tensor tok_embd;           /* [n_vocab, n_embd] */
    const float *output_norm;  /* [n_embd] */
    const float *output_norm_b; /* [n_embd] LayerNorm bias (starcoder2), or NULL */
    Tensor output;             /* [n_vocab, n_embd]; a copy of tok_embd's descriptor when tied */
    const float *rope_freqs;   /* [n_rot / 2] divisors of the RoPE frequencies (Llama 3), or NULL */
    Layer *layers;             /* [n_layer] */
    /* the sources, for model_free */
    void *gguf;                /* Gguf *, or NULL */
    void *st;                  /* SafeTensors *, or NULL */
    float *vectors;            /* storage of the f32 vectors above */
    char *path;
    char *format;              /* "gguf" or "safetensors" */
};

Model *model_load(const char *path, Err *err);
void model_free(Model *m);

/* Bytes of all weight matrices a forward pass reads (each matrix once; a tied output counts once). */
uint64_t model_weight_bytes(const Model *m);
/* Bits per weight as stored: the bytes of every tensor in the model's file(s) over their element
 * count, vectors and both embedding and output included (what `coldtok info` prints); a packed
 * GPTQ/AWQ matrix counts all its parts' bytes over its rows x cols weights. NAN for none. */
double model_bits_per_weight(const Model *m);

#endif
