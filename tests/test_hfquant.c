/* hfquant: GPTQ and AWQ unpacking on hand-built tensors with known values (words written out by
 * hand, and a bit-by-bit packer independent of the unpacker's word arithmetic for every width),
 * shape and g_idx checks, and the storage a packed model's bits per weight count. */
#include "testutil.h"

#include "formats/hfquant.h"
#include "formats/qtype.h"
#include "formats/safetensors.h"
#include "model/model.h"

static HqPart part(const void *data, const char *dtype, int nd, int64_t d0, int64_t d1, uint64_t nbytes) {
    return (HqPart){.data = data, .dtype = dtype, .n_dims = nd, .shape = {d0, d1}, .nbytes = nbytes};
}

/* One 4-bit GPTQ column of 8 inputs in one word 0x76543210: inputs get 0..7; a v1 zero stored as
 * 2 reads 3; scale 0.5: w[i] = 0.5 * (i - 3). Two output rows (the second all 15s, zero 15+1). */
static void gptq4_known_word(void **state) {
    (void)state;
    /* in = 32 (4 words per column), out = 8 (one zero word per group) */
    int32_t qweight[4][8] = {{0}};
    for (int k = 0; k < 4; k++) {
        qweight[k][0] = 0x76543210;            /* inputs 8k..8k+7 of row 0: 0..7 */
        qweight[k][1] = (int32_t)0xFFFFFFFFu;        /* row 1: all 15 */
    }
    int32_t qzeros[1][1] = {{0x000000F2}}; /* row 0: stored 2; row 1: stored 15 */
    uint16_t scales[1][8];
    for (int o = 0; o < 8; o++) scales[0][o] = f32_to_fp16(o == 0 ? 0.5f : 0.25f);
    HqConfig c = {.method = HQ_GPTQ, .bits = 4, .group_size = -1, .zero_plus_one = 1};
    HqPart qw = part(qweight, "I32", 2, 4, 8, sizeof qweight), qz = part(qzeros, "I32", 2, 1, 1, 4),
           sc = part(scales, "F16", 2, 1, 8, sizeof scales), gi = {0};
    HqTensor t;
    Err err = {0};
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc, &gi, 8, 32, "mem", "w", &err), 0);
    float out[2][32];
    hq_rows_f32(&t, 0, 2, &out[0][0]);
    for (int i = 0; i < 32; i++) {
        assert_true(out[0][i] == 0.5f * (float)(i % 8 - 3));
        assert_true(out[1][i] == 0.25f * (15.0f - 16.0f)); /* AutoGPTQ v1: (15 & 15) + 1 = 16 */
    }
    /* gptq_v2: the zero is stored as is */
    c.zero_plus_one = 0;
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc, &gi, 8, 32, "mem", "w", &err), 0);
    hq_rows_f32(&t, 0, 1, &out[0][0]);
    for (int i = 0; i < 32; i++) assert_true(out[0][i] == 0.5f * (float)(i % 8 - 2));
}

/* 3-bit: 32 inputs in 3 words; input 10 straddles words 0 and 1 (bits 30..32), input 21 words 1
 * and 2 (bits 63..65). Words built by hand for q[i] = i % 8. */
static void gptq3_straddles(void **state) {
    (void)state;
    uint64_t lo = 0, hi = 0; /* the 96-bit stream */
    for (int i = 0; i < 32; i++) {
        uint64_t v = (uint64_t)(i % 8);
        int b = 3 * i;
        if (b < 64) lo |= v << b;
        if (b < 64 && b + 3 > 64) hi |= v >> (64 - b); /* the straddling value's top bits */
        if (b >= 64) hi |= v << (b - 64);
    }
    int32_t qweight[3][32] = {{0}}; /* out = 32 so the 3-bit zeros fill 3 words */
    uint32_t w[3] = {(uint32_t)lo, (uint32_t)(lo >> 32), (uint32_t)hi};
    for (int k = 0; k < 3; k++) qweight[k][5] = (int32_t)w[k];
    int32_t qzeros[1][3] = {{0}};
    uint16_t scales[1][32];
    for (int o = 0; o < 32; o++) scales[0][o] = f32_to_fp16(1.0f);
    HqConfig c = {.method = HQ_GPTQ, .bits = 3, .group_size = 32, .zero_plus_one = 0};
    HqPart qw = part(qweight, "I32", 2, 3, 32, sizeof qweight), qz = part(qzeros, "I32", 2, 1, 3, sizeof qzeros),
           sc = part(scales, "F16", 2, 1, 32, sizeof scales), gi = {0};
    HqTensor t;
    Err err = {0};
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc, &gi, 32, 32, "mem", "w", &err), 0);
    float out[32];
    hq_rows_f32(&t, 5, 1, out);
    for (int i = 0; i < 32; i++) assert_true(out[i] == (float)(i % 8));
    assert_true(w[0] >> 30 == (10 % 8 & 3) && (w[1] & 1) == (10 % 8) >> 2); /* the hand stream straddles */
}

/* Every width against a bit-by-bit packer: random codes, zeros, scales, a permuted g_idx. */
static void set_bits(uint32_t *words, size_t stride_words, int64_t j, int bits, uint32_t v) {
    for (int b = 0; b < bits; b++) {
        int64_t pos = j * bits + b;
        if (v >> b & 1) words[(size_t)(pos / 32) * stride_words] |= 1u << (pos % 32);
    }
}

static void gptq_all_widths(void **state) {
    (void)state;
    enum { IN = 64, OUT = 32, GS = 16, G = IN / GS };
    int widths[] = {2, 3, 4, 8};
    uint32_t seed = 12345;
    for (int wi = 0; wi < 4; wi++) {
        int bits = widths[wi];
        uint32_t maxq = (1u << bits) - 1;
        static uint32_t qweight[IN / 32 * 8][OUT], qzeros[G * OUT / 32 * 8]; /* rows of OUT*bits/32 words */
        static uint8_t q[OUT][IN], z[G][OUT];
        static uint16_t scales[G][OUT];
        static int32_t g_idx[IN];
        memset(qweight, 0, sizeof qweight), memset(qzeros, 0, sizeof qzeros);
        for (int i = 0; i < IN; i++) g_idx[i] = (i * 7 + wi) % G; /* not i / GS: a desc_act order */
        for (int o = 0; o < OUT; o++)
            for (int i = 0; i < IN; i++) {
                seed = seed * 1103515245u + 12345u;
                q[o][i] = (uint8_t)((seed >> 16) & maxq);
                set_bits(&qweight[0][o], OUT, i, bits, q[o][i]);
            }
        for (int g = 0; g < G; g++)
            for (int o = 0; o < OUT; o++) {
                seed = seed * 1103515245u + 12345u;
                z[g][o] = (uint8_t)((seed >> 16) & maxq);
                scales[g][o] = f32_to_fp16(0.01f * (float)(1 + (seed >> 8) % 50));
                set_bits(&qzeros[g * (OUT * bits / 32)], 1, o, bits, z[g][o]);
            }
        HqConfig c = {.method = HQ_GPTQ, .bits = bits, .group_size = GS, .desc_act = 1};
        HqPart qw = part(qweight, "I32", 2, IN / 32 * bits, OUT, sizeof qweight),
               qz = part(qzeros, "I32", 2, G, OUT * bits / 32, sizeof qzeros),
               sc = part(scales, "F16", 2, G, OUT, sizeof scales),
               gi = part(g_idx, "I32", 1, IN, 0, sizeof g_idx);
        HqTensor t;
        Err err = {0};
        assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc, &gi, OUT, IN, "mem", "w", &err), 0);
        static float out[OUT][IN];
        hq_rows_f32(&t, 0, OUT, &out[0][0]);
        for (int o = 0; o < OUT; o++)
            for (int i = 0; i < IN; i++) {
                int g = g_idx[i];
                float want = fp16_to_f32(scales[g][o]) * (float)((int)q[o][i] - (int)z[g][o]);
                if (out[o][i] != want) fail_msg("bits %d row %d col %d: %g, want %g", bits, o, i, out[o][i], want);
            }
        /* without g_idx (groups of GS consecutive inputs): the one-pass path where it applies */
        HqConfig plain = {.method = HQ_GPTQ, .bits = bits, .group_size = GS};
        HqPart none = {0};
        assert_int_equal(hq_tensor_init(&t, &plain, &qw, &qz, &sc, &none, OUT, IN, "mem", "w", &err), 0);
        hq_rows_f32(&t, 3, OUT - 3, &out[0][0]); /* from row 3: chunks not aligned to 16 */
        for (int o = 3; o < OUT; o++)
            for (int i = 0; i < IN; i++) {
                int g = i / GS;
                float want = fp16_to_f32(scales[g][o]) * (float)((int)q[o][i] - (int)z[g][o]);
                if (out[o - 3][i] != want) fail_msg("bits %d row %d col %d (no g_idx): %g, want %g", bits, o, i, out[o - 3][i], want);
            }
        /* a g_idx outside the groups is refused */
        g_idx[3] = G;
        assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc, &gi, OUT, IN, "mem", "w", &err), -1);
        assert_non_null(strstr(err.msg, "g_idx: input 3 is in group 4"));
    }
}

/* AWQ: outputs 0..7 of one word in nibbles 0, 2, 4, 6, 1, 3, 5, 7: the word 0x75316420 gives output
 * j the value j. */
static void awq_order(void **state) {
    (void)state;
    int32_t qweight[32][1], qzeros[1][1] = {{0x11111111}};
    for (int i = 0; i < 32; i++) qweight[i][0] = 0x75316420;
    uint16_t scales[1][8];
    for (int o = 0; o < 8; o++) scales[0][o] = f32_to_fp16(2.0f);
    HqConfig c = {.method = HQ_AWQ, .bits = 4, .group_size = 32};
    HqPart qw = part(qweight, "I32", 2, 32, 1, sizeof qweight), qz = part(qzeros, "I32", 2, 1, 1, 4),
           sc = part(scales, "F16", 2, 1, 8, sizeof scales), gi = {0};
    HqTensor t;
    Err err = {0};
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc, &gi, 8, 32, "mem", "w", &err), 0);
    float out[8][32];
    hq_rows_f32(&t, 0, 8, &out[0][0]);
    for (int o = 0; o < 8; o++)
        for (int i = 0; i < 32; i++) assert_true(out[o][i] == 2.0f * (float)(o - 1));
}

static void shapes_refused(void **state) {
    (void)state;
    int32_t buf[64] = {0};
    HqConfig c = {.method = HQ_GPTQ, .bits = 4, .group_size = 16};
    HqPart qw = part(buf, "I32", 2, 4, 8, 128), qz = part(buf, "I32", 2, 2, 1, 8),
           sc = part(buf, "F16", 2, 2, 8, 32), gi = {0};
    HqTensor t;
    Err err = {0};
    /* in 32, out 8: qweight must be [4, 8]; claim in 64 */
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc, &gi, 8, 64, "f.safetensors", "w", &err), -1);
    assert_non_null(strstr(err.msg, "f.safetensors: tensor w.qweight has the wrong shape (expected [8, 8])"));
    HqPart bad = part(buf, "F32", 2, 4, 8, 128);
    assert_int_equal(hq_tensor_init(&t, &c, &bad, &qz, &sc, &gi, 8, 32, "f", "w", &err), -1);
    assert_non_null(strstr(err.msg, "w.qweight has dtype F32, expected I32"));
    HqPart none = {0};
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &none, &sc, &gi, 8, 32, "f", "w", &err), -1);
    assert_non_null(strstr(err.msg, "missing tensor w.qzeros"));
    c.desc_act = 1; /* desc_act needs g_idx */
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc, &gi, 8, 32, "f", "w", &err), -1);
    assert_non_null(strstr(err.msg, "missing tensor w.g_idx"));
    c = (HqConfig){.method = HQ_GPTQ, .bits = 4, .group_size = 16};
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc, &gi, 8, 40, "f", "w", &err), -1); /* in % 32 */
}

/* The model's weight bytes count the packed storage: every tensor of the file but the embedding
 * and the norms (the exempt plain down_proj and lm_head included). */
static void storage_counted(void **state) {
    (void)state;
    const char *dir = "tests/data/hf-llama-gptq4";
    if (!is_dir(dir)) {
        printf("# skip: %s absent (make references)\n", dir);
        skip();
    }
    Err err = {0};
    Model *m = model_load(dir, &err);
    assert_non_null(m);
    SafeTensors *st = st_open(dir, &err);
    assert_non_null(st);
    uint64_t want = 0, packed = 0;
    for (int i = 0; i < st_n_tensors(st); i++) {
        const StTensor *s = st_tensor(st, i);
        if (strstr(s->name, "norm") || strstr(s->name, "embed_tokens")) continue;
        want += s->nbytes;
        if (strstr(s->name, ".qweight")) packed++;
    }
    assert_int_equal(packed, 13); /* 2 layers x 7 linears, one exempt */
    assert_int_equal(model_weight_bytes(m), want);
    assert_true(m->layers[0].wq.hq.method == HQ_GPTQ && m->layers[1].w_down.hq.method == HQ_NONE);
    st_close(st);
    model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gptq4_known_word), cmocka_unit_test(gptq3_straddles),
        cmocka_unit_test(gptq_all_widths),  cmocka_unit_test(awq_order),
        cmocka_unit_test(shapes_refused),   cmocka_unit_test(storage_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
