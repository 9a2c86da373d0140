/* drift_chunk: drift's bounded-memory schedule (coldtok drift --mem-limit, docs/scale.md).
 *
 * The default schedule keeps every model resident and runs each window through all of them. Here
 * the windows are gathered into a chunk that a buffer of mem_limit bytes holds; the chunk is run
 * through the base, whose logits of the scored positions are kept ([windows][n_out][n_vocab]
 * floats: what KL needs), the base is unloaded, then each variant in turn is loaded, run over the
 * same windows, compared position by position with the kept logits (tf_position, as the default
 * schedule does) and unloaded. Peak memory: one model (weights, forward pass) plus the buffer,
 * whatever the number of variants. Every number is computed from the same logits by the same
 * calls as in the default schedule, so the results are the same bits; the caller records the
 * chunk's positions window by window, variant by variant, in the default schedule's order.
 *
 * Ownership: a Chunk owns its arrays (chunk_free); the paths it holds are borrowed.
 * Errors: chunk_run returns -1 and one line in *err (a model that cannot be reloaded, a forward
 * pass that fails). */
#ifndef COLDTOK_DRIFT_CHUNK_H
#define COLDTOK_DRIFT_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/drift_model.h"
#include "analysis/tfstats.h"

typedef struct {
    int ctx, n_out, n_vocab;
    int nvar;          /* variants compared per position */
    long cap, n;       /* windows the buffer holds, and holds now */
    int *win;          /* [cap][ctx] the windows' tokens */
    uint8_t *cls;      /* [cap][n_out] the class of each scored position */
    int *lang;         /* [cap] */
    uint32_t *file;    /* [cap] the corpus index of each window's file */
    long *window;      /* [cap] its index in the file */
    const char **path; /* [cap] its file (borrowed) */
    float *base;       /* [cap][n_out][n_vocab] the base's logits */
    TfPos *pos;        /* [nvar][cap][n_out] each variant's comparison */
} Chunk;

/* Bytes the buffer takes per window. */
size_t chunk_window_bytes(int ctx, int n_vocab, int nvar);

/* A chunk of as many windows as mem_limit bytes hold (at least one, at most max_windows: the
 * buffer is no larger than the run needs). */
void chunk_init(Chunk *k, size_t mem_limit, long max_windows, int ctx, int n_vocab, int nvar);
void chunk_free(Chunk *k);

/* Adds a window (win: ctx tokens, cls: n_out classes); returns 1 when the chunk is now full. */
int chunk_add(Chunk *k, const int *win, const uint8_t *cls, int lang, uint32_t file, long window, const char *path);

/* Runs the chunk: the base (reloaded, then unloaded), then vars[0..nvar-1] one at a time.
 * scratch: [threads] 2 * n_vocab floats each. done and total only feed the progress line. */
int chunk_run(Chunk *k, Runner *base, Runner *const *vars, int threads, float **scratch, long done, long total,
              Err *err);

#endif
