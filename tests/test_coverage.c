/* Tests of analysis/keywords, analysis/coverage and analysis/vocab.
 *
 * - Keyword files: good files (comments, CRLF, duplicates, several languages) and one bad line per
 *   rule, each with its FILE:LINE message; the built-in lists and their source headers.
 * - Coverage and vocabulary composition on tests/data/cov-tiny-tokenizer.json, a 39-token
 *   byte-level BPE made for this test: the expected ids, token counts and categories were worked
 *   out by hand from its vocab and merges, and the encodings were confirmed with the reference
 *   encoder @lenml/tokenizers 3.7.2 (def -> [11], " def" -> [12], "if" -> [13], " if" -> [9 13],
 *   "return" -> [14 7 8 6 4], " return" -> [9 14 7 8 6 4], "for" -> [15 6], " for" -> [17]).
 * - The fixture GGUF vocabularies (skipped when absent): facts obtained independently with a short
 *   Python script that reads tokenizer.ggml.tokens / token_type with struct.unpack, maps byte-level
 *   pieces back to bytes with GPT-2's bytes_to_unicode table (SentencePiece: "▁" -> " ", <0xNN> ->
 *   one byte), skips control tokens, and looks up each python keyword and " "+keyword. */
#include <math.h>
#include <string.h>

#include "analysis/coverage.h"
#include "analysis/keywords.h"
#include "analysis/vocab.h"
#include "tests/testutil.h"

#define TINY "tests/data/cov-tiny-tokenizer.json"

static void good_file_parses(void **state) {
    (void)state;
    const char *text =
        "# a comment\r\n"
        "\n"
        "py\tdef\r\n"
        "py\tclass\n"
        "  # an indented comment\n"
        "c++\tclass\n"
        "py\tdef\n"          /* duplicate: dropped */
        "php\tyield from\n"  /* inner blank allowed */
        "py\tmatch";         /* no final newline */
    KwSet s = {0};
    Err err;
    assert_int_equal(kw_load_text(&s, "good.tsv", text, strlen(text), 0, &err), 0);
    assert_int_equal(s.nlangs, 3);
    assert_string_equal(s.langs[0].name, "py");
    assert_int_equal(s.langs[0].nwords, 3);
    assert_string_equal(s.langs[0].words[0], "def");
    assert_string_equal(s.langs[0].words[1], "class");
    assert_string_equal(s.langs[0].words[2], "match");
    assert_string_equal(s.langs[1].name, "c++");
    assert_string_equal(s.langs[2].words[0], "yield from");
    /* a second file merges into the same languages, still without duplicates */
    const char *more = "py\tclass\npy\tlambda\n";
    assert_int_equal(kw_load_text(&s, "more.tsv", more, strlen(more), 0, &err), 0);
    assert_int_equal(s.nlangs, 3);
    assert_int_equal(s.langs[0].nwords, 4);
    assert_string_equal(s.langs[0].words[3], "lambda");
    kw_free(&s);
}

static void expect_error(const char *text, size_t len, const char *want) {
    KwSet s = {0};
    Err err = {{0}};
    int rc = kw_load_text(&s, "bad.tsv", text, len, 0, &err);
    if (rc != -1 || strcmp(err.msg, want)) {
        print_error("input %s\n  got rc %d: %s\n  want: %s\n", text, rc, err.msg, want);
        kw_free(&s);
        fail();
    }
    kw_free(&s);
}

static void bad_lines_name_file_and_line(void **state) {
    (void)state;
#define BAD(text, want) expect_error(text, sizeof(text) - 1, want)
    BAD("py\tdef\npy def\n", "bad.tsv:2: expected LANG<TAB>KEYWORD, found no tab");
    BAD("# x\n\tdef\n", "bad.tsv:2: empty language name");
    BAD("py\t\n", "bad.tsv:1: empty keyword");
    BAD("py\tdef\tx\n", "bad.tsv:1: more than two fields (a second tab)");
    BAD("p y\tdef\n", "bad.tsv:1: bad character in language name (allowed: A-Z a-z 0-9 _ . + -)");
    BAD("py\t def\n", "bad.tsv:1: keyword has leading or trailing blanks");
    BAD("py\tdef \n", "bad.tsv:1: keyword has leading or trailing blanks");
    BAD("py\tok\npy\tcaf\xC3\n", "bad.tsv:2: keyword is not valid UTF-8 (byte 4)");
    BAD("py\td\x01" "ef\n", "bad.tsv:1: control character 0x01 in keyword");
    BAD("py\tdef\n\npy\td\0f\n", "bad.tsv:3: NUL byte in line");
#undef BAD
    KwSet s = {0};
    Err err;
    assert_int_equal(kw_load_file(&s, "/nonexistent/kw.tsv", &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/kw.tsv"));
    kw_free(&s);
}

static void builtin_lists_load_and_select(void **state) {
    (void)state;
    KwSet s = {0};
    Err err;
    assert_int_equal(kw_load_builtin(&s, &err), 0);
    /* 16 keyword lists (data/keywords) + the english control set (data/control) */
    assert_int_equal(s.nlangs, 17);
    KwLang *py = kw_find(&s, "python");
    assert_non_null(py);
    assert_int_equal(py->nwords, 39); /* 35 keywords + 4 soft keywords of Python 3.12 */
    assert_string_equal(py->words[0], "False");
    KwLang *en = kw_find(&s, "english");
    assert_non_null(en);
    assert_true(en->control && !en->selected);
    assert_int_equal(en->nwords, 200);
    assert_int_equal(kw_find(&s, "go")->nwords, 25);
    assert_int_equal(kw_find(&s, "sql")->nwords, 74);
    assert_int_equal(kw_find(&s, "c")->nwords, 59);
    assert_int_equal(kw_find(&s, "cpp")->nwords, 92);

    assert_int_equal(kw_select(&s, "rust,english,c", &err), 0);
    assert_string_equal(s.langs[0].name, "rust");
    assert_string_equal(s.langs[1].name, "english");
    assert_string_equal(s.langs[2].name, "c");
    size_t sel = 0;
    for (size_t i = 0; i < s.nlangs; i++) sel += (size_t)s.langs[i].selected;
    assert_int_equal(sel, 3);
    assert_int_equal(kw_select(&s, "python,cobol", &err), -1);
    assert_non_null(strstr(err.msg, "unknown language 'cobol' (known: "));
    assert_int_equal(kw_select(&s, NULL, &err), 0);
    sel = 0;
    for (size_t i = 0; i < s.nlangs; i++) sel += (size_t)s.langs[i].selected;
    assert_int_equal(sel, 16);
    kw_free(&s);
}

/* Every built-in list says where it comes from before its first keyword. */
static void builtin_lists_cite_sources(void **state) {
    (void)state;
    Err err;
    char *dir = kw_data_dir(&err);
    assert_non_null(dir);
    const char *langs[] = {"python", "c", "cpp", "java", "javascript", "typescript", "go", "rust",
                           "php", "ruby", "csharp", "kotlin", "swift", "sql", "bash", "react"};
    for (size_t i = 0; i < sizeof langs / sizeof *langs; i++) {
        Buf p = {0};
        buf_printf(&p, "%s/keywords/%s.tsv", dir, langs[i]);
        size_t len;
        char *text = read_file(p.data, &len, &err);
        assert_non_null(text);
        char *first_kw = strchr(text, '\t');
        assert_non_null(first_kw);
        *first_kw = 0;
        if (!strstr(text, "Source")) {
            print_error("%s: no 'Source' line before the first keyword\n", p.data);
            fail();
        }
        free(text);
        buf_free(&p);
    }
    free(dir);
}

static KwSet tiny_keywords(void) {
    const char *text = "t\tdef\nt\tif\nt\treturn\nt\tfor\nu\tfor\nu\tdef\n";
    KwSet s = {0};
    Err err;
    assert_int_equal(kw_load_text(&s, "t.tsv", text, strlen(text), 0, &err), 0);
    return s;
}

static void coverage_on_tiny_tokenizer(void **state) {
    (void)state;
    Err err;
    Tokenizer *t = tok_load(TINY, &err);
    if (!t) print_error("%s\n", err.msg);
    assert_non_null(t);
    KwSet kw = tiny_keywords();
    Coverage c;
    assert_int_equal(coverage_compute(t, &kw, MATCH_EITHER, &c, &err), 0);
    assert_int_equal(c.nitems, 6);
    assert_int_equal(c.nlangs, 2);
    /* def: both forms are tokens; if: bare only; return: neither; for: space only */
    const int bare_id[] = {11, 13, -1, -1}, space_id[] = {12, -1, -1, 17};
    const int bare_n[] = {1, 1, 5, 2}, space_n[] = {1, 2, 6, 1};
    const char *bare_p[] = {"def", "if", "re t u r n", "fo r"};
    const char *space_p[] = {"\xC4\xA0" "def", "\xC4\xA0 if", "\xC4\xA0 re t u r n", "\xC4\xA0" "for"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(c.items[i].bare_id, bare_id[i]);
        assert_int_equal(c.items[i].space_id, space_id[i]);
        assert_int_equal(c.items[i].bare_ntok, bare_n[i]);
        assert_int_equal(c.items[i].space_ntok, space_n[i]);
        assert_string_equal(c.items[i].bare_pieces, bare_p[i]);
        assert_string_equal(c.items[i].space_pieces, space_p[i]);
    }
    assert_int_equal(c.langs[0].covered, 3);
    assert_true(fabs(c.langs[0].mean_bare_ntok - 2.25) < 1e-12);  /* (1+1+5+2)/4 */
    assert_true(fabs(c.langs[0].mean_space_ntok - 2.5) < 1e-12);  /* (1+2+6+1)/4 */
    assert_int_equal(c.langs[1].covered, 2);
    assert_int_equal(c.covered, 5);
    coverage_free(&c);

    assert_int_equal(coverage_compute(t, &kw, MATCH_BARE, &c, &err), 0);
    assert_int_equal(c.langs[0].covered, 2); /* def, if */
    assert_int_equal(c.covered, 3);
    coverage_free(&c);
    assert_int_equal(coverage_compute(t, &kw, MATCH_SPACE, &c, &err), 0);
    assert_int_equal(c.langs[0].covered, 2); /* def, for */
    assert_int_equal(c.langs[1].covered, 2);
    coverage_free(&c);
    kw_free(&kw);
    tok_free(t);
}

static void vocab_on_tiny_tokenizer(void **state) {
    (void)state;
    Err err;
    Tokenizer *t = tok_load(TINY, &err);
    assert_non_null(t);
    VocabStats s;
    vocab_measure(t, &s);
    assert_int_equal(s.size, 39);
    assert_int_equal(s.special, 1);       /* <|endoftext|> */
    assert_int_equal(s.text, 38);
    assert_int_equal(s.added, 1);         /* <custom> */
    assert_int_equal(s.whitespace, 8);    /* Ġ ĠĠ ĠĠĠĠ ĉ Ċ ĊĊ ĊĠĠĠĠ Ċĉ */
    assert_int_equal(s.spaces[1], 1);
    assert_int_equal(s.spaces[2], 1);
    assert_int_equal(s.spaces[4], 1);
    assert_int_equal(s.tabs[1], 1);
    assert_int_equal(s.nl_spaces[4], 1);
    assert_int_equal(s.nl_tabs[1], 1);
    assert_int_equal(s.newlines, 2);
    assert_int_equal(s.dead, 1);          /* ā = byte 0x01 */
    assert_int_equal(s.partial_utf8, 1);  /* Ã = byte 0xC3 alone */
    assert_int_equal(s.ident, 16);        /* 9 letters, de def if re fo, _, é */
    assert_int_equal(s.ident_space, 3);   /* Ġdef Ġfo Ġfor */
    assert_int_equal(s.digits, 3);        /* 1 2 12 */
    assert_int_equal(s.digits_space, 1);  /* Ġ12 */
    assert_int_equal(s.max_digits, 2);
    assert_int_equal(s.punct, 4);         /* ( ) () _ */
    assert_int_equal(s.punct_space, 1);   /* Ġ( */
    assert_true(fabs(s.mean_bytes - 75.0 / 38) < 1e-12);
    tok_free(t);
}

static void classify_by_hand(void **state) {
    (void)state;
    int w;
    assert_int_equal(vocab_classify("\r\n\r\n\t\t", 6, &w), VOC_WHITESPACE | VOC_NL_TABS);
    assert_int_equal(w, 2);
    assert_int_equal(vocab_classify(" \t", 2, &w), VOC_WHITESPACE); /* mixed: other whitespace */
    assert_int_equal(vocab_classify("\xE3\x80\x80", 3, &w), VOC_WHITESPACE); /* ideographic space */
    assert_int_equal(vocab_classify("\xE2\x80\x8B", 3, &w), VOC_DEAD);       /* zero-width space */
    assert_int_equal(vocab_classify("", 0, &w), VOC_DEAD);
    assert_int_equal(vocab_classify(" \xC3\xA9t\xC3\xA9", 6, &w), VOC_IDENT_SPACE);
    assert_int_equal(vocab_classify("9lives", 6, &w), 0);
    assert_int_equal(vocab_classify(" ->", 3, &w), VOC_PUNCT_SPACE);
    assert_int_equal(vocab_classify("\xE2\x82\xAC", 3, &w), VOC_PUNCT); /* € is a symbol */
}

typedef struct {
    const char *file;
    int bare, space, either;  /* python keywords covered (of 39) */
    int def_bare, def_space;  /* ids of "def" and " def" */
} GgufFacts;

/* From the Python reader described at the top of this file. */
static const GgufFacts gguf_facts[] = {
    {"vocab/ggml-vocab-deepseek-coder.gguf", 34, 37, 38, 1551, 972},
    {"vocab/ggml-vocab-gpt-2.gguf", 33, 37, 37, 4299, 825},
    {"vocab/ggml-vocab-llama-spm.gguf", 36, 38, 38, 1753, 822},
    {"vocab/ggml-vocab-starcoder.gguf", 38, 38, 38, 610, 684},
};

static void coverage_on_fixture_ggufs(void **state) {
    (void)state;
    KwSet kw = {0};
    Err err;
    assert_int_equal(kw_load_builtin(&kw, &err), 0);
    assert_int_equal(kw_select(&kw, "python", &err), 0);
    for (size_t i = 0; i < sizeof gguf_facts / sizeof *gguf_facts; i++) {
        const GgufFacts *f = &gguf_facts[i];
        const char *path = NEED_FIXTURE(f->file);
        Tokenizer *t = tok_load(path, &err);
        if (!t) print_error("%s\n", err.msg);
        assert_non_null(t);
        const MatchRule rules[] = {MATCH_BARE, MATCH_SPACE, MATCH_EITHER};
        const int want[] = {f->bare, f->space, f->either};
        for (int r = 0; r < 3; r++) {
            Coverage c;
            assert_int_equal(coverage_compute(t, &kw, rules[r], &c, &err), 0);
            if ((int)c.covered != want[r]) {
                print_error("%s --match %s: %zu covered, want %d\n", f->file, match_rule_name(rules[r]),
                            c.covered, want[r]);
                fail();
            }
            /* python.tsv lists def 12th (after False None True and as assert async await break
               class continue) */
            assert_string_equal(c.items[11].word, "def");
            assert_int_equal(c.items[11].bare_id, f->def_bare);
            assert_int_equal(c.items[11].space_id, f->def_space);
            assert_int_equal(c.items[11].space_ntok, 1);
            coverage_free(&c);
        }
        tok_free(t);
    }
    kw_free(&kw);
}

static void vocab_on_fixture_ggufs(void **state) {
    (void)state;
    Err err;
    VocabStats s;
    const char *path = NEED_FIXTURE("vocab/ggml-vocab-gpt-2.gguf");
    Tokenizer *t = tok_load(path, &err);
    assert_non_null(t);
    vocab_measure(t, &s);
    assert_int_equal(s.size, 50257);
    assert_int_equal(s.special, 1);
    assert_int_equal(s.text, 50256);
    assert_int_equal(s.whitespace, 19);
    assert_int_equal(s.newlines, 2);
    assert_int_equal(s.spaces[1], 1);
    assert_int_equal(s.spaces[2], 0);
    assert_int_equal(s.tabs[1], 1);
    assert_int_equal(s.digits, 994);
    assert_int_equal(s.max_digits, 16);
    assert_true(fabs(s.mean_bytes - 6.3836) < 5e-5);
    tok_free(t);

    path = NEED_FIXTURE("vocab/ggml-vocab-llama-spm.gguf");
    t = tok_load(path, &err);
    assert_non_null(t);
    vocab_measure(t, &s);
    assert_int_equal(s.size, 32000);
    assert_int_equal(s.byte_fallback, 256);
    assert_int_equal(s.unknown, 1);
    assert_int_equal(s.special, 2);
    assert_int_equal(s.text, 31741);
    assert_int_equal(s.whitespace, 29);
    for (int w = 1; w <= 16; w++) assert_int_equal(s.spaces[w], 1);
    assert_int_equal(s.spaces[17], 0);
    assert_true(fabs(s.mean_bytes - 5.5547) < 5e-5);
    tok_free(t);

    path = NEED_FIXTURE("vocab/ggml-vocab-starcoder.gguf");
    t = tok_load(path, &err);
    assert_non_null(t);
    vocab_measure(t, &s);
    /* 38 control tokens, one of which (id 0, <|endoftext|>) is also tokenizer.ggml.unknown_token_id */
    assert_int_equal(s.unknown, 1);
    assert_int_equal(s.special, 37);
    assert_int_equal(s.whitespace, 616);
    assert_int_equal(s.newlines, 15);
    for (int w = 1; w <= 40; w++) assert_int_equal(s.spaces[w], 1);
    assert_int_equal(s.tabs[16], 1);
    assert_int_equal(s.tabs[11], 0);
    assert_int_equal(s.nl_spaces[4], 4);
    assert_int_equal(s.nl_tabs[1], 5);
    assert_true(fabs(s.mean_bytes - 6.0271) < 5e-5);
    tok_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_file_parses),
        cmocka_unit_test(bad_lines_name_file_and_line),
        cmocka_unit_test(builtin_lists_load_and_select),
        cmocka_unit_test(builtin_lists_cite_sources),
        cmocka_unit_test(classify_by_hand),
        cmocka_unit_test(coverage_on_tiny_tokenizer),
        cmocka_unit_test(vocab_on_tiny_tokenizer),
        cmocka_unit_test(coverage_on_fixture_ggufs),
        cmocka_unit_test(vocab_on_fixture_ggufs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
