/* drift_chunk: see drift_chunk.h. */
#include "analysis/drift_chunk.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

size_t chunk_window_bytes(int ctx, int n_vocab, int nvar, int bytes) {
    size_t n_out = (size_t)(ctx - 1 - ctx / 2);
    size_t logits = nvar > 0 ? n_out * (size_t)n_vocab * sizeof(float) : 0;
    size_t offsets = bytes ? (n_out + 1) * sizeof(size_t) + sizeof(TfLedger *) : 0;
    return logits + offsets + (size_t)nvar * n_out * sizeof(TfPos) + (size_t)ctx * sizeof(int) + n_out + sizeof(int) +
           sizeof(uint32_t) + sizeof(long) + sizeof(char *);
}

/* Bytes a per-byte variant's window takes. */
static size_t byte_window_bytes(const Chunk *k) {
    return sizeof(ChunkByteWin) + (size_t)k->ctx * sizeof(int) + ((size_t)k->n_out + 1) * sizeof(size_t);
}

void chunk_init(Chunk *k, size_t mem_limit, long max_windows, int ctx, int n_vocab, int nvar, int bytes) {
    memset(k, 0, sizeof *k);
    k->ctx = ctx, k->n_out = ctx - 1 - ctx / 2, k->n_vocab = n_vocab, k->nvar = nvar, k->bytes = bytes;
    k->limit = mem_limit;
    size_t per = chunk_window_bytes(ctx, n_vocab, nvar, bytes);
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
    if (nvar > 0) k->base = xmalloc(cap * n_out * (size_t)n_vocab * sizeof *k->base);
    k->pos = xmalloc((nvar ? (size_t)nvar : 1) * cap * n_out * sizeof *k->pos);
    if (bytes) {
        k->led = xmalloc(cap * sizeof *k->led);
        k->off = xmalloc(cap * (n_out + 1) * sizeof *k->off);
    }
}

void chunk_free(Chunk *k) {
    free(k->win), free(k->cls), free(k->lang), free(k->file), free(k->window), free(k->path);
    free(k->base), free(k->pos), free(k->led), free(k->off);
    free(k->bw), free(k->bwin), free(k->boff);
    memset(k, 0, sizeof *k);
}

int chunk_add(Chunk *k, const int *win, const uint8_t *cls, int lang, uint32_t file, long window, const char *path,
              TfLedger *led, const size_t *off) {
    long i = k->n++;
    size_t no = (size_t)k->n_out + 1;
    memcpy(k->win + (size_t)i * (size_t)k->ctx, win, (size_t)k->ctx * sizeof *win);
    memcpy(k->cls + (size_t)i * (size_t)k->n_out, cls, (size_t)k->n_out);
    k->lang[i] = lang, k->file[i] = file, k->window[i] = window, k->path[i] = path;
    if (k->bytes) {
        k->led[i] = led;
        if (led) memcpy(k->off + (size_t)i * no, off, no * sizeof *off);
    }
    return k->n == k->cap;
}

void chunk_add_bytes(Chunk *k, ChunkByteWin bw, const int *win, const size_t *off) {
    size_t no = (size_t)k->n_out + 1;
    if (k->nb == k->bcap) { /* grows geometrically; chunk_over counts what is held */
        k->bcap = k->bcap ? 2 * k->bcap : 16;
        k->bw = xrealloc(k->bw, (size_t)k->bcap * sizeof *k->bw);
        k->bwin = xrealloc(k->bwin, (size_t)k->bcap * (size_t)k->ctx * sizeof *k->bwin);
        k->boff = xrealloc(k->boff, (size_t)k->bcap * no * sizeof *k->boff);
    }
    long i = k->nb++;
    k->bw[i] = bw;
    memcpy(k->bwin + (size_t)i * (size_t)k->ctx, win, (size_t)k->ctx * sizeof *win);
    memcpy(k->boff + (size_t)i * no, off, no * sizeof *off);
}

int chunk_over(const Chunk *k, size_t extra) {
    size_t held = (size_t)k->n * chunk_window_bytes(k->ctx, k->n_vocab, k->nvar, k->bytes) +
                  (size_t)k->nb * byte_window_bytes(k);
    return k->n == k->cap || held + extra > k->limit;
}

static void chunk_progress(const Chunk *k, long done, long total, int model, int nmodels, long w, long n) {
    progress("drift: windows %ld-%ld/%ld, model %d/%d, window %ld/%ld", done + 1, done + k->n, total, model, nmodels,
             w + 1, n);
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

/* Spreads the log-likelihoods of r's window (its logits in r->logits) over the bytes of the tokens
 * they predict, as drift.c's spread_window does in the default schedule. */
static void spread(const Chunk *k, const Runner *r, const int *win, const size_t *off, TfLedger *led, int lane) {
    int V = r->n_vocab, first = k->ctx / 2;
    for (int p = 0; p < k->n_out; p++) {
        double lp = log_prob_of(r->logits + (size_t)p * V, V, win[first + p + 1]);
        tfledger_spread(led, lane, off[p], off[p + 1], lp);
    }
}

/* The base over the chunk's windows: logits kept for the variants on its vocabulary, log-likelihoods
 * spread for those compared per byte. */
static int run_base(Chunk *k, Runner *base, int nmodels, long done, long total, Err *err) {
    int rc = 0;
    size_t row = (size_t)k->n_out * (size_t)k->n_vocab, no = (size_t)k->n_out + 1;
    if (k->n == 0) return 0;
    if (runner_reload(base, err)) return -1;
    for (long i = 0; i < k->n && rc == 0; i++) {
        chunk_progress(k, done, total, 1, nmodels, i, k->n);
        const int *win = k->win + (size_t)i * (size_t)k->ctx;
        if ((rc = runner_window(base, win, k->ctx, err))) break;
        if (k->nvar > 0) memcpy(k->base + (size_t)i * row, base->logits, row * sizeof *k->base);
        if (k->bytes && k->led[i]) spread(k, base, win, k->off + (size_t)i * no, k->led[i], 0);
    }
    runner_unload(base);
    return rc;
}

/* Model m over its per-byte windows (loaded only when it has some to run). */
static int run_bytes(Chunk *k, Runner *r, int m, int nmodels, long done, long total, Err *err) {
    int rc = 0, loaded = 0;
    size_t no = (size_t)k->n_out + 1;
    for (long i = 0; i < k->nb && rc == 0; i++) {
        const ChunkByteWin *bw = &k->bw[i];
        if (bw->model != m || *bw->dead) continue;
        if (!loaded && runner_reload(r, err)) return -1;
        loaded = 1;
        chunk_progress(k, done, total, m + 1, nmodels, i, k->nb);
        const int *win = k->bwin + (size_t)i * (size_t)k->ctx;
        if ((rc = runner_window(r, win, k->ctx, err))) break;
        spread(k, r, win, k->boff + (size_t)i * no, bw->led, bw->lane);
    }
    if (loaded) runner_unload(r);
    return rc;
}

int chunk_run(Chunk *k, Runner *r, int nmodels, const int *var_index, int threads, float **scratch, long done,
              long total, Err *err) {
    int rc = run_base(k, &r[0], nmodels, done, total, err);
    for (int j = 0; j < k->nvar && rc == 0 && k->n > 0; j++) {
        Runner *v = &r[var_index[j]];
        if (runner_reload(v, err)) return -1;
        for (long i = 0; i < k->n && rc == 0; i++) {
            chunk_progress(k, done, total, var_index[j] + 1, nmodels, i, k->n);
            if ((rc = runner_window(v, k->win + (size_t)i * (size_t)k->ctx, k->ctx, err))) break;
            compare(k, j, i, v->logits, threads, scratch);
        }
        runner_unload(v);
    }
    for (int m = 1; m < nmodels && rc == 0 && k->nb > 0; m++) rc = run_bytes(k, &r[m], m, nmodels, done, total, err);
    if (rc == 0) k->nb = 0;
    return rc;
}
