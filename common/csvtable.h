/* csvtable: a whole CSV file (RFC 4180, one header line) read through libcsv into memory, with
 * the checks `coldtok plot` needs before it trusts a single number.
 *
 * Reading checks: the file exists and is not empty, the header names each column once, every
 * required column is there, every record has as many fields as the header, quoting is well formed
 * (libcsv strict mode), no field holds a NUL byte. Nothing is trimmed: " def" stays " def".
 * Errors are one line "PATH: line N: problem" (N = the line where the record ends).
 * Ownership: the table owns every string in it; csv_table_free releases all of it. */
#ifndef COLDTOK_CSVTABLE_H
#define COLDTOK_CSVTABLE_H

#include <stddef.h>

#include "common/util.h"

typedef struct {
    char *path;      /* copy of the path, for messages */
    size_t ncols;
    char **header;   /* [ncols] */
    size_t nrows;    /* records after the header */
    char **cells;    /* [nrows * ncols], row-major; an empty cell is "" */
    int *line;       /* [nrows] line number (1-based) on which each record ends */
} CsvTable;

/* Reads PATH. required is a NULL-terminated list of column names that must be present (or NULL).
 * Returns 0, or -1 with err set (the table is then empty and need not be freed). */
int csv_table_read(CsvTable *t, const char *path, const char *const *required, Err *err);
/* The same for text already in memory (n bytes, need not end in NUL); name stands for the file in
 * messages. */
int csv_table_parse(CsvTable *t, const char *name, const char *text, size_t n, const char *const *required,
                    Err *err);
void csv_table_free(CsvTable *t);

/* Index of the column named name, or -1. */
int csv_table_col(const CsvTable *t, const char *name);
/* The cell at (row, col); col may be -1, which reads as "". */
const char *csv_table_cell(const CsvTable *t, size_t row, int col);
/* Parses the cell as a number (strtod syntax, the whole cell). An empty cell is a missing value:
 * *v = NAN and 0 is returned. Anything else that is not a number: -1 and
 * "PATH: line N: column 'NAME': 'TEXT' is not a number". */
int csv_table_number(const CsvTable *t, size_t row, int col, double *v, Err *err);

/* s made safe for a one-line message: control characters and invalid UTF-8 become '?', and text
 * beyond cap - 4 bytes becomes "...". Returns buf. */
const char *csv_visible(const char *s, char *buf, size_t cap);

#endif
