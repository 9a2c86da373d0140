/* convert_x86: the x86-64 kernels of formats/convert.h. Private to formats/convert.c. */
#ifndef COLDTOK_CONVERT_X86_H
#define COLDTOK_CONVERT_X86_H

#include "formats/convert.h"

/* Replaces the portable kernels in cv by the fastest ones this CPU runs (AVX-512, F16C,
 * AVX512-BF16), leaving the rest; does nothing on other architectures. */
void convert_init_x86(Convert *cv);

#endif
