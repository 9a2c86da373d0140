/* coverage: how a tokenizer's vocabulary covers keyword sets.
 *
 * For every keyword K of every selected language:
 *   bare_id    the token whose bytes are exactly K (tok_id_of_bytes), or -1;
 *   space_id   the token whose bytes are exactly " " K (stored as "Ġdef" in byte-level BPE,
 *              "▁def" in SentencePiece), or -1;
 *   bare_ntok  the number of tokens of the canonical encoding of K, encoded as text that continues
 *              a line (TOK_ENC_NO_SPECIAL | TOK_ENC_NO_PREFIX: no SentencePiece "▁" is prepended);
 *   space_ntok the same for " " K;
 *   pieces     the vocabulary strings of those tokens, joined by single spaces.
 * A token id is also a rough frequency rank: BPE vocabularies are ordered by merge order.
 * Match rules: bare (K is a token: the seed paper's "bare exact match"), space (" " K is a
 * token), either (one of them is). Per language: covered/total, the mean token counts of both
 * forms, and the keywords not covered. The "all" totals add the languages up (a word listed by two
 * languages counts in each).
 *
 * Ownership: a Coverage borrows the language and keyword strings of the KwSet it was computed
 * from (keep the KwSet alive) and owns everything else; coverage_free releases it.
 * Errors: coverage_compute fails only when the tokenizer cannot encode a keyword. */
#ifndef COLDTOK_COVERAGE_H
#define COLDTOK_COVERAGE_H

#include <stddef.h>

#include "analysis/keywords.h"
#include "common/util.h"
#include "tokenizer/tokenizer.h"

typedef enum { MATCH_BARE, MATCH_SPACE, MATCH_EITHER } MatchRule;

typedef struct {
    const char *lang, *word;
    int bare_id, space_id;
    int bare_ntok, space_ntok;
    char *bare_pieces, *space_pieces;
    int covered;
} KwCoverage;

typedef struct {
    const char *lang;
    size_t first, count; /* its keywords: items[first .. first+count) */
    size_t covered;
    double mean_bare_ntok, mean_space_ntok;
} LangCoverage;

typedef struct {
    MatchRule rule;
    KwCoverage *items;
    size_t nitems;
    LangCoverage *langs;
    size_t nlangs;
    size_t covered; /* over all languages */
    double mean_bare_ntok, mean_space_ntok;
} Coverage;

/* Measures every keyword of the selected languages of KW. */
int coverage_compute(const Tokenizer *t, const KwSet *kw, MatchRule rule, Coverage *out, Err *err);
void coverage_free(Coverage *c);

/* "bare" | "space" | "either"; returns -1 for anything else. */
int match_rule_parse(const char *s, MatchRule *rule);
const char *match_rule_name(MatchRule rule);

/* A short column label for a tokenizer path: the file name without .json/.gguf, or, for a file
 * called tokenizer.json, the nearest folder name that is not "models" (…/tokenizer-qwen3/models/
 * tokenizer.json -> "tokenizer-qwen3"). Heap string. */
char *source_label(const char *path);

#endif
