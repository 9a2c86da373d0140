/* drift_shard: the shard file of `coldtok drift --shard I/N` and the exact merge of N of them
 * (`coldtok merge`, docs/scale.md).
 *
 * A shard's run (TfOptions.nshards) scores every N-th window of the unsharded run; its file,
 * DIR/drift.shard, holds every scored position of it, so that the merge rebuilds the very TfRun the
 * unsharded run would have returned (the positions of every variant in corpus order, file by file
 * and window by window, with their files as clusters, languages and classes): report/ then writes
 * the same CSV bytes from it. Little-endian, written atomically (a temporary file, renamed):
 *
 *   "CTDSHARD" u32 version (2) u32 shard (0-based) u32 nshards
 *   u32 len, settings[len]: text, one "key value" line each: what every shard of one run shares
 *       (the options, the models and inputs with their SHA-256; given by the caller, compared
 *       byte for byte by the merge)
 *   u32 len, run[len]: text: the run's models (name, path, tokenizer, n_vocab, bpw), languages,
 *       file counts and lang_windows (the same in every shard) and this shard's tokens per model,
 *       windows, positions and seconds
 *   u32 n_out, u32 variants (those on the base's vocabulary), u32 record bytes, u64 records,
 *       u64 bytes of the per-byte section
 *   records: u32 file, u32 window, u16 language, u8 class[n_out], u32 next token[n_out] (the true
 *       next token of each scored position: the --positions file), then per variant on the base's
 *       vocabulary and position f32 kl, f32 lp_base, f32 lp_var, u8 flags (1 same_top1,
 *       2 top1_base, 4 top1_var) (no such variant: language 0 and classes TF_ALL, unused)
 *   the per-byte section: per variant compared per byte, the bytes both it and the base saw and
 *       the windows it ran (analysis/drift_bytes.h), which the merge replays in byte order
 *   "CTDEND\0\0" u64 records u64 FNV-1a of every byte before the mark (a file cut short by a job
 *       that died lacks the mark; a damaged byte fails the checksum)
 *
 * Ownership: a TfMerged owns its run and strings (tfmerged_free).
 * Errors: -1 and one line in *err naming the shard file and the problem; the merge refuses shards
 * of different runs (the first setting that differs), a missing or duplicated shard, shard counts
 * that differ, files cut short or not shard files. */
#ifndef COLDTOK_DRIFT_SHARD_H
#define COLDTOK_DRIFT_SHARD_H

#include "analysis/drift.h"

#define TF_SHARD_FILE "drift.shard"

/* Writes the shard file PATH of a run made with o->nshards > 0. */
int tfshard_write(const char *path, const TfRun *run, const TfOptions *o, const char *settings, Err *err);

typedef struct {
    TfRun run;      /* the unsharded run, rebuilt (run.langs point into langs) */
    char **langs;   /* [run.nlangs] */
    char *settings; /* the shards' common settings text */
    int nshards;
} TfMerged;

/* Reads the n shard files and merges them: all must come from one run and be all its shards. */
int tfshard_merge(const char *const *paths, int n, TfMerged *out, Err *err);
void tfmerged_free(TfMerged *m);

/* The value of "key value" line KEY in settings text, copied into out[cap]; -1 when absent. */
int tfshard_setting(const char *settings, const char *key, char *out, size_t cap);

#endif
