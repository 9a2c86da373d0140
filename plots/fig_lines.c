/* fig_lines: figures of one line per family or variant (see figures.h): kl_vs_bits, whose points
 * get labels placed where they hide nothing, and drift_kl_distribution. */
#include "plots/figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- what the lines share: point types, legend, plot command ---- */

/* The point type of line i: shifted by one for every ten lines, so that line i + 10, which has
 * line i's colour again, has another point. */
static int line_point(size_t i) {
    static const int points[] = {7, 5, 9, 11, 13};
    return points[(i + i / 10) % (sizeof points / sizeof *points)];
}

/* A legend of the lines named ns under the title, from y = top down; returns its bottom. */
static double put_line_legend(Buf *s, const Term *tm, double top, const char *title, const Names *ns) {
    Entry *e = xmalloc((ns->n + 1) * sizeof *e);
    for (size_t i = 0; i < ns->n; i++)
        e[i] = (Entry){ns->shown[i], ns->tail[i], SAMPLE_LINE, series_colour(i), 0, line_point(i)};
    double bottom = put_legend(s, tm, top, 0.3 * tm->height, title, e, ns->n);
    free(e);
    return bottom;
}

/* The plot command of n lines, from data blocks $<block>0 ... $<block>(n-1); marks: the size of
 * the points and how often they are drawn. */
static void put_lines_plot(Buf *s, char block, size_t n, const char *marks) {
    buf_puts(s, "plot ");
    for (size_t i = 0; i < n; i++)
        buf_printf(s, "%s$%c%zu using 1:2 with linespoints lw 2 pt %d %s lc rgb '%s' notitle", i ? ", \\\n     " : "",
                   block, i, line_point(i), marks, series_colour(i));
    buf_putc(s, '\n');
}

/* ---- kl_vs_bits: point labels placed where they hide nothing ---- */

typedef struct {
    double x0, y0, x1, y1; /* pixels, y up */
} Box;

static double overlap(Box a, Box b) {
    double w = fmin(a.x1, b.x1) - fmax(a.x0, b.x0), h = fmin(a.y1, b.y1) - fmax(a.y0, b.y0);
    return w > 0 && h > 0 ? w * h : 0;
}

/* The ranges of kl_vs_bits: KL on a log scale when it spans two decades or more (and has no 0). */
typedef struct {
    double x0, x1, y0, y1;
    int logy;
} KlRange;

/* Where point p, drawn at x bits (its own, or moved aside: dodge_bits), falls in the plot area a,
 * in pixels. */
static void kl_point_px(const KlRange *r, Area a, const KlPoint *p, double x, double *px, double *py) {
    *px = a.L + (x - r->x0) / (r->x1 - r->x0) * (a.R - a.L);
    *py = r->logy ? a.B + (log10(p->kl) - log10(r->y0)) / (log10(r->y1) - log10(r->y0)) * (a.T - a.B)
                  : a.B + (p->kl - r->y0) / (r->y1 - r->y0) * (a.T - a.B);
}

/* Each point's model name next to it, on the spot around it (of a few tried) that hides no point,
 * no other label and nothing outside the plot, and covers least of the lines; a point with no
 * such spot stays without a label (counted in *unlabelled). */
static void put_point_labels(Buf *s, const Term *tm, const KlData *k, const double *x, const KlRange *r, Area a,
                             size_t *unlabelled) {
    double em = tm->em;
    double pr = 0.45 * LINE_EM * em; /* a point's half-size in pixels */
    Box *placed = xmalloc((2 * k->n + 1) * sizeof *placed);
    size_t np = 0;
    for (size_t i = 0; i < k->n; i++) {
        double px, py;
        kl_point_px(r, a, &k->p[i], x[i], &px, &py);
        placed[np++] = (Box){px - pr, py - pr, px + pr, py + pr};
    }
    /* the lines between a family's points, as a trail of small boxes: better not covered */
    Box *trail = NULL;
    size_t nt = 0, capt = 0;
    for (size_t i = 1; i < k->n; i++) {
        if (k->p[i].separate || k->p[i - 1].separate || k->p[i].series != k->p[i - 1].series) continue;
        Box pa = placed[i - 1], pb = placed[i];
        double ax = (pa.x0 + pa.x1) / 2, ay = (pa.y0 + pa.y1) / 2, bx = (pb.x0 + pb.x1) / 2, by = (pb.y0 + pb.y1) / 2;
        size_t steps = (size_t)(hypot(bx - ax, by - ay) / 6) + 1;
        for (size_t t = 1; t < steps; t++) {
            if (nt == capt) capt = capt ? 2 * capt : 64, trail = xrealloc(trail, capt * sizeof *trail);
            double x = ax + (bx - ax) * (double)t / (double)steps, y = ay + (by - ay) * (double)t / (double)steps;
            trail[nt++] = (Box){x - 1.5, y - 1.5, x + 1.5, y + 1.5};
        }
    }
    Box area = {a.L, a.B, a.R, a.T};
    for (size_t i = 0; i < k->n; i++) {
        Box pt = placed[i];
        double px = (pt.x0 + pt.x1) / 2, py = (pt.y0 + pt.y1) / 2;
        double w = text_px(tm, k->p[i].model, NAME_CHARS, 0.85), h = LINE_EM * em * 0.85;
        /* candidate spots: right, left, above, below, the four corners, then a line farther out */
        static const double dx[] = {1, -1, 0, 0, 1, 1, -1, -1, 0, 0, 1, 1, -1, -1};
        static const double dy[] = {0, 0, 1, -1, 1, -1, 1, -1, 2, -2, 2, -2, 2, -2};
        double best = INFINITY;
        size_t pick = 0;
        Box pick_box = {0};
        for (size_t c = 0; c < sizeof dx / sizeof *dx; c++) {
            double cx = px + dx[c] * (pr + 4 + w / 2) * (dx[c] != 0);
            double cy = py + dy[c] * (pr + 2 + h / 2);
            Box bx = {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
            double hard = w * h - overlap(bx, area); /* what would fall outside the plot */
            for (size_t j = 0; j < np; j++) hard += overlap(bx, placed[j]);
            if (hard > 0.5) continue; /* hides a point or another label (0.5 px² of rounding) */
            double soft = 0;
            for (size_t j = 0; j < nt; j++) soft += overlap(bx, trail[j]);
            if (soft < best) best = soft, pick = c, pick_box = bx;
        }
        if (best == INFINITY) { /* no free spot: better no label than one over another */
            (*unlabelled)++;
            continue;
        }
        placed[np++] = pick_box;
        const char *align = dx[pick] > 0 ? "left" : dx[pick] < 0 ? "right" : "center";
        double ax = dx[pick] > 0 ? pick_box.x0 : dx[pick] < 0 ? pick_box.x1 : px;
        put_text(s, tm, k->p[i].model, NAME_CHARS, ax, (pick_box.y0 + pick_box.y1) / 2, align, 0.85, 0, NULL);
    }
    free(trail);
    free(placed);
}

/* The ranges of the points, and the width of the y tick labels they get. */
static KlRange kl_range(const Term *tm, const KlData *k, double *ytick_w) {
    KlRange r;
    double lo = INFINITY, hi = -INFINITY, bmin = INFINITY, bmax = -INFINITY;
    for (size_t i = 0; i < k->n; i++) {
        if (k->p[i].kl > 0) lo = fmin(lo, k->p[i].kl);
        hi = fmax(hi, k->p[i].kl);
        if (k->p[i].lo > 0) lo = fmin(lo, k->p[i].lo); /* error bars stay inside the plot */
        if (k->p[i].hi > 0) hi = fmax(hi, k->p[i].hi);
        bmin = fmin(bmin, k->p[i].bits), bmax = fmax(bmax, k->p[i].bits);
    }
    int any_zero = 0;
    for (size_t i = 0; i < k->n; i++) any_zero |= k->p[i].kl <= 0;
    r.logy = !any_zero && hi / lo >= 100;
    if (r.logy) {
        r.y0 = pow(10, floor(log10(lo) - 0.2));
        r.y1 = pow(10, ceil(log10(hi) + 0.2));
        *ytick_w = 0;
        for (double d = log10(r.y0); d <= log10(r.y1) + 1e-9; d++) { /* the labels of the decades */
            char t[32];
            snprintf(t, sizeof t, "%.0e", pow(10, d));
            *ytick_w = fmax(*ytick_w, text_px(tm, t, 0, 1));
        }
    } else {
        r.y0 = 0;
        r.y1 = hi > 0 ? hi * 1.15 : 1;
        *ytick_w = yticks_px(tm, r.y1, r.y1);
    }
    double span = bmax - bmin;
    r.x0 = bmin - 0.1 * span - 0.5, r.x1 = bmax + 0.1 * span + 0.5;
    if (r.x0 < 0) r.x0 = 0;
    return r;
}

/* The mark of a variant that is not a quantization of its base: an open circle, in dark grey. */
#define SEPARATE_PT 6
#define SEPARATE_COLOUR "#222222"

/* The legend of kl_vs_bits: its lines, then the mark of the separate points. */
static double put_kl_legend(Buf *s, const Term *tm, double top, const KlData *k) {
    size_t n = k->series.n;
    Entry *e = xmalloc((n + 2) * sizeof *e);
    for (size_t i = 0; i < n; i++)
        e[i] = (Entry){k->series.shown[i], k->series.tail[i], SAMPLE_LINE, series_colour(i), 0, line_point(i)};
    const char *title = k->by_method ? (k->families.n > 1 ? "family (base model): quantization method"
                                                           : "quantization method")
                                     : "family (base model)";
    double bottom = put_legend(s, tm, top, 0.25 * tm->height, title, e, n);
    if (k->nseparate) { /* a line of its own, so that its long text does not widen a column of methods */
        Entry sep = {"not a quantization of its base (distilled, scaled, fine-tuned): a point of its own, not joined",
                     0, SAMPLE_MARK, SEPARATE_COLOUR, 0, SEPARATE_PT};
        bottom = put_legend(s, tm, bottom, 0.1 * tm->height, NULL, &sep, 1);
    }
    free(e);
    return bottom;
}

/* Where each point is drawn: at its bits per weight, except that points with equal bits (GPTQ and
 * RTN of one type) that would cover one another (less than near_px apart in height) are spread
 * side by side, step_px pixels apart, in the order of their lines. *moved: some point was moved. */
static double *dodge_bits(const KlData *k, const KlRange *r, Area a, double step_px, double near_px, int *moved) {
    double *x = xmalloc((k->n + 1) * sizeof *x), per_px = (r->x1 - r->x0) / fmax(1, a.R - a.L);
    double *py = xmalloc((k->n + 1) * sizeof *py);
    size_t *cluster = xmalloc((k->n + 1) * sizeof *cluster);
    for (size_t i = 0; i < k->n; i++) {
        double px;
        x[i] = k->p[i].bits;
        kl_point_px(r, a, &k->p[i], x[i], &px, &py[i]);
        cluster[i] = i;
    }
    /* clusters: points of equal bits joined when near in height (transitively) */
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < k->n; i++)
            for (size_t j = i + 1; j < k->n; j++)
                if (k->p[i].bits == k->p[j].bits && fabs(py[i] - py[j]) < near_px && cluster[i] != cluster[j]) {
                    size_t c = cluster[i] < cluster[j] ? cluster[i] : cluster[j];
                    cluster[i] = cluster[j] = c;
                    changed = 1;
                }
    }
    *moved = 0;
    for (size_t c = 0; c < k->n; c++) {
        size_t m = 0;
        for (size_t j = 0; j < k->n; j++) m += cluster[j] == c;
        if (m < 2) continue;
        *moved = 1;
        for (size_t j = 0, rank = 0; j < k->n; j++)
            if (cluster[j] == c) x[j] = k->p[j].bits + ((double)rank++ - (double)(m - 1) / 2) * step_px * per_px;
    }
    free(py);
    free(cluster);
    return x;
}

/* A data block of points: "x kl lo hi" (NaN where there is no interval). */
static void put_kl_block(Buf *s, const char *name, const KlData *k, const double *x, int separate, size_t series) {
    buf_printf(s, "$%s << EOD\n", name);
    for (size_t i = 0; i < k->n; i++) {
        const KlPoint *p = &k->p[i];
        if (p->separate != separate || (!separate && p->series != series)) continue;
        buf_printf(s, "%.10g %.10g", x[i], p->kl);
        if (isnan(p->lo) || isnan(p->hi)) buf_puts(s, " NaN NaN\n");
        else buf_printf(s, " %.10g %.10g\n", p->lo, p->hi);
    }
    buf_puts(s, "EOD\n");
}

void draw_kl(Buf *s, const Term *tm, const KlData *k, const char *title, const char *ylabel, size_t *unlabelled) {
    double em = tm->em, ytick_w;
    KlRange r = kl_range(tm, k, &ytick_w);
    double top = put_title(s, tm, title);
    double legend_bottom = put_kl_legend(s, tm, top, k);

    /* the plot area, fixed so that labels can be placed in pixels */
    Area a = {left_of_yaxis(tm, ytick_w), tm->width - 1.5 * em, bottom_of_xaxis(tm), legend_bottom - 0.9 * em};
    place_area(s, tm, &a);
    buf_printf(s, "set xrange [%g:%g]\nset yrange [%g:%g]\n", r.x0, r.x1, r.y0, r.y1);
    if (r.logy) { /* a tick every decade, or every few when the axis is short */
        double decades = log10(r.y1 / r.y0), fit = fmax(1, floor((a.T - a.B) / (1.6 * em)));
        buf_printf(s, "set logscale y 10\nset format y '%%.0e'\nset ytics 1e%.0f\n", fmax(1, ceil(decades / fit)));
    } else {
        buf_printf(s, "set ytics 0, %.10g\nset format y '%%g'\n", step_for(r.y1, 6, a.T - a.B, em));
    }
    put_xtitle(s, tm, "bits per weight", a.L, a.R);
    put_ytitle(s, tm, ylabel, edge_title_mid(tm), a.B, a.T);
    put_grid(s, "xtics ytics");
    int moved;
    /* moved by about half a point's width, when less than two points' height apart */
    double *x = dodge_bits(k, &r, a, 0.4 * em, 0.9 * LINE_EM * em, &moved);
    if (moved)
        put_text(s, tm, "points with equal bits per weight are drawn side by side", 0, a.R, edge_title_mid(tm),
                 "right", 0.8, 0, "#555555");
    put_point_labels(s, tm, k, x, &r, a, unlabelled);

    char name[32];
    for (size_t f = 0; f < k->series.n; f++) {
        snprintf(name, sizeof name, "f%zu", f);
        put_kl_block(s, name, k, x, 0, f);
    }
    if (k->nseparate) put_kl_block(s, "sep", k, x, 1, 0);
    free(x);
    /* the error bars first, so that the points are drawn over them */
    buf_puts(s, "plot ");
    const char *sep = "";
    /* a point without an interval (NaN NaN) is left out of the bars: gnuplot would draw its bar at 0 */
    for (size_t i = 0; k->has_ci && i < k->series.n; i++, sep = ", \\\n     ")
        buf_printf(s, "%s$f%zu using 1:($3 == $3 ? $2 : 1/0):3:4 with yerrorbars pt 0 lw 1.5 lc rgb '%s' notitle", sep, i, series_colour(i));
    if (k->has_ci && k->nseparate) {
        buf_printf(s, "%s$sep using 1:($3 == $3 ? $2 : 1/0):3:4 with yerrorbars pt 0 lw 1.5 lc rgb '%s' notitle", sep, SEPARATE_COLOUR);
        sep = ", \\\n     ";
    }
    for (size_t i = 0; i < k->series.n; i++, sep = ", \\\n     ")
        buf_printf(s, "%s$f%zu using 1:2 with linespoints lw 2 pt %d ps 1.4 lc rgb '%s' notitle", sep, i,
                   line_point(i), series_colour(i));
    if (k->nseparate)
        buf_printf(s, "%s$sep using 1:2 with points pt %d ps 1.8 lw 2 lc rgb '%s' notitle", sep, SEPARATE_PT,
                   SEPARATE_COLOUR);
    buf_putc(s, '\n');
}

/* ---- drift_kl_distribution: one line per variant over bins of log10 KL ---- */

/* "1e-8", ..., "0.1", "1", "10", "1e2" ...: the label of 10^k on the KL axis. */
static void decade_label(char *t, size_t cap, int k) {
    if (k >= -1 && k <= 1) snprintf(t, cap, "%g", pow(10, k));
    else snprintf(t, cap, "1e%d", k);
}

void draw_dist(Buf *s, const Term *tm, const Dist *d) {
    double em = tm->em;
    size_t nv = d->variants.n;
    double x0 = INFINITY, x1 = -INFINITY, ymax = 0;
    for (size_t i = 0; i < d->n; i++)
        x0 = fmin(x0, d->b[i].lo), x1 = fmax(x1, d->b[i].hi), ymax = fmax(ymax, d->b[i].frac);
    double hi = ymax > 0 ? ymax * 1.08 : 1;

    double top = put_title(s, tm, "Per-position KL(P||Q) over the scored positions: the share of positions in each bin");
    double legend_bottom = put_line_legend(s, tm, top, "variant", &d->variants);

    Area a = {left_of_yaxis(tm, yticks_px(tm, hi, hi)), tm->width - 1.5 * em, bottom_of_xaxis(tm),
              legend_bottom - 0.9 * em};
    place_area(s, tm, &a);
    buf_printf(s, "set xrange [%.10g:%.10g]\nset yrange [0:%.10g]\n", x0, x1, hi);

    /* x: a tick on every decade (every k-th when labels would be closer than 4 ems), labelled
     * with KL itself; the bin edges when not one decade is in range */
    int k0 = (int)ceil(x0 - 1e-9), k1 = (int)floor(x1 + 1e-9);
    char t[32];
    buf_puts(s, "set xtics (");
    if (k1 >= k0) {
        int every = (int)fmax(1, ceil((k1 - k0 + 1) * 4 * em / fmax(1, a.R - a.L)));
        for (int k = k0; k <= k1; k += every) {
            decade_label(t, sizeof t, k);
            buf_printf(s, "%s'%s' %d", k == k0 ? "" : ", ", t, k);
        }
    } else {
        buf_printf(s, "'%.2g' %.10g, '%.2g' %.10g", pow(10, x0), x0, pow(10, x1), x1);
    }
    buf_puts(s, ")\n");
    buf_printf(s, "set ytics 0, %.10g\nset format y '%%g'\n", step_for(hi, 6, a.T - a.B, em));
    put_xtitle(s, tm, "KL(P||Q) at a position, nats (log scale)", a.L, a.R);
    put_ytitle(s, tm, "fraction of the variant's positions", edge_title_mid(tm), a.B, a.T);
    put_grid(s, "xtics ytics");

    /* a point on every few bins, so that the lines can be told apart without colour */
    size_t every = d->most / 12 + 1;
    for (size_t v = 0; v < nv; v++) {
        buf_printf(s, "$v%zu << EOD\n", v);
        for (size_t i = 0; i < d->n; i++)
            if (d->b[i].var == v) buf_printf(s, "%.10g %.10g\n", (d->b[i].lo + d->b[i].hi) / 2, d->b[i].frac);
        buf_puts(s, "EOD\n");
    }
    char marks[48];
    snprintf(marks, sizeof marks, "ps 1.2 pi %zu", every);
    put_lines_plot(s, 'v', nv, marks);
}
