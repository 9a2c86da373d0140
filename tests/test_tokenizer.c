/* Tests of tokenizer/: the reference suites (llama.cpp's tokenizer test vectors for four GGUF
 * vocabularies, whose ids Hugging Face tokenizers produced, and the synth-qwen2 vectors llama.cpp
 * produced) must match 100%; small hand-made tokenizer.json and GGUF files pin each rule (merge
 * order, byte fallback, added-token matching, split behaviors, Metaspace, decoders, normalizers)
 * to hand-computed ids; bad files give one clear error line. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "formats/gguf.h"
#include "formats/gguf_write.h"
#include "tests/testutil.h"
#include "tokenizer/tokenizer.h"

/* ---- helpers ---- */

static char tmpdir[64];

static int setup_tmp(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/coldtok-tok-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to tmpdir/name; returns the path (static storage). */
static const char *write_tmp(const char *name, const char *text, size_t len) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

static Tokenizer *load_json(const char *json) {
    Err err;
    const char *p = write_tmp("tokenizer.json", json, strlen(json));
    Tokenizer *t = tok_load(p, &err);
    if (!t) fail_msg("%s", err.msg);
    return t;
}

/* Encodes text and compares with the expected ids (n of them). */
static void expect_ids(const Tokenizer *t, const char *text, unsigned flags, const int *want,
                       size_t n) {
    IntVec ids = {0};
    Err err;
    if (tok_encode(t, text, strlen(text), flags, &ids, &err))
        fail_msg("encode \"%s\": %s", text, err.msg);
    int same = ids.n == n && (n == 0 || !memcmp(ids.v, want, n * sizeof *want));
    if (!same) {
        printf("# \"%s\": got", text);
        for (size_t i = 0; i < ids.n; i++) printf(" %d", ids.v[i]);
        printf(", want");
        for (size_t i = 0; i < n; i++) printf(" %d", want[i]);
        printf("\n");
    }
    intvec_free(&ids);
    assert_true(same);
}
#define EXPECT(t, text, flags, ...)                                                                \
    do {                                                                                           \
        const int want_[] = {__VA_ARGS__};                                                         \
        expect_ids(t, text, flags, want_, sizeof want_ / sizeof *want_);                           \
    } while (0)

static void expect_decode(const Tokenizer *t, const int *ids, size_t n, const char *want) {
    Buf out = {0};
    Err err;
    if (tok_decode(t, ids, n, &out, &err)) fail_msg("decode: %s", err.msg);
    if (strcmp(out.data ? out.data : "", want))
        printf("# decoded \"%s\", want \"%s\"\n", out.data, want);
    assert_string_equal(out.data ? out.data : "", want);
    buf_free(&out);
}
#define EXPECT_DECODE(t, want, ...)                                                                \
    do {                                                                                           \
        const int ids_[] = {__VA_ARGS__};                                                          \
        expect_decode(t, ids_, sizeof ids_ / sizeof *ids_, want);                                  \
    } while (0)

static void expect_load_error(const char *name, const char *text, const char *want_suffix) {
    Err err;
    const char *p = write_tmp(name, text, strlen(text));
    char path[256];
    snprintf(path, sizeof path, "%s", p);
    Tokenizer *t = tok_load(path, &err);
    assert_null(t);
    char want[512];
    snprintf(want, sizeof want, "%s: %s", path, want_suffix);
    if (strncmp(err.msg, want, strlen(want)))
        printf("# error \"%s\", want \"%s...\"\n", err.msg, want);
    assert_true(!strncmp(err.msg, want, strlen(want)));
    assert_null(strchr(err.msg, '\n'));
}

/* ---- the reference suites ---- */

/* llama.cpp's test-tokenizer-0 format: each input followed by "\n__ggml_vocab_test__\n"; the
 * .out file has one line of ids per input. Returns the number of inputs, all of which must match. */
static void vocab_suite(const char *name) {
    char rel[128], gg[4096], inp[4200], outp[4200];
    snprintf(rel, sizeof rel, "vocab/ggml-vocab-%s.gguf", name);
    snprintf(gg, sizeof gg, "%s", NEED_FIXTURE(rel));
    snprintf(inp, sizeof inp, "%s.inp", gg);
    snprintf(outp, sizeof outp, "%s.out", gg);
    Err err;
    Tokenizer *t = tok_load(gg, &err);
    if (!t) fail_msg("%s", err.msg);
    size_t il, ol;
    char *in = read_file(inp, &il, &err), *out = read_file(outp, &ol, &err);
    assert_non_null(in);
    assert_non_null(out);
    static const char SEP[] = "\n__ggml_vocab_test__\n";
    size_t pos = 0, n = 0, ok = 0, roundtrip = 0;
    char *line = out;
    for (;;) {
        char *sep = memmem(in + pos, il - pos, SEP, sizeof SEP - 1);
        if (!sep) break;
        size_t len = (size_t)(sep - (in + pos));
        char *eol = strchr(line, '\n');
        assert_non_null(eol);
        *eol = '\0';
        IntVec want = {0}, got = {0};
        for (char *p = line, *e; *p; p = e) {
            long v = strtol(p, &e, 10);
            if (e == p) break;
            intvec_push(&want, (int)v);
        }
        if (tok_encode(t, in + pos, len, 0, &got, &err))
            fail_msg("%s case %zu: %s", name, n, err.msg);
        if (got.n == want.n && (!got.n || !memcmp(got.v, want.v, got.n * sizeof *got.v)))
            ok++;
        else
            printf("# %s case %zu differs\n", name, n);
        Buf dec = {0};
        if (tok_decode(t, got.v, got.n, &dec, &err)) fail_msg("%s", err.msg);
        if (dec.len == len && !memcmp(dec.data ? dec.data : "", in + pos, len)) roundtrip++;
        buf_free(&dec);
        intvec_free(&want);
        intvec_free(&got);
        n++;
        pos = (size_t)(sep - in) + sizeof SEP - 1;
        line = eol + 1;
    }
    printf("# %s: %zu/%zu identical to the reference ids, %zu/%zu decode back to the input\n", name,
           ok, n, roundtrip, n);
    assert_true(n >= 40); /* the suites have 46 inputs; a parse error would show as fewer */
    assert_int_equal(ok, n);
    assert_int_equal(roundtrip, n);
    free(in);
    free(out);
    tok_free(t);
}

static void vocab_starcoder(void **state) {
    (void)state;
    vocab_suite("starcoder");
}
static void vocab_deepseek_coder(void **state) {
    (void)state;
    vocab_suite("deepseek-coder");
}
static void vocab_gpt2(void **state) {
    (void)state;
    vocab_suite("gpt-2");
}
static void vocab_llama_spm(void **state) {
    (void)state;
    vocab_suite("llama-spm");
}

/* synth-qwen2: the tokenizer embedded in a GGUF model; ids from llama.cpp with parse_special. */
static void synth_qwen2_suite(void **state) {
    (void)state;
    char gg[4096], jl[4096];
    snprintf(gg, sizeof gg, "%s", NEED_FIXTURE("models/synth-qwen2/synth-qwen2-F32.gguf"));
    snprintf(jl, sizeof jl, "%s", NEED_FIXTURE("models/synth-qwen2/tokenizer-tests.jsonl"));
    Err err;
    Tokenizer *t = tok_load(gg, &err);
    if (!t) fail_msg("%s", err.msg);
    assert_int_equal(tok_vocab_size(t), 512);
    assert_int_equal(tok_bos(t), 509);
    assert_string_equal(tok_pretokenizer(t), "gguf pre=qwen2");
    size_t len;
    char *all = read_file(jl, &len, &err);
    assert_non_null(all);
    size_t n = 0, ok = 0;
    for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *o = json_loads(line, JSON_ALLOW_NUL, &je);
        assert_non_null(o);
        json_t *text = json_object_get(o, "text"), *ids = json_object_get(o, "ids");
        IntVec got = {0};
        if (tok_encode(t, json_string_value(text), json_string_length(text), 0, &got, &err))
            fail_msg("%s", err.msg);
        int same = got.n == json_array_size(ids);
        for (size_t i = 0; same && i < got.n; i++)
            same = got.v[i] == json_integer_value(json_array_get(ids, i));
        if (same)
            ok++;
        else
            printf("# synth-qwen2 line %zu differs\n", n + 1);
        intvec_free(&got);
        json_decref(o);
        n++;
    }
    printf("# synth-qwen2: %zu/%zu identical to llama.cpp's ids\n", ok, n);
    assert_true(n >= 10);
    assert_int_equal(ok, n);
    free(all);
    tok_free(t);
}

/* What tok_bytes / tok_id_of_bytes / flags report, checked on real vocabularies. */
static void token_table_on_fixtures(void **state) {
    (void)state;
    char gg[4096];
    Err err;
    snprintf(gg, sizeof gg, "%s", NEED_FIXTURE("vocab/ggml-vocab-llama-spm.gguf"));
    Tokenizer *t = tok_load(gg, &err);
    if (!t) fail_msg("%s", err.msg);
    assert_string_equal(tok_kind(t), "SentencePiece (scores)");
    int nl = tok_id_of_piece(t, "<0x0A>", 6), a_byte = tok_id_of_piece(t, "<0x41>", 6);
    int a = tok_id_of_piece(t, "A", 1),
        def = tok_id_of_piece(t,
                              "\xE2\x96\x81"
                              "def",
                              6);
    assert_true(nl >= 0 && a_byte >= 0 && a >= 0 && def >= 0);
    size_t n;
    const char *b = tok_bytes(t, nl, &n);
    assert_int_equal(n, 1);
    assert_int_equal(b[0], '\n');
    assert_string_equal(tok_bytes(t, def, NULL), " def");
    assert_true(tok_flags(t, a_byte) & TOK_BYTE);
    assert_int_equal(tok_id_of_bytes(t, "A", 1), a);   /* the normal token wins over <0x41> */
    assert_int_equal(tok_id_of_bytes(t, "\n", 1), nl); /* only a byte token has it */
    assert_int_equal(tok_id_of_bytes(t, " def", 4), def);
    assert_true(tok_flags(t, tok_bos(t)) & TOK_SPECIAL);
    assert_string_equal(tok_bytes(t, tok_bos(t), NULL), "<s>");
    assert_true(tok_flags(t, 0) & TOK_UNKNOWN);
    assert_int_equal(tok_id_of_bytes(t, "<s>", 3), -1); /* special tokens are not text */
    tok_free(t);

    snprintf(gg, sizeof gg, "%s", NEED_FIXTURE("vocab/ggml-vocab-gpt-2.gguf"));
    t = tok_load(gg, &err);
    if (!t) fail_msg("%s", err.msg);
    assert_string_equal(tok_kind(t), "BPE (byte-level)");
    int the = tok_id_of_piece(t, "\xC4\xA0the", 5); /* "Ġthe" */
    assert_int_equal(the, 262);                     /* GPT-2's well-known id of " the" */
    assert_string_equal(tok_bytes(t, the, NULL), " the");
    assert_int_equal(tok_id_of_bytes(t, " the", 4), the);
    assert_int_equal(tok_id_of_bytes(t, "\n", 1), 198);
    assert_int_equal(tok_vocab_size(t), 50257);
    assert_int_equal(tok_eos(t), 50256);
    tok_free(t);
}

/* Encoding from several threads at once over one Tokenizer gives the single-thread ids. */
typedef struct {
    const Tokenizer *t;
    const char *text;
    IntVec ids;
    int rc;
} Job;

static void *encode_job(void *p) {
    Job *j = p;
    Err err;
    for (int r = 0; r < 20 && !j->rc; r++) {
        j->ids.n = 0;
        j->rc = tok_encode(j->t, j->text, strlen(j->text), 0, &j->ids, &err);
    }
    return NULL;
}

static void shared_between_threads(void **state) {
    (void)state;
    char gg[4096];
    snprintf(gg, sizeof gg, "%s", NEED_FIXTURE("vocab/ggml-vocab-deepseek-coder.gguf"));
    Err err;
    Tokenizer *t = tok_load(gg, &err);
    if (!t) fail_msg("%s", err.msg);
    Buf text = {0};
    for (int i = 0; i < 60; i++)
        buf_printf(&text, "def f%d(x):\n    return x * %d  # caf\xC3\xA9\n", i, i * 7);
    IntVec ref = {0};
    assert_int_equal(tok_encode(t, text.data, text.len, 0, &ref, &err), 0);
    Job jobs[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        jobs[i] = (Job){t, text.data, {0}, 0};
        pthread_create(&th[i], NULL, encode_job, &jobs[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].rc, 0);
        assert_int_equal(jobs[i].ids.n, ref.n);
        assert_memory_equal(jobs[i].ids.v, ref.v, ref.n * sizeof *ref.v);
        intvec_free(&jobs[i].ids);
    }
    intvec_free(&ref);
    buf_free(&text);
    tok_free(t);
}

/* ---- hand-made tokenizer.json files ---- */

/* Merges apply lowest rank first, leftmost first on equal ranks. */
static void bpe_merge_order(void **state) {
    (void)state;
    Tokenizer *t = load_json(
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"c\": 2, \"ab\": 3, "
        "\"bc\": 4,"
        " \"abc\": 5, \"aa\": 6}, \"merges\": [\"b c\", \"a b\", [\"a\", \"bc\"], \"a a\"]}}");
    EXPECT(t, "abc", 0, 5);    /* b+c (rank 0) first, then a+bc (rank 2); a+b (rank 1) never */
    EXPECT(t, "aaa", 0, 6, 0); /* equal ranks: the leftmost pair */
    EXPECT(t, "abab", 0, 3, 3);
    EXPECT(t, "cab", 0, 2, 3);
    expect_ids(t, "", 0, NULL, 0);
    assert_int_equal(tok_vocab_size(t), 7);
    assert_string_equal(tok_kind(t), "BPE");
    tok_free(t);
}

/* Characters outside the vocabulary: <0xNN> byte tokens, else the unk token (fused or not). */
static void byte_fallback_and_unk(void **state) {
    (void)state;
    const char *fmt =
        "{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"fuse_unk\": %s, \"unk_token\": "
        "\"<unk>\","
        " \"vocab\": {\"<unk>\": 0, \"<0xC3>\": 1, \"<0xA9>\": 2, \"a\": 3}, \"merges\": []}}";
    char json[512];
    snprintf(json, sizeof json, fmt, "false");
    Tokenizer *t = load_json(json);
    EXPECT(t, "a\xC3\xA9", 0, 3, 1, 2); /* é = C3 A9: both byte tokens exist */
    EXPECT(t,
           "\xE2\x82\xAC\xE2\x82\xAC"
           "a",
           0, 0, 0, 3); /* € (E2 82 AC): no byte tokens: unk, unk */
    assert_true(tok_flags(t, 1) & TOK_BYTE);
    assert_true(tok_flags(t, 0) & TOK_UNKNOWN);
    assert_int_equal(tok_bytes(t, 1, NULL)[0], (char)0xC3);
    tok_free(t);
    snprintf(json, sizeof json, fmt, "true");
    t = load_json(json);
    EXPECT(t,
           "\xE2\x82\xAC\xE2\x82\xAC"
           "a",
           0, 0, 3); /* fused into one unk */
    tok_free(t);
}

static const char ADDED_JSON[] =
    "{\"added_tokens\": ["
    "{\"id\": 9, \"content\": \"<s>\", \"special\": true, \"normalized\": false},"
    "{\"id\": 10, \"content\": \"<s>x\", \"special\": true, \"normalized\": false},"
    "{\"id\": 11, \"content\": \"[M]\", \"special\": true, \"normalized\": false, \"lstrip\": "
    "true, \"rstrip\": true},"
    "{\"id\": 12, \"content\": \"xx\", \"special\": false, \"normalized\": false, \"single_word\": "
    "true},"
    "{\"id\": 13, \"content\": \"HI\", \"special\": false, \"normalized\": true}],"
    " \"normalizer\": {\"type\": \"Lowercase\"},"
    " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \" \": 2, \"x\": 3, \"<\": 4, "
    "\"s\": 5,"
    " \">\": 6, \"h\": 7, \"i\": 8}, \"merges\": []}}";

/* Added tokens: leftmost-longest, lstrip/rstrip, single_word, normalized ones matched after the
 * normalizer, special ones as text under TOK_ENC_NO_SPECIAL. */
static void added_tokens(void **state) {
    (void)state;
    Tokenizer *t = load_json(ADDED_JSON);
    EXPECT(t, "a<s>b", 0, 0, 9, 1);
    EXPECT(t, "<s>xa", 0, 10, 0); /* the longest token at the leftmost position */
    EXPECT(t, "a<s>b", TOK_ENC_NO_SPECIAL, 0, 4, 5, 6, 1);
    EXPECT(t, "a  [M]  b", 0, 0, 11, 1); /* lstrip and rstrip take the spaces */
    EXPECT(t, "xx a", 0, 12, 2, 0);
    EXPECT(t, "axx", 0, 0, 3, 3);            /* not a single word */
    EXPECT(t, "xx", TOK_ENC_NO_SPECIAL, 12); /* not special: still matched */
    EXPECT(t, "aHI", 0, 0, 13);              /* normalized token, matched after lowercasing */
    EXPECT(t, "Ahi", 0, 0, 13);
    assert_true(tok_flags(t, 9) & TOK_SPECIAL);
    assert_true((tok_flags(t, 12) & (TOK_ADDED | TOK_SPECIAL)) == TOK_ADDED);
    assert_int_equal(tok_id_of_piece(t, "<s>x", 4), 10);
    assert_int_equal(tok_id_of_bytes(t, "xx", 2), 12);
    assert_int_equal(tok_id_of_bytes(t, "<s>", 3), -1);
    tok_free(t);
}

/* The five Split behaviors and invert, on "a--b" (ignore_merges maps whole pieces to ids). */
static void split_behaviors(void **state) {
    (void)state;
    static const struct {
        const char *pattern, *behavior, *invert;
        int want[4];
        size_t n;
    } cases[] = {
        {"{\"String\": \"-\"}", "Removed", "false", {0, 1}, 2},
        {"{\"String\": \"-\"}", "Isolated", "false", {0, 2, 2, 1}, 4},
        {"{\"String\": \"-\"}", "MergedWithPrevious", "false", {3, 2, 1}, 3},
        {"{\"String\": \"-\"}", "MergedWithNext", "false", {0, 2, 4}, 3},
        {"{\"String\": \"-\"}", "Contiguous", "false", {0, 5, 1}, 3},
        {"{\"String\": \"-\"}", "Removed", "true", {2, 2}, 2},
        {"{\"Regex\": \"-+\"}", "Isolated", "false", {0, 5, 1}, 3},
        {"{\"Regex\": \"(?<=a)-\"}", "Isolated", "false", {0, 2, 4}, 3}, /* lookbehind */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char json[1024];
        snprintf(json, sizeof json,
                 "{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": "
                 "\"Split\", \"pattern\": %s,"
                 " \"behavior\": \"%s\", \"invert\": %s}]}, \"model\": {\"type\": \"BPE\", "
                 "\"ignore_merges\": true,"
                 " \"vocab\": {\"a\": 0, \"b\": 1, \"-\": 2, \"a-\": 3, \"-b\": 4, \"--\": 5, "
                 "\"a--\": 6,"
                 " \"--b\": 7}, \"merges\": []}}",
                 cases[i].pattern, cases[i].behavior, cases[i].invert);
        Tokenizer *t = load_json(json);
        printf("# Split %s %s invert=%s\n", cases[i].pattern, cases[i].behavior, cases[i].invert);
        expect_ids(t, "a--b", 0, cases[i].want, cases[i].n);
        tok_free(t);
    }
}

/* Metaspace: spaces become ▁, the prefix per prepend_scheme (first: only at the start of the
 * text), MergedWithNext split; TOK_ENC_NO_PREFIX drops the prefix. */
static void metaspace(void **state) {
    (void)state;
    static const char *schemes[] = {"first", "always", "never"};
    for (int s = 0; s < 3; s++) {
        char json[1024];
        snprintf(json, sizeof json,
                 "{\"added_tokens\": [{\"id\": 5, \"content\": \"<s>\", \"special\": true, "
                 "\"normalized\": false}],"
                 " \"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"\xE2\x96\x81\", "
                 "\"prepend_scheme\": \"%s\","
                 " \"split\": true}, \"model\": {\"type\": \"BPE\", \"ignore_merges\": true, "
                 "\"vocab\": {\"\xE2\x96\x81"
                 "a\": 0,"
                 " \"\xE2\x96\x81"
                 "b\": 1, \"a\": 2, \"b\": 3, \"\xE2\x96\x81\": 4}, \"merges\": []},"
                 " \"decoder\": {\"type\": \"Metaspace\", \"replacement\": \"\xE2\x96\x81\", "
                 "\"prepend_scheme\": \"%s\"}}",
                 schemes[s], schemes[s]);
        Tokenizer *t = load_json(json);
        printf("# Metaspace prepend_scheme %s\n", schemes[s]);
        if (s == 0) {
            EXPECT(t, "a b", 0, 0, 1);
            EXPECT(t, "a<s>b", 0, 0, 5, 3);
            EXPECT(t, "a b", TOK_ENC_NO_PREFIX, 2, 1);
            EXPECT_DECODE(t, "a b", 0, 1);
        } else if (s == 1) {
            EXPECT(t, "a<s>b", 0, 0, 5, 1);
        } else {
            EXPECT(t, "a b", 0, 2, 1);
            EXPECT_DECODE(t, " a b", 0, 1);
        }
        tok_free(t);
    }
}

/* Normalizers: NFC/NFD/NFKC, Replace with a regex, Prepend, Strip. */
static void normalizers(void **state) {
    (void)state;
    const char *fmt =
        "{\"normalizer\": %s, \"model\": {\"type\": \"BPE\", \"vocab\": {\"\xC3\xA9\": 0, \"e\": 1,"
        " \"\xCC\x81\": 2, \"f\": 3, \"i\": 4, \" \": 5, \"_\": 6, \"x\": 7}, \"merges\": []}}";
    char json[1024];
    snprintf(json, sizeof json, fmt, "{\"type\": \"NFC\"}");
    Tokenizer *t = load_json(json);
    EXPECT(t, "e\xCC\x81x", 0, 0, 7); /* e + combining acute -> é */
    EXPECT(t, "x\xC3\xA9", 0, 7, 0);
    tok_free(t);
    snprintf(json, sizeof json, fmt, "{\"type\": \"NFD\"}");
    t = load_json(json);
    EXPECT(t, "\xC3\xA9", 0, 1, 2);
    tok_free(t);
    snprintf(json, sizeof json, fmt, "{\"type\": \"NFKC\"}");
    t = load_json(json);
    EXPECT(t, "\xEF\xAC\x81", 0, 3, 4); /* the ligature ﬁ -> f i */
    tok_free(t);
    snprintf(json, sizeof json, fmt,
             "{\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Strip\", \"strip_left\": "
             "true, \"strip_right\": true},"
             " {\"type\": \"Replace\", \"pattern\": {\"Regex\": \"\\\\s+\"}, \"content\": \"_\"},"
             " {\"type\": \"Prepend\", \"prepend\": \"x\"}]}");
    t = load_json(json);
    EXPECT(t, "  f \t i  ", 0, 7, 3, 6, 4);
    EXPECT(t, "f i", TOK_ENC_NO_PREFIX, 3, 6, 4);
    tok_free(t);
}

/* Decoders: the Llama-2 chain (Replace, ByteFallback, Fuse, Strip) and ByteLevel. */
static void decoders(void **state) {
    (void)state;
    Tokenizer *t = load_json(
        "{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"vocab\": {\"\xE2\x96\x81"
        "a\": 0, \"<0xC3>\": 1,"
        " \"<0xA9>\": 2, \"\xE2\x96\x81"
        "b\": 3, \"c\": 4}, \"merges\": []},"
        " \"decoder\": {\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Replace\", "
        "\"pattern\": {\"String\": \"\xE2\x96\x81\"},"
        " \"content\": \" \"}, {\"type\": \"ByteFallback\"}, {\"type\": \"Fuse\"}, {\"type\": "
        "\"Strip\", \"content\": \" \","
        " \"start\": 1, \"stop\": 0}]}}");
    EXPECT_DECODE(t, "a\xC3\xA9 b", 0, 1, 2, 3);
    EXPECT_DECODE(t,
                  "\xEF\xBF\xBD"
                  "c",
                  1, 4); /* a lone lead byte: U+FFFD */
    EXPECT_DECODE(t,
                  "\xEF\xBF\xBD\xEF\xBF\xBD"
                  "c",
                  1, 1, 4); /* one U+FFFD per byte */
    expect_decode(t, NULL, 0, "");
    assert_string_equal(tok_bytes(t, 0, NULL), " a");
    Buf out = {0};
    Err err;
    int bad = 99;
    assert_int_equal(tok_decode(t, &bad, 1, &out, &err), -1);
    assert_string_equal(err.msg, "token id 99 out of range (vocabulary size 5)");
    buf_free(&out);
    tok_free(t);

    t = load_json("{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                  "\"use_regex\": true},"
                  " \"decoder\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", "
                  "\"vocab\": {\"\xC4\xA0\": 0, \"h\": 1,"
                  " \"i\": 2, \"\xC4\xA0h\": 3, \"\xC4\xA0hi\": 4, \"\xC4\x8A\": 5}, \"merges\": "
                  "[\"\xC4\xA0 h\", \"\xC4\xA0h i\"]}}");
    EXPECT(t, " hi\n", 0, 4, 5);
    EXPECT_DECODE(t, " hi\n", 4, 5);
    assert_string_equal(tok_bytes(t, 4, NULL), " hi");
    assert_string_equal(tok_kind(t), "BPE (byte-level)");
    tok_free(t);
}

/* GPT-2's byte table is a bijection onto 256 printable code points. */
static void byte_level_table(void **state) {
    (void)state;
    /* an independent rebuild of the table from its definition: printable bytes stand for
     * themselves, the other 68 map to U+0100.. in byte order */
    Buf json = {0};
    buf_puts(
        &json,
        "{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": "
        "false},"
        " \"decoder\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {");
    int cps[256], k = 0;
    for (int b = 0; b < 256; b++) {
        int cp = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE) ? b : -1;
        cps[b] = cp;
    }
    for (int b = 0, n = 0; b < 256; b++)
        if (cps[b] < 0) cps[b] = 0x100 + n++;
    for (int b = 0; b < 256; b++) {
        char enc[8];
        int m = utf8_encode((uint32_t)cps[b], enc);
        enc[m] = '\0';
        if (cps[b] == '"' || cps[b] == '\\')
            buf_printf(&json, "%s\"\\%s\": %d", k++ ? ", " : "", enc, b);
        else
            buf_printf(&json, "%s\"%s\": %d", k++ ? ", " : "", enc, b);
    }
    buf_puts(&json, "}, \"merges\": []}}");
    Tokenizer *t = load_json(json.data);
    buf_free(&json);
    for (int b = 0; b < 256; b++) {
        size_t n;
        const char *by = tok_bytes(t, b, &n);
        assert_int_equal(n, 1);
        assert_int_equal((uint8_t)by[0], b);
    }
    EXPECT(t, "a\n\xC3\xA9 ", 0, 'a', '\n', 0xC3, 0xA9, ' ');
    tok_free(t);
}

/* ---- hand-made GGUF files ---- */

static const char *write_gguf(const char *name, void (*fill)(GgufWriter *)) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    GgufWriter *w = gw_new();
    fill(w);
    Err err;
    if (gw_begin(w, path, &err) || gw_end(w, &err)) fail_msg("%s", err.msg);
    gw_free(w);
    return path;
}

/* A tiny SentencePiece vocabulary: 256 byte tokens, then pieces with scores. */
static void fill_spm(GgufWriter *w) {
    static const char *extra[] = {"<unk>",
                                  "<s>",
                                  "</s>",
                                  "\xE2\x96\x81",
                                  "a",
                                  "b",
                                  "ab",
                                  "\xE2\x96\x81"
                                  "a",
                                  "\xE2\x96\x81"
                                  "ab",
                                  "bb"};
    static const float extra_score[] = {0, 0, 0, -1, -2, -2, -1.5f, -1.0f, -0.5f, -1.0f};
    static const int extra_type[] = {2, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    const char *tokens[266];
    char names[256][8];
    float scores[266];
    int32_t types[266];
    for (int i = 0; i < 10; i++)
        tokens[i] = extra[i], scores[i] = extra_score[i], types[i] = extra_type[i];
    for (int b = 0; b < 256; b++) {
        snprintf(names[b], sizeof names[b], "<0x%02X>", b);
        tokens[10 + b] = names[b], scores[10 + b] = 0, types[10 + b] = 6;
    }
    gw_kv_str(w, "tokenizer.ggml.model", "llama");
    gw_kv_arr_str(w, "tokenizer.ggml.tokens", tokens, 266);
    gw_kv_arr_f32(w, "tokenizer.ggml.scores", scores, 266);
    gw_kv_arr_i32(w, "tokenizer.ggml.token_type", types, 266);
    gw_kv_u32(w, "tokenizer.ggml.bos_token_id", 1);
    gw_kv_u32(w, "tokenizer.ggml.eos_token_id", 2);
    gw_kv_u32(w, "tokenizer.ggml.unknown_token_id", 0);
}

/* llama.cpp's SPM: highest score first, leftmost on ties; unknown characters as byte tokens. */
static void gguf_spm(void **state) {
    (void)state;
    Err err;
    Tokenizer *t = tok_load(write_gguf("spm.gguf", fill_spm), &err);
    if (!t) fail_msg("%s", err.msg);
    /* "ab" -> ▁ a b: bigrams "▁a" (-1.0) and "ab" (-1.5): ▁a first; then "▁ab" (-0.5) */
    EXPECT(t, "ab", 0, 8);
    /* "bbb" -> ▁ b b b: "bb" at 1 and at 2 tie (-1.0): the left one; then ▁ and b stay */
    EXPECT(t, "bbb", 0, 3, 9, 5);
    /* é is not a piece: its two bytes */
    EXPECT(t, "\xC3\xA9", 0, 3, 10 + 0xC3, 10 + 0xA9);
    EXPECT(t, "ab", TOK_ENC_NO_PREFIX, 6);
    EXPECT(t, "a<s>b", 0, 7, 1, 3, 5); /* control tokens are matched; a prefix after them */
    EXPECT(t, "a<s>b", TOK_ENC_NO_SPECIAL, 7, 10 + '<', 10 + 's', 10 + '>', 5);
    EXPECT_DECODE(t, "ab\xC3\xA9", 8, 10 + 0xC3, 10 + 0xA9);
    assert_string_equal(tok_bytes(t, 8, NULL), " ab");
    assert_true(tok_flags(t, 1) & TOK_SPECIAL);
    tok_free(t);
}

static void fill_bad_pre(GgufWriter *w) {
    const char *tokens[] = {"a", "b"};
    gw_kv_str(w, "tokenizer.ggml.model", "gpt2");
    gw_kv_str(w, "tokenizer.ggml.pre", "no-such-pre");
    gw_kv_arr_str(w, "tokenizer.ggml.tokens", tokens, 2);
}

static void fill_bad_model(GgufWriter *w) { gw_kv_str(w, "tokenizer.ggml.model", "bert"); }

static void fill_no_tokenizer(GgufWriter *w) { gw_kv_str(w, "general.architecture", "llama"); }

static void gguf_errors(void **state) {
    (void)state;
    static const struct {
        const char *name;
        void (*fill)(GgufWriter *);
        const char *want;
    } cases[] = {
        {"pre.gguf", fill_bad_pre, "unknown tokenizer.ggml.pre 'no-such-pre'"},
        {"model.gguf", fill_bad_model, "unsupported tokenizer.ggml.model 'bert'"},
        {"none.gguf", fill_no_tokenizer, "no tokenizer.ggml.model"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s", write_gguf(cases[i].name, cases[i].fill));
        Err err;
        assert_null(tok_load(path, &err));
        char want[512];
        snprintf(want, sizeof want, "%s: %s", path, cases[i].want);
        if (strncmp(err.msg, want, strlen(want))) printf("# got \"%s\"\n", err.msg);
        assert_true(!strncmp(err.msg, want, strlen(want)));
    }
}

/* ---- bad input ---- */

static void json_errors(void **state) {
    (void)state;
    expect_load_error("trunc.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0",
                      "invalid JSON at line 1");
    expect_load_error("latin1.json",
                      "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"\xE9\": 0}, \"merges\": []}}",
                      "invalid JSON");
    expect_load_error("wp.json", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}",
                      "unsupported model type 'WordPiece'");
    expect_load_error("norm.json",
                      "{\"normalizer\": {\"type\": \"Precompiled\"}, \"model\": {\"type\": "
                      "\"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}",
                      "unsupported normalizer type 'Precompiled'");
    expect_load_error("pre.json",
                      "{\"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}, \"model\": {\"type\": "
                      "\"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}",
                      "unsupported pre-tokenizer type 'BertPreTokenizer'");
    expect_load_error("dec.json",
                      "{\"decoder\": {\"type\": \"CTC\"}, \"model\": {\"type\": \"BPE\", "
                      "\"vocab\": {\"a\": 0}, \"merges\": []}}",
                      "unsupported decoder type 'CTC'");
    expect_load_error(
        "merge.json",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}",
        "merges[0] uses a token that is not in the vocabulary");
    expect_load_error(
        "merge2.json",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"ab\"]}}",
        "merges[0] is not");
    expect_load_error("regex.json",
                      "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(a\"}, "
                      "\"behavior\": \"Isolated\"},"
                      " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}",
                      "Split pre-tokenizer: bad regex");
    expect_load_error(
        "ids.json",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 2000000000}, \"merges\": []}}",
        "token id 2000000000 out of range");
    expect_load_error("top.json", "[1, 2]", "not a tokenizer.json");
    Err err;
    assert_null(tok_load("/nonexistent/tokenizer.json", &err));
    assert_string_equal(err.msg, "/nonexistent/tokenizer.json: No such file or directory");

    Tokenizer *t =
        load_json("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}");
    IntVec ids = {0};
    assert_int_equal(tok_encode(t,
                                "aa\xFF"
                                "a",
                                4, 0, &ids, &err),
                     -1);
    assert_string_equal(err.msg, "invalid UTF-8 at byte 2");
    intvec_free(&ids);
    tok_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vocab_starcoder),
        cmocka_unit_test(vocab_deepseek_coder),
        cmocka_unit_test(vocab_gpt2),
        cmocka_unit_test(vocab_llama_spm),
        cmocka_unit_test(synth_qwen2_suite),
        cmocka_unit_test(token_table_on_fixtures),
        cmocka_unit_test(shared_between_threads),
        cmocka_unit_test(bpe_merge_order),
        cmocka_unit_test(byte_fallback_and_unk),
        cmocka_unit_test(added_tokens),
        cmocka_unit_test(split_behaviors),
        cmocka_unit_test(metaspace),
        cmocka_unit_test(normalizers),
        cmocka_unit_test(decoders),
        cmocka_unit_test(byte_level_table),
        cmocka_unit_test(gguf_spm),
        cmocka_unit_test(gguf_errors),
        cmocka_unit_test(json_errors),
    };
    return cmocka_run_group_tests_name("tokenizer", tests, setup_tmp, teardown_tmp);
}
