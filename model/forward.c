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

#include "formats/qtype.h"
#include "formats/kquant.h"

/* Positions per internal step: a whole 512-token window is one step, so each weight matrix is
 * converted once per window. Activation buffers grow to the largest step seen (a cold start of
 * one position allocates one row of each). */
#define FWD_MAX_STEP 512
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
/* Attention through oneDNN from this many positions per step on (below: the scalar loop), in
 * blocks of ATT_BLOCK query rows (a block only multiplies the keys its last row sees). */
#define ATT_MIN_M 2 /* one position (a cold start): the scalar loop is as fast (measured) and stays the
                     * independent path the tests compare the oneDNN one with */
#define ATT_BLOCK 64 /* attention time at 512 positions: 64 and 128 equal, 32 8% and 256 19% slower */
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

#define RT DNNL_RUNTIME_DIM_VAL

typedef struct {
    int M, K, R, ldc, bf16; /* M == 0: M given at run time */
    dnnl_primitive_t prim;
    dnnl_memory_desc_t src_md, wei_md, dst_md, pad_md;
    size_t pad_bytes;
    dnnl_memory_t (*mem)[4]; /* [n_threads]: src, weights, dst, scratchpad, re-pointed per call */
    void **pad;              /* [n_threads] scratchpad buffers (pad_bytes each) */
} Prim;

typedef struct {
    dnnl_stream_t stream;
    void *panel;       /* PANEL_BYTES (+ slack) of converted weights */
    void *big;         /* big_bytes of converted weights for M > 1 (allocated on first use) */
    size_t big_bytes;
    float *row;        /* one dequantized row, for bf16 mode's two-step conversion */
    float *s;          /* [ATT_BLOCK][s_cap] attention scores of one block of rows (on first use) */
    size_t s_cap;
} Worker;

struct Forward {
    const Model *m;
    Compute compute;
    dnnl_engine_t engine;
    Prim **prims; /* created once per shape, kept until fwd_free */
    int n_prims;
    dnnl_primitive_t att_qk, att_pv; /* attention matmuls with run-time dims (on first use) */
    Worker w[MAX_THREADS];
    int n_threads;
    F16Conv f16conv;
    Bf16Conv bf16conv;
    RowConv rowconv[Q_COUNT_MAX]; /* per type; NULL: the generic qdequant_row */
    void (*softmax)(float *x, int n);                      /* AVX-512 or scalar, picked once */
    void (*swiglu)(float *g, const float *u, size_t n);
    char kernel[128];
    /* KV cache, per layer [cap][kv_dim] */
    float **k_cache, **v_cache;
    int pos, cap;
    /* activations of one step, B = rows (the largest step so far) */
    int rows;
    float *x;      /* [B, n_embd] residual stream */
    float *xb;     /* [B, n_embd] normalized input of a block */
    float *xb2;    /* [B, n_embd] block output before the residual add */
    float *q;      /* [B, n_head * head_dim] */
    float *att;    /* [B, n_head * head_dim] attention output (heads concatenated) */
    float *hb;     /* [B, n_ff] gate, then silu(gate) * up */
    float *hb2;    /* [B, n_ff] up */
    float *rcos, *rsin; /* [B, n_rot / 2] RoPE rotation of each position of the step */
    uint16_t *xbf; /* [B, max(n_embd, n_ff, q_dim)] activations rounded to bf16 */
    float *scores; /* [n_threads][cap] attention weights of one (position, head), scalar path */
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

/* A 2-D memory descriptor [rows, cols] with the given strides (RT: given at run time). */
static dnnl_status_t md2(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, int64_t rs, int64_t cs,
                         dnnl_data_type_t t) {
    dnnl_dims_t d = {rows, cols}, s = {rs, cs};
    return dnnl_memory_desc_init_by_strides(md, 2, d, t, s);
}

/* The primitive descriptor of a matmul: oneDNN's gemm-based implementation when it offers one
 * (see get_prim), else its first choice; NULL with *err set when there is none. */
static dnnl_primitive_desc_t pick_matmul(Forward *f, const dnnl_memory_desc_t *src,
                                         const dnnl_memory_desc_t *wei, const dnnl_memory_desc_t *dst,
                                         int user_pad, Err *err) {
    dnnl_matmul_desc_t md;
    dnnl_status_t s = dnnl_matmul_desc_init(&md, src, wei, NULL, dst);
    if (s) {
        dnnl_fail(err, "matmul descriptor", s);
        return NULL;
    }
    dnnl_primitive_attr_t attr;
    dnnl_primitive_attr_create(&attr);
    if (user_pad) dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_primitive_desc_iterator_t it;
    s = dnnl_primitive_desc_iterator_create(&it, &md, attr, f->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (s) {
        dnnl_fail(err, "matmul implementation search", s);
        return NULL;
    }
    dnnl_primitive_desc_t pd = NULL;
    int gemm_chosen = 0;
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
    if (!pd) err_set(err, "oneDNN: no matmul implementation");
    return pd;
}

/* The primitive for y[M, R] (row stride ldc) = x[M, K] . P[R, K]^T; M 0 means any M (given at
 * run time). */
static const Prim *get_prim(Forward *f, int M, int K, int R, int ldc, Err *err) {
    int bf16 = f->compute == COMPUTE_BF16;
    for (int i = 0; i < f->n_prims; i++) {
        const Prim *p = f->prims[i];
        if (p->M == M && p->K == K && p->R == R && p->ldc == ldc && p->bf16 == bf16) return p;
    }
    Prim p = {.M = M, .K = K, .R = R, .ldc = ldc, .bf16 = bf16};
    dnnl_data_type_t in = bf16 ? dnnl_bf16 : dnnl_f32;
    int64_t rows = M ? M : RT;
    dnnl_status_t s;
    if ((s = md2(&p.src_md, rows, K, K, 1, in)) || (s = md2(&p.wei_md, K, R, 1, K, in)) ||
        (s = md2(&p.dst_md, rows, R, ldc, 1, dnnl_f32))) {
        dnnl_fail(err, "memory descriptor", s);
        return NULL;
    }
    /* Implementation: oneDNN's own first choice for one row (brgemm) repacks the transposed
     * weights on every call and reads an L2-resident panel at ~30 GB/s (f32) / ~25 GB/s (bf16);
     * its gemm-based matmul reads it 3x faster. With many rows, gemm on a panel runs as fast as
     * brgemm on the whole matrix (and brgemm offers no run-time M). So take "gemm:*". */
    dnnl_primitive_desc_t pd = pick_matmul(f, &p.src_md, &p.wei_md, &p.dst_md, 1, err);
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

/* Runs a primitive with src, weights, dst (and scratchpad) on thread t's stream. */
static dnnl_status_t exec(Forward *f, int t, dnnl_primitive_t prim, dnnl_memory_t src,
                          dnnl_memory_t wei, dnnl_memory_t dst, dnnl_memory_t pad) {
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst},
                               {DNNL_ARG_SCRATCHPAD, pad}};
    dnnl_status_t s = dnnl_primitive_execute(prim, f->w[t].stream, pad ? 4 : 3, args);
    return s == dnnl_success ? dnnl_stream_wait(f->w[t].stream) : s;
}

/* Runs primitive p for M rows on thread t's memory objects (made on first use), pointed at this
 * call's buffers. A run-time-M primitive gets src and dst objects of this M, made per call (a
 * memory object costs ~0.2 us, nothing next to a big-M panel). */
static dnnl_status_t run_prim(Forward *f, int t, const Prim *p, int M, const void *src, const void *wei,
                              float *dst) {
    dnnl_status_t s;
    dnnl_memory_t *mem = p->mem[t];
    if (!mem[1]) {
        if ((s = dnnl_memory_create(&mem[1], &p->wei_md, f->engine, DNNL_MEMORY_NONE))) return s;
        if (p->M && ((s = dnnl_memory_create(&mem[0], &p->src_md, f->engine, DNNL_MEMORY_NONE)) ||
                     (s = dnnl_memory_create(&mem[2], &p->dst_md, f->engine, DNNL_MEMORY_NONE))))
            return s;
        if (p->pad_bytes) {
            p->pad[t] = aligned_alloc(64, (p->pad_bytes + 63) & ~(size_t)63);
            if (!p->pad[t]) return dnnl_out_of_memory;
            if ((s = dnnl_memory_create(&mem[3], &p->pad_md, f->engine, p->pad[t]))) return s;
        }
    }
    dnnl_memory_set_data_handle(mem[1], (void *)wei);
    if (p->M) {
        dnnl_memory_set_data_handle(mem[0], (void *)src);
        dnnl_memory_set_data_handle(mem[2], dst);
        return exec(f, t, p->prim, mem[0], mem[1], mem[2], mem[3]);
    }
    dnnl_memory_desc_t smd, dmd;
    dnnl_memory_t sm = NULL, dm = NULL;
    if (!(s = md2(&smd, M, p->K, p->K, 1, p->bf16 ? dnnl_bf16 : dnnl_f32)) &&
        !(s = md2(&dmd, M, p->R, p->ldc, 1, dnnl_f32)) &&
        !(s = dnnl_memory_create(&sm, &smd, f->engine, (void *)src)) &&
        !(s = dnnl_memory_create(&dm, &dmd, f->engine, dst)))
        s = exec(f, t, p->prim, sm, mem[1], dm, mem[3]);
    if (sm) dnnl_memory_destroy(sm);
    if (dm) dnnl_memory_destroy(dm);
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

/* Rows r0..r0+n of W converted for the matmul into buf. Returns a pointer to [n, K] values in the
 * compute type: the mapping itself when no conversion is needed, else buf. */
static const void *convert_panel(Forward *f, Worker *w, void *buf, const Tensor *W, int64_t r0, int n) {
    int64_t K = W->cols;
    size_t rb = qtype_row_bytes(W->type, K);
    const uint8_t *src = (const uint8_t *)W->data + (size_t)r0 * rb;
    if (f->compute == COMPUTE_F32) {
        if (W->type == Q_F32) return src;
        rows_to_f32(f->f16conv, f->rowconv[W->type], W, src, n, buf);
        return buf;
    }
    /* bf16: through f32 one row at a time (the row stays in L1) */
    uint16_t *d = buf;
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

/* How a matrix is cut: n_panels panels of R rows (the last one `last` rows), on T threads. */
typedef struct {
    int R, last, n_panels, T;
    const Prim *full, *tail;
} Plan;

/* One matmul of a group that shares its input: y[M, N] = x . W[N, K]^T. */
typedef struct {
    float *y;
    const Tensor *W;
    Plan pl;
} Job;

/* Converts and multiplies the panels of a group of matmuls on thread t's worker: the panels of
 * all jobs, in order, shared out by an omp for (one parallel region and one barrier per group). */
static dnnl_status_t run_panels(Forward *f, int t, const Job *jobs, int n_jobs, int total, const void *src,
                                int M) {
    dnnl_status_t status = dnnl_success;
    Worker *w = &f->w[t];
    void *buf = w->panel;
    if (M > 1) {
        size_t need = 0, es = f->compute == COMPUTE_BF16 ? 2 : 4;
        for (int j = 0; j < n_jobs; j++) {
            size_t bytes = (size_t)jobs[j].pl.R * jobs[j].W->cols * es;
            if (bytes > need) need = bytes;
        }
        if (need > w->big_bytes) {
            free(w->big);
            w->big = aligned_alloc(64, (need + 63) & ~(size_t)63);
            w->big_bytes = w->big ? need : 0;
            if (!w->big) status = dnnl_out_of_memory;
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
        const void *wei = convert_panel(f, w, buf, jobs[j].W, (int64_t)p * pl->R, rows);
        dnnl_status_t s = run_prim(f, t, rows == pl->R ? pl->full : pl->tail, M, src, wei,
                                   jobs[j].y + (size_t)p * pl->R);
        if (s != dnnl_success) status = s;
    }
    return status;
}

/* The panels of W [N, K] for an M-row matmul. */
static int plan(Forward *f, int M, const Tensor *W, Plan *pl, Err *err) {
    int K = (int)W->cols, N = (int)W->rows;
    int esize = f->compute == COMPUTE_BF16 ? 2 : 4;
    int T = f->n_threads, R = 1;
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
    /* one row: the output stride does not matter, so every matrix with this K shares a shape;
     * more rows: M is given at run time (primitive 0) */
    int pm = M == 1 ? 1 : 0;
    pl->full = get_prim(f, pm, K, R, M == 1 ? R : N, err);
    pl->tail = pl->full && pl->last != R ? get_prim(f, pm, K, pl->last, M == 1 ? pl->last : N, err) : pl->full;
    return pl->full && pl->tail ? 0 : -1;
}

/* The matmul input x [M, K] in the compute type: x itself (f32), or rounded to bf16 in f->xbf.
 * Matmuls that share an input convert it once. */
static const void *mm_input(Forward *f, const float *x, int M, int K) {
    if (f->compute != COMPUTE_BF16) return x;
    f->bf16conv(x, f->xbf, (int64_t)M * K);
    return f->xbf;
}

/* The matmuls y_j[M, N_j] = x[M, K] . W_j[N_j, K]^T of jobs[0..n) (weight matrices of any block
 * type; src is mm_input(x)). */
static int matmuls(Forward *f, Job *jobs, int n, const void *src, int M, Err *err) {
    int total = 0, T = 1;
    for (int j = 0; j < n; j++) {
        if (plan(f, M, jobs[j].W, &jobs[j].pl, err)) return -1;
        total += jobs[j].pl.n_panels;
        if (jobs[j].pl.T > T) T = jobs[j].pl.T;
    }
    dnnl_status_t status = dnnl_success;
    if (T == 1) {
        /* on this thread alone, and oneDNN too: left to itself it would open a parallel region
         * of its own for every call (and, inside an inactive region of ours, new threads) */
#ifdef _OPENMP
        int saved = omp_get_max_threads();
        omp_set_num_threads(1);
#endif
        status = run_panels(f, 0, jobs, n, total, src, M);
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
            dnnl_status_t s = run_panels(f, omp_get_thread_num(), jobs, n, total, src, M);
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

static int matmul(Forward *f, float *y, const void *src, int M, const Tensor *W, Err *err) {
    Job j = {.y = y, .W = W};
    return matmuls(f, &j, 1, src, M, err);
}

/* ---- the small ops ---- */

static void rmsnorm(float *o, const float *x, const float *w, int n, float eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float s = (float)(1.0 / sqrt(ss / n + eps));
    for (int i = 0; i < n; i++) o[i] = x[i] * s * w[i];
}

/* RMSNorm of M rows of width E. */
static void rmsnorm_rows(Forward *f, float *o, const float *x, const float *w, int M, int E) {
    float eps = f->m->cfg.rms_eps;
    for (int i = 0; i < M; i++) rmsnorm(o + (size_t)i * E, x + (size_t)i * E, w, E, eps);
}

/* The RoPE rotation (cos, sin of each pair i < n_rot/2) of positions pos0 .. pos0+M-1, once per
 * step for all layers. */
static void rope_table(Forward *f, int pos0, int M) {
    const Config *c = &f->m->cfg;
    int half = c->n_rot / 2;
    for (int i = 0; i < half; i++) {
        double freq = pow(c->rope_theta, -2.0 * i / c->n_rot);
        if (f->m->rope_freqs) freq /= f->m->rope_freqs[i];
        for (int p = 0; p < M; p++) {
            double a = (double)(pos0 + p) / c->rope_scale * freq;
            f->rcos[(size_t)p * half + i] = (float)cos(a);
            f->rsin[(size_t)p * half + i] = (float)sin(a);
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

/* The widest activation row: max(n_embd, n_ff, n_head * head_dim). */
static int64_t widest(const Config *c) {
    int64_t w = c->n_embd > c->n_ff ? c->n_embd : c->n_ff;
    return (int64_t)c->n_head * c->head_dim > w ? (int64_t)c->n_head * c->head_dim : w;
}

Forward *fwd_new(const Model *m, Compute compute, Err *err) {
    const Config *c = &m->cfg;
    Forward *f = xcalloc(1, sizeof *f);
    f->m = m;
    f->compute = compute;
    f->f16conv = pick_f16_conv();
    f->bf16conv = pick_bf16_conv();
    for (uint32_t t = 0; t < Q_COUNT_MAX; t++) f->rowconv[t] = pick_row_conv(t);
    f->softmax = softmax_scalar;
    f->swiglu = swiglu_scalar;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) f->softmax = softmax_avx512, f->swiglu = swiglu_avx512;
#endif
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
    int64_t wide = widest(c);
    for (int t = 0; t < f->n_threads; t++) {
        Worker *w = &f->w[t];
        if ((s = dnnl_stream_create(&w->stream, f->engine, dnnl_stream_default_flags))) {
            dnnl_fail(err, "stream creation", s);
            fwd_free(f);
            return NULL;
        }
        /* a panel holds at least one row, however wide */
        size_t bytes = PANEL_BYTES > (size_t)wide * 4 ? PANEL_BYTES : (size_t)wide * 4;
        w->panel = aligned_alloc(64, bytes + 64);
        w->row = xmalloc((size_t)wide * sizeof(float));
        if (!w->panel) {
            err_set(err, "out of memory for matmul panels");
            fwd_free(f);
            return NULL;
        }
    }
    f->k_cache = xcalloc((size_t)c->n_layer, sizeof *f->k_cache);
    f->v_cache = xcalloc((size_t)c->n_layer, sizeof *f->v_cache);
    return f;
}

void fwd_free(Forward *f) {
    if (!f) return;
    for (int t = 0; t < f->n_threads; t++) {
        Worker *w = &f->w[t];
        if (w->stream) dnnl_stream_destroy(w->stream);
        free(w->panel);
        free(w->big);
        free(w->row);
        free(w->s);
    }
    for (int i = 0; i < f->n_prims; i++) free_prim(f->prims[i], f->n_threads);
    free(f->prims);
    if (f->att_qk) dnnl_primitive_destroy(f->att_qk);
    if (f->att_pv) dnnl_primitive_destroy(f->att_pv);
    if (f->k_cache)
        for (int l = 0; l < f->m->cfg.n_layer; l++) free(f->k_cache[l]), free(f->v_cache[l]);
    free(f->k_cache);
    free(f->v_cache);
    free(f->x), free(f->xb), free(f->xb2), free(f->q), free(f->att), free(f->hb), free(f->hb2);
    free(f->rcos), free(f->rsin), free(f->scores), free(f->xbf);
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

/* Makes the activation buffers hold M rows (the contents need not survive: a step fills them). */
static void grow_rows(Forward *f, int M) {
    if (M <= f->rows) return;
    const Config *c = &f->m->cfg;
    size_t B = (size_t)M, qd = (size_t)c->n_head * c->head_dim, half = (size_t)(c->n_rot / 2);
    free(f->x), free(f->xb), free(f->xb2), free(f->q), free(f->att), free(f->hb), free(f->hb2);
    free(f->rcos), free(f->rsin), free(f->xbf);
    f->x = xmalloc(B * c->n_embd * sizeof(float));
    f->xb = xmalloc(B * c->n_embd * sizeof(float));
    f->xb2 = xmalloc(B * c->n_embd * sizeof(float));
    f->q = xmalloc(B * qd * sizeof(float));
    f->att = xmalloc(B * qd * sizeof(float));
    f->hb = xmalloc(B * c->n_ff * sizeof(float));
    f->hb2 = xmalloc(B * c->n_ff * sizeof(float));
    f->rcos = xmalloc((B * half + 1) * sizeof(float));
    f->rsin = xmalloc((B * half + 1) * sizeof(float));
    f->xbf = xmalloc(B * (size_t)widest(c) * sizeof(uint16_t));
    f->rows = M;
}

/* ---- attention ---- */

/* Causal attention of M queries (positions pos0..pos0+M-1) over the cache of layer l, a scalar
 * loop per (position, head): the cold start's path (one position, a few hundred flops a head). */
static void attention_scalar(Forward *f, int l, int pos0, int M) {
    const Config *c = &f->m->cfg;
    int hd = c->head_dim, kv_dim = c->n_head_kv * hd, group = c->n_head / c->n_head_kv;
    size_t qd = (size_t)c->n_head * hd;
    const float *kc = f->k_cache[l], *vc = f->v_cache[l];
    float scale = 1.0f / sqrtf((float)hd);
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
        int n = pos0 + i + 1; /* positions this query sees */
        const float *q = f->q + (size_t)i * qd + (size_t)h * hd;
        float *sc = f->scores + (size_t)t * f->cap;
        const float *k = kc + (size_t)(h / group) * hd;
        for (int p = 0; p < n; p++) {
            float s = 0;
            for (int d = 0; d < hd; d++) s += q[d] * k[(size_t)p * kv_dim + d];
            sc[p] = s * scale;
        }
        f->softmax(sc, n);
        float *o = f->att + (size_t)i * qd + (size_t)h * hd;
        memset(o, 0, (size_t)hd * sizeof(float));
        const float *v = vc + (size_t)(h / group) * hd;
        for (int p = 0; p < n; p++) {
            float a = sc[p];
            for (int d = 0; d < hd; d++) o[d] += a * v[(size_t)p * kv_dim + d];
        }
    }
}

/* The two attention matmuls, with run-time dims (rows, keys), made on first use:
 *   qk: S[mb, nb] (row stride nb) = Q_h[mb, hd] (row stride qd) . K_h[nb, hd]^T (row stride kv_dim)
 *   pv: O_h[mb, hd] (row stride qd) = S[mb, nb] . V_h[nb, hd] (row stride kv_dim)
 * K_h and V_h are read in place from the cache. */
static int attention_prims(Forward *f, Err *err) {
    if (f->att_pv) return 0;
    const Config *c = &f->m->cfg;
    int64_t hd = c->head_dim, qd = (int64_t)c->n_head * hd, kv_dim = (int64_t)c->n_head_kv * hd;
    dnnl_memory_desc_t q, k, s, v, o;
    dnnl_dims_t sd = {RT, RT};
    dnnl_status_t st;
    if ((st = md2(&q, RT, hd, qd, 1, dnnl_f32)) || (st = md2(&k, hd, RT, 1, kv_dim, dnnl_f32)) ||
        (st = dnnl_memory_desc_init_by_tag(&s, 2, sd, dnnl_f32, dnnl_ab)) ||
        (st = md2(&v, RT, hd, kv_dim, 1, dnnl_f32)) || (st = md2(&o, RT, hd, qd, 1, dnnl_f32)))
        return dnnl_fail(err, "attention memory descriptor", st);
    dnnl_primitive_desc_t pd = pick_matmul(f, &q, &k, &s, 0, err);
    if (!pd) return -1;
    st = dnnl_primitive_create(&f->att_qk, pd);
    dnnl_primitive_desc_destroy(pd);
    if (st) return dnnl_fail(err, "attention primitive creation", st);
    if (!(pd = pick_matmul(f, &s, &v, &o, 0, err))) return -1;
    st = dnnl_primitive_create(&f->att_pv, pd);
    dnnl_primitive_desc_destroy(pd);
    if (st) return dnnl_fail(err, "attention primitive creation", st);
    return 0;
}

/* Runs y[rows, cols] = a[rows, inner] . b[inner, cols] with primitive prim on thread t, each
 * operand given by pointer and row stride (b of qk by column stride: it is K_h transposed). */
static dnnl_status_t att_exec(Forward *f, int t, dnnl_primitive_t prim, int64_t rows, int64_t inner,
                              int64_t cols, const float *a, int64_t lda, const float *b, int64_t bs0,
                              int64_t bs1, float *y, int64_t ldy) {
    dnnl_memory_desc_t am, bm, ym;
    dnnl_memory_t ao = NULL, bo = NULL, yo = NULL;
    dnnl_status_t s;
    if (!(s = md2(&am, rows, inner, lda, 1, dnnl_f32)) && !(s = md2(&bm, inner, cols, bs0, bs1, dnnl_f32)) &&
        !(s = md2(&ym, rows, cols, ldy, 1, dnnl_f32)) &&
        !(s = dnnl_memory_create(&ao, &am, f->engine, (void *)a)) &&
        !(s = dnnl_memory_create(&bo, &bm, f->engine, (void *)b)) &&
        !(s = dnnl_memory_create(&yo, &ym, f->engine, y)))
        s = exec(f, t, prim, ao, bo, yo, NULL);
    if (ao) dnnl_memory_destroy(ao);
    if (bo) dnnl_memory_destroy(bo);
    if (yo) dnnl_memory_destroy(yo);
    return s;
}

/* One (head, block of query rows) of attention_dnnl on thread t. */
static dnnl_status_t attend_block(Forward *f, int t, int l, int pos0, int h, int i0, int mb) {
    const Config *c = &f->m->cfg;
    int hd = c->head_dim, kv_dim = c->n_head_kv * hd, group = c->n_head / c->n_head_kv;
    int qd = c->n_head * hd, nb = pos0 + i0 + mb; /* keys the block's last row sees */
    const float *k = f->k_cache[l] + (size_t)(h / group) * hd, *v = f->v_cache[l] + (size_t)(h / group) * hd;
    float *S = f->w[t].s, scale = 1.0f / sqrtf((float)hd);
    dnnl_status_t s = att_exec(f, t, f->att_qk, mb, hd, nb, f->q + (size_t)i0 * qd + (size_t)h * hd, qd,
                               k, 1, kv_dim, S, nb);
    if (s != dnnl_success) return s;
    for (int r = 0; r < mb; r++) {
        float *row = S + (size_t)r * nb;
        int n = pos0 + i0 + r + 1; /* keys row r sees; the rest of the row weighs 0 */
        for (int p = 0; p < n; p++) row[p] *= scale;
        f->softmax(row, n);
        memset(row + n, 0, (size_t)(nb - n) * sizeof(float));
    }
    return att_exec(f, t, f->att_pv, mb, nb, hd, S, nb, v, kv_dim, 1,
                    f->att + (size_t)i0 * qd + (size_t)h * hd, qd);
}

/* Causal attention of M queries through oneDNN: per head and block of ATT_BLOCK query rows,
 * S = Q K^T over the keys the block's last row sees, scaled, masked, row softmax, O = S V.
 * The (head, block) items are shared by the threads, oneDNN single-threaded inside. */
static int attention_dnnl(Forward *f, int l, int pos0, int M, Err *err) {
    const Config *c = &f->m->cfg;
    if (attention_prims(f, err)) return -1;
    size_t need = (size_t)ATT_BLOCK * (size_t)(pos0 + M);
    for (int t = 0; t < f->n_threads; t++)
        if (f->w[t].s_cap < need) {
            free(f->w[t].s);
            f->w[t].s = xmalloc(need * sizeof(float));
            f->w[t].s_cap = need;
        }
    int n_blocks = (M + ATT_BLOCK - 1) / ATT_BLOCK, work = n_blocks * c->n_head;
    dnnl_status_t status = dnnl_success;
#ifdef _OPENMP
    int T = (double)M * (pos0 + M) * c->n_head * c->head_dim < (1 << 19) ? 1 : f->n_threads;
    int saved = omp_get_max_threads();
    if (T == 1) omp_set_num_threads(1); /* see matmul */
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
        dnnl_status_t s = attend_block(f, t, l, pos0, wi % c->n_head, i0, mb);
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
    if (status != dnnl_success) return dnnl_fail(err, "attention matmul execution", status);
    return 0;
}

/* ---- the forward pass ---- */

/* One step of M <= FWD_MAX_STEP tokens. out: logits of rows first .. M-1 ([M - first][n_vocab]),
 * or NULL for none. */
static int step(Forward *f, const int *tok, int M, float *out, int first, Err *err) {
    const Model *m = f->m;
    const Config *c = &m->cfg;
    int E = c->n_embd, hd = c->head_dim, F = c->n_ff, half = c->n_rot / 2;
    int qd = c->n_head * hd, kv_dim = c->n_head_kv * hd, pos0 = f->pos;
    reserve(f, pos0 + M);
    grow_rows(f, M);
    rope_table(f, pos0, M);

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
        rmsnorm_rows(f, f->xb, f->x, L->attn_norm, M, E);
        OBSERVE(f, l, FWD_IN_QKV, f->xb, M, E);
        const void *in = mm_input(f, f->xb, M, E);
        Job qkv[3] = {{.y = f->q, .W = &L->wq}, {.y = kc, .W = &L->wk}, {.y = vc, .W = &L->wv}};
        if (matmuls(f, qkv, 3, in, M, err)) return -1;
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
            const float *cs = f->rcos + (size_t)i * half, *sn = f->rsin + (size_t)i * half;
            rope(c, cs, sn, q, c->n_head);
            rope(c, cs, sn, k, c->n_head_kv);
        }
        if (M >= ATT_MIN_M) {
            if (attention_dnnl(f, l, pos0, M, err)) return -1;
        } else {
            attention_scalar(f, l, pos0, M);
        }
        OBSERVE(f, l, FWD_IN_WO, f->att, M, qd);
        if (matmul(f, f->xb2, mm_input(f, f->att, M, qd), M, &L->wo, err)) return -1;
        for (size_t j = 0; j < (size_t)M * E; j++) f->x[j] += f->xb2[j];

        /* FFN block: down(silu(gate(h)) * up(h)) */
        rmsnorm_rows(f, f->xb, f->x, L->ffn_norm, M, E);
        OBSERVE(f, l, FWD_IN_GATEUP, f->xb, M, E);
        in = mm_input(f, f->xb, M, E);
        Job gate_up[2] = {{.y = f->hb, .W = &L->w_gate}, {.y = f->hb2, .W = &L->w_up}};
        if (matmuls(f, gate_up, 2, in, M, err)) return -1;
        f->swiglu(f->hb, f->hb2, (size_t)M * F);
        OBSERVE(f, l, FWD_IN_DOWN, f->hb, M, F);
        if (matmul(f, f->xb2, mm_input(f, f->hb, M, F), M, &L->w_down, err)) return -1;
        for (size_t j = 0; j < (size_t)M * E; j++) f->x[j] += f->xb2[j];
    }
    f->pos = pos0 + M;
    if (f->obs) { /* the output matrix's input at every position */
        rmsnorm_rows(f, f->xb, f->x, m->output_norm, M, E);
        OBSERVE(f, -1, FWD_IN_OUTPUT, f->xb, M, E);
    }
    if (!out || first >= M) return 0;

    /* classifier on the wanted rows only */
    int rows = M - first;
    rmsnorm_rows(f, f->xb, f->x + (size_t)first * E, m->output_norm, rows, E);
    return matmul(f, out, mm_input(f, f->xb, rows, E), rows, &m->output, err);
}

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
    for (int i = 0; i < n; i += FWD_MAX_STEP) {
        int M = n - i < FWD_MAX_STEP ? n - i : FWD_MAX_STEP;
        int first = from > i ? from - i : 0; /* row of this step where the wanted ones start */
        float *out = logits && first < M ? logits + (size_t)(i + first - from) * c->n_vocab : NULL;
        if (step(f, tokens + i, M, out, first, err)) return -1;
    }
    return 0;
}

int fwd_eval(Forward *f, const int *tokens, int n, float *logits, int all, Err *err) {
    return fwd_eval_last(f, tokens, n, all ? n : 1, logits, err);
}
