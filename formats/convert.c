/* convert: see convert.h. The portable kernels and the dispatch; the x86 kernels are in
 * convert_x86.c. */
#include "formats/convert.h"

#include <string.h>

#include "formats/convert_x86.h"

static void f16_to_f32_c(const uint16_t *s, float *d, int64_t n) {
    for (int64_t i = 0; i < n; i++) d[i] = fp16_to_f32(s[i]);
}

/* f32 -> bf16, round to nearest even (NaN kept quiet): f32_to_bf16's arithmetic in a loop the
 * compiler vectorizes. */
static void f32_to_bf16_c(const float *s, uint16_t *d, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &s[i], 4);
        if ((u & 0x7fffffff) > 0x7f800000) d[i] = (uint16_t)((u >> 16) | 64);
        else d[i] = (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }
}

/* bf16 -> f32 is a shift; the compiler vectorizes this loop. */
static void bf16_to_f32_c(const uint16_t *s, float *d, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)s[i] << 16;
        memcpy(&d[i], &u, 4);
    }
}

int convert_init_level(Convert *cv, int level) {
    memset(cv, 0, sizeof *cv);
    cv->f16_to_f32 = f16_to_f32_c;
    cv->f32_to_bf16 = f32_to_bf16_c;
    return convert_init_x86(cv, level);
}

void convert_init(Convert *cv) { convert_init_level(cv, CONVERT_AVX512); }

void convert_rows_f32(const Convert *cv, uint32_t type, const void *src, int64_t n_rows, int64_t cols,
                      float *dst) {
    int64_t n = n_rows * cols;
    BlocksToF32 blocks = type < Q_COUNT_MAX ? cv->blocks[type] : NULL;
    if (type == Q_F32) memcpy(dst, src, (size_t)n * sizeof(float));
    else if (type == Q_F16) cv->f16_to_f32(src, dst, n);
    else if (type == Q_BF16) bf16_to_f32_c(src, dst, n);
    else if (blocks) blocks(src, dst, n); /* rows are whole blocks: one run */
    else {
        size_t rb = qtype_row_bytes(type, cols);
        for (int64_t i = 0; i < n_rows; i++)
            qdequant_row(type, (const uint8_t *)src + (size_t)i * rb, dst + (size_t)i * cols, cols);
    }
}
