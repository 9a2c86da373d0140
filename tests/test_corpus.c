/* Tests of analysis/corpus: languages of paths, the walk's order and skips, reading checks, and the
 * byte classes of hand-marked snippets. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/corpus.h"
#include "tests/testutil.h"

static void languages_from_extensions(void **state) {
    (void)state;
    assert_string_equal(corpus_lang_of_ext("a/b/x.py"), "python");
    assert_string_equal(corpus_lang_of_ext("x.hpp"), "cpp");
    assert_string_equal(corpus_lang_of_ext("x.h"), "c");
    assert_string_equal(corpus_lang_of_ext("lib.es2022.d.ts"), "typescript");
    assert_string_equal(corpus_lang_of_ext("x.rs"), "rust");
    assert_null(corpus_lang_of_ext("Makefile"));
    assert_null(corpus_lang_of_ext(".bashrc")); /* a dot file has no extension */
    assert_null(corpus_lang_of_ext("dir.py/README"));
}

/* Marks written as one letter per byte: o other, K keyword (k at its start), i indent, s structural. */
static void expect_marks(const char *text, const KwLang *lang, const char *want) {
    size_t n = strlen(text);
    assert_int_equal(n, strlen(want));
    uint8_t *m = xmalloc(n);
    corpus_mark(text, n, lang, m);
    char *got = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        int c = MARK_CLASS(m[i]);
        got[i] = c == MARK_KEYWORD ? (m[i] & MARK_START ? 'K' : 'k') : c == MARK_INDENT ? 'i' : c == MARK_STRUCT ? 's' : 'o';
    }
    got[n] = '\0';
    assert_string_equal(got, want);
    free(got), free(m);
}

static void byte_classes_by_hand(void **state) {
    (void)state;
    char *words[] = {"def", "return", "in", "not in", "if"};
    KwLang py = {.name = "python", .words = words, .nwords = 5};
    /* whole words only: "define" and "_if" hold no keyword; "not in" is the longest match */
    expect_marks("def f(x):\n    return x\n", &py,
                 "KkksosossiiiiiKkkkkksoi");
    expect_marks("define _if if_ x not in y", &py,
                 "oooooosooosooososKkkkkkso");
    /* a tab-indented line after CRLF; punctuation and symbols are structural, digits are not */
    expect_marks("a=1\r\n\tif(b)", &py,
                 "osoiiiKksos");
    /* no language: no keywords */
    expect_marks("def x", NULL, "ooo" "so");
}

static void span_classes(void **state) {
    (void)state;
    char *words[] = {"return"};
    KwLang l = {.name = "python", .words = words, .nwords = 1};
    const char *t = "x\n    return (y)";
    size_t n = strlen(t);
    uint8_t m[64];
    corpus_mark(t, n, &l, m);
    assert_int_equal(corpus_span_class(m, 1, 6), MARK_INDENT);    /* "\n    " */
    assert_int_equal(corpus_span_class(m, 5, 12), MARK_KEYWORD);  /* " return": the keyword starts inside */
    assert_int_equal(corpus_span_class(m, 7, 11), MARK_OTHER);    /* "turn": inside, not the start */
    assert_int_equal(corpus_span_class(m, 12, 14), MARK_STRUCT);  /* " (" */
    assert_int_equal(corpus_span_class(m, 14, 15), MARK_OTHER);   /* "y" */
    assert_int_equal(corpus_span_class(m, 3, 3), MARK_OTHER);     /* empty span */
}

static void write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(data, 1, len, f);
    fclose(f);
}

static void walk_read_and_skip(void **state) {
    (void)state;
    char dir[] = "/tmp/coldtok-corpus-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[256];
    snprintf(p, sizeof p, "%s/cpp", dir), mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/cpp/b.h", dir), write_file(p, "int x;", 6);  /* folder says C++ */
    snprintf(p, sizeof p, "%s/a.py", dir), write_file(p, "", 0);           /* empty */
    snprintf(p, sizeof p, "%s/c.go", dir), write_file(p, "a\xff", 2);      /* not UTF-8 */
    snprintf(p, sizeof p, "%s/d.xyz", dir), write_file(p, "?", 1);         /* no language */
    snprintf(p, sizeof p, "%s/.hidden.py", dir), write_file(p, "x", 1);    /* skipped */
    KwSet kw = {0};
    Err err;
    assert_int_equal(kw_load_text(&kw, "t", "python\tdef\ncpp\tint\ngo\tfunc\nc\tint\n", 33, 0, &err), 0);
    Corpus c = {0};
    const char *paths[] = {dir};
    assert_int_equal(corpus_gather(&c, paths, 1, NULL, &kw, &err), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.unknown, 1);
    /* byte order of names: a.py, c.go, cpp/ */
    assert_true(ends_with(c.files[0].path, "/a.py"));
    assert_string_equal(c.files[0].lang, "python");
    assert_true(ends_with(c.files[1].path, "/c.go"));
    assert_true(ends_with(c.files[2].path, "/cpp/b.h"));
    assert_string_equal(c.files[2].lang, "cpp");
    char *text;
    size_t len;
    ReadStatus st;
    assert_int_equal(corpus_read(c.files[0].path, &text, &len, &st, &err), 0);
    assert_int_equal(st, READ_EMPTY);
    assert_null(text);
    assert_int_equal(corpus_read(c.files[1].path, &text, &len, &st, &err), 0);
    assert_int_equal(st, READ_NOT_UTF8);
    assert_int_equal(corpus_read(c.files[2].path, &text, &len, &st, &err), 0);
    assert_int_equal(st, READ_OK);
    assert_string_equal(text, "int x;");
    free(text);
    corpus_free(&c);
    /* --lang forces the language; an unknown one and a missing path are one-line errors */
    assert_int_equal(corpus_gather(&c, paths, 1, "go", &kw, &err), 0);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.files[3].lang, "go");
    corpus_free(&c);
    assert_int_equal(corpus_gather(&c, paths, 1, "cobol", &kw, &err), -1);
    assert_string_equal(err.msg, "--lang cobol: no keyword list for this language");
    const char *missing[] = {"/nonexistent/corpus"};
    assert_int_equal(corpus_gather(&c, missing, 1, NULL, &kw, &err), -1);
    assert_string_equal(err.msg, "/nonexistent/corpus: No such file or directory");
    corpus_free(&c);
    kw_free(&kw);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(languages_from_extensions),
        cmocka_unit_test(byte_classes_by_hand),
        cmocka_unit_test(span_classes),
        cmocka_unit_test(walk_read_and_skip),
    };
    return cmocka_run_group_tests_name("corpus", tests, NULL, NULL);
}
