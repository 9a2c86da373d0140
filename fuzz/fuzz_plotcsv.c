/* libFuzzer harness for plots/csvtable and gp_quote: any byte string must either parse as a CSV
 * table (every record as wide as the header, line numbers rising) or fail with one line naming
 * the input; every cell must come out of gp_quote as a safe gnuplot string expression: single-
 * quoted pieces with no quote, backquote-free joins ."'". between them, no control characters,
 * valid UTF-8, and no more code points than asked for. Seeds: fuzz/corpus/plotcsv/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/csvtable.h"
#include "plots/gnuplot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless q is '...'( ."'". '...')* with no ' inside a piece and no control byte. */
static void check_quoted(const char *q) {
    size_t n = strlen(q);
    if (utf8_valid_prefix(q, n) != n) abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)q[i] < 0x20 || q[i] == 0x7f) abort();
    const char *p = q;
    for (;;) {
        if (*p++ != '\'') abort();
        while (*p && *p != '\'') p++;
        if (*p++ != '\'') abort();
        if (!*p) return;
        if (strncmp(p, ".\"'\".", 5)) abort();
        p += 5;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const req[] = {"model", NULL};
    CsvTable t;
    Err err;
    int need = size > 0 && (data[0] & 1); /* half the inputs also require a 'model' column */
    if (csv_table_parse(&t, "fuzz.csv", (const char *)data, size, need ? req : NULL, &err) < 0) {
        if (strncmp(err.msg, "fuzz.csv: ", 10) || strchr(err.msg, '\n')) abort();
        return 0;
    }
    if (!t.header || (need && csv_table_col(&t, "model") < 0)) abort();
    Buf b = {0};
    char shown[48];
    for (size_t r = 0; r < t.nrows; r++) {
        if (r > 0 && t.line[r] <= t.line[r - 1]) abort();
        for (size_t c = 0; c < t.ncols; c++) {
            const char *cell = csv_table_cell(&t, r, (int)c);
            double v;
            if (csv_table_number(&t, r, (int)c, &v, &err) < 0 && strchr(err.msg, '\n')) abort();
            size_t max = (r + c) % 3 == 0 ? 0 : 1 + (r + c) % 40;
            buf_clear(&b);
            gp_quote(&b, cell, max);
            check_quoted(b.data);
            if (max && gp_text_width(cell, max) > max) abort();
            csv_visible(cell, shown, sizeof shown);
            for (const char *s = shown; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f) abort();
        }
    }
    buf_free(&b);
    csv_table_free(&t);
    return 0;
}
