/* layout: see layout.h. */
#include "plots/layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plots/gnuplot.h"

static const char *const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define NCOLOURS (sizeof colours / sizeof *colours)

/* Text is measured from the font's advance widths; this covers hinting, which rounds each
 * advance to whole pixels in pngcairo (measured: 20 'm' are 340 px where 337.7 are expected). */
#define TEXT_SLACK 1.04

/* ---- styles ---- */

const char *series_colour(size_t i) { return colours[i % NCOLOURS]; }

int box_pattern(size_t i) { return i >= NCOLOURS ? 1 + (int)((i / NCOLOURS - 1) % 7) : 0; }

void put_grid(Buf *s, const char *tics) { buf_printf(s, "set grid %s back lt 1 lc rgb '#e4e4e4' lw 1\n", tics); }

/* ---- text ---- */

double text_px(const Term *tm, const char *s, size_t max_chars, double scale) {
    return gp_text_em(s, max_chars) * tm->em * scale * TEXT_SLACK;
}

void put_text(Buf *s, const Term *tm, const char *text, size_t max_chars, double x, double y, const char *align,
              double scale, int rotate, const char *colour) {
    buf_puts(s, "set label ");
    gp_quote(s, text, max_chars);
    buf_printf(s, " at screen %.5f, screen %.5f %s", x / tm->width, y / tm->height, align);
    if (rotate) buf_puts(s, " rotate by 90");
    buf_printf(s, " font ',%.2f'", tm->font * scale);
    if (colour) buf_printf(s, " tc rgb '%s'", colour);
    buf_puts(s, " front\n");
}

double put_title(Buf *s, const Term *tm, const char *title) {
    double scale = fmin(1.1, (tm->width - 1.5 * tm->em) / (text_px(tm, title, 0, 1) + 1e-9));
    double y = tm->height - 1.25 * tm->em;
    put_text(s, tm, title, 0, tm->width / 2.0, y, "center", fmax(0.3, scale), 0, NULL);
    return y - 0.5 * LINE_EM * 1.1 * tm->em - 0.6 * tm->em;
}

/* text as drawn in at most room pixels at scale (room 0: no limit), written into out: when it is
 * too wide, its middle (before its last tail bytes, which stay whole while they can) gives way to
 * "…", keeping at least 6 code points. */
static const char *fit_text(const Term *tm, const char *text, size_t tail, double scale, double room, Buf *out) {
    out->len = 0;
    buf_puts(out, text);
    if (room <= 0 || text_px(tm, text, 0, scale) <= room) return out->data;
    size_t len = strlen(text);
    if (tail > len) tail = len;
    char *head = xstrdup(text);
    head[len - tail] = '\0';
    for (size_t keep = gp_text_width(head, 0); tail && keep-- > 6;) { /* the head alone gives way */
        out->len = 0;
        gp_shorten(out, head, keep);
        buf_puts(out, text + len - tail);
        if (text_px(tm, out->data, 0, scale) <= room) break;
    }
    free(head);
    if (text_px(tm, out->data, 0, scale) > room) { /* the whole text gives way */
        size_t keep = gp_text_width(text, 0);
        do {
            out->len = 0;
            gp_shorten(out, text, --keep);
        } while (keep > 6 && text_px(tm, out->data, 0, scale) > room);
    }
    return out->data;
}

const char *fit_name(const Term *tm, const Names *ns, size_t i, double scale, double room, Buf *out) {
    return fit_text(tm, ns->shown[i], ns->tail[i], scale, room, out);
}

/* ---- the plot area ---- */

/* On a canvas too small for its text, the plot keeps at least 20% of the width and 15% of the
 * height (the text then overlaps it, but no size turns negative). */
static void keep_area(const Term *tm, Area *a) {
    double minw = 0.2 * tm->width, minh = 0.15 * tm->height;
    if (a->R - a->L < minw) a->L = fmax(1, a->R - minw), a->R = fmin(tm->width - 1, a->L + minw);
    if (a->T - a->B < minh) a->B = fmax(1, a->T - minh), a->T = fmin(tm->height - 1, a->B + minh);
}

void place_area(Buf *s, const Term *tm, Area *a) {
    keep_area(tm, a);
    buf_printf(s, "set lmargin at screen %.5f\nset rmargin at screen %.5f\n", a->L / tm->width, a->R / tm->width);
    buf_printf(s, "set bmargin at screen %.5f\nset tmargin at screen %.5f\n", a->B / tm->height, a->T / tm->height);
}

double edge_title_mid(const Term *tm) { return 0.5 * tm->em + 0.5 * LINE_EM * tm->em; }

double left_of_yaxis(const Term *tm, double ticks_w) {
    double em = tm->em;
    return 0.5 * em + LINE_EM * em + 0.6 * em + ticks_w + 0.9 * em;
}

double bottom_of_xaxis(const Term *tm) {
    double em = tm->em;
    return 0.5 * em + 2 * LINE_EM * em + 1.0 * em;
}

void put_xtitle(Buf *s, const Term *tm, const char *text, double L, double R) {
    put_text(s, tm, text, 0, (L + R) / 2, edge_title_mid(tm), "center", 1, 0, NULL);
}

void put_ytitle(Buf *s, const Term *tm, const char *text, double x, double B, double T) {
    put_text(s, tm, text, 0, x, (B + T) / 2, "center", fmax(0.3, fmin(1, (T - B) / text_px(tm, text, 0, 1))), 1, NULL);
}

/* ---- legends, drawn here rather than by gnuplot, whose text widths are guesses ---- */

static double sample_em(SampleKind k) { return k == SAMPLE_LINE ? 2.6 : 1.6; }

static double entry_px(const Term *tm, const Entry *e, double room, double scale, Buf *t) {
    return (sample_em(e->kind) + 0.5) * tm->em * scale + text_px(tm, fit_text(tm, e->text, e->tail, scale, room, t), 0, scale);
}

/* A legend's layout: entries row by row in cols columns, each column as wide as its widest
 * entry, at scale times the base font, names cut to room pixels (0: as they are). */
typedef struct {
    double scale, room;
    size_t cols, rows;
    double *colw; /* [cols] pixels, spacing not included */
    double width, height;
} LegendFit;

/* The most columns that fit in avail pixels at this scale and cut; fills f. */
static void legend_grid(const Term *tm, const Entry *e, size_t n, int titled, double avail, double scale,
                        double room, LegendFit *f) {
    double spacing = 1.5 * tm->em * scale, narrowest = INFINITY;
    double *w = xmalloc((n + 1) * sizeof *w);
    Buf t = {0};
    for (size_t i = 0; i < n; i++) w[i] = entry_px(tm, &e[i], room, scale, &t), narrowest = fmin(narrowest, w[i]);
    buf_free(&t);
    size_t most = (size_t)fmax(1, fmin((double)n, floor((avail + spacing) / (narrowest + spacing))));
    f->scale = scale, f->room = room;
    f->colw = xrealloc(f->colw, (most + 1) * sizeof *f->colw);
    for (size_t cols = most; cols >= 1; cols--) {
        size_t rows = (n + cols - 1) / cols, used = (n + rows - 1) / rows; /* 3 + 2 rather than 4 + 1 */
        double total = -spacing;
        for (size_t j = 0; j < used; j++) f->colw[j] = 0;
        for (size_t i = 0; i < n; i++) f->colw[i % used] = fmax(f->colw[i % used], w[i]);
        for (size_t j = 0; j < used; j++) total += f->colw[j] + spacing;
        f->cols = used, f->rows = rows, f->width = total;
        if (total <= avail) break;
    }
    f->height = (double)(f->rows + (size_t)titled) * 1.3 * tm->em * scale;
    free(w);
}

/* A legend at most max_h pixels high when possible: smaller fonts first, then shorter names. */
static void legend_fit(const Term *tm, const Entry *e, size_t n, int titled, double max_h, LegendFit *f) {
    static const double scales[] = {1, 0.9, 0.8, 0.7};
    static const double cuts[] = {0.4, 0.3, 0.22}; /* of the width */
    double avail = tm->width - 2 * tm->em;
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < sizeof scales / sizeof *scales; i++) {
        legend_grid(tm, e, n, titled, avail, scales[i], 0, f);
        if (f->height <= max_h && f->width <= avail) return;
    }
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        legend_grid(tm, e, n, titled, avail, 0.7, cuts[i] * avail, f);
        if (f->height <= max_h && f->width <= avail) return;
    }
}

double put_legend(Buf *s, const Term *tm, double top, double max_h, const char *title, const Entry *e, size_t n) {
    if (n == 0) return top;
    LegendFit f;
    legend_fit(tm, e, n, title != NULL, max_h, &f);
    double em = tm->em * f.scale, spacing = 1.5 * em, row_h = 1.3 * em;
    double y = top - 0.5 * row_h;
    if (title) {
        put_text(s, tm, title, 0, tm->width / 2.0, y, "center", f.scale, 0, NULL);
        y -= row_h;
    }
    double x = (tm->width - f.width) / 2;
    Buf t = {0};
    for (size_t i = 0; i < n; i++) {
        size_t col = i % f.cols;
        if (col == 0 && i > 0) y -= row_h, x = (tm->width - f.width) / 2;
        double sw = sample_em(e[i].kind) * em, h = 0.8 * em;
        switch (e[i].kind) {
        case SAMPLE_BOX:
            buf_printf(s, "set object rectangle from screen %.5f, screen %.5f to screen %.5f, screen %.5f front "
                          "fillcolor rgb '%s' ",
                       x / tm->width, (y - h / 2) / tm->height, (x + sw) / tm->width, (y + h / 2) / tm->height,
                       e[i].colour);
            if (e[i].pattern) buf_printf(s, "fillstyle pattern %d border lc rgb '#333333'\n", e[i].pattern);
            else buf_puts(s, "fillstyle solid 0.9 border lc rgb '#333333'\n");
            break;
        case SAMPLE_LINE:
            buf_printf(s, "set arrow from screen %.5f, screen %.5f to screen %.5f, screen %.5f nohead lw 2 lc rgb '%s' front\n",
                       x / tm->width, y / tm->height, (x + sw) / tm->width, y / tm->height, e[i].colour);
            buf_printf(s, "set label '' at screen %.5f, screen %.5f point pt %d ps %.2f lc rgb '%s' front\n",
                       (x + sw / 2) / tm->width, y / tm->height, e[i].pt, 1.4 * f.scale, e[i].colour);
            break;
        case SAMPLE_CROSS:
            buf_printf(s, "set label '' at screen %.5f, screen %.5f point pt 2 ps %.2f lw 2 lc rgb '%s' front\n",
                       (x + sw / 2) / tm->width, y / tm->height, 1.2 * f.scale, e[i].colour);
            break;
        case SAMPLE_MARK:
            buf_printf(s, "set label '' at screen %.5f, screen %.5f point pt %d ps %.2f lw 2 lc rgb '%s' front\n",
                       (x + sw / 2) / tm->width, y / tm->height, e[i].pt, 1.6 * f.scale, e[i].colour);
            break;
        }
        put_text(s, tm, fit_text(tm, e[i].text, e[i].tail, f.scale, f.room, &t), 0, x + sw + 0.5 * em, y, "left",
                 f.scale, 0, NULL);
        x += f.colw[col] + spacing;
    }
    buf_free(&t);
    free(f.colw);
    return top - f.height;
}

/* ---- axes ---- */

double nice_step(double span, double n) {
    double raw = span / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

double step_for(double span, double n, double axis_px, double em) {
    return nice_step(span, fmin(n, fmax(1, floor(axis_px / (2.2 * em)))));
}

double ticks_px(const Term *tm, const char *fmt, double lo, double hi, double step) {
    double w = 0;
    for (double k = 0; lo + k * step <= hi * (1 + 1e-9) + 1e-300 && k < 1000; k++) {
        char t[64];
        snprintf(t, sizeof t, fmt, lo + k * step);
        w = fmax(w, text_px(tm, t, 0, 1));
    }
    return w;
}

double yticks_px(const Term *tm, double hi, double span) {
    double w = 0;
    for (double n = 1; n <= 6; n++) w = fmax(w, ticks_px(tm, "%g", 0, hi, nice_step(span, n)));
    return w;
}

double widest_drawn(const Term *tm, const Names *ns, size_t step, double scale, double room) {
    double w = 0;
    Buf t = {0};
    for (size_t i = 0; i < ns->n; i += step) w = fmax(w, text_px(tm, fit_name(tm, ns, i, scale, room, &t), 0, scale));
    buf_free(&t);
    return w;
}

static XLabels fit_xlabels(const Term *tm, const Names *ns, double slot, double max_ext) {
    XLabels x = {.angle = 0, .scale = 1, .step = 1};
    slot = fmax(slot, 1);
    double lh = LINE_EM * tm->em, gap = 0.6 * tm->em;
    if (widest_drawn(tm, ns, 1, 1, 0) + tm->em > slot) {
        if (slot >= 1.5 * lh) x.angle = 45;
        else x.angle = 90, x.scale = fmax(0.6, fmin(1, slot / (1.1 * lh)));
        if (slot < 1.1 * lh * x.scale) x.step = (size_t)ceil(1.1 * lh * x.scale / slot);
    }
    double sn = sin(x.angle * M_PI / 180), cs = cos(x.angle * M_PI / 180), h = lh * x.scale;
    if (x.angle > 0) x.room = (max_ext - gap - h * cs) / sn;
    double widest = widest_drawn(tm, ns, x.step, x.scale, x.room);
    x.ext = x.angle == 0 ? gap + h : gap + widest * sn + h * cs;
    Buf t = {0};
    for (size_t i = 0; x.angle == 45 && i < ns->n; i += x.step) /* label i ends at its tick, slot i */
        x.left = fmax(x.left, text_px(tm, fit_name(tm, ns, i, x.scale, x.room, &t), 0, x.scale) * cs + h * sn -
                                  ((double)i + 0.5) * slot);
    buf_free(&t);
    return x;
}

void put_xlabels(Buf *s, const Term *tm, const Names *ns, const XLabels *x) {
    Buf t = {0};
    buf_puts(s, "set xtics (");
    for (size_t i = 0, first = 1; i < ns->n; i += x->step, first = 0) {
        if (!first) buf_puts(s, ", ");
        gp_quote(s, fit_name(tm, ns, i, x->scale, x->room, &t), 0);
        buf_printf(s, " %zu", i);
    }
    buf_puts(s, ") scale 0");
    if (x->angle > 0) buf_printf(s, " rotate by %g right", x->angle);
    buf_printf(s, " font ',%.2f'\n", tm->font * x->scale);
    buf_free(&t);
}

XLabels fit_x_axis(const Term *tm, const Names *ns, double *L, double R, double max_ext) {
    double L0 = *L;
    XLabels x = fit_xlabels(tm, ns, (R - *L) / (double)ns->n, max_ext);
    for (int round = 0; round < 4 && x.left > *L - 0.5 * tm->em; round++) {
        *L = fmax(L0, x.left + 0.5 * tm->em);
        x = fit_xlabels(tm, ns, (R - *L) / (double)ns->n, max_ext);
    }
    return x;
}

/* ---- the terminal ---- */

static const char *const fmt_ext[] = {"png", "svg", "pdf"};

const char *format_ext(PlotFormat f) { return fmt_ext[f]; }

static int has_word(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ' ' || p[-1] == '\n') && (p[n] == ' ' || p[n] == '\n' || !p[n])) return 1;
    return 0;
}

int term_pick(Term *tm, PlotFormat format, int width, int height, Err *err) {
    static const char probe[] = "print GPVAL_TERMINALS\n";
    Buf out = {0};
    if (gp_run(probe, sizeof probe - 1, &out, err) < 0) {
        buf_free(&out);
        return -1;
    }
    const char *list = out.data ? out.data : "";
    const char *name = NULL;
    if (format == PLOT_PNG) name = has_word(list, "pngcairo") ? "pngcairo" : has_word(list, "png") ? "png" : NULL;
    else if (format == PLOT_SVG) name = has_word(list, "svg") ? "svg" : NULL;
    else name = has_word(list, "pdfcairo") ? "pdfcairo" : NULL;
    buf_free(&out);
    if (!name)
        return err_set(err, "gnuplot: this gnuplot cannot write %s (no %s terminal); try --format %s",
                       fmt_ext[format], format == PLOT_PNG ? "pngcairo or png" : format == PLOT_SVG ? "svg" : "pdfcairo",
                       format == PLOT_PNG ? "svg" : "png");
    /* Measured on gnuplot 5.4 with DejaVu Sans: pngcairo and the libgd png terminal draw a
     * 13 pt font with an em of 13 * 4/3 px (96 dpi), and so does pdfcairo at fontscale 0.71 with
     * width/100 inches (100 px to the inch); the svg terminal takes the size in px, so it gets
     * 13 * 4/3 to look the same. */
    *tm = (Term){.format = format, .name = name, .width = width, .height = height, .font = 13};
    tm->em = 13 * 4 / 3.0;
    if (format == PLOT_SVG) tm->font = tm->em;
    return 0;
}

void script_head(Buf *s, const Term *tm, const char *out) {
    buf_puts(s, "set encoding utf8\n");
    switch (tm->format) {
    case PLOT_PNG:
        buf_printf(s, "set terminal %s size %d,%d font 'DejaVu Sans,%g' noenhanced background rgb 'white'\n",
                   tm->name, tm->width, tm->height, tm->font);
        break;
    case PLOT_SVG:
        buf_printf(s, "set terminal svg size %d,%d fixed font 'DejaVu Sans,%g' noenhanced background rgb 'white'\n",
                   tm->width, tm->height, tm->font);
        break;
    case PLOT_PDF:
        buf_printf(s, "set terminal pdfcairo size %gin,%gin font 'DejaVu Sans,%g' fontscale 0.71 linewidth 1 noenhanced\n",
                   tm->width / 100.0, tm->height / 100.0, tm->font);
        break;
    }
    buf_puts(s, "set output ");
    gp_quote(s, out, 0);
    buf_puts(s, "\nset border 3 lc rgb '#444444'\nset tics nomirror\nunset key\n");
}
