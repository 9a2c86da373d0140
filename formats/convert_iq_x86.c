/* convert_iq_x86: the AVX2 and AVX-512 kernels of the low-bit block types (IQ4_NL, IQ4_XS, MXFP4,
 * TQ2_0), installed by convert_init_x86 (see convert_x86.h and convert.h). The layouts are in
 * formats/lowbit.c. Each kernel does the float operations of the scalar dequantizer (dq_* in
 * lowbit.c, which follows ggml's) in the same order, several lanes at a time: the code values are
 * small integers made exact floats (vcvtdq2ps), then one multiplication by the same scale float,
 * so the results are bit-identical. The 16-entry level tables are a byte shuffle (pshufb).
 *
 * Every kernel is a block loop around one level-specific step, put16 (16 signed bytes times a
 * scale into 16 floats): KERNELS() writes the loops once per level. */
#include "formats/convert_x86.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#include "formats/half.h"
#include "formats/lowbit_tables.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define T512 __attribute__((target("avx512f"), always_inline)) static inline
#define T256 __attribute__((target("avx2"), always_inline)) static inline

/* y[0..15] = (float)v[k] * d, v as signed bytes. */
T512 void put16_avx512(float *y, __m128i v, float d) {
    __m512 x = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v));
    _mm512_storeu_ps(y, _mm512_mul_ps(x, _mm512_set1_ps(d)));
}

T256 void put16_avx2(float *y, __m128i v, float d) {
    const __m256 s = _mm256_set1_ps(d);
    _mm256_storeu_ps(y, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)), s));
    _mm256_storeu_ps(y + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(v, 8))), s));
}

/* 16 bytes of nibbles through a 16-entry byte table into 32 floats, low nibbles first, as
 * lowbit.c's iq4_nibbles and dq_mxfp4. */
#define NIBBLES32(lvl, y, qs, table, d)                                                      \
    do {                                                                                      \
        const __m128i q_ = _mm_loadu_si128((const __m128i *)(qs));                            \
        const __m128i m_ = _mm_set1_epi8(0xF);                                                \
        put16_##lvl((y), _mm_shuffle_epi8((table), _mm_and_si128(q_, m_)), (d));              \
        put16_##lvl((y) + 16, _mm_shuffle_epi8((table), _mm_and_si128(_mm_srli_epi16(q_, 4), m_)), (d)); \
    } while (0)

#define KERNELS(lvl, isa)                                                                  \
    __attribute__((target(isa))) static void iq4_nl_##lvl(const uint8_t *s, float *y, int64_t n) { \
        const __m128i table = _mm_loadu_si128((const __m128i *)IQ4_LEVELS);                  \
        for (int64_t b = 0; b < n / 32; b++, s += 18, y += 32)                                \
            NIBBLES32(lvl, y, s + 2, table, half_at(s));                                      \
    }                                                                                         \
    __attribute__((target(isa))) static void iq4_xs_##lvl(const uint8_t *s, float *y, int64_t n) { \
        const __m128i table = _mm_loadu_si128((const __m128i *)IQ4_LEVELS);                  \
        for (int64_t b = 0; b < n / 256; b++, s += 136) {                                     \
            const float d = half_at(s);                                                       \
            const unsigned scales_h = (unsigned)(s[2] | s[3] << 8);                           \
            for (int ib = 0; ib < 8; ib++, y += 32) {                                         \
                const int ls = ((s[4 + ib / 2] >> 4 * (ib % 2)) & 0xF) | (((scales_h >> 2 * ib) & 3) << 4); \
                NIBBLES32(lvl, y, s + 8 + 16 * ib, table, d * (ls - 32));                     \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    __attribute__((target(isa))) static void mxfp4_##lvl(const uint8_t *s, float *y, int64_t n) { \
        const __m128i table = _mm_loadu_si128((const __m128i *)MXFP4_LEVELS);                \
        for (int64_t b = 0; b < n / 32; b++, s += 17, y += 32) {                              \
            float d;                                                                          \
            memcpy(&d, &MXFP4_SCALE_BITS[s[0]], sizeof d);                                    \
            NIBBLES32(lvl, y, s + 1, table, d);                                               \
        }                                                                                     \
    }                                                                                         \
    /* TQ2_0: for each 32-byte half and shift 0, 2, 4, 6: ((q >> shift) & 3) - 1 */          \
    __attribute__((target(isa))) static void tq2_0_##lvl(const uint8_t *s, float *y, int64_t n) { \
        const __m128i three = _mm_set1_epi8(3), one = _mm_set1_epi8(1);                       \
        for (int64_t b = 0; b < n / 256; b++, s += 66) {                                      \
            const float d = half_at(s + 64);                                                  \
            for (int j = 0; j < 64; j += 32) {                                                \
                const __m128i q0 = _mm_loadu_si128((const __m128i *)(s + j));                 \
                const __m128i q1 = _mm_loadu_si128((const __m128i *)(s + j + 16));            \
                for (int shift = 0; shift < 8; shift += 2, y += 32) {                         \
                    const __m128i c = _mm_cvtsi32_si128(shift);                               \
                    put16_##lvl(y, _mm_sub_epi8(_mm_and_si128(_mm_srl_epi16(q0, c), three), one), d); \
                    put16_##lvl(y + 16, _mm_sub_epi8(_mm_and_si128(_mm_srl_epi16(q1, c), three), one), d); \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }

KERNELS(avx512, "avx512f")
KERNELS(avx2, "avx2")

void convert_init_iq_x86(Convert *cv, int level) {
    if (level >= CONVERT_AVX512) {
        cv->blocks[Q_IQ4_NL] = iq4_nl_avx512;
        cv->blocks[Q_IQ4_XS] = iq4_xs_avx512;
        cv->blocks[Q_MXFP4] = mxfp4_avx512;
        cv->blocks[Q_TQ2_0] = tq2_0_avx512;
    } else if (level >= CONVERT_AVX2) {
        cv->blocks[Q_IQ4_NL] = iq4_nl_avx2;
        cv->blocks[Q_IQ4_XS] = iq4_xs_avx2;
        cv->blocks[Q_MXFP4] = mxfp4_avx2;
        cv->blocks[Q_TQ2_0] = tq2_0_avx2;
    }
}

#else

void convert_init_iq_x86(Convert *cv, int level) { (void)cv, (void)level; }

#endif
