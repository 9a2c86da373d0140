/* Tests of formats/lowbit.c (IQ4_NL, IQ4_XS, TQ1_0, TQ2_0, MXFP4) against llama.cpp itself: the
 * llama_oracle helper (docs/testing.md "llama.cpp as an oracle") dequantizes the same bytes with
 * ggml's to_float and every float must be bit-identical (memcmp):
 *   - qtype.c's type table against ggml's type traits (number, name, block size, block bytes);
 *   - the generated value tables (formats/lowbit_tables.h) through crafted blocks: every IQ4 level,
 *     every MXFP4 level at every one of the 256 exponent bytes;
 *   - random blocks of each type (every bit pattern of the quants, finite fp16 scales);
 *   - synth-llama F32 fixture tensors quantized by ggml_quantize_chunk (the oracle's `quant`);
 * and `coldtok info` on a file with types coldtok cannot read. Without the oracle (make oracle,
 * then make tests) the oracle tests skip with the reason. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/gguf_write.h"
#include "formats/qtype.h"
#include "tests/testutil.h"

static const char *const TYPES[] = {"IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0", "MXFP4"};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

typedef struct {
    char dir[64];
    char in[96], out[96];
} Tmp;

static void tmp_make(Tmp *t) {
    snprintf(t->dir, sizeof t->dir, "/tmp/coldtok-test-lowbit.XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->in, sizeof t->in, "%s/in", t->dir);
    snprintf(t->out, sizeof t->out, "%s/out", t->dir);
}

static void tmp_clear(Tmp *t) {
    unlink(t->in);
    unlink(t->out);
    rmdir(t->dir);
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Runs a shell command; fails the test with the command when it does not exit 0. */
static void run(const char *cmd) {
    int rc = system(cmd);
    if (rc != 0) fail_msg("'%s' exited %d", cmd, rc);
}

/* ggml's floats for the blocks of TYPE in `blocks` (n_blocks of them); free the result. */
static float *oracle_dequant(const char *type, const void *blocks, size_t n_blocks) {
    Tmp t;
    tmp_make(&t);
    int id = qtype_from_name(type);
    write_bytes(t.in, blocks, n_blocks * qtype_block_bytes((uint32_t)id));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' dequant %s %s %s", NEED_ORACLE(), type, t.in, t.out);
    run(cmd);
    size_t n;
    float *y = read_f32(t.out, &n);
    tmp_clear(&t);
    assert_non_null(y);
    assert_int_equal(n, n_blocks * (size_t)qtype_block_elems((uint32_t)id));
    return y;
}

/* coldtok's floats against ggml's for the same blocks, memcmp per float (the first mismatch is
 * reported with its position). */
static void same_as_oracle(const char *type, const void *blocks, size_t n_blocks) {
    const uint32_t id = (uint32_t)qtype_from_name(type);
    const size_t n = n_blocks * (size_t)qtype_block_elems(id);
    float *want = oracle_dequant(type, blocks, n_blocks), *got = xmalloc(n * sizeof *got);
    assert_int_equal(qdequant_row(id, blocks, got, (int64_t)n), 0);
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof *got))
            fail_msg("%s: float %zu of %zu (block %zu) is %.9g, ggml says %.9g", type, i, n,
                     i / (size_t)qtype_block_elems(id), got[i], want[i]);
    free(want);
    free(got);
}

/* ---- the type table ---- */

static void type_table_is_ggmls(void **state) {
    (void)state;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' traits", NEED_ORACLE());
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int seen[64] = {0}, n = 0;
    unsigned num;
    char name[32];
    long long be;
    size_t bb;
    int to_float;
    while (fscanf(p, "%u %31s %lld %zu %d", &num, name, &be, &bb, &to_float) == 5) {
        printf("# ggml type %u %s: %lld elements, %zu bytes, to_float %d\n", num, name, be, bb, to_float);
        assert_true(num < 64);
        seen[num] = 1;
        n++;
        if (!qtype_name(num)) fail_msg("ggml type %u %s is missing from qtype.c", num, name);
        assert_string_equal(qtype_name(num), name);
        assert_int_equal(qtype_block_elems(num), be);
        assert_int_equal(qtype_block_bytes(num), bb);
        /* what coldtok converts, ggml converts too (F32 needs no to_float) */
        if (qtype_can_dequant(num) && num != Q_F32) assert_int_equal(to_float, 1);
    }
    assert_int_equal(pclose(p), 0);
    assert_true(n >= 35);
    for (uint32_t t = 0; t < 64; t++)
        if (qtype_name(t) && !seen[t]) fail_msg("qtype.c has type %u %s, ggml does not", t, qtype_name(t));
}

/* ---- generated tables: every value they hold, through crafted blocks ---- */

static void iq4_levels_are_ggmls(void **state) {
    (void)state;
    /* scale 1.0, 2.0, 0.5 and a subnormal half; nibble j at position j, 15-j at j+16 */
    static const uint16_t scales[] = {0x3C00, 0x4000, 0x3800, 0x0001};
    uint8_t nl[4][18];
    for (int s = 0; s < 4; s++) {
        nl[s][0] = (uint8_t)(scales[s] & 0xFF);
        nl[s][1] = (uint8_t)(scales[s] >> 8);
        for (int j = 0; j < 16; j++) nl[s][2 + j] = (uint8_t)(j | (15 - j) << 4);
    }
    same_as_oracle("IQ4_NL", nl, 4);
    float y[32];
    assert_int_equal(qdequant_row(Q_IQ4_NL, nl[0], y, 32), 0);
    assert_true(y[0] == -127.0f && y[15] == 113.0f); /* the extreme levels */
    /* IQ4_XS: all 64 sub-block scales (ls = 0..63, so dl = d * (ls - 32)) over two blocks */
    uint8_t xs[8][136];
    for (int k = 0; k < 8; k++) {
        uint8_t *b = xs[k];
        b[0] = 0x00, b[1] = 0x3C; /* d = 1 */
        unsigned scales_h = 0;
        for (int ib = 0; ib < 8; ib++) {
            const int ls = 8 * k + ib;
            if (ib % 2 == 0) b[4 + ib / 2] = (uint8_t)(ls & 0xF);
            else b[4 + ib / 2] |= (uint8_t)((ls & 0xF) << 4);
            scales_h |= (unsigned)(ls >> 4) << 2 * ib;
        }
        b[2] = (uint8_t)(scales_h & 0xFF), b[3] = (uint8_t)(scales_h >> 8);
        for (int j = 0; j < 128; j++) b[8 + j] = (uint8_t)(j * 37 + k);
    }
    same_as_oracle("IQ4_XS", xs, 8);
}

static void mxfp4_tables_are_ggmls(void **state) {
    (void)state;
    uint8_t b[256][17];
    for (int e = 0; e < 256; e++) {
        b[e][0] = (uint8_t)e;
        for (int j = 0; j < 16; j++) b[e][1 + j] = (uint8_t)(j | (15 - j) << 4);
    }
    same_as_oracle("MXFP4", b, 256);
    float y[32];
    assert_int_equal(qdequant_row(Q_MXFP4, b[127], y, 32), 0); /* 2^0 */
    assert_true(y[1] == 0.5f && y[7] == 6.0f && y[15] == -6.0f && y[8] == 0.0f && !signbit(y[8])); /* "-0" is level 0 */
}

/* ---- random blocks ---- */

static uint32_t next(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

/* A random finite half (any sign, subnormals included, never inf or NaN). */
static uint16_t finite_half(uint64_t *s) {
    uint16_t h;
    do h = (uint16_t)next(s);
    while (((h >> 10) & 0x1F) == 0x1F);
    return h;
}

static void random_blocks_are_ggmls(void **state) {
    (void)state;
    /* where each type keeps its fp16 scale (-1: none) */
    static const int half_at[N_TYPES] = {0, 0, 52, 64, -1};
    uint64_t seed = 20261207;
    for (size_t k = 0; k < N_TYPES; k++) {
        const uint32_t id = (uint32_t)qtype_from_name(TYPES[k]);
        const size_t bb = qtype_block_bytes(id), n_blocks = 97;
        uint8_t *b = xmalloc(n_blocks * bb);
        for (size_t i = 0; i < n_blocks * bb; i++) b[i] = (uint8_t)next(&seed);
        if (half_at[k] >= 0)
            for (size_t i = 0; i < n_blocks; i++) {
                uint16_t h = finite_half(&seed);
                memcpy(b + i * bb + half_at[k], (uint8_t[2]){(uint8_t)(h & 0xFF), (uint8_t)(h >> 8)}, 2);
            }
        same_as_oracle(TYPES[k], b, n_blocks);
        free(b);
    }
}

/* ---- fixture tensors quantized by ggml ---- */

static void quantized_fixture_tensors_are_ggmls(void **state) {
    (void)state;
    const char *o = NEED_ORACLE();
    Err err;
    Gguf *g = gguf_open(NEED_FIXTURE("models/synth-llama/synth-llama-F32.gguf"), &err);
    if (!g) fail_msg("%s", err.msg);
    static const char *const names[] = {"blk.0.ffn_down.weight", "blk.1.attn_q.weight", "token_embd.weight"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const GgufTensor *t = gguf_find_tensor(g, names[i]);
        assert_non_null(t);
        assert_int_equal(t->type, Q_F32);
        const int64_t cols = t->ne[0], rows = t->ne[1];
        for (size_t k = 0; k < N_TYPES; k++) {
            const uint32_t id = (uint32_t)qtype_from_name(TYPES[k]);
            Tmp tmp;
            tmp_make(&tmp);
            write_bytes(tmp.in, t->data, t->nbytes);
            char cmd[1024];
            snprintf(cmd, sizeof cmd, "'%s' quant %s %lld %s %s", o, TYPES[k], (long long)cols, tmp.in, tmp.out);
            run(cmd);
            size_t len;
            char *q = read_file(tmp.out, &len, &err);
            tmp_clear(&tmp);
            if (!q) fail_msg("%s", err.msg);
            const size_t rb = qtype_row_bytes(id, cols);
            assert_int_equal(len, rb * (size_t)rows);
            same_as_oracle(TYPES[k], q, len / qtype_block_bytes(id));
            /* row by row gives the same as the whole tensor, and the quantization is sane:
             * relative RMS error within what the type's bits allow (a wrong layout gives ~1) */
            float *row = xmalloc((size_t)cols * sizeof *row);
            const float *x = t->data;
            double e2 = 0, x2 = 0;
            for (int64_t r = 0; r < rows; r++) {
                assert_int_equal(qdequant_row(id, q + (size_t)r * rb, row, cols), 0);
                for (int64_t c = 0; c < cols; c++) {
                    const double d = row[c] - x[r * cols + c];
                    e2 += d * d;
                    x2 += (double)x[r * cols + c] * x[r * cols + c];
                }
            }
            const double rel = sqrt(e2 / x2), limit = TYPES[k][0] == 'T' ? 0.9 : 0.15;
            printf("# %s %s: relative RMS error %.4f\n", names[i], TYPES[k], rel);
            assert_true(rel < limit);
            free(row);
            free(q);
        }
    }
    gguf_close(g);
}

/* ---- types coldtok cannot read ---- */

/* Writes a GGUF with one F32 vector and tensors of NVFP4 (40), I32 (26) and Q8_K (15): ggml types
 * coldtok knows by name and size but cannot convert. */
static void write_unreadable(const char *path) {
    Err err;
    GgufWriter *w = gw_new();
    gw_kv_str(w, "general.architecture", "llama");
    static const struct { const char *name; uint32_t type; int64_t ne0, ne1; } t[] = {
        {"a.weight", Q_F32, 64, 1}, {"b.weight", 40, 128, 2}, {"c.weight", 40, 64, 3},
        {"d.weight", 26, 8, 1},     {"e.weight", Q_Q8_K, 256, 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        assert_true(gw_add_tensor(w, t[i].name, t[i].type, t[i].ne1 > 1 ? 2 : 1,
                                  (int64_t[2]){t[i].ne0, t[i].ne1}, &err) > 0);
    assert_int_equal(gw_begin(w, path, &err), 0);
    static uint8_t zeros[4096];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        assert_int_equal(gw_data(w, zeros, qtype_row_bytes(t[i].type, t[i].ne0) * (size_t)t[i].ne1, &err), 0);
    assert_int_equal(gw_end(w, &err), 0);
    gw_free(w);
}

/* The output of `coldtok info PATH` (stdout and stderr) into out; returns the exit status. */
static int info(const char *path, char *out, size_t cap) {
    const char *bin = getenv("COLDTOK");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' info '%s' 2>&1", bin && *bin ? bin : "build/coldtok", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void info_lists_unreadable_types(void **state) {
    (void)state;
    char path[] = "/tmp/coldtok-test-lowbit-XXXXXX.gguf";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    close(fd);
    write_unreadable(path);
    static char out[1 << 16];
    int rc = info(path, out, sizeof out);
    printf("# %s", strstr(out, "types coldtok cannot") ? strstr(out, "types coldtok cannot") : out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "\ntypes coldtok cannot read (3;"));
    assert_non_null(strstr(out, "\n  Q8_K     ggml type 15     1 tensor , first e.weight\n"));
    assert_non_null(strstr(out, "\n  I32      ggml type 26     1 tensor , first d.weight\n"));
    assert_non_null(strstr(out, "\n  NVFP4    ggml type 40     2 tensors, first b.weight\n"));
    assert_null(strstr(out, "  F32      ggml type")); /* readable types are not listed */

    /* a type number no ggml coldtok knows: the tensor cannot even be sized, one line, exit 1 */
    size_t len;
    Err err;
    char *bytes = read_file(path, &len, &err);
    assert_non_null(bytes);
    char *c = memmem(bytes, len, "c.weight", 8);
    assert_non_null(c);
    const uint32_t n_dims = 2, future = 57;
    memcpy(c + 8 + 4 + 8 * n_dims, &future, 4); /* name, n_dims, ne[2], then the type */
    write_bytes(path, bytes, len);
    free(bytes);
    rc = info(path, out, sizeof out);
    printf("# %s", out);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "'c.weight': unknown tensor type 57"));
    assert_non_null(strchr(out, '\n'));
    assert_null(strchr(strchr(out, '\n') + 1, '\n')); /* one line */
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(type_table_is_ggmls),
        cmocka_unit_test(iq4_levels_are_ggmls),
        cmocka_unit_test(mxfp4_tables_are_ggmls),
        cmocka_unit_test(random_blocks_are_ggmls),
        cmocka_unit_test(quantized_fixture_tensors_are_ggmls),
        cmocka_unit_test(info_lists_unreadable_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
