/* moe: see moe.h. The router (gating, llama.cpp's top-k order, normalisation), then the FFN of a
 * step grouped by expert, then the state. */
#include "model/moe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "formats/qtype.h"

/* Shapes: M positions in the step, E = n_embd, X = n_expert, k = n_expert_used,
 * Fe = max(n_ff_exp, n_ff_shexp). */
struct Moe {
    const Model *m;
    int rows;          /* positions the buffers hold */
    float *logits;     /* [M, X] router logits, then the gating's probabilities in probs */
    float *probs;      /* [M, X] */
    int *ids;          /* [M, k] picked experts of each position, in llama.cpp's order */
    float *weights;    /* [M, k] their weights */
    int *count;        /* [X] positions routed to each expert in this step */
    int *start;        /* [X + 1] where each expert's (position, slot) pairs begin in pairs */
    int *pairs;        /* [M * k] position * k + slot, grouped by expert */
    int *row_of;       /* [M * k] the row of pair position * k + slot in xg, hg, yo */
    float *xg;         /* [M * k, E] the input row of each pair, grouped by expert */
    float *hg, *hu;    /* [M * k, Fe] gate, up of those rows (the shared expert's: [M, Fs]) */
    float *yo;         /* [M * k, E] the experts' output rows (the shared expert's: [M, E]) */
    float *shg;        /* [M] the shared expert's gate logit */
    unsigned char *picked; /* [n_layer, X] 1 when picked in the layer's last call */
    MoeStats st;
};

/* ---- the router ---- */

/* Comparator of the descending sort: "a goes before b". */
#define BEFORE(a, b) (v[a] > v[b])

static void swap_int(int *a, int *b) {
    int t = *a;
    *a = *b;
    *b = t;
}

/* libstdc++'s __move_median_to_first(result, a, b, c). */
static void median_to_first(const float *v, int *r, int *a, int *b, int *c) {
    if (BEFORE(*a, *b)) {
        if (BEFORE(*b, *c)) swap_int(r, b);
        else if (BEFORE(*a, *c)) swap_int(r, c);
        else swap_int(r, a);
    } else if (BEFORE(*a, *c)) {
        swap_int(r, a);
    } else if (BEFORE(*b, *c)) {
        swap_int(r, c);
    } else {
        swap_int(r, b);
    }
}

/* __unguarded_partition(first, last, pivot): returns the cut. */
static int *partition(const float *v, int *first, int *last, const int *pivot) {
    for (;;) {
        while (BEFORE(*first, *pivot)) first++;
        last--;
        while (BEFORE(*pivot, *last)) last--;
        if (!(first < last)) return first;
        swap_int(first, last);
        first++;
    }
}

/* __adjust_heap(first, hole, len, value) with __push_heap at its end. */
static void adjust_heap(const float *v, int *first, long hole, long len, int value) {
    long top = hole, child = hole;
    while (child < (len - 1) / 2) {
        child = 2 * (child + 1);
        if (BEFORE(first[child], first[child - 1])) child--;
        first[hole] = first[child];
        hole = child;
    }
    if ((len & 1) == 0 && child == (len - 2) / 2) {
        child = 2 * (child + 1);
        first[hole] = first[child - 1];
        hole = child - 1;
    }
    long parent = (hole - 1) / 2;
    while (hole > top && BEFORE(first[parent], value)) {
        first[hole] = first[parent];
        hole = parent;
        parent = (hole - 1) / 2;
    }
    first[hole] = value;
}

/* __partial_sort(first, last, last): make_heap then sort_heap (the depth limit's fallback). */
static void heap_sort(const float *v, int *first, int *last) {
    long len = last - first;
    if (len < 2) return;
    for (long parent = (len - 2) / 2;; parent--) {
        adjust_heap(v, first, parent, len, first[parent]);
        if (parent == 0) break;
    }
    while (last - first > 1) {
        last--;
        int value = *last;
        *last = *first;
        adjust_heap(v, first, 0, last - first, value);
    }
}

#define SORT_THRESHOLD 16

static void introsort_loop(const float *v, int *first, int *last, int depth) {
    while (last - first > SORT_THRESHOLD) {
        if (depth == 0) {
            heap_sort(v, first, last);
            return;
        }
        depth--;
        int *mid = first + (last - first) / 2;
        median_to_first(v, first, first + 1, mid, last - 1);
        int *cut = partition(v, first + 1, last, first);
        introsort_loop(v, cut, last, depth);
        last = cut;
    }
}

/* __unguarded_linear_insert(last). */
static void linear_insert(const float *v, int *last) {
    int val = *last;
    int *next = last - 1;
    while (BEFORE(val, *next)) {
        *last = *next;
        last = next;
        next--;
    }
    *last = val;
}

static void insertion_sort(const float *v, int *first, int *last) {
    if (first == last) return;
    for (int *i = first + 1; i != last; i++) {
        if (BEFORE(*i, *first)) {
            int val = *i;
            memmove(first + 1, first, (size_t)(i - first) * sizeof *first);
            *first = val;
        } else {
            linear_insert(v, i);
        }
    }
}

void moe_argsort_desc(const float *v, int n, int *idx) {
    for (int i = 0; i < n; i++) idx[i] = i;
    if (n < 2) return;
    int lg = 0;
    while ((2L << lg) <= n) lg++; /* floor(log2 n) */
    introsort_loop(v, idx, idx + n, 2 * lg);
    if (n > SORT_THRESHOLD) {
        insertion_sort(v, idx, idx + SORT_THRESHOLD);
        for (int *i = idx + SORT_THRESHOLD; i != idx + n; i++) linear_insert(v, i);
    } else {
        insertion_sort(v, idx, idx + n);
    }
}
#undef BEFORE

void moe_route(const MoeConfig *c, const float *logits, float *probs, int *ids, float *weights) {
    int X = c->n_expert, k = c->n_expert_used;
    if (c->gating == MOE_GATING_SIGMOID) {
        for (int i = 0; i < X; i++) probs[i] = 1.0f / (1.0f + expf(-logits[i]));
    } else { /* softmax as ggml's: max, exp, a double sum, one multiply */
        float mx = logits[0];
        for (int i = 1; i < X; i++) mx = logits[i] > mx ? logits[i] : mx;
        double sum = 0;
        for (int i = 0; i < X; i++) sum += probs[i] = expf(logits[i] - mx);
        float inv = (float)(1.0 / sum);
        for (int i = 0; i < X; i++) probs[i] *= inv;
    }
    int order[1024], *idx = X <= 1024 ? order : xmalloc((size_t)X * sizeof *idx);
    moe_argsort_desc(probs, X, idx);
    for (int j = 0; j < k; j++) ids[j] = idx[j], weights[j] = probs[idx[j]];
    if (idx != order) free(idx);
    if (c->norm_topk) {
        float sum = 0;
        for (int j = 0; j < k; j++) sum += weights[j];
        if (sum < 6.103515625e-5f) sum = 6.103515625e-5f; /* llama.cpp's clamp: the least normal f16 */
        for (int j = 0; j < k; j++) weights[j] /= sum;
    }
    if (c->scale != 0 && c->scale != 1)
        for (int j = 0; j < k; j++) weights[j] *= c->scale;
}

/* ---- the FFN of a step ---- */

static uint64_t matrix_bytes(const Tensor *t) {
    return t->data ? (uint64_t)qtype_row_bytes(t->type, t->cols) * (uint64_t)t->rows : 0;
}

/* Asks the kernel to read a matrix's pages now (the picked experts of a layer all at once, so a
 * cold start's reads overlap; the loader turned read-around off for the experts, model/moe_load.c). */
static void prefetch(const Tensor *t) {
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)t->data, b = a + (uintptr_t)matrix_bytes(t);
    a &= ~(uintptr_t)(pg - 1);
    if (t->data && pg > 0) madvise((void *)a, b - a, MADV_WILLNEED); /* advice: failure is harmless */
}

static void grow(Moe *e, int M) {
    if (M <= e->rows) return;
    const Config *c = &e->m->cfg;
    size_t B = (size_t)M, E = (size_t)c->n_embd, X = (size_t)c->moe.n_expert,
           k = (size_t)c->moe.n_expert_used;
    size_t F = (size_t)(c->moe.n_ff_exp > c->moe.n_ff_shexp ? c->moe.n_ff_exp : c->moe.n_ff_shexp);
    free(e->logits), free(e->probs), free(e->ids), free(e->weights), free(e->pairs), free(e->row_of);
    free(e->xg), free(e->hg), free(e->hu), free(e->yo), free(e->shg);
    e->logits = xmalloc(B * X * sizeof(float));
    e->probs = xmalloc(B * X * sizeof(float));
    e->ids = xmalloc(B * k * sizeof(int));
    e->weights = xmalloc(B * k * sizeof(float));
    e->pairs = xmalloc(B * k * sizeof(int));
    e->row_of = xmalloc(B * k * sizeof(int));
    e->xg = xmalloc_aligned(B * k * E * sizeof(float));
    e->hg = xmalloc_aligned(B * (k > 1 ? k : 1) * F * sizeof(float));
    e->hu = xmalloc_aligned(B * (k > 1 ? k : 1) * F * sizeof(float));
    e->yo = xmalloc_aligned(B * k * E * sizeof(float));
    e->shg = xmalloc(B * sizeof(float));
    e->rows = M;
}

/* The routed experts first .. last-1 of the picked list, all with n rows: gate and up of all of
 * them in one parallel region, then down in another (mm_run_each). Their rows are contiguous in
 * xg, hg, hu, yo (grouped by expert from start[]). */
static int run_batch(Moe *e, Matmul *mm, const MoeLayer *L, const int *list, int n_list, int n,
                     void (*swiglu)(float *, const float *, size_t), Err *err) {
    const Config *c = &e->m->cfg;
    size_t E = (size_t)c->n_embd, F = (size_t)c->moe.n_ff_exp;
    MmOutX gu[MM_MAX_EACH], dn[MM_MAX_EACH / 2];
    for (int i = 0; i < n_list; i++) {
        int t = list[i];
        size_t r0 = (size_t)e->start[t];
        gu[2 * i] = (MmOutX){.y = e->hg + r0 * F, .W = &L->gate[t], .x = e->xg + r0 * E};
        gu[2 * i + 1] = (MmOutX){.y = e->hu + r0 * F, .W = &L->up[t], .x = e->xg + r0 * E};
        dn[i] = (MmOutX){.y = e->yo + r0 * E, .W = &L->down[t], .x = e->hg + r0 * F};
    }
    if (mm_run_each(mm, n, gu, 2 * n_list, err)) return -1;
    size_t r0 = (size_t)e->start[list[0]];
    swiglu(e->hg + r0 * F, e->hu + r0 * F, (size_t)n_list * n * F); /* the batch's rows are contiguous */
    return mm_run_each(mm, n, dn, n_list, err);
}

int moe_ffn(Moe *e, Matmul *mm, const MoeLayer *L, const float *x, int M, float *out,
            void (*swiglu)(float *g, const float *u, size_t n), Err *err) {
    const MoeConfig *c = &e->m->cfg.moe;
    int E = e->m->cfg.n_embd, X = c->n_expert, k = c->n_expert_used;
    grow(e, M);
    /* logits [M, X] = x router^T; each position's k picks and weights */
    MmOut r = {.y = e->logits, .W = &L->router};
    if (mm_run(mm, x, M, &r, 1, err)) return -1;
    memset(e->count, 0, (size_t)X * sizeof *e->count);
    for (int i = 0; i < M; i++) {
        moe_route(c, e->logits + (size_t)i * X, e->probs + (size_t)i * X, e->ids + (size_t)i * k,
                  e->weights + (size_t)i * k);
        for (int j = 0; j < k; j++) e->count[e->ids[(size_t)i * k + j]]++;
    }
    /* pairs grouped by expert (counting sort): expert t's (position, slot) pairs are rows
     * start[t] .. start[t]+count[t]-1 of xg / hg / yo; row_of[pair] is the pair's row */
    e->start[0] = 0;
    for (int t = 0; t < X; t++) e->start[t + 1] = e->start[t] + e->count[t];
    memset(e->count, 0, (size_t)X * sizeof *e->count);
    for (int p = 0; p < M * k; p++) {
        int t = e->ids[p], row = e->start[t] + e->count[t]++;
        e->pairs[row] = p;
        e->row_of[p] = row;
    }
    for (int p = 0; p < M * k; p++) /* xg [M*k, E]: each pair's input row */
        memcpy(e->xg + (size_t)p * E, x + (size_t)(e->pairs[p] / k) * E, (size_t)E * sizeof(float));
    /* the picked experts (the union over the positions): read ahead together, then run in
     * batches of consecutive experts with the same number of rows (one batch at one position) */
    e->st.steps++;
    e->st.routed_slots += (uint64_t)M * (uint64_t)k;
    int list[MM_MAX_EACH / 2], n_list = 0, batch_n = 0;
    for (int t = 0; t < X; t++) {
        e->picked[(size_t)L->layer * X + t] = e->count[t] > 0;
        if (!e->count[t]) continue;
        prefetch(&L->gate[t]), prefetch(&L->up[t]), prefetch(&L->down[t]);
        e->st.expert_loads++;
        e->st.expert_bytes += matrix_bytes(&L->gate[t]) + matrix_bytes(&L->up[t]) + matrix_bytes(&L->down[t]);
    }
    for (int t = 0; t <= X; t++) {
        int n = t < X ? e->count[t] : 0;
        if (t < X && !n) continue;
        if (n_list && (t == X || n != batch_n || n_list == MM_MAX_EACH / 2)) {
            if (run_batch(e, mm, L, list, n_list, batch_n, swiglu, err)) return -1;
            n_list = 0;
        }
        if (t < X) list[n_list++] = t, batch_n = n;
    }
    /* out [M, E]: weight * output of each slot, summed in slot order (llama.cpp multiplies, then
     * adds the slots one after the other) */
    for (int i = 0; i < M; i++) {
        float *o = out + (size_t)i * E;
        for (int j = 0; j < k; j++) {
            size_t p = (size_t)i * k + j;
            float w = e->weights[p];
            const float *y = e->yo + (size_t)e->row_of[p] * E;
            if (j == 0)
                for (int d = 0; d < E; d++) o[d] = y[d] * w;
            else
                for (int d = 0; d < E; d++) o[d] += y[d] * w;
        }
    }
    if (!L->sh_up.data) return 0;
    /* the shared expert: out += down(silu(gate x) * up x) [* sigmoid(x . gate_inp_shexp)] */
    size_t F = (size_t)c->n_ff_shexp;
    MmOutX gu[3] = {{.y = e->hg, .W = &L->sh_gate, .x = x}, {.y = e->hu, .W = &L->sh_up, .x = x},
                    {.y = e->shg, .W = &L->sh_gate_inp, .x = x}};
    if (mm_run_each(mm, M, gu, L->sh_gate_inp.data ? 3 : 2, err)) return -1;
    swiglu(e->hg, e->hu, (size_t)M * F);
    MmOut d = {.y = e->yo, .W = &L->sh_down};
    if (mm_run(mm, e->hg, M, &d, 1, err)) return -1;
    for (int i = 0; i < M; i++) {
        float gw = L->sh_gate_inp.data ? 1.0f / (1.0f + expf(-e->shg[i])) : 1.0f;
        float *o = out + (size_t)i * E;
        const float *y = e->yo + (size_t)i * E;
        for (int dd = 0; dd < E; dd++) o[dd] += y[dd] * gw;
    }
    return 0;
}

/* ---- state ---- */

Moe *moe_new(const Model *m) {
    Moe *e = xcalloc(1, sizeof *e);
    e->m = m;
    int X = m->cfg.moe.n_expert > 0 ? m->cfg.moe.n_expert : 1;
    e->count = xcalloc((size_t)X, sizeof *e->count);
    e->start = xcalloc((size_t)X + 1, sizeof *e->start);
    e->picked = xcalloc((size_t)m->cfg.n_layer * X, 1);
    return e;
}

void moe_free(Moe *e) {
    if (!e) return;
    free(e->logits), free(e->probs), free(e->ids), free(e->weights), free(e->pairs), free(e->row_of);
    free(e->xg), free(e->hg), free(e->hu), free(e->yo), free(e->shg);
    free(e->count), free(e->start), free(e->picked);
    free(e);
}

const MoeStats *moe_stats(const Moe *e) { return &e->st; }
void moe_stats_reset(Moe *e) { memset(&e->st, 0, sizeof e->st); }
int moe_last_picked(const Moe *e, int layer, int expert) {
    int X = e->m->cfg.moe.n_expert;
    return layer >= 0 && layer < e->m->cfg.n_layer && expert >= 0 && expert < X &&
           e->picked[(size_t)layer * X + expert];
}
