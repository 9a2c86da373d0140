/* bench_matvec: the rate of the fused dequantize-and-dot kernels (formats/dot.h) on one core, with
 * the weights in cache, so that what is measured is the kernel's arithmetic, not the memory: for
 * each type with a kernel, a 256 KiB matrix (L2-resident) times M = 1, 2, 4, 8, 12, 16 vectors, best of
 * several runs, as stored bytes per second and weights per second; and, for comparison, the panel
 * path's first half alone (convert_rows_f32 of the same rows into an f32 panel, which oneDNN then
 * reads again). A type whose in-cache rate on two cores is below the machine's memory bandwidth is
 * limited by its arithmetic at one position, not by memory (docs/models.md). Thread CPU time, so a
 * busy machine slows the figures little. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/convert.h"
#include "formats/dot.h"
#include "formats/qtype.h"
#include "quant/quantize.h"

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static const uint32_t TYPES[] = {Q_F32, Q_F16, Q_BF16, Q_Q8_0, Q_Q4_0, Q_Q5_0, Q_Q4_K, Q_Q5_K, Q_Q6_K,
                                 Q_Q4_1, Q_Q5_1, Q_IQ4_NL, Q_IQ4_XS};
/* the grid i-quants (formats/dot_grid.h); IQ2_XXS, IQ1_S, IQ1_M have no quantizer: random blocks */
static const uint32_t GRID_TYPES[] = {Q_IQ3_S, Q_IQ2_XS, Q_IQ2_XXS, Q_IQ2_S, Q_IQ3_XXS, Q_IQ1_S, Q_IQ1_M};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])
#define N_ALL (N_TYPES + sizeof GRID_TYPES / sizeof GRID_TYPES[0])

/* A row of `type` that qquantize_row cannot write: bytes of a fixed pseudo-random sequence, the
 * fp16 scale at the head of each block set to 0.01 (every bit pattern of these types decodes;
 * IQ1_M's d, in its scales' top nibbles, stays random: the rate does not depend on it). */
static void random_row(uint32_t type, uint8_t *row, size_t rb, uint32_t seed) {
    for (size_t i = 0; i < rb; i++) seed = seed * 1664525u + 1013904223u, row[i] = (uint8_t)(seed >> 24);
    const uint16_t d = f32_to_fp16(0.01f);
    for (size_t b = 0; b < rb / qtype_block_bytes(type); b++) memcpy(row + b * qtype_block_bytes(type), &d, 2);
}

int main(void) {
    const int K = 896 * 2; /* 1792: a multiple of 256 and of 32, the 0.5B shape's width twice */
    Dot dot;
    Convert cv;
    dot_init(&dot);
    convert_init(&cv);
    printf("fused kernels: %s; one core, weights in L2 (256 KiB), best of 20 (thread CPU time)\n",
           dot_level_name(dot.level));
    printf("%-7s %9s %9s %9s %9s %9s %9s   %s\n", "type", "M=1 GB/s", "M=2", "M=4", "M=8", "M=12", "M=16", "convert to f32 panel GB/s");
    float *x = malloc((size_t)16 * K * sizeof(float)), *src = malloc((size_t)K * sizeof(float));
    for (int i = 0; i < 16 * K; i++) x[i] = (float)((i * 37 % 101) - 50) / 50.0f;
    for (int i = 0; i < K; i++) src[i] = (float)((i * 53 % 97) - 48) / 48.0f;
    for (size_t t = 0; t < N_ALL; t++) {
        uint32_t type = t < N_TYPES ? TYPES[t] : GRID_TYPES[t - N_TYPES];
        size_t rb = qtype_row_bytes(type, K);
        int rows = (int)((256u << 10) / rb);
        uint8_t *w = malloc((size_t)rows * rb);
        for (int r = 0; r < rows; r++)
            if (!qtype_can_quant(type)) random_row(type, w + (size_t)r * rb, rb, (uint32_t)r);
            else if (qquantize_row(type, src, w + (size_t)r * rb, K, NULL)) {
                fprintf(stderr, "bench_matvec: cannot write %s rows\n", qtype_name(type));
                return 1;
            }
        float *y = malloc((size_t)16 * rows * sizeof(float)), *panel = malloc((size_t)rows * K * sizeof(float));
        printf("%-7s", qtype_name(type));
        const int Ms[] = {1, 2, 4, 8, 12, 16};
        double m1 = 0;
        for (int i = 0; i < 6; i++) {
            double best = 1e9;
            for (int run = 0; run < 20; run++) {
                double t0 = cpu_seconds();
                dot_rows(&dot, type, w, rows, K, x, Ms[i], y, rows);
                double dt = cpu_seconds() - t0;
                if (dt < best) best = dt;
            }
            printf(" %9.1f", (double)rows * rb / best / 1e9);
            if (i == 0) m1 = best;
        }
        double best = 1e9;
        for (int run = 0; run < 20; run++) {
            double t0 = cpu_seconds();
            convert_rows_f32(&cv, type, w, rows, K, panel);
            double dt = cpu_seconds() - t0;
            if (dt < best) best = dt;
        }
        printf("   %9.1f   (M=1: %.1f G weights/s)\n", (double)rows * rb / best / 1e9, (double)rows * K / m1 / 1e9);
        free(w), free(y), free(panel);
    }
    free(x), free(src);
    return 0;
}
