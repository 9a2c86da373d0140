/* hfquant_codes: see hfquant_codes.h and hfquant.h. AQLM (additive codebooks) and FP8
 * (float8_e4m3fn with scales): config fields, shape checks, rows. Formulas: docs/formats.md
 * "Hugging Face quantized checkpoints". Stored values are read with memcpy, little-endian. */
#include "formats/hfquant_codes.h"

#include <jansson.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "formats/qtype.h"

/* ---- quantization_config ---- */

static int get_int(const json_t *q, const char *key, int dflt, int *out) {
    json_t *v = json_object_get(q, key);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (1 << 20)) return -1;
    *out = (int)json_integer_value(v);
    return 0;
}

/* A list of strings (or absent / null): the exempt modules, read as the plain tensors they are. */
static int string_list(const json_t *q, const char *key) {
    json_t *v = json_object_get(q, key), *e;
    size_t i;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_array(v)) return -1;
    json_array_foreach(v, i, e) if (!json_is_string(e)) return -1;
    return 0;
}

int hq_parse_aqlm(const void *json, const char *where, HqConfig *c, Err *err) {
    const json_t *q = json;
    if (get_int(q, "num_codebooks", 1, &c->n_codebooks) || get_int(q, "nbits_per_codebook", 16, &c->codebook_bits) ||
        get_int(q, "in_group_size", 8, &c->in_group) || get_int(q, "out_group_size", 1, &c->out_group) ||
        string_list(q, "linear_weights_not_to_quantize"))
        return err_set(err, "%s: quantization_config (aqlm): num_codebooks, nbits_per_codebook, in_group_size, "
                       "out_group_size or linear_weights_not_to_quantize has the wrong type", where);
    int nc = c->n_codebooks, nb = c->codebook_bits;
    if (!((nc == 1 && (nb == 16 || nb == 8)) || (nc == 2 && nb == 8)))
        return err_set(err, "%s: quantization_config (aqlm): %dx%d codebooks are not supported (1x16, 2x8, 1x8 are)",
                       where, nc, nb);
    if (c->in_group != 8 || c->out_group != 1)
        return err_set(err, "%s: quantization_config (aqlm): in_group_size %d, out_group_size %d are not supported "
                       "(8 and 1 are)", where, c->in_group, c->out_group);
    c->bits = nb * nc / c->in_group; /* code bits per weight, before codebooks and scales */
    return 0;
}

int hq_parse_fp8(const void *json, const char *where, HqConfig *c, Err *err) {
    const json_t *q = json;
    json_t *f = json_object_get(q, "fmt");
    if (f && !json_is_null(f) && (!json_is_string(f) || strcasecmp(json_string_value(f), "e4m3") != 0))
        return err_set(err, "%s: quantization_config (fp8): fmt '%s' is not supported (e4m3 is)", where,
                       json_is_string(f) ? json_string_value(f) : "?");
    json_t *b = json_object_get(q, "weight_block_size");
    c->bits = 8;
    if (!b || json_is_null(b)) return 0;
    json_t *b0 = json_array_get(b, 0), *b1 = json_array_get(b, 1);
    if (!json_is_array(b) || json_array_size(b) != 2 || !json_is_integer(b0) || !json_is_integer(b1) ||
        json_integer_value(b0) < 1 || json_integer_value(b1) < 1 || json_integer_value(b0) > (1 << 20) ||
        json_integer_value(b1) > (1 << 20))
        return err_set(err, "%s: quantization_config (fp8): weight_block_size must be two positive integers", where);
    c->block[0] = (int)json_integer_value(b0), c->block[1] = (int)json_integer_value(b1);
    return 0;
}

/* compressed-tensors: config_groups' weights (all groups alike), the top-level format. */
int hq_parse_ct(const void *json, const char *where, HqConfig *c, Err *err) {
    const json_t *q = json;
    const char *fmt = json_string_value(json_object_get(q, "format"));
    json_t *groups = json_object_get(q, "config_groups"), *g, *w = NULL;
    const char *key;
    if (!json_is_object(groups) || json_object_size(groups) == 0)
        return err_set(err, "%s: quantization_config (compressed-tensors): no config_groups object", where);
    json_object_foreach(groups, key, g) {
        json_t *gw = json_object_get(g, "weights");
        if (!json_is_object(gw))
            return err_set(err, "%s: quantization_config (compressed-tensors): config group '%s' has no weights "
                           "scheme", where, key);
        if (w && !json_equal(w, gw))
            return err_set(err, "%s: quantization_config (compressed-tensors): config groups with different weight "
                           "schemes are not supported", where);
        w = gw;
        if (!fmt) fmt = json_string_value(json_object_get(g, "format"));
    }
    json_t *sp = json_object_get(q, "sparsity_config");
    const char *spf = sp && json_is_object(sp) ? json_string_value(json_object_get(sp, "format")) : NULL;
    if (spf && strcasecmp(spf, "dense") != 0)
        return err_set(err, "%s: quantization_config (compressed-tensors): sparsity format '%s' is not supported",
                       where, spf);
    if (string_list(q, "ignore"))
        return err_set(err, "%s: quantization_config (compressed-tensors): ignore is not a list of names", where);
    int bits = 0, gs = 0, sym = 1;
    json_t *js = json_object_get(w, "symmetric");
    const char *type = json_string_value(json_object_get(w, "type")),
               *strat = json_string_value(json_object_get(w, "strategy"));
    if (get_int(w, "num_bits", 0, &bits) || get_int(w, "group_size", 0, &gs) || (js && !json_is_null(js) && !json_is_boolean(js)) ||
        !type || !strat)
        return err_set(err, "%s: quantization_config (compressed-tensors): weights need num_bits, type, strategy "
                       "(and group_size, symmetric of the right types)", where);
    if (js && json_is_false(js)) sym = 0;
    c->strategy = !strcasecmp(strat, "group") ? 'g' : !strcasecmp(strat, "channel") ? 'c'
                  : !strcasecmp(strat, "tensor") ? 't' : !strcasecmp(strat, "block") ? 'b' : 0;
    if (!fmt) fmt = "?";
    if (!strcasecmp(fmt, "pack-quantized") && !strcasecmp(type, "int")) {
        if (bits != 4 && bits != 8)
            return err_set(err, "%s: quantization_config (compressed-tensors): int num_bits %d is not supported "
                           "(4, 8 are)", where, bits);
        if (c->strategy != 'g' && c->strategy != 'c')
            return err_set(err, "%s: quantization_config (compressed-tensors): int strategy '%s' is not supported "
                           "(group, channel are)", where, strat);
        if (c->strategy == 'g' && gs < 1)
            return err_set(err, "%s: quantization_config (compressed-tensors): strategy group needs a positive "
                           "group_size", where);
        c->method = HQ_CT_INT, c->bits = bits, c->sym = sym, c->group_size = c->strategy == 'g' ? gs : -1;
        return 0;
    }
    if (!strcasecmp(fmt, "float-quantized") && !strcasecmp(type, "float")) {
        if (bits != 8)
            return err_set(err, "%s: quantization_config (compressed-tensors): float num_bits %d is not supported "
                           "(8, float8_e4m3fn, is)", where, bits);
        if (c->strategy == 'b') {
            json_t *b = json_object_get(w, "block_structure"), *b0 = json_array_get(b, 0), *b1 = json_array_get(b, 1);
            if (json_array_size(b) != 2 || !json_is_integer(b0) || !json_is_integer(b1) || json_integer_value(b0) < 1 ||
                json_integer_value(b1) < 1 || json_integer_value(b0) > (1 << 20) || json_integer_value(b1) > (1 << 20))
                return err_set(err, "%s: quantization_config (compressed-tensors): block_structure must be two "
                               "positive integers", where);
            c->block[0] = (int)json_integer_value(b0), c->block[1] = (int)json_integer_value(b1);
        } else if (c->strategy != 't' && c->strategy != 'c') {
            return err_set(err, "%s: quantization_config (compressed-tensors): float strategy '%s' is not supported "
                           "(tensor, channel, block are)", where, strat);
        }
        c->method = HQ_CT_FP8, c->bits = 8;
        return 0;
    }
    return err_set(err, "%s: quantization_config (compressed-tensors): format '%s' with %s weights is not supported "
                   "(pack-quantized int, float-quantized float are)", where, fmt, type);
}

/* ---- shapes ---- */

uint32_t hq_float_type(const char *d) {
    return !strcmp(d, "F16") ? Q_F16 : !strcmp(d, "BF16") ? Q_BF16 : !strcmp(d, "F32") ? Q_F32 : 99;
}

/* "[a, b, ...]" of the first n dims into buf. */
static const char *dims(const int64_t *d, int n, char *buf, size_t size) {
    size_t k = 0;
    buf[k++] = '[';
    for (int i = 0; i < n && k + 24 < size; i++) k += (size_t)snprintf(buf + k, size - k, i ? ", %lld" : "%lld", (long long)d[i]);
    snprintf(buf + k, size - k, "]");
    return buf;
}

/* PART present with dtype in DTYPES (comma-separated) and shape WANT[0..nd-1]. */
int hq_check(const HqPart *p, const char *dtypes, const int64_t *want, int nd, const char *where,
             const char *name, const char *part, Err *err) {
    char b1[128];
    if (!p->data) return err_set(err, "%s: missing tensor %s.%s", where, name, part);
    size_t n = strlen(p->dtype);
    const char *s = strstr(dtypes, p->dtype);
    if (!n || !s || (s != dtypes && s[-1] != ',') || (s[n] && s[n] != ','))
        return err_set(err, "%s: tensor %s.%s has dtype %s, expected %s", where, name, part, p->dtype, dtypes);
    int same = p->n_dims == nd;
    for (int d = 0; same && d < nd; d++) same = p->shape[d] == want[d];
    if (!same) return err_set(err, "%s: tensor %s.%s has the wrong shape (expected %s)", where, name, part,
                              dims(want, nd, b1, sizeof b1));
    return 0;
}

int hq_tensor_init_aqlm(HqTensor *t, const HqConfig *c, const HqPart *codes, const HqPart *codebooks,
                        const HqPart *scales, int64_t rows, int64_t cols, const char *where, const char *name,
                        Err *err) {
    memset(t, 0, sizeof *t);
    if (cols % c->in_group)
        return err_set(err, "%s: %s: AQLM groups %d inputs: [%lld, %lld] (out, in) does not fit", where, name,
                       c->in_group, (long long)rows, (long long)cols);
    int64_t cw[3] = {rows, cols / c->in_group, c->n_codebooks},
            bw[4] = {c->n_codebooks, (int64_t)1 << c->codebook_bits, c->out_group, c->in_group},
            sw[4] = {rows, 1, 1, 1};
    if (hq_check(codes, c->codebook_bits == 16 ? "I16,U16" : "I8,U8", cw, 3, where, name, "codes", err) ||
        hq_check(codebooks, "F16,BF16,F32", bw, 4, where, name, "codebooks", err) ||
        hq_check(scales, "F16,BF16,F32", sw, 4, where, name, "scales", err))
        return -1;
    t->method = HQ_AQLM;
    t->rows = rows, t->cols = cols;
    t->bits = c->bits;
    t->n_codebooks = c->n_codebooks, t->codebook_bits = c->codebook_bits, t->code_bytes = c->codebook_bits / 8;
    t->group_size = c->in_group, t->n_groups = cols / c->in_group;
    t->codebook_type = hq_float_type(codebooks->dtype), t->scale_type = hq_float_type(scales->dtype);
    t->qweight = codes->data, t->qzeros = codebooks->data, t->scales = scales->data;
    t->bytes = codes->nbytes + codebooks->nbytes + scales->nbytes;
    return 0;
}

int hq_tensor_init_fp8(HqTensor *t, const HqConfig *c, const HqPart *weight, const HqPart *scale, int64_t rows,
                       int64_t cols, const char *where, const char *name, Err *err) {
    memset(t, 0, sizeof *t);
    int64_t ww[2] = {rows, cols};
    if (hq_check(weight, "F8_E4M3", ww, 2, where, name, "weight", err)) return -1;
    const char *sname = c->method == HQ_CT_FP8 ? "weight_scale" : "weight_scale_inv";
    if (!scale->data)
        return err_set(err, "%s: missing tensor %s.%s%s", where, name, sname,
                       c->method == HQ_CT_FP8 ? "" : " (or .weight_scale)");
    int64_t br, bc;
    const int64_t *s = scale->shape;
    int nd = scale->n_dims;
    if (c->block[0] > 0) {
        br = c->block[0], bc = c->block[1];
        int64_t sw[2] = {(rows + br - 1) / br, (cols + bc - 1) / bc};
        if (hq_check(scale, "F32,BF16,F16", sw, 2, where, name, sname, err)) return -1;
    } else if (nd == 0 || (nd == 1 && s[0] == 1) || (nd == 2 && s[0] == 1 && s[1] == 1)) {
        br = rows, bc = cols; /* per-tensor */
    } else if ((nd == 1 && s[0] == rows) || (nd == 2 && s[0] == rows && s[1] == 1)) {
        br = 1, bc = cols; /* per-channel */
    } else {
        return err_set(err, "%s: tensor %s.weight_scale has the wrong shape (expected [], [1], [%lld] or [%lld, 1]; "
                       "blocks need weight_block_size)", where, name, (long long)rows, (long long)rows);
    }
    t->scale_type = hq_float_type(scale->dtype);
    if (t->scale_type == 99)
        return err_set(err, "%s: tensor %s's scale has dtype %s, expected F32, BF16 or F16", where, name, scale->dtype);
    t->method = HQ_FP8;
    t->bits = 8;
    t->rows = rows, t->cols = cols, t->block_r = br, t->block_c = bc;
    t->n_groups = (cols + bc - 1) / bc, t->group_size = bc;
    t->qweight = weight->data, t->scales = scale->data;
    t->bytes = weight->nbytes + scale->nbytes;
    return 0;
}

static int64_t int_at(const HqPart *p, int i) {
    if (!strcmp(p->dtype, "I64")) {
        int64_t v;
        memcpy(&v, (const uint8_t *)p->data + 8 * i, 8);
        return v;
    }
    int32_t v;
    memcpy(&v, (const uint8_t *)p->data + 4 * i, 4);
    return v;
}

int hq_tensor_init_ct(HqTensor *t, const HqConfig *c, const HqPart *packed, const HqPart *scale,
                      const HqPart *zero, const HqPart *shape, int64_t rows, int64_t cols, const char *where,
                      const char *name, Err *err) {
    memset(t, 0, sizeof *t);
    int per = 32 / c->bits;
    int64_t gs = c->group_size < 0 ? cols : c->group_size, G = (cols + gs - 1) / gs;
    int64_t pw[2] = {rows, (cols + per - 1) / per}, sw[2] = {rows, G}, two[1] = {2};
    if (hq_check(packed, "I32", pw, 2, where, name, "weight_packed", err) ||
        hq_check(scale, "F16,BF16,F32", sw, 2, where, name, "weight_scale", err))
        return -1;
    if (shape->data) {
        if (hq_check(shape, "I32,I64", two, 1, where, name, "weight_shape", err)) return -1;
        if (int_at(shape, 0) != rows || int_at(shape, 1) != cols)
            return err_set(err, "%s: tensor %s.weight_shape is [%lld, %lld], expected [%lld, %lld]", where, name,
                           (long long)int_at(shape, 0), (long long)int_at(shape, 1), (long long)rows, (long long)cols);
    }
    if (!c->sym) { /* zero points packed along the outputs: [ceil(rows / per), G] */
        int64_t zw[2] = {(rows + per - 1) / per, G};
        if (hq_check(zero, "I32", zw, 2, where, name, "weight_zero_point", err)) return -1;
        t->qzeros = zero->data;
        t->bytes = zero->nbytes;
    }
    t->method = HQ_CT_INT;
    t->bits = c->bits;
    t->rows = rows, t->cols = cols, t->group_size = gs, t->n_groups = G;
    t->scale_type = hq_float_type(scale->dtype);
    t->qweight = packed->data, t->scales = scale->data;
    t->bytes += packed->nbytes + scale->nbytes + (shape->data ? shape->nbytes : 0);
    t->g_idx = shape->data; /* never read by the rows: kept so that bits per weight count it as storage */
    return 0;
}

/* ---- rows ---- */

float hq_e4m3_to_f32(uint8_t v) {
    int e = (v >> 3) & 15, m = v & 7;
    float x;
    if (e == 15 && m == 7) x = NAN;
    else if (e == 0) x = ldexpf((float)m, -9); /* subnormal: m/8 * 2^-6 */
    else x = ldexpf((float)(8 + m), e - 10);  /* (1 + m/8) * 2^(e-7) */
    return v & 0x80 ? -x : x;
}

float hq_float_at(const uint8_t *base, uint32_t type, size_t i) {
    if (type == Q_F32) {
        float f;
        memcpy(&f, base + 4 * i, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, base + 2 * i, 2);
    return type == Q_F16 ? fp16_to_f32(h) : bf16_to_f32(h);
}

/* w[o][8j + k] = scale[o] * sum_c codebooks[c][code(o, j, c)][0][k], the sum in f32 codebook by
 * codebook (aqlm's _dequantize_weight: an embedding_bag sum, then the scale). */
static void aqlm_row(const HqTensor *t, int64_t o, float *y) {
    int nc = t->n_codebooks, cb = t->code_bytes;
    size_t size = (size_t)1 << t->codebook_bits;
    float s = hq_float_at(t->scales, t->scale_type, (size_t)o);
    const uint8_t *codes = t->qweight + (size_t)o * (size_t)t->n_groups * (size_t)nc * (size_t)cb;
    for (int64_t j = 0; j < t->n_groups; j++) {
        float acc[8];
        for (int c = 0; c < nc; c++) {
            const uint8_t *p = codes + ((size_t)j * (size_t)nc + (size_t)c) * (size_t)cb;
            size_t code = cb == 2 ? (size_t)p[0] | (size_t)p[1] << 8 : p[0]; /* unsigned: unpack_int_data */
            size_t at = ((size_t)c * size + code) * 8;
            float v[8];
            if (t->codebook_type == Q_F16) {
                uint16_t h[8];
                memcpy(h, t->qzeros + at * 2, 16);
                for (int k = 0; k < 8; k++) v[k] = fp16_to_f32(h[k]);
            } else {
                for (int k = 0; k < 8; k++) v[k] = hq_float_at(t->qzeros, t->codebook_type, at + (size_t)k);
            }
            for (int k = 0; k < 8; k++) acc[k] = c ? acc[k] + v[k] : v[k]; /* the first vector as is */
        }
        for (int k = 0; k < 8; k++) y[j * 8 + k] = acc[k] * s;
    }
}

/* w[o][i] = e4m3(weight[o][i]) * scale[o / block_r][i / block_c]; LUT: the 256 e4m3 values */
static void fp8_row(const HqTensor *t, const float *lut, int64_t o, float *y) {
    const uint8_t *w = t->qweight + (size_t)o * (size_t)t->cols;
    size_t srow = (size_t)(o / t->block_r) * (size_t)t->n_groups;
    for (int64_t g = 0; g < t->n_groups; g++) {
        float s = hq_float_at(t->scales, t->scale_type, srow + (size_t)g);
        int64_t end = (g + 1) * t->block_c < t->cols ? (g + 1) * t->block_c : t->cols;
        for (int64_t i = g * t->block_c; i < end; i++) y[i] = lut[w[i]] * s;
    }
}

/* w[o][i] = (code - zero) * scale[o][i / group_size], the code of input i at bits (i % per) * bits
 * of word i / per of row o; zero = 2^(bits-1) (symmetric: the storage offset) or the group's
 * stored zero point, packed the same way along the outputs (compressed-tensors' unpack_from_int32,
 * both offsets cancelling, and dequantize: (x_q - zp) * scale). */
static void ct_row(const HqTensor *t, int64_t o, float *y) {
    int bits = t->bits, per = 32 / bits;
    uint32_t mask = (1u << bits) - 1;
    int64_t words = (t->cols + per - 1) / per;
    const uint8_t *row = t->qweight + (size_t)o * (size_t)words * 4;
    for (int64_t k = 0; k < words; k++) { /* the stored codes, word by word */
        uint32_t w;
        memcpy(&w, row + (size_t)k * 4, 4);
        int64_t i0 = k * per;
        int m = t->cols - i0 < per ? (int)(t->cols - i0) : per;
        for (int e = 0; e < m; e++) y[i0 + e] = (float)((w >> (e * bits)) & mask);
    }
    for (int64_t g = 0; g < t->n_groups; g++) {
        float s = hq_float_at(t->scales, t->scale_type, (size_t)(o * t->n_groups + g)), z = (float)(1 << (bits - 1));
        if (t->qzeros) {
            uint32_t w;
            memcpy(&w, t->qzeros + ((size_t)(o / per) * (size_t)t->n_groups + (size_t)g) * 4, 4);
            z = (float)((w >> ((o % per) * bits)) & mask);
        }
        int64_t end = (g + 1) * t->group_size < t->cols ? (g + 1) * t->group_size : t->cols;
        for (int64_t i = g * t->group_size; i < end; i++) y[i] = (y[i] - z) * s;
    }
}

void hq_rows_codes(const HqTensor *t, int64_t r0, int n, float *out) {
    float lut[256];
    if (t->method == HQ_FP8)
        for (int v = 0; v < 256; v++) lut[v] = hq_e4m3_to_f32((uint8_t)v);
    for (int r = 0; r < n; r++) {
        float *y = out + (size_t)r * (size_t)t->cols;
        if (t->method == HQ_AQLM) aqlm_row(t, r0 + r, y);
        else if (t->method == HQ_CT_INT) ct_row(t, r0 + r, y);
        else fp8_row(t, lut, r0 + r, y);
    }
}
