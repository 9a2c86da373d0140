/* Tests of the grid-based i-quants (formats/iquants.c) against ggml itself: the llama.cpp oracle
 * ($LLAMA_ORACLE, else oracle/llama_oracle next to $COLDTOK, else build/oracle/llama_oracle; see
 * docs/testing.md). Without the oracle every test skips and says why.
 *   - random blocks (random grid indices, signs, scales and a finite random d): coldtok's
 *     qdequant_row equals ggml's to_float byte for byte (memcmp), every bit of every field used;
 *   - the synth-llama F32 fixture's weights quantized by ggml_quantize_chunk (importance all ones):
 *     the same memcmp on real quantized data.
 * The tables themselves are checked against the oracle by tests/cli_iquants.sh (it regenerates
 * formats/iq_tables.c), and the forward pass on IQ models there too. */
#include <string.h>
#include <unistd.h>

#include "formats/qtype.h"
#include "tests/testutil.h"

static const struct { uint32_t type; const char *name; } TYPES[] = {
    {Q_IQ2_XXS, "IQ2_XXS"}, {Q_IQ2_XS, "IQ2_XS"}, {Q_IQ2_S, "IQ2_S"}, {Q_IQ3_XXS, "IQ3_XXS"},
    {Q_IQ3_S, "IQ3_S"},     {Q_IQ1_S, "IQ1_S"},   {Q_IQ1_M, "IQ1_M"},
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Runs a shell command line; fails the test with the line when it does not exit 0. */
static void run(const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0) fail_msg("command failed: %s", cmd);
}

/* ggml's to_float of the blocks in BLOCKS against qdequant_row: same floats, same bits. */
static void compare_with_oracle(const char *orc, const char *dir, uint32_t type, const char *name,
                                const uint8_t *blocks, size_t n_blocks) {
    char in[4200], out[4200];
    snprintf(in, sizeof in, "%s/%s.bin", dir, name);
    snprintf(out, sizeof out, "%s/%s.f32", dir, name);
    write_bytes(in, blocks, n_blocks * qtype_block_bytes(type));
    run("'%s' dequant %s '%s' '%s'", orc, name, in, out);
    size_t n_want;
    float *want = read_f32(out, &n_want);
    assert_non_null(want);
    int64_t n = (int64_t)n_blocks * qtype_block_elems(type);
    assert_int_equal(n_want, (size_t)n);
    float *got = xmalloc(sizeof *got * (size_t)n);
    assert_int_equal(qdequant_row(type, blocks, got, n), 0);
    for (int64_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], 4))
            fail_msg("%s: value %lld is %.9g, ggml gives %.9g", name, (long long)i, got[i], want[i]);
    free(got);
    free(want);
}

/* xorshift64*: reproducible bytes */
static uint64_t next_random(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static void random_blocks_exact(void **state) {
    (void)state;
    const char *orc = NEED_ORACLE();
    char dir[] = "/tmp/coldtok-iquants.XXXXXX";
    assert_non_null(mkdtemp(dir));
    enum { N_BLOCKS = 512 };
    uint64_t seed = 0x1234567887654321ULL;
    for (size_t k = 0; k < N_TYPES; k++) {
        const size_t bb = qtype_block_bytes(TYPES[k].type);
        uint8_t *blocks = xmalloc(bb * N_BLOCKS);
        for (size_t i = 0; i < bb * N_BLOCKS; i++) blocks[i] = (uint8_t)(next_random(&seed) >> 56);
        for (size_t b = 0; b < N_BLOCKS; b++) {
            uint8_t *blk = blocks + b * bb;
            /* a finite fp16 d (no inf or NaN, whose payloads are not the point here): clear the
             * top exponent bit, where each type keeps it */
            if (TYPES[k].type == Q_IQ1_M) blk[55] &= 0xBF; /* d's top nibble: scales[3] bits 12..15 */
            else blk[1] &= 0xBF;
        }
        compare_with_oracle(orc, dir, TYPES[k].type, TYPES[k].name, blocks, N_BLOCKS);
        free(blocks);
    }
    run("rm -rf '%s'", dir);
}

/* Five weights of synth-llama-F32 quantized by ggml_quantize_chunk with unit importance. The
 * i-quants quantize each 256-value block on its own (unit importance is the same for every
 * column), so the weights go to the oracle as one stack of 256-value rows: one call per type
 * (a call per weight took 200 s, IQ1_S's and IQ1_M's table set-up ~20 s each time). The sanitizer
 * pass skips this test: random_blocks_exact runs the same dequantizers there. */
static void quantized_fixture_exact(void **state) {
    (void)state;
    const char *orc = NEED_ORACLE();
    if (sanitizer_build()) {
        printf("# skip: the normal pass compares these blocks; random blocks run the same code here\n");
        skip();
    }
    char model[4096];
    snprintf(model, sizeof model, "%s", NEED_FIXTURE("models/synth-llama/synth-llama-F32.gguf"));
    char dir[] = "/tmp/coldtok-iquants.XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const char *const W[] = {"blk.0.attn_q.weight", "blk.1.attn_k.weight", "blk.0.ffn_down.weight",
                                    "blk.1.ffn_up.weight", "output.weight"};
    char all[4200], ones_path[4200];
    snprintf(all, sizeof all, "%s/all.f32", dir);
    snprintf(ones_path, sizeof ones_path, "%s/ones.f32", dir);
    float ones[256];
    for (int i = 0; i < 256; i++) ones[i] = 1.0f;
    write_bytes(ones_path, ones, sizeof ones);
    for (size_t w = 0; w < sizeof W / sizeof *W; w++)
        run("'%s' tensor '%s' %s '%s/w.f32' > /dev/null && cat '%s/w.f32' >> '%s'", orc, model, W[w], dir,
            dir, all);
    for (size_t k = 0; k < N_TYPES; k++) {
        char q[4200];
        snprintf(q, sizeof q, "%s/q.bin", dir);
        run("'%s' quant %s 256 '%s' '%s' '%s'", orc, TYPES[k].name, all, q, ones_path);
        size_t len;
        Err err;
        uint8_t *blocks = (uint8_t *)read_file(q, &len, &err);
        assert_non_null(blocks);
        size_t bb = qtype_block_bytes(TYPES[k].type);
        assert_int_equal(len % bb, 0);
        assert_true(len / bb >= 5 * 256); /* every weight is there */
        compare_with_oracle(orc, dir, TYPES[k].type, TYPES[k].name, blocks, len / bb);
        free(blocks);
    }
    run("rm -rf '%s'", dir);
}

static void registered(void **state) {
    (void)state;
    for (size_t k = 0; k < N_TYPES; k++) {
        assert_true(qtype_can_dequant(TYPES[k].type));
        assert_int_equal(qtype_from_name(TYPES[k].name), (int)TYPES[k].type);
        assert_int_equal(qtype_block_elems(TYPES[k].type), 256);
    }
    /* whole blocks only, nothing written otherwise */
    uint8_t b[128] = {0};
    float y[256];
    y[0] = 42.0f;
    assert_int_equal(qdequant_row(Q_IQ2_XXS, b, y, 128), -1);
    assert_true(y[0] == 42.0f);
    /* a zero block is zeros for the signed-grid types (d = 0) */
    assert_int_equal(qdequant_row(Q_IQ3_S, b, y, 256), 0);
    for (int i = 0; i < 256; i++) assert_true(y[i] == 0.0f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registered),
        cmocka_unit_test(random_blocks_exact),
        cmocka_unit_test(quantized_fixture_exact),
    };
    return cmocka_run_group_tests_name("iquants", tests, NULL, NULL);
}
