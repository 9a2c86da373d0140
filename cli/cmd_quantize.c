/* coldtok quantize: make a quantized variant of a model (a llama.cpp GGUF file).
 * The work is in quant/qmodel (reading, writing) and quant/recipe (which type for which tensor);
 * this file parses options, checks them all before any work, and reports per tensor. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "report/run_record.h"
#include "report/table.h"
#include "quant/calib.h"
#include "quant/qmodel.h"
#include "formats/qtype.h"
#include "quant/recipe.h"

static const char USAGE[] =
    "usage: coldtok quantize -m MODEL --type TYPE -o OUT.gguf [--method rtn|imatrix|gptq]\n"
    "                        [--calib FILE|DIR ...] [--calib-tokens N] [--keep PATTERN=TYPE ...]\n"
    "                        [--llama-mix] [--csv FILE] [--save-imatrix DIR]\n"
    "\n"
    "Writes a quantized copy of MODEL (a GGUF file, or a Hugging Face folder / .safetensors file)\n"
    "as one llama.cpp GGUF file with the source's metadata and tokenizer, general.file_type and\n"
    "coldtok.quantize.* keys (method, type, calibration, calibration_tokens).\n"
    "\n"
    "  -m, --model MODEL     the model to quantize (quantized GGUF inputs are dequantized first)\n"
    "      --type TYPE       Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL IQ4_XS IQ3_S\n"
    "                        IQ2_XS IQ3_XXS F16 BF16 F32: every matrix in that type (llama-quantize\n"
    "                        --pure; IQ2_XS wants --method imatrix, else uniform importance);\n"
    "                        Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M IQ3_M IQ3_XS:\n"
    "                        llama.cpp's mixtures (docs/quantize.md)\n"
    "      --llama-mix       with a plain type: llama.cpp's mixture for it (output.weight in Q6_K;\n"
    "                        Q2_K also gives attn_v, attn_output, ffn_down more bits; IQ4_NL, IQ4_XS,\n"
    "                        IQ3_S, IQ3_XXS: llama-quantize's IQ4_NL / IQ4_XS / IQ3_S / IQ3_XXS)\n"
    "  -o, --output OUT      the GGUF file to write (written as OUT.tmpXXXXXX, renamed when complete)\n"
    "      --method M        rtn (default): round to nearest with llama.cpp's per-block scale\n"
    "                        searches, never worse than llama.cpp's; imatrix: the scale searches\n"
    "                        weighted by each input column's mean square activation on --calib;\n"
    "                        gptq: GPTQ error compensation with the inputs' Hessian from --calib\n"
    "                        (damping 0.01 * mean diag; docs/quantize.md)\n"
    "      --calib PATH      calibration text: a file, or a folder (its files, sorted); repeatable:\n"
    "                        the paths share --calib-tokens equally (two make a 50/50 mix)\n"
    "      --calib-tokens N  tokens of calibration text to run through the model (default 4096),\n"
    "                        in windows of 256 (the tokenizer's BOS first)\n"
    "      --keep PAT=TYPE   give tensors whose name matches the glob PAT that type (repeatable; the\n"
    "                        last match wins), e.g. --keep 'blk.*.ffn_down.weight=Q6_K'\n"
    "      --csv FILE        the per-tensor report as CSV\n"
    "      --save-imatrix DIR  with --calib: each matrix's importance per input column (what\n"
    "                        --method imatrix uses) as DIR/NAME.f32, little-endian float32\n"
    "  -h, --help            this text\n"
    "\n"
    "Norms, biases and other vectors are copied unchanged (from an HF folder: as F32). A matrix\n"
    "whose row length the chosen block does not divide falls back (Q2_K/Q3_K->Q4_0, Q4_K->Q5_0,\n"
    "Q5_K->Q5_1, Q6_K->Q8_0, then F16) and the report says so. Per tensor: type and\n"
    "reconstruction RMSE against the source weights; with calibration also w_rel (importance-\n"
    "weighted relative error) and h_rel (relative output error sqrt(tr(D H D^T) / tr(W H W^T)),\n"
    "gptq only); at the end the file's bits per weight.\n"

    "Exit status: 0 ok, 1 bad input or failure (one line on stderr), 2 usage error.\n";

/* The temporary file, removed if the run is interrupted (CLI state, set once). */
static char tmp_path[PATH_MAX + 16];

static void on_signal(int sig) {
    if (tmp_path[0]) unlink(tmp_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void shape(char *out, size_t n, const QmTensor *t) {
    int k = snprintf(out, n, "%lld", (long long)t->ne[0]);
    for (int d = 1; d < t->n_dims && k > 0 && (size_t)k < n; d++)
        k += snprintf(out + k, n - (size_t)k, " x %lld", (long long)t->ne[d]);
}

/* Can we create files next to OUT? Probes by creating and removing a temporary of a unique name
 * (a fixed OUT.tmp would truncate and delete the one a concurrent run is writing). */
static int probe_writable(const char *path, char *why, size_t n) {
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return snprintf(why, n, "is a folder"), -1;
    char *p;
    Err e;
    if (out_temp(path, &p, &e)) {
        const char *reason = strstr(e.msg, "temporary file: ");
        return snprintf(why, n, "cannot write beside it: %s", reason ? reason + 16 : e.msg), -1;
    }
    unlink(p);
    free(p);
    return 0;
}

static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static const float *importance_of(void *ctx, const QmTensor *t) {
    const float *imp = NULL;
    Err err;
    return calib_importance(ctx, t->name, t->ne[0], &imp, &err) ? NULL : imp; /* computed already */
}

/* DIR/NAME.f32: the n floats of imp, as llama_oracle's `quantize` IMATRIX_DIR takes them. */
static int save_importance(const char *dir, const char *name, const float *imp, int64_t n, Err *err) {
    if (make_dirs(dir, err)) return -1;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.f32", dir, name);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(imp, sizeof *imp, (size_t)n, f) == (size_t)n;
    if (f && fclose(f)) ok = 0;
    return ok ? 0 : err_set(err, "%s: cannot write: %s", path, strerror(errno));
}

static int hessian_of(void *ctx, const QmTensor *t, const float **H, Err *err) {
    return calib_hessian(ctx, t->name, t->ne[0], H, err);
}

int cmd_quantize(int argc, char **argv) {
    enum { TYPE = 1000, METHOD, KEEP, CSV, MIX, CALIB, CALIB_TOKENS, SAVE_IMATRIX };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},   {"type", required_argument, NULL, TYPE},
        {"output", required_argument, NULL, 'o'},  {"method", required_argument, NULL, METHOD},
        {"keep", required_argument, NULL, KEEP},   {"csv", required_argument, NULL, CSV},
        {"llama-mix", no_argument, NULL, MIX},     {"calib", required_argument, NULL, CALIB},
        {"calib-tokens", required_argument, NULL, CALIB_TOKENS},
        {"save-imatrix", required_argument, NULL, SAVE_IMATRIX},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    const char *model = NULL, *type = NULL, *out = NULL, *method = "rtn", *csv = NULL;
    const char *save_imatrix = NULL;
    const char *keep[RECIPE_MAX_OVERRIDES + 1], **calib = xcalloc((size_t)argc + 1, sizeof *calib);
    int n_keep = 0, mix = 0, n_calib = 0, c;
    long long calib_max = 4096;
    char *end;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case TYPE: type = optarg; break;
        case 'o': out = optarg; break;
        case METHOD: method = optarg; break;
        case KEEP:
            if (n_keep == RECIPE_MAX_OVERRIDES)
                return cli_usage_error("quantize", "at most %d --keep options", RECIPE_MAX_OVERRIDES);
            keep[n_keep++] = optarg;
            break;
        case CSV: csv = optarg; break;
        case SAVE_IMATRIX: save_imatrix = optarg; break;
        case MIX: mix = 1; break;
        case CALIB: calib[n_calib++] = optarg; break;
        case CALIB_TOKENS:
            errno = 0;
            calib_max = strtoll(optarg, &end, 10);
            if (errno || *end || end == optarg || calib_max < 1 || calib_max > INT_MAX) {
                free(calib);
                return cli_usage_error("quantize", "--calib-tokens wants a positive count, not '%s'", optarg);
            }
            break;
        case 'h': free(calib); fputs(USAGE, stdout); return 0;
        default:
            free(calib);
            return cli_option_error("quantize", c, argv, opts);
        }
    }
    int usage = cli_no_operands("quantize", argc, argv);
    if (usage) {
        free(calib);
        return usage;
    }
    const char *bad = !model ? "missing -m MODEL" : !type ? "missing --type TYPE" : !out ? "missing -o OUT.gguf" : NULL;
    const int calibrated = !strcmp(method, "imatrix") || !strcmp(method, "gptq");
    if (!bad && !calibrated && strcmp(method, "rtn")) bad = "unknown --method (rtn, imatrix, gptq)";
    if (!bad && calibrated && !n_calib) bad = "--method imatrix and gptq need --calib FILE|DIR";
    if (!bad && !calibrated && n_calib) bad = "--calib needs --method imatrix or gptq; rtn uses none";
    if (!bad && save_imatrix && !calibrated) bad = "--save-imatrix needs --method imatrix or gptq";
    if (bad) {
        free(calib);
        if (!strncmp(bad, "unknown --method", 16)) return cli_usage_error("quantize", "unknown --method '%s' (rtn, imatrix, gptq)", method);
        return cli_usage_error("quantize", "%s", bad);
    }
    const int gptq = !strcmp(method, "gptq");

    /* every argument is checked before any work */
    Err err;
    Recipe r;
    if (recipe_init(&r, type, mix, &err)) {
        free(calib);
        return cli_usage_error("quantize", "%s", err.msg);
    }
    r.has_imatrix = calibrated; /* llama.cpp's mixtures change with importance data */
    for (int i = 0; i < n_keep; i++)
        if (recipe_add_override(&r, keep[i], &err)) {
            recipe_free(&r);
            free(calib);
            return cli_usage_error("quantize", "%s", err.msg);
        }
    int rc = 1;
    QModel *q = NULL;
    Calib *cb = NULL;
    char src_sha[SHA256_HEX_LEN], (*cf_sha)[SHA256_HEX_LEN] = NULL;
    const char **cf_path = NULL, **cf_shap = NULL;
    uint64_t *cf_bytes = NULL;
    Table *tb = NULL, *cs = NULL;
    if (n_calib && !(cb = calib_new(calib, n_calib, calib_max, &err))) {
        cli_fail("quantize", "%s", err.msg);
        goto done;
    }
    char why[PATH_MAX + 64];
    if (same_file(model, out)) {
        cli_fail("quantize", "%s: the output would replace the model being read", out);
        goto done;
    }
    if (cli_make_parent("quantize", out)) goto done;
    if (probe_writable(out, why, sizeof why)) {
        cli_fail("quantize", "%s: %s", out, why);
        goto done;
    }
    if (csv && probe_writable(csv, why, sizeof why)) {
        cli_fail("quantize", "%s: %s", csv, why);
        goto done;
    }
    double t0 = now_seconds();
    if (!(q = qm_open(model, &err)) || qm_plan(q, &r, &err)) {
        cli_fail("quantize", "%s", err.msg);
        goto done;
    }
    if (qm_note(q)) fprintf(stderr, "coldtok quantize: note: %s\n", qm_note(q));
    QmInfo info = {.method = method, .calibration = "none"};
    if (cb) {
        if (calib_load(cb, model, &err)) {
            cli_fail("quantize", "%s", err.msg);
            goto done;
        }
        /* the importance pass now, so that its errors stop the run before the output is begun */
        for (int i = 0; i < qm_n_tensors(q); i++) {
            const QmTensor *t = qm_tensor(q, i);
            const float *imp;
            if (t->quantize && t->n_dims >= 2 && calib_importance(cb, t->name, t->ne[0], &imp, &err)) {
                cli_fail("quantize", "%s", err.msg);
                goto done;
            }
            if (save_imatrix && t->quantize && t->n_dims >= 2 && imp &&
                save_importance(save_imatrix, t->name, imp, t->ne[0], &err)) {
                cli_fail("quantize", "%s", err.msg);
                goto done;
            }
        }
        info.calibration = calib_sources(cb);
        info.calibration_tokens = (uint64_t)calib_tokens(cb);
        info.importance = importance_of;
        if (gptq) info.hessian = hessian_of;
        info.ctx = cb;
        fprintf(stderr, "coldtok quantize: calibration: %lld tokens from %s\n", (long long)calib_tokens(cb),
                calib_sources(cb));
    }

    /* provenance (docs/quantize.md): the source's and each calibration file's SHA-256 */
    if (model_digest(model, &info.source_bytes, src_sha, &err)) {
        cli_fail("quantize", "%s", err.msg);
        goto done;
    }
    info.source_path = model, info.source_sha256 = src_sha;
    info.n_calib_files = cb ? calib_n_files(cb) : 0;
    cf_path = xcalloc((size_t)info.n_calib_files + 1, sizeof *cf_path);
    cf_shap = xcalloc((size_t)info.n_calib_files + 1, sizeof *cf_shap);
    cf_sha = xcalloc((size_t)info.n_calib_files + 1, sizeof *cf_sha);
    cf_bytes = xcalloc((size_t)info.n_calib_files + 1, sizeof *cf_bytes);
    for (int i = 0; i < info.n_calib_files; i++) {
        cf_path[i] = calib_file(cb, i), cf_shap[i] = cf_sha[i];
        if (sha256_file(cf_path[i], cf_sha[i], &cf_bytes[i], &err)) {
            cli_fail("quantize", "%s", err.msg);
            goto done;
        }
    }
    info.calib_paths = cf_path, info.calib_sha256 = cf_shap, info.calib_bytes = cf_bytes;

    char *tmp;
    if (out_temp(out, &tmp, &err)) {
        cli_fail("quantize", "%s", err.msg);
        goto done;
    }
    snprintf(tmp_path, sizeof tmp_path, "%s", tmp);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    int wr = qm_write_file(q, tmp, &info, &r, &err);
    if (wr == 0) wr = out_commit(tmp, out, &err); /* fsync, then rename onto OUT */
    else unlink(tmp); /* ours: never another run's temporary */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    tmp_path[0] = '\0';
    free(tmp);
    if (wr) {
        cli_fail("quantize", "%s", err.msg);
        goto done;
    }

    /* the report: tb for the terminal, cs (full precision) for --csv */
    tb = table_new();
    cs = table_new();
    static const char *cols[] = {"tensor", "shape", "from", "type", "rmse", "rel_rmse", "bytes", "note", "w_rel", "h_rel"};
    const int n_cols = cb ? 10 : 8;
    for (int i = 0; i < n_cols; i++) {
        table_column(tb, cols[i], (i >= 4 && i <= 6) || i >= 8);
        table_column(cs, cols[i], (i >= 4 && i <= 6) || i >= 8);
    }
    uint64_t bytes = 0, elems = 0, mbytes = 0, melems = 0;
    int n_conv = 0, n_fallback = 0;
    for (int i = 0; i < qm_n_tensors(q); i++) {
        const QmTensor *t = qm_tensor(q, i);
        char sh[96];
        shape(sh, sizeof sh, t);
        for (int k = 0; k < 2; k++) {
            Table *x = k ? cs : tb;
            table_row(x);
            table_put(x, 0, t->name);
            table_put(x, 1, sh);
            table_put(x, 2, qtype_name(t->src_type));
            table_put(x, 3, qtype_name(t->type));
            if (t->quantize) {
                table_putf(x, 4, k ? "%.10g" : "%.4e", t->rmse);
                if (t->rms > 0) table_putf(x, 5, k ? "%.10g" : "%.4f", t->rmse / t->rms);
            }
            table_putf(x, 6, "%llu", (unsigned long long)t->bytes);
            table_put(x, 7, t->why[0] ? t->why : t->quantize ? "" : "copied");
            if (cb && t->quantize && t->wrel >= 0) table_putf(x, 8, k ? "%.10g" : "%.4f", t->wrel);
            if (cb && t->quantize && t->hrel >= 0) table_putf(x, 9, k ? "%.10g" : "%.4f", t->hrel);
        }
        n_conv += t->quantize;
        n_fallback += strstr(t->why, "fallback") != NULL;
        uint64_t ne = 1;
        for (int d = 0; d < 4; d++) ne *= (uint64_t)t->ne[d];
        bytes += t->bytes, elems += ne;
        if (recipe_quantizable(t->name, t->n_dims)) mbytes += t->bytes, melems += ne;
    }
    Buf text = {0};
    table_text(tb, &text);
    fputs(text.data, stdout);
    buf_free(&text);
    printf("\n%s: %s (%s), %d tensors: %d converted, %d copied%s", out, r.name, qm_arch(q),
           qm_n_tensors(q), n_conv, qm_n_tensors(q) - n_conv, n_fallback ? "" : "\n");
    if (n_fallback) printf(", %d fell back to another type (see note)\n", n_fallback);
    printf("%.2f MiB of tensor data, %.4f bits per weight (matrices %.4f) in %.1f s\n",
           bytes / 1048576.0, elems ? 8.0 * bytes / elems : 0, melems ? 8.0 * mbytes / melems : 0,
           now_seconds() - t0);
    if (csv && table_save_csv(cs, csv, &err)) {
        cli_fail("quantize", "%s", err.msg);
        goto done;
    }
    rc = 0;
done:
    free(cf_path), free(cf_shap), free(cf_sha), free(cf_bytes);
    calib_free(cb);
    free(calib);
    table_free(tb);
    table_free(cs);
    qm_close(q);
    recipe_free(&r);
    return rc;
}
