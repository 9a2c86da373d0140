/* gguf: a bounds-checked, zero-copy reader for llama.cpp GGUF files (versions 2 and 3).
 *
 * gguf_open maps the file, parses the header, every metadata key/value (all value types, nested
 * arrays) and every tensor info, and checks every count, length, offset and size against the file
 * before returning. Nothing is copied: strings and tensor data point into the mapping.
 *
 * Ownership: the Gguf owns the mapping; every pointer it hands out (keys, strings, tensor names and
 * data) lives until gguf_close.
 * Errors: gguf_open returns NULL and leaves one line "PATH: problem" in *err (truncated file, bad
 * magic, unsupported version, absurd counts, a string or tensor running past the end, overlapping
 * or misaligned tensor data, unknown tensor type ...). The getters never fail loudly: they return
 * -1/NULL when a key is absent or has another type. */
#ifndef COLDTOK_GGUF_H
#define COLDTOK_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

enum GgufValueType {
    GGUF_UINT8 = 0, GGUF_INT8 = 1, GGUF_UINT16 = 2, GGUF_INT16 = 3, GGUF_UINT32 = 4,
    GGUF_INT32 = 5, GGUF_FLOAT32 = 6, GGUF_BOOL = 7, GGUF_STRING = 8, GGUF_ARRAY = 9,
    GGUF_UINT64 = 10, GGUF_INT64 = 11, GGUF_FLOAT64 = 12,
};

#define GGUF_MAX_DIMS 4

typedef struct {
    const char *name;        /* NUL-terminated copy owned by the Gguf */
    uint32_t type;           /* ggml type number (formats/qtype.h QType) */
    int n_dims;
    int64_t ne[GGUF_MAX_DIMS]; /* ne[0] is the contiguous axis; unused dims are 1 */
    uint64_t offset;         /* from the start of the data section */
    uint64_t nbytes;
    const void *data;        /* into the mapping; aligned to gguf_alignment() for gguf_open
                                (page-aligned mapping), unaligned possible for gguf_open_memory */
} GgufTensor;

typedef struct Gguf Gguf;

Gguf *gguf_open(const char *path, Err *err);
/* The same checks on bytes already in memory (tests, fuzzers). Nothing is copied: DATA must
 * outlive the Gguf. NAME stands for the path in error messages. */
Gguf *gguf_open_memory(const void *data, size_t size, const char *name, Err *err);
void gguf_close(Gguf *g);

const char *gguf_path(const Gguf *g);
uint32_t gguf_version(const Gguf *g);
uint64_t gguf_file_size(const Gguf *g);
uint32_t gguf_alignment(const Gguf *g);
uint64_t gguf_data_offset(const Gguf *g); /* file offset of the (aligned) data section */

/* Bytes of one value of a scalar type (bool included); 0 for strings, arrays and unknown types. */
size_t gguf_type_size(int type);

/* ---- metadata ---- */
int gguf_n_kv(const Gguf *g);
const char *gguf_kv_key(const Gguf *g, int kv);
int gguf_kv_type(const Gguf *g, int kv);     /* enum GgufValueType */
int gguf_find_kv(const Gguf *g, const char *key); /* index, or -1 */

/* Scalars by key: 0 and *out set when the key holds a compatible value, -1 otherwise.
 * gguf_get_int accepts every integer type (and bool); gguf_get_float every numeric type. */
int gguf_get_int(const Gguf *g, const char *key, int64_t *out);
int gguf_get_float(const Gguf *g, const char *key, double *out);
/* An integer key that must fit a field (an int, a token id): 1 and *out when KEY holds an integer
 * (any integer type) in [lo, hi]; 0 when KEY is absent; -1 with one line in *err when it does not
 * fit, its value as the file stores it: "PATH: KEY = 4294967298 is out of range [0, 2147483647]"
 * (u64 values above INT64_MAX and negative ones included), or "PATH: KEY has type T, not an
 * integer". Reading an integer key into an int goes through here, never through a cast. */
int gguf_get_int_range(const Gguf *g, const char *key, int64_t lo, int64_t hi, int64_t *out, Err *err);
int gguf_get_bool(const Gguf *g, const char *key, int *out);
const char *gguf_get_str(const Gguf *g, const char *key, size_t *len); /* NULL: absent/not string */

/* Arrays by kv index: 0 and element type/count when kv is an array, -1 otherwise. */
int gguf_arr_info(const Gguf *g, int kv, int *elem_type, uint64_t *n);
/* Element i of a string array (NUL-terminated is not guaranteed: use len), or NULL. */
const char *gguf_arr_str(const Gguf *g, int kv, uint64_t i, size_t *len);
/* Element i of a numeric or bool array as double/int64; -1 when kv is not such an array or i is out
 * of range. */
int gguf_arr_float(const Gguf *g, int kv, uint64_t i, double *out);
int gguf_arr_int(const Gguf *g, int kv, uint64_t i, int64_t *out);
/* The raw little-endian elements of a numeric or bool array (n x element size bytes, possibly
 * unaligned: read with memcpy), or NULL for other kvs. */
const void *gguf_arr_data(const Gguf *g, int kv);
/* Element i of an array of arrays: the nested array's kv-like handle for the calls above is not
 * exposed; gguf_kv_format prints nested arrays for inspection. */

/* A one-line human-readable rendering of the value (arrays abbreviated to their first items). */
void gguf_kv_format(const Gguf *g, int kv, Buf *out);

/* ---- tensors ---- */
int gguf_n_tensors(const Gguf *g);
const GgufTensor *gguf_tensor(const Gguf *g, int i);
const GgufTensor *gguf_find_tensor(const Gguf *g, const char *name); /* NULL if absent */

#endif
