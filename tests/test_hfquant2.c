/* hfquant AQLM, FP8 and compressed-tensors on hand-built tensors with known values: float8_e4m3fn's
 * special and boundary values, an AQLM 2x8 codebook sum and a 1x16 code stored negative computed by
 * hand, FP8 blocks that do not divide the matrix, compressed-tensors words with their offset and
 * padding, bitsandbytes nibbles, nested absmax and LLM.int8 rows, the config fields, and the shapes
 * refused in one line. */
#include "testutil.h"

#include "formats/hfquant.h"
#include "formats/qtype.h"

static HqPart part4(const void *data, const char *dtype, int nd, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
                    uint64_t nbytes) {
    return (HqPart){.data = data, .dtype = dtype, .n_dims = nd, .shape = {d0, d1, d2, d3}, .nbytes = nbytes};
}

static int parse(const char *js, HqConfig *c, Err *err) {
    json_t *j = json_loads(js, 0, NULL);
    assert_non_null(j);
    int r = hq_config_parse(j, "cfg", c, err);
    json_decref(j);
    return r;
}

/* sign, 4 exponent bits biased by 7, 3 mantissa bits; exponent 0 subnormal; 0x7f / 0xff NaN */
static void e4m3_values(void **state) {
    (void)state;
    assert_true(hq_e4m3_to_f32(0x00) == 0.0f && !signbit(hq_e4m3_to_f32(0x00)));
    assert_true(hq_e4m3_to_f32(0x80) == 0.0f && signbit(hq_e4m3_to_f32(0x80)));
    assert_true(hq_e4m3_to_f32(0x01) == 1.0f / 512);          /* smallest subnormal 2^-9 */
    assert_true(hq_e4m3_to_f32(0x07) == 7.0f / 512);          /* largest subnormal */
    assert_true(hq_e4m3_to_f32(0x08) == 1.0f / 64);           /* smallest normal 2^-6 */
    assert_true(hq_e4m3_to_f32(0x38) == 1.0f);                /* e = 7 */
    assert_true(hq_e4m3_to_f32(0x3c) == 1.5f);
    assert_true(hq_e4m3_to_f32(0x40) == 2.0f);
    assert_true(hq_e4m3_to_f32(0xb3) == -0.6875f);            /* -(1 + 3/8) * 2^-1 */
    assert_true(hq_e4m3_to_f32(0x7e) == 448.0f);              /* the largest finite: no infinity */
    assert_true(hq_e4m3_to_f32(0xfe) == -448.0f);
    assert_true(hq_e4m3_to_f32(0x78) == 256.0f);              /* e = 15 is finite but for m = 7 */
    assert_true(isnan(hq_e4m3_to_f32(0x7f)) && isnan(hq_e4m3_to_f32(0xff)));
}

/* AQLM 2x8, 2 outputs x 16 inputs: codebook c's entry e holds (c + 1) * e + k / 8 at k; codes
 * stored int8, -1 meaning entry 255. w[o][8j+k] = s[o] * (cb0[code0][k] + cb1[code1][k]). */
static void aqlm_2x8_by_hand(void **state) {
    (void)state;
    static uint16_t books[2][256][1][8];
    for (int c = 0; c < 2; c++)
        for (int e = 0; e < 256; e++)
            for (int k = 0; k < 8; k++) books[c][e][0][k] = f32_to_fp16((float)((c + 1) * e) / 64 + (float)k / 8);
    int8_t codes[2][2][2] = {{{-1, 3}, {0, 0}}, {{5, -128}, {127, 1}}};
    uint16_t scales[2] = {f32_to_fp16(0.5f), f32_to_fp16(-2.0f)};
    HqConfig c;
    Err err = {0};
    assert_int_equal(parse("{\"quant_method\": \"aqlm\", \"num_codebooks\": 2, \"nbits_per_codebook\": 8, "
                           "\"in_group_size\": 8, \"out_group_size\": 1, \"linear_weights_not_to_quantize\": "
                           "[\"lm_head.weight\"]}", &c, &err), 0);
    assert_int_equal(c.method, HQ_AQLM);
    HqPart cd = part4(codes, "I8", 3, 2, 2, 2, 0, sizeof codes),
           cb = part4(books, "F16", 4, 2, 256, 1, 8, sizeof books),
           sc = part4(scales, "F16", 4, 2, 1, 1, 1, sizeof scales);
    HqTensor t;
    assert_int_equal(hq_tensor_init_aqlm(&t, &c, &cd, &cb, &sc, 2, 16, "mem", "w", &err), 0);
    assert_int_equal((int)t.bytes, (int)(sizeof codes + sizeof books + sizeof scales));
    float out[2][16];
    hq_rows_f32(&t, 0, 2, &out[0][0]);
    /* entries as integers: cb0[e][k] = e/64 + k/8, cb1[e][k] = 2e/64 + k/8 (all exact in f16) */
    const int e0[2][2] = {{255, 0}, {5, 127}}, e1[2][2] = {{3, 0}, {128, 1}};
    const float s[2] = {0.5f, -2.0f};
    for (int o = 0; o < 2; o++)
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 8; k++) {
                float want = s[o] * ((float)e0[o][j] / 64 + (float)(2 * e1[o][j]) / 64 + (float)k / 4);
                assert_true(out[o][8 * j + k] == want);
            }
    assert_true(out[0][0] == 0.5f * (255.0f / 64 + 6.0f / 64)); /* 2.0390625: by hand */
}

/* AQLM 1x16: codes stored int16, -2 meaning entry 65534 (aqlm's unpack_int_data: modulo 2^16). */
static void aqlm_1x16_negative_code(void **state) {
    (void)state;
    size_t n = (size_t)65536 * 8;
    uint16_t *books = calloc(n, 2);
    for (int k = 0; k < 8; k++) books[(size_t)65534 * 8 + k] = f32_to_fp16(1.0f + (float)k);
    for (int k = 0; k < 8; k++) books[(size_t)2 * 8 + k] = f32_to_fp16(-100.0f); /* not this one */
    int16_t codes[1][1][1] = {{{-2}}};
    float scale = 0.25f;
    HqConfig c = {.method = HQ_AQLM, .n_codebooks = 1, .codebook_bits = 16, .in_group = 8, .out_group = 1, .bits = 2};
    HqPart cd = part4(codes, "I16", 3, 1, 1, 1, 0, 2), cb = part4(books, "F16", 4, 1, 65536, 1, 8, n * 2),
           sc = part4(&scale, "F32", 4, 1, 1, 1, 1, 4);
    HqTensor t;
    Err err = {0};
    assert_int_equal(hq_tensor_init_aqlm(&t, &c, &cd, &cb, &sc, 1, 8, "mem", "w", &err), 0);
    float out[8];
    hq_rows_f32(&t, 0, 1, out);
    for (int k = 0; k < 8; k++) assert_true(out[k] == 0.25f * (1.0f + (float)k));
    free(books);
}

/* FP8 3 x 5 with 2 x 3 blocks: scales [2, 2], the last block row and column partial. */
static void fp8_partial_blocks(void **state) {
    (void)state;
    uint8_t w[3][5];
    for (int o = 0; o < 3; o++)
        for (int i = 0; i < 5; i++) w[o][i] = 0x38; /* 1.0 */
    w[2][4] = 0xc0;                                /* -2.0 */
    float s[2][2] = {{1, 2}, {4, 8}};
    HqConfig c;
    Err err = {0};
    assert_int_equal(parse("{\"quant_method\": \"fp8\", \"fmt\": \"e4m3\", \"weight_block_size\": [2, 3]}", &c, &err), 0);
    HqPart wp = part4(w, "F8_E4M3", 2, 3, 5, 0, 0, sizeof w), sp = part4(s, "F32", 2, 2, 2, 0, 0, sizeof s);
    HqTensor t;
    assert_int_equal(hq_tensor_init_fp8(&t, &c, &wp, &sp, 3, 5, "mem", "w", &err), 0);
    float out[3][5];
    hq_rows_f32(&t, 0, 3, &out[0][0]);
    const float want[3][5] = {{1, 1, 1, 2, 2}, {1, 1, 1, 2, 2}, {4, 4, 4, 8, -16}};
    for (int o = 0; o < 3; o++)
        for (int i = 0; i < 5; i++) assert_true(out[o][i] == want[o][i]);
    /* per-channel ([3, 1], BF16) and per-tensor ([]) without weight_block_size */
    c.block[0] = c.block[1] = 0;
    uint16_t ch[3] = {0x3f80 /* 1 */, 0x4040 /* 3 */, 0xbf00 /* -0.5 */};
    HqPart cp = part4(ch, "BF16", 2, 3, 1, 0, 0, sizeof ch);
    assert_int_equal(hq_tensor_init_fp8(&t, &c, &wp, &cp, 3, 5, "mem", "w", &err), 0);
    hq_rows_f32(&t, 1, 2, &out[0][0]);
    assert_true(out[0][0] == 3.0f && out[1][0] == -0.5f && out[1][4] == 1.0f);
    float one = 0.125f;
    HqPart tp = part4(&one, "F32", 0, 0, 0, 0, 0, 4);
    assert_int_equal(hq_tensor_init_fp8(&t, &c, &wp, &tp, 3, 5, "mem", "w", &err), 0);
    hq_rows_f32(&t, 2, 1, &out[0][0]);
    assert_true(out[0][0] == 0.125f && out[0][4] == -0.25f);
}

/* compressed-tensors pack-quantized: 4 bits, 10 inputs (2 words, the second padded), groups of 4
 * (the last partial); 8 bits, channel. Codes stored + 2^(bits-1), lowest bits first. */
static void ct_words_by_hand(void **state) {
    (void)state;
    HqConfig c;
    Err err = {0};
    assert_int_equal(parse("{\"quant_method\": \"compressed-tensors\", \"format\": \"pack-quantized\", "
                           "\"config_groups\": {\"g\": {\"targets\": [\"Linear\"], \"weights\": {\"num_bits\": 4, "
                           "\"type\": \"int\", \"symmetric\": true, \"strategy\": \"group\", \"group_size\": 4}}}, "
                           "\"ignore\": [\"lm_head\"]}", &c, &err), 0);
    assert_int_equal(c.method, HQ_CT_INT);
    int32_t packed[1][2] = {{(int32_t)0xfedcba98u, 0x000000f0}}; /* inputs 0..7: 8..15 -> 0..7; 8: 0 -> -8; 9: 15 -> 7 */
    uint16_t sc[1][3] = {{0x3f80 /* 1 */, 0x4000 /* 2 */, 0xbf00 /* -0.5 */}};
    int64_t shape[2] = {1, 10};
    HqPart none = {0};
    HqPart pp = {.data = packed, .dtype = "I32", .n_dims = 2, .shape = {1, 2}, .nbytes = 8},
           sp = {.data = sc, .dtype = "BF16", .n_dims = 2, .shape = {1, 3}, .nbytes = 6},
           hp = {.data = shape, .dtype = "I64", .n_dims = 1, .shape = {2}, .nbytes = 16};
    HqTensor t;
    assert_int_equal(hq_tensor_init_ct(&t, &c, &pp, &sp, &none, &hp, 1, 10, "mem", "w", &err), 0);
    assert_int_equal((int)t.bytes, 8 + 6 + 16);
    float out[10];
    hq_rows_f32(&t, 0, 1, out);
    const float want[10] = {0, 1, 2, 3, 8, 10, 12, 14, 4, -3.5f};
    for (int i = 0; i < 10; i++) assert_true(out[i] == want[i]);
    shape[1] = 12; /* weight_shape disagreeing with the model's */
    assert_int_equal(hq_tensor_init_ct(&t, &c, &pp, &sp, &none, &hp, 1, 10, "mem", "w", &err), -1);
    assert_string_equal(err.msg, "mem: tensor w.weight_shape is [1, 12], expected [1, 10]");
    /* 8 bits, channel: bytes 0x7f 0x80 0xff 0x01 -> -1, 0, 127, -127 */
    c = (HqConfig){.method = HQ_CT_INT, .bits = 8, .group_size = -1, .sym = 1};
    int32_t p8[1][1] = {{0x01ff807f}};
    uint16_t s8[1][1] = {{f32_to_fp16(0.5f)}};
    HqPart p8p = {.data = p8, .dtype = "I32", .n_dims = 2, .shape = {1, 1}, .nbytes = 4},
           s8p = {.data = s8, .dtype = "F16", .n_dims = 2, .shape = {1, 1}, .nbytes = 2};
    assert_int_equal(hq_tensor_init_ct(&t, &c, &p8p, &s8p, &none, &none, 1, 4, "mem", "w", &err), 0);
    hq_rows_f32(&t, 0, 1, out);
    assert_true(out[0] == -0.5f && out[1] == 0.0f && out[2] == 63.5f && out[3] == -63.5f);
    /* asymmetric 4-bit, channel: 2 rows of 8; zero points packed along the outputs in one word
     * (row 0 in bits 0..3: 3, row 1 in bits 4..7: 10): w = (code - zero) * scale */
    c = (HqConfig){.method = HQ_CT_INT, .bits = 4, .group_size = -1, .sym = 0};
    int32_t p4[2][1] = {{0x76543210}, {(int32_t)0xfedcba98u}}, zp[1][1] = {{0xa3}};
    uint16_t s4[2][1] = {{f32_to_fp16(0.5f)}, {f32_to_fp16(2.0f)}};
    HqPart p4p = {.data = p4, .dtype = "I32", .n_dims = 2, .shape = {2, 1}, .nbytes = 8},
           s4p = {.data = s4, .dtype = "F16", .n_dims = 2, .shape = {2, 1}, .nbytes = 4},
           zpp = {.data = zp, .dtype = "I32", .n_dims = 2, .shape = {1, 1}, .nbytes = 4};
    assert_int_equal(hq_tensor_init_ct(&t, &c, &p4p, &s4p, &zpp, &none, 2, 8, "mem", "w", &err), 0);
    float o2[16];
    hq_rows_f32(&t, 0, 2, o2);
    for (int i = 0; i < 8; i++) assert_true(o2[i] == 0.5f * (float)(i - 3) && o2[8 + i] == 2.0f * (float)(8 + i - 10));
    assert_int_equal(hq_tensor_init_ct(&t, &c, &p4p, &s4p, &none, &none, 2, 8, "mem", "w", &err), -1);
    assert_string_equal(err.msg, "mem: missing tensor w.weight_zero_point");
}

/* bitsandbytes 4-bit, 2 x 3 (6 values, 3 bytes), blocks of 4 (the second partial): code k of the
 * flattened matrix in the high nibble first; double quantization: absmax = map[u8] * nested + offset. */
static void bnb_by_hand(void **state) {
    (void)state;
    HqConfig c;
    Err err = {0};
    assert_int_equal(parse("{\"quant_method\": \"bitsandbytes\", \"load_in_4bit\": true, "
                           "\"bnb_4bit_quant_type\": \"nf4\", \"llm_int8_skip_modules\": [\"lm_head\"]}", &c, &err), 0);
    assert_int_equal(c.method, HQ_BNB4);
    uint8_t w[3] = {0x01, 0x23, 0xf0};  /* codes 0 1 2 3 15 0 */
    float qmap[16];
    for (int k = 0; k < 16; k++) qmap[k] = (float)k - 8;
    float absmax[2] = {0.5f, 4.0f};
    const char *js = "{\"quant_type\": \"nf4\", \"blocksize\": 4, \"dtype\": \"bfloat16\", \"shape\": [2, 3]}";
    HqPart wp = {.data = w, .dtype = "U8", .n_dims = 2, .shape = {3, 1}, .nbytes = 3},
           ap = {.data = absmax, .dtype = "F32", .n_dims = 1, .shape = {2}, .nbytes = 8},
           mp = {.data = qmap, .dtype = "F32", .n_dims = 1, .shape = {16}, .nbytes = 64}, none = {0},
           sp = {.data = js, .dtype = "U8", .n_dims = 1, .shape = {(int64_t)strlen(js)}, .nbytes = strlen(js)};
    HqTensor t;
    assert_int_equal(hq_tensor_init_bnb4(&t, &c, &wp, &ap, &mp, &none, &none, &sp, 2, 3, "mem", "w", &err), 0);
    float out[6];
    hq_rows_f32(&t, 0, 2, out);
    const float want[6] = {-4, -3.5f, -3, -2.5f, 28, -32};
    for (int i = 0; i < 6; i++) assert_true(out[i] == want[i]);
    hq_rows_f32(&t, 1, 1, out); /* a row starting inside a block */
    assert_true(out[0] == -2.5f && out[1] == 28 && out[2] == -32);
    /* double quantization: absmax u8 {3, 255}, nested map k/256, nested absmax 2 per 1 block, offset 0.25 */
    uint8_t a8[2] = {3, 255};
    float nmap[256], nabs[2] = {2, 8};
    for (int k = 0; k < 256; k++) nmap[k] = (float)k / 256;
    const char *jn = "{\"quant_type\": \"nf4\", \"blocksize\": 4, \"shape\": [2, 3], \"nested_blocksize\": 1, "
                     "\"nested_offset\": 0.25}";
    HqPart a8p = {.data = a8, .dtype = "U8", .n_dims = 1, .shape = {2}, .nbytes = 2},
           nap = {.data = nabs, .dtype = "F32", .n_dims = 1, .shape = {2}, .nbytes = 8},
           nmp = {.data = nmap, .dtype = "F32", .n_dims = 1, .shape = {256}, .nbytes = 1024},
           snp = {.data = jn, .dtype = "U8", .n_dims = 1, .shape = {(int64_t)strlen(jn)}, .nbytes = strlen(jn)};
    assert_int_equal(hq_tensor_init_bnb4(&t, &c, &wp, &a8p, &mp, &nap, &nmp, &snp, 2, 3, "mem", "w", &err), 0);
    hq_rows_f32(&t, 0, 2, out);
    /* block 0: 3/256 * 2 + 0.25 = 0.2734375; block 1: 255/256 * 8 + 0.25 = 8.21875 */
    assert_true(out[0] == -8 * 0.2734375f && out[3] == -5 * 0.2734375f && out[4] == 7 * 8.21875f);
    /* without its quant state: one line saying why not */
    assert_int_equal(hq_tensor_init_bnb4(&t, &c, &wp, &ap, &mp, &none, &none, &none, 2, 3, "mem", "w", &err), -1);
    assert_non_null(strstr(err.msg, "saved without its quantization state cannot be read"));
    /* LLM.int8: (q * SCB) * 7.874015718698502e-3f */
    int8_t q8[2][2] = {{127, -1}, {0, -127}};
    float scb[2] = {2.54f, 1.0f};
    uint8_t fmt = 0;
    c = (HqConfig){.method = HQ_BNB8, .bits = 8};
    HqPart qp = {.data = q8, .dtype = "I8", .n_dims = 2, .shape = {2, 2}, .nbytes = 4},
           cp = {.data = scb, .dtype = "F32", .n_dims = 1, .shape = {2}, .nbytes = 8},
           fp = {.data = &fmt, .dtype = "U8", .n_dims = 0, .nbytes = 1};
    assert_int_equal(hq_tensor_init_bnb8(&t, &c, &qp, &cp, &fp, 2, 2, "mem", "w", &err), 0);
    hq_rows_f32(&t, 0, 2, out);
    const float inv = 7.874015718698502e-3f;
    assert_true(out[0] == 127 * 2.54f * inv && out[1] == -2.54f * inv && out[2] == 0 && out[3] == -127 * inv);
    fmt = 2; /* col_ampere */
    assert_int_equal(hq_tensor_init_bnb8(&t, &c, &qp, &cp, &fp, 2, 2, "mem", "w", &err), -1);
    assert_string_equal(err.msg, "mem: tensor w.weight_format 2 (a GPU tile layout) is not supported (0, row, is)");
}

static void refused(void **state) {
    (void)state;
    HqConfig c;
    Err err = {0};
    assert_int_equal(parse("{\"quant_method\": \"aqlm\", \"num_codebooks\": 1, \"nbits_per_codebook\": 12}", &c, &err), -1);
    assert_string_equal(err.msg, "cfg: quantization_config (aqlm): 1x12 codebooks are not supported (1x16, 2x8, 1x8 are)");
    assert_int_equal(parse("{\"quant_method\": \"aqlm\", \"out_group_size\": 8}", &c, &err), -1);
    assert_string_equal(err.msg, "cfg: quantization_config (aqlm): in_group_size 8, out_group_size 8 are not supported "
                                 "(8 and 1 are)");
    assert_int_equal(parse("{\"quant_method\": \"fp8\", \"weight_block_size\": [0, 128]}", &c, &err), -1);
    assert_string_equal(err.msg, "cfg: quantization_config (fp8): weight_block_size must be two positive integers");
    /* a codebook with fewer entries than 2^nbits: a stored code could point past it */
    assert_int_equal(parse("{\"quant_method\": \"aqlm\", \"num_codebooks\": 1, \"nbits_per_codebook\": 8}", &c, &err), 0);
    static uint16_t books[128][8];
    int8_t codes[2][2][1] = {{{0}}};
    uint16_t scales[2] = {0};
    HqPart cd = part4(codes, "I8", 3, 2, 2, 1, 0, sizeof codes), cb = part4(books, "F16", 4, 1, 128, 1, 8, sizeof books),
           sc = part4(scales, "F16", 4, 2, 1, 1, 1, sizeof scales);
    HqTensor t;
    assert_int_equal(hq_tensor_init_aqlm(&t, &c, &cd, &cb, &sc, 2, 16, "f", "w", &err), -1);
    assert_string_equal(err.msg, "f: tensor w.codebooks has the wrong shape (expected [1, 256, 1, 8])");
    /* scales of the wrong shape, codes of the wrong dtype, inputs not a multiple of 8 */
    cb.shape[1] = 256;
    sc.shape[0] = 3;
    assert_int_equal(hq_tensor_init_aqlm(&t, &c, &cd, &cb, &sc, 2, 16, "f", "w", &err), -1);
    assert_string_equal(err.msg, "f: tensor w.scales has the wrong shape (expected [2, 1, 1, 1])");
    sc.shape[0] = 2;
    cd.dtype = "I32";
    assert_int_equal(hq_tensor_init_aqlm(&t, &c, &cd, &cb, &sc, 2, 16, "f", "w", &err), -1);
    assert_string_equal(err.msg, "f: tensor w.codes has dtype I32, expected I8,U8");
    assert_int_equal(hq_tensor_init_aqlm(&t, &c, &cd, &cb, &sc, 2, 12, "f", "w", &err), -1);
    assert_string_equal(err.msg, "f: w: AQLM groups 8 inputs: [2, 12] (out, in) does not fit");
    /* FP8: a weight that is not F8_E4M3, a scale of another shape */
    uint8_t w[2][4] = {{0}};
    float s4[4] = {0};
    c = (HqConfig){.method = HQ_FP8, .bits = 8};
    HqPart wp = part4(w, "U8", 2, 2, 4, 0, 0, 8), sp = part4(s4, "F32", 1, 4, 0, 0, 0, 16);
    assert_int_equal(hq_tensor_init_fp8(&t, &c, &wp, &sp, 2, 4, "f", "w", &err), -1);
    assert_string_equal(err.msg, "f: tensor w.weight has dtype U8, expected F8_E4M3");
    wp.dtype = "F8_E4M3";
    assert_int_equal(hq_tensor_init_fp8(&t, &c, &wp, &sp, 2, 4, "f", "w", &err), -1);
    assert_string_equal(err.msg, "f: tensor w.weight_scale has the wrong shape (expected [], [1], [2] or [2, 1]; "
                                 "blocks need weight_block_size)");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(e4m3_values),        cmocka_unit_test(aqlm_2x8_by_hand),
        cmocka_unit_test(aqlm_1x16_negative_code), cmocka_unit_test(fp8_partial_blocks),
        cmocka_unit_test(ct_words_by_hand),   cmocka_unit_test(bnb_by_hand),
        cmocka_unit_test(refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
