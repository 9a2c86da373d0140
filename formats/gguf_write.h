/* gguf_write: writes GGUF v3 files (the format formats/gguf.h reads), streaming the tensor data so
 * that a model larger than memory can be written.
 *
 * Usage: gw_new; any number of gw_kv_* and gw_add_tensor calls (metadata and tensor infos, in file
 * order); gw_begin(path) writes the header, metadata and tensor infos; then the data of every
 * tensor, in the order they were added, through gw_data (any number of calls per tensor; the
 * writer pads each tensor to the alignment); gw_end checks that every byte was given and closes.
 *
 * Checks: tensor names unique and shorter than 64 bytes, at most 4 dims, each row a whole number
 * of blocks of the type, gw_data never past the declared size.
 * Ownership: the writer copies keys, strings and names. gw_free also closes (and leaves) a file
 * that was not ended.
 * Errors: -1 with one line "PATH: problem" in *err; a failed writer refuses further calls. */
#ifndef COLDTOK_GGUF_WRITE_H
#define COLDTOK_GGUF_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

typedef struct GgufWriter GgufWriter;

GgufWriter *gw_new(void);
void gw_free(GgufWriter *w);

void gw_kv_str(GgufWriter *w, const char *key, const char *val);
void gw_kv_u32(GgufWriter *w, const char *key, uint32_t val);
void gw_kv_f32(GgufWriter *w, const char *key, float val);
void gw_kv_bool(GgufWriter *w, const char *key, int val);
void gw_kv_arr_str(GgufWriter *w, const char *key, const char *const *vals, size_t n);
void gw_kv_arr_i32(GgufWriter *w, const char *key, const int32_t *vals, size_t n);
void gw_kv_arr_f32(GgufWriter *w, const char *key, const float *vals, size_t n);
/* A value of any GGUF type already in its serialized form: the n bytes that follow the type field
 * in a file (a scalar; a string's u64 length and bytes; an array's element type, u64 count and
 * elements). For copying metadata from another file unchanged. type: formats/gguf.h GgufValueType. */
void gw_kv_raw(GgufWriter *w, const char *key, uint32_t type, const void *val, size_t n);

/* ne[0] is the contiguous axis (GGUF order). Returns the tensor's data size in bytes, or -1. */
int64_t gw_add_tensor(GgufWriter *w, const char *name, uint32_t type, int n_dims, const int64_t *ne,
                      Err *err);

int gw_begin(GgufWriter *w, const char *path, Err *err);
int gw_data(GgufWriter *w, const void *data, size_t n, Err *err);
int gw_end(GgufWriter *w, Err *err);

#endif
