/* config_gemma: the hyper-parameters only the Gemma families have, from either source, into the
 * Config the loader (model.c) has filled with the common ones: the embedding scale, the sliding
 * windows (which layers, how wide), the attention and final soft-caps, the query scale and the
 * local RoPE base of Gemma 3's sliding-window layers.
 *
 * GGUF (llama.cpp's keys and defaults, src/models/gemma*.cpp): ARCH.attention.sliding_window
 * (gemma2: 4096 when absent; gemma3: none when absent), ARCH.attention.sliding_window_pattern (the
 * period; gemma2 2, gemma3 6), ARCH.attn_logit_softcapping and ARCH.final_logit_softcapping
 * (gemma2: 50 and 30 when absent; gemma3: no attention soft-cap, final only with the key),
 * ARCH.rope.freq_base_swa (gemma3: 10000 when absent). The query scale is not a key: llama.cpp
 * uses 1/sqrt(head_dim), or 1/sqrt(n_embd / n_head) for the 27B shapes (arch.h
 * scale_by_embd_layers): gemma_gguf_attn_scale.
 * config.json (transformers' Gemma/Gemma2/Gemma3TextConfig, their defaults when a key is absent):
 * hidden_activation, query_pre_attn_scalar, attn_logit_softcapping, final_logit_softcapping,
 * sliding_window, sliding_window_pattern or layer_types, rope_local_base_freq. A value coldtok does
 * not implement (another activation, a window pattern that is not periodic, Gemma 3 attention
 * soft-capping, bidirectional attention, untied output where the family always ties) is refused
 * with one line naming the key.
 *
 * No allocation. Errors: -1 with one line "PATH: problem" in *err. */
#ifndef COLDTOK_CONFIG_GEMMA_H
#define COLDTOK_CONFIG_GEMMA_H

#include <jansson.h>

#include "formats/gguf.h"
#include "model/model.h"

/* The Gemma keys of a GGUF file (general.architecture arch) into c; nothing for other families. */
int gemma_config_gguf(Config *c, const Gguf *g, const char *arch, const char *path, Err *err);
/* The Gemma keys of config.json (its root object) into c; nothing for other families. */
int gemma_config_json(Config *c, json_t *root, const char *path, Err *err);
/* The attention window of layer l under c (Layer.window): c->n_swa or 0. */
int gemma_layer_window(const Config *c, int l);
/* The query scale llama.cpp applies to a GGUF file of c's family and shape. */
float gemma_gguf_attn_scale(const Config *c);

#endif
