/* dot_body: the fused dequantize-and-dot kernels of formats/dot.h, written once for every x86
 * level. Included by formats/dot_x86.c only, once per level, after it has defined the level's
 * vector of 16 floats and its operations (V, VZERO, VLOADX, VSTORE, VSET1, VADD, VSUB, VMUL, VFMA,
 * VHSUM, VI8, VU8, VF16, VBF16, VSCALES16 (see scales16), VHALVES(a, b) (8 lanes a, then 8 lanes
 * b), HALF: the fp16 at a byte address as a float), FN(name) (the level's suffix), ATTR (an
 * inlined helper of the level), KATTR (a kernel of the level), MCMAX (vectors x per pass over a
 * row) and NACC (partial sums per vector x); optionally VLUT(i, table) (16 floats picked by the
 * low 4 bits of each 32-bit lane of the VI i), VADD16(v, bits) (16.0 added to the lanes whose bit
 * is set) and VLUT32(i, lo, hi) (the same over 32 entries, 5 bits) with VI, VIOTA (0..15), VILOW4
 * (lanes & 15), VIOR16(i, bits) (16 OR-ed into the lanes whose bit is set), VIDX (16 bytes to
 * lanes) and VIDXHI (lanes >> 4), for the table-lookup loaders. No include guard: it is meant to
 * be included more than once.
 *
 * Each type has a step loader: the 16 * NV weights of step s of a row into w[0..NV), with the
 * float operations of its qdequant_row dequantizer in the same order (so each weight is the
 * reference's bit for bit). ROWS() writes the kernel around it: per pass of up to MCMAX vectors x,
 * tiles of 2-4 rows (TILE) and single rows, every step loaded once and multiplied into partial
 * sums per row and vector. Short passes over Q8_0, Q4_0, Q5_0, Q4_1, Q5_1, Q4_K and Q5_K take the
 * factored kernels instead (ROWSF, ROWSK, ROWSF1 below: the scale applied once per 32 weights,
 * not per weight). The i-quants' kernels are in formats/dot_iq4.h and formats/dot_grid.h,
 * included after this file. */

/* ---- step loaders ---- */

/* the loaders ROWS() uses where a level has a faster one (VLUT below) */
#define LD_Q4_0 FN(ld_q4_0)
#define LD_Q5_0 FN(ld_q5_0)
#define LD_Q4_K FN(ld_q4_k)
#define LD_Q5_K FN(ld_q5_k)

ATTR void FN(ld_f32)(const uint8_t *row, int64_t s, V *w) {
    const float *p = (const float *)row + 32 * s;
    w[0] = VLOADX(p);
    w[1] = VLOADX(p + 16);
}

ATTR void FN(ld_f16)(const uint8_t *row, int64_t s, V *w) {
    w[0] = VF16(row + 64 * s);
    w[1] = VF16(row + 64 * s + 32);
}

ATTR void FN(ld_bf16)(const uint8_t *row, int64_t s, V *w) {
    w[0] = VBF16(row + 64 * s);
    w[1] = VBF16(row + 64 * s + 32);
}

/* the 32 codes of a block at b, offsets subtracted, as floats */
ATTR void FN(lq_q8_0)(const uint8_t *b, V *w) {
    w[0] = VI8(_mm_loadu_si128((const __m128i *)(b + 2)));
    w[1] = VI8(_mm_loadu_si128((const __m128i *)(b + 18)));
}

ATTR void FN(lq_q4_0)(const uint8_t *b, V *w) {
    const __m128i q = _mm_loadu_si128((const __m128i *)(b + 2)), f = _mm_set1_epi8(0xF), e = _mm_set1_epi8(8);
    w[0] = VI8(_mm_sub_epi8(_mm_and_si128(q, f), e));
    w[1] = VI8(_mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), f), e));
}

ATTR void FN(lq_q5_0)(const uint8_t *b, V *w) {
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    const __m128i h = _mm_cvtsi32_si128((int)qh), f = _mm_set1_epi8(0xF), k16 = _mm_set1_epi8(16);
    const __m128i bit = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
    const __m128i lo_idx = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m128i hi_idx = _mm_setr_epi8(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m128i h0 = _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(_mm_shuffle_epi8(h, lo_idx), bit), bit), k16);
    const __m128i h1 = _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(_mm_shuffle_epi8(h, hi_idx), bit), bit), k16);
    const __m128i q = _mm_loadu_si128((const __m128i *)(b + 6));
    w[0] = VI8(_mm_sub_epi8(_mm_or_si128(_mm_and_si128(q, f), h0), k16));
    w[1] = VI8(_mm_sub_epi8(_mm_or_si128(_mm_and_si128(_mm_srli_epi16(q, 4), f), h1), k16));
}

/* Q4_1 (20-byte blocks: fp16 d, fp16 m, 16 bytes of nibbles) and Q5_1 (24: d, m, 32 fifth bits,
 * 16 bytes of nibbles): the codes without offset, 0..15 (0..31) */
ATTR void FN(lq_q4_1)(const uint8_t *b, V *w) {
    const __m128i q = _mm_loadu_si128((const __m128i *)(b + 4)), f = _mm_set1_epi8(0xF);
    w[0] = VU8(_mm_and_si128(q, f));
    w[1] = VU8(_mm_and_si128(_mm_srli_epi16(q, 4), f));
}

ATTR void FN(lq_q5_1)(const uint8_t *b, V *w) {
    FN(lq_q5_0)(b + 2, w); /* the same layout after m, offset -16 */
    w[0] = VADD(w[0], VSET1(16.0f)), w[1] = VADD(w[1], VSET1(16.0f));
}

/* Q4_1, Q5_1: q * d + m, the reference's two operations in its order */
ATTR void FN(ld_q4_1)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + 20 * s;
    const V d = VSET1(HALF(b)), m = VSET1(HALF(b + 2));
    FN(lq_q4_1)(b, w);
    w[0] = VADD(VMUL(w[0], d), m), w[1] = VADD(VMUL(w[1], d), m);
}

ATTR void FN(ld_q5_1)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + 24 * s;
    const V d = VSET1(HALF(b)), m = VSET1(HALF(b + 2));
    FN(lq_q5_1)(b, w);
    w[0] = VADD(VMUL(w[0], d), m), w[1] = VADD(VMUL(w[1], d), m);
}

/* Q8_0: 34-byte blocks (fp16 d, 32 int8): q * d */
ATTR void FN(ld_q8_0)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + 34 * s;
    const V d = VSET1(HALF(b));
    FN(lq_q8_0)(b, w);
    w[0] = VMUL(w[0], d), w[1] = VMUL(w[1], d);
}

/* Q4_0: 18-byte blocks (fp16 d, 16 bytes of nibbles, low nibbles first): (q - 8) * d */
ATTR void FN(ld_q4_0)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + 18 * s;
    const V d = VSET1(HALF(b));
    FN(lq_q4_0)(b, w);
    w[0] = VMUL(w[0], d), w[1] = VMUL(w[1], d);
}

#ifdef VLUT
/* With a 16-entry permute (AVX-512's vpermps), the 16 values a nibble can stand for are computed
 * once per block or sub-block, with the reference's operations (so bit for bit the same floats),
 * and each weight is a table lookup indexed by its nibble: no int-to-float conversion, no
 * multiply per weight. vpermps reads the low 4 bits of each lane, so the low nibble needs no mask. */
#undef LD_Q4_0
#define LD_Q4_0 FN(ld_q4_0_lut)
ATTR void FN(ld_q4_0_lut)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + 18 * s;
    const V table = VMUL(VSUB(VIOTA(), VSET1(8.0f)), VSET1(HALF(b))); /* (j - 8) * d, j - 8 exact */
    const VI q = VIDX(_mm_loadu_si128((const __m128i *)(b + 2)));
    w[0] = VLUT(q, table);
    w[1] = VLUT(VIDXHI(q), table);
}
#endif

/* Q5_0: 22-byte blocks (fp16 d, 32 fifth bits qh, 16 bytes of nibbles): element j < 16 is
 * (low nibble j | bit j of qh << 4) - 16, element 16 + j (high nibble j | bit 16 + j << 4) - 16;
 * times d. The bits are spread to bytes by a shuffle of qh's bytes and a per-lane mask. */
ATTR void FN(ld_q5_0)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + 22 * s;
    const V d = VSET1(HALF(b));
    FN(lq_q5_0)(b, w);
    w[0] = VMUL(w[0], d), w[1] = VMUL(w[1], d);
}

#ifdef VLUT
/* Q5_0 through a 32-entry table (two 16-entry halves, vpermt2ps reads 5 bits): (j - 16) * d; the
 * fifth bits of qh are a lane mask as they are (bit j: lane j), OR-ing 16 into the index. */
#undef LD_Q5_0
#define LD_Q5_0 FN(ld_q5_0_lut)
ATTR void FN(ld_q5_0_lut)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + 22 * s;
    const V d = VSET1(HALF(b));
    const V lo = VMUL(VSUB(VIOTA(), VSET1(16.0f)), d), hi = VMUL(VIOTA(), d); /* j - 16 exact */
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    const VI q = VIDX(_mm_loadu_si128((const __m128i *)(b + 6)));
    w[0] = VLUT32(VIOR16(VILOW4(q), qh & 0xFFFF), lo, hi);
    w[1] = VLUT32(VIOR16(VIDXHI(q), qh >> 16), lo, hi);
}
#endif

/* Q4_K: 144-byte super-blocks of 256 (fp16 d, fp16 dmin, 12 bytes of scales and mins, 128 bytes of
 * nibbles); step s is sub-blocks 2j and 2j+1 (j = s % 4): (d * sc) * q - (dmin * m) */
ATTR void FN(ld_q4_k)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + 144 * (s >> 2);
    const int j = (int)(s & 3);
    const float d = HALF(b), min = HALF(b + 2);
    uint8_t sc, m;
    k4_scale_min(2 * j, b + 4, &sc, &m);
    const V d1 = VSET1(d * sc), m1 = VSET1(min * m);
    k4_scale_min(2 * j + 1, b + 4, &sc, &m);
    const V d2 = VSET1(d * sc), m2 = VSET1(min * m);
    const uint8_t *q = b + 16 + 32 * j;
    const __m128i f = _mm_set1_epi8(0xF);
    const __m128i q0 = _mm_loadu_si128((const __m128i *)q), q1 = _mm_loadu_si128((const __m128i *)(q + 16));
    w[0] = VSUB(VMUL(d1, VU8(_mm_and_si128(q0, f))), m1);
    w[1] = VSUB(VMUL(d1, VU8(_mm_and_si128(q1, f))), m1);
    w[2] = VSUB(VMUL(d2, VU8(_mm_and_si128(_mm_srli_epi16(q0, 4), f))), m2);
    w[3] = VSUB(VMUL(d2, VU8(_mm_and_si128(_mm_srli_epi16(q1, 4), f))), m2);
}

#ifdef VLUT
/* Q4_K through two 16-entry tables (see ld_q4_0_lut): d1 * j - m1 and d2 * j - m2. */
#undef LD_Q4_K
#define LD_Q4_K FN(ld_q4_k_lut)
ATTR void FN(ld_q4_k_lut)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + 144 * (s >> 2);
    const int j = (int)(s & 3);
    const float d = HALF(b), min = HALF(b + 2);
    uint8_t sc, m;
    k4_scale_min(2 * j, b + 4, &sc, &m);
    const V t1 = VSUB(VMUL(VSET1(d * sc), VIOTA()), VSET1(min * m));
    k4_scale_min(2 * j + 1, b + 4, &sc, &m);
    const V t2 = VSUB(VMUL(VSET1(d * sc), VIOTA()), VSET1(min * m));
    const uint8_t *q = b + 16 + 32 * j;
    const VI q0 = VIDX(_mm_loadu_si128((const __m128i *)q)), q1 = VIDX(_mm_loadu_si128((const __m128i *)(q + 16)));
    w[0] = VLUT(q0, t1);
    w[1] = VLUT(q1, t1);
    w[2] = VLUT(VIDXHI(q0), t2);
    w[3] = VLUT(VIDXHI(q1), t2);
}
#endif

/* Q5_K: 176-byte super-blocks (d, dmin, 12 bytes of scales, 32 bytes of fifth bits, 128 of
 * nibbles): (d * sc) * (q + 16 * bit) - (dmin * m), the bits of sub-block i in bit i of qh */
ATTR void FN(ld_q5_k)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + 176 * (s >> 2);
    const int j = (int)(s & 3);
    const float d = HALF(b), min = HALF(b + 2);
    uint8_t sc, m;
    k4_scale_min(2 * j, b + 4, &sc, &m);
    const V d1 = VSET1(d * sc), m1 = VSET1(min * m);
    k4_scale_min(2 * j + 1, b + 4, &sc, &m);
    const V d2 = VSET1(d * sc), m2 = VSET1(min * m);
    const uint8_t *ql = b + 48 + 32 * j, *qh = b + 16;
    const __m128i f = _mm_set1_epi8(0xF), one = _mm_set1_epi8(1);
    const __m128i sh1 = _mm_cvtsi32_si128(2 * j), sh2 = _mm_cvtsi32_si128(2 * j + 1);
#pragma GCC unroll 2
    for (int c = 0; c < 2; c++) {
        const __m128i l = _mm_loadu_si128((const __m128i *)(ql + 16 * c));
        const __m128i h = _mm_loadu_si128((const __m128i *)(qh + 16 * c));
        const __m128i h1 = _mm_slli_epi16(_mm_and_si128(_mm_srl_epi16(h, sh1), one), 4);
        const __m128i h2 = _mm_slli_epi16(_mm_and_si128(_mm_srl_epi16(h, sh2), one), 4);
        w[c] = VSUB(VMUL(d1, VU8(_mm_or_si128(_mm_and_si128(l, f), h1))), m1);
        w[2 + c] = VSUB(VMUL(d2, VU8(_mm_or_si128(_mm_and_si128(_mm_srli_epi16(l, 4), f), h2))), m2);
    }
}

#ifdef VLUT
/* Q5_K through two 32-entry tables: d1 * j - m1 and d2 * j - m2, j = 0..31; the fifth bits as
 * lane masks (see ld_q5_0_lut). */
#undef LD_Q5_K
#define LD_Q5_K FN(ld_q5_k_lut)
ATTR void FN(ld_q5_k_lut)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + 176 * (s >> 2);
    const int j = (int)(s & 3);
    const float d = HALF(b), min = HALF(b + 2);
    const V iota = VIOTA(), iota16 = VADD(VIOTA(), VSET1(16.0f)); /* exact */
    uint8_t sc, m;
    k4_scale_min(2 * j, b + 4, &sc, &m);
    const V d1 = VSET1(d * sc), m1 = VSET1(min * m);
    const V lo1 = VSUB(VMUL(d1, iota), m1), hi1 = VSUB(VMUL(d1, iota16), m1);
    k4_scale_min(2 * j + 1, b + 4, &sc, &m);
    const V d2 = VSET1(d * sc), m2 = VSET1(min * m);
    const V lo2 = VSUB(VMUL(d2, iota), m2), hi2 = VSUB(VMUL(d2, iota16), m2);
    const uint8_t *ql = b + 48 + 32 * j, *qh = b + 16;
    /* the fifth bits of a lane: bit 2j (2j + 1) of qh[l], moved to bit 7 of each byte, which
     * movemask gathers into a 16-lane mask */
    const __m128i up1 = _mm_cvtsi32_si128(7 - 2 * j), up2 = _mm_cvtsi32_si128(6 - 2 * j);
#pragma GCC unroll 2
    for (int c = 0; c < 2; c++) {
        const VI l = VIDX(_mm_loadu_si128((const __m128i *)(ql + 16 * c)));
        const __m128i h = _mm_loadu_si128((const __m128i *)(qh + 16 * c));
        const unsigned h1 = (unsigned)_mm_movemask_epi8(_mm_sll_epi16(h, up1));
        const unsigned h2 = (unsigned)_mm_movemask_epi8(_mm_sll_epi16(h, up2));
        w[c] = VLUT32(VIOR16(VILOW4(l), h1), lo1, hi1);
        w[2 + c] = VLUT32(VIOR16(VIDXHI(l), h2), lo2, hi2);
    }
}
#endif

/* Q6_K: 210-byte super-blocks (128 bytes of low nibbles, 64 of high bit pairs, 16 int8 scales,
 * fp16 d), in two halves of 128; step s is half (s / 2) % 2, groups g = 2p, 2p + 1 (p = s % 2) of
 * 32: (d * sc) * (q - 32) */
ATTR void FN(ld_q6_k)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + 210 * (s >> 2);
    const int h = (int)((s >> 1) & 1), p = (int)(s & 1);
    const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
    /* d * sc of the 16 scales at once (the reference's float d times the int8 scale, rounded
     * once: the same floats), each broadcast from memory below (a load, not a shuffle) */
    float dsc[16];
    VSTORE(dsc, VMUL(VSET1(HALF(b + 208)), VI8(_mm_loadu_si128((const __m128i *)(b + 192)))));
    const float *sc = dsc + 8 * h;
    const __m128i f = _mm_set1_epi8(0xF), three = _mm_set1_epi8(3), k32 = _mm_set1_epi8(32);
#pragma GCC unroll 4
    for (int v = 0; v < 4; v++) {
        const int g = 2 * p + (v >> 1), t = v & 1;
        __m128i l = _mm_loadu_si128((const __m128i *)(ql + 32 * (g & 1) + 16 * t));
        l = g >= 2 ? _mm_and_si128(_mm_srli_epi16(l, 4), f) : _mm_and_si128(l, f);
        const __m128i hb = _mm_and_si128(_mm_srl_epi16(_mm_loadu_si128((const __m128i *)(qh + 16 * t)),
                                                       _mm_cvtsi32_si128(2 * g)), three);
        const __m128i q = _mm_sub_epi8(_mm_or_si128(l, _mm_slli_epi16(hb, 4)), k32);
        w[v] = VMUL(VSET1(sc[2 * g + t]), VI8(q));
    }
}

/* The float types' last K % 32 weights, one at a time. */
ATTR float FN(wk_f32)(const uint8_t *row, int64_t k) {
    float v;
    memcpy(&v, row + 4 * k, 4);
    return v;
}
ATTR float FN(wk_f16)(const uint8_t *row, int64_t k) { return HALF(row + 2 * k); }
ATTR float FN(wk_bf16)(const uint8_t *row, int64_t k) {
    uint32_t u = (uint32_t)(row[2 * k] | row[2 * k + 1] << 8) << 16;
    float v;
    memcpy(&v, &u, 4);
    return v;
}
ATTR float FN(wk_none)(const uint8_t *row, int64_t k) { return (void)row, (void)k, 0.0f; }

/* ---- factored block-32 kernels: the block's codes as exact small integers, the scale once ----
 *
 * For one or two vectors x, the block-32 types (Q8_0, Q4_0, Q5_0) are dotted without scaling each
 * weight: sum_i (q_i * d) x_i = d * sum_i q_i x_i, where q_i is the integer code minus its offset
 * (an exact float). Per block: the 32 codes, a multiply and a multiply-add with x, and one
 * multiply-add by d into the row's sums; the fp16 scales of 16 blocks are converted at once into a
 * small array and broadcast from memory (a load, not a shuffle). That halves the vector
 * operations of a block against scaling every weight, which is what bounds these types at one
 * position. The products are rounded in another order than the reference's (q * x, then * d,
 * instead of q * d, then * x): the same f32 error bound (tests/test_matvec.c), and with a unit
 * vector x still each reference weight bit for bit (one code times 1, times d, is the reference's
 * rounding of q * d). The codes come from lq_q8_0, lq_q4_0 and lq_q5_0 above, which the
 * per-weight loaders share. */

#define LQ_Q4_0 FN(lq_q4_0)
#define LQ_Q5_0 FN(lq_q5_0)
#define LQ_Q5_1 FN(lq_q5_1)
#ifdef VLUT
/* by constant tables (j - 8; j - 16 and j; Q5_1: j), picked as in ld_q4_0_lut and ld_q5_0_lut */
#undef LQ_Q4_0
#undef LQ_Q5_0
#undef LQ_Q5_1
#define LQ_Q4_0 FN(lq_q4_0_lut)
#define LQ_Q5_0 FN(lq_q5_0_lut)
#define LQ_Q5_1 FN(lq_q5_1_lut)
ATTR void FN(lq_q4_0_lut)(const uint8_t *b, V *w) {
    const V table = VSUB(VIOTA(), VSET1(8.0f));
    const VI q = VIDX(_mm_loadu_si128((const __m128i *)(b + 2)));
    w[0] = VLUT(q, table);
    w[1] = VLUT(VIDXHI(q), table);
}
ATTR void FN(lq_q5_1_lut)(const uint8_t *b, V *w) {
    uint16_t h0, h1;
    memcpy(&h0, b + 4, 2), memcpy(&h1, b + 6, 2);
    const VI q = VIDX(_mm_loadu_si128((const __m128i *)(b + 8)));
    w[0] = VADD16(VLUT(q, VIOTA()), h0); /* j, + 16 where the fifth bit is set */
    w[1] = VADD16(VLUT(VIDXHI(q), VIOTA()), h1);
}
ATTR void FN(lq_q5_0_lut)(const uint8_t *b, V *w) {
    const V table = VSUB(VIOTA(), VSET1(16.0f)); /* vpermps reads the low 4 bits: no mask needed */
    uint16_t h0, h1;
    memcpy(&h0, b + 2, 2), memcpy(&h1, b + 4, 2);
    const VI q = VIDX(_mm_loadu_si128((const __m128i *)(b + 6)));
    w[0] = VADD16(VLUT(q, table), h0); /* + 16 where the fifth bit is set */
    w[1] = VADD16(VLUT(VIDXHI(q), table), h1);
}
#endif

/* The fp16 scales (at offset 0 of each bb-byte block) of blocks b0 .. b0 + n - 1 (n <= 16) as
 * floats in d[0..n): gathered by the level's VSCALES16 (a vector gather of the 16 words, so that
 * no narrow stores have to be forwarded into a wide load) and converted at once. */
ATTR void FN(scales16)(const uint8_t *row, size_t bb, int64_t b0, int n, float *d) {
    VSTORE(d, VSCALES16(row + (size_t)b0 * bb, (int)bb, n));
}

/* One row times MC <= 2 vectors x, factored as above: y[m * ldy]. Two sums per vector (even and
 * odd blocks), so consecutive blocks do not wait on each other. */
/* Software prefetch PF_AHEAD bytes ahead of the stored weights being read. The rows are read once,
 * from memory; the hardware prefetchers alone left one core at 6-8 GB of Q8_0 per CPU-second
 * against 13 for a plain streaming read (bench_fused, 1 thread); 2-4 KiB ahead measured best. */
#ifndef FMAX
#define FMAX 4 /* vectors x at most per pass of the factored kernels (measured: 4 beats the per-weight ones by 10-30% at 3 and 4) */
#endif
#ifndef PF_AHEAD
#define PF_AHEAD 3072
#endif
ATTR void FN(prefetch)(const uint8_t *p, int bytes) {
    for (int i = 0; i < bytes; i += 64) _mm_prefetch((const char *)p + PF_AHEAD + i, _MM_HINT_T0);
}
#define ROWSF(T, LQ, BB)                                                                            \
    ATTR void FN(blockf_##T)(const uint8_t *blk, const float *xb, int64_t K, const float *d, int b,  \
                             const int MC, V acc[FMAX][2], const int u) {                             \
        V w[2];                                                                                    \
        LQ(blk + (size_t)b * BB, w);                                                               \
        _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) {                                     \
            const float *xm = xb + m * K + 32 * b;                                                 \
            V s = VMUL(w[0], VLOADX(xm));                                                          \
            s = VFMA(w[1], VLOADX(xm + 16), s);                                                    \
            acc[m][u] = VFMA(s, VSET1(d[b]), acc[m][u]);                                           \
        }                                                                                          \
    }                                                                                              \
    /* n <= 16 consecutive blocks from blk: even ones into acc[m][0], odd ones into acc[m][1] */   \
    ATTR void FN(blocksf_##T)(const uint8_t *blk, const float *xb, int64_t K, const float *d, int n, \
                              const int MC, V acc[FMAX][2]) {                                       \
        int b = 0;                                                                                 \
        for (; b + 2 <= n; b += 2)                                                                 \
            _Pragma("GCC unroll 2") for (int u = 0; u < 2; u++) FN(blockf_##T)(blk, xb, K, d, b + u, MC, acc, u); \
        if (b < n) FN(blockf_##T)(blk, xb, K, d, b, MC, acc, 0);                                    \
    }                                                                                              \
    ATTR void FN(rowf_##T)(const uint8_t *row, int64_t K, const float *x, float *y, int64_t ldy,    \
                           const int MC) {                                                         \
        V acc[FMAX][2];                                                                            \
        _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) acc[m][0] = acc[m][1] = VZERO();      \
        const int64_t nb = K / 32;                                                                 \
        for (int64_t b0 = 0; b0 < nb; b0 += 16) {                                                  \
            const int n = nb - b0 < 16 ? (int)(nb - b0) : 16;                                      \
            float d[16];                                                                           \
            FN(scales16)(row, BB, b0, n, d);                                                       \
            const uint8_t *blk = row + (size_t)b0 * BB;                                            \
            FN(prefetch)(blk, 16 * BB);                                                            \
            FN(blocksf_##T)(blk, x + b0 * 32, K, d, n, MC, acc);                                   \
        }                                                                                          \
        _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) y[m * ldy] = VHSUM(VADD(acc[m][0], acc[m][1])); \
    }

ROWSF(q8_0, FN(lq_q8_0), 34)
ROWSF(q4_0, LQ_Q4_0, 18)
ROWSF(q5_0, LQ_Q5_0, 22)
ROWSF(q4_1, FN(lq_q4_1), 20) /* their blocksf_ only: the rows are rowf1_ below (the mins) */
ROWSF(q5_1, LQ_Q5_1, 24)

#undef ROWSF
#undef LQ_Q4_0
#undef LQ_Q5_0
#undef LQ_Q5_1

/* ---- the kernels ---- */

/* RT rows at once times MC vectors x, per weight (the step loader LD): each x vector loaded once
 * per step serves the RT rows, each loaded weight vector the MC vectors, one partial sum per row
 * and vector. The one-row kernel below loads an x vector for every weight vector and FMA, and at
 * five to eight vectors those loads (from L2 once the vectors outgrow L1: 8 x 1792 floats are
 * 57 KiB), not the multiply-adds, bound it; a tile of RT rows makes them 1 / RT. Each weight is
 * still dequantized by LD alone, summed in f32: with a unit vector, the reference's bit for bit.
 * Rows of the tile are rb bytes apart; row r, vector m to y[m * ldy + r]. A pass of MC vectors
 * takes tiles from TMIN vectors on (the types with factored kernels keep those below it); the
 * F16 and BF16 from two vectors on, F32 from three (at one vector a 4-row tile is 1.45x a single
 * row in cache, but the forward reads its weights from memory and measured it no faster, perhaps
 * 3% slower: one position keeps its kernel).
 * Rows per tile for MC vectors of NV weight vectors a step: the RT * MC sums and RT * NV weight
 * vectors in registers (AVX-512 has 32; 3 x 8 + 3 x 2 fit, 3 x 8 + 3 x 4 do not); in cache, at 8
 * vectors, 3 rows 15-20% faster than 2 for the 2-vector steps (bench_matvec, docs/models.md). */
#ifndef TILE_ROWS
#define TILE_ROWS(MC, NV) ((NV) == 2 ? ((MC) <= 4 ? 4 : 3) : 2)
#endif
#ifndef TILE_MINQ
#define TILE_MINQ 5 /* the quantized types' passes of at least this many vectors take the tiles (fewer: the factored kernels) */
#endif
#ifndef TILE_MINK
#define TILE_MINK 4 /* Q4_K's and Q5_K's (fewer: their factored kernels, dotk_ below) */
#endif
#ifndef TILE_MINF
#define TILE_MINF 2 /* F16's and BF16's (one vector: the one-row kernel, see below) */
#endif
/* The tiles prefetch the next tile's rows at the same step (a tile ahead; PF_AHEAD bytes ahead of
 * each row would land in the rows the tile reads already, the next tile's starts unfetched). */
#ifndef TILE_HINT
#define TILE_HINT _MM_HINT_T0
#endif
ATTR void FN(prefetcht)(const uint8_t *p, int bytes) {
    for (int i = 0; i < bytes; i += 64) _mm_prefetch((const char *)p + i, TILE_HINT);
}
#ifdef GEMM_MIN /* passes of GEMM_MIN to 16 vectors as a small matrix product (formats/dot_gemm.h) */
#include "formats/dot_gemm.h"
#define GEMM_TRY(T)                                                                                \
    if (M >= GEMM_MIN) {                                                                           \
        const int64_t done = FN(gemm_##T)(w, rb, n_rows, K, x, M, y, ldy);                        \
        w += done * rb, y += done, n_rows -= done;                                                 \
    }
#else
#define GEMM(T, LD, NV, SBN, SBD, INPLACE)
#define GEMM_TRY(T)
#endif
#define TILE(T, LD, NV, WK, SBN, SBD, TMIN)                                                             \
    ATTR void FN(rowt_##T)(const uint8_t *row, size_t rb, int64_t K, const float *x, float *y, int64_t ldy, \
                           const int MC, const int RT) {                                           \
        V acc[4][8]; /* [RT][MC] */                                                          \
        _Pragma("GCC unroll 4") for (int r = 0; r < RT; r++)                                  \
            _Pragma("GCC unroll 8") for (int m = 0; m < MC; m++) acc[r][m] = VZERO();              \
        const int64_t steps = K / (16 * NV);                                                       \
        for (int64_t s = 0; s < steps; s++) {                                                      \
            V w[4][NV];                                                                            \
            _Pragma("GCC unroll 4") for (int r = 0; r < RT; r++) {                            \
                FN(prefetcht)(row + (RT + r) * rb + s * SBN / SBD, SBN / SBD > 64 ? 128 : 64);    \
                LD(row + r * rb, s, w[r]);                                                         \
            }                                                                                      \
            const float *xs = x + s * 16 * NV;                                                     \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                                   \
                _Pragma("GCC unroll 8") for (int m = 0; m < MC; m++) {                             \
                    const V xv = VLOADX(xs + m * K + 16 * v);                                      \
                    _Pragma("GCC unroll 4") for (int r = 0; r < RT; r++)                      \
                        acc[r][m] = VFMA(w[r][v], xv, acc[r][m]);                                  \
                }                                                                                  \
        }                                                                                          \
        _Pragma("GCC unroll 4") for (int r = 0; r < RT; r++)                                  \
            _Pragma("GCC unroll 8") for (int m = 0; m < MC; m++) {                                 \
                float t = VHSUM(acc[r][m]);                                                        \
                for (int64_t k = steps * 16 * NV; k < K; k++) t += FN(WK)(row + r * rb, k) * x[m * K + k]; \
                y[m * ldy + r] = t;                                                                \
            }                                                                                      \
    }                                                                                              \
    /* rows [0, n_rows - n_rows % rt) of a pass of MC >= TMIN vectors by tiles; returns the    \
     * rows done */                                                                                \
    ATTR int64_t FN(tiles_##T)(const uint8_t *w, size_t rb, int64_t n_rows, int64_t K, const float *x, int MC, \
                               float *y, int64_t ldy) {                                            \
        if (MC < TMIN) return 0;                                                                   \
        const int rt = TILE_ROWS(MC, NV);                                                          \
        int64_t r = 0;                                                                             \
        for (; r + rt <= n_rows; r += rt, w += rt * rb)                                            \
            switch (MC) {                                                                          \
            case 1: FN(rowt_##T)(w, rb, K, x, y + r, ldy, 1, TILE_ROWS(1, NV)); break;             \
            case 2: FN(rowt_##T)(w, rb, K, x, y + r, ldy, 2, TILE_ROWS(2, NV)); break;             \
            case 3: FN(rowt_##T)(w, rb, K, x, y + r, ldy, 3, TILE_ROWS(3, NV)); break;             \
            case 4: FN(rowt_##T)(w, rb, K, x, y + r, ldy, 4, TILE_ROWS(4, NV)); break;             \
            case 5: FN(rowt_##T)(w, rb, K, x, y + r, ldy, 5, TILE_ROWS(5, NV)); break;             \
            case 6: FN(rowt_##T)(w, rb, K, x, y + r, ldy, 6, TILE_ROWS(6, NV)); break;             \
            case 7: FN(rowt_##T)(w, rb, K, x, y + r, ldy, 7, TILE_ROWS(7, NV)); break;             \
            default: FN(rowt_##T)(w, rb, K, x, y + r, ldy, 8, TILE_ROWS(8, NV)); break;            \
            }                                                                                      \
        return r;                                                                                  \
    }


/* One row times MC vectors x (x[m * K ..]): y[m * ldy]. With one or two vectors the partial sums
 * would wait on each other (an FMA's latency is several cycles): U = 2 steps per iteration, each
 * with its own partial sums. */
#define ROWS(T, LD, NV, WK, SMALL, SBN, SBD, TMIN)                                                               \
    ATTR void FN(row_##T)(const uint8_t *row, int64_t K, const float *x, float *y, int64_t ldy,     \
                          const int MC) {                                                          \
        V acc[8][4]; /* [MCMAX at most][U * NACC] */                                               \
        const int U = MC <= 2 ? 2 : 1;                                                             \
        _Pragma("GCC unroll 8") for (int m = 0; m < MC; m++)                                       \
            _Pragma("GCC unroll 4") for (int a = 0; a < 2 * U; a++) acc[m][a] = VZERO();           \
        const int64_t steps = K / (16 * NV);                                                       \
        int64_t s = 0;                                                                             \
        for (; s + U <= steps; s += U)                                                             \
            _Pragma("GCC unroll 2") for (int u = 0; u < U; u++) {                                  \
                V w[NV];                                                                           \
                FN(prefetch)(row + (s + u) * SBN / SBD, SBN / SBD > 64 ? 128 : 64);               \
                LD(row, s + u, w);                                                                 \
                const float *xs = x + (s + u) * 16 * NV;                                           \
                _Pragma("GCC unroll 8") for (int m = 0; m < MC; m++)                               \
                    _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                           \
                        acc[m][2 * u + v % NACC] =                                                 \
                            VFMA(w[v], VLOADX(xs + m * K + 16 * v), acc[m][2 * u + v % NACC]);     \
            }                                                                                      \
        for (; s < steps; s++) {                                                                   \
            V w[NV];                                                                               \
            LD(row, s, w);                                                                         \
            const float *xs = x + s * 16 * NV;                                                     \
            _Pragma("GCC unroll 8") for (int m = 0; m < MC; m++)                                   \
                _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                               \
                    acc[m][v % NACC] = VFMA(w[v], VLOADX(xs + m * K + 16 * v), acc[m][v % NACC]);  \
        }                                                                                          \
        _Pragma("GCC unroll 8") for (int m = 0; m < MC; m++) {                                     \
            V t = acc[m][0];                                                                       \
            if (NACC == 2) t = VADD(t, acc[m][1]);                                                 \
            if (U == 2) t = VADD(t, NACC == 2 ? VADD(acc[m][2], acc[m][3]) : acc[m][2]);           \
            float r = VHSUM(t);                                                                    \
            for (int64_t k = steps * 16 * NV; k < K; k++) r += FN(WK)(row, k) * x[m * K + k];      \
            y[m * ldy] = r;                                                                        \
        }                                                                                          \
    }                                                                                              \
    TILE(T, LD, NV, WK, SBN, SBD, TMIN)                                                            \
    KATTR void FN(dot_##T)(const uint8_t *w, size_t rb, int64_t n_rows, int64_t K, const float *x, \
                           int M, float *y, int64_t ldy) {                                         \
        GEMM_TRY(T)                                                                                \
        for (int m0 = 0; m0 < M; m0 += MCMAX) {                                                    \
            const int mc = M - m0 < MCMAX ? M - m0 : MCMAX;                                        \
            const float *xm = x + m0 * K;                                                          \
            int64_t r = FN(tiles_##T)(w, rb, n_rows, K, xm, mc, y + m0 * ldy, ldy);                \
            for (; r < n_rows; r++) {                                                              \
                const uint8_t *wr = w + r * rb;                                                    \
                float *ym = y + m0 * ldy + r;                                                      \
                switch (mc) {                                                                      \
                case 1: SMALL(wr, K, xm, ym, ldy, 1); break;                                        \
                case 2: SMALL(wr, K, xm, ym, ldy, 2); break;                                        \
                case 3:                                                                            \
                    if (FMAX >= 3) SMALL(wr, K, xm, ym, ldy, 3 <= FMAX ? 3 : 1);                    \
                    else FN(row_##T)(wr, K, xm, ym, ldy, 3);                                        \
                    break;                                                                         \
                case 4:                                                                            \
                    if (FMAX >= 4) SMALL(wr, K, xm, ym, ldy, 4 <= FMAX ? 4 : 1);                    \
                    else FN(row_##T)(wr, K, xm, ym, ldy, 4);                                        \
                    break;                                                                         \
                case 5: FN(row_##T)(wr, K, xm, ym, ldy, 5); break;                                  \
                case 6: FN(row_##T)(wr, K, xm, ym, ldy, 6); break;                                  \
                case 7: FN(row_##T)(wr, K, xm, ym, ldy, 7); break;                                  \
                default: FN(row_##T)(wr, K, xm, ym, ldy, 8); break;                                 \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

GEMM(f32, FN(ld_f32), 2, 128, 1, 1)
GEMM(f16, FN(ld_f16), 2, 64, 1, 0)
GEMM(bf16, FN(ld_bf16), 2, 64, 1, 0)
GEMM(q8_0, FN(ld_q8_0), 2, 34, 1, 0)
GEMM(q4_0, LD_Q4_0, 2, 18, 1, 0)
GEMM(q5_0, LD_Q5_0, 2, 22, 1, 0)
GEMM(q4_1, FN(ld_q4_1), 2, 20, 1, 0)
GEMM(q5_1, FN(ld_q5_1), 2, 24, 1, 0)
GEMM(q4_k, LD_Q4_K, 4, 144, 4, 0)
GEMM(q5_k, LD_Q5_K, 4, 176, 4, 0)
GEMM(q6_k, FN(ld_q6_k), 4, 210, 4, 0)
ROWS(f32, FN(ld_f32), 2, wk_f32, FN(row_f32), 128, 1, 3) /* 1-2 vectors: tiles 10-15% slower in cache (twice the prefetches a step) */
ROWS(f16, FN(ld_f16), 2, wk_f16, FN(row_f16), 64, 1, TILE_MINF)
ROWS(bf16, FN(ld_bf16), 2, wk_bf16, FN(row_bf16), 64, 1, TILE_MINF)
ROWS(q8_0, FN(ld_q8_0), 2, wk_none, FN(rowf_q8_0), 34, 1, 4) /* 4 rows by 4 vectors beat the factored pass */
ROWS(q4_0, LD_Q4_0, 2, wk_none, FN(rowf_q4_0), 18, 1, 4)
ROWS(q5_0, LD_Q5_0, 2, wk_none, FN(rowf_q5_0), 22, 1, TILE_MINQ)
ROWS(q4_1, FN(ld_q4_1), 2, wk_none, FN(row_q4_1), 20, 1, TILE_MINQ)
ROWS(q5_1, FN(ld_q5_1), 2, wk_none, FN(row_q5_1), 24, 1, TILE_MINQ)
ROWS(q4_k, LD_Q4_K, 4, wk_none, FN(row_q4_k), 144, 4, TILE_MINK)
ROWS(q5_k, LD_Q5_K, 4, wk_none, FN(row_q5_k), 176, 4, TILE_MINK)
#ifndef VLUT /* else row6_q6_k below */
ROWS(q6_k, FN(ld_q6_k), 4, wk_none, FN(row_q6_k), 210, 4, TILE_MINQ)
#else
TILE(q6_k, FN(ld_q6_k), 4, wk_none, 210, 4, TILE_MINQ) /* the tiles of dot6_q6_k */
#endif

/* ---- factored K-quant kernels (Q4_K, Q5_K) at one or two vectors ----
 *
 * A sub-block j of 32 weights is (d * sc_j) * q - (dmin * m_j), so its dot with x is
 * (d * sc_j) * sum q x - (dmin * m_j) * sum x: the codes q as exact floats (a table of 0..15, or
 * 0..31 with the fifth bit as a masked +16), a multiply and a multiply-add with x, one multiply-add
 * by d * sc_j per 32 weights, and the mins once per super-block, as one 8-wide multiply-add of
 * dmin * m_0..7 with the sub-blocks' sums of x (computed once per call, shared by every row). With a
 * unit vector x the result is still the reference weight bit for bit: d * sc_j times the code,
 * rounded, minus dmin * m_j, rounded, as qdequant_row computes it. */

/* d * sc_0..7 in ds[0..8) and dmin * m_0..7 in ds[8..16) of the super-block at b (the reference's
 * float products: the same floats). The 12 bytes of 6-bit scales and mins unpacked 4 at a time. */
ATTR void FN(kscales)(const uint8_t *b, float *ds) {
    uint32_t w0, w1, w2;
    memcpy(&w0, b + 4, 4), memcpy(&w1, b + 8, 4), memcpy(&w2, b + 12, 4);
    const uint32_t lo6 = 0x3f3f3f3f, lo4 = 0x0f0f0f0f, lo2 = 0x03030303;
    const uint32_t sc_lo = w0 & lo6, sc_hi = (w2 & lo4) | ((w0 >> 6) & lo2) << 4;
    const uint32_t m_lo = w1 & lo6, m_hi = ((w2 >> 4) & lo4) | ((w1 >> 6) & lo2) << 4;
    const __m128i v = _mm_setr_epi32((int)sc_lo, (int)sc_hi, (int)m_lo, (int)m_hi);
    VSTORE(ds, VMUL(VHALVES(HALF(b), HALF(b + 2)), VU8(v)));
}

ATTR float FN(hsum8)(__m256 v) {
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    t = _mm_add_ss(t, _mm_movehdup_ps(t));
    return _mm_cvtss_f32(t);
}

/* the codes of sub-blocks 2p (w[0], w[1]) and 2p + 1 (w[2], w[3]) of the super-block at b */
ATTR void FN(kq_q4_k)(const uint8_t *b, int p, V *w) {
    const uint8_t *q = b + 16 + 32 * p;
#ifdef VLUT
    const V iota = VIOTA();
    const VI q0 = VIDX(_mm_loadu_si128((const __m128i *)q)), q1 = VIDX(_mm_loadu_si128((const __m128i *)(q + 16)));
    w[0] = VLUT(q0, iota);
    w[1] = VLUT(q1, iota);
    w[2] = VLUT(VIDXHI(q0), iota);
    w[3] = VLUT(VIDXHI(q1), iota);
#else
    const __m128i f = _mm_set1_epi8(0xF);
    const __m128i q0 = _mm_loadu_si128((const __m128i *)q), q1 = _mm_loadu_si128((const __m128i *)(q + 16));
    w[0] = VU8(_mm_and_si128(q0, f));
    w[1] = VU8(_mm_and_si128(q1, f));
    w[2] = VU8(_mm_and_si128(_mm_srli_epi16(q0, 4), f));
    w[3] = VU8(_mm_and_si128(_mm_srli_epi16(q1, 4), f));
#endif
}

ATTR void FN(kq_q5_k)(const uint8_t *b, int p, V *w) {
    const uint8_t *ql = b + 48 + 32 * p, *qh = b + 16;
#ifdef VLUT
    /* the fifth bits of sub-block 2p (2p + 1): bit 2p (2p + 1) of each qh byte, moved to bit 7 and
     * gathered by movemask into a lane mask */
    const V iota = VIOTA();
    const __m128i up1 = _mm_cvtsi32_si128(7 - 2 * p), up2 = _mm_cvtsi32_si128(6 - 2 * p);
#pragma GCC unroll 2
    for (int c = 0; c < 2; c++) {
        const VI l = VIDX(_mm_loadu_si128((const __m128i *)(ql + 16 * c)));
        const __m128i h = _mm_loadu_si128((const __m128i *)(qh + 16 * c));
        w[c] = VADD16(VLUT(l, iota), (unsigned)_mm_movemask_epi8(_mm_sll_epi16(h, up1)));
        w[2 + c] = VADD16(VLUT(VIDXHI(l), iota), (unsigned)_mm_movemask_epi8(_mm_sll_epi16(h, up2)));
    }
#else
    const __m128i f = _mm_set1_epi8(0xF), one = _mm_set1_epi8(1);
    const __m128i sh1 = _mm_cvtsi32_si128(2 * p), sh2 = _mm_cvtsi32_si128(2 * p + 1);
#pragma GCC unroll 2
    for (int c = 0; c < 2; c++) {
        const __m128i l = _mm_loadu_si128((const __m128i *)(ql + 16 * c));
        const __m128i h = _mm_loadu_si128((const __m128i *)(qh + 16 * c));
        const __m128i h1 = _mm_slli_epi16(_mm_and_si128(_mm_srl_epi16(h, sh1), one), 4);
        const __m128i h2 = _mm_slli_epi16(_mm_and_si128(_mm_srl_epi16(h, sh2), one), 4);
        w[c] = VU8(_mm_or_si128(_mm_and_si128(l, f), h1));
        w[2 + c] = VU8(_mm_or_si128(_mm_and_si128(_mm_srli_epi16(l, 4), f), h2));
    }
#endif
}

/* The sub-blocks' sums of x: xs[m * (K / 32) + j] = sum of x[m * K + 32 j ..][0..32). */
ATTR void FN(xsums)(const float *x, int64_t K, int M, float *xs) {
    for (int m = 0; m < M; m++)
        for (int64_t j = 0; j < K / 32; j++)
            xs[m * (K / 32) + j] = VHSUM(VADD(VLOADX(x + m * K + 32 * j), VLOADX(x + m * K + 32 * j + 16)));
}

#define XSUMS_MAX 1024 /* sub-blocks of 32 per row the factored K-quant kernels take (K <= 32768) */

#define ROWSK(T, KQ, BB)                                                                            \
    ATTR void FN(rowk_##T)(const uint8_t *row, int64_t K, const float *x, const float *xs, float *y, \
                           int64_t ldy, const int MC) {                                            \
        V acc[FMAX][2];                                                                            \
        __m256 accm[FMAX];                                                                         \
        _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) {                                     \
            acc[m][0] = acc[m][1] = VZERO();                                                       \
            accm[m] = _mm256_setzero_ps();                                                         \
        }                                                                                          \
        for (int64_t sb = 0; sb < K / 256; sb++) {                                                 \
            const uint8_t *b = row + (size_t)sb * BB;                                              \
            FN(prefetch)(b, BB);                                                                   \
            float ds[16];                                                                          \
            FN(kscales)(b, ds);                                                                    \
            _Pragma("GCC unroll 4") for (int p = 0; p < 4; p++) {                                  \
                V w[4];                                                                            \
                KQ(b, p, w);                                                                       \
                _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) {                             \
                    const float *xm = x + m * K + 256 * sb + 64 * p;                               \
                    V s0 = VMUL(w[0], VLOADX(xm)), s1 = VMUL(w[2], VLOADX(xm + 32));               \
                    s0 = VFMA(w[1], VLOADX(xm + 16), s0);                                          \
                    s1 = VFMA(w[3], VLOADX(xm + 48), s1);                                          \
                    acc[m][0] = VFMA(s0, VSET1(ds[2 * p]), acc[m][0]);                             \
                    acc[m][1] = VFMA(s1, VSET1(ds[2 * p + 1]), acc[m][1]);                         \
                }                                                                                  \
            }                                                                                      \
            _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++)                                   \
                accm[m] = _mm256_fmadd_ps(_mm256_loadu_ps(ds + 8), _mm256_loadu_ps(xs + m * (K / 32) + 8 * sb), \
                                          accm[m]);                                                \
        }                                                                                          \
        _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++)                                       \
            y[m * ldy] = VHSUM(VADD(acc[m][0], acc[m][1])) - FN(hsum8)(accm[m]);                   \
    }                                                                                              \
    KATTR void FN(dotk_##T)(const uint8_t *w, size_t rb, int64_t n_rows, int64_t K, const float *x, \
                            int M, float *y, int64_t ldy) {                                        \
        if (M > FMAX || M >= TILE_MINK || K / 32 > XSUMS_MAX) {                                    \
            FN(dot_##T)(w, rb, n_rows, K, x, M, y, ldy);                                           \
            return;                                                                                \
        }                                                                                          \
        float xs[FMAX * XSUMS_MAX];                                                                \
        FN(xsums)(x, K, M, xs);                                                                    \
        for (int64_t r = 0; r < n_rows; r++, w += rb)                                              \
            switch (M) {                                                                           \
            case 1: FN(rowk_##T)(w, K, x, xs, y + r, ldy, 1); break;                               \
            case 2: FN(rowk_##T)(w, K, x, xs, y + r, ldy, 2); break;                               \
            case 3: if (FMAX >= 3) FN(rowk_##T)(w, K, x, xs, y + r, ldy, 3 <= FMAX ? 3 : 1); break; \
            default: if (FMAX >= 4) FN(rowk_##T)(w, K, x, xs, y + r, ldy, 4 <= FMAX ? 4 : 1); break; \
            }                                                                                      \
    }

ROWSK(q4_k, FN(kq_q4_k), 144)
ROWSK(q5_k, FN(kq_q5_k), 176)

#undef ROWSK

/* ---- factored block-32 kernels with a min (Q4_1, Q5_1) ----
 *
 * A block's weights are q * d + m, so its dot with x is d * sum q x + m * sum x: the codes as
 * exact floats dotted with x and scaled once (blockf_, as Q4_0), and the mins of 16 blocks at once,
 * one multiply-add of the 16 m (gathered and converted as the scales are) with the 16 blocks' sums
 * of x, computed once per call and shared by every row. With a unit vector x the result is
 * q * d rounded plus m rounded once: the reference weight bit for bit. */
#define ROWSF1(T, BB)                                                                               \
    ATTR void FN(rowf1_##T)(const uint8_t *row, int64_t K, const float *x, const float *xs, int64_t xstride, \
                            float *y, int64_t ldy, const int MC) {                                  \
        V acc[FMAX][2], accm[FMAX];                                                                 \
        _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) acc[m][0] = acc[m][1] = accm[m] = VZERO(); \
        const int64_t nb = K / 32;                                                                  \
        for (int64_t b0 = 0; b0 < nb; b0 += 16) {                                                   \
            const int n = nb - b0 < 16 ? (int)(nb - b0) : 16;                                       \
            float d[16], mins[16];                                                                  \
            FN(scales16)(row, BB, b0, n, d);                                                        \
            FN(scales16)(row + 2, BB, b0, n, mins);                                                 \
            const uint8_t *blk = row + (size_t)b0 * BB;                                             \
            FN(prefetch)(blk, 16 * BB);                                                             \
            FN(blocksf_##T)(blk, x + b0 * 32, K, d, n, MC, acc);                                    \
            _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++)                                    \
                accm[m] = VFMA(VLOADX(mins), VLOADX(xs + m * xstride + b0), accm[m]);               \
        }                                                                                           \
        _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++)                                        \
            y[m * ldy] = VHSUM(VADD(acc[m][0], acc[m][1])) + VHSUM(accm[m]);                        \
    }                                                                                               \
    KATTR void FN(dotf1_##T)(const uint8_t *w, size_t rb, int64_t n_rows, int64_t K, const float *x, \
                             int M, float *y, int64_t ldy) {                                        \
        if (M > FMAX || K / 32 > XSUMS_MAX) {                                                       \
            FN(dot_##T)(w, rb, n_rows, K, x, M, y, ldy);                                            \
            return;                                                                                 \
        }                                                                                           \
        /* the blocks' sums of x, each vector's padded with zeros to a multiple of 16 blocks */     \
        const int64_t xstride = (K / 32 + 15) & ~(int64_t)15;                                       \
        float xs[FMAX * XSUMS_MAX];                                                                 \
        for (int m = 0; m < M; m++) {                                                               \
            FN(xsums)(x + m * K, K, 1, xs + m * xstride);                                           \
            for (int64_t j = K / 32; j < xstride; j++) xs[m * xstride + j] = 0;                     \
        }                                                                                           \
        for (int64_t r = 0; r < n_rows; r++, w += rb)                                               \
            switch (M) {                                                                            \
            case 1: FN(rowf1_##T)(w, K, x, xs, xstride, y + r, ldy, 1); break;                      \
            case 2: FN(rowf1_##T)(w, K, x, xs, xstride, y + r, ldy, 2); break;                      \
            case 3: if (FMAX >= 3) FN(rowf1_##T)(w, K, x, xs, xstride, y + r, ldy, 3 <= FMAX ? 3 : 1); break; \
            default: if (FMAX >= 4) FN(rowf1_##T)(w, K, x, xs, xstride, y + r, ldy, 4 <= FMAX ? 4 : 1); break; \
            }                                                                                       \
    }

ROWSF1(q4_1, 20)
ROWSF1(q5_1, 24)

#undef ROWSF1
#undef XSUMS_MAX

#ifdef VLUT
/* ---- Q6_K by table, a super-block at a time ----
 *
 * ld_q6_k builds each 6-bit code with five integer operations and converts it, and recomputes the
 * 16 scales at every step of 64 weights. Here the scales d * sc are computed once per super-block,
 * and a code q - 32 = lo + (16 hi - 32) is two lookups: vpermps picks lo from 0..15 by the low
 * nibble (it reads the low 4 bits of each lane, so the nibble needs no mask) and 16 hi - 32 from
 * the 4-entry table repeated by the high bit pair shifted down (the bits above it are ignored
 * the same way), and one add of two small integers: exact. Times d * sc, rounded once: the
 * reference weight bit for bit, as ld_q6_k's. */
ATTR void FN(row6_q6_k)(const uint8_t *row, int64_t K, const float *x, float *y, int64_t ldy, const int MC) {
    V acc[MCMAX][2];
    _Pragma("GCC unroll 8") for (int m = 0; m < MC; m++) acc[m][0] = acc[m][1] = VZERO();
    const V lo_t = VIOTA(), hi_t = VSUB(VMUL(VILOW2(), VSET1(16.0f)), VSET1(32.0f));
    for (int64_t sb = 0; sb < K / 256; sb++) {
        const uint8_t *b = row + (size_t)sb * 210;
        FN(prefetch)(b, 256);
        float dsc[16];
        VSTORE(dsc, VMUL(VSET1(HALF(b + 208)), VI8(_mm_loadu_si128((const __m128i *)(b + 192)))));
        _Pragma("GCC unroll 2") for (int h = 0; h < 2; h++) {
            const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
            _Pragma("GCC unroll 2") for (int t = 0; t < 2; t++) {
                const VI hb = VIDX(_mm_loadu_si128((const __m128i *)(qh + 16 * t)));
                const VI l02 = VIDX(_mm_loadu_si128((const __m128i *)(ql + 16 * t)));
                const VI l13 = VIDX(_mm_loadu_si128((const __m128i *)(ql + 32 + 16 * t)));
                _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++) {
                    const VI l = g == 0 ? l02 : g == 1 ? l13 : VIDXHI(g == 2 ? l02 : l13);
                    const V q = VADD(VLUT(l, lo_t), VLUT(VISHR(hb, 2 * g), hi_t));
                    const V w = VMUL(VSET1(dsc[8 * h + 2 * g + t]), q);
                    const float *xs = x + 256 * sb + 128 * h + 32 * g + 16 * t;
                    _Pragma("GCC unroll 8") for (int m = 0; m < MC; m++)
                        acc[m][t] = VFMA(w, VLOADX(xs + m * K), acc[m][t]);
                }
            }
        }
    }
    _Pragma("GCC unroll 8") for (int m = 0; m < MC; m++) y[m * ldy] = VHSUM(VADD(acc[m][0], acc[m][1]));
}

KATTR void FN(dot6_q6_k)(const uint8_t *w, size_t rb, int64_t n_rows, int64_t K, const float *x, int M, float *y,
                         int64_t ldy) {
    GEMM_TRY(q6_k)
    for (int m0 = 0; m0 < M; m0 += MCMAX) {
        const int mc = M - m0 < MCMAX ? M - m0 : MCMAX;
        const float *xm = x + m0 * K;
        for (int64_t r = FN(tiles_q6_k)(w, rb, n_rows, K, xm, mc, y + m0 * ldy, ldy); r < n_rows; r++) {
            const uint8_t *wr = w + r * rb;
            float *ym = y + m0 * ldy + r;
            switch (mc) {
            case 1: FN(row6_q6_k)(wr, K, xm, ym, ldy, 1); break;
            case 2: FN(row6_q6_k)(wr, K, xm, ym, ldy, 2); break;
            case 3: FN(row6_q6_k)(wr, K, xm, ym, ldy, 3); break;
            case 4: FN(row6_q6_k)(wr, K, xm, ym, ldy, 4); break;
            case 5: FN(row6_q6_k)(wr, K, xm, ym, ldy, 5); break;
            case 6: FN(row6_q6_k)(wr, K, xm, ym, ldy, 6); break;
            case 7: FN(row6_q6_k)(wr, K, xm, ym, ldy, 7); break;
            default: FN(row6_q6_k)(wr, K, xm, ym, ldy, 8); break;
            }
        }
    }
}
#endif

#undef ROWS
/* GEMM and GEMM_TRY stay defined for dot_iq4.h; formats/dot_x86.c undefines them */
#undef LD_Q4_0
#undef LD_Q4_K
#undef LD_Q5_0
#undef LD_Q5_K

/* Installs this level's kernels. */
static void FN(install)(Dot *d) {
    d->rows[Q_F32] = FN(dot_f32);
    d->rows[Q_F16] = FN(dot_f16);
    d->rows[Q_BF16] = FN(dot_bf16);
    d->rows[Q_Q8_0] = FN(dot_q8_0);
    d->rows[Q_Q4_0] = FN(dot_q4_0);
    d->rows[Q_Q5_0] = FN(dot_q5_0);
    d->rows[Q_Q4_1] = FN(dotf1_q4_1);
    d->rows[Q_Q5_1] = FN(dotf1_q5_1);
    d->rows[Q_Q4_K] = FN(dotk_q4_k);
    d->rows[Q_Q5_K] = FN(dotk_q5_k);
#ifdef VLUT
    d->rows[Q_Q6_K] = FN(dot6_q6_k);
#else
    d->rows[Q_Q6_K] = FN(dot_q6_k);
#endif
}
