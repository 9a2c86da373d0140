/* tok_build: a Tokenizer from pieces, for the loaders (tok_json.c, tok_gguf.c): a new Tokenizer,
 * its token table and string arena, the lookups a loader needs while filling them, and
 * tok_finish, which derives everything else once the loader is done. tok_free (tokenizer.h) lives
 * here too: it frees what these build.
 *
 * A loader's part, between tok_new and tok_finish: the kind and pre-tokenizer description, the
 * model (t->model, piece_map, merges or scores, options), the table (tok_alloc_table, then pieces
 * and flags per id), the added tokens (t->added, added_map; their bytes = their content), the
 * normalizer/pre-tokenizer/decoder steps, bos/eos/unk. */
#ifndef COLDTOK_TOK_BUILD_H
#define COLDTOK_TOK_BUILD_H

#include "tokenizer/tok_internal.h"

/* A zeroed Tokenizer that owns path (bos, eos, unk and the byte ids -1). */
Tokenizer *tok_new(char *path);
/* Appends s (and a NUL, so pieces and bytes are C strings) to the arena; returns its offset. */
uint32_t tok_arena_put(Tokenizer *t, const char *s, size_t len);
/* Room for extra more bytes in the arena (tok_bulk_alloc's pages when it moves): a loader that
 * knows how much its pieces take reserves it at once instead of growing the arena by doubling. */
void tok_arena_reserve(Tokenizer *t, size_t extra);
/* The token table for ids 0 .. n_vocab-1, every id unused and empty until the loader fills it. */
void tok_alloc_table(Tokenizer *t, int n_vocab);
/* The id of the added token or vocabulary entry stored exactly as piece, or -1 (what
 * tok_id_of_piece answers). */
int tok_find_piece(const Tokenizer *t, const char *piece, size_t len);

/* After the loader filled pieces/flags/added tokens and steps: computes bytes, byte ids, flags
 * of holes, and the normalized added-token trie. */
int tok_finish(Tokenizer *t, Err *err);
/* The bytes map (bytes -> id), built at the first call, once, whichever threads ask; a finished
 * Tokenizer is otherwise read-only. */
const StrMap *tok_bytes_map(const Tokenizer *t);

#endif
