/* hfquant (AWQ GEMV and zero_point false): a hand-built GEMV layer with known values (words written
 * out by hand: input 8c+j in nibble j, padded qzeros / scales), the single [16, 256] layers of
 * tests/reference/hfquant_ref.py (groups 32, 64, 128, symmetric GEMV and GEMM) against their
 * dequantized weights, the config fields, AutoAWQ's zeros width, and wrong shapes refused in one line. */
#include "testutil.h"

#include "formats/hfquant.h"
#include "formats/hfquant_awq.h"
#include "formats/qtype.h"
#include "formats/safetensors.h"

static HqPart part(const void *data, const char *dtype, int nd, int64_t d0, int64_t d1, uint64_t nbytes) {
    return (HqPart){.data = data, .dtype = dtype, .n_dims = nd, .shape = {d0, d1}, .nbytes = nbytes};
}

static int parse(const char *json, HqConfig *c, Err *err) {
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    int rc = hq_config_parse(j, "config.json", c, err);
    json_decref(j);
    return rc;
}

static void config_fields(void **state) {
    (void)state;
    HqConfig c;
    Err err = {0};
    assert_int_equal(parse("{\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 64, \"version\": \"GEMV\"}", &c, &err), 0);
    assert_int_equal(c.awq_gemv, 1);
    assert_int_equal(c.sym, 0);
    assert_int_equal(parse("{\"quant_method\": \"awq\", \"w_bit\": 4, \"q_group_size\": 128, \"zero_point\": false}", &c, &err), 0);
    assert_int_equal(c.awq_gemv, 0);
    assert_int_equal(c.sym, 1);
    assert_int_equal(parse("{\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 256, \"version\": \"gemv\"}", &c, &err), 0);
    assert_int_equal(parse("{\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 16, \"version\": \"gemv\"}", &c, &err), -1);
    assert_non_null(strstr(err.msg, "version gemv with group_size 16 is not supported"));
    assert_int_equal(parse("{\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 32, \"version\": \"gemv_fast\"}", &c, &err), -1);
    assert_non_null(strstr(err.msg, "version 'gemv_fast' is not supported (gemm and gemv are)"));
}

/* AutoAWQ's calculate_zeros_width by hand: ceil(groups / 8), rounded up to 4 (group 32), 2 (64). */
static void zeros_width(void **state) {
    (void)state;
    assert_int_equal(hq_awq_zeros_width(64, 32), 4);     /* 2 groups: 1 word, padded to 4 */
    assert_int_equal(hq_awq_zeros_width(4096, 32), 16);  /* 128 groups: 16 words */
    assert_int_equal(hq_awq_zeros_width(4160, 32), 20);  /* 130 groups: 17 words, padded to 20 */
    assert_int_equal(hq_awq_zeros_width(4096, 64), 8);   /* 64 groups: 8 words */
    assert_int_equal(hq_awq_zeros_width(4224, 64), 10);  /* 66 groups: 9 words, padded to 10 */
    assert_int_equal(hq_awq_zeros_width(11008, 128), 11); /* 86 groups: 11 words */
    assert_int_equal(hq_awq_zeros_width(256, 256), 1);
    assert_int_equal(hq_awq_zeros_width(96, 48), 0);     /* a group size AutoAWQ refuses */
}

/* out 8, in 64, group 32: 2 groups, qzeros [8, 4] (1 word + 3 of padding), scales [8, 32]. Row 0:
 * every word 0x76543210 (input 8c+j holds j), zeros 3 (group 0) and 9 (group 1), scales 0.5, 2;
 * row 5: every word 0xFEDCBA98 (input 8c+j holds 8+j), zeros 8, 0, scales 0.25, 1. */
static void gemv_known_words(void **state) {
    (void)state;
    int32_t qweight[8][8] = {{0}}, qzeros[8][4] = {{0}};
    uint16_t scales[8][32] = {{0}};
    for (int c = 0; c < 8; c++) qweight[0][c] = 0x76543210, qweight[5][c] = (int32_t)0xFEDCBA98u;
    qzeros[0][0] = 0x93, qzeros[5][0] = 0x08;
    qzeros[0][1] = qzeros[0][3] = (int32_t)0xFFFFFFFFu; /* padding words: never read */
    scales[0][0] = f32_to_fp16(0.5f), scales[0][1] = f32_to_fp16(2.0f), scales[0][2] = f32_to_fp16(1000.0f);
    scales[5][0] = f32_to_fp16(0.25f), scales[5][1] = f32_to_fp16(1.0f);
    HqConfig c = {.method = HQ_AWQ, .bits = 4, .group_size = 32, .awq_gemv = 1};
    HqPart qw = part(qweight, "I32", 2, 8, 8, sizeof qweight), qz = part(qzeros, "I32", 2, 8, 4, sizeof qzeros),
           sc = part(scales, "F16", 2, 8, 32, sizeof scales), gi = {0};
    HqTensor t;
    Err err = {0};
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc, &gi, 8, 64, "mem", "w", &err), 0);
    assert_int_equal(t.bytes, sizeof qweight + sizeof qzeros + sizeof scales); /* padding counted */
    float out[8][64];
    hq_rows_f32(&t, 0, 8, &out[0][0]);
    for (int i = 0; i < 64; i++) {
        float j = (float)(i % 8);
        assert_true(out[0][i] == (i < 32 ? 0.5f * (j - 3) : 2.0f * (j - 9)));
        assert_true(out[5][i] == (i < 32 ? 0.25f * (8 + j - 8) : 1.0f * (8 + j)));
        assert_true(out[1][i] == 0.0f); /* zero scale */
    }
    float one[64];
    hq_rows_f32(&t, 5, 1, one); /* a panel starting mid-matrix */
    assert_memory_equal(one, out[5], sizeof one);
    /* zero_point false without qzeros: every zero point is 8 */
    c.sym = 1;
    HqPart none = {0};
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &none, &sc, &gi, 8, 64, "mem", "w", &err), 0);
    assert_int_equal(t.bytes, sizeof qweight + sizeof scales);
    hq_rows_f32(&t, 0, 1, one);
    for (int i = 0; i < 64; i++) assert_true(one[i] == (i < 32 ? 0.5f : 2.0f) * (float)(i % 8 - 8));
    /* zero_point true: qzeros required */
    c.sym = 0;
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &none, &sc, &gi, 8, 64, "mem", "w", &err), -1);
    assert_string_equal(err.msg, "mem: missing tensor w.qzeros");
}

/* GEMM with zero_point false and no qzeros: W = s * (q - 8), outputs in AutoAWQ's nibble order. */
static void gemm_symmetric(void **state) {
    (void)state;
    int32_t qweight[32][1];
    for (int i = 0; i < 32; i++) qweight[i][0] = 0x75316420; /* nibbles 0..7 hold outputs 0 2 4 6 1 3 5 7, output o the value o */
    uint16_t scales[1][8];
    for (int o = 0; o < 8; o++) scales[0][o] = f32_to_fp16(0.5f);
    HqConfig c = {.method = HQ_AWQ, .bits = 4, .group_size = 32, .sym = 1};
    HqPart qw = part(qweight, "I32", 2, 32, 1, sizeof qweight), none = {0},
           sc = part(scales, "F16", 2, 1, 8, sizeof scales), gi = {0};
    HqTensor t;
    Err err = {0};
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &none, &sc, &gi, 8, 32, "mem", "w", &err), 0);
    float out[8][32];
    hq_rows_f32(&t, 0, 8, &out[0][0]);
    for (int o = 0; o < 8; o++)
        for (int i = 0; i < 32; i++) assert_true(out[o][i] == 0.5f * (float)(o - 8));
}

/* Wrong shapes: one line naming the part and the expected shape. */
static void wrong_shapes(void **state) {
    (void)state;
    static int32_t words[64 * 64];
    static uint16_t halves[64 * 64];
    HqConfig c = {.method = HQ_AWQ, .bits = 4, .group_size = 32, .awq_gemv = 1};
    HqTensor t;
    Err err = {0};
    HqPart qw = part(words, "I32", 2, 8, 8, 256), qz = part(words, "I32", 2, 8, 4, 128),
           sc = part(halves, "F16", 2, 8, 32, 512), gi = {0};
    HqPart qz_unpadded = part(words, "I32", 2, 8, 1, 32), sc_unpadded = part(halves, "F16", 2, 8, 2, 32),
           qw_gemm = part(words, "I32", 2, 64, 1, 256), sc_i32 = part(words, "I32", 2, 8, 32, 1024);
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz_unpadded, &sc, &gi, 8, 64, "m.safetensors", "w", &err), -1);
    assert_string_equal(err.msg, "m.safetensors: tensor w.qzeros has the wrong shape (expected [8, 4])");
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc_unpadded, &gi, 8, 64, "m.safetensors", "w", &err), -1);
    assert_string_equal(err.msg, "m.safetensors: tensor w.scales has the wrong shape (expected [8, 32])");
    assert_int_equal(hq_tensor_init(&t, &c, &qw_gemm, &qz, &sc, &gi, 8, 64, "m.safetensors", "w", &err), -1);
    assert_string_equal(err.msg, "m.safetensors: tensor w.qweight has the wrong shape (expected [8, 8])");
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc_i32, &gi, 8, 64, "m.safetensors", "w", &err), -1);
    assert_string_equal(err.msg, "m.safetensors: tensor w.scales has dtype I32, expected F16,BF16,F32");
    assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc, &gi, 12, 64, "m.safetensors", "w", &err), -1);
    assert_non_null(strstr(err.msg, "AWQ gemv needs out and in features"));
    assert_null(strchr(err.msg, '\n'));
}

static HqPart st_part(const SafeTensors *st, const char *layer, const char *suffix) {
    char name[64];
    snprintf(name, sizeof name, "%s.%s", layer, suffix);
    const StTensor *s = st_find(st, name);
    if (!s) return (HqPart){0};
    return part(s->data, s->dtype, s->n_dims, s->shape[0], s->shape[1], s->nbytes);
}

/* hfquant_ref.py's single layers: the rows equal the reference's dequantized weights exactly. */
static void reference_layers(void **state) {
    (void)state;
    Err err = {0};
    SafeTensors *st = st_open("tests/data/hfquant-awq-layers/layers.safetensors", &err);
    if (!st) {
        printf("# skip: %s\n", err.msg);
        skip();
    }
    struct { const char *name; int gs, gemv, sym; int64_t zw; } L[] = {
        {"gemv32", 32, 1, 0, 4}, {"gemv64", 64, 1, 0, 2}, {"gemv128", 128, 1, 0, 1},
        {"gemv128sym", 128, 1, 1, 1}, {"gemm128sym", 128, 0, 1, 0}};
    static float rows[16 * 256];
    for (size_t k = 0; k < sizeof L / sizeof *L; k++) {
        HqConfig c = {.method = HQ_AWQ, .bits = 4, .group_size = L[k].gs, .awq_gemv = L[k].gemv, .sym = L[k].sym};
        HqPart qw = st_part(st, L[k].name, "qweight"), qz = st_part(st, L[k].name, "qzeros"),
               sc = st_part(st, L[k].name, "scales"), deq = st_part(st, L[k].name, "deq"), gi = {0};
        assert_non_null(qw.data);
        assert_non_null(deq.data);
        assert_true(L[k].sym ? qz.data == NULL : qz.data != NULL);
        HqTensor t;
        assert_int_equal(hq_tensor_init(&t, &c, &qw, &qz, &sc, &gi, 16, 256, "layers", L[k].name, &err), 0);
        if (L[k].gemv) assert_int_equal(t.zeros_width, L[k].zw);
        hq_rows_f32(&t, 0, 16, rows);
        for (int i = 0; i < 16 * 256; i++) {
            float want;
            memcpy(&want, (const uint8_t *)deq.data + 4 * i, 4);
            if (rows[i] != want) fail_msg("%s: weight %d is %g, the reference says %g", L[k].name, i, rows[i], want);
        }
    }
    st_close(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_fields),   cmocka_unit_test(zeros_width),    cmocka_unit_test(gemv_known_words),
        cmocka_unit_test(gemm_symmetric),  cmocka_unit_test(wrong_shapes),   cmocka_unit_test(reference_layers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
