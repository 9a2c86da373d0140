/* csvtable: see csvtable.h. */
#include "common/csvtable.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The CSV files coldtok writes are at most tens of MB; anything far larger is not one of them. */
#define CSV_MAX_BYTES ((size_t)1 << 30)

/* Parser state shared by the libcsv callbacks (which cannot stop the parse: they record the
 * first problem and the reader checks it after each chunk). */
typedef struct {
    CsvTable *t;
    char **row;        /* fields of the record being read */
    size_t nrow, caprow;
    size_t caprows;    /* capacity of t->cells, in records */
    int lineno;        /* line being fed to the parser */
    int row_start;     /* line on which the record being read began */
    int failed;
    int flags;         /* CSV_TABLE_* */
    Err *err;
} Reader;

static void on_field(void *s, size_t len, void *data) {
    Reader *r = data;
    if (r->failed) return;
    if (s && memchr(s, '\0', len)) {
        r->failed = 1;
        err_set(r->err, "%s: line %d: a field holds a NUL byte (not a text CSV file?)", r->t->path,
                r->lineno);
        return;
    }
    if (r->nrow == r->caprow) {
        r->caprow = r->caprow ? 2 * r->caprow : 16;
        r->row = xrealloc(r->row, r->caprow * sizeof *r->row);
    }
    r->row[r->nrow++] = xstrndup(s ? s : "", len);
}

static void drop_row(Reader *r) {
    for (size_t i = 0; i < r->nrow; i++) free(r->row[i]);
    r->nrow = 0;
}

/* Pads the record being read with "" up to n fields, or drops the fields past n. */
static void fit_row(Reader *r, size_t n) {
    while (r->nrow > n) free(r->row[--r->nrow]);
    if (r->caprow < n) {
        r->caprow = n;
        r->row = xrealloc(r->row, r->caprow * sizeof *r->row);
    }
    while (r->nrow < n) r->row[r->nrow++] = xstrdup("");
}

static void take_header(Reader *r) {
    CsvTable *t = r->t;
    for (size_t i = 0; !(r->flags & CSV_TABLE_LOOSE) && i < r->nrow; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(r->row[i], r->row[j])) {
                r->failed = 1;
                char shown[80];
                err_set(r->err, "%s: line %d: column '%s' appears twice in the header", t->path,
                        r->lineno, csv_visible(r->row[i], shown, sizeof shown));
                drop_row(r);
                return;
            }
    t->ncols = r->nrow;
    t->header = xmalloc(r->nrow * sizeof *t->header);
    memcpy(t->header, r->row, r->nrow * sizeof *t->header);
    r->nrow = 0;
}

static void on_row(int c, void *data) {
    (void)c;
    Reader *r = data;
    CsvTable *t = r->t;
    r->row_start = r->lineno + 1;
    if (r->failed) {
        drop_row(r);
        return;
    }
    if (!t->header) {
        take_header(r);
        return;
    }
    size_t had = r->nrow;
    if (r->flags & CSV_TABLE_LOOSE) fit_row(r, t->ncols);
    if (r->nrow != t->ncols) {
        r->failed = 1;
        err_set(r->err, "%s: line %d: %zu fields, the header has %zu", t->path, r->lineno, r->nrow,
                t->ncols);
        drop_row(r);
        return;
    }
    if (t->nrows == r->caprows) {
        r->caprows = r->caprows ? 2 * r->caprows : 64;
        t->cells = xrealloc(t->cells, r->caprows * t->ncols * sizeof *t->cells);
        t->line = xrealloc(t->line, r->caprows * sizeof *t->line);
        if (r->flags & CSV_TABLE_LOOSE) t->nfields = xrealloc(t->nfields, r->caprows * sizeof *t->nfields);
    }
    memcpy(t->cells + t->nrows * t->ncols, r->row, t->ncols * sizeof *t->cells);
    if (t->nfields) t->nfields[t->nrows] = had;
    t->line[t->nrows++] = r->lineno;
    r->nrow = 0;
}

/* RFC 4180: spaces are part of a field, so nothing counts as trimmable space. */
static int no_space(unsigned char c) {
    (void)c;
    return 0;
}

/* Bytes up to and including the end of the first line: "\n", "\r\n", or a lone "\r" (which
 * libcsv also takes as the end of a record); all of s when it has no line end. */
static size_t line_length(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') return i + 1;
        if (s[i] == '\r') return i + 1 < n && s[i + 1] == '\n' ? i + 2 : i + 1;
    }
    return n;
}

/* Feeds text to libcsv one line at a time so that records and errors know their line number. */
static int parse_text(Reader *r, struct csv_parser *p, const char *s, size_t n) {
    size_t i = 0;
    r->lineno = r->row_start = 1;
    while (i < n) {
        size_t len = line_length(s + i, n - i);
        if (csv_parse(p, s + i, len, on_field, on_row, r) != len && !r->failed) {
            r->failed = 1;
            if (r->row_start < r->lineno)
                err_set(r->err, "%s: line %d: malformed CSV in the record from line %d (a stray or unclosed quote?)",
                        r->t->path, r->lineno, r->row_start);
            else
                err_set(r->err, "%s: line %d: malformed CSV (a quote inside an unquoted field, or after a closing quote)",
                        r->t->path, r->lineno);
        }
        if (r->failed) return -1;
        i += len;
        if (i < n) r->lineno++;
    }
    if (csv_fini(p, on_field, on_row, r) != 0 && !r->failed) {
        r->failed = 1;
        err_set(r->err, "%s: line %d: malformed CSV (a quoted field in the record from line %d is not closed)",
                r->t->path, r->lineno, r->row_start);
    }
    return r->failed ? -1 : 0;
}

int csv_table_parse(CsvTable *t, const char *name, const char *text, size_t n, const char *const *required,
                    Err *err) {
    return csv_table_parse_flags(t, name, text, n, required, 0, err);
}

int csv_table_parse_flags(CsvTable *t, const char *name, const char *text, size_t n, const char *const *required,
                          int flags, Err *err) {
    memset(t, 0, sizeof *t);
    t->path = xstrdup(name);
    int rc = -1;
    if (n >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) text += 3, n -= 3; /* a byte-order mark */
    int loose = flags & CSV_TABLE_LOOSE;
    struct csv_parser p;
    if (csv_init(&p, loose ? CSV_APPEND_NULL : CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        err_set(err, "%s: cannot start the CSV parser", name);
        goto out;
    }
    if (!loose) csv_set_space_func(&p, no_space); /* else libcsv's default: space and tab */
    Reader r = {.t = t, .flags = flags, .err = err};
    int parsed = parse_text(&r, &p, text, n);
    csv_free(&p);
    drop_row(&r);
    free(r.row);
    if (parsed < 0) goto out;
    if (!t->header && !(flags & CSV_TABLE_EMPTY_OK)) {
        err_set(err, "%s: empty file, expected a header line", name);
        goto out;
    }
    for (size_t i = 0; required && required[i]; i++)
        if (csv_table_col(t, required[i]) < 0) {
            Buf have = {0};
            for (size_t c = 0; c < t->ncols; c++) buf_printf(&have, "%s%s", c ? "," : "", t->header[c]);
            char shown[200];
            err_set(err, "%s: no column '%s' in the header (it has: %s)", name, required[i],
                    csv_visible(have.data ? have.data : "", shown, sizeof shown));
            buf_free(&have);
            goto out;
        }
    rc = 0;
out:
    if (rc < 0) csv_table_free(t);
    return rc;
}

int csv_table_read(CsvTable *t, const char *path, const char *const *required, Err *err) {
    memset(t, 0, sizeof *t);
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) return err_set(err, "%s: no such file", path);
    if ((uint64_t)st.st_size > CSV_MAX_BYTES)
        return err_set(err, "%s: %lld bytes, larger than any CSV file coldtok writes", path, (long long)st.st_size);
    size_t n = 0;
    char *text = read_file(path, &n, err);
    if (!text) return -1;
    int rc = csv_table_parse(t, path, text, n, required, err);
    free(text);
    return rc;
}

void csv_table_free(CsvTable *t) {
    for (size_t i = 0; i < t->nrows * t->ncols; i++) free(t->cells[i]);
    for (size_t i = 0; t->header && i < t->ncols; i++) free(t->header[i]);
    free(t->cells);
    free(t->header);
    free(t->line);
    free(t->nfields);
    free(t->path);
    memset(t, 0, sizeof *t);
}

int csv_table_col(const CsvTable *t, const char *name) {
    for (size_t i = 0; i < t->ncols; i++)
        if (!strcmp(t->header[i], name)) return (int)i;
    return -1;
}

const char *csv_table_cell(const CsvTable *t, size_t row, int col) {
    if (col < 0 || (size_t)col >= t->ncols || row >= t->nrows) return "";
    return t->cells[row * t->ncols + (size_t)col];
}

const char *csv_visible(const char *s, char *buf, size_t cap) {
    size_t o = 0, len = strlen(s), i = 0;
    while (i < len) {
        uint32_t cp;
        int n = utf8_decode((const uint8_t *)s + i, len - i, &cp);
        int bad = n == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0);
        size_t take = bad ? 1 : (size_t)n;
        if (o + take + 4 > cap) break; /* keep room for "..." and the NUL */
        if (bad) buf[o++] = '?';
        else memcpy(buf + o, s + i, take), o += take;
        i += n ? (size_t)n : 1;
    }
    if (i < len) memcpy(buf + o, "...", 3), o += 3;
    buf[o] = '\0';
    return buf;
}

int csv_table_number(const CsvTable *t, size_t row, int col, double *v, Err *err) {
    const char *s = csv_table_cell(t, row, col);
    if (!*s) {
        *v = NAN;
        return 0;
    }
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    /* ERANGE on underflow is fine (a tiny probability); overflow gives ±inf, which callers see. */
    if (end == s || *end) {
        char shown[64], column[64];
        return err_set(err, "%s: line %d: column '%s': '%s' is not a number", t->path, t->line[row],
                       csv_visible(t->header[col], column, sizeof column), csv_visible(s, shown, sizeof shown));
    }
    *v = x;
    return 0;
}
