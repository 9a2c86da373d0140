/* qtype: the ggml tensor types: their names, block geometry and exact dequantizers.
 *
 * Type numbers are ggml's (the values stored in GGUF tensor infos). Dequantization follows
 * llama.cpp's reference definitions (ggml-quants.c dequantize_row_*) bit for bit: the same float
 * operations in the same order, so results equal gguf-py/ggml to the last bit.
 * No state, no allocation. */
#ifndef COLDTOK_QTYPE_H
#define COLDTOK_QTYPE_H

#include <stddef.h>
#include <stdint.h>

enum QType {
    Q_F32 = 0, Q_F16 = 1, Q_Q4_0 = 2, Q_Q4_1 = 3, Q_Q5_0 = 6, Q_Q5_1 = 7, Q_Q8_0 = 8,
    Q_Q8_1 = 9, Q_Q2_K = 10, Q_Q3_K = 11, Q_Q4_K = 12, Q_Q5_K = 13, Q_Q6_K = 14, Q_Q8_K = 15,
    Q_BF16 = 30,
    Q_IQ4_NL = 20, Q_IQ4_XS = 23, Q_TQ1_0 = 34, Q_TQ2_0 = 35, Q_MXFP4 = 39, /* formats/lowbit.c */
    Q_IQ2_XXS = 16, Q_IQ2_XS = 17, Q_IQ3_XXS = 18, Q_IQ1_S = 19, Q_IQ3_S = 21, Q_IQ2_S = 22,
    Q_IQ1_M = 29, /* formats/iquants.c */
    Q_COUNT_MAX = 64 /* type numbers at or above this are rejected outright */
};

/* "F32", "Q4_K", ...; "type 23" style names are not returned: NULL for numbers ggml does not
 * define. */
const char *qtype_name(uint32_t type);
/* Looks a type up by name, case-insensitively ("q4_k", "F16"); -1 when unknown. */
int qtype_from_name(const char *name);
/* Elements per block and bytes per block; 0 for types ggml does not define. Known-but-unsupported
 * types (Q8_K, I8, NVFP4, ...) still report their geometry so files containing them can be listed. */
int qtype_block_elems(uint32_t type);
size_t qtype_block_bytes(uint32_t type);
/* 1 when qdequant_row can convert this type (it has an entry in qtype.c's dequantizer table). */
int qtype_can_dequant(uint32_t type);
/* Bytes of a row of n elements, or 0 when n is not a multiple of the block size. */
size_t qtype_row_bytes(uint32_t type, int64_t n);

/* Converts n elements (a multiple of the block size) starting at src to float. Returns 0, or -1
 * for a type it cannot convert (nothing is written then). */
int qdequant_row(uint32_t type, const void *src, float *dst, int64_t n);

/* IEEE half and bfloat16 conversions, exact (ggml's definitions, round to nearest even). */
float fp16_to_f32(uint16_t h);
uint16_t f32_to_fp16(float f);
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);

#endif
