/* dot_x86: the x86-64 kernels of formats/dot.h. Private to formats/dot.c. */
#ifndef COLDTOK_DOT_X86_H
#define COLDTOK_DOT_X86_H

#include "formats/dot.h"

/* Replaces the portable kernels in d by the AVX-512 or AVX2 ones, up to `level` (enum
 * ConvertLevel) and as far as this CPU runs them; returns the level used (CONVERT_PORTABLE on
 * other architectures). */
int dot_init_x86(Dot *d, int level);

#endif
