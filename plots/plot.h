/* plot: the figures of `coldtok plot`, drawn by gnuplot from the tidy CSV files of an analysis
 * folder (docs/output.md is the contract; docs/plots.md describes each figure).
 *
 *   pkp_by_language       metrics.csv (metric=pkp, scope=a language)      grouped bars
 *   kl_vs_bits            metrics.csv (metric=kl_pq, scope=all) + models.csv (bits_per_weight,
 *                         method): a line per family and method, models that are not
 *                         quantizations of their base as points apart
 *   keyword_heatmap       keywords.csv (log_ratio, p_sum, lang)             keyword x variant,
 *                         keywords ranked by p_base x |log_ratio| summed over the variants
 *   coverage_by_language  coverage_summary.csv (coverage)                   grouped bars
 *   drift_kl_distribution drift_kl_hist.csv (count per bin of log10 KL)     one line per variant,
 *                         as a fraction of that variant's positions
 *   drift_keyword_vs_other drift.csv (kl_mean at keyword / at other positions, per language)
 *                         grouped bars, a line at 1
 *   drift_kl_vs_bits, drift_top1_vs_bits, drift_ppl_vs_bits
 *                         drift.csv (kl_mean, same_top1, ppl_ratio with _lo/_hi) +
 *                         drift_models.csv: as kl_vs_bits, the intervals as error bars
 *   cold_start_stp, cold_start_nlp, cold_start_indent
 *                         metrics.csv (stp, nlp, indent_mass)             a bar per model
 *   keyword_concentration metrics.csv (n80..n95 per language)             mean per model
 *
 * When a file holds several contexts for one model (one probe with several --context), its
 * series are (model, context) pairs, named "model @ context".
 *
 * plot_all reads and checks every CSV file present first (a malformed one is an error before any
 * figure is drawn), then draws each figure whose data is there; a figure without data is skipped
 * and says why. Nothing is written but the figures themselves (FIGDIR/NAME.png|svg|pdf); a figure
 * gnuplot failed on is removed. Errors: -1 and one line in err. */
#ifndef COLDTOK_PLOT_H
#define COLDTOK_PLOT_H

#include "common/util.h"
#include "plots/plot_types.h"

/* Draws what the data allows. warnings (may be NULL) receives gnuplot's warnings and notes about
 * values left out, one per line. Returns 0 (even when every figure was skipped), or -1. */
int plot_all(const PlotOptions *o, PlotFigure figs[PLOT_NFIGURES], Buf *warnings, Err *err);

/* "png", "svg", "pdf" → format; -1 for anything else. */
int plot_format_parse(const char *s);

#endif
