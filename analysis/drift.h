/* drift: teacher-forced drift of variants from a base over a code corpus (coldtok drift).
 *
 * Every model reads the same files. A file is tokenized (special-token texts stay text), cut into
 * windows of ctx tokens — the start token (BOS, else EOS) then ctx-1 file tokens, windows side by
 * side, a remainder shorter than a window dropped — and in each window the positions from ctx/2 on
 * are scored: the distribution after token i predicts token i+1, for i = ctx/2 .. ctx-2, so every
 * scored position has at least ctx/2 tokens of context (llama.cpp's perplexity convention).
 *
 * Memory: no file of logits. The base and its variants run window by window in one process: the
 * base's logits of one window's scored positions ([ctx-1-ctx/2][n_vocab] floats) are kept while
 * each variant runs the same window, compared position by position, then dropped. What is kept
 * per scored position is one TfPos per variant (16 bytes) with its language and class (3) and its
 * file (4: the cluster of the bootstrap), for exact percentiles and intervals.
 * With TfOptions.mem_limit the schedule changes, not the results: windows run in chunks, the
 * base over a chunk first, then each variant (per-byte variants too, their log-likelihoods spread
 * into the files' ledgers when the chunk runs), one model resident at a time (drift_chunk.h).
 *
 * A variant on the base's vocabulary gets the full comparison (TfPos at every scored position,
 * tagged with the file's language and the class of the true next token: corpus_span_class). A
 * variant on another vocabulary (or every variant with bytes_only) is compared per byte: each
 * model's log-likelihood of a scored token is spread evenly over the token's bytes, and the bytes
 * both models scored are summed per language and byte class (TfBytes).
 *
 * Files are read and tokenized streamed, by every model's tokenizer at once (drift.c's lanes,
 * drift_stream.h): what is held of a file is a stretch around the windows being run, never the
 * file, whether variants are compared per position or per byte (docs/drift.md gives the bound).
 *
 * Nothing is printed but the progress line: report/drift_report.h shows and writes the results,
 * and can take every scored position as the run goes (TfPositionSink: --positions).
 *
 * Ownership: a TfRun owns everything in it and is released with tfrun_free.
 * Errors: -1 and one line in *err; files that cannot be scored are counted, not errors. */
#ifndef COLDTOK_DRIFT_H
#define COLDTOK_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/corpus.h"
#include "analysis/tfstats.h"
#include "model/forward.h"
#include "tokenizer/tokenizer.h"

/* The scored positions of one window, compared for one variant on the base's vocabulary:
 * position first + i (i < n) predicts token win[first + i + 1]. */
typedef struct {
    const char *variant;       /* the variant's name */
    const char *file;          /* the corpus file */
    long window;               /* the window's index in the file */
    int first;                 /* the first scored position (ctx / 2) */
    const Tokenizer *tok;      /* the base's, for the tokens' pieces */
    const int *win;            /* [ctx] the window's tokens */
    const TfPos *pos;          /* [n] */
    const uint8_t *cls;        /* [n] MARK_* of the true next token; TF_ALL when unaligned */
    int n;
} TfWindow;

/* A receiver of every scored position as the run goes (they are not kept in order otherwise).
 * open is called once every model is loaded, before the first window (-1: the run stops with
 * its error); window for every window of every variant on the base's vocabulary; close at the
 * end whenever open succeeded (-1 fails a run that had not failed; err is NULL after a failure). */
typedef struct {
    int (*open)(void *arg, Err *err);
    void (*window)(void *arg, const TfWindow *w);
    int (*close)(void *arg, Err *err);
    void *arg;
} TfPositionSink;

typedef struct {
    const char *const *models; /* [0] the base, then the variants */
    const char *const *names;  /* short names, same order */
    int nmodels;
    const char *tokenizer;     /* NULL: each model's own */
    const char *const *tokenizers; /* NULL, or per model: its tokenizer (NULL entry: `tokenizer`) */
    int ctx;                   /* window length in tokens, >= 4 */
    long max_tokens;           /* > 0: score max_tokens / ctx windows, shared equally by the languages
                                * and drawn at random from all their files' windows (drift.c's Plan) */
    uint64_t seed;             /* of that draw */
    Compute compute;
    int bytes_only;            /* compare every variant per byte, even on the base's vocabulary */
    const TfPositionSink *positions; /* NULL, or the receiver of every scored position */
    int shard, nshards;        /* nshards > 0: score only the windows of shard `shard` (0-based) of
                                * nshards: the windows the unsharded run scores (after the
                                * --max-tokens draw), numbered in corpus order (file, then window),
                                * window g going to shard g % nshards. A variant compared per byte
                                * logs its bytes (TfModel.blog); a file is then read as far as the
                                * unsharded run reads it. The run's file counts
                                * (scored, too_short, ...) and lang_windows stay the unsharded
                                * run's; windows, positions, tokens and seconds are the shard's.
                                * analysis/drift_shard.h writes and merges the shards. */
    size_t mem_limit;          /* > 0: the bounded-memory schedule (analysis/drift_chunk.h): windows
                                * gathered in chunks whose buffer (base logits, per-byte windows and
                                * ledgers) fits in mem_limit bytes, one model resident at a time; the
                                * same results, bit for bit, per position and per byte */
} TfOptions;

typedef struct TfByteLog TfByteLog; /* a shard's per-byte records (analysis/drift_bytes.h) */

#define TF_CLASSES (MARK_COUNT + 1) /* the byte classes, then TF_ALL */
#define TF_ALL MARK_COUNT

typedef struct {
    char *name, *path, *tokenizer_path;
    int n_vocab;
    double bpw;          /* bits per weight of the matrices the forward pass reads */
    int same_vocab;      /* 1: compared per position; 0: per byte (also when bytes_only) */
    TfSample pos;        /* same_vocab: the scored positions, in corpus order; cluster = file index */
    uint16_t *pos_lang;  /* [pos.n] language index of each position */
    uint8_t *pos_class;  /* [pos.n] MARK_* of the true next token; TF_ALL when unaligned */
    size_t tags_cap;     /* room in pos_lang and pos_class */
    TfBytes *bytes;      /* [(nlangs + 1) * TF_CLASSES]: language l (nlangs = all), class c */
    long tokens;         /* tokens this model evaluated */
    TfByteLog *blog;     /* with --shard, a variant compared per byte: the bytes both it and the
                          * base saw and the windows it ran, for the merge; else NULL */
} TfModel;

typedef struct {
    TfModel *models;     /* [0] the base */
    int nmodels;
    int ctx;             /* the window length it ran with */
    const char **langs;  /* the KwSet's languages, in its order (names borrowed from it); a
                            language no scored file had has no positions and no bytes */
    int nlangs;
    size_t files, scored, empty, not_utf8, too_short, unknown, unaligned;
    char *not_utf8_names;    /* the not_utf8 files, ", "-separated (the first 5, then "..."), or NULL */
    size_t unsampled;        /* files with windows of which --max-tokens drew none */
    long *lang_windows;      /* [nlangs] windows scored per language */
    long max_tokens;         /* the options' budget (0: none) and the seed of its draw */
    uint64_t seed;
    long windows, positions; /* windows run and positions scored per same-vocabulary model */
    double seconds;          /* wall time of the model passes */
    uint32_t *win_file, *win_index; /* [windows] the file and the window (in its file) of each
                                     * window run, in order (for the shard file) */
    int *win_next;           /* with --shard: [windows][ctx-1-ctx/2] the true next token of each
                              * scored position (the --positions file of the merge); else NULL */
    long all_windows;        /* windows the unsharded run scores (= windows without --shard) */
} TfRun;

/* Runs the comparison over the corpus. The corpus's languages must be in kw. */
int tfrun(const TfOptions *o, const Corpus *c, const KwSet *kw, TfRun *run, Err *err);
void tfrun_free(TfRun *run);

/* Bytes statistics of model m for language l (run->nlangs: all) and class c (TF_ALL: all). */
const TfBytes *tfrun_bytes(const TfRun *run, int m, int l, int c);

/* Copies the positions of model m with language l (nlangs: all) and class c (TF_ALL: all) into
 * out (cleared first), each with its file's index in the corpus as its cluster (analysis/tfboot.h).
 * The same-vocabulary models hold the same positions in the same order, so two selections with
 * the same l and c pair up position by position. */
void tfrun_select(const TfRun *run, int m, int l, int c, TfSample *out);

#endif
