/* table: a small result table (named columns, rows of text cells) and its four renderings:
 * an aligned terminal table, Markdown, LaTeX (booktabs) and tidy CSV (written through libcsv).
 *
 *   Table *t = table_new();
 *   table_column(t, "lang", 0);  table_column(t, "covered", 1);   // 1 = numeric: right-aligned
 *   table_row(t);  table_put(t, 0, "python");  table_putf(t, 1, "%d", 35);
 *   table_text(t, &buf);  table_free(t);
 *
 * Cells hold arbitrary bytes. The text, Markdown and LaTeX renderings show control characters and
 * bytes that are not UTF-8 as escapes (\n, \t, \r, \xNN) so one cell stays on one line; alignment
 * is by terminal display width (utf8proc), so CJK and emoji line up. CSV keeps the bytes exactly.
 * Ownership: the table copies every string it is given; table_free releases everything.
 * Errors: only writing CSV can fail (an I/O error), reported as "PATH: problem". */
#ifndef COLDTOK_TABLE_H
#define COLDTOK_TABLE_H

#include <stdio.h>

#include "common/util.h"

typedef struct Table Table;

Table *table_new(void);
void table_free(Table *t);

/* Adds a column; returns its index. Columns must all be added before the first row. */
int table_column(Table *t, const char *name, int numeric);
/* Starts a new row (all cells empty); returns its index. */
size_t table_row(Table *t);
/* Sets a cell of the last row. */
void table_put(Table *t, int col, const char *text);
void table_putn(Table *t, int col, const char *bytes, size_t len);
void table_putf(Table *t, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

size_t table_nrows(const Table *t);
int table_ncols(const Table *t);
const char *table_cell(const Table *t, size_t row, int col);

/* Renderings, appended to OUT. Each line ends with '\n'. */
void table_text(const Table *t, Buf *out);     /* header, dashes, rows; two spaces between columns */
void table_markdown(const Table *t, Buf *out); /* GitHub table, padded, |:---| / |---:| alignment */
void table_latex(const Table *t, Buf *out);    /* tabular with \toprule \midrule \bottomrule */
/* The tidy CSV: header line then one line per row, every field through csv_fwrite. */
int table_csv(const Table *t, FILE *f, const char *path, Err *err);
int table_save_csv(const Table *t, const char *path, Err *err);
/* A result folder: makes DIR (and missing folders above it, like mkdir -p) and writes each table as
 * DIR/file. Stops at the first error (-1, one line in err); returns 0. */
typedef struct {
    const char *file;
    const Table *t;
} TableFile;
int table_save_dir(const char *dir, const TableFile *files, size_t n, Err *err);
/* One CSV field as the tables write it: bare, or quoted by libcsv when it holds a comma, a quote,
 * CR, LF or edge blanks (for files streamed row by row). Returns 0, or -1 on a write error. */
int table_csv_field(FILE *f, const char *s, size_t len);

/* Appends S escaped the way the Markdown / LaTeX renderings escape a cell (for text written
 * around a table, e.g. a list of keywords). */
void md_escape(Buf *out, const char *s, size_t len);
void tex_escape(Buf *out, const char *s, size_t len);

/* How commands print their tables (--format text|md|tex). */
typedef enum { TABLE_TEXT, TABLE_MD, TABLE_TEX } TableFormat;
/* Parses "text", "md" or "tex" into *f; -1 for anything else. */
int table_format_parse(const char *s, TableFormat *f);
/* The table in format F, appended to OUT. */
void table_render(const Table *t, TableFormat f, Buf *out);
/* On stdout: a blank line, TITLE as a heading of format F, then the table. */
void table_print(const Table *t, TableFormat f, const char *title);
/* A heading for what follows: "### TEXT" + blank line (md), "% TEXT" (tex) or "TEXT" (text). */
void table_heading(Buf *out, TableFormat f, const char *text);

/* Display width of a UTF-8 string as the text rendering shows it (after escaping). */
size_t display_width(const char *s, size_t len);

#endif
