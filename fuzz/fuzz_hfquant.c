/* libFuzzer harness for formats/hfquant: a quantization_config and the packed tensors of one
 * linear must either be refused with one line or unpack every row without reading outside them.
 * Input: the config as JSON, a NUL byte, then a .safetensors file holding w.qweight, w.qzeros,
 * w.scales and optionally w.g_idx (GPTQ, AWQ), w.codes, w.codebooks, w.scales (AQLM) or w.weight
 * and w.weight_scale_inv / w.weight_scale (FP8, compressed-tensors float), w.weight_packed,
 * w.weight_scale, w.weight_shape (compressed-tensors int), w.weight and its bitsandbytes parts
 * (.absmax, .quant_map, .nested_*, .quant_state.*; w.SCB, w.weight_format); [rows, cols] are taken from qweight's (codes',
 * weight's) shape as the method packs it (so that shape checks pass often), capped to keep each run
 * small.
 * Seeds: fuzz/corpus/hfquant/ (layer 0's q_proj of each tests/data/hf-llama-* packed folder; awqgemv32,
 * awqgemv64, awqgemvsym, awqgemmsym: layer 0's k_proj of the tests/data/hfquant-awq-* folders, AWQ
 * GEMV's [out, in/8] qweight giving [rows, cols]). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/hfquant.h"
#include "formats/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static HqPart part(const SafeTensors *st, const char *name) {
    const StTensor *s = st_find(st, name);
    HqPart p = {0};
    if (!s) return p;
    p = (HqPart){.data = s->data, .dtype = s->dtype, .n_dims = s->n_dims, .nbytes = s->nbytes};
    for (int d = 0; d < s->n_dims && d < 4; d++) p.shape[d] = s->shape[d];
    return p;
}

static int one_line(const Err *err, const char *prefix) {
    return !strncmp(err->msg, prefix, strlen(prefix)) && !strchr(err->msg, '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul) return 0;
    json_t *cfg = json_loadb((const char *)data, (size_t)(nul - data), 0, NULL);
    if (!cfg) return 0;
    Err err;
    HqConfig c;
    if (hq_config_parse(cfg, "fuzz.json", &c, &err)) {
        if (!one_line(&err, "fuzz.json: ")) abort();
        json_decref(cfg);
        return 0;
    }
    json_decref(cfg);
    size_t n = size - (size_t)(nul + 1 - data);
    uint8_t *copy = malloc(n ? n : 1); /* exact size, so ASan flags any read past the end */
    if (!copy) return 0;
    memcpy(copy, nul + 1, n);
    SafeTensors *st = st_open_memory(copy, n, "fuzz.safetensors", &err);
    if (st) {
        int fp8 = c.method == HQ_FP8 || c.method == HQ_CT_FP8, bnb = c.method == HQ_BNB4 || c.method == HQ_BNB8;
        HqPart qw = part(st, c.method == HQ_AQLM ? "w.codes" : fp8 || bnb ? "w.weight"
                             : c.method == HQ_CT_INT ? "w.weight_packed" : "w.qweight"),
               qz = part(st, c.method == HQ_AQLM ? "w.codebooks" : c.method == HQ_CT_INT ? "w.weight_zero_point" : "w.qzeros"),
               sc = part(st, "w.scales"),
               gi = part(st, "w.g_idx");
        if (fp8 || c.method == HQ_CT_INT) {
            sc = part(st, c.method == HQ_FP8 ? "w.weight_scale_inv" : "w.weight_scale");
            if (!sc.data) sc = part(st, "w.weight_scale");
            gi = part(st, "w.weight_shape");
        }
        int64_t rows = 0, cols = 0;
        if (qw.data && qw.n_dims == 2 && (c.method == HQ_GPTQ || c.method == HQ_AWQ)) {
            rows = c.method == HQ_GPTQ ? qw.shape[1] : qw.shape[1] * 8;
            cols = c.method == HQ_GPTQ ? qw.shape[0] * 32 / c.bits : qw.shape[0];
            if (c.method == HQ_AWQ && c.awq_gemv) rows = qw.shape[0], cols = qw.shape[1] * 8; /* [out, in/8] */
        } else if (c.method == HQ_BNB4) { /* the shape the quant state says (checked against it anyway) */
            gi = part(st, "w.weight.quant_state.bitsandbytes__nf4");
            if (!gi.data) gi = part(st, "w.weight.quant_state.bitsandbytes__fp4");
            json_t *js = gi.data ? json_loadb(gi.data, (size_t)gi.nbytes, 0, NULL) : NULL;
            json_t *sh = json_object_get(js, "shape");
            rows = json_integer_value(json_array_get(sh, 0)), cols = json_integer_value(json_array_get(sh, 1));
            json_decref(js);
        } else if (qw.data && qw.n_dims >= 2) {
            rows = qw.shape[0];
            cols = c.method == HQ_AQLM ? qw.shape[1] * 8 : c.method == HQ_CT_INT ? qw.shape[1] * (32 / c.bits) : qw.shape[1];
        }
        HqTensor t;
        if (rows > 0 && cols > 0 && rows <= (1 << 20) && cols <= (1 << 20) && rows * cols <= (1 << 20)) {
            HqPart am = part(st, "w.weight.absmax"), qm = part(st, "w.weight.quant_map"),
                   na = part(st, "w.weight.nested_absmax"), nm = part(st, "w.weight.nested_quant_map"),
                   scb = part(st, "w.SCB"), fmt = part(st, "w.weight_format");
            int bad = c.method == HQ_BNB4 ? hq_tensor_init_bnb4(&t, &c, &qw, &am, &qm, &na, &nm, &gi, rows, cols, "fuzz.safetensors", "w", &err)
                      : c.method == HQ_BNB8 ? hq_tensor_init_bnb8(&t, &c, &qw, &scb, &fmt, rows, cols, "fuzz.safetensors", "w", &err)
                      : c.method == HQ_AQLM ? hq_tensor_init_aqlm(&t, &c, &qw, &qz, &sc, rows, cols, "fuzz.safetensors", "w", &err)
                      : fp8 ? hq_tensor_init_fp8(&t, &c, &qw, &sc, rows, cols, "fuzz.safetensors", "w", &err)
                      : c.method == HQ_CT_INT ? hq_tensor_init_ct(&t, &c, &qw, &sc, &qz, &gi, rows, cols, "fuzz.safetensors", "w", &err)
                      : hq_tensor_init(&t, &c, &qw, &qz, &sc, &gi, rows, cols, "fuzz.safetensors", "w", &err);
            if (bad) {
                if (!one_line(&err, "fuzz.safetensors: ")) abort();
            } else {
                float *out = malloc((size_t)cols * 16 * sizeof(float));
                for (int64_t r = 0; r < rows; r += 16) hq_rows_f32(&t, r, rows - r < 16 ? (int)(rows - r) : 16, out);
                free(out);
            }
        }
        st_close(st);
    }
    free(copy);
    return 0;
}
