/* bench_moe: the cold start of a mixture-of-experts model of real shape, against llama.cpp.
 *
 * Writes once (into $COLDTOK_BENCH_DIR, default /tmp/coldtok-bench-moe; never committed) a
 * qwen3-coder-30b-a3b-shaped Q4_K GGUF with random weights (synth's block pool: about 17 GB; skipped
 * with a message when the disk has less than 20 GB free), then measures, with 2 threads
 * (OMP_NUM_THREADS / llama_oracle -t 2):
 *   - what coldtok's one-position pass reads (model/moe.h counters): the dense part (attention,
 *     routers, output) plus the routed experts' bytes, against the bound "dense part + k experts
 *     per layer", and what that is of the file;
 *   - cold start end to end, for `coldtok logits -m MODEL -c 256 --top 5` and for the oracle's
 *     `llama_oracle -t 2 logits MODEL 256 OUT` (llama.cpp's load and one llama_decode): the file's
 *     pages dropped from the page cache first (posix_fadvise DONTNEED on this file only), then wall
 *     time, the bytes of the file the run brought into memory (mincore after it) and peak RSS
 *     (wait4); and the same runs warm (right after). Targets (issue 12): coldtok reads no more than
 *     routed experts + dense part, takes at most 1.5x llama.cpp's time, and peaks below the file
 *     size.
 * Without the oracle (tests/oracle not built) the llama.cpp half is skipped with a message. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/qtype.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/moe_load.h"
#include "quant/synth.h"
#include "bench/benchproc.h"

int main(int argc, char **argv) {
    (void)argc;
    const char *dir = getenv("COLDTOK_BENCH_DIR");
    if (!dir || !*dir) dir = "/tmp/coldtok-bench-moe";
    char path[1024], coldtok[1024], oracle[1100], out[1100];
    snprintf(path, sizeof path, "%s/qwen3-coder-30b-a3b-Q4_K.gguf", dir);
    /* the coldtok binary and the oracle of the same build: BUILD/bench/bench_moe -> BUILD/... */
    snprintf(coldtok, sizeof coldtok, "%s", argv[0]);
    char *slash = strrchr(coldtok, '/');
    if (slash) *slash = '\0';
    slash = strrchr(coldtok, '/');
    if (slash) *slash = '\0';
    else snprintf(coldtok, sizeof coldtok, "..");
    snprintf(oracle, sizeof oracle, "%s/oracle/llama_oracle", coldtok);
    if (getenv("LLAMA_ORACLE")) snprintf(oracle, sizeof oracle, "%s", getenv("LLAMA_ORACLE"));
    strncat(coldtok, "/coldtok", sizeof coldtok - strlen(coldtok) - 1);
    snprintf(out, sizeof out, "%s/logits.f32", dir);

    Err err;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        make_dirs(dir, &err);
        struct statvfs vs;
        double free_gb = statvfs(dir, &vs) == 0 ? (double)vs.f_bavail * (double)vs.f_frsize / GiB : 0;
        if (free_gb < 20) {
            printf("bench_moe: skipped: %.1f GiB free in %s, the qwen3-coder-30b-a3b Q4_K model needs "
                   "about 17 GB (set COLDTOK_BENCH_DIR)\n", free_gb, dir);
            return 0;
        }
        SynthSpec s;
        if (synth_preset("qwen3-coder-30b-a3b", &s) != 0) return 1;
        s.type = Q_Q4_K;
        s.block_pool = 1;
        double t0 = now_seconds();
        fprintf(stderr, "bench_moe: writing %s\n", path);
        if (synth_write(&s, path, &err) != 0) {
            fprintf(stderr, "bench_moe: %s\n", err.msg);
            return 1;
        }
        printf("wrote %s in %.0f s\n", path, now_seconds() - t0);
        if (stat(path, &sb) != 0) return 1;
    }
    double file = (double)sb.st_size;
    int miss = 0;

    /* what one position reads, counted in process */
    Model *m = model_load(path, &err);
    if (!m) {
        fprintf(stderr, "bench_moe: %s\n", err.msg);
        return 1;
    }
    Forward *f = fwd_new(m, COMPUTE_F32, &err);
    if (!f) {
        fprintf(stderr, "bench_moe: %s\n", err.msg);
        return 1;
    }
    const Config *c = &m->cfg;
    const MoeLayer *L0 = m->layers[0].moe;
    double per_expert = 3.0 * (double)qtype_row_bytes(L0->gate[0].type, L0->gate[0].cols) * (double)L0->gate[0].rows;
    double routed_all = per_expert * c->moe.n_expert * c->n_layer;
    double dense = (double)model_weight_bytes(m) - routed_all; /* attention, routers, output */
    int bos = 256;
    float *lg = malloc((size_t)c->n_vocab * sizeof(float));
    double t0 = now_seconds();
    if (fwd_eval(f, &bos, 1, lg, 0, &err)) {
        fprintf(stderr, "bench_moe: %s\n", err.msg);
        return 1;
    }
    double t_fwd = now_seconds() - t0;
    const MoeStats *st = fwd_moe_stats(f);
    double bound = dense + per_expert * c->moe.n_expert_used * c->n_layer;
    /* what the file read adds to that: the header (metadata, tokenizer) and the pages of the
     * vectors (norms) and of one embedding row */
    const Gguf *g = m->gguf;
    double extra = (double)gguf_data_offset(g) + 2 * 4096.0;
    for (int i = 0; i < gguf_n_tensors(g); i++)
        if (gguf_tensor(g, i)->n_dims == 1) extra += 4096.0 * (double)((gguf_tensor(g, i)->nbytes + 4095) / 4096 + 1);
    double reads = dense + (double)st->expert_bytes;
    printf("qwen3-coder-30b-a3b Q4_K: file %.2f GiB; dense part %.2f GiB, one expert %.2f MiB, %d of %d "
           "experts per layer x %d layers\n", file / GiB, dense / GiB, per_expert / (1 << 20),
           c->moe.n_expert_used, c->moe.n_expert, c->n_layer);
    printf("one position (in process, after load): %.3f s; read %llu experts (%.2f GiB) + dense = "
           "%.2f GiB = %.1f%% of the file\n", t_fwd, (unsigned long long)st->expert_loads,
           (double)st->expert_bytes / GiB, reads / GiB, 100 * reads / file);
    miss += !verdict("bytes read / (routed experts + dense)", reads / bound, 1.0, "");
    free(lg);
    fwd_free(f);
    model_free(m);

    /* end to end, cold and warm */
    char *cargv[] = {coldtok, "logits", "-m", path, "-c", "256", "--top", "5", NULL};
    char *oargv[] = {oracle, "-t", "2", "logits", path, "256", out, NULL};
    int have_oracle = access(oracle, X_OK) == 0;
    /* llama.cpp's CPU backend repacks Q4_K weights into its own buffers: the whole file in
     * anonymous memory (22.4 GiB peak RSS measured for this 16 GiB file), so it runs only where
     * that fits, or when asked (COLDTOK_BENCH_MOE_ORACLE=1) */
    double avail = 0;
    FILE *mi = fopen("/proc/meminfo", "r");
    char line[256];
    while (mi && fgets(line, sizeof line, mi))
        if (sscanf(line, "MemAvailable: %lf kB", &avail) == 1) avail *= 1024;
    if (mi) fclose(mi);
    const char *force = getenv("COLDTOK_BENCH_MOE_ORACLE");
    if (have_oracle && avail < 1.4 * file + 2 * GiB && !(force && !strcmp(force, "1"))) {
        printf("bench_moe: llama.cpp half skipped: it needs about 1.4x the file in memory (%.1f GiB), "
               "%.1f GiB available (COLDTOK_BENCH_MOE_ORACLE=1 runs it anyway)\n", 1.4 * file / GiB,
               avail / GiB);
        have_oracle = 0;
    }
    Run cc, cw, oc = {0}, ow = {0};
    if (run(cargv, path, 1, &cc) || run(cargv, path, 0, &cw)) {
        fprintf(stderr, "bench_moe: %s logits failed\n", coldtok);
        return 1;
    }
    printf("coldtok logits, cold: %.2f s, %.2f GiB of the file read, peak RSS %.2f GiB; warm: %.2f s\n",
           cc.wall, cc.read_bytes / GiB, cc.rss_kb / 1048576.0, cw.wall);
    miss += !verdict("coldtok peak RSS / file size", cc.rss_kb * 1024.0 / file, 1.0, "");
    /* the header is parsed before the loader turns read-around off: one window (up to the disk's
     * read_ahead_kb, 8 MiB here) around it is allowed too */
    extra += 16.0 * (1 << 20);
    printf("coldtok cold read %.1f MiB; routed experts + dense %.1f MiB; header, vectors, an embedding row "
           "and the header's read-around allowed %.1f MiB more\n", cc.read_bytes / (1 << 20), bound / (1 << 20),
           extra / (1 << 20));
    miss += !verdict("coldtok cold read / (routed experts + dense + header)", cc.read_bytes / (bound + extra), 1.0, "");
    if (!have_oracle) {
        if (access(oracle, X_OK) != 0)
            printf("bench_moe: llama.cpp half skipped: %s is not built (make tests; needs make oracle)\n", oracle);
    } else if (run(oargv, path, 1, &oc) || run(oargv, path, 0, &ow)) {
        printf("bench_moe: llama.cpp half skipped: %s failed on the model\n", oracle);
    } else {
        printf("llama.cpp (llama_oracle logits), cold: %.2f s, %.2f GiB of the file read, peak RSS %.2f GiB; "
               "warm: %.2f s\n", oc.wall, oc.read_bytes / GiB, oc.rss_kb / 1048576.0, ow.wall);
        printf("ratios coldtok / llama.cpp: cold time %.2f, warm time %.2f, bytes read %.2f, peak RSS %.2f\n",
               cc.wall / oc.wall, cw.wall / ow.wall, cc.read_bytes / oc.read_bytes,
               (double)cc.rss_kb / (double)oc.rss_kb);
        miss += !verdict("cold start time / llama.cpp's", cc.wall / oc.wall, 1.5, "");
    }
    remove(out);
    printf("bench_moe: %d target(s) missed\n", miss);
    return 0;
}
