/* config_gguf: a Config as GGUF metadata, the one place that turns hyper-parameters into keys for
 * the GGUF files coldtok writes (quant/qmodel.c from an HF checkpoint, quant/synth.c): the
 * general.architecture and general.name keys, then llama.cpp's ARCH.* keys (names from
 * formats/hfnames.h), with their values and value types.
 *
 * The keys come in one of two layouts, each the order of files coldtok has always written, so
 * that those stay byte-identical:
 *   CONFIG_KEYS_CONVERT  llama.cpp's convert_hf_to_gguf.py: vocab_size first; key_length and
 *                        value_length only when head_dim is not n_embd / n_head;
 *   CONFIG_KEYS_SYNTH    synth's: key_length and value_length always, vocab_size last.
 * Both: context_length is n_ctx (2048 when unknown); rope.scaling.type "linear" and
 * rope.scaling.factor when rope_scale is not 1; the norm's epsilon as layer_norm_rms_epsilon or
 * (LayerNorm families: starcoder2) layer_norm_epsilon; granite's embedding_scale,
 * attention.scale, residual_scale and logit_scale (model/arch.h multipliers);
 * attention.sliding_window when n_swa > 0 (Gemma 2/3; llama.cpp reads none for llama (mistral),
 * starcoder2 or phi3), with attention.sliding_window_pattern when swa_period is not the family's
 * default, rope.freq_base_swa when rope_theta_swa > 0; attn_logit_softcapping /
 * final_logit_softcapping when set; the expert keys (expert_count, expert_used_count,
 * expert_feed_forward_length, expert_shared_feed_forward_length) for a mixture of experts; YaRN's
 * and LongRoPE's rope.scaling.* keys after them (model/rope_scaling.h; LongRoPE's factor tensors
 * are the writer's); deepseek2's latent-attention and expert keys last. A new key is a row in each
 * layout of
 * config_gguf.c.
 * Keys already in out are replaced where they stand (formats/gguf_meta.h). No errors. */
#ifndef COLDTOK_CONFIG_GGUF_H
#define COLDTOK_CONFIG_GGUF_H

#include "formats/gguf_meta.h"
#include "model/model.h"

typedef enum { CONFIG_KEYS_CONVERT, CONFIG_KEYS_SYNTH } ConfigKeyLayout;

void config_to_gguf(const Config *c, const char *name, ConfigKeyLayout layout, GgufMeta *out);

#endif
