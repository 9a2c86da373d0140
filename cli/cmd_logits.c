/* coldtok logits: one forward pass over a context, the top next tokens, and the raw logits. */
#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "analysis/manifest.h"
#include "model/forward.h"
#include "model/model.h"
#include "formats/qtype.h"
#include "tokenizer/tokenizer.h"

static const char USAGE[] =
    "usage: coldtok logits -m MODEL [--context bos|TOKEN]... [--context-text TEXT]... [--top N]\n"
    "                      [--raw FILE.f32] [--raw-all FILE.f32] [--compute f32|bf16]\n"
    "                      [-t TOKENIZER]\n"
    "\n"
    "Runs the model over the context and prints the most likely next tokens.\n"
    "\n"
    "  -m, --model MODEL     a GGUF file, a .safetensors file (config.json beside it) or a\n"
    "                        Hugging Face folder\n"
    "  -c, --context TOKEN   a context token, repeatable, in order: 'bos' (the tokenizer's BOS,\n"
    "                        or its EOS when it has none; the default), a token id, or a token\n"
    "                        as the vocabulary stores it ('Ġdef', '▁def') or as text (' def')\n"
    "  -x, --context-text T  text, encoded by the tokenizer (as `coldtok encode`, no BOS) and\n"
    "                        appended to the context in order with --context; when no --context\n"
    "                        is given the context starts with bos (when the tokenizer has a BOS\n"
    "                        or EOS), so --context-text 'Once upon' is -c bos -c ▁Once -c ▁upon\n"
    "  -n, --top N           how many tokens to list (default 10; 0 for none)\n"
    "  --raw FILE            write the logits of the last position: n_vocab little-endian float32\n"
    "  --raw-all FILE        write the logits of every position: [n_pos][n_vocab] float32\n"
    "  --compute f32|bf16    f32: exact dequantized weights (default); bf16: oneDNN bf16 matmuls\n"
    "  -t, --tokenizer TOK   tokenizer to use (default: the model's own: the GGUF file or the\n"
    "                        folder's tokenizer.json); without one, tokens are shown as ids\n";

/* Token text for display: quoted, with whitespace, control bytes and bytes that are not valid
 * UTF-8 (a byte token, half a character) escaped. */
static void print_token(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        uint32_t cp;
        int len = ch >= 0x80 ? utf8_decode((const uint8_t *)s + i, n - i, &cp) : 0;
        if (len > 0) {
            fwrite(s + i, 1, (size_t)len, stdout);
            i += (size_t)len - 1;
            continue;
        }
        if (ch == '\n') fputs("\\n", stdout);
        else if (ch == '\t') fputs("\\t", stdout);
        else if (ch == '\r') fputs("\\r", stdout);
        else if (ch == '"' || ch == '\\') printf("\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f) printf("\\x%02x", ch);
        else putchar(ch);
    }
    putchar('"');
}

static void show(const Tokenizer *tok, int id) {
    if (!tok || id >= tok_vocab_size(tok)) return;
    size_t n;
    const char *b = tok_bytes(tok, id, &n);
    print_token(b, n);
}

static int write_raw(const char *path, const float *x, size_t n, Err *err) {
    return write_file_atomic(path, x, n * sizeof(float), err); /* x86/ARM Linux are little-endian */
}

/* A --context argument as a token id. */
static int resolve(const char *arg, const Tokenizer *tok, int n_vocab, Err *err) {
    if (!strcmp(arg, "bos")) {
        if (!tok) return err_set(err, "--context bos needs a tokenizer; give a token id instead");
        int id = tok_bos(tok) >= 0 ? tok_bos(tok) : tok_eos(tok);
        if (id < 0) return err_set(err, "%s: the tokenizer has neither BOS nor EOS", tok_path(tok));
        return id;
    }
    const char *p = arg;
    while (isdigit((unsigned char)*p)) p++;
    if (*arg && !*p) {
        long id = strtol(arg, NULL, 10);
        if (id >= n_vocab || strlen(arg) > 9)
            return err_set(err, "token id %s is outside the vocabulary (0..%d)", arg, n_vocab - 1);
        return (int)id;
    }
    if (!tok) return err_set(err, "no tokenizer to look up '%s'; give a token id", arg);
    int id = tok_id_of_piece(tok, arg, strlen(arg));
    if (id < 0) id = tok_id_of_bytes(tok, arg, strlen(arg));
    if (id < 0) return err_set(err, "'%s' is not a token of %s", arg, tok_path(tok));
    return id;
}

typedef struct {
    int id;
    float logit;
} Cand;

static int by_logit(const void *a, const void *b) {
    const Cand *x = a, *y = b;
    return x->logit > y->logit ? -1 : x->logit < y->logit ? 1 : x->id - y->id;
}

int cmd_logits(int argc, char **argv) {
    enum { RAW = 1000, RAW_ALL, COMPUTE };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},   {"context", required_argument, NULL, 'c'},
        {"context-text", required_argument, NULL, 'x'},
        {"top", required_argument, NULL, 'n'},     {"raw", required_argument, NULL, RAW},
        {"raw-all", required_argument, NULL, RAW_ALL}, {"compute", required_argument, NULL, COMPUTE},
        {"tokenizer", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *model_path = NULL, *raw = NULL, *raw_all = NULL, *tok_path_arg = NULL;
    /* the context in order: is_text[i] says whether ctx[i] is a --context-text */
    const char **ctx = xmalloc((size_t)(argc + 1) * sizeof *ctx);
    int *is_text = xcalloc((size_t)argc + 1, sizeof *is_text);
    int n_ctx = 0, n_ids = 0, top = 10, c, rc = 1;
    Compute compute = COMPUTE_F32;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:c:x:n:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'c': ctx[n_ctx++] = optarg; break;
        case 'x':
            is_text[n_ctx] = 1;
            ctx[n_ctx++] = optarg;
            break;
        case 'n': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 1000000) {
                free(ctx);
                free(is_text);
                return cli_usage_error("logits", "--top wants a count, not '%s'", optarg);
            }
            top = (int)v;
            break;
        }
        case RAW: raw = optarg; break;
        case RAW_ALL: raw_all = optarg; break;
        case COMPUTE: {
            int bad = cli_parse_compute("logits", optarg, &compute);
            if (bad) {
                free(ctx);
                free(is_text);
                return bad;
            }
            break;
        }
        case 't': tok_path_arg = optarg; break;
        case 'h':
            fputs(USAGE, stdout);
            free(ctx);
            free(is_text);
            return 0;
        default:
            free(ctx);
            free(is_text);
            return cli_option_error("logits", c, argv, opts);
        }
    }
    int bad = cli_no_operands("logits", argc, argv);
    if (!bad && !model_path) bad = cli_usage_error("logits", "missing -m MODEL");
    if (bad) {
        free(ctx);
        free(is_text);
        return bad;
    }
    int any_id = 0;
    for (int i = 0; i < n_ctx; i++) any_id |= !is_text[i];
    if (!any_id) { /* the default start token, before any text */
        memmove(ctx + 1, ctx, (size_t)n_ctx * sizeof *ctx);
        memmove(is_text + 1, is_text, (size_t)n_ctx * sizeof *is_text);
        ctx[0] = "bos", is_text[0] = 0, n_ctx++;
    }

    Err err;
    Model *m = NULL;
    Tokenizer *tok = NULL;
    Forward *f = NULL;
    IntVec idv = {0};
    int *ids = NULL;
    float *logits = NULL;
    Cand *cand = NULL;
    double t0 = now_seconds();
    if (!(m = model_load(model_path, &err))) {
        cli_fail("logits", "%s", err.msg);
        goto out;
    }
    int V = m->cfg.n_vocab;
    /* the model's own tokenizer: the GGUF file, or the folder of a safetensors model */
    char *tp = model_tokenizer_path(model_path, tok_path_arg);
    Err terr;
    tok = tok_load(tp, &terr);
    free(tp);
    if (!tok && tok_path_arg) {
        cli_fail("logits", "%s", terr.msg);
        goto out;
    }
    for (int i = 0; i < n_ctx; i++)
        if (is_text[i] && !tok) {
            cli_fail("logits", "--context-text needs a tokenizer (%s); give token ids instead", terr.msg);
            goto out;
        }
    for (int i = 0; i < n_ctx; i++) {
        if (is_text[i]) {
            if (tok_encode(tok, ctx[i], strlen(ctx[i]), 0, &idv, &err) != 0) {
                cli_fail("logits", "--context-text '%s': %s", ctx[i], err.msg);
                goto out;
            }
            continue;
        }
        /* the implicit start token before a text is left out when the tokenizer has none */
        if (i == 0 && !any_id && n_ctx > 1 && tok && tok_bos(tok) < 0 && tok_eos(tok) < 0) continue;
        int id = resolve(ctx[i], tok, V, &err);
        if (id < 0) {
            cli_fail("logits", "%s", err.msg);
            goto out;
        }
        intvec_push(&idv, id);
    }
    ids = idv.v, n_ids = (int)idv.n;
    if (n_ids == 0) {
        cli_fail("logits", "the context has no tokens (the --context-text is empty)");
        goto out;
    }
    double t1 = now_seconds();
    if (!(f = fwd_new(m, compute, &err))) {
        cli_fail("logits", "%s", err.msg);
        goto out;
    }
    logits = xmalloc((size_t)n_ids * V * sizeof(float));
    if (fwd_eval(f, ids, n_ids, logits, raw_all != NULL, &err)) {
        cli_fail("logits", "%s", err.msg);
        goto out;
    }
    double t2 = now_seconds();
    const float *last = raw_all ? logits + (size_t)(n_ids - 1) * V : logits;
    if ((raw && write_raw(raw, last, (size_t)V, &err)) ||
        (raw_all && write_raw(raw_all, logits, (size_t)n_ids * V, &err))) {
        cli_fail("logits", "%s", err.msg);
        goto out;
    }

    printf("model    %s (%s %s, %d layers, n_embd %d, n_vocab %d, %.1f MB of weights)\n", model_path,
           m->format, arch_name(m->cfg.arch), m->cfg.n_layer, m->cfg.n_embd, V,
           (double)model_weight_bytes(m) / 1e6);
    printf("context ");
    for (int i = 0; i < n_ids; i++) {
        printf(" %d", ids[i]);
        if (tok) putchar(' '), show(tok, ids[i]);
    }
    printf("\ncompute  %s, %s, %d threads; load %.1f ms, forward %.1f ms\n",
           compute == COMPUTE_BF16 ? "bf16" : "f32", fwd_kernel(f), fwd_threads(), (t1 - t0) * 1e3,
           (t2 - t1) * 1e3);
    if (!tok) printf("tokenizer: none (%s)\n", terr.msg);
    if (top > V) top = V;
    if (top > 0) {
        /* p = softmax(z) in double */
        double mx = last[0], sum = 0;
        for (int i = 1; i < V; i++) mx = fmax(mx, last[i]);
        for (int i = 0; i < V; i++) sum += exp((double)last[i] - mx);
        cand = xmalloc((size_t)V * sizeof *cand);
        for (int i = 0; i < V; i++) cand[i] = (Cand){i, last[i]};
        qsort(cand, (size_t)V, sizeof *cand, by_logit);
        printf("\n%5s %8s %10s %10s  %s\n", "rank", "id", "prob", "logit", "token");
        for (int r = 0; r < top; r++) {
            printf("%5d %8d %10.6f %10.4f  ", r + 1, cand[r].id, exp((double)cand[r].logit - mx) / sum,
                   cand[r].logit);
            show(tok, cand[r].id);
            putchar('\n');
        }
    }
    rc = fflush(stdout) || ferror(stdout) ? cli_fail("logits", "cannot write the output") : 0;
out:
    free(cand);
    free(logits);
    intvec_free(&idv);
    free(ctx);
    free(is_text);
    fwd_free(f);
    if (tok) tok_free(tok);
    model_free(m);
    return rc;
}
