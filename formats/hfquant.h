/* hfquant: Hugging Face quantized checkpoints — config.json's quantization_config and the packed
 * linear layers it describes, unpacked to f32 rows on demand.
 *
 * hq_config_parse reads quantization_config (or an AutoGPTQ quantize_config.json object): GPTQ
 * (AutoGPTQ / GPTQModel: bits 2, 3, 4, 8; group_size, -1 for one group; desc_act; sym;
 * checkpoint_format gptq or gptq_v2), AWQ (AutoAWQ GEMM and GEMV: 4 bits, zero_point true or false;
 * GEMV in formats/hfquant_awq.c), AQLM (the aqlm
 * package: 1x16, 2x8, 1x8 codebooks of 8 inputs) and FP8 (float8_e4m3fn weights, block /
 * per-tensor / per-channel scales) and compressed-tensors (pack-quantized int4 / int8, symmetric or
 * not, group or channel; float-quantized FP8) — the last three in formats/hfquant_codes.c — and
 * bitsandbytes (nf4 / fp4 with the quant state in the safetensors, double quantization; LLM.int8;
 * formats/hfquant_bnb.c). Any other quant_method (exl2, hqq, ...), a layout coldtok does not read (marlin, gemv_fast) or a bad field
 * is one error line naming it and what is supported.
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

/* HQ_CT_INT / HQ_CT_FP8: compressed-tensors (llm-compressor) pack-quantized int and float-quantized
 * FP8 configs; their tensors are HQ_CT_INT and HQ_FP8 layers. */
/* HQ_BNB4 / HQ_BNB8: bitsandbytes 4-bit (nf4, fp4) and LLM.int8 configs and layers. */
typedef enum { HQ_NONE = 0, HQ_GPTQ, HQ_AWQ, HQ_AQLM, HQ_FP8, HQ_CT_INT, HQ_CT_FP8, HQ_BNB4, HQ_BNB8 } HqMethod;

typedef struct {
    HqMethod method;    /* HQ_NONE: no quantization_config */
    int bits;           /* 2, 3, 4, 8 (AWQ: 4) */
    int group_size;     /* inputs per group; -1: one group over all inputs */
    int desc_act;       /* GPTQ: g_idx maps inputs to groups in activation order */
    int sym;            /* informational: the zero points are stored either way */
    int zero_plus_one;  /* GPTQ checkpoint_format gptq (v1): zero = stored + 1 */
    /* AQLM: num_codebooks x nbits_per_codebook (1x16, 2x8, 1x8), in_group_size 8, out_group_size 1 */
    int n_codebooks, codebook_bits, in_group, out_group;
    int block[2];       /* FP8: weight_block_size [out, in]; 0, 0: per-tensor or per-channel scales */
    int strategy;       /* compressed-tensors: 'c' channel, 'g' group, 't' tensor, 'b' block */
    int awq_gemv;       /* AWQ version gemv (formats/hfquant_awq.c); 0: gemm. AWQ zero_point false: sym 1 */
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
    int64_t shape[4];   /* AQLM's codes are 3-D, its codebooks and scales 4-D */
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
    /* AQLM: qweight = codes [rows, cols/8, n_codebooks] (I16 or I8, read modulo 2^codebook_bits),
     * qzeros = codebooks [n_codebooks, 2^codebook_bits, 1, 8], scales [rows, 1, 1, 1].
     * FP8: qweight = the F8_E4M3 weight [rows, cols], scales [ceil(rows/block_r),
     * ceil(cols/block_c)] (per-tensor: block = the whole matrix; per-channel: block_r 1).
     * compressed-tensors int: qweight = weight_packed [rows, ceil(cols*bits/32)] I32 (input i of a
     * row at bits (i % (32/bits))*bits of word i / (32/bits), stored + 2^(bits-1)), scales =
     * weight_scale [rows, n_groups], qzeros = weight_zero_point [ceil(rows*bits/32), n_groups] I32
     * (asymmetric; NULL: symmetric), g_idx = weight_shape (storage only, never read). */
    int n_codebooks, codebook_bits, code_bytes;
    uint32_t codebook_type;     /* QType of the codebooks */
    int64_t block_r, block_c;
    /* bitsandbytes 4-bit: qweight = weight (U8, two codes a byte, the first in the high nibble, of
     * the row-major flattened matrix), qzeros = quant_map [16] F32, scales = absmax [blocks] (F32,
     * or U8 with double quantization: then nested_absmax [ceil(blocks / nested_block)] F32,
     * nested_map [256] F32 and nested_offset), group_size = blocksize. LLM.int8: qweight = weight
     * [rows, cols] I8, scales = SCB [rows] F32, qzeros = weight_format (storage only). */
    const uint8_t *nested_absmax, *nested_map;
    int64_t nested_block;
    float nested_offset;
    /* AWQ GEMV (awq_gemv 1): qweight [rows, cols/8] (input 8c+j of a row in nibble j of word c),
     * qzeros [rows, zeros_width] (group g in nibble g%8 of word g/8), scales [rows, zeros_width*8];
     * the columns past n_groups are AutoAWQ's padding. AWQ without qzeros (zero_point false): every
     * zero point is 8. */
    int awq_gemv;
    int64_t zeros_width;
} HqTensor;

/* Checks the parts of the layer NAME (its prefix, for messages) against config c and the
 * expected [rows, cols], and fills *t. g_idx may be absent unless desc_act. Returns 0, or -1 with
 * one line "WHERE: NAME.part ..." in *err. */
int hq_tensor_init(HqTensor *t, const HqConfig *c, const HqPart *qweight, const HqPart *qzeros,
                   const HqPart *scales, const HqPart *g_idx, int64_t rows, int64_t cols,
                   const char *where, const char *name, Err *err);

/* AQLM (c->method HQ_AQLM): the parts codes, codebooks, scales of the layer NAME, checked against
 * the config and [rows, cols] (codes' values are read modulo the codebook size, so any stored
 * integer is in range). Returns 0, or -1 with one line "WHERE: NAME.part ..." in *err. */
int hq_tensor_init_aqlm(HqTensor *t, const HqConfig *c, const HqPart *codes, const HqPart *codebooks,
                        const HqPart *scales, int64_t rows, int64_t cols, const char *where, const char *name,
                        Err *err);
/* FP8 (c->method HQ_FP8): the F8_E4M3 weight and its scale (weight_scale_inv or weight_scale):
 * blocks of c->block when set, else a per-tensor ([] or [1]) or per-channel ([rows] or [rows, 1])
 * scale. Same contract as above. */
int hq_tensor_init_fp8(HqTensor *t, const HqConfig *c, const HqPart *weight, const HqPart *scale, int64_t rows,
                       int64_t cols, const char *where, const char *name, Err *err);
/* compressed-tensors pack-quantized (c->method HQ_CT_INT): weight_packed, weight_scale, the
 * weight_zero_point of an asymmetric scheme (c->sym 0; ignored otherwise) and the optional
 * weight_shape ([rows, cols], I32 or I64). Same contract as above. */
int hq_tensor_init_ct(HqTensor *t, const HqConfig *c, const HqPart *packed, const HqPart *scale,
                      const HqPart *zero, const HqPart *shape, int64_t rows, int64_t cols, const char *where,
                      const char *name, Err *err);
/* bitsandbytes 4-bit (c->method HQ_BNB4): the weight, its absmax, quant_map, nested_absmax and
 * nested_quant_map (double quantization) and the quant_state JSON (a U8 tensor: quant_type,
 * blocksize, shape, nested_blocksize, nested_offset). Same contract as above. */
int hq_tensor_init_bnb4(HqTensor *t, const HqConfig *c, const HqPart *weight, const HqPart *absmax,
                        const HqPart *quant_map, const HqPart *nested_absmax, const HqPart *nested_map,
                        const HqPart *state, int64_t rows, int64_t cols, const char *where, const char *name,
                        Err *err);
/* LLM.int8 (c->method HQ_BNB8): the I8 weight, its SCB row scales and the optional weight_format
 * (U8 0: row-major; a GPU tile layout is refused). */
int hq_tensor_init_bnb8(HqTensor *t, const HqConfig *c, const HqPart *weight, const HqPart *scb,
                        const HqPart *format, int64_t rows, int64_t cols, const char *where, const char *name,
                        Err *err);
/* float8_e4m3fn (1 sign, 4 exponent bits biased by 7, 3 mantissa bits; 0x7f / 0xff NaN, no inf). */
float hq_e4m3_to_f32(uint8_t v);

/* Output rows r0 .. r0+n-1 of W dequantized into out [n, t->cols]. */
void hq_rows_f32(const HqTensor *t, int64_t r0, int n, float *out);

#endif
