/* coldtok coverage: keyword coverage of one or more tokenizers (see coverage.h for the measures). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "analysis/coverage.h"
#include "analysis/keywords.h"
#include "common/version.h"
#include "report/row_shard.h"
#include "report/run_record.h"
#include "report/table.h"
#include "tokenizer/tokenizer.h"

static const char *cmd = "coverage";

static void help(void) {
    printf(
        "usage: coldtok coverage -t TOKENIZER [-t TOKENIZER ...] [options]\n"
        "\n"
        "How each tokenizer's vocabulary covers programming-language keywords: for every keyword,\n"
        "the token id of the bare form (\"def\") and of the space-prefixed form (\" def\", stored as\n"
        "\"Ġdef\"/\"▁def\"), the number of tokens each form is encoded into, and the pieces; per\n"
        "language, covered/total, the mean tokens per keyword and the missing keywords.\n"
        "\n"
        "  -t, --tokenizer [NAME=]PATH  a tokenizer.json, a .gguf file or a model folder; repeat to\n"
        "                          compare side by side (NAME labels its column)\n"
        "      --lang A,B          only these languages, in this order (default: all keyword lists;\n"
        "                          control sets such as 'english' only when named)\n"
        "      --keywords FILE     a LANG<TAB>KEYWORD list to use instead of the built-in lists;\n"
        "                          repeat for several files\n"
        "      --builtin           with --keywords: use the built-in lists too\n"
        "      --match RULE        what counts as covered: bare (the keyword is one token: the seed\n"
        "                          paper's exact-match rule), space (\" keyword\" is one token) or\n"
        "                          either (default)\n"
        "      --csv FILE          write one row per tokenizer x keyword (tidy CSV)\n"
        "  -o, --out DIR           write DIR/coverage.csv and DIR/coverage_summary.csv (one row per\n"
        "                          tokenizer x language), the input of `coldtok plot`\n"
        "      --format FMT        text (default), md or tex for the per-language tables\n"
        "      --detail            also print the per-keyword table\n"
        "      --shard I/N         measure only shard I of N (every N-th tokenizer) into -o DIR, with\n"
        "                          DIR/rows.shard; coldtok merge makes the unsharded run's CSV files\n"
        "                          of all N (docs/scale.md)\n"
        "  -h, --help              this help\n"
        "\n"
        "Built-in lists: data/keywords/*.tsv and data/control/*.tsv, found through $COLDTOK_DATA,\n"
        "then next to the executable (data/, ../data/, ../share/coldtok/data/), then ./data.\n");
}

typedef struct {
    char *label;
    Tokenizer *tok;
    Coverage cov;
} Source;

static void missing_lists(const Coverage *c, TableFormat f, Buf *out) {
    for (size_t i = 0; i < c->nlangs; i++) {
        const LangCoverage *l = &c->langs[i];
        if (l->covered == l->count) continue;
        Buf list = {0};
        for (size_t j = l->first; j < l->first + l->count; j++) {
            if (c->items[j].covered) continue;
            const char *w = c->items[j].word;
            if (list.len) buf_puts(&list, ", ");
            if (f == TABLE_MD) md_escape(&list, w, strlen(w)); /* __CLASS__ must not turn bold */
            else buf_puts(&list, w);
        }
        const char *lead = f == TABLE_MD ? "- " : f == TABLE_TEX ? "% " : "  ";
        buf_printf(out, "%smissing in %s (%zu): %s\n", lead, l->lang, l->count - l->covered,
                   list.data);
        buf_free(&list);
    }
}

static double pct(size_t a, size_t b) { return b ? 100.0 * (double)a / (double)b : 0; }

/* Per-language table of one tokenizer. */
static Table *lang_table(const Coverage *c) {
    Table *t = table_new();
    table_column(t, "lang", 0);
    table_column(t, "keywords", 1);
    table_column(t, "covered", 1);
    table_column(t, "%", 1);
    table_column(t, "bare tok/kw", 1);
    table_column(t, "space tok/kw", 1);
    for (size_t i = 0; i <= c->nlangs; i++) {
        int all = i == c->nlangs;
        const LangCoverage *l = all ? NULL : &c->langs[i];
        table_row(t);
        table_put(t, 0, all ? "all" : l->lang);
        table_putf(t, 1, "%zu", all ? c->nitems : l->count);
        table_putf(t, 2, "%zu", all ? c->covered : l->covered);
        table_putf(t, 3, "%.1f", all ? pct(c->covered, c->nitems) : pct(l->covered, l->count));
        table_putf(t, 4, "%.2f", all ? c->mean_bare_ntok : l->mean_bare_ntok);
        table_putf(t, 5, "%.2f", all ? c->mean_space_ntok : l->mean_space_ntok);
    }
    return t;
}

/* One column per tokenizer: covered keywords per language. */
static Table *side_table(const Source *s, size_t ns) {
    Table *t = table_new();
    table_column(t, "lang", 0);
    table_column(t, "keywords", 1);
    for (size_t k = 0; k < ns; k++) table_column(t, s[k].label, 1);
    const Coverage *c0 = &s[0].cov;
    for (size_t i = 0; i <= c0->nlangs; i++) {
        int all = i == c0->nlangs;
        table_row(t);
        table_put(t, 0, all ? "all" : c0->langs[i].lang);
        table_putf(t, 1, "%zu", all ? c0->nitems : c0->langs[i].count);
        for (size_t k = 0; k < ns; k++)
            table_putf(t, 2 + (int)k, "%zu", all ? s[k].cov.covered : s[k].cov.langs[i].covered);
    }
    return t;
}

static void put_id(Table *t, int col, int id) {
    if (id >= 0) table_putf(t, col, "%d", id);
}

static Table *detail_table(const Source *s, size_t ns, int with_label) {
    Table *t = table_new();
    if (with_label) table_column(t, "tokenizer", 0);
    int c = with_label;
    table_column(t, "lang", 0);
    table_column(t, "keyword", 0);
    table_column(t, "bare_id", 1);
    table_column(t, "bare_tokens", 1);
    table_column(t, "bare_pieces", 0);
    table_column(t, "space_id", 1);
    table_column(t, "space_tokens", 1);
    table_column(t, "space_pieces", 0);
    table_column(t, "covered", 1);
    for (size_t k = 0; k < ns; k++) {
        for (size_t i = 0; i < s[k].cov.nitems; i++) {
            const KwCoverage *kc = &s[k].cov.items[i];
            table_row(t);
            if (with_label) table_put(t, 0, s[k].label);
            table_put(t, c + 0, kc->lang);
            table_put(t, c + 1, kc->word);
            put_id(t, c + 2, kc->bare_id);
            table_putf(t, c + 3, "%d", kc->bare_ntok);
            table_put(t, c + 4, kc->bare_pieces);
            put_id(t, c + 5, kc->space_id);
            table_putf(t, c + 6, "%d", kc->space_ntok);
            table_put(t, c + 7, kc->space_pieces);
            table_putf(t, c + 8, "%d", kc->covered);
        }
    }
    return t;
}

/* One row per tokenizer x language (coverage_summary.csv, docs/output.md). */
static Table *summary_table(const Source *s, size_t ns, MatchRule rule) {
    Table *t = table_new();
    const char *cols[] = {"tokenizer", "lang", "keywords", "covered", "coverage",
                          "mean_bare_tokens", "mean_space_tokens", "missing", "match"};
    for (int i = 0; i < 9; i++) table_column(t, cols[i], i >= 2 && i <= 6);
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < s[k].cov.nlangs; i++) {
            const LangCoverage *l = &s[k].cov.langs[i];
            Buf missing = {0};
            for (size_t j = l->first; j < l->first + l->count; j++)
                if (!s[k].cov.items[j].covered)
                    buf_printf(&missing, "%s%s", missing.len ? " " : "", s[k].cov.items[j].word);
            table_row(t);
            table_put(t, 0, s[k].label);
            table_put(t, 1, l->lang);
            table_putf(t, 2, "%zu", l->count);
            table_putf(t, 3, "%zu", l->covered);
            table_putf(t, 4, "%.6g", l->count ? (double)l->covered / (double)l->count : 0);
            table_putf(t, 5, "%.6g", l->mean_bare_ntok);
            table_putf(t, 6, "%.6g", l->mean_space_ntok);
            table_put(t, 7, missing.data ? missing.data : "");
            table_put(t, 8, match_rule_name(rule)); /* the rule travels with the numbers (coldtok plot) */
            buf_free(&missing);
        }
    return t;
}

/* DIR/coverage.csv and DIR/coverage_summary.csv, for `coldtok plot`. */
static int save_dir(const Source *s, size_t ns, MatchRule rule, const char *dir, Err *err) {
    Table *detail = detail_table(s, ns, 1), *summary = summary_table(s, ns, rule);
    const TableFile files[] = {{"coverage.csv", detail}, {"coverage_summary.csv", summary}};
    int rc = table_save_dir(dir, files, 2, err);
    table_free(detail);
    table_free(summary);
    return rc;
}

/* DIR/rows.shard of a coverage shard: the options and every tokenizer as settings, every label a
 * unit, the tokenizers this shard loaded and the keyword files as inputs. */
static int write_coverage_shard(const Source *src, size_t n, const char *const *all_args, char **labels, size_t nall,
                                const char *const *kw_files, size_t nkw, int builtin, const char *langs, MatchRule rule,
                                int shard, int nshards, RunRecord *rec, const char *outdir, Err *err) {
    Buf st = {0};
    buf_printf(&st, "coldtok %s\nmatch %s\nlang %s\nbuiltin %d\n", coldtok_version(), match_rule_name(rule),
               langs ? langs : "(all)", !nkw || builtin);
    for (size_t i = 0; i < nkw; i++) buf_printf(&st, "keywords %s\n", kw_files[i]);
    for (size_t i = 0; i < nall; i++) buf_printf(&st, "tokenizer %s\n", all_args[i]);
    const char **inputs = xcalloc(n + nkw + 1, sizeof *inputs);
    for (size_t i = 0; i < n; i++) inputs[i] = tok_path(src[i].tok);
    for (size_t i = 0; i < nkw; i++) inputs[n + i] = kw_files[i];
    static const char *const files[] = {"coverage.csv", "coverage_summary.csv"};
    RowShard rs = {cmd, shard, nshards, st.data, (const char *const *)labels, nall, inputs, n + nkw, files, 2};
    int rc = rowshard_write(outdir, &rs, rec, err);
    if (rc == 0)
        printf("shard %d/%d: %zu of the run's %zu tokenizers in %s/%s\n", shard + 1, nshards, n, nall, outdir, ROW_SHARD_FILE);
    free(inputs);
    buf_free(&st);
    return rc;
}

/* Makes every label unique by appending #2, #3, ... to repeats. */
static void unique_labels(Source *s, size_t ns) {
    for (size_t i = 1; i < ns; i++) {
        int seen = 1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s[i].label, s[j].label)) seen++;
        if (seen > 1) {
            Buf b = {0};
            buf_printf(&b, "%s#%d", s[i].label, seen);
            free(s[i].label);
            s[i].label = b.data;
        }
    }
}

int cmd_coverage(int argc, char **argv) {
    static const struct option opts[] = {
        {"tokenizer", required_argument, NULL, 't'}, {"lang", required_argument, NULL, 'l'},
        {"keywords", required_argument, NULL, 'k'},  {"builtin", no_argument, NULL, 'b'},
        {"match", required_argument, NULL, 'm'},     {"csv", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},    {"detail", no_argument, NULL, 'd'},
        {"out", required_argument, NULL, 'o'},       {"shard", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    const char **tok_args = xcalloc((size_t)argc, sizeof *tok_args);
    const char **kw_files = xcalloc((size_t)argc, sizeof *kw_files);
    size_t ntok = 0, nkw = 0;
    const char *langs = NULL, *csv = NULL, *outdir = NULL;
    int builtin = 0, detail = 0, rc = 0, shard = 0, nshards = 0;
    MatchRule rule = MATCH_EITHER;
    TableFormat fmt = TABLE_TEXT;
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":t:o:h", opts, NULL)) != -1) {
        switch (o) {
        case 't': tok_args[ntok++] = optarg; break;
        case 'l': langs = optarg; break;
        case 'k': kw_files[nkw++] = optarg; break;
        case 'b': builtin = 1; break;
        case 'c': csv = optarg; break;
        case 'o': outdir = optarg; break;
        case 'd': detail = 1; break;
        case 'm':
            if (match_rule_parse(optarg, &rule)) {
                rc = cli_usage_error(cmd, "--match must be bare, space or either, not '%s'", optarg);
                goto done_args;
            }
            break;
        case 'f':
            if ((rc = cli_parse_format(cmd, optarg, &fmt))) goto done_args;
            break;
        case 'H': {
            int used = 0;
            if (sscanf(optarg, "%d/%d%n", &shard, &nshards, &used) != 2 || optarg[used] || nshards < 1 || nshards > 65535 ||
                shard < 1 || shard > nshards) {
                rc = cli_usage_error(cmd, "--shard takes I/N with 1 <= I <= N <= 65535 (got %s)", optarg);
                goto done_args;
            }
            shard--;
            break;
        }
        case 'h': help(); goto done_args;
        default: rc = cli_option_error(cmd, o, argv, opts); goto done_args;
        }
    }
    if ((rc = cli_no_operands(cmd, argc, argv))) goto done_args;
    if (!ntok) {
        rc = cli_usage_error(cmd, "no tokenizer: give one with -t PATH");
        goto done_args;
    }
    if (nshards && (!outdir || csv)) {
        rc = cli_usage_error(cmd, "--shard writes its shard into -o DIR: give -o (and no --csv)");
        goto done_args;
    }
    if (nshards && (size_t)nshards > ntok) {
        rc = cli_usage_error(cmd, "--shard %d/%d: the run has %zu tokenizers, so some shard would have none", shard + 1, nshards, ntok);
        goto done_args;
    }
    /* the -o folder first: --csv may name a file inside it */
    if (outdir && (rc = cli_make_dir(cmd, outdir))) goto done_args;

    RunRecord *rec = run_record_start(argc, argv);
    Err err = {{0}};
    KwSet kw = {0};
    Source *src = xcalloc(ntok, sizeof *src);
    const char **paths = xcalloc(ntok, sizeof *paths);
    char **labels = xcalloc(ntok, sizeof *labels); /* every tokenizer's, for --shard */
    size_t loaded = 0, nall = ntok;
    for (size_t i = 0; i < ntok; i++) paths[i] = cli_labelled_path(tok_args[i], &src[i].label);
    unique_labels(src, ntok); /* over the whole list, so that a shard's labels are the run's */
    for (size_t i = 0; i < nall; i++) labels[i] = xstrdup(src[i].label);
    if (nshards) { /* this shard's tokenizers only */
        size_t k = 0;
        for (size_t i = 0; i < nall; i++) {
            if (rowshard_owns(i, shard, nshards)) src[k] = src[i], paths[k++] = paths[i];
            else free(src[i].label);
        }
        ntok = k;
    }
    if ((!nkw || builtin) && kw_load_builtin(&kw, &err)) goto fail;
    for (size_t i = 0; i < nkw; i++)
        if (kw_load_file(&kw, kw_files[i], &err)) goto fail;
    if (kw_select(&kw, langs, &err)) goto fail;
    if (!kw.nlangs) {
        err_set(&err, "no keywords to measure");
        goto fail;
    }
    for (size_t i = 0; i < ntok; i++) {
        const char *path = paths[i];
        progress("loading %s", path);
        src[i].tok = tok_load(path, &err);
        loaded = i + 1;
        if (!src[i].tok) goto fail;
        progress("measuring %s", src[i].label);
        if (coverage_compute(src[i].tok, &kw, rule, &src[i].cov, &err)) goto fail;
    }
    progress_done();

    Buf out = {0};
    if (ntok > 1) {
        Buf h = {0};
        buf_printf(&h, "keywords covered (match: %s)", match_rule_name(rule));
        table_heading(&out, fmt, h.data);
        buf_free(&h);
        Table *t = side_table(src, ntok);
        table_render(t, fmt, &out);
        table_free(t);
        buf_putc(&out, '\n');
    }
    for (size_t i = 0; i < ntok; i++) {
        Buf h = {0};
        buf_printf(&h, "%s: %s, %s, %d tokens (match: %s)", src[i].label, tok_path(src[i].tok),
                   tok_kind(src[i].tok), tok_vocab_size(src[i].tok), match_rule_name(rule));
        table_heading(&out, fmt, h.data);
        buf_free(&h);
        Table *t = lang_table(&src[i].cov);
        table_render(t, fmt, &out);
        table_free(t);
        if (fmt == TABLE_MD) buf_putc(&out, '\n');
        missing_lists(&src[i].cov, fmt, &out);
        if (i + 1 < ntok || detail) buf_putc(&out, '\n');
    }
    if (detail) {
        Table *t = detail_table(src, ntok, ntok > 1);
        table_render(t, fmt, &out);
        table_free(t);
    }
    fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);

    if (csv) {
        Table *t = detail_table(src, ntok, 1);
        int bad = table_save_csv(t, csv, &err);
        table_free(t);
        if (bad) goto fail;
    }
    if (outdir && save_dir(src, ntok, rule, outdir, &err)) goto fail;
    if (nshards && write_coverage_shard(src, ntok, tok_args, labels, nall, kw_files, nkw, builtin, langs, rule,
                                        shard, nshards, rec, outdir, &err))
        goto fail;
    if (outdir) { /* what the folder was made from (report/run_record.h) */
        for (size_t i = 0; i < ntok; i++) run_record_input(rec, "tokenizer", tok_path(src[i].tok));
        run_record_keywords(rec, kw_files, nkw, !nkw || builtin);
        if (run_record_write(rec, outdir, &err)) goto fail;
    }
    goto cleanup;
fail:
    progress_done();
    rc = cli_fail(cmd, "%s", err.msg);
cleanup:
    for (size_t i = 0; i < ntok; i++) {
        if (i < loaded) coverage_free(&src[i].cov);
        if (i < loaded && src[i].tok) tok_free(src[i].tok);
        free(src[i].label);
    }
    for (size_t i = 0; i < nall; i++) free(labels[i]);
    free(src), free(paths), free(labels);
    kw_free(&kw);
    run_record_free(rec);
done_args:
    free(tok_args);
    free(kw_files);
    return rc;
}
