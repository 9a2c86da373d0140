/* drift_bytes: the per-byte comparisons of a drift shard (--shard with a variant on another
 * vocabulary, or --bytes) and their exact merge (docs/scale.md).
 *
 * A per-byte variant's totals (TfBytes) are sums of doubles, added byte by byte in byte order
 * within a file and file by file in corpus order (tfledger_take), so a merge must replay the same
 * additions in the same order. A shard's base scores only its windows: the bytes both lanes saw in
 * a shard are its share of the unsharded run's, the shares are disjoint, and each byte's values are
 * those of the unsharded run (the base window and the variant window that score it run the same
 * tokens). So a shard logs, per per-byte variant, every byte both lanes saw — as runs of
 * consecutive bytes of one file with the same class and the same two values — and the windows the
 * variant ran (or, when the unsharded run runs every window of the variant, all of the file's);
 * the merge sorts the shards' runs by file and offset, adds them byte by byte into the totals,
 * and counts the union of the windows (drift_models.csv's tokens).
 *
 * Encoding (little-endian), per per-byte variant in model order:
 *   u64 runs, runs × {u32 file, u64 offset, u32 bytes, u16 language, u8 class, f64 nll_base,
 *   f64 nll_var}; u64 ranges, ranges × {u32 file, u32 first window, u32 windows}.
 *
 * Ownership: a TfByteLog owns its buffers (tfbytelog_free).
 * Errors: tfbytes_merge returns -1 and one line in *err (a damaged section, runs of two shards on
 * the same byte: shards of different runs). */
#ifndef COLDTOK_DRIFT_BYTES_H
#define COLDTOK_DRIFT_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/drift.h"
#include "analysis/drift_stream.h"

struct TfByteLog {
    Buf runs, ranges;          /* the files done and kept, encoded */
    uint64_t nruns, nranges;
    Buf frun;                  /* the file being scored: its runs and windows, until it is kept */
    uint64_t fnruns;
    long *fwin;                /* the windows run in it, in order */
    size_t nfwin, fwin_cap;
    uint32_t file;
    uint16_t lang;
    int open;                  /* a run is pending: */
    uint64_t off;
    uint32_t len;
    uint8_t cls;
    double nb, nv;
};

/* Starts file `file` (its corpus index) of language lang. */
void tfbytelog_file(TfByteLog *g, uint32_t file, int lang);
/* The variant ran window w of the file. */
void tfbytelog_window(TfByteLog *g, long w);
/* Logs the held bytes before upto that lane 0 and lane k both saw into logs[k] (k >= 1; NULL: not
 * logged); call it just before tfledger_take with the same upto. */
void tfbytelog_take(const TfLedger *l, size_t upto, TfByteLog *const *logs);
/* Ends the file: keep = 0 drops what it logged (the lane stopped spelling the file); with
 * all_windows >= 0, windows 0 .. all_windows-1 are logged instead of those it ran (the unsharded
 * run ran them all). */
void tfbytelog_end(TfByteLog *g, int keep, long all_windows);
void tfbytelog_free(TfByteLog *g);

/* Appends the encoding of run's per-byte variants (model order; a model without a log: none). */
void tfbytes_put(Buf *b, const TfRun *run);

/* Merges n shards' sections (sec[i], len[i] bytes, read from paths[i]) into the per-byte models of
 * run (whose bytes are zero): the totals, and tokens = the union of the windows × (ctx - 1). */
int tfbytes_merge(const uint8_t *const *sec, const size_t *len, const char *const *paths, int n, TfRun *run,
                  Err *err);

#endif
