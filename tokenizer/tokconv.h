/* tokconv: a Hugging Face tokenizer.json as llama.cpp's tokenizer.ggml.* GGUF metadata, so that a
 * model quantized from an HF folder carries its tokenizer.
 *
 * Supported: BPE models, byte-level (GGUF model "gpt2": tokens, token types, merges, and the
 * llama.cpp name of the pre-tokenizer when it is recognized: gpt-2, qwen2, llama-bpe, dbrx,
 * starcoder, deepseek-coder, deepseek-llm, deepseek-v3, else "default") and
 * SentencePiece-style with byte fallback (GGUF model "llama": tokens, scores, token types). Special
 * token ids (bos, eos, unk, pad) from tokenizer_config.json / config.json beside it when present.
 * The whole tokenizer.json is also stored, as tokenizer.huggingface.json.
 *
 * Output: an array of (key, GGUF value type, value serialized as in a GGUF file), owned by the
 * caller (tokconv_free). A note (owned by the caller) when something could not be expressed.
 * Errors: -1 with one line "PATH: problem". */
#ifndef COLDTOK_TOKCONV_H
#define COLDTOK_TOKCONV_H

#include <stdint.h>

#include "common/util.h"

typedef struct {
    char *key;
    uint32_t type; /* formats/gguf.h GgufValueType */
    Buf val;
} TokConvKv;

/* Returns the number of entries in *kvs (0 when the tokenizer cannot be expressed: *note says
 * why), or -1. n_vocab: the model's embedding rows; the token list is padded to at least that
 * many. *note is replaced (freed first) when set. */
int tokconv_from_json(const char *path, int n_vocab, TokConvKv **kvs, char **note, Err *err);
void tokconv_free(TokConvKv *kvs, int n);

#endif
