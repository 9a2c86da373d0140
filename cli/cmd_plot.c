/* coldtok plot: gnuplot figures from the CSV files of an analysis folder (plots/plot.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/util.h"
#include "plots/plot.h"

static void plot_help(FILE *out) {
    fprintf(out,
            "usage: coldtok plot DIR -o FIGDIR [--format png|svg|pdf] [--top N] [--size WxH]\n"
            "\n"
            "Draws figures with gnuplot from the CSV files that `coldtok probe/diff/coverage/drift -o DIR`\n"
            "wrote into DIR (docs/output.md), one file per figure in FIGDIR (created when missing):\n"
            "  pkp_by_language       PKP per language, one bar per model       metrics.csv\n"
            "  kl_vs_bits            KL(P||Q) against bits per weight,         metrics.csv, models.csv\n"
            "                        a line per method (rtn, gptq-code, ...),\n"
            "                        distilled/scaled models as points apart\n"
            "  keyword_heatmap       log ratio per variant of the keywords     keywords.csv\n"
            "                        contributing most (p_base x |ln ratio|)\n"
            "  coverage_by_language  keyword coverage per language, one bar    coverage_summary.csv\n"
            "                        per tokenizer\n"
            "  drift_kl_distribution  KL per position, share of positions      drift_kl_hist.csv\n"
            "                         per bin, one line per variant\n"
            "  drift_keyword_vs_other mean KL at keyword / other positions     drift.csv\n"
            "                         per language, one bar per variant\n"
            "  drift_kl_vs_bits       mean KL, same top-1, PPL ratio against   drift.csv,\n"
            "  drift_top1_vs_bits     bits per weight, a line per method,      drift_models.csv\n"
            "  drift_ppl_vs_bits      95%% intervals as error bars\n"
            "  cold_start_stp         STP, NLP, indentation mass: a bar per    metrics.csv\n"
            "  cold_start_nlp         model\n"
            "  cold_start_indent\n"
            "  keyword_concentration  n80..n95 per model, mean over languages  metrics.csv\n"
            "A figure whose CSV file is absent (or holds no rows for it) is skipped, and says so.\n"
            "\n"
            "options:\n"
            "  -o, --output FIGDIR  folder for the figures (required)\n"
            "  -f, --format F       png (default), svg or pdf\n"
            "      --top N          keyword_heatmap: the N keywords contributing most (default 40)\n"
            "      --size WxH       figure size in pixels (default 1200x700; a PDF is W/100 x H/100 in)\n"
            "  -h, --help           this help\n"
            "\n"
            "Needs gnuplot (Debian: gnuplot-nox); COLDTOK_GNUPLOT names another gnuplot program.\n"
            "Exit status: 0 when at least one figure was drawn, 1 on bad input or when nothing could\n"
            "be drawn, 2 on a usage error. See docs/plots.md.\n");
}

static int parse_size(const char *s, int *w, int *h) {
    char *end;
    long a = strtol(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X')) return -1;
    const char *t = end + 1;
    long b = strtol(t, &end, 10);
    if (end == t || *end || a < 200 || b < 150 || a > 10000 || b > 10000) return -1;
    *w = (int)a, *h = (int)b;
    return 0;
}

int cmd_plot(int argc, char **argv) {
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"format", required_argument, NULL, 'f'},
        {"top", required_argument, NULL, 't'},    {"size", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    PlotOptions o = {.format = PLOT_PNG, .width = 1200, .height = 700, .top_keywords = 40};
    optind = 1;
    opterr = 0; /* our own one-line messages */
    int c;
    while ((c = getopt_long(argc, argv, ":o:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o.figdir = optarg;
            break;
        case 'f': {
            int f = plot_format_parse(optarg);
            if (f < 0) return cli_usage_error("plot", "--format: '%s' is not png, svg or pdf", optarg);
            o.format = (PlotFormat)f;
            break;
        }
        case 't': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (end == optarg || *end || n < 1 || n > 10000)
                return cli_usage_error("plot", "--top: '%s' is not a number from 1 to 10000", optarg);
            o.top_keywords = (int)n;
            break;
        }
        case 's':
            if (parse_size(optarg, &o.width, &o.height) < 0)
                return cli_usage_error("plot", "--size: '%s' is not WxH (at least 200x150, at most 10000x10000)", optarg);
            break;
        case 'h':
            plot_help(stdout);
            return 0;
        default:
            return cli_option_error("plot", c, argv, longopts);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("plot", optind >= argc ? "no DIR given" : "one DIR only, got %d", argc - optind);
    if (!o.figdir) return cli_usage_error("plot", "-o FIGDIR is required");
    o.dir = argv[optind];

    PlotFigure figs[PLOT_NFIGURES];
    Buf warnings = {0};
    Err err = {{0}};
    int rc = plot_all(&o, figs, &warnings, &err);
    if (rc < 0) {
        buf_free(&warnings); /* on failure the error is the one line that matters */
        return cli_fail("plot", "%s", err.msg);
    }
    int drawn = 0;
    for (int i = 0; i < PLOT_NFIGURES; i++) drawn += figs[i].drawn;
    if (!drawn) {
        buf_free(&warnings);
        return cli_fail("plot", "%s: nothing to draw (no metrics.csv, keywords.csv, coverage_summary.csv, drift.csv "
                        "or drift_kl_hist.csv with data)",
                        o.dir);
    }
    for (const char *p = warnings.data; p && *p;) { /* one "coldtok plot: warning: ..." line each */
        const char *e = strchr(p, '\n');
        int n = (int)(e ? (size_t)(e - p) : strlen(p));
        fprintf(stderr, "coldtok plot: warning: %.*s\n", n, p);
        p = e ? e + 1 : NULL;
    }
    buf_free(&warnings);
    for (int i = 0; i < PLOT_NFIGURES; i++) {
        if (figs[i].drawn) printf("drew    %s (%s)\n", figs[i].path, figs[i].note);
        else printf("skipped %s: %s\n", figs[i].name, figs[i].note);
    }
    return 0;
}
