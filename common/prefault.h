/* prefault: the first read of each page of read-only memory (a file mapping), done ahead of its
 * user by a background thread that runs only when a core would otherwise be idle.
 *
 * Why: the first touch of a page of a mapped file is a page fault, and in a virtual machine with
 * shadow page tables each 4 KiB page costs the first reader about 1.5 us even when the file is in
 * the page cache (MAP_POPULATE and MADV_POPULATE_READ fill the guest's tables, not the host's):
 * 0.4 s of CPU for a 1 GB model, most of a cold start. While a model's tokenizer loads on one core
 * the other core is idle; touching the weights there, in the order the forward pass reads them,
 * takes those faults off the critical path. The thread runs under SCHED_IDLE, so it never takes a
 * core from this process's threads or anyone else's, and it reads nothing the pass would not.
 *
 * prefault_start copies the ranges and returns a handle, or NULL when there is nothing to do (no
 * bytes, or no thread could be made: the caller loses nothing but the head start).
 * prefault_stop tells the thread to stop, waits for it (it looks every 64 pages), frees
 * the handle and returns how many pages the thread read; it must be called before the memory is
 * unmapped. NULL is accepted (0). prefault_pages_done: the pages read so far. */
#ifndef COLDTOK_PREFAULT_H
#define COLDTOK_PREFAULT_H

#include <stddef.h>

typedef struct {
    const void *p;
    size_t n; /* bytes */
} MemRange;

typedef struct Prefault Prefault;

Prefault *prefault_start(const MemRange *r, size_t n_ranges);
size_t prefault_stop(Prefault *pf);
size_t prefault_pages_done(const Prefault *pf);

#endif
