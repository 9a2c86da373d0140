/* model: see model.h. Two front ends (GGUF metadata, HF config.json) fill one Config; the tensor
 * and key names of both conventions come from formats/hfnames.h, what each family has from
 * model/arch.h; one routine checks shapes and types. */
#include "model/model.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/prefault.h"
#include "formats/gguf.h"
#include "formats/hfnames.h"
#include "formats/safetensors.h"
#include "formats/qtype.h"
#include "model/config_gemma.h"
#include "model/loader.h"
#include "model/config_rope.h"
#include "model/mla_load.h"
#include "model/moe_load.h"

/* ---- hyper-parameters ---- */

/* Sanity limits: real models are far inside them; a hostile file beyond them is refused before any
 * allocation is sized from it. */
static int check_config(const Model *m, Err *err) {
    const Config *c = &m->cfg;
    struct { const char *what; long long v, lo, hi; } lim[] = {
        {"n_vocab", c->n_vocab, 1, 1 << 22},   {"n_embd", c->n_embd, 1, 1 << 16},
        {"n_layer", c->n_layer, 1, 1024},      {"n_ff", c->n_ff, 1, 1 << 20},
        {"n_head", c->n_head, 1, 1024},        {"n_head_kv", c->n_head_kv, 1, 1024},
        {"head_dim", c->head_dim, 2, 1024},    {"head_dim_v", c->head_dim_v, 1, 1024},
        {"n_rot", c->n_rot, 2, 1024},
    };
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++)
        if (lim[i].v < lim[i].lo || lim[i].v > lim[i].hi)
            return err_set(err, "%s: %s = %lld is out of range [%lld, %lld]", m->path, lim[i].what,
                           lim[i].v, lim[i].lo, lim[i].hi);
    if (c->n_head % c->n_head_kv)
        return err_set(err, "%s: n_head %d is not a multiple of n_head_kv %d", m->path, c->n_head,
                       c->n_head_kv);
    if (c->n_rot % 2 || c->n_rot > c->head_dim)
        return err_set(err, "%s: rope dimension %d must be even and <= head_dim %d", m->path,
                       c->n_rot, c->head_dim);
    if (!(c->rms_eps > 0 && c->rms_eps < 1))
        return err_set(err, "%s: rms_norm_eps %g is out of range", m->path, c->rms_eps);
    if (!(c->rope_theta > 1 && c->rope_theta < 1e12))
        return err_set(err, "%s: rope theta %g is out of range", m->path, c->rope_theta);
    if (!(c->rope_scale >= 1 && c->rope_scale < 1e6))
        return err_set(err, "%s: rope scaling factor %g is out of range", m->path, c->rope_scale);
    if (!(c->attn_scale >= 0 && c->attn_scale < 1e3) || !(c->attn_softcap >= 0 && c->attn_softcap < 1e6) ||
        !(c->final_softcap >= 0 && c->final_softcap < 1e6))
        return err_set(err, "%s: attention scale or soft-cap out of range", m->path);
    if (!(c->embd_scale >= 0 && c->embd_scale < 1e6) || !(c->residual_scale >= 0 && c->residual_scale < 1e6) ||
        !(c->logit_scale >= 0 && c->logit_scale < 1e6))
        return err_set(err, "%s: embedding, residual or logit scale out of range", m->path);
    /* what model/forward.c implements today; a family described with more loads once it does */
    const ArchInfo *a = arch_info(c->arch);
    if (a->norm != NORM_RMS && a->norm != NORM_LAYER)
        return err_set(err, "%s: %s needs a norm the forward pass lacks", m->path, a->name);
    /* Gemma 2/3 rotate their sliding layers with their own unscaled base; YaRN or LongRoPE on the
     * global layers is not checked against a reference, so it is refused rather than guessed */
    if (a->swa_period && c->rope_scaling != ROPE_SCALING_NONE)
        return err_set(err, "%s: rope scaling '%s' is not supported for %s (linear is)", m->path,
                       rope_scaling_name(c->rope_scaling), a->name);
    return 0;
}

/* The key names of both conventions (formats/hfnames.h). */
#define GGUF_KEY(hp) (hparam_name(hp)->gguf)
#define HF_KEY(hp) (hparam_name(hp)->hf)

/* The family of a general.architecture (hf 0) or model_type (hf 1) value, or NULL with the
 * supported names in the message. */
static const ArchInfo *find_arch(const char *s, int hf, const char *path, Err *err) {
    const ArchInfo *a = hf ? arch_by_hf_type(s) : arch_by_gguf_name(s);
    if (a) return a;
    char names[256];
    arch_list(hf, names, sizeof names);
    err_set(err, "%s: unsupported %s '%s' (%s are)", path, hf ? "model_type" : "architecture", s,
            names);
    return NULL;
}

/* A GGUF string value as a NUL-terminated copy in buf (truncated to its size), or NULL. */
static const char *gguf_str(Gguf *g, const char *key, char *buf, size_t size) {
    size_t len;
    const char *s = gguf_get_str(g, key, &len);
    if (!s) return NULL;
    if (len >= size) len = size - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

/* Without an explicit head dimension it is n_embd / n_head: a remainder would be silently dropped
 * (and blamed later on an odd rope dimension), so it is refused here in the model's terms. */
static int heads_divide(const Config *c, const char *path, Err *err) {
    if (c->n_head > 0 && c->n_embd % c->n_head)
        return err_set(err, "%s: %d attention heads do not divide the hidden size %d (and no head dimension is given)",
                       path, c->n_head, c->n_embd);
    return 0;
}

static int gguf_int_key(Gguf *g, const char *arch, const char *key, int64_t *v, int required,
                        const char *path, Err *err) {
    char k[128];
    snprintf(k, sizeof k, "%s.%s", arch, key);
    (void)path; /* the Gguf names its file */
    int r = gguf_get_int_range(g, k, 0, INT_MAX, v, err);
    if (r == 0 && required) return err_set(err, "%s: missing metadata key %s", path, k);
    return r;
}

/* granite's scales as llama.cpp reads them: logit_scale required, the others optional. */
static int gguf_multipliers(Gguf *g, const char *arch, Config *c, const char *path, Err *err) {
    const Hparam hp[] = {HP_LOGIT_SCALE, HP_EMBEDDING_SCALE, HP_ATTENTION_SCALE, HP_RESIDUAL_SCALE};
    float *field[] = {&c->logit_scale, &c->embd_scale, &c->attn_scale, &c->residual_scale};
    for (int i = 0; i < 4; i++) {
        char k[128];
        double f;
        snprintf(k, sizeof k, "%s.%s", arch, GGUF_KEY(hp[i]));
        if (gguf_get_float(g, k, &f) == 0) *field[i] = (float)f;
        else if (i == 0) return err_set(err, "%s: missing metadata key %s", path, k);
    }
    return 0;
}

static int config_from_gguf(Model *m, Gguf *g, Err *err) {
    Config *c = &m->cfg;
    char arch_buf[64], st_buf[64];
    const char *arch = gguf_str(g, "general.architecture", arch_buf, sizeof arch_buf);
    if (!arch) return err_set(err, "%s: no general.architecture key", m->path);
    const ArchInfo *a = find_arch(arch, 0, m->path, err);
    if (!a) return -1;
    c->arch = a->arch;
    int64_t v;
#define REQ(key, field)                                                          \
    do {                                                                         \
        if (gguf_int_key(g, arch, key, &v, 1, m->path, err) < 0) return -1;      \
        c->field = (int)v;                                                       \
    } while (0)
    REQ(GGUF_KEY(HP_EMBEDDING_LENGTH), n_embd);
    REQ(GGUF_KEY(HP_BLOCK_COUNT), n_layer);
    REQ(GGUF_KEY(HP_FEED_FORWARD_LENGTH), n_ff);
    REQ(GGUF_KEY(HP_HEAD_COUNT), n_head);
#undef REQ
    c->n_head_kv = c->n_head;
    int r = gguf_int_key(g, arch, GGUF_KEY(HP_HEAD_COUNT_KV), &v, 0, m->path, err);
    if (r < 0) return -1;
    if (r == 1) c->n_head_kv = (int)v;
    c->head_dim = c->n_head ? c->n_embd / c->n_head : 0;
    r = gguf_int_key(g, arch, GGUF_KEY(HP_KEY_LENGTH), &v, 0, m->path, err);
    if (r < 0) return -1;
    if (r == 1) c->head_dim = (int)v;
    else if (!a->mla && heads_divide(c, m->path, err)) return -1; /* deepseek2 sizes heads its own way */
    c->head_dim_v = c->head_dim;
    r = gguf_int_key(g, arch, GGUF_KEY(HP_VALUE_LENGTH), &v, 0, m->path, err);
    if (r < 0) return -1;
    if (r == 1) c->head_dim_v = (int)v;
    c->n_rot = c->head_dim;
    r = gguf_int_key(g, arch, GGUF_KEY(HP_ROPE_DIMENSION_COUNT), &v, 0, m->path, err);
    if (r < 0) return -1;
    if (r == 1) c->n_rot = (int)v;
    r = gguf_int_key(g, arch, GGUF_KEY(HP_CONTEXT_LENGTH), &v, 0, m->path, err);
    if (r < 0) return -1;
    if (r == 1) c->n_ctx = (int)v;
    char k[128];
    double f;
    snprintf(k, sizeof k, "%s.%s", arch, GGUF_KEY(a->norm == NORM_LAYER ? HP_LAYERNORM_EPS : HP_RMS_EPS));
    if (gguf_get_float(g, k, &f) != 0) return err_set(err, "%s: missing metadata key %s", m->path, k);
    c->rms_eps = (float)f;
    if (a->multipliers && gguf_multipliers(g, arch, c, m->path, err)) return -1;
    snprintf(k, sizeof k, "%s.%s", arch, GGUF_KEY(HP_ROPE_FREQ_BASE));
    c->rope_theta = gguf_get_float(g, k, &f) == 0 ? (float)f : 10000.0f;
    c->rope_scale = 1;
    snprintf(k, sizeof k, "%s.%s", arch, GGUF_KEY(HP_ROPE_SCALING_TYPE));
    const char *st = gguf_str(g, k, st_buf, sizeof st_buf);
    if (st && (!strcmp(st, "yarn") || !strcmp(st, "longrope"))) {
        if (config_rope_gguf(c, g, arch, st, m->path, err)) return -1;
    } else if (st && strcmp(st, "none") != 0) {
        if (strcmp(st, "linear") != 0)
            return err_set(err, "%s: rope scaling '%s' is not supported (none, linear, yarn, longrope are)",
                           m->path, st);
        snprintf(k, sizeof k, "%s.%s", arch, GGUF_KEY(HP_ROPE_SCALING_FACTOR));
        if (gguf_get_float(g, k, &f) == 0 && f > 0) c->rope_scale = (float)f;
    } else {
        snprintf(k, sizeof k, "%s.%s", arch, GGUF_KEY(HP_ROPE_SCALE_LINEAR));
        if (gguf_get_float(g, k, &f) == 0 && f > 0) c->rope_scale = (float)f;
    }
    if (c->rope_scaling == ROPE_SCALING_NONE && config_rope_gguf(c, g, arch, st ? st : "none", m->path, err))
        return -1;
    c->rope = a->rope_gguf; /* llama.cpp permuted llama's Q/K rows for adjacent pairs */
    c->act = a->act;
    const char *embd = tensor_name(TN_TOKEN_EMBD)->gguf;
    const GgufTensor *e = gguf_find_tensor(g, embd);
    if (!e) return err_set(err, "%s: missing tensor %s", m->path, embd);
    if (e->ne[1] < 1 || e->ne[1] > (1 << 22))
        return err_set(err, "%s: %s has %lld rows", m->path, embd, (long long)e->ne[1]);
    c->n_vocab = (int)e->ne[1];
    c->tied = gguf_find_tensor(g, tensor_name(TN_OUTPUT)->gguf) == NULL;
    if (gemma_config_gguf(c, g, arch, m->path, err)) return -1; /* Gemma's keys; nothing for the others */
    if (a->mla) return mla_config_gguf(g, arch, c, m->path, err); /* deepseek2's own keys */
    return moe_config_gguf(g, arch, a, c, m->path, err); /* expert counts and widths, if any */
}

/* Llama 3 frequency scaling, as divisors of the base frequencies (llama.cpp's rope_freqs). */
static void llama3_factors(float *out, int n_rot, double theta, double factor, double lo,
                           double hi, double old_ctx) {
    double lo_wavelen = old_ctx / lo, hi_wavelen = old_ctx / hi;
    for (int i = 0; i < n_rot / 2; i++) {
        double freq = 1.0 / pow(theta, 2.0 * i / n_rot), wavelen = 2 * M_PI / freq;
        if (wavelen < hi_wavelen) out[i] = 1;
        else if (wavelen > lo_wavelen) out[i] = (float)factor;
        else {
            double smooth = (old_ctx / wavelen - lo) / (hi - lo);
            out[i] = (float)(1 / ((1 - smooth) / factor + smooth));
        }
    }
}

/* partial_rotary_factor (Phi-4-mini: 0.75 of each head rotates). */
static int json_rotary(json_t *root, Config *c, const char *path, Err *err) {
    double prf = 1;
    if (ld_json_num(root, "partial_rotary_factor", &prf, path, err)) return -1;
    if (!(prf > 0 && prf <= 1)) return err_set(err, "%s: \"partial_rotary_factor\" %g is not in (0, 1]", path, prf);
    c->n_rot = (int)(c->head_dim * prf);
    return 0;
}

/* The keys of the families that have them: granite's multipliers (GraniteConfig defaults 1),
 * sliding_window where transformers applies it (null: none), StarCoder2's use_bias (coldtok and
 * llama.cpp need the biases) and hidden_act (the tanh GELU is what both compute). */
static int json_family_keys(json_t *root, const ArchInfo *a, const char *model_type, Config *c,
                            Loader *L, const char *cfg_path, Err *err) {
    if (a->multipliers) {
        const Hparam hp[] = {HP_EMBEDDING_SCALE, HP_ATTENTION_SCALE, HP_RESIDUAL_SCALE, HP_LOGIT_SCALE};
        float *field[] = {&c->embd_scale, &c->attn_scale, &c->residual_scale, &c->logit_scale};
        for (int i = 0; i < 4; i++) {
            double v = 1;
            if (ld_json_num(root, HF_KEY(hp[i]), &v, cfg_path, err)) return -1;
            if (!(v > 0 && v < 1e6))
                return err_set(err, "%s: \"%s\" = %g is out of range", cfg_path, HF_KEY(hp[i]), v);
            *field[i] = (float)v;
        }
    }
    L->window = 0;
    for (int i = 0; i < ARCH_MAX_NAMES && a->window_hf_types[i]; i++)
        if (!strcmp(a->window_hf_types[i], model_type) &&
            ld_json_int(root, HF_KEY(HP_SLIDING_WINDOW), &L->window, 1 << 30, 0, cfg_path, err) < 0)
            return -1;
    if (a->norm_bias == TENSORS_REQUIRED) {
        json_t *ub = json_object_get(root, "use_bias");
        if (ub && !json_is_true(ub))
            return err_set(err, "%s: \"use_bias\": false is not supported (%s without biases)", cfg_path,
                           a->name);
    }
    json_t *act = json_object_get(root, "hidden_act");
    const char *an = json_string_value(act);
    if (a->act == ACT_GELU && act &&
        (!an || (strcmp(an, "gelu_pytorch_tanh") && strcmp(an, "gelu_new") && strcmp(an, "gelu_fast"))))
        return err_set(err, "%s: \"hidden_act\" %s is not supported (the tanh GELU is: "
                       "gelu_pytorch_tanh, gelu_new, gelu_fast)", cfg_path, an ? an : "(not a string)");
    return 0;
}

static int config_from_json(Model *m, const char *cfg_path, Loader *L, Err *err) {
    Config *c = &m->cfg;
    json_error_t je;
    json_t *root = json_load_file(cfg_path, 0, &je);
    if (!root) return err_set(err, "%s: not valid JSON: %s", cfg_path, je.text);
    int r = -1;
    json_t *mt = json_object_get(root, "model_type");
    if (!json_is_string(mt)) {
        err_set(err, "%s: no model_type", cfg_path);
        goto done;
    }
    if (!strcmp(json_string_value(mt), "gemma3") && json_object_get(root, "text_config")) {
        err_set(err, "%s: model_type gemma3 is Gemma 3's multimodal checkpoint (text_config, a vision "
                "tower, language_model.* tensors): not supported; the text-only gemma3_text one is", cfg_path);
        goto done;
    }
    const ArchInfo *a = find_arch(json_string_value(mt), 1, cfg_path, err);
    if (!a) goto done;
    c->arch = a->arch;
    c->n_vocab = c->n_embd = c->n_layer = c->n_ff = c->n_head = -1;
    /* the required integers, in the order they are read and reported */
    const Hparam need[] = {HP_VOCAB_SIZE, HP_EMBEDDING_LENGTH, HP_BLOCK_COUNT,
                           HP_FEED_FORWARD_LENGTH, HP_HEAD_COUNT};
    int *val[] = {&c->n_vocab, &c->n_embd, &c->n_layer, &c->n_ff, &c->n_head};
    for (int i = 0; i < 5; i++)
        if (ld_json_int(root, HF_KEY(need[i]), val[i], 1 << 30, 0, cfg_path, err) < 0) goto done;
    for (int i = 0; i < 5; i++)
        if (*val[i] < 0) {
            err_set(err, "%s: missing \"%s\"", cfg_path, HF_KEY(need[i]));
            goto done;
        }
    c->n_head_kv = c->n_head;
    c->head_dim = c->n_head ? c->n_embd / c->n_head : 0;
    c->n_ctx = 0;
    if (ld_json_int(root, HF_KEY(HP_HEAD_COUNT_KV), &c->n_head_kv, 1 << 30, 0, cfg_path, err) < 0 ||
        ld_json_int(root, HF_KEY(HP_CONTEXT_LENGTH), &c->n_ctx, 1 << 30, 0, cfg_path, err) < 0)
        goto done;
    int r_hd = ld_json_int(root, HF_KEY(HP_KEY_LENGTH), &c->head_dim, 1 << 30, 0, cfg_path, err);
    /* deepseek2 sizes its heads its own way; Gemma's default head_dim is 256 (config_gemma.c) */
    int own_head_dim = a->mla || c->arch == ARCH_GEMMA || c->arch == ARCH_GEMMA2 || c->arch == ARCH_GEMMA3;
    if (r_hd < 0 || (r_hd == 0 && !own_head_dim && heads_divide(c, cfg_path, err))) goto done;
    c->n_rot = c->head_dim;
    c->head_dim_v = c->head_dim;
    c->act = a->act;
    if (json_rotary(root, c, cfg_path, err)) goto done;
    double eps = 1e-6, theta = 10000;
    if (a->norm == NORM_LAYER) eps = 1e-5; /* Starcoder2Config norm_epsilon */
    if (ld_json_num(root, HF_KEY(a->norm == NORM_LAYER ? HP_LAYERNORM_EPS : HP_RMS_EPS), &eps, cfg_path, err) ||
        ld_json_num(root, HF_KEY(HP_ROPE_FREQ_BASE), &theta, cfg_path, err))
        goto done;
    c->rms_eps = (float)eps;
    c->rope_theta = (float)theta;
    c->rope_scale = 1;
    c->rope = a->rope_hf; /* rotate_half in transformers */
    json_t *tie = json_object_get(root, "tie_word_embeddings");
    if (tie && !json_is_boolean(tie)) {
        err_set(err, "%s: \"tie_word_embeddings\" is not a boolean", cfg_path);
        goto done;
    }
    c->tied = tie ? json_is_true(tie) : a->tied_default;
    if (!a->mla && moe_config_json(root, a, c, cfg_path, err)) goto done; /* the experts, if any */
    if (json_family_keys(root, a, json_string_value(mt), c, L, cfg_path, err)) goto done;
    /* never ignored: a scheme coldtok does not read is one line naming it (older
     * compressed-tensors releases call the object compression_config) */
    json_t *qc = json_object_get(root, "quantization_config");
    if (!qc || json_is_null(qc)) qc = json_object_get(root, "compression_config");
    if (qc && !json_is_null(qc) && hq_config_parse(qc, cfg_path, &L->hq, err)) goto done;
    if ((!qc || json_is_null(qc)) && ld_quantize_config(cfg_path, &L->hq, err)) goto done; /* older AutoGPTQ */
    json_t *rs = json_object_get(root, "rope_scaling");
    if (rs && !json_is_null(rs)) {
        json_t *ty = json_object_get(rs, "rope_type");
        if (!ty) ty = json_object_get(rs, "type");
        const char *type = json_string_value(ty);
        double factor = 1;
        if (!type || ld_json_num(rs, "factor", &factor, cfg_path, err) || !(factor >= 1)) {
            err_set(err, "%s: rope_scaling needs a type and a factor >= 1", cfg_path);
            goto done;
        }
        if (!strcmp(type, "linear")) {
            c->rope_scale = (float)factor;
        } else if (!strcmp(type, "llama3")) {
            double lo = 1, hi = 4, old = 8192;
            if (ld_json_num(rs, "low_freq_factor", &lo, cfg_path, err) ||
                ld_json_num(rs, "high_freq_factor", &hi, cfg_path, err) ||
                ld_json_num(rs, "original_max_position_embeddings", &old, cfg_path, err))
                goto done;
            if (!(hi > lo && lo > 0 && old > 0) || c->n_rot < 2 || c->n_rot > 1024 || c->n_rot % 2) {
                err_set(err, "%s: bad llama3 rope_scaling", cfg_path);
                goto done;
            }
            L->llama3[0] = factor, L->llama3[1] = lo, L->llama3[2] = hi, L->llama3[3] = old;
        } else if (!strcmp(type, "yarn") || !strcmp(type, "longrope") || !strcmp(type, "su")) {
            if (config_rope_json(root, rs, type, c, factor, &L->longrope, cfg_path, err)) goto done;
        } else if (strcmp(type, "default") != 0) {
            err_set(err, "%s: rope_scaling type '%s' is not supported (linear, llama3, yarn, longrope are)",
                    cfg_path, type);
            goto done;
        }
    }
    if (gemma_config_json(c, root, cfg_path, err)) goto done; /* Gemma's keys; nothing for the others */
    if (a->mla && mla_config_json(root, c, cfg_path, err)) goto done; /* deepseek2's own keys */
    r = 0;
done:
    json_decref(root);
    return r;
}

/* ---- loading ---- */

/* Room for every f32 vector: norms, biases, q/k norms, rope factors. */
static size_t vector_room(const Config *c) {
    size_t q = (size_t)c->n_head * c->head_dim, kv = (size_t)c->n_head_kv * c->head_dim,
           vd = (size_t)c->n_head_kv * c->head_dim_v;
    /* per layer: norms and their biases, q/k/v biases, q/k norms, the output projection's and the
     * FFN's biases, Gemma 2/3's post-norms, MLA's latent norms; then the output norm and its bias
     * and the rope factors (LongRoPE's short and long, YaRN's, llama3's) */
    return (size_t)c->n_layer * (4 * (size_t)c->n_embd + q + kv + vd + 2 * (size_t)c->head_dim +
                                 2 * (size_t)c->n_embd + 2 * (size_t)c->n_ff + 2 * (size_t)c->n_embd +
                                 (size_t)c->q_lora_rank + (size_t)c->kv_lora_rank) +
           2 * (size_t)c->n_embd + 1024 + 2 * (size_t)c->n_rot;
}

/* Rows r0 .. r0+n-1 of a matrix as a matrix of its own: the same stored bytes, from row r0 on
 * (every block type keeps its rows whole, so a row boundary is a byte offset). */
static Tensor row_range(const Tensor *t, int64_t r0, int64_t n) {
    Tensor r = *t;
    r.data = (const uint8_t *)t->data + (size_t)r0 * qtype_row_bytes(t->type, t->cols);
    r.rows = n;
    return r;
}

/* The fused matrices of layer l: a stacked attn_qkv (any family, as llama.cpp accepts it; rows q,
 * k, v) becomes wq, wk, wv; a fused_gate_up family's stacked ffn_up / gate_up_proj (rows gate,
 * then up) becomes w_gate and w_up. Returns a mask (1: qkv, 2: gate/up taken from fused
 * tensors), -1 on error. A packed (GPTQ/AWQ) fused matrix is refused: its rows are not stored
 * whole. */
static int get_fused(Loader *L, int l, Layer *y) {
    const Config *c = &L->m->cfg;
    const ArchInfo *a = arch_info(c->arch);
    int64_t E = c->n_embd, Q = (int64_t)c->n_head * c->head_dim, KV = (int64_t)c->n_head_kv * c->head_dim,
            VD = (int64_t)c->n_head_kv * c->head_dim_v, F = c->n_ff;
    int mask = 0, nd;
    Tensor t;
    int r = ld_lookup(L, TN_ATTN_QKV_BIAS, l, &t, &nd);
    if (r < 0) return -1;
    if (r == 1) return err_set(L->err, "%s: %s: a fused q/k/v bias is not supported", L->m->path, t.name);
    r = ld_lookup(L, TN_ATTN_QKV, l, &t, &nd);
    if (r < 0) return -1;
    if (r == 1) {
        if (ld_matrix(L, TN_ATTN_QKV, l, Q + KV + VD, E, &t)) return -1;
        if (t.hq.method != HQ_NONE)
            return err_set(L->err, "%s: %s: a packed fused matrix is not supported", L->m->path, t.name);
        y->wq = row_range(&t, 0, Q), y->wk = row_range(&t, Q, KV), y->wv = row_range(&t, Q + KV, VD);
        mask |= 1;
    }
    if (a->fused_gate_up) {
        if (ld_matrix(L, TN_FFN_GATE_UP, l, 2 * F, E, &t)) return -1;
        if (t.hq.method != HQ_NONE)
            return err_set(L->err, "%s: %s: a packed fused matrix is not supported", L->m->path, t.name);
        y->w_gate = row_range(&t, 0, F), y->w_up = row_range(&t, F, F);
        mask |= 2;
    }
    return mask;
}

/* The RoPE frequency divisors of YaRN and LongRoPE (model/rope_scaling.h) into Model.rope_freqs:
 * LongRoPE's short factors (GGUF rope_factors_short, or config.json's short_factor; the long ones
 * are kept for the GGUF writer only), YaRN's ramp times any divisors already there. */
static int rope_extension(Loader *L) {
    Model *m = L->m;
    Config *c = &m->cfg;
    const int half = c->n_rot / 2;
    const float *sh = NULL, *lo = NULL;
    if (L->longrope) { /* config.json's lists */
        float *dst = m->vectors + L->vec_used;
        memcpy(dst, L->longrope, 2 * (size_t)half * sizeof(float));
        L->vec_used += 2 * (size_t)half;
        sh = dst, lo = dst + half;
    } else if (ld_vector(L, TN_ROPE_FACTORS_SHORT, 0, half, 1, &sh) ||
               ld_vector(L, TN_ROPE_FACTORS_LONG, 0, half, 1, &lo)) {
        return -1;
    }
    if (sh && m->rope_freqs)
        return err_set(L->err, "%s: both rope_freqs and LongRoPE short factors: which divides is unclear", m->path);
    if (sh) m->rope_freqs = sh; /* llama.cpp: the short factors while the context fits the original */
    m->rope_long = lo;
    if (c->rope_scaling != ROPE_SCALING_YARN) return 0;
    float *dst = m->vectors + L->vec_used;
    for (int i = 0; i < half; i++) dst[i] = m->rope_freqs ? m->rope_freqs[i] : 1;
    L->vec_used += (size_t)half;
    rope_yarn_divisors(dst, c->n_rot, c->rope_theta, c->rope_factor, c->rope_orig_ctx, c->yarn_beta_fast,
                       c->yarn_beta_slow);
    m->rope_freqs = dst;
    return 0;
}

/* A layer's multi-head latent attention (model/mla.h): q direct or low-rank, the latent
 * projection and norm, and attn_kv_b or its split form attn_k_b / attn_v_b (GGUF only). */
static int load_mla(Loader *L, int l, Layer *y) {
    const Config *c = &L->m->cfg;
    int64_t E = c->n_embd, H = c->n_head, hd = c->head_dim, hv = c->head_dim_v, rot = c->n_rot;
    int64_t R = c->kv_lora_rank, Rq = c->q_lora_rank, nope = hd - rot;
    if (Rq > 0 ? ld_matrix(L, TN_ATTN_Q_A, l, Rq, E, &y->wq_a) ||
                     ld_vector(L, TN_ATTN_Q_A_NORM, l, Rq, 0, &y->q_a_norm) ||
                     ld_matrix(L, TN_ATTN_Q_B, l, H * hd, Rq, &y->wq_b)
               : ld_matrix(L, TN_ATTN_Q, l, H * hd, E, &y->wq))
        return -1;
    if (ld_matrix(L, TN_ATTN_KV_A_MQA, l, R + rot, E, &y->wkv_a) ||
        ld_vector(L, TN_ATTN_KV_A_NORM, l, R, 0, &y->kv_a_norm))
        return -1;
    Tensor t;
    int nd, r = L->g ? ld_lookup(L, TN_ATTN_KV_B, l, &t, &nd) : 1;
    if (r < 0) return -1;
    if (r == 1) return ld_matrix(L, TN_ATTN_KV_B, l, H * (nope + hv), R, &y->wkv_b);
    return ld_matrix(L, TN_ATTN_K_B, l, H * R, nope, &y->wk_b) ||
                   ld_matrix(L, TN_ATTN_V_B, l, H * hv, R, &y->wv_b) ? -1 : 0;
}

/* deepseek2's shared experts in an HF checkpoint (mlp.shared_experts.*; model/moe_load.c reads
 * the GGUF ones, whose names are the other families'), all n_ff_shexp wide side by side. */
static int load_shared_experts(Loader *L, int l, Layer *y) {
    const Config *c = &L->m->cfg;
    int64_t E = c->n_embd, S = c->moe.n_ff_shexp;
    MoeLayer *e = y->moe;
    if (S == 0) {
        Tensor t;
        int nd, r = ld_lookup(L, TN_FFN_GATE_SHEXPS, l, &t, &nd);
        return r < 0 ? -1 : r ? err_set(L->err, "%s: tensor %s: shared experts, but n_shared_experts is 0",
                                         L->m->path, t.name) : 0;
    }
    return ld_matrix(L, TN_FFN_GATE_SHEXPS, l, S, E, &e->sh_gate) ||
                   ld_matrix(L, TN_FFN_UP_SHEXPS, l, S, E, &e->sh_up) ||
                   ld_matrix(L, TN_FFN_DOWN_SHEXPS, l, E, S, &e->sh_down) ? -1 : 0;
}

/* w += 1 for a norm vector of the model's vector storage (NULL: absent). */
static void plus_one(Model *m, const float *w, int64_t n) {
    if (!w) return;
    float *v = m->vectors + (w - m->vectors);
    for (int64_t i = 0; i < n; i++) v[i] += 1;
}

/* A layer's optional biases: its norms', the output projection's and the FFN's, each as the
 * family's Presence says (a present tensor of a REFUSED kind is an error naming it). */
static int load_biases(Loader *L, const ArchInfo *a, int l, Layer *y) {
    const Config *c = &L->m->cfg;
    int64_t E = c->n_embd, F = c->n_ff;
    struct { TensorRole role; int64_t n; Presence p; const float **out; } b[] = {
        {TN_ATTN_NORM_BIAS, E, a->norm_bias, &y->attn_norm_b},
        {TN_FFN_NORM_BIAS, E, a->norm_bias, &y->ffn_norm_b},
        {TN_ATTN_OUT_BIAS, E, a->out_bias, &y->bo},
        {TN_FFN_GATE_BIAS, F, c->act == ACT_GELU ? TENSORS_REFUSED : a->ffn_bias, &y->b_gate},
        {a->mlp_c_fc ? TN_FFN_C_FC_BIAS : TN_FFN_UP_BIAS, F, a->ffn_bias, &y->b_up},
        {a->mlp_c_fc ? TN_FFN_C_PROJ_BIAS : TN_FFN_DOWN_BIAS, E, a->ffn_bias, &y->b_down},
    };
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
        if (b[i].p == TENSORS_REFUSED) {
            Tensor t;
            int nd, r = ld_lookup(L, b[i].role, l, &t, &nd);
            if (r < 0) return -1;
            if (r == 1) return err_set(L->err, "%s: %s: a bias that %s does not use", L->m->path, t.name, a->name);
            continue;
        }
        if (ld_vector(L, b[i].role, l, b[i].n, b[i].p != TENSORS_REQUIRED, b[i].out)) return -1;
    }
    return 0;
}

static int load_weights(Loader *L) {
    Model *m = L->m;
    const Config *c = &m->cfg;
    const ArchInfo *a = arch_info(c->arch);
    int64_t E = c->n_embd, Q = (int64_t)c->n_head * c->head_dim,
            KV = (int64_t)c->n_head_kv * c->head_dim, F = c->n_ff, V = c->n_vocab;
    int64_t VD = (int64_t)c->n_head_kv * c->head_dim_v, OD = (int64_t)c->n_head * c->head_dim_v;
    if (ld_matrix(L, TN_TOKEN_EMBD, 0, V, E, &m->tok_embd) ||
        ld_vector(L, TN_OUTPUT_NORM, 0, E, 0, &m->output_norm) ||
        ld_vector(L, TN_OUTPUT_NORM_BIAS, 0, E, a->norm_bias != TENSORS_REQUIRED, &m->output_norm_b))
        return -1;
    if (m->output_norm_b && a->norm_bias == TENSORS_REFUSED)
        return err_set(L->err, "%s: a norm bias, which %s does not use", m->path, a->name);
    if (c->tied) {
        m->output = m->tok_embd;
    } else if (ld_matrix(L, TN_OUTPUT, 0, V, E, &m->output)) {
        return -1;
    }
    const float *rf = NULL;
    if (ld_vector(L, TN_ROPE_FREQS, 0, c->n_rot / 2, 1, &rf)) return -1;
    if (rf) m->rope_freqs = rf;
    if (rope_extension(L)) return -1;
    m->layers = xcalloc((size_t)c->n_layer, sizeof *m->layers);
    const int need_bias = a->qkv_bias == TENSORS_REQUIRED, need_norm = a->qk_norm == TENSORS_REQUIRED;
    /* Gemma 2/3: the FFN's input norm has its own HF name, and norms after attention and FFN */
    const int sandwich = a->post_norms != TENSORS_REFUSED;
    const TensorRole up = a->mlp_c_fc ? TN_FFN_C_FC : TN_FFN_UP, down = a->mlp_c_fc ? TN_FFN_C_PROJ : TN_FFN_DOWN;
    for (int l = 0; l < c->n_layer; l++) {
        Layer *y = &m->layers[l];
        const int experts = moe_is_expert_layer(c, l); /* an expert FFN instead of a dense one */
        progress("loading layer %d/%d", l + 1, c->n_layer);
        int fused = get_fused(L, l, y);
        if (fused < 0) return -1;
        if (ld_vector(L, TN_ATTN_NORM, l, E, 0, &y->attn_norm) ||
            (a->mla ? load_mla(L, l, y)
                    : !(fused & 1) && (ld_matrix(L, TN_ATTN_Q, l, Q, E, &y->wq) ||
                                       ld_matrix(L, TN_ATTN_K, l, KV, E, &y->wk) ||
                                       ld_matrix(L, TN_ATTN_V, l, VD, E, &y->wv))) ||
            ld_matrix(L, TN_ATTN_OUT, l, E, OD, &y->wo) ||
            ld_vector(L, sandwich ? TN_FFN_PRE_NORM : TN_FFN_NORM, l, E, 0, &y->ffn_norm) ||
            (!experts && !(fused & 2) && c->act != ACT_GELU && ld_matrix(L, TN_FFN_GATE, l, F, E, &y->w_gate)) ||
            (!experts && !(fused & 2) && ld_matrix(L, up, l, F, E, &y->w_up)) ||
            (!experts && ld_matrix(L, down, l, E, F, &y->w_down)) ||
            (experts && moe_load_layer(L->g, L->st, c, a, l, y, m->path, L->err)) ||
            (experts && a->mla && !L->g && load_shared_experts(L, l, y)))
            return -1;
        y->window = L->window;
        /* the q/k/v biases: all three or none */
        if (ld_vector(L, TN_ATTN_Q_BIAS, l, Q, !need_bias, &y->bq) ||
            ld_vector(L, TN_ATTN_K_BIAS, l, KV, !need_bias, &y->bk) ||
            ld_vector(L, TN_ATTN_V_BIAS, l, VD, !need_bias, &y->bv))
            return -1;
        if ((y->bq != NULL) != (y->bk != NULL) || (y->bq != NULL) != (y->bv != NULL))
            return err_set(L->err, "%s: layer %d has only some of the q/k/v biases", m->path, l);
        if (a->qkv_bias == TENSORS_REFUSED && y->bq)
            return err_set(L->err, "%s: layer %d has q/k/v biases, which %s does not use", m->path, l,
                           a->name);
        if (load_biases(L, a, l, y)) return -1; /* norms', o_proj's, FFN's; refused ones named */
        if (ld_vector(L, TN_ATTN_Q_NORM, l, c->head_dim, !need_norm, &y->q_norm) ||
            ld_vector(L, TN_ATTN_K_NORM, l, c->head_dim, !need_norm, &y->k_norm))
            return -1;
        if (a->qk_norm == TENSORS_REFUSED && (y->q_norm || y->k_norm))
            return err_set(L->err, "%s: layer %d has q/k norms, which %s does not use", m->path, l,
                           a->name);
        if ((y->q_norm != NULL) != (y->k_norm != NULL))
            return err_set(L->err, "%s: layer %d has only one of the q/k norms", m->path, l);
        if (sandwich && (ld_vector(L, TN_ATTN_POST_NORM, l, E, a->post_norms != TENSORS_REQUIRED,
                                    &y->attn_post_norm) ||
                         ld_vector(L, TN_FFN_POST_NORM, l, E, a->post_norms != TENSORS_REQUIRED,
                                    &y->ffn_post_norm)))
            return -1;
        if (!sandwich) { /* a post-norm the forward pass would not apply */
            Tensor pn;
            int pnd, pr = ld_lookup(L, TN_FFN_POST_NORM, l, &pn, &pnd);
            if (pr < 0) return -1;
            if (pr == 1)
                return err_set(L->err, "%s: %s: post-norms are not part of %s", m->path, pn.name, a->name);
        }
        if (a->embd_scale) y->window = gemma_layer_window(c, l); /* Gemma's sliding-window layers */
        if (!L->g && a->hf_norm_plus_one) { /* transformers' Gemma RMSNorm: x * (1 + w) */
            const float *norms[] = {y->attn_norm, y->ffn_norm, y->attn_post_norm, y->ffn_post_norm,
                                    y->q_norm, y->k_norm};
            const int64_t len[] = {E, E, E, E, c->head_dim, c->head_dim};
            for (int i = 0; i < 6; i++) plus_one(m, norms[i], len[i]);
        }
    }
    if (!L->g && a->hf_norm_plus_one) plus_one(m, m->output_norm, E);
    progress_done();
    /* weights of a layer past the last one the config names would be ignored: a config that says
     * fewer layers than the file holds is refused (more is refused above, as a missing tensor) */
    Tensor extra;
    int xnd, xr = ld_lookup(L, TN_ATTN_NORM, c->n_layer, &extra, &xnd);
    if (xr < 0) return -1;
    if (xr == 1)
        return err_set(L->err, "%s: the config says %d layers but the weights hold more (%s)", m->path, c->n_layer,
                       extra.name);
    if (L->hq.method != HQ_NONE && L->n_packed == 0)
        return err_set(L->err, "%s: quantization_config says %s but no linear layer is packed (no "
                       "*.%s tensor%s)", m->path, hq_method_name(L->hq.method), ld_packed_part(L->hq.method),
                       L->hq.method == HQ_FP8 || L->hq.method == HQ_CT_FP8 ? " of dtype F8_E4M3"
                       : L->hq.method == HQ_BNB4 ? " of dtype U8" : L->hq.method == HQ_BNB8 ? " of dtype I8" : "");
    return 0;
}

/* The matrices one forward pass reads whole, in its order (each layer's, then the output; the
 * embedding only as a tied output; routed experts not at all: a pass reads a few of them),
 * prefaulted while the caller goes on (common/prefault.h): a cold start's page faults move to the
 * core that the tokenizer's load leaves idle. Not for a small model (nothing to gain), nor for
 * weights above half of the memory (a run ahead of the pass would evict what it needs next), nor
 * when COLDTOK_PREFAULT=0 (to measure without it). Packed layers are read through their parts and
 * are left out. */
typedef struct {
    MemRange *r;
    size_t n;
    uint64_t bytes;
} Ranges;

static void add_range(Ranges *rs, const Tensor *t) {
    if (!t->data || t->hq.method != HQ_NONE) return;
    MemRange *r = &rs->r[rs->n++];
    *r = (MemRange){t->data, qtype_row_bytes(t->type, t->cols) * (size_t)t->rows};
    rs->bytes += r->n;
}

static Prefault *prefault_weights(const Model *m) {
    const char *env = getenv("COLDTOK_PREFAULT");
    if (env && !strcmp(env, "0")) return NULL;
    enum { PER_LAYER = 13 }; /* the add_range calls per layer below */
    Ranges rs = {xmalloc(((size_t)m->cfg.n_layer * PER_LAYER + 1) * sizeof *rs.r), 0, 0};
    for (int l = 0; l < m->cfg.n_layer; l++) {
        const Layer *y = &m->layers[l];
        const Tensor *attn[] = {&y->wq_a, &y->wq_b, &y->wkv_a, &y->wkv_b, &y->wk_b, &y->wv_b,
                                &y->wq, &y->wk, &y->wv, &y->wo};
        for (size_t k = 0; k < sizeof attn / sizeof *attn; k++) add_range(&rs, attn[k]);
        const MoeLayer *e = y->moe; /* its shared expert only */
        add_range(&rs, e ? &e->sh_gate : &y->w_gate);
        add_range(&rs, e ? &e->sh_up : &y->w_up);
        add_range(&rs, e ? &e->sh_down : &y->w_down);
    }
    add_range(&rs, &m->output);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t half = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 2 : 0;
    Prefault *pf = rs.bytes >= (64u << 20) && rs.bytes <= half ? prefault_start(rs.r, rs.n) : NULL;
    free(rs.r);
    return pf;
}

Model *model_load(const char *path, Err *err) {
    Model *m = xcalloc(1, sizeof *m);
    m->path = xstrdup(path);
    Loader L = {.m = m, .err = err};
    int r = -1;
    Buf cfg = {0};
    if (check_input_path(path, err)) goto out; /* a FIFO is not "no such file" */
    if (is_file(path) && !ends_with(path, ".safetensors")) {
        /* everything that is not a safetensors file is tried as GGUF: gguf_open names the problem */
        m->format = xstrdup("gguf");
        if (!(L.g = gguf_open(path, err))) goto out;
        m->gguf = L.g;
        if (config_from_gguf(m, L.g, err) || check_config(m, err)) goto out;
    } else {
        m->format = xstrdup("safetensors");
        /* the weights' own header before config.json: a junk file is named as such */
        if (!(L.st = st_open(path, err))) goto out;
        m->st = L.st;
        if (is_dir(path)) {
            buf_printf(&cfg, "%s/config.json", path);
        } else {
            const char *slash = strrchr(path, '/');
            if (slash) buf_printf(&cfg, "%.*s/config.json", (int)(slash - path), path);
            else buf_puts(&cfg, "config.json");
        }
        if (!is_file(cfg.data)) {
            err_set(err, "%s: no config.json beside the weights (%s)", path, cfg.data);
            goto out;
        }
        if (config_from_json(m, cfg.data, &L, err) || check_config(m, err)) goto out;
        L.vec_cap = vector_room(&m->cfg);
        m->vectors = xmalloc(L.vec_cap * sizeof(float));
        if (L.llama3[0] > 0) {
            llama3_factors(m->vectors, m->cfg.n_rot, m->cfg.rope_theta, L.llama3[0], L.llama3[1],
                           L.llama3[2], L.llama3[3]);
            m->rope_freqs = m->vectors;
            L.vec_used = (size_t)m->cfg.n_rot / 2;
        }
        const char *embd = tensor_name(TN_TOKEN_EMBD)->hf;
        const StTensor *e = st_find(L.st, embd);
        if (e && e->n_dims == 2 && e->shape[0] != m->cfg.n_vocab) {
            err_set(err, "%s: %s has %lld rows but config.json says vocab_size %d", path, embd,
                    (long long)e->shape[0], m->cfg.n_vocab);
            goto out;
        }
    }
    if (!m->vectors) {
        L.vec_cap = vector_room(&m->cfg);
        m->vectors = xmalloc(L.vec_cap * sizeof(float));
    }
    if (m->cfg.moe.n_expert > 0) moe_advise_reads(L.g, L.st, m->cfg.tied); /* read only what a pass needs */
    r = load_weights(&L);
    if (r == 0) m->prefault = prefault_weights(m);
out:
    progress_done();
    buf_free(&cfg);
    free(L.longrope);
    if (r != 0) {
        model_free(m);
        return NULL;
    }
    return m;
}

void model_free(Model *m) {
    if (!m) return;
    prefault_stop(m->prefault); /* before the mappings go */
    if (m->gguf) gguf_close(m->gguf);
    if (m->st) st_close(m->st);
    if (m->layers)
        for (int l = 0; l < m->cfg.n_layer; l++) free(m->layers[l].moe);
    free(m->layers);
    free(m->vectors);
    free(m->path);
    free(m->format);
    free(m);
}

static uint64_t tensor_bytes(const Tensor *t) {
    if (t->hq.method != HQ_NONE) return t->hq.bytes; /* qweight + qzeros + scales (+ g_idx) */
    return t->data ? (uint64_t)qtype_row_bytes(t->type, t->cols) * (uint64_t)t->rows : 0;
}

/* The model's matrices, i in 0 .. n_matrices(m) - 1: token_embd, output, then each layer's seven. */
static int n_matrices(const Model *m) { return 2 + 7 * m->cfg.n_layer; }
static const Tensor *matrix_at(const Model *m, int i) {
    if (i < 2) return i == 0 ? &m->tok_embd : &m->output;
    const Layer *L = &m->layers[(i - 2) / 7];
    const Tensor *t[7] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
    return t[(i - 2) % 7];
}

/* 1 when p is one of the stored parts (qweight, qzeros, scales, g_idx) of a packed matrix. */
int model_packed_part(const Model *m, const void *p) {
    for (int i = 0; i < n_matrices(m); i++) {
        const HqTensor *h = &matrix_at(m, i)->hq;
        if (h->method != HQ_NONE &&
            (p == h->qweight || p == h->qzeros || p == h->scales || (h->g_idx && p == h->g_idx) ||
             (h->nested_absmax && (p == h->nested_absmax || p == h->nested_map))))
            return 1;
    }
    return 0;
}

double model_bits_per_weight(const Model *m) {
    uint64_t elems = 0, bytes = 0;
    if (m->gguf) {
        const Gguf *g = m->gguf;
        for (int i = 0; i < gguf_n_tensors(g); i++) {
            const GgufTensor *t = gguf_tensor(g, i);
            elems += (uint64_t)t->ne[0] * (uint64_t)t->ne[1] * (uint64_t)t->ne[2] * (uint64_t)t->ne[3];
            bytes += t->nbytes;
        }
    } else if (m->st) {
        /* every stored byte counts; a packed matrix's parts count its rows x cols weights once */
        const SafeTensors *st = m->st;
        for (int i = 0; i < st_n_tensors(st); i++) {
            const StTensor *t = st_tensor(st, i);
            bytes += t->nbytes;
            if (model_packed_part(m, t->data)) continue;
            uint64_t e = 1;
            for (int d = 0; d < t->n_dims; d++) e *= (uint64_t)t->shape[d];
            elems += e;
        }
        for (int i = 0; i < n_matrices(m); i++) {
            const HqTensor *h = &matrix_at(m, i)->hq;
            if (h->method != HQ_NONE && !(i == 1 && m->cfg.tied)) elems += (uint64_t)h->rows * (uint64_t)h->cols;
        }
    }
    return elems ? 8.0 * (double)bytes / (double)elems : NAN;
}

uint64_t model_weight_bytes(const Model *m) {
    uint64_t s = tensor_bytes(&m->output);
    for (int l = 0; l < m->cfg.n_layer; l++) {
        const Layer *y = &m->layers[l];
        s += tensor_bytes(&y->wq) + tensor_bytes(&y->wk) + tensor_bytes(&y->wv) +
             tensor_bytes(&y->wo) + tensor_bytes(&y->w_gate) + tensor_bytes(&y->w_up) +
             tensor_bytes(&y->w_down) + moe_layer_bytes(y->moe, m->cfg.moe.n_expert);
        s += tensor_bytes(&y->wq_a) + tensor_bytes(&y->wq_b) + tensor_bytes(&y->wkv_a) + /* MLA */
             tensor_bytes(&y->wkv_b) + tensor_bytes(&y->wk_b) + tensor_bytes(&y->wv_b);
    }
    return s;
}
