/* safetensors: a bounds-checked, zero-copy reader for Hugging Face .safetensors files and sharded
 * folders.
 *
 * A file is: 8 bytes little-endian header length N, N bytes of JSON ({"name": {"dtype": "F16",
 * "shape": [rows, cols], "data_offsets": [begin, end]}, ..., "__metadata__": {...}}), then the data
 * section; offsets are relative to the data section. st_open checks every entry: known dtype,
 * sane shape, begin <= end <= data size, end - begin == elements x element size, and no two
 * tensors overlapping.
 * A folder is opened through model.safetensors.index.json ("weight_map": name -> shard file),
 * whose shards are all opened and whose names must each be found in the shard it names, or else
 * through a single model.safetensors.
 *
 * Ownership: the SafeTensors owns the mappings; tensor names and data live until st_close.
 * Errors: st_open returns NULL with one line "PATH: problem" in *err. */
#ifndef COLDTOK_SAFETENSORS_H
#define COLDTOK_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define ST_MAX_DIMS 8
#define ST_UNSUPPORTED 0xffffffffu /* type of a tensor whose dtype has no ggml equivalent (I64, F64, ...) */

typedef struct {
    const char *name;
    const char *dtype;          /* as written: "F32", "F16", "BF16", "I64", ... */
    uint32_t type;              /* QType Q_F32 / Q_F16 / Q_BF16, or ST_UNSUPPORTED */
    int n_dims;
    int64_t shape[ST_MAX_DIMS]; /* outermost first (row-major, as in the file) */
    uint64_t nbytes;
    const void *data;           /* into the mapping */
    const char *file;           /* the shard it lives in */
} StTensor;

typedef struct SafeTensors SafeTensors;

/* PATH: a .safetensors file, or a folder with model.safetensors.index.json or model.safetensors. */
SafeTensors *st_open(const char *path, Err *err);
/* The same checks on one file's bytes already in memory (tests, fuzzers). Nothing is copied: DATA
 * must outlive the SafeTensors. NAME stands for the path in error messages. */
SafeTensors *st_open_memory(const void *data, size_t size, const char *name, Err *err);
void st_close(SafeTensors *st);

int st_n_tensors(const SafeTensors *st);
const StTensor *st_tensor(const SafeTensors *st, int i);
const StTensor *st_find(const SafeTensors *st, const char *name); /* NULL if absent */

#endif
