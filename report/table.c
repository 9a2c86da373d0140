/* table: see table.h. Cells are stored raw; each rendering escapes them its own way. */
#include "report/table.h"

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
    size_t w = 0, i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0) { w++; i++; continue; }
        w += (size_t)utf8proc_charwidth(cp);
        i += (size_t)n;
    }
    return w;
}

size_t display_width(const char *s, size_t len) {
    Buf b = {0};
    put_visible(&b, s, len);
    size_t w = width_of(b.data ? b.data : "", b.len);
    buf_free(&b);
    return w;
}

/* Every cell of the table rendered by ESCAPE into one string each: [nrows+1][ncols], header first. */
typedef void (*EscapeFn)(Buf *out, const char *s, size_t len);

static char **render_all(const Table *t, EscapeFn escape, size_t **widths_out) {
    size_t n = (t->nrows + 1) * (size_t)t->ncols;
    char **r = xcalloc(n ? n : 1, sizeof *r);
    size_t *w = xcalloc(t->ncols ? (size_t)t->ncols : 1, sizeof *w);
    for (size_t row = 0; row <= t->nrows; row++) {
        for (int c = 0; c < t->ncols; c++) {
            Buf b = {0};
            if (row == 0) {
                escape(&b, t->names[c], strlen(t->names[c]));
            } else {
                const Cell *cell = cell_at(t, row - 1, c);
                escape(&b, cell->s ? cell->s : "", cell->len);
            }
            if (!b.data) buf_puts(&b, "");
            size_t cw = width_of(b.data, b.len);
            if (cw > w[c]) w[c] = cw;
            r[row * (size_t)t->ncols + (size_t)c] = b.data;
        }
    }
    *widths_out = w;
    return r;
}

static void free_all(const Table *t, char **r, size_t *w) {
    for (size_t i = 0; i < (t->nrows + 1) * (size_t)t->ncols; i++) free(r[i]);
    free(r);
    free(w);
}

static void pad(Buf *out, size_t n) {
    while (n--) buf_putc(out, ' ');
}

/* One cell padded to width W on the side alignment asks for; the last left-aligned cell of a
 * line gets no trailing blanks. */
static void put_aligned(Buf *out, const char *s, size_t width, int numeric, int last) {
    size_t w = width_of(s, strlen(s));
    if (numeric) pad(out, width - w);
    buf_puts(out, s);
    if (!numeric && !last) pad(out, width - w);
}

void table_text(const Table *t, Buf *out) {
    size_t *w;
    char **r = render_all(t, put_visible, &w);
    for (size_t row = 0; row <= t->nrows; row++) {
        for (int c = 0; c < t->ncols; c++) {
            if (c) buf_puts(out, "  ");
            put_aligned(out, r[row * (size_t)t->ncols + (size_t)c], w[c], t->numeric[c],
                        c == t->ncols - 1);
        }
        buf_putc(out, '\n');
        if (row == 0) {
            for (int c = 0; c < t->ncols; c++) {
                if (c) buf_puts(out, "  ");
                for (size_t k = 0; k < w[c]; k++) buf_putc(out, '-');
            }
            buf_putc(out, '\n');
        }
    }
    free_all(t, r, w);
}

/* Markdown: the visible form, then CommonMark backslash escapes for the characters that would
 * start emphasis, code, links or HTML, or end the cell. */
void md_escape(Buf *out, const char *s, size_t len) {
    Buf v = {0};
    put_visible(&v, s, len);
    for (size_t i = 0; i < v.len; i++) {
        if (strchr("\\`*_|<>[]", v.data[i])) buf_putc(out, '\\');
        buf_putc(out, v.data[i]);
    }
    buf_free(&v);
}

void table_markdown(const Table *t, Buf *out) {
    size_t *w;
    char **r = render_all(t, md_escape, &w);
    for (int c = 0; c < t->ncols; c++)
        if (w[c] < 3) w[c] = 3; /* the delimiter row needs three dashes */
    for (size_t row = 0; row <= t->nrows; row++) {
        buf_putc(out, '|');
        for (int c = 0; c < t->ncols; c++) {
            buf_putc(out, ' ');
            put_aligned(out, r[row * (size_t)t->ncols + (size_t)c], w[c], t->numeric[c], 0);
            buf_puts(out, " |");
        }
        buf_putc(out, '\n');
        if (row == 0) {
            buf_putc(out, '|');
            for (int c = 0; c < t->ncols; c++) {
                /* w[c] + 2 characters, as wide as the padded cells: ":---" or "---:" */
                if (!t->numeric[c]) buf_putc(out, ':');
                for (size_t k = 0; k < w[c] + 1; k++) buf_putc(out, '-');
                if (t->numeric[c]) buf_putc(out, ':');
                buf_putc(out, '|');
            }
            buf_putc(out, '\n');
        }
    }
    free_all(t, r, w);
}

/* LaTeX: the visible form with the ten special characters (and < > |, which the default OT1
 * font encoding prints as other glyphs) replaced by commands that print them. */
void tex_escape(Buf *out, const char *s, size_t len) {
    Buf v = {0};
    put_visible(&v, s, len);
    for (size_t i = 0; i < v.len; i++) {
        char ch = v.data[i];
        switch (ch) {
        case '\\': buf_puts(out, "\\textbackslash{}"); break;
        case '{': buf_puts(out, "\\{"); break;
        case '}': buf_puts(out, "\\}"); break;
        case '$': buf_puts(out, "\\$"); break;
        case '&': buf_puts(out, "\\&"); break;
        case '#': buf_puts(out, "\\#"); break;
        case '%': buf_puts(out, "\\%"); break;
        case '_': buf_puts(out, "\\_"); break;
        case '^': buf_puts(out, "\\textasciicircum{}"); break;
        case '~': buf_puts(out, "\\textasciitilde{}"); break;
        case '<': buf_puts(out, "\\textless{}"); break;
        case '>': buf_puts(out, "\\textgreater{}"); break;
        case '|': buf_puts(out, "\\textbar{}"); break;
        default: buf_putc(out, ch);
        }
    }
    buf_free(&v);
}

void table_latex(const Table *t, Buf *out) {
    size_t *w;
    char **r = render_all(t, tex_escape, &w);
    buf_puts(out, "\\begin{tabular}{");
    for (int c = 0; c < t->ncols; c++) buf_putc(out, t->numeric[c] ? 'r' : 'l');
    buf_puts(out, "}\n\\toprule\n");
    for (size_t row = 0; row <= t->nrows; row++) {
        for (int c = 0; c < t->ncols; c++) {
            if (c) buf_puts(out, " & ");
            buf_puts(out, r[row * (size_t)t->ncols + (size_t)c]);
        }
        buf_puts(out, " \\\\\n");
        if (row == 0) buf_puts(out, "\\midrule\n");
    }
    buf_puts(out, "\\bottomrule\n\\end{tabular}\n");
    free_all(t, r, w);
}

/* RFC 4180 needs quotes only around fields holding a comma, a quote, CR or LF (or padded with
 * blanks, which some readers trim); leaving the others bare keeps the files easy on awk, cut and
 * spreadsheets. Fields that need quoting go through libcsv's writer. */
int table_csv_field(FILE *f, const char *s, size_t len) {
    int quote = len > 0 && (s[0] == ' ' || s[len - 1] == ' ');
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (quote) return csv_fwrite(f, s, len);
    return len && fwrite(s, 1, len, f) != len ? -1 : 0;
}

int table_csv(const Table *t, FILE *f, const char *path, Err *err) {
    for (size_t row = 0; row <= t->nrows; row++) {
        for (int c = 0; c < t->ncols; c++) {
            if (c && fputc(',', f) == EOF) goto fail;
            const char *s = row ? cell_at(t, row - 1, c)->s : t->names[c];
            size_t len = row ? cell_at(t, row - 1, c)->len : strlen(s);
            if (table_csv_field(f, s ? s : "", s ? len : 0) != 0) goto fail;
        }
        if (fputc('\n', f) == EOF) goto fail;
    }
    if (fflush(f) != 0 || ferror(f)) goto fail;
    return 0;
fail:
    return err_set(err, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
}

int table_save_csv(const Table *t, const char *path, Err *err) {
    OutFile o; /* replaced whole or not at all: a reader never sees half a table */
    if (out_open(&o, path, err)) return -1;
    int rc = table_csv(t, o.f, path, err);
    if (out_close(&o, rc == 0, rc == 0 ? err : NULL) != 0 && rc == 0) rc = -1;
    return rc;
}

int table_save_dir(const char *dir, const TableFile *files, size_t n, Err *err) {
    if (make_dirs(dir, err)) return -1;
    for (size_t i = 0; i < n; i++) {
        Buf path = {0};
        buf_printf(&path, "%s/%s", dir, files[i].file);
        int rc = table_save_csv(files[i].t, path.data, err);
        buf_free(&path);
        if (rc) return -1;
    }
    return 0;
}

/* ---- formats ---- */

int table_format_parse(const char *s, TableFormat *f) {
    if (!strcmp(s, "text")) *f = TABLE_TEXT;
    else if (!strcmp(s, "md")) *f = TABLE_MD;
    else if (!strcmp(s, "tex")) *f = TABLE_TEX;
    else return -1;
    return 0;
}

void table_render(const Table *t, TableFormat f, Buf *out) {
    if (f == TABLE_MD) table_markdown(t, out);
    else if (f == TABLE_TEX) table_latex(t, out);
    else table_text(t, out);
}

void table_heading(Buf *out, TableFormat f, const char *text) {
    if (f == TABLE_MD) buf_printf(out, "### %s\n\n", text);
    else if (f == TABLE_TEX) buf_printf(out, "%% %s\n", text);
    else buf_printf(out, "%s\n", text);
}

void table_print(const Table *t, TableFormat f, const char *title) {
    Buf out = {0};
    buf_putc(&out, '\n');
    table_heading(&out, f, title);
    table_render(t, f, &out);
    fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
}
