/* half: IEEE binary16 to float32, exact (subnormals, infinities and NaN payloads kept), as ggml's
 * GGML_FP16_TO_FP32. Header-only (static inline) so that every dequantizer file can decode its
 * block scales without calling back into formats/qtype.c (which calls the dequantizers: a call
 * cycle tests/check_layers.sh refuses). The public entry point is qtype.h's fp16_to_f32. */
#ifndef COLDTOK_HALF_H
#define COLDTOK_HALF_H

#include <stdint.h>
#include <string.h>

static inline float half_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
    if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (mant << 13); /* inf, NaN (payload kept) */
    } else if (exp == 0) {
        if (!mant) {
            bits = sign;
        } else { /* subnormal: mant * 2^-24, exact in float32 */
            int e = -1;
            do {
                mant <<= 1;
                e++;
            } while (!(mant & 0x400));
            bits = sign | ((uint32_t)(112 - e) << 23) | ((mant & 0x3FF) << 13);
        }
    } else {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* The little-endian half at p. */
static inline float half_at(const uint8_t *p) { return half_to_f32((uint16_t)(p[0] | p[1] << 8)); }

#endif
