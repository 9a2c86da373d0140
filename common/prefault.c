/* prefault: see prefault.h. */
#include "common/prefault.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

struct Prefault {
    MemRange *r;
    size_t n;
    size_t page;
    atomic_int stop;
    atomic_size_t done; /* pages read */
    pthread_t thread;
};

/* Reads one byte of every page of the ranges, in order, until told to stop. */
static void *touch_pages(void *arg) {
    Prefault *pf = arg;
#ifdef SCHED_IDLE
    struct sched_param sp = {0};
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp); /* if refused: a normal thread */
#endif
    unsigned sum = 0;
    for (size_t i = 0; i < pf->n; i++) {
        const volatile unsigned char *p = pf->r[i].p, *end = p + pf->r[i].n;
        for (size_t k = 0; p < end; k++) {
            if (k % 64 == 0 && atomic_load_explicit(&pf->stop, memory_order_relaxed)) return NULL;
            sum += *p;
            /* on to the next page boundary */
            p += pf->page - ((uintptr_t)p & (pf->page - 1));
            atomic_fetch_add_explicit(&pf->done, 1, memory_order_relaxed);
        }
    }
    (void)sum;
    return NULL;
}

Prefault *prefault_start(const MemRange *r, size_t n_ranges) {
    size_t bytes = 0;
    for (size_t i = 0; i < n_ranges; i++) bytes += r[i].p ? r[i].n : 0;
    if (!bytes) return NULL;
    Prefault *pf = xcalloc(1, sizeof *pf);
    pf->r = xmalloc(n_ranges * sizeof *pf->r);
    for (size_t i = 0; i < n_ranges; i++)
        if (r[i].p && r[i].n) pf->r[pf->n++] = r[i];
    long page = sysconf(_SC_PAGESIZE);
    pf->page = page > 0 && !(page & (page - 1)) ? (size_t)page : 4096;
    atomic_init(&pf->stop, 0);
    atomic_init(&pf->done, 0);
    if (pthread_create(&pf->thread, NULL, touch_pages, pf)) {
        free(pf->r);
        free(pf);
        return NULL;
    }
    return pf;
}

size_t prefault_stop(Prefault *pf) {
    if (!pf) return 0;
    atomic_store(&pf->stop, 1);
    pthread_join(pf->thread, NULL);
    size_t done = atomic_load(&pf->done);
    free(pf->r);
    free(pf);
    return done;
}

size_t prefault_pages_done(const Prefault *pf) {
    return pf ? atomic_load_explicit(&pf->done, memory_order_relaxed) : 0;
}
