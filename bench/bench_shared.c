/* bench_shared: how much a cold start slows down when another CPU-bound process runs (issue 15:
 * "with one other CPU-bound process running, coldtok's cold start slows no more than llama.cpp's
 * does").
 *
 *   bench_shared [MODEL.gguf]
 *
 * Without an argument the model is a qwen2.5-0.5b-shaped Q8_0 file written once by synth into
 * $COLDTOK_BENCH_DIR (default /tmp/coldtok-bench; the file bench_forward also uses). Each command
 * runs RUNS times alone, then RUNS times next to a busy child (an endless loop pinned to the last
 * CPU); the best wall time of each is kept and their ratio printed:
 *   - `coldtok logits -m MODEL -c 256 -n 1` as shipped (OpenMP wait policy passive: cli/main.c);
 *   - the same with OMP_WAIT_POLICY=active (libgomp's spinning teams, the behaviour before);
 *   - llama.cpp: build/oracle/llama_oracle -t 2 logits MODEL 256 OUT (load to logits), when built.
 * OMP_NUM_THREADS=2 for all. Target: coldtok's ratio <= llama.cpp's. Run from the repository
 * root (build/coldtok). */
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/benchvocab.h"
#include "bench/benchproc.h"
#include "formats/qtype.h"
#include "quant/synth.h"

#define RUNS 3

/* Runs argv with the extra environment entry env (NAME=VALUE or NULL); the best wall time of RUNS
 * runs, or -1. */
static double best_wall(char *const *argv, const char *env) {
    double best = -1;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_seconds();
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) return -1;
        if (pid == 0) {
            if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(127);
            setenv("OMP_NUM_THREADS", "2", 1);
            if (env) putenv((char *)env);
            execv(argv[0], argv);
            _exit(127);
        }
        int status;
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
        double w = now_seconds() - t0;
        if (best < 0 || w < best) best = w;
    }
    return best;
}

/* A child that spins forever on the last CPU; its pid. */
static pid_t start_busy(void) {
    pid_t pid = fork();
    if (pid == 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        CPU_SET(n > 1 ? (int)n - 1 : 0, &set);
        sched_setaffinity(0, sizeof set, &set);
        for (volatile unsigned long i = 0;; i++) {}
    }
    return pid;
}

static void stop_busy(pid_t pid) {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Alone and shared: prints both and returns the ratio, or -1. */
static double measure(const char *what, char *const *argv, const char *env) {
    double alone = best_wall(argv, env);
    pid_t busy = start_busy();
    double shared = busy > 0 ? best_wall(argv, env) : -1;
    stop_busy(busy);
    if (alone <= 0 || shared <= 0) {
        printf("  %-34s FAILED (%s)\n", what, argv[0]);
        return -1;
    }
    printf("  %-34s alone %6.3f s   with a busy process %6.3f s   slowdown %.2fx\n", what, alone,
           shared, shared / alone);
    return shared / alone;
}

int main(int argc, char **argv) {
    char path[1024];
    if (argc > 1) {
        snprintf(path, sizeof path, "%s", argv[1]);
    } else {
        const char *dir = getenv("COLDTOK_BENCH_DIR") ? getenv("COLDTOK_BENCH_DIR") : "/tmp/coldtok-bench";
        mkdir(dir, 0755);
        snprintf(path, sizeof path, "%s/qwen2.5-0.5b-Q8_0.gguf", dir);
        struct stat sb;
        if (stat(path, &sb) != 0) {
            SynthSpec s;
            Err err;
            if (synth_preset("qwen2.5-0.5b", &s) != 0) return 1;
            s.tokenizer = bench_qwen_vocab(); /* bench/benchvocab.h */
            s.type = Q_Q8_0;
            fprintf(stderr, "bench_shared: writing %s\n", path);
            if (synth_write(&s, path, &err) != 0) {
                fprintf(stderr, "bench_shared: %s\n", err.msg);
                return 1;
            }
        }
    }
    if (!is_file("build/coldtok")) {
        printf("bench_shared: SKIP: build/coldtok absent (run from the repository root)\n");
        return 0;
    }
    printf("bench_shared: cold start of %s, 2 threads, best of %d runs, alone and next to a busy "
           "process pinned to the last CPU\n", path, RUNS);
    char *ct[] = {"build/coldtok", "logits", "-m", path, "-c", "256", "-n", "1", NULL};
    double passive = measure("coldtok (passive wait, shipped)", ct, NULL);
    double active = measure("coldtok, OMP_WAIT_POLICY=active", ct, "OMP_WAIT_POLICY=active");
    double llama = -1;
    if (is_file("build/oracle/llama_oracle")) {
        char *ll[] = {"build/oracle/llama_oracle", "-t", "2", "logits", path, "256",
                      "/tmp/bench_shared_llama.f32", NULL};
        llama = measure("llama.cpp (llama_oracle logits)", ll, NULL);
        unlink("/tmp/bench_shared_llama.f32");
    } else {
        printf("  llama.cpp: SKIP (build/oracle/llama_oracle absent: make oracle)\n");
    }
    if (passive > 0 && llama > 0)
        verdict("slowdown <= llama.cpp's (issue 15)", passive, llama, "x");
    if (passive > 0 && active > 0)
        printf("  spinning teams slow down %.2fx as much as passive ones\n", active / passive);
    return passive > 0 ? 0 : 1;
}
