/* matmul: the forward pass's matrix products on oneDNN — the weight matmuls y = x . W^T for weight
 * matrices of any stored type, and the products of the batched attention.
 *
 * Weight matmuls (mm_run) of up to 8 rows of x in f32 mode, for the weight types formats/dot.h has
 * kernels for (F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K): fused dequantize-and-dot
 * straight from the file mapping, the rows shared by the threads in chunks; Hugging Face packed
 * layers (GPTQ, AWQ, ...) unpacked to f32 by chunks into the thread's panel buffer, then the F32
 * kernel (COLDTOK_MATMUL=panels in the environment: never; for benches and tests).
 * Otherwise each matrix W [N, K] is cut into panels of rows; each panel is
 * converted (formats/convert.h) to f32 — or to bf16 in bf16 mode — into a per-thread scratch
 * just before use and multiplied with a oneDNN matmul primitive (created once per shape, kept
 * until mm_free). F32 weights (and BF16 weights in bf16 mode) are used in place, straight from
 * the file mapping; no whole-matrix copy is ever made. One row (M = 1, a memory-bound GEMV):
 * panels of 256 KiB and primitives made for M = 1; more rows: panels of 512 KiB and primitives
 * that take M at run time. Matmuls that share their input run as one group: one parallel region
 * over the panels of all of them. Threads (OpenMP, OMP_NUM_THREADS) share the panels (a dynamic
 * schedule), each thread converting its own panels and running oneDNN on them single-threaded;
 * small matrices stay on the calling thread. In bf16 mode the input x is rounded to bf16 once
 * per group; accumulation is f32 either way. bf16 mode on a CPU with AMX: 32 rows or more go
 * through oneDNN's AMX brgemm (a primitive per M, at most 64 of them; then gemm again), which
 * changes only the summation order (COLDTOK_MATMUL=gemm in the environment: never).
 *
 * Attention (mm_attention): causal multi-head attention of several positions through oneDNN,
 * per (head, block of query rows). It is here rather than in model/forward.c because it is
 * oneDNN calls on this module's engine, per-thread streams and thread schedule; forward.c keeps
 * the one-position scalar loop, which needs none of that. Always f32 (the cache is f32).
 *
 * Process-wide side effects of mm_new (needed for speed, harmless for coldtok): OpenMP
 * max-active-levels is set to 1 (oneDNN inside our parallel regions must not open nested teams),
 * and glibc's malloc mmap/trim thresholds are raised (oneDNN's bf16 gemm mallocs a packing
 * buffer per call).
 *
 * Ownership: a Matmul borrows its Model (which must outlive it; its dims size the scratch) and
 * owns the oneDNN engine, streams, primitives and scratch buffers. One thread at a time calls it
 * (it opens its own parallel regions).
 * Errors: functions return -1/NULL with one line in *err (a oneDNN failure, out of memory for
 * panels). */
#ifndef COLDTOK_MATMUL_H
#define COLDTOK_MATMUL_H

#include "common/util.h"
#include "model/model.h"

typedef struct Matmul Matmul;

/* bf16 0: exactly dequantized f32 weights (COMPUTE_F32); 1: weights and inputs rounded to bf16
 * (COMPUTE_BF16). */
Matmul *mm_new(const Model *m, int bf16, Err *err);
void mm_free(Matmul *mm);

/* Threads the matmuls use (OMP_NUM_THREADS, at most 256; 1 without OpenMP). */
int mm_threads(void);
/* A short description of the kernels, e.g. "oneDNN f32 (gemm:jit)", or "oneDNN (not run yet)". */
const char *mm_kernel(const Matmul *mm);

/* One output of a group: y [M, W->rows] (row-major) = x . W^T. */
typedef struct {
    float *y;
    const Tensor *W;
} MmOut;

#define MM_MAX_GROUP 4 /* outputs per group at most */

/* The matmuls out[j].y = x . out[j].W^T for j < n (n <= MM_MAX_GROUP), all reading x [M, K]
 * (f32, row-major; K = W->cols of every W). */
int mm_run(Matmul *mm, const float *x, int M, const MmOut *out, int n, Err *err);

/* One output with an input of its own: y [M, W->rows] = x . W^T, x [M, W->cols]. */
typedef struct {
    float *y;
    const Tensor *W;
    const float *x;
} MmOutX;

#define MM_MAX_EACH 64 /* outputs of mm_run_each at most */

/* out[j].y = out[j].x . out[j].W^T for j < n (n <= MM_MAX_EACH), all with M rows and the same K:
 * like mm_run, one parallel region over the panels of all of them, but each with its own input
 * (the experts of a mixture-of-experts layer, model/moe.h: one region for all the picked experts
 * instead of one per expert, which on a busy machine costs a scheduler slice each). */
int mm_run_each(Matmul *mm, int M, const MmOutX *out, int n, Err *err);

/* How one layer attends; model/forward.c fills it from the Config and the Layer. */
typedef struct {
    float scale;   /* multiplies q . k (1/sqrt(head_dim) unless the family says otherwise) */
    float softcap; /* > 0: a score s becomes softcap * tanh(s / softcap) after scaling (Gemma 2) */
    int window;    /* > 0: the query at position p sees keys p - window + 1 .. p only (sliding
                    * window, as llama.cpp's and transformers' masks); 0: all keys 0 .. p */
    void (*softmax)(float *x, int n); /* the row softmax (AVX-512 or scalar) */
} AttnParams;

/* The first key position the query at position p sees under a: 0, or p - window + 1. */
static inline int attn_first_key(const AttnParams *a, int p) {
    return a->window > 0 && p >= a->window ? p - a->window + 1 : 0;
}
/* A raw score q . k under a: scaled, then soft-capped. */
float attn_score(const AttnParams *a, float dot);

/* Causal attention of the M queries q of positions pos0 .. pos0+M-1 over one layer's cache:
 * q [M, n_head * head_dim], out [M, n_head * head_dim_v] (heads side by side), k [pos0 + M,
 * n_head_kv * head_dim], v [pos0 + M, n_head_kv * head_dim_v] (this step's rows included). Query i
 * sees positions attn_first_key(pos0+i) .. pos0+i; query head h reads KV head
 * h / (n_head / n_head_kv). Per head and block of 64 query rows: S = Q K^T over the keys the
 * block's rows see, scores as attn_score, softmax of each row over the keys it sees, the rest of
 * the row 0, out = S V. */
int mm_attention(Matmul *mm, const float *q, const float *k, const float *v, int pos0, int M,
                 const AttnParams *ap, float *out, Err *err);

#endif
