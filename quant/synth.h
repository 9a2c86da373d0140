/* synth: random-weight GGUF models of real shapes (seeded, reproducible), for tests and benchmarks.
 *
 * The file is a complete llama.cpp-style GGUF: architecture metadata (ARCH.* keys, from
 * model/config_gguf.h), every tensor the architecture needs (the optional ones model/arch.h says
 * it requires: qwen2: q/k/v biases; qwen3: q/k norms; starcoder2: norm, attention and MLP biases
 * and no gate; the ones it allows when bias is set; tied models: no output.weight),
 * and a minimal byte-level BPE vocabulary ("gpt2" model: the 256 byte tokens, a few merges,
 * <|endoftext|> as BOS/EOS, the rest of n_vocab filled with unused placeholder tokens) so the model
 * and its tokenizer load like a real one.
 * Weights: matrices uniform with standard deviation `std` (quantized to `type`), norm weights
 * 1 + uniform(std 0.1), biases uniform(std 0.1). Uniform rather than normal keeps writing a 7B-shaped
 * file fast; the forward pass does not care.
 * Matrix types: every type quant/quantize.h can produce (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0,
 * Q5_1, Q2_K..Q6_K), quantized by qquantize_rows; a k-quant that does not fit a matrix
 * (columns not a multiple of 256) falls back as llama.cpp's does (Q4_K -> Q5_0, Q5_K -> Q5_1,
 * Q6_K -> Q8_0, Q2_K/Q3_K -> Q4_0). Norms and biases stay F32.
 *
 * Errors: synth_write returns -1 with one line in *err (bad dims, unsupported type, I/O). */
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
    int bias;       /* 1: also the biases the family allows (llama: attention_bias and mlp_bias, as
                     * Granite-Code); the ones it requires are always written */
    /* granite's multipliers (0: 1); written as its GGUF keys */
    float embd_scale, attn_scale, residual_scale, logit_scale;
} SynthSpec;

/* Fills *s with a preset's shapes ("qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-7b", "llama-3.2-1b",
 * "qwen3-0.6b", "starcoder2-3b", "granite-3b-code" (model_type llama with attention and MLP
 * biases), "mistral-7b" (llama), "tiny-llama", "tiny-qwen2", "tiny-qwen3", "tiny-starcoder2",
 * "tiny-granite"); type F16, seed 1. -1 when unknown. */
int synth_preset(const char *name, SynthSpec *s);
/* The preset names, comma separated (for --help). */
const char *synth_preset_names(void);
/* 1 when synth can write matrices of this type. */
int synth_type_ok(uint32_t type);
int synth_write(const SynthSpec *s, const char *path, Err *err);

#endif
