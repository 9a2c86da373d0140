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
