/* fuzzutil: what the libFuzzer harnesses share. Define FUZZ_NAME (the harness's name, a string
 * literal) before including it. CHECK aborts the run with a line naming the harness, which
 * libFuzzer reports as a crash and saves the input for; check_err holds a failed call to the
 * project's error contract: exactly one non-empty line in err->msg. */
#ifndef COLDTOK_FUZZUTIL_H
#define COLDTOK_FUZZUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define CHECK(cond, ...)                                        \
    do {                                                        \
        if (!(cond)) {                                          \
            fprintf(stderr, FUZZ_NAME ": " __VA_ARGS__);        \
            fputc('\n', stderr);                                \
            abort();                                            \
        }                                                       \
    } while (0)

static inline void check_err(const Err *err, const char *what) {
    size_t n = strnlen(err->msg, sizeof err->msg);
    CHECK(n > 0 && n < sizeof err->msg, "%s failed without a message", what);
    CHECK(!memchr(err->msg, '\n', n), "%s: message is not one line: %s", what, err->msg);
}

#endif
