/* matmul_int: the internals model/matmul.c shares with model/matmul_att.c (the batched
 * attention): the Matmul's state, its per-thread Workers and cached primitives, and the oneDNN
 * helpers both use. Not for other modules: they see model/matmul.h. */
#ifndef COLDTOK_MATMUL_INT_H
#define COLDTOK_MATMUL_INT_H

#include <dnnl.h>

#include "formats/convert.h"
#include "formats/dot.h"
#include "model/matmul.h"

/* Batched attention in blocks of ATT_BLOCK query rows (a block only multiplies the keys its last
 * row sees). */
#define ATT_BLOCK 64 /* attention time at 512 positions: 64 and 128 equal, 32 8% and 256 19% slower */
#define MAX_THREADS 256
#define RT DNNL_RUNTIME_DIM_VAL

/* A matmul primitive y[M, R] (row stride ldc) = x[M, K] . P[R, K]^T, with per-thread memory
 * objects and scratchpads. */
typedef struct {
    int M, K, R, ldc, bf16; /* M == 0: M given at run time */
    int amx;                /* 1: oneDNN's AMX brgemm (fixed M, ldc == R) */
    dnnl_primitive_t prim;
    dnnl_memory_desc_t src_md, wei_md, dst_md, pad_md;
    size_t pad_bytes;
    dnnl_memory_t (*mem)[4]; /* [n_threads]: src, weights, dst, scratchpad, re-pointed per call */
    void **pad;              /* [n_threads] scratchpad buffers (pad_bytes each) */
} Prim;

/* What one thread owns. */
typedef struct {
    dnnl_stream_t stream;
    void *panel;       /* PANEL_BYTES (+ slack) of converted weights */
    void *big;         /* big_bytes of converted weights for M > 1 (allocated on first use) */
    size_t big_bytes;
    float *row;        /* [widest] one dequantized row, for bf16 mode's two-step conversion */
    float *dense;      /* dense_cap floats: an AMX panel's [M, R] output before it goes into y */
    size_t dense_cap;
    float *s;          /* [ATT_BLOCK, keys] attention scores of one block of rows (s_cap floats, on first use) */
    size_t s_cap;
} Worker;

struct Matmul {
    const Model *m;
    int bf16;        /* 1: weights and inputs rounded to bf16 */
    int amx;         /* 1: bf16 panels of >= AMX_MIN_M rows through oneDNN's AMX brgemm (matmul.c) */
    int n_amx_prims;
    int n_threads;
    Convert cv;      /* the CPU's conversion kernels, picked once */
    Dot dot;         /* the CPU's fused small-M kernels, picked once */
    char dot_desc[64];
    dnnl_engine_t engine;
    Prim **prims;    /* [n_prims] created once per shape, kept until mm_free */
    int n_prims;
    dnnl_primitive_t att_qk, att_pv; /* attention matmuls with run-time dims (on first use) */
    uint16_t *xbf;   /* [xbf_cap] the input of a group rounded to bf16 (bf16 mode, on first use) */
    size_t xbf_cap;
    char kernel[128];
    Worker w[MAX_THREADS];
};

/* Sets *err to "oneDNN: <what> failed (status s)"; returns -1. */
int mm_dnnl_fail(Err *err, const char *what, dnnl_status_t s);
/* A 2-D memory descriptor [rows, cols] with the given strides (RT: given at run time). */
dnnl_status_t mm_md2(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, int64_t rs, int64_t cs, dnnl_data_type_t t);
/* The primitive descriptor of a matmul: oneDNN's gemm-based implementation when it offers one,
 * else its first choice; NULL with *err set when there is none. user_pad: scratchpad given by us. */
dnnl_primitive_desc_t mm_pick_matmul(Matmul *mm, const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *wei,
                                     const dnnl_memory_desc_t *dst, int user_pad, Err *err);
/* Runs a primitive with src, weights, dst (and scratchpad, if not NULL) on thread t's stream. */
dnnl_status_t mm_exec(Matmul *mm, int t, dnnl_primitive_t prim, dnnl_memory_t src, dnnl_memory_t wei,
                      dnnl_memory_t dst, dnnl_memory_t pad);

#endif
