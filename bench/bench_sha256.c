/* bench_sha256: how fast common/sha256 hashes a model-sized file (issue 14: every input of a run is
 * hashed into run.json, so hashing a 1 GB model must cost under 1 s on this machine).
 *
 * Writes a 1 GB file of pseudo-random bytes into $COLDTOK_BENCH_DIR (default /tmp), hashes it
 * once to warm the page cache (the case that matters: a model just read, or about to be read, by
 * the run), then RUNS more times; prints the best and median GB/s (1 GB = 1e9 bytes) and checks
 * the digest against sha256sum's, and the CPU time (the machine is shared: wall time over CPU
 * time says how much of a core the hash had). The file is deleted at the end.
 * The PASS/MISS verdict (target: under 1 s per GB) uses the CPU time, as bench_tokenizer does.
 * Then the hash cache (common/hash_cache.h): the file looked up through a cache file, which is
 * saved, reopened as the next run would, and looked up again: the time a rerun into the same
 * output folder spends on this input.
 *   bench_sha256 [GB]   (default 1) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/hash_cache.h"
#include "common/sha256.h"
#include "common/util.h"

#define RUNS 3

/* CPU seconds of this process: with the wall time, whether the shared machine let it run. */
static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    double gb = argc > 1 ? atof(argv[1]) : 1.0;
    size_t bytes = (size_t)(gb * 1e9);
    const char *dir = getenv("COLDTOK_BENCH_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/coldtok-bench-sha256-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) { perror(path); return 1; }
    size_t chunk = 16u << 20;
    unsigned char *buf = xmalloc(chunk);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < chunk; i += 8) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        memcpy(buf + i, &x, 8);
    }
    for (size_t done = 0; done < bytes;) {
        size_t n = bytes - done < chunk ? bytes - done : chunk;
        buf[0] = (unsigned char)(done >> 24); /* chunks differ */
        if (write(fd, buf, n) != (ssize_t)n) { perror(path); unlink(path); return 1; }
        done += n;
    }
    close(fd);
    free(buf);

    char hex[SHA256_HEX_LEN], want[SHA256_HEX_LEN] = {0}, cmd[4200];
    Err err = {{0}};
    double t[RUNS], cpu[RUNS];
    int rc = 0;
    if (sha256_file(path, hex, NULL, &err)) { fprintf(stderr, "%s\n", err.msg); unlink(path); return 1; }
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_seconds(), c0 = cpu_seconds();
        if (sha256_file(path, hex, NULL, &err)) { fprintf(stderr, "%s\n", err.msg); unlink(path); return 1; }
        t[r] = now_seconds() - t0;
        cpu[r] = cpu_seconds() - c0;
    }
    double cpu_best = cpu[0];
    for (int r = 1; r < RUNS; r++)
        if (cpu[r] < cpu_best) cpu_best = cpu[r];
    qsort(t, RUNS, sizeof t[0], cmp_double);
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    if (!p || fscanf(p, "%64s", want) != 1 || strcmp(hex, want)) {
        printf("digest differs from sha256sum's: %s vs %s\n", hex, want);
        rc = 1;
    }
    if (p) pclose(p);

    /* the rerun: a cache made by one lookup, saved, reopened */
    char cpath[4200];
    snprintf(cpath, sizeof cpath, "%s.cache", path);
    HashCache *hc = hash_cache_open(cpath);
    double h0 = now_seconds();
    int ok = hash_cache_file(hc, path, hex, NULL, &err) == 0 && hash_cache_save(hc, &err) == 0;
    double first = now_seconds() - h0;
    hash_cache_free(hc);
    hc = hash_cache_open(cpath);
    h0 = now_seconds();
    ok = ok && hash_cache_file(hc, path, hex, NULL, &err) == 0 && !strcmp(hex, want);
    double again = now_seconds() - h0;
    char cache_line[1600];
    if (ok) snprintf(cache_line, sizeof cache_line, "hash cache: first lookup %.3f s (read and hashed), the next run's %.6f s (%s)\n", first, again,
                     hash_cache_hashed(hc) ? "read again: the file had not settled" : "from the cache file, nothing read");
    else snprintf(cache_line, sizeof cache_line, "hash cache failed: %s\n", err.msg);
    rc |= !ok;
    hash_cache_free(hc);
    unlink(cpath);
    unlink(path);
    /* The verdict uses CPU time, as bench_tokenizer does: single-threaded work on a shared machine,
     * where wall time says more about the neighbours than about the hash. */
    double per_gb = cpu_best / (bytes / 1e9);
    printf("sha256 of a %.2f GB file (page cache warm): best %.3f s, median %.3f s = %.2f GB/s best,"
           " %.2f GB/s median\n", bytes / 1e9, t[0], t[RUNS / 2], bytes / 1e9 / t[0],
           bytes / 1e9 / t[RUNS / 2]);
    printf("CPU time of the fastest run %.3f s (%.0f%% of its wall time: less means the machine was"
           " busy)\n", cpu_best, 100 * cpu_best / t[0]);
    printf("CPU seconds per GB %.3f, wall seconds per GB %.3f, target < 1: %s (%.2fx)\n", per_gb, t[0] / (bytes / 1e9), per_gb < 1.0 ? "PASS" : "MISS",
           1.0 / per_gb);
    fputs(cache_line, stdout);
    return rc;
}
