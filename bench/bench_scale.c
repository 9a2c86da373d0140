/* bench_scale: drift's bounded-memory schedule at scale (issue 16, docs/scale.md "Bounded memory").
 *
 * A Qwen2.5-Coder-7B-shaped F16 base (the real shape, random weights, written once by coldtok's
 * synth into $COLDTOK_BENCH_DIR, default /tmp/coldtok-bench) and six variants quantized from it by
 * `coldtok quantize` (Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q3_K_M, Q2_K), compared on Python code:
 *   1. one `coldtok drift --mem-limit` job with all six variants: wall time and peak RSS (target:
 *      below the base file's size + 2 GiB);
 *   2. each variant as its own default drift job (base + variant, six jobs): summed wall time, the
 *      largest peak RSS (the default schedule keeps both models resident);
 *   3. llama.cpp's two-pass route: the oracle's libllama (build/oracle/llama_oracle logits) over
 *      one window, once per model (the base pass writes its logits, each variant pass its own):
 *      tokens per second per model, load included; skipped when the oracle is not built.
 * The disk check comes first: when the folder's file system has less room than the base and the
 * variants need (estimated from the shape, plus 2 GiB), the bench says so and skips.
 * Settings (environment): COLDTOK_SCALE_PRESET (qwen2.5-7b), COLDTOK_SCALE_TOKENS (2048 tokens
 * scored per model: the --max-tokens), COLDTOK_SCALE_CTX (512), COLDTOK_SCALE_MEM (the
 * --mem-limit, 1G), COLDTOK_SCALE_SEPARATE (1: run step 2; 0: skip it), COLDTOK_SCALE_TYPES (the
 * variants, comma-separated). Cost of the defaults on this 2-core machine (2026-12-07, loaded):
 * writing the base 1 min, quantizing the six variants 48 min, the --mem-limit job 26 min, the six
 * default jobs 37 min, llama.cpp's passes 8 min; the models stay in the folder for the next run.
 * docs/scale.md has the figures and how its planning table extrapolates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bench/benchproc.h"
#include "formats/qtype.h"
#include "quant/synth.h"

static const char *env_or(const char *name, const char *def) {
    const char *v = getenv(name);
    return v && *v ? v : def;
}

/* Bytes of the spec's weights at `bits` bits per weight (matrices only; norms and biases are
 * negligible). */
static double weight_bytes(const SynthSpec *s, double bits) {
    double q = (double)s->n_head * s->head_dim, kv = (double)s->n_head_kv * s->head_dim, e = s->n_embd;
    double per_layer = e * q + 2 * e * kv + q * e + 3 * e * (double)s->n_ff;
    double n = (double)s->n_vocab * e * (s->tied ? 1 : 2) + (double)s->n_layer * per_layer;
    return n * bits / 8;
}

static double file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (double)st.st_size : -1;
}

int main(int argc, char **argv) {
    (void)argc;
    const char *dir = env_or("COLDTOK_BENCH_DIR", "/tmp/coldtok-bench");
    const char *preset = env_or("COLDTOK_SCALE_PRESET", "qwen2.5-7b");
    const char *tokens = env_or("COLDTOK_SCALE_TOKENS", "2048"), *ctx = env_or("COLDTOK_SCALE_CTX", "512");
    const char *mem = env_or("COLDTOK_SCALE_MEM", "1G");
    int separate = atoi(env_or("COLDTOK_SCALE_SEPARATE", "1"));
    char types_buf[256];
    snprintf(types_buf, sizeof types_buf, "%s", env_or("COLDTOK_SCALE_TYPES", "Q8_0,Q6_K,Q5_K_M,Q4_K_M,Q3_K_M,Q2_K"));
    const char *types[16];
    int nt = 0;
    for (char *t = strtok(types_buf, ","); t && nt < 16; t = strtok(NULL, ",")) types[nt++] = t;
    mkdir(dir, 0755);
    char coldtok[1024], oracle[1024];
    bench_sibling(argv[0], "coldtok", coldtok, sizeof coldtok);
    bench_sibling(argv[0], "oracle/llama_oracle", oracle, sizeof oracle);

    SynthSpec spec;
    if (synth_preset(preset, &spec) != 0) {
        fprintf(stderr, "bench_scale: no preset %s\n", preset);
        return 1;
    }
    spec.type = Q_F16;
    char base[1100], var[16][1100];
    snprintf(base, sizeof base, "%s/scale-%s-F16.gguf", dir, preset);
    /* room: what is not written yet (F16 16 bits; variants at their types' rough bits) + 2 GiB */
    static const struct { const char *t; double bits; } BITS[] = {{"Q8_0", 8.5}, {"Q6_K", 6.6}, {"Q5_K_M", 5.7},
                                                                  {"Q4_K_M", 4.9}, {"Q3_K_M", 3.9}, {"Q2_K", 3.4}};
    double need = file_size(base) < 0 ? weight_bytes(&spec, 16) : 0;
    for (int i = 0; i < nt; i++) {
        snprintf(var[i], sizeof var[i], "%s/scale-%s-%s.gguf", dir, preset, types[i]);
        double bits = 8.5;
        for (size_t k = 0; k < sizeof BITS / sizeof *BITS; k++)
            if (!strcmp(BITS[k].t, types[i])) bits = BITS[k].bits;
        if (file_size(var[i]) < 0) need += weight_bytes(&spec, bits);
    }
    struct statvfs vfs;
    double room = statvfs(dir, &vfs) == 0 ? (double)vfs.f_bavail * (double)vfs.f_frsize : 0;
    printf("drift at scale: %s-shaped F16 base, %d variants, %s tokens per model (ctx %s), --mem-limit %s\n", preset,
           nt, tokens, ctx, mem);
    if (need > 0 && room < need + 2 * GiB) {
        printf("  SKIP: %s has %.1f GiB free; the models need %.1f GiB more (+ 2 GiB of margin)\n", dir, room / GiB,
               need / GiB);
        return 0;
    }
    double t0 = now_seconds();
    if (file_size(base) < 0) {
        Err err;
        fprintf(stderr, "bench_scale: writing %s\n", base);
        if (synth_write(&spec, base, &err) != 0) {
            fprintf(stderr, "bench_scale: %s\n", err.msg);
            return 1;
        }
        printf("  wrote the base          %.1f GiB in %.0f s\n", file_size(base) / GiB, now_seconds() - t0);
    }
    for (int i = 0; i < nt; i++) {
        if (file_size(var[i]) >= 0) continue;
        char *q[] = {coldtok, "quantize", "-m", base, "--type", (char *)types[i], "-o", var[i], NULL};
        Run r;
        fprintf(stderr, "bench_scale: quantizing %s\n", var[i]);
        if (run(q, base, 0, &r) != 0) {
            fprintf(stderr, "bench_scale: coldtok quantize --type %s failed\n", types[i]);
            return 1;
        }
        printf("  quantized %-8s      %.2f GiB in %.0f s (%.0f s CPU)\n", types[i], file_size(var[i]) / GiB, r.wall,
               r.cpu);
    }
    double base_size = file_size(base);

    /* 1. one --mem-limit job, every variant */
    char out[1200];
    snprintf(out, sizeof out, "%s/scale-out", dir);
    char *a[64];
    int na = 0;
    a[na++] = coldtok, a[na++] = "drift", a[na++] = "-m", a[na++] = base;
    for (int i = 0; i < nt; i++) a[na++] = "-m", a[na++] = var[i];
    char *tail[] = {"--corpus", "data/samples/python", "--ctx", (char *)ctx, "--max-tokens", (char *)tokens,
                    "--bootstrap", "0", "-o", out, NULL};
    for (int i = 0; tail[i]; i++) a[na++] = tail[i];
    a[na++] = "--mem-limit", a[na++] = (char *)mem, a[na] = NULL;
    Run chunk;
    if (run(a, base, 0, &chunk) != 0) {
        fprintf(stderr, "bench_scale: coldtok drift --mem-limit failed\n");
        return 1;
    }
    long c = atol(ctx), windows = atol(tokens) / c;
    double model_tokens = (double)windows * (double)(c - 1); /* tokens each model evaluates */
    printf("  --mem-limit %s, 1 job     %.0f s (%.0f s CPU), peak RSS %.2f GiB, %.1f tokens/s per model (%ld windows x "
           "%ld)\n",
           mem, chunk.wall, chunk.cpu, chunk.rss_kb / 1048576.0, model_tokens * (nt + 1) / chunk.wall, windows, c - 1);

    /* 2. each variant as its own default job */
    double sep_wall = 0, sep_cpu = 0;
    long sep_rss = 0;
    for (int i = 0; i < nt && separate; i++) {
        char *b[] = {coldtok, "drift", "-m", base, "-m", var[i], "--corpus", "data/samples/python", "--ctx", (char *)ctx,
                     "--max-tokens", (char *)tokens, "--bootstrap", "0", "-o", out, NULL};
        Run r;
        if (run(b, base, 0, &r) != 0) {
            fprintf(stderr, "bench_scale: coldtok drift (%s alone) failed\n", types[i]);
            return 1;
        }
        printf("  default job, %-8s    %.0f s (%.0f s CPU), peak RSS %.2f GiB\n", types[i], r.wall, r.cpu,
               r.rss_kb / 1048576.0);
        sep_wall += r.wall, sep_cpu += r.cpu;
        if (r.rss_kb > sep_rss) sep_rss = r.rss_kb;
    }
    if (separate)
        printf("  %d default jobs          %.0f s (%.0f s CPU), peak RSS %.2f GiB\n", nt, sep_wall, sep_cpu,
               sep_rss / 1048576.0);

    /* 3. llama.cpp, one window per model (its two-pass route: the base's logits, then each variant's) */
    if (access(oracle, X_OK) == 0) {
        char ids[16 * 4096], lout[1200];
        size_t at = 0;
        for (long i = 0; i < c && at + 16 < sizeof ids; i++) /* byte tokens of the synth vocabulary */
            at += (size_t)snprintf(ids + at, sizeof ids - at, "%s%ld", i ? "," : "", 32 + (i * 37) % 90);
        snprintf(lout, sizeof lout, "%s/scale-llama.f32", dir);
        for (int i = -1; i < nt; i++) {
            char *path = i < 0 ? base : var[i];
            char *l[] = {oracle, "-t", "2", "logits", path, ids, lout, NULL};
            Run r;
            if (run(l, path, 0, &r) != 0) {
                printf("  llama.cpp %-8s      failed (llama_oracle logits)\n", i < 0 ? "F16" : types[i]);
                continue;
            }
            printf("  llama.cpp %-8s      %.0f s (%.0f s CPU) for %ld tokens (load included): %.1f tokens/s, peak RSS "
                   "%.2f GiB\n",
                   i < 0 ? "F16" : types[i], r.wall, r.cpu, c, (double)c / r.wall, r.rss_kb / 1048576.0);
        }
        unlink(lout);
    } else
        printf("  llama.cpp: SKIP (%s absent: make oracle)\n", oracle);

    verdict("peak RSS of the --mem-limit job, GiB", chunk.rss_kb / 1048576.0, (base_size + 2 * GiB) / GiB, " GiB");
    if (separate) {
        verdict("--mem-limit job / separate jobs, time", chunk.wall / sep_wall, 1.0, "x");
        printf("  (CPU time: --mem-limit job / separate jobs %.2fx)\n", chunk.cpu / sep_cpu);
    }
    return 0;
}
