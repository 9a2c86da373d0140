/* drift_stream: the bookkeeping of drift's streamed scoring of one file (drift.c), so that what is
 * held in memory is a stretch of the file around the windows being run, never the file.
 *
 * TfTrack: the tokens one model's tokenizer gave so far, from the first token a window still
 * needs, with their byte offsets in the file while they spell its text exactly ("aligned").
 * TfLedger: for the stretch of bytes not yet summed, the bytes' classes (corpus_mark) and, per
 * lane (lane 0 the base, then every variant compared per byte), the negative log-likelihood each
 * byte received from the scored token that covers it; tfledger_take sums the bytes that no window
 * will write any more into per-language, per-class totals, in byte order (so the sums are those of
 * a whole-file pass, bit for bit) and drops them.
 *
 * Ownership: each structure owns its arrays; *_free releases them. No errors: allocation failure
 * aborts (common/util.h's x* functions). */
#ifndef COLDTOK_DRIFT_STREAM_H
#define COLDTOK_DRIFT_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/tfstats.h"
#include "common/util.h"
#include "tokenizer/tokenizer.h"

/* off[i] .. off[i+1] is token i's byte range in text (off may be NULL). Returns 0 when the tokens'
 * bytes spell the text exactly (at the start of a file, a leading space that a tokenizer's prefix
 * rule added before the first token is allowed), else -1 (a normalizer changed the text: positions
 * cannot be classified). */
int tf_token_offsets(const Tokenizer *t, const IntVec *ids, const char *text, size_t len, int file_start,
                     size_t *off);

typedef struct {
    const Tokenizer *tok;
    int aligned;       /* 1 while every piece's tokens spelled it (offsets are kept only then) */
    size_t tok0;       /* the file's index of ids.v[0] */
    IntVec ids;        /* the tokens from tok0 on */
    size_t *off;       /* aligned: [ids.n + 1] their byte offsets in the file */
    size_t off_cap, end; /* end: bytes of the file given so far */
} TfTrack;

void tftrack_init(TfTrack *tr, const Tokenizer *tok, int aligned);
void tftrack_free(TfTrack *tr);
/* Appends the ids of a piece (text, its offset at in the file). Returns -1 when an aligned track's
 * tokens do not spell the piece (the track is then not aligned any more), else 0. */
int tftrack_push(TfTrack *tr, const IntVec *ids, const char *text, size_t len, size_t at);
/* Tokens given so far (the file's index past the last one). */
static inline size_t tftrack_tokens(const TfTrack *tr) { return tr->tok0 + tr->ids.n; }
/* The byte offset of file token k (tok0 <= k <= tftrack_tokens; aligned tracks only). */
static inline size_t tftrack_off(const TfTrack *tr, size_t k) { return tr->off[k - tr->tok0]; }
/* The byte offset before which no kept token lies: where the next window may start writing. */
size_t tftrack_frontier(const TfTrack *tr);
/* Window w of ctx tokens: start, then file tokens w * (ctx - 1) .. + ctx - 1 (all kept). */
void tftrack_window(const TfTrack *tr, long w, int ctx, int start, int *win);
/* Forgets the tokens before file token k (at most all of them). */
void tftrack_drop(TfTrack *tr, size_t k);

typedef struct {
    int lanes;
    size_t byte0, n, cap; /* bytes byte0 .. byte0 + n of the file are held */
    uint8_t *marks;       /* [cap] corpus_mark classes (written by the caller through tfledger_marks) */
    double *nll;          /* [lanes][cap] */
    uint8_t *seen;        /* [lanes][cap] 1: the byte got a log-likelihood from that lane */
} TfLedger;

void tfledger_init(TfLedger *l, int lanes);
void tfledger_free(TfLedger *l);
/* Holds the bytes up to file offset end (new bytes: no class, nothing seen). */
void tfledger_extend(TfLedger *l, size_t end);
/* The classes of the bytes from file offset at on (held: byte0 <= at, at + len <= byte0 + n). */
static inline uint8_t *tfledger_marks(TfLedger *l, size_t at) { return l->marks + (at - l->byte0); }
/* Spreads -lp evenly over the bytes s .. e of lane k (held). */
void tfledger_spread(TfLedger *l, int k, size_t s, size_t e, double lp);
/* Marks the bytes s .. e of lane k seen (held) before their log-likelihoods are known (drift
 * --mem-limit spreads them when the chunk runs: analysis/drift_chunk.h). */
void tfledger_claim(TfLedger *l, int k, size_t s, size_t e);
/* Bytes the ledger's arrays take. */
size_t tfledger_bytes(const TfLedger *l);
/* 1 when lane k saw some byte of s .. e (held). */
int tfledger_any(const TfLedger *l, int k, size_t s, size_t e);
/* Sums the held bytes before file offset upto into acc[k] (k >= 1; NULL: lane k is not summed):
 * every byte both lane 0 and lane k saw adds to acc[k]'s totals of language lang and of all
 * (index nlangs), class by class and for TF_ALL-like index classes (the byte's class and
 * all_class); then drops them. */
void tfledger_take(TfLedger *l, size_t upto, TfBytes *const *acc, int lang, int nlangs, int nclasses,
                   int all_class);

#endif
