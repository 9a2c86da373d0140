/* matmul: see matmul.h. The state (Matmul, its per-thread Workers, the cached primitives) is in
 * matmul_int.h, shared with matmul_att.c (the batched attention). Top to bottom: the panel sizes,
 * mm_run and the panel machinery under it, the oneDNN primitives, then creation and freeing. */
#include "model/matmul.h"

#include <dnnl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "formats/convert.h"
#include "formats/dot.h"
#include "formats/qtype.h"
#include "model/matmul_int.h"

/* Matmul panels. One position (a cold start) is a GEMV, memory-bound: panels of PANEL_BYTES that
 * stay in L2 while oneDNN reads them, primitives made for M = 1. Two positions or more use
 * oneDNN's gemm with M given at run time (one primitive per panel shape whatever the step size)
 * and panels of GEMM_PANEL_BYTES. Measured on this machine (one core, Qwen2.5-0.5B Q4_K and F16):
 * the gemm path is as fast as M-specific primitives for 2-8 positions and 1.6-1.7x faster for 16-32;
 * panel sizes from 512 KiB to 8 MiB are within 10% of each other at M = 512, 512 KiB the best (it
 * and oneDNN's packed activations share the 1 MiB L2), 256 KiB 7% slower; small panels also keep
 * the threads even when one loses its core for a while. */
#define PANEL_BYTES (256u << 10)
#define GEMM_PANEL_BYTES (512u << 10)
/* Up to DOT_MAX_M rows of x (f32 mode), the weights go through the fused dequantize-and-dot
 * kernels (formats/dot.h) straight from the mapping instead of f32 panels and oneDNN; the threads
 * share the weight rows in chunks (a dynamic schedule, as the panels) of about an eighth of a
 * thread's share of the group, between DOT_CHUNK_MIN and DOT_CHUNK_MAX stored bytes: each chunk
 * costs a grab of the schedule, a kernel call and a fresh stream for the prefetchers (measured, one
 * position of the 0.5B files on 2 threads, best of 20, three alternating rounds: against fixed
 * 32 KiB chunks Q8_0 33 -> 28-29 ms, F16 50-54 -> 44-48, the Q4_K file 26-28 -> 22-25, F32 83-86 ->
 * 71-75), while eight per thread keep the threads even when one loses its core for a while. Hugging Face
 * packed rows are unpacked into the thread's panel buffer, so theirs stay DOT_CHUNK_MIN. The
 * threshold is measured: see docs/models.md. */
#define DOT_MAX_M 16
#define DOT_CHUNK_MIN (32u << 10)
#define DOT_CHUNK_MAX (1u << 20)
/* bf16 mode on a CPU with AMX (Intel since Sapphire Rapids; oneDNN's effective ISA says so, and
 * ONEDNN_MAX_CPU_ISA can hide it): from AMX_MIN_M positions up, the panels go through oneDNN's
 * AMX brgemm matmul ("brg:avx512_core_amx_bf16") instead of its gemm. brgemm offers no run-time M
 * and no strided output, so each (M, panel shape) gets a primitive of its own, writing a dense
 * [M, R] block that is then copied into y (a few percent of the panel's time at M = 512). Measured
 * on a 2-core Xeon with AMX, one thread, CPU time of a 512-token window of the 0.5B F16 file:
 * 1.95-2.2 s through gemm, 1.2-1.3 s through brgemm (docs/models.md). At most MAX_AMX_PRIMS such
 * primitives are made (each costs 0.5-2 ms of JIT); further M use gemm. */
#define AMX_MIN_M 32
#define MAX_AMX_PRIMS 64

/* How a matrix is cut: n_panels panels of R rows (the last one `last` rows), on T threads. */
typedef struct {
    int R, last, n_panels, T;
    int dense; /* 1: the primitives write a dense [M, R] block (AMX), copied into y after */
    const Prim *full, *tail;
} Plan;

/* One matmul of a group that shares its input: y[M, N] = x . W[N, K]^T. */
typedef struct {
    float *y;
    const Tensor *W;
    Plan pl;
    const void *src; /* its own input (mm_run_each); NULL: the group's */
} Job;

static int plan(Matmul *mm, int M, const Tensor *W, Plan *pl, Err *err);
static const Prim *get_prim(Matmul *mm, int M, int K, int R, int ldc, Err *err);
static const Prim *get_amx_prim(Matmul *mm, int M, int K, int R);
static const void *convert_panel(Matmul *mm, Worker *w, void *buf, const Tensor *W, int64_t r0, int n);
static dnnl_status_t run_panels(Matmul *mm, int t, const Job *jobs, int n_jobs, int total, const void *src,
                                int M);
static dnnl_status_t run_prim(Matmul *mm, int t, const Prim *p, int M, const void *src, const void *wei,
                              float *dst);

/* ---- the weight matmuls ---- */

/* The matmul input x [M, K] in the compute type: x itself (f32), or rounded to bf16 in mm->xbf.
 * Matmuls that share an input convert it once. */
static const void *mm_input(Matmul *mm, const float *x, int M, int K) {
    if (!mm->bf16) return x;
    size_t n = (size_t)M * K;
    if (n > mm->xbf_cap) {
        mm->xbf = xrealloc(mm->xbf, n * sizeof *mm->xbf);
        mm->xbf_cap = n;
    }
    mm->cv.f32_to_bf16(x, mm->xbf, (int64_t)M * K);
    return mm->xbf;
}

/* Runs the panels of jobs[0..n) (total panels, at most T threads wanting them): on this thread
 * alone when T is 1, else in one parallel region. src: the shared input (NULL: each job's own). */
static dnnl_status_t run_jobs(Matmul *mm, const Job *jobs, int n, int total, int T, const void *src, int M) {
    dnnl_status_t status = dnnl_success;
    if (T == 1) {
        /* on this thread alone, and oneDNN too: left to itself it would open a parallel region
         * of its own for every call (and, inside an inactive region of ours, new threads) */
#ifdef _OPENMP
        int saved = omp_get_max_threads();
        omp_set_num_threads(1);
#endif
        status = run_panels(mm, 0, jobs, n, total, src, M);
#ifdef _OPENMP
        omp_set_num_threads(saved);
#endif
    } else {
        /* Each thread converts and multiplies whole panels; oneDNN, called inside this active
         * region, runs single-threaded. Dynamic schedule: a thread that loses its core to
         * another process does not hold up the matrix. */
#ifdef _OPENMP
#pragma omp parallel num_threads(T)
        {
            dnnl_status_t s = run_panels(mm, omp_get_thread_num(), jobs, n, total, src, M);
            if (s != dnnl_success) {
#pragma omp critical
                status = s;
            }
        }
#endif
    }
    return status;
}

/* ---- small M: the fused kernels ---- */

/* One matmul of a fused group: y[M, N] = x . W[N, K]^T, W's rows cut into chunks of R rows. */
typedef struct {
    float *y;
    const Tensor *W;
    const float *x;
    int64_t R, n_chunks;
} DotJob;

/* 1 when y = x . W^T for M rows of x goes through the fused kernels. A GPTQ / AWQ / ... packed
 * layer too: its rows unpacked to f32 by chunks, then the F32 kernel (so it gives its f32 twin's
 * results bit for bit, as on the panel path). */
/* The i-quants' kernels decode every weight again for each pass of 4 (IQ4) or 8 (grids) vectors,
 * so beyond 8 positions their panels win (bench_llama, 16 positions / one: 7-8x fused against
 * 1.8-2.3x through panels); the other types' passes share one decoding (row tiles, and on AVX-512
 * from 9 vectors on formats/dot_gemm.h's small matrix product, which IQ4_NL and IQ4_XS have too). */
static int dot_max_m(const Dot *d, uint32_t type) {
    switch (type) {
    case Q_IQ4_NL: case Q_IQ4_XS: return d->level >= CONVERT_AVX512 ? DOT_MAX_M : 8;
    case Q_IQ3_S: case Q_IQ3_XXS: case Q_IQ2_XS: case Q_IQ2_XXS: case Q_IQ2_S: case Q_IQ1_S: case Q_IQ1_M: return 8;
    default: return DOT_MAX_M;
    }
}

static int use_dot(const Matmul *mm, const Tensor *W, int M) {
    uint32_t type = W->hq.method != HQ_NONE ? Q_F32 : W->type;
    if (mm->bf16 || M > dot_max_m(&mm->dot, type)) return 0;
    return dot_has(&mm->dot, type);
}

/* Bytes of one row of W as the fused kernel reads it (packed layers: unpacked f32). */
static size_t dot_row_bytes(const Tensor *W) {
    return W->hq.method != HQ_NONE ? (size_t)W->cols * sizeof(float) : qtype_row_bytes(W->type, W->cols);
}

/* Runs the fused jobs[0..n): their row chunks shared by the threads (one parallel region); under
 * 64 kB of weights in all, on this thread alone. */
static void run_dot(Matmul *mm, DotJob *jobs, int n, int M) {
    int64_t total = 0;
    size_t bytes = 0;
    for (int j = 0; j < n; j++) bytes += dot_row_bytes(jobs[j].W) * (size_t)jobs[j].W->rows;
    int T = bytes < (64u << 10) ? 1 : mm->n_threads;
    size_t chunk = bytes / (8u * (size_t)T);
    chunk = chunk < DOT_CHUNK_MIN ? DOT_CHUNK_MIN : chunk > DOT_CHUNK_MAX ? DOT_CHUNK_MAX : chunk;
    for (int j = 0; j < n; j++) {
        DotJob *d = &jobs[j];
        size_t rb = dot_row_bytes(d->W), c = d->W->hq.method != HQ_NONE ? DOT_CHUNK_MIN : chunk;
        d->R = rb >= c ? 1 : (int64_t)(c / rb); /* packed rows: fits a panel buffer */
        d->n_chunks = (d->W->rows + d->R - 1) / d->R;
        total += d->n_chunks;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(dynamic, 1) if (T > 1)
#endif
    for (int64_t g = 0; g < total; g++) {
        int j = 0;
        int64_t c = g;
        while (c >= jobs[j].n_chunks) c -= jobs[j].n_chunks, j++;
        const DotJob *d = &jobs[j];
        const Tensor *W = d->W;
        int64_t r0 = c * d->R, nr = W->rows - r0 < d->R ? W->rows - r0 : d->R;
        if (W->hq.method != HQ_NONE) {
            int t = 0;
#ifdef _OPENMP
            t = omp_get_thread_num();
#endif
            float *buf = mm->w[t].panel;
            hq_rows_f32(&W->hq, r0, (int)nr, buf);
            dot_rows(&mm->dot, Q_F32, buf, nr, W->cols, d->x, M, d->y + r0, W->rows);
            continue;
        }
        const uint8_t *w = (const uint8_t *)W->data + (size_t)r0 * dot_row_bytes(W);
        dot_rows(&mm->dot, W->type, w, nr, W->cols, d->x, M, d->y + r0, W->rows);
    }
}

/* ---- the weight matmuls through panels and oneDNN ---- */

int mm_run(Matmul *mm, const float *x, int M, const MmOut *out, int n, Err *err) {
    if (n < 1 || n > MM_MAX_GROUP) return err_set(err, "mm_run: %d matmuls in a group (1..%d)", n, MM_MAX_GROUP);
    int fused = 1;
    for (int j = 0; j < n; j++) fused &= use_dot(mm, out[j].W, M);
    if (fused) {
        DotJob dj[MM_MAX_GROUP];
        for (int j = 0; j < n; j++) dj[j] = (DotJob){.y = out[j].y, .W = out[j].W, .x = x};
        run_dot(mm, dj, n, M);
        return 0;
    }
    const void *src = mm_input(mm, x, M, (int)out[0].W->cols);
    Job jobs[MM_MAX_GROUP];
    int total = 0, T = 1;
    for (int j = 0; j < n; j++) {
        jobs[j] = (Job){.y = out[j].y, .W = out[j].W};
        if (plan(mm, M, jobs[j].W, &jobs[j].pl, err)) return -1;
        total += jobs[j].pl.n_panels;
        if (jobs[j].pl.T > T) T = jobs[j].pl.T;
    }
    dnnl_status_t status = run_jobs(mm, jobs, n, total, T, src, M);
    if (status != dnnl_success) return mm_dnnl_fail(err, "matmul execution", status);
    return 0;
}

int mm_run_each(Matmul *mm, int M, const MmOutX *out, int n, Err *err) {
    if (n < 1 || n > MM_MAX_EACH) return err_set(err, "mm_run_each: %d matmuls (1..%d)", n, MM_MAX_EACH);
    int K = (int)out[0].W->cols;
    int fused = 1;
    for (int j = 0; j < n; j++) fused &= use_dot(mm, out[j].W, M) && out[j].W->cols == K;
    if (fused) {
        DotJob dj[MM_MAX_EACH];
        for (int j = 0; j < n; j++) dj[j] = (DotJob){.y = out[j].y, .W = out[j].W, .x = out[j].x};
        run_dot(mm, dj, n, M);
        return 0;
    }
    if (mm->bf16) { /* every input rounded once, side by side in xbf */
        size_t need = (size_t)n * M * K;
        if (need > mm->xbf_cap) {
            mm->xbf = xrealloc(mm->xbf, need * sizeof *mm->xbf);
            mm->xbf_cap = need;
        }
        for (int j = 0; j < n; j++) mm->cv.f32_to_bf16(out[j].x, mm->xbf + (size_t)j * M * K, (int64_t)M * K);
    }
    Job jobs[MM_MAX_EACH];
    int total = 0, T = 1;
    for (int j = 0; j < n; j++) {
        if (out[j].W->cols != K) return err_set(err, "mm_run_each: inputs of different widths");
        jobs[j] = (Job){.y = out[j].y, .W = out[j].W,
                        .src = mm->bf16 ? (const void *)(mm->xbf + (size_t)j * M * K) : (const void *)out[j].x};
        if (plan(mm, M, jobs[j].W, &jobs[j].pl, err)) return -1;
        total += jobs[j].pl.n_panels;
        if (jobs[j].pl.T > T) T = jobs[j].pl.T;
    }
    dnnl_status_t status = run_jobs(mm, jobs, n, total, T, NULL, M);
    if (status != dnnl_success) return mm_dnnl_fail(err, "matmul execution", status);
    return 0;
}

/* The panels of W [N, K] for an M-row matmul. */
static int plan(Matmul *mm, int M, const Tensor *W, Plan *pl, Err *err) {
    int K = (int)W->cols, N = (int)W->rows;
    int esize = mm->bf16 ? 2 : 4;
    int T = mm->n_threads, R = 1;
    if (M == 1) {
        /* Memory-bound. A matrix under 64 kB converted is not worth waking another thread for; a
         * larger one gets at least one panel per thread. Rows per panel: the largest power of two
         * whose panel fits PANEL_BYTES (and leaves a panel for every thread), so real models'
         * dims (multiples of 64) split into equal panels and few primitive shapes exist. */
        if ((size_t)N * K * esize < (64u << 10)) T = 1;
        while ((size_t)2 * R * K * esize <= PANEL_BYTES && 2 * R * T <= N) R *= 2;
    } else {
        /* A multiple of T panels of about GEMM_PANEL_BYTES, rows a multiple of 16 (equal panels
         * keep the threads even); under ~0.5 MFLOP one thread. */
        if ((double)M * N * K < (1 << 18)) T = 1;
        size_t bytes = (size_t)N * K * esize, per = (size_t)T * GEMM_PANEL_BYTES;
        int np = T * (int)((bytes + per - 1) / per);
        R = (N + np - 1) / np;
        R = (R + 15) / 16 * 16;
        if (R > N) R = N;
    }
    pl->R = R;
    pl->n_panels = (N + R - 1) / R;
    pl->last = N - (pl->n_panels - 1) * R;
    pl->T = T > pl->n_panels ? pl->n_panels : T;
    pl->dense = 0;
    if (mm->amx && M >= AMX_MIN_M) { /* else, or when oneDNN declines, gemm as below */
        pl->full = get_amx_prim(mm, M, K, R);
        pl->tail = pl->full && pl->last != R ? get_amx_prim(mm, M, K, pl->last) : pl->full;
        if (pl->full && pl->tail) {
            pl->dense = 1;
            return 0;
        }
    }
    /* one row: the output stride does not matter, so every matrix with this K shares a shape;
     * more rows: M is given at run time (primitive 0) */
    int pm = M == 1 ? 1 : 0;
    pl->full = get_prim(mm, pm, K, R, M == 1 ? R : N, err);
    pl->tail = pl->full && pl->last != R ? get_prim(mm, pm, K, pl->last, M == 1 ? pl->last : N, err) : pl->full;
    return pl->full && pl->tail ? 0 : -1;
}

/* Converts and multiplies the panels of a group of matmuls on thread t's worker: the panels of
 * all jobs, in order, shared out by an omp for (one parallel region and one barrier per group). */
static dnnl_status_t run_panels(Matmul *mm, int t, const Job *jobs, int n_jobs, int total, const void *src,
                                int M) {
    dnnl_status_t status = dnnl_success;
    Worker *w = &mm->w[t];
    void *buf = w->panel;
    if (M > 1) {
        size_t need = 0, es = mm->bf16 ? 2 : 4, dense = 0;
        for (int j = 0; j < n_jobs; j++) {
            size_t bytes = (size_t)jobs[j].pl.R * jobs[j].W->cols * es;
            if (bytes > need) need = bytes;
            if (jobs[j].pl.dense && (size_t)M * jobs[j].pl.R > dense) dense = (size_t)M * jobs[j].pl.R;
        }
        if (need > w->big_bytes) {
            free(w->big);
            w->big = aligned_alloc(64, (need + 63) & ~(size_t)63);
            w->big_bytes = w->big ? need : 0;
            if (!w->big) status = dnnl_out_of_memory;
        }
        if (dense > w->dense_cap) {
            free(w->dense);
            w->dense = aligned_alloc(64, (dense * sizeof(float) + 63) & ~(size_t)63);
            w->dense_cap = w->dense ? dense : 0;
            if (!w->dense) status = dnnl_out_of_memory;
        }
        buf = w->big;
    }
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int g = 0; g < total; g++) {
        if (status != dnnl_success) continue;
        int j = 0, p = g;
        while (p >= jobs[j].pl.n_panels) p -= jobs[j].pl.n_panels, j++;
        const Plan *pl = &jobs[j].pl;
        int rows = p == pl->n_panels - 1 ? pl->last : pl->R;
        const void *wei = convert_panel(mm, w, buf, jobs[j].W, (int64_t)p * pl->R, rows);
        float *y = jobs[j].y + (size_t)p * pl->R;
        dnnl_status_t s = run_prim(mm, t, rows == pl->R ? pl->full : pl->tail, M, jobs[j].src ? jobs[j].src : src,
                                   wei, pl->dense ? w->dense : y);
        if (s != dnnl_success) status = s;
        else if (pl->dense) /* the block's rows into y's (row stride N) */
            for (int i = 0; i < M; i++)
                memcpy(y + (size_t)i * jobs[j].W->rows, w->dense + (size_t)i * rows, (size_t)rows * sizeof(float));
    }
    return status;
}

/* Rows r0..r0+n of W converted for the matmul into buf. Returns a pointer to [n, K] values in the
 * compute type: the mapping itself when no conversion is needed, else buf. */
static const void *convert_panel(Matmul *mm, Worker *w, void *buf, const Tensor *W, int64_t r0, int n) {
    int64_t K = W->cols;
    if (W->hq.method != HQ_NONE) {
        /* a GPTQ / AWQ packed layer: its own unpacker, by rows (bf16: one row at a time) */
        if (!mm->bf16) {
            hq_rows_f32(&W->hq, r0, n, buf);
            return buf;
        }
        for (int i = 0; i < n; i++) {
            hq_rows_f32(&W->hq, r0 + i, 1, w->row);
            mm->cv.f32_to_bf16(w->row, (uint16_t *)buf + (size_t)i * K, K);
        }
        return buf;
    }
    size_t rb = qtype_row_bytes(W->type, K);
    const uint8_t *src = (const uint8_t *)W->data + (size_t)r0 * rb;
    if (!mm->bf16) {
        if (W->type == Q_F32) return src;
        convert_rows_f32(&mm->cv, W->type, src, n, K, buf);
        return buf;
    }
    /* bf16: through f32 one row at a time (the row stays in L1) */
    uint16_t *d = buf;
    if (W->type == Q_BF16) return src;
    if (W->type == Q_F16 && mm->cv.f16_to_bf16) {
        mm->cv.f16_to_bf16((const uint16_t *)src, d, (int64_t)n * K);
        return d;
    }
    for (int i = 0; i < n; i++) {
        const uint8_t *s = src + (size_t)i * rb;
        const float *row = (const float *)s;
        if (W->type != Q_F32) convert_rows_f32(&mm->cv, W->type, s, 1, K, w->row), row = w->row;
        mm->cv.f32_to_bf16(row, d + (size_t)i * K, K);
    }
    return d;
}

/* ---- oneDNN matmul primitives: y[M, R] (row stride ldc) = x[M, K] . P[R, K]^T ---- */

int mm_dnnl_fail(Err *err, const char *what, dnnl_status_t s) {
    return err_set(err, "oneDNN: %s failed (status %d)", what, (int)s);
}

/* A 2-D memory descriptor [rows, cols] with the given strides (RT: given at run time). */
dnnl_status_t mm_md2(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, int64_t rs, int64_t cs,
                     dnnl_data_type_t t) {
    dnnl_dims_t d = {rows, cols}, s = {rs, cs};
    return dnnl_memory_desc_init_by_strides(md, 2, d, t, s);
}

/* The primitive descriptor of a matmul: the first implementation oneDNN offers whose name starts
 * with `want` ("gemm:", see get_prim; the AMX brgemm, see AMX_MIN_M), else (unless `only`) its
 * first choice; NULL with *err set when there is none. */
static dnnl_primitive_desc_t pick_impl(Matmul *mm, const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *wei,
                                       const dnnl_memory_desc_t *dst, int user_pad, const char *want, int only,
                                       Err *err) {
    dnnl_matmul_desc_t md;
    dnnl_status_t s = dnnl_matmul_desc_init(&md, src, wei, NULL, dst);
    if (s) {
        mm_dnnl_fail(err, "matmul descriptor", s);
        return NULL;
    }
    dnnl_primitive_attr_t attr;
    dnnl_primitive_attr_create(&attr);
    if (user_pad) dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_primitive_desc_iterator_t it;
    s = dnnl_primitive_desc_iterator_create(&it, &md, attr, mm->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (s) {
        mm_dnnl_fail(err, "matmul implementation search", s);
        return NULL;
    }
    dnnl_primitive_desc_t pd = NULL;
    int found = 0;
    do {
        dnnl_primitive_desc_t cand = dnnl_primitive_desc_iterator_fetch(it);
        const char *name = NULL;
        if (!cand) continue;
        dnnl_primitive_desc_query(cand, dnnl_query_impl_info_str, 0, &name);
        int wanted = name && !strncmp(name, want, strlen(want));
        if ((!pd && (wanted || !only)) || (wanted && !found)) {
            if (pd) dnnl_primitive_desc_destroy(pd);
            pd = cand;
            found = wanted;
        } else {
            dnnl_primitive_desc_destroy(cand);
        }
    } while (!found && dnnl_primitive_desc_iterator_next(it) == dnnl_success);
    dnnl_primitive_desc_iterator_destroy(it);
    if (!pd) err_set(err, "oneDNN: no matmul implementation%s%s", only ? " " : "", only ? want : "");
    return pd;
}

dnnl_primitive_desc_t mm_pick_matmul(Matmul *mm, const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *wei,
                                     const dnnl_memory_desc_t *dst, int user_pad, Err *err) {
    return pick_impl(mm, src, wei, dst, user_pad, "gemm:", 0, err);
}

/* The cached primitive of this shape, or NULL. */
static const Prim *find_prim(const Matmul *mm, int M, int K, int R, int ldc, int amx) {
    for (int i = 0; i < mm->n_prims; i++) {
        const Prim *p = mm->prims[i];
        if (p->M == M && p->K == K && p->R == R && p->ldc == ldc && p->bf16 == mm->bf16 && p->amx == amx) return p;
    }
    return NULL;
}

static const Prim *make_prim(Matmul *mm, int M, int K, int R, int ldc, int amx, Err *err);

/* The primitive for y[M, R] (row stride ldc) = x[M, K] . P[R, K]^T; M 0 means any M (given at
 * run time). */
static const Prim *get_prim(Matmul *mm, int M, int K, int R, int ldc, Err *err) {
    const Prim *p = find_prim(mm, M, K, R, ldc, 0);
    return p ? p : make_prim(mm, M, K, R, ldc, 0, err);
}

/* The AMX brgemm primitive for y[M, R] (dense) = x[M, K] . P[R, K]^T, or NULL: MAX_AMX_PRIMS made
 * already, or oneDNN declined (then mm->amx is turned off: gemm from then on). */
static const Prim *get_amx_prim(Matmul *mm, int M, int K, int R) {
    const Prim *p = find_prim(mm, M, K, R, R, 1);
    if (p || mm->n_amx_prims >= MAX_AMX_PRIMS) return p;
    Err err;
    if (!(p = make_prim(mm, M, K, R, R, 1, &err))) mm->amx = 0;
    else mm->n_amx_prims++;
    return p;
}

/* Creates and caches the primitive of get_prim (amx 0) or get_amx_prim (amx 1). */
static const Prim *make_prim(Matmul *mm, int M, int K, int R, int ldc, int amx, Err *err) {
    int bf16 = mm->bf16;
    Prim p = {.M = M, .K = K, .R = R, .ldc = ldc, .bf16 = bf16, .amx = amx};
    dnnl_data_type_t in = bf16 ? dnnl_bf16 : dnnl_f32;
    int64_t rows = M ? M : RT;
    dnnl_status_t s;
    if ((s = mm_md2(&p.src_md, rows, K, K, 1, in)) || (s = mm_md2(&p.wei_md, K, R, 1, K, in)) ||
        (s = mm_md2(&p.dst_md, rows, R, ldc, 1, dnnl_f32))) {
        mm_dnnl_fail(err, "memory descriptor", s);
        return NULL;
    }
    /* Implementation: oneDNN's own first choice for one row (brgemm) repacks the transposed
     * weights on every call and reads an L2-resident panel at ~30 GB/s (f32) / ~25 GB/s (bf16);
     * its gemm-based matmul reads it 3x faster. With many rows, gemm on a panel runs as fast as
     * brgemm on the whole matrix (and brgemm offers no run-time M). So take "gemm:*" — except for
     * bf16 windows on a CPU with AMX (see AMX_MIN_M). */
    dnnl_primitive_desc_t pd = amx ? pick_impl(mm, &p.src_md, &p.wei_md, &p.dst_md, 1, "brg:avx512_core_amx", 1, err)
                                   : mm_pick_matmul(mm, &p.src_md, &p.wei_md, &p.dst_md, 1, err);
    if (!pd) {
        err_set(err, "oneDNN: no %s matmul for M=%d K=%d N=%d", bf16 ? "bf16" : "f32", M, K, R);
        return NULL;
    }
    const dnnl_memory_desc_t *pad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (pad) p.pad_md = *pad;
    p.pad_bytes = pad ? dnnl_memory_desc_get_size(pad) : 0;
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success) impl = "?";
    size_t used = strlen(mm->kernel);
    if (!used)
        snprintf(mm->kernel, sizeof mm->kernel, "%s%soneDNN %s (%s)", mm->dot_desc, mm->dot_desc[0] ? " + " : "",
                 bf16 ? "bf16" : "f32", impl);
    else if (amx && !mm->n_amx_prims && !strstr(mm->kernel, impl)) /* the first window after gemm's */
        snprintf(mm->kernel + used, sizeof mm->kernel - used, " + windows (%s)", impl);
    s = dnnl_primitive_create(&p.prim, pd);
    dnnl_primitive_desc_destroy(pd);
    if (s) {
        mm_dnnl_fail(err, "primitive creation", s);
        return NULL;
    }
    Prim *np = xmalloc(sizeof *np);
    *np = p;
    np->mem = xcalloc((size_t)mm->n_threads, sizeof *np->mem);
    np->pad = xcalloc((size_t)mm->n_threads, sizeof *np->pad);
    mm->prims = xrealloc(mm->prims, (size_t)(mm->n_prims + 1) * sizeof *mm->prims);
    mm->prims[mm->n_prims++] = np;
    return np;
}

static void free_prim(Prim *p, int n_threads) {
    for (int t = 0; t < n_threads; t++) {
        for (int i = 0; i < 4; i++)
            if (p->mem[t][i]) dnnl_memory_destroy(p->mem[t][i]);
        free(p->pad[t]);
    }
    free(p->mem);
    free(p->pad);
    dnnl_primitive_destroy(p->prim);
    free(p);
}

/* Runs a primitive with src, weights, dst (and scratchpad) on thread t's stream. */
dnnl_status_t mm_exec(Matmul *mm, int t, dnnl_primitive_t prim, dnnl_memory_t src,
                      dnnl_memory_t wei, dnnl_memory_t dst, dnnl_memory_t pad) {
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst},
                               {DNNL_ARG_SCRATCHPAD, pad}};
    dnnl_status_t s = dnnl_primitive_execute(prim, mm->w[t].stream, pad ? 4 : 3, args);
    return s == dnnl_success ? dnnl_stream_wait(mm->w[t].stream) : s;
}

/* Runs primitive p for M rows on thread t's memory objects (made on first use), pointed at this
 * call's buffers. A run-time-M primitive gets src and dst objects of this M, made per call (a
 * memory object costs ~0.2 us, nothing next to a big-M panel). */
static dnnl_status_t run_prim(Matmul *mm, int t, const Prim *p, int M, const void *src, const void *wei,
                              float *dst) {
    dnnl_status_t s;
    dnnl_memory_t *mem = p->mem[t];
    if (!mem[1]) {
        if ((s = dnnl_memory_create(&mem[1], &p->wei_md, mm->engine, DNNL_MEMORY_NONE))) return s;
        if (p->M && ((s = dnnl_memory_create(&mem[0], &p->src_md, mm->engine, DNNL_MEMORY_NONE)) ||
                     (s = dnnl_memory_create(&mem[2], &p->dst_md, mm->engine, DNNL_MEMORY_NONE))))
            return s;
        if (p->pad_bytes) {
            p->pad[t] = aligned_alloc(64, (p->pad_bytes + 63) & ~(size_t)63);
            if (!p->pad[t]) return dnnl_out_of_memory;
            if ((s = dnnl_memory_create(&mem[3], &p->pad_md, mm->engine, p->pad[t]))) return s;
        }
    }
    dnnl_memory_set_data_handle(mem[1], (void *)wei);
    if (p->M) {
        dnnl_memory_set_data_handle(mem[0], (void *)src);
        dnnl_memory_set_data_handle(mem[2], dst);
        return mm_exec(mm, t, p->prim, mem[0], mem[1], mem[2], mem[3]);
    }
    dnnl_memory_desc_t smd, dmd;
    dnnl_memory_t sm = NULL, dm = NULL;
    if (!(s = mm_md2(&smd, M, p->K, p->K, 1, p->bf16 ? dnnl_bf16 : dnnl_f32)) &&
        !(s = mm_md2(&dmd, M, p->R, p->ldc, 1, dnnl_f32)) &&
        !(s = dnnl_memory_create(&sm, &smd, mm->engine, (void *)src)) &&
        !(s = dnnl_memory_create(&dm, &dmd, mm->engine, dst)))
        s = mm_exec(mm, t, p->prim, sm, mem[1], dm, mem[3]);
    if (sm) dnnl_memory_destroy(sm);
    if (dm) dnnl_memory_destroy(dm);
    return s;
}

/* ---- creation ---- */

int mm_threads(void) {
#ifdef _OPENMP
    int n = omp_get_max_threads();
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
#else
    return 1;
#endif
}

const char *mm_kernel(const Matmul *mm) {
    if (mm->kernel[0]) return mm->kernel;
    return mm->dot_desc[0] ? mm->dot_desc : "oneDNN (not run yet)";
}

/* The widest activation row: max(n_embd, n_ff, n_head * head_dim, n_head * head_dim_v). */
static int64_t widest(const Config *c) {
    int64_t w = c->n_embd > c->n_ff ? c->n_embd : c->n_ff;
    if (c->moe.n_ff_exp > w) w = c->moe.n_ff_exp; /* the experts' hidden rows (model/moe.h) */
    if (c->moe.n_ff_shexp > w) w = c->moe.n_ff_shexp;
    int64_t hd = c->head_dim > c->head_dim_v ? c->head_dim : c->head_dim_v;
    if (c->kv_lora_rank + c->n_rot > w) w = c->kv_lora_rank + c->n_rot; /* MLA's latent */
    if (c->q_lora_rank > w) w = c->q_lora_rank;
    return (int64_t)c->n_head * hd > w ? (int64_t)c->n_head * hd : w;
}

Matmul *mm_new(const Model *m, int bf16, Err *err) {
    Matmul *mm = xcalloc(1, sizeof *mm);
    mm->m = m;
    mm->bf16 = bf16;
    convert_init(&mm->cv);
    dot_init(&mm->dot);
    /* COLDTOK_MATMUL=panels: every matmul through panels and oneDNN (benches and tests compare
     * the two paths with it) */
    const char *how = getenv("COLDTOK_MATMUL");
    if (how && !strcmp(how, "panels")) memset(mm->dot.rows, 0, sizeof mm->dot.rows);
    else if (!bf16)
        snprintf(mm->dot_desc, sizeof mm->dot_desc, "fused %s dot (M <= %d, %s 8)", dot_level_name(mm->dot.level),
                 DOT_MAX_M, mm->dot.level >= CONVERT_AVX512 ? "grid i-quants" : "i-quants");
    mm->n_threads = mm_threads();
    /* bf16 windows through AMX (see AMX_MIN_M) when oneDNN may use it; COLDTOK_MATMUL=gemm: never
     * (benches and tests compare the two with it) */
    mm->amx = bf16 && (dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx512_core_amx) == dnnl_cpu_isa_avx512_core_amx &&
              !(how && !strcmp(how, "gemm"));
#ifdef _OPENMP
    omp_set_max_active_levels(1); /* oneDNN inside our regions: never a nested team */
#endif
#ifdef __GLIBC__
    /* oneDNN's bf16 gemm mallocs and frees a packing buffer (a few hundred kB) on every call.
     * With glibc's defaults that is an mmap/munmap (or a heap trim) each time: page faults and,
     * with two threads, TLB shootdowns — 3x slower on this machine. Keep such blocks in the heap. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
    dnnl_status_t s = dnnl_engine_create(&mm->engine, dnnl_cpu, 0);
    if (s) {
        mm_dnnl_fail(err, "engine creation", s);
        free(mm);
        return NULL;
    }
    int64_t wide = widest(&m->cfg);
    for (int t = 0; t < mm->n_threads; t++) {
        Worker *w = &mm->w[t];
        if ((s = dnnl_stream_create(&w->stream, mm->engine, dnnl_stream_default_flags))) {
            mm_dnnl_fail(err, "stream creation", s);
            mm_free(mm);
            return NULL;
        }
        /* a panel holds at least one row, however wide */
        size_t bytes = PANEL_BYTES > (size_t)wide * 4 ? PANEL_BYTES : (size_t)wide * 4;
        w->panel = aligned_alloc(64, bytes + 64);
        w->row = xmalloc((size_t)wide * sizeof(float));
        if (!w->panel) {
            err_set(err, "out of memory for matmul panels");
            mm_free(mm);
            return NULL;
        }
    }
    return mm;
}

void mm_free(Matmul *mm) {
    if (!mm) return;
    for (int t = 0; t < mm->n_threads; t++) {
        Worker *w = &mm->w[t];
        if (w->stream) dnnl_stream_destroy(w->stream);
        free(w->panel);
        free(w->big);
        free(w->dense);
        free(w->row);
        free(w->s);
    }
    for (int i = 0; i < mm->n_prims; i++) free_prim(mm->prims[i], mm->n_threads);
    free(mm->prims);
    if (mm->att_qk) dnnl_primitive_destroy(mm->att_qk);
    if (mm->att_pv) dnnl_primitive_destroy(mm->att_pv);
    free(mm->xbf);
    if (mm->engine) dnnl_engine_destroy(mm->engine);
    free(mm);
}
