/* qblock: private to quant/quantize.c and quant/kquants.c (not part of quantize.h's contract):
 * block sizes, the fp16 and rounding helpers both sides use, the scale searches the legacy
 * importance-aware quantizers borrow, and the k-quant block quantizers the dispatch table of
 * quantize.c points at.
 *
 * Every block function quantizes one block of x (32 values for the legacy types, 256 for the
 * k-quants) into y (qtype_block_bytes of the type). */
#ifndef COLDTOK_QBLOCK_H
#define COLDTOK_QBLOCK_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "formats/qtype.h"

#define QK 32         /* legacy block */
#define QKK 256       /* k-quant super-block */
#define GROUP_MAX_EPS 1e-15f

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* ggml's nearest_int: round half to even through the float adder. Defined (unlike ggml's assert)
 * for every input: huge values saturate, NaN gives 0 as the bit trick does. Branch-free. */
static inline int nearest_int(float f) {
    f = f > 4194303.f ? 4194303.f : f;
    f = f < -4194303.f ? -4194303.f : f;
    float v = f + 12582912.f;
    int32_t i;
    memcpy(&i, &v, 4);
    return (i & 0x007fffff) - 0x00400000;
}

static inline void put_half(uint8_t *p, float f) {
    uint16_t h = f32_to_fp16(f);
    p[0] = (uint8_t)(h & 0xFF);
    p[1] = (uint8_t)(h >> 8);
}
static inline float get_half(const uint8_t *p) { return fp16_to_f32((uint16_t)(p[0] | p[1] << 8)); }

/* the value of largest magnitude (the first one on ties), and that magnitude; 0 when every value
 * is 0 (NaN never counts). The magnitude is found in four independent running maxima (a maximum
 * is exact in any order), then the first value that has it: the result of ggml's one loop, whose
 * every step waited for the last. */
static inline float signed_absmax(const float *x, int n, float *amax_out) {
    float m[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    int j = 0;
    for (; j + 4 <= n; j += 4)
        for (int k = 0; k < 4; k++) m[k] = m[k] < fabsf(x[j + k]) ? fabsf(x[j + k]) : m[k];
    for (; j < n; j++) m[0] = m[0] < fabsf(x[j]) ? fabsf(x[j]) : m[0];
    const float amax = MAX(MAX(m[0], m[1]), MAX(m[2], m[3]));
    float max = 0.0f;
    if (amax > 0)
        for (j = 0; j < n; j++)
            if (fabsf(x[j]) == amax) {
                max = x[j];
                break;
            }
    if (amax_out) *amax_out = amax;
    return max;
}

/* 1 where the processor has 512-bit vectors (AVX-512F): the 16-lane code (kqsearch.c's
 * make_*16, quantize.c's Q4_0 / Q8_0 blocks) is used only there, since compilers split its
 * comparisons into scalar ones for narrower vectors; elsewhere the 8-lane or serial code, whose
 * results are the same bit for bit. */
static inline int wide_lanes(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

/* The grid scale searches (kqsearch.c: every grid point of a search at once, bit for bit the
 * serial results), used by the k-quants and the legacy types' importance-aware quantizers.
 *
 * make_qx_quants: symmetric, L[i] = l + nmax with l in [-nmax, nmax-1], x ~ scale*l. ggml's
 * make_qx_quants with rmse_type 1 (the only one llama.cpp's quantizers use): weights qw, or x^2
 * when qw is NULL; tries 19 scales around nmax/max and keeps the weighted least-squares best. */
float make_qx_quants(int n, int nmax, const float *x, int8_t *L, const float *qw);
/* make_qkx2_quants: asymmetric, x ~ scale*L - min, L in [0, nmax], min >= 0 returned in *the_min.
 * Starts from the min/max grid, then tries nstep+1 grid stretches (rmin + rdelta*is) each refit by
 * weighted least squares for scale and min; keeps the lowest weighted error (|err| if use_mad,
 * else err^2). ggml's make_qkx2_quants, which the reference Q2_K, Q4_K and Q5_K use. n <= 32. */
float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *the_min,
                       float rmin, float rdelta, int nstep, int use_mad);
/* make_qkx3_fast: ggml's make_qkx3_quants (the search of make_qkx2_quants, squared error, max <=
 * min degenerate) for the candidates that need not match llama.cpp bit for bit: sums in double,
 * and each grid's error from the sums in closed form, sum w (s*l + m - x)^2 = s^2 Sll + 2sm Sl +
 * m^2 Sw - 2s Sxl - 2m Sx + Sxx, instead of a second pass over the block. n <= 32. */
float make_qkx3_fast(int n, int nmax, const float *x, const float *w, uint8_t *L, float *the_min,
                     float rmin, float rdelta, int nstep);
/* The same two searches for 8 sub-blocks of n at once (x, weights/w and L: the sub-blocks one
 * after the other; scales[8], the_mins[8]): each sub-block's results are exactly those of the
 * one-sub-block function above. */
void make_qkx2_quants8(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *scales,
                       float *the_mins, float rmin, float rdelta, int nstep, int use_mad);
/* make_qx_quants of 16 sub-blocks of 16 (x, L and qw, when not NULL: 256 values) into scales[16],
 * each sub-block's results exactly those of make_qx_quants(16, nmax, ...). */
void make_qx_quants16(int nmax, const float *x, int8_t *L, const float *qw, float *scales);
void make_qkx3_fast8(int n, int nmax, const float *x, const float *w, uint8_t *L, float *scales,
                     float *the_mins, float rmin, float rdelta, int nstep);
/* The same for 16 sub-blocks of n at once (Q2_K's 16 of 16: scales[16], the_mins[16]); each
 * sub-block's results again exactly the one-sub-block function's. */
void make_qkx2_quants16(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *scales,
                        float *the_mins, float rmin, float rdelta, int nstep, int use_mad);
void make_qkx3_fast16(int n, int nmax, const float *x, const float *w, uint8_t *L, float *scales,
                      float *the_mins, float rmin, float rdelta, int nstep);

/* The k-quants: llama.cpp's reference (ref) and the importance-aware candidate (imp; qw NULL:
 * neutral weights, see quantize.h). */
void q2k_ref(const float *x, uint8_t *y);
void q2k_imp(const float *x, uint8_t *y, const float *qw);
void q3k_ref(const float *x, uint8_t *y);
void q3k_imp(const float *x, uint8_t *y, const float *qw);
void q4k_ref(const float *x, uint8_t *y);
void q4k_imp(const float *x, uint8_t *y, const float *qw);
void q5k_ref(const float *x, uint8_t *y);
void q5k_imp(const float *x, uint8_t *y, const float *qw);
void q6k_ref(const float *x, uint8_t *y);
void q6k_imp(const float *x, uint8_t *y, const float *qw);
/* Two consecutive blocks at once (x: 512 values; the blocks at y and y + bb), each exactly what
 * the one-block function gives (ref2: *_ref; imp2: *_imp with qw NULL): their sub-blocks share the
 * 16-lane searches. */
void q4k_ref2(const float *x, uint8_t *y, size_t bb);
void q4k_imp2(const float *x, uint8_t *y, size_t bb);
void q5k_ref2(const float *x, uint8_t *y, size_t bb);
void q5k_imp2(const float *x, uint8_t *y, size_t bb);
/* llama.cpp's importance-aware k-quant block exactly (the *_imp above refit the sub-block codes
 * to the stored fp16 scales, which is usually better but not always): the third candidate when
 * importance weights are given, so that a block is never worse than llama.cpp's given them. */
void q2k_imp_ll(const float *x, uint8_t *y, const float *qw);
void q3k_imp_ll(const float *x, uint8_t *y, const float *qw);
void q4k_imp_ll(const float *x, uint8_t *y, const float *qw);
void q5k_imp_ll(const float *x, uint8_t *y, const float *qw);
void q6k_imp_ll(const float *x, uint8_t *y, const float *qw);

/* IQ4_NL (32 values, 18 bytes) and IQ4_XS (256 values, 136 bytes), quant/iq4quant.c: ggml's
 * quantizer, with importance weights qw or (NULL) without, byte for byte. */
void iq4nl_block(const float *x, uint8_t *y, const float *qw);
void iq4xs_block(const float *x, uint8_t *y, const float *qw);
/* IQ3_S (256 values, 110 bytes), quant/iq3squant.c: ggml's quantizer, likewise. */
void iq3s_block(const float *x, uint8_t *y, const float *qw);
/* IQ2_S (256 values, 82 bytes), quant/iq2squant.c: ggml's quantizer, with qw or (NULL) without. */
void iq2s_block(const float *x, uint8_t *y, const float *qw);
/* IQ2_XS (256 values, 74 bytes), quant/iq2xsquant.c: ggml's quantizer given qw; qw NULL: uniform
 * importance (llama.cpp requires importance data for IQ2_XS). */
void iq2xs_block(const float *x, uint8_t *y, const float *qw);
/* IQ3_XXS (256 values, 98 bytes), quant/iq3xxsquant.c: ggml's quantizer, with qw or without. */
void iq3xxs_block(const float *x, uint8_t *y, const float *qw);

#endif
