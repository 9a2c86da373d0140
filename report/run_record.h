/* run_record: what a result folder was made from, so a number in it can be traced (issue 14).
 * Every `-o DIR` of probe, diff, drift and coverage gets DIR/run.json and DIR/version
 * (docs/output.md "run.json"):
 *   tool, version (coldtok_version()), command and argv (as typed, "coldtok" first), cwd,
 *   start and end (UTC, ISO 8601 "2026-12-06T23:04:05Z"), threads, compute (when the command has
 *   a compute mode), cpu (/proc/cpuinfo's "model name"), and inputs: one object per file read,
 *   {path, kind, bytes, sha256}, plus "folder" for a file found inside a folder given on the
 *   command line (a Hugging Face model folder: config.json, generation_config.json, *.safetensors,
 *   *.safetensors.index.json and the tokenizer files; a keyword folder: its *.tsv files).
 * Paths are recorded as given (relative to cwd); the same path given twice is recorded once, with
 * the first kind. Files are hashed when the record is written, after the run (a model is usually
 * still in the page cache then), with common/sha256, each path once per run (run_record_digest
 * remembers it, so models.csv's digests and run.json's share one read), through the hash cache
 * DIR/.sha256-cache (common/hash_cache.h): an unchanged file hashed by an earlier run into the
 * same folder is not read again.
 * DIR/run.json is written atomically: DIR/run.json.tmpXXXXXX, fsync, rename; so is DIR/version
 * (one line: coldtok_version()). DIR must exist (table_save_dir made it).
 *
 * Ownership: a RunRecord copies every string it is given; run_record_free frees it.
 * Errors: run_record_write returns -1 with "PATH: what is wrong" in err. */
#ifndef COLDTOK_RUN_RECORD_H
#define COLDTOK_RUN_RECORD_H

#include <stdint.h>

#include "analysis/manifest.h"
#include "common/hash_cache.h"
#include "common/sha256.h"
#include "common/util.h"

typedef struct RunRecord RunRecord;

/* Starts a record now: argv is the command's (argv[0] = the command name, as main passes it).
 * threads defaults to OpenMP's maximum. */
RunRecord *run_record_start(int argc, char **argv);
void run_record_threads(RunRecord *r, int threads);
/* "f32" or "bf16"; commands without a compute mode leave it out of run.json. */
void run_record_compute(RunRecord *r, const char *mode);
/* An input file or folder of the given kind ("model", "tokenizer", "keywords", "manifest",
 * "corpus", "calibration"); a folder is expanded now, in name order, by the rule above. */
void run_record_input(RunRecord *r, const char *kind, const char *path);
/* Every model of the manifest (kind "model") and the tokenizer each one is read with (kind
 * "tokenizer": the one given, else model_tokenizer_path's: the GGUF itself or the tokenizer files
 * of the model's folder). */
void run_record_models(RunRecord *r, const Manifest *m);
/* The keyword lists: the n files given (--keywords) and, when builtin, the built-in lists
 * (the .tsv files of DATA/keywords and DATA/control, kw_data_dir's folder). */
void run_record_keywords(RunRecord *r, const char *const *files, size_t n, int builtin);
/* Hashes through the cache file DIR/.sha256-cache from now on (run_record_write does it for its DIR
 * when this was not called); call it once DIR exists. */
void run_record_cache(RunRecord *r, const char *dir);
/* SHA-256 and size of one file, read at most once per run (and not at all when the cache holds
 * it unchanged). size may be NULL. */
int run_record_digest(RunRecord *r, const char *path, char hex[SHA256_HEX_LEN], uint64_t *size, Err *err);
/* model_digest below through run_record_digest (r may be NULL: plain hashing). */
int run_record_model_digest(RunRecord *r, const char *path, uint64_t *bytes, char hex[SHA256_HEX_LEN], Err *err);
/* Marks the end of the run, hashes every input and writes DIR/run.json and DIR/version (and the
 * cache file, when a file was hashed; the cache is advisory: failing to write it is no error). */
int run_record_write(RunRecord *r, const char *dir, Err *err);
void run_record_free(RunRecord *r);

/* The digest a table gives for one model (models.csv's bytes and sha256): for a file its size and
 * SHA-256; for a folder the files of the rule above, bytes summed, and the SHA-256 of the text made
 * of each file's hex digest and a newline, in file-name (byte) order — what
 * `sha256sum $(ls FILES) | cut -c1-64 | sha256sum` prints. */
int model_digest(const char *path, uint64_t *bytes, char hex[SHA256_HEX_LEN], Err *err);

#endif
