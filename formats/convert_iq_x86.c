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
#include "formats/iq_tables.h"
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

/* ---- TQ1_0 and the grid i-quants (layouts in lowbit.c and iquants.c) ----
 * The i-quant steps are 8 lanes wide at both levels (one grid run of 8 weights; the AVX-512 build
 * of the same code may use its masks); the float operations are iquants.c's: db * grid * sign
 * (left to right; the sign a multiplication by +-1, as ggml's) and dl * (value + delta). */

static uint16_t rd16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
static uint32_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* 16 trits of TQ1_0 as signed bytes trit - 1: byte k of q times pw[k] (mod 256), times 3, >> 8. */
T256 __m128i trits16(__m128i q, __m128i pw) {
    const __m256i p = _mm256_mullo_epi16(_mm256_cvtepu8_epi16(q), _mm256_cvtepu8_epi16(pw));
    const __m256i t = _mm256_srli_epi16(_mm256_mullo_epi16(_mm256_and_si256(p, _mm256_set1_epi16(0xFF)),
                                                          _mm256_set1_epi16(3)), 8);
    const __m256i v = _mm256_sub_epi16(t, _mm256_set1_epi16(1));
    return _mm_packs_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

/* y[0..7] = db * grid[j] * sign[j]: the 8 unsigned grid bytes of g, bit j of signs negates.
 * The sign is a flip of the sign bit: what the compiler makes of iquants.c's "* (s ? -1.f : 1.f)"
 * (equal to the multiplication for every number; for a NaN scale it flips the NaN's sign too). */
T256 void put8_grid(float *y, float db, uint64_t g, unsigned signs) {
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const __m256i neg = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)signs), bit), bit);
    const __m256 flip = _mm256_castsi256_ps(_mm256_and_si256(neg, _mm256_set1_epi32((int)0x80000000u)));
    const __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)g)));
    _mm256_storeu_ps(y, _mm256_xor_ps(_mm256_mul_ps(_mm256_set1_ps(db), v), flip));
}

/* y[0..7] = dl * (value[j] + delta), value j of an IQ1 grid entry being ((e >> 2j) & 3) - 1. */
T256 void put8_iq1(float *y, float dl, unsigned e, float delta) {
    const __m256i sh = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i v = _mm256_sub_epi32(_mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)e), sh),
                                                        _mm256_set1_epi32(3)), _mm256_set1_epi32(1));
    const __m256 x = _mm256_add_ps(_mm256_cvtepi32_ps(v), _mm256_set1_ps(delta));
    _mm256_storeu_ps(y, _mm256_mul_ps(_mm256_set1_ps(dl), x));
}

#define GRID_KERNELS(lvl, isa)                                                                \
    __attribute__((target(isa))) static void tq1_0_##lvl(const uint8_t *s, float *y, int64_t n) { \
        const __m128i pw_qh = _mm_setr_epi8(1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27); \
        static const uint8_t POW3[5] = {1, 3, 9, 27, 81};                                    \
        for (int64_t b = 0; b < n / 256; b++, s += 54) {                                      \
            const float d = half_at(s + 52);                                                  \
            const __m128i q0 = _mm_loadu_si128((const __m128i *)s);                           \
            const __m128i q1 = _mm_loadu_si128((const __m128i *)(s + 16));                    \
            const __m128i q2 = _mm_loadu_si128((const __m128i *)(s + 32));                    \
            for (int t = 0; t < 5; t++, y += 32) {                                            \
                const __m128i pw = _mm_set1_epi8((char)POW3[t]);                              \
                put16_##lvl(y, trits16(q0, pw), d);                                           \
                put16_##lvl(y + 16, trits16(q1, pw), d);                                      \
            }                                                                                 \
            for (int t = 0; t < 5; t++, y += 16)                                              \
                put16_##lvl(y, trits16(q2, _mm_set1_epi8((char)POW3[t])), d);                 \
            put16_##lvl(y, trits16(_mm_set1_epi32((int)rd32(s + 48)), pw_qh), d);             \
            y += 16;                                                                          \
        }                                                                                     \
    }                                                                                         \
    __attribute__((target(isa))) static void iq2_xxs_##lvl(const uint8_t *b, float *y, int64_t n) { \
        for (int64_t k = 0; k < n / 256; k++, b += 66) {                                      \
            const float d = half_at(b);                                                       \
            const uint8_t *q = b + 2;                                                         \
            for (int ib = 0; ib < 8; ib++, q += 8) {                                          \
                const uint32_t aux = rd32(q + 4);                                             \
                const float db = d * (0.5f + (aux >> 28)) * 0.25f;                            \
                for (int l = 0; l < 4; l++, y += 8)                                           \
                    put8_grid(y, db, iq2xxs_grid[q[l]], iq_ksigns[(aux >> 7 * l) & 127]);     \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    __attribute__((target(isa))) static void iq2_xs_##lvl(const uint8_t *b, float *y, int64_t n) { \
        for (int64_t k = 0; k < n / 256; k++, b += 74) {                                      \
            const float d = half_at(b);                                                       \
            const uint8_t *qs = b + 2, *scales = b + 66;                                      \
            for (int ib = 0; ib < 8; ib++) {                                                  \
                const float db[2] = {d * (0.5f + (scales[ib] & 0xf)) * 0.25f,                 \
                                     d * (0.5f + (scales[ib] >> 4)) * 0.25f};                 \
                for (int l = 0; l < 4; l++, y += 8) {                                         \
                    const uint16_t q = rd16(qs + 2 * (4 * ib + l));                           \
                    put8_grid(y, db[l / 2], iq2xs_grid[q & 511], iq_ksigns[q >> 9]);          \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    __attribute__((target(isa))) static void iq2_s_##lvl(const uint8_t *b, float *y, int64_t n) { \
        for (int64_t k = 0; k < n / 256; k++, b += 82) {                                      \
            const float d = half_at(b);                                                       \
            const uint8_t *qs = b + 2, *signs = b + 34, *qh = b + 66, *scales = b + 74;       \
            for (int ib = 0; ib < 8; ib++, qs += 4, signs += 4) {                             \
                const float db[2] = {d * (0.5f + (scales[ib] & 0xf)) * 0.25f,                 \
                                     d * (0.5f + (scales[ib] >> 4)) * 0.25f};                 \
                for (int l = 0; l < 4; l++, y += 8) {                                         \
                    const int idx = qs[l] | ((qh[ib] << (8 - 2 * l)) & 0x300);                \
                    put8_grid(y, db[l / 2], iq2s_grid[idx], signs[l]);                        \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    __attribute__((target(isa))) static void iq3_xxs_##lvl(const uint8_t *b, float *y, int64_t n) { \
        for (int64_t k = 0; k < n / 256; k++, b += 98) {                                      \
            const float d = half_at(b);                                                       \
            const uint8_t *qs = b + 2, *scales_and_signs = b + 66;                            \
            for (int ib = 0; ib < 8; ib++, qs += 8) {                                         \
                const uint32_t aux = rd32(scales_and_signs + 4 * ib);                         \
                const float db = d * (0.5f + (aux >> 28)) * 0.5f;                            \
                for (int l = 0; l < 4; l++, y += 8)                                           \
                    put8_grid(y, db, iq3xxs_grid[qs[2 * l]] | (uint64_t)iq3xxs_grid[qs[2 * l + 1]] << 32, \
                              iq_ksigns[(aux >> 7 * l) & 127]);                               \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    __attribute__((target(isa))) static void iq3_s_##lvl(const uint8_t *b, float *y, int64_t n) { \
        for (int64_t k = 0; k < n / 256; k++, b += 110) {                                     \
            const float d = half_at(b);                                                       \
            const uint8_t *qs = b + 2, *qh = b + 66, *signs = b + 74, *scales = b + 106;      \
            for (int ib = 0; ib < 8; ib++, qs += 8, signs += 4) {                             \
                const int nibble = ib % 2 ? scales[ib / 2] >> 4 : scales[ib / 2] & 0xf;       \
                const float db = d * (1 + 2 * nibble);                                        \
                for (int l = 0; l < 4; l++, y += 8) {                                         \
                    const int i1 = qs[2 * l + 0] | ((qh[ib] << (8 - 2 * l)) & 256);           \
                    const int i2 = qs[2 * l + 1] | ((qh[ib] << (7 - 2 * l)) & 256);           \
                    put8_grid(y, db, iq3s_grid[i1] | (uint64_t)iq3s_grid[i2] << 32, signs[l]); \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    __attribute__((target(isa))) static void iq1_s_##lvl(const uint8_t *b, float *y, int64_t n) { \
        for (int64_t k = 0; k < n / 256; k++, b += 50) {                                      \
            const float d = half_at(b);                                                       \
            const uint8_t *qs = b + 2, *qh = b + 34;                                          \
            for (int ib = 0; ib < 8; ib++, qs += 4) {                                         \
                const uint16_t h = rd16(qh + 2 * ib);                                         \
                const float dl = d * (2 * ((h >> 12) & 7) + 1);                               \
                const float delta = h & 0x8000 ? -iq1s_delta : iq1s_delta;                    \
                for (int l = 0; l < 4; l++, y += 8)                                           \
                    put8_iq1(y, dl, iq1s_grid[qs[l] | (((h >> 3 * l) & 7) << 8)], delta);     \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    __attribute__((target(isa))) static void iq1_m_##lvl(const uint8_t *b, float *y, int64_t n) { \
        for (int64_t k = 0; k < n / 256; k++, b += 56) {                                      \
            const uint8_t *qs = b, *qh = b + 32;                                              \
            uint16_t sc[4];                                                                   \
            for (int i = 0; i < 4; i++) sc[i] = rd16(b + 48 + 2 * i);                         \
            const uint16_t d16 = (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) |         \
                                            ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));      \
            const float d = half_to_f32(d16);                                                 \
            for (int ib = 0; ib < 8; ib++, qs += 4, qh += 2) {                                \
                const int shift = 6 * (ib % 2);                                               \
                const float dl[2] = {d * (2 * ((sc[ib / 2] >> (shift + 0)) & 7) + 1),         \
                                     d * (2 * ((sc[ib / 2] >> (shift + 3)) & 7) + 1)};        \
                for (int l = 0; l < 4; l++, y += 8) {                                         \
                    const uint8_t h = qh[l / 2];                                              \
                    const int hi = l % 2 ? (h << 4) & 0x700 : (h << 8) & 0x700;               \
                    const float delta = h & (l % 2 ? 0x80 : 0x08) ? -iq1m_delta : iq1m_delta; \
                    put8_iq1(y, dl[l / 2], iq1s_grid[qs[l] | hi], delta);                     \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }

GRID_KERNELS(avx512, "avx512f")
GRID_KERNELS(avx2, "avx2")

#define INSTALL(lvl)                                                                          \
    do {                                                                                      \
        cv->blocks[Q_IQ4_NL] = iq4_nl_##lvl;                                                  \
        cv->blocks[Q_IQ4_XS] = iq4_xs_##lvl;                                                  \
        cv->blocks[Q_MXFP4] = mxfp4_##lvl;                                                    \
        cv->blocks[Q_TQ2_0] = tq2_0_##lvl;                                                    \
        cv->blocks[Q_TQ1_0] = tq1_0_##lvl;                                                    \
        cv->blocks[Q_IQ2_XXS] = iq2_xxs_##lvl;                                                \
        cv->blocks[Q_IQ2_XS] = iq2_xs_##lvl;                                                  \
        cv->blocks[Q_IQ2_S] = iq2_s_##lvl;                                                    \
        cv->blocks[Q_IQ3_XXS] = iq3_xxs_##lvl;                                                \
        cv->blocks[Q_IQ3_S] = iq3_s_##lvl;                                                    \
        cv->blocks[Q_IQ1_S] = iq1_s_##lvl;                                                    \
        cv->blocks[Q_IQ1_M] = iq1_m_##lvl;                                                    \
    } while (0)

void convert_init_iq_x86(Convert *cv, int level) {
    if (level >= CONVERT_AVX512) INSTALL(avx512);
    else if (level >= CONVERT_AVX2) INSTALL(avx2);
}

#else

void convert_init_iq_x86(Convert *cv, int level) { (void)cv, (void)level; }

#endif
