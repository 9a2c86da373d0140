/* hfquant_codes: the codebook and float schemes of formats/hfquant.h — AQLM and FP8 — kept apart
 * from the integer packings (GPTQ, AWQ) of hfquant.c. Private to formats/hfquant*.c: hfquant.c's
 * config parser and row dispatcher call these; the public entry points are in hfquant.h. */
#ifndef COLDTOK_HFQUANT_CODES_H
#define COLDTOK_HFQUANT_CODES_H

#include "formats/hfquant.h"

/* quantization_config fields of quant_method aqlm / fp8 into *c (method already set). */
int hq_parse_aqlm(const void *json, const char *where, HqConfig *c, Err *err);
int hq_parse_fp8(const void *json, const char *where, HqConfig *c, Err *err);
/* quant_method compressed-tensors: sets c->method to HQ_CT_INT or HQ_CT_FP8. */
int hq_parse_ct(const void *json, const char *where, HqConfig *c, Err *err);
/* bitsandbytes (formats/hfquant_bnb.c): the config's fields; rows of HQ_BNB4 / HQ_BNB8 layers. */
int hq_parse_bnb(const void *json, const char *where, HqConfig *c, Err *err);
void hq_rows_bnb(const HqTensor *t, int64_t r0, int n, float *out);

/* Shared by the decoders: PART present with a dtype in DTYPES (comma-separated: "F16,BF16") and
 * shape WANT[0..nd-1], else one line "WHERE: tensor NAME.PART ..."; the QType of "F16" / "BF16" /
 * "F32" (99 for another); float number I of an F32 / F16 / BF16 array. */
int hq_check(const HqPart *p, const char *dtypes, const int64_t *want, int nd, const char *where,
             const char *name, const char *part, Err *err);
uint32_t hq_float_type(const char *dtype);
float hq_float_at(const uint8_t *base, uint32_t type, size_t i);

/* hq_rows_f32 for t->method HQ_AQLM, HQ_FP8 or HQ_CT_INT. */
void hq_rows_codes(const HqTensor *t, int64_t r0, int n, float *out);

#endif
