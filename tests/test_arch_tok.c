/* Tests of the tokenizer parts issue 12's families need, on hand-made files (no npm, no oracle):
 *   - tokconv names each family's pre-tokenizer as llama.cpp's converter does (starcoder for
 *     StarCoder2, deepseek-llm for DeepSeek-V2, deepseek-coder, deepseek-v3, llama-bpe / dbrx by
 *     ignore_merges, gpt-2, qwen2), reading CR/LF in a regex written either way, and falls back to
 *     "default" with a note for what llama.cpp could not reproduce (a prefix space, a Removed split);
 *     a Gemma-style SentencePiece BPE (Replace " " -> "▁", no Prepend) gets add_space_prefix false;
 *   - a GGUF's token types are changed by text as llama.cpp's loader does: "</s>" and FIM texts
 *     become control (FIM only without an id key of that kind), "<|channel|>" user-defined, and the
 *     exceptions next to "<|tool_response>".
 * The real tokenizers are checked against @lenml/tokenizers and llama.cpp in
 * tests/test_tokenizer_reference.c. */
#include <string.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/gguf_write.h"
#include "tests/testutil.h"
#include "tokenizer/tok_regex.h"
#include "tokenizer/tokconv.h"
#include "tokenizer/tokenizer.h"

static char tmpdir[] = "/tmp/coldtok-test-arch-tok.XXXXXX";

/* ---- tokconv: the pre name ---- */

static json_t *split(const char *regex, const char *behavior) {
    return json_pack("{s:s, s:{s:s}, s:s, s:b}", "type", "Split", "pattern", "Regex", regex, "behavior",
                     behavior, "invert", 0);
}

static json_t *byte_level(int add_prefix_space, int use_regex) {
    return json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", add_prefix_space,
                     "trim_offsets", 1, "use_regex", use_regex);
}

static json_t *digits(void) { return json_pack("{s:s, s:b}", "type", "Digits", "individual_digits", 1); }

/* A byte-level BPE tokenizer.json with the given pre-tokenizer steps (a Sequence; the array is
 * stolen), written to tmpdir/NAME; returns its path (static). */
static const char *write_bytelevel(const char *name, json_t *steps, int ignore_merges) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    json_t *root = json_pack(
        "{s:[], s:n, s:{s:s, s:o}, s:{s:s, s:b, s:b, s:b}, s:{s:s, s:b, s:{s:i, s:i, s:i}, s:[s]}}",
        "added_tokens", "normalizer", "pre_tokenizer", "type", "Sequence", "pretokenizers", steps,
        "decoder", "type", "ByteLevel", "add_prefix_space", 0, "trim_offsets", 1, "use_regex", 1,
        "model", "type", "BPE", "ignore_merges", ignore_merges, "vocab", "a", 0, "b", 1, "ab", 2,
        "merges", "a b");
    assert_non_null(root);
    assert_int_equal(json_dump_file(root, path, 0), 0);
    json_decref(root);
    return path;
}

/* The string value of KEY in tokconv's output ("" when absent; static). */
static const char *kv_string(const char *path, const char *key, char **note) {
    static char out[256];
    Err err;
    TokConvKv *kvs = NULL;
    *note = NULL;
    int n = tokconv_from_json(path, 0, &kvs, note, &err);
    if (n <= 0) fail_msg("%s", n < 0 ? err.msg : "no keys");
    out[0] = 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(kvs[i].key, key)) {
            uint64_t len;
            memcpy(&len, kvs[i].val.data, 8);
            snprintf(out, sizeof out, "%.*s", (int)len, kvs[i].val.data + 8);
        }
    tokconv_free(kvs, n);
    return out;
}

static void expect_pre(const char *name, json_t *steps, int ignore_merges, const char *want, int noted) {
    char *note;
    const char *got = kv_string(write_bytelevel(name, steps, ignore_merges), "tokenizer.ggml.pre", &note);
    if (strcmp(got, want)) fail_msg("%s: pre '%s', expected '%s'", name, got, want);
    if (noted != (note != NULL)) fail_msg("%s: note %s", name, note ? note : "(none)");
    free(note);
}

static void tokconv_names_the_families(void **state) {
    (void)state;
    /* StarCoder2: digits one by one, then GPT-2's regex */
    expect_pre("starcoder2.json", json_pack("[o, o]", digits(), byte_level(0, 1)), 0, "starcoder", 0);
    /* DeepSeek-V2 / DeepSeek LLM, its [\r\n] written with control characters ... */
    json_t *ds = json_pack("[o, o, o, o, o, o, o]", split("[\r\n]", "Isolated"),
                           split(TOK_RE_DEEPSEEK_LLM_LETTERS, "Isolated"),
                           split(TOK_RE_DEEPSEEK_LLM_PUNCT, "Isolated"), split("\\s+$", "Isolated"),
                           split(TOK_RE_CJK, "Isolated"), digits(), byte_level(0, 0));
    expect_pre("deepseek-v2.json", ds, 0, "deepseek-llm", 0);
    /* ... and with escapes */
    ds = json_pack("[o, o, o, o, o, o, o]", split("[\\r\\n]", "Isolated"),
                   split(TOK_RE_DEEPSEEK_LLM_LETTERS, "Isolated"), split(TOK_RE_DEEPSEEK_LLM_PUNCT, "Isolated"),
                   split("\\s+$", "Isolated"), split(TOK_RE_CJK, "Isolated"), digits(), byte_level(0, 0));
    expect_pre("deepseek-v2-esc.json", ds, 0, "deepseek-llm", 0);
    expect_pre("deepseek-coder.json",
               json_pack("[o, o, o, o, o, o]", split("[\r\n]", "Isolated"), split("\\s?\\p{L}+", "Isolated"),
                         split("\\s?\\p{P}+", "Isolated"), split(TOK_RE_CJK, "Isolated"), digits(),
                         byte_level(0, 0)),
               0, "deepseek-coder", 0);
    expect_pre("deepseek-v3.json",
               json_pack("[o, o, o, o]", split("\\p{N}{1,3}", "Isolated"), split(TOK_RE_DEEPSEEK_V3_CJK, "Isolated"),
                         split(TOK_RE_DEEPSEEK_V3, "Isolated"), byte_level(0, 0)),
               0, "deepseek-v3", 0);
    expect_pre("llama3.json", json_pack("[o, o]", split(TOK_RE_LLAMA3, "Isolated"), byte_level(0, 0)), 1,
               "llama-bpe", 0);
    expect_pre("dbrx.json", json_pack("[o, o]", split(TOK_RE_LLAMA3, "Isolated"), byte_level(0, 0)), 0, "dbrx",
               0);
    expect_pre("qwen2.json", json_pack("[o, o]", split(TOK_RE_QWEN2, "Isolated"), byte_level(0, 0)), 0, "qwen2",
               0);
    expect_pre("gpt2.json", json_pack("[o]", byte_level(0, 1)), 0, "gpt-2", 0);
    /* what llama.cpp could not reproduce: a prefix space, a Removed split, digits not on their own */
    expect_pre("prefix.json", json_pack("[o, o]", digits(), byte_level(1, 1)), 0, "default", 1);
    expect_pre("removed.json", json_pack("[o, o]", split(TOK_RE_QWEN2, "Removed"), byte_level(0, 0)), 0,
               "default", 1);
    expect_pre("digits-last.json", json_pack("[o, o]", byte_level(0, 1), digits()), 0, "default", 1);
}

/* Gemma: BPE with byte fallback, Replace " " -> "▁" and no Prepend: no space prefix. */
static void tokconv_gemma_has_no_space_prefix(void **state) {
    (void)state;
    for (int prepend = 0; prepend < 2; prepend++) {
        char path[512];
        snprintf(path, sizeof path, "%s/spm%d.json", tmpdir, prepend);
        json_t *norm = json_pack("{s:s, s:{s:s}, s:s}", "type", "Replace", "pattern", "String", " ", "content",
                                 "\xE2\x96\x81");
        if (prepend)
            norm = json_pack("{s:s, s:[{s:s, s:s}, o]}", "type", "Sequence", "normalizers", "type", "Prepend",
                             "prepend", "\xE2\x96\x81", norm);
        json_t *root = json_pack("{s:[], s:o, s:n, s:n, s:{s:s, s:b, s:s, s:{s:i, s:i, s:i}, s:[]}}",
                                 "added_tokens", "normalizer", norm, "pre_tokenizer", "decoder", "model", "type",
                                 "BPE", "byte_fallback", 1, "unk_token", "<unk>", "vocab", "<unk>", 0,
                                 "\xE2\x96\x81", 1, "a", 2, "merges");
        assert_non_null(root);
        assert_int_equal(json_dump_file(root, path, 0), 0);
        json_decref(root);
        Err err;
        TokConvKv *kvs = NULL;
        char *note = NULL;
        int n = tokconv_from_json(path, 0, &kvs, &note, &err);
        assert_true(n > 0);
        int found = 0;
        for (int i = 0; i < n; i++) {
            if (!strcmp(kvs[i].key, "tokenizer.ggml.model")) assert_memory_equal(kvs[i].val.data + 8, "llama", 5);
            if (!strcmp(kvs[i].key, "tokenizer.ggml.add_space_prefix")) {
                found = 1;
                assert_int_equal(kvs[i].val.data[0], prepend);
            }
        }
        assert_true(found);
        tokconv_free(kvs, n);
        free(note);
    }
}

/* ---- a GGUF's token types, as llama.cpp's loader changes them ---- */

enum { N_TOK = 9 + 256 };

/* A SentencePiece vocabulary: pieces, then 256 byte tokens. extra_key/extra_text: one more
 * tokenizer.ggml.* id key and the last piece's text (NULL: "<i>"). */
static const char *write_vocab(const char *name, const char *extra_key, const char *last) {
    static char path[512];
    const char *pieces[9] = {"<unk>", "<s>", "</s>", "<|fim_prefix|>", "<fim_suffix>", "<|channel|>", "<b>", "a",
                             last ? last : "<i>"};
    static const int32_t piece_type[9] = {2, 3, 4, 4, 4, 3, 4, 1, 4};
    const char *tokens[N_TOK];
    char names[256][8];
    float scores[N_TOK] = {0};
    int32_t types[N_TOK];
    for (int i = 0; i < 9; i++) tokens[i] = pieces[i], types[i] = piece_type[i];
    for (int b = 0; b < 256; b++) {
        snprintf(names[b], sizeof names[b], "<0x%02X>", b);
        tokens[9 + b] = names[b], types[9 + b] = 6;
    }
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    GgufWriter *w = gw_new();
    gw_kv_str(w, "tokenizer.ggml.model", "llama");
    gw_kv_arr_str(w, "tokenizer.ggml.tokens", tokens, N_TOK);
    gw_kv_arr_f32(w, "tokenizer.ggml.scores", scores, N_TOK);
    gw_kv_arr_i32(w, "tokenizer.ggml.token_type", types, N_TOK);
    gw_kv_bool(w, "tokenizer.ggml.add_space_prefix", 0);
    if (extra_key) gw_kv_u32(w, extra_key, 3);
    Err err;
    if (gw_begin(w, path, &err) || gw_end(w, &err)) fail_msg("%s", err.msg);
    gw_free(w);
    return path;
}

#define B(c) (9 + (c))

static void expect_ids(const Tokenizer *t, const char *text, unsigned flags, const int *want, size_t n) {
    IntVec got = {0};
    Err err;
    if (tok_encode(t, text, strlen(text), flags, &got, &err)) fail_msg("%s", err.msg);
    int same = got.n == n && memcmp(got.v, want, n * sizeof *want) == 0;
    if (!same) {
        printf("# \"%s\": got", text);
        for (size_t i = 0; i < got.n; i++) printf(" %d", got.v[i]);
        printf("\n");
    }
    intvec_free(&got);
    assert_true(same);
}

static void gguf_types_as_llamacpp(void **state) {
    (void)state;
    Err err;
    Tokenizer *t = tok_load(write_vocab("plain.gguf", NULL, NULL), &err);
    if (!t) fail_msg("%s", err.msg);
    assert_true(tok_flags(t, 2) & TOK_SPECIAL);    /* </s>: an end-of-generation text */
    assert_true(tok_flags(t, 3) & TOK_SPECIAL);    /* <|fim_prefix|>: no fim_pre id key */
    assert_true(tok_flags(t, 4) & TOK_SPECIAL);    /* <fim_suffix> */
    assert_false(tok_flags(t, 5) & TOK_SPECIAL);   /* <|channel|>: user-defined, whatever the file says */
    assert_true(tok_flags(t, 5) & TOK_ADDED);
    assert_false(tok_flags(t, 6) & TOK_SPECIAL);   /* <b> stays user-defined */
    /* parse_special off: control texts spelled out, user-defined ones matched */
    expect_ids(t, "a</s>", TOK_ENC_NO_SPECIAL, (int[]){7, B('<'), B('/'), B('s'), B('>')}, 5);
    expect_ids(t, "a</s>", 0, (int[]){7, 2}, 2);
    expect_ids(t, "<b>a<|channel|>", TOK_ENC_NO_SPECIAL, (int[]){6, 7, 5}, 3);
    tok_free(t);

    /* a GGUF that names the FIM prefix id: no guess for that kind, the suffix kind still guessed */
    t = tok_load(write_vocab("named.gguf", "tokenizer.ggml.fim_pre_token_id", NULL), &err);
    if (!t) fail_msg("%s", err.msg);
    assert_false(tok_flags(t, 3) & TOK_SPECIAL);
    assert_true(tok_flags(t, 4) & TOK_SPECIAL);
    tok_free(t);
    t = tok_load(write_vocab("named-old.gguf", "tokenizer.ggml.prefix_token_id", NULL), &err);
    if (!t) fail_msg("%s", err.msg);
    assert_false(tok_flags(t, 3) & TOK_SPECIAL);
    tok_free(t);

    /* next to <|tool_response>, "</s>" is a normal token (Gemma 4, PaddleOCR) */
    t = tok_load(write_vocab("tool.gguf", NULL, "<|tool_response>"), &err);
    if (!t) fail_msg("%s", err.msg);
    assert_int_equal(tok_flags(t, 2), 0);
    assert_true(tok_flags(t, 8) & TOK_SPECIAL);
    tok_free(t);
}

static int setup(void **state) {
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tokconv_names_the_families),
        cmocka_unit_test(tokconv_gemma_has_no_space_prefix),
        cmocka_unit_test(gguf_types_as_llamacpp),
    };
    return cmocka_run_group_tests_name("arch_tok", tests, setup, teardown);
}
