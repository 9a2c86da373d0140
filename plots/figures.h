/* figures (private to plots/): the body of each figure's script, after script_head — title,
 * legend, axes, the data as inline `$name << EOD` blocks of numbers (names reach the script only
 * through gp_quote), and the plot command. They write into s and cannot fail.
 *
 * fig_bars.c: grouped bars (pkp_by_language, coverage_by_language, drift_keyword_vs_other).
 * fig_lines.c: one line per family or variant (kl_vs_bits, drift_kl_distribution).
 * fig_heatmap.c: keyword_heatmap. */
#ifndef COLDTOK_PLOTS_FIGURES_H
#define COLDTOK_PLOTS_FIGURES_H

#include <stddef.h>

#include "common/util.h"
#include "plots/data.h"
#include "plots/layout.h"

/* y from 0 to ymax (0: a little above the highest bar); hline > 0: a dashed line across at that
 * height, always in range. keytitle heads the legend of the series (NULL with one series: no
 * legend but the "no value" mark). */
void draw_bars(Buf *s, const Term *tm, const Bars *b, const char *title, const char *ylabel, const char *keytitle,
               double ymax, double hline);

/* KL against bits per weight, a line per series (family or method), variants that are not
 * quantizations as separate marks, error bars where points have an interval; each point labelled
 * with its model where a label hides nothing; *unlabelled counts the points left without one. */
void draw_kl(Buf *s, const Term *tm, const KlData *k, const char *title, const char *ylabel, size_t *unlabelled);

/* The share of positions in each bin of log10 KL, one line per variant. */
void draw_dist(Buf *s, const Term *tm, const Dist *d);

/* Log ratios, variants x keywords (ranked by contribution), in a diverging palette; a missing cell
 * stays grey. */
void draw_heat(Buf *s, const Term *tm, const Heat *h);

#endif
