/* sha256: SHA-256 of a buffer or of a whole file, through OpenSSL's libcrypto (EVP_Digest), which
 * uses the CPU's SHA instructions where there are any (bench/bench_sha256.c measures it: the issue's
 * target is under 1 s per GB). A regular file is hashed through a read-only mapping, 8 MiB at a
 * time (no copy out of the page cache); what cannot be mapped (a pipe, an empty file) is read in
 * 8 MiB chunks instead.
 *
 * Digests are returned as 64 lowercase hex characters plus a NUL (the form sha256sum prints) in a
 * caller-owned char[SHA256_HEX_LEN]. Errors: -1 with "PATH: what is wrong" in err. */
#ifndef COLDTOK_SHA256_H
#define COLDTOK_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define SHA256_HEX_LEN 65

/* SHA-256 of data[0..len) as hex into hex. Cannot fail short of libcrypto failing (then -1). */
int sha256_buffer(const void *data, size_t len, char hex[SHA256_HEX_LEN], Err *err);

/* SHA-256 of the whole file at path as hex into hex; its size in bytes into *size when size is
 * not NULL. */
int sha256_file(const char *path, char hex[SHA256_HEX_LEN], uint64_t *size, Err *err);

#endif
