/* gptq_synth: a GPTQ-4bit Hugging Face folder of a real model's shape, with random weights, for the
 * benchmarks (never committed; tests use tests/reference/hfquant_ref.py's tiny folders).
 *
 *   gptq_synth_write(spec, dir, desc_act, err)
 *
 * writes DIR/config.json (a qwen2 or llama config of spec's shape with a quantization_config:
 * quant_method gptq, bits 4, group_size 128, sym, checkpoint_format gptq, desc_act as asked) and
 * DIR/model.safetensors: the embedding F16 [n_vocab, n_embd] (and lm_head F16 when the model is
 * untied), norms F16, qwen2's q/k/v biases F16, and every linear of the layers packed as AutoGPTQ
 * stores it (docs/formats.md "Hugging Face quantized checkpoints"):
 *   qweight I32 [cols/8, rows]: the 4-bit codes of an output column, 8 inputs a word, input 8w+j
 *     in bits 4j..4j+3 of word w (random codes);
 *   qzeros I32 [cols/128, rows/8]: sym, so every zero point is 8, stored as 7 (checkpoint v1);
 *   scales F16 [cols/128, rows]: random in [0.003, 0.006] (weights of std ~0.02);
 *   g_idx I32 [cols]: the group of each input: i / 128, or with desc_act a random permutation's
 *     (g_idx[perm[j]] = j / 128, as GPTQ's activation order leaves it).
 * and DIR/tokenizer.json: synth's vocabulary (the 256 byte tokens of GPT-2's byte-level BPE,
 * <|endoftext|> = 256, no merges; the embedding's other rows are padding), so that `coldtok
 * quantize` of the folder gives a GGUF llama.cpp loads.
 * Seeded: the same spec gives the same bytes. Written into DIR.tmp and renamed when complete.
 * Returns 0, or -1 with one line in *err. Header-only (static functions): each bench is one program. */
#ifndef COLDTOK_BENCH_GPTQ_SYNTH_H
#define COLDTOK_BENCH_GPTQ_SYNTH_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "formats/qtype.h"
#include "quant/synth.h"

#define GS_GROUP 128

typedef struct {
    char name[160];
    const char *dtype; /* "F16" or "I32" */
    int64_t shape[2];
    int n_dims;
    int kind;          /* what to fill it with: GS_* below */
    int64_t rows, cols; /* of the linear a packed part belongs to */
} GsTensor;

enum { GS_EMBD, GS_NORM, GS_BIAS, GS_QWEIGHT, GS_QZEROS, GS_SCALES, GS_GIDX };

static uint64_t gs_next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static float gs_uniform(uint64_t *s) { return (float)((gs_next(s) >> 40) * (1.0 / 16777216.0)); } /* [0, 1) */

static int64_t gs_bytes(const GsTensor *t) {
    int64_t n = 1;
    for (int d = 0; d < t->n_dims; d++) n *= t->shape[d];
    return n * (strcmp(t->dtype, "F16") == 0 ? 2 : 4);
}

static void gs_add(GsTensor *ts, int *n, const char *name, const char *dtype, int64_t d0, int64_t d1, int kind,
                   int64_t rows, int64_t cols) {
    GsTensor *t = &ts[(*n)++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dtype, t->shape[0] = d0, t->shape[1] = d1, t->n_dims = d1 ? 2 : 1, t->kind = kind;
    t->rows = rows, t->cols = cols;
}

static void gs_add_linear(GsTensor *ts, int *n, const char *prefix, int64_t rows, int64_t cols) {
    static const char *part[] = {"qweight", "qzeros", "scales", "g_idx"};
    int64_t d0[] = {cols / 8, cols / GS_GROUP, cols / GS_GROUP, cols}, d1[] = {rows, rows / 8, rows, 0};
    for (int k = 0; k < 4; k++) {
        char name[160];
        if (snprintf(name, sizeof name, "%s.%s", prefix, part[k]) >= (int)sizeof name) continue; /* never */
        gs_add(ts, n, name, k == 2 ? "F16" : "I32", d0[k], d1[k], GS_QWEIGHT + k, rows, cols);
    }
}

/* Streams one tensor's values into fp. */
static int gs_fill(FILE *fp, const GsTensor *t, int desc_act, uint64_t *rng) {
    int64_t bytes = gs_bytes(t), n = bytes / (strcmp(t->dtype, "F16") == 0 ? 2 : 4);
    enum { CHUNK = 1 << 16 };
    static uint8_t buf[CHUNK * 4];
    if (t->kind == GS_GIDX) {
        int32_t *g = xmalloc((size_t)n * sizeof *g), *perm = xmalloc((size_t)n * sizeof *perm);
        for (int64_t i = 0; i < n; i++) perm[i] = (int32_t)i;
        if (desc_act)
            for (int64_t i = n - 1; i > 0; i--) {
                int64_t j = (int64_t)(gs_next(rng) % (uint64_t)(i + 1));
                int32_t x = perm[i];
                perm[i] = perm[j], perm[j] = x;
            }
        for (int64_t j = 0; j < n; j++) g[perm[j]] = (int32_t)(j / GS_GROUP);
        int ok = fwrite(g, 4, (size_t)n, fp) == (size_t)n;
        free(g), free(perm);
        return ok ? 0 : -1;
    }
    for (int64_t i = 0; i < n; i += CHUNK) {
        int64_t m = n - i < CHUNK ? n - i : CHUNK;
        for (int64_t k = 0; k < m; k++) {
            uint32_t w = 0;
            float f = 0;
            switch (t->kind) {
            case GS_EMBD: f = (gs_uniform(rng) * 2 - 1) * 0.0346f; break; /* std 0.02 */
            case GS_NORM: f = 1 + (gs_uniform(rng) * 2 - 1) * 0.173f; break;
            case GS_BIAS: f = (gs_uniform(rng) * 2 - 1) * 0.173f; break;
            case GS_QWEIGHT: w = (uint32_t)gs_next(rng); break;
            case GS_QZEROS: w = 0x77777777u; break; /* zero 8, stored minus one */
            case GS_SCALES: f = 0.003f + 0.003f * gs_uniform(rng); break;
            }
            if (t->dtype[0] == 'F') {
                uint16_t h = f32_to_fp16(f);
                memcpy(buf + 2 * k, &h, 2);
            } else {
                memcpy(buf + 4 * k, &w, 4);
            }
        }
        size_t sz = t->dtype[0] == 'F' ? 2 : 4;
        if (fwrite(buf, sz, (size_t)m, fp) != (size_t)m) return -1;
    }
    return 0;
}

static int gs_config(const SynthSpec *s, const char *path, int desc_act) {
    FILE *fp = fopen(path, "w");
    if (!fp) return -1;
    int qwen = s->arch == ARCH_QWEN2;
    fprintf(fp,
            "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\",\n  \"vocab_size\": %d,\n"
            "  \"hidden_size\": %d,\n  \"intermediate_size\": %d,\n  \"num_hidden_layers\": %d,\n"
            "  \"num_attention_heads\": %d,\n  \"num_key_value_heads\": %d,\n  \"head_dim\": %d,\n"
            "  \"rms_norm_eps\": %g,\n  \"rope_theta\": %.1f,\n  \"max_position_embeddings\": 32768,\n"
            "  \"hidden_act\": \"silu\",\n  \"torch_dtype\": \"float16\",\n  \"tie_word_embeddings\": %s,\n"
            "  \"quantization_config\": {\"quant_method\": \"gptq\", \"bits\": 4, \"group_size\": %d,\n"
            "    \"desc_act\": %s, \"sym\": true, \"checkpoint_format\": \"gptq\"}\n}\n",
            qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM", qwen ? "qwen2" : "llama", s->n_vocab, s->n_embd,
            s->n_ff, s->n_layer, s->n_head, s->n_head_kv, s->head_dim, s->rms_eps, s->rope_theta,
            s->tied ? "true" : "false", GS_GROUP, desc_act ? "true" : "false");
    return fclose(fp) == 0 ? 0 : -1;
}

/* DIR/tokenizer.json: byte-level BPE over the 256 bytes (GPT-2's byte-to-character map: printable
 * Latin-1 bytes stand for themselves, the others for U+0100 onwards), <|endoftext|> = 256. */
static int gs_tokenizer(const char *path) {
    FILE *fp = fopen(path, "w");
    if (!fp) return -1;
    fprintf(fp, "{\"version\": \"1.0\", \"added_tokens\": [{\"id\": 256, \"content\": \"<|endoftext|>\", "
                "\"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, "
                "\"special\": true}],\n \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"ByteLevel\", "
                "\"add_prefix_space\": false, \"trim_offsets\": false, \"use_regex\": true},\n \"decoder\": "
                "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": false, \"use_regex\": true},\n"
                " \"model\": {\"type\": \"BPE\", \"merges\": [], \"vocab\": {");
    int next = 256;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
        unsigned cp = printable ? (unsigned)b : (unsigned)next++;
        char u[8];
        int n = 0;
        if (cp == '"' || cp == '\\') u[n++] = '\\', u[n++] = (char)cp;
        else if (cp < 0x80) u[n++] = (char)cp;
        else u[n++] = (char)(0xc0 | cp >> 6), u[n++] = (char)(0x80 | (cp & 0x3f));
        fprintf(fp, "\"%.*s\": %d, ", n, u, b);
    }
    fprintf(fp, "\"<|endoftext|>\": 256}}}\n");
    return fclose(fp) == 0 ? 0 : -1;
}

static int gptq_synth_write(const SynthSpec *s, const char *dir, int desc_act, Err *err) {
    int64_t E = s->n_embd, F = s->n_ff, Q = (int64_t)s->n_head * s->head_dim, KV = (int64_t)s->n_head_kv * s->head_dim;
    if (E % GS_GROUP || F % GS_GROUP || Q % GS_GROUP || KV % 8)
        return err_set(err, "gptq_synth: shape %lld/%lld/%lld not a multiple of group %d", (long long)E,
                       (long long)F, (long long)Q, GS_GROUP);
    int cap = 4 + s->n_layer * 40, n = 0;
    GsTensor *ts = xcalloc((size_t)cap, sizeof *ts);
    gs_add(ts, &n, "model.embed_tokens.weight", "F16", s->n_vocab, E, GS_EMBD, 0, 0);
    for (int l = 0; l < s->n_layer; l++) {
        char p[128];
        static const char *norms[] = {"input_layernorm", "post_attention_layernorm"};
        for (int k = 0; k < 2; k++) {
            snprintf(p, sizeof p, "model.layers.%d.%s.weight", l, norms[k]);
            gs_add(ts, &n, p, "F16", E, 0, GS_NORM, 0, 0);
        }
        struct { const char *name; int64_t rows, cols; int bias; } lin[] = {
            {"self_attn.q_proj", Q, E, 1}, {"self_attn.k_proj", KV, E, 1}, {"self_attn.v_proj", KV, E, 1},
            {"self_attn.o_proj", E, Q, 0}, {"mlp.gate_proj", F, E, 0},     {"mlp.up_proj", F, E, 0},
            {"mlp.down_proj", E, F, 0},
        };
        for (size_t k = 0; k < sizeof lin / sizeof lin[0]; k++) {
            snprintf(p, sizeof p, "model.layers.%d.%s", l, lin[k].name);
            gs_add_linear(ts, &n, p, lin[k].rows, lin[k].cols);
            if (lin[k].bias && s->arch == ARCH_QWEN2) {
                char b[160];
                snprintf(b, sizeof b, "%s.bias", p);
                gs_add(ts, &n, b, "F16", lin[k].rows, 0, GS_BIAS, 0, 0);
            }
        }
    }
    gs_add(ts, &n, "model.norm.weight", "F16", E, 0, GS_NORM, 0, 0);
    if (!s->tied) gs_add(ts, &n, "lm_head.weight", "F16", s->n_vocab, E, GS_EMBD, 0, 0);

    /* the header: every tensor's dtype, shape and offsets, padded with spaces to 8 bytes */
    size_t hcap = (size_t)n * 200 + 64, hl = 0;
    char *h = xmalloc(hcap);
    int64_t off = 0;
    hl += (size_t)snprintf(h + hl, hcap - hl, "{");
    for (int i = 0; i < n; i++) {
        const GsTensor *t = &ts[i];
        char shape[64];
        if (t->n_dims == 2) snprintf(shape, sizeof shape, "%lld,%lld", (long long)t->shape[0], (long long)t->shape[1]);
        else snprintf(shape, sizeof shape, "%lld", (long long)t->shape[0]);
        hl += (size_t)snprintf(h + hl, hcap - hl, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%s],\"data_offsets\":[%lld,%lld]}",
                               i ? "," : "", t->name, t->dtype, shape, (long long)off, (long long)(off + gs_bytes(t)));
        off += gs_bytes(t);
    }
    hl += (size_t)snprintf(h + hl, hcap - hl, "}");
    while (hl % 8) h[hl++] = ' ';

    char tmp[1100], path[1200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", dir) >= (int)sizeof tmp)
        return free(h), free(ts), err_set(err, "gptq_synth: path too long: %s", dir);
    mkdir(tmp, 0755);
    snprintf(path, sizeof path, "%s/config.json", tmp);
    int rc = -1;
    FILE *fp = NULL;
    if (gs_config(s, path, desc_act)) {
        err_set(err, "gptq_synth: cannot write %s: %s", path, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof path, "%s/tokenizer.json", tmp);
    if (gs_tokenizer(path)) {
        err_set(err, "gptq_synth: cannot write %s: %s", path, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", tmp);
    fp = fopen(path, "wb");
    uint64_t hlen = hl;
    if (!fp || fwrite(&hlen, 8, 1, fp) != 1 || fwrite(h, 1, hl, fp) != hl) {
        err_set(err, "gptq_synth: cannot write %s: %s", path, strerror(errno));
        goto done;
    }
    uint64_t rng = s->seed ? s->seed : 13;
    for (int i = 0; i < n; i++)
        if (gs_fill(fp, &ts[i], desc_act, &rng)) {
            err_set(err, "gptq_synth: cannot write %s: %s", path, strerror(errno));
            goto done;
        }
    if (fclose(fp) != 0) {
        fp = NULL;
        err_set(err, "gptq_synth: cannot write %s: %s", path, strerror(errno));
        goto done;
    }
    fp = NULL;
    if (rename(tmp, dir) != 0) {
        err_set(err, "gptq_synth: cannot rename %s to %s: %s", tmp, dir, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (fp) fclose(fp);
    free(h);
    free(ts);
    return rc;
}

#endif
