/* drift_chunk: see drift_chunk.h. */
#include "analysis/drift_chunk.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

size_t chunk_window_bytes(int ctx, int n_vocab, int nvar) {
    size_t n_out = (size_t)(ctx - 1 - ctx / 2);
    return n_out * (size_t)n_vocab * sizeof(float) + (size_t)nvar * n_out * sizeof(TfPos) + (size_t)ctx * sizeof(int) +
           n_out + sizeof(int) + sizeof(uint32_t) + sizeof(long) + sizeof(char *);
}

void chunk_init(Chunk *k, size_t mem_limit, long max_windows, int ctx, int n_vocab, int nvar) {
    memset(k, 0, sizeof *k);
    k->ctx = ctx, k->n_out = ctx - 1 - ctx / 2, k->n_vocab = n_vocab, k->nvar = nvar;
    size_t per = chunk_window_bytes(ctx, n_vocab, nvar);
    size_t cap = mem_limit / per;
    if (cap < 1) cap = 1;
    if (cap > (size_t)(max_windows > 1 ? max_windows : 1)) cap = (size_t)(max_windows > 1 ? max_windows : 1);
    k->cap = (long)cap;
    size_t n_out = (size_t)k->n_out;
    k->win = xmalloc(cap * (size_t)ctx * sizeof *k->win);
    k->cls = xmalloc(cap * n_out);
    k->lang = xmalloc(cap * sizeof *k->lang);
    k->file = xmalloc(cap * sizeof *k->file);
    k->window = xmalloc(cap * sizeof *k->window);
    k->path = xmalloc(cap * sizeof *k->path);
    k->base = xmalloc(cap * n_out * (size_t)n_vocab * sizeof *k->base);
    k->pos = xmalloc((nvar ? (size_t)nvar : 1) * cap * n_out * sizeof *k->pos);
}

void chunk_free(Chunk *k) {
    free(k->win), free(k->cls), free(k->lang), free(k->file), free(k->window), free(k->path);
    free(k->base), free(k->pos);
    memset(k, 0, sizeof *k);
}

int chunk_add(Chunk *k, const int *win, const uint8_t *cls, int lang, uint32_t file, long window, const char *path) {
    long i = k->n++;
    memcpy(k->win + (size_t)i * (size_t)k->ctx, win, (size_t)k->ctx * sizeof *win);
    memcpy(k->cls + (size_t)i * (size_t)k->n_out, cls, (size_t)k->n_out);
    k->lang[i] = lang, k->file[i] = file, k->window[i] = window, k->path[i] = path;
    return k->n == k->cap;
}

static void chunk_progress(const Chunk *k, long done, long total, int model, int nmodels, long w) {
    progress("drift: windows %ld-%ld/%ld, model %d/%d, window %ld/%ld", done + 1, done + k->n, total, model, nmodels,
             w + 1, k->n);
}

/* Variant j's comparison of window i (its logits in r->logits) with the kept base logits. */
static void compare(Chunk *k, int j, long i, const float *zq, int threads, float **scratch) {
    int V = k->n_vocab, n = k->n_out, first = k->ctx / 2;
    const float *zp = k->base + (size_t)i * (size_t)n * (size_t)V;
    const int *win = k->win + (size_t)i * (size_t)k->ctx;
    TfPos *out = k->pos + ((size_t)j * (size_t)k->cap + (size_t)i) * (size_t)n;
    (void)threads;
#ifdef _OPENMP
    /* as drift.c's compare_window: a parallel region costs more than a small vocabulary's rows */
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4) if ((size_t)n * V > (1u << 18))
#endif
    for (int p = 0; p < n; p++) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        tf_position(zp + (size_t)p * V, zq + (size_t)p * V, V, win[first + p + 1], &out[p], scratch[t]);
    }
}

int chunk_run(Chunk *k, Runner *base, Runner *const *vars, int threads, float **scratch, long done, long total,
              Err *err) {
    int rc = 0;
    size_t row = (size_t)k->n_out * (size_t)k->n_vocab;
    if (runner_reload(base, err)) return -1;
    for (long i = 0; i < k->n && rc == 0; i++) {
        chunk_progress(k, done, total, 1, k->nvar + 1, i);
        const int *win = k->win + (size_t)i * (size_t)k->ctx;
        if ((rc = runner_window(base, win, k->ctx, err))) break;
        memcpy(k->base + (size_t)i * row, base->logits, row * sizeof *k->base);
    }
    runner_unload(base);
    for (int j = 0; j < k->nvar && rc == 0; j++) {
        Runner *r = vars[j];
        if (runner_reload(r, err)) return -1;
        for (long i = 0; i < k->n && rc == 0; i++) {
            chunk_progress(k, done, total, j + 2, k->nvar + 1, i);
            if ((rc = runner_window(r, k->win + (size_t)i * (size_t)k->ctx, k->ctx, err))) break;
            compare(k, j, i, r->logits, threads, scratch);
        }
        runner_unload(r);
    }
    return rc;
}
