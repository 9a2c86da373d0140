/* config_rope: the RoPE scaling schemes YaRN and LongRoPE (model/rope_scaling.h) read into a
 * Config, from GGUF metadata (as llama.cpp reads it) and from a config.json rope_scaling object (as
 * transformers' modeling_rope_utils reads it); model.c's loader calls these for those types and
 * keeps none, linear and llama3 itself.
 *
 * config_rope_gguf: rope.scaling.type TYPE ("yarn" or "longrope") of the GGUF file: factor,
 *   original_context_length, attn_factor, yarn_beta_fast / _slow; c->n_ctx (the trained context)
 *   must be set. LongRoPE's factor lists are tensors the loader reads. Any other TYPE ("none",
 *   "linear"): only rope.scaling.attn_factor, which llama.cpp applies to cos and sin whatever the
 *   type.
 * config_rope_json: rope_scaling of type TYPE ("yarn", "longrope" or "su") with its factor already
 *   read; root is the whole config.json (max_position_embeddings, and phi3's top-level
 *   original_max_position_embeddings); c->n_rot and c->n_ctx must be set. A LongRoPE object's
 *   factors go to *longrope ([n_rot/2] short, then [n_rot/2] long; malloc'd, replacing what was
 *   there; the caller frees). A key of the object that coldtok does not implement is refused
 *   naming it.
 * Both return 0, or -1 with one line "PATH: problem" in *err. */
#ifndef COLDTOK_CONFIG_ROPE_H
#define COLDTOK_CONFIG_ROPE_H

#include <jansson.h>

#include "formats/gguf.h"
#include "model/model.h"

int config_rope_gguf(Config *c, Gguf *g, const char *arch, const char *type, const char *path, Err *err);
int config_rope_json(json_t *root, json_t *rs, const char *type, Config *c, double factor, float **longrope,
                     const char *path, Err *err);

#endif
