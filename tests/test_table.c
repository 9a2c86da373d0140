/* Tests of analysis/table: the exact text of every rendering for cells with commas, quotes,
 * underscores, %, &, a newline, wide (CJK) and accented UTF-8. The expected strings were written
 * by hand from the format rules (display widths: 日 and 本 are 2 columns each, é is 1). */
#include <string.h>

#include "report/table.h"
#include "tests/testutil.h"

static Table *sample(void) {
    Table *t = table_new();
    table_column(t, "name", 0);
    table_column(t, "n", 1);
    table_column(t, "note", 0);
    table_row(t);
    table_put(t, 0, "a,b");
    table_putf(t, 1, "%d", 1);
    table_put(t, 2, "say \"hi\"");
    table_row(t);
    table_put(t, 0, "snake_case");
    table_put(t, 1, "100");
    table_put(t, 2, "50% & more");
    table_row(t);
    table_put(t, 0, "\xE6\x97\xA5\xE6\x9C\xAC"); /* 日本 */
    table_put(t, 1, "7");
    table_put(t, 2, "caf\xC3\xA9"); /* café */
    table_row(t);
    table_put(t, 0, "x\ny"); /* n left empty */
    table_put(t, 2, "t");
    return t;
}

static void text_is_aligned_by_display_width(void **state) {
    (void)state;
    Table *t = sample();
    Buf b = {0};
    table_text(t, &b);
    const char *want =
        "name          n  note\n"
        "----------  ---  ----------\n"
        "a,b           1  say \"hi\"\n"
        "snake_case  100  50% & more\n"
        "\xE6\x97\xA5\xE6\x9C\xAC          7  caf\xC3\xA9\n"
        "x\\ny             t\n";
    assert_string_equal(b.data, want);
    buf_free(&b);
    table_free(t);
}

static void markdown_escapes_and_pads(void **state) {
    (void)state;
    Table *t = sample();
    Buf b = {0};
    table_markdown(t, &b);
    const char *want =
        "| name        |   n | note       |\n"
        "|:------------|----:|:-----------|\n"
        "| a,b         |   1 | say \"hi\"   |\n"
        "| snake\\_case | 100 | 50% & more |\n"
        "| \xE6\x97\xA5\xE6\x9C\xAC        |   7 | caf\xC3\xA9       |\n"
        "| x\\\\ny       |     | t          |\n";
    assert_string_equal(b.data, want);
    buf_free(&b);
    table_free(t);
}

static void latex_escapes_specials(void **state) {
    (void)state;
    Table *t = sample();
    Buf b = {0};
    table_latex(t, &b);
    const char *want =
        "\\begin{tabular}{lrl}\n"
        "\\toprule\n"
        "name & n & note \\\\\n"
        "\\midrule\n"
        "a,b & 1 & say \"hi\" \\\\\n"
        "snake\\_case & 100 & 50\\% \\& more \\\\\n"
        "\xE6\x97\xA5\xE6\x9C\xAC & 7 & caf\xC3\xA9 \\\\\n"
        "x\\textbackslash{}ny &  & t \\\\\n"
        "\\bottomrule\n"
        "\\end{tabular}\n";
    assert_string_equal(b.data, want);
    buf_free(&b);

    /* the other specials, one cell */
    Table *u = table_new();
    table_column(u, "s", 0);
    table_row(u);
    table_put(u, 0, "#$^{}~<>|\\");
    table_latex(u, &b);
    assert_non_null(strstr(b.data, "\\#\\$\\textasciicircum{}\\{\\}\\textasciitilde{}\\textless{}"
                                   "\\textgreater{}\\textbar{}\\textbackslash{}\\textbackslash{} \\\\\n"));
    buf_free(&b);
    table_free(u);
    table_free(t);
}

/* Only fields with a comma, quote or line break are quoted (through libcsv). */
static void csv_quotes_through_libcsv(void **state) {
    (void)state;
    Table *t = sample();
    FILE *f = tmpfile();
    assert_non_null(f);
    Err err;
    assert_int_equal(table_csv(t, f, "tmp.csv", &err), 0);
    rewind(f);
    char got[512] = {0};
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    const char *want =
        "name,n,note\n"
        "\"a,b\",1,\"say \"\"hi\"\"\"\n"
        "snake_case,100,50% & more\n"
        "\xE6\x97\xA5\xE6\x9C\xAC,7,caf\xC3\xA9\n"
        "\"x\ny\",,t\n";
    assert_int_equal(n, strlen(want));
    assert_string_equal(got, want);
    table_free(t);
}

static void csv_to_unwritable_path_fails_with_path(void **state) {
    (void)state;
    Table *t = sample();
    Err err;
    assert_int_equal(table_save_csv(t, "/nonexistent-dir/x.csv", &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/x.csv: cannot create"));
    table_free(t);
}

static void widths_and_escapes(void **state) {
    (void)state;
    assert_int_equal(display_width("\xE6\x97\xA5\xE6\x9C\xAC", 6), 4);   /* 日本 */
    assert_int_equal(display_width("e\xCC\x81", 3), 1);                    /* e + combining acute */
    assert_int_equal(display_width("\xF0\x9F\xA6\x99", 4), 2);            /* 🦙 */
    assert_int_equal(display_width("\t", 1), 2);                           /* shown as \t */
    assert_int_equal(display_width("\xFF", 1), 4);                         /* shown as \xFF */
    Table *t = table_new();
    table_column(t, "piece", 0);
    table_row(t);
    table_putn(t, 0, "\\n\n\x01\xC3", 5); /* literal backslash-n, newline, ^A, a cut-off é */
    Buf b = {0};
    table_text(t, &b);
    assert_string_equal(b.data, "piece\n-------------\n\\\\n\\n\\x01\\xC3\n");
    buf_free(&b);
    table_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_is_aligned_by_display_width),
        cmocka_unit_test(markdown_escapes_and_pads),
        cmocka_unit_test(latex_escapes_specials),
        cmocka_unit_test(csv_quotes_through_libcsv),
        cmocka_unit_test(csv_to_unwritable_path_fails_with_path),
        cmocka_unit_test(widths_and_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
