/* tok_json_read: a Hugging Face tokenizer.json, read in one place for the two that use it: the
 * loader (tok_json.c builds a Tokenizer) and the converter (tokconv.c writes GGUF metadata).
 *
 * tokjson_open parses the file and finds the model; tokjson_read_bpe reads a BPE model's
 * vocabulary, added tokens and merges into plain arrays, checking what every user of them relies
 * on (ids in range, an id and a content per added token, merges as "a b" or ["a", "b"]);
 * tokjson_steps flattens the normalizer, the pre-tokenizer or the decoder (their "Sequence"s) into
 * a list of typed steps. What a model type or a step means is the caller's business: nothing here
 * refuses a model or a step type.
 *
 * Two JSON libraries, for speed: jansson (the project's) reads everything but a BPE model's vocab
 * and merges, which cJSON parses about six times faster (Qwen3's 11 MB file: jansson ~300 ms
 * CPU, cJSON ~50 ms; jansson hashes every member of the 151k-entry vocab object); cJSON's nodes
 * go to an arena that tokjson_close drops whole (tok_json_read.c says how). tokjson_open
 * parses the file with cJSON, detaches model.vocab and model.merges and hands the rest, printed
 * back, to jansson. A file cJSON could read differently from jansson (a \u0000 escape: cJSON's
 * strings end at NUL; a control byte; bytes that are not UTF-8, which cJSON does not check; a
 * vocab that is not an object, merges not an array) or that cJSON refuses goes to jansson whole,
 * as before: the same result, or jansson's error with its line and column (tok_json_check.h
 * checks the text; it does not see a raw tab or newline inside a string, which cJSON accepts).
 *
 * Ownership: a TokJson owns the file's text (mapped, read-only) and its parsed trees; every
 * string and node it hands out lives until tokjson_close. Strings are (pointer, length):
 * tokenizer.json may hold NUL bytes.
 * Errors: -1 with one line "PATH: problem". */
#ifndef COLDTOK_TOK_JSON_READ_H
#define COLDTOK_TOK_JSON_READ_H

#include <stddef.h>

#include <jansson.h>

#include "common/util.h"
#include "tokenizer/tok_table.h"

typedef struct {
    const char *s;
    size_t len;
    int id;
} TjPiece; /* a vocabulary entry */

typedef struct {
    const char *content;
    size_t len;
    int id;
    int special, single_word, lstrip, rstrip, normalized; /* tokenizers' defaults when absent */
} TjAdded;

typedef struct {
    const char *a, *b;
    size_t al, bl;
    size_t index;     /* in the file's merges list */
    uint64_t ha, hb; /* tok_hash of a and b: taken while the strings are read, in the cache */
} TjMerge;

typedef struct {
    const json_t *node; /* the step's object, for its own fields */
    const char *type;
} TjStep;

typedef struct {
    TjStep *v; /* the caller frees v (NULL after an error) */
    int n;
    int present; /* the file has one (not absent or null), even if it flattens to no steps */
} TjSteps;

enum TjList { TJ_NORMALIZER, TJ_PRE_TOKENIZER, TJ_DECODER };

typedef struct {
    const char *path; /* the caller's, for messages */
    MappedFile file;
    const char *text; /* the whole file (mapped; not NUL-terminated) */
    size_t len;
    json_t *root;
    /* tokjson_open */
    json_t *model;    /* the "model" object, or NULL */
    const char *type; /* its type ("BPE" when untagged but with a merges list, as tokenizers
                         infers), or NULL */
    int byte_fallback, ignore_merges, fuse_unk;
    const char *unk; /* unk_token, or NULL */
    size_t unk_len;
    /* tokjson_read_bpe */
    TjPiece *vocab; /* in file order */
    size_t n_vocab;
    TjAdded *added;
    size_t n_added;
    TjMerge *merges; /* "#version" header lines left out */
    size_t n_merges;
    int n_ids;                            /* the largest id (vocabulary or added) + 1 */
    const char *cont_prefix; /* continuing_subword_prefix, or NULL */
    size_t cont_prefix_len;
    const char *eow_suffix; /* end_of_word_suffix, or NULL */
    size_t eow_suffix_len;
    /* the fast route (see above): model.vocab and model.merges as cJSON detached them, or NULL;
     * their nodes live in cj_arena (tok_json_read.c) */
    struct cJSON *cj_vocab, *cj_merges;
    struct CjArena *cj_arena;
    /* tokjson_vocab_id's index over vocab[], built at its first call */
    StrMap index;
    Buf index_arena;
} TokJson;

/* Reads and parses path (a JSON object); the model's type and options. */
int tokjson_open(TokJson *tj, const char *path, Err *err);
/* The vocabulary, added tokens, options and merges of a BPE model (tj->model set). */
int tokjson_read_bpe(TokJson *tj, Err *err);
/* The id of the vocabulary entry piece (after tokjson_read_bpe), or -1; the first entry when a
 * piece is listed twice. */
int tokjson_vocab_id(TokJson *tj, const char *piece, size_t len);
/* One of the three step lists, Sequences flattened in order. */
int tokjson_steps(const TokJson *tj, enum TjList which, TjSteps *out, Err *err);
void tokjson_close(TokJson *tj);

/* A step's fields: a string member (and its length; len may be NULL), or NULL; a boolean member,
 * or def when absent or not a boolean. */
const char *tokjson_str(const json_t *obj, const char *key, size_t *len);
int tokjson_bool(const json_t *obj, const char *key, int def);

#endif
