/* synth: random-weight GGUF models of real shapes (seeded, reproducible), for tests and benchmarks.
 *
 * The file is a complete llama.cpp-style GGUF: architecture metadata (ARCH.* keys, from
 * model/config_gguf.h), every tensor the architecture needs (the optional ones model/arch.h says
 * it requires: qwen2: q/k/v biases; qwen3: q/k norms; tied models: no output.weight),
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
 * Mixture-of-experts families (model/arch.h moe): every layer's FFN is n_expert routed experts as
 * llama.cpp's 3-D ffn_{gate,up,down}_exps tensors (in `type`), the router ffn_gate_inp in F32 (as
 * llama.cpp's quantizer leaves it) and, for a family with one, the shared expert (`type`) and its
 * F32 gate; the expert keys (model/config_gguf.h) say n_expert, n_expert_used, n_ff_exp and
 * n_ff_shexp. n_ff is then only the expert_feed_forward default llama.cpp files carry.
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
    /* mixture of experts (qwen2moe, qwen3moe): 0 for a dense family */
    int n_expert, n_expert_used, n_ff_exp, n_ff_shexp;
    /* 1: the blocks of quantized matrices are drawn at random from a pool of 65536 blocks
     * quantized from the same uniform distribution, instead of quantizing every value: the same
     * statistics per block, hundreds of times faster (for multi-GB benchmark models such as
     * qwen3-coder-30b-a3b in Q4_K); 0: every value drawn and quantized */
    int block_pool;
} SynthSpec;

/* Fills *s with a preset's shapes ("qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-7b", "llama-3.2-1b",
 * "qwen3-0.6b", "qwen3-coder-30b-a3b", "tiny-llama", "tiny-qwen2", "tiny-qwen3", "tiny-qwen2moe",
 * "tiny-qwen3moe"); type F16, seed 1. -1 when unknown. */
int synth_preset(const char *name, SynthSpec *s);
/* The preset names, comma separated (for --help). */
const char *synth_preset_names(void);
/* 1 when synth can write matrices of this type. */
int synth_type_ok(uint32_t type);
int synth_write(const SynthSpec *s, const char *path, Err *err);

#endif
