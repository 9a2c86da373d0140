/* common/prefault: the background thread reads exactly the pages the ranges cover, once each, and
 * stops when asked.
 *
 * The count is checked against pages counted by hand: a range from 100 bytes into a page, three
 * pages long, overlaps four pages; one that starts on a boundary and ends 1 byte into the next
 * page, two; a 1-byte range, one. The memory is a mapped file, as the model's weights are. */
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/prefault.h"
#include "tests/testutil.h"

/* Waits (up to 20 s) until the thread has read want pages; returns what it read. */
static size_t wait_pages(const Prefault *pf, size_t want) {
    for (int i = 0; i < 20000 && prefault_pages_done(pf) < want; i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return prefault_pages_done(pf);
}

/* A mapped temporary file of n bytes (unlinked at once: the mapping keeps it). */
static unsigned char *map_temp(size_t n) {
    char path[] = "/tmp/coldtok-prefault-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(ftruncate(fd, (off_t)n), 0);
    unsigned char *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    assert_true(p != MAP_FAILED);
    return p;
}

static void pages_counted(void **state) {
    (void)state;
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = 64 * pg;
    unsigned char *p = map_temp(len);
    MemRange r[] = {
        {p + 100, 3 * pg},      /* 4 pages: 0, 1, 2, 3 */
        {p + 8 * pg, pg + 1},   /* 2 pages: 8, 9 */
        {p + 20 * pg + 7, 1},   /* 1 page: 20 */
        {NULL, 5 * pg},         /* nothing: absent */
        {p + 30 * pg, 0},       /* nothing: empty */
        {p + 32 * pg, 32 * pg}, /* 32 pages: 32 .. 63 */
    };
    Prefault *pf = prefault_start(r, sizeof r / sizeof *r);
    assert_non_null(pf);
    assert_int_equal(wait_pages(pf, 39), 39);
    struct timespec ms = {0, 20000000}; /* and no more after a while */
    nanosleep(&ms, NULL);
    assert_int_equal(prefault_stop(pf), 39);
    munmap(p, len);
}

static void nothing_to_do(void **state) {
    (void)state;
    MemRange r[] = {{NULL, 4096}, {"x", 0}};
    assert_null(prefault_start(r, 2));
    assert_null(prefault_start(NULL, 0));
    assert_int_equal(prefault_stop(NULL), 0);
}

/* Stopped at once over 1 GiB of a file that is never written (every page a fault, about half a
 * second to read it all): the thread ends when asked, not at the end of its ranges. A round may
 * read everything if this thread loses its core between start and stop, so the check is on the
 * sum of 20 rounds: together under the pages of 10. */
static void stops_when_asked(void **state) {
    (void)state;
    const size_t len = (size_t)1 << 30, pages = len / (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *p = map_temp(len);
    MemRange r = {p, len};
    size_t read = 0;
    for (int round = 0; round < 20; round++) {
        Prefault *pf = prefault_start(&r, 1);
        assert_non_null(pf);
        read += prefault_stop(pf);
    }
    assert_true(read < 10 * pages);
    munmap(p, len);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pages_counted),
        cmocka_unit_test(nothing_to_do),
        cmocka_unit_test(stops_when_asked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
