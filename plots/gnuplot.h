/* gnuplot: runs gnuplot on a script held in memory, through pipes, and writes strings into
 * scripts so that no text from a CSV file can change what the script does.
 *
 * gp_run spawns `gnuplot -d /dev/stdin` (no init files; a script argument makes gnuplot stop at
 * the first error; the program is $COLDTOK_GNUPLOT when set), writes the script to its stdin and
 * reads its stderr at the same time, so nothing is ever written to disk but the figure the script
 * itself names. Data goes inline in `$name << EOD` blocks.
 * Errors: gnuplot missing, killed or exiting non-zero → -1 and one line "gnuplot: ..." in err
 * (gnuplot's own first error line when it printed one). What it prints when it succeeds is
 * handed back to the caller.
 * Text written with gp_quote is a gnuplot string expression made of single-quoted strings (no
 * backquote substitution, no macros, no escapes), joined by "'" where the text has a single
 * quote; control characters and invalid UTF-8 become U+FFFD. It is accepted wherever gnuplot takes
 * a string expression (titles, labels, tic labels, set output). Scripts must use noenhanced text
 * so that _ ^ @ & { } print as themselves. */
#ifndef COLDTOK_GNUPLOT_H
#define COLDTOK_GNUPLOT_H

#include <stddef.h>

#include "common/util.h"

/* Runs the script. What gnuplot printed on stderr (its `print` output, warnings) is appended to
 * out when out is not NULL. Returns 0, or -1 with err set. */
int gp_run(const char *script, size_t len, Buf *out, Err *err);

/* Appends s as a gnuplot string expression. When max_chars > 0 and s is longer than that many
 * code points, its middle is replaced by "…" so that the result has max_chars code points. */
void gp_quote(Buf *b, const char *s, size_t max_chars);

/* Number of code points gp_quote would show for s (after truncation to max_chars when > 0). */
size_t gp_text_width(const char *s, size_t max_chars);

/* Appends the text gp_quote would show for s, unquoted (for names composed before quoting). */
void gp_shorten(Buf *b, const char *s, size_t max_chars);

/* Width of the text gp_quote would show for s, in ems of DejaVu Sans: the font's own advance
 * widths for ASCII, 1 em for "…" and East Asian wide characters, 0.72 em for other letters. */
double gp_text_em(const char *s, size_t max_chars);

#endif
