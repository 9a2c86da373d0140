/* quantize: float rows to ggml block types (the inverse of formats/qtype.h's qdequant_row).
 *
 * Round to nearest with llama.cpp's per-block scale searches:
 *   - Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 without importance: llama.cpp's reference quantizers
 *     (quantize_row_*_ref of ggml-quants.c), reproduced byte for byte;
 *   - Q2_K, Q3_K, Q4_K, Q5_K, Q6_K: per 256-element super-block, the best (lowest squared error)
 *     of llama.cpp's reference k-quant (make_qkx2_quants / make_q3_quants / make_qx_quants), of
 *     llama.cpp's importance-aware variant (make_qkx3_quants + make_qp_quants) run with neutral
 *     weights and with its sub-block scale codes refit to the fp16 super-block scale actually
 *     stored, and of the all-zero block. Each super-block is therefore never worse than
 *     llama.cpp's, so neither is a tensor.
 *   - with importance weights (imp != NULL: one non-negative weight per column, e.g. the mean
 *     squared activation of that input column, as llama.cpp's imatrix): every type but Q8_0 runs
 *     llama.cpp's importance-aware quantizer with them and keeps, per block, whichever of it and
 *     the reference minimizes sum_j imp[j] * (x_j - q_j)^2. Q8_0 ignores imp (as llama.cpp does).
 *   - IQ4_NL, IQ4_XS, IQ3_S, IQ2_XS: ggml's quantize_iq4_nl / _iq4_xs / _iq3_s / _iq2_xs alone
 *     (quant/iq4quant.c, iq3squant.c, iq2xsquant.c), with the importance weights or without, byte
 *     for byte: what ggml_quantize_chunk and llama_model_quantize write given the same importance
 *     data. llama.cpp refuses IQ2_XS without importance data; here imp NULL gives it uniform
 *     importance (what llama.cpp writes given an importance file of ones).
 *   - IQ3_XXS: likewise ggml's quantize_iq3_xxs alone (quant/iq3xxsquant.c), with imp or without.
 *   - F32, F16, BF16: plain conversion (round to nearest even).
 * qquantize_row_ref gives the llama.cpp reference for every type (k-quants included), for tests
 * (for the IQ types: ggml_quantize_chunk without importance; IQ2_XS: with uniform importance).
 *
 * Inputs must be finite and, for the block types and F16, within the F16 range (|x| <= 65504: the
 * block scales and minima are fp16); other rows are refused with -1 (a caller can keep such a
 * tensor in F32 or BF16).
 * No allocation, no global state; rows may be quantized by several threads at once. */
#ifndef COLDTOK_QUANTIZE_H
#define COLDTOK_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

/* 1 when qquantize_row can produce this type (it has an entry in quantize.c's dispatch table). */
int qtype_can_quant(uint32_t type);

/* Quantizes one row of n floats (n a multiple of the type's block size) into dst
 * (qtype_row_bytes(type, n) bytes). imp: n importance weights (>= 0) or NULL.
 * Returns 0, or -1 (dst untouched or partly written) for a type it cannot produce, a bad n, or a
 * value that is not finite or beyond the F16 range. */
int qquantize_row(uint32_t type, const float *src, void *dst, int64_t n, const float *imp);

/* llama.cpp's reference quantizer alone (quantize_row_*_ref), byte for byte; same returns. */
int qquantize_row_ref(uint32_t type, const float *src, void *dst, int64_t n);

/* A [nrows, n] matrix, row by row (OpenMP threads over rows); imp is per column (length n) and
 * shared by all rows. Returns the bytes written (nrows * qtype_row_bytes(type, n)), or 0 when
 * any row failed as above (*bad_row, if not NULL, gets the first such row). */
size_t qquantize_rows(uint32_t type, const float *src, void *dst, int64_t nrows, int64_t n,
                      const float *imp, int64_t *bad_row);

#endif
