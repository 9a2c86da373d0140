/* bench_forward: cold-start speed and memory of the forward pass on synthesized real-shaped models.
 *
 * For a Qwen2.5-0.5B-shaped GGUF in F16, Q8_0 and Q4_K (llama.cpp's fallback Q5_0 where 896 columns
 * do not fit 256-blocks), and with COLDTOK_BENCH_7B=1 a Qwen2.5-7B-shaped Q4_K (written once with
 * synth into $COLDTOK_BENCH_DIR, default /tmp/coldtok-bench; never committed):
 *   load time (model_load + fwd_new), forward time of one position (median of several runs, file
 *   in page cache), weight bytes read per forward, this machine's memory bandwidth (measured here:
 *   a streaming read of 1.5 GiB with the same threads), and the ratio
 *   forward_time / (weight_bytes / bandwidth), target <= 1.5;
 *   the same at 4 and 8 positions (relative to one), and one position through the panel path
 *   (COLDTOK_MATMUL=panels: f32 panels and oneDNN, as before the fused kernels);
 *   end to end: `coldtok logits` (load, tokenizer, forward, print) wall time, target < 0.55 s for
 *   F16, and its peak RSS, target < file size + 10% + 256 MiB.
 * Threads: OMP_NUM_THREADS (set it to 2 to match the targets; default here 2). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench/benchvocab.h"
#include "bench/bandwidth.h"
#include "model/forward.h"
#include "model/model.h"
#include "quant/synth.h"
#include "formats/qtype.h"

#define RUNS 7

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int verdict(const char *what, double value, double target, const char *unit) {
    int ok = value <= target;
    printf("  target %-34s %s (%.3g%s vs <= %.3g%s)\n", what, ok ? "PASS" : "MISS", value, unit, target, unit);
    return ok;
}

/* Runs `coldtok logits -m MODEL --top 5` once (after one warm-up run): wall seconds, peak RSS. */
static int end_to_end(const char *coldtok, const char *model, double *wall, long *rss_kb) {
    for (int run = 0; run < 2; run++) {
        double t0 = now_seconds();
        fflush(stdout); /* the child must not inherit unwritten output */
        pid_t pid = fork();
        if (pid < 0) return -1;
        if (pid == 0) {
            if (!freopen("/dev/null", "w", stdout)) _exit(127);
            execl(coldtok, coldtok, "logits", "-m", model, "--top", "5", (char *)NULL);
            _exit(127);
        }
        int status;
        struct rusage ru;
        if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
        *wall = now_seconds() - t0;
        *rss_kb = ru.ru_maxrss;
    }
    return 0;
}

/* Median wall time of RUNS forwards of the n tokens from position 0 (after one warm-up), or -1. */
static double median_forward(Forward *f, const int *toks, int n, float *logits, Err *err) {
    double t[RUNS];
    for (int r = -1; r < RUNS; r++) {
        fwd_rewind(f, 0);
        double a = now_seconds();
        if (fwd_eval(f, toks, n, logits, 0, err)) {
            fprintf(stderr, "bench_forward: %s\n", err->msg);
            return -1;
        }
        if (r >= 0) t[r] = now_seconds() - a;
    }
    qsort(t, RUNS, sizeof t[0], cmp_double);
    return t[RUNS / 2];
}

static int bench_model(const char *dir, const char *preset, uint32_t type, double bw,
                       const char *coldtok, int *n_miss) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s-%s.gguf", dir, preset, qtype_name(type));
    Err err;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        SynthSpec s;
        if (synth_preset(preset, &s) != 0) return -1;
        s.tokenizer = bench_qwen_vocab(); /* bench/benchvocab.h */
        s.type = type;
        fprintf(stderr, "bench_forward: writing %s\n", path);
        if (synth_write(&s, path, &err) != 0) {
            fprintf(stderr, "bench_forward: %s\n", err.msg);
            return -1;
        }
        stat(path, &sb);
    }
    /* page cache: read the file once */
    {
        FILE *fp = fopen(path, "rb");
        static char buf[1 << 20];
        while (fp && fread(buf, 1, sizeof buf, fp) == sizeof buf) {}
        if (fp) fclose(fp);
    }
    double t0 = now_seconds();
    Model *m = model_load(path, &err);
    if (!m) {
        fprintf(stderr, "bench_forward: %s\n", err.msg);
        return -1;
    }
    Forward *f = fwd_new(m, COMPUTE_F32, &err);
    double t_load = now_seconds() - t0;
    float *logits = xmalloc((size_t)m->cfg.n_vocab * sizeof(float));
    int tok = 256; /* the synth vocabulary's <|endoftext|> */
    double times[RUNS], first = 0;
    for (int r = -1; r < RUNS; r++) {
        fwd_rewind(f, 0);
        double a = now_seconds();
        if (fwd_eval(f, &tok, 1, logits, 0, &err)) {
            fprintf(stderr, "bench_forward: %s\n", err.msg);
            return -1;
        }
        double dt = now_seconds() - a;
        if (r < 0) first = dt;
        else times[r] = dt;
    }
    qsort(times, RUNS, sizeof times[0], cmp_double);
    double t_fwd = times[RUNS / 2];
    uint64_t wb = model_weight_bytes(m);
    double floor_s = (double)wb / bw, ratio = t_fwd / floor_s;
    printf("%s %s  (%s, %d threads)\n", preset, qtype_name(type), fwd_kernel(f), fwd_threads());
    printf("  file                %.1f MB  %s\n", (double)sb.st_size / 1e6, path);
    printf("  load                %.1f ms (model_load + fwd_new)\n", t_load * 1e3);
    printf("  first forward       %.1f ms (page faults, primitive creation)\n", first * 1e3);
    printf("  forward (1 pos)     %.1f ms median of %d (min %.1f, max %.1f)\n", t_fwd * 1e3, RUNS,
           times[0] * 1e3, times[RUNS - 1] * 1e3);
    printf("  weight bytes        %.1f MB read per forward\n", (double)wb / 1e6);
    printf("  floor               %.1f ms at %.1f GB/s\n", floor_s * 1e3, bw / 1e9);
    if (!verdict("forward / floor", ratio, 1.5, "")) ++*n_miss;
    /* a few positions at once (several start contexts): the fused kernels up to 8 */
    int toks[8] = {256, 257, 258, 259, 260, 261, 262, 263};
    for (int M = 4; M <= 8; M += 4) {
        double tm = median_forward(f, toks, M, logits, &err);
        if (tm < 0) return -1;
        printf("  forward (%d pos)     %.1f ms median: %.2f x one position\n", M, tm * 1e3, tm / t_fwd);
    }
    fwd_free(f);
    /* the same forward through f32 panels and oneDNN (the path before the fused kernels) */
    setenv("COLDTOK_MATMUL", "panels", 1);
    f = fwd_new(m, COMPUTE_F32, &err);
    unsetenv("COLDTOK_MATMUL");
    if (f) {
        double tp = median_forward(f, &tok, 1, logits, &err);
        if (tp < 0) return -1;
        printf("  forward, panels     %.1f ms median: %.2f x floor; fused is %.2f x faster\n", tp * 1e3, tp / floor_s,
               tp / t_fwd);
        fwd_free(f);
    }
    /* the bf16 mode, for information (it rounds weights and activations to bf16) */
    if ((f = fwd_new(m, COMPUTE_BF16, &err)) != NULL) {
        double tb[RUNS] = {0};
        int ok = 1;
        for (int r = -1; r < RUNS && ok; r++) {
            fwd_rewind(f, 0);
            double a = now_seconds();
            ok = fwd_eval(f, &tok, 1, logits, 0, &err) == 0;
            if (r >= 0) tb[r] = now_seconds() - a;
        }
        qsort(tb, RUNS, sizeof tb[0], cmp_double);
        if (!ok) printf("  forward bf16        failed: %s\n", err.msg);
        else printf("  forward bf16        %.1f ms median (min %.1f): %.2f x floor  (%s; information only)\n",
               tb[RUNS / 2] * 1e3, tb[0] * 1e3, tb[RUNS / 2] / floor_s, fwd_kernel(f));
        fwd_free(f);
    }
    free(logits);
    model_free(m);
    double wall;
    long rss_kb;
    if (access(coldtok, X_OK) == 0 && end_to_end(coldtok, path, &wall, &rss_kb) == 0) {
        double limit_mb = ((double)sb.st_size * 1.10 + 256.0 * 1048576) / 1048576;
        printf("  coldtok logits      %.3f s wall, peak RSS %.1f MiB\n", wall, rss_kb / 1024.0);
        if (type == Q_F16 && !verdict("coldtok logits wall", wall, 0.55, " s")) ++*n_miss;
        if (!verdict("peak RSS", rss_kb / 1024.0, limit_mb, " MiB")) ++*n_miss;
    } else {
        printf("  coldtok logits      not measured (%s missing or has no logits command)\n", coldtok);
    }
    return 0;
}

int main(int argc, char **argv) {
    (void)argc;
    if (!getenv("OMP_NUM_THREADS")) { /* the targets are for 2 threads; the child inherits it */
        setenv("OMP_NUM_THREADS", "2", 1);
#ifdef _OPENMP
        omp_set_num_threads(2);
#endif
    }
    const char *dir = getenv("COLDTOK_BENCH_DIR");
    if (!dir || !*dir) dir = "/tmp/coldtok-bench";
    mkdir(dir, 0755);
    /* the coldtok binary of the same build: BUILD/bench/bench_forward -> BUILD/coldtok */
    char coldtok[1024];
    snprintf(coldtok, sizeof coldtok, "%s", argv[0]);
    char *slash = strrchr(coldtok, '/');
    if (slash) *slash = '\0';
    slash = strrchr(coldtok, '/');
    if (slash) strcpy(slash + 1, "coldtok");
    else snprintf(coldtok, sizeof coldtok, "coldtok");
    int threads = fwd_threads();
    double bw = bandwidth_cpu(threads, NULL);
    printf("memory bandwidth      %.1f GB/s (streaming read of 1.5 GiB, %d threads, best of 10, half with prefetch)\n",
           bw / 1e9, threads);
    printf("cpu bf16              %s\n", fwd_cpu_has_bf16() ? "yes (avx512_bf16/amx_bf16)" : "no");
    int miss = 0;
    if (bench_model(dir, "qwen2.5-0.5b", Q_F16, bw, coldtok, &miss) ||
        bench_model(dir, "qwen2.5-0.5b", Q_Q8_0, bw, coldtok, &miss) ||
        bench_model(dir, "qwen2.5-0.5b", Q_Q4_K, bw, coldtok, &miss))
        return 1;
    /* 7B-shaped Q4_K (~4.4 GB; writing it takes minutes): when asked for or already written */
    char p7[1024];
    snprintf(p7, sizeof p7, "%s/qwen2.5-7b-Q4_K.gguf", dir);
    long avail_kb = 0;
    FILE *mi = fopen("/proc/meminfo", "r");
    char line[256];
    while (mi && fgets(line, sizeof line, mi))
        if (sscanf(line, "MemAvailable: %ld kB", &avail_kb) == 1) break;
    if (mi) fclose(mi);
    if (getenv("COLDTOK_BENCH_7B") || access(p7, R_OK) == 0) {
        if (avail_kb < 6L << 20)
            printf("qwen2.5-7b Q4_K: skipped (%.1f GiB available, ~5.5 GiB needed)\n", avail_kb / 1048576.0);
        else if (bench_model(dir, "qwen2.5-7b", Q_Q4_K, bw, coldtok, &miss))
            return 1;
    } else {
        printf("qwen2.5-7b Q4_K: not run (set COLDTOK_BENCH_7B=1; writes a 4.4 GB file into %s)\n", dir);
    }
    return 0;
}
