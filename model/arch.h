/* arch: what each model family has, as data: one row per architecture in arch.c.
 *
 * A row names the family (general.architecture, config.json model_type) and says what its layers
 * carry and how its files store them: which optional tensors it requires, allows or refuses, the
 * RoPE pairing of its Q/K rows in each source format, its norm, its FFN activation and whether the
 * output matrix is tied by default. The loader (model.c), the GGUF writers (quant/synth.c,
 * quant/qmodel.c) and the converter's Q/K row permutation read these fields instead of testing
 * for a family by name; a new architecture is a new row here, its tensor names rows in
 * formats/hfnames.c.
 * No state, no allocation. */
#ifndef COLDTOK_ARCH_H
#define COLDTOK_ARCH_H

#include <stddef.h>

typedef enum {
    ARCH_LLAMA, ARCH_QWEN2, ARCH_QWEN3,
    ARCH_GEMMA, ARCH_GEMMA2, ARCH_GEMMA3,
    ARCH_QWEN2MOE, ARCH_QWEN3MOE, ARCH_DEEPSEEK2,
    ARCH_PHI3,
    ARCH_STARCODER2, ARCH_GRANITE,
} Arch;
typedef enum { ROPE_NORMAL, ROPE_NEOX } RopeStyle; /* adjacent pairs / halves */
typedef enum {
    NORM_RMS,   /* x / rms(x) * w */
    NORM_LAYER, /* (x - mean) / std(x) * w + b: LayerNorm with bias (starcoder2) */
} NormKind;
typedef enum {
    ACT_SILU_GATED, /* FFN: down(silu(gate(x)) * up(x)) (SwiGLU) */
    ACT_GELU_GATED, /* FFN: down(gelu(gate(x)) * up(x)) (GeGLU, tanh-approximated GELU) */
    ACT_GELU,       /* FFN: down(gelu(up(x))), no gate matrix (tanh-approximated GELU) */
} Activation;

/* How a mixture-of-experts router turns its logits into expert weights (model/moe.h). */
typedef enum {
    MOE_GATING_SOFTMAX, /* softmax over all experts, then the top k */
    MOE_GATING_SIGMOID, /* an independent sigmoid per expert (DeepSeek-V3 style) */
} MoeGating;

#define ARCH_MAX_NAMES 3

/* Whether a family's layers carry an optional kind of tensor. */
typedef enum {
    TENSORS_REFUSED,  /* a file that has them is refused: the forward pass would ignore them */
    TENSORS_ALLOWED,  /* used when present */
    TENSORS_REQUIRED, /* a file without them is refused; synth writes them */
} Presence;

typedef struct {
    Arch arch;
    const char *name;          /* general.architecture as written, and arch_name() */
    const char *gguf_names[ARCH_MAX_NAMES]; /* general.architecture values read as it, NULL-ended */
    const char *hf_types[ARCH_MAX_NAMES];   /* config.json model_type values, NULL-ended */
    Presence qkv_bias;         /* q/k/v projection biases (all three or none) */
    Presence qk_norm;          /* per-head RMSNorm of q and k before RoPE */
    /* The pairs RoPE rotates, as the Q/K rows are stored: adjacent (2i, 2i+1) or halves
     * (i, i + n_rot/2). llama.cpp permutes llama's Q/K rows when it converts a checkpoint, so
     * the two differ for llama, and a converter must permute them the same way. */
    RopeStyle rope_gguf, rope_hf;
    NormKind norm;
    Activation act;
    int tied_default;          /* tie_word_embeddings when config.json does not say */
    /* Gemma's (model/config_gemma.h reads their keys); all 0 for the other families. */
    int embd_scale;            /* token embeddings multiplied by sqrt(n_embd) (in f32) */
    int hf_norm_plus_one;      /* transformers applies every RMSNorm weight w as (1 + w); llama.cpp's
                                * converter adds the 1 when it writes the GGUF file */
    Presence post_norms;       /* attn_post_norm and ffn_post_norm: RMSNorm of the attention and FFN
                                * outputs before each residual add (Gemma 2/3's sandwich norms) */
    int tied_always;           /* the output matrix is the token embedding whatever the file holds */
    int swa_period;            /* sliding-window layers by default: l % period < period - 1 (llama.cpp's
                                * set_swa_pattern, transformers' is_sliding); 0: none */
    int scale_by_embd_layers;  /* llama.cpp scales the queries of a GGUF model with this many layers (the
                                * 27B) by 1/sqrt(n_embd / n_head) rather than 1/sqrt(head_dim); 0: never */
    /* Mixture of experts (model/moe.h); all 0 for a dense family. */
    int moe;                   /* 1: the FFN of (some) layers is routed experts */
    int moe_norm_topk;         /* llama.cpp's norm_w: top-k weights renormalised to sum 1 (a GGUF
                                * file of the family carries no key for it) */
    Presence moe_shexp;        /* a shared expert beside the routed ones */
    int moe_shexp_gate;        /* the shared expert's output scaled by sigmoid(x . gate_inp_shexp) */
    int mla;                   /* 1: multi-head latent attention (DeepSeek-V2): q (direct or low-rank),
                                * a compressed KV latent with its own norm, decoupled RoPE dims;
                                * model/mla.h. Its tensors replace attn_q/k/v. */
    /* Fused matrices (phi3), read as row ranges of the one stored tensor, never copied:
     * fused_qkv: q, k, v stacked (attn_qkv / qkv_proj) in the files this family's converters
     * write (the loader takes a stacked attn_qkv in any family, as llama.cpp does);
     * fused_gate_up: gate and up stacked, gate rows first (GGUF ffn_up with 2 n_ff rows, HF
     * gate_up_proj): required. */
    int fused_qkv, fused_gate_up;
    Presence norm_bias;        /* biases of the attention, FFN and output norms (LayerNorm) */
    Presence out_bias;         /* the attention output projection's bias (o_proj) */
    Presence ffn_bias;         /* the FFN matrices' biases (gate, up, down) */
    int mlp_c_fc;              /* 1: the HF MLP is mlp.c_fc / mlp.c_proj (StarCoder2), not
                                * up_proj / down_proj (the GGUF names are the same) */
    int multipliers;           /* 1: granite's embedding, attention, residual and logit scales
                                * (config.json *_multiplier, logits_scaling; GGUF *_scale) */
    /* config.json model_type values whose sliding_window transformers applies (NULL-ended);
     * llama.cpp reads no window for these families, so a GGUF file never has one */
    const char *window_hf_types[ARCH_MAX_NAMES];
} ArchInfo;

const ArchInfo *arch_info(Arch a); /* NULL for a value outside the enum */
/* The family of a general.architecture / config.json model_type value; NULL when unsupported. */
const ArchInfo *arch_by_gguf_name(const char *name);
const ArchInfo *arch_by_hf_type(const char *model_type);
const char *arch_name(Arch a); /* "llama", ...; "?" outside the enum */
/* The supported names for a message, comma separated ("llama, qwen2, qwen3"): the families'
 * general.architecture names (hf 0) or all their model_type values (hf 1). */
void arch_list(int hf, char *out, size_t size);

#endif
