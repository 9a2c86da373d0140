/* quantize: see quantize.h.
 *
 * The reference quantizers follow llama.cpp's ggml-quants.c (commit c392e509 and since): the same
 * float32 operations in the same order, so the blocks come out byte-identical. The parts that
 * matter for that are kept visible: float expressions are written in ggml's association order
 * (w*x*l is (w*x)*l), nearest_int is ggml's add-a-magic-number rounding (half to even), and the
 * float -> small int casts of the legacy types truncate like x86 cvttss2si followed by taking the
 * low byte. No FMA contraction (-std=c11 turns it off for gcc; the pragma below does for clang).
 *
 * Block layouts: see formats/qtype.c. "Candidates": the k-quants (and, with importance weights,
 * every type but Q8_0) are quantized twice per block (and a third candidate is the all-zero block)
 * and the block with the lowest (weighted) squared reconstruction error is kept; the error is
 * measured with qdequant_row, i.e. exactly what a reader will see.
 *
 * The k-quants and the scale searches live in kquants.c; the block helpers both files share in
 * qblock.h (private). */
#include "quant/quantize.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "formats/qtype.h"
#include "quant/qblock.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define F16_MAX 65504.0f

/* ---- small helpers ---- */

/* The low byte of (int32)f, as gcc's (int8_t)f / (uint8_t)f compile on x86-64 (cvttss2si gives
 * INT32_MIN when f is out of range or NaN). Only degenerate blocks (zero scale) go out of range. */
static int low_byte(float f) {
    int32_t i = (f >= -2147483648.0f && f < 2147483648.0f) ? (int32_t)f : INT32_MIN;
    return (int)((uint32_t)i & 0xFF);
}
static int as_i8(int byte) { return byte >= 128 ? byte - 256 : byte; }

static void put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* ================= legacy 32-element blocks: reference quantizers ================= */

/* ggml's running minimum and maximum (the first of equal values: it matters only for -0 and +0).
 * Four independent running minima and maxima (each step of one running pair waits for the last);
 * equal values have the same bits except for zeros, so only a zero result is redone in ggml's
 * order. */
static void min_max(const float *x, int n, float *mn, float *mx) {
    float lo[4] = {FLT_MAX, FLT_MAX, FLT_MAX, FLT_MAX}, hi[4] = {-FLT_MAX, -FLT_MAX, -FLT_MAX, -FLT_MAX};
    int j = 0;
    for (; j + 4 <= n; j += 4)
        for (int k = 0; k < 4; k++) {
            lo[k] = x[j + k] < lo[k] ? x[j + k] : lo[k];
            hi[k] = x[j + k] > hi[k] ? x[j + k] : hi[k];
        }
    for (; j < n; j++) {
        lo[0] = x[j] < lo[0] ? x[j] : lo[0];
        hi[0] = x[j] > hi[0] ? x[j] : hi[0];
    }
    float min = MIN(MIN(lo[0], lo[1]), MIN(lo[2], lo[3])), max = MAX(MAX(hi[0], hi[1]), MAX(hi[2], hi[3]));
    if (min == 0 || max == 0) { /* which zero came first */
        min = FLT_MAX, max = -FLT_MAX;
        for (j = 0; j < n; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
    }
    *mn = min, *mx = max;
}

/* Q4_0's and Q8_0's reference blocks and the row check as vectors of 16 lanes (GCC/clang vector
 * extensions): the same float operations per value as ggml's loops, so the same bytes; they were
 * the largest costs of Q4_0 and Q8_0 models. Compiled for AVX-512 and used where the processor has
 * it (wide_lanes, qblock.h): without 512-bit registers compilers split the 16-lane comparisons
 * into scalar ones, slower than the serial code, which the other processors keep. */
#if defined(__x86_64__) && defined(__GNUC__)
#define WIDE 1
#define WIDE_FN __attribute__((target("avx512f")))
#else
#define WIDE 0
#endif
#if WIDE
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi" /* the vectors never cross a call: see kqsearch.c */
#endif
#ifdef __clang__
#pragma clang diagnostic ignored "-Wpsabi"
#endif
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
typedef uint8_t v16u8 __attribute__((vector_size(16)));

WIDE_FN __attribute__((always_inline)) static inline v16f v16_abs(v16f v) { return (v16f)((v16i)v & 0x7fffffff); }
WIDE_FN __attribute__((always_inline)) static inline v16i v16_sel(v16i m, v16i a, v16i b) { return (m & a) | (~m & b); }

/* the lanes' maximum (non-negative, finite values: exact in any order) and minimum (ints) */
WIDE_FN __attribute__((always_inline)) static inline float v16_hmax(v16f v) {
    v16f s = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
    v = (v16f)v16_sel(v < s, (v16i)s, (v16i)v);
    s = __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
    v = (v16f)v16_sel(v < s, (v16i)s, (v16i)v);
    s = __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    v = (v16f)v16_sel(v < s, (v16i)s, (v16i)v);
    return v[0] < v[1] ? v[1] : v[0];
}
WIDE_FN __attribute__((always_inline)) static inline int v16_hmin(v16i v) {
    v16i s = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
    v = v16_sel(s < v, s, v);
    s = __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
    v = v16_sel(s < v, s, v);
    s = __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    v = v16_sel(s < v, s, v);
    return v[1] < v[0] ? v[1] : v[0];
}

/* as_i8(low_byte(f)) of each lane, then MIN(15, .) */
WIDE_FN __attribute__((always_inline)) static inline v16i v16_q4(v16f f) {
    /* out of int32's range (or NaN): INT32_MIN, low byte 0; -2^31 itself converts to the same */
    const v16i in = v16_abs(f) < 2147483648.0f;
    const v16i i = __builtin_convertvector((v16f)((v16i)f & in), v16i) & in;
    const v16i b = ((i & 0xFF) ^ 0x80) - 0x80;
    return v16_sel(b > 15, (v16i){0} + 15, b);
}

WIDE_FN static void q4_0_wide(const float *x, uint8_t *y) {
    v16f lo, hi;
    memcpy(&lo, x, sizeof lo), memcpy(&hi, x + 16, sizeof hi);
    const v16f alo = v16_abs(lo), ahi = v16_abs(hi);
    const float amax = v16_hmax((v16f)v16_sel(alo < ahi, (v16i)ahi, (v16i)alo));
    /* signed_absmax: the first value of that magnitude (0 when all are zero) */
    const v16i idx = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, none = (v16i){0} + QK;
    const v16i first = v16_sel(alo == amax, idx, v16_sel(ahi == amax, idx + 16, none));
    const float max = amax > 0 ? x[v16_hmin(first)] : 0.0f;
    const float d = max / -8;
    const float id = d ? 1.0f / d : 0.0f;
    put_half(y, d);
    const v16i a = v16_q4(lo * id + 8.5f), b = v16_q4(hi * id + 8.5f);
    const v16u8 q = __builtin_convertvector((a & 0xFF) | ((b & 0x0F) << 4), v16u8);
    memcpy(y + 2, &q, sizeof q);
}
#endif

static void q4_0_ref(const float *x, uint8_t *y) {
#if WIDE
    if (wide_lanes()) {
        q4_0_wide(x, y);
        return;
    }
#endif
    const float max = signed_absmax(x, QK, NULL);
    const float d = max / -8;
    const float id = d ? 1.0f / d : 0.0f;
    put_half(y, d);
    for (int j = 0; j < QK / 2; j++) {
        int a = MIN(15, as_i8(low_byte(x[j] * id + 8.5f)));
        int b = MIN(15, as_i8(low_byte(x[j + QK / 2] * id + 8.5f)));
        y[2 + j] = (uint8_t)((uint8_t)a | (uint8_t)(b << 4));
    }
}

static void q4_1_ref(const float *x, uint8_t *y) {
    float min, max;
    min_max(x, QK, &min, &max);
    const float d = (max - min) / ((1 << 4) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    put_half(y, d);
    put_half(y + 2, min);
    for (int j = 0; j < QK / 2; j++) {
        int a = MIN(15, as_i8(low_byte((x[j] - min) * id + 0.5f)));
        int b = MIN(15, as_i8(low_byte((x[j + QK / 2] - min) * id + 0.5f)));
        y[4 + j] = (uint8_t)((uint8_t)a | (uint8_t)(b << 4));
    }
}

/* 5-bit quants q[32] into qs[16] (low nibbles) and the 32-bit qh of fifth bits */
static void pack5(const int *q, uint8_t *qh_at, uint8_t *qs) {
    uint32_t qh = 0;
    for (int j = 0; j < QK / 2; j++) {
        const uint8_t a = (uint8_t)q[j], b = (uint8_t)q[j + QK / 2];
        qs[j] = (uint8_t)((a & 0x0F) | ((b & 0x0F) << 4));
        qh |= ((a & 0x10u) >> 4) << j;
        qh |= ((b & 0x10u) >> 4) << (j + QK / 2);
    }
    put_le32(qh_at, qh);
}

static void q5_0_ref(const float *x, uint8_t *y) {
    const float max = signed_absmax(x, QK, NULL);
    const float d = max / -16;
    const float id = d ? 1.0f / d : 0.0f;
    put_half(y, d);
    int q[QK];
    for (int j = 0; j < QK; j++) q[j] = (uint8_t)MIN(31, as_i8(low_byte(x[j] * id + 16.5f)));
    pack5(q, y + 2, y + 6);
}

static void q5_1_ref(const float *x, uint8_t *y) {
    float min, max;
    min_max(x, QK, &min, &max);
    const float d = (max - min) / ((1 << 5) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    put_half(y, d);
    put_half(y + 2, min);
    int q[QK];
    for (int j = 0; j < QK; j++) q[j] = low_byte((x[j] - min) * id + 0.5f); /* no clamp in ggml */
    pack5(q, y + 4, y + 8);
}

/* roundf (halves away from zero) of |v| < 2^31 as an integer, inline: roundf itself is a libm call
 * (gcc does not inline it for x86-64's baseline), which was a third of the time of Q8_0. v - t is
 * exact (t is v truncated), so the comparisons decide as roundf does. */
static inline int32_t round_away(float v) {
    const int32_t t = (int32_t)v;
    const float f = v - (float)t;
    return t + (f >= 0.5f) - (f <= -0.5f);
}

#if WIDE
/* round_away of each lane, its low byte what Q8_0 stores. Out of int32's range (or NaN; 1/d
 * overflows in blocks below ~1e-37) the truncation is INT32_MIN, as x86's cvttss2si gives the
 * scalar code, and the +-1 wraps as it does there. */
WIDE_FN __attribute__((always_inline)) static inline v16i v16_round_away(v16f v) {
    typedef uint32_t v16u __attribute__((vector_size(64)));
    const v16i in = v16_abs(v) < 2147483648.0f;
    const v16i t = (__builtin_convertvector((v16f)((v16i)v & in), v16i) & in) | (~in & INT32_MIN);
    const v16f f = v - __builtin_convertvector(t, v16f);
    return (v16i)((v16u)t - (v16u)(f >= 0.5f) + (v16u)(f <= -0.5f)); /* masks are -1 */
}

WIDE_FN static void q8_0_wide(const float *x, uint8_t *y) {
    v16f lo, hi;
    memcpy(&lo, x, sizeof lo), memcpy(&hi, x + 16, sizeof hi);
    const v16f alo = v16_abs(lo), ahi = v16_abs(hi);
    const float amax = v16_hmax((v16f)v16_sel(alo < ahi, (v16i)ahi, (v16i)alo)); /* exact in any order */
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    put_half(y, d);
    const v16u8 a = __builtin_convertvector(v16_round_away(lo * id) & 0xFF, v16u8);
    const v16u8 b = __builtin_convertvector(v16_round_away(hi * id) & 0xFF, v16u8);
    memcpy(y + 2, &a, sizeof a), memcpy(y + 18, &b, sizeof b);
}
#endif

static void q8_0_ref(const float *x, uint8_t *y) {
#if WIDE
    if (wide_lanes()) {
        q8_0_wide(x, y);
        return;
    }
#endif
    float amax;
    signed_absmax(x, QK, &amax); /* MAX(amax, |x|) over the block, in four chains */
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    put_half(y, d);
    for (int j = 0; j < QK; j++) y[2 + j] = (uint8_t)(int8_t)round_away(x[j] * id);
}

/* ================= legacy blocks with importance weights (llama.cpp's *_impl) =================
 * sigma2 is the row's mean square (ggml computes it over the whole row). */

static void legacy_weights(const float *x, const float *qw, float sigma2, float *w) {
    for (int j = 0; j < QK; j++) w[j] = qw[j] * sqrtf(sigma2 + x[j] * x[j]);
}

static void q4_0_imp(const float *x, uint8_t *y, const float *qw, float sigma2) {
    float w[QK];
    int8_t L[QK];
    legacy_weights(x, qw, sigma2, w);
    put_half(y, make_qx_quants(QK, 8, x, L, w));
    for (int j = 0; j < 16; j++) y[2 + j] = (uint8_t)(L[j] | (L[j + 16] << 4));
}

static void q4_1_imp(const float *x, uint8_t *y, const float *qw, float sigma2) {
    float w[QK], min;
    uint8_t L[QK];
    legacy_weights(x, qw, sigma2, w);
    float d = make_qkx3_fast(QK, 15, x, w, L, &min, -0.9f, 0.05f, 36);
    put_half(y, d);
    put_half(y + 2, -min);
    for (int j = 0; j < 16; j++) y[4 + j] = (uint8_t)(L[j] | (L[j + 16] << 4));
}

static void q5_0_imp(const float *x, uint8_t *y, const float *qw, float sigma2) {
    float w[QK];
    int8_t L[QK];
    int q[QK];
    legacy_weights(x, qw, sigma2, w);
    put_half(y, make_qx_quants(QK, 16, x, L, w));
    for (int j = 0; j < QK; j++) q[j] = (uint8_t)L[j];
    pack5(q, y + 2, y + 6);
}

static void q5_1_imp(const float *x, uint8_t *y, const float *qw, float sigma2) {
    float w[QK], min;
    uint8_t L[QK];
    int q[QK];
    legacy_weights(x, qw, sigma2, w);
    float d = make_qkx3_fast(QK, 31, x, w, L, &min, -0.9f, 0.05f, 36);
    put_half(y, d);
    put_half(y + 2, -min);
    for (int j = 0; j < QK; j++) q[j] = L[j];
    pack5(q, y + 4, y + 8);
}

/* ================= dispatch ================= */

static void plain_f32(const float *x, uint8_t *y, int64_t n) { memcpy(y, x, (size_t)n * 4); }
static void plain_half(const float *x, uint8_t *y, int64_t n, int bf16) {
    for (int64_t i = 0; i < n; i++) {
        uint16_t h = !bf16 ? f32_to_fp16(x[i]) : f32_to_bf16(x[i]);
        y[2 * i] = (uint8_t)(h & 0xFF);
        y[2 * i + 1] = (uint8_t)(h >> 8);
    }
}
static void plain_f16(const float *x, uint8_t *y, int64_t n) { plain_half(x, y, n, 0); }
static void plain_bf16(const float *x, uint8_t *y, int64_t n) { plain_half(x, y, n, 1); }

/* A type is producible when it has an entry here. plain: converted a whole row at once. ref:
 * llama.cpp's reference quantizer of one block. The importance-aware second candidate, if any:
 * imp (the k-quants) also runs without importance weights (qw NULL: neutral weights); imp_weighted
 * (the legacy types) only with them, and weighs by the row's mean square sigma2 as well. */
typedef struct {
    void (*plain)(const float *x, uint8_t *y, int64_t n);
    void (*ref)(const float *x, uint8_t *y);
    void (*imp)(const float *x, uint8_t *y, const float *qw);
    void (*imp_weighted)(const float *x, uint8_t *y, const float *qw, float sigma2);
    /* ggml's one quantizer (the i-quants), with qw or NULL: used alone, no other candidate, so the
     * blocks are llama.cpp's own with and without importance weights. */
    void (*only)(const float *x, uint8_t *y, const float *qw);
    /* with importance weights, a third candidate: llama.cpp's own importance-aware block */
    void (*imp_ll)(const float *x, uint8_t *y, const float *qw);
    /* ref and imp (qw NULL) of two consecutive blocks at once, the same bytes (qblock.h): used
     * without importance weights */
    void (*ref2)(const float *x, uint8_t *y, size_t bb);
    void (*imp2)(const float *x, uint8_t *y, size_t bb);
} Quantizer;

static const Quantizer QUANT[] = {
    [Q_F32] = {.plain = plain_f32},
    [Q_F16] = {.plain = plain_f16},
    [Q_BF16] = {.plain = plain_bf16},
    [Q_Q4_0] = {.ref = q4_0_ref, .imp_weighted = q4_0_imp},
    [Q_Q4_1] = {.ref = q4_1_ref, .imp_weighted = q4_1_imp},
    [Q_Q5_0] = {.ref = q5_0_ref, .imp_weighted = q5_0_imp},
    [Q_Q5_1] = {.ref = q5_1_ref, .imp_weighted = q5_1_imp},
    [Q_Q8_0] = {.ref = q8_0_ref}, /* importance is ignored, as llama.cpp does */
    [Q_Q2_K] = {.ref = q2k_ref, .imp = q2k_imp, .imp_ll = q2k_imp_ll},
    [Q_Q3_K] = {.ref = q3k_ref, .imp = q3k_imp, .imp_ll = q3k_imp_ll},
    [Q_Q4_K] = {.ref = q4k_ref, .imp = q4k_imp, .imp_ll = q4k_imp_ll, .ref2 = q4k_ref2, .imp2 = q4k_imp2},
    [Q_Q5_K] = {.ref = q5k_ref, .imp = q5k_imp, .imp_ll = q5k_imp_ll, .ref2 = q5k_ref2, .imp2 = q5k_imp2},
    [Q_Q6_K] = {.ref = q6k_ref, .imp = q6k_imp, .imp_ll = q6k_imp_ll},
    [Q_IQ2_S] = {.only = iq2s_block},
    [Q_IQ4_NL] = {.only = iq4nl_block},
    [Q_IQ4_XS] = {.only = iq4xs_block},
    [Q_IQ3_S] = {.only = iq3s_block},
    [Q_IQ2_XS] = {.only = iq2xs_block},
    [Q_IQ3_XXS] = {.only = iq3xxs_block},
};

static const Quantizer *quantizer(uint32_t type) {
    if (type >= sizeof QUANT / sizeof QUANT[0]) return NULL;
    const Quantizer *q = &QUANT[type];
    return q->plain || q->ref || q->only ? q : NULL;
}

int qtype_can_quant(uint32_t type) { return quantizer(type) != NULL; }

/* 0 when every value is finite and, for the block types, within the fp16 range */
#if WIDE
WIDE_FN static int check_row_wide(const float *x, int64_t n, float lim) {
    v16i bad = {0}; /* a whole row of 16-lane tests, one verdict at the end (NaN fails <=) */
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v16f v;
        memcpy(&v, x + i, sizeof v);
        bad |= ~(v16_abs(v) <= lim);
    }
    for (int k = 0; k < 16; k++)
        if (bad[k]) return -1;
    for (; i < n; i++)
        if (!(fabsf(x[i]) <= lim)) return -1;
    return 0;
}
#endif

static int check_row(uint32_t type, const float *x, int64_t n) {
    const float lim = (type == Q_F32 || type == Q_BF16) ? FLT_MAX : F16_MAX;
#if WIDE
    if (wide_lanes()) return check_row_wide(x, n, lim);
#endif
    for (int64_t i = 0; i < n; i++)
        if (!(fabsf(x[i]) <= lim)) return -1;
    return 0;
}

/* The importance-aware candidate of one block into y (qw: the block's weights, or NULL); 0 when
 * the type has none for these weights. */
static int imp_block(const Quantizer *q, const float *x, uint8_t *y, const float *qw, float sigma2) {
    if (q->imp) {
        q->imp(x, y, qw);
        return 1;
    }
    if (q->imp_weighted && qw) {
        q->imp_weighted(x, y, qw, sigma2);
        return 1;
    }
    return 0;
}

/* sum_j w_j (x_j - dequant(block)_j)^2, w = 1 when qw is NULL */
static double block_error(uint32_t type, const uint8_t *blk, const float *x, const float *qw, int be) {
    float r[QKK];
    qdequant_row(type, blk, r, be);
    double e = 0;
    for (int j = 0; j < be; j++) {
        double d = (double)x[j] - r[j];
        e += (qw ? qw[j] : 1.0) * d * d;
    }
    return e;
}

int qquantize_row_ref(uint32_t type, const float *src, void *dst, int64_t n) {
    const Quantizer *q = quantizer(type);
    if (!q || qtype_row_bytes(type, n) == 0 || check_row(type, src, n)) return -1;
    uint8_t *y = dst;
    if (q->plain) {
        q->plain(src, y, n);
        return 0;
    }
    const int be = qtype_block_elems(type);
    const size_t bb = qtype_block_bytes(type);
    for (int64_t b = 0; b < n / be; b++) {
        if (q->only) q->only(src + b * be, y + b * bb, NULL);
        else q->ref(src + b * be, y + b * bb);
    }
    return 0;
}

int qquantize_row(uint32_t type, const float *src, void *dst, int64_t n, const float *imp) {
    const Quantizer *q = quantizer(type);
    if (!q || qtype_row_bytes(type, n) == 0 || check_row(type, src, n)) return -1;
    if (imp)
        for (int64_t i = 0; i < n; i++)
            if (!(imp[i] >= 0 && imp[i] <= FLT_MAX)) return -1;
    uint8_t *y = dst;
    if (q->plain) {
        q->plain(src, y, n);
        return 0;
    }
    const int be = qtype_block_elems(type);
    const size_t bb = qtype_block_bytes(type);
    if (q->only) {
        for (int64_t b = 0; b < n / be; b++) q->only(src + b * be, y + b * bb, imp ? imp + b * be : NULL);
        return 0;
    }
    float sigma2 = 0; /* legacy types weight by the row's mean square */
    if (imp && be == QK) {
        float sum_x2 = 0;
        for (int64_t j = 0; j < n; ++j) sum_x2 += src[j] * src[j];
        sigma2 = sum_x2 / n;
    }
    uint8_t alt[2 * 256];
    const int64_t nb = n / be;
    for (int64_t b = 0, two = 0; b < nb; b++) {
        const float *x = src + b * be, *qw = imp ? imp + b * be : NULL;
        uint8_t *blk = y + b * bb;
        if (two) { /* the second of a pair: both candidates are there */
            memmove(alt, alt + bb, bb);
            two = 0;
        } else if (!imp && q->ref2 && b + 1 < nb && wide_lanes()) { /* a pair: both blocks' searches at once */
            q->ref2(x, blk, bb);
            q->imp2(x, alt, bb);
            two = 1;
        } else {
            q->ref(x, blk);
            if (!imp_block(q, x, alt, qw, sigma2)) continue; /* the exact llama.cpp reference */
        }
        double best = block_error(type, blk, x, qw, be), e = block_error(type, alt, x, qw, be);
        if (e < best) {
            memcpy(blk, alt, bb);
            best = e;
        }
        if (q->imp_ll && qw) {
            q->imp_ll(x, alt, qw);
            if ((e = block_error(type, alt, x, qw, be)) < best) {
                memcpy(blk, alt, bb);
                best = e;
            }
        }
        /* An all-zero block (every scale 0) decodes to zeros. It wins only where the fp16 scales
         * underflow (blocks of magnitude below ~1e-4), which can leave the searches worse off. */
        double z = 0;
        for (int j = 0; j < be; j++) z += (qw ? qw[j] : 1.0) * x[j] * (double)x[j];
        if (z < best) memset(blk, 0, bb);
    }
    return 0;
}

size_t qquantize_rows(uint32_t type, const float *src, void *dst, int64_t nrows, int64_t n,
                      const float *imp, int64_t *bad_row) {
    const size_t rb = qtype_row_bytes(type, n);
    if (!qtype_can_quant(type) || rb == 0 || nrows < 0) {
        if (bad_row) *bad_row = 0;
        return 0;
    }
    int64_t bad = -1;
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t r = 0; r < nrows; r++) {
        if (qquantize_row(type, src + r * n, (uint8_t *)dst + (size_t)r * rb, n, imp) != 0) {
#pragma omp critical(qz_bad_row)
            if (bad < 0 || r < bad) bad = r;
        }
    }
    if (bad >= 0) {
        if (bad_row) *bad_row = bad;
        return 0;
    }
    return (size_t)nrows * rb;
}
