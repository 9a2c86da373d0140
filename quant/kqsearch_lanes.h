/* kqsearch_lanes: the lane-per-sub-block searches of quant/kqsearch.c (make_qkx2_quants and
 * make_qkx3_fast, LANES sub-blocks at once, lane j = sub-block j running the serial search), written
 * once for every lane count. Included by kqsearch.c only, once per count, after it has defined
 * LANES, VF (LANES floats), VI (LANES int32), NH (LANES / 8), HALF8(v, h) and JOIN8(a) (see
 * QKX3_NAME), QKX2_NAME and QKX3_NAME (the functions' names) and LANE_CLONES. No include guard: it is meant to be included
 * more than once. Helpers get the lane count as a suffix (LN(name)).
 *
 * Each lane performs the serial search's float (or double) operations in their order, its own
 * minimum and maximum included, so its results are the serial search's bit for bit. The quants
 * of the winning grid are not copied at every win: the winning inverse scale and the minimum it
 * was applied to are kept, and the quants recomputed from them once at the end (the same
 * operations on the same values). */

#define LN_CAT(a, b) a##b
#define LN_CAT2(a, b) LN_CAT(a, b)
#define LN(name) LN_CAT2(name, LANES)

__attribute__((always_inline)) static inline VF LN(lsel)(VI m, VF a, VF b) { return (VF)((m & (VI)a) | (~m & (VI)b)); }

/* MAX(0, MIN(nmax, nearest_int(f))) of each lane (nearest_int: qblock.h's, whose clamp to
 * +-4194303 keeps the magic-number rounding valid and maps NaN to 0). The value is clamped to
 * [0, nmax] first, as a float: below 0 (or -0, or NaN, which fails the comparison) gives 0, as the
 * integer clamp does after rounding to a negative number or NaN's 0; above nmax gives nmax, as
 * rounding to nmax or more then clamping does; within, nothing changes. Then no other clamp is
 * needed: 4 operations fewer per value, in the searches' innermost loop. */
__attribute__((always_inline)) static inline VI LN(lquant)(VF f, int nmax) {
    const VF zero = {0}, top = zero + (float)nmax;
    f = LN(lsel)(f > zero, f, zero);
    f = LN(lsel)(f < top, f, top);
    return ((VI)(f + 12582912.f) & 0x007fffff) - 0x00400000;
}

/* x and w: LANES sub-blocks of n (n <= 32) one after the other, as lanes: xt[i][j] = x[j*n + i] */
__attribute__((always_inline)) static inline void LN(ltranspose)(int n, const float *x, const float *w, VF *xt, VF *wt) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < LANES; j++) xt[i][j] = x[j * n + i], wt[i][j] = w[j * n + i];
}

/* the quants of grid isc applied to minimum min, zero in the flat lanes, back to L (LANES
 * sub-blocks of n, one after the other) */
__attribute__((always_inline)) static inline void LN(lstore)(int n, int nmax, const VF *xt, VF isc, VF min, VI flat, uint8_t *L) {
    for (int i = 0; i < n; i++) {
        const VI l = LN(lquant)(isc * (xt[i] - min), nmax) & ~flat;
        for (int j = 0; j < LANES; j++) L[j * n + i] = (uint8_t)l[j];
    }
}

/* See qblock.h. */
LANE_CLONES void QKX2_NAME(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *scales,
                           float *the_mins, float rmin, float rdelta, int nstep, int use_mad) {
    VF xt[32], wt[32];
    VI La[32];
    if (n < 1 || n > 32) __builtin_unreachable(); /* the callers' 16 or 32 */
    LN(ltranspose)(n, x, weights, xt, wt);
    VF min = xt[0], max = xt[0], sum_w = wt[0], sum_x = sum_w * xt[0];
    for (int i = 1; i < n; ++i) {
        min = LN(lsel)(xt[i] < min, xt[i], min);
        max = LN(lsel)(xt[i] > max, xt[i], max);
        sum_w += wt[i];
        sum_x += wt[i] * xt[i];
    }
    const VF zero = {0};
    min = LN(lsel)(min > zero, zero, min);
    const VI flat = max == min; /* ggml returns early: L 0, scale 0 */
    const VF iscale = (float)nmax / (max - min);
    VF scale = 1 / iscale, best_error = zero, win_isc = iscale, win_min = min;
    for (int i = 0; i < n; ++i) {
        VF diff = scale * __builtin_convertvector(LN(lquant)(iscale * (xt[i] - min), nmax), VF) + min - xt[i];
        diff = use_mad ? (VF)((VI)diff & 0x7fffffff) : diff * diff;
        best_error += wt[i] * diff;
    }
    for (int is = 0; is < (nstep < 1 ? 0 : nstep + 1); ++is) {
        const VF isc = (rmin + rdelta * is + nmax) / (max - min);
        VF sum_l = zero, sum_l2 = zero, sum_xl = zero;
        for (int i = 0; i < n; ++i) {
            La[i] = LN(lquant)(isc * (xt[i] - min), nmax);
            const VF l = __builtin_convertvector(La[i], VF);
            sum_l += wt[i] * l;
            sum_l2 += wt[i] * l * l;
            sum_xl += wt[i] * l * xt[i];
        }
        const VF D = sum_w * sum_l2 - sum_l * sum_l;
        const VI ok = D > zero;
        VF this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
        VF this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
        const VI pos = this_min > zero;
        this_min = LN(lsel)(pos, zero, this_min);
        this_scale = LN(lsel)(pos, sum_xl / sum_l2, this_scale);
        VF cur_error = zero;
        for (int i = 0; i < n; ++i) {
            VF diff = this_scale * __builtin_convertvector(La[i], VF) + this_min - xt[i];
            diff = use_mad ? (VF)((VI)diff & 0x7fffffff) : diff * diff;
            cur_error += wt[i] * diff;
        }
        const VI up = ok & (cur_error < best_error) & ~flat;
        win_isc = LN(lsel)(up, isc, win_isc);
        win_min = LN(lsel)(up, min, win_min);
        best_error = LN(lsel)(up, cur_error, best_error);
        scale = LN(lsel)(up, this_scale, scale);
        min = LN(lsel)(up, this_min, min);
    }
    LN(lstore)(n, nmax, xt, win_isc, win_min, flat, L);
    for (int j = 0; j < LANES; j++) {
        the_mins[j] = -min[j];
        scales[j] = flat[j] ? 0.f : scale[j];
    }
}

/* See qblock.h. The double sums are kept as NH vectors of 8 lanes (HALF8 takes lanes 8h..8h+7 of
 * a float or int vector, JOIN8 puts NH of them together): compilers keep those in registers, where
 * a 16-double vector type went through memory. */
LANE_CLONES void QKX3_NAME(int n, int nmax, const float *x, const float *w, uint8_t *L, float *scales,
                           float *the_mins, float rmin, float rdelta, int nstep) {
    VF xt[32], wt[32];
    if (n < 1 || n > 32) __builtin_unreachable();
    LN(ltranspose)(n, x, w, xt, wt);
    const VF zero = {0};
    const vd8 dzero = {0};
    VF min = xt[0], max = xt[0];
    vd8 sw[NH], sx[NH], sxx[NH], wdv[32][NH], xdv[32][NH]; /* w and x widened once */
    for (int h = 0; h < NH; h++) sw[h] = sx[h] = sxx[h] = dzero;
    for (int i = 0; i < n; ++i) {
        min = LN(lsel)(xt[i] < min, xt[i], min);
        max = LN(lsel)(xt[i] > max, xt[i], max);
        for (int h = 0; h < NH; h++) {
            const vd8 wd = wdv[i][h] = __builtin_convertvector(HALF8(wt[i], h), vd8);
            const vd8 xd = xdv[i][h] = __builtin_convertvector(HALF8(xt[i], h), vd8);
            sw[h] += wd;
            sx[h] += wd * xd;
            sxx[h] += wd * xd * xd;
        }
    }
    min = LN(lsel)(min > zero, zero, min);
    const VI flat = max <= min;
    const VF iscale = (float)nmax / (max - min);
    VF scale = 1 / iscale, win_isc = iscale, win_min = min;
    vd8 best[NH];
    for (int h = 0; h < NH; h++) best[h] = dzero;
    for (int i = 0; i < n; ++i) {
        const VI l = LN(lquant)(iscale * (xt[i] - min), nmax);
        for (int h = 0; h < NH; h++) {
            const vd8 d = __builtin_convertvector(HALF8(scale, h), vd8) * __builtin_convertvector(HALF8(l, h), vd8) +
                          __builtin_convertvector(HALF8(min, h), vd8) - xdv[i][h];
            best[h] += wdv[i][h] * d * d;
        }
    }
    for (int is = 0; is <= nstep; ++is) {
        const VF isc = (rmin + rdelta * is + nmax) / (max - min);
        vd8 sl[NH], sl2[NH], sxl[NH];
        for (int h = 0; h < NH; h++) sl[h] = sl2[h] = sxl[h] = dzero;
        for (int i = 0; i < n; ++i) {
            const VI li = LN(lquant)(isc * (xt[i] - min), nmax);
            for (int h = 0; h < NH; h++) {
                const vd8 l = __builtin_convertvector(HALF8(li, h), vd8), wl = wdv[i][h] * l;
                sl[h] += wl;
                sl2[h] += wl * l;
                sxl[h] += wl * xdv[i][h];
            }
        }
        vi8 uph[NH];
        vf8 sh[NH], mh[NH];
        for (int h = 0; h < NH; h++) {
            const vd8 D = sw[h] * sl2[h] - sl[h] * sl[h];
            vd8 s = (sw[h] * sxl[h] - sx[h] * sl[h]) / D, m = (sl2[h] * sx[h] - sl[h] * sxl[h]) / D;
            const vl8 pos = m > dzero;
            m = (vd8)(~pos & (vl8)m);
            s = (vd8)((pos & (vl8)(sxl[h] / sl2[h])) | (~pos & (vl8)s));
            const vd8 e = s * s * sl2[h] + 2 * s * m * sl[h] + m * m * sw[h] - 2 * s * sxl[h] - 2 * m * sx[h] + sxx[h];
            const vl8 up64 = (D > dzero) & (e < best[h]) & ~__builtin_convertvector(HALF8(flat, h), vl8);
            best[h] = (vd8)((up64 & (vl8)e) | (~up64 & (vl8)best[h]));
            uph[h] = __builtin_convertvector(up64, vi8);
            sh[h] = __builtin_convertvector(s, vf8), mh[h] = __builtin_convertvector(m, vf8);
        }
        const VI up = JOIN8(uph);
        win_isc = LN(lsel)(up, isc, win_isc);
        win_min = LN(lsel)(up, min, win_min);
        scale = LN(lsel)(up, JOIN8(sh), scale);
        min = LN(lsel)(up, JOIN8(mh), min);
    }
    LN(lstore)(n, nmax, xt, win_isc, win_min, flat, L);
    for (int j = 0; j < LANES; j++) {
        the_mins[j] = -min[j];
        scales[j] = flat[j] ? 0.f : scale[j];
    }
}

#undef LN
#undef LN_CAT
#undef LN_CAT2
