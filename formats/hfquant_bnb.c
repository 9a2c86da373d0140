/* hfquant_bnb: bitsandbytes checkpoints (see hfquant.h, hfquant_codes.h): 4-bit nf4 / fp4 with
 * the quant state saved beside the weight (transformers' serialization of Params4bit), double
 * quantization of the absmax included, and LLM.int8 (weight + SCB). Formulas: docs/formats.md
 * "bitsandbytes". */
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "formats/hfquant_codes.h"
#include "formats/qtype.h"

static int opt_bool(const json_t *q, const char *key, int *out) {
    json_t *v = json_object_get(q, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_boolean(v)) return -1;
    *out = json_is_true(v);
    return 0;
}

int hq_parse_bnb(const void *json, const char *where, HqConfig *c, Err *err) {
    const json_t *q = json;
    int in4 = 0, in8 = 0;
    if (opt_bool(q, "load_in_4bit", &in4) || opt_bool(q, "load_in_8bit", &in8))
        return err_set(err, "%s: quantization_config (bitsandbytes): load_in_4bit / load_in_8bit is not a boolean",
                       where);
    if (in4 == in8)
        return err_set(err, "%s: quantization_config (bitsandbytes): exactly one of load_in_4bit and load_in_8bit "
                       "must be true", where);
    json_t *skip = json_object_get(q, "llm_int8_skip_modules"), *e;
    size_t i;
    if (skip && !json_is_null(skip)) {
        if (!json_is_array(skip))
            return err_set(err, "%s: quantization_config (bitsandbytes): llm_int8_skip_modules is not a list", where);
        json_array_foreach(skip, i, e) if (!json_is_string(e))
            return err_set(err, "%s: quantization_config (bitsandbytes): llm_int8_skip_modules is not a list of "
                           "names", where);
    }
    if (in4) {
        const char *qt = json_string_value(json_object_get(q, "bnb_4bit_quant_type"));
        if (qt && strcasecmp(qt, "nf4") && strcasecmp(qt, "fp4"))
            return err_set(err, "%s: quantization_config (bitsandbytes): bnb_4bit_quant_type '%s' is not supported "
                           "(nf4, fp4 are)", where, qt);
        c->method = HQ_BNB4, c->bits = 4;
    } else {
        c->method = HQ_BNB8, c->bits = 8;
    }
    return 0;
}

/* The quant_state JSON's integer KEY (> 0), or -1. */
static int64_t state_int(const json_t *s, const char *key) {
    json_t *v = json_object_get(s, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (int64_t)json_integer_value(v) : -1;
}

int hq_tensor_init_bnb4(HqTensor *t, const HqConfig *c, const HqPart *weight, const HqPart *absmax,
                        const HqPart *quant_map, const HqPart *nested_absmax, const HqPart *nested_map,
                        const HqPart *state, int64_t rows, int64_t cols, const char *where, const char *name,
                        Err *err) {
    (void)c;
    memset(t, 0, sizeof *t);
    int64_t n = rows * cols, packed[2] = {(n + 1) / 2, 1};
    if (!state->data)
        return err_set(err, "%s: %s.weight has no quant_state.bitsandbytes__nf4 (or __fp4) tensor: a 4-bit "
                       "bitsandbytes checkpoint saved without its quantization state cannot be read", where, name);
    if (strcmp(state->dtype, "U8") != 0)
        return err_set(err, "%s: tensor %s.weight.quant_state has dtype %s, expected U8", where, name, state->dtype);
    json_t *s = json_loadb((const char *)state->data, (size_t)state->nbytes, 0, NULL);
    int64_t bs = s ? state_int(s, "blocksize") : -1, nbs = s ? state_int(s, "nested_blocksize") : -1;
    json_t *shape = s ? json_object_get(s, "shape") : NULL;
    double off = 0;
    json_t *jo = s ? json_object_get(s, "nested_offset") : NULL;
    if (json_is_number(jo)) off = json_number_value(jo);
    int shape_ok = json_array_size(shape) == 2 && json_integer_value(json_array_get(shape, 0)) == rows &&
                   json_integer_value(json_array_get(shape, 1)) == cols;
    json_decref(s);
    if (!s || bs < 1 || bs > (1 << 24))
        return err_set(err, "%s: tensor %s.weight.quant_state: not JSON with a positive blocksize", where, name);
    if (!shape_ok)
        return err_set(err, "%s: tensor %s.weight.quant_state: shape is not [%lld, %lld]", where, name,
                       (long long)rows, (long long)cols);
    int64_t blocks = (n + bs - 1) / bs, b1[1] = {blocks}, m16[1] = {16}, m256[1] = {256};
    if (hq_check(weight, "U8", packed, 2, where, name, "weight", err) ||
        hq_check(quant_map, "F32", m16, 1, where, name, "weight.quant_map", err))
        return -1;
    int nested = nested_absmax->data != NULL;
    if (nested) {
        if (nbs < 1 || nbs > (1 << 24))
            return err_set(err, "%s: tensor %s.weight.quant_state: double quantization without a positive "
                           "nested_blocksize", where, name);
        int64_t nb[1] = {(blocks + nbs - 1) / nbs};
        if (hq_check(absmax, "U8", b1, 1, where, name, "weight.absmax", err) ||
            hq_check(nested_absmax, "F32", nb, 1, where, name, "weight.nested_absmax", err) ||
            hq_check(nested_map, "F32", m256, 1, where, name, "weight.nested_quant_map", err))
            return -1;
        t->nested_absmax = nested_absmax->data, t->nested_map = nested_map->data;
        t->nested_block = nbs, t->nested_offset = (float)off;
        t->bytes = nested_absmax->nbytes + nested_map->nbytes;
    } else if (hq_check(absmax, "F32", b1, 1, where, name, "weight.absmax", err)) {
        return -1;
    }
    t->method = HQ_BNB4;
    t->bits = 4;
    t->rows = rows, t->cols = cols, t->group_size = bs, t->n_groups = blocks;
    t->qweight = weight->data, t->qzeros = quant_map->data, t->scales = absmax->data;
    t->scale_type = Q_F32;
    t->g_idx = state->data; /* storage only, never read by the rows (counted in bits per weight) */
    t->bytes += weight->nbytes + absmax->nbytes + quant_map->nbytes + state->nbytes;
    return 0;
}

int hq_tensor_init_bnb8(HqTensor *t, const HqConfig *c, const HqPart *weight, const HqPart *scb,
                        const HqPart *format, int64_t rows, int64_t cols, const char *where, const char *name,
                        Err *err) {
    (void)c;
    memset(t, 0, sizeof *t);
    int64_t ww[2] = {rows, cols}, sw[1] = {rows};
    if (hq_check(weight, "I8", ww, 2, where, name, "weight", err) || hq_check(scb, "F32", sw, 1, where, name, "SCB", err))
        return -1;
    if (format->data) { /* 0: row-major; older releases saved GPU tile layouts (col_turing, col_ampere) */
        if (strcmp(format->dtype, "U8") != 0 || format->nbytes != 1)
            return err_set(err, "%s: tensor %s.weight_format is not one U8", where, name);
        uint8_t f = *(const uint8_t *)format->data;
        if (f != 0)
            return err_set(err, "%s: tensor %s.weight_format %u (a GPU tile layout) is not supported (0, row, is)",
                           where, name, (unsigned)f);
        t->qzeros = format->data; /* storage only (counted in bits per weight) */
    }
    t->method = HQ_BNB8;
    t->bits = 8;
    t->rows = rows, t->cols = cols, t->group_size = cols, t->n_groups = 1;
    t->qweight = weight->data, t->scales = scb->data, t->scale_type = Q_F32;
    t->bytes = weight->nbytes + scb->nbytes + (format->data ? format->nbytes : 0);
    return 0;
}

/* absmax of block b: stored (F32), or nested_map[u8] * nested_absmax[b / nested_block] + offset,
 * each step in f32 (bitsandbytes' dequantize_blockwise, then + offset) */
static float block_absmax(const HqTensor *t, int64_t b) {
    if (!t->nested_absmax) return hq_float_at(t->scales, Q_F32, (size_t)b);
    float v = hq_float_at(t->nested_map, Q_F32, t->scales[b]) *
              hq_float_at(t->nested_absmax, Q_F32, (size_t)(b / t->nested_block));
    return v + t->nested_offset;
}

void hq_rows_bnb(const HqTensor *t, int64_t r0, int n, float *out) {
    if (t->method == HQ_BNB8) { /* w = (q * SCB) * (1/127 as bitsandbytes writes it), in f32 */
        const float inv127 = 7.874015718698502e-3f;
        for (int r = 0; r < n; r++) {
            float s = hq_float_at(t->scales, Q_F32, (size_t)(r0 + r));
            const int8_t *q = (const int8_t *)t->qweight + (size_t)(r0 + r) * (size_t)t->cols;
            for (int64_t i = 0; i < t->cols; i++) out[(size_t)r * (size_t)t->cols + (size_t)i] = (float)q[i] * s * inv127;
        }
        return;
    }
    float map[16];
    for (int k = 0; k < 16; k++) map[k] = hq_float_at(t->qzeros, Q_F32, (size_t)k);
    const uint8_t *q = t->qweight;
    int64_t j0 = r0 * t->cols, j1 = (r0 + n) * t->cols, j = j0; /* j: index in the flattened matrix */
    while (j < j1) { /* block by block: its 16 values map[k] * absmax first (the same f32 products) */
        int64_t b = j / t->group_size, end = (b + 1) * t->group_size < j1 ? (b + 1) * t->group_size : j1;
        float a = block_absmax(t, b), m[16];
        for (int k = 0; k < 16; k++) m[k] = map[k] * a;
        if (j & 1) out[j - j0] = m[q[j / 2] & 15], j++;
        for (; j + 1 < end; j += 2) {
            uint8_t byte = q[j / 2];
            out[j - j0] = m[byte >> 4], out[j + 1 - j0] = m[byte & 15];
        }
        if (j < end) out[j - j0] = m[q[j / 2] >> 4], j++;
    }
}
