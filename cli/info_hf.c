/* info_hf: see info_hf.h. */
#include "cli/info_hf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/qtype.h"
#include "formats/safetensors.h"
#include "model/arch.h"
#include "model/model.h"

/* The scheme of one matrix: "gptq 4-bit, group 32, act-order", "aqlm 2x8", "F16", ... */
static void scheme(const Tensor *t, char *out, size_t cap) {
    const HqTensor *h = &t->hq;
    char g[48];
    if (h->group_size >= h->cols) snprintf(g, sizeof g, "per channel");
    else snprintf(g, sizeof g, "group %" PRId64, h->group_size);
    switch (h->method) {
    case HQ_GPTQ:
        snprintf(out, cap, "gptq %d-bit, %s%s", h->bits, g, h->g_idx ? ", act-order" : "");
        break;
    case HQ_AWQ:
        snprintf(out, cap, "awq %d-bit%s, %s%s", h->bits, h->awq_gemv ? " gemv" : "", g,
                 h->qzeros ? "" : ", symmetric");
        break;
    case HQ_AQLM: snprintf(out, cap, "aqlm %dx%d", h->n_codebooks, h->codebook_bits); break;
    case HQ_FP8:
        if (h->block_r == h->rows && h->block_c == h->cols) snprintf(out, cap, "fp8 e4m3, per tensor");
        else if (h->block_r == 1 && h->block_c == h->cols) snprintf(out, cap, "fp8 e4m3, per channel");
        else snprintf(out, cap, "fp8 e4m3, blocks %" PRId64 "x%" PRId64, h->block_r, h->block_c);
        break;
    case HQ_CT_INT: snprintf(out, cap, "compressed-tensors int%d, %s", h->bits, g); break;
    case HQ_BNB4:
        snprintf(out, cap, "bitsandbytes 4-bit, blocks of %" PRId64 "%s", h->group_size,
                 h->nested_absmax ? ", double quant" : "");
        break;
    case HQ_BNB8: snprintf(out, cap, "bitsandbytes int8 (LLM.int8)"); break;
    default: {
        const char *n = qtype_name(t->type);
        snprintf(out, cap, "%s", n ? n : "?");
    }
    }
}

static uint64_t bytes_of(const Tensor *t) {
    if (t->hq.method != HQ_NONE) return t->hq.bytes;
    return (uint64_t)qtype_row_bytes(t->type, t->cols) * (uint64_t)t->rows;
}

typedef struct {
    uint64_t elems, bytes;
    int packed, plain;
} Totals;

static void row(const Tensor *t, const char *label, Totals *tot) {
    if (!t->data) return;
    char s[96], shape[48];
    scheme(t, s, sizeof s);
    snprintf(shape, sizeof shape, "[%" PRId64 ", %" PRId64 "]", t->rows, t->cols);
    uint64_t b = bytes_of(t), e = (uint64_t)t->rows * (uint64_t)t->cols;
    printf("  %-44s %-36s %-14s %10" PRIu64 " %7.3f\n", label, s, shape, b, 8.0 * (double)b / (double)e);
    tot->elems += e, tot->bytes += b;
    t->hq.method != HQ_NONE ? tot->packed++ : tot->plain++;
}

/* "model.layers.0.self_attn.q_proj" from a stored name "...q_proj.qweight" / ".weight" / ... */
static void module_name(const Tensor *t, char *out, size_t cap) {
    snprintf(out, cap, "%s", t->name ? t->name : "?");
    char *dot = strrchr(out, '.');
    if (dot) *dot = '\0';
}

int info_hf(const char *path) {
    Err err;
    Model *m = model_load(path, &err);
    if (!m) return cli_fail("info", "%s", err.msg);
    const Config *c = &m->cfg;
    const ArchInfo *a = arch_info(c->arch);
    const SafeTensors *st = m->st;
    uint64_t file_bytes = 0;
    for (int i = 0; st && i < st_n_tensors(st); i++) file_bytes += st_tensor(st, i)->nbytes;
    printf("file          %s\n", path);
    printf("format        safetensors (Hugging Face), %d tensors, %" PRIu64 " bytes of tensor data (%.2f MiB)\n",
           st ? st_n_tensors(st) : 0, file_bytes, (double)file_bytes / 1048576.0);
    printf("architecture  %s: %d layers, embedding %d, ffn %d, heads %d (kv %d), vocab %d\n", a ? a->name : "?",
           c->n_layer, c->n_embd, c->n_ff, c->n_head, c->n_head_kv, c->n_vocab);
    /* the scheme: the first packed matrix's */
    const Tensor *first = NULL;
    for (int l = 0; l < c->n_layer && !first; l++) {
        const Layer *y = &m->layers[l];
        const Tensor *ts[] = {&y->wq, &y->wk, &y->wv, &y->wo, &y->w_gate, &y->w_up, &y->w_down,
                              &y->wq_a, &y->wq_b, &y->wkv_a, &y->wkv_b};
        for (size_t i = 0; i < sizeof ts / sizeof *ts && !first; i++)
            if (ts[i]->data && ts[i]->hq.method != HQ_NONE) first = ts[i];
    }
    char s[96];
    if (first) scheme(first, s, sizeof s);
    printf("quantization  %s\n\n", first ? s : "none (plain tensors)");

    printf("weight matrices\n  %-44s %-36s %-14s %10s %7s\n", "module", "scheme", "shape [out, in]", "bytes",
           "bits/w");
    Totals tot = {0};
    char name[300];
    row(&m->tok_embd, "token embeddings", &tot);
    if (!c->tied) row(&m->output, "output (lm_head)", &tot);
    for (int l = 0; l < c->n_layer; l++) {
        const Layer *y = &m->layers[l];
        const Tensor *ts[] = {&y->wq, &y->wk, &y->wv, &y->wo, &y->w_gate, &y->w_up, &y->w_down,
                              &y->wq_a, &y->wq_b, &y->wkv_a, &y->wkv_b, &y->wk_b, &y->wv_b};
        for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
            if (!ts[i]->data) continue;
            module_name(ts[i], name, sizeof name);
            row(ts[i], name, &tot);
        }
        if (y->moe) { /* the routed experts as one line per layer */
            Tensor sum = {0};
            uint64_t b = 0, e = 0;
            for (int x = 0; x < c->moe.n_expert; x++) {
                const Tensor *et[] = {&y->moe->gate[x], &y->moe->up[x], &y->moe->down[x]};
                for (int k = 0; k < 3; k++)
                    if (et[k]->data) b += bytes_of(et[k]), e += (uint64_t)et[k]->rows * (uint64_t)et[k]->cols;
                if (!sum.data) sum = *et[0];
            }
            if (e) {
                scheme(&sum, s, sizeof s);
                printf("  layer %-38d %-36s %-14s %10" PRIu64 " %7.3f\n", l, s, "(experts)", b, 8.0 * (double)b / (double)e);
                tot.elems += e, tot.bytes += b;
            }
        }
    }
    printf("\n%d packed and %d plain matrices: %" PRIu64 " weights in %" PRIu64 " bytes, %.4f bits per weight\n",
           tot.packed, tot.plain, tot.elems, tot.bytes, tot.elems ? 8.0 * (double)tot.bytes / (double)tot.elems : 0.0);
    printf("whole checkpoint (every stored byte, norms included): %.4f bits per weight\n", model_bits_per_weight(m));
    model_free(m);
    if (fflush(stdout) || ferror(stdout)) return cli_fail("info", "cannot write the output");
    return 0;
}
