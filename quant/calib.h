/* calib: calibration statistics of a model's linear-layer inputs, for quantize --method imatrix
 * and gptq.
 *
 *   Calib *c = calib_new(paths, n, max_tokens, &err);  lists and checks the texts (no work yet)
 *   calib_load(c, model_path, &err);       loads the model and its tokenizer, tokenizes the texts
 *   calib_importance(c, "blk.3.ffn_down.weight", K, &imp, &err);   per-column mean of x^2
 *   calib_hessian(c, "blk.3.ffn_down.weight", K, &H, &err);        H = X^T X / n  (K x K)
 *
 * Texts: each path is a file, or a folder whose regular files (not recursive, not hidden) are
 * taken in name order. Each file is tokenized alone (special-token texts stay plain text) and cut
 * into windows of CALIB_WINDOW tokens, the tokenizer's BOS first (when it has one); windows are
 * run through model/forward.h's forward pass in order. max_tokens (BOS included) is shared
 * equally by the paths given (the first ones take the remainder), so two paths make a 50/50 mix;
 * each path's files fill its share in order, and a path with less text gives less.
 * The inputs x [n, K] of every linear layer are observed (fwd_set_observer): attn_q/k/v share
 * one, ffn_gate/up share one, attn_output, ffn_down and output.weight have their own. Other
 * tensors (token_embd, also when it doubles as the output matrix) have no statistics.
 *
 * Memory: the importance vectors of all tensors (a few floats per input column) are gathered in
 * one pass over the texts. Hessians are K x K floats per input: they are gathered for a group of
 * consecutive layers whose Hessians fit in CALIB_HESSIAN_BYTES (256 MiB; at least one layer),
 * one forward pass over the texts per group, and the group is dropped when a tensor of another
 * layer is asked for. Tensors asked in layer order (as GGUF files list them) cost one pass per
 * group: a 0.5B Qwen2 (ffn_down K = 4864: ~104 MB per layer) takes 2 layers per pass.
 *
 * Ownership: pointers returned stay valid until the next calib_hessian call for another group
 * (Hessians) or calib_free. Errors: -1 with one line "PATH: problem". */
#ifndef COLDTOK_CALIB_H
#define COLDTOK_CALIB_H

#include <stdint.h>

#include "common/util.h"

#define CALIB_WINDOW 256
#define CALIB_HESSIAN_BYTES ((uint64_t)256 << 20)

typedef struct Calib Calib;

/* Lists the files (a folder: its files, sorted) and checks that each can be read. -1 when a path
 * cannot be read or there is no file at all. */
Calib *calib_new(const char *const *paths, int n_paths, int64_t max_tokens, Err *err);
void calib_free(Calib *c);

/* Loads the model (model/model.h: GGUF or HF folder) and its tokenizer, and tokenizes the texts.
 * -1 when the model or tokenizer cannot be loaded, a text is not valid UTF-8, or there is no
 * token at all. */
int calib_load(Calib *c, const char *model_path, Err *err);

/* The file names, comma-separated (for coldtok.quantize.calibration). */
const char *calib_sources(const Calib *c);
/* The calibration files, in the order they are read (a folder's files sorted): n and each path. */
int calib_n_files(const Calib *c);
const char *calib_file(const Calib *c, int i);
/* Tokens run through the model (BOS included), after calib_load. */
int64_t calib_tokens(const Calib *c);

/* The statistics of tensor NAME (llama.cpp name) whose rows have K columns: *out gets K floats
 * (importance: the mean of x_j^2, plus a floor of 1e-5 times its mean over the columns, so that
 * no column weighs 0) or K*K floats (the Hessian, row-major), or NULL when NAME is not
 * an observed linear layer or its K does not match the model's. Returns 0, or -1 (forward failure). */
int calib_importance(Calib *c, const char *name, int64_t K, const float **out, Err *err);
int calib_hessian(Calib *c, const char *name, int64_t K, const float **out, Err *err);

#endif
