/* moe: see moe.h. The router (gating, llama.cpp's top-k order, normalisation), then the FFN of a
 * step grouped by expert, then the state. */
#include "model/moe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    float *xg;         /* [M, E] the rows of x routed to one expert, gathered */
    float *hg, *hu;    /* [M, Fe] gate, up of those rows */
    float *yo;         /* [M, E] one expert's output rows (and the shared expert's) */
    float *slots;      /* [M, k, E] weight * output of each (position, slot) */
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

static void grow(Moe *e, int M) {
    if (M <= e->rows) return;
    const Config *c = &e->m->cfg;
    size_t B = (size_t)M, E = (size_t)c->n_embd, X = (size_t)c->moe.n_expert,
           k = (size_t)c->moe.n_expert_used;
    size_t F = (size_t)(c->moe.n_ff_exp > c->moe.n_ff_shexp ? c->moe.n_ff_exp : c->moe.n_ff_shexp);
    free(e->logits), free(e->probs), free(e->ids), free(e->weights), free(e->pairs);
    free(e->xg), free(e->hg), free(e->hu), free(e->yo), free(e->slots), free(e->shg);
    e->logits = xmalloc(B * X * sizeof(float));
    e->probs = xmalloc(B * X * sizeof(float));
    e->ids = xmalloc(B * k * sizeof(int));
    e->weights = xmalloc(B * k * sizeof(float));
    e->pairs = xmalloc(B * k * sizeof(int));
    e->xg = xmalloc(B * E * sizeof(float));
    e->hg = xmalloc(B * F * sizeof(float));
    e->hu = xmalloc(B * F * sizeof(float));
    e->yo = xmalloc(B * E * sizeof(float));
    e->slots = xmalloc(B * k * E * sizeof(float));
    e->shg = xmalloc(B * sizeof(float));
    e->rows = M;
}

/* y [n, E] = down(silu(gate(x)) * up(x)) for x [n, E], the matrices of one expert. */
static int expert(Moe *e, Matmul *mm, const Tensor *gate, const Tensor *up, const Tensor *down,
                  const float *x, int n, float *y, void (*swiglu)(float *, const float *, size_t),
                  Err *err) {
    MmOut gu[2] = {{.y = e->hg, .W = gate}, {.y = e->hu, .W = up}};
    if (mm_run(mm, x, n, gu, 2, err)) return -1;
    swiglu(e->hg, e->hu, (size_t)n * (size_t)gate->rows);
    MmOut d = {.y = y, .W = down};
    return mm_run(mm, e->hg, n, &d, 1, err);
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
    /* pairs grouped by expert (counting sort): expert x's (position, slot) pairs from start[x] */
    e->start[0] = 0;
    for (int t = 0; t < X; t++) e->start[t + 1] = e->start[t] + e->count[t];
    memset(e->count, 0, (size_t)X * sizeof *e->count);
    for (int p = 0; p < M * k; p++) {
        int t = e->ids[p];
        e->pairs[e->start[t] + e->count[t]++] = p;
    }
    /* each picked expert once: gather its rows, run it, scatter weight * output to the slots */
    e->st.steps++;
    e->st.routed_slots += (uint64_t)M * (uint64_t)k;
    for (int t = 0; t < X; t++) {
        int n = e->count[t];
        e->picked[(size_t)L->layer * X + t] = n > 0;
        if (!n) continue;
        const int *pr = e->pairs + e->start[t];
        for (int j = 0; j < n; j++)
            memcpy(e->xg + (size_t)j * E, x + (size_t)(pr[j] / k) * E, (size_t)E * sizeof(float));
        if (expert(e, mm, &L->gate[t], &L->up[t], &L->down[t], e->xg, n, e->yo, swiglu, err)) return -1;
        e->st.expert_loads++;
        e->st.expert_bytes += matrix_bytes(&L->gate[t]) + matrix_bytes(&L->up[t]) + matrix_bytes(&L->down[t]);
        for (int j = 0; j < n; j++) {
            float w = e->weights[pr[j]], *s = e->slots + (size_t)pr[j] * E;
            const float *y = e->yo + (size_t)j * E;
            for (int d = 0; d < E; d++) s[d] = y[d] * w;
        }
    }
    /* out [M, E]: the slots of each position summed in order (llama.cpp adds them so) */
    for (int i = 0; i < M; i++) {
        float *o = out + (size_t)i * E;
        const float *s = e->slots + (size_t)i * k * E;
        memcpy(o, s, (size_t)E * sizeof(float));
        for (int j = 1; j < k; j++)
            for (int d = 0; d < E; d++) o[d] += s[(size_t)j * E + d];
    }
    if (!L->sh_up.data) return 0;
    /* the shared expert: out += down(silu(gate x) * up x) [* sigmoid(x . gate_inp_shexp)] */
    if (expert(e, mm, &L->sh_gate, &L->sh_up, &L->sh_down, x, M, e->yo, swiglu, err)) return -1;
    if (L->sh_gate_inp.data) {
        MmOut g = {.y = e->shg, .W = &L->sh_gate_inp};
        if (mm_run(mm, x, M, &g, 1, err)) return -1;
    }
    for (int i = 0; i < M; i++) {
        float gw = L->sh_gate_inp.data ? 1.0f / (1.0f + expf(-e->shg[i])) : 1.0f;
        float *o = out + (size_t)i * E;
        const float *y = e->yo + (size_t)i * E;
        for (int d = 0; d < E; d++) o[d] += y[d] * gw;
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
    free(e->logits), free(e->probs), free(e->ids), free(e->weights), free(e->pairs);
    free(e->xg), free(e->hg), free(e->hu), free(e->yo), free(e->slots), free(e->shg);
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
