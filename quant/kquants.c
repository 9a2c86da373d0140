/* kquants: the scale searches (ggml's make_*_quants) and the k-quant block quantizers, Q2_K to
 * Q6_K, for quantize.c's dispatch (quant/qblock.h, private).
 *
 * Same rules as quantize.c: the reference searches perform ggml's float32 operations in ggml's
 * order (w*x*l is (w*x)*l; nearest_int is ggml's round half to even), so the reference blocks are
 * byte-identical to llama.cpp's; no FMA contraction (-std=c11 for gcc, the pragma for clang).
 * Block layouts: formats/qtype.c. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "formats/kquant.h"
#include "formats/qtype.h"
#include "quant/qblock.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* ================= the scale searches (ggml's make_*_quants) =================
 * make_qx_quants, make_qkx2_quants (ggml's make_qkx2_quants) and make_qkx3_fast are in
 * kqsearch.c, computed for many grid points at once. */

/* Q3_K's search: start from nmax/max, then up to 5 rounds of moving single quants to the level
 * that improves the x^2-weighted fit (ggml's make_q3_quants with do_rmse). L[i] in [0, 2*nmax). */
static float make_q3_quants(int n, int nmax, const float *x, int8_t *L) {
    float max = signed_absmax(x, n, NULL);
    if (fabsf(max) < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * x[i]);
        l = MAX(-nmax, MIN(nmax - 1, l));
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; ++itry) {
        int n_changed = 0;
        for (int i = 0; i < n; ++i) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * L[i];
            if (slx > 0) {
                float sl2 = suml2 - w * L[i] * L[i];
                int new_l = nearest_int(x[i] * sl2 / slx);
                new_l = MAX(-nmax, MIN(nmax - 1, new_l));
                if (new_l != L[i]) {
                    slx += w * x[i] * new_l;
                    sl2 += w * new_l * new_l;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        ++n_changed;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    for (int i = 0; i < n; ++i) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* ggml's make_qkx3_quants itself (squared error, weights w given): float sums and a second pass
 * per grid, in ggml's order, for the candidate that must be llama.cpp's block bit for bit. */
static float make_qkx3_exact(int n, int nmax, const float *x, const float *w, uint8_t *L,
                             float *the_min, float rmin, float rdelta, int nstep) {
    float min = x[0], max = x[0];
    float sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max <= min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min), scale = 1 / iscale, best = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)MAX(0, MIN(nmax, l));
        float diff = scale * L[i] + min - x[i];
        best += w[i] * (diff * diff);
    }
    uint8_t Laux[32];
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            int l = MAX(0, MIN(nmax, nearest_int(iscale * (x[i] - min))));
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float err = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                err += w[i] * (diff * diff);
            }
            if (err < best) {
                memcpy(L, Laux, (size_t)n);
                best = err;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* Non-negative values x ~ scale*L, L in [0, nmax], weighted (ggml's make_qp_quants): used to
 * quantize the sub-block scales and mins themselves with the sub-blocks' total weights. */
static float make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *qw) {
    float max = 0;
    for (int i = 0; i < n; ++i) max = MAX(max, x[i]);
    if (max < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = nmax / max;
    for (int i = 0; i < n; ++i) L[i] = (uint8_t)nearest_int(iscale * x[i]);
    float scale = 1 / iscale;
    float best_mse = 0;
    for (int i = 0; i < n; ++i) {
        float diff = x[i] - scale * L[i];
        best_mse += qw[i] * diff * diff;
    }
    for (int is = -4; is <= 4; ++is) {
        if (is == 0) continue;
        float iscale_is = (0.1f * is + nmax) / max;
        float scale_is = 1 / iscale_is;
        float mse = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale_is * x[i]);
            l = MIN(nmax, l);
            float diff = x[i] - scale_is * l;
            mse += qw[i] * diff * diff;
        }
        if (mse < best_mse) {
            best_mse = mse;
            iscale = iscale_is;
        }
    }
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * x[i]);
        l = MIN(nmax, l);
        L[i] = (uint8_t)l;
        float w = qw[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; ++itry) {
        int n_changed = 0;
        for (int i = 0; i < n; ++i) {
            float w = qw[i];
            float slx = sumlx - w * x[i] * L[i];
            float sl2 = suml2 - w * L[i] * L[i];
            if (slx > 0 && sl2 > 0) {
                int new_l = nearest_int(x[i] * sl2 / slx);
                new_l = MIN(nmax, new_l);
                if (new_l != L[i]) {
                    slx += w * x[i] * new_l;
                    sl2 += w * new_l * new_l;
                    if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (uint8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        ++n_changed;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Stores a super-block scale d as fp16 at `at` and returns the stored value. *refit is set when
 * fp16 moved it by more than 0.1% (its subnormal range, which blocks of small weights reach) or
 * flushed it to zero (then the smallest subnormal is stored instead): the sub-block codes, chosen
 * against d, must then be recomputed against what a reader will multiply by. */
static float put_scale(uint8_t *at, float d, int *refit, int fit) {
    put_half(at, d);
    float s = get_half(at);
    *refit = 0;
    if (!fit) return s; /* llama.cpp's block: the codes stay as chosen against d */
    if (d != 0 && s == 0) {
        s = copysignf(0x1p-24f, d);
        put_half(at, s);
    }
    *refit = d != 0 && fabsf(s - d) > 1e-3f * fabsf(d);
    return s;
}

/* ================= k-quants ================= */

/* L[256] (values 0..3) four to a byte, as Q2_K and Q3_K store them */
static void pack2(const uint8_t *L, uint8_t *qs) {
    for (int j = 0; j < QKK; j += 128)
        for (int l = 0; l < 32; ++l)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                      (L[j + l + 96] << 6));
}

/* Q2_K: 16 sub-blocks of 16, 2-bit quants, 4-bit scale and min per sub-block.
 * y: scales[16] @0, qs[64] @16, d @80, dmin @82. Given sub-block scales/mins and their 4-bit
 * codes already in y, requantizes x against the stored (fp16-rounded) values and packs. */
static void q2k_finish(const float *x, uint8_t *y, uint8_t *L) {
    for (int j = 0; j < QKK / 16; ++j) {
        const float d = get_half(y + 80) * (y[j] & 0xF);
        if (!d) continue;
        const float dm = get_half(y + 82) * (y[j] >> 4);
        for (int ii = 0; ii < 16; ++ii) {
            int l = nearest_int((x[16 * j + ii] + dm) / d);
            L[16 * j + ii] = (uint8_t)MAX(0, MIN(3, l));
        }
    }
    pack2(L, y + 16);
}

void q2k_ref(const float *x, uint8_t *y) {
    uint8_t L[QKK];
    float weights[QKK], mins[QKK / 16], scales[QKK / 16];
    const float q4scale = 15.f;
    float max_scale = 0, max_min = 0;
    for (int l = 0; l < QKK; ++l) weights[l] = fabsf(x[l]);
    if (wide_lanes()) make_qkx2_quants16(16, 3, x, weights, L, scales, mins, -0.5f, 0.1f, 15, 1); /* all 16 at once */
    else
        for (int h = 0; h < 2; h++) /* 8 sub-blocks of 16 at a time */
            make_qkx2_quants8(16, 3, x + 128 * h, weights + 128 * h, L + 128 * h, scales + 8 * h, mins + 8 * h,
                              -0.5f, 0.1f, 15, 1);
    for (int j = 0; j < QKK / 16; ++j) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
        float iscale = q4scale / max_scale;
        for (int j = 0; j < QKK / 16; ++j) y[j] = (uint8_t)nearest_int(iscale * scales[j]);
        put_half(y + 80, max_scale / q4scale);
    } else {
        for (int j = 0; j < QKK / 16; ++j) y[j] = 0;
        put_half(y + 80, 0.f);
    }
    if (max_min > 0) {
        float iscale = q4scale / max_min;
        for (int j = 0; j < QKK / 16; ++j) y[j] |= (uint8_t)(nearest_int(iscale * mins[j]) << 4);
        put_half(y + 82, max_min / q4scale);
    } else {
        put_half(y + 82, 0.f);
    }
    q2k_finish(x, y, L);
}

/* qw: 256 importance weights, NULL for uniform ones (llama.cpp requires them for Q2_K). fit: refit
 * the sub-block codes to the stored fp16 scales (0: llama.cpp's block exactly) */
static void q2k_w(const float *x, uint8_t *y, const float *qw, int fit) {
    uint8_t L[QKK], Ls[QKK / 16], Lm[QKK / 16];
    float mins[QKK / 16], scales[QKK / 16], sw[QKK / 16], weight[QKK];
    float sumx2 = 0;
    for (int j = 0; j < QKK; ++j) sumx2 += x[j] * x[j];
    float sigma2 = sumx2 / QKK;
    for (int j = 0; j < QKK / 16; ++j) {
        float *wj = weight + 16 * j;
        sw[j] = 0;
        for (int l = 0; l < 16; ++l)
            wj[l] = (qw ? qw[16 * j + l] : 1.0f) * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
        for (int l = 0; l < 16; ++l) sw[j] += wj[l];
        if (!fit)
            scales[j] = make_qkx3_exact(16, 3, x + 16 * j, wj, L + 16 * j, &mins[j], -0.9f, 0.05f, 36);
    }
    if (fit && wide_lanes()) make_qkx3_fast16(16, 3, x, weight, L, scales, mins, -0.9f, 0.05f, 36); /* all 16 */
    else if (fit)
        for (int h = 0; h < 2; h++) /* 8 sub-blocks of 16 at a time */
            make_qkx3_fast8(16, 3, x + 128 * h, weight + 128 * h, L + 128 * h, scales + 8 * h, mins + 8 * h,
                            -0.9f, 0.05f, 36);
    float dm = make_qp_quants(QKK / 16, 15, scales, Ls, sw);
    float mm = make_qp_quants(QKK / 16, 15, mins, Lm, sw);
    int refit;
    const float d16 = put_scale(y + 80, dm, &refit, fit);
    if (refit)
        for (int j = 0; j < QKK / 16; ++j) Ls[j] = (uint8_t)MAX(0, MIN(15, nearest_int(scales[j] / d16)));
    const float m16 = put_scale(y + 82, mm, &refit, fit);
    if (refit)
        for (int j = 0; j < QKK / 16; ++j) Lm[j] = (uint8_t)MAX(0, MIN(15, nearest_int(mins[j] / m16)));
    for (int j = 0; j < QKK / 16; ++j) y[j] = (uint8_t)(Ls[j] | (Lm[j] << 4));
    q2k_finish(x, y, L);
}

/* Q3_K: 16 sub-blocks of 16, 3-bit quants (2 low bits in qs, high bit in hmask), signed 6-bit
 * scales. y: hmask[32] @0, qs[64] @32, scales[12] @96, d @108. */
static void q3k_put_scale(uint8_t *s, int j, int l) { /* l: 0..63 */
    if (j < 8) s[j] = (uint8_t)(l & 0xF);
    else s[j - 8] |= (uint8_t)((l & 0xF) << 4);
    l >>= 4;
    s[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
}

static void q3k_finish(const float *x, uint8_t *y, int8_t *L) {
    const uint8_t *s = y + 96;
    for (int j = 0; j < QKK / 16; ++j) {
        int sc = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
        sc = (sc | (((s[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
        float d = get_half(y + 108) * (int8_t)sc;
        if (!d) continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = nearest_int(x[16 * j + ii] / d);
            L[16 * j + ii] = (int8_t)(MAX(-4, MIN(3, l)) + 4);
        }
    }
    uint8_t *hmask = y;
    memset(hmask, 0, QKK / 8);
    int m = 0;
    uint8_t hm = 1;
    for (int j = 0; j < QKK; ++j) {
        if (L[j] > 3) {
            hmask[m] |= hm;
            L[j] -= 4;
        }
        if (++m == QKK / 8) {
            m = 0;
            hm = (uint8_t)(hm << 1);
        }
    }
    pack2((const uint8_t *)L, y + 32);
}

void q3k_ref(const float *x, uint8_t *y) {
    int8_t L[QKK];
    float scales[QKK / 16];
    float max_scale = 0, amax = 0;
    for (int j = 0; j < QKK / 16; ++j) {
        scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
        float scale = fabsf(scales[j]);
        if (scale > amax) {
            amax = scale;
            max_scale = scales[j];
        }
    }
    memset(y + 96, 0, 12);
    if (max_scale) {
        float iscale = -32.f / max_scale;
        for (int j = 0; j < QKK / 16; ++j) {
            int8_t l = (int8_t)nearest_int(iscale * scales[j]);
            l = (int8_t)(MAX(-32, MIN(31, l)) + 32);
            q3k_put_scale(y + 96, j, l);
        }
        put_half(y + 108, 1 / iscale);
    } else {
        put_half(y + 108, 0.f);
    }
    q3k_finish(x, y, L);
}

/* qw NULL: llama.cpp's x^2 weighting; fit as q2k_w */
static void q3k_w(const float *x, uint8_t *y, const float *qw, int fit) {
    int8_t L[QKK], Ls[QKK / 16];
    float scales[QKK / 16], weight_all[QKK], sw[QKK / 16];
    float sumx2 = 0;
    for (int j = 0; j < QKK; ++j) sumx2 += x[j] * x[j];
    float sigma2 = 2 * sumx2 / QKK;
    for (int j = 0; j < QKK / 16; ++j) {
        float *weight = weight_all + 16 * j;
        if (qw) {
            for (int l = 0; l < 16; ++l)
                weight[l] = qw[16 * j + l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
        } else {
            for (int l = 0; l < 16; ++l) weight[l] = x[16 * j + l] * x[16 * j + l];
        }
        float sumw = 0;
        for (int l = 0; l < 16; ++l) sumw += weight[l];
        sw[j] = sumw;
    }
    make_qx_quants16(4, x, L, weight_all, scales);
    memset(y + 96, 0, 12);
    float d_block = make_qx_quants(QKK / 16, 32, scales, Ls, sw);
    int refit;
    const float d16 = put_scale(y + 108, d_block, &refit, fit);
    if (refit)
        for (int j = 0; j < QKK / 16; ++j)
            Ls[j] = (int8_t)(MAX(-32, MIN(31, nearest_int(scales[j] / d16))) + 32);
    for (int j = 0; j < QKK / 16; ++j) q3k_put_scale(y + 96, j, Ls[j]);
    q3k_finish(x, y, L);
}

/* requantizes x against the stored scales/mins; nmax 15 (Q4_K) or 31 (Q5_K), then packs */
static void k45_finish(const float *x, uint8_t *y, uint8_t *L, int nmax) {
    uint8_t sc, m;
    for (int j = 0; j < QKK / 32; ++j) {
        k4_scale_min(j, y + 4, &sc, &m);
        const float d = get_half(y) * sc;
        if (!d) continue;
        const float dm = get_half(y + 2) * m;
        for (int ii = 0; ii < 32; ++ii) {
            int l = nearest_int((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = (uint8_t)MAX(0, MIN(nmax, l));
        }
    }
    if (nmax == 15) {
        uint8_t *q = y + 16;
        for (int j = 0; j < QKK; j += 64) {
            for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
            q += 32;
        }
        return;
    }
    uint8_t *qh = y + 16, *ql = y + 48;
    memset(qh, 0, QKK / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < QKK; n += 64) {
        for (int j = 0; j < 32; ++j) {
            int l1 = L[n + j];
            if (l1 > 15) {
                l1 -= 16;
                qh[j] |= m1;
            }
            int l2 = L[n + j + 32];
            if (l2 > 15) {
                l2 -= 16;
                qh[j] |= m2;
            }
            ql[j] = (uint8_t)(l1 | (l2 << 4));
        }
        m1 = (uint8_t)(m1 << 2);
        m2 = (uint8_t)(m2 << 2);
        ql += 32;
    }
}

/* reference Q4_K (nmax 15: rmin -1, 20 steps) and Q5_K (nmax 31: rmin -0.5, 15 steps), in three
 * parts so that two blocks can share one search of 16 lanes (k45_ref2): the weights, the search,
 * the scales and codes */
static void k45_ref_weights(const float *x, float *weights) {
    for (int j = 0; j < QKK / 32; ++j) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[32 * j + l] = av_x + fabsf(x[32 * j + l]);
    }
}

static void k45_ref_store(const float *x, uint8_t *y, uint8_t *L, const float *scales, const float *mins, int nmax) {
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < QKK / 32; ++j) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    memset(y + 4, 0, 12);
    for (int j = 0; j < QKK / 32; ++j) {
        uint8_t ls = (uint8_t)nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);
        k4_put_scale_min(y + 4, j, MIN(63, ls), MIN(63, lm));
    }
    put_half(y, max_scale / 63.f);
    put_half(y + 2, max_min / 63.f);
    k45_finish(x, y, L, nmax);
}

static void k45_ref(const float *x, uint8_t *y, int nmax) {
    uint8_t L[QKK];
    float weights[QKK], mins[QKK / 32], scales[QKK / 32];
    k45_ref_weights(x, weights);
    if (nmax == 15) make_qkx2_quants8(32, 15, x, weights, L, scales, mins, -1.f, 0.1f, 20, 0);
    else make_qkx2_quants8(32, 31, x, weights, L, scales, mins, -0.5f, 0.1f, 15, 0);
    k45_ref_store(x, y, L, scales, mins, nmax);
}

/* two consecutive blocks (x: 512 values; y, y + bb): each exactly k45_ref's */
static void k45_ref2(const float *x, uint8_t *y, size_t bb, int nmax) {
    uint8_t L[2 * QKK];
    float weights[2 * QKK], mins[QKK / 16], scales[QKK / 16];
    k45_ref_weights(x, weights);
    k45_ref_weights(x + QKK, weights + QKK);
    if (nmax == 15) make_qkx2_quants16(32, 15, x, weights, L, scales, mins, -1.f, 0.1f, 20, 0);
    else make_qkx2_quants16(32, 31, x, weights, L, scales, mins, -0.5f, 0.1f, 15, 0);
    k45_ref_store(x, y, L, scales, mins, nmax);
    k45_ref_store(x + QKK, y + bb, L + QKK, scales + 8, mins + 8, nmax);
}

/* qw NULL: llama.cpp's default weights sqrt(2*mean(x^2)) + |x|; fit as q2k_w. In parts as the
 * reference: the weights (and, !fit, llama.cpp's exact searches), the search, the rest. */
static void k45_imp_weights(const float *x, const float *qw, int nmax, int fit, float *weight_all, float *sw,
                            uint8_t *L, float *scales, float *mins) {
    float sum_x2 = 0;
    for (int l = 0; l < QKK; ++l) sum_x2 += x[l] * x[l];
    float sigma2 = 2 * sum_x2 / QKK;
    float av_x = sqrtf(sigma2);
    for (int j = 0; j < QKK / 32; ++j) {
        float *weights = weight_all + 32 * j;
        if (qw) {
            for (int l = 0; l < 32; ++l)
                weights[l] = qw[32 * j + l] * sqrtf(sigma2 + x[32 * j + l] * x[32 * j + l]);
        } else {
            for (int l = 0; l < 32; ++l) weights[l] = av_x + fabsf(x[32 * j + l]);
        }
        float sumw = 0;
        for (int l = 0; l < 32; ++l) sumw += weights[l];
        sw[j] = sumw;
        if (!fit)
            scales[j] = make_qkx3_exact(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], -0.9f, 0.05f, 36);
    }
}

static void k45_imp_store(const float *x, uint8_t *y, uint8_t *L, const float *scales, const float *mins,
                          const float *sw, int nmax, int fit) {
    uint8_t Ls[QKK / 32], Lm[QKK / 32];
    float d_block = make_qp_quants(QKK / 32, 63, scales, Ls, sw);
    float m_block = make_qp_quants(QKK / 32, 63, mins, Lm, sw);
    memset(y + 4, 0, 12);
    int refit;
    const float d16 = put_scale(y, d_block, &refit, fit);
    if (refit)
        for (int j = 0; j < QKK / 32; ++j) Ls[j] = (uint8_t)MAX(0, MIN(63, nearest_int(scales[j] / d16)));
    const float m16 = put_scale(y + 2, m_block, &refit, fit);
    if (refit)
        for (int j = 0; j < QKK / 32; ++j) Lm[j] = (uint8_t)MAX(0, MIN(63, nearest_int(mins[j] / m16)));
    for (int j = 0; j < QKK / 32; ++j) k4_put_scale_min(y + 4, j, MIN(63, Ls[j]), MIN(63, Lm[j]));
    k45_finish(x, y, L, nmax);
}

static void k45_imp(const float *x, uint8_t *y, const float *qw, int nmax, int fit) {
    uint8_t L[QKK];
    float weight_all[QKK], sw[QKK / 32], mins[QKK / 32], scales[QKK / 32];
    k45_imp_weights(x, qw, nmax, fit, weight_all, sw, L, scales, mins);
    if (fit) make_qkx3_fast8(32, nmax, x, weight_all, L, scales, mins, -0.9f, 0.05f, 36);
    k45_imp_store(x, y, L, scales, mins, sw, nmax, fit);
}

/* two consecutive blocks with neutral weights, fitted (k45_imp(x, y, NULL, nmax, 1) of each) */
static void k45_imp2(const float *x, uint8_t *y, size_t bb, int nmax) {
    uint8_t L[2 * QKK];
    float weight_all[2 * QKK], sw[QKK / 16], mins[QKK / 16], scales[QKK / 16];
    k45_imp_weights(x, NULL, nmax, 1, weight_all, sw, L, scales, mins);
    k45_imp_weights(x + QKK, NULL, nmax, 1, weight_all + QKK, sw + 8, L + QKK, scales + 8, mins + 8);
    make_qkx3_fast16(32, nmax, x, weight_all, L, scales, mins, -0.9f, 0.05f, 36);
    k45_imp_store(x, y, L, scales, mins, sw, nmax, 1);
    k45_imp_store(x + QKK, y + bb, L + QKK, scales + 8, mins + 8, sw + 8, nmax, 1);
}

/* Q6_K: 16 sub-blocks of 16, 6-bit quants (4 low bits in ql, 2 high in qh), int8 scales.
 * y: ql[128] @0, qh[64] @128, scales[16] @192, d @208. qw NULL: x^2 weights (the reference);
 * uniform: weights 1 (qw ignored). */
static void q6k(const float *x, uint8_t *y, const float *qw, int uniform, int fit) {
    int8_t L[QKK];
    float ones[QKK];
    if (uniform) {
        for (int i = 0; i < QKK; i++) ones[i] = 1.0f;
        qw = ones;
    }
    float scales[QKK / 16];
    float max_scale = 0, max_abs_scale = 0;
    make_qx_quants16(32, x, L, qw, scales);
    for (int ib = 0; ib < QKK / 16; ++ib) {
        const float scale = scales[ib];
        const float abs_scale = fabsf(scale);
        if (abs_scale > max_abs_scale) {
            max_abs_scale = abs_scale;
            max_scale = scale;
        }
    }
    if (max_abs_scale < GROUP_MAX_EPS) {
        memset(y, 0, 210);
        return;
    }
    float iscale = -128.f / max_scale;
    put_half(y + 208, 1 / iscale);
    int8_t *sc = (int8_t *)(y + 192);
    for (int ib = 0; ib < QKK / 16; ++ib) sc[ib] = (int8_t)MIN(127, nearest_int(iscale * scales[ib]));
    if (fit) {
        /* codes against the stored fp16 scale, which for blocks below ~0.25 in magnitude is an
         * fp16 subnormal far from 1/iscale (or 0): the smallest subnormal rather than 0 */
        if (!get_half(y + 208)) put_half(y + 208, max_scale < 0 ? 0x1p-24f : -0x1p-24f);
        const float d16 = get_half(y + 208);
        for (int ib = 0; ib < QKK / 16; ++ib)
            sc[ib] = (int8_t)MAX(-128, MIN(127, nearest_int(scales[ib] / d16)));
    }
    for (int j = 0; j < QKK / 16; ++j) {
        float d = get_half(y + 208) * sc[j];
        if (!d) continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = nearest_int(x[16 * j + ii] / d);
            L[16 * j + ii] = (int8_t)(MAX(-32, MIN(31, l)) + 32);
        }
    }
    uint8_t *ql = y, *qh = y + 128;
    const uint8_t *U = (const uint8_t *)L;
    for (int j = 0; j < QKK; j += 128) {
        for (int l = 0; l < 32; ++l) {
            const uint8_t q1 = U[j + l + 0] & 0xF, q2 = U[j + l + 32] & 0xF;
            const uint8_t q3 = U[j + l + 64] & 0xF, q4 = U[j + l + 96] & 0xF;
            ql[l + 0] = (uint8_t)(q1 | (q3 << 4));
            ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
            qh[l] = (uint8_t)((U[j + l] >> 4) | ((U[j + l + 32] >> 4) << 2) |
                              ((U[j + l + 64] >> 4) << 4) | ((U[j + l + 96] >> 4) << 6));
        }
        ql += 64;
        qh += 32;
    }
}

void q4k_ref(const float *x, uint8_t *y) { k45_ref(x, y, 15); }
void q4k_imp(const float *x, uint8_t *y, const float *qw) { k45_imp(x, y, qw, 15, 1); }
void q4k_imp_ll(const float *x, uint8_t *y, const float *qw) { k45_imp(x, y, qw, 15, 0); }
void q5k_ref(const float *x, uint8_t *y) { k45_ref(x, y, 31); }
void q5k_imp(const float *x, uint8_t *y, const float *qw) { k45_imp(x, y, qw, 31, 1); }
void q5k_imp_ll(const float *x, uint8_t *y, const float *qw) { k45_imp(x, y, qw, 31, 0); }
void q4k_ref2(const float *x, uint8_t *y, size_t bb) { k45_ref2(x, y, bb, 15); }
void q4k_imp2(const float *x, uint8_t *y, size_t bb) { k45_imp2(x, y, bb, 15); }
void q5k_ref2(const float *x, uint8_t *y, size_t bb) { k45_ref2(x, y, bb, 31); }
void q5k_imp2(const float *x, uint8_t *y, size_t bb) { k45_imp2(x, y, bb, 31); }
/* the reference weighs by x^2; the candidate by qw, or uniformly without importance, and refits
 * the sub-block scales to the stored fp16 super-block scale */
void q6k_ref(const float *x, uint8_t *y) { q6k(x, y, NULL, 0, 0); }
void q6k_imp(const float *x, uint8_t *y, const float *qw) { q6k(x, y, qw, qw == NULL, 1); }
void q6k_imp_ll(const float *x, uint8_t *y, const float *qw) { q6k(x, y, qw, 0, 0); }
void q2k_imp(const float *x, uint8_t *y, const float *qw) { q2k_w(x, y, qw, 1); }
void q2k_imp_ll(const float *x, uint8_t *y, const float *qw) { q2k_w(x, y, qw, 0); }
void q3k_imp(const float *x, uint8_t *y, const float *qw) { q3k_w(x, y, qw, 1); }
void q3k_imp_ll(const float *x, uint8_t *y, const float *qw) { q3k_w(x, y, qw, 0); }
