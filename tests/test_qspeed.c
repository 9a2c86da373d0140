/* Tests of the quantize speed work (issue 15): the vectorized paths must give bit for bit what the
 * serial code gave.
 *   - Q4_0's reference quantizer (quant/quantize.c, 16-lane vectors) against this file's serial
 *     transcription of ggml's quantize_row_q4_0_ref (the code coldtok had before: first value of
 *     largest magnitude, d = max / -8, (int8_t)(x * id + 8.5f) as x86 truncates it, MIN 15), on
 *     random blocks and on the blocks that take its other branches: ties of +max and -max, all
 *     zeros, signed zeros, magnitudes whose 1/d overflows to infinity, the fp16 range's top.
 *   - Q8_0's likewise (ggml's roundf of x / d, the low byte as x86 gives it out of range).
 *   - Q4_0's dequantizer (formats/qtype.c, vectors) against the serial formula, every byte value.
 *   - The 16-lane searches (make_qkx2_quants16, make_qkx3_fast16: Q2_K's 16 sub-blocks, or two
 *     Q4_K / Q5_K blocks' 8 each) against two calls of the 8-lane ones, which test_kqsearch holds
 *     to the serial searches; and the pair quantizers (q4k_ref2 ...) against one block at a time.
 * The inputs are this file's own; llama.cpp's bytes on real weights are test_quantize's. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "formats/half.h"
#include "formats/qtype.h"
#include "quant/qblock.h"
#include "quant/quantize.h"
#include "tests/testutil.h"

/* ---- the serial references ---- */

static int low_byte(float f) { /* (int8_t)f on x86-64: cvttss2si, then the low byte */
    int32_t i = (f >= -2147483648.0f && f < 2147483648.0f) ? (int32_t)f : INT32_MIN;
    return (int)((uint32_t)i & 0xFF);
}
static int as_i8(int byte) { return byte >= 128 ? byte - 256 : byte; }
static int min15(int v) { return v < 15 ? v : 15; }

static void ref_q4_0(const float *x, uint8_t *y) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; j++)
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    const float d = max / -8;
    const float id = d ? 1.0f / d : 0.0f;
    const uint16_t h = f32_to_fp16(d);
    y[0] = (uint8_t)(h & 0xFF), y[1] = (uint8_t)(h >> 8);
    for (int j = 0; j < 16; j++) {
        const int a = min15(as_i8(low_byte(x[j] * id + 8.5f)));
        const int b = min15(as_i8(low_byte(x[j + 16] * id + 8.5f)));
        y[2 + j] = (uint8_t)((uint8_t)a | (uint8_t)(b << 4));
    }
}

/* coldtok's serial Q8_0 (ggml's roundf, as x86 truncates out of range; in int64, no overflow) */
static void ref_q8_0(const float *x, uint8_t *y) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) amax = amax < fabsf(x[j]) ? fabsf(x[j]) : amax;
    const float d = amax / 127;
    const float id = d ? 1.0f / d : 0.0f;
    const uint16_t h = f32_to_fp16(d);
    y[0] = (uint8_t)(h & 0xFF), y[1] = (uint8_t)(h >> 8);
    for (int j = 0; j < 32; j++) {
        const float v = x[j] * id;
        const int32_t t = (v >= -2147483648.0f && v < 2147483648.0f) ? (int32_t)v : INT32_MIN;
        const float f = v - (float)t;
        y[2 + j] = (uint8_t)(((int64_t)t + (f >= 0.5f) - (f <= -0.5f)) & 0xFF);
    }
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next32(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}
static float uniform01(void) { return (float)((next32() + 0.5) / 4294967296.0); }
static float gauss(void) { return sqrtf(-2 * logf(uniform01())) * cosf(6.2831853f * uniform01()); }

/* one block of 32 of the given kind */
static void fill_block(int kind, float *x) {
    static const float mags[] = {0.02f, 1.0f, 1e-4f, 1e-30f, 1e-38f, 1e-40f, 1e-44f, 60000.0f};
    const float mag = mags[next32() % (sizeof mags / sizeof mags[0])];
    for (int j = 0; j < 32; j++) x[j] = mag * gauss();
    switch (kind) {
    case 1: /* a tie: +m and -m, either first */
        x[next32() % 32] = mag * 3, x[next32() % 32] = -mag * 3;
        break;
    case 2: /* all zeros, some negative */
        for (int j = 0; j < 32; j++) x[j] = (next32() & 1) ? -0.0f : 0.0f;
        break;
    case 3: /* a few values, zeros around them */
        for (int j = 0; j < 32; j++)
            if (next32() % 4) x[j] = (next32() & 1) ? -0.0f : 0.0f;
        break;
    case 4: /* the largest magnitude last, or the top of fp16 */
        x[31] = (next32() & 1) ? -mag * 5 : 65504.0f;
        break;
    case 5: /* rounding edges: multiples of max/16 and halfway points */
        for (int j = 0; j < 32; j++) x[j] = mag * (float)((int)(next32() % 33) - 16) / 16.0f;
        break;
    default:
        break;
    }
    for (int j = 0; j < 32; j++) x[j] = fmaxf(-65504.0f, fminf(65504.0f, x[j])); /* what Q4_0 takes */
}

#define N_BLOCKS 64

static void q8_0_matches_serial(void **state) {
    (void)state;
    const int rounds = sanitizer_build() ? 500 : 5000;
    float x[32 * N_BLOCKS];
    uint8_t got[34 * N_BLOCKS], want[34 * N_BLOCKS];
    for (int r = 0; r < rounds; r++) {
        for (int b = 0; b < N_BLOCKS; b++) fill_block((r + b) % 6, x + 32 * b);
        for (int b = 0; b < N_BLOCKS; b++) ref_q8_0(x + 32 * b, want + 34 * b);
        assert_int_equal(qquantize_row(Q_Q8_0, x, got, 32 * N_BLOCKS, NULL), 0);
        for (int b = 0; b < N_BLOCKS; b++)
            if (memcmp(got + 34 * b, want + 34 * b, 34))
                fail_msg("Q8_0 block differs from the serial reference: round %d block %d kind %d (x0 %g)", r, b,
                         (r + b) % 6, (double)x[32 * b]);
    }
}

static void q4_0_matches_serial(void **state) {
    (void)state;
    const int rounds = sanitizer_build() ? 500 : 5000;
    float x[32 * N_BLOCKS];
    uint8_t got[18 * N_BLOCKS], got_ref[18 * N_BLOCKS], want[18 * N_BLOCKS];
    long blocks = 0;
    for (int r = 0; r < rounds; r++) {
        for (int b = 0; b < N_BLOCKS; b++) fill_block((r + b) % 6, x + 32 * b);
        for (int b = 0; b < N_BLOCKS; b++) ref_q4_0(x + 32 * b, want + 18 * b);
        assert_int_equal(qquantize_row(Q_Q4_0, x, got, 32 * N_BLOCKS, NULL), 0);
        assert_int_equal(qquantize_row_ref(Q_Q4_0, x, got_ref, 32 * N_BLOCKS), 0);
        for (int b = 0; b < N_BLOCKS; b++)
            if (memcmp(got + 18 * b, want + 18 * b, 18) || memcmp(got_ref + 18 * b, want + 18 * b, 18))
                fail_msg("Q4_0 block differs from the serial reference: round %d block %d kind %d (x0 %g)", r, b,
                         (r + b) % 6, (double)x[32 * b]);
        blocks += N_BLOCKS;
    }
    print_message("# Q4_0: %ld blocks equal to the serial reference\n", blocks);
}

/* out of fp16's range or not finite: refused, wherever in the row (the vector check's tail too) */
static void q4_0_refuses_bad_values(void **state) {
    (void)state;
    float x[32 * 3];
    uint8_t y[18 * 3];
    const float bad[] = {65520.0f, -1e6f, INFINITY, NAN};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        for (int at = 0; at < 96; at += 5) {
            for (int j = 0; j < 96; j++) x[j] = 0.5f;
            x[at] = bad[k];
            assert_int_equal(qquantize_row(Q_Q4_0, x, y, 96, NULL), -1);
        }
    for (int j = 0; j < 96; j++) x[j] = j % 2 ? 65504.0f : -65504.0f;
    assert_int_equal(qquantize_row(Q_Q4_0, x, y, 96, NULL), 0);
}

static void q4_0_dequant_matches_serial(void **state) {
    (void)state;
    uint8_t blk[18 * 256];
    float y[32 * 256];
    static const uint16_t ds[] = {0x3C00, 0xBC00, 0x0001, 0x8001, 0x7BFF, 0x7C00, 0x0000, 0x8000};
    for (int t = 0; t < 64; t++) {
        for (int b = 0; b < 256; b++) {
            const uint16_t d = t < 8 ? ds[t] : (uint16_t)next32();
            blk[18 * b] = (uint8_t)(d & 0xFF), blk[18 * b + 1] = (uint8_t)(d >> 8);
            for (int j = 0; j < 16; j++) blk[18 * b + 2 + j] = (uint8_t)(b + 17 * j); /* every byte value */
        }
        assert_int_equal(qdequant_row(Q_Q4_0, blk, y, 32 * 256), 0);
        for (int b = 0; b < 256; b++) {
            const float d = half_to_f32((uint16_t)(blk[18 * b] | blk[18 * b + 1] << 8));
            for (int j = 0; j < 16; j++) {
                const int q = blk[18 * b + 2 + j];
                const float w0 = ((q & 0x0F) - 8) * d, w1 = ((q >> 4) - 8) * d;
                if (memcmp(&w0, &y[32 * b + j], 4) || memcmp(&w1, &y[32 * b + j + 16], 4))
                    fail_msg("Q4_0 dequant differs: d %04x byte %02x", (unsigned)(blk[18 * b] | blk[18 * b + 1] << 8), q);
            }
        }
    }
}

/* 16 sub-blocks of n values and weights; kind picks the case (as test_kqsearch's) */
static void fill_subblocks(int kind, int n, float *x, float *w) {
    const float scale = kind == 5 ? 1e-6f : kind == 6 ? 3e-8f : 0.02f;
    for (int i = 0; i < 16 * n; i++) {
        x[i] = scale * gauss();
        if (kind == 1) x[i] = fabsf(x[i]);                  /* minimum clamped to 0 */
        if (kind == 2 && i % n < n / 2) x[i] = 0;           /* half zeros */
        if (kind == 3 && (i / n) % 3 == 0) x[i] = 0.01f;    /* constant sub-blocks */
        if (kind == 4 && (i / n) % 2 == 0) x[i] = 0;        /* all-zero sub-blocks */
        w[i] = kind % 2 ? uniform01() : fabsf(x[i]) + 0.01f; /* uneven or |x|-like weights */
    }
}

static int same(const void *a, const void *b, size_t n) { return memcmp(a, b, n) == 0; }

static void lanes16_match_lanes8(void **state) {
    (void)state;
    const int rounds = sanitizer_build() ? 200 : 2000;
    float x[16 * 32], w[16 * 32], s16[16], m16[16], s8[16], m8[16];
    uint8_t L16[16 * 32], L8[16 * 32];
    static const struct {
        int n, nmax, mad, nstep;
        float rmin, rdelta;
    } cases[] = {{16, 3, 1, 15, -0.5f, 0.1f}, {32, 15, 0, 20, -1.f, 0.1f}, {32, 31, 0, 15, -0.5f, 0.1f}};
    for (int r = 0; r < rounds; r++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            const int n = cases[c].n, nmax = cases[c].nmax, kind = r % 7;
            fill_subblocks(kind, n, x, w);
            make_qkx2_quants16(n, nmax, x, w, L16, s16, m16, cases[c].rmin, cases[c].rdelta, cases[c].nstep,
                               cases[c].mad);
            for (int h = 0; h < 2; h++)
                make_qkx2_quants8(n, nmax, x + 8 * n * h, w + 8 * n * h, L8 + 8 * n * h, s8 + 8 * h, m8 + 8 * h,
                                  cases[c].rmin, cases[c].rdelta, cases[c].nstep, cases[c].mad);
            if (!same(L16, L8, 16 * (size_t)n) || !same(s16, s8, sizeof s8) || !same(m16, m8, sizeof m8))
                fail_msg("make_qkx2_quants16 differs from two make_qkx2_quants8: round %d case %zu kind %d", r, c, kind);
            make_qkx3_fast16(n, nmax, x, w, L16, s16, m16, -0.9f, 0.05f, 36);
            for (int h = 0; h < 2; h++)
                make_qkx3_fast8(n, nmax, x + 8 * n * h, w + 8 * n * h, L8 + 8 * n * h, s8 + 8 * h, m8 + 8 * h,
                                -0.9f, 0.05f, 36);
            if (!same(L16, L8, 16 * (size_t)n) || !same(s16, s8, sizeof s8) || !same(m16, m8, sizeof m8))
                fail_msg("make_qkx3_fast16 differs from two make_qkx3_fast8: round %d case %zu kind %d", r, c, kind);
        }
}

static void pairs_match_single_blocks(void **state) {
    (void)state;
    const int rounds = sanitizer_build() ? 100 : 1000;
    float x[512], w[512];
    uint8_t two[2 * 176], one[2 * 176];
    typedef void (*Pair)(const float *, uint8_t *, size_t);
    typedef void (*One)(const float *, uint8_t *);
    typedef void (*OneW)(const float *, uint8_t *, const float *);
    static const struct {
        const char *name;
        size_t bb;
        Pair ref2, imp2;
        One ref;
        OneW imp;
    } types[] = {{"Q4_K", 144, q4k_ref2, q4k_imp2, q4k_ref, q4k_imp}, {"Q5_K", 176, q5k_ref2, q5k_imp2, q5k_ref, q5k_imp}};
    for (int r = 0; r < rounds; r++) {
        fill_subblocks(r % 7, 32, x, w);
        if (r % 5 == 4) /* blocks of different magnitudes */
            for (int i = 256; i < 512; i++) x[i] *= 1000.0f;
        for (size_t t = 0; t < 2; t++) {
            const size_t bb = types[t].bb;
            types[t].ref2(x, two, bb);
            types[t].ref(x, one), types[t].ref(x + 256, one + bb);
            if (!same(two, one, 2 * bb)) fail_msg("%s: ref2 differs from two refs, round %d", types[t].name, r);
            types[t].imp2(x, two, bb);
            types[t].imp(x, one, NULL), types[t].imp(x + 256, one + bb, NULL);
            if (!same(two, one, 2 * bb)) fail_msg("%s: imp2 differs from two imps, round %d", types[t].name, r);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(q4_0_matches_serial),
        cmocka_unit_test(q8_0_matches_serial),
        cmocka_unit_test(q4_0_refuses_bad_values),
        cmocka_unit_test(q4_0_dequant_matches_serial),
        cmocka_unit_test(lanes16_match_lanes8),
        cmocka_unit_test(pairs_match_single_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
