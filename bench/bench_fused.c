/* bench_fused: the fused small-M forward (formats/dot.h through model/matmul.c) in CPU time, the
 * figure a shared machine disturbs least: for the Qwen2.5-0.5B-shaped GGUF files of bench_forward
 * (F16, Q8_0, Q4_K = Q5_0 for every 896-column matrix and the classifier, Q4_K ffn_down; written
 * into $COLDTOK_BENCH_DIR, default /tmp/coldtok-bench, when missing), the process CPU time of
 * one forward of 1, 2, 4, 8 and 16 positions (min of N runs, default 9, or argv[1]; argv[2..]: the
 * types to run, default F16 Q8_0 Q4_K; F32, BF16, Q4_0, Q5_K and Q6_K when named; IQ4_NL, IQ4_XS,
 * IQ3_S and IQ2_XS when named, from bench_quantfmt's files), the ratio of each
 * to one position (issue 15's target: <= 1.2 up to 16 positions), the weight bytes per CPU-second
 * at one position, and the floor of the same bytes read at this machine's streaming rate per
 * CPU-second (bench/bandwidth.h). Threads: OMP_NUM_THREADS (default here 1, so that the figures
 * are one core's work). The load average is printed with the figures; bench/run.sh counts the
 * PASS/MISS lines of the targets (one position <= 1.3x the floor, 8 and 16 positions <= 1.2x one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench/benchvocab.h"
#include "bench/bandwidth.h"
#include "formats/qtype.h"
#include "model/forward.h"
#include "model/model.h"
#include "quant/synth.h"

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Min CPU seconds of `runs` forwards of n positions from position 0 (after one warm-up), or -1. */
static double min_forward(Forward *f, const int *toks, int n, float *logits, int runs) {
    double best = 1e30;
    Err err;
    for (int r = -1; r < runs; r++) {
        fwd_rewind(f, 0);
        double a = cpu_now();
        if (fwd_eval(f, toks, n, logits, 0, &err)) {
            fprintf(stderr, "bench_fused: %s\n", err.msg);
            return -1;
        }
        double dt = cpu_now() - a;
        if (r >= 0 && dt < best) best = dt;
    }
    return best;
}

static int bench_type(const char *dir, uint32_t type, int runs, double bw_cpu) {
    char path[1024];
    snprintf(path, sizeof path, "%s/qwen2.5-0.5b-%s.gguf", dir, qtype_name(type));
    Err err;
    struct stat sb;
    if (stat(path, &sb) != 0 && (type == Q_IQ4_NL || type == Q_IQ4_XS || type == Q_IQ3_S || type == Q_IQ2_XS)) {
        printf("%s: %s not there (bench_quantfmt writes it)\n", qtype_name(type), path);
        return 0;
    }
    if (stat(path, &sb) != 0) {
        SynthSpec s;
        if (synth_preset("qwen2.5-0.5b", &s) != 0) return -1;
        s.tokenizer = bench_qwen_vocab(); /* bench/benchvocab.h */
        s.type = type;
        fprintf(stderr, "bench_fused: writing %s\n", path);
        if (synth_write(&s, path, &err) != 0) {
            fprintf(stderr, "bench_fused: %s\n", err.msg);
            return -1;
        }
    }
    Model *m = model_load(path, &err);
    if (!m) {
        fprintf(stderr, "bench_fused: %s\n", err.msg);
        return -1;
    }
    Forward *f = fwd_new(m, COMPUTE_F32, &err);
    if (!f) {
        fprintf(stderr, "bench_fused: %s\n", err.msg);
        model_free(m);
        return -1;
    }
    float *logits = xmalloc((size_t)16 * m->cfg.n_vocab * sizeof(float));
    int toks[16];
    for (int i = 0; i < 16; i++) toks[i] = 256 + i;
    const int Ms[] = {1, 2, 4, 8, 16};
    double t[5];
    for (int i = 0; i < 5; i++)
        if ((t[i] = min_forward(f, toks, Ms[i], logits, runs)) < 0) return -1;
    double wb = (double)model_weight_bytes(m), floor_s = bw_cpu > 0 ? wb / bw_cpu : 0;
    double load[3] = {0};
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) {
        if (fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
        fclose(la);
    }
    printf("%-5s %7.1f MB  1 pos %6.1f ms (%5.1f GB/CPU-s, %.2f x floor)  2: %.2fx  4: %.2fx  8: %.2fx  16: %.2fx  (load %.1f)\n",
           qtype_name(type), wb / 1e6, t[0] * 1e3, wb / t[0] / 1e9, floor_s > 0 ? t[0] / floor_s : 0,
           t[1] / t[0], t[2] / t[0], t[3] / t[0], t[4] / t[0], load[0]);
    /* issue 15's targets, in bench/run.sh's verdict form */
    char what[64];
    if (floor_s > 0) {
        snprintf(what, sizeof what, "%s 1 position / floor", qtype_name(type));
        printf("  target %-34s %s (%.3g vs <= 1.3)\n", what, t[0] / floor_s <= 1.3 ? "PASS" : "MISS", t[0] / floor_s);
    }
    snprintf(what, sizeof what, "%s 8 positions / 1", qtype_name(type));
    printf("  target %-34s %s (%.3g vs <= 1.2)\n", what, t[3] / t[0] <= 1.2 ? "PASS" : "MISS", t[3] / t[0]);
    snprintf(what, sizeof what, "%s 16 positions / 1", qtype_name(type));
    printf("  target %-34s %s (%.3g vs <= 1.2)\n", what, t[4] / t[0] <= 1.2 ? "PASS" : "MISS", t[4] / t[0]);
    fflush(stdout);
    free(logits);
    fwd_free(f);
    model_free(m);
    return 0;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 9;
    if (runs < 1) runs = 1;
    if (!getenv("OMP_NUM_THREADS")) {
        setenv("OMP_NUM_THREADS", "1", 1);
#ifdef _OPENMP
        omp_set_num_threads(1);
#endif
    }
    const char *dir = getenv("COLDTOK_BENCH_DIR");
    if (!dir || !*dir) dir = "/tmp/coldtok-bench";
    mkdir(dir, 0755);
    double bw_cpu = 0;
    bandwidth_cpu(fwd_threads(), &bw_cpu);
    printf("fused forward, %d thread(s), process CPU time, min of %d; floor: weight bytes at %.1f GB per CPU-second "
           "(streaming read)\n",
           fwd_threads(), runs, bw_cpu / 1e9);
    /* the default three, then the other types bench_llama writes (named on the command line); then
     * IQ4_NL and IQ4_XS, named too, and only from bench_quantfmt's files (`coldtok quantize`: the
     * IQ4_XS one is IQ4_NL wherever 896 columns do not fit 256-blocks, IQ4_XS ffn_down; likewise
     * IQ3_S and IQ2_XS: their ffn_down in that type, the rest IQ4_NL) */
    const uint32_t types[] = {Q_F16, Q_Q8_0, Q_Q4_K, Q_F32, Q_BF16, Q_Q4_0, Q_Q5_K, Q_Q6_K, Q_IQ4_NL, Q_IQ4_XS,
                              Q_IQ3_S, Q_IQ2_XS};
    for (int i = 0; i < (int)(sizeof types / sizeof *types); i++) {
        int wanted = argc <= 2 && i < 3;
        for (int a = 2; a < argc; a++) wanted |= strcmp(argv[a], qtype_name(types[i])) == 0;
        if (wanted && bench_type(dir, types[i], runs, bw_cpu)) return 1;
    }
    return 0;
}
