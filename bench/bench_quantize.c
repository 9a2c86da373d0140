/* bench_quantize: quantization throughput per type, in MB of f32 weights per second.
 *
 * The tensor set is one transformer layer of Qwen2.5-0.5B, random (uniform, std 0.02, seeded):
 * attn_q 896x896, attn_k 128x896, attn_v 128x896, attn_output 896x896, ffn_gate and ffn_up
 * 4864x896, ffn_down 896x4864 (rows x columns; 14.9 M weights, 59.6 MB of f32). Rows of 896 are
 * not a multiple of 256, so in this set the k-quant types go through quant/recipe like
 * `coldtok quantize` does (falling back to 32-blocks on 896-wide rows); a second figure is the
 * kernel alone on the 4864-wide rows of ffn_gate reshaped (every type applies there).
 * Per type: coldtok's rtn (qquantize_rows: the reference plus the extra candidates for the
 * k-quants) and llama.cpp's reference algorithm alone (qquantize_row_ref), both on OMP_NUM_THREADS
 * threads (default 2 here), and their ratio; also MB per CPU-second, which other jobs on the machine
 * disturb less than wall time. The whole 0.5B model (494 M weights) time is extrapolated from the
 * first figure. Then per method (rtn, imatrix, gptq: quant/gptq.h) on 896 rows of 4864 (an
 * ffn_down of the 0.5B model) for Q4_0 and Q4_K, with a synthetic input Hessian
 * H_ij = exp(-|i-j|/8) (importance: its diagonal); gptq's one-off factorization of H is timed
 * apart from the rows. No targets: figures only. The whole-model comparison with llama.cpp's
 * llama_model_quantize (wall and CPU seconds, the ratio per type) is bench/bench_qmodel.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "common/util.h"
#include "quant/gptq.h"
#include "formats/qtype.h"
#include "quant/quantize.h"
#include "quant/recipe.h"

typedef struct {
    const char *name;
    int64_t rows, cols;
} Shape;

static const Shape LAYER[] = {
    {"blk.0.attn_q.weight", 896, 896},     {"blk.0.attn_k.weight", 128, 896},
    {"blk.0.attn_v.weight", 128, 896},     {"blk.0.attn_output.weight", 896, 896},
    {"blk.0.ffn_gate.weight", 4864, 896},  {"blk.0.ffn_up.weight", 4864, 896},
    {"blk.0.ffn_down.weight", 896, 4864},
};
#define N_LAYER (sizeof LAYER / sizeof LAYER[0])
#define QWEN05_WEIGHTS 494032768.0 /* Qwen2.5-0.5B parameters */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float uniform(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

/* seconds to quantize every matrix of the set with `type` (through the recipe when pure_kernel
 * is 0), best of `reps` */
static double time_set(float **w, uint32_t type, int ref, uint8_t *out, int reps, double *cpu) {
    Recipe r;
    Err err;
    recipe_init(&r, qtype_name(type), 0, &err);
    const RecipeModel m = {24, 14, 2, 1};
    double best = 1e30;
    *cpu = 1e30;
    for (int k = 0; k < reps; k++) {
        double t0 = now_seconds(), c0 = (double)clock() / CLOCKS_PER_SEC;
        for (size_t i = 0; i < N_LAYER; i++) {
            const Shape *s = &LAYER[i];
            uint32_t t = recipe_type(&r, &m, s->name, s->cols, NULL, 0);
            const size_t rb = qtype_row_bytes(t, s->cols);
            if (ref) {
#pragma omp parallel for schedule(dynamic, 16)
                for (int64_t row = 0; row < s->rows; row++)
                    qquantize_row_ref(t, w[i] + row * s->cols, out + (size_t)row * rb, s->cols);
            } else {
                qquantize_rows(t, w[i], out, s->rows, s->cols, NULL, NULL);
            }
        }
        double dt = now_seconds() - t0, dc = (double)clock() / CLOCKS_PER_SEC - c0;
        if (dt < best) best = dt;
        if (dc < *cpu) *cpu = dc;
    }
    return best;
}

/* the kernel alone on rows of 4864 (ffn_gate's 4864 x 896 weights as 896 rows of 4864) */
static double time_kernel(const float *w, uint32_t type, int ref, uint8_t *out, int reps, double *cpu) {
    const int64_t cols = 4864, rows = 896;
    const size_t rb = qtype_row_bytes(type, cols);
    double best = 1e30;
    *cpu = 1e30;
    for (int k = 0; k < reps; k++) {
        double t0 = now_seconds(), c0 = (double)clock() / CLOCKS_PER_SEC;
        if (ref) {
#pragma omp parallel for schedule(dynamic, 16)
            for (int64_t row = 0; row < rows; row++)
                qquantize_row_ref(type, w + row * cols, out + (size_t)row * rb, cols);
        } else {
            qquantize_rows(type, w, out, rows, cols, NULL, NULL);
        }
        double dt = now_seconds() - t0, dc = (double)clock() / CLOCKS_PER_SEC - c0;
        if (dt < best) best = dt;
        if (dc < *cpu) *cpu = dc;
    }
    return best;
}

int main(void) {
    if (!getenv("OMP_NUM_THREADS")) setenv("OMP_NUM_THREADS", "2", 1);
#ifdef _OPENMP
    omp_set_num_threads(atoi(getenv("OMP_NUM_THREADS")));
    const int threads = omp_get_max_threads();
#else
    const int threads = 1;
#endif
    float *w[N_LAYER];
    double n_weights = 0;
    size_t max_elems = 0;
    for (size_t i = 0; i < N_LAYER; i++) {
        const size_t ne = (size_t)(LAYER[i].rows * LAYER[i].cols);
        w[i] = xmalloc(ne * sizeof(float));
        /* uniform on [-a, a] has std a/sqrt(3): std 0.02 */
        for (size_t j = 0; j < ne; j++) w[i][j] = uniform() * 0.02f * 1.7320508f;
        n_weights += (double)ne;
        if (ne > max_elems) max_elems = ne;
    }
    uint8_t *out = xmalloc(max_elems * 4);
    const double mb_set = n_weights * 4 / 1e6, mb_kernel = 4864.0 * 896 * 4 / 1e6;
    printf("quantize throughput, MB of f32 weights per second, %d thread%s\n", threads, threads > 1 ? "s" : "");
    printf("set: one Qwen2.5-0.5B layer (%.1f M weights, %.1f MB f32), types through the recipe as\n"
           "`coldtok quantize --type T` picks them; kernel: 896 rows of 4864 (%.1f MB)\n\n",
           n_weights / 1e6, mb_set, mb_kernel);
    printf("%-5s | %12s %12s %12s %6s | %12s %12s %12s %6s | %10s\n", "", "set", "", "", "",
           "kernel", "", "", "", "0.5B model");
    printf("%-5s | %12s %12s %12s %6s | %12s %12s %12s %6s | %10s\n", "type", "rtn", "rtn/core",
           "ref/core", "ratio", "rtn", "rtn/core", "ref/core", "ratio", "rtn");
    static const uint32_t types[] = {Q_Q8_0, Q_Q4_0, Q_Q4_1, Q_Q5_0, Q_Q5_1,
                                     Q_Q2_K, Q_Q3_K, Q_Q4_K, Q_Q5_K, Q_Q6_K};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const int slow = qtype_block_elems(types[t]) == 256, reps = slow ? 1 : 3;
        double c_rtn, c_ref;
        double s_rtn = time_set(w, types[t], 0, out, reps, &c_rtn), s_ref = time_set(w, types[t], 1, out, reps, &c_ref);
        double kc_rtn, kc_ref;
        double k_rtn = time_kernel(w[4], types[t], 0, out, reps, &kc_rtn);
        time_kernel(w[4], types[t], 1, out, reps, &kc_ref);
        (void)s_ref;
        printf("%-5s | %7.1f MB/s %7.1f MB/s %7.1f MB/s %5.2fx | %7.1f MB/s %7.1f MB/s %7.1f MB/s %5.2fx | %8.1f s\n",
               qtype_name(types[t]), mb_set / s_rtn, mb_set / c_rtn, mb_set / c_ref, c_rtn / c_ref,
               mb_kernel / k_rtn, mb_kernel / kc_rtn, mb_kernel / kc_ref, kc_rtn / kc_ref,
               s_rtn * QWEN05_WEIGHTS / n_weights);
        fflush(stdout);
    }
    /* per method, on an ffn_down-shaped matrix */
    {
        const int64_t rows = 896, K = 4864;
        const double mb = (double)rows * K * 4 / 1e6;
        float *H = xmalloc((size_t)K * (size_t)K * sizeof(float)), *imp = xmalloc((size_t)K * sizeof(float));
        float *work = xmalloc((size_t)rows * (size_t)K * sizeof(float));
        for (int64_t i = 0; i < K; i++)
            for (int64_t j = 0; j < K; j++) H[i * K + j] = expf(-fabsf((float)(i - j)) / 8.0f);
        for (int64_t j = 0; j < K; j++) imp[j] = H[j * K + j] * (1 + 0.5f * uniform());
        Gptq g;
        Err err;
        double t0 = now_seconds();
        if (gptq_prepare(&g, H, K, &err)) {
            fprintf(stderr, "bench_quantize: %s\n", err.msg);
            return 1;
        }
        const double prep = now_seconds() - t0;
        printf("\nmethods on 896 rows of 4864 (%.1f MB f32), wall time, %d thread%s:\n", mb, threads, threads > 1 ? "s" : "");
        printf("%-5s | %12s %12s %12s | %s\n", "type", "rtn", "imatrix", "gptq", "gptq factor of H (once per matrix)");
        static const uint32_t mtypes[] = {Q_Q4_0, Q_Q4_K};
        for (int t = 0; t < 2; t++) {
            double tm[3];
            for (int m = 0; m < 3; m++) {
                memcpy(work, w[4], (size_t)rows * (size_t)K * sizeof(float)); /* ffn_gate's weights reshaped */
                double s0 = now_seconds();
                if (m < 2) qquantize_rows(mtypes[t], work, out, rows, K, m ? imp : NULL, NULL);
                else gptq_quantize_rows(&g, mtypes[t], work, out, rows, NULL);
                tm[m] = now_seconds() - s0;
            }
            printf("%-5s | %7.1f MB/s %7.1f MB/s %7.1f MB/s | %.1f s\n", qtype_name(mtypes[t]), mb / tm[0],
                   mb / tm[1], mb / tm[2], prep);
            fflush(stdout);
        }
        gptq_free(&g);
        free(H), free(imp), free(work);
    }
    printf("\nrtn: coldtok's quantizer (wall time, all threads); /core: MB per CPU-second (all threads'\n"
           "CPU time: less disturbed by other jobs on the machine); ref: llama.cpp's reference\n"
           "algorithm alone; ratio: CPU time of rtn / ref, the price of the extra candidates that\n"
           "make every k-quant tensor at least as accurate as llama.cpp's.\n"
           "0.5B model: the set's rtn time scaled to 494 M weights (the quantization alone, no I/O).\n");
    for (size_t i = 0; i < N_LAYER; i++) free(w[i]);
    free(out);
    return 0;
}
