/* qmodel: quantize a whole model into one llama.cpp-compatible GGUF file.
 *
 *   QModel *q = qm_open("model.gguf" or an HF folder, &err);   reads headers, lists the tensors
 *   qm_plan(q, &recipe, &err);          chooses each tensor's type (quant/recipe.h)
 *   qm_write(q, "out.gguf", &info, &err);   writes out.gguf.tmpXXXXXX, then renames it to out.gguf
 *   qm_tensor(q, i) ... per-tensor types, reasons and reconstruction errors; qm_close(q).
 *
 * Sources: a GGUF file of any architecture whose tensors coldtok can dequantize (F32, F16, BF16,
 * Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K): every metadata key is copied (the tokenizer
 * included) except general.file_type, general.quantization_version, general.alignment, split.*
 * and coldtok.quantize.*, which are written anew. A Hugging Face folder or .safetensors file of a
 * model model/model.h loads (llama, qwen2, qwen3): tensors renamed to llama.cpp's names, llama's
 * Q/K rows permuted the way llama.cpp's converter does (so the file rotates adjacent pairs like
 * every llama GGUF), the architecture keys written from config.json, vectors stored as F32, and
 * the tokenizer converted from tokenizer.json when it can be (see qm_open).
 * Quantizable tensors (recipe_quantizable) whose type changes are converted to f32 row by row
 * and quantized with quant/quantize.h (rtn; per-column importance when QmInfo supplies it), or
 * with quant/gptq.h when QmInfo supplies the tensor's input Hessian (rows in chunks, the K x K
 * factor computed once per tensor);
 * everything else is copied byte for byte. Memory: one chunk of at most ~64 MiB of f32 rows at a time.
 *
 * Ownership: the QModel maps the source until qm_close; QmTensor pointers live as long.
 * Errors: -1/NULL with one line "PATH: problem" in *err. qm_write never leaves a partial file at
 * PATH: it writes a temporary of a unique name beside it (common/util.h out_temp), fsyncs it and
 * renames it only when complete, and removes it (its own, never another run's) on failure. */
#ifndef COLDTOK_QMODEL_H
#define COLDTOK_QMODEL_H

#include <stdint.h>

#include "common/util.h"
#include "quant/recipe.h"

typedef struct {
    const char *name;   /* llama.cpp name, as written */
    uint32_t src_type;  /* type in the source */
    uint32_t type;      /* type in the output (after qm_plan) */
    int n_dims;
    int64_t ne[4];      /* GGUF order: ne[0] is the row length */
    int quantize;       /* 1: converted through f32; 0: bytes copied unchanged */
    char why[200];      /* why the type differs from the recipe's base type ("" when it does not) */
    /* after qm_write, for converted tensors: */
    double rmse;        /* sqrt(mean (output - source)^2), the source dequantized to f32 */
    double rms;         /* sqrt(mean source^2) */
    double wrel;        /* with importance: sqrt(sum imp*(output-source)^2 / sum imp*source^2),
                           the importance-weighted relative error; -1 without */
    double hrel;        /* with a Hessian: sqrt(tr(D H D^T) / tr(W H W^T)), D = output - source,
                           the relative error of the layer's output on the calibration inputs;
                           -1 without */
    uint64_t bytes;     /* data bytes in the output */
} QmTensor;

/* What to record in the coldtok.quantize.* keys, and where per-column importance comes from. */
typedef struct {
    const char *method;          /* "rtn" */
    const char *calibration;     /* calibration source, "none" */
    uint64_t calibration_tokens;
    /* Optional: the importance of each of the t->ne[0] input columns of a matrix (e.g. the mean
     * square of that input over calibration tokens), or NULL for none; the array must live until
     * the tensor is written. Given to quant/quantize.h's scale searches. */
    const float *(*importance)(void *ctx, const QmTensor *t);
    /* Optional (GPTQ, quant/gptq.h): sets *H to the K x K second moment of the tensor's input
     * (K = t->ne[0]), or to NULL for a tensor without one (then quantized as above); the array
     * must live until the tensor is written. Returns 0, or -1 with a message (the run fails). */
    int (*hessian)(void *ctx, const QmTensor *t, const float **H, Err *err);
    void *ctx;
    /* Provenance, optional (NULL / 0: not written): the source model's path, bytes and SHA-256
     * (coldtok.source.*), and each calibration file's (coldtok.calib.count, coldtok.calib.N.*,
     * N from 0). docs/quantize.md lists the keys. */
    const char *source_path, *source_sha256;
    uint64_t source_bytes;
    int n_calib_files;
    const char *const *calib_paths, *const *calib_sha256;
    const uint64_t *calib_bytes;
} QmInfo;

typedef struct QModel QModel;

/* Opens a source model. For an HF input the tokenizer is converted from tokenizer.json beside the
 * weights; when there is none, or its kind cannot be expressed as tokenizer.ggml.* keys, the
 * output has no tokenizer and qm_note says so. */
QModel *qm_open(const char *path, Err *err);
void qm_close(QModel *q);

const char *qm_arch(const QModel *q);   /* general.architecture */
/* A remark about the source the user should see (e.g. "no tokenizer.json: ..."), or NULL. */
const char *qm_note(const QModel *q);

/* Chooses every tensor's type. Fails (before anything is written) when a tensor that must be
 * converted has a source type coldtok cannot read. */
int qm_plan(QModel *q, const Recipe *r, Err *err);

int qm_n_tensors(const QModel *q);
const QmTensor *qm_tensor(const QModel *q, int i);

/* Writes the planned model. Progress ("tensor i/n NAME") goes to stderr when it is a terminal. A
 * value that the chosen type cannot hold (not finite, or beyond +-65504) fails the run with the
 * tensor and row named. */
int qm_write(QModel *q, const char *path, const QmInfo *info, const Recipe *r, Err *err);
/* The same written straight to FILE (no temporary, no rename): for a caller that made the
 * temporary itself with out_temp (common/util.h), to remove it on a signal. */
int qm_write_file(QModel *q, const char *file, const QmInfo *info, const Recipe *r, Err *err);

#endif
