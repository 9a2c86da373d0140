/* layout (private to plots/): what every figure's script shares — the terminal and its font
 * metrics, the series colours, text measured in pixels, titles, the plot area, legends and axes.
 *
 * Layout is computed here in pixels, text widths from the font's advance widths (gp_text_em), so
 * that nothing depends on gnuplot's own guesses of text sizes; positions go into the script as
 * fractions of the canvas ("screen"). Coordinates are pixels from the canvas's bottom-left corner,
 * y up. Every put_* appends gnuplot commands to a script; text reaches it through gp_quote only.
 * Nothing here fails but term_pick (gnuplot missing, or without the terminal for the format). */
#ifndef COLDTOK_PLOTS_LAYOUT_H
#define COLDTOK_PLOTS_LAYOUT_H

#include <stddef.h>

#include "common/util.h"
#include "plots/names.h"
#include "plots/plot_types.h"

typedef struct {
    PlotFormat format;
    const char *name;  /* gnuplot terminal */
    int width, height; /* pixels */
    double font;       /* the base font size as written into the script, in the terminal's points */
    double em;         /* that font's em, in pixels */
} Term;

/* The height of a line of text (DejaVu Sans ascent + descent is 1.164 em). */
#define LINE_EM 1.25

/* "png", "svg" or "pdf". */
const char *format_ext(PlotFormat f);

/* Picks the terminal for the format from what this gnuplot has (it runs gnuplot once), with the
 * font's em in pixels. Returns 0, or -1 with err set. */
int term_pick(Term *tm, PlotFormat format, int width, int height, Err *err);

/* The head of every script: the terminal, the output file out, the border and tics. */
void script_head(Buf *s, const Term *tm, const char *out);

/* The colour of series i: ten colours, then the same again. */
const char *series_colour(size_t i);
/* Bars of series i from the eleventh on are told apart by a fill pattern: 0 solid, else the
 * gnuplot fill pattern. */
int box_pattern(size_t i);

/* "set grid TICS" in the grid's style, behind the data. */
void put_grid(Buf *s, const char *tics);

/* ---- text ---- */

/* Width in pixels of the text gp_quote(s, max_chars) shows, at scale times the base font. */
double text_px(const Term *tm, const char *s, size_t max_chars, double scale);

/* A label: text (gp_quote, cut to max_chars when > 0) at pixel (x, y), its middle at y; align is
 * left, center or right; scale times the base font; rotated by 90 degrees when rotate; colour
 * NULL: the default. */
void put_text(Buf *s, const Term *tm, const char *text, size_t max_chars, double x, double y, const char *align,
              double scale, int rotate, const char *colour);

/* The figure's title at the top of the canvas, in a font small enough to fit its width. Returns
 * the y (pixels, up) under which the rest may start. */
double put_title(Buf *s, const Term *tm, const char *title);

/* Name i of ns as drawn in at most room pixels at scale (room 0: no limit), written into out:
 * when too wide, its middle gives way to "…" (its tail stays whole while it can). */
const char *fit_name(const Term *tm, const Names *ns, size_t i, double scale, double room, Buf *out);

/* ---- the plot area ---- */

/* The plot area, in pixels from the bottom-left corner of the canvas. */
typedef struct {
    double L, R, B, T;
} Area;

/* Sets the plot area, first kept on the canvas: on a canvas too small for its text the plot keeps
 * at least 20% of the width and 15% of the height (the text then overlaps it, but no size turns
 * negative). */
void place_area(Buf *s, const Term *tm, Area *a);

/* The middle of an axis title that runs along the canvas's left or bottom edge (half an em from
 * it, one line high). */
double edge_title_mid(const Term *tm);
/* The left edge of a plot with a y title and tick labels ticks_w pixels wide to its left. */
double left_of_yaxis(const Term *tm, double ticks_w);
/* The bottom edge of a plot with one line of tick labels and an x title under it. */
double bottom_of_xaxis(const Term *tm);

/* The x axis's title under the plot, centred between L and R. */
void put_xtitle(Buf *s, const Term *tm, const char *text, double L, double R);
/* A title along a y axis (rotated), its middle at x and halfway between B and T, in a smaller
 * font when it is longer than the axis. */
void put_ytitle(Buf *s, const Term *tm, const char *text, double x, double B, double T);

/* ---- legends, drawn here rather than by gnuplot, whose text widths are guesses ---- */

typedef enum { SAMPLE_BOX, SAMPLE_LINE, SAMPLE_CROSS, SAMPLE_MARK } SampleKind; /* MARK: a point, type pt */

typedef struct {
    const char *text; /* shown as is (already shortened) */
    size_t tail;      /* bytes at its end kept whole when it is cut */
    SampleKind kind;
    const char *colour;
    int pattern;      /* SAMPLE_BOX: 0 solid, else a gnuplot fill pattern */
    int pt;           /* SAMPLE_LINE: the point type */
} Entry;

/* The entries in rows under a title line (NULL: none), centred, from y = top down, taking at most
 * max_h pixels when they can (smaller fonts first, then shorter names). Returns the y of the
 * legend's bottom. */
double put_legend(Buf *s, const Term *tm, double top, double max_h, const char *title, const Entry *e, size_t n);

/* ---- axes ---- */

/* A step of 1, 2 or 5 times a power of ten giving about n intervals over span. */
double nice_step(double span, double n);
/* A nice step for about n intervals over span, fewer when the axis is short (axis_px pixels):
 * tick labels at least 2.2 ems apart. */
double step_for(double span, double n, double axis_px, double em);
/* The widest of the tick labels printf(fmt) writes for lo, lo + step, ... up to hi. */
double ticks_px(const Term *tm, const char *fmt, double lo, double hi, double step);
/* The widest tick labels ("%g") of a y axis from 0 to hi, for whichever step nice_step gives span
 * in 1 to 6 intervals: the left margin is made before the axis's height picks the step. */
double yticks_px(const Term *tm, double hi, double span);

/* The widest of names 0, step, 2 step, ... (those drawn), each fit to room, at scale. */
double widest_drawn(const Term *tm, const Names *ns, size_t step, double scale, double room);

/* How the names under the x axis are written: level when the widest fits its slot, else rotated
 * by 45 degrees when lines that far apart do not collide, else upright (90 degrees) in a font
 * small enough for one line per slot, naming only every step-th slot when even the smallest
 * readable font is too tall. Names that would take more than max_ext pixels of height are
 * shortened further. */
typedef struct {
    double angle, scale;
    size_t step;
    double room; /* the most pixels a name may take (0: no limit); longer ones are cut */
    double ext;  /* pixels the labels take under the axis, gap included */
    double left; /* pixels the first labels reach left of the plot (45 degrees), beyond slot 0 */
} XLabels;

/* The plot area's left edge and x labels for ns->n slots between *L and R: labels rotated by 45
 * degrees may need a wider left margin, which narrows the slots, so this settles in a few rounds. */
XLabels fit_x_axis(const Term *tm, const Names *ns, double *L, double R, double max_ext);
/* The x tics: name i at slot i. */
void put_xlabels(Buf *s, const Term *tm, const Names *ns, const XLabels *x);

#endif
