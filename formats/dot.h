/* dot: fused dequantize-and-dot of stored weight rows with a few f32 activation vectors — the
 * small-M matrix products (one position, a handful of start contexts) that read each stored
 * block once, straight from the file mapping, with no f32 panel in between.
 *
 *   y[m * ldy + r] = sum_k W[r, k] * x[m * K + k]     for r < n_rows, m < M
 *
 * W's rows are stored contiguously (row r at w + r * qtype_row_bytes(type, K)). The activations are
 * never rounded; the products are accumulated in f32 (several partial sums per row, added at the
 * end of the row). Passes of 1 to 3 vectors over Q8_0, Q4_0, Q4_K and Q5_K, of 1 to 4 over Q5_0,
 * Q4_1 and Q5_1, and every pass over IQ4_NL and IQ4_XS (in passes of up to 4 vectors), are factored: a block's
 * (sub-block's) integer codes, or IQ4's levels, as exact floats, are dotted with x and the sum is
 * scaled once, d * sum q x (plus m * sum x for Q4_1 and Q5_1, minus dmin * m * sum x for the
 * k-quants; IQ4_XS: dl * sum L[q] x with the reference's dl = d * (ls - 32)), so the roundings come
 * in another order than the reference's (IQ4's weights d * L[q], dl * L[q] are exact in f32 anyway:
 * at most 11 + 5 + 7 significant bits); the other kernels dequantize each block into registers with
 * the float operations of qdequant_row (formats/qtype.h), in the same order (on AVX-512 the 4- and
 * 5-bit types compute the 16 or 32 values a code can stand for that way once per block and look
 * each weight up). The grid i-quants (IQ3_S, IQ2_XS, IQ2_XXS, IQ2_S, IQ3_XXS, IQ1_S, IQ1_M;
 * formats/dot_grid.h) are factored too, in passes of up to 8 vectors (AVX-512; 4 on AVX2): per sub-block of 32 (IQ2_XS,
 * IQ2_S, IQ1_M: of 16) the signed grid values (IQ1: value + delta), exact floats, dotted with x and
 * the sum multiplied once by the sub-block's scale, which is computed with the reference's float
 * operations. Either way the result is within the f32 summation bound of the reference
 * weights' dot product, and with a unit vector x it is the reference f32 weight bit for bit.
 *
 * On AVX-512, passes of 9 to 16 vectors over the per-weight types run as a small matrix product
 * (formats/dot_gemm.h): each weight dequantized once by the same loaders into an f32 buffer, then
 * 4 rows x 4 vectors at a time.
 *
 * Kernels: AVX-512 and AVX2 (+FMA, F16C) on x86-64, picked at run time (formats/dot_x86.c), for
 * F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_1, Q5_1, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS and the seven grid
 * i-quants above; a portable C
 * kernel for the same types (one block dequantized by qdequant_row into a buffer, then dotted).
 * Other types have no kernel: dot_has says so and the caller uses its panel path.
 *
 * A Dot is plain data (function pointers): no allocation, no state; any number of threads may
 * use one table at once. */
#ifndef COLDTOK_DOT_H
#define COLDTOK_DOT_H

#include <stddef.h>
#include <stdint.h>

#include "formats/qtype.h"

/* The rows kernel of one type: see dot_rows (row_bytes: bytes of one stored row). */
typedef void (*DotRows)(const uint8_t *w, size_t row_bytes, int64_t n_rows, int64_t K, const float *x,
                        int M, float *y, int64_t ldy);

typedef struct {
    DotRows rows[Q_COUNT_MAX]; /* NULL: no fused kernel for the type */
    int level;                 /* the enum ConvertLevel (formats/convert.h) of the kernels */
} Dot;

/* Fills d with the fastest kernels of this CPU. */
void dot_init(Dot *d);

/* dot_init limited to kernels of `level` (enum ConvertLevel) or below and of what the CPU has,
 * so tests can compare each level with the reference. Returns the level reached. */
int dot_init_level(Dot *d, int level);

/* "avx512", "avx2" or "portable". */
const char *dot_level_name(int level);

/* 1 when d has a fused kernel for weights of `type`. */
int dot_has(const Dot *d, uint32_t type);

/* The products above for n_rows rows of W (type `type`, K columns, from w) and M >= 1 vectors x
 * [M, K]; y[m * ldy + r]. The type must have a kernel (dot_has); K a multiple of its block. */
void dot_rows(const Dot *d, uint32_t type, const void *w, int64_t n_rows, int64_t K, const float *x, int M,
              float *y, int64_t ldy);

#endif
