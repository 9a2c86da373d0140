/* dot_x86: see dot_x86.h and dot.h. The kernels are written once, in formats/dot_body.h, over a
 * vector of 16 floats; this file defines that vector for AVX-512 (one __m512) and for AVX2 (two
 * __m256) and includes the body once for each, each time followed by formats/dot_iq4.h and
 * formats/dot_grid.h (the i-quants' kernels, with the same vector). Each kernel is compiled for its instruction set
 * alone (__attribute__((target))), so the rest of the build stays baseline x86-64; dot_init_x86
 * asks the CPU (__builtin_cpu_supports) before handing one out. */
#include "formats/dot_x86.h"

#include "formats/convert.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#include "formats/half.h"
#include "formats/kquant.h"
#include "formats/lowbit.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* ---- AVX-512: V is one __m512 ---- */

#define ISA512 "avx512f,avx2,fma,f16c"
#define A512 __attribute__((target(ISA512), always_inline)) static inline

/* A block's fp16 scale by F16C (exact, as half_to_f32; the scalar decoder's branches cost more
 * than a 32-weight block's arithmetic). */
#define HALF(p) _cvtsh_ss((unsigned short)((p)[0] | (p)[1] << 8))

A512 __m512 i8_avx512(__m128i v) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v)); }
A512 __m512 u8_avx512(__m128i v) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(v)); }
A512 __m512 f16_avx512(const uint8_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
A512 __m512 bf16_avx512(const uint8_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}
A512 float hsum_avx512(__m512 v) {
    __m256 s = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    t = _mm_add_ss(t, _mm_movehdup_ps(t));
    return _mm_cvtss_f32(t);
}

/* the fp16 at p + i * bb (i < n <= 16) as 16 floats (lanes from n on: 0) */
A512 __m512 gather16_avx512(const uint8_t *p, int bb, int n) {
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(bb));
    const __mmask16 k = (__mmask16)(n >= 16 ? 0xFFFF : (1u << n) - 1);
    const __m512i g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), k, idx, p, 1);
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(g));
}

#define V __m512
#define VZERO() _mm512_setzero_ps()
#define VLOADX(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps(p, v)
#define VSCALES16(p, bb, n) gather16_avx512(p, bb, n)
#define VHALVES(a, b) _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(a), _mm512_set1_ps(b))
#define VSET1(f) _mm512_set1_ps(f)
#define VADD(a, b) _mm512_add_ps(a, b)
#define VSUB(a, b) _mm512_sub_ps(a, b)
#define VMUL(a, b) _mm512_mul_ps(a, b)
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VHSUM(v) hsum_avx512(v)
#define VI8(q) i8_avx512(q)
#define VU8(q) u8_avx512(q)
#define VF16(p) f16_avx512(p)
#define VBF16(p) bf16_avx512(p)
#define FN(name) name##_avx512
#define VI __m512i
#define VIOTA() _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define VIDX(q) _mm512_cvtepu8_epi32(q)
#define VIDXHI(i) _mm512_srli_epi32(i, 4)
#define VLUT(i, table) _mm512_permutexvar_ps(i, table)
#define VLUT32(i, lo, hi) _mm512_permutex2var_ps(lo, i, hi)
#define VILOW4(i) _mm512_and_epi32(i, _mm512_set1_epi32(15))
#define VILOW2() _mm512_setr_ps(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3)
#define VISHR(i, n) _mm512_srli_epi32(i, (unsigned)(n))
#define VIOR16(i, bits) _mm512_mask_or_epi32(i, (__mmask16)(bits), i, _mm512_set1_epi32(16))
#define VADD16(v, bits) _mm512_mask_add_ps(v, (__mmask16)(bits), v, _mm512_set1_ps(16.0f))
#define ATTR A512
#define KATTR __attribute__((target(ISA512))) static
#define MCMAX 8
#ifndef GEMM_MIN_512
#define GEMM_MIN_512 9
#endif
#define GEMM_MIN GEMM_MIN_512 /* passes of this many vectors and more: formats/dot_gemm.h */
#define NACC 2
#include "formats/dot_body.h"
#include "formats/dot_iq4.h"
#include "formats/dot_grid.h"
#undef GEMM
#undef GEMM_TRY
#undef V
#undef VZERO
#undef VLOADX
#undef VSTORE
#undef VSCALES16
#undef VHALVES
#undef VSET1
#undef VADD
#undef VSUB
#undef VMUL
#undef VFMA
#undef VHSUM
#undef VI8
#undef VU8
#undef VF16
#undef VBF16
#undef FN
#undef VI
#undef VIOTA
#undef VIDX
#undef VIDXHI
#undef VLUT
#undef VLUT32
#undef VILOW4
#undef VILOW2
#undef VISHR
#undef VIOR16
#undef VADD16
#undef ATTR
#undef KATTR
#undef MCMAX
#undef NACC
#undef GEMM_MIN

/* ---- AVX2: V is two __m256 (16 floats, low half first) ---- */

#define ISA256 "avx2,fma,f16c"
#define A256 __attribute__((target(ISA256), always_inline)) static inline

typedef struct {
    __m256 a, b;
} V256;

A256 V256 zero_avx2(void) { return (V256){_mm256_setzero_ps(), _mm256_setzero_ps()}; }
A256 V256 load_avx2(const float *p) { return (V256){_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
A256 void store_avx2(float *p, V256 v) { _mm256_storeu_ps(p, v.a), _mm256_storeu_ps(p + 8, v.b); }
A256 V256 set1_avx2(float f) { return (V256){_mm256_set1_ps(f), _mm256_set1_ps(f)}; }
A256 V256 add_avx2(V256 x, V256 y) { return (V256){_mm256_add_ps(x.a, y.a), _mm256_add_ps(x.b, y.b)}; }
A256 V256 sub_avx2(V256 x, V256 y) { return (V256){_mm256_sub_ps(x.a, y.a), _mm256_sub_ps(x.b, y.b)}; }
A256 V256 mul_avx2(V256 x, V256 y) { return (V256){_mm256_mul_ps(x.a, y.a), _mm256_mul_ps(x.b, y.b)}; }
A256 V256 fma_avx2(V256 x, V256 y, V256 z) {
    return (V256){_mm256_fmadd_ps(x.a, y.a, z.a), _mm256_fmadd_ps(x.b, y.b, z.b)};
}
A256 float hsum_avx2(V256 v) {
    __m256 s = _mm256_add_ps(v.a, v.b);
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    t = _mm_add_ss(t, _mm_movehdup_ps(t));
    return _mm_cvtss_f32(t);
}
A256 V256 i8_avx2(__m128i v) {
    return (V256){_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)), _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(v, 8)))};
}
A256 V256 u8_avx2(__m128i v) {
    return (V256){_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(v, 8)))};
}
A256 V256 f16_avx2(const uint8_t *p) {
    return (V256){_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)),
                  _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 16)))};
}
A256 V256 bf16_avx2(const uint8_t *p) {
    const __m256i a = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    const __m256i b = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + 16)));
    return (V256){_mm256_castsi256_ps(_mm256_slli_epi32(a, 16)), _mm256_castsi256_ps(_mm256_slli_epi32(b, 16))};
}

/* the fp16 at p + i * bb (i < n <= 16) as 16 floats (lanes from n on: 0) */
A256 V256 gather16_avx2(const uint8_t *p, int bb, int n) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), b = _mm256_set1_epi32(bb);
    const __m256i i0 = _mm256_mullo_epi32(iota, b), i1 = _mm256_mullo_epi32(_mm256_add_epi32(iota, _mm256_set1_epi32(8)), b);
    const __m256i nn = _mm256_set1_epi32(n);
    const __m256i k0 = _mm256_cmpgt_epi32(nn, iota), k1 = _mm256_cmpgt_epi32(nn, _mm256_add_epi32(iota, _mm256_set1_epi32(8)));
    const __m256i lo = _mm256_set1_epi32(0xFFFF), z = _mm256_setzero_si256();
    const __m256i g0 = _mm256_and_si256(_mm256_mask_i32gather_epi32(z, (const int *)p, i0, k0, 1), lo);
    const __m256i g1 = _mm256_and_si256(_mm256_mask_i32gather_epi32(z, (const int *)p, i1, k1, 1), lo);
    /* packus interleaves 128-bit lanes: g0.lo g1.lo g0.hi g1.hi -> reorder to g0 g1 */
    const __m256i h = _mm256_permute4x64_epi64(_mm256_packus_epi32(g0, g1), 0xD8);
    return (V256){_mm256_cvtph_ps(_mm256_castsi256_si128(h)), _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1))};
}

#define V V256
#define VZERO() zero_avx2()
#define VLOADX(p) load_avx2(p)
#define VSTORE(p, v) store_avx2(p, v)
#define VSCALES16(p, bb, n) gather16_avx2(p, bb, n)
#define VHALVES(a, b) ((V256){_mm256_set1_ps(a), _mm256_set1_ps(b)})
#define VSET1(f) set1_avx2(f)
#define VADD(a, b) add_avx2(a, b)
#define VSUB(a, b) sub_avx2(a, b)
#define VMUL(a, b) mul_avx2(a, b)
#define VFMA(a, b, c) fma_avx2(a, b, c)
#define VHSUM(v) hsum_avx2(v)
#define VI8(q) i8_avx2(q)
#define VU8(q) u8_avx2(q)
#define VF16(p) f16_avx2(p)
#define VBF16(p) bf16_avx2(p)
#define FN(name) name##_avx2
#define ATTR A256
#define KATTR __attribute__((target(ISA256))) static
#define MCMAX 2
#define NACC 1
#include "formats/dot_body.h"
#include "formats/dot_iq4.h"
#include "formats/dot_grid.h"
#undef GEMM
#undef GEMM_TRY

int dot_init_x86(Dot *d, int level) {
    __builtin_cpu_init();
    if (level >= CONVERT_AVX512 && __builtin_cpu_supports("avx512f")) {
        install_avx512(d);
        install_iq4_avx512(d);
        install_grid_avx512(d);
        return CONVERT_AVX512;
    }
    /* every AVX2 CPU has F16C; FMA came with AVX2 on every x86-64 CPU that has both */
    if (level >= CONVERT_AVX2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        install_avx2(d);
        install_iq4_avx2(d);
        install_grid_avx2(d);
        return CONVERT_AVX2;
    }
    return CONVERT_PORTABLE;
}

#else

int dot_init_x86(Dot *d, int level) { return (void)d, (void)level, CONVERT_PORTABLE; }

#endif
