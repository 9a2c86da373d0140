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
    TOK_ENC_CONTINUES = 1 << 2,  /* TEXT continues a text cut at a tok_cut point: encode it as the
                                    rest of that text (no leading prefix, not its first segment) */
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

/* ---- streaming ----
 * A long text may be encoded in bounded pieces: cut it at tok_cut points and encode every piece
 * after the first with TOK_ENC_CONTINUES; the ids are those of the whole text (tests/test_stream.c
 * checks it for every tokenizer at hand). A cut point is a place no added token, normalizer,
 * pre-tokenizer split or model merge of this tokenizer reaches across: after a line break, or
 * before a blank that follows a printable character, as the pipeline allows (tok_cut.c,
 * docs/tokenizers.md). A pipeline coldtok knows no such place for has none. */
enum {
    TOK_CUT_LINES = 1 << 0, /* tok_cut: only cut right after a line break ('\n') */
};
/* The last cut point b of s[0..len) with from <= b < len, or 0 when there is none. */
size_t tok_cut(const Tokenizer *t, const char *s, size_t len, size_t from, unsigned how);
/* 1 when the tokenizer has cut points at all (under HOW). */
int tok_can_cut(const Tokenizer *t, unsigned how);

/* TokStream: text in, pieces of ids out. tok_stream_put buffers text and, once PIECE bytes wait,
 * encodes everything before the last cut point and hands the piece (its text, its byte offset in
 * the whole, its ids) to fn; a non-zero return of fn stops and is returned (1: enough read; -1:
 * an error in *err). When LIMIT bytes wait with no cut point, put fails with one line (memory
 * stays bounded: about 40 bytes per byte of LIMIT at most). tok_stream_end encodes the rest (an
 * empty text: one empty piece). Sizes: TOK_STREAM_PIECE and TOK_STREAM_LIMIT, or the environment's
 * COLDTOK_STREAM_PIECE and COLDTOK_STREAM_LIMIT (bytes; the tests make pieces tiny). Invalid UTF-8
 * fails with its byte offset in the whole text. */
#define TOK_STREAM_PIECE ((size_t)1 << 20)
#define TOK_STREAM_LIMIT ((size_t)4 << 20)
typedef int (*TokPieceFn)(void *arg, const char *text, size_t len, size_t at, const IntVec *ids,
                          Err *err);
typedef struct {
    const Tokenizer *t;
    unsigned flags, how; /* tok_encode flags; tok_cut HOW */
    size_t piece, limit;
    Buf text;       /* what waits to be encoded */
    size_t at;      /* its offset in the whole text */
    size_t scanned; /* bytes of text known to hold no cut point */
    size_t pieces;  /* pieces encoded */
    IntVec ids;
} TokStream;
void tok_stream_init(TokStream *s, const Tokenizer *t, unsigned flags, unsigned how);
int tok_stream_put(TokStream *s, const char *data, size_t n, TokPieceFn fn, void *arg, Err *err);
int tok_stream_end(TokStream *s, TokPieceFn fn, void *arg, Err *err);
void tok_stream_free(TokStream *s);

/* 1 when A and B have the same vocabulary: as many ids, and every id stored as the same piece
 * (so the same next-token distribution means the same thing under both). */
int tok_same_vocab(const Tokenizer *a, const Tokenizer *b);

#endif
