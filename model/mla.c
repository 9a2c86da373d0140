/* mla: see mla.h. */
#include "model/mla.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/convert.h"
#include "formats/qtype.h"

/* Shapes: M positions, H = n_head, hd = head_dim = nope + rot, hv = head_dim_v, R = kv_lora_rank,
 * Rq = q_lora_rank. */
struct Mla {
    const Model *m;
    Convert cv;
    int rows;      /* room for this many positions */
    float *qraw;   /* [M, H * hd] q as projected: per head nope dims, then rot */
    float *qa;     /* [M, Rq] the low-rank q, normed */
    float *kva;    /* [M, R + rot] latent, then k_pe */
    float *lat;    /* [M, R] the normed latent */
    float *kvb;    /* [M, H * (nope + hv)] k_nope and v per head (attn_kv_b), or k_nope [M, H * nope] */
    float *kbt;    /* [H * nope, R] attn_k_b transposed (the split form), or NULL */
};

Mla *mla_new(const Model *m) {
    if (m->cfg.kv_lora_rank <= 0) return NULL;
    Mla *a = xcalloc(1, sizeof *a);
    a->m = m;
    convert_init(&a->cv);
    return a;
}

void mla_free(Mla *a) {
    if (!a) return;
    free(a->qraw), free(a->qa), free(a->kva), free(a->lat), free(a->kvb), free(a->kbt);
    free(a);
}

static void grow(Mla *a, int M) {
    if (M <= a->rows) return;
    const Config *c = &a->m->cfg;
    size_t B = (size_t)M, H = (size_t)c->n_head, nope = (size_t)(c->head_dim - c->n_rot);
    free(a->qraw), free(a->qa), free(a->kva), free(a->lat), free(a->kvb);
    a->qraw = xmalloc_aligned(B * H * c->head_dim * sizeof(float));
    a->qa = xmalloc_aligned((B * c->q_lora_rank + 1) * sizeof(float));
    a->kva = xmalloc_aligned(B * (c->kv_lora_rank + c->n_rot) * sizeof(float));
    a->lat = xmalloc_aligned(B * c->kv_lora_rank * sizeof(float));
    a->kvb = xmalloc_aligned(B * H * (nope + c->head_dim_v) * sizeof(float));
    a->rows = M;
}

/* RMSNorm of each of M rows of width n, read `stride` floats apart, into o [M, n]. */
static void rmsnorm_rows(float *o, const float *x, size_t stride, const float *w, int M, int n,
                         float eps) {
    for (int i = 0; i < M; i++) {
        const float *xi = x + (size_t)i * stride;
        float *oi = o + (size_t)i * n;
        double ss = 0;
        for (int j = 0; j < n; j++) ss += (double)xi[j] * xi[j];
        float s = (float)(1.0 / sqrt(ss / n + eps));
        for (int j = 0; j < n; j++) oi[j] = xi[j] * s * w[j];
    }
}

/* attn_k_b (per head [R, nope], as stored) transposed into kbt [H * nope, R] in f32. */
static void transpose_k_b(Mla *a, const Tensor *kb) {
    const Config *c = &a->m->cfg;
    int H = c->n_head, R = c->kv_lora_rank, nope = c->head_dim - c->n_rot;
    if (!a->kbt) a->kbt = xmalloc((size_t)H * nope * R * sizeof(float));
    float *row = xmalloc((size_t)R * nope * sizeof(float)); /* one head, [R, nope] */
    size_t rb = qtype_row_bytes(kb->type, nope);
    for (int h = 0; h < H; h++) {
        convert_rows_f32(&a->cv, kb->type, (const uint8_t *)kb->data + (size_t)h * R * rb, R, nope, row);
        float *dst = a->kbt + (size_t)h * nope * R;
        for (int r = 0; r < R; r++)
            for (int d = 0; d < nope; d++) dst[(size_t)d * R + r] = row[(size_t)r * nope + d];
    }
    free(row);
}

int mla_qkv(Mla *a, Matmul *mm, const Layer *L, const float *xb, int M, float *q, float *k,
            float *v, Err *err) {
    const Config *c = &a->m->cfg;
    const int H = c->n_head, hd = c->head_dim, hv = c->head_dim_v, rot = c->n_rot, nope = hd - rot;
    const int R = c->kv_lora_rank, Rq = c->q_lora_rank;
    grow(a, M);

    /* qraw [M, H * hd] (per head nope, rot) and kva [M, R + rot] from xb [M, E] */
    if (Rq > 0) { /* qraw = rmsnorm(xb Wq_a^T) Wq_b^T */
        MmOut both[2] = {{.y = a->qa, .W = &L->wq_a}, {.y = a->kva, .W = &L->wkv_a}};
        if (mm_run(mm, xb, M, both, 2, err)) return -1;
        rmsnorm_rows(a->qa, a->qa, (size_t)Rq, L->q_a_norm, M, Rq, c->rms_eps);
        MmOut qb = {.y = a->qraw, .W = &L->wq_b};
        if (mm_run(mm, a->qa, M, &qb, 1, err)) return -1;
    } else {
        MmOut both[2] = {{.y = a->qraw, .W = &L->wq}, {.y = a->kva, .W = &L->wkv_a}};
        if (mm_run(mm, xb, M, both, 2, err)) return -1;
    }
    /* lat [M, R]: the latent normed (kv_a_norm) */
    rmsnorm_rows(a->lat, a->kva, (size_t)(R + rot), L->kv_a_norm, M, R, c->rms_eps);

    /* decompressed: kvb [M, H * (nope + hv)] (k_nope and v per head), or the split form's
     * k_nope [M, H * nope] in kvb and v [M, H * hv] straight into the cache */
    int kstride; /* floats between heads' k_nope in kvb */
    if (L->wkv_b.data) {
        MmOut kvb = {.y = a->kvb, .W = &L->wkv_b};
        if (mm_run(mm, a->lat, M, &kvb, 1, err)) return -1;
        kstride = nope + hv;
        for (int i = 0; i < M; i++)
            for (int h = 0; h < H; h++)
                memcpy(v + ((size_t)i * H + h) * hv, a->kvb + (size_t)i * H * kstride + (size_t)h * kstride + nope,
                       (size_t)hv * sizeof(float));
    } else {
        transpose_k_b(a, &L->wk_b);
        const Tensor kbt = {.data = a->kbt, .type = Q_F32, .rows = (int64_t)H * nope, .cols = R,
                            .name = L->wk_b.name};
        MmOut kv[2] = {{.y = a->kvb, .W = &kbt}, {.y = v, .W = &L->wv_b}};
        if (mm_run(mm, a->lat, M, kv, 2, err)) return -1;
        kstride = nope;
    }

    /* q, k [M, H * hd], per head [pe | nope] */
    for (int i = 0; i < M; i++) {
        const float *kpe = a->kva + (size_t)i * (R + rot) + R;
        for (int h = 0; h < H; h++) {
            const float *qs = a->qraw + ((size_t)i * H + h) * hd;
            float *qd = q + ((size_t)i * H + h) * hd, *kd = k + ((size_t)i * H + h) * hd;
            memcpy(qd, qs + nope, (size_t)rot * sizeof(float));
            memcpy(qd + rot, qs, (size_t)nope * sizeof(float));
            memcpy(kd, kpe, (size_t)rot * sizeof(float));
            memcpy(kd + rot, a->kvb + (size_t)i * H * kstride + (size_t)h * kstride, (size_t)nope * sizeof(float));
        }
    }
    return 0;
}
