/* convert_x86: see convert_x86.h and convert.h. Each kernel is compiled for its instruction set
 * alone (__attribute__((target))), so the rest of the build stays baseline x86-64; convert_init_x86
 * asks the CPU (__builtin_cpu_supports) before handing one out. */
#include "formats/convert_x86.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#include "formats/kquant.h"

/* F16 -> F32 with F16C/AVX-512 (the conversion is exact, so it equals fp16_to_f32 bit for bit). */
__attribute__((target("avx512f"))) static void f16_to_f32_avx512(const uint16_t *s, float *d, int64_t n) {
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 a = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + i)));
        __m512 b = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + i + 16)));
        __m512 c = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + i + 32)));
        __m512 e = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + i + 48)));
        _mm512_storeu_ps(d + i, a);
        _mm512_storeu_ps(d + i + 16, b);
        _mm512_storeu_ps(d + i + 32, c);
        _mm512_storeu_ps(d + i + 48, e);
    }
    for (; i < n; i++) d[i] = fp16_to_f32(s[i]);
}

__attribute__((target("f16c,avx"))) static void f16_to_f32_f16c(const uint16_t *s, float *d, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i))));
    for (; i < n; i++) d[i] = fp16_to_f32(s[i]);
}

/* Q8_0 rows (blocks of 34 bytes: fp16 d, 32 int8 q) -> f32: y = q * d, one float multiply per
 * value as in ggml's dequantize_row_q8_0, hence bit-identical to qdequant_row. */
__attribute__((target("avx512f"))) static void q8_0_to_f32_avx512(const uint8_t *s, float *d, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, s += 34, d += 32) {
        uint16_t h;
        memcpy(&h, s, 2);
        __m512 scale = _mm512_set1_ps(fp16_to_f32(h));
        __m512i lo = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(s + 2)));
        __m512i hi = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(s + 18)));
        _mm512_storeu_ps(d, _mm512_mul_ps(_mm512_cvtepi32_ps(lo), scale));
        _mm512_storeu_ps(d + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(hi), scale));
    }
}

/* Q5_0 (22-byte blocks: fp16 d, 32 high bits qh, 16 bytes of low nibbles):
 * y = (q - 16) * d, as ggml's dequantize_row_q5_0. */
__attribute__((target("avx512f"))) static void q5_0_to_f32_avx512(const uint8_t *s, float *d, int64_t n) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i lane16 = _mm512_add_epi32(lane, _mm512_set1_epi32(16));
    const __m512i low4 = _mm512_set1_epi32(0xF), one = _mm512_set1_epi32(1), sixteen = _mm512_set1_epi32(16);
    for (int64_t b = 0; b < n / 32; b++, s += 22, d += 32) {
        uint16_t h;
        uint32_t qh;
        memcpy(&h, s, 2);
        memcpy(&qh, s + 2, 4);
        __m512 scale = _mm512_set1_ps(fp16_to_f32(h));
        __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(s + 6)));
        __m512i bits = _mm512_set1_epi32((int)qh);
        __m512i h0 = _mm512_slli_epi32(_mm512_and_si512(_mm512_srlv_epi32(bits, lane), one), 4);
        __m512i h1 = _mm512_slli_epi32(_mm512_and_si512(_mm512_srlv_epi32(bits, lane16), one), 4);
        __m512i x0 = _mm512_sub_epi32(_mm512_or_si512(_mm512_and_si512(q, low4), h0), sixteen);
        __m512i x1 = _mm512_sub_epi32(_mm512_or_si512(_mm512_srli_epi32(q, 4), h1), sixteen);
        _mm512_storeu_ps(d, _mm512_mul_ps(_mm512_cvtepi32_ps(x0), scale));
        _mm512_storeu_ps(d + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(x1), scale));
    }
}

/* Q4_K (144-byte super-blocks of 256: fp16 d, fp16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes
 * of nibbles): y = (d * sc) * q - (dmin * m), a multiply then a subtract, as ggml's. */
__attribute__((target("avx512f"))) static void q4_k_to_f32_avx512(const uint8_t *s, float *y, int64_t n) {
    const __m512i low4 = _mm512_set1_epi32(0xF);
    for (int64_t b = 0; b < n / 256; b++, s += 144) {
        uint16_t hd, hm;
        memcpy(&hd, s, 2);
        memcpy(&hm, s + 2, 2);
        const float d = fp16_to_f32(hd), min = fp16_to_f32(hm);
        const uint8_t *scales = s + 4, *q = s + 16;
        for (int j = 0; j < 4; j++, q += 32) {
            uint8_t sc, m;
            k4_scale_min(2 * j, scales, &sc, &m);
            const __m512 d1 = _mm512_set1_ps(d * sc), m1 = _mm512_set1_ps(min * m);
            k4_scale_min(2 * j + 1, scales, &sc, &m);
            const __m512 d2 = _mm512_set1_ps(d * sc), m2 = _mm512_set1_ps(min * m);
            for (int h = 0; h < 2; h++) {
                __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(q + 16 * h)));
                __m512 lo = _mm512_cvtepi32_ps(_mm512_and_si512(v, low4));
                __m512 hi = _mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4));
                _mm512_storeu_ps(y + 16 * h, _mm512_sub_ps(_mm512_mul_ps(d1, lo), m1));
                _mm512_storeu_ps(y + 32 + 16 * h, _mm512_sub_ps(_mm512_mul_ps(d2, hi), m2));
            }
            y += 64;
        }
    }
}

/* f32 -> bf16 with AVX512-BF16's vcvtneps2bf16 (round to nearest even; it flushes denormals, which
 * f32_to_bf16 keeps: a difference of at most one bf16 denormal, in the approximate mode). */
__attribute__((target("avx512f,avx512bf16"))) static void f32_to_bf16_avx512(const float *s, uint16_t *d, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(s + i));
        _mm256_storeu_si256((__m256i *)(d + i), (__m256i)h);
    }
    for (; i < n; i++) d[i] = f32_to_bf16(s[i]);
}

/* F16 -> bf16 in one pass (vcvtph2ps then vcvtneps2bf16), for bf16 mode on F16 weights. */
__attribute__((target("avx512f,avx512bf16"))) static void f16_to_bf16_avx512(const uint16_t *s, uint16_t *d, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + i)));
        _mm256_storeu_si256((__m256i *)(d + i), (__m256i)_mm512_cvtneps_pbh(x));
    }
    for (; i < n; i++) d[i] = f32_to_bf16(fp16_to_f32(s[i]));
}

int convert_init_x86(Convert *cv, int level) {
    __builtin_cpu_init();
    int got = CONVERT_PORTABLE;
    if (level >= CONVERT_AVX512 && __builtin_cpu_supports("avx512f")) {
        got = CONVERT_AVX512;
        cv->f16_to_f32 = f16_to_f32_avx512;
        cv->blocks[Q_Q8_0] = q8_0_to_f32_avx512;
        cv->blocks[Q_Q5_0] = q5_0_to_f32_avx512;
        cv->blocks[Q_Q4_K] = q4_k_to_f32_avx512;
    } else if (level >= CONVERT_AVX2 && __builtin_cpu_supports("avx2")) {
        /* every AVX2 CPU has F16C (and clang's __builtin_cpu_supports does not know "f16c") */
        got = CONVERT_AVX2;
        cv->f16_to_f32 = f16_to_f32_f16c;
    }
    if (got == CONVERT_AVX512 && __builtin_cpu_supports("avx512bf16")) {
        cv->f32_to_bf16 = f32_to_bf16_avx512;
        cv->f16_to_bf16 = f16_to_bf16_avx512;
    }
    if (got > CONVERT_PORTABLE) convert_init_iq_x86(cv, got);
    return got;
}

#else

int convert_init_x86(Convert *cv, int level) {
    (void)cv, (void)level;
    return CONVERT_PORTABLE;
}

#endif
