/* matmul_att: mm_attention and attn_score of model/matmul.h — causal multi-head attention of
 * several positions through oneDNN, on the Matmul's engine, per-thread streams and scratch
 * (model/matmul_int.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "model/matmul_int.h"

/* The two attention matmuls, with run-time dims (rows, keys), made on first use (hd = head_dim,
 * hv = head_dim_v; qd, kd, od, vd: the row strides of q, the K cache, out and the V cache):
 *   qk: S[mb, nb] (row stride nb) = Q_h[mb, hd] (row stride qd) . K_h[nb, hd]^T (row stride kd)
 *   pv: O_h[mb, hv] (row stride od) = S[mb, nb] . V_h[nb, hv] (row stride vd)
 * K_h and V_h are read in place from the cache. */
static int attention_prims(Matmul *mm, Err *err) {
    if (mm->att_pv) return 0;
    const Config *c = &mm->m->cfg;
    int64_t hd = c->head_dim, qd = (int64_t)c->n_head * hd, kd = (int64_t)c->n_head_kv * hd;
    int64_t hv = c->head_dim_v, od = (int64_t)c->n_head * hv, vd = (int64_t)c->n_head_kv * hv;
    dnnl_memory_desc_t q, k, s, v, o;
    dnnl_dims_t sd = {RT, RT};
    dnnl_status_t st;
    if ((st = mm_md2(&q, RT, hd, qd, 1, dnnl_f32)) || (st = mm_md2(&k, hd, RT, 1, kd, dnnl_f32)) ||
        (st = dnnl_memory_desc_init_by_tag(&s, 2, sd, dnnl_f32, dnnl_ab)) ||
        (st = mm_md2(&v, RT, hv, vd, 1, dnnl_f32)) || (st = mm_md2(&o, RT, hv, od, 1, dnnl_f32)))
        return mm_dnnl_fail(err, "attention memory descriptor", st);
    dnnl_primitive_desc_t pd = mm_pick_matmul(mm, &q, &k, &s, 0, err);
    if (!pd) return -1;
    st = dnnl_primitive_create(&mm->att_qk, pd);
    dnnl_primitive_desc_destroy(pd);
    if (st) return mm_dnnl_fail(err, "attention primitive creation", st);
    if (!(pd = mm_pick_matmul(mm, &s, &v, &o, 0, err))) return -1;
    st = dnnl_primitive_create(&mm->att_pv, pd);
    dnnl_primitive_desc_destroy(pd);
    if (st) return mm_dnnl_fail(err, "attention primitive creation", st);
    return 0;
}

/* Runs y[rows, cols] = a[rows, inner] . b[inner, cols] with primitive prim on thread t, each
 * operand given by pointer and row stride (b of qk by column stride: it is K_h transposed). */
static dnnl_status_t att_exec(Matmul *mm, int t, dnnl_primitive_t prim, int64_t rows, int64_t inner,
                              int64_t cols, const float *a, int64_t lda, const float *b, int64_t bs0,
                              int64_t bs1, float *y, int64_t ldy) {
    dnnl_memory_desc_t am, bm, ym;
    dnnl_memory_t ao = NULL, bo = NULL, yo = NULL;
    dnnl_status_t s;
    if (!(s = mm_md2(&am, rows, inner, lda, 1, dnnl_f32)) && !(s = mm_md2(&bm, inner, cols, bs0, bs1, dnnl_f32)) &&
        !(s = mm_md2(&ym, rows, cols, ldy, 1, dnnl_f32)) &&
        !(s = dnnl_memory_create(&ao, &am, mm->engine, (void *)a)) &&
        !(s = dnnl_memory_create(&bo, &bm, mm->engine, (void *)b)) &&
        !(s = dnnl_memory_create(&yo, &ym, mm->engine, y)))
        s = mm_exec(mm, t, prim, ao, bo, yo, NULL);
    if (ao) dnnl_memory_destroy(ao);
    if (bo) dnnl_memory_destroy(bo);
    if (yo) dnnl_memory_destroy(yo);
    return s;
}

/* The arguments of one mm_attention call (see matmul.h). */
typedef struct {
    const float *q, *k, *v;
    float *out;
    int pos0;
    const AttnParams *ap;
} Att;

float attn_score(const AttnParams *a, float dot) {
    float s = dot * a->scale;
    return a->softcap > 0 ? a->softcap * tanhf(s / a->softcap) : s;
}

/* One (head h, block of mb query rows from row i0) of mm_attention on thread t. The block's
 * keys are lo .. nb-1: from the first key its first row sees to its last row's own position. */
static dnnl_status_t attend_block(Matmul *mm, int t, const Att *a, int h, int i0, int mb) {
    const Config *c = &mm->m->cfg;
    int hd = c->head_dim, hv = c->head_dim_v, group = c->n_head / c->n_head_kv;
    int kd = c->n_head_kv * hd, vd = c->n_head_kv * hv, qd = c->n_head * hd, od = c->n_head * hv;
    int pos0 = a->pos0, lo = attn_first_key(a->ap, pos0 + i0), nb = pos0 + i0 + mb - lo;
    const float *k = a->k + (size_t)lo * kd + (size_t)(h / group) * hd;
    const float *v = a->v + (size_t)lo * vd + (size_t)(h / group) * hv;
    float *S = mm->w[t].s;
    dnnl_status_t s = att_exec(mm, t, mm->att_qk, mb, hd, nb, a->q + (size_t)i0 * qd + (size_t)h * hd, qd,
                               k, 1, kd, S, nb);
    if (s != dnnl_success) return s;
    for (int r = 0; r < mb; r++) {
        float *row = S + (size_t)r * nb;
        int p = pos0 + i0 + r, from = attn_first_key(a->ap, p) - lo, to = p + 1 - lo; /* keys row r sees */
        for (int j = from; j < to; j++) row[j] = attn_score(a->ap, row[j]);
        a->ap->softmax(row + from, to - from);
        memset(row, 0, (size_t)from * sizeof(float)); /* the rest of the row weighs 0 */
        memset(row + to, 0, (size_t)(nb - to) * sizeof(float));
    }
    return att_exec(mm, t, mm->att_pv, mb, nb, hv, S, nb, v, vd, 1,
                    a->out + (size_t)i0 * od + (size_t)h * hv, od);
}

/* The (head, block) items are shared by the threads, oneDNN single-threaded inside. */
int mm_attention(Matmul *mm, const float *q, const float *k, const float *v, int pos0, int M,
                 const AttnParams *ap, float *out, Err *err) {
    const Config *c = &mm->m->cfg;
    Att a = {.q = q, .k = k, .v = v, .out = out, .pos0 = pos0, .ap = ap};
    if (attention_prims(mm, err)) return -1;
    size_t need = (size_t)ATT_BLOCK * (size_t)(pos0 + M);
    for (int t = 0; t < mm->n_threads; t++)
        if (mm->w[t].s_cap < need) {
            free(mm->w[t].s);
            mm->w[t].s = xmalloc(need * sizeof(float));
            mm->w[t].s_cap = need;
        }
    int n_blocks = (M + ATT_BLOCK - 1) / ATT_BLOCK, work = n_blocks * c->n_head;
    dnnl_status_t status = dnnl_success;
#ifdef _OPENMP
    int T = (double)M * (pos0 + M) * c->n_head * c->head_dim < (1 << 19) ? 1 : mm->n_threads;
    int saved = omp_get_max_threads();
    if (T == 1) omp_set_num_threads(1); /* see mm_run */
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
#endif
    for (int wi = 0; wi < work; wi++) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        /* the last blocks (the most keys) first, so the threads end together */
        int b = n_blocks - 1 - wi / c->n_head, i0 = b * ATT_BLOCK;
        int mb = M - i0 < ATT_BLOCK ? M - i0 : ATT_BLOCK;
        dnnl_status_t s = attend_block(mm, t, &a, wi % c->n_head, i0, mb);
        if (s != dnnl_success) {
#ifdef _OPENMP
#pragma omp critical
#endif
            status = s;
        }
    }
#ifdef _OPENMP
    if (T == 1) omp_set_num_threads(saved);
#endif
    if (status != dnnl_success) return mm_dnnl_fail(err, "attention matmul execution", status);
    return 0;
}
