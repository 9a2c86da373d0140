/* Tests of the quantize speed work (issue 15): the vectorized paths must give bit for bit what the
 * serial code gave.
 *   - Q4_0's reference quantizer (quant/quantize.c, 16-lane vectors) against this file's serial
 *     transcription of ggml's quantize_row_q4_0_ref (the code coldtok had before: first value of
 *     largest magnitude, d = max / -8, (int8_t)(x * id + 8.5f) as x86 truncates it, MIN 15), on
 *     random blocks and on the blocks that take its other branches: ties of +max and -max, all
 *     zeros, signed zeros, magnitudes whose 1/d overflows to infinity, the fp16 range's top.
 *   - Q4_0's dequantizer (formats/qtype.c, vectors) against the serial formula, every byte value.
 * The inputs are this file's own; llama.cpp's bytes on real weights are test_quantize's. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "formats/half.h"
#include "formats/qtype.h"
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(q4_0_matches_serial),
        cmocka_unit_test(q4_0_refuses_bad_values),
        cmocka_unit_test(q4_0_dequant_matches_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
