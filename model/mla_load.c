/* mla_load: see mla_load.h. */
#include "model/mla_load.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "formats/hfnames.h"
#include "model/loader.h"
#include "model/rope_scaling.h"

/* ---- GGUF ---- */

/* ARCH.KEY of hp as an integer into *out: 1 found, 0 absent (and not required), -1 error. */
static int gguf_key(const Gguf *g, const char *arch, Hparam hp, int *out, int required,
                    const char *path, Err *err) {
    char k[160];
    int64_t v;
    snprintf(k, sizeof k, "%s.%s", arch, hparam_name(hp)->gguf);
    int r = gguf_get_int_range(g, k, 0, 1 << 20, &v, err);
    if (r < 0) return -1;
    if (r == 0) return required ? err_set(err, "%s: missing metadata key %s", path, k) : 0;
    *out = (int)v;
    return 1;
}

/* The ranges every source must respect (before any allocation is sized from them). */
static int check(const Config *c, const char *path, Err *err) {
    const MoeConfig *e = &c->moe;
    if (c->kv_lora_rank < 1 || c->kv_lora_rank > 65536 || c->q_lora_rank < 0 || c->q_lora_rank > 65536 ||
        c->n_rot < 2 || c->n_rot >= c->head_dim || c->head_dim_v < 1)
        return err_set(err, "%s: deepseek2: kv_lora_rank %d, q_lora_rank %d, rope dims %d (of key length "
                       "%d) or value length %d out of range", path, c->kv_lora_rank, c->q_lora_rank,
                       c->n_rot, c->head_dim, c->head_dim_v);
    if (e->n_expert == 0) return 0;
    if (e->n_expert > 4096 || e->n_expert_used < 1 || e->n_expert_used > e->n_expert || e->n_ff_exp < 1 ||
        e->n_ff_exp > (1 << 20) || e->n_ff_shexp < 0 || e->n_ff_shexp > (1 << 22) ||
        !(e->scale >= 0 && e->scale < 1e6))
        return err_set(err, "%s: deepseek2 experts: %d of %d used, width %d (shared %d), scale %g out of "
                       "range", path, e->n_expert_used, e->n_expert, e->n_ff_exp, e->n_ff_shexp, e->scale);
    return 0;
}

/* DeepSeek-V2's YaRN (rope_scaling already read: model/config_rope.h): with mscale_all_dim m
 * (GGUF: rope.scaling.yarn_log_multiplier = 0.1 m) the scores are scaled by
 * (a (0.1 m ln factor + 1))^2 / sqrt(head_dim) and cos and sin by a alone, a being
 * rope.scaling.attn_factor (1 in HF's case mscale = mscale_all_dim); without it llama.cpp's
 * deepseek2 graph scales the scores by (a (0.1 ln factor + 1))^2 and cos and sin by the same
 * a (0.1 ln factor + 1), which config_rope already set. */
static void yarn_scale(Config *c, double a) {
    if (c->yarn_log_mul > 0) c->rope_attn_factor = (float)a;
    double m = a * rope_yarn_mscale(c->rope_factor, c->yarn_log_mul > 0 ? c->yarn_log_mul : 1);
    c->attn_scale = (float)(m * m / sqrt((double)c->head_dim));
}

int mla_config_gguf(const Gguf *g, const char *arch, Config *c, const char *path, Err *err) {
    MoeConfig *e = &c->moe;
    memset(e, 0, sizeof *e);
    int v = 0, r;
    if (gguf_key(g, arch, HP_KV_LORA_RANK, &c->kv_lora_rank, 1, path, err) < 0 ||
        gguf_key(g, arch, HP_Q_LORA_RANK, &c->q_lora_rank, 0, path, err) < 0)
        return -1;
    if ((r = gguf_key(g, arch, HP_KEY_LENGTH_MLA, &v, 0, path, err)) < 0) return -1;
    if (r == 1) { /* the per-head widths; key_length / value_length are the absorbed form's */
        c->head_dim = v;
        if (gguf_key(g, arch, HP_VALUE_LENGTH_MLA, &c->head_dim_v, 1, path, err) < 0) return -1;
    }
    c->n_head_kv = c->n_head;
    if (c->rope_scaling == ROPE_SCALING_YARN) {
        char k[160];
        double lm = 0, a = 1;
        snprintf(k, sizeof k, "%s.%s", arch, hparam_name(HP_ROPE_SCALING_YARN_LOG_MUL)->gguf);
        if (gguf_get_float(g, k, &lm) == 0) c->yarn_log_mul = (float)(lm / 0.1); /* as llama.cpp undoes it */
        snprintf(k, sizeof k, "%s.%s", arch, hparam_name(HP_ROPE_SCALING_ATTN_FACTOR)->gguf);
        if (gguf_get_float(g, k, &a) != 0) a = 1;
        if (!(c->yarn_log_mul >= 0 && c->yarn_log_mul < 100) || !(a > 0 && a < 1e3))
            return err_set(err, "%s: deepseek2 yarn: %s %g or attn_factor %g out of range", path,
                           hparam_name(HP_ROPE_SCALING_YARN_LOG_MUL)->gguf, lm, a);
        yarn_scale(c, a);
    }
    e->n_dense_lead = c->n_layer;
    if ((r = gguf_key(g, arch, HP_EXPERT_COUNT, &e->n_expert, 0, path, err)) < 0) return -1;
    if (r == 0 || e->n_expert == 0) return check(c, path, err); /* every layer dense */
    int shared = 0;
    e->n_dense_lead = 0; /* llama.cpp's default */
    if (gguf_key(g, arch, HP_EXPERT_USED_COUNT, &e->n_expert_used, 1, path, err) < 0 ||
        gguf_key(g, arch, HP_EXPERT_FEED_FORWARD_LENGTH, &e->n_ff_exp, 1, path, err) < 0 ||
        gguf_key(g, arch, HP_EXPERT_SHARED_COUNT, &shared, 1, path, err) < 0 ||
        gguf_key(g, arch, HP_LEADING_DENSE_BLOCK_COUNT, &e->n_dense_lead, 0, path, err) < 0)
        return -1;
    if (e->n_dense_lead > c->n_layer) e->n_dense_lead = c->n_layer;
    e->n_ff_shexp = shared * e->n_ff_exp;
    e->gating = MOE_GATING_SOFTMAX;
    int gating = 1;
    if (gguf_key(g, arch, HP_EXPERT_GATING_FUNC, &gating, 0, path, err) < 0) return -1;
    if (gating != 0 && gating != 1) /* 0: none (older files: softmax), 1: softmax, 2: sigmoid */
        return err_set(err, "%s: %s.%s = %d: only softmax gating (1) is supported for deepseek2", path,
                       arch, hparam_name(HP_EXPERT_GATING_FUNC)->gguf, gating);
    char k[160];
    snprintf(k, sizeof k, "%s.%s", arch, hparam_name(HP_EXPERT_WEIGHTS_NORM)->gguf);
    if (gguf_get_bool(g, k, &e->norm_topk) != 0) e->norm_topk = 0;
    double s;
    snprintf(k, sizeof k, "%s.%s", arch, hparam_name(HP_EXPERT_WEIGHTS_SCALE)->gguf);
    e->scale = gguf_get_float(g, k, &s) == 0 ? (float)s : 1;
    return check(c, path, err);
}

/* ---- config.json ---- */

/* A string key that, when present, must be `want`. */
static int json_only(json_t *o, const char *key, const char *want, const char *path, Err *err) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v) || (json_is_string(v) && !strcmp(json_string_value(v), want))) return 0;
    return err_set(err, "%s: \"%s\" %s is not supported for deepseek_v2 (only \"%s\")", path, key,
                   json_is_string(v) ? json_string_value(v) : "(not a string)", want);
}

int mla_config_json(json_t *root, Config *c, const char *path, Err *err) {
    MoeConfig *e = &c->moe;
    memset(e, 0, sizeof *e);
    int nope = 0, rope = 0;
    if (ld_json_int(root, hparam_name(HP_KV_LORA_RANK)->hf, &c->kv_lora_rank, 1 << 20, 1, path, err) < 0 ||
        ld_json_int(root, hparam_name(HP_QK_NOPE_HEAD_DIM)->hf, &nope, 1 << 20, 1, path, err) < 0 ||
        ld_json_int(root, "qk_rope_head_dim", &rope, 1 << 20, 1, path, err) < 0 ||
        ld_json_int(root, hparam_name(HP_VALUE_LENGTH_MLA)->hf, &c->head_dim_v, 1 << 20, 1, path, err) < 0)
        return -1;
    c->q_lora_rank = 0; /* null: a direct q_proj */
    if (ld_json_int(root, hparam_name(HP_Q_LORA_RANK)->hf, &c->q_lora_rank, 1 << 20, 0, path, err) < 0) return -1;
    c->head_dim = nope + rope, c->n_rot = rope;
    c->n_head_kv = c->n_head; /* decompressed per head (model/mla.h) */
    if (json_is_true(json_object_get(root, "attention_bias")))
        return err_set(err, "%s: \"attention_bias\": true is not supported for deepseek_v2", path);
    if (c->rope_scaling == ROPE_SCALING_YARN) { /* DeepseekV2YarnRotaryEmbedding */
        json_t *rs = json_object_get(root, "rope_scaling");
        json_t *ms = json_object_get(rs, "mscale"), *all = json_object_get(rs, "mscale_all_dim");
        double m = json_is_number(all) ? json_number_value(all) : 0;
        /* llama.cpp's deepseek2 assumes mscale = mscale_all_dim (DeepSeek-V2's configs): cos and sin
         * unscaled, the scores by mscale^2; another pair would give other logits there */
        if (!(m > 0 && m < 100) || !json_is_number(ms) || json_number_value(ms) != m)
            return err_set(err, "%s: rope_scaling \"mscale\" and \"mscale_all_dim\" must be equal and "
                           "positive for deepseek_v2 (as llama.cpp assumes)", path);
        c->yarn_log_mul = (float)m;
        yarn_scale(c, 1);
    }
    /* DeepseekV2DecoderLayer: experts where n_routed_experts is set, from first_k_dense_replace on,
     * every moe_layer_freq-th layer */
    e->n_dense_lead = c->n_layer;
    int r = ld_json_int(root, "n_routed_experts", &e->n_expert, 1 << 20, 0, path, err);
    if (r < 0) return -1;
    if (r == 0 || e->n_expert == 0) return check(c, path, err);
    int shared = 0, freq = 1;
    e->n_dense_lead = 0;
    if (ld_json_int(root, hparam_name(HP_EXPERT_USED_COUNT)->hf, &e->n_expert_used, 1 << 20, 1, path, err) < 0 ||
        ld_json_int(root, hparam_name(HP_EXPERT_FEED_FORWARD_LENGTH)->hf, &e->n_ff_exp, 1 << 20, 1, path, err) < 0 ||
        ld_json_int(root, hparam_name(HP_EXPERT_SHARED_COUNT)->hf, &shared, 1 << 20, 0, path, err) < 0 ||
        ld_json_int(root, hparam_name(HP_LEADING_DENSE_BLOCK_COUNT)->hf, &e->n_dense_lead, 1 << 20, 0, path, err) < 0 ||
        ld_json_int(root, "moe_layer_freq", &freq, 1 << 20, 0, path, err) < 0)
        return -1;
    if (freq != 1)
        return err_set(err, "%s: \"moe_layer_freq\" %d is not supported (only 1: every layer from "
                       "first_k_dense_replace on has experts)", path, freq);
    if (json_only(root, "topk_method", "greedy", path, err) ||
        json_only(root, hparam_name(HP_EXPERT_GATING_FUNC)->hf, "softmax", path, err))
        return -1;
    if (e->n_dense_lead > c->n_layer) e->n_dense_lead = c->n_layer;
    e->n_ff_shexp = shared * e->n_ff_exp;
    e->gating = MOE_GATING_SOFTMAX;
    json_t *norm = json_object_get(root, hparam_name(HP_EXPERT_WEIGHTS_NORM)->hf);
    if (norm && !json_is_null(norm) && !json_is_boolean(norm))
        return err_set(err, "%s: \"norm_topk_prob\" is not a boolean", path);
    e->norm_topk = json_is_true(norm); /* DeepseekV2Config's default: false */
    json_t *sc = json_object_get(root, hparam_name(HP_EXPERT_WEIGHTS_SCALE)->hf);
    e->scale = 1;
    if (sc && !json_is_null(sc)) {
        if (!json_is_number(sc)) return err_set(err, "%s: \"routed_scaling_factor\" is not a number", path);
        e->scale = (float)json_number_value(sc);
    }
    if (e->norm_topk && e->scale != 1)
        return err_set(err, "%s: \"routed_scaling_factor\" %g with \"norm_topk_prob\": true is not "
                       "supported (DeepSeek-V2 scales only unnormalised weights, llama.cpp both)", path,
                       e->scale);
    return check(c, path, err);
}
