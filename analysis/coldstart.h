/* coldstart: what a model predicts before any text. One forward pass over a single context token
 * (by default the tokenizer's BOS; or a few tokens, such as the start of a file) gives the next-token distribution over the whole vocabulary;
 * this module measures where its mass goes: each language's keywords, structural tokens,
 * indentation, an English control set. Definitions: docs/metrics.md.
 *
 *   ColdStart cs;
 *   coldstart_run(fwd, tok, kw, context_id, &cs, &err);   // the forward pass and every measure
 *   (coldstart_run_ids: the same after a context of several tokens, e.g. a text's)
 *   ... cs.langs[i].pkp, cs.langs[i].kw[j].p_seq, cs.entropy ...
 *   coldstart_free(&cs);
 *
 * p_seq, the chain-rule probability of a keyword's canonical tokenization, needs more positions
 * for multi-token keywords: they are evaluated in token order so that keywords sharing a prefix
 * share its forward pass (the Forward's cache is rewound, never recomputed).
 *
 * Ownership: a ColdStart owns its arrays; the keyword and language names point into the KwSet,
 * which must outlive it. Errors: -1 with one line in *err. */
#ifndef COLDTOK_COLDSTART_H
#define COLDTOK_COLDSTART_H

#include <stddef.h>

#include "analysis/keywords.h"
#include "common/util.h"
#include "model/forward.h"
#include "tokenizer/tokenizer.h"

#define INDENT_MAX 32 /* indentation widths above this are counted at INDENT_MAX */

typedef struct {
    const char *word;       /* borrowed from the KwSet */
    int bare_id, space_id;  /* single tokens whose text is exactly "kw" / " kw", or -1 */
    double p_bare, p_space; /* their probabilities (0 when there is no such token) */
    double p_seq;           /* P(the canonical tokenization of kw is the first text generated) */
    int n_seq;              /* tokens in that tokenization */
    int rank;               /* 1-based rank of the likelier single token; 0 when there is none */
} KwProb;

typedef struct {
    const char *name;       /* borrowed from the KwSet */
    size_t n;
    KwProb *kw;             /* [n] */
    double pkp;             /* mass on the language's keyword tokens, each id once */
    double kap;             /* pkp / n */
    double pkp_seq;         /* sum of p_seq over the keywords (comparable across vocabularies) */
    size_t n_mass[4];       /* keywords holding 80/85/90/95% of the language's keyword mass */
} LangProb;

typedef struct {
    int n_vocab;             /* the model's output size */
    int context;            /* the context's last token id */
    char *context_label;    /* e.g. "<|endoftext|> (151643)", "<s> ▁def (1 822)" */
    char *context_piece;    /* the context's tokens as the vocabulary stores them, joined by spaces */
    char *context_ids;      /* their ids, joined by spaces ("1 822") */
    int n_context;          /* how many tokens the context has (1 for a start token) */
    double *logp;           /* [n_vocab] log-probabilities of the next token */
    double entropy;         /* nats */
    double stp;             /* mass on tokens made only of punctuation, symbols and whitespace */
    double indent_mass;     /* mass on indentation tokens (all kinds and widths) */
    double indent[2][2][INDENT_MAX + 1]; /* [spaces, tabs][without, with leading newline][width] */
    double nlp;             /* mass on the English control set (0 when it is not loaded) */
    LangProb *langs;        /* the KwSet's selected languages, in order */
    size_t nlangs;
    LangProb english;       /* the control set (n == 0 when absent) */
} ColdStart;

/* The context token for SPEC: "bos" (the tokenizer's BOS, else its EOS), a decimal id, or a token
 * string stored in the vocabulary. "none" is refused: a cold start needs a context. */
int coldstart_context(const Tokenizer *tok, const char *spec, int *id, Err *err);

/* The context tokens for SPEC, appended to IDS. TEXT 0: SPEC as in coldstart_context, or a list of
 * decimal ids separated by commas ("1,822") for a context of several tokens. TEXT 1: SPEC is text,
 * encoded by the tokenizer (tok_encode, no flags: a SentencePiece tokenizer puts its "▁" before it)
 * after the start token (BOS, else EOS; nothing when the tokenizer has neither), as a model reads
 * the start of a file; an empty text is the start token alone. */
int coldstart_context_ids(const Tokenizer *tok, const char *spec, int text, IntVec *ids, Err *err);

/* N_VOCAB is the model's output size; it may exceed the tokenizer's (padding rows, as in Qwen2.5),
 * never fall short of it. Ids past the tokenizer's end count as unused tokens. */
int coldstart_run(Forward *fwd, int n_vocab, const Tokenizer *tok, const KwSet *kw, int context,
                  ColdStart *cs, Err *err);
/* The same over a context of N tokens (n >= 1): one forward pass over all of them, the measures
 * taken after the last; p_seq continues the context. */
int coldstart_run_ids(Forward *fwd, int n_vocab, const Tokenizer *tok, const KwSet *kw,
                      const int *context, int n, ColdStart *cs, Err *err);
void coldstart_free(ColdStart *cs);

/* What a token's text is made of, by Unicode category (utf8proc). */
typedef struct {
    int structural;   /* non-empty, valid UTF-8, only punctuation, symbols and whitespace */
    int indent_kind;  /* 0 none, 1 spaces, 2 tabs: the text is newlines? then only that blank */
    int indent_width; /* how many blanks */
    int newline;      /* the indentation follows one or more newlines */
} TokClass;

void classify_token(const char *text, size_t len, TokClass *c);

#endif
