/* qtype: see qtype.h.
 *
 * Block layouts (ggml-common.h; "half" is an IEEE fp16 scale, little-endian):
 *   Q4_0  32 elems, 18 B: half d; u8 qs[16]               x = d*(q-8)
 *   Q4_1  32 elems, 20 B: half d, m; u8 qs[16]            x = d*q + m
 *   Q5_0  32 elems, 22 B: half d; u8 qh[4]; u8 qs[16]     x = d*(q-16), q 5 bits
 *   Q5_1  32 elems, 24 B: half d, m; u8 qh[4]; u8 qs[16]  x = d*q + m
 *   Q8_0  32 elems, 34 B: half d; i8 qs[32]               x = d*q
 *   Q2_K 256 elems, 84 B: u8 scales[16]; u8 qs[64]; half d, dmin
 *   Q3_K 256 elems,110 B: u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d
 *   Q4_K 256 elems,144 B: half d, dmin; u8 scales[12]; u8 qs[128]
 *   Q5_K 256 elems,176 B: half d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]
 *   Q6_K 256 elems,210 B: u8 ql[128]; u8 qh[64]; i8 scales[16]; half d
 * Every dequantizer below performs the same float32 operations in the same order as ggml's
 * dequantize_row_* so the results are bit-identical (no FMA contraction: see the pragma). */
#include "formats/qtype.h"
#include "formats/half.h"
#include "formats/iquants.h"
#include "formats/kquant.h"
#include "formats/lowbit.h"

#include <string.h>
#include <strings.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

typedef struct {
    const char *name;
    int block_elems;
    size_t block_bytes;
} TypeInfo;

/* Indexed by ggml type number; holes are numbers ggml removed (Q4_2, Q4_3, the repacked
 * Q4_0_4_4.. and IQ4_NL_4_4.. types that never appear in GGUF files). */
static const TypeInfo types[] = {
    [0] = {"F32", 1, 4},         [1] = {"F16", 1, 2},        [2] = {"Q4_0", 32, 18},
    [3] = {"Q4_1", 32, 20},      [6] = {"Q5_0", 32, 22},     [7] = {"Q5_1", 32, 24},
    [8] = {"Q8_0", 32, 34},      [9] = {"Q8_1", 32, 36},     [10] = {"Q2_K", 256, 84},
    [11] = {"Q3_K", 256, 110},   [12] = {"Q4_K", 256, 144},  [13] = {"Q5_K", 256, 176},
    [14] = {"Q6_K", 256, 210},   [15] = {"Q8_K", 256, 292},  [16] = {"IQ2_XXS", 256, 66},
    [17] = {"IQ2_XS", 256, 74},  [18] = {"IQ3_XXS", 256, 98}, [19] = {"IQ1_S", 256, 50},
    [20] = {"IQ4_NL", 32, 18},   [21] = {"IQ3_S", 256, 110}, [22] = {"IQ2_S", 256, 82},
    [23] = {"IQ4_XS", 256, 136}, [24] = {"I8", 1, 1},        [25] = {"I16", 1, 2},
    [26] = {"I32", 1, 4},        [27] = {"I64", 1, 8},       [28] = {"F64", 1, 8},
    [29] = {"IQ1_M", 256, 56},   [30] = {"BF16", 1, 2},      [34] = {"TQ1_0", 256, 54},
    [35] = {"TQ2_0", 256, 66},
    [39] = {"MXFP4", 32, 17},    [40] = {"NVFP4", 64, 36},   [41] = {"Q1_0", 128, 18},
    [42] = {"Q2_0", 64, 18},
};
#define N_TYPES (sizeof types / sizeof types[0])

static const TypeInfo *info(uint32_t type) {
    return type < N_TYPES && types[type].name ? &types[type] : NULL;
}

const char *qtype_name(uint32_t type) {
    const TypeInfo *t = info(type);
    return t ? t->name : NULL;
}

int qtype_from_name(const char *name) {
    for (uint32_t i = 0; i < N_TYPES; i++)
        if (types[i].name && !strcasecmp(types[i].name, name)) return (int)i;
    return -1;
}

int qtype_block_elems(uint32_t type) {
    const TypeInfo *t = info(type);
    return t ? t->block_elems : 0;
}

size_t qtype_block_bytes(uint32_t type) {
    const TypeInfo *t = info(type);
    return t ? t->block_bytes : 0;
}

size_t qtype_row_bytes(uint32_t type, int64_t n) {
    const TypeInfo *t = info(type);
    if (!t || n < 0 || n % t->block_elems) return 0;
    uint64_t blocks = (uint64_t)(n / t->block_elems);
    if (blocks > SIZE_MAX / t->block_bytes) return 0;
    return (size_t)blocks * t->block_bytes;
}

/* ---- fp16 / bf16 ---- */

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float fp16_to_f32(uint16_t h) { return half_to_f32(h); }

uint16_t f32_to_fp16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return sign | 0x7E00;   /* NaN -> quiet NaN */
    if (ax >= 0x477FF000u) return sign | 0x7C00;  /* rounds to >= 65536 (or is inf) */
    if (ax < 0x38800000u) {                       /* below 2^-14: fp16 subnormal or zero */
        uint32_t e = ax >> 23;
        if (e < 102) return sign;                 /* < 2^-25: rounds to zero */
        uint32_t m = (ax & 0x7FFFFF) | 0x800000;
        uint32_t shift = 126 - e;                 /* 14..24 */
        uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return sign | (uint16_t)h;
    }
    uint32_t h = (ax - 0x38000000u) >> 13, rem = ax & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return sign | (uint16_t)h;
}

float bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 64); /* quiet NaN */
    return (uint16_t)((u + (0x7FFF + ((u >> 16) & 1))) >> 16);
}

/* ---- dequantizers: one block each; src points at the block ---- */

/* Q4_0 (the error pass of `coldtok quantize` decodes every block it writes) in 16-lane vectors:
 * per value the same int -> float conversion and product as ggml's loop. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define DQ_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DQ_CLONES
#endif
typedef uint8_t dq_v16u8 __attribute__((vector_size(16)));
typedef int32_t dq_v16i __attribute__((vector_size(64)));
typedef float dq_v16f __attribute__((vector_size(64)));

DQ_CLONES static void dq_q4_0(const uint8_t *b, float *y) {
    const float d = half_at(b);
    dq_v16u8 qs;
    memcpy(&qs, b + 2, sizeof qs);
    const dq_v16i x0 = __builtin_convertvector(qs & 0x0F, dq_v16i) - 8, x1 = __builtin_convertvector(qs >> 4, dq_v16i) - 8;
    const dq_v16f y0 = __builtin_convertvector(x0, dq_v16f) * d, y1 = __builtin_convertvector(x1, dq_v16f) * d;
    memcpy(y, &y0, sizeof y0);
    memcpy(y + 16, &y1, sizeof y1);
}

static void dq_q4_1(const uint8_t *b, float *y) {
    const float d = half_at(b), m = half_at(b + 2);
    const uint8_t *qs = b + 4;
    for (int j = 0; j < 16; j++) {
        const int x0 = qs[j] & 0x0F, x1 = qs[j] >> 4;
        y[j] = x0 * d + m;
        y[j + 16] = x1 * d + m;
    }
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void dq_q5_0(const uint8_t *b, float *y) {
    const float d = half_at(b);
    const uint32_t qh = le32(b + 2);
    const uint8_t *qs = b + 6;
    for (int j = 0; j < 16; j++) {
        const uint8_t xh0 = (uint8_t)(((qh >> j) << 4) & 0x10);
        const uint8_t xh1 = (uint8_t)((qh >> (j + 12)) & 0x10);
        const int x0 = ((qs[j] & 0x0F) | xh0) - 16, x1 = ((qs[j] >> 4) | xh1) - 16;
        y[j] = x0 * d;
        y[j + 16] = x1 * d;
    }
}

static void dq_q5_1(const uint8_t *b, float *y) {
    const float d = half_at(b), m = half_at(b + 2);
    const uint32_t qh = le32(b + 4);
    const uint8_t *qs = b + 8;
    for (int j = 0; j < 16; j++) {
        const uint8_t xh0 = (uint8_t)(((qh >> j) << 4) & 0x10);
        const uint8_t xh1 = (uint8_t)((qh >> (j + 12)) & 0x10);
        const int x0 = (qs[j] & 0x0F) | xh0, x1 = (qs[j] >> 4) | xh1;
        y[j] = x0 * d + m;
        y[j + 16] = x1 * d + m;
    }
}

static void dq_q8_0(const uint8_t *b, float *y) {
    const float d = half_at(b);
    const int8_t *qs = (const int8_t *)(b + 2);
    for (int j = 0; j < 32; j++) y[j] = qs[j] * d;
}

static void dq_q2_k(const uint8_t *b, float *y) {
    const uint8_t *scales = b, *q = b + 16;
    const float d = half_at(b + 80), min = half_at(b + 82);
    int is = 0;
    for (int n = 0; n < 256; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; j++) {
            uint8_t sc = scales[is++];
            float dl = d * (sc & 0xF), ml = min * (sc >> 4);
            for (int l = 0; l < 16; l++) *y++ = dl * ((int8_t)((q[l] >> shift) & 3)) - ml;
            sc = scales[is++];
            dl = d * (sc & 0xF), ml = min * (sc >> 4);
            for (int l = 0; l < 16; l++) *y++ = dl * ((int8_t)((q[l + 16] >> shift) & 3)) - ml;
            shift += 2;
        }
        q += 32;
    }
}

/* The 16 6-bit scales of a Q3_K block, packed as 16 low nibbles in s[0..7] and 16 high bit
 * pairs in s[8..11]; returned signed (-32..31). */
static void q3k_scales(const uint8_t *s, int8_t out[16]) {
    for (int i = 0; i < 16; i++) {
        int lo = i < 8 ? s[i] & 0xF : s[i - 8] >> 4;
        int hi = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
        out[i] = (int8_t)((lo | hi << 4) - 32);
    }
}

static void dq_q3_k(const uint8_t *b, float *y) {
    const uint8_t *hm = b, *q = b + 32;
    const float d_all = half_at(b + 108);
    int8_t scales[16];
    q3k_scales(b + 96, scales);
    int is = 0;
    uint8_t m = 1;
    for (int n = 0; n < 256; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; j++) {
            float dl = d_all * scales[is++];
            for (int l = 0; l < 16; l++)
                *y++ = dl * ((int8_t)((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
            dl = d_all * scales[is++];
            for (int l = 0; l < 16; l++)
                *y++ = dl * ((int8_t)((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
            shift += 2;
            m <<= 1;
        }
        q += 32;
    }
}

static void dq_q4_k(const uint8_t *b, float *y) {
    const float d = half_at(b), min = half_at(b + 2);
    const uint8_t *scales = b + 4, *q = b + 16;
    int is = 0;
    uint8_t sc, m;
    for (int j = 0; j < 256; j += 64) {
        k4_scale_min(is + 0, scales, &sc, &m);
        const float d1 = d * sc, m1 = min * m;
        k4_scale_min(is + 1, scales, &sc, &m);
        const float d2 = d * sc, m2 = min * m;
        for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
        q += 32;
        is += 2;
    }
}

static void dq_q5_k(const uint8_t *b, float *y) {
    const float d = half_at(b), min = half_at(b + 2);
    const uint8_t *scales = b + 4, *qh = b + 16, *ql = b + 48;
    int is = 0;
    uint8_t sc, m, u1 = 1, u2 = 2;
    for (int j = 0; j < 256; j += 64) {
        k4_scale_min(is + 0, scales, &sc, &m);
        const float d1 = d * sc, m1 = min * m;
        k4_scale_min(is + 1, scales, &sc, &m);
        const float d2 = d * sc, m2 = min * m;
        for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        ql += 32;
        is += 2;
        u1 = (uint8_t)(u1 << 2);
        u2 = (uint8_t)(u2 << 2);
    }
}

static void dq_q6_k(const uint8_t *b, float *y) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    const float d = half_at(b + 208);
    for (int n = 0; n < 256; n += 128) {
        for (int l = 0; l < 32; l++) {
            const int is = l / 16;
            const int8_t q1 = (int8_t)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int8_t q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int8_t q3 = (int8_t)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int8_t q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l + 0] = d * sc[is + 0] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

/* ---- the one list of types coldtok can read ---- */

static void row_f32(const uint8_t *s, float *y, int64_t n) { memcpy(y, s, (size_t)n * 4); }
static void row_f16(const uint8_t *s, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = fp16_to_f32((uint16_t)(s[2 * i] | s[2 * i + 1] << 8));
}
static void row_bf16(const uint8_t *s, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = bf16_to_f32((uint16_t)(s[2 * i] | s[2 * i + 1] << 8));
}

/* A type is readable when it has an entry here: the plain types convert a whole row at once, the
 * block types one block at a time. A new dequantizer is a new row, nothing else. */
typedef struct {
    void (*row)(const uint8_t *src, float *dst, int64_t n); /* plain types: n elements */
    void (*block)(const uint8_t *src, float *dst);          /* block types: one block */
} Dequantizer;

static const Dequantizer DEQUANT[] = {
    [Q_F32] = {.row = row_f32},    [Q_F16] = {.row = row_f16},    [Q_BF16] = {.row = row_bf16},
    [Q_Q4_0] = {.block = dq_q4_0}, [Q_Q4_1] = {.block = dq_q4_1}, [Q_Q5_0] = {.block = dq_q5_0},
    [Q_Q5_1] = {.block = dq_q5_1}, [Q_Q8_0] = {.block = dq_q8_0}, [Q_Q2_K] = {.block = dq_q2_k},
    [Q_Q3_K] = {.block = dq_q3_k}, [Q_Q4_K] = {.block = dq_q4_k}, [Q_Q5_K] = {.block = dq_q5_k},
    [Q_Q6_K] = {.block = dq_q6_k},
    [Q_IQ4_NL] = {.block = dq_iq4_nl}, [Q_IQ4_XS] = {.block = dq_iq4_xs},
    [Q_TQ1_0] = {.block = dq_tq1_0},   [Q_TQ2_0] = {.block = dq_tq2_0},
    [Q_MXFP4] = {.block = dq_mxfp4},
    /* the grid-based i-quants (formats/iquants.c) */
    [Q_IQ2_XXS] = {.block = dq_iq2_xxs}, [Q_IQ2_XS] = {.block = dq_iq2_xs},
    [Q_IQ2_S] = {.block = dq_iq2_s},     [Q_IQ3_XXS] = {.block = dq_iq3_xxs},
    [Q_IQ3_S] = {.block = dq_iq3_s},     [Q_IQ1_S] = {.block = dq_iq1_s},
    [Q_IQ1_M] = {.block = dq_iq1_m},
};

static const Dequantizer *dequantizer(uint32_t type) {
    if (type >= sizeof DEQUANT / sizeof DEQUANT[0]) return NULL;
    const Dequantizer *d = &DEQUANT[type];
    return d->row || d->block ? d : NULL;
}

int qtype_can_dequant(uint32_t type) { return dequantizer(type) != NULL; }

int qdequant_row(uint32_t type, const void *src, float *dst, int64_t n) {
    const Dequantizer *d = dequantizer(type);
    if (!d || n < 0 || n % qtype_block_elems(type)) return -1;
    const uint8_t *s = src;
    if (d->row) {
        d->row(s, dst, n);
        return 0;
    }
    const int be = qtype_block_elems(type);
    const size_t bb = qtype_block_bytes(type);
    for (int64_t i = 0; i < n / be; i++) d->block(s + (size_t)i * bb, dst + i * be);
    return 0;
}
