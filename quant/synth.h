/* synth: random-weight GGUF models of real shapes (seeded, reproducible), for tests and benchmarks.
 *
 * The file is a complete llama.cpp-style GGUF: architecture metadata (ARCH.* keys, from
 * model/config_gguf.h), every tensor the architecture needs (the optional ones model/arch.h says
 * it requires: qwen2: q/k/v biases; qwen3 and gemma3: q/k norms; gemma2 and gemma3: the post-norms
 * of attention and FFN; starcoder2: norm, attention and MLP biases and no gate; the ones it allows
 * when bias is set; tied models and gemma, gemma2: no output.weight), the sliding-window,
 * soft-cap and local RoPE keys of gemma2/gemma3 (llama.cpp's names),
 * and a minimal byte-level BPE vocabulary ("gpt2" model: the 256 byte tokens, a few merges,
 * <|endoftext|> as BOS/EOS, the rest of n_vocab filled with unused placeholder tokens) so the model
 * and its tokenizer load like a real one; or, with SynthSpec.tokenizer, a real tokenizer.json's
 * vocabulary as a converted model carries it (tokenizer/tokconv.h), so that loading the file costs
 * what loading a real model of that shape costs.
 * Weights: matrices uniform with standard deviation `std` (quantized to `type`), norm weights
 * 1 + uniform(std 0.1), biases uniform(std 0.1). Uniform rather than normal keeps writing a 7B-shaped
 * file fast; the forward pass does not care.
 * Matrix types: every type quant/quantize.h can produce (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0,
 * Q5_1, Q2_K..Q6_K), quantized by qquantize_rows; a k-quant that does not fit a matrix
 * (columns not a multiple of 256) falls back as llama.cpp's does (Q4_K -> Q5_0, Q5_K -> Q5_1,
 * Q6_K -> Q8_0, Q2_K/Q3_K -> Q4_0). Norms and biases stay F32.
 * Mixture-of-experts families (model/arch.h moe): every layer's FFN is n_expert routed experts as
 * llama.cpp's 3-D ffn_{gate,up,down}_exps tensors (in `type`), the router ffn_gate_inp in F32 (as
 * llama.cpp's quantizer leaves it) and, for a family with one, the shared expert (`type`) and its
 * F32 gate; the expert keys (model/config_gguf.h) say n_expert, n_expert_used, n_ff_exp and
 * n_ff_shexp. n_ff is then only the expert_feed_forward default llama.cpp files carry.
 *
 * Errors: synth_write returns -1 with one line in *err (bad dims, unsupported type, a tokenizer
 * that cannot be read or expressed, I/O). */
#ifndef COLDTOK_SYNTH_H
#define COLDTOK_SYNTH_H

#include <stdint.h>

#include "common/util.h"
#include "model/model.h"

typedef struct {
    Arch arch;
    int n_vocab, n_embd, n_layer, n_ff, n_head, n_head_kv, head_dim;
    float rope_theta, rms_eps;
    int tied;
    uint32_t type;  /* QType of the matrices */
    uint64_t seed;
    float std;      /* of the matrix entries */
    /* mixture of experts (qwen2moe, qwen3moe, deepseek2): 0 for a dense family */
    int n_expert, n_expert_used, n_ff_exp, n_ff_shexp;
    /* deepseek2's multi-head latent attention (arch.h mla; 0 elsewhere): head_dim is then the q/k
     * head width qk_nope + n_rot (n_rot below: the rope dims); written in llama.cpp's split form
     * (attn_k_b / attn_v_b) */
    int kv_lora_rank, q_lora_rank, head_dim_v;
    int n_dense_lead;  /* deepseek2 with experts: the first layers keep a dense FFN (n_ff wide); its
                        * shared experts are n_ff_shexp wide, a multiple of n_ff_exp */
    float yarn_mscale; /* deepseek2 with YaRN: mscale = mscale_all_dim (yarn_log_multiplier / 0.1) */
    /* Optional (0: the default); RoPE scaling (model/rope_scaling.h) as llama.cpp reads it */
    int n_ctx;      /* context_length (0: the family's published one) */
    int n_rot;      /* rotated dims of a head (0: head_dim) */
    RopeScalingType rope_scaling; /* YARN: rope.scaling.* keys; LONGROPE: the keys and seeded
                                   * rope_factors_short / _long tensors (short ~ 1..3, long ~ 5..15) */
    float rope_factor;            /* YaRN's factor */
    int rope_orig_ctx;            /* original_context_length (0: 4096) */
    float yarn_beta_fast, yarn_beta_slow; /* 0: 32 and 1 */
    float rope_attn_factor;       /* rope.scaling.attn_factor (0: YaRN 1; LongRoPE its default
                                   * sqrt(1 + ln(n_ctx / orig) / ln(orig))) */
    /* Gemma 2/3 (model/config_gemma.h); 0 for the other families */
    int n_swa;           /* > 0: the sliding window (attention.sliding_window) */
    int swa_period;      /* which layers slide (attention.sliding_window_pattern); 0: the family's */
    float attn_softcap;  /* > 0: attn_logit_softcapping */
    float final_softcap; /* > 0: final_logit_softcapping */
    float rope_theta_swa; /* > 0: rope.freq_base_swa (Gemma 3's local base) */
    /* 1: the blocks of quantized matrices are drawn at random from a pool of 65536 blocks
     * quantized from the same uniform distribution, instead of quantizing every value: the same
     * statistics per block, hundreds of times faster (for multi-GB benchmark models such as
     * qwen3-coder-30b-a3b in Q4_K); 0: every value drawn and quantized */
    int block_pool;
    int bias;       /* 1: also the biases the family allows (llama: attention_bias and mlp_bias, as
                     * Granite-Code); the ones it requires are always written */
    /* granite's multipliers (0: 1); written as its GGUF keys */
    float embd_scale, attn_scale, residual_scale, logit_scale;
    const char *tokenizer; /* a tokenizer.json whose vocabulary the file carries (padded to n_vocab;
                            * it may not have more tokens); NULL: the minimal vocabulary */
} SynthSpec;

/* Fills *s with a preset's shapes ("qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-7b", "llama-3.2-1b",
 * "qwen3-0.6b", "codegemma-7b", "gemma-2-2b", "gemma-3-1b", "qwen3-coder-30b-a3b",
 * "deepseek-coder-v2-lite", "phi-3.5-mini" (LongRoPE, seeded factors), "starcoder2-3b",
 * "granite-3b-code" (model_type llama with attention and MLP biases), "mistral-7b" (llama),
 * "tiny-llama", "tiny-qwen2", "tiny-qwen3", "tiny-gemma", "tiny-gemma2", "tiny-gemma3",
 * "tiny-qwen2moe", "tiny-qwen3moe", "tiny-deepseek2", "tiny-phi3", "tiny-starcoder2",
 * "tiny-granite"); type F16, seed 1. -1 when unknown.
 * phi3 files store q/k/v as one attn_qkv matrix and gate/up as one ffn_up of 2 n_ff rows. */
int synth_preset(const char *name, SynthSpec *s);
/* The preset names, comma separated (for --help). */
const char *synth_preset_names(void);
/* 1 when synth can write matrices of this type. */
int synth_type_ok(uint32_t type);
int synth_write(const SynthSpec *s, const char *path, Err *err);

#endif
