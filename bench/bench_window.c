/* bench_window: whole-window forward speed (issue 7: `coldtok drift`, teacher-forced over a code
 * corpus) on synthesized Qwen2.5-0.5B-shaped models, F16 and Q4_K (llama.cpp's Q5_0 fallback where
 * 896 columns do not fit 256-blocks), written once with synth into $COLDTOK_BENCH_DIR (default
 * /tmp/coldtok-bench, shared with bench_forward).
 *
 * For each compute mode (f32, bf16):
 *   oneDNN by itself: GFLOP/s of oneDNN's matmul primitive on the model's own shapes,
 *     [M, K] x [K, N] for each distinct weight matrix shape (M = 512; the output matrix with
 *     M = 256, the rows a window's logits are wanted for), weights pre-converted to f32 / bf16,
 *     oneDNN's default implementation and its own threads (OMP_NUM_THREADS), weights both as
 *     stored ([N, K] row-major) and in oneDNN's preferred layout (reorder not timed), the faster
 *     of the two per shape. Each shape is run as many times in a row as a window runs it (so the
 *     reference takes about as long as a window and sees the same machine), best of REF_RUNS such
 *     runs; weighted by occurrence: sum of flops / sum of times.
 *   forward: fwd_eval_last over a 512-token window at positions 0..511 with the logits of the
 *     last 256 positions (one warm-up window, then the best and median of RUNS windows);
 *     effective matmul GFLOP/s = flops of the window's linear layers (2 M K N each; attention's
 *     Q K^T and S V are NOT counted) / window time, and its ratio to oneDNN's figure,
 *     target >= 0.60.
 * Each figure comes with the cores the process kept busy (CPU time / wall time): the machine is
 * shared, and a figure measured with fewer cores than threads says so; the ratio is also given
 * per CPU-second (each side's rate over the cores it had), the figure to compare on a busy machine.
 * Then the projected time of the drift job "F16 base vs Q4_K variant, 4096 tokens, ctx 512" =
 * 8 windows per model, both models (best window times; f32, the default, and bf16), target 46 s.
 *
 *   bench_window [quick] [f32|bf16] [F16|Q4_K]   (default: everything; quick: 1 timed window and
 *                                                 1 reference run)
 * Threads: OMP_NUM_THREADS (default here 2, the setting). */
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench/benchvocab.h"
#include "model/forward.h"
#include "model/model.h"
#include "quant/synth.h"
#include "formats/qtype.h"

#define WINDOW 512
#define N_OUT 256
#define REF_RUNS 2
#define MAX_SHAPES 16

typedef struct {
    int N, K, M, count; /* count: how many times a window multiplies this shape */
    const Tensor *W;    /* one matrix of this shape (its weights feed the reference) */
} Shape;

/* CPU seconds this process used (all threads): with wall time, how many cores it really had. */
static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void add_shape(Shape *s, int *n, const Tensor *W, int M) {
    for (int i = 0; i < *n; i++)
        if (s[i].N == W->rows && s[i].K == W->cols && s[i].M == M) {
            s[i].count++;
            return;
        }
    if (*n < MAX_SHAPES) s[(*n)++] = (Shape){(int)W->rows, (int)W->cols, M, 1, W};
}

/* The distinct weight shapes of one window and their counts. */
static int window_shapes(const Model *m, Shape *s) {
    int n = 0;
    for (int l = 0; l < m->cfg.n_layer; l++) {
        const Layer *L = &m->layers[l];
        const Tensor *ts[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (int i = 0; i < 7; i++) add_shape(s, &n, ts[i], WINDOW);
    }
    add_shape(s, &n, &m->output, N_OUT);
    return n;
}

static double shape_flops(const Shape *s) { return 2.0 * s->M * s->K * (double)s->N * s->count; }

/* f32 -> bf16, round to nearest even (finite inputs). */
static void to_bf16(const float *x, uint16_t *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        y[i] = (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
    }
}

static int ok(dnnl_status_t s, const char *what) {
    if (s != dnnl_success) fprintf(stderr, "bench_window: oneDNN %s failed (status %d)\n", what, (int)s);
    return s == dnnl_success;
}

/* Best seconds, of `runs`, of sh->count runs in a row of oneDNN's matmul dst[M, N] = src[M, K] .
 * W^T by itself: default implementation, its own threads; weights as stored ([N, K] row-major,
 * "ba" as a [K, N] matrix) or, with any = 1, reordered once into the layout oneDNN prefers.
 * Names the implementation in impl; adds the timed runs to *wall and *cpu. -1 on failure. */
static double onednn_time(dnnl_engine_t eng, dnnl_stream_t st, const Shape *sh, const void *w_ba,
                          int bf16, int any, int runs, char *impl, size_t impl_size, double *wall, double *cpu) {
    dnnl_data_type_t dt = bf16 ? dnnl_bf16 : dnnl_f32;
    size_t es = bf16 ? 2 : 4;
    dnnl_memory_desc_t src_md, wba_md, w_md, dst_md;
    dnnl_dims_t sd = {sh->M, sh->K}, wd = {sh->K, sh->N}, dd = {sh->M, sh->N};
    dnnl_dims_t ws = {1, sh->K};
    if (!ok(dnnl_memory_desc_init_by_tag(&src_md, 2, sd, dt, dnnl_ab), "md") ||
        !ok(dnnl_memory_desc_init_by_strides(&wba_md, 2, wd, dt, ws), "md") ||
        !ok(dnnl_memory_desc_init_by_tag(&dst_md, 2, dd, dnnl_f32, dnnl_ab), "md"))
        return -1;
    if (any) {
        if (!ok(dnnl_memory_desc_init_by_tag(&w_md, 2, wd, dt, dnnl_format_tag_any), "md")) return -1;
    } else {
        w_md = wba_md;
    }
    dnnl_matmul_desc_t md;
    dnnl_primitive_desc_t pd;
    if (!ok(dnnl_matmul_desc_init(&md, &src_md, &w_md, NULL, &dst_md), "matmul desc") ||
        !ok(dnnl_primitive_desc_create(&pd, &md, NULL, eng, NULL), "matmul primitive desc"))
        return -1;
    const char *name = "?";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
    snprintf(impl, impl_size, "%s", name);
    const dnnl_memory_desc_t *wq = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_memory_desc_t w_final = *wq;
    dnnl_primitive_t prim;
    if (!ok(dnnl_primitive_create(&prim, pd), "primitive")) return -1;
    dnnl_primitive_desc_destroy(pd);
    void *src = aligned_alloc(64, ((size_t)sh->M * sh->K * es + 63) & ~(size_t)63);
    float *dst = aligned_alloc(64, ((size_t)sh->M * sh->N * 4 + 63) & ~(size_t)63);
    size_t wbytes = dnnl_memory_desc_get_size(&w_final);
    void *wbuf = any ? aligned_alloc(64, (wbytes + 63) & ~(size_t)63) : (void *)w_ba;
    if (!src || !dst || !wbuf) {
        fprintf(stderr, "bench_window: out of memory\n");
        exit(1);
    }
    /* activations of a realistic size (a normalized hidden state) */
    float *x = xmalloc((size_t)sh->M * sh->K * sizeof(float));
    for (size_t i = 0; i < (size_t)sh->M * sh->K; i++) x[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
    if (bf16) to_bf16(x, src, (size_t)sh->M * sh->K);
    else memcpy(src, x, (size_t)sh->M * sh->K * 4);
    free(x);
    dnnl_memory_t ms, mw, md_, mba = NULL;
    ok(dnnl_memory_create(&ms, &src_md, eng, src), "memory");
    ok(dnnl_memory_create(&mw, &w_final, eng, wbuf), "memory");
    ok(dnnl_memory_create(&md_, &dst_md, eng, dst), "memory");
    if (any) { /* the reorder into oneDNN's layout: once, not timed */
        dnnl_primitive_desc_t rpd;
        dnnl_primitive_t r;
        ok(dnnl_memory_create(&mba, &wba_md, eng, (void *)w_ba), "memory");
        if (ok(dnnl_reorder_primitive_desc_create(&rpd, &wba_md, eng, &w_final, eng, NULL), "reorder")) {
            dnnl_primitive_create(&r, rpd);
            dnnl_primitive_desc_destroy(rpd);
            dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, mba}, {DNNL_ARG_TO, mw}};
            dnnl_primitive_execute(r, st, 2, ra);
            dnnl_stream_wait(st);
            dnnl_primitive_destroy(r);
        }
    }
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md_}};
    double best = -1;
    for (int r = -1; r < runs; r++) { /* one warm-up run of one call */
        double t0 = now_seconds(), c0 = cpu_seconds();
        dnnl_status_t s = dnnl_success;
        for (int k = 0; k < (r < 0 ? 1 : sh->count) && s == dnnl_success; k++) {
            s = dnnl_primitive_execute(prim, st, 3, args);
            if (s == dnnl_success) s = dnnl_stream_wait(st);
        }
        if (!ok(s, "matmul execution")) {
            best = -1;
            break;
        }
        double dt = now_seconds() - t0;
        if (r >= 0 && (best < 0 || dt < best)) best = dt;
        if (r >= 0) *wall += dt, *cpu += cpu_seconds() - c0;
    }
    dnnl_memory_destroy(ms), dnnl_memory_destroy(mw), dnnl_memory_destroy(md_);
    if (mba) dnnl_memory_destroy(mba);
    dnnl_primitive_destroy(prim);
    free(src), free(dst);
    if (any) free(wbuf);
    return best;
}

/* oneDNN's weighted GFLOP/s on the window's shapes of model m (compute f32 or bf16); 0 on failure.
 * *cores: the cores it kept busy (CPU time / wall time of the timed runs). */
static double onednn_reference(const Model *m, int bf16, int runs, double *cores) {
    Shape sh[MAX_SHAPES];
    int ns = window_shapes(m, sh);
    dnnl_engine_t eng;
    dnnl_stream_t st;
    if (!ok(dnnl_engine_create(&eng, dnnl_cpu, 0), "engine") ||
        !ok(dnnl_stream_create(&st, eng, dnnl_stream_default_flags), "stream"))
        return 0;
    double flops = 0, secs = 0, wall = 0, cpu = 0;
    printf("oneDNN by itself, %s, %d threads (weights pre-converted; each shape run as often as in a "
           "window, best of %d):\n", bf16 ? "bf16" : "f32", fwd_threads(), runs);
    for (int i = 0; i < ns; i++) {
        size_t n = (size_t)sh[i].N * sh[i].K;
        float *w = xmalloc(n * sizeof(float));
        fwd_dequant_rows(sh[i].W, 0, sh[i].N, w);
        void *wb = w;
        if (bf16) {
            wb = xmalloc(n * 2);
            to_bf16(w, wb, n);
        }
        char impl_ba[64], impl_any[64];
        double t_ba = onednn_time(eng, st, &sh[i], wb, bf16, 0, runs, impl_ba, sizeof impl_ba, &wall, &cpu);
        double t_any = onednn_time(eng, st, &sh[i], wb, bf16, 1, runs, impl_any, sizeof impl_any, &wall, &cpu);
        if (bf16) free(wb);
        free(w);
        if (t_ba <= 0 && t_any <= 0) return 0;
        double t = t_ba > 0 && (t_any <= 0 || t_ba <= t_any) ? t_ba : t_any;
        double f1 = shape_flops(&sh[i]);
        printf("  [%d,%d]x[%d,%d] x%-3d %-22s %6.1f GFLOP/s as stored, %-22s %6.1f in its layout\n",
               sh[i].M, sh[i].K, sh[i].K, sh[i].N, sh[i].count, impl_ba, t_ba > 0 ? f1 / t_ba / 1e9 : 0,
               impl_any, t_any > 0 ? f1 / t_any / 1e9 : 0);
        flops += shape_flops(&sh[i]);
        secs += t;
    }
    dnnl_stream_destroy(st);
    dnnl_engine_destroy(eng);
    printf("  weighted by occurrence: %.1f GFLOP/s (%.1f GFLOP per window in %.2f s); %.2f cores busy\n",
           flops / secs / 1e9, flops / 1e9, secs, cpu / wall);
    *cores = cpu / wall;
    return flops / secs / 1e9;
}

static const char *model_path(const char *dir, uint32_t type, char *path, size_t size) {
    snprintf(path, size, "%s/qwen2.5-0.5b-%s.gguf", dir, qtype_name(type));
    struct stat sb;
    if (stat(path, &sb) == 0) return path;
    SynthSpec s;
    Err err;
    if (synth_preset("qwen2.5-0.5b", &s) != 0) return NULL;
    s.tokenizer = bench_qwen_vocab(); /* bench/benchvocab.h */
    s.type = type;
    fprintf(stderr, "bench_window: writing %s\n", path);
    if (synth_write(&s, path, &err) != 0) {
        fprintf(stderr, "bench_window: %s\n", err.msg);
        return NULL;
    }
    return path;
}

/* Times whole windows: best and median seconds into *best, *median; -1 on failure. */
static int time_windows(const Model *m, Compute c, int runs, double *best, double *median, double *cores,
                        char *kernel, size_t ksize) {
    Err err;
    Forward *f = fwd_new(m, c, &err);
    if (!f) {
        fprintf(stderr, "bench_window: %s\n", err.msg);
        return -1;
    }
    int ids[WINDOW];
    uint32_t s = 7;
    for (int i = 0; i < WINDOW; i++) s = s * 1103515245u + 12345u, ids[i] = (int)((s >> 8) % (uint32_t)m->cfg.n_vocab);
    float *logits = xmalloc((size_t)N_OUT * m->cfg.n_vocab * sizeof(float));
    double t[16], wall = 0, cpu = 0;
    if (runs > 16) runs = 16;
    for (int r = -1; r < runs; r++) { /* one warm-up: page faults of the mapping, primitives */
        fwd_rewind(f, 0);
        double t0 = now_seconds(), c0 = cpu_seconds();
        if (fwd_eval_last(f, ids, WINDOW, N_OUT, logits, &err)) {
            fprintf(stderr, "bench_window: %s\n", err.msg);
            free(logits);
            fwd_free(f);
            return -1;
        }
        if (r >= 0) t[r] = now_seconds() - t0, wall += t[r], cpu += cpu_seconds() - c0;
    }
    *cores = cpu / wall;
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    *best = t[0];
    *median = t[runs / 2];
    snprintf(kernel, ksize, "%s", fwd_kernel(f));
    free(logits);
    fwd_free(f);
    return 0;
}

static int verdict(const char *what, double value, double target, int at_least) {
    int pass = at_least ? value >= target : value <= target;
    printf("  target %-36s %s (%.3g vs %s %.3g)\n", what, pass ? "PASS" : "MISS", value, at_least ? ">=" : "<=",
           target);
    return pass;
}

int main(int argc, char **argv) {
    if (!getenv("OMP_NUM_THREADS")) {
        setenv("OMP_NUM_THREADS", "2", 1);
#ifdef _OPENMP
        omp_set_num_threads(2);
#endif
    }
    int quick = 0, want_c[2] = {0, 0}, want_t[2] = {0, 0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "quick")) quick = 1;
        else if (!strcmp(argv[i], "f32")) want_c[0] = 1;
        else if (!strcmp(argv[i], "bf16")) want_c[1] = 1;
        else if (!strcmp(argv[i], "F16")) want_t[0] = 1;
        else if (!strcmp(argv[i], "Q4_K")) want_t[1] = 1;
        else {
            fprintf(stderr, "usage: bench_window [quick] [f32|bf16]... [F16|Q4_K]...\n");
            return 2;
        }
    }
    if (!want_c[0] && !want_c[1]) want_c[0] = want_c[1] = 1;
    if (!want_t[0] && !want_t[1]) want_t[0] = want_t[1] = 1;
    const char *dir = getenv("COLDTOK_BENCH_DIR");
    if (!dir || !*dir) dir = "/tmp/coldtok-bench";
    mkdir(dir, 0755);
    const uint32_t types[2] = {Q_F16, Q_Q4_K};
    Model *models[2] = {NULL, NULL};
    char paths[2][1024];
    for (int t = 0; t < 2; t++) {
        if (!want_t[t]) continue;
        Err err;
        if (!model_path(dir, types[t], paths[t], sizeof paths[t])) return 1;
        if (!(models[t] = model_load(paths[t], &err))) {
            fprintf(stderr, "bench_window: %s\n", err.msg);
            return 1;
        }
    }
    const Model *any = models[0] ? models[0] : models[1];
    Shape sh[MAX_SHAPES];
    int ns = window_shapes(any, sh);
    double flops = 0;
    for (int i = 0; i < ns; i++) flops += shape_flops(&sh[i]);
    printf("window: %d tokens at positions 0..%d, logits of the last %d; %.1f GFLOP of linear layers "
           "(attention not counted); %d threads; cpu bf16 %s\n",
           WINDOW, WINDOW - 1, N_OUT, flops / 1e9, fwd_threads(), fwd_cpu_has_bf16() ? "yes" : "no");
    double best[2][2] = {{0}}; /* [compute][type] */
    for (int c = 0; c < 2; c++) {
        if (!want_c[c]) continue;
        double ref_cores;
        double ref = onednn_reference(any, c, quick ? 1 : REF_RUNS, &ref_cores);
        if (ref <= 0) return 1;
        for (int t = 0; t < 2; t++) {
            if (!models[t]) continue;
            double b, med, cores;
            char kernel[128];
            if (time_windows(models[t], c ? COMPUTE_BF16 : COMPUTE_F32, quick ? 1 : 3, &b, &med, &cores, kernel,
                             sizeof kernel))
                return 1;
            best[c][t] = b;
            double eff = flops / b / 1e9, ratio = eff / ref;
            printf("forward %s, %s weights (%s):\n", c ? "bf16" : "f32", qtype_name(types[t]), kernel);
            printf("  window              %.3f s best, %.3f s median of %d: %.0f tokens/s; %.2f cores busy\n", b,
                   med, quick ? 1 : 3, WINDOW / b, cores);
            printf("  effective matmul    %.1f GFLOP/s vs oneDNN by itself %.1f GFLOP/s\n", eff, ref);
            /* the same ratio per CPU-second: on a shared machine the two sides may have had
             * different numbers of cores */
            printf("  ratio %.2f (target >= 0.60); per CPU-second %.2f\n", ratio, ratio * ref_cores / cores);
            char what[64];
            snprintf(what, sizeof what, "%s %s forward / oneDNN", c ? "bf16" : "f32", qtype_name(types[t]));
            verdict(what, ratio, 0.60, 1);
        }
    }
    for (int c = 0; c < 2; c++)
        if (best[c][0] > 0 && best[c][1] > 0) {
            double proj = 8 * (best[c][0] + best[c][1]);
            printf("drift F16 base vs Q4_K variant, 4096 tokens, ctx 512 (8 windows each), %s: projected "
                   "%.1f s\n", c ? "bf16" : "f32", proj);
            char what[64];
            snprintf(what, sizeof what, "drift projection %s (s)", c ? "bf16" : "f32");
            verdict(what, proj, 46, 0);
        }
    for (int t = 0; t < 2; t++) model_free(models[t]);
    return 0;
}
