/* bench_tfstats: speed of tf_position, the per-position work of `coldtok drift` (issue 7): KL(P||Q)
 * over two full rows of logits, the true token's log-probabilities and argmax agreement.
 * Target: under 1 ms per position per core at Qwen's vocabulary (151936).
 *
 * Rows are model-like (N(0, 2.5) logits, a few hundred strong tokens, one dominant; the variant
 * adds N(0, 0.3) noise), 64 different pairs, cycled over 2048 positions as the runner does, with
 * one scratch buffer. Reported: CPU time per position on one thread (the verdict: a busy shared
 * machine does not inflate it) and wall time, for the AVX2 path and the double-precision path
 * (metrics.c), and their ratio. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "analysis/tfstats.h"
#include "common/util.h"

#define VOCAB 151936
#define PAIRS 64
#define POSITIONS 2048
#define TARGET_MS 1.0

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double unit(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return ((double)((*s * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(uint64_t *s) { return sqrt(-2 * log(unit(s))) * cos(2 * M_PI * unit(s)); }

/* Runs `positions` positions on path; per-position CPU and wall milliseconds; Σ KL into *sum (so
 * that nothing is optimized away). */
static void run(int path, const float *zp, const float *zq, int positions, float *scratch, double *cpu_ms,
                double *wall_ms, double *sum) {
    double c0 = cpu_seconds(), w0 = now_seconds(), s = 0;
    for (int i = 0; i < positions; i++) {
        TfPos o;
        size_t k = (size_t)(i % PAIRS) * VOCAB;
        tf_position_path(path, zp + k, zq + k, VOCAB, (i * 7919) % VOCAB, &o, scratch);
        s += o.kl;
    }
    *cpu_ms = (cpu_seconds() - c0) / positions * 1e3;
    *wall_ms = (now_seconds() - w0) / positions * 1e3;
    *sum = s;
}

int main(void) {
    float *zp = xmalloc((size_t)PAIRS * VOCAB * sizeof *zp), *zq = xmalloc((size_t)PAIRS * VOCAB * sizeof *zq);
    float *scratch = xmalloc(2 * (size_t)VOCAB * sizeof *scratch);
    uint64_t seed = 0x2545F4914F6CDD1Dull;
    for (size_t k = 0; k < PAIRS; k++) {
        float *p = zp + k * VOCAB, *q = zq + k * VOCAB;
        for (size_t i = 0; i < VOCAB; i++) {
            p[i] = (float)(2.5 * gauss(&seed) + (i % 997 == 5 ? 9 : 0));
            q[i] = (float)(p[i] + 0.3 * gauss(&seed));
        }
        p[(k * 4099) % VOCAB] = q[(k * 4099) % VOCAB] = 14;
    }
    printf("tf_position, vocabulary %d, %d positions (%d row pairs), one thread; AVX2+FMA path %s\n", VOCAB,
           POSITIONS, PAIRS, tf_position_avx2() ? "available" : "NOT available (the double path runs)");
    double cpu, wall, sum, cpu_d, wall_d, sum_d;
    run(1, zp, zq, 64, scratch, &cpu, &wall, &sum); /* warm-up: pages touched, caches */
    run(1, zp, zq, POSITIONS, scratch, &cpu, &wall, &sum);
    run(0, zp, zq, 128, scratch, &cpu_d, &wall_d, &sum_d);
    printf("  tf_position (fast path)     %.3f ms CPU, %.3f ms wall per position (mean KL %.4g)\n", cpu, wall,
           sum / POSITIONS);
    printf("  double-precision path       %.3f ms CPU, %.3f ms wall per position (%.1fx the fast path)\n", cpu_d,
           wall_d, cpu_d / cpu);
    printf("  2048 positions x 4 variants %.2f s CPU\n", cpu * 2048 * 4 / 1e3);
    printf("  target %-34s %s (%.3g ms vs <= %.3g ms, %.2fx the target)\n", "tf_position per position (CPU)",
           cpu <= TARGET_MS ? "PASS" : "MISS", cpu, TARGET_MS, cpu / TARGET_MS);
    free(zp), free(zq), free(scratch);
    return 0;
}
