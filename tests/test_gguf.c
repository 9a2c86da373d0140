/* Tests of model/gguf: the fixture GGUFs against the facts in their READMEs, a hand-built file
 * holding every value type and nested arrays, and hostile files (real fixtures mutated in memory,
 * truncated at many lengths) that must give one exact error line, never a crash. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/qtype.h"
#include "tests/testutil.h"

/* ---- helpers ---- */

static Gguf *open_ok(const char *path) {
    Err err = {{0}};
    Gguf *g = gguf_open(path, &err);
    if (!g) fail_msg("%s", err.msg);
    return g;
}

static int64_t get_int(const Gguf *g, const char *key) {
    int64_t v = -12345;
    if (gguf_get_int(g, key, &v)) fail_msg("key %s missing or not an integer", key);
    return v;
}

static double get_float(const Gguf *g, const char *key) {
    double v = 0;
    if (gguf_get_float(g, key, &v)) fail_msg("key %s missing or not a number", key);
    return v;
}

static void assert_str_kv(const Gguf *g, const char *key, const char *want) {
    size_t len = 0;
    const char *s = gguf_get_str(g, key, &len);
    if (!s) fail_msg("key %s missing or not a string", key);
    if (len != strlen(want) || memcmp(s, want, len)) fail_msg("%s = '%.*s', want '%s'", key, (int)len, s, want);
}

static void assert_token(const Gguf *g, uint64_t id, const char *want) {
    int kv = gguf_find_kv(g, "tokenizer.ggml.tokens");
    assert_true(kv >= 0);
    size_t len = 0;
    const char *s = gguf_arr_str(g, kv, id, &len);
    if (!s) fail_msg("token %llu absent", (unsigned long long)id);
    if (len != strlen(want) || memcmp(s, want, len))
        fail_msg("token %llu = '%.*s', want '%s'", (unsigned long long)id, (int)len, s, want);
}

static uint64_t n_tokens(const Gguf *g) {
    int et = -1;
    uint64_t n = 0;
    assert_int_equal(gguf_arr_info(g, gguf_find_kv(g, "tokenizer.ggml.tokens"), &et, &n), 0);
    assert_int_equal(et, GGUF_STRING);
    return n;
}

/* "F16x37 F32x11" style census of tensor types, in type-number order. */
static void type_census(const Gguf *g, char *out, size_t cap) {
    int count[64] = {0};
    for (int i = 0; i < gguf_n_tensors(g); i++) count[gguf_tensor(g, i)->type]++;
    size_t o = 0;
    out[0] = '\0';
    for (int t = 0; t < 64; t++)
        if (count[t]) o += (size_t)snprintf(out + o, cap - o, "%s%sx%d", o ? " " : "", qtype_name((uint32_t)t), count[t]);
}

static void assert_ne(const Gguf *g, const char *name, int n_dims, int64_t ne0, int64_t ne1) {
    const GgufTensor *t = gguf_find_tensor(g, name);
    if (!t) fail_msg("tensor %s absent", name);
    if (t->n_dims != n_dims || t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1)
        fail_msg("%s: n_dims %d ne [%lld %lld %lld %lld], want %d [%lld %lld]", name, t->n_dims,
                 (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3], n_dims,
                 (long long)ne0, (long long)ne1);
}

/* Bytes of a whole file (test inputs are small). */
static uint8_t *slurp(const char *path, size_t *len) {
    Err err;
    char *d = read_file(path, len, &err);
    if (!d) fail_msg("%s", err.msg);
    return (uint8_t *)d;
}

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint64_t get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Offset just after the GGUF string S (its u64 length + bytes) in the file, found by search. */
static size_t after_string(const uint8_t *d, size_t n, const char *s) {
    size_t len = strlen(s);
    for (size_t i = 8; i + len <= n; i++)
        if (!memcmp(d + i, s, len) && get_u64(d + i - 8) == len) return i + len;
    fail_msg("string %s not found", s);
    return 0;
}

/* Opens the bytes in memory, expects failure with exactly WANT as the message. */
static void expect_error(const uint8_t *d, size_t n, const char *want) {
    Err err = {{0}};
    Gguf *g = gguf_open_memory(d, n, "m.gguf", &err);
    if (g) {
        gguf_close(g);
        fail_msg("opened, want error: %s", want);
    }
    if (strcmp(err.msg, want)) fail_msg("error\n  got:  %s\n  want: %s", err.msg, want);
}

/* ---- fixtures ---- */

static void stories260k_f32_facts(void **state) {
    (void)state;
    const char *path = NEED_FIXTURE("models/stories260K/stories260K-F32.gguf");
    Gguf *g = open_ok(path);
    assert_int_equal(gguf_version(g), 3);
    assert_int_equal(gguf_file_size(g), 1185376);
    assert_int_equal(gguf_alignment(g), 32);
    assert_int_equal(gguf_n_tensors(g), 48);
    assert_str_kv(g, "general.architecture", "llama");
    assert_str_kv(g, "general.name", "llama");
    assert_str_kv(g, "tokenizer.ggml.model", "llama");
    assert_int_equal(get_int(g, "llama.embedding_length"), 64);
    assert_int_equal(get_int(g, "llama.block_count"), 5);
    assert_int_equal(get_int(g, "llama.attention.head_count"), 8);
    assert_int_equal(get_int(g, "llama.attention.head_count_kv"), 4);
    assert_int_equal(get_int(g, "llama.feed_forward_length"), 172);
    assert_int_equal(get_int(g, "llama.context_length"), 128);
    assert_int_equal(get_int(g, "llama.rope.dimension_count"), 8);
    assert_true(gguf_find_kv(g, "llama.rope.freq_base") < 0);
    /* stored as float32 9.99999975e-06 */
    assert_true(get_float(g, "llama.attention.layer_norm_rms_epsilon") == (double)1e-5f);
    assert_int_equal(get_int(g, "tokenizer.ggml.bos_token_id"), 1);
    assert_int_equal(get_int(g, "tokenizer.ggml.eos_token_id"), 2);
    assert_int_equal(get_int(g, "tokenizer.ggml.unknown_token_id"), 0);
    assert_int_equal(get_int(g, "tokenizer.ggml.padding_token_id"), 4294967295LL);
    assert_int_equal(n_tokens(g), 512);
    assert_token(g, 0, "<unk>");
    assert_token(g, 1, "<s>");
    assert_token(g, 2, "</s>");
    assert_token(g, 3, "<0x00>");
    assert_token(g, 258, "<0xFF>");
    assert_token(g, 403, "\xE2\x96\x81Once"); /* prompt.json: 403 = "▁Once" */
    assert_token(g, 378, "\xE2\x96\x81time");
    /* 292,800 floats in 48 F32 tensors; output.weight is a copy of token_embd.weight */
    uint64_t bytes = 0;
    for (int i = 0; i < gguf_n_tensors(g); i++) {
        assert_int_equal(gguf_tensor(g, i)->type, Q_F32);
        bytes += gguf_tensor(g, i)->nbytes;
    }
    assert_int_equal(bytes, 292800 * 4);
    assert_ne(g, "token_embd.weight", 2, 64, 512);
    assert_ne(g, "blk.4.ffn_down.weight", 2, 172, 64);
    assert_ne(g, "blk.0.attn_k.weight", 2, 64, 32);
    assert_ne(g, "output_norm.weight", 1, 64, 1);
    const GgufTensor *e = gguf_find_tensor(g, "token_embd.weight"), *o = gguf_find_tensor(g, "output.weight");
    assert_non_null(o);
    assert_memory_equal(e->data, o->data, e->nbytes);
    assert_null(gguf_find_tensor(g, "blk.5.ffn_down.weight"));
    /* data pointers are inside the file, aligned, and consistent with offsets */
    for (int i = 0; i < gguf_n_tensors(g); i++) {
        const GgufTensor *t = gguf_tensor(g, i);
        assert_int_equal(t->offset % 32, 0);
        assert_int_equal((uintptr_t)t->data % 32, 0); /* mmap is page aligned */
        assert_true(gguf_data_offset(g) + t->offset + t->nbytes <= gguf_file_size(g));
    }
    gguf_close(g);
}

static void stories260k_types(void **state) {
    (void)state;
    static const struct { const char *file, *census; } cases[] = {
        {"stories260K-F16.gguf", "F32x11 F16x37"},
        {"stories260K-Q8_0mix.gguf", "F32x11 F16x5 Q8_0x32"},
        {"stories260K-Q4_0mix.gguf", "F32x11 F16x5 Q4_0x32"},
        {"stories260K-Q5_0mix.gguf", "F32x11 F16x5 Q5_0x29 Q8_0x3"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char rel[256], census[256];
        snprintf(rel, sizeof rel, "models/stories260K/%s", cases[c].file);
        Gguf *g = open_ok(NEED_FIXTURE(rel));
        type_census(g, census, sizeof census);
        if (strcmp(census, cases[c].census)) fail_msg("%s: %s, want %s", rel, census, cases[c].census);
        assert_int_equal(gguf_n_tensors(g), 48);
        assert_int_equal(gguf_find_tensor(g, "blk.3.ffn_down.weight")->type, Q_F16);
        gguf_close(g);
    }
    Gguf *g = open_ok(NEED_FIXTURE("models/stories260K/stories260K-Q5_0mix.gguf"));
    assert_int_equal(gguf_find_tensor(g, "output.weight")->type, Q_Q8_0);
    assert_int_equal(gguf_find_tensor(g, "blk.2.attn_v.weight")->type, Q_Q8_0);
    assert_int_equal(gguf_find_tensor(g, "blk.4.attn_v.weight")->type, Q_Q8_0);
    assert_int_equal(gguf_find_tensor(g, "blk.3.attn_v.weight")->type, Q_Q5_0);
    assert_int_equal(gguf_find_tensor(g, "token_embd.weight")->nbytes, 512 * 64 / 32 * 22);
    assert_int_equal(get_int(g, "general.file_type"), 15); /* the misleading label */
    gguf_close(g);
}

static void synth_llama_all_types(void **state) {
    (void)state;
    static const struct { const char *type; uint64_t size; } files[] = {
        {"F32", 5784928}, {"F16", 2901376}, {"BF16", 2901376}, {"Q8_0", 1549696}, {"Q4_0", 828800},
        {"Q4_1", 918912}, {"Q5_0", 1009024}, {"Q5_1", 1099136}, {"Q2_K", 490880}, {"Q3_K", 637312},
        {"Q4_K", 828800}, {"Q5_K", 1009024}, {"Q6_K", 1200512},
    };
    static const struct { const char *name; int n_dims; int64_t ne0, ne1; } shapes[] = {
        {"token_embd.weight", 2, 256, 512}, {"output_norm.weight", 1, 256, 1},
        {"output.weight", 2, 256, 512},      {"blk.1.attn_norm.weight", 1, 256, 1},
        {"blk.0.attn_q.weight", 2, 256, 256}, {"blk.1.attn_k.weight", 2, 256, 128},
        {"blk.0.attn_v.weight", 2, 256, 128}, {"blk.1.attn_output.weight", 2, 256, 256},
        {"blk.0.ffn_norm.weight", 1, 256, 1}, {"blk.1.ffn_gate.weight", 2, 256, 512},
        {"blk.0.ffn_up.weight", 2, 256, 512}, {"blk.0.ffn_down.weight", 2, 512, 256},
    };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char rel[256], census[256], want[256];
        snprintf(rel, sizeof rel, "models/synth-llama/synth-llama-%s.gguf", files[f].type);
        Gguf *g = open_ok(NEED_FIXTURE(rel));
        assert_int_equal(gguf_file_size(g), files[f].size);
        assert_int_equal(gguf_n_tensors(g), 21);
        type_census(g, census, sizeof census);
        int t = qtype_from_name(files[f].type);
        if (t == Q_F32) snprintf(want, sizeof want, "F32x21");
        else snprintf(want, sizeof want, "F32x5 %sx16", files[f].type);
        if (strcmp(census, want)) fail_msg("%s: %s, want %s", rel, census, want);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            assert_ne(g, shapes[s].name, shapes[s].n_dims, shapes[s].ne0, shapes[s].ne1);
        const GgufTensor *down = gguf_find_tensor(g, "blk.0.ffn_down.weight");
        assert_int_equal(down->type, t);
        assert_int_equal(down->nbytes, qtype_row_bytes((uint32_t)t, 512) * 256);
        assert_str_kv(g, "general.architecture", "llama");
        assert_int_equal(get_int(g, "llama.embedding_length"), 256);
        assert_int_equal(get_int(g, "llama.feed_forward_length"), 512);
        assert_int_equal(get_int(g, "llama.block_count"), 2);
        assert_int_equal(get_int(g, "llama.attention.head_count"), 4);
        assert_int_equal(get_int(g, "llama.attention.head_count_kv"), 2);
        assert_int_equal(get_int(g, "llama.context_length"), 2048);
        assert_int_equal(get_int(g, "llama.rope.dimension_count"), 64);
        assert_true(get_float(g, "llama.rope.freq_base") == 10000.0);
        assert_int_equal(n_tokens(g), 512);
        assert_token(g, 1, "<s>");
        gguf_close(g);
    }
}

static void synth_qwen2_facts(void **state) {
    (void)state;
    static const char *files[] = {"F32", "Q8_0", "Q4_K"};
    static const char *census[] = {"F32x14", "F32x6 Q8_0x8", "F32x6 Q4_Kx8"};
    for (int f = 0; f < 3; f++) {
        char rel[256], got[256];
        snprintf(rel, sizeof rel, "models/synth-qwen2/synth-qwen2-%s.gguf", files[f]);
        Gguf *g = open_ok(NEED_FIXTURE(rel));
        assert_int_equal(gguf_n_tensors(g), 14);
        type_census(g, got, sizeof got);
        if (strcmp(got, census[f])) fail_msg("%s: %s, want %s", rel, got, census[f]);
        assert_null(gguf_find_tensor(g, "output.weight")); /* tied */
        assert_ne(g, "blk.0.attn_q.bias", 1, 256, 1);
        assert_ne(g, "blk.0.attn_k.bias", 1, 128, 1);
        assert_ne(g, "blk.0.ffn_down.weight", 2, 256, 256);
        assert_str_kv(g, "general.architecture", "qwen2");
        assert_str_kv(g, "tokenizer.ggml.model", "gpt2");
        assert_str_kv(g, "tokenizer.ggml.pre", "qwen2");
        assert_int_equal(get_int(g, "qwen2.embedding_length"), 256);
        assert_int_equal(get_int(g, "qwen2.block_count"), 1);
        assert_true(get_float(g, "qwen2.rope.freq_base") == 1e6);
        assert_true(get_float(g, "qwen2.attention.layer_norm_rms_epsilon") == (double)1e-6f);
        assert_int_equal(n_tokens(g), 512);
        assert_token(g, 509, "<|endoftext|>");
        assert_token(g, 510, "<|im_start|>");
        assert_token(g, 511, "<|im_end|>");
        assert_token(g, 0, "!"); /* byte-level BPE: byte 0x21 first */
        assert_int_equal(get_int(g, "tokenizer.ggml.bos_token_id"), 509);
        assert_int_equal(get_int(g, "tokenizer.ggml.eos_token_id"), 509);
        assert_int_equal(get_int(g, "tokenizer.ggml.padding_token_id"), 509);
        int b = 1;
        assert_int_equal(gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b), 0);
        assert_int_equal(b, 0);
        int et;
        uint64_t n;
        assert_int_equal(gguf_arr_info(g, gguf_find_kv(g, "tokenizer.ggml.merges"), &et, &n), 0);
        assert_int_equal(n, 253);
        /* getters on the wrong type fail quietly */
        double d;
        int64_t i;
        assert_int_equal(gguf_get_float(g, "tokenizer.ggml.model", &d), -1);
        assert_int_equal(gguf_get_int(g, "tokenizer.ggml.tokens", &i), -1);
        assert_null(gguf_get_str(g, "qwen2.block_count", NULL));
        assert_null(gguf_get_str(g, "no.such.key", NULL));
        assert_int_equal(gguf_get_bool(g, "qwen2.block_count", &b), -1);
        assert_null(gguf_arr_str(g, gguf_find_kv(g, "tokenizer.ggml.tokens"), 512, NULL));
        assert_int_equal(gguf_arr_int(g, gguf_find_kv(g, "tokenizer.ggml.tokens"), 0, &i), -1);
        gguf_close(g);
    }
}

static void vocab_files(void **state) {
    (void)state;
    static const struct { const char *file; uint64_t n; int64_t bos; uint64_t id; const char *tok; } v[] = {
        {"vocab/ggml-vocab-llama-spm.gguf", 32000, 1, 29871, "\xE2\x96\x81"},
        {"vocab/ggml-vocab-gpt-2.gguf", 50257, 50256, 50256, "<|endoftext|>"},
        {"vocab/ggml-vocab-starcoder.gguf", 49152, 0, 0, "<|endoftext|>"},
        {"vocab/ggml-vocab-deepseek-coder.gguf", 32256, 32013, 32013,
         "<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"},
    };
    for (size_t f = 0; f < sizeof v / sizeof v[0]; f++) {
        Gguf *g = open_ok(NEED_FIXTURE(v[f].file));
        assert_int_equal(gguf_n_tensors(g), 0);
        assert_int_equal(n_tokens(g), v[f].n);
        assert_int_equal(get_int(g, "tokenizer.ggml.bos_token_id"), v[f].bos);
        assert_token(g, v[f].id, v[f].tok);
        /* the vocab-size key, where present, agrees with the token count */
        int64_t vs;
        if (!gguf_get_int(g, "llama.vocab_size", &vs)) assert_int_equal(vs, v[f].n);
        /* every id in the llama.cpp test vectors is a valid index */
        char out[300];
        snprintf(out, sizeof out, "%s.out", v[f].file);
        size_t len;
        char *ids = (char *)slurp(NEED_FIXTURE(out), &len);
        int max = -1;
        for (char *p = ids; *p;) {
            char *end;
            long x = strtol(p, &end, 10);
            if (end == p) { p++; continue; }
            if (x > max) max = (int)x;
            p = end;
        }
        free(ids);
        assert_true(max > 0 && (uint64_t)max < v[f].n);
        gguf_close(g);
    }
    /* O(1) element access in a 50k-entry array: the last one */
    Gguf *g = open_ok(NEED_FIXTURE("vocab/ggml-vocab-gpt-2.gguf"));
    int kv = gguf_find_kv(g, "tokenizer.ggml.merges");
    size_t len;
    const char *m = gguf_arr_str(g, kv, 0, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(m, "\xC4\xA0 t", 4); /* "Ġ t" */
    gguf_close(g);
}

/* ---- a hand-built file with every value type ---- */

typedef struct { Buf b; } W;
static void w_u8(W *w, uint8_t v) { buf_append(&w->b, &v, 1); }
static void w_u32(W *w, uint32_t v) { buf_append(&w->b, &v, 4); }
static void w_u64(W *w, uint64_t v) { buf_append(&w->b, &v, 8); }
static void w_str(W *w, const char *s) { w_u64(w, strlen(s)); buf_append(&w->b, s, strlen(s)); }
static void w_key(W *w, const char *k, uint32_t type) { w_str(w, k); w_u32(w, type); }
static void w_pad(W *w, size_t align) { while (w->b.len % align) w_u8(w, 0); }

/* 17 kvs (one per value type, nested arrays, alignment 64) and 3 tensors. Returns the bytes. */
static Buf build_all_types(void) {
    W w = {{0}};
    buf_append(&w.b, "GGUF", 4);
    w_u32(&w, 3);
    w_u64(&w, 3);  /* tensors */
    w_u64(&w, 17); /* kvs */
    w_key(&w, "t.u8", GGUF_UINT8); w_u8(&w, 200);
    w_key(&w, "t.i8", GGUF_INT8); w_u8(&w, (uint8_t)-100);
    w_key(&w, "t.u16", GGUF_UINT16); uint16_t u16 = 60000; buf_append(&w.b, &u16, 2);
    w_key(&w, "t.i16", GGUF_INT16); int16_t i16 = -30000; buf_append(&w.b, &i16, 2);
    w_key(&w, "t.u32", GGUF_UINT32); w_u32(&w, 4000000000u);
    w_key(&w, "t.i32", GGUF_INT32); w_u32(&w, (uint32_t)-2000000000);
    w_key(&w, "t.f32", GGUF_FLOAT32); float f = 0.1f; buf_append(&w.b, &f, 4);
    w_key(&w, "t.bool", GGUF_BOOL); w_u8(&w, 1);
    w_key(&w, "t.str", GGUF_STRING); w_str(&w, "h\xC3\xA9llo \"q\"\n");
    w_key(&w, "t.u64", GGUF_UINT64); w_u64(&w, 18000000000000000000ull);
    w_key(&w, "t.i64", GGUF_INT64); w_u64(&w, (uint64_t)-9000000000000000000ll);
    w_key(&w, "t.f64", GGUF_FLOAT64); double d = -2.5e300; buf_append(&w.b, &d, 8);
    /* [[1, 2, 3], [], [-4]] as i32 */
    w_key(&w, "t.nested", GGUF_ARRAY); w_u32(&w, GGUF_ARRAY); w_u64(&w, 3);
    w_u32(&w, GGUF_INT32); w_u64(&w, 3); w_u32(&w, 1); w_u32(&w, 2); w_u32(&w, 3);
    w_u32(&w, GGUF_INT32); w_u64(&w, 0);
    w_u32(&w, GGUF_INT32); w_u64(&w, 1); w_u32(&w, (uint32_t)-4);
    /* [["a", "bc"], [[true]]] — arrays of arrays of mixed kinds */
    w_key(&w, "t.nested2", GGUF_ARRAY); w_u32(&w, GGUF_ARRAY); w_u64(&w, 2);
    w_u32(&w, GGUF_STRING); w_u64(&w, 2); w_str(&w, "a"); w_str(&w, "bc");
    w_u32(&w, GGUF_ARRAY); w_u64(&w, 1); w_u32(&w, GGUF_BOOL); w_u64(&w, 1); w_u8(&w, 1);
    w_key(&w, "t.strs", GGUF_ARRAY); w_u32(&w, GGUF_STRING); w_u64(&w, 8);
    for (int i = 0; i < 8; i++) { char s[8]; snprintf(s, sizeof s, "s%d", i * 11); w_str(&w, s); }
    w_key(&w, "t.f32s", GGUF_ARRAY); w_u32(&w, GGUF_FLOAT32); w_u64(&w, 3);
    float fs[3] = {1.5f, -0.25f, 3e-8f}; buf_append(&w.b, fs, 12);
    w_key(&w, "general.alignment", GGUF_UINT32); w_u32(&w, 64);
    /* tensors: a: F32 [4, 3] at 0 (48 B), b: Q8_0 [64] at 64 (68 B), c: Q4_K [256, 1, 2] at 192 */
    w_str(&w, "a"); w_u32(&w, 2); w_u64(&w, 4); w_u64(&w, 3); w_u32(&w, Q_F32); w_u64(&w, 0);
    w_str(&w, "b"); w_u32(&w, 1); w_u64(&w, 64); w_u32(&w, Q_Q8_0); w_u64(&w, 64);
    w_str(&w, "c"); w_u32(&w, 3); w_u64(&w, 256); w_u64(&w, 1); w_u64(&w, 2); w_u32(&w, Q_Q4_K); w_u64(&w, 192);
    w_pad(&w, 64);
    size_t data = w.b.len;
    for (int i = 0; i < 12; i++) { float x = (float)i; buf_append(&w.b, &x, 4); }
    while (w.b.len < data + 64 + 68) w_u8(&w, 0x11);
    while (w.b.len < data + 192 + 288) w_u8(&w, 0x22);
    return w.b;
}

static char *fmt_kv(const Gguf *g, const char *key) {
    static Buf b;
    buf_free(&b);
    int kv = gguf_find_kv(g, key);
    if (kv < 0) fail_msg("no key %s", key);
    gguf_kv_format(g, kv, &b);
    return b.data;
}

static void every_value_type(void **state) {
    (void)state;
    Buf f = build_all_types();
    Err err = {{0}};
    Gguf *g = gguf_open_memory(f.data, f.len, "built.gguf", &err);
    if (!g) fail_msg("%s", err.msg);
    assert_int_equal(gguf_n_kv(g), 17);
    assert_int_equal(gguf_alignment(g), 64);
    assert_int_equal(gguf_data_offset(g) % 64, 0);
    assert_int_equal(get_int(g, "t.u8"), 200);
    assert_int_equal(get_int(g, "t.i8"), -100);
    assert_int_equal(get_int(g, "t.u16"), 60000);
    assert_int_equal(get_int(g, "t.i16"), -30000);
    assert_int_equal(get_int(g, "t.u32"), 4000000000LL);
    assert_int_equal(get_int(g, "t.i32"), -2000000000LL);
    assert_int_equal(get_int(g, "t.bool"), 1);
    assert_int_equal(get_int(g, "t.i64"), -9000000000000000000LL);
    int64_t i;
    assert_int_equal(gguf_get_int(g, "t.u64", &i), -1); /* does not fit int64 */
    assert_true(get_float(g, "t.u64") == 18000000000000000000.0);
    assert_true(get_float(g, "t.f32") == (double)0.1f);
    assert_true(get_float(g, "t.f64") == -2.5e300);
    assert_true(get_float(g, "t.i16") == -30000.0);
    assert_int_equal(gguf_get_int(g, "t.f32", &i), -1);
    double dd;
    assert_int_equal(gguf_get_float(g, "t.bool", &dd), -1);
    int b;
    assert_int_equal(gguf_get_bool(g, "t.bool", &b), 0);
    assert_int_equal(b, 1);
    assert_str_kv(g, "t.str", "h\xC3\xA9llo \"q\"\n");
    assert_int_equal(gguf_kv_type(g, gguf_find_kv(g, "t.nested")), GGUF_ARRAY);
    /* renderings */
    assert_string_equal(fmt_kv(g, "t.u8"), "200");
    assert_string_equal(fmt_kv(g, "t.i8"), "-100");
    assert_string_equal(fmt_kv(g, "t.u64"), "18000000000000000000");
    assert_string_equal(fmt_kv(g, "t.f32"), "0.1");
    assert_string_equal(fmt_kv(g, "t.f64"), "-2.5e+300");
    assert_string_equal(fmt_kv(g, "t.bool"), "true");
    assert_string_equal(fmt_kv(g, "t.str"), "\"h\xC3\xA9llo \\\"q\\\"\\n\"");
    assert_string_equal(fmt_kv(g, "t.nested"), "[3 x array: [3 x i32: 1, 2, 3], [0 x i32], [1 x i32: -4]]");
    assert_string_equal(fmt_kv(g, "t.nested2"), "[2 x array: [2 x string: \"a\", \"bc\"], [1 x array: [1 x bool: true]]]");
    assert_string_equal(fmt_kv(g, "t.strs"), "[8 x string: \"s0\", \"s11\", \"s22\", \"s33\", \"s44\", \"s55\", ...]");
    assert_string_equal(fmt_kv(g, "t.f32s"), "[3 x f32: 1.5, -0.25, 3e-08]");
    /* arrays by element */
    int kv = gguf_find_kv(g, "t.strs"), et;
    uint64_t n;
    size_t len;
    assert_int_equal(gguf_arr_info(g, kv, &et, &n), 0);
    assert_int_equal(n, 8);
    assert_memory_equal(gguf_arr_str(g, kv, 7, &len), "s77", 3);
    assert_int_equal(len, 3);
    kv = gguf_find_kv(g, "t.f32s");
    assert_int_equal(gguf_arr_float(g, kv, 2, &dd), 0);
    assert_true(dd == (double)3e-8f);
    assert_int_equal(gguf_arr_float(g, kv, 3, &dd), -1);
    assert_int_equal(gguf_arr_int(g, kv, 0, &i), -1); /* floats are not ints */
    float raw[3];
    memcpy(raw, gguf_arr_data(g, kv), 12);
    assert_true(raw[1] == -0.25f);
    kv = gguf_find_kv(g, "t.nested");
    assert_int_equal(gguf_arr_info(g, kv, &et, &n), 0);
    assert_int_equal(et, GGUF_ARRAY);
    assert_int_equal(n, 3);
    assert_null(gguf_arr_str(g, kv, 0, NULL));
    assert_int_equal(gguf_arr_int(g, kv, 0, &i), -1);
    /* tensors */
    assert_int_equal(gguf_n_tensors(g), 3);
    const GgufTensor *t = gguf_find_tensor(g, "c");
    assert_int_equal(t->n_dims, 3);
    assert_int_equal(t->ne[2], 2);
    assert_int_equal(t->ne[3], 1);
    assert_int_equal(t->nbytes, 288);
    assert_int_equal(gguf_find_tensor(g, "b")->nbytes, 34 * 2);
    const float *a = gguf_find_tensor(g, "a")->data;
    assert_true(a[11] == 11.0f);
    assert_int_equal((const uint8_t *)a - (const uint8_t *)f.data, gguf_data_offset(g));
    gguf_close(g);
    /* the same bytes as a file */
    char path[] = "/tmp/coldtok-gguf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, f.data, f.len), (ssize_t)f.len);
    close(fd);
    g = open_ok(path);
    assert_int_equal(get_int(g, "t.u16"), 60000);
    assert_string_equal(gguf_path(g), path);
    gguf_close(g);
    unlink(path);
    buf_free(&f);
}

/* ---- hostile files ---- */

static void truncated_everywhere(void **state) {
    (void)state;
    /* the built file: every length */
    Buf f = build_all_types();
    for (size_t n = 0; n < f.len; n++) {
        Err err = {{0}};
        uint8_t *copy = xmalloc(n ? n : 1); /* exact-size heap copy: ASan catches any over-read */
        memcpy(copy, f.data, n);
        Gguf *g = gguf_open_memory(copy, n, "t.gguf", &err);
        if (g) fail_msg("truncated to %zu of %zu bytes but opened", n, f.len);
        if (strncmp(err.msg, "t.gguf: ", 8) || !strstr(err.msg, " (at byte ") || strchr(err.msg, '\n'))
            fail_msg("length %zu: bad message '%s'", n, err.msg);
        free(copy);
    }
    buf_free(&f);
    /* a real model: the whole header densely, the data section sparsely */
    size_t len;
    uint8_t *d = slurp(NEED_FIXTURE("models/stories260K/stories260K-Q4_0mix.gguf"), &len);
    Err err = {{0}};
    Gguf *g = gguf_open_memory(d, len, "s.gguf", &err);
    assert_non_null(g);
    /* the file may end with alignment padding: cut before the end of the last tensor's data */
    size_t data = gguf_data_offset(g), end = 0, last_nbytes = 0;
    char last[64] = "";
    for (int i = 0; i < gguf_n_tensors(g); i++) {
        const GgufTensor *t = gguf_tensor(g, i);
        if (data + t->offset + t->nbytes > end) {
            end = data + t->offset + t->nbytes;
            last_nbytes = t->nbytes;
            snprintf(last, sizeof last, "%s", t->name);
        }
    }
    gguf_close(g);
    assert_string_equal(last, "blk.4.ffn_up.weight");
    assert_int_equal(last_nbytes, 172 * 64 / 32 * 18); /* Q4_0 [64, 172] */
    assert_true(end <= len && end + 32 > len);
    int n_fail = 0;
    for (size_t n = 0; n < end; n += n < data + 64 || n + 997 >= end ? 1 : 997) {
        uint8_t *copy = xmalloc(n ? n : 1);
        memcpy(copy, d, n);
        g = gguf_open_memory(copy, n, "s.gguf", &err);
        if (g) fail_msg("truncated to %zu of %zu bytes but opened", n, len);
        if (strncmp(err.msg, "s.gguf: ", 8) || !strstr(err.msg, " (at byte ") || strchr(err.msg, '\n'))
            fail_msg("length %zu: bad message '%s'", n, err.msg);
        free(copy);
        n_fail++;
    }
    assert_true(n_fail > (int)data);
    /* specific cut points give specific messages */
    expect_error(d, 0, "m.gguf: not a GGUF file (only 0 bytes) (at byte 0)");
    expect_error(d, 6, "m.gguf: file ends inside the header (4 bytes needed, 2 left) (at byte 4)");
    expect_error(d, 20, "m.gguf: file ends inside the header (8 bytes needed, 4 left) (at byte 16)");
    expect_error(d, 30, "m.gguf: metadata count 21 is impossible for a file of 30 bytes (at byte 16)");
    char want[300];
    snprintf(want, sizeof want, "m.gguf: tensor 'blk.4.ffn_up.weight': data [%zu, +6192) runs past "
             "the end of the file (data section holds %zu bytes) (at byte %zu)", end - 6192 - data, end - 1 - data, end - 6192);
    expect_error(d, end - 1, want);
    free(d);
}

static uint8_t *fixture_copy(size_t *len) {
    return slurp(NEED_FIXTURE("models/stories260K/stories260K-Q4_0mix.gguf"), len);
}

/* Offsets of the fields of tensor info NAME: n_dims, ne[0], type (for 2-D tensors), offset. */
typedef struct { size_t n_dims, ne0, type, offset; } InfoAt;
static InfoAt info_at(const uint8_t *d, size_t len, const char *name) {
    InfoAt a;
    a.n_dims = after_string(d, len, name);
    a.ne0 = a.n_dims + 4;
    uint32_t nd;
    memcpy(&nd, d + a.n_dims, 4);
    a.type = a.ne0 + 8 * nd;
    a.offset = a.type + 4;
    return a;
}

static void hostile_mutations(void **state) {
    (void)state;
    size_t len;
    uint8_t *d = fixture_copy(&len), *m = xmalloc(len);
    char want[512];
#define FRESH() memcpy(m, d, len)

    FRESH(); memcpy(m, "GGUG", 4);
    expect_error(m, len, "m.gguf: not a GGUF file (bad magic) (at byte 0)");
    FRESH(); put_u32(m + 4, 1);
    expect_error(m, len, "m.gguf: GGUF version 1 is not supported (only versions 2 and 3) (at byte 4)");
    FRESH(); put_u32(m + 4, 4);
    expect_error(m, len, "m.gguf: unsupported GGUF version 4 (only 2 and 3) (at byte 4)");
    FRESH(); memcpy(m, "FUGG", 4);
    expect_error(m, len, "m.gguf: big-endian GGUF is not supported (at byte 0)");
    /* version 2 has the same layout: accepted */
    FRESH(); put_u32(m + 4, 2);
    Err err;
    Gguf *g = gguf_open_memory(m, len, "m.gguf", &err);
    assert_non_null(g);
    assert_int_equal(gguf_version(g), 2);
    gguf_close(g);

    /* the first key's length: huge */
    FRESH(); put_u64(m + 24, 1ull << 62);
    snprintf(want, sizeof want, "m.gguf: key #0: string length %llu exceeds the %zu bytes left in the file (at byte 24)",
             1ull << 62, len - 32);
    expect_error(m, len, want);
    /* the token array's count: huge (elements are strings, 8 bytes at least) */
    size_t tok = after_string(d, len, "tokenizer.ggml.tokens"); /* type u32, elem u32, count u64 */
    FRESH(); put_u64(m + tok + 8, 1ull << 60);
    snprintf(want, sizeof want,
             "m.gguf: the value of key 'tokenizer.ggml.tokens': array count %llu is impossible (%llu "
             "elements of type string need at least 8 bytes each, %zu bytes left) (at byte %zu)",
             1ull << 60, 1ull << 60, len - (tok + 16), tok + 8);
    expect_error(m, len, want);
    /* a count that fits the remaining bytes / 8 but whose strings do not */
    FRESH(); put_u64(m + tok + 8, (len - tok - 16) / 8);
    g = gguf_open_memory(m, len, "m.gguf", &err);
    assert_null(g);
    assert_non_null(strstr(err.msg, "the value of key 'tokenizer.ggml.tokens'"));
    /* unknown value and element types */
    FRESH(); put_u32(m + tok, 13);
    snprintf(want, sizeof want, "m.gguf: key 'tokenizer.ggml.tokens': unknown value type 13 (at byte %zu)", tok);
    expect_error(m, len, want);
    FRESH(); put_u32(m + tok + 4, 99);
    snprintf(want, sizeof want,
             "m.gguf: the value of key 'tokenizer.ggml.tokens': unknown array element type 99 (at byte %zu)", tok + 4);
    expect_error(m, len, want);
    /* duplicate key: rename general.name's key to general.architecture's... same length needed:
     * "general.name" (12) -> overwrite "tokenizer.ggml.model" (20) with "general.architecture" (20) */
    size_t k = after_string(d, len, "tokenizer.ggml.model") - 20;
    FRESH(); memcpy(m + k, "general.architecture", 20);
    size_t k2 = after_string(d, len, "general.architecture") - 20;
    snprintf(want, sizeof want, "m.gguf: duplicate key 'general.architecture' (at byte %zu)", (k > k2 ? k : k2) - 8);
    expect_error(m, len, want);

    InfoAt q = info_at(d, len, "blk.0.attn_q.weight"), kk = info_at(d, len, "blk.0.attn_k.weight");
    FRESH(); put_u32(m + q.n_dims, 9);
    snprintf(want, sizeof want, "m.gguf: tensor 'blk.0.attn_q.weight': n_dims 9 out of range 1..4 (at byte %zu)", q.n_dims);
    expect_error(m, len, want);
    FRESH(); put_u32(m + q.n_dims, 0);
    snprintf(want, sizeof want, "m.gguf: tensor 'blk.0.attn_q.weight': n_dims 0 out of range 1..4 (at byte %zu)", q.n_dims);
    expect_error(m, len, want);
    FRESH(); put_u32(m + q.type, 77);
    snprintf(want, sizeof want, "m.gguf: tensor 'blk.0.attn_q.weight': unknown tensor type 77 (at byte %zu)", q.type);
    expect_error(m, len, want);
    FRESH(); put_u32(m + q.type, 4); /* Q4_2: removed from ggml */
    snprintf(want, sizeof want, "m.gguf: tensor 'blk.0.attn_q.weight': unknown tensor type 4 (at byte %zu)", q.type);
    expect_error(m, len, want);
    FRESH(); put_u32(m + q.type, Q_Q4_K); /* ne[0] = 64 is not a multiple of 256 */
    snprintf(want, sizeof want,
             "m.gguf: tensor 'blk.0.attn_q.weight': ne[0] = 64 is not a multiple of the Q4_K block size 256 (at byte %zu)", q.type);
    expect_error(m, len, want);
    FRESH(); put_u64(m + q.ne0, 0);
    snprintf(want, sizeof want, "m.gguf: tensor 'blk.0.attn_q.weight': ne[0] = 0 out of range (at byte %zu)", q.ne0);
    expect_error(m, len, want);
    FRESH(); put_u64(m + q.ne0, 1ull << 40); put_u64(m + q.ne0 + 8, 1ull << 40);
    snprintf(want, sizeof want, "m.gguf: tensor 'blk.0.attn_q.weight': element count overflows 63 bits (at byte %zu)", q.ne0 + 8);
    expect_error(m, len, want);
    /* a shape with a huge but representable byte size: caught as data out of range */
    FRESH(); put_u64(m + q.ne0 + 8, 1ull << 40);
    g = gguf_open_memory(m, len, "m.gguf", &err);
    assert_null(g);
    assert_non_null(strstr(err.msg, "tensor 'blk.0.attn_q.weight': data ["));
    assert_non_null(strstr(err.msg, "runs past the end of the file"));
    /* misaligned and overlapping offsets */
    uint64_t qoff = get_u64(d + q.offset), koff = get_u64(d + kk.offset);
    FRESH(); put_u64(m + q.offset, qoff + 4);
    snprintf(want, sizeof want,
             "m.gguf: tensor 'blk.0.attn_q.weight': offset %llu is not a multiple of the alignment 32 (at byte %zu)",
             (unsigned long long)qoff + 4, q.offset);
    expect_error(m, len, want);
    FRESH(); put_u64(m + kk.offset, qoff + 32);
    g = gguf_open_memory(m, len, "m.gguf", &err);
    assert_null(g);
    snprintf(want, sizeof want, "m.gguf: tensors 'blk.0.attn_q.weight' [%llu, +%d) and 'blk.0.attn_k.weight' [%llu, +%d) overlap",
             (unsigned long long)qoff, 64 * 64 / 32 * 18, (unsigned long long)qoff + 32, 64 * 32 / 32 * 18);
    if (strncmp(err.msg, want, strlen(want))) fail_msg("got %s\nwant %s...", err.msg, want);
    (void)koff;
    FRESH(); put_u64(m + q.offset, 1ull << 62);
    g = gguf_open_memory(m, len, "m.gguf", &err);
    assert_null(g);
    assert_non_null(strstr(err.msg, "m.gguf: tensor 'blk.0.attn_q.weight': data [4611686018427387904, +2304) runs past the end"));
    /* duplicate tensor name: attn_k -> attn_q (same length) */
    FRESH(); memcpy(m + kk.n_dims - 13, "attn_q", 6);
    snprintf(want, sizeof want, "m.gguf: duplicate tensor name 'blk.0.attn_q.weight' (at byte %zu)",
             (q.n_dims > kk.n_dims ? q.n_dims : kk.n_dims) - 19 - 8);
    expect_error(m, len, want);
    /* absurd counts in the header */
    FRESH(); put_u64(m + 8, 1ull << 40);
    snprintf(want, sizeof want, "m.gguf: tensor count %llu is impossible for a file of %zu bytes (at byte 8)", 1ull << 40, len);
    expect_error(m, len, want);
    FRESH(); put_u64(m + 16, ~0ull);
    snprintf(want, sizeof want, "m.gguf: metadata count %llu is impossible for a file of %zu bytes (at byte 16)", ~0ull, len);
    expect_error(m, len, want);
    free(m);
    free(d);
#undef FRESH
}

static void hostile_alignment_and_nesting(void **state) {
    (void)state;
    Buf f = build_all_types();
    /* general.alignment is the last kv: u32 value right before the tensor infos */
    size_t at = after_string((uint8_t *)f.data, f.len, "general.alignment") + 4;
    char want[256];
    put_u32((uint8_t *)f.data + at, 48);
    snprintf(want, sizeof want, "m.gguf: general.alignment 48 is not a power of two (1..2^30) (at byte %zu)", at);
    expect_error((uint8_t *)f.data, f.len, want);
    put_u32((uint8_t *)f.data + at, 0);
    snprintf(want, sizeof want, "m.gguf: general.alignment 0 is not a power of two (1..2^30) (at byte %zu)", at);
    expect_error((uint8_t *)f.data, f.len, want);
    put_u32((uint8_t *)f.data + at - 4, GGUF_FLOAT32);
    snprintf(want, sizeof want, "m.gguf: general.alignment has type f32, not an integer (at byte %zu)", at);
    expect_error((uint8_t *)f.data, f.len, want);
    buf_free(&f);

    /* 40 levels of arrays of arrays: rejected at depth 17, no deep recursion */
    W w = {{0}};
    buf_append(&w.b, "GGUF", 4);
    w_u32(&w, 3); w_u64(&w, 0); w_u64(&w, 1);
    w_key(&w, "deep", GGUF_ARRAY);
    for (int i = 0; i < 40; i++) { w_u32(&w, GGUF_ARRAY); w_u64(&w, 1); }
    w_u32(&w, GGUF_UINT8); w_u64(&w, 0);
    expect_error((uint8_t *)w.b.data, w.b.len,
                 "m.gguf: the value of key 'deep': arrays nested deeper than 16 (at byte 232)");
    buf_clear(&w.b);
    /* empty key and a key with a NUL */
    buf_append(&w.b, "GGUF", 4);
    w_u32(&w, 3); w_u64(&w, 0); w_u64(&w, 2);
    w_key(&w, "ok", GGUF_UINT8); w_u8(&w, 1);
    w_key(&w, "", GGUF_UINT8); w_u8(&w, 1);
    expect_error((uint8_t *)w.b.data, w.b.len, "m.gguf: key #1 is empty (at byte 39)");
    buf_clear(&w.b);
    buf_append(&w.b, "GGUF", 4);
    w_u32(&w, 3); w_u64(&w, 0); w_u64(&w, 1);
    w_u64(&w, 3); buf_append(&w.b, "a\0b", 3); w_u32(&w, GGUF_UINT8); w_u8(&w, 1);
    expect_error((uint8_t *)w.b.data, w.b.len, "m.gguf: key 'a\\x00b' contains a NUL byte (at byte 24)");
    /* a zero-tensor file needs no data section */
    buf_clear(&w.b);
    buf_append(&w.b, "GGUF", 4);
    w_u32(&w, 2); w_u64(&w, 0); w_u64(&w, 1);
    w_key(&w, "x", GGUF_STRING); w_str(&w, "");
    Err err;
    Gguf *g = gguf_open_memory(w.b.data, w.b.len, "m.gguf", &err);
    assert_non_null(g);
    assert_int_equal(gguf_version(g), 2);
    assert_string_equal(fmt_kv(g, "x"), "\"\"");
    gguf_close(g);
    buf_free(&w.b);
}

static void open_errors_name_the_file(void **state) {
    (void)state;
    Err err;
    assert_null(gguf_open("/nonexistent/m.gguf", &err));
    assert_string_equal(err.msg, "/nonexistent/m.gguf: No such file or directory");
    char path[] = "/tmp/coldtok-gguf-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    assert_null(gguf_open(path, &err));
    char want[128];
    snprintf(want, sizeof want, "%s: not a GGUF file (only 0 bytes) (at byte 0)", path);
    assert_string_equal(err.msg, want);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stories260k_f32_facts),
        cmocka_unit_test(stories260k_types),
        cmocka_unit_test(synth_llama_all_types),
        cmocka_unit_test(synth_qwen2_facts),
        cmocka_unit_test(vocab_files),
        cmocka_unit_test(every_value_type),
        cmocka_unit_test(truncated_everywhere),
        cmocka_unit_test(hostile_mutations),
        cmocka_unit_test(hostile_alignment_and_nesting),
        cmocka_unit_test(open_errors_name_the_file),
    };
    return cmocka_run_group_tests_name("gguf", tests, NULL, NULL);
}
