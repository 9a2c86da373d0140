/* arch: see arch.h. */
#include "model/arch.h"

#include <stdio.h>
#include <string.h>

/* Indexed by Arch. */
static const ArchInfo ARCHS[] = {
    [ARCH_LLAMA] = {
        .arch = ARCH_LLAMA, .name = "llama",
        .gguf_names = {"llama", "mistral"}, .hf_types = {"llama", "mistral"},
        .qkv_bias = TENSORS_ALLOWED, /* config.json attention_bias */
        .qk_norm = TENSORS_REFUSED,
        .rope_gguf = ROPE_NORMAL, .rope_hf = ROPE_NEOX,
        .norm = NORM_RMS, .act = ACT_SILU_GATED,
        .tied_default = 0, /* LlamaConfig, MistralConfig */
        /* attention_bias / mlp_bias (Granite-Code is model_type llama with both) */
        .out_bias = TENSORS_ALLOWED, .ffn_bias = TENSORS_ALLOWED,
        .window_hf_types = {"mistral"}, /* MistralConfig sliding_window (4096 in 7B v0.1) */
    },
    [ARCH_QWEN2] = {
        .arch = ARCH_QWEN2, .name = "qwen2",
        .gguf_names = {"qwen2"}, .hf_types = {"qwen2"},
        .qkv_bias = TENSORS_REQUIRED, .qk_norm = TENSORS_REFUSED,
        .rope_gguf = ROPE_NEOX, .rope_hf = ROPE_NEOX,
        .norm = NORM_RMS, .act = ACT_SILU_GATED,
        .tied_default = 0, /* Qwen2Config */
    },
    [ARCH_QWEN3] = {
        .arch = ARCH_QWEN3, .name = "qwen3",
        .gguf_names = {"qwen3"}, .hf_types = {"qwen3"},
        .qkv_bias = TENSORS_ALLOWED, .qk_norm = TENSORS_REQUIRED,
        .rope_gguf = ROPE_NEOX, .rope_hf = ROPE_NEOX,
        .norm = NORM_RMS, .act = ACT_SILU_GATED,
        .tied_default = 0, /* Qwen3Config */
    },
    [ARCH_GEMMA] = {
        .arch = ARCH_GEMMA, .name = "gemma",
        .gguf_names = {"gemma"}, .hf_types = {"gemma"},
        .qkv_bias = TENSORS_REFUSED, .qk_norm = TENSORS_REFUSED,
        .rope_gguf = ROPE_NEOX, .rope_hf = ROPE_NEOX,
        .norm = NORM_RMS, .act = ACT_GELU_GATED,
        .tied_default = 1, /* GemmaConfig */
        .embd_scale = 1, .hf_norm_plus_one = 1, .post_norms = TENSORS_REFUSED, .tied_always = 1,
    },
    [ARCH_GEMMA2] = {
        .arch = ARCH_GEMMA2, .name = "gemma2",
        .gguf_names = {"gemma2"}, .hf_types = {"gemma2"},
        .qkv_bias = TENSORS_REFUSED, .qk_norm = TENSORS_REFUSED,
        .rope_gguf = ROPE_NEOX, .rope_hf = ROPE_NEOX,
        .norm = NORM_RMS, .act = ACT_GELU_GATED,
        .tied_default = 1, /* Gemma2Config */
        .embd_scale = 1, .hf_norm_plus_one = 1, .post_norms = TENSORS_REQUIRED, .tied_always = 1,
        .swa_period = 2, .scale_by_embd_layers = 46,
    },
    [ARCH_GEMMA3] = {
        .arch = ARCH_GEMMA3, .name = "gemma3",
        .gguf_names = {"gemma3"}, .hf_types = {"gemma3_text"},
        .qkv_bias = TENSORS_REFUSED, .qk_norm = TENSORS_REQUIRED,
        .rope_gguf = ROPE_NEOX, .rope_hf = ROPE_NEOX,
        .norm = NORM_RMS, .act = ACT_GELU_GATED,
        .tied_default = 1, /* Gemma3TextConfig */
        .embd_scale = 1, .hf_norm_plus_one = 1, .post_norms = TENSORS_REQUIRED, .tied_always = 0,
        .swa_period = 6, .scale_by_embd_layers = 62,
    },
    [ARCH_QWEN2MOE] = {
        .arch = ARCH_QWEN2MOE, .name = "qwen2moe",
        .gguf_names = {"qwen2moe"}, .hf_types = {"qwen2_moe"},
        .qkv_bias = TENSORS_REQUIRED, .qk_norm = TENSORS_REFUSED,
        .rope_gguf = ROPE_NEOX, .rope_hf = ROPE_NEOX,
        .norm = NORM_RMS, .act = ACT_SILU_GATED,
        .tied_default = 0, /* Qwen2MoeConfig */
        .moe = 1, .moe_norm_topk = 0, /* llama.cpp's qwen2moe graph: norm_w false */
        .moe_shexp = TENSORS_REQUIRED, .moe_shexp_gate = 1,
    },
    [ARCH_QWEN3MOE] = {
        .arch = ARCH_QWEN3MOE, .name = "qwen3moe",
        .gguf_names = {"qwen3moe"}, .hf_types = {"qwen3_moe"},
        .qkv_bias = TENSORS_ALLOWED, .qk_norm = TENSORS_REQUIRED,
        .rope_gguf = ROPE_NEOX, .rope_hf = ROPE_NEOX,
        .norm = NORM_RMS, .act = ACT_SILU_GATED,
        .tied_default = 0, /* Qwen3MoeConfig */
        .moe = 1, .moe_norm_topk = 1, /* llama.cpp's qwen3moe graph: norm_w true */
        .moe_shexp = TENSORS_REFUSED, .moe_shexp_gate = 0,
    },
    [ARCH_DEEPSEEK2] = {
        .arch = ARCH_DEEPSEEK2, .name = "deepseek2",
        .gguf_names = {"deepseek2"}, .hf_types = {"deepseek_v2"},
        .qkv_bias = TENSORS_REFUSED, .qk_norm = TENSORS_REFUSED,
        /* both rotate adjacent pairs of the RoPE dims: DeepSeek's checkpoint de-interleaves before
         * rotate_half, llama.cpp uses LLAMA_ROPE_TYPE_NORM and its converter does not permute */
        .rope_gguf = ROPE_NORMAL, .rope_hf = ROPE_NORMAL,
        .norm = NORM_RMS, .act = ACT_SILU_GATED,
        .tied_default = 0, /* DeepseekV2Config */
        .mla = 1,
        /* experts from layer leading_dense_block_count on when the file has them (expert_count /
         * n_routed_experts); norm and scale from keys; shared experts without a gate */
        .moe = 1, .moe_norm_topk = 0, .moe_shexp = TENSORS_ALLOWED, .moe_shexp_gate = 0,
    },
    [ARCH_PHI3] = {
        .arch = ARCH_PHI3, .name = "phi3",
        .gguf_names = {"phi3"}, .hf_types = {"phi3"},
        .qkv_bias = TENSORS_REFUSED, .qk_norm = TENSORS_REFUSED,
        .rope_gguf = ROPE_NEOX, .rope_hf = ROPE_NEOX, /* rotate_half; the converter keeps the rows */
        .norm = NORM_RMS, .act = ACT_SILU_GATED,
        .tied_default = 0, /* Phi3Config (Phi-4-mini's config.json says true) */
        .fused_qkv = 1, .fused_gate_up = 1,
        /* config.json's sliding_window windows every layer (transformers); llama.cpp disables
         * phi3's SWA, so a GGUF file's attention.sliding_window is not read */
        .window_hf_types = {"phi3"},
    },
    [ARCH_STARCODER2] = {
        .arch = ARCH_STARCODER2, .name = "starcoder2",
        .gguf_names = {"starcoder2"}, .hf_types = {"starcoder2"},
        .qkv_bias = TENSORS_REQUIRED, .qk_norm = TENSORS_REFUSED, /* config.json use_bias */
        .rope_gguf = ROPE_NEOX, .rope_hf = ROPE_NEOX,
        .norm = NORM_LAYER, .act = ACT_GELU,
        .tied_default = 1, /* Starcoder2Config leaves tie_word_embeddings at its default, true */
        .norm_bias = TENSORS_REQUIRED, .out_bias = TENSORS_REQUIRED, .ffn_bias = TENSORS_REQUIRED,
        .mlp_c_fc = 1,
        .window_hf_types = {"starcoder2"},
    },
    [ARCH_GRANITE] = {
        .arch = ARCH_GRANITE, .name = "granite",
        .gguf_names = {"granite"}, .hf_types = {"granite"},
        .qkv_bias = TENSORS_ALLOWED, .qk_norm = TENSORS_REFUSED, /* attention_bias */
        .rope_gguf = ROPE_NORMAL, .rope_hf = ROPE_NEOX, /* converted like llama: Q/K permuted */
        .norm = NORM_RMS, .act = ACT_SILU_GATED,
        .tied_default = 0, /* GraniteConfig */
        .out_bias = TENSORS_ALLOWED, .ffn_bias = TENSORS_ALLOWED, /* attention_bias, mlp_bias */
        .multipliers = 1,
    },
};
#define N_ARCHS (sizeof ARCHS / sizeof ARCHS[0])

const ArchInfo *arch_info(Arch a) { return (unsigned)a < N_ARCHS ? &ARCHS[a] : NULL; }

const char *arch_name(Arch a) {
    const ArchInfo *i = arch_info(a);
    return i ? i->name : "?";
}

static int listed(const char *const *names, const char *s) {
    for (int i = 0; i < ARCH_MAX_NAMES && names[i]; i++)
        if (!strcmp(names[i], s)) return 1;
    return 0;
}

const ArchInfo *arch_by_gguf_name(const char *name) {
    for (size_t a = 0; a < N_ARCHS; a++)
        if (listed(ARCHS[a].gguf_names, name)) return &ARCHS[a];
    return NULL;
}

const ArchInfo *arch_by_hf_type(const char *model_type) {
    for (size_t a = 0; a < N_ARCHS; a++)
        if (listed(ARCHS[a].hf_types, model_type)) return &ARCHS[a];
    return NULL;
}

void arch_list(int hf, char *out, size_t size) {
    size_t used = 0;
    out[0] = '\0';
    for (size_t a = 0; a < N_ARCHS; a++)
        for (int i = 0; i < (hf ? ARCH_MAX_NAMES : 1); i++) {
            const char *n = hf ? ARCHS[a].hf_types[i] : ARCHS[a].name;
            if (!n || used >= size) continue;
            used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "", n);
        }
}
