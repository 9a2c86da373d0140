/* Tests of the mixture-of-experts FFN (model/moe.h) beyond the logits comparisons of
 * tests/cli_arch_moe.sh:
 *  - the top-k order equals libstdc++'s std::sort (what ggml's CPU argsort calls) on ties, with
 *    expected orders printed by a g++ program (below), and is a correct descending sort;
 *  - only the routed experts are read: on a synth qwen3moe / qwen2moe model, one position reads
 *    exactly k experts per layer and a window of 20 positions the union of its picks (counted by
 *    moe_stats), and a copy of the file whose unpicked experts are all NaN gives bit-identical
 *    logits, while poisoning one picked expert turns them NaN (the poison is seen when read);
 *  - the router's normalisation and scale on a hand-made case. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/qtype.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/moe.h"
#include "quant/synth.h"
#include "tests/testutil.h"

/* ---- the top-k order ---- */

static void check_order(const float *v, int n, const int *want) {
    int idx[64];
    moe_argsort_desc(v, n, idx);
    for (int i = 0; i < n; i++)
        if (idx[i] != want[i]) fail_msg("n %d: position %d is %d, std::sort gives %d", n, i, idx[i], want[i]);
}

/* Expected orders from libstdc++ (g++ 12), the program:
 *   std::sort(idx, idx + n, [&](int a, int b) { return v[a] > v[b]; });
 * over idx = 0..n-1 for the three arrays below. */
static void argsort_matches_libstdcxx(void **state) {
    (void)state;
    float v[40];
    for (int i = 0; i < 32; i++) v[i] = (float)((i * 5) % 4); /* 4 groups of 8 ties */
    static const int a[32] = {31, 19, 15, 23, 11, 27, 7, 3, 6, 26, 10, 30, 14, 2, 22, 18,
                              29, 25, 21, 1, 17, 13, 9, 5, 20, 16, 24, 12, 8, 28, 4, 0};
    check_order(v, 32, a);
    for (int i = 0; i < 40; i++) v[i] = 1.0f; /* all equal */
    static const int b[40] = {30, 21, 22, 23, 24, 25, 26, 27, 28, 29, 20, 31, 32, 33, 34, 35, 36, 37, 38, 39,
                              10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 11, 12, 13, 14, 15, 16, 17, 18, 19};
    check_order(v, 40, b);
    for (int i = 0; i < 40; i++) v[i] = (float)(i % 3 == 0); /* two groups */
    static const int c[40] = {12, 24, 21, 0, 27, 18, 15, 30, 33, 9, 6, 36, 3, 39, 34, 32, 20, 31, 35, 29,
                              28, 37, 38, 26, 25, 23, 22, 19, 17, 16, 14, 13, 11, 10, 8, 7, 5, 4, 2, 1};
    check_order(v, 40, c);
    /* 16 or fewer: insertion sort, stable (ties keep index order) */
    float s[8] = {0.5f, 0.25f, 0.5f, 0.125f, 0.25f, 0.5f, 0.0f, 0.125f};
    static const int d[8] = {0, 2, 5, 1, 4, 3, 7, 6};
    check_order(s, 8, d);
    /* any size without ties: a descending sort (128 experts, the heap sort fallback untouched) */
    float r[1000];
    uint64_t x = 12345;
    for (int n = 2; n <= 1000; n = n * 3 + 1) {
        for (int i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            r[i] = (float)(x >> 40);
        }
        int *idx = xmalloc((size_t)n * sizeof *idx), *seen = xcalloc((size_t)n, sizeof *seen);
        moe_argsort_desc(r, n, idx);
        for (int i = 0; i < n; i++) seen[idx[i]]++;
        for (int i = 0; i < n; i++) assert_int_equal(seen[i], 1);
        for (int i = 1; i < n; i++) assert_true(r[idx[i - 1]] >= r[idx[i]]);
        free(idx), free(seen);
    }
}

/* Normalisation (sum clamped at 2^-14) and the routed scale, softmax and sigmoid gating. */
static void router_weights(void **state) {
    (void)state;
    float logits[4] = {1.0f, 3.0f, 2.0f, 0.0f}, probs[4], w[2];
    int ids[2];
    MoeConfig c = {.n_expert = 4, .n_expert_used = 2, .gating = MOE_GATING_SOFTMAX, .scale = 1};
    moe_route(&c, logits, probs, ids, w);
    double z = exp(1) + exp(3) + exp(2) + 1;
    assert_int_equal(ids[0], 1), assert_int_equal(ids[1], 2);
    assert_true(fabs(w[0] - exp(3) / z) < 1e-6 && fabs(w[1] - exp(2) / z) < 1e-6);
    c.norm_topk = 1, c.scale = 2.5f;
    moe_route(&c, logits, probs, ids, w);
    assert_true(fabs(w[0] - 2.5 * exp(3) / (exp(3) + exp(2))) < 1e-5);
    assert_true(fabs(w[1] - 2.5 * exp(2) / (exp(3) + exp(2))) < 1e-5);
    c.gating = MOE_GATING_SIGMOID, c.norm_topk = 0, c.scale = 1;
    moe_route(&c, logits, probs, ids, w);
    assert_true(fabs(w[0] - 1 / (1 + exp(-3))) < 1e-6 && fabs(w[1] - 1 / (1 + exp(-2))) < 1e-6);
    float tiny[4] = {-100, -100, -100, -100}; /* sigmoid ~ 4e-44 each: the clamp keeps them tiny */
    c.norm_topk = 1;
    moe_route(&c, tiny, probs, ids, w);
    assert_true(w[0] < 1e-30 && isfinite(w[0]));
}

/* ---- only the routed experts are read ---- */

static char *synth(const char *preset, uint64_t seed) {
    SynthSpec s;
    assert_int_equal(synth_preset(preset, &s), 0);
    s.type = Q_F32, s.seed = seed, s.std = 0.1f;
    char *path = xstrdup("/tmp/coldtok-test-moeXXXXXX");
    int fd = mkstemp(path);
    close(fd);
    Err err;
    if (synth_write(&s, path, &err)) fail_msg("%s", err.msg);
    return path;
}

/* logits [n, vocab] of ids in one step; the stats and picks stay in *fo (freed by the caller). */
static float *run(Model *m, const int *ids, int n, Forward **fo) {
    Err err;
    Forward *f = fwd_new(m, COMPUTE_F32, &err);
    if (!f) fail_msg("%s", err.msg);
    float *lg = xmalloc((size_t)n * m->cfg.n_vocab * sizeof(float));
    if (fwd_eval(f, ids, n, lg, 1, &err)) fail_msg("%s", err.msg);
    *fo = f;
    return lg;
}

/* A copy of the model file at src in which the experts of every layer for which poison(layer,
 * expert) holds are NaN in all three of their matrices (F32 files). */
static char *poisoned(const char *src, const Model *m, const Forward *f, int mode) {
    size_t len;
    Err err;
    char *bytes = read_file(src, &len, &err);
    assert_non_null(bytes);
    Gguf *g = gguf_open_memory(bytes, len, src, &err);
    assert_non_null(g);
    const char *kinds[3] = {"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"};
    int X = m->cfg.moe.n_expert, hit = 0;
    for (int l = 0; l < m->cfg.n_layer; l++)
        for (int k = 0; k < 3; k++) {
            char name[96];
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, kinds[k]);
            const GgufTensor *t = gguf_find_tensor(g, name);
            assert_non_null(t);
            assert_int_equal(t->type, Q_F32);
            size_t per = (size_t)(t->ne[0] * t->ne[1]);
            float *w = (float *)(bytes + gguf_data_offset(g) + t->offset);
            for (int x = 0; x < X; x++) {
                int picked = fwd_moe_picked(f, l, x);
                /* mode 0: every unpicked expert; mode 1: the first picked expert of the last layer */
                int bad = mode == 0 ? !picked : (l == m->cfg.n_layer - 1 && picked && !hit);
                if (!bad) continue;
                for (size_t i = 0; i < per; i++) w[(size_t)x * per + i] = NAN;
                if (mode == 1 && k == 2) hit = 1;
            }
        }
    gguf_close(g);
    char *out = xstrdup("/tmp/coldtok-test-moe-poisonXXXXXX");
    int fd = mkstemp(out);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    close(fd);
    free(bytes);
    return out;
}

static void only_routed_experts_are_read(void **state) {
    (void)state;
    const char *presets[2] = {"tiny-qwen3moe", "tiny-qwen2moe"};
    for (int p = 0; p < 2; p++) {
        char *path = synth(presets[p], 7);
        Err err;
        Model *m = model_load(path, &err);
        if (!m) fail_msg("%s", err.msg);
        const MoeConfig *c = &m->cfg.moe;
        int L = m->cfg.n_layer, X = c->n_expert, k = c->n_expert_used, V = m->cfg.n_vocab;
        const MoeLayer *ml = m->layers[0].moe;
        uint64_t per_expert = 3 * (uint64_t)qtype_row_bytes(Q_F32, ml->gate[0].cols) * (uint64_t)ml->gate[0].rows;

        /* one position: k experts per layer, no more */
        int one = 256;
        Forward *f;
        float *lg = run(m, &one, 1, &f);
        const MoeStats *st = fwd_moe_stats(f);
        assert_non_null(st);
        printf("# %s, one position: %llu experts read (%llu bytes) of %d x %d\n", presets[p],
               (unsigned long long)st->expert_loads, (unsigned long long)st->expert_bytes, L, X);
        assert_int_equal(st->expert_loads, (uint64_t)L * k);
        assert_int_equal(st->expert_bytes, (uint64_t)L * k * per_expert);
        free(lg);
        fwd_free(f);

        /* a window of 20 positions in one step: each picked expert once (the union) */
        int ids[20];
        for (int i = 0; i < 20; i++) ids[i] = (i * 37 + 11) % V;
        lg = run(m, ids, 20, &f);
        st = fwd_moe_stats(f);
        uint64_t uni = 0;
        for (int l = 0; l < L; l++)
            for (int x = 0; x < X; x++) uni += fwd_moe_picked(f, l, x);
        printf("# %s, 20 positions: %llu experts read, the union of the picks %llu, %llu routed slots\n",
               presets[p], (unsigned long long)st->expert_loads, (unsigned long long)uni,
               (unsigned long long)st->routed_slots);
        assert_int_equal(st->expert_loads, uni);
        assert_int_equal(st->expert_bytes, uni * per_expert);
        assert_int_equal(st->routed_slots, (uint64_t)20 * k * L);
        assert_true(uni >= (uint64_t)k * L && uni <= (uint64_t)X * L);

        /* the unpicked experts NaN: the same logits, bit for bit */
        char *pp = poisoned(path, m, f, 0);
        Model *m2 = model_load(pp, &err);
        if (!m2) fail_msg("%s", err.msg);
        Forward *f2;
        float *lg2 = run(m2, ids, 20, &f2);
        for (int i = 0; i < 20 * V; i++) {
            assert_true(isfinite(lg2[i]));
            if (lg2[i] != lg[i]) fail_msg("%s: logit %d differs with the unpicked experts poisoned", presets[p], i);
        }
        free(lg2), fwd_free(f2), model_free(m2), unlink(pp), free(pp);
        /* control: one picked expert NaN shows (the forward pass refuses NaN logits, naming a
         * poisoned expert tensor) */
        pp = poisoned(path, m, f, 1);
        m2 = model_load(pp, &err);
        if (!m2) fail_msg("%s", err.msg);
        f2 = fwd_new(m2, COMPUTE_F32, &err);
        if (!f2) fail_msg("%s", err.msg);
        lg2 = xmalloc((size_t)20 * V * sizeof(float));
        assert_int_equal(fwd_eval(f2, ids, 20, lg2, 1, &err), -1);
        assert_non_null(strstr(err.msg, "exps"));
        assert_non_null(strstr(err.msg, "is not finite (nan)"));
        free(lg2), fwd_free(f2), model_free(m2), unlink(pp), free(pp);

        free(lg);
        fwd_free(f);
        model_free(m);
        unlink(path);
        free(path);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(argsort_matches_libstdcxx),
        cmocka_unit_test(router_weights),
        cmocka_unit_test(only_routed_experts_are_read),
    };
    return cmocka_run_group_tests_name("arch_moe", tests, NULL, NULL);
}
