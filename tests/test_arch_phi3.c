/* test_arch_phi3: what the phi3 loader and the RoPE-scaling arithmetic promise, below the logits
 * that tests/cli_arch_phi3.sh compares with llama.cpp and torch:
 *  - phi3's fused matrices are read in place: wq, wk, wv (and w_gate, w_up) are consecutive row
 *    ranges of the one stored tensor, in a block type too, and counted once in the weight bytes;
 *  - a LongRoPE GGUF's factor tensors become rope_freqs (short) and rope_long, its attention factor
 *    the one llama.cpp's converter writes for Phi-3.5-mini;
 *  - YaRN's divisors and mscale at values worked out by hand. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/qtype.h"
#include "model/model.h"
#include "model/rope_scaling.h"
#include "quant/synth.h"
#include "tests/testutil.h"

static Model *synth_load(SynthSpec *s, char *path) {
    int fd = mkstemp(path);
    close(fd);
    Err err;
    if (synth_write(s, path, &err)) fail_msg("%s", err.msg);
    Model *m = model_load(path, &err);
    if (!m) fail_msg("%s", err.msg);
    return m;
}

static void fused_matrices_are_row_ranges(void **state) {
    (void)state;
    SynthSpec s;
    assert_int_equal(synth_preset("tiny-phi3", &s), 0);
    s.type = Q_Q8_0;
    char path[] = "/tmp/coldtok-test-phi3XXXXXX";
    Model *m = synth_load(&s, path);
    const Config *c = &m->cfg;
    assert_int_equal(c->arch, ARCH_PHI3);
    const int64_t E = c->n_embd, Q = (int64_t)c->n_head * c->head_dim, KV = (int64_t)c->n_head_kv * c->head_dim,
                  F = c->n_ff;
    const size_t rb = qtype_row_bytes(Q_Q8_0, E);
    uint64_t want = qtype_row_bytes(Q_Q8_0, E) * (uint64_t)c->n_vocab; /* output */
    for (int l = 0; l < c->n_layer; l++) {
        const Layer *y = &m->layers[l];
        assert_int_equal(y->wq.rows, Q);
        assert_int_equal(y->wk.rows, KV);
        assert_int_equal(y->wv.rows, KV);
        assert_ptr_equal(y->wk.data, (const uint8_t *)y->wq.data + Q * rb);
        assert_ptr_equal(y->wv.data, (const uint8_t *)y->wk.data + KV * rb);
        assert_int_equal(y->w_gate.rows, F);
        assert_int_equal(y->w_up.rows, F);
        assert_ptr_equal(y->w_up.data, (const uint8_t *)y->w_gate.data + F * rb);
        assert_int_equal(y->wq.type, Q_Q8_0);
        assert_int_equal(y->window, 0); /* llama.cpp disables phi3's window in GGUF */
        want += rb * (uint64_t)(Q + 2 * KV) + qtype_row_bytes(Q_Q8_0, Q) * (uint64_t)E + rb * (uint64_t)(2 * F) +
                qtype_row_bytes(Q_Q8_0, F) * (uint64_t)E;
    }
    assert_int_equal(model_weight_bytes(m), want);
    model_free(m);
    unlink(path);
}

static void longrope_factors_from_gguf(void **state) {
    (void)state;
    SynthSpec s;
    assert_int_equal(synth_preset("tiny-phi3", &s), 0);
    s.type = Q_F32;
    s.rope_scaling = ROPE_SCALING_LONGROPE; /* context 131072 over the original 4096, as Phi-3.5 */
    char path[] = "/tmp/coldtok-test-phi3lrXXXXXX";
    Model *m = synth_load(&s, path);
    const Config *c = &m->cfg;
    assert_int_equal(c->rope_scaling, ROPE_SCALING_LONGROPE);
    assert_int_equal(c->rope_orig_ctx, 4096);
    /* Phi-3.5-mini-instruct's GGUF: phi3.rope.scaling.attn_factor = 1.1902380714238083 */
    assert_true(fabs(c->rope_attn_factor - 1.1902380714238083) < 1e-6);
    Err err;
    Gguf *g = gguf_open(path, &err);
    assert_non_null(g);
    const GgufTensor *sh = gguf_find_tensor(g, "rope_factors_short.weight");
    const GgufTensor *lo = gguf_find_tensor(g, "rope_factors_long.weight");
    assert_non_null(sh);
    assert_non_null(lo);
    assert_non_null(m->rope_freqs);
    assert_non_null(m->rope_long);
    assert_memory_equal(m->rope_freqs, sh->data, (size_t)c->n_rot / 2 * sizeof(float));
    assert_memory_equal(m->rope_long, lo->data, (size_t)c->n_rot / 2 * sizeof(float));
    for (int i = 0; i < c->n_rot / 2; i++) assert_true(m->rope_freqs[i] > 0 && m->rope_long[i] > m->rope_freqs[i]);
    gguf_close(g);
    model_free(m);
    unlink(path);
}

static void yarn_by_hand(void **state) {
    (void)state;
    /* n_rot 32, theta 1e4, original context 32, betas 32 / 1: the correction dims are
     * 32 ln(32 / (2 pi 32)) / (2 ln 1e4) = -3.19 -> floor -4 -> 0 and 32 ln(32 / 2 pi) / (2 ln 1e4)
     * = 2.83 -> ceil 3; so pair 0 keeps its frequency, pairs >= 3 are divided by the factor 4, and
     * pairs 1, 2 mix: 1 / (2/3 + 1/3 / 4) = 4/3 and 1 / (1/3 + 2/3 / 4) = 2. */
    float d[16];
    for (int i = 0; i < 16; i++) d[i] = 1;
    rope_yarn_divisors(d, 32, 1e4, 4, 32, 32, 1);
    assert_true(fabs(d[0] - 1) < 1e-6);
    assert_true(fabs(d[1] - 4.0 / 3) < 1e-6);
    assert_true(fabs(d[2] - 2) < 1e-6);
    for (int i = 3; i < 16; i++) assert_true(fabs(d[i] - 4) < 1e-6);
    /* divisors already there (llama3's, LongRoPE's) are multiplied, not replaced */
    for (int i = 0; i < 16; i++) d[i] = 2;
    rope_yarn_divisors(d, 32, 1e4, 4, 32, 32, 1);
    assert_true(fabs(d[2] - 4) < 1e-6 && fabs(d[15] - 8) < 1e-6);
    assert_true(fabs(rope_yarn_mscale(4, 1) - (1 + 0.1 * log(4))) < 1e-12);
    assert_true(rope_yarn_mscale(1, 1) == 1 && rope_longrope_attn_factor(1, 4096) == 1);
    /* DeepSeek-V2's mscale = mscale_all_dim = 0.707: the ratio is 1 */
    assert_true(fabs(rope_yarn_mscale(40, 0.707) / rope_yarn_mscale(40, 0.707) - 1) < 1e-12);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fused_matrices_are_row_ranges),
        cmocka_unit_test(longrope_factors_from_gguf),
        cmocka_unit_test(yarn_by_hand),
    };
    return cmocka_run_group_tests_name("arch_phi3", tests, NULL, NULL);
}
