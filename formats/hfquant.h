/* hfquant: Hugging Face quantized checkpoints — config.json's quantization_config and the packed
 * linear layers it describes, unpacked to f32 rows on demand.
 *
 * hq_config_parse reads quantization_config (or an AutoGPTQ quantize_config.json object): GPTQ
 * (AutoGPTQ / GPTQModel: bits 2, 3, 4, 8; group_size, -1 for one group; desc_act; sym;
 * checkpoint_format gptq or gptq_v2) and AWQ (AutoAWQ GEMM: 4 bits, zero_point). Any other
 * quant_method (bitsandbytes, aqlm, fp8, compressed-tensors, exl2, hqq, ...), a layout coldtok
 * does not read (marlin, GEMV) or a bad field is one error line naming it and what is supported.
 *
 * An HqTensor describes one packed linear layer W [rows = out_features, cols = in_features]
 * pointing straight into the file mapping (nothing is copied; pointers may be unaligned);
 * hq_tensor_init checks the stored tensors' dtypes and shapes against the config (and g_idx's
 * values), hq_rows_f32 dequantizes output rows r0 .. r0+n-1 into [n, cols] f32 — the row panels
 * the forward pass multiplies. Layouts and formulas: docs/formats.md "Hugging Face quantized
 * checkpoints". No state; no allocation. */
#ifndef COLDTOK_HFQUANT_H
#define COLDTOK_HFQUANT_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

typedef enum { HQ_NONE = 0, HQ_GPTQ, HQ_AWQ } HqMethod;

typedef struct {
    HqMethod method;    /* HQ_NONE: no quantization_config */
    int bits;           /* 2, 3, 4, 8 (AWQ: 4) */
    int group_size;     /* inputs per group; -1: one group over all inputs */
    int desc_act;       /* GPTQ: g_idx maps inputs to groups in activation order */
    int sym;            /* informational: the zero points are stored either way */
    int zero_plus_one;  /* GPTQ checkpoint_format gptq (v1): zero = stored + 1 */
} HqConfig;

/* Fills *c from a quantization_config JSON object (a jansson json_t *, passed as void * so that
 * this header does not need jansson). WHERE names the file in messages. Returns 0, or -1 with one
 * line in *err. */
int hq_config_parse(const void *json, const char *where, HqConfig *c, Err *err);
/* "gptq" / "awq" (the quant_method), or "none". */
const char *hq_method_name(HqMethod m);

/* One stored tensor of a packed layer, as the safetensors reader sees it. */
typedef struct {
    const void *data;   /* NULL: absent */
    const char *dtype;  /* "I32", "F16", ... */
    int n_dims;
    int64_t shape[2];
    uint64_t nbytes;
} HqPart;

typedef struct {
    HqMethod method;            /* HQ_NONE: not a packed tensor */
    int bits, zero_plus_one;
    int64_t rows, cols;         /* out_features, in_features */
    int64_t group_size, n_groups;
    uint32_t scale_type;        /* QType of the scales: Q_F16, Q_BF16 or Q_F32 */
    const uint8_t *qweight;     /* GPTQ [cols*bits/32, rows] int32; AWQ [cols, rows*bits/32] */
    const uint8_t *qzeros;      /* [n_groups, rows*bits/32] int32 */
    const uint8_t *scales;      /* [n_groups, rows] */
    const uint8_t *g_idx;       /* [cols] int32, or NULL when it is the plain i / group_size */
    uint64_t bytes;             /* stored bytes of all its tensors (g_idx included) */
} HqTensor;

/* Checks the parts of the layer NAME (its prefix, for messages) against config c and the
 * expected [rows, cols], and fills *t. g_idx may be absent unless desc_act. Returns 0, or -1 with
 * one line "WHERE: NAME.part ..." in *err. */
int hq_tensor_init(HqTensor *t, const HqConfig *c, const HqPart *qweight, const HqPart *qzeros,
                   const HqPart *scales, const HqPart *g_idx, int64_t rows, int64_t cols,
                   const char *where, const char *name, Err *err);

/* Output rows r0 .. r0+n-1 of W dequantized into out [n, t->cols]. */
void hq_rows_f32(const HqTensor *t, int64_t r0, int n, float *out);

#endif
