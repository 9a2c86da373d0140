/* Tests of quant/: type geometry against ggml's table, fp16/bf16 conversions against hand-encoded
 * values, hand-made blocks of every supported type with values worked out by hand (see the
 * comments), and bit-exact equality with gguf-py's dequantization of the synth-llama fixtures. */
#include <math.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/qtype.h"
#include "tests/testutil.h"

/* ---- geometry ---- */

static void type_table(void **state) {
    (void)state;
    /* ggml-common.h block sizes: (number, name, elements, bytes) */
    static const struct { uint32_t t; const char *name; int be; size_t bb; } known[] = {
        {0, "F32", 1, 4},        {1, "F16", 1, 2},         {2, "Q4_0", 32, 18},     {3, "Q4_1", 32, 20},
        {6, "Q5_0", 32, 22},     {7, "Q5_1", 32, 24},      {8, "Q8_0", 32, 34},     {9, "Q8_1", 32, 36},
        {10, "Q2_K", 256, 84},   {11, "Q3_K", 256, 110},   {12, "Q4_K", 256, 144},  {13, "Q5_K", 256, 176},
        {14, "Q6_K", 256, 210},  {15, "Q8_K", 256, 292},   {16, "IQ2_XXS", 256, 66}, {17, "IQ2_XS", 256, 74},
        {18, "IQ3_XXS", 256, 98}, {19, "IQ1_S", 256, 50},  {20, "IQ4_NL", 32, 18},  {21, "IQ3_S", 256, 110},
        {22, "IQ2_S", 256, 82},  {23, "IQ4_XS", 256, 136}, {24, "I8", 1, 1},        {25, "I16", 1, 2},
        {26, "I32", 1, 4},       {27, "I64", 1, 8},        {28, "F64", 1, 8},       {29, "IQ1_M", 256, 56},
        {30, "BF16", 1, 2},      {34, "TQ1_0", 256, 54},   {35, "TQ2_0", 256, 66},
        {39, "MXFP4", 32, 17},   {40, "NVFP4", 64, 36},    {41, "Q1_0", 128, 18},   {42, "Q2_0", 64, 18},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        assert_string_equal(qtype_name(known[i].t), known[i].name);
        assert_int_equal(qtype_block_elems(known[i].t), known[i].be);
        assert_int_equal(qtype_block_bytes(known[i].t), known[i].bb);
        assert_int_equal(qtype_from_name(known[i].name), (int)known[i].t);
    }
    assert_int_equal(qtype_from_name("q4_k"), Q_Q4_K);
    assert_int_equal(qtype_from_name("bf16"), Q_BF16);
    assert_int_equal(qtype_from_name("Q4_2"), -1);
    assert_int_equal(qtype_from_name(""), -1);
    /* removed or never defined numbers */
    static const uint32_t holes[] = {4, 5, 31, 32, 33, 36, 37, 38, 43, 63, 64, 1000, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof holes / sizeof holes[0]; i++) {
        assert_null(qtype_name(holes[i]));
        assert_int_equal(qtype_block_elems(holes[i]), 0);
        assert_int_equal(qtype_block_bytes(holes[i]), 0);
        assert_int_equal(qtype_row_bytes(holes[i], 256), 0);
        assert_int_equal(qtype_can_dequant(holes[i]), 0);
    }
    /* exactly these types can be dequantized: the 13 of the first issue, the low-bit types
     * (tests/test_lowbit.c) and the grid i-quants (tests/test_iquants.c) */
    static const uint32_t yes[] = {Q_F32, Q_F16, Q_BF16, Q_Q8_0, Q_Q4_0, Q_Q4_1, Q_Q5_0,
                                   Q_Q5_1, Q_Q2_K, Q_Q3_K, Q_Q4_K, Q_Q5_K, Q_Q6_K,
                                   Q_IQ4_NL, Q_IQ4_XS, Q_TQ1_0, Q_TQ2_0, Q_MXFP4,
                                   Q_IQ2_XXS, Q_IQ2_XS, Q_IQ2_S, Q_IQ3_XXS, Q_IQ3_S, Q_IQ1_S, Q_IQ1_M};
    const int n_yes = (int)(sizeof yes / sizeof yes[0]);
    int n = 0;
    for (uint32_t t = 0; t < 64; t++) n += qtype_can_dequant(t);
    assert_int_equal(n, n_yes);
    for (int i = 0; i < n_yes; i++) assert_true(qtype_can_dequant(yes[i]));
    /* row bytes: 4096 Q4_K elements = 16 blocks of 144 bytes; not a multiple -> 0 */
    assert_int_equal(qtype_row_bytes(Q_Q4_K, 4096), 16 * 144);
    assert_int_equal(qtype_row_bytes(Q_Q4_K, 4000), 0);
    assert_int_equal(qtype_row_bytes(Q_F16, 3), 6);
    assert_int_equal(qtype_row_bytes(Q_Q8_0, -32), 0);
    /* bits per weight: Q4_K 4.5, Q6_K 6.5625, Q2_K 2.625, Q8_0 8.5 */
    assert_true(qtype_block_bytes(Q_Q4_K) * 8.0 / qtype_block_elems(Q_Q4_K) == 4.5);
    assert_true(qtype_block_bytes(Q_Q6_K) * 8.0 / qtype_block_elems(Q_Q6_K) == 6.5625);
    assert_true(qtype_block_bytes(Q_Q2_K) * 8.0 / qtype_block_elems(Q_Q2_K) == 2.625);
    assert_true(qtype_block_bytes(Q_Q8_0) * 8.0 / qtype_block_elems(Q_Q8_0) == 8.5);
}

/* ---- fp16 and bf16 ---- */

static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static void half_conversions(void **state) {
    (void)state;
    assert_true(fp16_to_f32(0x3C00) == 1.0f);
    assert_true(fp16_to_f32(0xC000) == -2.0f);
    assert_true(fp16_to_f32(0x7BFF) == 65504.0f);
    assert_true(fp16_to_f32(0x3555) == 0.333251953125f);
    assert_true(fp16_to_f32(0x0001) == ldexpf(1, -24));     /* smallest subnormal */
    assert_true(fp16_to_f32(0x03FF) == 1023 * ldexpf(1, -24)); /* largest subnormal */
    assert_true(fp16_to_f32(0x0400) == ldexpf(1, -14));     /* smallest normal */
    assert_true(fp16_to_f32(0x8001) == -ldexpf(1, -24));
    assert_int_equal(bits(fp16_to_f32(0x8000)), 0x80000000u);
    assert_true(isinf(fp16_to_f32(0x7C00)) && fp16_to_f32(0x7C00) > 0);
    assert_true(isinf(fp16_to_f32(0xFC00)) && fp16_to_f32(0xFC00) < 0);
    assert_true(isnan(fp16_to_f32(0x7E00)));
    /* every finite and infinite half round-trips */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) continue; /* NaN */
        if (f32_to_fp16(fp16_to_f32((uint16_t)h)) != h) fail_msg("half 0x%04X does not round-trip", h);
    }
    /* rounding to nearest, ties to even */
    assert_int_equal(f32_to_fp16(1.0f + ldexpf(1, -11)), 0x3C00);       /* tie, even is 1.0 */
    assert_int_equal(f32_to_fp16(1.0f + 3 * ldexpf(1, -11)), 0x3C02);   /* tie, even is up */
    assert_int_equal(f32_to_fp16(1.0f + ldexpf(1, -11) + ldexpf(1, -20)), 0x3C01);
    assert_int_equal(f32_to_fp16(65519.0f), 0x7BFF);
    assert_int_equal(f32_to_fp16(65520.0f), 0x7C00);                     /* rounds to inf */
    assert_int_equal(f32_to_fp16(-1e10f), 0xFC00);
    assert_int_equal(f32_to_fp16(ldexpf(1, -25)), 0x0000);               /* tie with 0: even */
    assert_int_equal(f32_to_fp16(ldexpf(1, -25) * 1.5f), 0x0001);
    assert_int_equal(f32_to_fp16(3 * ldexpf(1, -25)), 0x0002);           /* 1.5 units -> 2 */
    assert_int_equal(f32_to_fp16(ldexpf(1, -14) - ldexpf(1, -25)), 0x0400); /* up into normals */
    assert_int_equal(f32_to_fp16(1e-30f), 0x0000);
    assert_int_equal(f32_to_fp16(-0.0f), 0x8000);
    assert_int_equal(f32_to_fp16(from_bits(0x7FC00000)), 0x7E00);
    assert_int_equal(f32_to_fp16(-INFINITY), 0xFC00);
    /* bf16 */
    assert_true(bf16_to_f32(0x3F80) == 1.0f);
    assert_true(bf16_to_f32(0xC040) == -3.0f);
    assert_int_equal(bits(bf16_to_f32(0x7F80)), 0x7F800000u);
    assert_int_equal(f32_to_bf16(1.0f), 0x3F80);
    assert_int_equal(f32_to_bf16(1.0f + ldexpf(1, -8)), 0x3F80);        /* tie, even */
    assert_int_equal(f32_to_bf16(1.0f + 3 * ldexpf(1, -8)), 0x3F82);    /* tie, even is up */
    assert_int_equal(f32_to_bf16(1.0f + ldexpf(1, -8) + ldexpf(1, -20)), 0x3F81);
    assert_int_equal(f32_to_bf16(from_bits(0x7F800001)), 0x7FC0);       /* sNaN -> quiet NaN */
    assert_int_equal(f32_to_bf16(from_bits(0xFF800000)), 0xFF80);       /* -inf stays */
}

/* ---- hand-made blocks ---- */

static void put_half(uint8_t *p, uint16_t h) { p[0] = (uint8_t)h; p[1] = (uint8_t)(h >> 8); }

#define H_1 0x3C00    /* 1.0 */
#define H_2 0x4000    /* 2.0 */
#define H_HALF 0x3800 /* 0.5 */
#define H_QUARTER 0x3400
#define H_M1 0xBC00   /* -1.0 */
#define H_10 0x4900   /* 10.0 */

static void dq(uint32_t type, const uint8_t *b, float *y) {
    assert_int_equal(qdequant_row(type, b, y, qtype_block_elems(type)), 0);
}

static void blocks_32(void **state) {
    (void)state;
    uint8_t b[40];
    float y[32];
    /* Q8_0: d = 0.5, x = d*q */
    memset(b, 0, sizeof b);
    put_half(b, H_HALF);
    b[2] = 0x80; b[3] = 0xFF; b[5] = 1; b[6] = 127;           /* q = -128, -1, 0, 1, 127 */
    dq(Q_Q8_0, b, y);
    assert_true(y[0] == -64.0f && y[1] == -0.5f && y[2] == 0.0f && y[3] == 0.5f && y[4] == 63.5f);
    /* Q4_0: d = 2, x = d*(q-8); byte j holds element j (low nibble) and j+16 (high) */
    memset(b, 0, sizeof b);
    put_half(b, H_2);
    b[2] = 0xF0; b[3] = 0x08;
    dq(Q_Q4_0, b, y);
    assert_true(y[0] == -16.0f && y[16] == 14.0f && y[1] == 0.0f && y[17] == -16.0f && y[5] == -16.0f);
    /* Q4_1: d = 0.5, m = -1, x = d*q + m */
    memset(b, 0, sizeof b);
    put_half(b, H_HALF); put_half(b + 2, H_M1);
    b[4] = 0xF3;
    dq(Q_Q4_1, b, y);
    assert_true(y[0] == 0.5f && y[16] == 6.5f && y[1] == -1.0f);
    /* Q5_0: d = 1, fifth bit of element j is bit j of qh; x = d*(q-16) */
    memset(b, 0, sizeof b);
    put_half(b, H_1);
    b[2] = 0x01; b[4] = 0x03;                                  /* qh bits 0, 16, 17 */
    b[6] = 0x21;                                               /* elements 0 (1) and 16 (2) */
    dq(Q_Q5_0, b, y);
    assert_true(y[0] == 1.0f && y[16] == 2.0f && y[1] == -16.0f && y[17] == 0.0f && y[31] == -16.0f);
    /* Q5_1: d = 0.25, m = 10, x = d*q + m */
    memset(b, 0, sizeof b);
    put_half(b, H_QUARTER); put_half(b + 2, H_10);
    b[4] = 0x01; b[6] = 0x01;                                  /* qh bits 0 and 16 */
    b[8] = 0xFF;
    dq(Q_Q5_1, b, y);
    assert_true(y[0] == 17.75f && y[16] == 17.75f && y[1] == 10.0f && y[17] == 10.0f);
    /* F16 / BF16 rows */
    uint8_t h[4] = {0x00, 0x3C, 0x00, 0xC0};
    assert_int_equal(qdequant_row(Q_F16, h, y, 2), 0);
    assert_true(y[0] == 1.0f && y[1] == -2.0f);
    uint8_t bf[4] = {0x80, 0x3F, 0x40, 0xC0};
    assert_int_equal(qdequant_row(Q_BF16, bf, y, 2), 0);
    assert_true(y[0] == 1.0f && y[1] == -3.0f);
}

static void blocks_k(void **state) {
    (void)state;
    uint8_t b[292];
    float y[256];

    /* Q2_K: scales[16] qs[64] d dmin. Sub-block k uses scales[k]: low nibble scale, high min.
     * x = d*sc*q - dmin*m with q two bits. d = 1, dmin = 0.5. */
    memset(b, 0, sizeof b);
    put_half(b + 80, H_1); put_half(b + 82, H_HALF);
    b[0] = 0x21;               /* y[0..15]: sc 1, m 2 */
    b[1] = 0x03;               /* y[16..31]: sc 3, m 0 */
    b[2] = 0x15;               /* y[32..47]: sc 5, m 1 (bits 2-3 of qs[0..15]) */
    b[8] = 0x02;               /* y[128..143]: sc 2 (qs[32..47] bits 0-1) */
    b[16 + 0] = 0x07;          /* q bits 0-1 = 3 (y[0]), bits 2-3 = 1 (y[32]) */
    b[16 + 16] = 0x02;         /* y[16]: q 2 */
    b[16 + 32] = 0x03;         /* y[128]: q 3 */
    dq(Q_Q2_K, b, y);
    assert_true(y[0] == 2.0f);  /* 1*1*3 - 0.5*2 */
    assert_true(y[1] == -1.0f); /* 0 - 0.5*2 */
    assert_true(y[16] == 6.0f); /* 3*2 */
    assert_true(y[32] == 4.5f); /* 5*1 - 0.5 */
    assert_true(y[128] == 6.0f);
    assert_true(y[255] == 0.0f);

    /* Q3_K: hmask[32] qs[64] scales[12] d. Scale i: low nibble from scales[i] (i<8) or
     * scales[i-8]>>4, high pair (scales[8+i%4] >> 2*(i/4)) & 3, minus 32. A clear hmask bit
     * subtracts 4 from the 2-bit q. d = 2. */
    memset(b, 0, sizeof b);
    put_half(b + 108, H_2);
    uint8_t *hm = b, *qs = b + 32, *sc = b + 96;
    sc[0] = 0xF1;              /* scale 0 low 1, scale 8 low 15 */
    sc[8] = 0x32;              /* scale 0 high 2 -> 33-32 = 1; scale 8 high 3 -> 63-32 = 31 */
    sc[11] = 0x40;             /* scale 15 high 1 -> 16-32 = -16 (low nibble 0) */
    hm[0] = 0x11;              /* bit 0: y[0] has its high bit; bit 4: y[128] has it */
    hm[16] = 0x01;             /* y[16] */
    qs[0] = 0x03;              /* y[0]: q 3 */
    qs[16] = 0x01;             /* y[16]: q 1, scale 1 = 0|0 - 32 = -32 */
    qs[32] = 0x01;             /* y[128]: q 1 */
    qs[48] = 0xC0;             /* y[240]: bits 6-7 = 3, hmask[16] bit 7 clear -> 3-4 = -1 */
    dq(Q_Q3_K, b, y);
    assert_true(y[0] == 6.0f);     /* 2*1*3 */
    assert_true(y[1] == -8.0f);    /* 2*1*(0-4) */
    assert_true(y[16] == -64.0f);  /* 2*(-32)*1 */
    assert_true(y[128] == 62.0f);  /* 2*31*1 */
    assert_true(y[240] == 32.0f);  /* 2*(-16)*(-1) */

    /* Q4_K: d dmin scales[12] qs[128]. Sub-block j<4: sc = s[j]&63, m = s[j+4]&63; j>=4:
     * sc = (s[j+4]&15) | (s[j-4]>>6)<<4, m = (s[j+4]>>4) | (s[j]>>6)<<4. x = d*sc*q - dmin*m.
     * d = 1, dmin = 2. */
    memset(b, 0, sizeof b);
    put_half(b, H_1); put_half(b + 2, H_2);
    uint8_t *s = b + 4, *q = b + 16;
    s[0] = 0x43;               /* sc0 = 3; top bits 1 -> sc4 gets 16 */
    s[4] = 0x01;               /* m0 = 1 */
    s[1] = 0x02;               /* sc1 = 2, m1 = 0 */
    s[8] = 0x21;               /* sc4 = 1|16 = 17, m4 = 2 */
    q[0] = 0x5A;               /* y[0]: 10 (sub-block 0), y[32]: 5 (sub-block 1) */
    q[64] = 0x03;              /* y[128]: 3 (sub-block 4) */
    dq(Q_Q4_K, b, y);
    assert_true(y[0] == 28.0f);    /* 3*10 - 2*1 */
    assert_true(y[1] == -2.0f);
    assert_true(y[32] == 10.0f);   /* 2*5 */
    assert_true(y[128] == 47.0f);  /* 17*3 - 2*2 */

    /* Q5_K: d dmin scales[12] qh[32] qs[128]; fifth bit of y[64k + l] in qh[l] bit 2k, of
     * y[64k + 32 + l] in bit 2k+1. d = 0.5, dmin = 1. */
    memset(b, 0, sizeof b);
    put_half(b, H_HALF); put_half(b + 2, H_1);
    s = b + 4;
    uint8_t *qh = b + 16, *ql = b + 48;
    s[0] = 4; s[4] = 3;        /* sub-block 0: d1 = 2, m1 = 3 */
    s[1] = 1;                  /* sub-block 1: 0.5 */
    s[2] = 2; s[6] = 1;        /* sub-block 2: 1.0, min 1 */
    qh[0] = 0x07;              /* bits 0, 1, 2 */
    ql[0] = 0x97;              /* y[0]: 7+16, y[32]: 9+16 */
    ql[32] = 0x0F;             /* y[64]: 15+16 */
    dq(Q_Q5_K, b, y);
    assert_true(y[0] == 43.0f);    /* 2*23 - 3 */
    assert_true(y[32] == 12.5f);   /* 0.5*25 */
    assert_true(y[64] == 30.0f);   /* 1*31 - 1 */
    assert_true(y[1] == -3.0f);

    /* Q6_K: ql[128] qh[64] scales[16] (int8) d. Per half (128 values): y[l], y[l+32], y[l+64],
     * y[l+96] take low/high nibbles of ql[l], ql[l+32] and bit pairs 0,2,4,6 of qh[l]; minus 32;
     * scale index l/16 + 0,2,4,6. d = 0.5. */
    memset(b, 0, sizeof b);
    put_half(b + 208, H_HALF);
    ql = b; qh = b + 128;
    int8_t *s6 = (int8_t *)(b + 192);
    s6[0] = 2; s6[2] = -1; s6[4] = 3; s6[6] = 1; s6[8] = 4;
    ql[0] = 0x21; ql[32] = 0x05; qh[0] = 0x32;
    ql[64] = 0x0F; qh[32] = 0x03;
    dq(Q_Q6_K, b, y);
    assert_true(y[0] == 1.0f);     /* q (1 | 2<<4) - 32 = 1; 0.5*2*1 */
    assert_true(y[32] == 13.5f);   /* q 5-32 = -27; 0.5*(-1)*(-27) */
    assert_true(y[64] == 27.0f);   /* q (2 | 3<<4) - 32 = 18; 0.5*3*18 */
    assert_true(y[96] == -16.0f);  /* q -32; 0.5*1*(-32) */
    assert_true(y[128] == 62.0f);  /* q 31; 0.5*4*31 */
    assert_true(y[16] == 0.0f);    /* scale 1 is 0 */
}

static void unsupported_types_fail(void **state) {
    (void)state;
    uint8_t b[512] = {0};
    float y[256];
    static const uint32_t bad[] = {Q_Q8_1, Q_Q8_K, 24, 28, 40, 41, 42, 4, 99};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        y[0] = 42.0f;
        assert_int_equal(qdequant_row(bad[i], b, y, 256), -1);
        assert_true(y[0] == 42.0f); /* nothing written */
    }
    assert_int_equal(qdequant_row(Q_Q4_0, b, y, 48), -1); /* not whole blocks */
    assert_int_equal(qdequant_row(Q_Q6_K, b, y, 128), -1);
    assert_int_equal(qdequant_row(Q_F32, b, y, 0), 0);
}

/* ---- fixtures: bit-exact with gguf-py / ggml ---- */

static void fixture_dequant_exact(void **state) {
    (void)state;
    static const char *types[] = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0",
                                  "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
    float *out = xmalloc(512 * 256 * sizeof *out), *whole = xmalloc(512 * 256 * sizeof *whole);
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        char rel[256];
        snprintf(rel, sizeof rel, "models/synth-llama/synth-llama-%s.gguf", types[k]);
        Err err;
        Gguf *g = gguf_open(NEED_FIXTURE(rel), &err);
        if (!g) fail_msg("%s", err.msg);
        const GgufTensor *t = gguf_find_tensor(g, "blk.0.ffn_down.weight");
        assert_non_null(t);
        assert_int_equal(t->type, qtype_from_name(types[k]));
        assert_true(t->ne[0] == 512 && t->ne[1] == 256);
        size_t rb = qtype_row_bytes(t->type, 512);
        for (int r = 0; r < 256; r++)
            assert_int_equal(qdequant_row(t->type, (const uint8_t *)t->data + r * rb, out + r * 512, 512), 0);
        /* rows are contiguous: one call over the whole tensor gives the same */
        assert_int_equal(qdequant_row(t->type, t->data, whole, 512 * 256), 0);
        assert_memory_equal(out, whole, 512 * 256 * sizeof *out);
        size_t len;
        char *ref;
        if (!strcmp(types[k], "F32")) { /* reference: the tensor itself */
            len = t->nbytes;
            ref = xmalloc(len);
            memcpy(ref, t->data, len);
        } else {
            snprintf(rel, sizeof rel, "models/synth-llama/%s.blk0_ffn_down.dequant.f32", types[k]);
            ref = read_file(NEED_FIXTURE(rel), &len, &err);
            if (!ref) fail_msg("%s", err.msg);
        }
        assert_int_equal(len, 512 * 256 * 4);
        int mismatches = 0, first = -1;
        for (int i = 0; i < 512 * 256; i++)
            if (memcmp(out + i, ref + 4 * i, 4)) mismatches += (first < 0 ? (first = i) : 0, 1);
        if (mismatches)
            fail_msg("%s: %d of 131072 floats differ (first at %d: %.9g vs %.9g)", types[k], mismatches,
                     first, out[first], ((float *)(void *)ref)[first]);
        free(ref);
        /* every other tensor of the file dequantizes too */
        for (int i = 0; i < gguf_n_tensors(g); i++) {
            const GgufTensor *u = gguf_tensor(g, i);
            assert_true(u->ne[0] <= 512);
            assert_int_equal(qdequant_row(u->type, u->data, whole, u->ne[0]), 0);
        }
        gguf_close(g);
    }
    free(out);
    free(whole);
}

/* Quantization damage is small and of the expected size: each quantized ffn_down against the
 * F32 original (independent of the exact references above: a wrong layout gives errors ~ the
 * weights themselves, std 0.05). */
static void quantized_close_to_f32(void **state) {
    (void)state;
    static const struct { const char *type; double max_rel_rms; } cases[] = {
        {"F16", 1e-3}, {"BF16", 1e-2}, {"Q8_0", 0.01}, {"Q6_K", 0.03}, {"Q5_0", 0.05}, {"Q5_1", 0.05},
        {"Q5_K", 0.05}, {"Q4_0", 0.12}, {"Q4_1", 0.12}, {"Q4_K", 0.12}, {"Q3_K", 0.25}, {"Q2_K", 0.5},
    };
    Err err;
    Gguf *f = gguf_open(NEED_FIXTURE("models/synth-llama/synth-llama-F32.gguf"), &err);
    assert_non_null(f);
    const float *ref = gguf_find_tensor(f, "blk.0.ffn_down.weight")->data;
    float *out = xmalloc(512 * 256 * sizeof *out);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char rel[256];
        snprintf(rel, sizeof rel, "models/synth-llama/synth-llama-%s.gguf", cases[k].type);
        Gguf *g = gguf_open(NEED_FIXTURE(rel), &err);
        assert_non_null(g);
        const GgufTensor *t = gguf_find_tensor(g, "blk.0.ffn_down.weight");
        assert_int_equal(qdequant_row(t->type, t->data, out, 512 * 256), 0);
        double se = 0, sr = 0;
        for (int i = 0; i < 512 * 256; i++) {
            se += (out[i] - ref[i]) * (double)(out[i] - ref[i]);
            sr += ref[i] * (double)ref[i];
        }
        double rel_rms = sqrt(se / sr);
        if (rel_rms > cases[k].max_rel_rms)
            fail_msg("%s: relative rms error %.4g > %.4g", cases[k].type, rel_rms, cases[k].max_rel_rms);
        gguf_close(g);
    }
    free(out);
    gguf_close(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(type_table),
        cmocka_unit_test(half_conversions),
        cmocka_unit_test(blocks_32),
        cmocka_unit_test(blocks_k),
        cmocka_unit_test(unsupported_types_fail),
        cmocka_unit_test(fixture_dequant_exact),
        cmocka_unit_test(quantized_close_to_f32),
    };
    return cmocka_run_group_tests_name("quant", tests, NULL, NULL);
}
