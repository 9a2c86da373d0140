/* hfquant_awq: see hfquant_awq.h. Layout (docs/formats.md "AWQ"), read from AutoAWQ's
 * awq/modules/linear/gemv.py (WQLinear_GEMV.__init__ and from_linear, calculate_zeros_width):
 * a GEMV layer keeps the nn.Linear orientation, one row per output. Word c of row o holds inputs
 * 8c .. 8c+7 in nibbles 0 .. 7 (order_map is the identity here, unlike GEMM's 0, 2, 4, 6, 1, 3,
 * 5, 7); word k of the row's qzeros holds the zero points of groups 8k .. 8k+7 likewise, and the
 * row's scales are one per group; both are padded with zeros to the width AutoAWQ's kernel reads. */
#include "formats/hfquant_awq.h"

#include <string.h>

#include "formats/hfquant_codes.h"

int64_t hq_awq_zeros_width(int64_t in, int64_t gs) {
    int64_t mult = gs >= 128 ? 1 : gs == 64 ? 2 : gs == 32 ? 4 : 0;
    if (!mult) return 0;
    int64_t words = (in / gs + 7) / 8;
    return (words + mult - 1) / mult * mult;
}

int hq_tensor_init_awq_gemv(HqTensor *t, const HqConfig *c, const HqPart *qweight, const HqPart *qzeros,
                            const HqPart *scales, int64_t rows, int64_t cols, const char *where,
                            const char *name, Err *err) {
    memset(t, 0, sizeof *t);
    int64_t gs = c->group_size, zw = hq_awq_zeros_width(cols, gs);
    if (rows % 8 || cols % 8 || gs % 8 || cols % gs || !zw)
        return err_set(err, "%s: %s: AWQ gemv needs out and in features and the group size multiples of 8 and in features of the "
                       "group size %lld: [%lld, %lld] (out, in) does not fit", where, name, (long long)gs,
                       (long long)rows, (long long)cols);
    int64_t qw[2] = {rows, cols / 8}, qz[2] = {rows, zw}, sc[2] = {rows, zw * 8};
    int no_zeros = c->sym && !qzeros->data; /* zero_point false: qzeros optional */
    if (hq_check(qweight, "I32", qw, 2, where, name, "qweight", err) ||
        (!no_zeros && hq_check(qzeros, "I32", qz, 2, where, name, "qzeros", err)) ||
        hq_check(scales, "F16,BF16,F32", sc, 2, where, name, "scales", err))
        return -1;
    t->method = HQ_AWQ, t->awq_gemv = 1, t->bits = 4;
    t->rows = rows, t->cols = cols, t->group_size = gs, t->n_groups = cols / gs, t->zeros_width = zw;
    t->scale_type = hq_float_type(scales->dtype);
    t->qweight = qweight->data, t->qzeros = no_zeros ? NULL : qzeros->data, t->scales = scales->data;
    /* real storage: the padding columns of qzeros and scales included */
    t->bytes = qweight->nbytes + (no_zeros ? 0 : qzeros->nbytes) + scales->nbytes;
    return 0;
}

static uint32_t word_at(const uint8_t *base, size_t k) {
    uint32_t w;
    memcpy(&w, base + 4 * k, 4); /* safetensors data is not 4-byte aligned in general */
    return w;
}

/* Row o: y[i] = scale[g] * (code[i] - zero[g]), g = i / group_size; q - zero is a small integer,
 * so each product is exact in float32 (as in GEMM's path). */
static void gemv_row(const HqTensor *t, int64_t o, float *y) {
    const uint8_t *qrow = t->qweight + (size_t)o * (size_t)(t->cols / 8) * 4;
    const uint8_t *zrow = t->qzeros ? t->qzeros + (size_t)o * (size_t)t->zeros_width * 4 : NULL;
    size_t srow = (size_t)o * (size_t)t->zeros_width * 8;
    int64_t words_per_group = t->group_size / 8;
    for (int64_t g = 0; g < t->n_groups; g++) {
        float s = hq_float_at(t->scales, t->scale_type, srow + (size_t)g);
        float z = zrow ? (float)((word_at(zrow, (size_t)(g / 8)) >> (4 * (g % 8))) & 15) : (float)HQ_AWQ_SYM_ZERO;
        for (int64_t k = g * words_per_group; k < (g + 1) * words_per_group; k++) {
            uint32_t w = word_at(qrow, (size_t)k);
            float *yk = y + k * 8;
            for (int j = 0; j < 8; j++) yk[j] = s * ((float)((w >> (4 * j)) & 15) - z);
        }
    }
}

void hq_rows_awq_gemv(const HqTensor *t, int64_t r0, int n, float *out) {
    for (int r = 0; r < n; r++) gemv_row(t, r0 + r, out + (size_t)r * (size_t)t->cols);
}
