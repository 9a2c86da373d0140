/* convert: stored weight rows to f32 (and f32 to bf16) the fastest way this CPU has.
 *
 * convert_init fills a Convert table once with the kernels the CPU supports, picked at run time:
 * on x86-64 AVX-512 (F16, Q8_0, Q5_0, Q4_K) or F16C (F16) and AVX512-BF16 (rounding to bf16),
 * written in formats/convert_x86.c, and AVX-512 or AVX2 for IQ4_NL, IQ4_XS, MXFP4, TQ1_0, TQ2_0
 * and the grid i-quants (formats/convert_iq_x86.c); portable C everywhere else. Every f32 result equals
 * qdequant_row's (formats/qtype.h) bit for bit: the kernels do ggml's float operations in ggml's
 * order, only several lanes at a time; the types without a kernel go through qdequant_row itself.
 *
 * Rounding f32 -> bf16 is round to nearest even, NaN kept quiet (ggml's and oneDNN's rounding);
 * the AVX512-BF16 kernel (vcvtneps2bf16) flushes denormals to zero where the portable one keeps
 * them: a difference of at most one bf16 denormal, only in bf16 compute mode.
 *
 * A Convert is plain data (function pointers): no allocation, no state; any number of threads
 * may use one table at once. */
#ifndef COLDTOK_CONVERT_H
#define COLDTOK_CONVERT_H

#include <stdint.h>

#include "formats/qtype.h"

typedef void (*F16ToF32)(const uint16_t *src, float *dst, int64_t n);
typedef void (*BlocksToF32)(const uint8_t *src, float *dst, int64_t n);
typedef void (*F32ToBf16)(const float *src, uint16_t *dst, int64_t n);
typedef void (*F16ToBf16)(const uint16_t *src, uint16_t *dst, int64_t n);

typedef struct {
    F16ToF32 f16_to_f32;              /* n halves -> f32 */
    BlocksToF32 blocks[Q_COUNT_MAX];  /* per block type, n elements (whole blocks) -> f32;
                                       * NULL: no fast kernel, qdequant_row converts the type */
    F32ToBf16 f32_to_bf16;            /* n floats -> bf16 */
    F16ToBf16 f16_to_bf16;            /* n halves -> bf16 in one pass; NULL: convert through f32 */
} Convert;

/* Fills cv with the fastest kernels of this CPU. */
void convert_init(Convert *cv);

/* Instruction-set levels, lowest first: what convert_init_level may use at most. */
enum ConvertLevel { CONVERT_PORTABLE = 0, CONVERT_AVX2 = 1, CONVERT_AVX512 = 2 };

/* convert_init limited to kernels of `level` or below (and of what the CPU has), so that tests and
 * benches can compare the kernels of each level with the portable path. Returns the level reached:
 * min(level, the CPU's). convert_init is convert_init_level(cv, CONVERT_AVX512). */
int convert_init_level(Convert *cv, int level);

/* n_rows rows of cols elements of block type `type`, stored contiguously from src, to f32 into
 * dst [n_rows, cols]: F32 copied, F16 and BF16 widened, block types by their kernel or
 * qdequant_row. Bit-identical to qdequant_row row by row; a type qdequant_row cannot convert
 * leaves dst untouched. */
void convert_rows_f32(const Convert *cv, uint32_t type, const void *src, int64_t n_rows, int64_t cols,
                      float *dst);

#endif
