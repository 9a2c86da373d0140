/* loader: see loader.h. */
#include "model/loader.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "formats/qtype.h"

/* Finds a tensor by role. Returns 1 and fills *t (shape as [rows, cols], n_dims in *nd) when
 * present, 0 when absent, -1 on error. */
int ld_lookup(Loader *L, TensorRole role, int layer, Tensor *t, int *nd) {
    char name[256];
    memset(t, 0, sizeof *t);
    if (!tensor_name_in(role, L->g != NULL, layer, name, sizeof name)) return 0;
    if (L->g) {
        const GgufTensor *gt = gguf_find_tensor(L->g, name);
        if (!gt) return 0;
        /* MLA's attn_k_b / attn_v_b are [n_head] matrices, read as one of their rows stacked */
        const int heads3 = role == TN_ATTN_K_B || role == TN_ATTN_V_B;
        for (int d = 2 + heads3; d < GGUF_MAX_DIMS; d++)
            if (gt->ne[d] != 1)
                return err_set(L->err, "%s: tensor %s has %d dimensions, expected at most %d",
                               L->m->path, name, gt->n_dims, 2 + heads3);
        *t = (Tensor){.data = gt->data, .type = gt->type, .rows = gt->ne[1] * (heads3 ? gt->ne[2] : 1),
                      .cols = gt->ne[0], .name = gt->name};
        *nd = gt->n_dims;
    } else {
        const StTensor *s = st_find(L->st, name);
        if (!s) return 0;
        if (s->n_dims < 1 || s->n_dims > 2)
            return err_set(L->err, "%s: tensor %s has %d dimensions, expected 1 or 2", L->m->path,
                           name, s->n_dims);
        if (s->type == ST_UNSUPPORTED)
            return err_set(L->err, "%s: tensor %s has dtype %s (F32, F16 or BF16 expected)",
                           L->m->path, name, s->dtype);
        int64_t rows = s->n_dims == 2 ? s->shape[0] : 1, cols = s->shape[s->n_dims - 1];
        *t = (Tensor){.data = s->data, .type = s->type, .rows = rows, .cols = cols, .name = s->name};
        *nd = s->n_dims;
    }
    return 1;
}

const char *ld_packed_part(HqMethod m) {
    return m == HQ_AQLM ? "codes" : m == HQ_FP8 || m == HQ_CT_FP8 || m == HQ_BNB4 || m == HQ_BNB8 ? "weight"
           : m == HQ_CT_INT ? "weight_packed" : "qweight";
}

/* One stored part ("qweight", ...) of the packed layer PREFIX, or an absent part. */
static HqPart hq_part(Loader *L, const char *prefix, const char *part) {
    char name[300];
    snprintf(name, sizeof name, "%s.%s", prefix, part);
    const StTensor *s = st_find(L->st, name);
    HqPart p = {0};
    if (!s) return p;
    p = (HqPart){.data = s->data, .dtype = s->dtype, .n_dims = s->n_dims, .nbytes = s->nbytes};
    for (int d = 0; d < s->n_dims && d < 4; d++) p.shape[d] = s->shape[d]; /* more dims: refused by n_dims */
    return p;
}

/* The packed form of a layer's linear (PREFIX.qweight, .qzeros, .scales, .g_idx) under the
 * config's quantization_config: 1 when found (and *t filled), 0 when the checkpoint stores this
 * one plain (an exempt module), -1 on error. */
static int get_packed(Loader *L, TensorRole role, int layer, int64_t rows, int64_t cols, Tensor *t) {
    char name[256];
    if (L->hq.method == HQ_NONE || L->g || layer < 0 || role == TN_TOKEN_EMBD ||
        !tensor_name_in(role, 0, layer, name, sizeof name))
        return 0;
    size_t n = strlen(name);
    if (n > 7 && !strcmp(name + n - 7, ".weight")) name[n - 7] = '\0';
    const char *main_part = ld_packed_part(L->hq.method);
    HqPart qw = hq_part(L, name, main_part);
    int fp8 = L->hq.method == HQ_FP8 || L->hq.method == HQ_CT_FP8;
    const char *want = fp8 ? "F8_E4M3" : L->hq.method == HQ_BNB4 ? "U8" : L->hq.method == HQ_BNB8 ? "I8" : NULL;
    if (!qw.data || (want && strcmp(qw.dtype, want) != 0)) return 0; /* stored plain */
    memset(t, 0, sizeof *t);
    if (L->hq.method == HQ_AQLM) {
        HqPart cb = hq_part(L, name, "codebooks"), sc = hq_part(L, name, "scales");
        if (hq_tensor_init_aqlm(&t->hq, &L->hq, &qw, &cb, &sc, rows, cols, L->m->path, name, L->err)) return -1;
    } else if (L->hq.method == HQ_BNB4) {
        HqPart am = hq_part(L, name, "weight.absmax"), qm = hq_part(L, name, "weight.quant_map"),
               na = hq_part(L, name, "weight.nested_absmax"), nm = hq_part(L, name, "weight.nested_quant_map"),
               qs = hq_part(L, name, "weight.quant_state.bitsandbytes__nf4");
        if (!qs.data) qs = hq_part(L, name, "weight.quant_state.bitsandbytes__fp4");
        if (hq_tensor_init_bnb4(&t->hq, &L->hq, &qw, &am, &qm, &na, &nm, &qs, rows, cols, L->m->path, name, L->err))
            return -1;
    } else if (L->hq.method == HQ_BNB8) {
        HqPart scb = hq_part(L, name, "SCB"), fmt = hq_part(L, name, "weight_format");
        if (hq_tensor_init_bnb8(&t->hq, &L->hq, &qw, &scb, &fmt, rows, cols, L->m->path, name, L->err)) return -1;
    } else if (L->hq.method == HQ_CT_INT) {
        HqPart sc = hq_part(L, name, "weight_scale"), sh = hq_part(L, name, "weight_shape"),
               zp = hq_part(L, name, "weight_zero_point");
        if (hq_part(L, name, "weight_g_idx").data)
            return err_set(L->err, "%s: %s.weight_g_idx: compressed-tensors activation order is not supported",
                           L->m->path, name);
        if (hq_tensor_init_ct(&t->hq, &L->hq, &qw, &sc, &zp, &sh, rows, cols, L->m->path, name, L->err)) return -1;
    } else if (fp8) {
        HqPart sc = hq_part(L, name, L->hq.method == HQ_FP8 ? "weight_scale_inv" : "weight_scale");
        if (!sc.data && L->hq.method == HQ_FP8) sc = hq_part(L, name, "weight_scale");
        if (hq_tensor_init_fp8(&t->hq, &L->hq, &qw, &sc, rows, cols, L->m->path, name, L->err)) return -1;
    } else {
        HqPart qz = hq_part(L, name, "qzeros"), sc = hq_part(L, name, "scales"), gi = hq_part(L, name, "g_idx");
        if (hq_tensor_init(&t->hq, &L->hq, &qw, &qz, &sc, &gi, rows, cols, L->m->path, name, L->err)) return -1;
    }
    t->data = qw.data;
    t->type = Q_F32;
    t->rows = rows, t->cols = cols;
    char qn[300];
    snprintf(qn, sizeof qn, "%s.%s", name, main_part);
    t->name = st_find(L->st, qn)->name; /* the reader's copy outlives this buffer */
    L->n_packed++;
    return 1;
}

/* A matrix of exactly [rows, cols] whose type the forward pass can convert. */
int ld_matrix(Loader *L, TensorRole role, int layer, int64_t rows, int64_t cols, Tensor *t) {
    int packed = get_packed(L, role, layer, rows, cols, t);
    if (packed) return packed < 0 ? -1 : 0;
    int nd, r = ld_lookup(L, role, layer, t, &nd);
    if (r < 0) return -1;
    char name[256];
    tensor_name_in(role, L->g != NULL, layer, name, sizeof name);
    if (r == 0 && L->hq.method != HQ_NONE && layer >= 0 && role != TN_TOKEN_EMBD && !L->g) {
        size_t n = strlen(name);
        return err_set(L->err, "%s: missing tensor %s (nor its %s form %.*s.%s)", L->m->path, name,
                       hq_method_name(L->hq.method), (int)(n > 7 ? n - 7 : n), name, ld_packed_part(L->hq.method));
    }
    if (r == 0) return err_set(L->err, "%s: missing tensor %s", L->m->path, name);
    if (t->rows != rows || t->cols != cols)
        return err_set(L->err, "%s: tensor %s has shape [%lld, %lld], expected [%lld, %lld] (rows, cols)",
                       L->m->path, name, (long long)t->rows, (long long)t->cols, (long long)rows,
                       (long long)cols);
    if (!qtype_can_dequant(t->type)) {
        const char *tn = qtype_name(t->type);
        return err_set(L->err, "%s: tensor %s has type %s (ggml type %u), which coldtok cannot convert",
                       L->m->path, name, tn ? tn : "unknown", t->type);
    }
    if (qtype_row_bytes(t->type, cols) == 0)
        return err_set(L->err, "%s: tensor %s: %lld columns is not a multiple of the %s block size",
                       L->m->path, name, (long long)cols, qtype_name(t->type));
    return 0;
}

/* A vector of n values converted to f32 into the model's vector storage. *out stays NULL when the
 * tensor is absent and optional. */
int ld_vector(Loader *L, TensorRole role, int layer, int64_t n, int optional,
                      const float **out) {
    Tensor t;
    int nd, r = ld_lookup(L, role, layer, &t, &nd);
    *out = NULL;
    if (r < 0) return -1;
    char name[256];
    if (!tensor_name_in(role, L->g != NULL, layer, name, sizeof name))
        return 0; /* a role this format does not have */
    if (r == 0) return optional ? 0 : err_set(L->err, "%s: missing tensor %s", L->m->path, name);
    if (nd != 1 || t.cols != n)
        return err_set(L->err, "%s: tensor %s has %d dimensions / %lld values, expected a vector of %lld",
                       L->m->path, name, nd, (long long)(t.rows * t.cols), (long long)n);
    if (!qtype_can_dequant(t.type) || qtype_row_bytes(t.type, n) == 0)
        return err_set(L->err, "%s: tensor %s: type %s cannot hold a vector of %lld", L->m->path,
                       name, qtype_name(t.type) ? qtype_name(t.type) : "unknown", (long long)n);
    if (L->vec_used + (size_t)n > L->vec_cap)
        return err_set(L->err, "%s: internal: vector storage too small", L->m->path);
    float *dst = L->m->vectors + L->vec_used;
    if (qdequant_row(t.type, t.data, dst, n) != 0)
        return err_set(L->err, "%s: tensor %s: cannot convert", L->m->path, name);
    L->vec_used += (size_t)n;
    *out = dst;
    return 0;
}


/* ---- config.json fields ---- */

int ld_json_int(json_t *o, const char *key, int *out, int max, int required, const char *path, Err *err) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return required ? err_set(err, "%s: missing \"%s\"", path, key) : 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
        return err_set(err, "%s: \"%s\" is not a sensible integer", path, key);
    *out = (int)json_integer_value(v);
    return 1;
}

int ld_json_num(json_t *o, const char *key, double *out, const char *path, Err *err) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_number(v)) return err_set(err, "%s: \"%s\" is not a number", path, key);
    *out = json_number_value(v);
    return 0;
}

int ld_quantize_config(const char *cfg_path, HqConfig *hq, Err *err) {
    char path[4096];
    const char *slash = strrchr(cfg_path, '/');
    int dir = slash ? (int)(slash - cfg_path) : 0;
    snprintf(path, sizeof path, "%.*s%squantize_config.json", dir, cfg_path, slash ? "/" : "");
    if (!is_file(path)) return 0;
    json_error_t je;
    json_t *q = json_load_file(path, 0, &je);
    if (!q) return err_set(err, "%s: not valid JSON: %s", path, je.text);
    /* AutoGPTQ wrote no quant_method there: the file itself says GPTQ */
    if (json_is_object(q) && !json_object_get(q, "quant_method")) json_object_set_new(q, "quant_method", json_string("gptq"));
    int r = hq_config_parse(q, path, hq, err);
    json_decref(q);
    return r;
}
