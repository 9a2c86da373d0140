/* calib: see calib.h. Statistics live in slots, one per observed input: slot l*4 + input for
 * layer l (FWD_IN_QKV .. FWD_IN_DOWN), slot n_layer*4 for the output matrix. */
#include "quant/calib.h"

#include <dirent.h>
#include <dnnl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/forward.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    int K;
    double *sq;   /* [K] sum of x^2 */
    float *imp;   /* [K] mean of x^2, when done */
    float *H;     /* [K, K] sum of x x^T, then divided by n; only for slots of the current group */
    int64_t n, nh; /* rows seen by the importance pass, by the last Hessian pass */
} Slot;

struct Calib {
    char **files;
    int *source;       /* [n_files] index of the --calib path each file came from */
    int n_files, n_sources;
    Buf sources;
    int64_t max_tokens;
    Model *m;
    Tokenizer *tok;
    IntVec ids;        /* all windows, back to back */
    IntVec starts;     /* window i is ids[starts[i] .. starts[i+1]) */
    Slot *slots;
    int n_slots;
    int have_imp;
    int lo, hi;        /* the layers (n_layer: the output) whose Hessians are held: [lo, hi) */
    int mode;          /* while a pass runs: 0 importance, 1 Hessians of [lo, hi) */
    int fail;          /* a dnnl_sgemm failed in the observer */
};

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void add_file(Calib *c, const char *path, int source) {
    c->files = xrealloc(c->files, (size_t)(c->n_files + 1) * sizeof *c->files);
    c->source = xrealloc(c->source, (size_t)(c->n_files + 1) * sizeof *c->source);
    c->source[c->n_files] = source;
    c->files[c->n_files++] = xstrdup(path);
}

static int check_readable(const char *path, Err *err) {
    Err e;
    FILE *f = fopen_regular(path, &e);
    size_t skip = strlen(path) + 2; /* e.msg is "PATH: why" */
    if (!f) return err_set(err, "%s: cannot read calibration text: %s", path, strlen(e.msg) > skip ? e.msg + skip : e.msg);
    fclose(f);
    return 0;
}

Calib *calib_new(const char *const *paths, int n_paths, int64_t max_tokens, Err *err) {
    Calib *c = xcalloc(1, sizeof *c);
    c->max_tokens = max_tokens;
    c->n_sources = n_paths;
    for (int i = 0; i < n_paths; i++) {
        const char *p = paths[i];
        if (!is_dir(p)) {
            if (check_readable(p, err)) goto fail;
            add_file(c, p, i);
            continue;
        }
        DIR *d = opendir(p);
        if (!d) {
            err_set(err, "%s: cannot read calibration folder: %s", p, strerror(errno));
            goto fail;
        }
        int first = c->n_files;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            Buf fp = {0};
            buf_printf(&fp, "%s/%s", p, e->d_name);
            if (is_file(fp.data)) add_file(c, fp.data, i);
            buf_free(&fp);
        }
        closedir(d);
        if (c->n_files == first) {
            err_set(err, "%s: calibration folder has no files", p);
            goto fail;
        }
        qsort(c->files + first, (size_t)(c->n_files - first), sizeof *c->files, by_name);
        for (int k = first; k < c->n_files; k++)
            if (check_readable(c->files[k], err)) goto fail;
    }
    if (c->n_files == 0) {
        err_set(err, "no calibration text given");
        goto fail;
    }
    for (int i = 0; i < c->n_files; i++) {
        const char *b = strrchr(c->files[i], '/');
        buf_printf(&c->sources, "%s%s", i ? "," : "", b ? b + 1 : c->files[i]);
    }
    return c;
fail:
    calib_free(c);
    return NULL;
}

void calib_free(Calib *c) {
    if (!c) return;
    for (int i = 0; i < c->n_files; i++) free(c->files[i]);
    free(c->files);
    free(c->source);
    buf_free(&c->sources);
    for (int i = 0; i < c->n_slots; i++) {
        free(c->slots[i].sq);
        free(c->slots[i].imp);
        free(c->slots[i].H);
    }
    free(c->slots);
    intvec_free(&c->ids);
    intvec_free(&c->starts);
    if (c->tok) tok_free(c->tok);
    if (c->m) model_free(c->m);
    free(c);
}

const char *calib_sources(const Calib *c) { return c->sources.data ? c->sources.data : ""; }
int calib_n_files(const Calib *c) { return c->n_files; }
const char *calib_file(const Calib *c, int i) { return c->files[i]; }
int64_t calib_tokens(const Calib *c) { return (int64_t)c->ids.n; }

int calib_load(Calib *c, const char *model_path, Err *err) {
    if (!(c->m = model_load(model_path, err))) return -1;
    if (!(c->tok = tok_load(model_path, err))) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return err_set(err, "calibration needs the model's tokenizer: %s", msg);
    }
    const Config *cf = &c->m->cfg;
    c->n_slots = cf->n_layer * 4 + 1;
    c->slots = xcalloc((size_t)c->n_slots, sizeof *c->slots);
    for (int l = 0; l <= cf->n_layer; l++)
        for (int in = 0; in < 4; in++) {
            if (l == cf->n_layer && in) break;
            Slot *s = &c->slots[l * 4 + in];
            s->K = l == cf->n_layer || in == FWD_IN_QKV || in == FWD_IN_GATEUP ? cf->n_embd
                 : in == FWD_IN_WO ? cf->n_head * cf->head_dim_v : cf->n_ff; /* wo reads values */
            s->sq = xcalloc((size_t)s->K, sizeof(double));
        }
    const int bos = tok_bos(c->tok), room = CALIB_WINDOW - (bos >= 0);
    IntVec t = {0};
    /* every --calib path gets an equal share of the tokens (the first ones the remainder), so
     * "--calib code --calib text" is half code, half text however much of each there is */
    int64_t used = 0;
    for (int i = 0; i < c->n_files; i++) {
        int src = c->source[i];
        if (i == 0 || src != c->source[i - 1]) used = 0;
        int64_t share = c->max_tokens / c->n_sources + (src < c->max_tokens % c->n_sources);
        if (used >= share) continue;
        size_t len;
        char *text = read_file(c->files[i], &len, err);
        if (!text) goto fail;
        t.n = 0;
        int rc = tok_encode(c->tok, text, len, TOK_ENC_NO_SPECIAL, &t, err);
        free(text);
        if (rc) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            err_set(err, "%s: calibration text: %s", c->files[i], msg);
            goto fail;
        }
        for (size_t k = 0; k < t.n && used + (bos >= 0) < share; k += (size_t)room) {
            size_t n0 = c->ids.n;
            intvec_push(&c->starts, (int)c->ids.n);
            if (bos >= 0) intvec_push(&c->ids, bos);
            for (size_t j = k; j < t.n && j < k + (size_t)room && used + (int64_t)(c->ids.n - n0) < share; j++)
                intvec_push(&c->ids, t.v[j]);
            used += (int64_t)(c->ids.n - n0);
        }
    }
    intvec_free(&t);
    intvec_push(&c->starts, (int)c->ids.n);
    if (c->ids.n == 0) return err_set(err, "%s: the calibration texts hold no tokens", c->files[0]);
    return 0;
fail:
    intvec_free(&t);
    return -1;
}

static void observe(void *ctx, int layer, int input, const float *x, int M, int K) {
    Calib *c = ctx;
    const int L = c->m->cfg.n_layer;
    const int li = layer < 0 ? L : layer;
    Slot *s = &c->slots[layer < 0 ? L * 4 : layer * 4 + input];
    if (s->K != K) return;
    if (c->mode == 0) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < K; j++) s->sq[j] += (double)x[(size_t)i * K + j] * x[(size_t)i * K + j];
        s->n += M;
    } else if (li >= c->lo && li < c->hi) {
        /* H[K, K] += x^T x (row-major sgemm); float sums: relative error ~1e-7 * sqrt(batches) */
        if (dnnl_sgemm('T', 'N', K, K, M, 1.0f, x, K, x, K, 1.0f, s->H, K) != dnnl_success) c->fail = 1;
        s->nh += M;
    }
}

/* One pass over all windows with the observer in the given mode. */
static int run_pass(Calib *c, int mode, const char *what, Err *err) {
    Forward *f = fwd_new(c->m, COMPUTE_F32, err);
    if (!f) return -1;
    c->mode = mode;
    c->fail = 0;
    fwd_set_observer(f, observe, c);
    int rc = 0;
    const size_t nw = c->starts.n - 1;
    for (size_t w = 0; w < nw && rc == 0; w++) {
        progress("quantize: calibration %s, window %zu/%zu", what, w + 1, nw);
        fwd_rewind(f, 0);
        rc = fwd_eval(f, c->ids.v + c->starts.v[w], c->starts.v[w + 1] - c->starts.v[w], NULL, 0, err);
    }
    if (rc == 0 && c->fail) rc = err_set(err, "%s: calibration: oneDNN sgemm failed", c->m->path);
    fwd_free(f);
    return rc;
}

/* The slot of a tensor name, or -1. */
static int slot_of(const Calib *c, const char *name) {
    const int L = c->m->cfg.n_layer;
    if (!strcmp(name, "output.weight")) return L * 4;
    int l, k = 0;
    char what[64];
    if (sscanf(name, "blk.%d.%63[^.].weight%n", &l, what, &k) != 2 || name[k] || l < 0 || l >= L) return -1;
    /* attn_qkv: phi3's fused q/k/v, one input with them (its ffn_up, gate | up, is ffn_up's);
     * attn_q_a, attn_kv_a_mqa: deepseek2's projections of the normed input (model/mla.h) */
    static const char *const names[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down",
                                        "attn_qkv", "attn_q_a", "attn_kv_a_mqa"};
    static const int inputs[] = {FWD_IN_QKV, FWD_IN_QKV, FWD_IN_QKV, FWD_IN_WO, FWD_IN_GATEUP, FWD_IN_GATEUP, FWD_IN_DOWN,
                                 FWD_IN_QKV, FWD_IN_QKV, FWD_IN_QKV};
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (!strcmp(what, names[i])) return l * 4 + inputs[i];
    return -1;
}

int calib_importance(Calib *c, const char *name, int64_t K, const float **out, Err *err) {
    *out = NULL;
    int s = slot_of(c, name);
    if (s < 0 || c->slots[s].K != K) return 0;
    if (!c->have_imp) {
        if (run_pass(c, 0, "(importance)", err)) return -1;
        for (int i = 0; i < c->n_slots; i++) {
            Slot *t = &c->slots[i];
            if (!t->K) continue;
            t->imp = xmalloc((size_t)t->K * sizeof(float));
            /* a floor of 1e-5 of the mean keeps a column that never fired (imp 0) from dropping
             * out of the weighted scale searches entirely (a block of such columns would have no
             * weight at all) */
            double mean = 0;
            for (int j = 0; j < t->K; j++) mean += t->n ? t->sq[j] / (double)t->n / t->K : 0;
            const double floor_ = mean > 0 ? 1e-5 * mean : 1e-12;
            for (int j = 0; j < t->K; j++) t->imp[j] = (float)((t->n ? t->sq[j] / (double)t->n : 0) + floor_);
        }
        c->have_imp = 1;
    }
    *out = c->slots[s].imp;
    return 0;
}

static uint64_t layer_bytes(const Calib *c, int l) {
    uint64_t b = 0;
    for (int in = 0; in < 4; in++) {
        if (l == c->m->cfg.n_layer && in) break;
        const Slot *s = &c->slots[l * 4 + in];
        b += (uint64_t)s->K * (uint64_t)s->K * sizeof(float);
    }
    return b;
}

int calib_hessian(Calib *c, const char *name, int64_t K, const float **out, Err *err) {
    *out = NULL;
    int s = slot_of(c, name);
    if (s < 0 || c->slots[s].K != K) return 0;
    const int L = c->m->cfg.n_layer, l = s / 4;
    if (!(l >= c->lo && l < c->hi)) {
        for (int i = 0; i < c->n_slots; i++) {
            free(c->slots[i].H);
            c->slots[i].H = NULL;
        }
        uint64_t total = layer_bytes(c, l);
        int hi = l + 1;
        while (hi <= L && total + layer_bytes(c, hi) <= CALIB_HESSIAN_BYTES) total += layer_bytes(c, hi++);
        c->lo = l, c->hi = hi;
        for (int g = l; g < hi; g++)
            for (int in = 0; in < 4; in++) {
                if (g == L && in) break;
                Slot *t = &c->slots[g * 4 + in];
                t->H = xcalloc((size_t)t->K * (size_t)t->K, sizeof(float));
                t->nh = 0;
            }
        char what[64];
        snprintf(what, sizeof what, "(Hessians of layers %d-%d)", l, hi - 1);
        if (run_pass(c, 1, what, err)) {
            c->lo = c->hi = 0;
            return -1;
        }
        for (int g = l; g < hi; g++)
            for (int in = 0; in < 4; in++) {
                if (g == L && in) break;
                Slot *t = &c->slots[g * 4 + in];
                const size_t kk = (size_t)t->K * (size_t)t->K;
                const float inv = t->nh ? 1.0f / (float)t->nh : 0;
                for (size_t i = 0; i < kk; i++) t->H[i] *= inv;
            }
    }
    *out = c->slots[s].H;
    return 0;
}
