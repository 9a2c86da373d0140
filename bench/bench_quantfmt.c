/* bench_quantfmt: a one-position forward on i-quant GGUFs and on a GPTQ-4bit Hugging Face folder of
 * the Qwen2.5-0.5B shape (issue 13, "Speed and memory"), next to llama.cpp on the same GGUF.
 *
 *   bench_quantfmt [quick] [ONLY]   quick: 3 timed forwards instead of 7 (and 3 llama.cpp decodes);
 *                                   ONLY: just that model (IQ4_NL, IQ4_XS, IQ3_S, IQ2_XS, gptq, gptqda)
 *
 * The models, written once into $COLDTOK_BENCH_DIR (default /tmp/coldtok-bench, never committed):
 *   - qwen2.5-0.5b-IQ4_NL.gguf: `coldtok quantize --type IQ4_NL` (llama-quantize --pure) of
 *     bench_forward's synth F16 model;
 *   - qwen2.5-0.5b-{IQ4_XS,IQ3_S,IQ2_XS}.gguf: `coldtok quantize --type T` of the IQ4_NL file (IQ2_XS
 *     with uniform importance). As in llama.cpp, a matrix whose 896 columns the 256-blocks of these
 *     types do not divide falls back to IQ4_NL, so only the 24 ffn_down (4864 columns) take the type
 *     and everything else is the IQ4_NL file's, copied as is: the same layout as quantizing the F16
 *     model (ffn_down's values went through IQ4_NL first, which the speed does not see), 5x faster
 *     to write (IQ4_NL of the whole model: ~14 min on the loaded 2-core machine). The bench prints
 *     the bytes by type;
 *   - qwen2.5-0.5b-gptq4/ and -gptq4da/: GPTQ 4-bit, group 128, sym, without and with desc_act
 *     (bench/gptq_synth.h), the tied embedding F16 as in published GPTQ releases;
 *   - qwen2.5-0.5b-gptq4-Q4_0.gguf: `coldtok quantize --type Q4_0` of the desc_act one, the GGUF llama.cpp
 *     is timed on in the GPTQ rows (llama.cpp reads no GPTQ: the same shape and weights rounded
 *     again to Q4_0, embedding Q4_0 too; labelled "ref. Q4_0").
 * For each, 2 threads (OMP_NUM_THREADS, default 2 here):
 *   in process: one position (token 256) after one untimed run, median of RUNS with fwd_rewind
 *   between them; the weight bytes a forward reads (model_weight_bytes); the floor = those bytes
 *   at the bandwidth measured at the start of this run (bench/bandwidth.h); forward / floor (the
 *   target bench_forward uses, <= 1.5); the anonymous memory (RssAnon) model_load, fwd_new and the
 *   forwards added: a model converted whole to f32 at load would add 4 bytes per weight;
 *   llama.cpp: `llama_oracle -t 2 decode-time MODEL 256 RUNS` (one position, its cache cleared
 *   before each; median), when the oracle is built (make oracle; make tests);
 *   a separate process: `coldtok logits -m MODEL -c 256 --top 5`, warm, its peak RSS (wait4)
 *   against the files' size + 10% + 256 MiB (the target for HF quantized models; printed
 *   for the GGUFs as well).
 * Ends with one table of the figures and the machine's load average before and after. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/benchvocab.h"
#include "bench/bandwidth.h"
#include "bench/benchproc.h"
#include "bench/gptq_synth.h"
#include "formats/qtype.h"
#include "model/forward.h"
#include "model/model.h"
#include "quant/synth.h"

#define PRESET "qwen2.5-0.5b"
#define TOKEN 256 /* the synth vocabulary's <|endoftext|> */
#define MAX_RUNS 7

typedef struct {
    char label[48], path[1100], ref[1100]; /* ref: the GGUF llama.cpp runs ("" : path) */
    double file_bytes, weight_bytes;            /* the files; what one forward reads */
    double fwd_ms, fwd_min_ms, floor_ms;        /* wall time */
    double cpu_ms, cpu_floor_ms;                /* CPU time, both threads */
    double anon_mib, rss_mib, limit_mib;        /* memory */
    double llama_ms, llama_min_ms;              /* llama.cpp (-1: not measured) */
    int ok;
} Row;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* RssAnon of this process in MiB (anonymous memory: what the model and the forward allocated). */
static double rss_anon_mib(void) {
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (sscanf(line, "RssAnon: %ld kB", &kb) == 1) break;
    if (fp) fclose(fp);
    return kb / 1024.0;
}

/* A file's size, or the sum of a folder's files. */
static double path_bytes(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) return -1;
    if (!S_ISDIR(sb.st_mode)) return (double)sb.st_size;
    DIR *d = opendir(path);
    double sum = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        if (e->d_name[0] != '.' && stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) sum += (double)sb.st_size;
    }
    if (d) closedir(d);
    return sum;
}

/* Reads every file of PATH once, so that the forwards below are timed on the page cache. */
static void warm(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL)
            if (e->d_name[0] != '.') {
                char p[2048];
                snprintf(p, sizeof p, "%s/%s", path, e->d_name);
                warm(p);
            }
        if (d) closedir(d);
        return;
    }
    static char buf[1 << 20];
    FILE *fp = fopen(path, "rb");
    while (fp && fread(buf, 1, sizeof buf, fp) == sizeof buf) {}
    if (fp) fclose(fp);
}

/* Prints the bytes of the matrices a forward reads, by stored type ("GPTQ-4bit" for a packed
 * linear); returns how many weights they hold. */
static double print_bytes_by_type(const Model *m) {
    double weights = 0;
    const char *names[16];
    double bytes[16];
    int n = 0;
    for (int l = -1; l < m->cfg.n_layer; l++) {
        const Layer *y = l >= 0 ? &m->layers[l] : NULL;
        const Tensor *ts[] = {y ? &y->wq : &m->output, y ? &y->wk : NULL, y ? &y->wv : NULL, y ? &y->wo : NULL,
                              y ? &y->w_gate : NULL, y ? &y->w_up : NULL, y ? &y->w_down : NULL};
        for (size_t k = 0; k < sizeof ts / sizeof ts[0]; k++) {
            const Tensor *t = ts[k];
            if (!t || !t->data) continue;
            const char *name = t->hq.method != HQ_NONE ? "GPTQ-4bit" : qtype_name(t->type);
            double b = t->hq.method != HQ_NONE ? (double)t->hq.bytes
                                               : (double)qtype_row_bytes(t->type, t->cols) * (double)t->rows;
            int i = 0;
            while (i < n && strcmp(names[i], name)) i++;
            if (i == n && n < 16) names[n] = name, bytes[n++] = 0;
            if (i < n) bytes[i] += b;
            weights += (double)t->rows * (double)t->cols;
        }
    }
    printf("  matrices read       ");
    for (int i = 0; i < n; i++) printf("%s%s %.1f MB", i ? ", " : "", names[i], bytes[i] / 1e6);
    printf("\n");
    return weights;
}

/* In process: the median one-position forward and what it reads. */
static int forward_figures(Row *r, double bw, double bw_cpu, int runs) {
    Err err;
    warm(r->path);
    double anon0 = rss_anon_mib();
    Model *m = model_load(r->path, &err);
    if (!m) return printf("  load failed: %s\n", err.msg), -1;
    Forward *f = fwd_new(m, COMPUTE_F32, &err);
    if (!f) return printf("  fwd_new failed: %s\n", err.msg), model_free(m), -1;
    float *logits = xmalloc((size_t)m->cfg.n_vocab * sizeof(float));
    double t[MAX_RUNS], c[MAX_RUNS];
    int tok = TOKEN, rc = 0;
    for (int i = -1; i < runs && !rc; i++) {
        fwd_rewind(f, 0);
        double a = now_seconds(), ca = cpu_seconds();
        rc = fwd_eval(f, &tok, 1, logits, 0, &err);
        if (i >= 0) t[i] = now_seconds() - a, c[i] = cpu_seconds() - ca;
    }
    if (rc) printf("  forward failed: %s\n", err.msg);
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    qsort(c, (size_t)runs, sizeof c[0], cmp_double);
    r->fwd_ms = t[runs / 2] * 1e3, r->fwd_min_ms = t[0] * 1e3;
    r->weight_bytes = (double)model_weight_bytes(m);
    r->floor_ms = r->weight_bytes / bw * 1e3;
    r->cpu_ms = c[runs / 2] * 1e3, r->cpu_floor_ms = r->weight_bytes / bw_cpu * 1e3;
    r->anon_mib = rss_anon_mib() - anon0;
    printf("  kernel              %s, %d threads\n", fwd_kernel(f), fwd_threads());
    double weights = print_bytes_by_type(m);
    printf("  forward (1 pos)     %.1f ms median of %d (min %.1f)\n", r->fwd_ms, runs, r->fwd_min_ms);
    printf("  weight bytes        %.1f MB read per forward; floor %.1f ms\n", r->weight_bytes / 1e6, r->floor_ms);
    printf("  CPU time            %.1f ms median (both threads), floor %.1f CPU-ms: %.2f x\n", r->cpu_ms,
           r->cpu_floor_ms, r->cpu_ms / r->cpu_floor_ms);
    printf("  anonymous memory    +%.1f MiB after load and forwards (a whole-model f32 copy: +%.0f MiB)\n",
           r->anon_mib, 4.0 * weights / 1048576);
    free(logits);
    fwd_free(f);
    model_free(m);
    return rc ? -1 : 0;
}

/* llama.cpp's median and min of one position on the GGUF (the oracle's decode-time). */
static int llama_figures(Row *r, const char *oracle, int runs) {
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=2 '%s' -t 2 decode-time '%s' %d %d 2>&1", oracle,
             r->ref[0] ? r->ref : r->path, TOKEN, runs);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    char out[512] = "";
    if (!p) return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    if (st != 0 || sscanf(out, "%lf %lf", &r->llama_ms, &r->llama_min_ms) != 2) {
        out[strcspn(out, "\n")] = '\0';
        printf("  llama.cpp           not measured (%s)\n", out[0] ? out : "no output");
        r->llama_ms = -1;
        return -1;
    }
    printf("  llama.cpp           %.1f ms median of %d (min %.1f)%s%s\n", r->llama_ms, runs, r->llama_min_ms,
           r->ref[0] ? " on " : "", r->ref[0] ? r->ref : "");
    return 0;
}

/* A separate process: `coldtok logits`, warm; its peak RSS against files + 10% + 256 MiB. */
static int rss_figures(Row *r, const char *coldtok) {
    char *argv[] = {(char *)coldtok, "logits", "-m", r->path, "-c", "256", "--top", "5", NULL};
    Run run_out;
    r->limit_mib = (r->file_bytes * 1.10 + 256.0 * 1048576) / 1048576;
    if (run(argv, r->path, 0, &run_out) || run(argv, r->path, 0, &run_out)) {
        printf("  coldtok logits      failed\n");
        r->rss_mib = -1;
        return -1;
    }
    r->rss_mib = run_out.rss_kb / 1024.0;
    printf("  coldtok logits      %.3f s wall, peak RSS %.1f MiB (files %.1f MiB)\n", run_out.wall, r->rss_mib,
           r->file_bytes / 1048576);
    return 0;
}

/* `coldtok quantize -m SRC --type TYPE -o OUT` when OUT is absent. */
static int quantize_once(const char *coldtok, const char *src, const char *type, const char *out) {
    if (is_file(out)) return 0;
    fprintf(stderr, "bench_quantfmt: writing %s (coldtok quantize --type %s; minutes)\n", out, type);
    char *argv[] = {(char *)coldtok, "quantize", "-m", (char *)src, "--type", (char *)type, "-o", (char *)out, NULL};
    Run r;
    if (run(argv, src, 0, &r)) return fprintf(stderr, "bench_quantfmt: quantize to %s failed\n", type), -1;
    fprintf(stderr, "bench_quantfmt: wrote %s in %.0f s\n", out, r.wall);
    return 0;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "quick") == 0, runs = quick ? 3 : MAX_RUNS;
    const char *only = argc > 1 + quick ? argv[1 + quick] : NULL;
    char word[64];
    if (only) snprintf(word, sizeof word, " %s ", only);
    if (only && !strstr(" IQ4_NL IQ4_XS IQ3_S IQ2_XS gptq gptqda ", word)) {
        fprintf(stderr, "usage: bench_quantfmt [quick] [IQ4_NL|IQ4_XS|IQ3_S|IQ2_XS|gptq|gptqda]\n");
        return 2;
    }
    bench_default_threads(2);
    const char *dir = getenv("COLDTOK_BENCH_DIR");
    if (!dir || !*dir) dir = "/tmp/coldtok-bench";
    mkdir(dir, 0755);
    /* the coldtok binary and the oracle of the same build: BUILD/bench/bench_quantfmt -> BUILD/... */
    char build[1024], coldtok[1100], oracle[1100];
    snprintf(build, sizeof build, "%s", argv[0]);
    char *slash = strrchr(build, '/');
    if (slash) *slash = '\0';
    slash = strrchr(build, '/');
    if (slash) *slash = '\0';
    else snprintf(build, sizeof build, ".");
    snprintf(coldtok, sizeof coldtok, "%s/coldtok", build);
    snprintf(oracle, sizeof oracle, "%s/oracle/llama_oracle", build);
    if (access(coldtok, X_OK) != 0) {
        printf("bench_quantfmt: skipped: %s is not built\n", coldtok);
        return 0;
    }
    int have_oracle = access(oracle, X_OK) == 0;
    SynthSpec s;
    Err err;
    if (synth_preset(PRESET, &s)) return fprintf(stderr, "bench_quantfmt: no preset %s\n", PRESET), 1;
    s.tokenizer = bench_qwen_vocab(); /* bench/benchvocab.h */

    /* the models */
    char f16[1100];
    snprintf(f16, sizeof f16, "%s/%s-F16.gguf", dir, PRESET);
    if (!is_file(f16)) {
        s.type = Q_F16;
        fprintf(stderr, "bench_quantfmt: writing %s\n", f16);
        if (synth_write(&s, f16, &err)) return fprintf(stderr, "bench_quantfmt: %s\n", err.msg), 1;
    }
    static const char *IQ[] = {"IQ4_NL", "IQ4_XS", "IQ3_S", "IQ2_XS"};
    enum { N_IQ = sizeof IQ / sizeof IQ[0], N_ROWS = N_IQ + 2 };
    Row rows[N_ROWS];
    memset(rows, 0, sizeof rows);
    char nl[1100];
    snprintf(nl, sizeof nl, "%s/%s-IQ4_NL.gguf", dir, PRESET);
    for (int i = 0; i < N_IQ; i++) {
        if (only && strcmp(only, IQ[i])) continue;
        snprintf(rows[i].label, sizeof rows[i].label, "%s", IQ[i]);
        snprintf(rows[i].path, sizeof rows[i].path, "%s/%s-%s.gguf", dir, PRESET, IQ[i]);
        if (quantize_once(coldtok, f16, "IQ4_NL", nl) || quantize_once(coldtok, nl, IQ[i], rows[i].path)) return 1;
    }
    char ref[1100];
    snprintf(ref, sizeof ref, "%s/%s-gptq4-Q4_0.gguf", dir, PRESET);
    for (int da = 0; da < 2; da++) {
        Row *g = &rows[N_IQ + da];
        if (only && strcmp(only, da ? "gptqda" : "gptq")) continue;
        snprintf(g->label, sizeof g->label, "GPTQ-4bit g128%s", da ? " desc_act" : "");
        snprintf(g->path, sizeof g->path, "%s/%s-gptq4%s", dir, PRESET, da ? "da" : "");
        snprintf(g->ref, sizeof g->ref, "%s", ref);
        if (!is_dir(g->path)) {
            fprintf(stderr, "bench_quantfmt: writing %s\n", g->path);
            if (gptq_synth_write(&s, g->path, da, &err)) return fprintf(stderr, "bench_quantfmt: %s\n", err.msg), 1;
        }
        if (have_oracle && da && quantize_once(coldtok, g->path, "Q4_0", ref)) return 1;
    }

    char load0[128], load1[128];
    bench_loadavg(load0, sizeof load0);
    int threads = fwd_threads();
    double bw_cpu = 0, bw = bandwidth_cpu(threads, &bw_cpu);
    printf("bench_quantfmt: %s shape, one position, %d threads, %s; load average %s\n", PRESET, threads,
           quick ? "quick (3 runs)" : "7 runs", load0);
    printf("memory bandwidth      %.1f GB/s (streaming read of 1.5 GiB, best of 10, half with prefetch); %.1f GB per CPU-second\n",
           bw / 1e9, bw_cpu / 1e9);
    if (!have_oracle) printf("llama.cpp: not measured (%s is not built: make oracle; make tests)\n", oracle);
    int miss = 0, failed = 0;
    for (int i = 0; i < N_ROWS; i++) {
        Row *r = &rows[i];
        if (!r->label[0]) continue; /* not asked for */
        r->file_bytes = path_bytes(r->path);
        printf("%s  %s (%.1f MB)\n", r->label, r->path, r->file_bytes / 1e6);
        if (forward_figures(r, bw, bw_cpu, runs)) {
            failed++;
            continue;
        }
        r->ok = 1;
        if (!verdict("forward / floor", r->fwd_ms / r->floor_ms, 1.5, "")) miss++;
        if (have_oracle) llama_figures(r, oracle, runs);
        else r->llama_ms = -1;
        if (rss_figures(r, coldtok) == 0 && !verdict("peak RSS < files + 10% + 256 MiB", r->rss_mib, r->limit_mib, " MiB"))
            miss++;
    }
    bench_loadavg(load1, sizeof load1);
    printf("\nsummary (bandwidth %.1f GB/s, %.1f GB per CPU-second; load average before %s, after %s)\n", bw / 1e9,
           bw_cpu / 1e9, load0, load1);
    printf("| model | file MB | weight MB read | forward ms (min) | floor ms | ratio | CPU ms | CPU floor ms | CPU ratio | "
           "llama.cpp ms (min) | coldtok / llama.cpp | anon MiB | peak RSS MiB (limit) |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < N_ROWS; i++) {
        const Row *r = &rows[i];
        if (!r->label[0]) continue;
        if (!r->ok) {
            printf("| %s | failed |\n", r->label);
            continue;
        }
        char ll[96] = "—", rt[32] = "—";
        if (r->llama_ms > 0) {
            snprintf(ll, sizeof ll, "%.1f (%.1f)%s", r->llama_ms, r->llama_min_ms, r->ref[0] ? " ref. Q4_0" : "");
            snprintf(rt, sizeof rt, "%.2f", r->fwd_ms / r->llama_ms);
        }
        printf("| %s | %.1f | %.1f | %.1f (%.1f) | %.1f | %.2f | %.1f | %.1f | %.2f | %s | %s | %.0f | %.0f (%.0f) |\n",
               r->label, r->file_bytes / 1e6, r->weight_bytes / 1e6, r->fwd_ms, r->fwd_min_ms, r->floor_ms,
               r->fwd_ms / r->floor_ms, r->cpu_ms, r->cpu_floor_ms, r->cpu_ms / r->cpu_floor_ms, ll, rt, r->anon_mib,
               r->rss_mib, r->limit_mib);
    }
    printf("bench_quantfmt: %d target%s missed, %d model%s failed\n", miss, miss == 1 ? "" : "s", failed,
           failed == 1 ? "" : "s");
    return failed ? 1 : 0;
}
