/* bandwidth: this machine's memory bandwidth as the benchmarks measure it, the "floor" a forward
 * pass that reads each weight byte once is compared with: the best of 10 streaming reads of 1.5 GiB
 * (AVX2 sums where the CPU has them, half of the reads with the fused kernels' software prefetch,
 * which one measured 10-15% faster: the floor is the fastest read known here), split between
 * OpenMP threads. Bytes per second; 0 when the
 * 1.5 GiB cannot be allocated. bandwidth_cpu also gives the best bytes per CPU-second of the same
 * reads (all threads' user + system time): on a shared machine, where a thread waits for a core,
 * the floor in CPU time is the steadier one. Header-only (static functions), like benchproc.h; bench_forward and
 * bench_quantfmt both take their floor from here. */
#ifndef COLDTOK_BENCH_BANDWIDTH_H
#define COLDTOK_BENCH_BANDWIDTH_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common/util.h"

#if defined(__x86_64__)
__attribute__((target("avx2"))) static double bw_sum_avx2(const float *a, size_t n, int prefetch) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t i = 0; i + 32 <= n; i += 32) {
        if (prefetch) { /* 3 KiB ahead, as the fused kernels do (formats/dot_body.h) */
            _mm_prefetch((const char *)(a + i) + 3072, _MM_HINT_T0);
            _mm_prefetch((const char *)(a + i) + 3072 + 64, _MM_HINT_T0);
        }
        s0 = _mm256_add_ps(s0, _mm256_load_ps(a + i));
        s1 = _mm256_add_ps(s1, _mm256_load_ps(a + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_load_ps(a + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_load_ps(a + i + 24));
    }
    float r[8];
    _mm256_storeu_ps(r, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    return r[0] + r[1] + r[2] + r[3] + r[4] + r[5] + r[6] + r[7];
}
#endif

static inline double bw_sum_plain(const float *a, size_t n) {
    float s[8] = {0};
    for (size_t i = 0; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) s[j] += a[i + j];
    return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

static inline double cpu_seconds(void) { /* this process's user + system time, all threads */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

static inline double bandwidth_cpu(int threads, double *per_cpu_second) {
    size_t n = (size_t)3 << 28; /* floats: 1.5 GiB */
    float *a = aligned_alloc(64, n * sizeof(float));
    if (!a) return 0;
    for (size_t i = 0; i < n; i++) a[i] = 1.0f;
    int avx2 = 0;
#if defined(__x86_64__)
    avx2 = __builtin_cpu_supports("avx2");
#endif
    double best = 0, sink = 0;
    if (per_cpu_second) *per_cpu_second = 0;
    for (int it = 0; it < 10; it++) { /* 5 plain reads, then (AVX2) 5 with software prefetch */
        double t0 = now_seconds(), c0 = cpu_seconds(), s = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : s)
#endif
        {
            int t = 0, T = 1;
#ifdef _OPENMP
            t = omp_get_thread_num(), T = omp_get_num_threads();
#endif
            size_t chunk = n / (size_t)T / 32 * 32;
            const float *p = a + (size_t)t * chunk;
#if defined(__x86_64__)
            s += avx2 ? bw_sum_avx2(p, chunk, it >= 5) : bw_sum_plain(p, chunk);
#else
            s += bw_sum_plain(p, chunk);
#endif
        }
        double dt = now_seconds() - t0, dc = cpu_seconds() - c0;
        sink += s;
        if (per_cpu_second && dc > 0 && n * sizeof(float) / dc > *per_cpu_second) *per_cpu_second = n * sizeof(float) / dc;
        if (n * sizeof(float) / dt > best) best = n * sizeof(float) / dt;
    }
    (void)threads;
    free(a);
    if (sink == 0) fprintf(stderr, "(bandwidth sum 0)\n");
    return best;
}

#endif
