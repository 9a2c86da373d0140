/* Tests of the Gemma families in model/ (config_gemma.c, the loader, the forward pass), beside the
 * CLI checks of tests/cli_arch_gemma.sh:
 *  - the HF folders tests/data/gemma-hf-* (tests/reference/gemma_ref.py) vs their float64 logits,
 *    through the batched attention (oneDNN) and, one position at a time, through the scalar one:
 *    the sliding windows, soft-caps, post-norms and the local RoPE table of later positions take
 *    both paths; a rewind and a batch continuation give the same rows;
 *  - what the loader makes of each source: the Config (embedding scale, window, period, caps,
 *    query scale, local base, (1 + w) norms) and each layer's window;
 *  - synth's tiny-gemma* presets load with the keys they were written with. */
#include <math.h>
#include <unistd.h>

#include "model/config_gemma.h"
#include "model/forward.h"
#include "model/model.h"
#include "quant/synth.h"
#include "formats/qtype.h"
#include "tests/testutil.h"

static const char *const FOLDERS[] = {"gemma-hf-gemma", "gemma-hf-gemma2", "gemma-hf-gemma3",
                                      "gemma-hf-gemma2-qscale"};

/* Batch, one at a time and rewind-then-batch all equal the float64 reference (1e-4 of max). */
static void hf_folders_both_attention_paths(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof FOLDERS / sizeof FOLDERS[0]; c++) {
        char dir[256], path[300];
        snprintf(dir, sizeof dir, "tests/data/%s", FOLDERS[c]);
        snprintf(path, sizeof path, "%s/prompt.json", dir);
        int ids[64], n = read_prompt(path, ids, 64);
        snprintf(path, sizeof path, "%s/torch.logits.f32", dir);
        size_t nref;
        float *ref = read_f32(path, &nref);
        assert_non_null(ref);
        Err err;
        Model *m = model_load(dir, &err);
        if (!m) fail_msg("%s", err.msg);
        const int V = m->cfg.n_vocab;
        assert_int_equal(nref, (size_t)n * V);
        const double tol = 1e-4 * max_abs(ref, nref);
        Forward *f = fwd_new(m, COMPUTE_F32, &err);
        float *all = xmalloc(nref * sizeof(float)), *one = xmalloc((size_t)V * sizeof(float));
        assert_int_equal(fwd_eval(f, ids, n, all, 1, &err), 0);
        double d = max_diff(all, ref, nref);
        printf("# %s batch: max diff %.3g (tol %.3g)\n", FOLDERS[c], d, tol);
        assert_true(d <= tol);
        fwd_rewind(f, 0);
        double d1 = 0;
        for (int i = 0; i < n; i++) {
            assert_int_equal(fwd_eval(f, &ids[i], 1, one, 0, &err), 0);
            d1 = fmax(d1, max_diff(one, ref + (size_t)i * V, (size_t)V));
        }
        printf("# %s one at a time: max diff %.3g\n", FOLDERS[c], d1);
        assert_true(d1 <= tol);
        fwd_rewind(f, 5); /* past the first window */
        assert_int_equal(fwd_eval(f, ids + 5, n - 5, all, 1, &err), 0);
        assert_true(max_diff(all, ref + (size_t)5 * V, (size_t)(n - 5) * V) <= tol);
        fwd_free(f);
        free(all), free(one), free(ref);
        model_free(m);
    }
}

/* The Config and layers of the HF folders, from their config.json. */
static void hf_configs_read(void **state) {
    (void)state;
    Err err;
    Model *m = model_load("tests/data/gemma-hf-gemma2", &err);
    if (!m) fail_msg("%s", err.msg);
    const Config *c = &m->cfg;
    assert_int_equal(c->arch, ARCH_GEMMA2);
    assert_int_equal(c->act, ACT_GELU_GATED);
    assert_true(c->tied);
    assert_true(fabsf(c->embd_scale - 8.0f) < 1e-6f); /* sqrt(64) */
    assert_true(fabsf(c->attn_scale - 0.25f) < 1e-7f); /* query_pre_attn_scalar 16 */
    assert_true(c->attn_softcap == 3.0f && c->final_softcap == 6.0f);
    assert_int_equal(c->n_swa, 4);
    assert_int_equal(c->swa_period, 2); /* from layer_types */
    const int want2[] = {4, 0, 4, 0};
    for (int l = 0; l < 4; l++) assert_int_equal(m->layers[l].window, want2[l]);
    assert_non_null(m->layers[0].attn_post_norm);
    assert_non_null(m->layers[0].ffn_post_norm);
    model_free(m);

    m = model_load("tests/data/gemma-hf-gemma3", &err);
    if (!m) fail_msg("%s", err.msg);
    c = &m->cfg;
    assert_int_equal(c->arch, ARCH_GEMMA3);
    assert_int_equal(c->swa_period, 3);
    assert_true(c->rope_theta_swa == 10000.0f && c->rope_theta == 1e6f && c->rope_scale == 4.0f);
    assert_true(c->attn_softcap == 0 && c->final_softcap == 0);
    const int want3[] = {5, 5, 0, 5};
    for (int l = 0; l < 4; l++) assert_int_equal(m->layers[l].window, want3[l]);
    assert_non_null(m->layers[0].q_norm);
    model_free(m);

    /* Gemma 1: no window, no caps, the default query scale; (1 + w) norms read from HF */
    m = model_load("tests/data/gemma-hf-gemma", &err);
    if (!m) fail_msg("%s", err.msg);
    c = &m->cfg;
    assert_int_equal(c->arch, ARCH_GEMMA);
    assert_true(c->n_swa == 0 && c->attn_scale == 0 && c->attn_softcap == 0 && c->final_softcap == 0);
    assert_int_equal(m->layers[1].window, 0);
    assert_null(m->layers[0].attn_post_norm);
    double mean = 0;
    for (int i = 0; i < c->n_embd; i++) mean += m->layers[0].attn_norm[i];
    mean /= c->n_embd;
    printf("# gemma attn_norm mean after (1 + w): %.3f\n", mean); /* stored w: mean 0, std 0.3 */
    assert_true(mean > 0.8 && mean < 1.2);
    model_free(m);
}

/* synth's small presets load with what they were written with; the real-shape ones exist. */
static void synth_presets_load(void **state) {
    (void)state;
    const char *presets[] = {"tiny-gemma", "tiny-gemma2", "tiny-gemma3"};
    for (int i = 0; i < 3; i++) {
        SynthSpec s;
        assert_int_equal(synth_preset(presets[i], &s), 0);
        s.type = Q_F32;
        char path[] = "/tmp/coldtok-test-gemmaXXXXXX";
        int fd = mkstemp(path);
        close(fd);
        Err err;
        assert_int_equal(synth_write(&s, path, &err), 0);
        Model *m = model_load(path, &err);
        if (!m) fail_msg("%s", err.msg);
        const Config *c = &m->cfg;
        assert_int_equal(c->arch, s.arch);
        assert_true(c->tied);
        assert_int_equal(c->n_swa, s.n_swa);
        assert_true(c->attn_softcap == s.attn_softcap && c->final_softcap == s.final_softcap);
        assert_true(c->rope_theta_swa == s.rope_theta_swa);
        assert_true(fabsf(c->attn_scale - 1 / sqrtf((float)s.head_dim)) < 1e-7f || c->arch == ARCH_GEMMA);
        for (int l = 0; l < c->n_layer; l++)
            assert_int_equal(m->layers[l].window, gemma_layer_window(c, l));
        if (s.n_swa) {
            assert_int_equal(m->layers[0].window, s.n_swa);
            assert_int_equal(m->layers[c->swa_period - 1].window, 0);
        }
        assert_true((m->layers[0].ffn_post_norm != NULL) == (s.arch != ARCH_GEMMA));
        assert_true((m->layers[0].q_norm != NULL) == (s.arch == ARCH_GEMMA3));
        model_free(m);
        unlink(path);
    }
    const char *real[] = {"codegemma-7b", "gemma-2-2b", "gemma-3-1b"};
    const int want_layers[] = {28, 26, 26};
    for (int i = 0; i < 3; i++) {
        SynthSpec s;
        assert_int_equal(synth_preset(real[i], &s), 0);
        assert_int_equal(s.n_layer, want_layers[i]);
    }
}

/* llama.cpp's GGUF query scale: 1/sqrt(head_dim), or 1/sqrt(n_embd / n_head) for the 27B shapes. */
static void gguf_query_scale_rule(void **state) {
    (void)state;
    Config c = {.arch = ARCH_GEMMA2, .n_embd = 4608, .n_head = 32, .head_dim = 128, .n_layer = 46};
    assert_true(fabsf(gemma_gguf_attn_scale(&c) - 1 / 12.0f) < 1e-7f); /* 27B: 1/sqrt(144) */
    c.n_layer = 42;
    assert_true(fabsf(gemma_gguf_attn_scale(&c) - 1 / sqrtf(128)) < 1e-7f);
    c.arch = ARCH_GEMMA3, c.n_layer = 62;
    assert_true(fabsf(gemma_gguf_attn_scale(&c) - 1 / 12.0f) < 1e-7f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hf_folders_both_attention_paths),
        cmocka_unit_test(hf_configs_read),
        cmocka_unit_test(synth_presets_load),
        cmocka_unit_test(gguf_query_scale_rule),
    };
    return cmocka_run_group_tests_name("arch_gemma", tests, NULL, NULL);
}
