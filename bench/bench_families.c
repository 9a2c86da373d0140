/* bench_families: the windowed forward pass of the dense families against llama.cpp's prefill
 * (issue 12: at least as fast), measured in one run on this machine, 2 threads.
 *
 * For each family a model of its real preset's layer shape (gemma-2-2b, gemma-3-1b, starcoder2-3b,
 * phi-3.5-mini, granite-3b-code as granite, mistral-7b), cut to 2 layers and an 8192-token
 * vocabulary (the classifier of a 256k vocabulary would be most of the work, and it is not the
 * family's), F32 (both sides compute in f32; llama.cpp's F16 path computes in f16), is written
 * once by synth into COLDTOK_BENCH_DIR (default /tmp/coldtok-bench-families). Then both run the
 * same 512-token window end to end, warm, best of 3, each writing the logits of every position:
 *   coldtok logits -m MODEL -c ID ... (512 ids) --raw-all OUT --top 0
 *   llama_oracle -t 2 logits MODEL ID,ID,... OUT     (llama.cpp's load and one llama_decode)
 * and the ratio coldtok / llama.cpp is printed with a PASS (<= 1) or MISS. Without the oracle
 * (make oracle; make tests) the bench says so and skips. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/benchproc.h"
#include "formats/qtype.h"
#include "quant/synth.h"

#define N_TOK 512

typedef struct {
    const char *name, *preset;
    Arch arch; /* the family written (granite-3b-code's shape as granite) */
} Family;

static const Family FAMILIES[] = {
    {"gemma2", "gemma-2-2b", ARCH_GEMMA2},          {"gemma3", "gemma-3-1b", ARCH_GEMMA3},
    {"starcoder2", "starcoder2-3b", ARCH_STARCODER2}, {"phi3", "phi-3.5-mini", ARCH_PHI3},
    {"granite", "granite-3b-code", ARCH_GRANITE},   {"mistral", "mistral-7b", ARCH_LLAMA},
};

/* Best wall time of 3 warm runs (one run first to warm the page cache); -1 on failure. */
static double best_of_3(char *const *argv, const char *model) {
    Run r;
    if (run(argv, model, 0, &r)) return -1;
    double best = 1e30;
    for (int i = 0; i < 3; i++) {
        if (run(argv, model, 0, &r)) return -1;
        if (r.wall < best) best = r.wall;
    }
    return best;
}

int main(int argc, char **argv) {
    (void)argc;
    const char *dir = getenv("COLDTOK_BENCH_DIR");
    if (!dir || !*dir) dir = "/tmp/coldtok-bench-families";
    mkdir(dir, 0755);
    /* the coldtok binary and the oracle of the same build: BUILD/bench/bench_families -> BUILD/... */
    char build[1024], coldtok[1100], oracle[1100], out[1100];
    snprintf(build, sizeof build, "%s", argv[0]);
    char *slash = strrchr(build, '/');
    if (slash) *slash = '\0';
    slash = strrchr(build, '/');
    if (slash) *slash = '\0';
    else snprintf(build, sizeof build, ".");
    snprintf(coldtok, sizeof coldtok, "%s/coldtok", build);
    snprintf(oracle, sizeof oracle, "%s/oracle/llama_oracle", build);
    snprintf(out, sizeof out, "%s/logits.f32", dir);
    if (access(oracle, X_OK) != 0) {
        printf("bench_families: skipped: %s is not built (make oracle; make tests)\n", oracle);
        return 0;
    }
    /* the window: ids spread over the vocabulary, the same for every family */
    char ids[N_TOK * 8] = "";
    char *cargv[6 + 2 * N_TOK + 8];
    static char idtxt[N_TOK][8];
    size_t used = 0;
    for (int i = 0; i < N_TOK; i++) {
        int id = 1 + (i * 7919) % 8000;
        snprintf(idtxt[i], sizeof idtxt[i], "%d", id);
        used += (size_t)snprintf(ids + used, sizeof ids - used, "%s%d", i ? "," : "", id);
    }
    int misses = 0;
    printf("bench_families: %d-token window, F32, 2 layers, vocabulary 8192, 2 threads, warm, best of 3\n", N_TOK);
    for (size_t f = 0; f < sizeof FAMILIES / sizeof FAMILIES[0]; f++) {
        const Family *fa = &FAMILIES[f];
        char model[1100];
        snprintf(model, sizeof model, "%s/%s.gguf", dir, fa->name);
        SynthSpec s;
        if (synth_preset(fa->preset, &s)) return fprintf(stderr, "bench_families: no preset %s\n", fa->preset), 1;
        s.arch = fa->arch, s.n_layer = 2, s.n_vocab = 8192, s.type = Q_F32, s.std = 0.05f;
        struct stat sb;
        Err err;
        if (stat(model, &sb) != 0 && synth_write(&s, model, &err))
            return fprintf(stderr, "bench_families: %s\n", err.msg), 1;
        int n = 0;
        cargv[n++] = coldtok, cargv[n++] = "logits", cargv[n++] = "-m", cargv[n++] = model;
        for (int i = 0; i < N_TOK; i++) cargv[n++] = "-c", cargv[n++] = idtxt[i];
        cargv[n++] = "--raw-all", cargv[n++] = out, cargv[n++] = "--top", cargv[n++] = "0", cargv[n] = NULL;
        char *oargv[] = {oracle, "-t", "2", "logits", model, ids, out, NULL};
        double tc = best_of_3(cargv, model), to = best_of_3(oargv, model);
        if (tc < 0 || to < 0) {
            printf("  %-10s failed (coldtok %s, llama.cpp %s)\n", fa->name, tc < 0 ? "failed" : "ran",
                   to < 0 ? "failed" : "ran");
            misses++;
            continue;
        }
        printf("  %-10s (%s shape) coldtok %.3f s, llama.cpp %.3f s\n", fa->name, fa->preset, tc, to);
        char what[96];
        snprintf(what, sizeof what, "%s window time / llama.cpp prefill", fa->name);
        misses += !verdict(what, tc / to, 1.0, "");
    }
    unlink(out);
    return 0;
}
