/* config_gemma: see config_gemma.h. */
#include "model/config_gemma.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "formats/hfnames.h"

#define GGUF_KEY(hp) (hparam_name(hp)->gguf)
#define HF_KEY(hp) (hparam_name(hp)->hf)

static int is_gemma(const Config *c) {
    const ArchInfo *a = arch_info(c->arch);
    return a && a->embd_scale;
}

int gemma_layer_window(const Config *c, int l) {
    if (c->n_swa <= 0) return 0;
    if (c->swa_period <= 0) return c->n_swa; /* llama.cpp: a period of 0 makes every layer slide */
    return l % c->swa_period < c->swa_period - 1 ? c->n_swa : 0;
}

float gemma_gguf_attn_scale(const Config *c) {
    const ArchInfo *a = arch_info(c->arch);
    if (a && a->scale_by_embd_layers && c->n_layer == a->scale_by_embd_layers)
        return 1.0f / sqrtf((float)(c->n_embd / c->n_head));
    return 1.0f / sqrtf((float)c->head_dim);
}

/* The common part of both sources: the embedding scale, the defaults of the family. */
static void defaults(Config *c) {
    const ArchInfo *a = arch_info(c->arch);
    c->embd_scale = sqrtf((float)c->n_embd); /* llama.cpp: sqrtf(n_embd); transformers: hidden_size**0.5
                                              * as a tensor of the activations' dtype (f32 here) */
    c->swa_period = a->swa_period;
    c->n_swa = 0;
    c->rope_theta_swa = 0;
    c->attn_softcap = c->final_softcap = 0;
    c->attn_scale = 0;
    if (a->tied_always) c->tied = 1;
}

/* ---- GGUF ---- */

static int gguf_num(const Gguf *g, const char *arch, const char *key, double *out) {
    char k[160];
    snprintf(k, sizeof k, "%s.%s", arch, key);
    return gguf_get_float(g, k, out) == 0;
}

int gemma_config_gguf(Config *c, const Gguf *g, const char *arch, const char *path, Err *err) {
    if (!is_gemma(c)) return 0;
    defaults(c);
    double v;
    char k[160];
    if (c->arch == ARCH_GEMMA2) {
        c->n_swa = 4096; /* llama.cpp's default for Gemma 2 */
        c->attn_softcap = 50, c->final_softcap = 30;
    }
    if (c->arch != ARCH_GEMMA && gguf_num(g, arch, GGUF_KEY(HP_SLIDING_WINDOW), &v)) {
        if (!(v >= 0 && v <= (1 << 30)) || v != (int)v)
            return err_set(err, "%s: %s.%s = %g is not a window", path, arch, GGUF_KEY(HP_SLIDING_WINDOW), v);
        c->n_swa = (int)v;
    }
    snprintf(k, sizeof k, "%s.%s", arch, GGUF_KEY(HP_SLIDING_WINDOW_PATTERN));
    int kv = gguf_find_kv(g, k);
    if (c->n_swa > 0 && kv >= 0) {
        int64_t p;
        if (gguf_get_int(g, k, &p) != 0 || p < 0 || p > 1024)
            return err_set(err, "%s: %s: only a period (an integer) is supported as a window pattern",
                           path, k);
        c->swa_period = (int)p;
    }
    if (c->arch == ARCH_GEMMA2) {
        if (gguf_num(g, arch, GGUF_KEY(HP_ATTN_SOFTCAP), &v)) c->attn_softcap = (float)v;
        if (gguf_num(g, arch, GGUF_KEY(HP_FINAL_SOFTCAP), &v)) c->final_softcap = (float)v;
        if (!(c->attn_softcap > 0 && c->final_softcap > 0))
            return err_set(err, "%s: gemma2 soft-caps must be positive (attention %g, final %g)", path,
                           c->attn_softcap, c->final_softcap);
    }
    if (c->arch == ARCH_GEMMA3 && gguf_num(g, arch, GGUF_KEY(HP_FINAL_SOFTCAP), &v)) c->final_softcap = (float)v;
    if (c->n_swa > 0 && c->arch == ARCH_GEMMA3) {
        c->rope_theta_swa = 10000; /* llama.cpp's default, Gemma 3's rope_local_base_freq */
        if (gguf_num(g, arch, GGUF_KEY(HP_ROPE_FREQ_BASE_SWA), &v)) c->rope_theta_swa = (float)v;
    }
    if (c->n_swa > 0 && c->arch == ARCH_GEMMA2 && gguf_num(g, arch, GGUF_KEY(HP_ROPE_FREQ_BASE_SWA), &v) &&
        ((float)v != c->rope_theta || c->rope_scale != 1))
        return err_set(err, "%s: %s.%s: a gemma2 local RoPE base of its own is not supported", path, arch,
                       GGUF_KEY(HP_ROPE_FREQ_BASE_SWA));
    c->attn_scale = gemma_gguf_attn_scale(c);
    return 0;
}

/* ---- config.json ---- */

/* A number or null (*is_null 1) or absent (unchanged). */
static int json_opt_num(json_t *root, const char *key, double *out, int *is_null, const char *path,
                        Err *err) {
    json_t *v = json_object_get(root, key);
    *is_null = 0;
    if (!v) return 0;
    if (json_is_null(v)) return *is_null = 1, 0;
    if (!json_is_number(v)) return err_set(err, "%s: \"%s\" is not a number", path, key);
    *out = json_number_value(v);
    return 0;
}

/* The period of a layer_types list (the llama.cpp pattern l % p < p - 1 of sliding layers), 0
 * when every layer slides, -1 when no layer does, -2 when it is no such pattern. */
static int layer_types_period(json_t *lt, int n_layer) {
    if (!json_is_array(lt) || (int)json_array_size(lt) != n_layer) return -2;
    int n_sliding = 0;
    for (int l = 0; l < n_layer; l++) {
        const char *t = json_string_value(json_array_get(lt, (size_t)l));
        if (!t || (strcmp(t, "sliding_attention") && strcmp(t, "full_attention"))) return -2;
        n_sliding += !strcmp(t, "sliding_attention");
    }
    if (n_sliding == 0) return -1;
    if (n_sliding == n_layer) return 0;
    for (int p = 2; p <= n_layer + 1; p++) {
        int ok = 1;
        for (int l = 0; l < n_layer && ok; l++)
            ok = !strcmp(json_string_value(json_array_get(lt, (size_t)l)), "sliding_attention") ==
                 (l % p < p - 1);
        if (ok) return p;
    }
    return -2;
}

int gemma_config_json(Config *c, json_t *root, const char *path, Err *err) {
    if (!is_gemma(c)) return 0;
    defaults(c);
    const ArchInfo *a = arch_info(c->arch);
    json_t *tie = json_object_get(root, "tie_word_embeddings");
    if (a->tied_always && json_is_false(tie))
        return err_set(err, "%s: \"tie_word_embeddings\": false is not supported: %s always ties its "
                       "output to the embedding", path, a->name);
    json_t *act = json_object_get(root, "hidden_activation");
    if (act && !json_is_null(act)) {
        const char *s = json_string_value(act);
        if (!s || (strcmp(s, "gelu_pytorch_tanh") && strcmp(s, "gelu_new")))
            return err_set(err, "%s: \"hidden_activation\" %s is not supported (gelu_pytorch_tanh is)",
                           path, s ? s : "(not a string)");
    }
    json_t *bi = json_object_get(root, "use_bidirectional_attention");
    if (bi && json_is_true(bi))
        return err_set(err, "%s: \"use_bidirectional_attention\" is not supported (causal only)", path);
    if (json_object_get(root, "rope_parameters"))
        return err_set(err, "%s: \"rope_parameters\" is not supported (rope_theta, rope_local_base_freq "
                       "and rope_scaling are)", path);
    /* the config classes' defaults where they differ from the common ones (head_dim 256 rather
     * than hidden_size / heads; Gemma 3's rope_theta 1e6) */
    if (!json_object_get(root, HF_KEY(HP_KEY_LENGTH)) || json_is_null(json_object_get(root, HF_KEY(HP_KEY_LENGTH))))
        c->head_dim = c->head_dim_v = c->n_rot = 256;
    if (c->arch == ARCH_GEMMA3 && !json_object_get(root, HF_KEY(HP_ROPE_FREQ_BASE))) c->rope_theta = 1e6f;
    if (c->arch == ARCH_GEMMA) return 0; /* Gemma 1: no windows, caps or query scalar */

    int isnull;
    double v;
    /* query_pre_attn_scalar: queries scaled by its inverse square root (default 256 in both) */
    double qpas = 256;
    if (json_opt_num(root, "query_pre_attn_scalar", &qpas, &isnull, path, err)) return -1;
    if (!(qpas > 0)) return err_set(err, "%s: \"query_pre_attn_scalar\" must be positive", path);
    c->attn_scale = (float)(1.0 / sqrt(qpas));
    /* soft-caps: Gemma2Config's defaults 50 and 30, null for none; Gemma 3 has none */
    double acap = c->arch == ARCH_GEMMA2 ? 50 : 0, fcap = c->arch == ARCH_GEMMA2 ? 30 : 0;
    if (json_opt_num(root, HF_KEY(HP_ATTN_SOFTCAP), &acap, &isnull, path, err)) return -1;
    if (isnull) acap = 0;
    if (json_opt_num(root, HF_KEY(HP_FINAL_SOFTCAP), &fcap, &isnull, path, err)) return -1;
    if (isnull) fcap = 0;
    if (acap < 0 || fcap < 0) return err_set(err, "%s: a soft-cap is negative", path);
    if (c->arch == ARCH_GEMMA3 && acap > 0)
        return err_set(err, "%s: \"%s\" is not supported in gemma3 (llama.cpp has none)", path,
                       HF_KEY(HP_ATTN_SOFTCAP));
    if (c->arch == ARCH_GEMMA2 && (acap == 0 || fcap == 0))
        return err_set(err, "%s: gemma2 without \"%s\" is not supported (llama.cpp always caps)", path,
                       acap == 0 ? HF_KEY(HP_ATTN_SOFTCAP) : HF_KEY(HP_FINAL_SOFTCAP));
    c->attn_softcap = (float)acap, c->final_softcap = (float)fcap;
    /* sliding windows: width, then which layers */
    double win = 4096; /* both configs' default */
    if (json_opt_num(root, HF_KEY(HP_SLIDING_WINDOW), &win, &isnull, path, err)) return -1;
    if (isnull) win = 0;
    if (!(win >= 0 && win <= (1 << 30)) || win != (int)win)
        return err_set(err, "%s: \"sliding_window\" is not a window", path);
    c->n_swa = (int)win;
    if (c->arch == ARCH_GEMMA2 && c->n_swa == 0)
        return err_set(err, "%s: gemma2 without \"sliding_window\" is not supported", path);
    v = c->swa_period;
    if (json_opt_num(root, HF_KEY(HP_SLIDING_WINDOW_PATTERN), &v, &isnull, path, err)) return -1;
    if (c->arch == ARCH_GEMMA2 && json_object_get(root, HF_KEY(HP_SLIDING_WINDOW_PATTERN)))
        return err_set(err, "%s: \"sliding_window_pattern\" is not a gemma2 key (every other layer slides)",
                       path);
    if (!(v >= 1 && v <= 1024) || v != (int)v)
        return err_set(err, "%s: \"sliding_window_pattern\" must be a period >= 1", path);
    c->swa_period = v == 1 ? -1 : (int)v; /* 1: no layer slides (transformers: (l + 1) % 1 is 0) */
    json_t *lt = json_object_get(root, "layer_types");
    if (lt && !json_is_null(lt)) {
        int p = layer_types_period(lt, c->n_layer);
        if (p == -2)
            return err_set(err, "%s: \"layer_types\" is not periodic (sliding layers l %% p < p - 1, as "
                           "llama.cpp's pattern): not supported", path);
        c->swa_period = p;
    }
    if (c->swa_period < 0) c->n_swa = 0, c->swa_period = a->swa_period;
    if (c->n_swa > 0 && c->arch == ARCH_GEMMA3) {
        double local = 10000;
        if (json_opt_num(root, HF_KEY(HP_ROPE_FREQ_BASE_SWA), &local, &isnull, path, err)) return -1;
        if (!(local > 0)) return err_set(err, "%s: \"rope_local_base_freq\" must be positive", path);
        c->rope_theta_swa = (float)local;
    }
    return 0;
}
