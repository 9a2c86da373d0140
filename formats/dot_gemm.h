/* dot_gemm: passes of several vectors x (GEMM_MIN to 16) as a small matrix product, for the levels
 * that define GEMM_MIN (AVX-512: 32 vector registers). Included by formats/dot_body.h, once per
 * level, with its vector operations and step loaders defined; no include guard.
 *
 * The row tiles of dot_body.h (TILE) hold RT x MC partial sums for a pass of up to 8 vectors and
 * read the x vectors through 8 pointers: the pointers outgrow the 16 general registers and the
 * multiply-adds ran at ~45% of the core's rate in cache, and 16 vectors took two passes, each
 * loading (and decoding) every weight again. Here a tile is GEMM_RT = 4 rows and K is cut into
 * segments of up to GEMM_KSEG columns:
 *   1. the tile's 4 x ks weights of the segment are decoded once, by the type's step loader (each
 *      weight the reference's bit for bit), into an f32 buffer that stays in L1 (F32 rows are
 *      read in place);
 *   2. the vectors are taken four at a time (GEMM_MC): 4 rows x 4 vectors = 16 partial sums in
 *      registers, a step of 16 columns loads 4 weight vectors and 4 x vectors for 16 multiply-adds
 *      (a 4 x 4 micro-kernel alone, rows and x on 64-byte lines, ran at ~75% of the core's
 *      multiply-add rate in cache; this one in bench_matvec, x on 16-byte lines, at 40-48%);
 *   3. each group's partial sums wait in acc[] (L1) between segments;
 *   4. meanwhile the next tile's stored bytes are prefetched, a share by each group, so that memory
 *      streams while every group multiplies (the first group alone: no gain out of cache).
 * Each (row, vector) pair has one 16-lane sum over all K (lane l: the columns k = l mod 16, in
 * order), as in the row tiles; the row sum is its horizontal sum. */

#define GEMM_RT 4
#define GEMM_MC 4
#define GEMM_KSEG 1024 /* 4 rows x 1024 floats = 16 KiB of decoded weights */

/* acc[m][r] += sum_k w_r[k] * x[m * K + k] over ks columns (a multiple of 16), for m < MC <= 4.
 * pf (or NULL): the first of the next tile's stored bytes this group prefetches, rows pf_rb
 * apart, pf_step 16.16 fixed-point bytes further at each step of 16 columns. */
ATTR void FN(gemm_mk)(const float *const wr[GEMM_RT], int64_t ks, const float *x, int64_t K,
                      V acc[][GEMM_RT], const int MC, const uint8_t *pf, size_t pf_rb, uint64_t pf_step) {
    V a[GEMM_MC][GEMM_RT];
    _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++)
        _Pragma("GCC unroll 4") for (int r = 0; r < GEMM_RT; r++) a[m][r] = acc[m][r];
    uint64_t pf_off = 0;
    for (int64_t k = 0; k < ks; k += 16, pf_off += pf_step) {
        if (pf)
            _Pragma("GCC unroll 4") for (int r = 0; r < GEMM_RT; r++)
                _mm_prefetch((const char *)pf + r * pf_rb + (pf_off >> 16), TILE_HINT);
        V w[GEMM_RT];
        _Pragma("GCC unroll 4") for (int r = 0; r < GEMM_RT; r++) w[r] = VLOADX(wr[r] + k);
        _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) {
            const V xv = VLOADX(x + m * K + k);
            _Pragma("GCC unroll 4") for (int r = 0; r < GEMM_RT; r++) a[m][r] = VFMA(w[r], xv, a[m][r]);
        }
    }
    _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++)
        _Pragma("GCC unroll 4") for (int r = 0; r < GEMM_RT; r++) acc[m][r] = a[m][r];
}

/* The groups of vectors over one segment of the tile: wr[r] the segment's f32 weights of row r,
 * x the segment's first column of vector 0. pf (or NULL): the next tile's stored bytes of the
 * same segment, pf_len a row, rows rb apart; the groups share their prefetching, so that memory
 * streams while every group multiplies, not only while the first one reads. */
ATTR void FN(gemm_groups)(const float *const wr[GEMM_RT], int64_t ks, const float *x, int64_t K, int M,
                          V acc[][GEMM_RT], const uint8_t *pf, size_t rb, size_t pf_len) {
    const int groups = (M + GEMM_MC - 1) / GEMM_MC;
    const size_t share = (pf_len + groups - 1) / groups;
    const uint64_t step = ((uint64_t)share << 16) / (uint64_t)(ks / 16) + 1;
    for (int g = 0; g < M; g += GEMM_MC) {
        const float *xg = x + g * K;
        const uint8_t *pg = pf ? pf + g / GEMM_MC * share : NULL;
        switch (M - g) {
        case 1: FN(gemm_mk)(wr, ks, xg, K, acc + g, 1, pg, rb, step); break;
        case 2: FN(gemm_mk)(wr, ks, xg, K, acc + g, 2, pg, rb, step); break;
        case 3: FN(gemm_mk)(wr, ks, xg, K, acc + g, 3, pg, rb, step); break;
        default: FN(gemm_mk)(wr, ks, xg, K, acc + g, 4, pg, rb, step); break;
        }
    }
}

/* GEMM(T, LD, NV, SBN, SBD, INPLACE): FN(gemm_##T), the rows [0, n_rows - n_rows % 4) of W times
 * M <= 16 vectors x; returns the rows done (0 when K is not a multiple of a step). INPLACE: the
 * rows are f32 and are read where they are. A step is 16 * NV weights, SBN / SBD stored bytes. */
#define GEMM(T, LD, NV, SBN, SBD, INPLACE)                                                          \
    ATTR void FN(gemm_tile_##T)(const uint8_t *row, size_t rb, int64_t K, const float *x, int M,    \
                                float *y, int64_t ldy, int last) {                                 \
        V acc[16][GEMM_RT];                                                                        \
        for (int m = 0; m < M; m++)                                                                \
            _Pragma("GCC unroll 4") for (int r = 0; r < GEMM_RT; r++) acc[m][r] = VZERO();         \
        float buf[INPLACE ? 1 : GEMM_RT * GEMM_KSEG] __attribute__((aligned(64)));                 \
        for (int64_t k0 = 0; k0 < K; k0 += GEMM_KSEG) {                                            \
            const int64_t ks = K - k0 < GEMM_KSEG ? K - k0 : GEMM_KSEG;                            \
            const float *wr[GEMM_RT];                                                              \
            const int64_t s0 = k0 / (16 * NV), s1 = (k0 + ks) / (16 * NV);                         \
            const uint8_t *pf = last ? NULL : row + GEMM_RT * rb + s0 * SBN / SBD;                  \
            if (INPLACE) {                                                                         \
                _Pragma("GCC unroll 4") for (int r = 0; r < GEMM_RT; r++)                          \
                    wr[r] = (const float *)(row + r * rb) + k0;                                    \
            } else {                                                                               \
                for (int r = 0; r < GEMM_RT; r++) {                                                \
                    const uint8_t *rr = row + r * rb;                                              \
                    float *b = buf + r * GEMM_KSEG;                                                \
                    for (int64_t s = s0; s < s1; s++) {                                            \
                        V w[NV];                                                                   \
                        FN(prefetch)(rr + s * SBN / SBD, SBN / SBD > 64 ? 128 : 64);               \
                        LD(rr, s, w);                                                              \
                        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                       \
                            VSTORE(b + (s - s0) * 16 * NV + 16 * v, w[v]);                         \
                    }                                                                              \
                    wr[r] = b;                                                                     \
                }                                                                                  \
            }                                                                                      \
            FN(gemm_groups)(wr, ks, x + k0, K, M, acc, pf, rb, (size_t)((s1 - s0) * SBN / SBD));     \
        }                                                                                          \
        for (int m = 0; m < M; m++)                                                                \
            _Pragma("GCC unroll 4") for (int r = 0; r < GEMM_RT; r++) y[m * ldy + r] = VHSUM(acc[m][r]); \
    }                                                                                              \
    ATTR int64_t FN(gemm_##T)(const uint8_t *w, size_t rb, int64_t n_rows, int64_t K, const float *x, \
                              int M, float *y, int64_t ldy) {                                      \
        if (K % (16 * NV) || M > 16) return 0;                                                     \
        const int64_t tiles = n_rows / GEMM_RT;                                                    \
        for (int64_t t = 0; t < tiles; t++)                                                        \
            FN(gemm_tile_##T)(w + t * GEMM_RT * rb, rb, K, x, M, y + t * GEMM_RT, ldy, t + 1 == tiles); \
        return tiles * GEMM_RT;                                                                    \
    }
