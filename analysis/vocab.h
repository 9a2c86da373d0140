/* vocab: what a tokenizer's vocabulary is made of.
 *
 * Every id 0 .. size-1 falls in exactly one of: unused (a hole), unknown (the unk token, even when
 * it is also special), special (TOK_SPECIAL), byte-fallback (<0xNN>), or a text token (everything
 * else, including added tokens that are not special). The text categories below look at a text token's bytes
 * (tok_bytes, e.g. " def", "\n    ") and are not exclusive of each other:
 *   whitespace     every character is white space (\t \n \v \f \r, U+0085, categories Z*)
 *   spaces[w]      exactly w spaces;               tabs[w]     exactly w tabs
 *   nl_spaces[w]   one or more line breaks (\n or \r\n) then exactly w spaces
 *   nl_tabs[w]     one or more line breaks then exactly w tabs
 *   newlines       only line breaks
 *   dead           decodes to nothing printable: no bytes, or valid UTF-8 made only of control
 *                  (Cc other than \t \n \v \f \r), format (Cf), surrogate, private-use or
 *                  unassigned code points
 *   partial_utf8   not valid UTF-8 on its own (a piece of a multi-byte character)
 *   ident          an identifier: a letter or '_', then letters, marks, decimal digits or '_'
 *                  (Unicode categories L*, M*, Nd); ident_space: the same after one space
 *   digits         only ASCII digits 0-9; digits_space: the same after one space
 *   punct          only punctuation and symbols (categories P*, S*); punct_space: after one space
 * mean_bytes is the mean byte length of the text tokens. Widths above VOCAB_MAX_WIDTH are counted
 * at VOCAB_MAX_WIDTH.
 * Errors: none (a loaded tokenizer is always measurable). */
#ifndef COLDTOK_VOCAB_H
#define COLDTOK_VOCAB_H

#include "tokenizer/tokenizer.h"

#define VOCAB_MAX_WIDTH 128

typedef struct {
    int size, unused, special, byte_fallback, unknown, text, added;
    double mean_bytes;
    int whitespace, newlines, other_whitespace;
    int spaces[VOCAB_MAX_WIDTH + 1], tabs[VOCAB_MAX_WIDTH + 1];
    int nl_spaces[VOCAB_MAX_WIDTH + 1], nl_tabs[VOCAB_MAX_WIDTH + 1];
    int dead, partial_utf8;
    int ident, ident_space, digits, digits_space, max_digits, punct, punct_space;
} VocabStats;

void vocab_measure(const Tokenizer *t, VocabStats *s);

/* The classification of one text token's bytes, exposed for tests: returns a bit set of the
 * VOC_* flags below and, for indentation, the width. */
enum {
    VOC_WHITESPACE = 1 << 0,
    VOC_SPACES = 1 << 1,
    VOC_TABS = 1 << 2,
    VOC_NL_SPACES = 1 << 3,
    VOC_NL_TABS = 1 << 4,
    VOC_NEWLINES = 1 << 5,
    VOC_DEAD = 1 << 6,
    VOC_PARTIAL = 1 << 7,
    VOC_IDENT = 1 << 8,
    VOC_IDENT_SPACE = 1 << 9,
    VOC_DIGITS = 1 << 10,
    VOC_DIGITS_SPACE = 1 << 11,
    VOC_PUNCT = 1 << 12,
    VOC_PUNCT_SPACE = 1 << 13,
};
unsigned vocab_classify(const char *bytes, size_t len, int *width);

#endif
