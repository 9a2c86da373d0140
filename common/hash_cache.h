/* hash_cache: SHA-256 of files, remembered in a small file so that a file hashed once is not read
 * again while it is unchanged (issue 14: a run record hashes every input, and a 1 GB model costs
 * about 0.8 CPU s but 2+ wall seconds on a loaded machine; docs/output.md "The hash cache").
 *
 *   HashCache *c = hash_cache_open("results/.sha256-cache");  // the entries of earlier runs
 *   hash_cache_file(c, "model.gguf", hex, &size, &err);       // hashed, or taken from the cache
 *   hash_cache_save(c, &err);                                  // atomically, when anything changed
 *   hash_cache_free(c);
 *
 * An entry is the file's real path (realpath), device, inode, size, and modification and change
 * times in nanoseconds; it is used only when all six still match the file (stat, following
 * symlinks). Never trusted: a file whose stat changed while it was hashed, or whose modification
 * or change time is less than 2 s before the hash (a file still being written could change again
 * within the same timestamp tick); such digests are returned but not stored. The cache file is
 * advisory: a missing, unreadable or malformed one (or line) is an empty one, a path holding a tab
 * or a newline is never stored, and at most HASH_CACHE_MAX entries are kept (those of this run
 * first). It is written through PATH.tmpXXXXXX, fsync and rename.
 *
 * With the environment variable COLDTOK_DEBUG_HASH set, every lookup prints one line to stderr,
 * "coldtok: sha256: hashed PATH" or "coldtok: sha256: cached PATH" (the tests count reads so).
 *
 * Ownership: the HashCache copies what it is given; hash_cache_free frees it. NULL cache: every
 * call hashes (no file). Errors: -1 with "PATH: what is wrong" in err (from reading the file to
 * hash, or from writing the cache file). */
#ifndef COLDTOK_HASH_CACHE_H
#define COLDTOK_HASH_CACHE_H

#include <stdint.h>

#include "common/sha256.h"
#include "common/util.h"

#define HASH_CACHE_MAX 4096

typedef struct HashCache HashCache;

/* A cache kept in the file PATH (read now if it exists). */
HashCache *hash_cache_open(const char *path);
/* SHA-256 and size of the file at path, from the cache when its entry still matches, else by
 * reading it (sha256_file), and then remembered. size may be NULL. */
int hash_cache_file(HashCache *c, const char *path, char hex[SHA256_HEX_LEN], uint64_t *size, Err *err);
/* Writes the cache file when an entry was added or changed; 0 when there was nothing to write. */
int hash_cache_save(HashCache *c, Err *err);
/* Files read and hashed so far (not taken from the cache). */
unsigned long hash_cache_hashed(const HashCache *c);
void hash_cache_free(HashCache *c);

#endif
