/* csvtable: a whole CSV file (RFC 4180, one header line) read through libcsv into memory, with
 * the checks `coldtok plot` needs before it trusts a single number.
 *
 * Reading checks: the file exists and is not empty, the header names each column once, every
 * required column is there, every record has as many fields as the header, quoting is well formed
 * (libcsv strict mode), no field holds a NUL byte. Nothing is trimmed: " def" stays " def". A
 * leading byte-order mark is skipped.
 * Errors are one line "PATH: line N: problem" (N = the line where the record ends).
 * csv_table_parse_flags can relax this for files people write by hand (CSV_TABLE_LOOSE).
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
    size_t *nfields; /* [nrows] fields each record had (CSV_TABLE_LOOSE only, else NULL) */
} CsvTable;

/* How csv_table_parse_flags reads (0: as csv_table_parse does). */
enum {
    /* libcsv's forgiving reading, for hand-written files (coldtok diff's manifest): blanks (space,
     * tab) around a field are dropped, a stray quote is text, an unclosed quote runs to the end,
     * and a record may have fewer fields than the header (the missing cells read as "") or more
     * (the extra ones are dropped); nfields says how many it had. Lines that are empty or blank
     * are no records. The header may name a column twice (csv_table_col finds the first). NUL
     * bytes are still errors. */
    CSV_TABLE_LOOSE = 1,
    /* A text without a single record is a table with no columns and no rows, not an error (the
     * caller then says what it expected). */
    CSV_TABLE_EMPTY_OK = 2,
};

/* Reads PATH. required is a NULL-terminated list of column names that must be present (or NULL).
 * Returns 0, or -1 with err set (the table is then empty and need not be freed). */
int csv_table_read(CsvTable *t, const char *path, const char *const *required, Err *err);
/* The same for text already in memory (n bytes, need not end in NUL); name stands for the file in
 * messages. */
int csv_table_parse(CsvTable *t, const char *name, const char *text, size_t n, const char *const *required,
                    Err *err);
/* csv_table_parse with FLAGS (CSV_TABLE_*, or-ed). */
int csv_table_parse_flags(CsvTable *t, const char *name, const char *text, size_t n, const char *const *required,
                          int flags, Err *err);
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
