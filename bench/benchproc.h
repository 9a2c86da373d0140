/* benchproc: timing whole commands for the benchmarks that compare coldtok with llama.cpp's
 * oracle helper: a child process's wall time, peak RSS and the bytes of the model it brought into
 * the page cache, cold (the model's pages dropped first) or warm; and the one-line verdict every
 * benchmark prints per target. Header-only (static functions): each bench is one program. */
#ifndef COLDTOK_BENCHPROC_H
#define COLDTOK_BENCHPROC_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "common/util.h"

#define GiB (1024.0 * 1024.0 * 1024.0)

static inline int verdict(const char *what, double value, double target, const char *unit) {
    int ok = value <= target;
    printf("  target %-44s %s (%.3g%s vs <= %.3g%s)\n", what, ok ? "PASS" : "MISS", value, unit, target, unit);
    return ok;
}

/* The benchmarks' targets are for n threads: OMP_NUM_THREADS (which the children inherit) and this
 * process's team are set to n unless the environment chose. */
static inline void bench_default_threads(int n) {
    if (getenv("OMP_NUM_THREADS")) return;
    char v[16];
    snprintf(v, sizeof v, "%d", n);
    setenv("OMP_NUM_THREADS", v, 1);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

/* /proc/loadavg's line ("" where there is none): printed with figures a shared machine skews. */
static inline void bench_loadavg(char *buf, size_t n) {
    FILE *fp = fopen("/proc/loadavg", "r");
    buf[0] = '\0';
    if (fp && fgets(buf, (int)n, fp)) buf[strcspn(buf, "\n")] = '\0';
    if (fp) fclose(fp);
}

/* A program of the same build: BUILD/bench/NAME -> BUILD/rel ("coldtok", "oracle/llama_oracle"). */
static inline void bench_sibling(const char *argv0, const char *rel, char *out, size_t n) {
    snprintf(out, n, "%s", argv0);
    char *slash = strrchr(out, '/');
    if (slash) *slash = '\0';
    slash = strrchr(out, '/');
    if (slash) snprintf(slash + 1, n - (size_t)(slash + 1 - out), "%s", rel);
    else snprintf(out, n, "%s", rel);
}

/* Bytes of the file now in the page cache (mincore over a fresh mapping). */
static inline double resident_bytes(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    struct stat sb;
    fstat(fd, &sb);
    void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return -1;
    long pg = sysconf(_SC_PAGESIZE);
    size_t n = ((size_t)sb.st_size + (size_t)pg - 1) / (size_t)pg;
    unsigned char *v = malloc(n);
    double r = -1;
    if (v && mincore(p, (size_t)sb.st_size, v) == 0) {
        size_t c = 0;
        for (size_t i = 0; i < n; i++) c += v[i] & 1;
        r = (double)c * (double)pg;
    }
    free(v);
    munmap(p, (size_t)sb.st_size);
    return r;
}

static inline void drop_cache(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}

typedef struct {
    double wall, cpu, read_bytes; /* cpu: the child's user + system seconds */
    long rss_kb;
} Run;

/* Runs argv (stdout to /dev/null), cold (the model's pages dropped first) or warm. */
static inline int run(char *const *argv, const char *model, int cold, Run *out) {
    if (cold) drop_cache(model);
    double before = resident_bytes(model), t0 = now_seconds();
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout)) _exit(127);
        setenv("OMP_NUM_THREADS", "2", 1);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    out->wall = now_seconds() - t0;
    out->cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6;
    out->rss_kb = ru.ru_maxrss;
    out->read_bytes = resident_bytes(model) - before;
    return 0;
}

#endif
