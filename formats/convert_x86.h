/* convert_x86: the x86-64 kernels of formats/convert.h. Private to formats/convert.c. */
#ifndef COLDTOK_CONVERT_X86_H
#define COLDTOK_CONVERT_X86_H

#include "formats/convert.h"

/* Replaces the portable kernels in cv by the fastest ones this CPU runs (AVX-512, F16C,
 * AVX512-BF16) up to `level` (enum ConvertLevel), leaving the rest; returns the level used
 * (CONVERT_PORTABLE on other architectures). */
int convert_init_x86(Convert *cv, int level);

/* The kernels of the low-bit and i-quant block types (formats/convert_iq_x86.c) for `level`,
 * which the caller has checked this CPU runs (CONVERT_AVX2 or CONVERT_AVX512). */
void convert_init_iq_x86(Convert *cv, int level);

#endif
