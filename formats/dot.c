/* dot: see dot.h. The portable kernel and the dispatch; the x86 kernels are in dot_x86.c. */
#include "formats/dot.h"

#include <string.h>

#include "formats/convert.h"
#include "formats/dot_x86.h"

/* One row at a time, one block at a time: the block dequantized by qdequant_row (the reference
 * itself), then its dot with each vector, a partial sum per block added to the row's sum. */
static void dot_portable(uint32_t type, const uint8_t *w, size_t rb, int64_t n_rows, int64_t K,
                         const float *x, int M, float *y, int64_t ldy) {
    int be = qtype_block_elems(type);
    size_t bb = qtype_block_bytes(type);
    if (type == Q_F32 || type == Q_F16 || type == Q_BF16) be = 32, bb = 32 * (type == Q_F32 ? 4 : 2);
    float buf[256];
    for (int64_t r = 0; r < n_rows; r++, w += rb) {
        for (int m = 0; m < M; m++) y[m * ldy + r] = 0;
        for (int64_t k0 = 0; k0 < K; k0 += be) {
            int n = K - k0 < be ? (int)(K - k0) : be; /* the float types' last piece */
            qdequant_row(type, w + (size_t)(k0 / be) * bb, buf, n);
            for (int m = 0; m < M; m++) {
                const float *xm = x + m * K + k0;
                float s = 0;
                for (int i = 0; i < n; i++) s += buf[i] * xm[i];
                y[m * ldy + r] += s;
            }
        }
    }
}

#define PORTABLE(name, type)                                                                     \
    static void name(const uint8_t *w, size_t rb, int64_t n_rows, int64_t K, const float *x, int M, \
                     float *y, int64_t ldy) {                                                    \
        dot_portable(type, w, rb, n_rows, K, x, M, y, ldy);                                      \
    }
PORTABLE(dot_f32_c, Q_F32)
PORTABLE(dot_f16_c, Q_F16)
PORTABLE(dot_bf16_c, Q_BF16)
PORTABLE(dot_q8_0_c, Q_Q8_0)
PORTABLE(dot_q4_0_c, Q_Q4_0)
PORTABLE(dot_q5_0_c, Q_Q5_0)
PORTABLE(dot_q4_1_c, Q_Q4_1)
PORTABLE(dot_q5_1_c, Q_Q5_1)
PORTABLE(dot_q4_k_c, Q_Q4_K)
PORTABLE(dot_q5_k_c, Q_Q5_K)
PORTABLE(dot_iq4_nl_c, Q_IQ4_NL)
PORTABLE(dot_iq4_xs_c, Q_IQ4_XS)
PORTABLE(dot_q6_k_c, Q_Q6_K)
/* the grid i-quants (their x86 kernels: formats/dot_grid.h) */
PORTABLE(dot_iq3_s_c, Q_IQ3_S)
PORTABLE(dot_iq2_xs_c, Q_IQ2_XS)
PORTABLE(dot_iq2_xxs_c, Q_IQ2_XXS)
PORTABLE(dot_iq2_s_c, Q_IQ2_S)
PORTABLE(dot_iq3_xxs_c, Q_IQ3_XXS)
PORTABLE(dot_iq1_s_c, Q_IQ1_S)
PORTABLE(dot_iq1_m_c, Q_IQ1_M)

int dot_init_level(Dot *d, int level) {
    memset(d, 0, sizeof *d);
    d->rows[Q_F32] = dot_f32_c;
    d->rows[Q_F16] = dot_f16_c;
    d->rows[Q_BF16] = dot_bf16_c;
    d->rows[Q_Q8_0] = dot_q8_0_c;
    d->rows[Q_Q4_0] = dot_q4_0_c;
    d->rows[Q_Q5_0] = dot_q5_0_c;
    d->rows[Q_Q4_1] = dot_q4_1_c;
    d->rows[Q_Q5_1] = dot_q5_1_c;
    d->rows[Q_Q4_K] = dot_q4_k_c;
    d->rows[Q_Q5_K] = dot_q5_k_c;
    d->rows[Q_IQ4_NL] = dot_iq4_nl_c;
    d->rows[Q_IQ4_XS] = dot_iq4_xs_c;
    d->rows[Q_Q6_K] = dot_q6_k_c;
    d->rows[Q_IQ3_S] = dot_iq3_s_c;
    d->rows[Q_IQ2_XS] = dot_iq2_xs_c;
    d->rows[Q_IQ2_XXS] = dot_iq2_xxs_c;
    d->rows[Q_IQ2_S] = dot_iq2_s_c;
    d->rows[Q_IQ3_XXS] = dot_iq3_xxs_c;
    d->rows[Q_IQ1_S] = dot_iq1_s_c;
    d->rows[Q_IQ1_M] = dot_iq1_m_c;
    d->level = dot_init_x86(d, level);
    return d->level;
}

void dot_init(Dot *d) { dot_init_level(d, CONVERT_AVX512); }

const char *dot_level_name(int level) {
    return level == CONVERT_AVX512 ? "avx512" : level == CONVERT_AVX2 ? "avx2" : "portable";
}

int dot_has(const Dot *d, uint32_t type) { return type < Q_COUNT_MAX && d->rows[type] != NULL; }

void dot_rows(const Dot *d, uint32_t type, const void *w, int64_t n_rows, int64_t K, const float *x, int M,
              float *y, int64_t ldy) {
    d->rows[type](w, qtype_row_bytes(type, K), n_rows, K, x, M, y, ldy);
}
