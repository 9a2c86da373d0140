/* hfquant_awq: AutoAWQ's GEMV layout (quantization_config version "gemv") of formats/hfquant.h,
 * kept apart from the GEMM and GPTQ packings of hfquant.c. Private to formats/hfquant*.c:
 * hq_tensor_init and hq_rows_f32 call these; the public entry points are in hfquant.h. */
#ifndef COLDTOK_HFQUANT_AWQ_H
#define COLDTOK_HFQUANT_AWQ_H

#include "formats/hfquant.h"

/* The zero point of every group of an AWQ layer stored without qzeros (zero_point false: AutoAWQ
 * quantizes to -8..7; the 4-bit codes hold them plus 8, as every unsigned packing does). */
#define HQ_AWQ_SYM_ZERO 8

/* AutoAWQ's calculate_zeros_width: the qzeros words per output for IN inputs in groups of GS
 * (ceil(groups / 8), rounded up to a multiple of 4 for group 32, of 2 for group 64); 0 for a
 * group size AutoAWQ does not know. */
int64_t hq_awq_zeros_width(int64_t in, int64_t gs);

/* hq_tensor_init for c->awq_gemv: qweight [rows, cols/8] I32, qzeros [rows, zeros width] I32
 * (optional when c->sym, i.e. zero_point false), scales [rows, zeros width * 8] F16 / BF16 / F32. */
int hq_tensor_init_awq_gemv(HqTensor *t, const HqConfig *c, const HqPart *qweight, const HqPart *qzeros,
                            const HqPart *scales, int64_t rows, int64_t cols, const char *where,
                            const char *name, Err *err);
/* hq_rows_f32 for an AWQ GEMV layer. */
void hq_rows_awq_gemv(const HqTensor *t, int64_t r0, int n, float *out);

#endif
