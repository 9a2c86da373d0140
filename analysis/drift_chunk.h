/* drift_chunk: drift's bounded-memory schedule (coldtok drift --mem-limit, docs/scale.md).
 *
 * The default schedule keeps every model resident and runs each window through all of them. Here
 * the windows are gathered into a chunk that a buffer of mem_limit bytes holds; the chunk is run
 * through the base, whose logits of the scored positions are kept ([windows][n_out][n_vocab]
 * floats: what KL needs) when some variant is on its vocabulary, the base is unloaded, then each
 * variant on the base's vocabulary in turn is loaded, run over the same windows, compared position
 * by position with the kept logits (tf_position, as the default schedule does) and unloaded.
 *
 * Variants compared per byte (another vocabulary, or --bytes) have windows of their own, cut from
 * the same files by their own tokenizers (drift.c's lanes, which decide which windows run exactly
 * as the default schedule does): the caller adds them to the chunk with chunk_add_bytes, each with
 * the byte offsets of its scored tokens and the ledger (drift_stream.h) of its file. When the base
 * runs a window that was given a ledger, it spreads its log-likelihoods over the bytes there (lane
 * 0), and each per-byte variant in turn is loaded, runs its windows, spreads its own (its lane)
 * and is unloaded: the ledgers then hold the numbers the default schedule's lanes wrote, and the
 * caller sums them in byte order as it does.
 *
 * Peak memory: one model (weights, forward pass) plus the buffer, whatever the number of variants:
 * the buffer holds the windows, the base's logits (only with variants on its vocabulary), the
 * comparisons, the per-byte windows and their offsets; chunk_over also counts the bytes the caller
 * holds for the chunk (its ledgers). Every number is computed from the same logits by the same
 * calls as in the default schedule, so the results are the same bits; the caller records the
 * chunk's positions window by window, variant by variant, in the default schedule's order.
 *
 * Ownership: a Chunk owns its arrays (chunk_free); the paths, ledgers and flags it holds are
 * borrowed and must outlive chunk_run. Errors: chunk_run returns -1 and one line in *err (a model
 * that cannot be reloaded, a forward pass that fails). */
#ifndef COLDTOK_DRIFT_CHUNK_H
#define COLDTOK_DRIFT_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/drift_model.h"
#include "analysis/drift_stream.h"
#include "analysis/tfstats.h"

/* A per-byte variant's window: where its log-likelihoods go. */
typedef struct {
    int model;         /* its runner's index */
    int lane;          /* its lane in the ledger */
    TfLedger *led;     /* its file's ledger (borrowed) */
    const int *dead;   /* skipped when *dead (its lane stopped spelling the file: nothing is summed) */
} ChunkByteWin;

typedef struct {
    int ctx, n_out, n_vocab;
    int nvar;          /* variants compared per position */
    int bytes;         /* 1: variants compared per byte too (windows carry offsets and ledgers) */
    size_t limit;      /* the buffer's bytes */
    long cap, n;       /* windows the buffer holds, and holds now */
    int *win;          /* [cap][ctx] the windows' tokens */
    uint8_t *cls;      /* [cap][n_out] the class of each scored position */
    int *lang;         /* [cap] */
    uint32_t *file;    /* [cap] the corpus index of each window's file */
    long *window;      /* [cap] its index in the file */
    const char **path; /* [cap] its file (borrowed) */
    float *base;       /* nvar > 0: [cap][n_out][n_vocab] the base's logits */
    TfPos *pos;        /* [nvar][cap][n_out] each variant's comparison */
    TfLedger **led;    /* bytes: [cap] NULL, or where the base's log-likelihoods go */
    size_t *off;       /* bytes: [cap][n_out + 1] the byte offsets of the scored tokens */
    long nb, bcap;     /* per-byte windows held, and room */
    ChunkByteWin *bw;  /* [bcap] */
    int *bwin;         /* [bcap][ctx] their tokens */
    size_t *boff;      /* [bcap][n_out + 1] the byte offsets of their scored tokens */
} Chunk;

/* Bytes the buffer takes per window (bytes: with offsets for the per-byte comparison). */
size_t chunk_window_bytes(int ctx, int n_vocab, int nvar, int bytes);

/* A chunk of as many windows as mem_limit bytes hold (at least one, at most max_windows: the
 * buffer is no larger than the run needs). bytes: some variant is compared per byte. */
void chunk_init(Chunk *k, size_t mem_limit, long max_windows, int ctx, int n_vocab, int nvar, int bytes);
void chunk_free(Chunk *k);

/* Adds a base window (win: ctx tokens, cls: n_out classes; led NULL, or the ledger and the n_out + 1
 * byte offsets its log-likelihoods are spread over); returns 1 when the chunk is now full. */
int chunk_add(Chunk *k, const int *win, const uint8_t *cls, int lang, uint32_t file, long window, const char *path,
              TfLedger *led, const size_t *off);
/* Adds a window of a per-byte variant (win: ctx tokens, off: n_out + 1 byte offsets). */
void chunk_add_bytes(Chunk *k, ChunkByteWin bw, const int *win, const size_t *off);
/* 1 when the chunk must run: its windows fill it, or its buffer and the caller's extra bytes
 * pass the limit. */
int chunk_over(const Chunk *k, size_t extra);

/* Runs the chunk: the base r[0] (reloaded, then unloaded), then the variants r[var_index[0..nvar-1]]
 * one at a time, then each of r[1..nmodels-1] that has per-byte windows. scratch: [threads]
 * 2 * n_vocab floats each. done and total only feed the progress line. Empties the per-byte
 * windows (the caller records the base windows and sets n = 0). */
int chunk_run(Chunk *k, Runner *r, int nmodels, const int *var_index, int threads, float **scratch, long done,
              long total, Err *err);

#endif
