/* loader: the tensor lookups model/model.c's loader is built on, shared by its files (internal to
 * model/: nothing outside includes it).
 *
 * A Loader is the state of one model_load: the model being filled, its open GGUF or safetensors
 * file, the f32 vector storage and what config.json said that the weights still need. Tensors are
 * found by role (formats/hfnames.h) in whichever format is open; every function names the file and
 * the tensor in its one-line error and returns -1. The config.json field readers at the end are the
 * families' config readers' one way of reading a number.
 *
 * Ownership: a Loader borrows everything it points at (model_load owns them). */
#ifndef COLDTOK_LOADER_H
#define COLDTOK_LOADER_H

#include <jansson.h>
#include <stdint.h>

#include "common/util.h"
#include "formats/gguf.h"
#include "formats/hfnames.h"
#include "formats/hfquant.h"
#include "formats/safetensors.h"
#include "model/model.h"

/* Loader state: the model being built and the f32 vector storage being filled. */
typedef struct {
    Model *m;
    Gguf *g;
    SafeTensors *st;
    size_t vec_used, vec_cap;
    double llama3[4]; /* config.json llama3 rope scaling: factor, low, high, original context */
    float *longrope;  /* config.json LongRoPE factors: [n_rot/2] short, then [n_rot/2] long; owned */
    int window;       /* config.json sliding_window where the family applies it (0: none) */
    HqConfig hq;      /* config.json quantization_config (method HQ_NONE: none) */
    int n_packed;     /* linears read packed under it */
    Err *err;
} Loader;

/* Finds a tensor by role. Returns 1 and fills *t (shape as [rows, cols], n_dims in *nd) when
 * present, 0 when absent, -1 on error. */
int ld_lookup(Loader *L, TensorRole role, int layer, Tensor *t, int *nd);
/* A matrix of exactly [rows, cols] whose type the forward pass can convert (or its GPTQ / AWQ
 * packed form under the config's quantization_config): 0, or -1 naming the tensor and both shapes. */
int ld_matrix(Loader *L, TensorRole role, int layer, int64_t rows, int64_t cols, Tensor *t);
/* The stored part that marks a packed linear under method m: "qweight" (GPTQ, AWQ), "codes"
 * (AQLM), "weight" (FP8, compressed-tensors float, when its dtype is F8_E4M3; bitsandbytes, U8
 * for 4-bit, I8 for LLM.int8), "weight_packed" (compressed-tensors int). */
const char *ld_packed_part(HqMethod m);
/* An AutoGPTQ folder's quantize_config.json beside CFG_PATH (config.json without a
 * quantization_config): parsed into *hq as quant_method gptq unless it names another. 0 when
 * absent or read, -1 with one line in *err. */
int ld_quantize_config(const char *cfg_path, HqConfig *hq, Err *err);
/* A vector of n values converted to f32 into the model's vector storage; *out stays NULL when the
 * tensor is absent and optional. */
int ld_vector(Loader *L, TensorRole role, int layer, int64_t n, int optional, const float **out);

/* config.json fields of every family's reader (model.c, config_rope.c, config_gemma.c,
 * mla_load.c, moe_load.c): an integer in [0, max] into *out: 1 found, 0 absent or null (*out
 * unchanged; with required, -1 "missing"), -1 naming the file and key when it is something else. */
int ld_json_int(json_t *o, const char *key, int *out, int max, int required, const char *path, Err *err);
/* A number into *out (unchanged when absent or null): 0, or -1 naming the key. */
int ld_json_num(json_t *o, const char *key, double *out, const char *path, Err *err);

#endif
