/* coldtok vocab: the composition of one or more vocabularies (definitions in vocab.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "report/table.h"
#include "analysis/vocab.h"
#include "tokenizer/tokenizer.h"

static const char *cmd = "vocab";

static void help(void) {
    printf(
        "usage: coldtok vocab -t TOKENIZER [-t TOKENIZER ...] [--csv FILE] [--format text|md|tex]\n"
        "\n"
        "What a vocabulary is made of: size, special/added tokens, byte-fallback tokens,\n"
        "whitespace-only and indentation tokens by width (spaces and tabs, with and without a\n"
        "leading newline), tokens that decode to nothing printable, identifier-like, digit and\n"
        "punctuation-only tokens, mean bytes per token. Several tokenizers: one column each.\n"
        "\n"
        "  -t, --tokenizer [NAME=]PATH  a tokenizer.json, a .gguf file or a model folder\n"
        "      --csv FILE          tidy CSV: tokenizer,metric,value\n"
        "      --format FMT        text (default), md or tex\n"
        "  -h, --help              this help\n"
        "\n"
        "Definitions (docs/coverage.md has them in full): text tokens are all tokens except unused\n"
        "ids, special, byte-fallback and unknown tokens; the categories below them count text\n"
        "tokens and may overlap; '+space' means after one leading space.\n");
}

typedef struct {
    const char *name, *what;
    int (*get)(const VocabStats *s);
} Metric;

#define M(field) static int get_##field(const VocabStats *s) { return s->field; }
M(size) M(unused) M(special) M(added) M(byte_fallback) M(unknown) M(text) M(whitespace)
M(newlines) M(other_whitespace) M(dead) M(partial_utf8) M(ident) M(ident_space) M(digits)
M(digits_space) M(max_digits) M(punct) M(punct_space)
#undef M

static int sum(const int *h) {
    int n = 0;
    for (int w = 0; w <= VOCAB_MAX_WIDTH; w++) n += h[w];
    return n;
}
static int get_spaces(const VocabStats *s) { return sum(s->spaces); }
static int get_tabs(const VocabStats *s) { return sum(s->tabs); }
static int get_nl_spaces(const VocabStats *s) { return sum(s->nl_spaces); }
static int get_nl_tabs(const VocabStats *s) { return sum(s->nl_tabs); }

static const Metric metrics[] = {
    {"size", "ids (largest id + 1)", get_size},
    {"unused", "unused ids", get_unused},
    {"special", "special tokens", get_special},
    {"byte_fallback", "byte-fallback tokens <0xNN>", get_byte_fallback},
    {"unknown", "unknown token", get_unknown},
    {"text", "text tokens", get_text},
    {"added", "  of which added (not special)", get_added},
    {"whitespace", "whitespace-only", get_whitespace},
    {"indent_spaces", "  spaces only", get_spaces},
    {"indent_tabs", "  tabs only", get_tabs},
    {"newline_spaces", "  newline(s) + spaces", get_nl_spaces},
    {"newline_tabs", "  newline(s) + tabs", get_nl_tabs},
    {"newlines", "  newlines only", get_newlines},
    {"other_whitespace", "  other whitespace", get_other_whitespace},
    {"dead", "dead (nothing printable)", get_dead},
    {"partial_utf8", "partial UTF-8 characters", get_partial_utf8},
    {"identifier", "identifier-like", get_ident},
    {"identifier_space", "identifier-like +space", get_ident_space},
    {"digits", "digits only", get_digits},
    {"digits_space", "digits only +space", get_digits_space},
    {"max_digits", "longest digit token (bytes)", get_max_digits},
    {"punctuation", "punctuation/symbols only", get_punct},
    {"punctuation_space", "punctuation/symbols +space", get_punct_space},
};
#define NMETRICS (sizeof metrics / sizeof *metrics)

typedef struct {
    char *label;
    Tokenizer *tok;
    VocabStats st;
} Source;


/* Widths that any tokenizer has a token for, as rows; one column per tokenizer and shape. */
static Table *width_table(const Source *s, size_t ns) {
    static const char *shape[] = {"spaces", "tabs", "nl+spaces", "nl+tabs"};
    Table *t = table_new();
    table_column(t, "width", 1);
    for (size_t k = 0; k < ns; k++)
        for (int j = 0; j < 4; j++) {
            Buf h = {0};
            if (ns > 1) buf_printf(&h, "%s %s", s[k].label, shape[j]);
            else buf_puts(&h, shape[j]);
            table_column(t, h.data, 1);
            buf_free(&h);
        }
    for (int w = 1; w <= VOCAB_MAX_WIDTH; w++) {
        int any = 0;
        for (size_t k = 0; k < ns; k++)
            any |= s[k].st.spaces[w] | s[k].st.tabs[w] | s[k].st.nl_spaces[w] | s[k].st.nl_tabs[w];
        if (!any) continue;
        table_row(t);
        table_putf(t, 0, w == VOCAB_MAX_WIDTH ? "%d+" : "%d", w);
        for (size_t k = 0; k < ns; k++) {
            const VocabStats *v = &s[k].st;
            int col = 1 + 4 * (int)k;
            table_putf(t, col, "%d", v->spaces[w]);
            table_putf(t, col + 1, "%d", v->tabs[w]);
            table_putf(t, col + 2, "%d", v->nl_spaces[w]);
            table_putf(t, col + 3, "%d", v->nl_tabs[w]);
        }
    }
    return t;
}

static int save_csv(const Source *s, size_t ns, const char *path, Err *err) {
    Table *t = table_new();
    table_column(t, "tokenizer", 0);
    table_column(t, "metric", 0);
    table_column(t, "value", 1);
    static const char *shape[] = {"indent_spaces", "indent_tabs", "newline_spaces", "newline_tabs"};
    for (size_t k = 0; k < ns; k++) {
        for (size_t m = 0; m < NMETRICS; m++) {
            table_row(t);
            table_put(t, 0, s[k].label);
            table_put(t, 1, metrics[m].name);
            table_putf(t, 2, "%d", metrics[m].get(&s[k].st));
        }
        table_row(t);
        table_put(t, 0, s[k].label);
        table_put(t, 1, "mean_bytes");
        table_putf(t, 2, "%.4f", s[k].st.mean_bytes);
        const int *h[] = {s[k].st.spaces, s[k].st.tabs, s[k].st.nl_spaces, s[k].st.nl_tabs};
        for (int j = 0; j < 4; j++)
            for (int w = 1; w <= VOCAB_MAX_WIDTH; w++) {
                if (!h[j][w]) continue;
                table_row(t);
                table_put(t, 0, s[k].label);
                table_putf(t, 1, "%s_%d%s", shape[j], w, w == VOCAB_MAX_WIDTH ? "plus" : "");
                table_putf(t, 2, "%d", h[j][w]);
            }
    }
    int rc = table_save_csv(t, path, err);
    table_free(t);
    return rc;
}

int cmd_vocab(int argc, char **argv) {
    static const struct option opts[] = {
        {"tokenizer", required_argument, NULL, 't'}, {"csv", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char **args = xcalloc((size_t)argc, sizeof *args);
    size_t ns = 0;
    const char *csv = NULL;
    TableFormat fmt = TABLE_TEXT;
    int rc = 0, o;
    optind = 1;
    opterr = 0;
    while ((o = getopt_long(argc, argv, ":t:h", opts, NULL)) != -1) {
        switch (o) {
        case 't': args[ns++] = optarg; break;
        case 'c': csv = optarg; break;
        case 'f':
            if ((rc = cli_parse_format(cmd, optarg, &fmt))) goto done_args;
            break;
        case 'h': help(); goto done_args;
        default: rc = cli_option_error(cmd, o, argv, opts); goto done_args;
        }
    }
    if ((rc = cli_no_operands(cmd, argc, argv))) goto done_args;
    if (!ns) {
        rc = cli_usage_error(cmd, "no tokenizer: give one with -t PATH");
        goto done_args;
    }
    Err err = {{0}};
    Source *src = xcalloc(ns, sizeof *src);
    size_t loaded = 0;
    for (size_t i = 0; i < ns; i++) {
        const char *path = cli_labelled_path(args[i], &src[i].label);
        loaded = i + 1;
        progress("loading %s", path);
        src[i].tok = tok_load(path, &err);
        if (!src[i].tok) goto fail;
        vocab_measure(src[i].tok, &src[i].st);
    }
    progress_done();

    Table *t = table_new();
    table_column(t, "metric", 0);
    for (size_t k = 0; k < ns; k++) table_column(t, src[k].label, 1);
    for (size_t m = 0; m < NMETRICS; m++) {
        table_row(t);
        table_put(t, 0, metrics[m].what);
        for (size_t k = 0; k < ns; k++) table_putf(t, 1 + (int)k, "%d", metrics[m].get(&src[k].st));
        if (!strcmp(metrics[m].name, "added")) {
            table_row(t);
            table_put(t, 0, "  mean bytes per text token");
            for (size_t k = 0; k < ns; k++) table_putf(t, 1 + (int)k, "%.2f", src[k].st.mean_bytes);
        }
    }
    Buf out = {0};
    for (size_t k = 0; k < ns; k++)
        buf_printf(&out, "%s%s: %s, %s, %s\n", fmt == TABLE_TEX ? "% " : "", src[k].label,
                   tok_path(src[k].tok), tok_kind(src[k].tok), tok_pretokenizer(src[k].tok));
    buf_putc(&out, '\n');
    table_render(t, fmt, &out);
    table_free(t);
    buf_puts(&out, fmt == TABLE_TEX ? "\n% indentation tokens by width\n" : "\nindentation tokens by width\n");
    if (fmt == TABLE_MD) buf_putc(&out, '\n');
    t = width_table(src, ns);
    table_render(t, fmt, &out);
    table_free(t);
    fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    if (csv && save_csv(src, ns, csv, &err)) goto fail;
    goto cleanup;
fail:
    progress_done();
    rc = cli_fail(cmd, "%s", err.msg);
cleanup:
    for (size_t i = 0; i < loaded; i++) {
        if (src[i].tok) tok_free(src[i].tok);
        free(src[i].label);
    }
    free(src);
done_args:
    free(args);
    return rc;
}
