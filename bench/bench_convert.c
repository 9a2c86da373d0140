/* bench_convert: how fast formats/convert.h turns stored block rows into f32, per block type and
 * per instruction-set level (convert_init_level): the portable path (qdequant_row), AVX2 and
 * AVX-512 where this CPU has them. One thread; a panel of 256 rows x 4096 columns of random
 * codes (scale fields set to 1.0 so no denormal or NaN slows either side; IQ1_M's scattered
 * scale stays random), the best of RUNS
 * passes. Prints millions of elements per second per level and the speed-up over the portable
 * path; target per type with a kernel: at least 2x the portable speed at the best level
 * (the verdict prints the time ratio best-level / portable, <= 0.5).
 *   bench_convert */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/benchproc.h"
#include "common/util.h"
#include "formats/convert.h"
#include "formats/qtype.h"

#define RUNS 5
#define ROWS 256
#define COLS 4096

/* Types with a fast kernel, and where their fp16 scale sits in a block (-1: none to set). */
static const struct {
    uint32_t type;
    int scale_at;
} TYPES[] = {
    {Q_Q8_0, 0}, {Q_Q5_0, 0}, {Q_Q4_K, 0}, {Q_IQ4_NL, 0}, {Q_IQ4_XS, 0}, {Q_MXFP4, -1},
    {Q_TQ2_0, 64}, {Q_TQ1_0, 52}, {Q_IQ2_XXS, 0}, {Q_IQ2_XS, 0}, {Q_IQ2_S, 0}, {Q_IQ3_XXS, 0},
    {Q_IQ3_S, 0}, {Q_IQ1_S, 0}, {Q_IQ1_M, -1},
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

static double best_seconds(const Convert *cv, uint32_t type, const uint8_t *q, float *y) {
    double best = 1e30;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_seconds();
        convert_rows_f32(cv, type, q, ROWS, COLS, y);
        double t = now_seconds() - t0;
        if (t < best) best = t;
    }
    return best;
}

int main(void) {
    static const char *const LEVEL_NAMES[] = {"portable", "AVX2", "AVX-512"};
    Convert cv[3];
    int top = CONVERT_PORTABLE;
    for (int l = CONVERT_PORTABLE; l <= CONVERT_AVX512; l++)
        if (convert_init_level(&cv[l], l) == l) top = l;
    float *y = malloc((size_t)ROWS * COLS * sizeof(float));
    if (!y) return 1;
    printf("block rows -> f32, one thread, %d x %d elements, best of %d (Melem/s; speed-up over portable)\n",
           ROWS, COLS, RUNS);
    for (size_t k = 0; k < N_TYPES; k++) {
        uint32_t type = TYPES[k].type;
        size_t rb = qtype_row_bytes(type, COLS), bb = qtype_block_bytes(type);
        uint8_t *q = malloc(rb * ROWS);
        if (!q) return 1;
        uint64_t s = 0x2545f4914f6cdd1du + k;
        for (size_t i = 0; i < rb * ROWS; i++) s ^= s << 13, s ^= s >> 7, s ^= s << 17, q[i] = (uint8_t)(s >> 32);
        if (TYPES[k].scale_at >= 0)
            for (size_t b = 0; b < rb * ROWS / bb; b++) q[b * bb + TYPES[k].scale_at] = 0, q[b * bb + TYPES[k].scale_at + 1] = 0x3c;
        else if (type == Q_MXFP4)
            for (size_t b = 0; b < rb * ROWS / bb; b++) q[b * bb] = 0x7f;
        double t[3] = {0, 0, 0};
        printf("  %-8s", qtype_name(type));
        for (int l = CONVERT_PORTABLE; l <= top; l++) {
            t[l] = best_seconds(&cv[l], type, q, y);
            double rate = (double)ROWS * COLS / t[l] / 1e6;
            if (l == CONVERT_PORTABLE) printf("  %s %7.0f", LEVEL_NAMES[l], rate);
            else if (cv[l].blocks[type]) printf("  %s %7.0f (%.2fx)", LEVEL_NAMES[l], rate, t[0] / t[l]);
            else printf("  %s  no kernel", LEVEL_NAMES[l]);
        }
        printf("\n");
        if (top > CONVERT_PORTABLE && cv[top].blocks[type]) {
            char what[64];
            snprintf(what, sizeof what, "%s %s time / portable", qtype_name(type), LEVEL_NAMES[top]);
            verdict(what, t[top] / t[0], 0.5, "");
        }
        free(q);
    }
    free(y);
    return 0;
}
