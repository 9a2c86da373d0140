/* iquants: one-block dequantizers of ggml's grid-based i-quants, for formats/qtype.c's dequantizer
 * table only (everyone else converts through qdequant_row). Each reads one block of 256 weights at
 * src (layouts in iquants.c and docs/formats.md) and writes 256 floats, bit-identical to ggml's
 * to_float of the type. No state, no allocation, no errors: every bit pattern decodes. */
#ifndef COLDTOK_IQUANTS_H
#define COLDTOK_IQUANTS_H

#include <stdint.h>

void dq_iq2_xxs(const uint8_t *src, float *dst);
void dq_iq2_xs(const uint8_t *src, float *dst);
void dq_iq2_s(const uint8_t *src, float *dst);
void dq_iq3_xxs(const uint8_t *src, float *dst);
void dq_iq3_s(const uint8_t *src, float *dst);
void dq_iq1_s(const uint8_t *src, float *dst);
void dq_iq1_m(const uint8_t *src, float *dst);

#endif
