/* plot_types: the types of plots/plot.h's API (what the caller asks for, what each figure came to),
 * in a header of their own so that the loading and layout modules can use them without including
 * the driver (plot.c) that calls them. */
#ifndef COLDTOK_PLOT_TYPES_H
#define COLDTOK_PLOT_TYPES_H

typedef enum { PLOT_PNG, PLOT_SVG, PLOT_PDF } PlotFormat;

typedef struct {
    const char *dir;    /* folder with the CSV files */
    const char *figdir; /* folder for the figures, created when missing */
    PlotFormat format;
    int width, height;  /* pixels (PNG, SVG); a PDF is width/100 x height/100 inches */
    int top_keywords;   /* keyword_heatmap: the N keywords that moved most */
} PlotOptions;

#define PLOT_NFIGURES 13

typedef struct {
    const char *name;   /* "pkp_by_language", ... */
    int drawn;
    char path[4096];    /* the figure, when drawn */
    char note[512];     /* what it shows, or why it was skipped */
} PlotFigure;

#endif
