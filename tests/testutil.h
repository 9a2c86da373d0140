/* testutil: what the cmocka test programs share. Tests run from the repository root.
 * Fixtures live in $COLDTOK_FIXTURES (default ../shared/fixtures); a test that needs one and
 * finds it absent calls skip() after printing why, so a machine without fixtures still runs. */
#ifndef COLDTOK_TESTUTIL_H
#define COLDTOK_TESTUTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

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

/* The llama.cpp oracle helper (docs/testing.md): $LLAMA_ORACLE, or oracle/llama_oracle next to
 * $COLDTOK (as tests/cli_oracle.sh finds it); NULL when it is not built. Static storage. */
static inline const char *oracle_path(void) {
    static char path[512];
    const char *env = getenv("LLAMA_ORACLE"), *bin = getenv("COLDTOK");
    if (env && *env) snprintf(path, sizeof path, "%s", env);
    else {
        const char *slash = bin ? strrchr(bin, '/') : NULL;
        snprintf(path, sizeof path, "%.*s/oracle/llama_oracle", slash ? (int)(slash - bin) : 5,
                 slash ? bin : "build");
    }
    return is_file(path) ? path : NULL;
}

/* Skips the current test with a reason when the oracle is not built; evaluates to its path. */
#define NEED_ORACLE()                                                                          \
    ({                                                                                         \
        const char *o_ = oracle_path();                                                           \
        if (!o_) {                                                                             \
            printf("# skip: the llama.cpp oracle is not built (make oracle; make tests)\n");   \
            skip();                                                                            \
        }                                                                                      \
        o_;                                                                                    \
    })

/* True in the sanitizer pass of make check ($COLDTOK is build-asan/coldtok): that pass runs every
 * program ~10x slower, so tests whose oracle work or numerics take minutes run a reduced set
 * there (saying so); the full set runs in the normal pass. */
static inline int sanitizer_build(void) {
    const char *bin = getenv("COLDTOK");
    return bin && strstr(bin, "asan") != NULL;
}

/* ggml_quantize_chunk through the oracle (path o): rows x cols floats of x to TYPE (imp: cols
 * importance weights or NULL) into *len bytes on the heap (free them); fails the test when the
 * oracle fails. Files go to a fresh folder under /tmp, removed after. */
static inline uint8_t *oracle_quant_chunk(const char *o, const char *type, const float *x, int64_t rows,
                                          int64_t cols, const float *imp, size_t *len) {
    char dir[64] = "/tmp/coldtok-test-quant.XXXXXX", in[96], out[96], im[96], cmd[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(in, sizeof in, "%s/in", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(im, sizeof im, "%s/imp", dir);
    Err err;
    if (write_file_atomic(in, x, (size_t)(rows * cols) * sizeof *x, &err) ||
        (imp && write_file_atomic(im, imp, (size_t)cols * sizeof *imp, &err)))
        fail_msg("%s", err.msg);
    snprintf(cmd, sizeof cmd, "'%s' quant %s %lld %s %s %s", o, type, (long long)cols, in, out, imp ? im : "");
    const int rc = system(cmd);
    if (rc != 0) fail_msg("'%s' exited %d", cmd, rc);
    uint8_t *q = (uint8_t *)read_file(out, len, &err);
    remove(in), remove(out), remove(im), remove(dir);
    if (!q) fail_msg("%s", err.msg);
    return q;
}

/* max |x[i]| and max |a[i] - b[i]| over n floats (the logit comparisons' scale and gap). */
static inline double max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

static inline double max_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* Largest |a - b| of a row relative to max |b| of that row, over n rows of V logits. */
static inline double worst_row_diff(const float *a, const float *b, int n, int V) {
    double worst = 0;
    for (int i = 0; i < n; i++)
        worst = fmax(worst, max_diff(a + (size_t)i * V, b + (size_t)i * V, (size_t)V) /
                                max_abs(b + (size_t)i * V, (size_t)V));
    return worst;
}

/* n token ids of a model with vocabulary V: bos, then a pseudo-random walk fixed by seed over the
 * ids from 3 up. */
static inline void walk_ids(int *ids, int n, int V, int bos, uint32_t seed) {
    ids[0] = bos;
    for (int i = 1; i < n; i++) seed = seed * 1103515245u + 12345u, ids[i] = 3 + (int)((seed >> 8) % (uint32_t)(V - 3));
}

/* A raw little-endian float32 file (fixture logits, dequantized tensors) as a heap array of *n
 * floats (free it), or NULL when it cannot be read. */
static inline float *read_f32(const char *path, size_t *n) {
    size_t len;
    Err err;
    *n = 0;
    char *d = read_file(path, &len, &err);
    if (!d) return NULL;
    *n = len / 4;
    float *f = xmalloc(len + 4);
    memcpy(f, d, len);
    free(d);
    return f;
}

/* The "ids" array of a fixture prompt.json into ids[0..cap); returns how many. */
static inline int read_prompt(const char *path, int *ids, int cap) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    assert_non_null(root);
    json_t *a = json_object_get(root, "ids");
    int n = 0;
    for (size_t i = 0; i < json_array_size(a) && n < cap; i++)
        ids[n++] = (int)json_integer_value(json_array_get(a, i));
    json_decref(root);
    return n;
}

#endif
