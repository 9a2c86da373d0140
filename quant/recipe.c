/* recipe: see recipe.h. The mixture rules are llama.cpp's llama_tensor_get_type for the file
 * types named here, dense models only (no experts), llama/qwen2/qwen3 tensor names. llama.cpp
 * counts attn_v / ffn_down tensors in file order; that count is the layer number in every file
 * llama.cpp writes, so the layer is read from the "blk.N." prefix here. */
#include "quant/recipe.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/qtype.h"
#include "quant/quantize.h"

enum { MIX_NONE, MIX_OUTPUT_ONLY, MIX_Q2_K, MIX_Q3_K_S, MIX_Q3_K_M, MIX_Q3_K_L, MIX_Q4_K_S,
       MIX_Q4_K_M, MIX_Q5_K_S, MIX_Q5_K_M, MIX_IQ4_NL, MIX_IQ4_XS,
       MIX_IQ3_S, MIX_IQ3_M,
       MIX_IQ3_XS, MIX_IQ3_XXS };

typedef struct {
    const char *name;
    uint32_t base;
    int mix;        /* the mixture: always for presets, with `mix` for plain types */
    int preset;     /* 1: the name itself means the mixture */
    uint32_t ftype; /* llama_ftype */
} Entry;

/* llama_ftype numbers: llama.h. Plain k-type names are llama-quantize's aliases (Q4_K = Q4_K_M);
 * the synth-llama fixtures, made with --pure, carry those same numbers. */
static const Entry TABLE[] = {
    {"F32", Q_F32, MIX_NONE, 0, 0},          {"F16", Q_F16, MIX_NONE, 0, 1},
    {"BF16", Q_BF16, MIX_NONE, 0, 32},       {"Q8_0", Q_Q8_0, MIX_OUTPUT_ONLY, 0, 7},
    {"Q4_0", Q_Q4_0, MIX_OUTPUT_ONLY, 0, 2}, {"Q4_1", Q_Q4_1, MIX_OUTPUT_ONLY, 0, 3},
    {"Q5_0", Q_Q5_0, MIX_OUTPUT_ONLY, 0, 8}, {"Q5_1", Q_Q5_1, MIX_OUTPUT_ONLY, 0, 9},
    {"Q2_K", Q_Q2_K, MIX_Q2_K, 0, 10},       {"Q3_K", Q_Q3_K, MIX_Q3_K_M, 0, 12},
    {"Q4_K", Q_Q4_K, MIX_Q4_K_M, 0, 15},     {"Q5_K", Q_Q5_K, MIX_Q5_K_M, 0, 17},
    {"Q6_K", Q_Q6_K, MIX_OUTPUT_ONLY, 0, 18},
    {"IQ4_NL", Q_IQ4_NL, MIX_IQ4_NL, 0, 25}, {"IQ4_XS", Q_IQ4_XS, MIX_IQ4_XS, 0, 30},
    {"IQ3_S", Q_IQ3_S, MIX_IQ3_S, 0, 26},    {"IQ3_M", Q_IQ3_S, MIX_IQ3_M, 1, 27},
    {"IQ2_XS", Q_IQ2_XS, MIX_NONE, 0, 20}, /* every matrix only: no llama.cpp mixture here */
    {"IQ3_XXS", Q_IQ3_XXS, MIX_IQ3_XXS, 0, 23}, {"IQ3_XS", Q_IQ3_S, MIX_IQ3_XS, 1, 22},
    {"Q3_K_S", Q_Q3_K, MIX_Q3_K_S, 1, 11},   {"Q3_K_M", Q_Q3_K, MIX_Q3_K_M, 1, 12},
    {"Q3_K_L", Q_Q3_K, MIX_Q3_K_L, 1, 13},   {"Q4_K_S", Q_Q4_K, MIX_Q4_K_S, 1, 14},
    {"Q4_K_M", Q_Q4_K, MIX_Q4_K_M, 1, 15},   {"Q5_K_S", Q_Q5_K, MIX_Q5_K_S, 1, 16},
    {"Q5_K_M", Q_Q5_K, MIX_Q5_K_M, 1, 17},
};
#define N_TABLE (sizeof TABLE / sizeof TABLE[0])

const char *recipe_names(void) {
    return "Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL IQ4_XS IQ3_S IQ2_XS IQ3_XXS F16 BF16 F32 "
           "(every matrix in that type), Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M IQ3_M "
           "IQ3_XS (llama.cpp mixtures)";
}

int recipe_init(Recipe *r, const char *name, int mix, Err *err) {
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < N_TABLE; i++) {
        if (strcasecmp(TABLE[i].name, name)) continue;
        const Entry *e = &TABLE[i];
        snprintf(r->name, sizeof r->name, "%s", e->name);
        r->base = e->base;
        r->mix = (e->preset || mix) ? e->mix : MIX_NONE;
        r->ftype = e->ftype;
        return 0;
    }
    return err_set(err, "unknown type '%s' (known: %s)", name, recipe_names());
}

int recipe_add_override(Recipe *r, const char *spec, Err *err) {
    const char *eq = strrchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return err_set(err, "--keep '%s': expected PATTERN=TYPE, e.g. '*ffn_down*=Q6_K'", spec);
    int t = qtype_from_name(eq + 1);
    if (t < 0 || !qtype_can_quant((uint32_t)t))
        return err_set(err, "--keep '%s': '%s' is not a type coldtok writes (Q8_0 Q4_0 Q4_1 Q5_0 "
                            "Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL IQ4_XS IQ3_S IQ2_XS IQ3_XXS F16 BF16 F32)",
                       spec, eq + 1);
    if (r->n_over == RECIPE_MAX_OVERRIDES)
        return err_set(err, "--keep: at most %d overrides", RECIPE_MAX_OVERRIDES);
    r->over[r->n_over].pattern = xstrndup(spec, (size_t)(eq - spec));
    r->over[r->n_over++].type = (uint32_t)t;
    return 0;
}

void recipe_free(Recipe *r) {
    for (int i = 0; i < r->n_over; i++) free(r->over[i].pattern);
    r->n_over = 0;
}

int recipe_quantizable(const char *name, int n_dims) {
    size_t n = strlen(name);
    if (n_dims < 2 || n < 6 || strcmp(name + n - 6, "weight")) return 0;
    if (strstr(name, "_norm.weight") || strstr(name, "ffn_gate_inp.weight")) return 0;
    return strcmp(name, "position_embd.weight") && strcmp(name, "token_types.weight");
}

/* llama.cpp's use_more_bits: the first and last eighth of the layers and every third between */
static int more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

static int layer_of(const char *name) {
    int l;
    return sscanf(name, "blk.%d.", &l) == 1 ? l : -1;
}

/* llama-quantize's IQ3_XS (base IQ3_S) and IQ3_XXS (base IQ3_XXS) mixtures, in llama_tensor_get_type
 * (80fb11a) order for a dense model: output (and a tied token_embd) Q8_0 when the base block does
 * not divide its rows, else Q6_K (IQ3_XS) / Q5_K (IQ3_XXS); an untied token_embd IQ3_S for
 * IQ3_XXS; attn_v (and the fused attn_qkv, attn_kv_b, which llama.cpp treats as attn_v) Q4_K when
 * n_gqa >= 4, else for IQ3_XXS IQ3_S without importance data, IQ3_XXS with; attn_k and attn_q
 * IQ3_XXS (IQ3_XS) / IQ2_S (IQ3_XXS); ffn_down for IQ3_XXS without importance data Q4_K in the first
 * n_layer/8 layers, Q3_K after; attn_output IQ3_S for IQ3_XXS; ffn_gate and ffn_up of the layers
 * n_layer/8 .. 7 n_layer/8 - 1 IQ3_XXS for IQ3_XS. The rest keeps the base. */
static uint32_t iq3_low_mix_type(const Recipe *r, const RecipeModel *m, const char *name, int64_t ncols,
                                 char *why, size_t ws) {
    const uint32_t base = r->base;
    const int xxs = r->mix == MIX_IQ3_XXS, n = m->n_layer, layer = layer_of(name);
    const int gqa = m->n_head_kv > 0 ? m->n_head / m->n_head_kv : 1;
    uint32_t t = base;
    if (!strcmp(name, "output.weight") || (!m->has_output && !strcmp(name, "token_embd.weight"))) {
        if (ncols % qtype_block_elems(base)) {
            snprintf(why, ws, "%s: output matrix, rows not a multiple of the %s block", r->name, qtype_name(base));
            return Q_Q8_0;
        }
        snprintf(why, ws, "%s: output matrix", r->name);
        return xxs ? Q_Q5_K : Q_Q6_K;
    }
    if (!strcmp(name, "token_embd.weight")) {
        if (xxs) t = Q_IQ3_S;
    } else if (strstr(name, "attn_v.weight") || strstr(name, "attn_qkv.weight") || strstr(name, "attn_kv_b.weight")) {
        if (gqa >= 4) t = Q_Q4_K;
        else if (xxs) t = r->has_imatrix ? Q_IQ3_XXS : Q_IQ3_S;
    } else if (strstr(name, "attn_k.weight") || strstr(name, "attn_q.weight")) {
        t = xxs ? Q_IQ2_S : Q_IQ3_XXS;
    } else if (strstr(name, "attn_output.weight")) {
        if (xxs) t = Q_IQ3_S;
    } else if (strstr(name, "ffn_up") || strstr(name, "ffn_gate")) {
        if (!xxs && layer >= n / 8 && layer < 7 * n / 8) t = Q_IQ3_XXS;
    } else if (strstr(name, "ffn_down")) {
        if (xxs && !r->has_imatrix) t = layer < n / 8 ? Q_Q4_K : Q_Q3_K;
    }
    if (t != base) snprintf(why, ws, "%s: %s for this matrix", r->name, qtype_name(t));
    return t;
}

static uint32_t mix_type(const Recipe *r, const RecipeModel *m, const char *name, int64_t ncols,
                         char *why, size_t ws) {
    if (r->mix == MIX_IQ3_XS || r->mix == MIX_IQ3_XXS) return iq3_low_mix_type(r, m, name, ncols, why, ws);
    const uint32_t base = r->base;
    const int n = m->n_layer, layer = layer_of(name);
    const int gqa = m->n_head_kv > 0 ? m->n_head / m->n_head_kv : 1;
    const char *mx = r->name;
    if (!strcmp(name, "output.weight") || (!m->has_output && !strcmp(name, "token_embd.weight"))) {
        if (ncols % qtype_block_elems(base)) {
            snprintf(why, ws, "%s: output matrix, rows not a multiple of the %s block", mx, qtype_name(base));
            return Q_Q8_0;
        }
        if (base != Q_Q8_0) {
            snprintf(why, ws, "%s: output matrix", mx);
            return Q_Q6_K;
        }
        return base;
    }
    uint32_t t = base;
    if (strstr(name, "attn_v.weight")) {
        switch (r->mix) {
        case MIX_Q2_K: t = gqa >= 4 ? Q_Q4_K : Q_Q3_K; break;
        case MIX_Q3_K_M: t = layer < 2 ? Q_Q5_K : Q_Q4_K; break;
        case MIX_Q3_K_L: t = Q_Q5_K; break;
        case MIX_Q4_K_M: case MIX_Q5_K_M: if (more_bits(layer, n)) t = Q_Q6_K; break;
        case MIX_Q4_K_S: if (layer < 4) t = Q_Q5_K; break;
        case MIX_IQ4_NL: case MIX_IQ4_XS: if (gqa >= 4) t = Q_Q5_K; break;
        case MIX_IQ3_S: if (gqa >= 4) t = Q_Q4_K; break;
        case MIX_IQ3_M: t = Q_Q4_K; break;
        default: break;
        }
    } else if (strstr(name, "ffn_down")) {
        switch (r->mix) {
        case MIX_Q2_K: t = Q_Q3_K; break;
        case MIX_Q3_K_M: t = layer < n / 16 ? Q_Q5_K : Q_Q4_K; break;
        case MIX_Q3_K_L: t = Q_Q5_K; break;
        case MIX_Q4_K_M: case MIX_Q5_K_M: if (more_bits(layer, n)) t = Q_Q6_K; break;
        case MIX_Q4_K_S: if (layer < n / 8) t = Q_Q5_K; break;
        case MIX_IQ4_NL: case MIX_IQ4_XS: if (layer < n / 8 && !r->has_imatrix) t = Q_Q5_K; break;
        case MIX_IQ3_M: if (layer < n / 8) t = Q_Q4_K; break;
        default: break;
        }
    } else if (strstr(name, "attn_output.weight")) {
        switch (r->mix) {
        case MIX_Q2_K: t = Q_Q3_K; break;
        case MIX_Q3_K_M: t = Q_Q4_K; break;
        case MIX_Q3_K_L: t = Q_Q5_K; break;
        case MIX_IQ3_M: t = Q_Q4_K; break;
        default: break;
        }
    } else if (strstr(name, "attn_qkv.weight") && r->mix == MIX_IQ3_M) {
        t = Q_Q4_K; /* a fused q/k/v matrix (phi3) */
    }
    if (t != base) snprintf(why, ws, "%s: more bits for this matrix", mx);
    return t;
}

/* the type to use when the block of t does not divide the rows */
static uint32_t fallback(uint32_t t) {
    switch (t) {
    case Q_Q2_K: case Q_Q3_K: return Q_Q4_0;
    case Q_Q4_K: return Q_Q5_0;
    case Q_Q5_K: return Q_Q5_1;
    case Q_Q6_K: return Q_Q8_0;
    case Q_IQ4_XS: case Q_IQ3_S: case Q_IQ2_XS: return Q_IQ4_NL;
    case Q_IQ3_XXS: return Q_IQ4_NL;
    default: return Q_F16;
    }
}

uint32_t recipe_type(const Recipe *r, const RecipeModel *m, const char *name, int64_t ncols,
                     char *why, size_t why_size) {
    char tmp[160] = "";
    uint32_t t = r->base;
    if (r->mix) t = mix_type(r, m, name, ncols, tmp, sizeof tmp);
    for (int i = 0; i < r->n_over; i++)
        if (!fnmatch(r->over[i].pattern, name, 0)) {
            t = r->over[i].type;
            snprintf(tmp, sizeof tmp, "--keep %s=%s", r->over[i].pattern, qtype_name(t));
        }
    if (qtype_row_bytes(t, ncols) == 0) {
        uint32_t f = t;
        while (qtype_row_bytes(f, ncols) == 0) f = fallback(f);
        char note[96];
        snprintf(note, sizeof note, "fallback: %lld columns, not a multiple of the %s block of %d",
                 (long long)ncols, qtype_name(t), qtype_block_elems(t));
        if (tmp[0]) {
            size_t l = strlen(tmp);
            snprintf(tmp + l, sizeof tmp - l, "; %s", note);
        } else {
            snprintf(tmp, sizeof tmp, "%s", note);
        }
        t = f;
    }
    if (why) snprintf(why, why_size, "%s", tmp);
    return t;
}
