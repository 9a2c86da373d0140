/* forward: see forward.h. Reads top to bottom like llama2.c's forward(): embed, then per layer
 * attention and FFN blocks with residuals, then the classifier. The matmul machinery (panels,
 * conversion, oneDNN primitives) is at the top. */
#include "model/forward.h"

#include <dnnl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "quant/quant.h"

#define MAX_BATCH 32              /* positions per internal step (activation scratch is sized by it) */
#define PANEL_BYTES (256u << 10)  /* converted weights per panel: well inside a 1-2 MiB L2 */
#define MAX_THREADS 256

/* ---- weight conversion into panels ---- */

#if defined(__x86_64__)
/* F16 -> F32 with F16C/AVX-512 (the conversion is exact, so it equals fp16_to_f32 bit for bit). */
__attribute__((target("avx512f"))) static void f16_to_f32_avx512(const uint16_t *s, float *d, int64_t n) {
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 a = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + i)));
        __m512 b = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + i + 16)));
        __m512 c = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + i + 32)));
        __m512 e = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + i + 48)));
        _mm512_storeu_ps(d + i, a);
        _mm512_storeu_ps(d + i + 16, b);
        _mm512_storeu_ps(d + i + 32, c);
        _mm512_storeu_ps(d + i + 48, e);
    }
    for (; i < n; i++) d[i] = fp16_to_f32(s[i]);
}

__attribute__((target("f16c,avx"))) static void f16_to_f32_f16c(const uint16_t *s, float *d, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i))));
    for (; i < n; i++) d[i] = fp16_to_f32(s[i]);
}

/* Q8_0 rows (blocks of 34 bytes: fp16 d, 32 int8 q) -> f32: y = q * d, one float multiply per
 * value as in ggml's dequantize_row_q8_0, hence bit-identical to qdequant_row. */
__attribute__((target("avx512f"))) static void q8_0_to_f32_avx512(const uint8_t *s, float *d, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++, s += 34, d += 32) {
        uint16_t h;
        memcpy(&h, s, 2);
        __m512 scale = _mm512_set1_ps(fp16_to_f32(h));
        __m512i lo = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(s + 2)));
        __m512i hi = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(s + 18)));
        _mm512_storeu_ps(d, _mm512_mul_ps(_mm512_cvtepi32_ps(lo), scale));
        _mm512_storeu_ps(d + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(hi), scale));
    }
}

/* Q5_0 (22-byte blocks: fp16 d, 32 high bits qh, 16 bytes of low nibbles):
 * y = (q - 16) * d, as ggml's dequantize_row_q5_0. */
__attribute__((target("avx512f"))) static void q5_0_to_f32_avx512(const uint8_t *s, float *d, int64_t n) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i lane16 = _mm512_add_epi32(lane, _mm512_set1_epi32(16));
    const __m512i low4 = _mm512_set1_epi32(0xF), one = _mm512_set1_epi32(1), sixteen = _mm512_set1_epi32(16);
    for (int64_t b = 0; b < n / 32; b++, s += 22, d += 32) {
        uint16_t h;
        uint32_t qh;
        memcpy(&h, s, 2);
        memcpy(&qh, s + 2, 4);
        __m512 scale = _mm512_set1_ps(fp16_to_f32(h));
        __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(s + 6)));
        __m512i bits = _mm512_set1_epi32((int)qh);
        __m512i h0 = _mm512_slli_epi32(_mm512_and_si512(_mm512_srlv_epi32(bits, lane), one), 4);
        __m512i h1 = _mm512_slli_epi32(_mm512_and_si512(_mm512_srlv_epi32(bits, lane16), one), 4);
        __m512i x0 = _mm512_sub_epi32(_mm512_or_si512(_mm512_and_si512(q, low4), h0), sixteen);
        __m512i x1 = _mm512_sub_epi32(_mm512_or_si512(_mm512_srli_epi32(q, 4), h1), sixteen);
        _mm512_storeu_ps(d, _mm512_mul_ps(_mm512_cvtepi32_ps(x0), scale));
        _mm512_storeu_ps(d + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(x1), scale));
    }
}

/* ggml's get_scale_min_k4: the 6-bit scale and min of sub-block j of a Q4_K/Q5_K block. */
static void k4_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* Q4_K (144-byte super-blocks of 256: fp16 d, fp16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes
 * of nibbles): y = (d * sc) * q - (dmin * m), a multiply then a subtract, as ggml's. */
__attribute__((target("avx512f"))) static void q4_k_to_f32_avx512(const uint8_t *s, float *y, int64_t n) {
    const __m512i low4 = _mm512_set1_epi32(0xF);
    for (int64_t b = 0; b < n / 256; b++, s += 144) {
        uint16_t hd, hm;
        memcpy(&hd, s, 2);
        memcpy(&hm, s + 2, 2);
        const float d = fp16_to_f32(hd), min = fp16_to_f32(hm);
        const uint8_t *scales = s + 4, *q = s + 16;
        for (int j = 0; j < 4; j++, q += 32) {
            uint8_t sc, m;
            k4_scale_min(2 * j, scales, &sc, &m);
            const __m512 d1 = _mm512_set1_ps(d * sc), m1 = _mm512_set1_ps(min * m);
            k4_scale_min(2 * j + 1, scales, &sc, &m);
            const __m512 d2 = _mm512_set1_ps(d * sc), m2 = _mm512_set1_ps(min * m);
            for (int h = 0; h < 2; h++) {
                __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(q + 16 * h)));
                __m512 lo = _mm512_cvtepi32_ps(_mm512_and_si512(v, low4));
                __m512 hi = _mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4));
                _mm512_storeu_ps(y + 16 * h, _mm512_sub_ps(_mm512_mul_ps(d1, lo), m1));
                _mm512_storeu_ps(y + 32 + 16 * h, _mm512_sub_ps(_mm512_mul_ps(d2, hi), m2));
            }
            y += 64;
        }
    }
}
#endif

static void f16_to_f32_scalar(const uint16_t *s, float *d, int64_t n) {
    for (int64_t i = 0; i < n; i++) d[i] = fp16_to_f32(s[i]);
}

typedef void (*F16Conv)(const uint16_t *, float *, int64_t);
typedef void (*RowConv)(const uint8_t *, float *, int64_t);

static F16Conv pick_f16_conv(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return f16_to_f32_avx512;
    /* every AVX2 CPU has F16C (and clang's __builtin_cpu_supports does not know "f16c") */
    if (__builtin_cpu_supports("avx2")) return f16_to_f32_f16c;
#endif
    return f16_to_f32_scalar;
}

/* The SIMD dequantizer of a block type (whole rows at once), or NULL for qdequant_row. */
static RowConv pick_row_conv(uint32_t type) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) return NULL;
    switch (type) {
    case Q_Q8_0: return q8_0_to_f32_avx512;
    case Q_Q5_0: return q5_0_to_f32_avx512;
    case Q_Q4_K: return q4_k_to_f32_avx512;
    default: return NULL;
    }
#else
    (void)type;
    return NULL;
#endif
}

/* bf16 -> f32 is a shift; the compiler vectorizes this loop. */
static void bf16_to_f32_rows(const uint16_t *s, float *d, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)s[i] << 16;
        memcpy(&d[i], &u, 4);
    }
}

/* f32 -> bf16, round to nearest even (NaN kept quiet): ggml's and oneDNN's rounding. */
static void f32_to_bf16_scalar(const float *s, uint16_t *d, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &s[i], 4);
        if ((u & 0x7fffffff) > 0x7f800000) d[i] = (uint16_t)((u >> 16) | 64);
        else d[i] = (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }
}

typedef void (*Bf16Conv)(const float *, uint16_t *, int64_t);

#if defined(__x86_64__)
/* The same with AVX512-BF16's vcvtneps2bf16 (round to nearest even; it flushes denormals, which
 * the scalar version keeps: a difference of at most one bf16 denormal, in the approximate mode). */
__attribute__((target("avx512f,avx512bf16"))) static void f32_to_bf16_avx512(const float *s, uint16_t *d, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(s + i));
        _mm256_storeu_si256((__m256i *)(d + i), (__m256i)h);
    }
    f32_to_bf16_scalar(s + i, d + i, n - i);
}

/* F16 -> bf16 in one pass (vcvtph2ps then vcvtneps2bf16), for bf16 mode on F16 weights. */
__attribute__((target("avx512f,avx512bf16"))) static void f16_to_bf16_avx512(const uint16_t *s, uint16_t *d, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + i)));
        _mm256_storeu_si256((__m256i *)(d + i), (__m256i)_mm512_cvtneps_pbh(x));
    }
    for (; i < n; i++) {
        float x = fp16_to_f32(s[i]);
        f32_to_bf16_scalar(&x, d + i, 1);
    }
}
#endif

static Bf16Conv pick_bf16_conv(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bf16")) return f32_to_bf16_avx512;
#endif
    return f32_to_bf16_scalar;
}

/* ---- oneDNN matmul primitives: y[M, R] (row stride ldc) = x[M, K] . P[R, K]^T ---- */

typedef struct {
    int M, K, R, ldc, bf16;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t src_md, wei_md, dst_md, pad_md;
    size_t pad_bytes;
    dnnl_memory_t (*mem)[4]; /* [n_threads]: src, weights, dst, scratchpad, re-pointed per call */
    void **pad;              /* [n_threads] scratchpad buffers (pad_bytes each) */
} Prim;

typedef struct {
    dnnl_stream_t stream;
    void *panel;       /* PANEL_BYTES (+ slack) of converted weights */
    float *row;        /* one dequantized row, for bf16 mode's two-step conversion */
} Worker;

struct Forward {
    const Model *m;
    Compute compute;
    dnnl_engine_t engine;
    Prim **prims; /* created once per shape, kept until fwd_free */
    int n_prims;
    Worker w[MAX_THREADS];
    int n_threads;
    F16Conv f16conv;
    Bf16Conv bf16conv;
    RowConv rowconv[Q_COUNT_MAX]; /* per type; NULL: the generic qdequant_row */
    char kernel[128];
    /* KV cache, per layer [cap][kv_dim] */
    float **k_cache, **v_cache;
    int pos, cap;
    /* activations for up to MAX_BATCH positions */
    float *x;      /* [B, n_embd] residual stream */
    float *xb;     /* [B, n_embd] normalized input of a block */
    float *xb2;    /* [B, n_embd] block output before the residual add */
    float *q;      /* [B, n_head * head_dim] */
    float *att;    /* [B, n_head * head_dim] attention output (heads concatenated) */
    float *hb;     /* [B, n_ff] gate, then silu(gate) * up */
    float *hb2;    /* [B, n_ff] up */
    float *scores; /* [n_threads][cap] attention weights of one (position, head) */
    uint16_t *xbf; /* [B, max(n_embd, n_ff, q_dim)] activations rounded to bf16 */
    FwdObserver obs; /* NULL: none */
    void *obs_ctx;
};

void fwd_set_observer(Forward *f, FwdObserver fn, void *ctx) {
    f->obs = fn;
    f->obs_ctx = ctx;
}

#define OBSERVE(f, l, in, x, M, K) \
    do { if ((f)->obs) (f)->obs((f)->obs_ctx, (l), (in), (x), (M), (K)); } while (0)

static int dnnl_fail(Err *err, const char *what, dnnl_status_t s) {
    return err_set(err, "oneDNN: %s failed (status %d)", what, (int)s);
}

static const Prim *get_prim(Forward *f, int M, int K, int R, int ldc, Err *err) {
    int bf16 = f->compute == COMPUTE_BF16;
    for (int i = 0; i < f->n_prims; i++) {
        const Prim *p = f->prims[i];
        if (p->M == M && p->K == K && p->R == R && p->ldc == ldc && p->bf16 == bf16) return p;
    }
    Prim p = {.M = M, .K = K, .R = R, .ldc = ldc, .bf16 = bf16};
    dnnl_data_type_t in = bf16 ? dnnl_bf16 : dnnl_f32;
    dnnl_dims_t sd = {M, K}, ss = {K, 1}, wd = {K, R}, ws = {1, K}, dd = {M, R}, ds = {ldc, 1};
    dnnl_status_t s;
    if ((s = dnnl_memory_desc_init_by_strides(&p.src_md, 2, sd, in, ss)) ||
        (s = dnnl_memory_desc_init_by_strides(&p.wei_md, 2, wd, in, ws)) ||
        (s = dnnl_memory_desc_init_by_strides(&p.dst_md, 2, dd, dnnl_f32, ds))) {
        dnnl_fail(err, "memory descriptor", s);
        return NULL;
    }
    dnnl_matmul_desc_t md;
    if ((s = dnnl_matmul_desc_init(&md, &p.src_md, &p.wei_md, NULL, &p.dst_md))) {
        dnnl_fail(err, "matmul descriptor", s);
        return NULL;
    }
    dnnl_primitive_attr_t attr;
    int gemm_chosen = 0;
    dnnl_primitive_attr_create(&attr);
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    /* Implementation: oneDNN's own first choice here (brgemm) repacks the transposed weights on
     * every call and reads an L2-resident panel at ~30 GB/s (f32) / ~25 GB/s (bf16); its
     * gemm-based matmul reads it 3x faster. So take "gemm:*" when offered, else the first. */
    dnnl_primitive_desc_iterator_t it;
    s = dnnl_primitive_desc_iterator_create(&it, &md, attr, f->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (s) {
        err_set(err, "oneDNN: no %s matmul for M=%d K=%d N=%d (status %d)", bf16 ? "bf16" : "f32", M,
                K, R, (int)s);
        return NULL;
    }
    dnnl_primitive_desc_t pd = NULL;
    do {
        dnnl_primitive_desc_t cand = dnnl_primitive_desc_iterator_fetch(it);
        const char *name = NULL;
        if (!cand) continue;
        dnnl_primitive_desc_query(cand, dnnl_query_impl_info_str, 0, &name);
        int gemm = name && !strncmp(name, "gemm:", 5);
        if (!pd || (gemm && !gemm_chosen)) {
            if (pd) dnnl_primitive_desc_destroy(pd);
            pd = cand;
            gemm_chosen = gemm;
        } else {
            dnnl_primitive_desc_destroy(cand);
        }
    } while (!gemm_chosen && dnnl_primitive_desc_iterator_next(it) == dnnl_success);
    dnnl_primitive_desc_iterator_destroy(it);
    if (!pd) {
        err_set(err, "oneDNN: no %s matmul for M=%d K=%d N=%d", bf16 ? "bf16" : "f32", M, K, R);
        return NULL;
    }
    const dnnl_memory_desc_t *pad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (pad) p.pad_md = *pad;
    p.pad_bytes = pad ? dnnl_memory_desc_get_size(pad) : 0;
    const char *impl = NULL;
    if (!f->kernel[0] && dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success)
        snprintf(f->kernel, sizeof f->kernel, "oneDNN %s (%s)", bf16 ? "bf16" : "f32", impl);
    s = dnnl_primitive_create(&p.prim, pd);
    dnnl_primitive_desc_destroy(pd);
    if (s) {
        dnnl_fail(err, "primitive creation", s);
        return NULL;
    }
    Prim *np = xmalloc(sizeof *np);
    *np = p;
    np->mem = xcalloc((size_t)f->n_threads, sizeof *np->mem);
    np->pad = xcalloc((size_t)f->n_threads, sizeof *np->pad);
    f->prims = xrealloc(f->prims, (size_t)(f->n_prims + 1) * sizeof *f->prims);
    f->prims[f->n_prims++] = np;
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

/* Runs primitive p on thread t's memory objects (made on first use), pointed at this call's
 * buffers. */
static dnnl_status_t run_prim(Forward *f, int t, const Prim *p, const void *src, const void *wei,
                              float *dst) {
    dnnl_status_t s;
    dnnl_memory_t *mem = p->mem[t];
    if (!mem[0]) {
        if ((s = dnnl_memory_create(&mem[0], &p->src_md, f->engine, DNNL_MEMORY_NONE)) ||
            (s = dnnl_memory_create(&mem[1], &p->wei_md, f->engine, DNNL_MEMORY_NONE)) ||
            (s = dnnl_memory_create(&mem[2], &p->dst_md, f->engine, DNNL_MEMORY_NONE)))
            return s;
        if (p->pad_bytes) {
            p->pad[t] = aligned_alloc(64, (p->pad_bytes + 63) & ~(size_t)63);
            if (!p->pad[t]) return dnnl_out_of_memory;
            if ((s = dnnl_memory_create(&mem[3], &p->pad_md, f->engine, p->pad[t]))) return s;
        }
    }
    dnnl_memory_set_data_handle(mem[0], (void *)src);
    dnnl_memory_set_data_handle(mem[1], (void *)wei);
    dnnl_memory_set_data_handle(mem[2], dst);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, mem[0]}, {DNNL_ARG_WEIGHTS, mem[1]},
                               {DNNL_ARG_DST, mem[2]}, {DNNL_ARG_SCRATCHPAD, mem[3]}};
    s = dnnl_primitive_execute(p->prim, f->w[t].stream, p->pad_bytes ? 4 : 3, args);
    if (s == dnnl_success) s = dnnl_stream_wait(f->w[t].stream);
    return s;
}

/* n rows of W starting at src, dequantized to f32 into d ([n, cols]). */
static void rows_to_f32(F16Conv f16conv, RowConv conv, const Tensor *W, const uint8_t *src, int n,
                        float *d) {
    int64_t K = W->cols;
    size_t rb = qtype_row_bytes(W->type, K);
    if (W->type == Q_F32) memcpy(d, src, (size_t)n * K * sizeof(float));
    else if (W->type == Q_F16) f16conv((const uint16_t *)src, d, (int64_t)n * K);
    else if (W->type == Q_BF16) bf16_to_f32_rows((const uint16_t *)src, d, (int64_t)n * K);
    else if (conv) conv(src, d, (int64_t)n * K); /* rows are whole blocks: one run */
    else
        for (int i = 0; i < n; i++) qdequant_row(W->type, src + (size_t)i * rb, d + (size_t)i * K, K);
}

void fwd_dequant_rows(const Tensor *W, int64_t r0, int n, float *out) {
    const uint8_t *src = (const uint8_t *)W->data + (size_t)r0 * qtype_row_bytes(W->type, W->cols);
    rows_to_f32(pick_f16_conv(), pick_row_conv(W->type), W, src, n, out);
}

/* Rows r0..r0+n of W converted for the matmul. Returns a pointer to [n, K] values in the compute
 * type: the mapping itself when no conversion is needed, else the worker's panel. */
static const void *convert_panel(Forward *f, Worker *w, const Tensor *W, int64_t r0, int n) {
    int64_t K = W->cols;
    size_t rb = qtype_row_bytes(W->type, K);
    const uint8_t *src = (const uint8_t *)W->data + (size_t)r0 * rb;
    if (f->compute == COMPUTE_F32) {
        if (W->type == Q_F32) return src;
        rows_to_f32(f->f16conv, f->rowconv[W->type], W, src, n, w->panel);
        return w->panel;
    }
    /* bf16: through f32 one row at a time (the row stays in L1) */
    uint16_t *d = w->panel;
    if (W->type == Q_BF16) return src;
#if defined(__x86_64__)
    if (W->type == Q_F16 && f->bf16conv == f32_to_bf16_avx512) {
        f16_to_bf16_avx512((const uint16_t *)src, d, (int64_t)n * K);
        return d;
    }
#endif
    for (int i = 0; i < n; i++) {
        const uint8_t *s = src + (size_t)i * rb;
        const float *row = (const float *)s;
        if (W->type != Q_F32) rows_to_f32(f->f16conv, f->rowconv[W->type], W, s, 1, w->row), row = w->row;
        f->bf16conv(row, d + (size_t)i * K, K);
    }
    return d;
}

/* Converts and multiplies panels p0, p0+step, ... on thread t's worker. */
static dnnl_status_t run_panels(Forward *f, int t, const Tensor *W, const void *src, float *y,
                                int n_panels, int R, int last, const Prim *full, const Prim *tail) {
    dnnl_status_t status = dnnl_success;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int p = 0; p < n_panels; p++) {
        int rows = p == n_panels - 1 ? last : R;
        const void *wei = convert_panel(f, &f->w[t], W, (int64_t)p * R, rows);
        dnnl_status_t s = run_prim(f, t, rows == R ? full : tail, src, wei, y + (size_t)p * R);
        if (s != dnnl_success) status = s;
    }
    return status;
}

/* y[M, N] = x[M, K] . W[N, K]^T for a weight matrix of any block type. */
static int matmul(Forward *f, float *y, const float *x, int M, const Tensor *W, Err *err) {
    int K = (int)W->cols, N = (int)W->rows;
    int esize = f->compute == COMPUTE_BF16 ? 2 : 4;
    /* Threads: a matrix under SMALL_WORK bytes converted is not worth waking another thread for;
     * a larger one gets at least one panel per thread. */
    const size_t SMALL_WORK = 64u << 10;
    int T = (size_t)N * K * esize < SMALL_WORK ? 1 : f->n_threads;
    /* rows per panel: the largest power of two whose panel fits PANEL_BYTES (and leaves a panel
     * for every thread), so real models' dims (multiples of 64) split into equal panels and few
     * primitive shapes exist */
    int R = 1;
    while ((size_t)2 * R * K * esize <= PANEL_BYTES && 2 * R * T <= N) R *= 2;
    int n_panels = (N + R - 1) / R, last = N - (n_panels - 1) * R;
    if (T > n_panels) T = n_panels;
    /* one row: the output stride does not matter, so every matrix with this K shares a shape */
    int ldc = M == 1 ? R : N;
    const Prim *full = get_prim(f, M, K, R, ldc, err);
    const Prim *tail = full && last != R ? get_prim(f, M, K, last, M == 1 ? last : N, err) : full;
    if (!full || !tail) return -1;
    const void *src = x;
    if (f->compute == COMPUTE_BF16) {
        f->bf16conv(x, f->xbf, (int64_t)M * K);
        src = f->xbf;
    }
    dnnl_status_t status = dnnl_success;
    if (T == 1) {
        /* on this thread alone, and oneDNN too: left to itself it would open a parallel region
         * of its own for every call (and, inside an inactive region of ours, new threads) */
#ifdef _OPENMP
        int saved = omp_get_max_threads();
        omp_set_num_threads(1);
#endif
        status = run_panels(f, 0, W, src, y, n_panels, R, last, full, tail);
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
            dnnl_status_t s = run_panels(f, omp_get_thread_num(), W, src, y, n_panels, R, last, full, tail);
            if (s != dnnl_success) {
#pragma omp critical
                status = s;
            }
        }
#endif
    }
    if (status != dnnl_success) return dnnl_fail(err, "matmul execution", status);
    return 0;
}

/* ---- the small ops ---- */

static void rmsnorm(float *o, const float *x, const float *w, int n, float eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float s = (float)(1.0 / sqrt(ss / n + eps));
    for (int i = 0; i < n; i++) o[i] = x[i] * s * w[i];
}

/* Rotates the first n_rot dims of each of n_heads heads of vec (head_dim apart) for position pos. */
static void rope(const Config *c, const float *freqs, float *vec, int n_heads, int pos) {
    int half = c->n_rot / 2;
    for (int i = 0; i < half; i++) {
        double freq = pow(c->rope_theta, -2.0 * i / c->n_rot);
        if (freqs) freq /= freqs[i];
        double a = (double)pos / c->rope_scale * freq;
        float cs = (float)cos(a), sn = (float)sin(a);
        for (int h = 0; h < n_heads; h++) {
            float *v = vec + (size_t)h * c->head_dim;
            int i0 = c->rope == ROPE_NORMAL ? 2 * i : i, i1 = c->rope == ROPE_NORMAL ? 2 * i + 1 : i + half;
            float v0 = v[i0], v1 = v[i1];
            v[i0] = v0 * cs - v1 * sn;
            v[i1] = v0 * sn + v1 * cs;
        }
    }
}

static void softmax(float *x, int n) {
    float mx = x[0];
    for (int i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    double sum = 0;
    for (int i = 0; i < n; i++) x[i] = expf(x[i] - mx), sum += x[i];
    float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= inv;
}

/* ---- state ---- */

int fwd_threads(void) {
#ifdef _OPENMP
    int n = omp_get_max_threads();
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
#else
    return 1;
#endif
}

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

const char *fwd_kernel(const Forward *f) { return f->kernel[0] ? f->kernel : "oneDNN (not run yet)"; }
int fwd_pos(const Forward *f) { return f->pos; }
void fwd_rewind(Forward *f, int pos) {
    if (pos >= 0 && pos < f->pos) f->pos = pos;
}

Forward *fwd_new(const Model *m, Compute compute, Err *err) {
    const Config *c = &m->cfg;
    Forward *f = xcalloc(1, sizeof *f);
    f->m = m;
    f->compute = compute;
    f->f16conv = pick_f16_conv();
    f->bf16conv = pick_bf16_conv();
    for (uint32_t t = 0; t < Q_COUNT_MAX; t++) f->rowconv[t] = pick_row_conv(t);
    f->n_threads = fwd_threads();
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
    dnnl_status_t s = dnnl_engine_create(&f->engine, dnnl_cpu, 0);
    if (s) {
        dnnl_fail(err, "engine creation", s);
        free(f);
        return NULL;
    }
    int64_t widest = c->n_embd > c->n_ff ? c->n_embd : c->n_ff;
    if ((int64_t)c->n_head * c->head_dim > widest) widest = (int64_t)c->n_head * c->head_dim;
    for (int t = 0; t < f->n_threads; t++) {
        Worker *w = &f->w[t];
        if ((s = dnnl_stream_create(&w->stream, f->engine, dnnl_stream_default_flags))) {
            dnnl_fail(err, "stream creation", s);
            fwd_free(f);
            return NULL;
        }
        /* a panel holds at least one row, however wide */
        size_t bytes = PANEL_BYTES > (size_t)widest * 4 ? PANEL_BYTES : (size_t)widest * 4;
        w->panel = aligned_alloc(64, bytes + 64);
        w->row = xmalloc((size_t)widest * sizeof(float));
        if (!w->panel) {
            err_set(err, "out of memory for matmul panels");
            fwd_free(f);
            return NULL;
        }
    }
    f->k_cache = xcalloc((size_t)c->n_layer, sizeof *f->k_cache);
    f->v_cache = xcalloc((size_t)c->n_layer, sizeof *f->v_cache);
    size_t B = MAX_BATCH, qd = (size_t)c->n_head * c->head_dim;
    f->x = xmalloc(B * c->n_embd * sizeof(float));
    f->xb = xmalloc(B * c->n_embd * sizeof(float));
    f->xb2 = xmalloc(B * c->n_embd * sizeof(float));
    f->q = xmalloc(B * qd * sizeof(float));
    f->att = xmalloc(B * qd * sizeof(float));
    f->hb = xmalloc(B * c->n_ff * sizeof(float));
    f->hb2 = xmalloc(B * c->n_ff * sizeof(float));
    f->xbf = xmalloc(B * (size_t)widest * sizeof(uint16_t));
    return f;
}

void fwd_free(Forward *f) {
    if (!f) return;
    for (int t = 0; t < f->n_threads; t++) {
        Worker *w = &f->w[t];
        if (w->stream) dnnl_stream_destroy(w->stream);
        free(w->panel);
        free(w->row);
    }
    for (int i = 0; i < f->n_prims; i++) free_prim(f->prims[i], f->n_threads);
    free(f->prims);
    if (f->k_cache)
        for (int l = 0; l < f->m->cfg.n_layer; l++) free(f->k_cache[l]), free(f->v_cache[l]);
    free(f->k_cache);
    free(f->v_cache);
    free(f->x), free(f->xb), free(f->xb2), free(f->q), free(f->att), free(f->hb), free(f->hb2);
    free(f->scores), free(f->xbf);
    if (f->engine) dnnl_engine_destroy(f->engine);
    free(f);
}

/* Makes room for positions up to need-1 in the cache. */
static void reserve(Forward *f, int need) {
    if (need <= f->cap) return;
    int cap = f->cap ? f->cap : 64;
    while (cap < need) cap *= 2;
    const Config *c = &f->m->cfg;
    size_t kv = (size_t)c->n_head_kv * c->head_dim;
    for (int l = 0; l < c->n_layer; l++) {
        f->k_cache[l] = xrealloc(f->k_cache[l], (size_t)cap * kv * sizeof(float));
        f->v_cache[l] = xrealloc(f->v_cache[l], (size_t)cap * kv * sizeof(float));
    }
    f->scores = xrealloc(f->scores, (size_t)f->n_threads * cap * sizeof(float));
    f->cap = cap;
}

/* ---- the forward pass ---- */

/* Causal attention of M queries (positions pos0..pos0+M-1) over the cache of layer l. */
static void attention(Forward *f, int l, int pos0, int M) {
    const Config *c = &f->m->cfg;
    int hd = c->head_dim, kv_dim = c->n_head_kv * hd, group = c->n_head / c->n_head_kv;
    size_t qd = (size_t)c->n_head * hd;
    const float *kc = f->k_cache[l], *vc = f->v_cache[l];
    float scale = 1.0f / sqrtf((float)hd);
    int work = M * c->n_head;
#ifdef _OPENMP
#pragma omp parallel for num_threads(f->n_threads) schedule(static) if (work > 1 && pos0 + M > 64)
#endif
    for (int wi = 0; wi < work; wi++) {
        int i = wi / c->n_head, h = wi % c->n_head, t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        int n = pos0 + i + 1; /* positions this query sees */
        const float *q = f->q + (size_t)i * qd + (size_t)h * hd;
        float *sc = f->scores + (size_t)t * f->cap;
        const float *k = kc + (size_t)(h / group) * hd;
        for (int p = 0; p < n; p++) {
            float s = 0;
            for (int d = 0; d < hd; d++) s += q[d] * k[(size_t)p * kv_dim + d];
            sc[p] = s * scale;
        }
        softmax(sc, n);
        float *o = f->att + (size_t)i * qd + (size_t)h * hd;
        memset(o, 0, (size_t)hd * sizeof(float));
        const float *v = vc + (size_t)(h / group) * hd;
        for (int p = 0; p < n; p++) {
            float a = sc[p];
            for (int d = 0; d < hd; d++) o[d] += a * v[(size_t)p * kv_dim + d];
        }
    }
}

/* One step of at most MAX_BATCH tokens. out: logits of every position ([M][n_vocab]) when all,
 * else of the last one; NULL for none. */
static int step(Forward *f, const int *tok, int M, float *out, int all, Err *err) {
    const Model *m = f->m;
    const Config *c = &m->cfg;
    int E = c->n_embd, hd = c->head_dim, F = c->n_ff;
    int qd = c->n_head * hd, kv_dim = c->n_head_kv * hd, pos0 = f->pos;
    reserve(f, pos0 + M);

    /* token embeddings: one row of tok_embd each, dequantized */
    size_t rb = qtype_row_bytes(m->tok_embd.type, E);
    for (int i = 0; i < M; i++)
        qdequant_row(m->tok_embd.type, (const uint8_t *)m->tok_embd.data + (size_t)tok[i] * rb,
                     f->x + (size_t)i * E, E);

    for (int l = 0; l < c->n_layer; l++) {
        const Layer *L = &m->layers[l];
        float *kc = f->k_cache[l] + (size_t)pos0 * kv_dim; /* [M, kv_dim] rows of this step */
        float *vc = f->v_cache[l] + (size_t)pos0 * kv_dim;

        /* attention block */
        for (int i = 0; i < M; i++) rmsnorm(f->xb + (size_t)i * E, f->x + (size_t)i * E, L->attn_norm, E, c->rms_eps);
        OBSERVE(f, l, FWD_IN_QKV, f->xb, M, E);
        if (matmul(f, f->q, f->xb, M, &L->wq, err) || matmul(f, kc, f->xb, M, &L->wk, err) ||
            matmul(f, vc, f->xb, M, &L->wv, err))
            return -1;
        for (int i = 0; i < M; i++) {
            float *q = f->q + (size_t)i * qd, *k = kc + (size_t)i * kv_dim, *v = vc + (size_t)i * kv_dim;
            if (L->bq) {
                for (int j = 0; j < qd; j++) q[j] += L->bq[j];
                for (int j = 0; j < kv_dim; j++) k[j] += L->bk[j], v[j] += L->bv[j];
            }
            if (L->q_norm) { /* qwen3: RMSNorm over each head before RoPE */
                for (int h = 0; h < c->n_head; h++) rmsnorm(q + h * hd, q + h * hd, L->q_norm, hd, c->rms_eps);
                for (int h = 0; h < c->n_head_kv; h++) rmsnorm(k + h * hd, k + h * hd, L->k_norm, hd, c->rms_eps);
            }
            rope(c, m->rope_freqs, q, c->n_head, pos0 + i);
            rope(c, m->rope_freqs, k, c->n_head_kv, pos0 + i);
        }
        attention(f, l, pos0, M);
        OBSERVE(f, l, FWD_IN_WO, f->att, M, qd);
        if (matmul(f, f->xb2, f->att, M, &L->wo, err)) return -1;
        for (size_t j = 0; j < (size_t)M * E; j++) f->x[j] += f->xb2[j];

        /* FFN block: down(silu(gate(h)) * up(h)) */
        for (int i = 0; i < M; i++) rmsnorm(f->xb + (size_t)i * E, f->x + (size_t)i * E, L->ffn_norm, E, c->rms_eps);
        OBSERVE(f, l, FWD_IN_GATEUP, f->xb, M, E);
        if (matmul(f, f->hb, f->xb, M, &L->w_gate, err) || matmul(f, f->hb2, f->xb, M, &L->w_up, err))
            return -1;
        for (size_t j = 0; j < (size_t)M * F; j++) {
            float g = f->hb[j];
            f->hb[j] = g / (1.0f + expf(-g)) * f->hb2[j];
        }
        OBSERVE(f, l, FWD_IN_DOWN, f->hb, M, F);
        if (matmul(f, f->xb2, f->hb, M, &L->w_down, err)) return -1;
        for (size_t j = 0; j < (size_t)M * E; j++) f->x[j] += f->xb2[j];
    }
    f->pos = pos0 + M;
    if (f->obs) { /* the output matrix's input at every position */
        for (int i = 0; i < M; i++) rmsnorm(f->xb + (size_t)i * E, f->x + (size_t)i * E, m->output_norm, E, c->rms_eps);
        OBSERVE(f, -1, FWD_IN_OUTPUT, f->xb, M, E);
    }
    if (!out) return 0;

    /* classifier on the wanted rows */
    int first = all ? 0 : M - 1, rows = M - first;
    for (int i = first; i < M; i++) rmsnorm(f->xb + (size_t)(i - first) * E, f->x + (size_t)i * E, m->output_norm, E, c->rms_eps);
    return matmul(f, out, f->xb, rows, &m->output, err);
}

int fwd_eval(Forward *f, const int *tokens, int n, float *logits, int all, Err *err) {
    const Config *c = &f->m->cfg;
    if (n < 1) return err_set(err, "%s: no tokens to evaluate", f->m->path);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c->n_vocab)
            return err_set(err, "%s: token id %d is outside the vocabulary (0..%d)", f->m->path,
                           tokens[i], c->n_vocab - 1);
    if (n > (1 << 30) - f->pos) return err_set(err, "%s: sequence too long", f->m->path);
    for (int i = 0; i < n; i += MAX_BATCH) {
        int M = n - i < MAX_BATCH ? n - i : MAX_BATCH, last = i + M == n;
        float *out = NULL;
        if (logits && all) out = logits + (size_t)i * c->n_vocab;
        else if (logits && last) out = logits;
        if (step(f, tokens + i, M, out, all, err)) return -1;
    }
    return 0;
}
