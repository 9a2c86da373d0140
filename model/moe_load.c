/* moe_load: see moe_load.h. */
#include "model/moe_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "formats/hfnames.h"
#include "model/loader.h"
#include "formats/qtype.h"

/* ---- hyper-parameters ---- */

static int gguf_moe_key(const Gguf *g, const char *arch, Hparam hp, int *out, int required,
                        const char *path, Err *err) {
    char k[160];
    int64_t v;
    snprintf(k, sizeof k, "%s.%s", arch, hparam_name(hp)->gguf);
    int r = gguf_get_int_range(g, k, 0, 1 << 20, &v, err);
    if (r < 0) return -1;
    if (r == 0) return required ? err_set(err, "%s: missing metadata key %s", path, k) : 0;
    *out = (int)v;
    return 0;
}

/* The ranges every source must respect (before any allocation is sized from them). */
static int check_moe(const Config *c, const char *path, Err *err) {
    const MoeConfig *e = &c->moe;
    if (e->n_expert < 1 || e->n_expert > 4096)
        return err_set(err, "%s: expert count %d is out of range [1, 4096]", path, e->n_expert);
    if (e->n_expert_used < 1 || e->n_expert_used > e->n_expert)
        return err_set(err, "%s: %d experts used per position, of %d", path, e->n_expert_used, e->n_expert);
    if (e->n_ff_exp < 1 || e->n_ff_exp > (1 << 20) || e->n_ff_shexp < 0 || e->n_ff_shexp > (1 << 20))
        return err_set(err, "%s: expert feed-forward length %d (shared %d) is out of range", path,
                       e->n_ff_exp, e->n_ff_shexp);
    return 0;
}

/* What the family's row says about mixing (the parts no key of its files carries). */
static void family_defaults(const ArchInfo *a, MoeConfig *e) {
    e->gating = MOE_GATING_SOFTMAX;
    e->norm_topk = a->moe_norm_topk;
    e->scale = 1;
    e->shexp_gate = a->moe_shexp_gate;
    e->n_dense_lead = 0;
}

int moe_config_gguf(const Gguf *g, const char *arch, const ArchInfo *a, Config *c, const char *path,
                    Err *err) {
    MoeConfig *e = &c->moe;
    memset(e, 0, sizeof *e);
    if (!a->moe) return 0;
    family_defaults(a, e);
    if (gguf_moe_key(g, arch, HP_EXPERT_COUNT, &e->n_expert, 1, path, err) ||
        gguf_moe_key(g, arch, HP_EXPERT_USED_COUNT, &e->n_expert_used, 1, path, err))
        return -1;
    if (e->n_expert_used < 1) return err_set(err, "%s: %s.expert_used_count is 0", path, arch);
    e->n_ff_exp = c->n_ff / e->n_expert_used; /* llama.cpp's default */
    if (gguf_moe_key(g, arch, HP_EXPERT_FEED_FORWARD_LENGTH, &e->n_ff_exp, 0, path, err)) return -1;
    if (a->moe_shexp != TENSORS_REFUSED) {
        e->n_ff_shexp = c->n_ff;
        if (gguf_moe_key(g, arch, HP_EXPERT_SHARED_FEED_FORWARD_LENGTH, &e->n_ff_shexp, 0, path, err))
            return -1;
    }
    return check_moe(c, path, err);
}

int moe_config_json(json_t *root, const ArchInfo *a, Config *c, const char *path, Err *err) {
    MoeConfig *e = &c->moe;
    memset(e, 0, sizeof *e);
    if (!a->moe) return 0;
    family_defaults(a, e);
    if (ld_json_int(root, hparam_name(HP_EXPERT_COUNT)->hf, &e->n_expert, 1 << 20, 1, path, err) < 0 ||
        ld_json_int(root, hparam_name(HP_EXPERT_USED_COUNT)->hf, &e->n_expert_used, 1 << 20, 1, path, err) < 0 ||
        ld_json_int(root, hparam_name(HP_EXPERT_FEED_FORWARD_LENGTH)->hf, &e->n_ff_exp, 1 << 20, 1, path, err) < 0)
        return -1;
    if (a->moe_shexp == TENSORS_REQUIRED &&
        ld_json_int(root, hparam_name(HP_EXPERT_SHARED_FEED_FORWARD_LENGTH)->hf, &e->n_ff_shexp, 1 << 20, 1, path, err) < 0)
        return -1;
    json_t *norm = json_object_get(root, "norm_topk_prob");
    e->norm_topk = 0; /* Qwen2MoeConfig and Qwen3MoeConfig default */
    if (norm && !json_is_null(norm)) {
        if (!json_is_boolean(norm)) return err_set(err, "%s: \"norm_topk_prob\" is not a boolean", path);
        e->norm_topk = json_is_true(norm);
    }
    /* dense MLP layers between the expert ones: not implemented, never ignored */
    int step = 1;
    if (ld_json_int(root, "decoder_sparse_step", &step, 1 << 20, 0, path, err) < 0) return -1;
    if (step != 1)
        return err_set(err, "%s: \"decoder_sparse_step\" %d is not supported (only 1: every layer has "
                       "experts)", path, step);
    json_t *only = json_object_get(root, "mlp_only_layers");
    if (only && !json_is_null(only) && (!json_is_array(only) || json_array_size(only) > 0))
        return err_set(err, "%s: \"mlp_only_layers\" is not supported (dense layers in an expert model)",
                       path);
    return check_moe(c, path, err);
}

int moe_is_expert_layer(const Config *c, int l) {
    return c->moe.n_expert > 0 && l >= c->moe.n_dense_lead;
}

/* ---- tensors ---- */

/* The matrix NAME of exactly [rows, cols] (a 1-D tensor of cols values counts as one row when
 * rows is 1); 0 and t->data NULL when absent and optional. */
static int matrix(const Gguf *g, const SafeTensors *st, const char *name, int64_t rows, int64_t cols,
                  int optional, Tensor *t, const char *path, Err *err) {
    memset(t, 0, sizeof *t);
    int64_t r = 0, k = 0;
    int nd = 0;
    if (g) {
        const GgufTensor *gt = gguf_find_tensor(g, name);
        if (gt) {
            *t = (Tensor){.data = gt->data, .type = gt->type, .name = gt->name};
            nd = gt->n_dims, k = gt->ne[0], r = gt->ne[1] * gt->ne[2] * gt->ne[3];
            if (gt->ne[2] != 1 || gt->ne[3] != 1) nd = 3;
        }
    } else {
        const StTensor *s = st_find(st, name);
        if (s) {
            if (s->type == ST_UNSUPPORTED)
                return err_set(err, "%s: tensor %s has dtype %s (F32, F16 or BF16 expected)", path, name,
                               s->dtype);
            *t = (Tensor){.data = s->data, .type = s->type, .name = s->name};
            nd = s->n_dims, r = nd == 2 ? s->shape[0] : 1, k = s->shape[nd - 1];
        }
    }
    if (!t->data) return optional ? 0 : err_set(err, "%s: missing tensor %s", path, name);
    if (nd < 1 || nd > 2 || r != rows || k != cols)
        return err_set(err, "%s: tensor %s has shape [%lld, %lld] (%d dimensions), expected [%lld, %lld] "
                       "(rows, cols)", path, name, (long long)r, (long long)k, nd, (long long)rows,
                       (long long)cols);
    t->rows = rows, t->cols = cols;
    if (!qtype_can_dequant(t->type) || qtype_row_bytes(t->type, cols) == 0)
        return err_set(err, "%s: tensor %s has type %s, which coldtok cannot read as %lld columns", path,
                       name, qtype_name(t->type) ? qtype_name(t->type) : "unknown", (long long)cols);
    return 0;
}

/* No read-around for the bytes of the experts: a page fault there reads that page, not the
 * read_ahead_kb around it (8 MiB on some disks: a dozen neighbouring experts no position picked).
 * The forward pass asks for each picked expert's pages itself (model/moe.c). Advice only. */
static void no_read_around(const void *data, size_t bytes) {
    long pg = sysconf(_SC_PAGESIZE);
    if (!data || pg <= 0) return;
    uintptr_t a = (uintptr_t)data, b = a + bytes;
    a = (a + (uintptr_t)pg - 1) & ~(uintptr_t)(pg - 1); /* whole pages inside the tensor only */
    if (b > a) madvise((void *)a, b - a, MADV_RANDOM);
}

/* The pages of a matrix every pass reads in full: asked for now, read in the background while the
 * model loads (exactly these bytes: no read-around spilling into the experts next to them). */
static void read_soon(const Tensor *t) {
    long pg = sysconf(_SC_PAGESIZE);
    if (!t->data || pg <= 0 || t->hq.method != HQ_NONE) return;
    size_t bytes = qtype_row_bytes(t->type, t->cols) * (size_t)t->rows;
    no_read_around(t->data, bytes);
    uintptr_t a = (uintptr_t)t->data & ~(uintptr_t)(pg - 1), b = (uintptr_t)t->data + bytes;
    madvise((void *)a, b - a, MADV_WILLNEED);
}

void moe_advise_reads(const Gguf *g, const SafeTensors *st, int tied) {
    /* no read-around anywhere in the tensor data (the loader's reads of norm vectors would
     * otherwise pull in megabytes of experts around each), then the output matrix asked for */
    int n = g ? gguf_n_tensors(g) : st_n_tensors(st);
    for (int i = 0; i < n; i++) {
        const void *d = g ? gguf_tensor(g, i)->data : st_tensor(st, i)->data;
        uint64_t b = g ? gguf_tensor(g, i)->nbytes : st_tensor(st, i)->nbytes;
        no_read_around(d, (size_t)b);
    }
    const char *out = tensor_name(tied ? TN_TOKEN_EMBD : TN_OUTPUT)->gguf;
    if (!g) out = tensor_name(tied ? TN_TOKEN_EMBD : TN_OUTPUT)->hf;
    const void *d = NULL;
    uint64_t b = 0;
    if (g && gguf_find_tensor(g, out)) d = gguf_find_tensor(g, out)->data, b = gguf_find_tensor(g, out)->nbytes;
    if (!g && st_find(st, out)) d = st_find(st, out)->data, b = st_find(st, out)->nbytes;
    long pg = sysconf(_SC_PAGESIZE);
    if (d && pg > 0) {
        uintptr_t a = (uintptr_t)d & ~(uintptr_t)(pg - 1), e = (uintptr_t)d + b;
        madvise((void *)a, e - a, MADV_WILLNEED);
    }
}

/* The n_expert slices [rows, cols] of the 3-D GGUF tensor of role into out[]. */
static int gguf_experts(const Gguf *g, TensorRole role, int l, int X, int64_t rows, int64_t cols,
                        Tensor *out, const char *path, Err *err) {
    char name[256];
    tensor_name_in(role, 1, l, name, sizeof name);
    const GgufTensor *gt = gguf_find_tensor(g, name);
    if (!gt) return err_set(err, "%s: missing tensor %s", path, name);
    if (gt->ne[0] != cols || gt->ne[1] != rows || gt->ne[2] != X || gt->ne[3] != 1)
        return err_set(err, "%s: tensor %s has ne [%lld, %lld, %lld, %lld], expected [%lld, %lld, %d] "
                       "(cols, rows, experts)", path, name, (long long)gt->ne[0], (long long)gt->ne[1],
                       (long long)gt->ne[2], (long long)gt->ne[3], (long long)cols, (long long)rows, X);
    size_t rb = qtype_row_bytes(gt->type, cols);
    if (!qtype_can_dequant(gt->type) || rb == 0)
        return err_set(err, "%s: tensor %s has type %s, which coldtok cannot read as %lld columns", path,
                       name, qtype_name(gt->type) ? qtype_name(gt->type) : "unknown", (long long)cols);
    for (int x = 0; x < X; x++)
        out[x] = (Tensor){.data = (const uint8_t *)gt->data + (size_t)x * rb * (size_t)rows,
                          .type = gt->type, .rows = rows, .cols = cols, .name = gt->name};
    no_read_around(gt->data, rb * (size_t)rows * (size_t)X);
    return 0;
}

/* The per-expert HF tensors of role into out[]. */
static int hf_experts(const SafeTensors *st, TensorRole role, int l, int X, int64_t rows, int64_t cols,
                      Tensor *out, const char *path, Err *err) {
    char name[256];
    for (int x = 0; x < X; x++) {
        tensor_name_expert(role, l, x, name, sizeof name);
        if (matrix(NULL, st, name, rows, cols, 0, &out[x], path, err)) return -1;
        no_read_around(out[x].data, qtype_row_bytes(out[x].type, cols) * (size_t)rows);
    }
    return 0;
}

int moe_load_layer(const Gguf *g, const SafeTensors *st, const Config *c, const ArchInfo *a, int l,
                   Layer *y, const char *path, Err *err) {
    const MoeConfig *e = &c->moe;
    int X = e->n_expert, gguf = g != NULL;
    int64_t E = c->n_embd, F = e->n_ff_exp, S = e->n_ff_shexp;
    MoeLayer *L = xcalloc(1, sizeof *L + 3 * (size_t)X * sizeof(Tensor));
    y->moe = L;
    L->layer = l;
    L->gate = (Tensor *)(L + 1), L->up = L->gate + X, L->down = L->up + X;
    char name[256];
    tensor_name_in(TN_FFN_GATE_INP, gguf, l, name, sizeof name);
    if (matrix(g, st, name, X, E, 0, &L->router, path, err)) return -1;
    const TensorRole roles[3] = {TN_FFN_GATE_EXPS, TN_FFN_UP_EXPS, TN_FFN_DOWN_EXPS};
    Tensor *dst[3] = {L->gate, L->up, L->down};
    for (int i = 0; i < 3; i++) {
        int64_t rows = i == 2 ? E : F, cols = i == 2 ? F : E;
        if (gguf ? gguf_experts(g, roles[i], l, X, rows, cols, dst[i], path, err)
                 : hf_experts(st, roles[i], l, X, rows, cols, dst[i], path, err))
            return -1;
    }
    /* the shared expert: all three or none; required, allowed or refused by the family */
    const TensorRole sh[4] = {TN_FFN_GATE_SHEXP, TN_FFN_UP_SHEXP, TN_FFN_DOWN_SHEXP, TN_FFN_GATE_INP_SHEXP};
    Tensor *sd[4] = {&L->sh_gate, &L->sh_up, &L->sh_down, &L->sh_gate_inp};
    int have = 0;
    for (int i = 0; i < 4; i++) {
        tensor_name_in(sh[i], gguf, l, name, sizeof name);
        int64_t rows = i == 2 ? E : i == 3 ? 1 : S, cols = i == 2 ? S : E;
        int optional = a->moe_shexp != TENSORS_REQUIRED || (i == 3 && !e->shexp_gate);
        if (a->moe_shexp == TENSORS_REFUSED || S == 0) {
            if ((gguf ? (const void *)gguf_find_tensor(g, name) : (const void *)st_find(st, name)))
                return err_set(err, "%s: tensor %s: a shared expert, which %s does not have", path,
                               name, a->name);
            continue;
        }
        if (matrix(g, st, name, rows, cols, optional, sd[i], path, err)) return -1;
        if (i < 3) have += sd[i]->data != NULL;
    }
    if (have != 0 && have != 3)
        return err_set(err, "%s: layer %d has only some of the shared expert's matrices", path, l);
    if (e->shexp_gate && have && !L->sh_gate_inp.data) {
        tensor_name_in(TN_FFN_GATE_INP_SHEXP, gguf, l, name, sizeof name);
        return err_set(err, "%s: missing tensor %s", path, name);
    }
    /* the layer's dense matrices (loaded before its experts) and router: read in full by every
     * pass, so asked for now; the experts only when picked (model/moe.c) */
    const Tensor *dense[8] = {&y->wq, &y->wk, &y->wv, &y->wo, &L->router, &L->sh_gate, &L->sh_up, &L->sh_down};
    for (int i = 0; i < 8; i++) read_soon(dense[i]);
    return 0;
}

static uint64_t bytes(const Tensor *t) {
    return t->data ? (uint64_t)qtype_row_bytes(t->type, t->cols) * (uint64_t)t->rows : 0;
}

uint64_t moe_layer_bytes(const MoeLayer *L, int n_expert) {
    if (!L) return 0;
    uint64_t s = bytes(&L->router) + bytes(&L->sh_gate) + bytes(&L->sh_up) + bytes(&L->sh_down) +
                 bytes(&L->sh_gate_inp);
    for (int x = 0; x < n_expert; x++) s += bytes(&L->gate[x]) + bytes(&L->up[x]) + bytes(&L->down[x]);
    return s;
}
