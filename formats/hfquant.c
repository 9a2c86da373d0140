/* hfquant: see hfquant.h. The config parser first, then the shape checks, then the unpacking.
 * Packed words are read with memcpy (safetensors data is not 4-byte aligned in general) and as
 * little-endian, like the rest of coldtok's readers. */
#include "formats/hfquant.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "formats/hfquant_awq.h"
#include "formats/hfquant_codes.h"
#include "formats/qtype.h"

#define SUPPORTED "gptq, awq, aqlm, fp8, compressed-tensors, bitsandbytes"

const char *hq_method_name(HqMethod m) {
    return m == HQ_GPTQ ? "gptq" : m == HQ_AWQ ? "awq" : m == HQ_AQLM ? "aqlm" : m == HQ_FP8 ? "fp8"
           : m == HQ_CT_INT || m == HQ_CT_FP8 ? "compressed-tensors"
           : m == HQ_BNB4 || m == HQ_BNB8 ? "bitsandbytes" : "none";
}

/* ---- quantization_config ---- */

/* An optional integer field (first of two spellings) into *out; -1 on a non-integer. */
static int opt_int(const json_t *q, const char *key, const char *alt, int *out) {
    json_t *v = json_object_get(q, key);
    if ((!v || json_is_null(v)) && alt) v = json_object_get(q, alt);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < -1 || json_integer_value(v) > (1 << 20)) return -1;
    *out = (int)json_integer_value(v);
    return 0;
}

static int opt_bool(const json_t *q, const char *key, int *out) {
    json_t *v = json_object_get(q, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_boolean(v)) return -1;
    *out = json_is_true(v);
    return 0;
}

static int parse_gptq(const json_t *q, const char *where, HqConfig *c, Err *err) {
    c->bits = 0, c->group_size = 0, c->sym = 1, c->zero_plus_one = 1;
    if (opt_int(q, "bits", NULL, &c->bits) || opt_int(q, "group_size", NULL, &c->group_size) ||
        opt_bool(q, "desc_act", &c->desc_act) || opt_bool(q, "sym", &c->sym))
        return err_set(err, "%s: quantization_config (gptq): bits, group_size, desc_act or sym has the "
                       "wrong type", where);
    if (c->bits != 2 && c->bits != 3 && c->bits != 4 && c->bits != 8)
        return err_set(err, "%s: quantization_config (gptq): bits %d is not supported (2, 3, 4, 8 are)",
                       where, c->bits);
    if (c->group_size == 0 || c->group_size < -1)
        return err_set(err, "%s: quantization_config (gptq): group_size %d (a positive size or -1 expected)",
                       where, c->group_size);
    int marlin = 0;
    if (opt_bool(q, "is_marlin_format", &marlin) == 0 && marlin)
        return err_set(err, "%s: quantization_config (gptq): the marlin layout is not supported "
                       "(checkpoint_format gptq and gptq_v2 are)", where);
    json_t *f = json_object_get(q, "checkpoint_format");
    if (!f || json_is_null(f)) f = json_object_get(q, "format");
    if (f && !json_is_null(f)) {
        const char *fmt = json_string_value(f);
        if (fmt && !strcasecmp(fmt, "gptq_v2")) c->zero_plus_one = 0;
        else if (!fmt || strcasecmp(fmt, "gptq") != 0)
            return err_set(err, "%s: quantization_config (gptq): checkpoint_format '%s' is not supported "
                           "(gptq and gptq_v2 are)", where, fmt ? fmt : "?");
    }
    return 0;
}

static int parse_awq(const json_t *q, const char *where, HqConfig *c, Err *err) {
    int zero_point = 1;
    c->bits = 0, c->group_size = 0;
    if (opt_int(q, "bits", "w_bit", &c->bits) || opt_int(q, "group_size", "q_group_size", &c->group_size) ||
        opt_bool(q, "zero_point", &zero_point))
        return err_set(err, "%s: quantization_config (awq): bits, group_size or zero_point has the wrong type",
                       where);
    if (c->bits != 4)
        return err_set(err, "%s: quantization_config (awq): bits %d is not supported (4 is)", where, c->bits);
    if (c->group_size < 1)
        return err_set(err, "%s: quantization_config (awq): group_size %d (a positive size expected)", where,
                       c->group_size);
    json_t *v = json_object_get(q, "version");
    const char *ver = v && !json_is_null(v) ? json_string_value(v) : "gemm";
    if (ver && !strcasecmp(ver, "gemv")) c->awq_gemv = 1;
    else if (!ver || strcasecmp(ver, "gemm") != 0)
        return err_set(err, "%s: quantization_config (awq): version '%s' is not supported (gemm and gemv are)",
                       where, ver ? ver : "?");
    /* AutoAWQ's calculate_zeros_width knows these group sizes only (NotImplementedError otherwise) */
    if (c->awq_gemv && c->group_size != 32 && c->group_size != 64 && c->group_size < 128)
        return err_set(err, "%s: quantization_config (awq): version gemv with group_size %d is not supported "
                       "(32, 64 and 128 or more are)", where, c->group_size);
    /* zero_point false: AutoAWQ quantizes symmetrically (codes -8..7, no zero points) */
    c->sym = !zero_point, c->zero_plus_one = 0;
    return 0;
}

int hq_config_parse(const void *json, const char *where, HqConfig *c, Err *err) {
    const json_t *q = json;
    memset(c, 0, sizeof *c);
    if (!json_is_object(q)) return err_set(err, "%s: quantization_config is not an object", where);
    const char *m = json_string_value(json_object_get(q, "quant_method"));
    if (!m) return err_set(err, "%s: quantization_config has no quant_method (coldtok reads " SUPPORTED ")", where);
    if (!strcasecmp(m, "gptq")) c->method = HQ_GPTQ;
    else if (!strcasecmp(m, "awq")) c->method = HQ_AWQ;
    else if (!strcasecmp(m, "aqlm")) c->method = HQ_AQLM;
    else if (!strcasecmp(m, "fp8")) c->method = HQ_FP8;
    else if (!strcasecmp(m, "compressed-tensors")) return hq_parse_ct(q, where, c, err);
    else if (!strcasecmp(m, "bitsandbytes")) return hq_parse_bnb(q, where, c, err);
    else return err_set(err, "%s: quant_method '%s' is not supported (coldtok reads " SUPPORTED ")", where, m);
    if (c->method == HQ_AQLM) return hq_parse_aqlm(q, where, c, err);
    if (c->method == HQ_FP8) return hq_parse_fp8(q, where, c, err);
    return c->method == HQ_GPTQ ? parse_gptq(q, where, c, err) : parse_awq(q, where, c, err);
}

/* ---- shapes ---- */

static int check_part(const HqPart *p, const char *want_dtype, int64_t d0, int64_t d1, const char *where,
                      const char *name, const char *part, Err *err) {
    if (!p->data) return err_set(err, "%s: missing tensor %s.%s", where, name, part);
    int nd = d1 < 0 ? 1 : 2;
    if (want_dtype && strcmp(p->dtype, want_dtype) != 0)
        return err_set(err, "%s: tensor %s.%s has dtype %s, expected %s", where, name, part, p->dtype, want_dtype);
    if (p->n_dims != nd || p->shape[0] != d0 || (nd == 2 && p->shape[1] != d1)) {
        if (nd == 1)
            return err_set(err, "%s: tensor %s.%s has the wrong shape (expected [%lld])", where, name, part,
                           (long long)d0);
        return err_set(err, "%s: tensor %s.%s has the wrong shape (expected [%lld, %lld])", where, name, part,
                       (long long)d0, (long long)d1);
    }
    return 0;
}

static uint32_t rd32(const uint8_t *p) {
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

int hq_tensor_init(HqTensor *t, const HqConfig *c, const HqPart *qweight, const HqPart *qzeros,
                   const HqPart *scales, const HqPart *g_idx, int64_t rows, int64_t cols,
                   const char *where, const char *name, Err *err) {
    if (c->method == HQ_AWQ && c->awq_gemv)
        return hq_tensor_init_awq_gemv(t, c, qweight, qzeros, scales, rows, cols, where, name, err);
    memset(t, 0, sizeof *t);
    int bits = c->bits;
    int64_t gs = c->group_size < 0 ? cols : c->group_size;
    int64_t G = (cols + gs - 1) / gs;
    if (c->method == HQ_GPTQ && (cols % 32 || rows * bits % 32))
        return err_set(err, "%s: %s: GPTQ packs 32 inputs per %d words: [%lld, %lld] (out, in) does not fit",
                       where, name, bits, (long long)rows, (long long)cols);
    if (c->method == HQ_AWQ && (rows % 8 || cols % gs))
        return err_set(err, "%s: %s: AWQ needs out features a multiple of 8 and in features of the group size "
                       "%lld: [%lld, %lld] (out, in) does not fit", where, name, (long long)gs, (long long)rows,
                       (long long)cols);
    if (c->method == HQ_GPTQ) {
        if (check_part(qweight, "I32", cols / 32 * bits, rows, where, name, "qweight", err)) return -1;
    } else if (check_part(qweight, "I32", cols, rows / 8, where, name, "qweight", err)) {
        return -1;
    }
    /* AWQ zero_point false: the qzeros are optional (absent: symmetric, every zero point 8) */
    int no_zeros = c->method == HQ_AWQ && c->sym && !qzeros->data;
    if ((!no_zeros && check_part(qzeros, "I32", G, rows * bits / 32, where, name, "qzeros", err)) ||
        check_part(scales, NULL, G, rows, where, name, "scales", err))
        return -1;
    const char *sd = scales->dtype;
    t->scale_type = !strcmp(sd, "F16") ? Q_F16 : !strcmp(sd, "BF16") ? Q_BF16 : !strcmp(sd, "F32") ? Q_F32 : 99;
    if (t->scale_type == 99)
        return err_set(err, "%s: tensor %s.scales has dtype %s, expected F16, BF16 or F32", where, name, sd);
    t->bytes = qweight->nbytes + qzeros->nbytes + scales->nbytes;
    if (c->method == HQ_GPTQ && (g_idx->data || c->desc_act)) {
        if (check_part(g_idx, "I32", cols, -1, where, name, "g_idx", err)) return -1;
        t->bytes += g_idx->nbytes;
        int plain = 1;
        for (int64_t i = 0; i < cols; i++) {
            int32_t g = (int32_t)rd32((const uint8_t *)g_idx->data + 4 * i);
            if (g < 0 || g >= G)
                return err_set(err, "%s: tensor %s.g_idx: input %lld is in group %d, outside 0..%lld", where, name,
                               (long long)i, g, (long long)G - 1);
            plain &= g == i / gs;
        }
        /* a trivial g_idx (AutoGPTQ stores one even without desc_act) is not worth a lookup per value */
        if (!plain) t->g_idx = g_idx->data;
    }
    t->method = c->method;
    t->bits = bits;
    t->zero_plus_one = c->method == HQ_GPTQ && c->zero_plus_one;
    t->rows = rows, t->cols = cols, t->group_size = gs, t->n_groups = G;
    t->qweight = qweight->data, t->qzeros = no_zeros ? NULL : qzeros->data, t->scales = scales->data;
    return 0;
}

/* ---- unpacking ---- */

/* Value number j (bits wide) of the little-endian bit stream whose 32-bit word k is at
 * base + k * stride: GPTQ's packing for every width (3-bit values straddle words). */
static uint32_t stream_get(const uint8_t *base, size_t stride, int64_t j, int bits) {
    uint64_t b = (uint64_t)j * (uint64_t)bits;
    size_t k = (size_t)(b >> 5);
    unsigned sh = (unsigned)(b & 31);
    uint32_t v = rd32(base + k * stride) >> sh;
    if (sh + (unsigned)bits > 32) v |= rd32(base + (k + 1) * stride) << (32 - sh);
    return v & ((1u << bits) - 1);
}

static float scale_at(const HqTensor *t, int64_t g, int64_t o) {
    const uint8_t *p = t->scales + (size_t)(g * t->rows + o) * (t->scale_type == Q_F32 ? 4 : 2);
    if (t->scale_type == Q_F32) {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, p, 2);
    return t->scale_type == Q_F16 ? fp16_to_f32(h) : bf16_to_f32(h);
}

/* AutoAWQ packs outputs 8c .. 8c+7 into word c in the order 0, 2, 4, 6, 1, 3, 5, 7: output 8c + j
 * sits in nibble AWQ_NIBBLE[j]. */
static const int AWQ_NIBBLE[8] = {0, 4, 1, 5, 2, 6, 3, 7};

static float zero_at(const HqTensor *t, int64_t g, int64_t o) {
    if (t->method == HQ_AWQ && !t->qzeros) return (float)HQ_AWQ_SYM_ZERO;
    if (t->method == HQ_AWQ) {
        uint32_t w = rd32(t->qzeros + (size_t)(g * (t->rows / 8) + o / 8) * 4);
        return (float)((w >> (4 * AWQ_NIBBLE[o % 8])) & 15);
    }
    const uint8_t *row = t->qzeros + (size_t)(g * (t->rows * t->bits / 32)) * 4;
    return (float)(stream_get(row, 4, o, t->bits) + (uint32_t)t->zero_plus_one);
}

/* Output rows are unpacked RC at a time: GPTQ stores the words of adjacent outputs side by side
 * (one 64-byte line holds the same input block of 16 outputs), so reading a row alone would
 * stride through qweight (rows * 4 bytes apart, a distance that maps onto few cache sets) and
 * reread every line for every row. Measured (CPU time, [4864, 896] 4-bit, group 128, on this shared
 * 2-core machine): 1.9-2.4 ns per weight row by row, 1.2-1.3 ns by chunks with the word unrolled. */
#define RC 16
#define TABLE 4096 /* groups whose scale and zero one row keeps on the stack (g_idx path) */

/* y[e] = s * (code e of w - z) for the 32 / bits codes of one word */
static inline void decode_word(float *y, uint32_t w, int bits, float s, float z) {
    for (int e = 0; e < 32 / bits; e++) y[e] = s * ((float)((w >> (e * bits)) & ((1u << bits) - 1)) - z);
}

/* GPTQ, bits 2 / 4 / 8, no g_idx, groups whole words: codes, scale and zero in one pass. */
static void gptq_chunk_fused(const HqTensor *t, int64_t o0, int nr, float *out) {
    int bits = t->bits, per = 32 / bits;
    float s[RC], z[RC];
    int64_t gcur = -1, cols = t->cols;
    for (int64_t k = 0; k < cols / per; k++) {
        int64_t i0 = k * per, g = i0 / t->group_size;
        if (g != gcur) {
            for (int r = 0; r < nr; r++) s[r] = scale_at(t, g, o0 + r), z[r] = zero_at(t, g, o0 + r);
            gcur = g;
        }
        const uint8_t *src = t->qweight + (size_t)(k * t->rows + o0) * 4;
        for (int r = 0; r < nr; r++) {
            uint32_t w = rd32(src + 4 * r);
            float *y = out + (size_t)r * cols + i0, sr = s[r], zr = z[r];
            /* constant widths, so that the compiler unrolls the word */
            if (bits == 4) decode_word(y, w, 4, sr, zr);
            else if (bits == 8) decode_word(y, w, 8, sr, zr);
            else decode_word(y, w, 2, sr, zr);
        }
    }
}

/* The stored integers of output rows o0 .. o0+nr-1 into out [nr, cols] (as floats), input-major
 * so that adjacent outputs' words are read together. */
static void unpack_chunk(const HqTensor *t, int64_t o0, int nr, float *out) {
    int64_t cols = t->cols;
    if (t->method == HQ_AWQ) {
        size_t stride = (size_t)(t->rows / 8) * 4;
        for (int64_t i = 0; i < cols; i++) {
            const uint8_t *p = t->qweight + (size_t)i * stride;
            for (int r = 0; r < nr; r++) {
                int64_t o = o0 + r;
                out[(size_t)r * cols + i] = (float)((rd32(p + (size_t)(o / 8) * 4) >> (4 * AWQ_NIBBLE[o % 8])) & 15);
            }
        }
        return;
    }
    int bits = t->bits;
    size_t stride = (size_t)t->rows * 4;
    if (bits == 3) {
        for (int64_t i = 0; i < cols; i++)
            for (int r = 0; r < nr; r++)
                out[(size_t)r * cols + i] = (float)stream_get(t->qweight + (size_t)(o0 + r) * 4, stride, i, 3);
        return;
    }
    int per = 32 / bits;
    uint32_t mask = (1u << bits) - 1;
    for (int64_t k = 0; k < cols / per; k++) {
        const uint8_t *src = t->qweight + (size_t)k * stride + (size_t)o0 * 4;
        for (int r = 0; r < nr; r++) {
            uint32_t w = rd32(src + 4 * r);
            float *y = out + (size_t)r * cols + k * per;
            for (int e = 0; e < per; e++) y[e] = (float)((w >> (e * bits)) & mask);
        }
    }
}

/* y [cols] = scale * (y - zero) for output o, by group (or by g_idx). */
static void apply_groups(const HqTensor *t, int64_t o, float *y) {
    if (!t->g_idx) {
        for (int64_t g = 0; g < t->n_groups; g++) {
            float s = scale_at(t, g, o), z = zero_at(t, g, o);
            int64_t end = (g + 1) * t->group_size < t->cols ? (g + 1) * t->group_size : t->cols;
            for (int64_t i = g * t->group_size; i < end; i++) y[i] = s * (y[i] - z);
        }
        return;
    }
    if (t->n_groups <= TABLE) {
        float s[TABLE], z[TABLE];
        for (int64_t g = 0; g < t->n_groups; g++) s[g] = scale_at(t, g, o), z[g] = zero_at(t, g, o);
        for (int64_t i = 0; i < t->cols; i++) {
            int32_t g = (int32_t)rd32(t->g_idx + 4 * i);
            y[i] = s[g] * (y[i] - z[g]);
        }
        return;
    }
    for (int64_t i = 0; i < t->cols; i++) {
        int64_t g = (int32_t)rd32(t->g_idx + 4 * i);
        y[i] = scale_at(t, g, o) * (y[i] - zero_at(t, g, o));
    }
}

void hq_rows_f32(const HqTensor *t, int64_t r0, int n, float *out) {
    if (t->method == HQ_BNB4 || t->method == HQ_BNB8) {
        hq_rows_bnb(t, r0, n, out);
        return;
    }
    if (t->method == HQ_AQLM || t->method == HQ_FP8 || t->method == HQ_CT_INT) {
        hq_rows_codes(t, r0, n, out);
        return;
    }
    if (t->method == HQ_AWQ && t->awq_gemv) {
        hq_rows_awq_gemv(t, r0, n, out);
        return;
    }
    /* w = scale * (q - zero); q - zero is a small integer, the product exact in f32 */
    int fused = t->method == HQ_GPTQ && t->bits != 3 && !t->g_idx && t->group_size % (32 / t->bits) == 0;
    for (int rc = 0; rc < n; rc += RC) {
        int nr = n - rc < RC ? n - rc : RC;
        float *y = out + (size_t)rc * t->cols;
        if (fused) {
            gptq_chunk_fused(t, r0 + rc, nr, y);
            continue;
        }
        unpack_chunk(t, r0 + rc, nr, y);
        for (int r = 0; r < nr; r++) apply_groups(t, r0 + rc + r, y + (size_t)r * t->cols);
    }
}
