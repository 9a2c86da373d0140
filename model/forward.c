/* forward: see forward.h. Reads like llama2.c's run.c: the state (struct Forward) and step() — one
 * pass of the transformer from token embeddings to logits — come first, then the small numeric
 * helpers step() calls (RMSNorm, RoPE, softmax, SwiGLU, the one-position attention), then
 * creation, freeing and the public calls.
 * Elsewhere: the weight matmuls and the batched attention, on oneDNN, are model/matmul.c; the
 * conversion of stored weight rows to f32/bf16 is formats/convert.c. */
#include "model/forward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "formats/convert.h"
#include "formats/qtype.h"
#include "model/finite.h"
#include "model/matmul.h"
#include "model/mla.h"
#include "model/moe.h"

/* Positions per internal step: a whole 512-token window is one step, so each weight matrix is
 * converted once per window. Activation buffers grow to the largest step seen (a cold start of
 * one position allocates one row of each). */
#define FWD_MAX_STEP 512
/* Attention through oneDNN (mm_attention) from this many positions per step on; below, the
 * scalar loop here. */
#define ATT_MIN_M 2 /* one position (a cold start): the scalar loop is as fast (measured) and stays the
                     * independent path the tests compare the oneDNN one with */

/* Shapes in the comments: M positions in the step (M <= rows), E = n_embd, F = n_ff,
 * hd = head_dim, qd = n_head * hd, kv_dim = n_head_kv * hd (keys), hv = head_dim_v (hd but in MLA),
 * od = n_head * hv (attention output), vd = n_head_kv * hv (values), half = n_rot / 2. */
struct Forward {
    const Model *m;     /* borrowed: weights and Config */
    Matmul *mm;         /* the matmuls (oneDNN), owned */
    Mla *mla;           /* multi-head latent attention's inputs (model/mla.h), owned; NULL if none */
    Moe *moe;           /* the expert layers' FFN (model/moe.h), owned; NULL for a dense model */
    int n_threads;
    /* KV cache: positions 0 .. pos-1 filled, room for cap */
    float **k_cache;    /* [n_layer] of [cap, kv_dim] keys, after RoPE */
    float **v_cache;    /* [n_layer] of [cap, vd] values */
    int pos, cap;
    /* activations of one step, room for `rows` positions (the largest step so far) */
    int rows;
    float *x;           /* [M, E] residual stream */
    float *xb;          /* [M, E] RMSNorm of x: the input of a block */
    float *xb2;         /* [M, E] output of a block, before the residual add */
    float *q;           /* [M, qd] queries, heads side by side */
    float *att;         /* [M, od] attention output, heads side by side */
    float *hb;          /* [M, F] gate, then act(gate) * up (or act(up) when not gated) */
    float *hb2;         /* [M, F] up */
    float *rcos, *rsin; /* [M, half] RoPE rotation of each position of the step */
    float *rcos_swa, *rsin_swa; /* [M, half] the same with Config.rope_theta_swa (sliding-window
                                 * layers of Gemma 3), or NULL */
    float *scores;      /* [n_threads, cap] attention weights of one (position, head), scalar path */
    void (*softmax)(float *x, int n);                   /* AVX-512 or scalar, picked once */
    void (*swiglu)(float *g, const float *u, size_t n); /* likewise */
    void (*geglu)(float *g, const float *u, size_t n);  /* likewise; u NULL: g = gelu(g) */
    NormKind norm;      /* the family's (model/arch.h): RMSNorm or LayerNorm */
    FwdObserver obs;    /* NULL: none */
    void *obs_ctx;
};

#define OBSERVE(f, l, in, x, M, K) \
    do { if ((f)->obs) (f)->obs((f)->obs_ctx, (l), (in), (x), (M), (K)); } while (0)

static void reserve(Forward *f, int need);
static void grow_rows(Forward *f, int M);
static void rmsnorm(float *o, const float *x, const float *w, int n, float eps);
static void norm_rows(Forward *f, float *o, const float *x, const float *w, const float *b, int M, int E);
static void add_bias(float *y, const float *b, int M, int n);
static void residual_add(const Config *c, float *x, const float *y, size_t n);
static void rope_table(Forward *f, int pos0, int M);
static void rope_table_swa(Forward *f, int pos0, int M);
static void rope(const Config *c, const float *cs, const float *sn, float *vec, int n_heads);
static void attention_scalar(Forward *f, int l, int pos0, int M, const AttnParams *ap);
static void softcap(float *x, size_t n, float cap);

/* ---- the forward pass ---- */

/* One step of M <= FWD_MAX_STEP tokens at positions pos .. pos+M-1. out: logits of rows
 * first .. M-1 ([M - first, n_vocab]), or NULL for none. */
static int step(Forward *f, const int *tok, int M, float *out, int first, Err *err) {
    const Model *m = f->m;
    const Config *c = &m->cfg;
    int E = c->n_embd, hd = c->head_dim, F = c->n_ff, half = c->n_rot / 2;
    int qd = c->n_head * hd, kv_dim = c->n_head_kv * hd, pos0 = f->pos;
    int od = c->n_head * c->head_dim_v, vd = c->n_head_kv * c->head_dim_v;
    reserve(f, pos0 + M);
    grow_rows(f, M);
    rope_table(f, pos0, M); /* rcos, rsin [M, half], for every layer */
    rope_table_swa(f, pos0, M); /* rcos_swa, rsin_swa [M, half], when the windowed layers have their own */

    /* embed: x [M, E], row i = row tok[i] of tok_embd, dequantized */
    size_t rb = qtype_row_bytes(m->tok_embd.type, E);
    for (int i = 0; i < M; i++)
        qdequant_row(m->tok_embd.type, (const uint8_t *)m->tok_embd.data + (size_t)tok[i] * rb,
                     f->x + (size_t)i * E, E);
    if (c->embd_scale > 0) /* Gemma: x *= sqrt(E); granite: embeddings times embedding_multiplier */
        for (size_t j = 0; j < (size_t)M * E; j++) f->x[j] *= c->embd_scale;

    for (int l = 0; l < c->n_layer; l++) {
        const Layer *L = &m->layers[l];
        float *kc = f->k_cache[l] + (size_t)pos0 * kv_dim; /* [M, kv_dim]: this step's rows of the cache */
        float *vc = f->v_cache[l] + (size_t)pos0 * vd;

        /* ---- attention block ---- */
        norm_rows(f, f->xb, f->x, L->attn_norm, L->attn_norm_b, M, E); /* xb [M, E] */
        /* q [M, qd] = xb Wq^T; k [M, kv_dim], v [M, vd] = xb Wk^T, xb Wv^T, straight into the cache */
        OBSERVE(f, l, FWD_IN_QKV, f->xb, M, E);
        if (f->mla) { /* deepseek2: q, k, v per head from the compressed latent, [pe | nope] */
            if (mla_qkv(f->mla, f->mm, L, f->xb, M, f->q, kc, vc, err)) return -1;
        } else {
            MmOut qkv[3] = {{.y = f->q, .W = &L->wq}, {.y = kc, .W = &L->wk}, {.y = vc, .W = &L->wv}};
            if (mm_run(f->mm, f->xb, M, qkv, 3, err)) return -1;
        }
        for (int i = 0; i < M; i++) {
            float *q = f->q + (size_t)i * qd, *k = kc + (size_t)i * kv_dim, *v = vc + (size_t)i * vd;
            if (L->bq) { /* qwen2: biases of q, k, v */
                for (int j = 0; j < qd; j++) q[j] += L->bq[j];
                for (int j = 0; j < kv_dim; j++) k[j] += L->bk[j];
                for (int j = 0; j < vd; j++) v[j] += L->bv[j];
            }
            if (L->q_norm) { /* qwen3: RMSNorm over each head before RoPE */
                for (int h = 0; h < c->n_head; h++) rmsnorm(q + h * hd, q + h * hd, L->q_norm, hd, c->rms_eps);
                for (int h = 0; h < c->n_head_kv; h++) rmsnorm(k + h * hd, k + h * hd, L->k_norm, hd, c->rms_eps);
            }
            /* RoPE: position pos0+i rotates the first n_rot dims of each head of q and k */
            const float *cs = f->rcos + (size_t)i * half, *sn = f->rsin + (size_t)i * half;
            if (L->window > 0 && f->rcos_swa) /* Gemma 3's local base */
                cs = f->rcos_swa + (size_t)i * half, sn = f->rsin_swa + (size_t)i * half;
            rope(c, cs, sn, q, c->n_head);
            rope(c, cs, sn, k, c->n_head_kv);
        }
        /* att [M, od]: per head, softmax(q k^T * scale) v, query i over positions 0 .. pos0+i
         * (the last `window` of them in a sliding-window layer) */
        AttnParams ap = {.scale = c->attn_scale > 0 ? c->attn_scale : 1 / sqrtf((float)hd),
                         .softcap = c->attn_softcap, .window = L->window, .softmax = f->softmax};
        if (M >= ATT_MIN_M) {
            if (mm_attention(f->mm, f->q, f->k_cache[l], f->v_cache[l], pos0, M, &ap, f->att, err))
                return -1;
        } else {
            attention_scalar(f, l, pos0, M, &ap);
        }
        /* output projection xb2 [M, E] = att Wo^T (+ bo), then the residual x += xb2 (times
         * granite's residual_multiplier) */
        OBSERVE(f, l, FWD_IN_WO, f->att, M, od);
        MmOut wo = {.y = f->xb2, .W = &L->wo};
        if (mm_run(f->mm, f->att, M, &wo, 1, err)) return -1;
        if (L->bo) add_bias(f->xb2, L->bo, M, E);
        if (L->attn_post_norm) norm_rows(f, f->xb2, f->xb2, L->attn_post_norm, NULL, M, E); /* Gemma 2/3 */
        residual_add(c, f->x, f->xb2, (size_t)M * E);

        /* ---- FFN block: down(act(gate(xb)) * up(xb)), or down(act(up(xb))) ---- */
        norm_rows(f, f->xb, f->x, L->ffn_norm, L->ffn_norm_b, M, E); /* xb [M, E] */
        OBSERVE(f, l, FWD_IN_GATEUP, f->xb, M, E);
        if (L->moe) { /* an expert layer: xb2 [M, E] = the routed experts' mix (model/moe.h) */
            if (moe_ffn(f->moe, f->mm, L->moe, f->xb, M, f->xb2, f->swiglu, err)) return -1;
            residual_add(c, f->x, f->xb2, (size_t)M * E);
            continue;
        }
        if (c->act == ACT_GELU) { /* hb [M, F] = gelu(xb W_up^T) */
            MmOut up = {.y = f->hb, .W = &L->w_up};
            if (mm_run(f->mm, f->xb, M, &up, 1, err)) return -1;
            if (L->b_up) add_bias(f->hb, L->b_up, M, F); /* starcoder2's c_fc bias */
            f->geglu(f->hb, NULL, (size_t)M * F);
        } else { /* hb, hb2 [M, F] = xb W_gate^T, xb W_up^T; hb = act(hb) * hb2 */
            MmOut gate_up[2] = {{.y = f->hb, .W = &L->w_gate}, {.y = f->hb2, .W = &L->w_up}};
            if (mm_run(f->mm, f->xb, M, gate_up, 2, err)) return -1;
            if (L->b_gate) add_bias(f->hb, L->b_gate, M, F); /* mlp_bias */
            if (L->b_up) add_bias(f->hb2, L->b_up, M, F);
            (c->act == ACT_GELU_GATED ? f->geglu : f->swiglu)(f->hb, f->hb2, (size_t)M * F);
        }
        /* xb2 [M, E] = hb W_down^T (+ b_down), then the residual x += xb2 (scaled likewise) */
        OBSERVE(f, l, FWD_IN_DOWN, f->hb, M, F);
        MmOut down = {.y = f->xb2, .W = &L->w_down};
        if (mm_run(f->mm, f->hb, M, &down, 1, err)) return -1;
        if (L->b_down) add_bias(f->xb2, L->b_down, M, E);
        if (L->ffn_post_norm) norm_rows(f, f->xb2, f->xb2, L->ffn_post_norm, NULL, M, E); /* Gemma 2/3 */
        residual_add(c, f->x, f->xb2, (size_t)M * E);
    }
    f->pos = pos0 + M;
    if (f->obs) { /* the output matrix's input at every position */
        norm_rows(f, f->xb, f->x, m->output_norm, m->output_norm_b, M, E);
        OBSERVE(f, -1, FWD_IN_OUTPUT, f->xb, M, E);
    }
    if (!out || first >= M) return 0;

    /* final norm and the classifier, on the wanted rows only: out [M - first, n_vocab] */
    int rows = M - first;
    norm_rows(f, f->xb, f->x + (size_t)first * E, m->output_norm, m->output_norm_b, rows, E);
    MmOut logits = {.y = out, .W = &m->output};
    if (mm_run(f->mm, f->xb, rows, &logits, 1, err)) return -1;
    if (c->logit_scale > 0) /* granite: logits divided by logits_scaling */
        for (size_t j = 0; j < (size_t)rows * c->n_vocab; j++) out[j] /= c->logit_scale;
    if (c->final_softcap > 0) softcap(out, (size_t)rows * c->n_vocab, c->final_softcap);
    return 0;
}

/* ---- the small ops ---- */

static void rmsnorm(float *o, const float *x, const float *w, int n, float eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float s = (float)(1.0 / sqrt(ss / n + eps));
    for (int i = 0; i < n; i++) o[i] = x[i] * s * w[i];
}

/* LayerNorm: (x - mean) / sqrt(var + eps) * w + b, the variance over n (torch's, ggml_norm's). */
static void layernorm(float *o, const float *x, const float *w, const float *b, int n, float eps) {
    double mean = 0, var = 0;
    for (int i = 0; i < n; i++) mean += x[i];
    mean /= n;
    for (int i = 0; i < n; i++) var += ((double)x[i] - mean) * ((double)x[i] - mean);
    float s = (float)(1.0 / sqrt(var / n + eps)), mu = (float)mean;
    for (int i = 0; i < n; i++) o[i] = (x[i] - mu) * s * w[i] + (b ? b[i] : 0);
}

/* The family's norm of M rows of width E: RMSNorm (b must be NULL) or LayerNorm with bias b. */
static void norm_rows(Forward *f, float *o, const float *x, const float *w, const float *b, int M, int E) {
    float eps = f->m->cfg.rms_eps;
    for (int i = 0; i < M; i++) {
        if (f->norm == NORM_LAYER) layernorm(o + (size_t)i * E, x + (size_t)i * E, w, b, E, eps);
        else rmsnorm(o + (size_t)i * E, x + (size_t)i * E, w, E, eps);
    }
}

/* y [M, n] += b to every row. */
static void add_bias(float *y, const float *b, int M, int n) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < n; j++) y[(size_t)i * n + j] += b[j];
}

/* The residual add x += y, y times granite's residual_multiplier where the family has one. */
static void residual_add(const Config *c, float *x, const float *y, size_t n) {
    if (c->residual_scale > 0)
        for (size_t j = 0; j < n; j++) x[j] += c->residual_scale * y[j];
    else
        for (size_t j = 0; j < n; j++) x[j] += y[j];
}

/* The RoPE rotation (cos, sin of each pair i < n_rot/2) of positions pos0 .. pos0+M-1, once per
 * step for all layers. YaRN and LongRoPE (model/rope_scaling.h) are in rope_freqs and in the
 * attention factor, which scales cos and sin (so the rotated dims of q and k). */
static void rope_table(Forward *f, int pos0, int M) {
    const Config *c = &f->m->cfg;
    int half = c->n_rot / 2;
    double mscale = c->rope_attn_factor > 0 ? c->rope_attn_factor : 1;
    for (int i = 0; i < half; i++) {
        double freq = pow(c->rope_theta, -2.0 * i / c->n_rot);
        if (f->m->rope_freqs) freq /= f->m->rope_freqs[i];
        for (int p = 0; p < M; p++) {
            double a = (double)(pos0 + p) / c->rope_scale * freq;
            f->rcos[(size_t)p * half + i] = (float)(cos(a) * mscale);
            f->rsin[(size_t)p * half + i] = (float)(sin(a) * mscale);
        }
    }
}

/* rope_table for the sliding-window layers of a model whose windowed layers have their own RoPE
 * base (Config.rope_theta_swa > 0: Gemma 3's rope_local_base_freq, which llama.cpp and
 * transformers apply without the global layers' scaling); nothing otherwise. */
static void rope_table_swa(Forward *f, int pos0, int M) {
    const Config *c = &f->m->cfg;
    if (!(c->rope_theta_swa > 0) || !f->rcos_swa) return;
    int half = c->n_rot / 2;
    for (int i = 0; i < half; i++) {
        double freq = pow(c->rope_theta_swa, -2.0 * i / c->n_rot);
        for (int p = 0; p < M; p++) {
            double a = (double)(pos0 + p) * freq;
            f->rcos_swa[(size_t)p * half + i] = (float)cos(a);
            f->rsin_swa[(size_t)p * half + i] = (float)sin(a);
        }
    }
}

/* Rotates the first n_rot dims of each of n_heads heads of vec (head_dim apart) by cs, sn. */
static void rope(const Config *c, const float *cs, const float *sn, float *vec, int n_heads) {
    int half = c->n_rot / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = vec + (size_t)h * c->head_dim;
        for (int i = 0; i < half; i++) {
            int i0 = c->rope == ROPE_NORMAL ? 2 * i : i, i1 = c->rope == ROPE_NORMAL ? 2 * i + 1 : i + half;
            float v0 = v[i0], v1 = v[i1];
            v[i0] = v0 * cs[i] - v1 * sn[i];
            v[i1] = v0 * sn[i] + v1 * cs[i];
        }
    }
}

/* exp(x) for 16 floats: x = n ln2 + r, |r| <= ln2/2, e^r by Cephes' degree-6 polynomial (~1 ulp),
 * times 2^n with vscalefps (which also gives inf above ~88.7 and 0 / denormals below; the clamp
 * keeps r sane for huge |x|). */
#if defined(__x86_64__)
__attribute__((target("avx512f"))) static inline __m512 exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

/* softmax below with exp16: the same arithmetic (max, exp, double sum, one multiply). */
__attribute__((target("avx512f"))) static void softmax_avx512(float *x, int n) {
    __m512 vmx = _mm512_set1_ps(x[0]);
    int i = 0;
    for (; i + 16 <= n; i += 16) vmx = _mm512_max_ps(vmx, _mm512_loadu_ps(x + i));
    float mx = _mm512_reduce_max_ps(vmx);
    for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    const __m512 m = _mm512_set1_ps(mx);
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), m));
        _mm512_storeu_ps(x + i, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1);
        __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), m));
        _mm512_mask_storeu_ps(x + i, k, e);
        e = _mm512_maskz_mov_ps(k, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    const __m512 inv = _mm512_set1_ps((float)(1.0 / _mm512_reduce_add_pd(_mm512_add_pd(s0, s1))));
    for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(x + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), inv));
    }
}

/* g[i] = silu(g[i]) * u[i] = g / (1 + e^-g) * u with exp16. */
__attribute__((target("avx512f"))) static void swiglu_avx512(float *g, const float *u, size_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(g + i);
        __m512 d = _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), x)));
        _mm512_storeu_ps(g + i, _mm512_mul_ps(_mm512_div_ps(x, d), _mm512_loadu_ps(u + i)));
    }
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1);
        __m512 x = _mm512_maskz_loadu_ps(k, g + i);
        __m512 d = _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), x)));
        _mm512_mask_storeu_ps(g + i, k, _mm512_mul_ps(_mm512_div_ps(x, d), _mm512_maskz_loadu_ps(k, u + i)));
    }
}
#endif

static void softmax_scalar(float *x, int n) {
    float mx = x[0];
    for (int i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    double sum = 0;
    for (int i = 0; i < n; i++) x[i] = expf(x[i] - mx), sum += x[i];
    float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= inv;
}

static void swiglu_scalar(float *g, const float *u, size_t n) {
    for (size_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

/* GELU in its tanh form (transformers' gelu_pytorch_tanh, llama.cpp's ggml_gelu):
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); g[i] = gelu(g[i]) * u[i], or gelu(g[i]) when u
 * is NULL. */
static void geglu_scalar(float *g, const float *u, size_t n) {
    const float k = 0.79788456080286535588f; /* sqrt(2 / pi) */
    for (size_t i = 0; i < n; i++) {
        float x = g[i], y = 0.5f * x * (1.0f + tanhf(k * x * (1.0f + 0.044715f * x * x)));
        g[i] = u ? y * u[i] : y;
    }
}

/* x = cap * tanh(x / cap): Gemma 2's soft-capping of the logits. */
static void softcap(float *x, size_t n, float cap) {
    for (size_t i = 0; i < n; i++) x[i] = cap * tanhf(x[i] / cap);
}

/* ---- attention of one position (the batched one is mm_attention) ---- */

/* Causal attention of M queries (positions pos0..pos0+M-1) over the cache of layer l, a scalar
 * loop per (position, head): the cold start's path (one position, a few hundred flops a head). */
static void attention_scalar(Forward *f, int l, int pos0, int M, const AttnParams *ap) {
    const Config *c = &f->m->cfg;
    int hd = c->head_dim, hv = c->head_dim_v, kv_dim = c->n_head_kv * hd, vd = c->n_head_kv * hv;
    int group = c->n_head / c->n_head_kv;
    size_t qd = (size_t)c->n_head * hd, od = (size_t)c->n_head * hv;
    const float *kc = f->k_cache[l], *vc = f->v_cache[l];
    int work = M * c->n_head;
    /* threads only for more than ~64k multiply-adds (a parallel region costs microseconds, and a
     * scheduler slice when the machine is busy) */
#ifdef _OPENMP
    int par = work > 1 && (double)M * c->n_head * (pos0 + M) * hd > (1 << 16);
#pragma omp parallel for num_threads(f->n_threads) schedule(static) if (par)
#endif
    for (int wi = 0; wi < work; wi++) {
        int i = wi / c->n_head, h = wi % c->n_head, t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        int lo = attn_first_key(ap, pos0 + i), n = pos0 + i + 1 - lo; /* positions lo .. lo+n-1 */
        const float *q = f->q + (size_t)i * qd + (size_t)h * hd;
        float *sc = f->scores + (size_t)t * f->cap;
        const float *k = kc + (size_t)lo * kv_dim + (size_t)(h / group) * hd;
        for (int p = 0; p < n; p++) {
            float s = 0;
            for (int d = 0; d < hd; d++) s += q[d] * k[(size_t)p * kv_dim + d];
            sc[p] = attn_score(ap, s);
        }
        f->softmax(sc, n);
        float *o = f->att + (size_t)i * od + (size_t)h * hv;
        memset(o, 0, (size_t)hv * sizeof(float));
        const float *v = vc + (size_t)lo * vd + (size_t)(h / group) * hv;
        for (int p = 0; p < n; p++) {
            float a = sc[p];
            for (int d = 0; d < hv; d++) o[d] += a * v[(size_t)p * vd + d];
        }
    }
}

/* ---- state ---- */

int fwd_threads(void) { return mm_threads(); }

int fwd_cpu_has_bf16(void) {
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp) return 0;
    char line[8192];
    int yes = 0;
    while (!yes && fgets(line, sizeof line, fp))
        if (!strncmp(line, "flags", 5)) yes = strstr(line, " avx512_bf16") || strstr(line, " amx_bf16");
    fclose(fp);
    return yes;
}

const char *fwd_kernel(const Forward *f) { return mm_kernel(f->mm); }
int fwd_pos(const Forward *f) { return f->pos; }
void fwd_rewind(Forward *f, int pos) {
    if (pos >= 0 && pos < f->pos) f->pos = pos;
}

const MoeStats *fwd_moe_stats(const Forward *f) { return f->moe ? moe_stats(f->moe) : NULL; }
int fwd_moe_picked(const Forward *f, int layer, int expert) {
    return f->moe && moe_last_picked(f->moe, layer, expert);
}

void fwd_set_observer(Forward *f, FwdObserver fn, void *ctx) {
    f->obs = fn;
    f->obs_ctx = ctx;
}

Forward *fwd_new(const Model *m, Compute compute, Err *err) {
    const Config *c = &m->cfg;
    Forward *f = xcalloc(1, sizeof *f);
    f->m = m;
    f->norm = arch_info(c->arch)->norm;
    f->softmax = softmax_scalar;
    f->swiglu = swiglu_scalar;
    f->geglu = geglu_scalar;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) f->softmax = softmax_avx512, f->swiglu = swiglu_avx512;
#endif
    f->n_threads = fwd_threads();
    if (!(f->mm = mm_new(m, compute == COMPUTE_BF16, err))) {
        free(f);
        return NULL;
    }
    f->mla = mla_new(m);
    if (c->moe.n_expert > 0) f->moe = moe_new(m);
    f->k_cache = xcalloc((size_t)c->n_layer, sizeof *f->k_cache);
    f->v_cache = xcalloc((size_t)c->n_layer, sizeof *f->v_cache);
    return f;
}

void fwd_free(Forward *f) {
    if (!f) return;
    mm_free(f->mm);
    mla_free(f->mla);
    moe_free(f->moe);
    if (f->k_cache)
        for (int l = 0; l < f->m->cfg.n_layer; l++) free(f->k_cache[l]), free(f->v_cache[l]);
    free(f->k_cache);
    free(f->v_cache);
    free(f->x), free(f->xb), free(f->xb2), free(f->q), free(f->att), free(f->hb), free(f->hb2);
    free(f->rcos), free(f->rsin), free(f->scores);
    free(f->rcos_swa), free(f->rsin_swa);
    free(f);
}

/* Makes room for positions up to need-1 in the cache. */
static void reserve(Forward *f, int need) {
    if (need <= f->cap) return;
    int cap = f->cap ? f->cap : 64;
    while (cap < need) cap *= 2;
    const Config *c = &f->m->cfg;
    size_t kv = (size_t)c->n_head_kv * c->head_dim, vd = (size_t)c->n_head_kv * c->head_dim_v;
    for (int l = 0; l < c->n_layer; l++) {
        f->k_cache[l] = xrealloc(f->k_cache[l], (size_t)cap * kv * sizeof(float));
        f->v_cache[l] = xrealloc(f->v_cache[l], (size_t)cap * vd * sizeof(float));
    }
    f->scores = xrealloc(f->scores, (size_t)f->n_threads * cap * sizeof(float));
    f->cap = cap;
}

/* Makes the activation buffers hold M rows (the contents need not survive: a step fills them). */
static void grow_rows(Forward *f, int M) {
    if (M <= f->rows) return;
    const Config *c = &f->m->cfg;
    size_t B = (size_t)M, qd = (size_t)c->n_head * c->head_dim, half = (size_t)(c->n_rot / 2);
    size_t od = (size_t)c->n_head * c->head_dim_v;
    free(f->x), free(f->xb), free(f->xb2), free(f->q), free(f->att), free(f->hb), free(f->hb2);
    free(f->rcos), free(f->rsin);
    f->x = xmalloc_aligned(B * c->n_embd * sizeof(float));
    f->xb = xmalloc_aligned(B * c->n_embd * sizeof(float));
    f->xb2 = xmalloc_aligned(B * c->n_embd * sizeof(float));
    f->q = xmalloc_aligned(B * qd * sizeof(float));
    f->att = xmalloc_aligned(B * od * sizeof(float));
    f->hb = xmalloc_aligned(B * c->n_ff * sizeof(float));
    f->hb2 = xmalloc_aligned(B * c->n_ff * sizeof(float));
    f->rcos = xmalloc((B * half + 1) * sizeof(float));
    f->rsin = xmalloc((B * half + 1) * sizeof(float));
    free(f->rcos_swa), free(f->rsin_swa);
    f->rcos_swa = f->rsin_swa = NULL;
    if (c->rope_theta_swa > 0) {
        f->rcos_swa = xmalloc((B * half + 1) * sizeof(float));
        f->rsin_swa = xmalloc((B * half + 1) * sizeof(float));
    }
    f->rows = M;
}

/* ---- evaluation ---- */

int fwd_eval_last(Forward *f, const int *tokens, int n, int n_out, float *logits, Err *err) {
    const Config *c = &f->m->cfg;
    if (n < 1) return err_set(err, "%s: no tokens to evaluate", f->m->path);
    if (logits && (n_out < 0 || n_out > n))
        return err_set(err, "%s: %d logit rows asked of %d positions", f->m->path, n_out, n);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c->n_vocab)
            return err_set(err, "%s: token id %d is outside the vocabulary (0..%d)", f->m->path,
                           tokens[i], c->n_vocab - 1);
    if (n > (1 << 30) - f->pos) return err_set(err, "%s: sequence too long", f->m->path);
    int from = n - (logits ? n_out : 0); /* the first position whose logits are wanted */
    int pos0 = f->pos;
    for (int i = 0; i < n; i += FWD_MAX_STEP) {
        int M = n - i < FWD_MAX_STEP ? n - i : FWD_MAX_STEP;
        int first = from > i ? from - i : 0; /* row of this step where the wanted ones start */
        float *out = logits && first < M ? logits + (size_t)(i + first - from) * c->n_vocab : NULL;
        if (step(f, tokens + i, M, out, first, err)) return -1;
    }
    /* NaN or Inf weights (or an overflow) must not come out as a result: a probability of 0 or an
     * entropy of 0 nats computed from NaN. One scan of the logits; the weights are searched for
     * the culprit only when a logit is bad. */
    size_t total = logits ? (size_t)n_out * c->n_vocab : 0, bad = first_nonfinite(logits, total);
    if (bad < total)
        return model_nonfinite_error(f->m, pos0 + from + (int)(bad / c->n_vocab), (int)(bad % c->n_vocab),
                                     logits[bad], err);
    return 0;
}

int fwd_eval(Forward *f, const int *tokens, int n, float *logits, int all, Err *err) {
    return fwd_eval_last(f, tokens, n, all ? n : 1, logits, err);
}

void fwd_dequant_rows(const Tensor *W, int64_t r0, int n, float *out) {
    if (W->hq.method != HQ_NONE) {
        hq_rows_f32(&W->hq, r0, n, out);
        return;
    }
    Convert cv;
    convert_init(&cv);
    const uint8_t *src = (const uint8_t *)W->data + (size_t)r0 * qtype_row_bytes(W->type, W->cols);
    convert_rows_f32(&cv, W->type, src, n, W->cols, out);
}
