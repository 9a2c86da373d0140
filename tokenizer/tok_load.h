/* tok_load: the two loaders that tok_load (tokenizer.c) picks from by path. Each reads t->path
 * and fills a Tokenizer from tok_new with tok_build.h; tok_load then finishes it (tok_finish).
 * On error: -1 with "PATH: problem"; the caller frees the half-filled Tokenizer. */
#ifndef COLDTOK_TOK_LOAD_H
#define COLDTOK_TOK_LOAD_H

#include "common/util.h"
#include "tokenizer/tokenizer.h"

/* A Hugging Face tokenizer.json (tok_json.c). */
int tok_load_json(Tokenizer *t, Err *err);
/* The tokenizer.ggml.* keys of a GGUF file (tok_gguf.c). */
int tok_load_gguf(Tokenizer *t, Err *err);

#endif
