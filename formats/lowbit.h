/* lowbit: the block dequantizers of ggml's IQ4_NL, IQ4_XS, TQ1_0, TQ2_0 and MXFP4 types, for
 * formats/qtype.c's dequantizer table (private to the formats layer: callers use qdequant_row).
 *
 * Each converts one block at src (qtype_block_bytes of its type) to qtype_block_elems floats at
 * dst, with the float operations of ggml's to_float in the same order, hence bit-identical
 * (docs/formats.md gives the layouts; the value tables are generated: formats/lowbit_tables.h).
 * No state, no allocation, no failure: every byte pattern is a valid block. */
#ifndef COLDTOK_LOWBIT_H
#define COLDTOK_LOWBIT_H

#include <stdint.h>

void dq_iq4_nl(const uint8_t *src, float *dst); /* 32 elems, 18 bytes */
void dq_iq4_xs(const uint8_t *src, float *dst); /* 256 elems, 136 bytes */
void dq_tq1_0(const uint8_t *src, float *dst);  /* 256 elems, 54 bytes */
void dq_tq2_0(const uint8_t *src, float *dst);  /* 256 elems, 66 bytes */
void dq_mxfp4(const uint8_t *src, float *dst);  /* 32 elems, 17 bytes */

/* The 16 IQ4_NL / IQ4_XS levels by nibble (ascending), for quant/iq4quant.c, which quantizes to
 * the very table these dequantizers read. */
const int8_t *lowbit_iq4_levels(void);

#endif
