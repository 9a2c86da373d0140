/* recipe: which block type each tensor of a model gets when it is quantized.
 *
 * A recipe is named like llama-quantize's file types:
 *   - a block type (Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL IQ4_XS IQ3_S IQ2_XS F16
 *     BF16 F32, IQ3_XXS): every matrix in that type, like `llama-quantize --pure` (IQ2_XS: no mixture);
 *   - the same name with `mix` set: llama.cpp's default mixture for that file type (output.weight
 *     in Q6_K; for Q2_K also attn_v, attn_output, ffn_down with more bits; for IQ4_NL / IQ4_XS,
 *     llama-quantize's IQ4_NL / IQ4_XS: attn_v in Q5_K when n_head / n_head_kv >= 4, and without
 *     importance data (has_imatrix 0) ffn_down of the first n_layer/8 layers in Q5_K; for IQ3_S,
 *     llama-quantize's IQ3_S: attn_v in Q4_K when n_head / n_head_kv >= 4);
 *   - an _S/_M/_L preset (Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M, IQ3_M): always the
 *     mixture (IQ3_M: IQ3_S with attn_v, attn_output (attn_qkv) and the first n_layer/8 ffn_down in
 *     Q4_K).
 *   - IQ3_XS (a preset, base IQ3_S) and IQ3_XXS with `mix` (base IQ3_XXS): llama-quantize's IQ3_XS and
 *     IQ3_XXS, the current llama.cpp's rules (recipe.c iq3_low_mix_type; IQ3_XXS puts attn_q and
 *     attn_k in IQ2_S).
 * The mixtures follow llama.cpp's llama_tensor_get_type (c392e509) for dense llama/qwen2/qwen3
 * models; docs/quantize.md lists them. Then user overrides (glob pattern = type, last match wins),
 * then the fall-back for a row length the chosen block does not divide:
 *   Q2_K, Q3_K -> Q4_0;  Q4_K -> Q5_0;  Q5_K -> Q5_1;  Q6_K -> Q8_0;  IQ4_XS, IQ3_S, IQ2_XS -> IQ4_NL;
 *   IQ3_XXS -> IQ4_NL;
 *   and a
 *   32-block type whose block does not divide the row either -> F16 (llama.cpp's
 *   tensor_type_fallback).
 * Only matrices are quantized: 2-D tensors named *.weight, norms excepted; everything else is
 * copied as it is. No allocation except in recipe_add_override; no global state. */
#ifndef COLDTOK_RECIPE_H
#define COLDTOK_RECIPE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define RECIPE_MAX_OVERRIDES 64

typedef struct {
    char *pattern; /* fnmatch glob over the tensor name, e.g. "blk.*.ffn_down.weight" */
    uint32_t type;
} QOverride;

typedef struct {
    char name[16];  /* as the user gave it, upper case: "Q4_K_M", "Q4_K" */
    uint32_t base;  /* the type most matrices get */
    int mix;        /* 0 pure; else the llama.cpp mixture (an internal id) */
    uint32_t ftype; /* llama.cpp's general.file_type for the file */
    int has_imatrix; /* the caller quantizes with importance data (llama.cpp's mixtures look) */
    QOverride over[RECIPE_MAX_OVERRIDES];
    int n_over;
} Recipe;

/* The model facts the mixtures look at. */
typedef struct {
    int n_layer;
    int n_head, n_head_kv; /* n_gqa = n_head / n_head_kv */
    int has_output;        /* the file has output.weight (else token_embd doubles as output) */
} RecipeModel;

/* Fills *r for NAME (case-insensitive); mix asks for llama.cpp's mixture of a plain type name.
 * -1 with a message naming the accepted names when NAME is unknown. */
int recipe_init(Recipe *r, const char *name, int mix, Err *err);
/* Parses "PATTERN=TYPE" (TYPE a block type, F16, BF16 or F32) and appends it. */
int recipe_add_override(Recipe *r, const char *spec, Err *err);
void recipe_free(Recipe *r);
/* The accepted names, for --help. */
const char *recipe_names(void);

/* 1 when a tensor of this name and number of dimensions is quantized at all. */
int recipe_quantizable(const char *name, int n_dims);

/* The type of a quantizable tensor with rows of ncols elements. why (if not NULL) gets a short
 * reason when the type is not simply the base type ("Q4_K_M: attn_v of layer 0",
 * "--keep *ffn_down*", "fallback: 172 columns, not a multiple of 256"). */
uint32_t recipe_type(const Recipe *r, const RecipeModel *m, const char *name, int64_t ncols,
                     char *why, size_t why_size);

#endif
