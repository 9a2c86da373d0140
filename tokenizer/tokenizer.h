/* tokenizer: the tokenizers of real models, loaded from a Hugging Face tokenizer.json, from the
 * tokenizer.ggml.* keys of a GGUF file, or from a model folder holding tokenizer.json.
 *
 * Supported: BPE models (byte-level like GPT-2/Llama 3/Qwen/DeepSeek, and SentencePiece-style with
 * byte fallback like Llama 2), GGUF "gpt2" (byte-level BPE, with llama.cpp's tokenizer.ggml.pre
 * names mapped to their pre-tokenizer regexes) and GGUF "llama" (SentencePiece scores).
 * Correct means: the ids Hugging Face tokenizers gives with add_special_tokens=False (for GGUF
 * files: the ids llama.cpp gives, which are the same for these models). docs/tokenizers.md lists
 * what is supported and the known differences.
 *
 * Ownership: tok_load returns a Tokenizer that the caller frees with tok_free. Every pointer a
 * Tokenizer hands out lives as long as it. A Tokenizer is read-only after loading, so one may be
 * shared by threads (tok_encode/tok_decode keep their state on the caller's stack); load the
 * first tokenizer before starting threads (it initializes Oniguruma's global tables).
 * Errors: tok_load returns NULL with "PATH: problem" in *err (unreadable, malformed or truncated
 * file, unsupported model/normalizer/pre-tokenizer/decoder type, unknown GGUF pre name);
 * tok_encode/tok_decode return -1 with a one-line problem that names no path (the caller knows
 * where the text came from). */
#ifndef COLDTOK_TOKENIZER_H
#define COLDTOK_TOKENIZER_H

#include <stddef.h>

#include "common/util.h"

typedef struct Tokenizer Tokenizer;

/* Token attributes (tok_flags). */
enum {
    TOK_SPECIAL = 1 << 0, /* an added token with special=true (or a GGUF control/unknown token) */
    TOK_ADDED = 1 << 1,   /* listed in added_tokens (special or not), or a GGUF control, unknown
                             or user-defined token */
    TOK_BYTE = 1 << 2,    /* a byte-fallback token <0xNN> */
    TOK_UNKNOWN = 1 << 3, /* the unk token */
    TOK_UNUSED = 1 << 4,  /* an id no vocabulary entry uses (a hole), or GGUF type "unused" */
};

/* Encoding options (tok_encode flags). */
enum {
    TOK_ENC_NO_SPECIAL = 1 << 0, /* treat the texts of special tokens in the input as plain text
                                    (Hugging Face's encode_special_tokens, llama.cpp's
                                    parse_special=false); non-special added tokens still match */
    TOK_ENC_NO_PREFIX = 1 << 1,  /* skip the leading "▁" or space that Prepend normalizers,
                                    Metaspace, ByteLevel(add_prefix_space) or GGUF add_space_prefix
                                    put before a text: encode the text as a word that continues a
                                    line, not as the start of one */
};

/* PATH: a tokenizer.json, a .gguf file, or a folder containing tokenizer.json. */
Tokenizer *tok_load(const char *path, Err *err);
void tok_free(Tokenizer *t);

const char *tok_path(const Tokenizer *t);
/* A short description of the model kind, e.g. "BPE (byte-level)", "BPE (byte fallback)",
 * "SentencePiece (scores)". */
const char *tok_kind(const Tokenizer *t);
/* The pre-tokenizer in one phrase, e.g. "Split(regex) + ByteLevel", "gguf pre=qwen2". */
const char *tok_pretokenizer(const Tokenizer *t);

/* Ids are 0 .. tok_vocab_size()-1 (the largest id + 1, added tokens included). */
int tok_vocab_size(const Tokenizer *t);
/* GGUF: tokenizer.ggml.bos/eos_token_id. tokenizer.json: bos_token/eos_token of the
 * tokenizer_config.json beside it, else a conventional special token (<s>, <|begin_of_text|> ...). */
int tok_bos(const Tokenizer *t); /* -1 when the tokenizer has none */
int tok_eos(const Tokenizer *t); /* -1 when the tokenizer has none */

/* The token as the vocabulary stores it ("Ġdef", "▁def", "<0x0A>", "<|endoftext|>"), NUL-terminated;
 * "" for an unused id. len may be NULL. */
const char *tok_piece(const Tokenizer *t, int id, size_t *len);
/* The bytes the token stands for in text (" def", "\n", a special token's content). May contain NUL
 * bytes and need not be valid UTF-8 (a byte token or part of a multi-byte character). */
const char *tok_bytes(const Tokenizer *t, int id, size_t *len);
unsigned tok_flags(const Tokenizer *t, int id);

/* The id of the vocabulary entry stored exactly as PIECE, or -1. */
int tok_id_of_piece(const Tokenizer *t, const char *piece, size_t len);
/* The id of the non-special token whose bytes (tok_bytes) are exactly BYTES, or -1. When several
 * tokens share the bytes (a byte token and a normal one), the normal one wins. */
int tok_id_of_bytes(const Tokenizer *t, const char *bytes, size_t len);

/* Appends the ids of TEXT (UTF-8, len bytes, NULs allowed) to OUT. No BOS/EOS is added. Invalid
 * UTF-8 input is an error naming the byte offset ("invalid UTF-8 at byte N"). */
int tok_encode(const Tokenizer *t, const char *text, size_t len, unsigned flags, IntVec *out,
               Err *err);
/* Appends the decoded text of IDS to OUT, through the tokenizer's decoder (byte-level, Metaspace,
 * ByteFallback, Strip, ...) as tokenizers' decode(skip_special_tokens=False) does: bytes that do not
 * form UTF-8 become U+FFFD. GGUF tokenizers write added/control tokens as they are (llama.cpp).
 * Ids out of range are an error. */
int tok_decode(const Tokenizer *t, const int *ids, size_t n, Buf *out, Err *err);

/* 1 when A and B have the same vocabulary: as many ids, and every id stored as the same piece
 * (so the same next-token distribution means the same thing under both). */
int tok_same_vocab(const Tokenizer *a, const Tokenizer *b);

#endif
