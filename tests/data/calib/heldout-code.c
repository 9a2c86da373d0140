/* table: see table.h. Cells are stored raw; each rendering escapes them its own way. */
#include "analyzer/table.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <utf8proc.h>

typedef struct {
    char *s;
    size_t len;
} Cell;

struct Table {
    int ncols;
    char **names;
    int *numeric;
    Cell *cells; /* [nrows][ncols], row-major */
    size_t nrows, cap;
};

Table *table_new(void) { return xcalloc(1, sizeof(Table)); }

void table_free(Table *t) {
    if (!t) return;
    for (int c = 0; c < t->ncols; c++) free(t->names[c]);
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++) free(t->cells[i].s);
    free(t->names);
    free(t->numeric);
    free(t->cells);
    free(t);
}

int table_column(Table *t, const char *name, int numeric) {
    if (t->nrows) {
        fprintf(stderr, "table_column: columns must come before rows\n");
        abort();
    }
    t->names = xrealloc(t->names, (size_t)(t->ncols + 1) * sizeof *t->names);
    t->numeric = xrealloc(t->numeric, (size_t)(t->ncols + 1) * sizeof *t->numeric);
    t->names[t->ncols] = xstrdup(name);
    t->numeric[t->ncols] = numeric;
    return t->ncols++;
}

size_t table_row(Table *t) {
    if (t->nrows == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->cells = xrealloc(t->cells, t->cap * (size_t)t->ncols * sizeof(Cell));
    }
    memset(t->cells + t->nrows * (size_t)t->ncols, 0, (size_t)t->ncols * sizeof(Cell));
    return t->nrows++;
}

static Cell *last_cell(Table *t, int col) {
    if (!t->nrows || col < 0 || col >= t->ncols) {
        fprintf(stderr, "table_put: no row or column %d out of range\n", col);
        abort();
    }
    return &t->cells[(t->nrows - 1) * (size_t)t->ncols + (size_t)col];
}

void table_putn(Table *t, int col, const char *bytes, size_t len) {
    Cell *c = last_cell(t, col);
    free(c->s);
    c->s = xmalloc(len + 1);
    memcpy(c->s, bytes, len);
    c->s[len] = 0;
    c->len = len;
}

void table_put(Table *t, int col, const char *text) { table_putn(t, col, text, strlen(text)); }

void table_putf(Table *t, int col, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xmalloc(n > 0 ? (size_t)n + 1 : 1);
    vsnprintf(s, n > 0 ? (size_t)n + 1 : 1, fmt, ap2);
    va_end(ap2);
    table_putn(t, col, s, n > 0 ? (size_t)n : 0);
    free(s);
}

size_t table_nrows(const Table *t) { return t->nrows; }
int table_ncols(const Table *t) { return t->ncols; }

const char *table_cell(const Table *t, size_t row, int col) {
    if (row >= t->nrows || col < 0 || col >= t->ncols) return NULL;
    const Cell *c = &t->cells[row * (size_t)t->ncols + (size_t)col];
    return c->s ? c->s : "";
}

static const Cell *cell_at(const Table *t, size_t row, int col) {
    return &t->cells[row * (size_t)t->ncols + (size_t)col];
}

/* Appends S as one printable line: control characters, backslashes and bytes that are not UTF-8
 * become escapes, so a newline token and a literal backslash-n token stay distinguishable. */
static void put_visible(Buf *out, const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\\') { buf_puts(out, "\\\\"); i++; continue; }
        if (ch == '\n') { buf_puts(out, "\\n"); i++; continue; }
        if (ch == '\t') { buf_puts(out, "\\t"); i++; continue; }
        if (ch == '\r') { buf_puts(out, "\\r"); i++; continue; }
        if (ch < 0x20 || ch == 0x7f) { buf_printf(out, "\\x%02X", ch); i++; continue; }
        if (ch < 0x80) { buf_putc(out, (char)ch); i++; continue; }
        uint32_t cp;
        int n = utf8_decode((const uint8_t *)s + i, len - i, &cp);
        if (n == 0) { buf_printf(out, "\\x%02X", ch); i++; continue; }
        if (cp >= 0x80 && cp < 0xA0) buf_printf(out, "\\u{%X}", cp); /* C1 controls */
        else buf_append(out, s + i, (size_t)n);
        i += (size_t)n;
    }
}

/* Width of valid UTF-8 text on a terminal. */
static size_t width_of(const char *s, size_t len) {
 