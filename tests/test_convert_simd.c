/* Tests of the fast block kernels of formats/convert*.c for the low-bit and i-quant types: at every
 * instruction-set level this CPU has (convert_init_level: AVX2, AVX-512), convert_rows_f32 must
 * equal the scalar dequantizer (qdequant_row, itself bit-identical to ggml's: test_lowbit.c,
 * test_iquants.c) byte for byte (memcmp) on
 *   - random blocks (every bit pattern of the codes and scales, hence NaN, Inf, subnormal and
 *     zero fp16 scales and every e8m0 exponent), several rows of several blocks;
 *   - the same blocks with each extreme scale written over the scale field;
 *   - every code value in every position (blocks whose code bytes run through 0..255).
 * The kernel must be installed at that level (a NULL entry would compare qdequant_row with itself).
 * A level the CPU lacks is reported and skipped. */
#include <string.h>

#include "formats/convert.h"
#include "formats/qtype.h"
#include "tests/testutil.h"

typedef struct {
    uint32_t type;
    int scale_at, scale_bytes; /* the block's scale field (-1: scattered, random bytes only) */
} Kernel;

static const Kernel KERNELS[] = {
    {Q_IQ4_NL, 0, 2}, {Q_IQ4_XS, 0, 2}, {Q_MXFP4, 0, 1}, {Q_TQ2_0, 64, 2}, {Q_TQ1_0, 52, 2},
    {Q_IQ2_XXS, 0, 2}, {Q_IQ2_XS, 0, 2}, {Q_IQ2_S, 0, 2}, {Q_IQ3_XXS, 0, 2}, {Q_IQ3_S, 0, 2},
    {Q_IQ1_S, 0, 2}, {Q_IQ1_M, -1, 0},
};
#define N_KERNELS (sizeof KERNELS / sizeof KERNELS[0])

/* fp16: largest finite, smallest subnormal, largest subnormal, smallest normal, +-0, +-Inf, quiet
 * and signalling NaN, negative largest, 1. */
static const uint16_t HALF_SCALES[] = {0x7bff, 0x0001, 0x03ff, 0x0400, 0x0000, 0x8000, 0x7c00,
                                       0xfc00, 0x7e00, 0x7d01, 0xfbff, 0x3c00};
/* e8m0: the smallest and largest exponents, 2^0, and 0xff (NaN in OCP MX, a plain exponent to ggml) */
static const uint8_t E8M0_SCALES[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint8_t next_byte(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint8_t)(rng >> 24);
}

/* convert_rows_f32 of ROWS rows of COLS against qdequant_row, row by row, memcmp. */
static void same_as_scalar(const Convert *cv, uint32_t type, const uint8_t *q, int64_t rows, int64_t cols) {
    float *fast = malloc((size_t)(rows * cols) * sizeof(float));
    float *slow = malloc((size_t)(rows * cols) * sizeof(float));
    assert_non_null(fast), assert_non_null(slow);
    memset(fast, 0x55, (size_t)(rows * cols) * sizeof(float));
    convert_rows_f32(cv, type, q, rows, cols, fast);
    size_t rb = qtype_row_bytes(type, cols);
    for (int64_t r = 0; r < rows; r++)
        assert_int_equal(qdequant_row(type, q + (size_t)r * rb, slow + r * cols, cols), 0);
    if (memcmp(fast, slow, (size_t)(rows * cols) * sizeof(float))) {
        for (int64_t i = 0; i < rows * cols; i++) {
            uint32_t a, b;
            memcpy(&a, &fast[i], 4), memcpy(&b, &slow[i], 4);
            if (a != b) {
                print_error("%s: element %lld: kernel %08x, scalar %08x\n", qtype_name(type), (long long)i, a, b);
                break;
            }
        }
        fail();
    }
    free(fast), free(slow);
}

static void check_level(int level) {
    Convert cv;
    int got = convert_init_level(&cv, level);
    if (got < level) {
        printf("# this CPU has no %s: skipped\n", level == CONVERT_AVX512 ? "AVX-512" : "AVX2");
        skip();
    }
    for (size_t k = 0; k < N_KERNELS; k++) {
        const Kernel *K = &KERNELS[k];
        assert_non_null(cv.blocks[K->type]);
        const int64_t be = qtype_block_elems(K->type), bb = (int64_t)qtype_block_bytes(K->type);
        const int64_t rows = 3, nb = 7, cols = nb * be;
        const size_t bytes = (size_t)(rows * nb * bb);
        uint8_t *q = malloc(bytes);
        assert_non_null(q);
        for (int pass = 0; pass < 50; pass++) { /* random blocks */
            for (size_t i = 0; i < bytes; i++) q[i] = next_byte();
            same_as_scalar(&cv, K->type, q, rows, cols);
        }
        if (K->scale_at >= 0) { /* extreme scales over random codes */
            int n_sc = K->scale_bytes == 2 ? (int)(sizeof HALF_SCALES / sizeof HALF_SCALES[0])
                                           : (int)sizeof E8M0_SCALES;
            for (int s = 0; s < n_sc; s++) {
                for (size_t i = 0; i < bytes; i++) q[i] = next_byte();
                for (int64_t b = 0; b < rows * nb; b++) {
                    uint8_t *f = q + b * bb + K->scale_at;
                    if (K->scale_bytes == 2) f[0] = (uint8_t)HALF_SCALES[s], f[1] = (uint8_t)(HALF_SCALES[s] >> 8);
                    else f[0] = E8M0_SCALES[s];
                }
                same_as_scalar(&cv, K->type, q, rows, cols);
            }
        }
        /* every byte value at every position: byte i of the run is (i + shift) mod 256 */
        for (int shift = 0; shift < 256; shift += 17) {
            for (size_t i = 0; i < bytes; i++) q[i] = (uint8_t)(i + (size_t)shift);
            if (K->scale_at >= 0) /* a tame scale so that the codes show */
                for (int64_t b = 0; b < rows * nb; b++) {
                    uint8_t *f = q + b * bb + K->scale_at;
                    if (K->scale_bytes == 2) f[0] = 0x00, f[1] = 0x3c;
                    else f[0] = 0x7f;
                }
            same_as_scalar(&cv, K->type, q, rows, cols);
        }
        free(q);
    }
}

static void avx2_kernels_equal_scalar(void **state) {
    (void)state;
    check_level(CONVERT_AVX2);
}

static void avx512_kernels_equal_scalar(void **state) {
    (void)state;
    check_level(CONVERT_AVX512);
}

/* The portable level installs no block kernel for these types: convert_rows_f32 is qdequant_row. */
static void portable_level_has_no_kernel(void **state) {
    (void)state;
    Convert cv;
    assert_int_equal(convert_init_level(&cv, CONVERT_PORTABLE), CONVERT_PORTABLE);
    for (size_t k = 0; k < N_KERNELS; k++) assert_null(cv.blocks[KERNELS[k].type]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(portable_level_has_no_kernel),
        cmocka_unit_test(avx2_kernels_equal_scalar),
        cmocka_unit_test(avx512_kernels_equal_scalar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
