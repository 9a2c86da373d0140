/* forward: the transformer forward pass of a Model, with a KV cache, matmuls through oneDNN.
 *
 * fwd_eval runs a batch of tokens at the next positions (the first call starts at position 0):
 * a cold start is fwd_eval(f, &bos, 1, ...); a prompt is one call with all its tokens, or several
 * calls in a row. fwd_rewind drops the cache back to a shorter prefix, so a caller can score many
 * continuations of one context without recomputing it.
 *
 * Steps: up to 512 positions run as one internal step (a 512-token window is one), so each weight
 * matrix is converted once per step; activation scratch grows to the largest step seen.
 *
 * Matmuls (model/matmul.h): each weight matrix is converted (dequantized, formats/convert.h) to
 * f32 — or to bf16 in COMPUTE_BF16 — in panels of rows just before use, and each panel is
 * multiplied with a oneDNN matmul primitive (created once per shape, reused): 256 KiB panels and
 * M = 1 primitives for one position (a memory-bound GEMV), 512 KiB panels and primitives that
 * take M at run time for more. Threads (OpenMP, OMP_NUM_THREADS) share each matrix's panels (a
 * dynamic schedule); each thread converts its own panels and runs oneDNN on them
 * single-threaded; small matrices stay on the calling thread. F32 weights (and BF16 weights in
 * bf16 mode) are used in place, straight from the file mapping. No whole-matrix copy is ever made.
 *
 * Attention: one position at a time is a scalar loop per head; several positions go through
 * oneDNN matmuls per (head, block of 64 query rows), S = Q K^T over the keys the block sees
 * (K and V read in place from the f32 cache), causal mask and row softmax, O = S V; always f32.
 *
 * COMPUTE_F32 (default) computes with the exactly dequantized weights in f32. COMPUTE_BF16 rounds
 * weights and activations to bf16 for the matmuls (f32 accumulation): faster on CPUs with
 * AVX512-BF16/AMX, less exact.
 *
 * Process-wide side effects of fwd_new (both harmless for coldtok, and needed for speed): OpenMP
 * max-active-levels is set to 1 (oneDNN inside our parallel regions must not open nested teams),
 * and glibc's malloc mmap/trim thresholds are raised (oneDNN's bf16 gemm mallocs a packing buffer
 * per call).
 *
 * Ownership: a Forward borrows its Model (which must outlive it) and owns its cache and scratch.
 * One Forward is used by one thread at a time (it runs its own parallel regions inside).
 * Errors: functions return -1/NULL with one line in *err (token id out of range, n_out outside
 * 0..n, oneDNN failure). */
#ifndef COLDTOK_FORWARD_H
#define COLDTOK_FORWARD_H

#include "common/util.h"
#include "model/model.h"
#include "model/moe.h" /* MoeStats */

typedef enum { COMPUTE_F32, COMPUTE_BF16 } Compute;

typedef struct Forward Forward;

Forward *fwd_new(const Model *m, Compute compute, Err *err);
void fwd_free(Forward *f);

/* Number of positions in the KV cache (the position the next token gets). */
int fwd_pos(const Forward *f);
/* Forgets the cache from position pos on (0 <= pos <= fwd_pos). */
void fwd_rewind(Forward *f, int pos);

/* Runs tokens[0..n) at positions fwd_pos() .. fwd_pos()+n-1. When all is 0, logits receives the
 * n_vocab logits of the last position; when all is 1, logits is [n][n_vocab], row i for
 * tokens[i]. logits may be NULL (only the cache is filled; the output matmul is skipped).
 * Same as fwd_eval_last with n_out = all ? n : 1. */
int fwd_eval(Forward *f, const int *tokens, int n, float *logits, int all, Err *err);

/* Runs tokens[0..n) like fwd_eval and writes the logits of the last n_out positions only
 * (0 <= n_out <= n): logits is [n_out][n_vocab], row r for tokens[n - n_out + r]. The output
 * matmul (the largest matrix of a real vocabulary) runs on those rows alone. logits NULL or
 * n_out 0: no logits. */
int fwd_eval_last(Forward *f, const int *tokens, int n, int n_out, float *logits, Err *err);

/* Rows r0 .. r0+n-1 of a weight matrix dequantized to f32 exactly as the forward pass does it
 * (its SIMD paths for F16, Q8_0, Q5_0 and Q4_K included), into out [n, W->cols]. */
void fwd_dequant_rows(const Tensor *W, int64_t r0, int n, float *out);

/* Observer of the inputs of the linear layers (for calibration: quant/calib.h). When set, fn is
 * called before each group of matmuls that share an input, with x [M, K] (row-major, the f32
 * activations the matmuls read): FWD_IN_QKV (attn_q/k/v, K = n_embd), FWD_IN_WO (attn_output,
 * K = n_head*head_dim), FWD_IN_GATEUP (ffn_gate/up, K = n_embd), FWD_IN_DOWN (ffn_down, K = n_ff)
 * with layer 0..n_layer-1, and FWD_IN_OUTPUT (output, layer -1) for every position of the batch
 * (even when fwd_eval asks for no logits). fn must not call back into f. NULL fn: no observer,
 * no cost. */
enum { FWD_IN_QKV, FWD_IN_WO, FWD_IN_GATEUP, FWD_IN_DOWN, FWD_IN_OUTPUT };
typedef void (*FwdObserver)(void *ctx, int layer, int input, const float *x, int M, int K);
void fwd_set_observer(Forward *f, FwdObserver fn, void *ctx);

/* What the expert layers have read since fwd_new (model/moe.h: experts loaded, their bytes), or
 * NULL for a dense model; and whether expert `expert` of layer `layer` was picked for some
 * position of the last step (for tests). */
const MoeStats *fwd_moe_stats(const Forward *f);
int fwd_moe_picked(const Forward *f, int layer, int expert);

/* Threads the matmuls use (OMP_NUM_THREADS, or 1 without OpenMP). */
int fwd_threads(void);
/* A short description of the matmul kernels, e.g. "oneDNN f32 (gemm:jit)", after the first eval. */
const char *fwd_kernel(const Forward *f);
/* 1 when the CPU has native bf16 dot products (AVX512-BF16 or AMX-BF16). */
int fwd_cpu_has_bf16(void);

#endif
