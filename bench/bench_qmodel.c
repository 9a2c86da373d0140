/* bench_qmodel: `coldtok quantize` of a whole model against llama.cpp's llama_model_quantize.
 *
 * The model: a Qwen2.5-0.5B-shaped F16 GGUF with seeded random weights (quant/synth.h's preset,
 * written once into $COLDTOK_BENCH_DIR, default /tmp/coldtok-bench, as bench_forward does; the
 * same file bench_forward uses). Per type, in the same run and with the same threads (2):
 *   coldtok:   build/coldtok quantize -m MODEL --type T -o DIR/qbench-T-coldtok.gguf
 *   llama.cpp: build/oracle/llama_oracle -t 2 quantize [--pure] MODEL DIR/qbench-T-llama.gguf T
 * (the plain types are llama-quantize --pure, as coldtok's plain --type is; the _M names are the
 * mixtures on both sides), each a child process timed for wall clock and CPU seconds (user +
 * system, from wait4), and the ratios coldtok / llama.cpp. The machine is shared: CPU seconds are
 * the figure to trust when it is loaded; QBENCH_REPS=N (default 1) keeps the least of N runs.
 * One verdict per type: CPU ratio <= 1 (issue 15's target, at least as fast as llama-quantize).
 * The outputs are left in DIR (qbench-T-*.gguf) so that two builds can be compared with cmp.
 * QBENCH_TYPES=Q4_K_M,Q6_K restricts the types; COLDTOK and LLAMA_ORACLE override the programs.
 * Without the oracle (make oracle) the llama.cpp column is skipped and there is no verdict. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/benchvocab.h"
#include "bench/benchproc.h"
#include "common/util.h"
#include "formats/qtype.h"
#include "quant/synth.h"

typedef struct {
    const char *type;
    int pure; /* a plain type: llama-quantize --pure */
} BenchType;

static const BenchType TYPES[] = {
    {"Q8_0", 1},   {"Q4_0", 1},   {"Q4_K_M", 0}, {"Q5_K_M", 0},
    {"Q6_K", 1},   {"Q3_K_M", 0}, {"Q2_K", 1},   {"IQ4_XS", 1},
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

typedef struct {
    double wall, cpu;
    long size;
} Timing;

/* Runs argv with stdout and stderr to /dev/null and 2 OpenMP threads; wall and CPU seconds. */
static int timed(char *const *argv, const char *out, Timing *t) {
    double t0 = now_seconds();
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(127);
        setenv("OMP_NUM_THREADS", "2", 1);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    t->wall = now_seconds() - t0;
    t->cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
             ru.ru_stime.tv_usec / 1e6;
    struct stat sb;
    t->size = stat(out, &sb) == 0 ? (long)sb.st_size : -1;
    return 0;
}

/* the least wall and the least CPU of reps runs */
static int best_of(char *const *argv, const char *out, int reps, Timing *best) {
    for (int k = 0; k < reps; k++) {
        Timing t;
        if (timed(argv, out, &t)) return -1;
        if (k == 0 || t.wall < best->wall) best->wall = t.wall;
        if (k == 0 || t.cpu < best->cpu) best->cpu = t.cpu;
        best->size = t.size;
    }
    return 0;
}

static int wanted(const char *type) {
    const char *list = getenv("QBENCH_TYPES");
    if (!list || !*list) return 1;
    const size_t n = strlen(type);
    for (const char *p = list; (p = strstr(p, type)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
    return 0;
}

int main(void) {
    const char *dir = getenv("COLDTOK_BENCH_DIR") ? getenv("COLDTOK_BENCH_DIR") : "/tmp/coldtok-bench";
    const char *coldtok = getenv("COLDTOK") ? getenv("COLDTOK") : "build/coldtok";
    const char *oracle = getenv("LLAMA_ORACLE") ? getenv("LLAMA_ORACLE") : "build/oracle/llama_oracle";
    const int reps = getenv("QBENCH_REPS") ? atoi(getenv("QBENCH_REPS")) : 1;
    const int have_oracle = access(oracle, X_OK) == 0;
    mkdir(dir, 0755);
    char model[1024];
    snprintf(model, sizeof model, "%s/qwen2.5-0.5b-F16.gguf", dir);
    struct stat sb;
    if (stat(model, &sb) != 0) {
        SynthSpec s;
        Err err;
        if (synth_preset("qwen2.5-0.5b", &s) != 0) return 1;
        s.tokenizer = bench_qwen_vocab(); /* bench/benchvocab.h */
        s.type = Q_F16;
        fprintf(stderr, "bench_qmodel: writing %s\n", model);
        if (synth_write(&s, model, &err) != 0) {
            fprintf(stderr, "bench_qmodel: %s\n", err.msg);
            return 1;
        }
    }
    /* page cache: read the model once */
    {
        FILE *fp = fopen(model, "rb");
        static char buf[1 << 20];
        while (fp && fread(buf, 1, sizeof buf, fp) == sizeof buf) {}
        if (fp) fclose(fp);
    }
    double load[3];
    if (getloadavg(load, 3) < 1) load[0] = -1;
    printf("whole-model quantization of %s (Qwen2.5-0.5B shape, F16), 2 threads, load average %.1f\n"
           "coldtok: %s; llama.cpp: %s%s; best of %d run%s\n\n",
           model, load[0], coldtok, oracle, have_oracle ? "" : " (absent: make oracle)", reps,
           reps > 1 ? "s" : "");
    printf("%-7s | %9s %9s | %9s %9s | %8s %8s | %s\n", "type", "coldtok", "CPU s", "llama.cpp",
           "CPU s", "wall x", "CPU x", "bytes coldtok / llama.cpp");
    int failed = 0;
    for (size_t i = 0; i < N_TYPES; i++) {
        const BenchType *bt = &TYPES[i];
        if (!wanted(bt->type)) continue;
        char out_c[1100], out_l[1100];
        snprintf(out_c, sizeof out_c, "%s/qbench-%s-coldtok.gguf", dir, bt->type);
        snprintf(out_l, sizeof out_l, "%s/qbench-%s-llama.gguf", dir, bt->type);
        char *ca[] = {(char *)coldtok, "quantize", "-m", model, "--type", (char *)bt->type, "-o", out_c, NULL};
        Timing c = {0}, l = {0};
        if (best_of(ca, out_c, reps, &c)) {
            printf("%-7s | coldtok quantize failed\n", bt->type);
            failed = 1;
            continue;
        }
        if (!have_oracle) {
            printf("%-7s | %8.2fs %8.2fs | %9s %9s | %8s %8s | %ld\n", bt->type, c.wall, c.cpu, "-", "-", "-",
                   "-", c.size);
            continue;
        }
        char *la_pure[] = {(char *)oracle, "-t", "2", "quantize", "--pure", model, out_l, (char *)bt->type, NULL};
        char *la_mix[] = {(char *)oracle, "-t", "2", "quantize", model, out_l, (char *)bt->type, NULL};
        if (best_of(bt->pure ? la_pure : la_mix, out_l, reps, &l)) {
            printf("%-7s | llama_oracle quantize failed\n", bt->type);
            failed = 1;
            continue;
        }
        printf("%-7s | %8.2fs %8.2fs | %8.2fs %8.2fs | %7.2fx %7.2fx | %ld / %ld\n", bt->type, c.wall, c.cpu,
               l.wall, l.cpu, c.wall / l.wall, c.cpu / l.cpu, c.size, l.size);
        char what[64];
        snprintf(what, sizeof what, "%s CPU time / llama.cpp's", bt->type);
        verdict(what, c.cpu / l.cpu, 1.0, "x");
    }
    if (getloadavg(load, 3) >= 1) printf("\nload average at the end %.1f\n", load[0]);
    return failed;
}
