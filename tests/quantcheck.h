/* quantcheck: what the quantizer tests against ggml share (test_iq_quant, test_iq2s_quant,
 * test_iq3xxs_quant): a seeded random source, and the byte-for-byte comparison of coldtok's
 * quantization of some rows with ggml's bytes for them (ggml_quantize_chunk through the oracle:
 * testutil.h's oracle_quant_chunk). Header-only, for test programs; include after testutil.h. */
#ifndef COLDTOK_QUANTCHECK_H
#define COLDTOK_QUANTCHECK_H

#include <math.h>
#include <string.h>

#include "formats/qtype.h"
#include "quant/quantize.h"
#include "tests/testutil.h"

/* ---- a reproducible random source (a 64-bit LCG) ---- */

static inline uint64_t next(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 11;
}
static inline double uniform(uint64_t *s) { return (next(s) + 0.5) / 9007199254740992.0; }
static inline float gauss(uint64_t *s) {
    return (float)(sqrt(-2 * log(uniform(s))) * cos(6.283185307179586 * uniform(s)));
}

/* ---- coldtok's bytes against ggml's ---- */

/* Quantizes rows x cols floats of x to TYPE (imp: cols importance weights or NULL) through every
 * entry point of quant/quantize.h (qquantize_row, qquantize_rows, and without importance
 * qquantize_row_ref) and fails at the first byte that differs from want (ggml's), naming the
 * block and the row. */
static inline void quant_same(const char *what, const char *type, const float *x, int64_t rows, int64_t cols,
                              const float *imp, const uint8_t *want) {
    const uint32_t id = (uint32_t)qtype_from_name(type);
    const size_t rb = qtype_row_bytes(id, cols), bb = qtype_block_bytes(id), len = rb * (size_t)rows;
    uint8_t *got = xmalloc(len);
    for (int64_t r = 0; r < rows; r++)
        assert_int_equal(qquantize_row(id, x + r * cols, got + (size_t)r * rb, cols, imp), 0);
    for (size_t k = 0; k < len; k++)
        if (got[k] != want[k])
            fail_msg("%s %s%s: byte %zu (block %zu of row %zu) is %02x, ggml's %02x", what, type,
                     imp ? " with importance" : "", k, (k % rb) / bb, k / rb, got[k], want[k]);
    memset(got, 0, len); /* the tensor entry point gives the same bytes */
    assert_int_equal(qquantize_rows(id, x, got, rows, cols, imp, NULL), len);
    assert_memory_equal(got, want, len);
    if (!imp) { /* and so does the reference entry point, which takes no importance */
        for (int64_t r = 0; r < rows; r++)
            assert_int_equal(qquantize_row_ref(id, x + r * cols, got + (size_t)r * rb, cols), 0);
        assert_memory_equal(got, want, len);
    }
    free(got);
}

/* The same against ggml_quantize_chunk of those rows, asked of the oracle now. */
static inline void quant_same_as_oracle(const char *what, const char *type, const float *x, int64_t rows,
                                        int64_t cols, const float *imp) {
    size_t len;
    uint8_t *want = oracle_quant_chunk(NEED_ORACLE(), type, x, rows, cols, imp, &len);
    assert_int_equal(len, qtype_row_bytes((uint32_t)qtype_from_name(type), cols) * (size_t)rows);
    quant_same(what, type, x, rows, cols, imp, want);
    free(want);
}

#endif
