/* gptq: GPTQ error compensation (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization
 * for Generative Pre-trained Transformers") for ggml block types.
 *
 * For a weight matrix W [rows, K] whose input x has the second moment H = E[x x^T] (K x K), GPTQ
 * quantizes each row left to right and, after each step, moves the quantization error onto the
 * columns not yet quantized so that the layer's output error tr((W-Q) H (W-Q)^T) stays small.
 *   1. damping: H += lambda I with lambda = 0.01 * mean(diag H) (the paper's "percdamp" 0.01);
 *      a column whose diag H is 0 (an input that was always 0) gets H_jj = 1 and weight 0, as
 *      the reference implementation does;
 *   2. U = the upper Cholesky factor of H^-1 (H^-1 = U^T U), computed once per matrix;
 *   3. per row, per block of the type's block size (32, or a 256-element k-quant super-block):
 *      the block is quantized at once from its current, error-updated weights (so its scales —
 *      a k-quant super-block's sub-block scales included — are chosen when the block starts),
 *      with diag H as the per-column importance of the scale search; then, column by column of
 *      the block, err_j = (w_j - q_j) / U_jj and w_{j+1..K-1} -= err_j * U_{j, j+1..K-1}.
 *      (Rows are independent; the updates are applied per block of columns: lazy batch updates.)
 *      With the block's values fixed, this is exactly the optimal compensation of the remaining
 *      columns for the block's error.
 * Cost: O(K^3) once per matrix (Cholesky and inverse, in doubles) plus O(rows * K^2).
 * Memory: 2 K x K doubles per matrix.
 * No global state; gptq_quantize_rows runs rows on OpenMP threads. */
#ifndef COLDTOK_GPTQ_H
#define COLDTOK_GPTQ_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define GPTQ_DAMP 0.01

typedef struct {
    int64_t K;
    double *U;    /* [K, K] upper Cholesky factor of (H + lambda I)^-1, row-major */
    float *imp;   /* [K] diag H (plus a floor), the importance for the block scale searches */
    uint8_t *dead;/* [K] 1 for an input that was always 0 */
} Gptq;

/* Prepares the factor from H [K, K] (row-major, symmetric, float: as calib.h accumulates it).
 * -1 with a message when H + lambda I is not positive definite (NaN or a broken H). */
int gptq_prepare(Gptq *g, const float *H, int64_t K, Err *err);
void gptq_free(Gptq *g);

/* The block quantizer GPTQ calls: quantizes w[0..n) (n = the block size; imp: its columns'
 * importance) of row `row` and writes the values it stands for in q[0..n); block is the index of
 * the block within the row. -1 on failure. */
typedef int (*GptqBlock)(void *ctx, int64_t row, int64_t block, const float *w, const float *imp,
                         float *q, int n);

/* Compensates R rows in place: w [R, K] (destroyed: each block ends holding its quantization error), blocks of B
 * columns (B divides K) handed to fn, left to right. Returns -1 - (the failing row) when fn fails,
 * else 0. */
int64_t gptq_rows(const Gptq *g, float *w, int64_t R, int B, GptqBlock fn, void *ctx);

/* A [nrows, K] matrix into ggml blocks of TYPE (dst: nrows * qtype_row_bytes(type, K) bytes).
 * w is destroyed. Returns the bytes written, or 0 when a row failed (*bad_row gets it). */
size_t gptq_quantize_rows(const Gptq *g, uint32_t type, float *w, void *dst, int64_t nrows,
                          int64_t *bad_row);

#endif
