/* qmodel: see qmodel.h.
 *
 * The output metadata is kept in a formats/gguf_meta.h list so that keys copied from a GGUF source,
 * the config's keys (model/config_gguf.h), the tokenizer's and the ones made here go through one
 * path, and a key set twice is replaced rather than duplicated. HF tensor names are mapped with
 * formats/hfnames.h; what the family needs (the Q/K row permutation) comes from model/arch.h.
 * Tensors are converted in chunks of rows: source rows ->
 * f32 (qdequant_row) -> quantize (qquantize_rows) -> written; the squared error is measured on
 * the written bytes dequantized again, i.e. on what a reader will get. */
#include "quant/qmodel.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/convert.h"
#include "formats/gguf.h"
#include "formats/gguf_meta.h"
#include "formats/gguf_write.h"
#include "formats/hfnames.h"
#include "formats/qtype.h"
#include "formats/safetensors.h"
#include "model/config_gemma.h"
#include "model/config_gguf.h"
#include "model/model.h"
#include "quant/gptq.h"
#include "quant/quantize.h"
#include "tokenizer/tokconv.h"

#define CHUNK_FLOATS (16u << 20) /* f32 elements converted at a time (64 MiB) */
#define GGML_QNT_VERSION 2       /* general.quantization_version of current llama.cpp files */

typedef struct {
    QmTensor pub;
    char *name;
    const uint8_t *data;   /* source bytes */
    size_t src_row_bytes;  /* of one source row */
    int64_t rows;          /* ne[1] * ne[2] * ne[3] */
    int perm_heads;        /* > 0: Q/K from HF, permuted (arch.h rope_hf != rope_gguf): output
                              row r is source row perm(r) */
    int force;             /* 1: always converted (HF vectors -> F32) */
    float shift;           /* added to every value (Gemma's HF norms: w -> 1 + w, as llama.cpp's
                              converter writes them) */
    const uint8_t **parts; /* HF routed experts stacked into one 3-D tensor: [ne[2]] sources of
                              part_rows rows each (owned array); NULL: data holds every row */
    int64_t part_rows;
    const HqTensor *hq;    /* a packed HF linear (GPTQ, AWQ, ...): rows from hq_rows_f32, data NULL */
} Tn;

struct QModel {
    char *path;
    Gguf *g;       /* GGUF source */
    Model *m;      /* HF source (owns the safetensors mapping) */
    Tn *t;
    int n_t;
    GgufMeta *meta; /* the output's metadata */
    char arch[64];
    RecipeModel rm;
    char *note;
};

/* ---- sources ---- */

static Tn *add_tensor(QModel *q, const char *name, uint32_t type, int n_dims, const int64_t *ne,
                      const void *data) {
    q->t = xrealloc(q->t, (size_t)(q->n_t + 1) * sizeof *q->t);
    Tn *t = &q->t[q->n_t++];
    memset(t, 0, sizeof *t);
    t->name = xstrdup(name);
    t->pub.name = t->name;
    t->pub.src_type = t->pub.type = type;
    t->pub.n_dims = n_dims;
    t->rows = 1;
    for (int d = 0; d < 4; d++) {
        t->pub.ne[d] = d < n_dims ? ne[d] : 1;
        if (d) t->rows *= t->pub.ne[d];
    }
    t->data = data;
    t->src_row_bytes = qtype_row_bytes(type, t->pub.ne[0]);
    return t;
}

/* ARCH.SUFFIX into *out when present; -1 with one line when it is not an int in range. */
static int arch_key_int(const Gguf *g, const char *arch, const char *suffix, int *out, Err *err) {
    char k[160];
    int64_t v;
    snprintf(k, sizeof k, "%s.%s", arch, suffix);
    int r = gguf_get_int_range(g, k, 0, 1 << 30, &v, err);
    if (r == 1) *out = (int)v;
    return r < 0 ? -1 : 0;
}

static int open_gguf(QModel *q, Err *err) {
    if (!(q->g = gguf_open(q->path, err))) return -1;
    size_t len;
    const char *a = gguf_get_str(q->g, "general.architecture", &len);
    if (!a) return err_set(err, "%s: no general.architecture key", q->path);
    snprintf(q->arch, sizeof q->arch, "%.*s", (int)len, a);
    if (arch_key_int(q->g, q->arch, "block_count", &q->rm.n_layer, err) ||
        arch_key_int(q->g, q->arch, "attention.head_count", &q->rm.n_head, err))
        return -1;
    q->rm.n_head_kv = q->rm.n_head;
    if (arch_key_int(q->g, q->arch, "attention.head_count_kv", &q->rm.n_head_kv, err)) return -1;
    static const char *drop[] = {"general.file_type", "general.quantization_version",
                                 "general.alignment"};
    for (int i = 0; i < gguf_n_kv(q->g); i++) {
        const char *key = gguf_kv_key(q->g, i);
        int skip = !strncmp(key, "split.", 6) || !strncmp(key, "coldtok.quantize.", 17) ||
                   !strncmp(key, "coldtok.source.", 15) || !strncmp(key, "coldtok.calib.", 14);
        for (size_t d = 0; d < sizeof drop / sizeof drop[0]; d++) skip |= !strcmp(key, drop[d]);
        if (skip) continue;
        if (gm_copy(q->meta, q->g, i) != 0) {
            free(q->note);
            Buf nb = {0};
            buf_printf(&nb, "metadata key %s (an array of arrays) was not copied", key);
            q->note = nb.data;
        }
    }
    for (int i = 0; i < gguf_n_tensors(q->g); i++) {
        const GgufTensor *gt = gguf_tensor(q->g, i);
        add_tensor(q, gt->name, gt->type, gt->n_dims, gt->ne, gt->data);
        if (!strcmp(gt->name, tensor_name(TN_OUTPUT)->gguf)) q->rm.has_output = 1;
    }
    return 0;
}

/* The source bytes of row r of t. */
static const uint8_t *src_at(const Tn *t, int64_t r) {
    if (!t->parts) return t->data + (size_t)r * t->src_row_bytes;
    return t->parts[r / t->part_rows] + (size_t)(r % t->part_rows) * t->src_row_bytes;
}

/* An HF routed expert's matrix (mlp.experts.E.*_proj.weight): expert 0 of each (layer, kind)
 * becomes llama.cpp's 3-D tensor blk.N.ffn_*_exps.weight [n_expert, rows, cols] reading every
 * expert's tensor in place (the others are then skipped); 1 when handled, -1 on error. */
static int add_experts(QModel *q, const StTensor *s, Err *err) {
    const Config *c = &q->m->cfg;
    int layer, x, role = hf_expert_role(s->name, &layer, &x);
    if (role < 0 || c->moe.n_expert == 0) return 0;
    if (x > 0) return 1;
    char name[256];
    tensor_name_in((TensorRole)role, 1, layer, name, sizeof name);
    int64_t ne[3] = {s->shape[s->n_dims - 1], s->shape[0], c->moe.n_expert};
    Tn *t = add_tensor(q, name, s->type, 3, ne, s->data);
    t->parts = xmalloc((size_t)c->moe.n_expert * sizeof *t->parts);
    t->part_rows = ne[1];
    for (int e = 0; e < c->moe.n_expert; e++) {
        char hn[256];
        tensor_name_expert((TensorRole)role, layer, e, hn, sizeof hn);
        const StTensor *p = st_find(q->m->st, hn);
        if (!p || p->type != s->type || p->n_dims != 2 || p->shape[0] != s->shape[0] || p->shape[1] != s->shape[1])
            return err_set(err, "%s: %s is missing or unlike %s (dtype and shape)", q->path, hn, s->name);
        t->parts[e] = p->data;
    }
    return 1;
}

/* general.name of an HF source: the folder's name (the folder holding the .safetensors file) */
static void model_name(const char *path, char *out, size_t size) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/') buf[--n] = '\0';
    if (!is_dir(buf)) { /* a file: its folder */
        char *sl = strrchr(buf, '/');
        if (sl) *sl = '\0';
        else snprintf(buf, sizeof buf, ".");
    }
    const char *s = strrchr(buf, '/');
    s = s ? s + 1 : buf;
    if (!*s || !strcmp(s, ".") || !strcmp(s, "..")) s = "model";
    size_t len = strlen(s);
    if (len >= size) len = size - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

/* 1 for the roles of RMSNorm weights. */
static int is_norm(int role) {
    return role == TN_ATTN_NORM || role == TN_FFN_NORM || role == TN_OUTPUT_NORM ||
           role == TN_ATTN_Q_NORM || role == TN_ATTN_K_NORM || role == TN_ATTN_POST_NORM ||
           role == TN_FFN_PRE_NORM || role == TN_FFN_POST_NORM;
}

/* The packed linears of a GPTQ / AWQ / AQLM / FP8 / compressed-tensors checkpoint: each becomes
 * an F32 source whose rows the layer's own unpacker gives (always converted, even to F32). */
static int add_packed(QModel *q, int permute, Err *err) {
    const Config *c = &q->m->cfg;
    char name[256];
    for (int l = 0; l < c->n_layer; l++) {
        const Layer *y = &q->m->layers[l];
        const Tensor *ts[] = {&y->wq, &y->wk, &y->wv, &y->wo, &y->w_gate, &y->w_up, &y->w_down};
        const int roles[] = {TN_ATTN_Q, TN_ATTN_K, TN_ATTN_V, TN_ATTN_OUT, TN_FFN_GATE, TN_FFN_UP, TN_FFN_DOWN};
        for (int i = 0; i < 7; i++) {
            if (!ts[i]->data || ts[i]->hq.method == HQ_NONE) continue;
            if (!tensor_name_in(roles[i], 1, l, name, sizeof name))
                return err_set(err, "%s: %s: a packed matrix with no llama.cpp name", q->path, ts[i]->name);
            int64_t ne[2] = {ts[i]->cols, ts[i]->rows};
            Tn *t = add_tensor(q, name, Q_F32, 2, ne, NULL);
            t->hq = &ts[i]->hq;
            t->force = 1;
            if (permute && (i == 0 || i == 1)) {
                t->perm_heads = i == 0 ? c->n_head : c->n_head_kv;
                if (ts[i]->rows % (2 * t->perm_heads))
                    return err_set(err, "%s: %s: %lld rows do not split into %d heads of pairs", q->path,
                                   ts[i]->name, (long long)ts[i]->rows, t->perm_heads);
            }
        }
    }
    return 0;
}

static int open_hf(QModel *q, Err *err) {
    if (!(q->m = model_load(q->path, err))) return -1;
    const Config *c = &q->m->cfg;
    const ArchInfo *a = arch_info(c->arch);
    snprintf(q->arch, sizeof q->arch, "%s", a->name);
    q->rm = (RecipeModel){c->n_layer, c->n_head, c->n_head_kv, !c->tied};
    /* the hyper-parameters, as llama.cpp's convert_hf_to_gguf.py writes them */
    const char *base = strrchr(q->path, '/');
    char name[256];
    model_name(q->path, name, sizeof name);
    config_to_gguf(c, name, CONFIG_KEYS_CONVERT, q->meta);
    /* llama.cpp permutes the Q/K rows (weights and biases) of a family whose checkpoints rotate
     * halves into its GGUF convention of adjacent pairs; so does the converter */
    const int permute = a->rope_hf == ROPE_NEOX && a->rope_gguf == ROPE_NORMAL;
    /* Gemma 2/3: llama.cpp derives the query scale from the shape, not from query_pre_attn_scalar */
    if (a->embd_scale && c->attn_scale > 0 &&
        fabsf(c->attn_scale - gemma_gguf_attn_scale(c)) > 1e-6f * gemma_gguf_attn_scale(c))
        return err_set(err, "%s: query_pre_attn_scalar gives queries a scale of %g, but llama.cpp "
                       "scales a %s GGUF of this shape by %g: a GGUF file cannot carry it", q->path,
                       c->attn_scale, a->name, gemma_gguf_attn_scale(c));
    const SafeTensors *st = q->m->st;
    /* a GGUF file cannot say otherwise (deepseek2's can: expert_weights_norm, model/config_gguf.c) */
    if (a->moe && !a->mla && c->moe.norm_topk != a->moe_norm_topk)
        return err_set(err, "%s: norm_topk_prob %s: llama.cpp's %s graph %s the top-k weights", q->path,
                       c->moe.norm_topk ? "true" : "false", a->name,
                       a->moe_norm_topk ? "always normalises" : "never normalises");
    for (int i = 0; i < st_n_tensors(st); i++) {
        const StTensor *s = st_tensor(st, i);
        if (model_packed_part(q->m, s->data)) continue; /* added below, from its unpacked rows */
        int ex = s->n_dims == 2 ? add_experts(q, s, err) : 0;
        if (ex < 0) return -1;
        if (ex) continue;
        int layer, role = hf_tensor_role_for(s->name, a->post_norms != TENSORS_REFUSED, &layer);
        if (role < 0) return err_set(err, "%s: tensor %s has no llama.cpp equivalent", q->path, s->name);
        if (!tensor_name_in(role, 1, layer, name, sizeof name)) continue; /* dropped by converters */
        if (role == TN_OUTPUT && c->tied) continue;
        if (s->type == ST_UNSUPPORTED || s->n_dims < 1 || s->n_dims > 2)
            return err_set(err, "%s: tensor %s: dtype %s with %d dimensions is not supported", q->path,
                           s->name, s->dtype, s->n_dims);
        int64_t ne[2] = {s->shape[s->n_dims - 1], s->n_dims == 2 ? s->shape[0] : 1};
        int nd = s->n_dims;
        if (role == TN_FFN_GATE_INP_SHEXP && nd == 2 && ne[1] == 1) nd = 1; /* [1, n_embd]: a vector */
        Tn *t = add_tensor(q, name, s->type, nd, ne, s->data);
        t->force = nd == 1; /* llama.cpp stores vectors as F32 */
        if (a->hf_norm_plus_one && is_norm(role)) t->shift = 1;
        const int is_q = role == TN_ATTN_Q || role == TN_ATTN_Q_BIAS;
        if (permute && (is_q || role == TN_ATTN_K || role == TN_ATTN_K_BIAS)) {
            t->perm_heads = is_q ? c->n_head : c->n_head_kv;
            int64_t len = s->n_dims == 2 ? ne[1] : ne[0];
            if (len % (2 * t->perm_heads))
                return err_set(err, "%s: %s: %lld rows do not split into %d heads of pairs", q->path,
                               s->name, (long long)len, t->perm_heads);
        }
    }
    if (add_packed(q, permute, err)) return -1;
    int64_t half[1] = {c->n_rot / 2};
    if (c->rope_scaling == ROPE_SCALING_LONGROPE && q->m->rope_freqs && q->m->rope_long) {
        /* LongRoPE: config.json's factor lists become llama.cpp's two tensors (the loader keeps
         * the short ones in rope_freqs); YaRN's divisors are derived from the keys again */
        add_tensor(q, tensor_name(TN_ROPE_FACTORS_LONG)->gguf, Q_F32, 1, half, q->m->rope_long);
        add_tensor(q, tensor_name(TN_ROPE_FACTORS_SHORT)->gguf, Q_F32, 1, half, q->m->rope_freqs);
    } else if (q->m->rope_freqs && c->rope_scaling == ROPE_SCALING_NONE) {
        /* Llama 3 rope scaling: llama.cpp stores the factors as a tensor */
        add_tensor(q, tensor_name(TN_ROPE_FREQS)->gguf, Q_F32, 1, half, q->m->rope_freqs);
    }
    /* the tokenizer, when tokenizer.json sits beside the weights */
    Buf tj = {0};
    if (is_dir(q->path)) buf_printf(&tj, "%s/tokenizer.json", q->path);
    else buf_printf(&tj, "%.*s%stokenizer.json", base ? (int)(base - q->path) : 0, q->path, base ? "/" : "");
    int rc = 0;
    if (!is_file(tj.data)) {
        Buf nb = {0};
        buf_printf(&nb, "no %s: the output has no tokenizer (tokenizer.ggml.*) keys", tj.data);
        q->note = nb.data;
    } else {
        TokConvKv *kvs = NULL;
        int n = tokconv_from_json(tj.data, c->n_vocab, &kvs, &q->note, err);
        if (n < 0) rc = -1;
        for (int i = 0; i < n; i++) gm_take(q->meta, kvs[i].key, kvs[i].type, &kvs[i].val);
        tokconv_free(kvs, n);
    }
    buf_free(&tj);
    if (rc == 0 && c->n_layer > 0 && q->m->layers[0].window > 0) { /* said, not silently dropped */
        Buf nb = {0};
        buf_printf(&nb, "%s%ssliding_window %d is not written: llama.cpp reads no window for %s, so "
                   "the output attends to every position (as llama.cpp's converter's output does)",
                   q->note ? q->note : "", q->note ? "; " : "", q->m->layers[0].window, a->name);
        free(q->note);
        q->note = nb.data;
    }
    return rc;
}

QModel *qm_open(const char *path, Err *err) {
    QModel *q = xcalloc(1, sizeof *q);
    q->meta = gm_new();
    q->path = xstrdup(path);
    int r;
    if (check_input_path(path, err)) r = -1;
    else if (is_file(path) && !ends_with(path, ".safetensors")) r = open_gguf(q, err);
    else r = open_hf(q, err);
    if (r) {
        qm_close(q);
        return NULL;
    }
    return q;
}

void qm_close(QModel *q) {
    if (!q) return;
    for (int i = 0; i < q->n_t; i++) free(q->t[i].name), free(q->t[i].parts);
    gm_free(q->meta);
    free(q->t);
    if (q->g) gguf_close(q->g);
    model_free(q->m);
    free(q->note);
    free(q->path);
    free(q);
}

const char *qm_arch(const QModel *q) { return q->arch; }
const char *qm_note(const QModel *q) { return q->note; }
int qm_n_tensors(const QModel *q) { return q->n_t; }
const QmTensor *qm_tensor(const QModel *q, int i) { return &q->t[i].pub; }

/* ---- plan ---- */

int qm_plan(QModel *q, const Recipe *r, Err *err) {
    for (int i = 0; i < q->n_t; i++) {
        Tn *t = &q->t[i];
        QmTensor *p = &t->pub;
        p->why[0] = '\0';
        if (recipe_quantizable(p->name, p->n_dims))
            p->type = recipe_type(r, &q->rm, p->name, p->ne[0], p->why, sizeof p->why);
        else
            p->type = t->force ? Q_F32 : p->src_type;
        p->quantize = p->type != p->src_type || t->force || t->perm_heads || t->shift != 0;
        if (p->quantize && !qtype_can_quant(p->type)) /* a mixture may name a type not written yet */
            return err_set(err, "%s: tensor %s: the recipe %s gives it type %s, which coldtok cannot write",
                           q->path, p->name, r->name, qtype_name(p->type));
        if (p->quantize && !qtype_can_dequant(p->src_type)) {
            const char *tn = qtype_name(p->src_type);
            return err_set(err, "%s: tensor %s has type %s, which coldtok cannot convert to %s", q->path,
                           p->name, tn ? tn : "?", qtype_name(p->type));
        }
    }
    return 0;
}

/* ---- writing ---- */

/* the source row that output row r comes from (llama.cpp's Q/K permutation for HF llama: within
 * each head, row 2i+j of the output is row j*(hd/2)+i of the source) */
static int64_t src_row(const Tn *t, int64_t r, int64_t len) {
    if (!t->perm_heads) return r;
    const int64_t hd = len / t->perm_heads, h = r / hd, w = r % hd;
    return h * hd + (w % 2) * (hd / 2) + w / 2;
}

/* Squared-error sums of one tensor's rows (see convert). */
typedef struct {
    double se, ss, wse, wss;
} Sums;

/* Adds sum (back-x)^2, sum x^2 and, with imp, their imp-weighted sums over a row to s, in double.
 * Eight partial sums per quantity (vector extensions: independent chains the processor overlaps,
 * where one running sum is a chain of dependent additions), added together at the row's end. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define ERR_CLONES __attribute__((target_clones("avx512f", "avx2", "default"))) /* as kqsearch.c */
#else
#define ERR_CLONES
#endif
ERR_CLONES static void row_errors(const float *x, const float *back, const float *imp, int64_t n, Sums *s) {
    typedef float vf8 __attribute__((vector_size(32)));
    typedef double vd8 __attribute__((vector_size(64)));
    vd8 se = {0}, ss = {0}, wse = {0}, wss = {0};
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        vf8 xf, bf;
        memcpy(&xf, x + j, sizeof xf), memcpy(&bf, back + j, sizeof bf);
        const vd8 xd = __builtin_convertvector(xf, vd8), d = __builtin_convertvector(bf, vd8) - xd, xx = xd * xd;
        se += d * d;
        ss += xx;
        if (imp) {
            vf8 wf;
            memcpy(&wf, imp + j, sizeof wf);
            const vd8 w = __builtin_convertvector(wf, vd8);
            wse += w * d * d;
            wss += w * xx;
        }
    }
    double r[4] = {0, 0, 0, 0};
    for (int k = 0; k < 8; k++) r[0] += se[k], r[1] += ss[k], r[2] += wse[k], r[3] += wss[k];
    for (; j < n; j++) {
        const double d = (double)back[j] - x[j], xx = (double)x[j] * x[j];
        r[0] += d * d;
        r[1] += xx;
        if (imp) {
            r[2] += imp[j] * d * d;
            r[3] += imp[j] * xx;
        }
    }
    s->se += r[0], s->ss += r[1], s->wse += r[2], s->wss += r[3];
}

/* The common case of convert (no Hessian, no permuted bias, no shift): each thread takes its
 * rows in turn through source -> f32 -> quantized -> f32 again while they are in its cache, and
 * accumulates the squared errors. The quantized rows land in o. The sums are the same as the separate passes' up to the order of
 * additions in double (a row's in eight partial sums; the threads' split already varies them in the
 * last bits). Returns the first row that failed to quantize, or -1. */
static int64_t quantize_fused(const Tn *t, const Convert *cv, int64_t r0, int64_t nr, const float *imp,
                              uint8_t *o, size_t orb, Sums *sums) {
    const QmTensor *p = &t->pub;
    const int64_t n = p->ne[0], rows = t->rows;
    int64_t bad = -1;
    double se = sums->se, ss = sums->ss, wse = sums->wse, wss = sums->wss;
#pragma omp parallel reduction(+ : se, ss, wse, wss)
    {
        float *x = xmalloc((size_t)n * sizeof(float)), *back = xmalloc((size_t)n * sizeof(float));
#pragma omp for schedule(static)
        for (int64_t r = 0; r < nr; r++) {
            const int64_t sr = src_row(t, r0 + r, rows);
            if (t->hq) hq_rows_f32(t->hq, sr, 1, x);
            else convert_rows_f32(cv, p->src_type, src_at(t, sr), 1, n, x);
            uint8_t *q = o + (size_t)r * orb;
            if (qquantize_row(p->type, x, q, n, imp) != 0) {
#pragma omp critical(qm_bad_row)
                if (bad < 0 || r < bad) bad = r;
                continue;
            }
            convert_rows_f32(cv, p->type, q, 1, n, back);
            Sums rs = {0, 0, 0, 0};
            row_errors(x, back, imp, n, &rs);
            se += rs.se, ss += rs.ss, wse += rs.wse, wss += rs.wss;
        }
        free(x);
        free(back);
    }
    sums->se = se, sums->ss = ss, sums->wse = wse, sums->wss = wss;
    return bad;
}

static int convert(QModel *q, Tn *t, int idx, GgufWriter *w, const QmInfo *info, Err *err) {
    QmTensor *p = &t->pub;
    const float *imp = info->importance && p->n_dims >= 2 ? info->importance(info->ctx, p) : NULL;
    const int64_t n = p->ne[0], rows = t->rows;
    const float *H = NULL;
    Gptq g = {0};
    if (info->hessian && p->n_dims >= 2 && qtype_block_elems(p->type) > 1) {
        if (info->hessian(info->ctx, p, &H, err)) return -1;
        progress("quantize: tensor %d/%d %s  GPTQ factor (K = %lld)", idx + 1, q->n_t, p->name, (long long)n);
        if (H && gptq_prepare(&g, H, n, err)) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            return err_set(err, "%s: tensor %s: %s", q->path, p->name, msg);
        }
    }
    const size_t orb = qtype_row_bytes(p->type, n);
    int64_t per = (int64_t)(CHUNK_FLOATS / (uint64_t)n);
    if (per < 1) per = 1;
    if (per > rows) per = rows;
    uint8_t *o = xmalloc((size_t)per * orb);
    float *tmp = p->n_dims == 1 && t->perm_heads ? xmalloc((size_t)n * sizeof(float)) : NULL;
    const int fused = !H && !tmp && t->shift == 0;
    float *f = fused ? NULL : xmalloc((size_t)per * (size_t)n * sizeof(float));
    float *gw = H ? xmalloc((size_t)per * (size_t)n * sizeof(float)) : NULL; /* GPTQ's working copy */
    double se = 0, ss = 0, wse = 0, wss = 0, hse = 0, hss = 0;
    int rc = 0;
    Convert cv;
    convert_init(&cv);
    for (int64_t r0 = 0; r0 < rows && rc == 0; r0 += per) {
        const int64_t nr = rows - r0 < per ? rows - r0 : per;
        progress("quantize: tensor %d/%d %s  %.0f%%", idx + 1, q->n_t, p->name, 100.0 * r0 / rows);
        if (fused) {
            Sums sums = {se, ss, wse, wss};
            const int64_t bad = quantize_fused(t, &cv, r0, nr, imp, o, orb, &sums);
            se = sums.se, ss = sums.ss, wse = sums.wse, wss = sums.wss;
            if (bad >= 0) {
                rc = err_set(err, "%s: tensor %s row %lld: a value is not finite or beyond +-65504, which %s "
                                  "cannot hold (keep the tensor with --keep '%s=F32')",
                             q->path, p->name, (long long)(r0 + bad), qtype_name(p->type), p->name);
                break;
            }
            rc = gw_data(w, o, (size_t)nr * orb, err);
            continue;
        }
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < nr; r++) {
            /* a permuted matrix moves whole rows; a permuted bias is one row whose elements move */
            const int64_t sr = tmp ? r0 + r : src_row(t, r0 + r, rows);
            if (t->hq) hq_rows_f32(t->hq, sr, 1, f + r * n);
            else qdequant_row(p->src_type, src_at(t, sr), f + r * n, n);
        }
        if (tmp) { /* a permuted bias: one row, its elements reordered */
            for (int64_t e = 0; e < n; e++) tmp[e] = f[src_row(t, e, n)];
            memcpy(f, tmp, (size_t)n * sizeof(float));
        }
        if (t->shift != 0) /* Gemma's HF norm weights: 1 + w */
            for (int64_t e = 0; e < nr * n; e++) f[e] += t->shift;
        int64_t bad = -1;
        if (H) memcpy(gw, f, (size_t)nr * (size_t)n * sizeof(float));
        if (H ? !gptq_quantize_rows(&g, p->type, gw, o, nr, &bad) : !qquantize_rows(p->type, f, o, nr, n, imp, &bad)) {
            rc = err_set(err, "%s: tensor %s row %lld: a value is not finite or beyond +-65504, which %s "
                              "cannot hold (keep the tensor with --keep '%s=F32')",
                         q->path, p->name, (long long)(r0 + bad), qtype_name(p->type), p->name);
            break;
        }
#pragma omp parallel reduction(+ : se, ss, wse, wss, hse, hss)
        {
            float *back = xmalloc((size_t)n * sizeof(float));
#pragma omp for schedule(static)
            for (int64_t r = 0; r < nr; r++) {
                qdequant_row(p->type, o + (size_t)r * orb, back, n);
                const float *x = f + r * n;
                for (int64_t j = 0; j < n; j++) {
                    const double d = (double)back[j] - x[j], xx = (double)x[j] * x[j];
                    se += d * d;
                    ss += xx;
                    if (imp) {
                        wse += imp[j] * d * d;
                        wss += imp[j] * xx;
                    }
                }
                if (H) /* d^T H d and x^T H x, d = back - x */
                    for (int64_t i = 0; i < n; i++) {
                        const float *hi = H + i * n;
                        double hd = 0, hx = 0;
                        for (int64_t j = 0; j < n; j++) {
                            hd += (double)hi[j] * ((double)back[j] - x[j]);
                            hx += (double)hi[j] * x[j];
                        }
                        hse += ((double)back[i] - x[i]) * hd;
                        hss += (double)x[i] * hx;
                    }
            }
            free(back);
        }
        rc = gw_data(w, o, (size_t)nr * orb, err);
    }
    const double cnt = (double)n * (double)rows;
    p->rmse = sqrt(se / cnt);
    p->rms = sqrt(ss / cnt);
    p->wrel = !imp ? -1 : wss > 0 ? sqrt(wse / wss) : 0;
    p->hrel = !H ? -1 : hss > 0 ? sqrt(hse / hss) : 0;
    gptq_free(&g);
    free(gw);
    free(f);
    free(o);
    free(tmp);
    return rc;
}

/* coldtok.source.* and coldtok.calib.* (the keys the source's copies of which were dropped). */
static void write_provenance(GgufMeta *meta, const QmInfo *info) {
    if (info->source_path) {
        gm_str(meta, "coldtok.source.path", info->source_path);
        gm_u64(meta, "coldtok.source.bytes", info->source_bytes);
        gm_str(meta, "coldtok.source.sha256", info->source_sha256);
    }
    if (!info->n_calib_files) return;
    gm_u32(meta, "coldtok.calib.count", (uint32_t)info->n_calib_files);
    for (int i = 0; i < info->n_calib_files; i++) {
        char key[64];
        snprintf(key, sizeof key, "coldtok.calib.%d.path", i);
        gm_str(meta, key, info->calib_paths[i]);
        snprintf(key, sizeof key, "coldtok.calib.%d.bytes", i);
        gm_u64(meta, key, info->calib_bytes[i]);
        snprintf(key, sizeof key, "coldtok.calib.%d.sha256", i);
        gm_str(meta, key, info->calib_sha256[i]);
    }
}

static int write_all(QModel *q, GgufWriter *w, const char *tmp, const QmInfo *info,
                     const Recipe *r, Err *err) {
    gm_u32(q->meta, "general.quantization_version", GGML_QNT_VERSION);
    gm_u32(q->meta, "general.file_type", r->ftype);
    gm_str(q->meta, "coldtok.quantize.method", info->method);
    gm_str(q->meta, "coldtok.quantize.type", r->name);
    gm_str(q->meta, "coldtok.quantize.calibration", info->calibration);
    gm_u64(q->meta, "coldtok.quantize.calibration_tokens", info->calibration_tokens);
    write_provenance(q->meta, info);
    gm_remove(q->meta, "general.alignment");
    gm_write(q->meta, w);
    for (int i = 0; i < q->n_t; i++) {
        QmTensor *p = &q->t[i].pub;
        int64_t b = gw_add_tensor(w, p->name, p->type, p->n_dims, p->ne, err);
        if (b < 0) return -1;
        p->bytes = (uint64_t)b;
        p->rmse = p->rms = 0;
        p->wrel = p->hrel = -1;
    }
    if (gw_begin(w, tmp, err)) return -1;
    for (int i = 0; i < q->n_t; i++) {
        Tn *t = &q->t[i];
        if (t->pub.quantize) {
            if (convert(q, t, i, w, info, err)) return -1;
        } else {
            progress("quantize: tensor %d/%d %s (copied)", i + 1, q->n_t, t->pub.name);
            if (!t->parts) {
                if (gw_data(w, t->data, (size_t)t->pub.bytes, err)) return -1;
            } else { /* stacked experts: each one's rows in turn */
                for (int64_t e = 0; e < t->pub.ne[2]; e++)
                    if (gw_data(w, t->parts[e], (size_t)t->part_rows * t->src_row_bytes, err)) return -1;
            }
        }
    }
    return gw_end(w, err);
}

int qm_write_file(QModel *q, const char *file, const QmInfo *info, const Recipe *r, Err *err) {
    GgufWriter *w = gw_new();
    int rc = write_all(q, w, file, info, r, err);
    gw_free(w);
    progress_done();
    return rc;
}

int qm_write(QModel *q, const char *path, const QmInfo *info, const Recipe *r, Err *err) {
    char *tmp;
    if (out_temp(path, &tmp, err)) return -1;
    int rc = qm_write_file(q, tmp, info, r, err);
    if (rc == 0) rc = out_commit(tmp, path, err);
    else unlink(tmp); /* ours, made by out_temp: never another run's */
    free(tmp);
    return rc;
}
