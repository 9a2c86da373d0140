/* tok_internal: the Tokenizer's representation and the engine that encodes and decodes with it,
 * shared by the tokenizer's .c files and seen by nobody else.
 *
 * A Tokenizer is a token table (pieces, bytes, flags in one string arena), hash maps over it, the
 * model (BPE merges or SentencePiece scores), the added-token matchers, and three flat step lists:
 * normalizers, pre-tokenizers, decoders (Hugging Face "Sequence"s are flattened at load time).
 * Everything is built by a loader (tok_json.c, tok_gguf.c) and read-only afterwards; per-call state
 * lives in an EncCtx on the caller's stack.
 *
 * The files of tokenizer/, bottom up; each calls only files listed before it (no cycles):
 *   tok_table.c      hash maps, trie, GPT-2 byte table, quoting            tok_table.h
 *   tok_model.c      BPE / SentencePiece merging of one pre-token          this header
 *   tok_pipeline.c   patterns, normalizers, pre-tokenizers                 this header
 *   tok_decode.c     decoders; what one piece stands for in text           this header
 *   tok_cut.c        cut points of long texts (tok_cut, tok_prepare_cuts)  this header, tokenizer.h
 *   tok_build.c      a Tokenizer from pieces: table, arena, finish, free   tok_build.h
 *   tok_json_read.c  tokenizer.json read once: model, tables, steps        tok_json_read.h
 *   tok_json.c       loader: a Tokenizer from a tokenizer.json             tok_load.h
 *   tok_gguf.c       loader: a Tokenizer from GGUF tokenizer.ggml.* keys   tok_load.h
 *   tokenizer.c      the API: tok_load picks a loader; encode, decode      tokenizer.h
 *   tokconv.c        tokenizer.json as GGUF tokenizer.ggml.* metadata      tokconv.h
 *   tok_stream.c     the encoding stream (TokStream), on tokenizer.h only  tokenizer.h
 * tokconv.c reads through tok_json_read.c only: it needs no Tokenizer. tok_regex.h (header only):
 * the pre-tokenizer regexes of well-known models, for tok_json.c, tok_gguf.c and tokconv.c. */
#ifndef COLDTOK_TOK_INTERNAL_H
#define COLDTOK_TOK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>

#include <oniguruma.h>

#include "common/util.h"
#include "tokenizer/tok_table.h"
#include "tokenizer/tokenizer.h"

/* ---- patterns ---- */

/* A Hugging Face pattern: {"String": s} (literal) or {"Regex": r} (Oniguruma, run verbatim). */
typedef struct {
    int is_regex;
    regex_t *re; /* for regexes and the empty literal */
    char *lit;
    size_t lit_len;
    char *src; /* the pattern as written (regexes too): tok_cut.c recognizes known ones; messages */
    size_t src_len;
} Pattern;

/* One match or gap of a pattern over a subject (the Hugging Face find_matches list). */
typedef struct {
    size_t start, end;
    int is_match;
} Match;
typedef struct {
    Match *v;
    size_t n, cap;
} MatchVec;

/* ---- normalizers, pre-tokenizers, decoders ---- */

enum NormKind {
    NORM_NFC,
    NORM_NFKC,
    NORM_NFD,
    NORM_NFKD,
    NORM_LOWER,
    NORM_PREPEND,
    NORM_REPLACE,
    NORM_STRIP
};
typedef struct {
    int kind;
    char *str; /* Prepend: the prefix; Replace: the content */
    size_t len;
    Pattern pat;
    int left, right; /* Strip */
} NormStep;

enum PreKind { PRE_BYTELEVEL, PRE_SPLIT, PRE_METASPACE };
enum Behavior { B_REMOVED, B_ISOLATED, B_MERGED_PREV, B_MERGED_NEXT, B_CONTIGUOUS };
enum Prepend { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER };
typedef struct {
    int kind;
    Pattern pat; /* Split (also Digits, Whitespace, WhitespaceSplit, ByteLevel's regex) */
    int behavior, invert;
    int add_prefix_space, use_regex; /* ByteLevel */
    char repl[8];                    /* Metaspace replacement (UTF-8) */
    int repl_len, prepend, split;    /* Metaspace */
} PreStep;

enum DecKind { DEC_BYTELEVEL, DEC_METASPACE, DEC_REPLACE, DEC_BYTEFALLBACK, DEC_FUSE, DEC_STRIP };
typedef struct {
    int kind;
    Pattern pat; /* Replace */
    char *content;
    size_t content_len;
    uint32_t strip_cp; /* Strip: the character */
    int start, stop;   /* Strip */
    uint32_t repl_cp;  /* Metaspace */
    int prepend;       /* Metaspace */
} DecStep;

/* ---- the tokenizer ---- */

enum Model { MODEL_BPE, MODEL_SPM };

typedef struct {
    int id;
    uint32_t off, len;   /* content in the arena */
    uint32_t noff, nlen; /* normalized content (normalized tokens) */
    uint8_t special, single_word, lstrip, rstrip, normalized;
} AddedTok;

struct Tokenizer {
    char *path;
    char kind[64];
    char pre_desc[256];
    int model;
    int n_vocab;
    int bos, eos, unk;

    /* token table: pieces and bytes live in arena */
    Buf arena;
    uint32_t *piece_off, *piece_len, *bytes_off, *bytes_len; /* one block with flags, at piece_off */
    uint8_t *flags;
    float *scores; /* SPM */

    StrMap piece_map; /* model vocabulary: piece -> id (what BPE/SPM look pieces up in) */
    StrMap added_map; /* added tokens: content -> id */
    StrMap bytes_map; /* bytes -> id (tok_id_of_bytes), built at its first call (a load's
                       * 4-5 ms for a 151k-token vocabulary that few commands ask): */
    pthread_mutex_t bytes_lock; /* held while it is built */
    atomic_int bytes_ready;     /* and set once it is */

    /* BPE */
    PairMap merges;
    int byte_fallback, ignore_merges, fuse_unk;
    int unk_missing; /* unk_token named but not in the vocabulary */
    char *cont_prefix, *eow_suffix;
    size_t cont_prefix_len, eow_suffix_len;
    int byte_id[256]; /* <0xNN> tokens, or -1 */

    /* SPM (GGUF "llama") */
    int add_space_prefix;

    /* added tokens */
    AddedTok *added;
    int n_added;
    Trie raw_trie, norm_trie; /* values: index into added */

    NormStep *norm;
    int n_norm;
    PreStep *pre;
    int n_pre;
    DecStep *dec;
    int n_dec;
    int has_decoder;
    int added_raw;  /* decoding writes added tokens as they are, outside the decoder chain
                       (llama.cpp's token_to_piece for GGUF; tokenizers sends them through it) */
    int byte_level; /* pieces are GPT-2 byte-level strings */
    int missing_byte_fails; /* byte-level: a byte without its token fails the encoding (GGUF, as
                               llama.cpp aborts there) instead of being dropped (tokenizers) */
    int meta_split; /* no token has "▁" after another character: long words may be cut before
                       each such "▁" and merged piecewise with the same result */

    /* streaming (tok_cut.c): the cut rules this pipeline allows (TOK_CUT_*, 0: none), and what
     * the added tokens forbid: a cut before byte c (cut_first, tokens with lstrip or single_word),
     * after byte c (cut_last, any token), between ASCII bytes a and b (cut_pair[a][b]) */
    unsigned cut_rules;
    uint8_t cut_first[256], cut_last[256];
    uint8_t cut_pair[128][128];
};

/* tok_encode flag, internal: TOK_ENC_NO_PREFIX holds at pre-tokenizer depth 0 only (the segment
 * that continues a cut text: see tok_cut.c) and is dropped below it. */
#define TOK_ENC_TOP_ONLY_ (1u << 30)

/* Computes cut_rules and the cut tables once the tokenizer is complete (tok_cut.c). */
void tok_prepare_cuts(Tokenizer *t);

/* ---- per-call state ---- */

/* A candidate merge in the BPE/SPM priority queue. */
typedef struct HeapEnt {
    uint32_t rank;   /* BPE: merge rank; SPM: byte length of the bigram */
    int pos;         /* left symbol */
    uint32_t new_id; /* BPE: merged id; SPM: right symbol */
    float score;     /* heap key: BPE rank, SPM -score */
} HeapEnt;

/* Per-call scratch: all the growable buffers one encode needs, reused across pieces. */
typedef struct {
    OnigRegion *region;
    OnigMatchParam *mparam; /* the backtracking limit of each search (tok_pipeline.c) */
    /* per pre-tokenizer depth (0 .. n_pre): matches, rewritten text, one mapped piece, memo */
    int depth;
    MatchVec *mv;
    Buf *tb, *mb;
    StrMap *memo; /* depth k: span text -> index into memo_ids (count, then ids) */
    Buf memo_keys;
    IntVec memo_ids;
    int use_memo;
    /* BPE / SPM symbols and heap */
    int *sym, *prev, *next, *dead;
    size_t nsym, capsym;
    HeapEnt *heap;
    size_t nheap, capheap;
    Buf word;
} EncCtx;

/* ---- the model (tok_model.c) ---- */

/* The model over one pre-token. */
int tok_model_word(const Tokenizer *t, EncCtx *c, const char *w, size_t n, IntVec *out, Err *err);

/* ---- patterns, normalizers, pre-tokenizers (tok_pipeline.c) ---- */

/* Compiles; on failure leaves "problem" (no path) in err. */
int pattern_init(Pattern *p, int is_regex, const char *s, size_t len, Err *err);
void pattern_free(Pattern *p);
/* Matches of p in s[0..len) as Hugging Face lists them (gaps and matches, in order). */
int pattern_matches(const Pattern *p, EncCtx *c, const char *s, size_t len, MatchVec *out,
                    Err *err);
/* Appends in[0..len) to out with every match of p replaced by with[0..wlen). */
int pattern_replace(const Pattern *p, EncCtx *c, const char *in, size_t len, const char *with,
                    size_t wlen, Buf *out, Err *err);

/* Applies the normalizers to in, writing to out. */
int tok_normalize(const Tokenizer *t, EncCtx *c, const char *in, size_t len, unsigned flags,
                  Buf *out, Err *err);
/* Pre-tokenizes and runs the model over one segment of text (no added tokens in it). */
int tok_encode_segment(const Tokenizer *t, EncCtx *c, const char *s, size_t len, int first,
                       unsigned flags, IntVec *out, Err *err);
void encctx_free(EncCtx *c);

/* ---- decoders (tok_decode.c) ---- */

/* Decoding: the token strings through the decoder steps. */
int tok_run_decoders(const Tokenizer *t, const int *ids, size_t n, Buf *out, Err *err);
/* What one piece stands for in text (for tok_bytes): the decoder steps in "middle of the text,
 * raw bytes" mode. */
void tok_piece_bytes(const Tokenizer *t, const char *piece, size_t len, int is_byte_token,
                     Buf *out);
/* The bytes a GPT-2 byte-level piece (n bytes) stands for, into out, which has room for n (they
 * are never more); a piece that is not byte-level is copied as it is. Returns their length. */
size_t tok_byte_level_bytes(const char *s, size_t n, char *out);

#endif
