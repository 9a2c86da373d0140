/* coldtok info MODEL: what a GGUF file holds — header, hyper-parameters, every metadata key,
 * the tensor table and the bytes per type. Reads only metadata and tensor infos (no weights). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/info_hf.h"
#include "formats/gguf.h"
#include "formats/qtype.h"

static const char *USAGE =
    "usage: coldtok info MODEL.gguf | HF-FOLDER\n"
    "\n"
    "Describes a llama.cpp GGUF file without loading its weights: format version, size and\n"
    "alignment; architecture and hyper-parameters (context length, embedding width, layers,\n"
    "heads, kv heads, head dim, ffn width, rope type/theta/dims, rms eps, vocab size); a tokenizer\n"
    "summary from the tokenizer.ggml.* keys; every metadata key with its value (long arrays\n"
    "abbreviated); the tensor table (name, type, shape in ggml ne order, bytes); totals per type,\n"
    "total weight bytes and bits per weight; then the tensor types coldtok cannot convert to float\n"
    "(known to ggml, e.g. NVFP4 or I32), one line each with its ggml type number.\n"
    "\n"
    "A Hugging Face folder (config.json + safetensors) or .safetensors file is loaded instead:\n"
    "family and shape, the quantization scheme of config.json's quantization_config (gptq, awq,\n"
    "aqlm, fp8, compressed-tensors), and per weight matrix its scheme, shape, stored bytes (codes,\n"
    "scales, zeros, codebooks) and bits per weight; then the totals.\n"
    "\n"
    "  -h, --help   this text\n"
    "\n"
    "Exit status: 0 ok, 1 unreadable or malformed file (one line on stderr), 2 usage error.\n";

/* RoPE pairing per architecture, as llama.cpp's llama_model_rope_type assigns it. */
static const char *rope_kind(const char *arch) {
    static const char *normal[] = {"llama", "deci", "baichuan", "starcoder", "internlm2", "minicpm",
                                   "xverse", "command-r", "cohere2", "olmo", "arctic", "deepseek",
                                   "deepseek2", "plm", "chatglm", "granite", "granitemoe",
                                   "chameleon", "solar", NULL};
    static const char *neox[] = {"falcon", "grok", "dbrx", "bert", "jina-bert-v2", "nomic-bert",
                                 "stablelm", "bitnet", "qwen", "qwen2", "qwen2moe", "qwen2vl",
                                 "qwen3", "qwen3moe", "phi2", "phi3", "phimoe", "gemma", "gemma2",
                                 "gemma3", "starcoder2", "openelm", "gptneox", "codeshell", "orion",
                                 "nemotron", "exaone", "minicpm3", "olmo2", "olmoe", NULL};
    for (const char **a = normal; *a; a++)
        if (!strcmp(arch, *a)) return "normal (adjacent pairs)";
    for (const char **a = neox; *a; a++)
        if (!strcmp(arch, *a)) return "neox (halves)";
    return "unknown for this architecture";
}

static int arch_int(const Gguf *g, const char *arch, const char *suffix, int64_t *v) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return gguf_get_int(g, key, v);
}

static int arch_float(const Gguf *g, const char *arch, const char *suffix, double *v) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return gguf_get_float(g, key, v);
}

static void print_int_row(const char *label, int ok, int64_t v, const char *note) {
    if (ok) printf("  %-16s %" PRId64 "%s\n", label, v, note);
    else printf("  %-16s -\n", label);
}

/* The shortest decimal that reads back as the same float32/double (1e-05, not 9.99999975e-06). */
static void shortest(char *out, size_t cap, double v, int is_f32) {
    if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v) { /* integral: 10000, not 1e+04 */
        snprintf(out, cap, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, v);
        if (is_f32 ? strtof(out, NULL) == (float)v : strtod(out, NULL) == v) return;
    }
}

static void print_str(const char *s, size_t len) {
    Buf b = {0};
    putchar('"');
    for (size_t i = 0; i < len && i < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\') buf_printf(&b, "\\x%02x", c);
        else buf_putc(&b, (char)c);
    }
    fputs(b.data ? b.data : "", stdout);
    fputs(len > 64 ? "...\"" : "\"", stdout);
    buf_free(&b);
}

static void print_token(const Gguf *g, const char *label, const char *key) {
    int64_t id;
    if (gguf_get_int(g, key, &id)) return;
    printf(", %s %" PRId64, label, id);
    size_t len;
    const char *s = id >= 0 ? gguf_arr_str(g, gguf_find_kv(g, "tokenizer.ggml.tokens"), (uint64_t)id, &len) : NULL;
    if (s) {
        putchar(' ');
        print_str(s, len);
    } else {
        printf(" (not a token id)");
    }
}

static void print_hparams(const Gguf *g, const char *arch, uint64_t n_tokens) {
    int64_t ctx = 0, embd = 0, layers = 0, heads = 0, kv = 0, hd = 0, ff = 0, rdims = 0, vocab = 0;
    double theta, eps;
    /* look everything up first: argument evaluation order is unspecified */
    int has_ctx = !arch_int(g, arch, "context_length", &ctx);
    int has_embd = !arch_int(g, arch, "embedding_length", &embd);
    int has_layers = !arch_int(g, arch, "block_count", &layers);
    int has_heads = !arch_int(g, arch, "attention.head_count", &heads);
    int has_kv = !arch_int(g, arch, "attention.head_count_kv", &kv);
    int has_hd = !arch_int(g, arch, "attention.key_length", &hd);
    int has_ff = !arch_int(g, arch, "feed_forward_length", &ff);
    printf("hyper-parameters\n");
    print_int_row("context length", has_ctx, ctx, "");
    print_int_row("embedding", has_embd, embd, "");
    print_int_row("layers", has_layers, layers, "");
    print_int_row("heads", has_heads, heads, "");
    if (has_kv) print_int_row("kv heads", 1, kv, "");
    else print_int_row("kv heads", has_heads, heads, " (no key: = heads)");
    if (has_hd) print_int_row("head dim", 1, hd, "");
    else print_int_row("head dim", has_embd && has_heads && heads > 0, heads > 0 ? embd / heads : 0,
                       " (embedding / heads)");
    print_int_row("ffn", has_ff, ff, "");
    char num[40];
    printf("  %-16s %s", "rope", rope_kind(arch));
    if (!arch_float(g, arch, "rope.freq_base", &theta)) {
        shortest(num, sizeof num, theta, 1);
        printf(", theta %s", num);
    } else {
        printf(", theta 10000 (no key: default)");
    }
    if (!arch_int(g, arch, "rope.dimension_count", &rdims)) printf(", dims %" PRId64, rdims);
    putchar('\n');
    if (!arch_float(g, arch, "attention.layer_norm_rms_epsilon", &eps)) {
        shortest(num, sizeof num, eps, 1);
        printf("  %-16s %s\n", "rms eps", num);
    } else if (!arch_float(g, arch, "attention.layer_norm_epsilon", &eps)) {
        shortest(num, sizeof num, eps, 1);
        printf("  %-16s - (layer norm eps %s)\n", "rms eps", num);
    } else {
        printf("  %-16s -\n", "rms eps");
    }
    const GgufTensor *emb = gguf_find_tensor(g, "token_embd.weight");
    int has_vocab = !arch_int(g, arch, "vocab_size", &vocab);
    if (has_vocab) print_int_row("vocab size", 1, vocab, "");
    else if (n_tokens) print_int_row("vocab size", 1, (int64_t)n_tokens, " (tokenizer.ggml.tokens)");
    else print_int_row("vocab size", emb && emb->n_dims == 2, emb ? emb->ne[1] : 0, " (token_embd.weight)");
}

static void print_shape(const GgufTensor *t, char *out, size_t cap) {
    size_t o = (size_t)snprintf(out, cap, "[");
    for (int d = 0; d < t->n_dims; d++)
        o += (size_t)snprintf(out + o, cap - o, "%s%" PRId64, d ? ", " : "", t->ne[d]);
    snprintf(out + o, cap - o, "]");
}

/* The types of this file that coldtok cannot convert to float (ggml types it knows only by name
 * and block size): one line each, with the first tensor of that type, since logits, probe and
 * quantize stop at such a tensor. */
static void print_unreadable(const Gguf *g, const uint64_t count[64]) {
    int n_types = 0;
    for (uint32_t t = 0; t < 64; t++) n_types += count[t] && !qtype_can_dequant(t);
    if (!n_types) return;
    printf("\ntypes coldtok cannot read (%d; it lists them but cannot run a model with them)\n", n_types);
    for (uint32_t t = 0; t < 64; t++) {
        if (!count[t] || qtype_can_dequant(t)) continue;
        const char *first = "";
        for (int i = 0; i < gguf_n_tensors(g) && !*first; i++)
            if (gguf_tensor(g, i)->type == t) first = gguf_tensor(g, i)->name;
        printf("  %-7s  ggml type %2u  %4" PRIu64 " tensor%s, first %s\n", qtype_name(t), t, count[t],
               count[t] == 1 ? " " : "s", first);
    }
}

static void print_tensors(const Gguf *g) {
    int n = gguf_n_tensors(g);
    printf("\ntensors (%d; shape in ggml ne order, ne[0] contiguous)\n", n);
    size_t w = 4;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(gguf_tensor(g, i)->name);
        if (l > w) w = l;
    }
    if (n) printf("  %-*s  %-7s  %-22s  %12s\n", (int)w, "name", "type", "shape", "bytes");
    uint64_t count[64] = {0}, elems[64] = {0}, bytes[64] = {0}, tot_e = 0, tot_b = 0;
    for (int i = 0; i < n; i++) {
        const GgufTensor *t = gguf_tensor(g, i);
        char shape[128];
        print_shape(t, shape, sizeof shape);
        printf("  %-*s  %-7s  %-22s  %12" PRIu64 "\n", (int)w, t->name, qtype_name(t->type), shape, t->nbytes);
        uint64_t e = (uint64_t)t->ne[0] * (uint64_t)t->ne[1] * (uint64_t)t->ne[2] * (uint64_t)t->ne[3];
        count[t->type]++;
        elems[t->type] += e;
        bytes[t->type] += t->nbytes;
        tot_e += e;
        tot_b += t->nbytes;
    }
    printf("\ntotals by type\n");
    for (int t = 0; t < 64; t++)
        if (count[t])
            printf("  %-7s  %4" PRIu64 " tensors  %12" PRIu64 " weights  %12" PRIu64 " bytes  %7.4f bits/weight\n",
                   qtype_name((uint32_t)t), count[t], elems[t], bytes[t], 8.0 * (double)bytes[t] / (double)elems[t]);
    if (!n) printf("  (no tensors: a vocabulary-only file)\n");
    printf("\ntotal: %d tensors, %" PRIu64 " weights, %" PRIu64 " bytes (%.2f MiB)", n, tot_e, tot_b,
           (double)tot_b / 1048576.0);
    if (tot_e) printf(", %.4f bits per weight", 8.0 * (double)tot_b / (double)tot_e);
    putchar('\n');
    print_unreadable(g, count);
}

int cmd_info(int argc, char **argv) {
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(USAGE, stdout);
            return 0;
        }
        return cli_option_error("info", c, argv, opts);
    }
    if (argc - optind != 1)
        return cli_usage_error("info", argc - optind ? "give exactly one MODEL" : "missing MODEL");
    const char *path = argv[optind];
    size_t pl = strlen(path);
    char cfg[4096];
    snprintf(cfg, sizeof cfg, "%s/config.json", path);
    /* a folder with a config.json, or a .safetensors file: a Hugging Face checkpoint */
    if ((is_dir(path) && is_file(cfg)) || (pl > 12 && !strcmp(path + pl - 12, ".safetensors"))) return info_hf(path);
    Err err;
    Gguf *g = gguf_open(path, &err);
    if (!g) return cli_fail("info", "%s", err.msg);

    size_t alen = 0;
    const char *a = gguf_get_str(g, "general.architecture", &alen);
    char arch[128] = "";
    if (a) snprintf(arch, sizeof arch, "%.*s", (int)(alen < 127 ? alen : 127), a);
    int tok_kv = gguf_find_kv(g, "tokenizer.ggml.tokens");
    uint64_t n_tokens = 0;
    int et;
    if (gguf_arr_info(g, tok_kv, &et, &n_tokens) || et != GGUF_STRING) n_tokens = 0;

    printf("file          %s\n", path);
    printf("format        GGUF v%u, %" PRIu64 " bytes (%.2f MiB), alignment %u", gguf_version(g),
           gguf_file_size(g), (double)gguf_file_size(g) / 1048576.0, gguf_alignment(g));
    if (gguf_n_tensors(g)) printf(", data section at byte %" PRIu64, gguf_data_offset(g));
    putchar('\n');
    printf("architecture  %s", a ? arch : "- (no general.architecture key)");
    size_t nlen;
    const char *name = gguf_get_str(g, "general.name", &nlen);
    if (name) {
        printf("   name ");
        print_str(name, nlen);
    }
    printf("\n\n");
    if (a) print_hparams(g, arch, n_tokens);
    else printf("hyper-parameters: unknown without general.architecture\n");

    size_t mlen;
    const char *tm = gguf_get_str(g, "tokenizer.ggml.model", &mlen);
    printf("\ntokenizer (from the tokenizer.ggml.* keys)\n");
    if (tm || n_tokens) {
        printf("  model ");
        if (tm) print_str(tm, mlen);
        else printf("-");
        size_t plen;
        const char *pre = gguf_get_str(g, "tokenizer.ggml.pre", &plen);
        if (pre) {
            printf(", pre ");
            print_str(pre, plen);
        }
        printf(", %" PRIu64 " tokens", n_tokens);
        uint64_t n_merges = 0;
        if (!gguf_arr_info(g, gguf_find_kv(g, "tokenizer.ggml.merges"), &et, &n_merges))
            printf(", %" PRIu64 " merges", n_merges);
        print_token(g, "bos", "tokenizer.ggml.bos_token_id");
        print_token(g, "eos", "tokenizer.ggml.eos_token_id");
        putchar('\n');
    } else {
        printf("  none\n");
    }

    printf("\nmetadata (%d keys)\n", gguf_n_kv(g));
    Buf b = {0};
    for (int i = 0; i < gguf_n_kv(g); i++) {
        buf_clear(&b);
        gguf_kv_format(g, i, &b);
        printf("  ");
        for (const char *k = gguf_kv_key(g, i); *k; k++) /* keys may hold control bytes */
            (unsigned char)*k < 0x20 ? printf("\\x%02x", (unsigned char)*k) : putchar(*k);
        printf(" = %s\n", b.data ? b.data : "");
    }
    buf_free(&b);
    print_tensors(g);
    gguf_close(g);
    if (fflush(stdout) || ferror(stdout)) return cli_fail("info", "cannot write the output");
    return 0;
}
