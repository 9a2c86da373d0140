/* iq4quant: the IQ4_NL and IQ4_XS block quantizers for quantize.c's dispatch (quant/qblock.h,
 * private), byte-identical to ggml's quantize_iq4_nl / quantize_iq4_xs (what ggml_quantize_chunk
 * and llama_model_quantize run for these types), with and without importance weights.
 *
 * The search, per 32-value sub-block b of x (levels: the 16 non-linear IQ4 values v[0..15],
 * formats/lowbit.h):
 *   weights w_j = imp_j * sqrt(sigma2 + x_j^2), sigma2 = 2 * mean x^2 over the block (IQ4_NL: 32
 *   values; IQ4_XS: the 256-value super-block), or w_j = x_j^2 without importance;
 *   start from the scale that maps the value of largest magnitude to v[0] (= -127), give every
 *   x_j its nearest level at that scale and take the weighted least-squares scale
 *   d = sum w q x / sum w q^2; then try the 15 inverse scales (t + v[0]) / max for t = -7..7 the
 *   same way and keep the scale with the largest (sum w q x)^2 / sum w q^2. A sub-block whose
 *   largest |x| is below 1e-15 gets scale 0.
 *   IQ4_NL stores that scale as fp16 and re-picks the levels at it (unrounded). IQ4_XS stores
 *   d = -(the sub-block scale of largest magnitude) / 32 as fp16 and each sub-block's scale as a
 *   6-bit l in [-32, 31] (nearest_int(scale / d), kept as l + 32), then re-picks the levels at
 *   d * l.
 * Same float operations in the same order as ggml (w*q*x is (w*q)*x; nearest_int rounds half to
 * even), no FMA contraction. Layouts: formats/lowbit.c. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "formats/lowbit.h"
#include "quant/qblock.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define SUB 32   /* values per scale */
#define NTRY 7   /* the inverse scales tried on each side of the start */

/* The index of the level nearest to x (the lower one on ties, as ggml's bisection does). */
static int nearest_level(const int8_t *v, float x) {
    if (x <= v[0]) return 0;
    if (x >= v[15]) return 15;
    int lo = 0, hi = 15;
    while (hi - lo > 1) {
        const int mid = (lo + hi) / 2;
        if (x < v[mid]) hi = mid;
        else lo = mid;
    }
    return x - v[hi - 1] < v[hi] - x ? hi - 1 : hi;
}

/* The 16 fits of sub_scale at once, one per lane: lane k at inverse scale ids[k]. Each lane does
 * fit's float operations in fit's order; the nearest level is found without the bisection's
 * branches: the largest level <= x and the smallest level > x (-inf / +inf past the ends), then
 * the same comparison the bisection ends with (x - lower < upper - x), which also gives its
 * answers at the ends (level 0 at or below v[0], level 15 at or above v[15]). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define FIT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FIT_CLONES
#endif
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

FIT_CLONES static void fit16(const int8_t *v, const float *xb, const float *w, const float *ids, float *sumqx,
                             float *sumq2) {
    v16f id, sx = {0}, s2 = {0};
    memcpy(&id, ids, sizeof id);
    const v16f zero = {0};
    for (int j = 0; j < SUB; j++) {
        const v16f x = id * xb[j];
        v16f lo = zero - INFINITY, hi = zero + INFINITY;
        for (int k = 0; k < 16; k++) { /* ascending: the last level <= x */
            const v16i m = zero + (float)v[k] <= x;
            lo = (v16f)((m & (v16i)(zero + (float)v[k])) | (~m & (v16i)lo));
        }
        for (int k = 15; k >= 0; k--) { /* descending: the first level > x */
            const v16i m = zero + (float)v[k] > x;
            hi = (v16f)((m & (v16i)(zero + (float)v[k])) | (~m & (v16i)hi));
        }
        const v16i low = x - lo < hi - x;
        const v16f q = (v16f)((low & (v16i)lo) | (~low & (v16i)hi));
        sx += w[j] * q * xb[j];
        s2 += w[j] * q * q;
    }
    memcpy(sumqx, &sx, sizeof sx), memcpy(sumq2, &s2, sizeof s2);
}

/* The least-squares scale of one 32-value sub-block (0 for a block of zeros). */
static float sub_scale(const int8_t *v, const float *xb, const float *qw, float sigma2) {
    float w[SUB];
    for (int j = 0; j < SUB; j++) w[j] = qw ? qw[j] * sqrtf(sigma2 + xb[j] * xb[j]) : xb[j] * xb[j];
    float amax;
    const float max = signed_absmax(xb, SUB, &amax);
    if (amax < GROUP_MAX_EPS) return 0.0f;
    /* the start (lane 0), then the 2*NTRY+1 inverse scales (t + v[0]) / max, all fitted at once
     * and compared in ggml's order */
    float ids[16], sumqx[16], sumq2[16];
    const float d0 = -max / v[0];
    ids[0] = 1 / d0;
    for (int t = -NTRY; t <= NTRY; t++) ids[t + NTRY + 1] = (t + v[0]) / max;
    fit16(v, xb, w, ids, sumqx, sumq2);
    float d = sumq2[0] > 0 ? sumqx[0] / sumq2[0] : 0.f;
    float best = d * sumqx[0];
    for (int k = 1; k < 16; k++)
        if (sumq2[k] > 0 && sumqx[k] * sumqx[k] > best * sumq2[k]) {
            d = sumqx[k] / sumq2[k];
            best = d * sumqx[k];
        }
    return d;
}

static float block_sigma2(const float *x, int n) {
    float s = 0;
    for (int j = 0; j < n; j++) s += x[j] * x[j];
    return s * (2.f / n);
}

/* The levels of 32 values at inverse scale id, packed: value j in the low nibble of byte j,
 * value j+16 in its high nibble. */
static void pack_levels(const int8_t *v, const float *xb, float id, uint8_t *qs) {
    uint8_t L[SUB];
    for (int j = 0; j < SUB; j++) L[j] = (uint8_t)nearest_level(v, id * xb[j]);
    for (int j = 0; j < 16; j++) qs[j] = (uint8_t)(L[j] | L[j + 16] << 4);
}

void iq4nl_block(const float *x, uint8_t *y, const float *qw) {
    const int8_t *v = lowbit_iq4_levels();
    const float d = sub_scale(v, x, qw, qw ? block_sigma2(x, SUB) : 0.0f);
    put_half(y, d);
    pack_levels(v, x, d ? 1 / d : 0, y + 2);
}

void iq4xs_block(const float *x, uint8_t *y, const float *qw) {
    const int8_t *v = lowbit_iq4_levels();
    const float sigma2 = qw ? block_sigma2(x, QKK) : 0.0f;
    float scales[QKK / SUB], amax_scale = 0, max_scale = 0;
    for (int ib = 0; ib < QKK / SUB; ib++) {
        scales[ib] = sub_scale(v, x + SUB * ib, qw ? qw + SUB * ib : NULL, sigma2);
        if (fabsf(scales[ib]) > amax_scale) {
            amax_scale = fabsf(scales[ib]);
            max_scale = scales[ib];
        }
    }
    const float d = -max_scale / 32;
    const float id = d ? 1 / d : 0.f;
    put_half(y, d);
    unsigned scales_h = 0;
    uint8_t *scales_l = y + 4;
    memset(scales_l, 0, QKK / SUB / 2);
    for (int ib = 0; ib < QKK / SUB; ib++) {
        const int l = MAX(-32, MIN(31, nearest_int(id * scales[ib])));
        const float dl = d * l;
        pack_levels(v, x + SUB * ib, dl ? 1 / dl : 0.f, y + 8 + 16 * ib);
        const unsigned u = (unsigned)(l + 32);
        scales_l[ib / 2] |= (uint8_t)((u & 0xF) << 4 * (ib % 2));
        scales_h |= (u >> 4) << 2 * ib;
    }
    y[2] = (uint8_t)(scales_h & 0xFF);
    y[3] = (uint8_t)(scales_h >> 8);
}
