/* dot_iq4: the fused dequantize-and-dot kernels of IQ4_NL and IQ4_XS for formats/dot.h. Included
 * by formats/dot_x86.c only, once per level, right after formats/dot_body.h, with its vector
 * macros (V, VI, VIDX, VIDXHI, VLUT when the level has it, VI8, VSET1, VMUL, VFMA, VADD, VHSUM,
 * VLOADX, VZERO, FN, ATTR, KATTR, HALF) and dot_body.h's FN(scales16), FN(prefetch) and FMAX. No
 * include guard: it is meant to be included more than once. */

/* ---- IQ4_NL, IQ4_XS: factored, every pass ----
 *
 * Both store 4-bit indices into the 16 non-linear levels L (small integers, exact as floats):
 * IQ4_NL in blocks of 32 laid out as Q4_0's (fp16 d, 16 bytes of nibbles, low nibbles first),
 * weight d * L[q]; IQ4_XS in super-blocks of 256 (fp16 d, 16 bits scales_h, 4 bytes scales_l, 128
 * bytes of nibbles), sub-block ib's weights dl * L[q] with dl = d * (ls - 32), ls the 6-bit scale
 * (low nibble ib of scales_l, bits 2ib..2ib+1 of scales_h on top). Factored as Q4_0:
 * sum (d * L[q]) x = d * sum L[q] x, the levels looked up from the nibbles (AVX-512: vpermps on
 * the 16 levels as floats; AVX2: pshufb on the 16 levels as bytes, then to floats); IQ4_XS scales
 * a sub-block's sum once by dl, the reference's own rounding of d * (ls - 32). With a unit vector
 * x each weight is the reference's bit for bit: L[q] * 1, times d (dl), rounded once as the
 * reference rounds d * L[q] (dl * L[q]). Every pass is factored, in passes of up to FMAX vectors
 * over the row (a row of these widths stays in L1 between passes). */

#ifdef VLUT
#define IQ4T V
#define IQ4T_LOAD(levels) VI8(_mm_loadu_si128((const __m128i *)(levels)))
#else
#define IQ4T __m128i
#define IQ4T_LOAD(levels) _mm_loadu_si128((const __m128i *)(levels))
#endif

/* the levels of the 32 nibbles at qs (16 bytes, low nibbles first) as floats: w[0], w[1] */
ATTR void FN(lq_iq4)(const uint8_t *qs, IQ4T t, V *w) {
#ifdef VLUT
    const VI q = VIDX(_mm_loadu_si128((const __m128i *)qs)); /* vpermps reads the low 4 bits */
    w[0] = VLUT(q, t);
    w[1] = VLUT(VIDXHI(q), t);
#else
    const __m128i q = _mm_loadu_si128((const __m128i *)qs), f = _mm_set1_epi8(0xF);
    w[0] = VI8(_mm_shuffle_epi8(t, _mm_and_si128(q, f)));
    w[1] = VI8(_mm_shuffle_epi8(t, _mm_and_si128(_mm_srli_epi16(q, 4), f)));
#endif
}

/* One row of IQ4_NL times MC <= FMAX vectors x: y[m * ldy]. As rowf_q4_0 (ROWSF): the block scales
 * 16 at a time, two sums per vector (even and odd blocks). */
ATTR void FN(blocki_iq4_nl)(const uint8_t *blk, const float *xb, int64_t K, const float *d, int b, IQ4T t,
                            const int MC, V acc[FMAX][2], const int u) {
    V w[2];
    FN(lq_iq4)(blk + (size_t)b * 18 + 2, t, w);
    _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) {
        const float *xm = xb + m * K + 32 * b;
        V s = VMUL(w[0], VLOADX(xm));
        s = VFMA(w[1], VLOADX(xm + 16), s);
        acc[m][u] = VFMA(s, VSET1(d[b]), acc[m][u]);
    }
}
ATTR void FN(rowi_iq4_nl)(const uint8_t *row, int64_t K, const float *x, IQ4T t, float *y, int64_t ldy,
                          const int MC) {
    V acc[FMAX][2];
    _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) acc[m][0] = acc[m][1] = VZERO();
    const int64_t nb = K / 32;
    for (int64_t b0 = 0; b0 < nb; b0 += 16) {
        const int n = nb - b0 < 16 ? (int)(nb - b0) : 16;
        float d[16];
        FN(scales16)(row, 18, b0, n, d);
        const uint8_t *blk = row + (size_t)b0 * 18;
        FN(prefetch)(blk, 16 * 18);
        const float *xb = x + b0 * 32;
        int b = 0;
        for (; b + 2 <= n; b += 2)
            _Pragma("GCC unroll 2") for (int u = 0; u < 2; u++)
                FN(blocki_iq4_nl)(blk, xb, K, d, b + u, t, MC, acc, u);
        if (b < n) FN(blocki_iq4_nl)(blk, xb, K, d, b, t, MC, acc, 0);
    }
    _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) y[m * ldy] = VHSUM(VADD(acc[m][0], acc[m][1]));
}

/* dl = d * (ls - 32) of IQ4_XS's 8 sub-blocks of the super-block at b, in dl[0..8): the reference's
 * float products (ls - 32 exact). The 6-bit scales unpacked 4 at a time: even sub-blocks 2k take
 * the low nibble of scales_l[k] and bits 4k, 4k+1 of scales_h, odd ones the high nibble and bits
 * 4k+2, 4k+3; interleaved back into sub-block order by one byte unpack. */
ATTR void FN(iq4xs_scales)(const uint8_t *b, float *dl) {
    uint32_t sl;
    memcpy(&sl, b + 4, 4);
    const uint32_t h = (uint32_t)(b[2] | b[3] << 8);
    const uint32_t hn = (h & 0xF) | (h & 0xF0) << 4 | (h & 0xF00) << 8 | (h & 0xF000) << 12; /* nibble k in byte k */
    const uint32_t lo4 = 0x0F0F0F0F, lo2 = 0x03030303;
    const uint32_t even = (sl & lo4) | (hn & lo2) << 4, odd = ((sl >> 4) & lo4) | ((hn >> 2) & lo2) << 4;
    const __m128i ls = _mm_unpacklo_epi8(_mm_cvtsi32_si128((int)even), _mm_cvtsi32_si128((int)odd));
    const __m256 c = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(ls), _mm256_set1_epi32(32)));
    _mm256_storeu_ps(dl, _mm256_mul_ps(_mm256_set1_ps(HALF(b)), c));
}

/* One row of IQ4_XS times MC <= FMAX vectors x: y[m * ldy]; two sums per vector (even and odd
 * sub-blocks), as rowk_q4_k without the mins. */
ATTR void FN(rowi_iq4_xs)(const uint8_t *row, int64_t K, const float *x, IQ4T t, float *y, int64_t ldy,
                          const int MC) {
    V acc[FMAX][2];
    _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) acc[m][0] = acc[m][1] = VZERO();
    for (int64_t sb = 0; sb < K / 256; sb++) {
        const uint8_t *b = row + (size_t)sb * 136;
        FN(prefetch)(b, 136);
        float dl[8];
        FN(iq4xs_scales)(b, dl);
        _Pragma("GCC unroll 4") for (int p = 0; p < 4; p++) {
            V w[4];
            FN(lq_iq4)(b + 8 + 32 * p, t, w);          /* sub-block 2p */
            FN(lq_iq4)(b + 8 + 32 * p + 16, t, w + 2); /* sub-block 2p + 1 */
            _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) {
                const float *xm = x + m * K + 256 * sb + 64 * p;
                V s0 = VMUL(w[0], VLOADX(xm)), s1 = VMUL(w[2], VLOADX(xm + 32));
                s0 = VFMA(w[1], VLOADX(xm + 16), s0);
                s1 = VFMA(w[3], VLOADX(xm + 48), s1);
                acc[m][0] = VFMA(s0, VSET1(dl[2 * p]), acc[m][0]);
                acc[m][1] = VFMA(s1, VSET1(dl[2 * p + 1]), acc[m][1]);
            }
        }
    }
    _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) y[m * ldy] = VHSUM(VADD(acc[m][0], acc[m][1]));
}

/* Step loaders for the small matrix product (formats/dot_gemm.h, passes of 9 to 16 vectors):
 * the weights themselves, d * L[q] (IQ4_XS: dl * L[q]), each rounded once as the reference's;
 * a step is one IQ4_NL block (32 weights) or one IQ4_XS super-block (256: its 8 scales computed
 * once). */
ATTR void FN(ld_iq4_nl)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + (size_t)s * 18;
    FN(lq_iq4)(b + 2, IQ4T_LOAD(lowbit_iq4_levels()), w);
    const V d = VSET1(HALF(b));
    w[0] = VMUL(d, w[0]), w[1] = VMUL(d, w[1]);
}
ATTR void FN(ld_iq4_xs)(const uint8_t *row, int64_t s, V *w) {
    const uint8_t *b = row + (size_t)s * 136;
    float dl[8];
    FN(iq4xs_scales)(b, dl);
    const IQ4T t = IQ4T_LOAD(lowbit_iq4_levels());
    _Pragma("GCC unroll 8") for (int ib = 0; ib < 8; ib++) { /* sub-block ib: 16 bytes of nibbles */
        FN(lq_iq4)(b + 8 + 16 * ib, t, w + 2 * ib);
        const V d = VSET1(dl[ib]);
        w[2 * ib] = VMUL(d, w[2 * ib]), w[2 * ib + 1] = VMUL(d, w[2 * ib + 1]);
    }
}
GEMM(iq4_nl, FN(ld_iq4_nl), 2, 18, 1, 0)
GEMM(iq4_xs, FN(ld_iq4_xs), 16, 136, 1, 0)

/* The kernels: per row, passes of up to FMAX vectors (9 to 16 vectors on AVX-512: GEMM_TRY). */
#define ROWSI(T)                                                                                    \
    KATTR void FN(doti_##T)(const uint8_t *w, size_t rb, int64_t n_rows, int64_t K, const float *x, \
                            int M, float *y, int64_t ldy) {                                        \
        GEMM_TRY(T)                                                                                \
        const IQ4T t = IQ4T_LOAD(lowbit_iq4_levels());                                             \
        for (int64_t r = 0; r < n_rows; r++, w += rb)                                              \
            for (int m0 = 0; m0 < M; m0 += FMAX) {                                                 \
                const float *xm = x + m0 * K;                                                      \
                float *ym = y + m0 * ldy + r;                                                      \
                switch (M - m0 < FMAX ? M - m0 : FMAX) {                                           \
                case 1: FN(rowi_##T)(w, K, xm, t, ym, ldy, 1); break;                              \
                case 2: FN(rowi_##T)(w, K, xm, t, ym, ldy, 2); break;                              \
                case 3: FN(rowi_##T)(w, K, xm, t, ym, ldy, 3 <= FMAX ? 3 : 1); break;              \
                default: FN(rowi_##T)(w, K, xm, t, ym, ldy, 4 <= FMAX ? 4 : 1); break;             \
                }                                                                                  \
            }                                                                                      \
    }

ROWSI(iq4_nl)
ROWSI(iq4_xs)

#undef ROWSI
#undef IQ4T
#undef IQ4T_LOAD

/* Installs this level's IQ4 kernels. */
static void FN(install_iq4)(Dot *d) {
    d->rows[Q_IQ4_NL] = FN(doti_iq4_nl);
    d->rows[Q_IQ4_XS] = FN(doti_iq4_xs);
}
