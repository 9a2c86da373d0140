/* config_rope: see config_rope.h. */
#include "model/config_rope.h"

#include <stdlib.h>
#include <string.h>

#include "formats/hfnames.h"
#include "model/loader.h"

#define GGUF_KEY(hp) (hparam_name(hp)->gguf)

/* ---- GGUF ---- */

/* A float ARCH.KEY of the GGUF file, or dflt when absent. */
static double gguf_float_key(Gguf *g, const char *arch, Hparam hp, double dflt) {
    char k[128];
    double f;
    snprintf(k, sizeof k, "%s.%s", arch, GGUF_KEY(hp));
    return gguf_get_float(g, k, &f) == 0 ? f : dflt;
}

/* rope.scaling.type yarn or longrope, as llama.cpp reads them (llama_model::load_hparams and
 * llama_context's YaRN attention factor): the factor (YaRN: of the ramp; LongRoPE: a linear
 * position scale, as llama.cpp applies it), the original context (default the trained one), the
 * explicit attention factor rope.scaling.attn_factor, and for YaRN the default mscale
 * 0.1 ln(factor) + 1 on top of it. The yarn_beta_* keys are read too (llama.cpp reads them only
 * for some families; converters write them only when a config names them). LongRoPE's factors
 * are tensors (rope_factors_short / _long), loaded with the weights. */
int config_rope_gguf(Config *c, Gguf *g, const char *arch, const char *type, const char *path, Err *err) {
    double factor = gguf_float_key(g, arch, HP_ROPE_SCALING_FACTOR, 0);
    double orig = gguf_float_key(g, arch, HP_ROPE_SCALING_ORIG_CTX, c->n_ctx);
    double attn = gguf_float_key(g, arch, HP_ROPE_SCALING_ATTN_FACTOR, 1);
    if (!(factor >= 0 && factor < 1e6) || !(orig >= 0 && orig < 1e9) || !(attn > 0 && attn < 1e3))
        return err_set(err, "%s: %s rope scaling: factor %g, original context %g or attn_factor %g is "
                       "out of range", path, type, factor, orig, attn);
    if (strcmp(type, "yarn") != 0 && strcmp(type, "longrope") != 0) {
        c->rope_attn_factor = (float)attn; /* llama.cpp applies it whatever the type */
        return 0;
    }
    c->rope_orig_ctx = (int)orig;
    if (!strcmp(type, "longrope")) {
        c->rope_scaling = ROPE_SCALING_LONGROPE;
        if (factor > 0) c->rope_scale = (float)factor;
        c->rope_attn_factor = (float)attn;
        return 0;
    }
    c->rope_scaling = ROPE_SCALING_YARN;
    c->rope_factor = factor > 0 ? (float)factor : 1;
    c->yarn_beta_fast = (float)gguf_float_key(g, arch, HP_ROPE_SCALING_YARN_BETA_FAST, YARN_BETA_FAST_DEFAULT);
    c->yarn_beta_slow = (float)gguf_float_key(g, arch, HP_ROPE_SCALING_YARN_BETA_SLOW, YARN_BETA_SLOW_DEFAULT);
    if (c->rope_orig_ctx < 1)
        return err_set(err, "%s: yarn rope scaling without an original context length", path);
    c->rope_attn_factor = (float)(rope_yarn_mscale(c->rope_factor, 1) * attn);
    return 0;
}


/* ---- config.json ---- */

/* 0 when every key of rope_scaling is one of the NULL-ended list, else one line naming the first
 * that is not: a knob coldtok would ignore is refused. */
static int rope_keys_known(json_t *rs, const char *type, const char *const *known, const char *path, Err *err) {
    const char *key;
    json_t *v;
    json_object_foreach(rs, key, v) {
        int ok = !strcmp(key, "type") || !strcmp(key, "rope_type");
        for (int i = 0; !ok && known[i]; i++) ok = !strcmp(key, known[i]);
        if (!ok) return err_set(err, "%s: rope_scaling key \"%s\" (%s) is not supported", path, key, type);
    }
    return 0;
}

/* The original context of a rope_scaling object: its original_max_position_embeddings, else the
 * config's (phi3 keeps it at the top), else max_position_embeddings. *top: found at the top. */
static int json_orig_ctx(json_t *root, json_t *rs, const Config *c, int *orig, int *top, const char *path, Err *err) {
    int in_rs = -1, at_top = -1;
    if (ld_json_int(rs, "original_max_position_embeddings", &in_rs, 1 << 30, 0, path, err) < 0 ||
        ld_json_int(root, "original_max_position_embeddings", &at_top, 1 << 30, 0, path, err) < 0)
        return -1;
    *top = at_top > 0;
    *orig = in_rs > 0 ? in_rs : at_top > 0 ? at_top : c->n_ctx;
    if (*orig < 1) return err_set(err, "%s: rope_scaling needs original_max_position_embeddings", path);
    return 0;
}

/* YaRN as transformers' _compute_yarn_parameters reads it. The ramp uses rope_scaling.factor
 * (what llama.cpp's converter writes as rope.scaling.factor); some transformers releases derive it
 * from max_position_embeddings / original_max_position_embeddings instead, which is the same
 * number in a consistent config (docs/models.md). */
static int json_yarn(json_t *root, json_t *rs, Config *c, double factor, const char *path, Err *err) {
    static const char *const known[] = {"factor", "original_max_position_embeddings", "beta_fast", "beta_slow",
                                        "attention_factor", "mscale", "mscale_all_dim", "truncate", NULL};
    if (rope_keys_known(rs, "yarn", known, path, err)) return -1;
    int orig, top;
    double fast = YARN_BETA_FAST_DEFAULT, slow = YARN_BETA_SLOW_DEFAULT, af = 0, ms = 0, ms_all = 0;
    if (json_orig_ctx(root, rs, c, &orig, &top, path, err) || ld_json_num(rs, "beta_fast", &fast, path, err) ||
        ld_json_num(rs, "beta_slow", &slow, path, err) || ld_json_num(rs, "attention_factor", &af, path, err) ||
        ld_json_num(rs, "mscale", &ms, path, err) || ld_json_num(rs, "mscale_all_dim", &ms_all, path, err))
        return -1;
    json_t *tr = json_object_get(rs, "truncate");
    if (tr && !json_is_true(tr))
        return err_set(err, "%s: rope_scaling \"truncate\" other than true is not supported", path);
    if (!(fast > slow && slow > 0) || !(af >= 0 && af < 1e3))
        return err_set(err, "%s: bad yarn rope_scaling (beta_fast %g, beta_slow %g, attention_factor %g)", path,
                       fast, slow, af);
    if (af == 0) /* the paper's default, or DeepSeek's ratio of two */
        af = ms != 0 && ms_all != 0 ? rope_yarn_mscale(factor, ms) / rope_yarn_mscale(factor, ms_all)
                                    : rope_yarn_mscale(factor, 1);
    c->rope_scaling = ROPE_SCALING_YARN;
    c->rope_factor = (float)factor;
    c->rope_orig_ctx = orig;
    c->yarn_beta_fast = (float)fast, c->yarn_beta_slow = (float)slow;
    c->rope_attn_factor = (float)af;
    return 0;
}

/* n numbers of a JSON array into out. */
static int json_floats(json_t *rs, const char *key, float *out, int n, const char *path, Err *err) {
    json_t *arr = json_object_get(rs, key);
    if (!json_is_array(arr) || (int)json_array_size(arr) != n)
        return err_set(err, "%s: rope_scaling \"%s\" must be a list of %d numbers (rotated dims / 2)", path,
                       key, n);
    for (int i = 0; i < n; i++) {
        json_t *v = json_array_get(arr, (size_t)i);
        double d = json_is_number(v) ? json_number_value(v) : -1;
        if (!(d > 0 && d < 1e9)) return err_set(err, "%s: rope_scaling \"%s\"[%d] is not a positive number", path, key, i);
        out[i] = (float)d;
    }
    return 0;
}

/* LongRoPE (Phi-3 "longrope", once "su") as transformers' _compute_longrope_parameters reads it:
 * the short and long factors and the attention factor, computed from
 * scale = max_position_embeddings / original context when the config knows the original (else
 * rope_scaling.factor) unless attention_factor names it. */
static int json_longrope(json_t *root, json_t *rs, Config *c, double factor, float **longrope,
                         const char *path, Err *err) {
    static const char *const known[] = {"short_factor", "long_factor", "factor", "original_max_position_embeddings",
                                        "attention_factor", NULL};
    if (rope_keys_known(rs, "longrope", known, path, err)) return -1;
    int orig, top, have = json_object_get(rs, "original_max_position_embeddings") != NULL;
    double af = 0;
    if (json_orig_ctx(root, rs, c, &orig, &top, path, err) || ld_json_num(rs, "attention_factor", &af, path, err))
        return -1;
    double scale = (top || have) && c->n_ctx > 0 ? (double)c->n_ctx / orig : factor;
    if (!(af >= 0 && af < 1e3)) return err_set(err, "%s: bad longrope attention_factor %g", path, af);
    int half = c->n_rot / 2;
    free(*longrope);
    *longrope = xmalloc(2 * (size_t)(half > 0 ? half : 1) * sizeof(float));
    if (json_floats(rs, "short_factor", *longrope, half, path, err) ||
        json_floats(rs, "long_factor", *longrope + half, half, path, err))
        return -1;
    c->rope_scaling = ROPE_SCALING_LONGROPE;
    c->rope_orig_ctx = orig;
    c->rope_attn_factor = (float)(af > 0 ? af : rope_longrope_attn_factor(scale, orig));
    return 0;
}

int config_rope_json(json_t *root, json_t *rs, const char *type, Config *c, double factor, float **longrope,
                     const char *path, Err *err) {
    if (!strcmp(type, "yarn")) return json_yarn(root, rs, c, factor, path, err);
    return json_longrope(root, rs, c, factor, longrope, path, err);
}
