/* Tests of plots/csvtable and plots/gnuplot: the CSV reader on RFC 4180 cases written by hand
 * (quoted commas, doubled quotes, a newline inside quotes, CRLF, a byte-order mark, spaces kept)
 * and its one-line errors with the right line numbers; the exact gnuplot text gp_quote writes for
 * names with quotes, backquotes, control bytes and long UTF-8, and csv_visible. gnuplot itself is
 * exercised by tests/cli_plot.sh. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/csvtable.h"
#include "plots/gnuplot.h"
#include "tests/testutil.h"

/* Writes text to a fresh file and returns its path (static storage). */
static const char *csv_file(const char *text, size_t len) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/coldtok-test-plot.%ld.csv", (long)getpid());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    return path;
}

static void reads_rfc4180(void **state) {
    (void)state;
    static const char text[] = "\xEF\xBB\xBF" "model,keyword,value\r\n"
                               "\"a,b\",\"say \"\"hi\"\"\",1.5\r\n"
                               "\"two\nlines\", def ,\r\n"
                               "x,y,-2e-3";  /* no final newline */
    const char *path = csv_file(text, sizeof text - 1);
    CsvTable t;
    Err err = {{0}};
    const char *req[] = {"model", "value", NULL};
    assert_int_equal(csv_table_read(&t, path, req, &err), 0);
    assert_int_equal(t.ncols, 3);
    assert_int_equal(t.nrows, 3);
    assert_string_equal(t.header[0], "model"); /* the byte-order mark is not part of the name */
    assert_string_equal(csv_table_cell(&t, 0, 0), "a,b");
    assert_string_equal(csv_table_cell(&t, 0, 1), "say \"hi\"");
    assert_string_equal(csv_table_cell(&t, 1, 0), "two\nlines");
    assert_string_equal(csv_table_cell(&t, 1, 1), " def "); /* spaces are data */
    assert_string_equal(csv_table_cell(&t, 1, 2), "");
    assert_int_equal(t.line[0], 2);
    assert_int_equal(t.line[1], 4); /* the record spans lines 3-4 */
    assert_int_equal(t.line[2], 5);
    assert_int_equal(csv_table_col(&t, "value"), 2);
    assert_int_equal(csv_table_col(&t, "nope"), -1);
    double v;
    assert_int_equal(csv_table_number(&t, 0, 2, &v, &err), 0);
    assert_true(v == 1.5);
    assert_int_equal(csv_table_number(&t, 1, 2, &v, &err), 0);
    assert_true(isnan(v)); /* empty = missing */
    assert_int_equal(csv_table_number(&t, 2, 2, &v, &err), 0);
    assert_true(v == -2e-3);
    assert_int_equal(csv_table_number(&t, 2, 1, &v, &err), -1);
    char want[256];
    snprintf(want, sizeof want, "%s: line 5: column 'keyword': 'y' is not a number", path);
    assert_string_equal(err.msg, want);
    csv_table_free(&t);
    unlink(path);
}

/* Reads text and checks that it fails with "PATH: " + want. */
static void fails_with(const char *text, size_t len, const char *const *req, const char *want) {
    const char *path = csv_file(text, len);
    CsvTable t;
    Err err = {{0}};
    assert_int_equal(csv_table_read(&t, path, req, &err), -1);
    char full[512];
    snprintf(full, sizeof full, "%s: %s", path, want);
    assert_string_equal(err.msg, full);
    unlink(path);
}

static void rejects_malformed_files(void **state) {
    (void)state;
    const char *req[] = {"a", "b", NULL};
    fails_with("", 0, NULL, "empty file, expected a header line");
    fails_with("a,b\n1,2\n3\n", 10, NULL, "line 3: 1 fields, the header has 2");
    fails_with("a,b\n1,2,3\n", 10, NULL, "line 2: 3 fields, the header has 2");
    fails_with("a,a\n", 4, NULL, "line 1: column 'a' appears twice in the header");
    fails_with("a,c\n", 4, req, "no column 'b' in the header (it has: a,c)");
    fails_with("a,b\n1,x\"y\n", 10, NULL,
               "line 2: malformed CSV (a quote inside an unquoted field, or after a closing quote)");
    fails_with("a,b\n1,\"open\n2,3\n", 16, NULL,
               "line 3: malformed CSV (a quoted field in the record from line 2 is not closed)");
    fails_with("a,b\n1,x\0y\n", 10, NULL, "line 2: a field holds a NUL byte (not a text CSV file?)");
    CsvTable t;
    Err err = {{0}};
    assert_int_equal(csv_table_read(&t, "/nonexistent/x.csv", NULL, &err), -1);
    assert_string_equal(err.msg, "/nonexistent/x.csv: no such file");
}

static void quote(const char *s, size_t max, const char *want) {
    Buf b = {0};
    gp_quote(&b, s, max);
    assert_string_equal(b.data, want);
    buf_free(&b);
}

static void quotes_for_gnuplot(void **state) {
    (void)state;
    quote("q4_0", 0, "'q4_0'");
    /* a quote is a concatenated double-quoted "'" (''' at the start is a gnuplot error) */
    quote("'static", 0, "''.\"'\".'static'");
    quote("coder 'q2' #k", 0, "'coder '.\"'\".'q2'.\"'\".' #k'");
    /* backquotes, @ and backslashes stay inside single quotes, where gnuplot leaves them alone */
    quote("`rm -rf /` @x \\n", 0, "'`rm -rf /` @x \\n'");
    /* control bytes and invalid UTF-8 become U+FFFD, so the script stays one line per command */
    quote("a\nb\x01\xff", 0, "'a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD'");
    /* 10 code points shortened to 7: 3 first, an ellipsis, 3 last */
    quote("mod\xC3\xA8le-ab\xC3\x9F", 7, "'mod\xE2\x80\xA6" "ab\xC3\x9F'");
    quote("abcdefgh", 8, "'abcdefgh'");
    quote("abcdefghi", 8, "'abcd\xE2\x80\xA6ghi'");
    assert_int_equal(gp_text_width("mod\xC3\xA8le", 0), 6);
    assert_int_equal(gp_text_width("abcdefghi", 8), 8);
}

/* Widths from DejaVu Sans's hmtx table (units of 1/2048 em): m 1995, i 569, W 2025, space 651,
 * '…' 2048; letters outside ASCII count 0.72 em, CJK 1 em. */
static void measures_text(void **state) {
    (void)state;
    assert_float_equal(gp_text_em("mi", 0), (1995 + 569) / 2048.0, 1e-12);
    assert_float_equal(gp_text_em("W W", 0), (2025 + 651 + 2025) / 2048.0, 1e-12);
    /* "mmmmm" cut to 3 code points is "m…m" */
    assert_float_equal(gp_text_em("mmmmm", 3), (1995 + 2048 + 1995) / 2048.0, 1e-12);
    assert_float_equal(gp_text_em("\xC3\xA9\xE4\xB8\xAD", 0), 0.72 + 1.0, 1e-12); /* é 中 */
    Buf b = {0};
    gp_shorten(&b, "mod\xC3\xA8le-ab\xC3\x9F", 7); /* what gp_quote shows, unquoted */
    assert_string_equal(b.data, "mod\xE2\x80\xA6" "ab\xC3\x9F");
    b.len = 0;
    gp_shorten(&b, "a\nb", 0);
    assert_string_equal(b.data, "a\xEF\xBF\xBD" "b");
    buf_free(&b);
}

static void makes_messages_visible(void **state) {
    (void)state;
    char buf[16];
    assert_string_equal(csv_visible("caf\xC3\xA9\x1b[31m", buf, sizeof buf), "caf\xC3\xA9?[31m");
    assert_string_equal(csv_visible("abcdefghijklmnopqrstuvwxyz", buf, sizeof buf), "abcdefghijkl...");
    assert_string_equal(csv_visible("\xff", buf, sizeof buf), "?");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_rfc4180),
        cmocka_unit_test(rejects_malformed_files),
        cmocka_unit_test(quotes_for_gnuplot),
        cmocka_unit_test(measures_text),
        cmocka_unit_test(makes_messages_visible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
