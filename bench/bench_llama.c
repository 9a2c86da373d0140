/* bench_llama: issue 15's side-by-side table, every figure measured in this one run: coldtok and
 * llama.cpp on the same GGUF files with the same threads.
 *
 *   bench_llama [quick] [TYPE...]   quick: 3 timed runs instead of 7; TYPE: only these (F16, Q4_K, ...)
 *
 * The files are Qwen2.5-0.5B-shaped models written once by coldtok's synth into $COLDTOK_BENCH_DIR
 * (default /tmp/coldtok-bench, never committed), one per weight type the issue names: F32, F16,
 * BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K (as in llama.cpp, a matrix whose 896 columns the 256-blocks
 * do not divide falls back to Q5_0 / Q8_0: synth does as llama-quantize; the bytes by type are
 * printed), plus bench_quantfmt's i-quant files when they are there. For each, 2 threads
 * (OMP_NUM_THREADS, default 2 here):
 *   - one position (token 256, the cache rewound before each): coldtok in process (fwd_eval) and
 *     llama.cpp (`llama_oracle -t 2 decode-time`), median of RUNS after an untimed run; both
 *     against the floor, the weight bytes one forward reads at the bandwidth measured at the
 *     start (bench/bandwidth.h). Targets: coldtok / floor <= 1.3, coldtok / llama.cpp < 1.
 *   - small batches: 2, 4, 8 and 16 positions in one call against one position (target <= 1.2),
 *     and what n positions cost at the window's own f32 rate (2 flops per weight and position at
 *     the rate of the 512-position window below): where that exceeds 1.2x one position, the target
 *     asks for more multiply-adds per second than the machine's f32 matmuls do.
 *   - a 512-position window (positions 0..511, the last one's logits), median of WRUNS after an
 *     untimed run: coldtok in f32 and in bf16 against llama.cpp's prefill of the same 512 tokens
 *     in one llama_decode (`decode-time ... 512`). Targets: the lead the issue found, llama.cpp's
 *     time >= 1.6x coldtok's in f32 and >= 2.5x in bf16 (coldtok / llama.cpp <= 0.625 / 0.4).
 *   - cold start, each a fresh process on the warm file, median of RUNS: `coldtok logits -m FILE
 *     --top 5` (load, 151,936-token tokenizer, forward, print) against `llama_oracle -t 2 logits
 *     FILE 256 OUT` (llama.cpp's load, vocabulary included, context, one decode, the logits
 *     written: llama-simple up to its first logits, without the 32 generated tokens). Target:
 *     coldtok <= 0.5x llama.cpp.
 * Ends with the table and the load average before and after (a shared machine makes wall times
 * swing; the ratios are from the same minutes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/benchvocab.h"
#include "bench/bandwidth.h"
#include "bench/benchproc.h"
#include "formats/qtype.h"
#include "model/forward.h"
#include "model/model.h"
#include "quant/synth.h"

#define PRESET "qwen2.5-0.5b"
#define TOKEN 256 /* the context token of every forward here, the same for both tools */
#define MAX_RUNS 7
#define WINDOW 512
#define WRUNS 3

typedef struct {
    char label[16], path[1100];
    double weight_bytes, floor_ms;
    double fwd_ms, llama_ms;   /* one position, median; -1: not measured */
    double batch[4];           /* 2, 4, 8, 16 positions / one */
    double win_ms[2];          /* 512 positions, f32 and bf16, median; -1: not measured */
    double llama_win_ms;       /* llama.cpp's prefill of the same 512 */
    double arith16;            /* 16 positions' multiply-adds at the window's f32 rate / one position */
    double cold_s, llama_cold_s;
} Row;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void warm(const char *path) {
    FILE *fp = fopen(path, "rb");
    static char buf[1 << 20];
    while (fp && fread(buf, 1, sizeof buf, fp) == sizeof buf) {}
    if (fp) fclose(fp);
}

/* Median wall seconds of `runs` forwards of n positions from position 0, after one untimed. */
static double median_forward(Forward *f, int n, int runs, float *logits) {
    int toks[WINDOW];
    double t[MAX_RUNS];
    Err err;
    for (int i = 0; i < n; i++) toks[i] = TOKEN + i;
    for (int r = -1; r < runs; r++) {
        fwd_rewind(f, 0);
        double a = now_seconds();
        if (fwd_eval(f, toks, n, logits, 0, &err)) {
            fprintf(stderr, "bench_llama: %s\n", err.msg);
            return -1;
        }
        if (r >= 0) t[r] = now_seconds() - a;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    return t[runs / 2];
}

/* Weights of the dense matrices one position multiplies (the layers' seven and the classifier). */
static double weight_count(const Model *m) {
    double n = (double)m->output.rows * (double)m->output.cols;
    for (int l = 0; l < m->cfg.n_layer; l++) {
        const Layer *y = &m->layers[l];
        const Tensor *t[7] = {&y->wq, &y->wk, &y->wv, &y->wo, &y->w_gate, &y->w_up, &y->w_down};
        for (int i = 0; i < 7; i++) n += t[i]->data ? (double)t[i]->rows * (double)t[i]->cols : 0;
    }
    return n;
}

static int coldtok_figures(Row *r, double bw, int runs) {
    Err err;
    Model *m = model_load(r->path, &err);
    Forward *f = m ? fwd_new(m, COMPUTE_F32, &err) : NULL;
    if (!f) {
        fprintf(stderr, "bench_llama: %s\n", err.msg);
        model_free(m);
        return -1;
    }
    float *logits = xmalloc((size_t)m->cfg.n_vocab * 16 * sizeof(float));
    r->weight_bytes = (double)model_weight_bytes(m);
    r->floor_ms = r->weight_bytes / bw * 1e3;
    r->fwd_ms = median_forward(f, 1, runs, logits) * 1e3;
    static const int NS[4] = {2, 4, 8, 16};
    for (int i = 0; i < 4 && r->fwd_ms > 0; i++) r->batch[i] = median_forward(f, NS[i], runs, logits) * 1e3 / r->fwd_ms;
    printf("  coldtok             %.1f ms median of %d (%s): %.2f x the floor (%.1f ms for %.1f MB)\n", r->fwd_ms,
           runs, fwd_kernel(f), r->fwd_ms / r->floor_ms, r->floor_ms, r->weight_bytes / 1e6);
    printf("  batches / one       2: %.2f  4: %.2f  8: %.2f  16: %.2f\n", r->batch[0], r->batch[1], r->batch[2],
           r->batch[3]);
    fwd_free(f);
    for (int c = 0; c < 2; c++) {
        f = fwd_new(m, c ? COMPUTE_BF16 : COMPUTE_F32, &err);
        r->win_ms[c] = f ? median_forward(f, WINDOW, WRUNS, logits) * 1e3 : -1;
        fwd_free(f);
    }
    /* the window's f32 rate, 2 flops per weight and position (attention not counted), and what 16
     * positions' multiply-adds alone take at that rate */
    double flops16 = 2 * weight_count(m) * 16, rate = r->win_ms[0] > 0 ? flops16 / 16 * WINDOW / r->win_ms[0] : NAN;
    r->arith16 = flops16 / rate / r->fwd_ms;
    printf("  window of %d       f32 %.0f ms, bf16 %.0f ms; f32 rate %.0f GFLOP/s: 16 positions' multiply-adds "
           "alone take %.1f ms = %.2f x one position\n",
           WINDOW, r->win_ms[0], r->win_ms[1], rate / 1e6, flops16 / rate, r->arith16);
    free(logits);
    model_free(m);
    return r->fwd_ms > 0 ? 0 : -1;
}

/* llama.cpp's median of one position (the oracle's decode-time). */
static void llama_figures(Row *r, const char *oracle, int runs) {
    char cmd[2600], out[512] = "";
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=2 '%s' -t 2 decode-time '%s' %d %d 2>&1", oracle, r->path, TOKEN, runs);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = '\0';
    double min_ms;
    if (!p || pclose(p) != 0 || sscanf(out, "%lf %lf", &r->llama_ms, &min_ms) != 2) {
        out[strcspn(out, "\n")] = '\0';
        printf("  llama.cpp           not measured (%s)\n", out[0] ? out : "no output");
        r->llama_ms = -1;
        return;
    }
    printf("  llama.cpp           %.1f ms median of %d: %.2f x the floor; coldtok / llama.cpp %.2f\n", r->llama_ms,
           runs, r->llama_ms / r->floor_ms, r->fwd_ms / r->llama_ms);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=2 '%s' -t 2 decode-time '%s' %d %d %d 2>&1", oracle, r->path, TOKEN,
             WRUNS, WINDOW);
    p = popen(cmd, "r");
    n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = '\0';
    if (!p || pclose(p) != 0 || sscanf(out, "%lf %lf", &r->llama_win_ms, &min_ms) != 2) r->llama_win_ms = -1;
    printf("  llama.cpp prefill   %.0f ms for %d positions: coldtok f32 / llama.cpp %.2f, bf16 / llama.cpp %.2f\n",
           r->llama_win_ms, WINDOW, r->win_ms[0] / r->llama_win_ms, r->win_ms[1] / r->llama_win_ms);
}

/* Median wall seconds of `runs` runs of argv (after one untimed), or -1. */
static double median_process(char *const *argv, const char *model, int runs) {
    double t[MAX_RUNS];
    Run out;
    for (int i = -1; i < runs; i++) {
        if (run(argv, model, 0, &out) != 0) return -1;
        if (i >= 0) t[i] = out.wall;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    return t[runs / 2];
}

static void cold_figures(Row *r, const char *coldtok, const char *oracle, const char *dir, int runs) {
    char *c[] = {(char *)coldtok, "logits", "-m", r->path, "--top", "5", NULL};
    r->cold_s = median_process(c, r->path, runs);
    r->llama_cold_s = -1;
    if (access(oracle, X_OK) == 0) {
        char out[1200], id[16];
        snprintf(out, sizeof out, "%s/bench_llama.f32", dir);
        snprintf(id, sizeof id, "%d", TOKEN);
        char *l[] = {(char *)oracle, "-t", "2", "logits", r->path, id, out, NULL};
        r->llama_cold_s = median_process(l, r->path, runs);
        unlink(out);
    }
    printf("  cold start          coldtok logits %.3f s, llama.cpp load-to-logits %.3f s: %.2f x\n", r->cold_s,
           r->llama_cold_s, r->llama_cold_s > 0 ? r->cold_s / r->llama_cold_s : NAN);
}

/* The model of this type, written by synth when absent. */
static int ensure_model(const char *dir, const char *type, char *path, size_t n) {
    snprintf(path, n, "%s/%s-%s.gguf", dir, PRESET, type);
    if (is_file(path)) return 0;
    int t = qtype_from_name(type);
    SynthSpec s;
    if (t < 0 || !synth_type_ok((uint32_t)t) || synth_preset(PRESET, &s) != 0) return -1;
    s.tokenizer = bench_qwen_vocab(); /* bench/benchvocab.h */
    s.type = (uint32_t)t;
    Err err;
    fprintf(stderr, "bench_llama: writing %s\n", path);
    if (synth_write(&s, path, &err) != 0) return fprintf(stderr, "bench_llama: %s\n", err.msg), -1;
    return 0;
}

int main(int argc, char **argv) {
    static const char *SYNTH[] = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"};
    static const char *IQ[] = {"IQ4_NL", "IQ4_XS", "IQ3_S", "IQ2_XS"}; /* bench_quantfmt's, when present */
    int quick = argc > 1 && strcmp(argv[1], "quick") == 0, runs = quick ? 3 : MAX_RUNS;
    char **only = argv + 1 + quick;
    int n_only = argc - 1 - quick;
    bench_default_threads(2);
    const char *dir = getenv("COLDTOK_BENCH_DIR");
    if (!dir || !*dir) dir = "/tmp/coldtok-bench";
    mkdir(dir, 0755);
    char coldtok[1024], oracle[1024], load0[128], load1[128];
    bench_sibling(argv[0], "coldtok", coldtok, sizeof coldtok);
    bench_sibling(argv[0], "oracle/llama_oracle", oracle, sizeof oracle);
    int have_oracle = access(oracle, X_OK) == 0;
    bench_loadavg(load0, sizeof load0);
    double bw = bandwidth_cpu(fwd_threads(), NULL);
    printf("bench_llama: %s shape, %d threads, memory bandwidth %.1f GB/s (streaming read, best of 10, half with prefetch)\n", PRESET,
           fwd_threads(), bw / 1e9);
    if (!have_oracle) printf("  llama.cpp: SKIP (%s absent: make oracle, then make tests builds it)\n", oracle);
    Row rows[12];
    int n = 0, miss = 0;
    for (size_t i = 0; i < sizeof SYNTH / sizeof *SYNTH + sizeof IQ / sizeof *IQ; i++) {
        int is_iq = i >= sizeof SYNTH / sizeof *SYNTH;
        const char *type = is_iq ? IQ[i - sizeof SYNTH / sizeof *SYNTH] : SYNTH[i];
        int wanted = n_only == 0;
        for (int k = 0; k < n_only; k++) wanted |= strcmp(only[k], type) == 0;
        if (!wanted) continue;
        Row *r = &rows[n];
        memset(r, 0, sizeof *r);
        snprintf(r->label, sizeof r->label, "%s", type);
        if (is_iq) {
            snprintf(r->path, sizeof r->path, "%s/%s-%s.gguf", dir, PRESET, type);
            if (!is_file(r->path)) {
                printf("%s: not there (bench_quantfmt writes it)\n", type);
                continue;
            }
        } else if (ensure_model(dir, type, r->path, sizeof r->path) != 0) {
            return 1;
        }
        printf("%s  %s\n", type, r->path);
        warm(r->path);
        if (coldtok_figures(r, bw, runs) != 0) return 1;
        r->llama_ms = r->llama_win_ms = -1;
        if (have_oracle) llama_figures(r, oracle, runs);
        cold_figures(r, coldtok, oracle, dir, runs);
        miss += !verdict("one position / floor", r->fwd_ms / r->floor_ms, 1.3, "x");
        if (r->llama_ms > 0) miss += !verdict("one position / llama.cpp's", r->fwd_ms / r->llama_ms, 0.999, "x");
        miss += !verdict("16 positions / one", r->batch[3], 1.2, "x");
        if (r->llama_win_ms > 0) {
            miss += !verdict("window f32 / llama.cpp's prefill", r->win_ms[0] / r->llama_win_ms, 0.625, "x");
            miss += !verdict("window bf16 / llama.cpp's prefill", r->win_ms[1] / r->llama_win_ms, 0.4, "x");
        }
        if (r->llama_cold_s > 0) miss += !verdict("cold start / llama.cpp's", r->cold_s / r->llama_cold_s, 0.5, "x");
        n++;
    }
    bench_loadavg(load1, sizeof load1);
    printf("\n| type | floor | coldtok | x floor | llama.cpp | coldtok / llama.cpp | 2 / 4 / 8 / 16 pos vs 1 (16 "
           "at the window's rate) | window f32 / bf16 / llama.cpp | cold start coldtok / llama.cpp |\n"
           "|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        Row *r = &rows[i];
        printf("| %s | %.1f ms | %.1f ms | %.2f | %.1f ms | %.2f | %.2f / %.2f / %.2f / %.2f (%.2f) | %.0f / %.0f / "
               "%.0f ms | %.3f / %.3f s |\n",
               r->label, r->floor_ms, r->fwd_ms, r->fwd_ms / r->floor_ms, r->llama_ms,
               r->llama_ms > 0 ? r->fwd_ms / r->llama_ms : NAN, r->batch[0], r->batch[1], r->batch[2], r->batch[3],
               r->arith16, r->win_ms[0], r->win_ms[1], r->llama_win_ms, r->cold_s, r->llama_cold_s);
    }
    printf("%d targets missed; load average before: %s; after: %s\n", miss, load0, load1);
    return 0;
}
