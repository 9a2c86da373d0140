/* fig_heatmap: keyword_heatmap (see figures.h): one row per variant, one column per keyword, a
 * colour box on the right; a missing cell is left grey. */
#include "plots/figures.h"

#include <math.h>
#include <stdio.h>

#include "plots/gnuplot.h"

/* The y tics: the variants' names fit to room pixels at scale, the first variant on top. */
static void put_variant_tics(Buf *s, const Term *tm, const Names *variants, double scale, double room) {
    size_t nv = variants->n;
    Buf t = {0};
    buf_puts(s, "set ytics (");
    for (size_t v = 0; v < nv; v++) {
        if (v) buf_puts(s, ", ");
        gp_quote(s, fit_name(tm, variants, v, scale, room, &t), 0);
        buf_printf(s, " %zu", nv - 1 - v);
    }
    buf_printf(s, ") scale 0 font ',%.2f'\n", tm->font * scale);
    buf_free(&t);
}

void draw_heat(Buf *s, const Term *tm, const Heat *h) {
    size_t nk = h->kw.n, nv = h->variants.n;
    double em = tm->em;
    double m = 0;
    for (size_t i = 0; i < nk * nv; i++)
        if (!isnan(h->v[i])) m = fmax(m, fabs(h->v[i]));
    if (m == 0) m = 1;
    char title[160];
    snprintf(title, sizeof title, "The %zu keywords (of %zu) contributing most to the divergence, "
             "ranked by p_base x |ln ratio| summed over the variants", nk, h->total_kw);
    double top = put_title(s, tm, title);
    /* which probability the colours compare, under the title */
    put_text(s, tm, "colour: ln(p_sum variant / p_sum base), p_sum = P(keyword) + P(space + keyword) as the next token "
             "at cold start", 0, tm->width / 2.0, top - 0.5 * LINE_EM * 0.85 * em, "center", 0.85, 0, "#333333");
    top -= LINE_EM * 0.85 * em + 0.3 * em;
    int missing = 0;
    for (size_t i = 0; i < nk * nv; i++) missing |= isnan(h->v[i]);

    /* right of the plot: a gap, the colour box, its tick labels, its label (rotated) */
    double cbticks = 0;
    for (double n = 1; n <= 2.5; n += 0.5) {
        double st = nice_step(m, n);
        cbticks = fmax(cbticks, fmax(ticks_px(tm, "%g", 0, m, st), ticks_px(tm, "%g", -floor(m / st) * st, 0, st)));
    }
    Area a;
    a.T = top - (missing ? LINE_EM * em : 0) - 0.6 * em;
    /* the variants' names take at most 35% of the width: a smaller font, then shorter names */
    double room = 0.35 * tm->width, yscale = fmax(0.8, fmin(1, room / widest_drawn(tm, &h->variants, 1, 1, 0)));
    a.L = 0.5 * em + widest_drawn(tm, &h->variants, 1, yscale, room) + 0.9 * em;
    double box_w = 1.2 * em, right = 1.0 * em + box_w + 0.6 * em + cbticks + 0.6 * em + LINE_EM * em + 0.5 * em;
    a.R = tm->width - right;
    XLabels x = fit_x_axis(tm, &h->kw, &a.L, a.R, 0.45 * tm->height);
    a.B = x.ext + 0.5 * em;
    place_area(s, tm, &a);
    double slot_px = (a.R - a.L) / (double)nk;
    put_xlabels(s, tm, &h->kw, &x);
    put_variant_tics(s, tm, &h->variants, yscale, room);
    buf_puts(s, "set border 0\n");
    buf_printf(s, "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\n", nk - 1, nv - 1);
    double cbstep = step_for(m, 2.5, (a.T - a.B) / 2, em); /* ticks on both sides of 0 */
    buf_printf(s, "set cbrange [%.10g:%.10g]\nset cbtics %.10g\nset format cb '%%g'\n", -m, m, cbstep);
    buf_printf(s, "set colorbox user origin screen %.5f, screen %.5f size screen %.5f, screen %.5f\n",
               (a.R + 1.0 * em) / tm->width, a.B / tm->height, box_w / tm->width, (a.T - a.B) / tm->height);
    put_ytitle(s, tm, "ln(p_sum variant / p_sum base)", tm->width - 0.5 * em - 0.5 * LINE_EM * em, a.B, a.T);
    buf_puts(s, "set palette defined (0 '#2166ac', 0.25 '#92c5de', 0.5 '#f7f7f7', 0.75 '#f4a582', 1 '#b2182b')\n"
                "set object 1 rectangle from graph 0, graph 0 to graph 1, graph 1 behind "
                "fillcolor rgb '#b0b0b0' fillstyle solid noborder\n");
    for (size_t k = 1; k < nk && slot_px >= 8; k++) /* cell borders, while cells are wide enough */
        buf_printf(s, "set arrow from %zu.5, graph 0 to %zu.5, graph 1 nohead front lc rgb 'white' lw 1\n", k - 1, k - 1);
    for (size_t v = 1; v < nv; v++)
        buf_printf(s, "set arrow from graph 0, first %zu.5 to graph 1, first %zu.5 nohead front lc rgb 'white' lw 2\n", v - 1, v - 1);
    if (missing) put_text(s, tm, "grey: no value", 0, a.R, a.T + 0.5 * LINE_EM * em + 0.2 * em, "right", 0.85, 0, "#555555");
    buf_puts(s, "$heat << EOD\n");
    for (size_t v = 0; v < nv; v++) {
        for (size_t k = 0; k < nk; k++) {
            if (isnan(h->v[v * nk + k])) continue; /* no box: the grey background shows */
            buf_printf(s, "%zu %zu %.10g\n", k, nv - 1 - v, h->v[v * nk + k]);
        }
    }
    /* boxes rather than an image: any grid (even 1 x 1) works, and a missing cell stays grey */
    buf_puts(s, "EOD\nset style fill solid 1 noborder\n"
                "plot $heat using 1:2:(0.5):(0.5):3 with boxxyerror fillcolor palette notitle\n");
}
