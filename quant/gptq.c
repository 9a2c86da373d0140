/* gptq: see gptq.h. The linear algebra is plain loops in doubles (row-major, inner loops over
 * contiguous memory); the K^3 steps run once per matrix. */
#include "quant/gptq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/qtype.h"
#include "quant/quantize.h"

/* In place: A [K, K] symmetric positive definite (both triangles) -> its upper Cholesky factor R
 * (A = R^T R) in the upper triangle; the lower triangle is left as it was. Right-looking: after
 * row k is scaled, every later row i takes a contiguous axpy of row k (OpenMP over i). -1 when A
 * is not positive definite. */
static int cholesky_upper(double *A, int64_t K) {
    for (int64_t k = 0; k < K; k++) {
        double *ak = A + k * K;
        if (!(ak[k] > 0)) return -1;
        const double d = sqrt(ak[k]);
        for (int64_t j = k; j < K; j++) ak[j] /= d;
#pragma omp parallel for schedule(static) if ((K - k) * (K - k) > (1 << 21)) /* else not worth a barrier */
        for (int64_t i = k + 1; i < K; i++) {
            double *ai = A + i * K;
            const double f = ak[i];
            for (int64_t j = i; j < K; j++) ai[j] -= f * ak[j];
        }
    }
    return 0;
}

/* V = R^-1 for an upper triangular R (upper triangle of A); V [K, K] zeroed by the caller. Each
 * block of columns is independent: V[i][cols] = (e_i - sum_{k>i} R[i][k] V[k][cols]) / R[i][i],
 * bottom up. */
static void invert_upper(const double *R, double *V, int64_t K) {
    const int64_t CB = 64;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t c0 = 0; c0 < K; c0 += CB) {
        const int64_t c1 = c0 + CB < K ? c0 + CB : K;
        for (int64_t i = c1 - 1; i >= 0; i--) {
            double *vi = V + i * K;
            const double *ri = R + i * K;
            const int64_t j0 = c0 > i ? c0 : i; /* V[i][j] = 0 for j < i */
            if (i >= c0 && i < c1) vi[i] = 1;
            for (int64_t k = i + 1; k < c1; k++) {
                const double rik = ri[k], *vk = V + k * K;
                if (rik != 0)
                    for (int64_t j = j0 > k ? j0 : k; j < c1; j++) vi[j] -= rik * vk[j];
            }
            for (int64_t j = j0; j < c1; j++) vi[j] /= ri[i];
        }
    }
}

int gptq_prepare(Gptq *g, const float *H, int64_t K, Err *err) {
    memset(g, 0, sizeof *g);
    g->K = K;
    double *A = xmalloc((size_t)K * (size_t)K * sizeof(double));
    double *X = xmalloc((size_t)K * (size_t)K * sizeof(double));
    g->imp = xmalloc((size_t)K * sizeof(float));
    g->dead = xcalloc((size_t)K, 1);
    for (int64_t i = 0; i < K * K; i++)
        if (!isfinite(H[i])) {
            gptq_free(g);
            free(A);
            free(X);
            return err_set(err, "GPTQ: the Hessian has a value that is not finite (row %lld)", (long long)(i / K));
        }
    double mean = 0;
    for (int64_t j = 0; j < K; j++) mean += H[j * K + j];
    mean /= (double)K;
    const double lambda = GPTQ_DAMP * (mean > 0 ? mean : 1);
    const float floor_ = (float)(1e-3 * (mean > 0 ? mean : 1));
    for (int64_t i = 0; i < K; i++) {
        for (int64_t j = 0; j < K; j++) A[i * K + j] = H[i * K + j];
        if (!(H[i * K + i] > 0)) { /* an input that was always 0: its weights do not matter */
            g->dead[i] = 1;
            for (int64_t j = 0; j < K; j++) A[i * K + j] = A[j * K + i] = 0;
            A[i * K + i] = 1;
        }
        A[i * K + i] += lambda;
        g->imp[i] = (g->dead[i] ? 0 : H[i * K + i]) + floor_;
    }
    /* U: the upper factor with (H')^-1 = U^T U. With J the reversal permutation and
     * J H' J = R^T R (R upper), H' = M^T M for the lower M = J R J, so (H')^-1 = M^-1 M^-T and
     * U = (M^-1)^T = J (R^-1)^T J: one Cholesky and one triangular inverse. */
    int rc = 0;
    for (int64_t i = 0; i < K; i++) /* X = J A J */
        for (int64_t j = 0; j < K; j++) X[(K - 1 - i) * K + (K - 1 - j)] = A[i * K + j];
    if (cholesky_upper(X, K)) {
        rc = err_set(err, "GPTQ: the damped Hessian (%lld x %lld) is not positive definite", (long long)K,
                     (long long)K);
        goto out;
    }
    memset(A, 0, (size_t)K * (size_t)K * sizeof(double));
    invert_upper(X, A, K); /* A = R^-1 */
    for (int64_t i = 0; i < K; i++)
        for (int64_t j = 0; j < K; j++) X[i * K + j] = j >= i ? A[(K - 1 - j) * K + (K - 1 - i)] : 0;
    g->U = X;
    X = NULL;
out:
    free(A);
    free(X);
    if (rc) gptq_free(g);
    return rc;
}

void gptq_free(Gptq *g) {
    free(g->U);
    free(g->imp);
    free(g->dead);
    memset(g, 0, sizeof *g);
}

int64_t gptq_rows(const Gptq *g, float *w, int64_t R, int B, GptqBlock fn, void *ctx) {
    const int64_t K = g->K;
    float *q = xmalloc((size_t)B * sizeof(float));
    double *e = xmalloc((size_t)R * sizeof(double));
    int64_t rc = 0;
    for (int64_t r = 0; r < R; r++)
        for (int64_t j = 0; j < K; j++)
            if (g->dead[j]) w[r * K + j] = 0;
    for (int64_t b0 = 0; b0 < K && rc == 0; b0 += B) {
        /* the block of every row, quantized from its current weights; the error kept in w */
        for (int64_t r = 0; r < R; r++) {
            float *wr = w + r * K + b0;
            if (fn(ctx, r, b0 / B, wr, g->imp + b0, q, B)) {
                rc = -1 - r;
                break;
            }
            for (int j = 0; j < B; j++) wr[j] -= q[j]; /* wr now holds the error */
        }
        if (rc) break;
        /* column by column: the error (already including earlier columns' updates) moves to the
         * columns on its right; within the block only the error changes (its values are fixed) */
        for (int64_t c = b0; c < b0 + B; c++) {
            const double *uc = g->U + c * K;
            for (int64_t r = 0; r < R; r++) e[r] = w[r * K + c] / uc[c];
            for (int64_t r = 0; r < R; r++) {
                float *wr = w + r * K;
                const double er = e[r];
                for (int64_t k = c + 1; k < K; k++) wr[k] -= (float)(er * uc[k]);
            }
        }
        
    }
    free(q);
    free(e);
    return rc;
}

typedef struct {
    uint32_t type;
    uint8_t *dst;   /* the rows' bytes */
    size_t row_bytes, block_bytes;
} Sink;

static int to_blocks(void *ctx, int64_t row, int64_t block, const float *w, const float *imp, float *q, int n) {
    const Sink *s = ctx;
    uint8_t *d = s->dst + (size_t)row * s->row_bytes + (size_t)block * s->block_bytes;
    if (qquantize_row(s->type, w, d, n, imp)) return -1;
    return qdequant_row(s->type, d, q, n) ? -1 : 0;
}

size_t gptq_quantize_rows(const Gptq *g, uint32_t type, float *w, void *dst, int64_t nrows,
                          int64_t *bad_row) {
    const int64_t K = g->K, G = 8; /* rows per group: one pass over U serves G rows */
    const int B = qtype_block_elems(type);
    if (B <= 0 || K % B) return 0;
    const size_t rb = qtype_row_bytes(type, K);
    int64_t bad = -1;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t r0 = 0; r0 < nrows; r0 += G) {
        const int64_t n = nrows - r0 < G ? nrows - r0 : G;
        Sink s = {type, (uint8_t *)dst + (size_t)r0 * rb, rb, qtype_row_bytes(type, B)};
        int64_t rc = gptq_rows(g, w + r0 * K, n, B, to_blocks, &s);
        if (rc) {
#pragma omp critical
            if (bad < 0 || r0 - 1 - rc < bad) bad = r0 - 1 - rc;
        }
    }
    if (bad >= 0) {
        if (bad_row) *bad_row = bad;
        return 0;
    }
    return (size_t)nrows * rb;
}
