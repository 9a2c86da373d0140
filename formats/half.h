/* half: IEEE binary16 -> float32, exact (subnormals, infinities and NaN payloads kept), as a
 * header-only inline so that every block decoder (formats/qtype.c, formats/iquants.c) shares the
 * one definition without calling into another .c file. qtype.h's fp16_to_f32 is this function. */
#ifndef COLDTOK_HALF_H
#define COLDTOK_HALF_H

#include <stdint.h>
#include <string.h>

static inline float half_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
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
    memcpy(&f, &bits, 4);
    return f;
}

#endif
