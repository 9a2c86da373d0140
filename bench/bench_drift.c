/* bench_drift: the end-to-end `coldtok drift` job of issue 7's anchor.
 *
 * llama.cpp's two-pass KL mode on a Qwen2.5-0.5B-shaped F16 base and a Q4_K variant, 4096 tokens of
 * Python code, ctx 512, 2 threads, takes 69 s on this machine (42 s for the base pass writing a
 * 620 MB logits file, 27 s for the KL pass). The same job here: `coldtok drift -m F16 -m Q4_K
 * --corpus data/samples/python --ctx 512 --max-tokens 4096 -o DIR` (8 windows per model) on the
 * synthesized models bench_forward writes (same shapes, random weights, byte-level vocabulary of
 * 151,936 ids; written here when absent). Printed: wall time (best of 2 runs after the page cache
 * is warm), tokens per second, peak RSS, the largest file the run wrote; targets: wall < 46 s and
 * no file over 64 MB. Threads: OMP_NUM_THREADS, default 2. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "quant/synth.h"
#include "formats/qtype.h"

/* PATH of the preset's model in TYPE, written when absent. */
static int ensure_model(const char *dir, const char *preset, uint32_t type, char *path, size_t n) {
    snprintf(path, n, "%s/%s-%s.gguf", dir, preset, qtype_name(type));
    if (access(path, R_OK) == 0) return 0;
    SynthSpec s;
    Err err;
    if (synth_preset(preset, &s) != 0) return -1;
    s.type = type;
    fprintf(stderr, "bench_drift: writing %s\n", path);
    if (synth_write(&s, path, &err) != 0) {
        fprintf(stderr, "bench_drift: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void warm(const char *path) {
    static char buf[1 << 20];
    FILE *f = fopen(path, "rb");
    while (f && fread(buf, 1, sizeof buf, f) == sizeof buf) {}
    if (f) fclose(f);
}

/* The largest regular file in DIR (bytes). */
static long long largest_file(const char *dir) {
    long long max = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[2048];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > max) max = st.st_size;
    }
    if (d) closedir(d);
    return max;
}

int main(int argc, char **argv) {
    (void)argc;
    if (!getenv("OMP_NUM_THREADS")) setenv("OMP_NUM_THREADS", "2", 1);
    const char *dir = getenv("COLDTOK_BENCH_DIR");
    if (!dir || !*dir) dir = "/tmp/coldtok-bench";
    mkdir(dir, 0755);
    char coldtok[1024]; /* BUILD/bench/bench_drift -> BUILD/coldtok */
    snprintf(coldtok, sizeof coldtok, "%s", argv[0]);
    char *slash = strrchr(coldtok, '/');
    if (slash) *slash = '\0';
    slash = strrchr(coldtok, '/');
    if (slash) strcpy(slash + 1, "coldtok");
    else snprintf(coldtok, sizeof coldtok, "coldtok");
    char base[1024], var[1024], out[1100];
    if (ensure_model(dir, "qwen2.5-0.5b", Q_F16, base, sizeof base) ||
        ensure_model(dir, "qwen2.5-0.5b", Q_Q4_K, var, sizeof var))
        return 1;
    warm(base), warm(var);
    snprintf(out, sizeof out, "%s/drift-out", dir);
    double best = 1e30;
    long rss_kb = 0;
    for (int run = 0; run < 2; run++) {
        double t0 = now_seconds();
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) return 1;
        if (pid == 0) {
            if (!freopen("/dev/null", "w", stdout)) _exit(127);
            execl(coldtok, coldtok, "drift", "-m", base, "-m", var, "--corpus", "data/samples/python", "--ctx", "512",
                  "--max-tokens", "4096", "-o", out, (char *)NULL);
            _exit(127);
        }
        int status;
        struct rusage ru;
        if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "bench_drift: %s drift failed\n", coldtok);
            return 1;
        }
        double dt = now_seconds() - t0;
        if (dt < best) best = dt;
        if (ru.ru_maxrss > rss_kb) rss_kb = ru.ru_maxrss;
    }
    long long big = largest_file(out);
    int tokens = 2 * 8 * 511; /* both models, 8 windows, the 511 tokens each runs */
    printf("drift F16 vs Q4_K, Qwen2.5-0.5B shape, 4096 tokens (8 windows of 512), %s threads\n",
           getenv("OMP_NUM_THREADS"));
    printf("  wall time           %.1f s (best of 2; llama.cpp's KL mode: 69 s)\n", best);
    printf("  speed               %.0f tokens/s (both models' tokens)\n", tokens / best);
    printf("  peak RSS            %.0f MiB\n", rss_kb / 1024.0);
    printf("  largest file        %.1f KiB (%s)\n", big / 1024.0, out);
    printf("  target %-34s %s (%.3gs vs < 46s; ratio to llama.cpp %.2f)\n", "wall time", best < 46 ? "PASS" : "MISS",
           best, best / 69.0);
    printf("  target %-34s %s (%.3g MB vs <= 64 MB)\n", "largest file written", big <= 64ll << 20 ? "PASS" : "MISS",
           big / 1e6);
    return 0;
}
