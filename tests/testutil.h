/* testutil: what the cmocka test programs share. Tests run from the repository root.
 * Fixtures live in $COLDTOK_FIXTURES (default ../shared/fixtures); a test that needs one and
 * finds it absent calls skip() after printing why, so a machine without fixtures still runs. */
#ifndef COLDTOK_TESTUTIL_H
#define COLDTOK_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "common/util.h"

/* Path of REL under the fixtures folder (static storage, overwritten by the next call), or NULL
 * when that file is absent. */
static inline const char *fixture(const char *rel) {
    static char path[4096];
    const char *dir = getenv("COLDTOK_FIXTURES");
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "../shared/fixtures", rel);
    return is_file(path) || is_dir(path) ? path : NULL;
}

/* Skips the current test with a reason when the fixture is absent; evaluates to its path. */
#define NEED_FIXTURE(rel)                                                           \
    ({                                                                              \
        const char *p_ = fixture(rel);                                              \
        if (!p_) {                                                                  \
            printf("# skip: fixture %s absent (set COLDTOK_FIXTURES)\n", rel);      \
            skip();                                                                 \
        }                                                                           \
        p_;                                                                         \
    })

#endif
