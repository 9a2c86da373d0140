/* fig_bars: grouped bars (see figures.h): a group of bars per language, a bar per series, the
 * legend under the title so that the bars keep the full width. */
#include "plots/figures.h"

#include <math.h>
#include <stdlib.h>

/* A value in a data block: NaN for none. */
static void put_number(Buf *s, double v) {
    if (isnan(v)) buf_puts(s, " NaN");
    else buf_printf(s, " %.10g", v);
}

void draw_bars(Buf *s, const Term *tm, const Bars *b, const char *title, const char *ylabel, const char *keytitle,
               double ymax, double hline) {
    size_t ng = b->groups.n, ns = b->series.n;
    double em = tm->em;
    double top = put_title(s, tm, title);

    /* the legend under the title, in rows, so that the bars keep the full width */
    int missing = 0;
    for (size_t i = 0; i < ng * ns; i++) missing |= isnan(b->v[i]);
    Entry *e = xmalloc((ns + 1) * sizeof *e);
    for (size_t i = 0; i < ns; i++)
        e[i] = (Entry){b->series.shown[i], b->series.tail[i], SAMPLE_BOX, series_colour(i), box_pattern(i), 0};
    if (missing) e[ns] = (Entry){"no value", 0, SAMPLE_CROSS, "#222222", 0, 0};
    size_t skip = !keytitle && ns == 1; /* one untitled series: the y axis names it, no legend needed */
    double legend_bottom = put_legend(s, tm, top, 0.3 * tm->height, keytitle, e + skip, ns + (size_t)missing - skip);
    free(e);

    /* y from 0: to ymax, or a little above the highest bar; ticks as many as the height allows,
     * so the left margin is made for the widest labels of any of those steps */
    double top_value = ymax, hi = ymax * 1.04;
    if (ymax <= 0) {
        top_value = 0;
        for (size_t i = 0; i < ng * ns; i++)
            if (b->v[i] > top_value) top_value = b->v[i];
        if (hline > top_value) top_value = hline;
        if (!(top_value > 0)) top_value = 1;
        hi = top_value * 1.08;
    }
    double span = ymax > 0 ? ymax : hi;
    Area a;
    a.T = legend_bottom - 0.9 * em;
    a.L = left_of_yaxis(tm, yticks_px(tm, hi, span));
    a.R = tm->width - 1.0 * em;
    XLabels x = fit_x_axis(tm, &b->groups, &a.L, a.R, 0.45 * tm->height);
    a.B = x.ext + 0.5 * em;
    place_area(s, tm, &a);
    double step = step_for(span, ymax > 0 ? 5 : 6, a.T - a.B, em);
    put_ytitle(s, tm, ylabel, edge_title_mid(tm), a.B, a.T);
    if (hline > 0)
        buf_printf(s, "set arrow from graph 0, first %.10g to graph 1, first %.10g nohead front lw 1.5 dt 2 "
                      "lc rgb '#333333'\n", hline, hline);
    buf_printf(s, "set xrange [-0.5:%zu.5]\n", ng - 1);
    put_xlabels(s, tm, &b->groups, &x);
    buf_printf(s, "set yrange [0:%.10g]\nset ytics 0, %.10g\nset format y '%%g'\n", hi, step);
    put_grid(s, "ytics");
    double w = 0.8 / (double)ns; /* each group spans 0.8 of its slot */
    buf_printf(s, "set boxwidth %g absolute\nset style fill solid 0.9 border lc rgb '#333333'\n", w);

    buf_puts(s, "$bars << EOD\n");
    for (size_t g = 0; g < ng; g++) {
        buf_printf(s, "%zu", g);
        for (size_t i = 0; i < ns; i++) put_number(s, b->v[g * ns + i]);
        buf_putc(s, '\n');
    }
    /* a missing value gets a cross on the axis, so that it does not read as zero */
    buf_puts(s, "EOD\n");
    if (missing) {
        buf_puts(s, "$missing << EOD\n");
        for (size_t g = 0; g < ng; g++)
            for (size_t i = 0; i < ns; i++)
                if (isnan(b->v[g * ns + i])) buf_printf(s, "%g 0\n", (double)g - 0.4 + ((double)i + 0.5) * w);
        buf_puts(s, "EOD\n");
    }
    buf_puts(s, "plot ");
    for (size_t i = 0; i < ns; i++) {
        buf_printf(s, "%s$bars using ($1 - 0.4 + %g):%zu with boxes lc rgb '%s'", i ? ", \\\n     " : "",
                   ((double)i + 0.5) * w, i + 2, series_colour(i));
        if (box_pattern(i)) buf_printf(s, " fillstyle pattern %d border lc rgb '#333333'", box_pattern(i));
        buf_puts(s, " notitle");
    }
    if (missing) buf_puts(s, ", \\\n     $missing using 1:2 with points pt 2 ps 1.2 lw 2 lc rgb '#222222' notitle");
    buf_putc(s, '\n');
}
