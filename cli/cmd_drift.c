/* coldtok drift: teacher-forced drift of variants from a base on a code corpus (analysis/drift.h):
 * the command line, the tables on stdout and the CSV files (docs/output.md). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "analysis/study.h"
#include "report/table.h"
#include "analysis/drift.h"

static const char HELP[] =
    "usage: coldtok drift -m BASE -m VARIANT [-m VARIANT ...] --corpus DIR|FILE [options]\n"
    "\n"
    "How far each variant's next-token distributions drift from the base's while both read real\n"
    "code: every file is cut into windows of --ctx tokens (the start token, then the file's tokens),\n"
    "the second half of each window is scored, and per language and overall the command reports\n"
    "KL(base||variant) (mean, standard error, percentiles), the change of the true token's\n"
    "probability, top-1 agreement, both perplexities and their ratio, and the correlation of the\n"
    "log-likelihoods; the same at positions whose next token starts a keyword, indentation or\n"
    "structural tokens, next to all other positions. A variant on another vocabulary is compared in\n"
    "bits per byte. docs/metrics.md defines every figure. No logits file is written: the models run\n"
    "window by window in one process.\n"
    "\n"
    "  -m, --model PATH      a GGUF file, a .safetensors file or a Hugging Face folder; the first is\n"
    "                        the base (repeatable)\n"
    "      --corpus PATH     a code file or a folder (walked recursively; repeatable)\n"
    "      --lang NAME       the language of every file (default: a folder named after a language,\n"
    "                        else the extension)\n"
    "      --ctx N           window length in tokens (default 512)\n"
    "      --max-tokens N    stop before the base has read more than N tokens (default: all)\n"
    "  -t, --tokenizer PATH  tokenizer for every model (default: each model's own)\n"
    "      --keywords FILE   keyword file (LANG<TAB>KEYWORD lines) instead of the built-in lists\n"
    "      --compute MODE    f32 (default, exact) or bf16\n"
    "      --bytes           compare every variant per byte, even on the base's vocabulary\n"
    "      --positions FILE  write one CSV row per scored position and variant\n"
    "  -o, --out DIR         write tidy CSV files there (docs/output.md)\n"
    "      --format FMT      text (default), md or tex for the tables on stdout\n";

/* ---- numbers into cells ---- */

static void cell(Table *t, int col, const char *fmt, double v) {
    if (isnan(v)) table_put(t, col, "-");
    else table_putf(t, col, fmt, v);
}

static Table *table_with(const char *const *cols) {
    Table *t = table_new();
    for (int i = 0; cols[i]; i++) table_column(t, cols[i] + (cols[i][0] == '#'), cols[i][0] == '#');
    return t;
}

/* ---- the report ---- */

typedef struct {
    Table *tidy;   /* drift.csv */
    Table *hist;   /* drift_kl_hist.csv */
    Table *models; /* drift_models.csv */
    Table *corpus; /* drift_corpus.csv */
} Csvs;

static void tidy_row(Table *t, const char *variant, const char *lang, const char *cls, const char *stat, double v) {
    table_row(t);
    table_put(t, 0, variant);
    table_put(t, 1, lang);
    table_put(t, 2, cls);
    table_put(t, 3, stat);
    if (isnan(v)) table_put(t, 4, "");
    else table_putf(t, 4, "%.10g", v);
}

static void tidy_summary(Table *t, const char *variant, const char *lang, const char *cls, const TfSummary *s) {
    char name[32];
    tidy_row(t, variant, lang, cls, "n", (double)s->n);
    tidy_row(t, variant, lang, cls, "kl_mean", s->kl_mean);
    tidy_row(t, variant, lang, cls, "kl_se", s->kl_se);
    for (int i = 0; i < TF_NPCT; i++) {
        snprintf(name, sizeof name, "kl_%s", TF_PCT_NAME[i]);
        tidy_row(t, variant, lang, cls, name, s->kl_pct[i]);
    }
    for (int i = 0; i < TF_NPCT; i++) {
        snprintf(name, sizeof name, "dp_%s", TF_PCT_NAME[i]);
        tidy_row(t, variant, lang, cls, name, s->dp_pct[i]);
    }
    tidy_row(t, variant, lang, cls, "dp_rms", s->dp_rms);
    tidy_row(t, variant, lang, cls, "same_top1", s->same_top1);
    tidy_row(t, variant, lang, cls, "ppl_base", s->ppl_base);
    tidy_row(t, variant, lang, cls, "ppl_variant", s->ppl_var);
    tidy_row(t, variant, lang, cls, "ln_ppl_ratio", s->ln_ppl_ratio);
    tidy_row(t, variant, lang, cls, "ln_ppl_ratio_se", s->ln_ppl_ratio_se);
    tidy_row(t, variant, lang, cls, "pearson_ll", s->pearson_ll);
}

static const char *class_name(int c) { return c == TF_ALL ? "all" : MARK_NAME[c]; }
static const char *lang_name(const TfRun *r, int l) { return l == r->nlangs ? "all" : r->langs[l]; }

/* The summary of model m's positions in language l and class c. */
static void summarize(const TfRun *r, int m, int l, int c, TfSample *scratch, TfSummary *s) {
    tfrun_select(r, m, l, c, scratch);
    tf_summarize(scratch, s);
}

/* Order of the class columns: all, then keyword, indent, structural, other. */
static const int CLASS_ORDER[TF_CLASSES] = {TF_ALL, MARK_KEYWORD, MARK_INDENT, MARK_STRUCT, MARK_OTHER};

#define HIST_LO (-8.0)
#define HIST_WIDTH 0.1
#define HIST_BINS 100

static void report(const TfRun *r, const TfOptions *o, TableFormat fmt, Csvs *csv) {
    TfSample sc = {0};
    TfSummary s;
    int L = r->nlangs;
    char title[256];

    /* 1. overall, per variant */
    static const char *const OVERALL[] = {"variant", "#positions", "#KL mean", "#± SE", "#KL p99", "#KL max",
                                          "#same top-1", "#Δp RMS", "#PPL base", "#PPL variant", "#PPL ratio",
                                          "#r(ll)", NULL};
    Table *t = table_with(OVERALL);
    for (int m = 1; m < r->nmodels; m++) {
        const TfModel *tm = &r->models[m];
        if (!tm->same_vocab) continue;
        summarize(r, m, L, TF_ALL, &sc, &s);
        table_row(t);
        table_put(t, 0, tm->name);
        table_putf(t, 1, "%zu", s.n);
        cell(t, 2, "%.4g", s.kl_mean);
        cell(t, 3, "%.2g", s.kl_se);
        cell(t, 4, "%.4g", s.kl_pct[2]);
        cell(t, 5, "%.4g", s.kl_pct[0]);
        cell(t, 6, "%.2f%%", 100 * s.same_top1);
        cell(t, 7, "%.4f", s.dp_rms);
        cell(t, 8, "%.3f", s.ppl_base);
        cell(t, 9, "%.3f", s.ppl_var);
        if (isnan(s.ln_ppl_ratio_se)) cell(t, 10, "%.4f", exp(s.ln_ppl_ratio));
        else table_putf(t, 10, "%.4f ± %.4f", exp(s.ln_ppl_ratio), exp(s.ln_ppl_ratio) * s.ln_ppl_ratio_se);
        cell(t, 11, "%.5f", s.pearson_ll);
    }
    snprintf(title, sizeof title, "Drift from %s over %ld positions (ctx %d, second half of each window)",
             r->models[0].name, r->positions, o->ctx);
    if (table_nrows(t)) table_print(t, fmt, title);
    table_free(t);

    /* 2. per position class */
    static const char *const CLASSES[] = {"variant", "next token", "#positions", "#KL mean", "#± SE", "#KL p99",
                                          "#same top-1", "#Δp RMS", "#PPL ratio", NULL};
    t = table_with(CLASSES);
    for (int m = 1; m < r->nmodels; m++) {
        if (!r->models[m].same_vocab) continue;
        for (int k = 0; k < TF_CLASSES; k++) {
            summarize(r, m, L, CLASS_ORDER[k], &sc, &s);
            table_row(t);
            table_put(t, 0, r->models[m].name);
            table_put(t, 1, class_name(CLASS_ORDER[k]));
            table_putf(t, 2, "%zu", s.n);
            cell(t, 3, "%.4g", s.kl_mean);
            cell(t, 4, "%.2g", s.kl_se);
            cell(t, 5, "%.4g", s.kl_pct[2]);
            cell(t, 6, "%.2f%%", 100 * s.same_top1);
            cell(t, 7, "%.4f", s.dp_rms);
            cell(t, 8, "%.4f", exp(s.ln_ppl_ratio));
        }
    }
    if (table_nrows(t)) table_print(t, fmt, "Where the drift happens: by the class of the true next token");
    table_free(t);

    /* 3. per language */
    static const char *const LANGS[] = {"variant", "lang", "#positions", "#KL mean", "#± SE", "#KL keyword",
                                        "#KL other", "#keyword/other", "#same top-1", "#PPL ratio", NULL};
    t = table_with(LANGS);
    for (int m = 1; m < r->nmodels; m++) {
        if (!r->models[m].same_vocab) continue;
        for (int l = 0; l < L; l++) {
            TfSummary kw, other;
            summarize(r, m, l, TF_ALL, &sc, &s);
            if (s.n == 0) continue;
            summarize(r, m, l, MARK_KEYWORD, &sc, &kw);
            summarize(r, m, l, MARK_OTHER, &sc, &other);
            table_row(t);
            table_put(t, 0, r->models[m].name);
            table_put(t, 1, r->langs[l]);
            table_putf(t, 2, "%zu", s.n);
            cell(t, 3, "%.4g", s.kl_mean);
            cell(t, 4, "%.2g", s.kl_se);
            cell(t, 5, "%.4g", kw.kl_mean);
            cell(t, 6, "%.4g", other.kl_mean);
            cell(t, 7, "%.3f", kw.kl_mean / other.kl_mean);
            cell(t, 8, "%.2f%%", 100 * s.same_top1);
            cell(t, 9, "%.4f", exp(s.ln_ppl_ratio));
        }
    }
    if (table_nrows(t)) table_print(t, fmt, "Per language");
    table_free(t);

    /* 4. variants compared per byte */
    static const char *const BYTES[] = {"variant", "lang", "#bytes", "#bpb base", "#bpb variant", "#Δ bpb",
                                        "#keyword bpb base", "#keyword bpb variant", NULL};
    t = table_with(BYTES);
    for (int m = 1; m < r->nmodels; m++) {
        if (r->models[m].same_vocab) continue;
        for (int l = 0; l <= L; l++) {
            const TfBytes *b = tfrun_bytes(r, m, l, TF_ALL), *k = tfrun_bytes(r, m, l, MARK_KEYWORD);
            if (b->bytes == 0) continue;
            table_row(t);
            table_put(t, 0, r->models[m].name);
            table_put(t, 1, lang_name(r, l));
            table_putf(t, 2, "%zu", b->bytes);
            cell(t, 3, "%.4f", tf_bits_per_byte(b->nll_base, b->bytes));
            cell(t, 4, "%.4f", tf_bits_per_byte(b->nll_var, b->bytes));
            cell(t, 5, "%+.4f", tf_bits_per_byte(b->nll_var - b->nll_base, b->bytes));
            cell(t, 6, "%.4f", tf_bits_per_byte(k->nll_base, k->bytes));
            cell(t, 7, "%.4f", tf_bits_per_byte(k->nll_var, k->bytes));
        }
    }
    if (table_nrows(t)) table_print(t, fmt, "Variants compared per byte (bits per byte over the bytes both scored)");
    table_free(t);

    /* 5. the corpus */
    static const char *const CORPUS[] = {"files", "#scored", "#empty", "#not UTF-8", "#shorter than a window",
                                         "#no language", "#unaligned", "#windows", "#seconds", "#tokens/s", NULL};
    t = table_with(CORPUS);
    table_row(t);
    table_putf(t, 0, "%zu", r->files + r->unknown);
    table_putf(t, 1, "%zu", r->scored);
    table_putf(t, 2, "%zu", r->empty);
    table_putf(t, 3, "%zu", r->not_utf8);
    table_putf(t, 4, "%zu", r->too_short);
    table_putf(t, 5, "%zu", r->unknown);
    table_putf(t, 6, "%zu", r->unaligned);
    table_putf(t, 7, "%ld", r->windows);
    table_putf(t, 8, "%.1f", r->seconds);
    long tokens = 0;
    for (int m = 0; m < r->nmodels; m++) tokens += r->models[m].tokens;
    cell(t, 9, "%.0f", r->seconds > 0 ? (double)tokens / r->seconds : NAN);
    table_print(t, fmt, "Corpus (tokens/s: every model's tokens)");
    table_free(t);

    if (!csv) {
        tf_sample_free(&sc);
        return;
    }
    /* drift.csv: every (variant, language, class) with positions; bpb rows for byte comparisons */
    for (int m = 1; m < r->nmodels; m++) {
        const char *name = r->models[m].name;
        for (int l = 0; l <= L; l++)
            for (int k = 0; k < TF_CLASSES; k++) {
                int c = CLASS_ORDER[k];
                if (r->models[m].same_vocab) {
                    summarize(r, m, l, c, &sc, &s);
                    if (s.n) tidy_summary(csv->tidy, name, lang_name(r, l), class_name(c), &s);
                } else {
                    const TfBytes *b = tfrun_bytes(r, m, l, c);
                    if (b->bytes == 0) continue;
                    tidy_row(csv->tidy, name, lang_name(r, l), class_name(c), "bytes", (double)b->bytes);
                    tidy_row(csv->tidy, name, lang_name(r, l), class_name(c), "bpb_base", tf_bits_per_byte(b->nll_base, b->bytes));
                    tidy_row(csv->tidy, name, lang_name(r, l), class_name(c), "bpb_variant", tf_bits_per_byte(b->nll_var, b->bytes));
                }
            }
        if (r->models[m].same_vocab) {
            size_t counts[HIST_BINS];
            tf_histogram(&r->models[m].pos, HIST_LO, HIST_WIDTH, HIST_BINS, counts);
            for (int i = 0; i < HIST_BINS; i++) {
                table_row(csv->hist);
                table_put(csv->hist, 0, name);
                table_putf(csv->hist, 1, "%.1f", HIST_LO + i * HIST_WIDTH);
                table_putf(csv->hist, 2, "%.1f", HIST_LO + (i + 1) * HIST_WIDTH);
                table_putf(csv->hist, 3, "%zu", counts[i]);
            }
        }
    }
    for (int m = 0; m < r->nmodels; m++) {
        const TfModel *tm = &r->models[m];
        table_row(csv->models);
        table_put(csv->models, 0, tm->name);
        table_put(csv->models, 1, m == 0 ? "base" : "variant");
        table_put(csv->models, 2, tm->path);
        table_put(csv->models, 3, tm->tokenizer_path);
        table_put(csv->models, 4, m == 0 ? "" : tm->same_vocab ? "1" : "0");
        table_putf(csv->models, 5, "%d", tm->n_vocab);
        cell(csv->models, 6, "%.4f", tm->bpw);
        table_putf(csv->models, 7, "%ld", tm->tokens);
    }
    const struct {
        const char *name;
        double v;
    } corpus[] = {{"ctx", o->ctx},           {"files", (double)(r->files + r->unknown)},
                  {"scored", (double)r->scored}, {"empty", (double)r->empty},
                  {"not_utf8", (double)r->not_utf8}, {"shorter_than_window", (double)r->too_short},
                  {"no_language", (double)r->unknown}, {"unaligned", (double)r->unaligned},
                  {"windows", (double)r->windows}, {"positions", (double)r->positions},
                  {"seconds", r->seconds}};
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        table_row(csv->corpus);
        table_put(csv->corpus, 0, corpus[i].name);
        table_putf(csv->corpus, 1, "%.10g", corpus[i].v);
    }
    tf_sample_free(&sc);
}

static int save(const Csvs *c, const char *dir, Err *err) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return err_set(err, "%s: %s", dir, strerror(errno));
    const struct {
        const char *file;
        const Table *t;
    } files[] = {{"drift.csv", c->tidy}, {"drift_kl_hist.csv", c->hist}, {"drift_models.csv", c->models},
                 {"drift_corpus.csv", c->corpus}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        Buf path = {0};
        buf_printf(&path, "%s/%s", dir, files[i].file);
        int rc = table_save_csv(files[i].t, path.data, err);
        buf_free(&path);
        if (rc) return -1;
    }
    return 0;
}

/* ---- the command ---- */

static long parse_count(const char *s, long min, long max) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || end == s || *end || v < min || v > max ? -1 : v;
}

int cmd_drift(int argc, char **argv) {
    static const struct option longopts[] = {
        {"model", required_argument, 0, 'm'},      {"corpus", required_argument, 0, 'c'},
        {"lang", required_argument, 0, 'l'},       {"ctx", required_argument, 0, 'x'},
        {"max-tokens", required_argument, 0, 'n'}, {"tokenizer", required_argument, 0, 't'},
        {"keywords", required_argument, 0, 'k'},   {"compute", required_argument, 0, 'C'},
        {"bytes", no_argument, 0, 'b'},            {"positions", required_argument, 0, 'p'},
        {"out", required_argument, 0, 'o'},        {"format", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},             {0, 0, 0, 0}};
    const char *cmd = "drift";
    TfOptions o = {.ctx = 512, .compute = COMPUTE_F32};
    const char **models = xcalloc((size_t)argc, sizeof *models);
    const char **corpus = xcalloc((size_t)argc, sizeof *corpus);
    int nmodels = 0, ncorpus = 0, rc = 0, c;
    const char *lang = NULL, *keywords = NULL, *outdir = NULL;
    TableFormat fmt = TABLE_TEXT;
    optind = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, "m:t:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': models[nmodels++] = optarg; break;
        case 'c': corpus[ncorpus++] = optarg; break;
        case 'l': lang = optarg; break;
        case 't': o.tokenizer = optarg; break;
        case 'k': keywords = optarg; break;
        case 'b': o.bytes_only = 1; break;
        case 'p': o.positions_csv = optarg; break;
        case 'o': outdir = optarg; break;
        case 'x':
            o.ctx = (int)parse_count(optarg, 4, 1 << 20);
            if (o.ctx < 0) rc = cli_usage_error(cmd, "--ctx takes a number of tokens from 4 to 1048576");
            break;
        case 'n':
            o.max_tokens = parse_count(optarg, 1, (long)1 << 50);
            if (o.max_tokens < 0) rc = cli_usage_error(cmd, "--max-tokens takes a positive number");
            break;
        case 'C': rc = cli_parse_compute(cmd, optarg, &o.compute); break;
        case 'f': rc = cli_parse_format(cmd, optarg, &fmt); break;
        case 'h':
            fputs(HELP, stdout);
            free(models), free(corpus);
            return 0;
        default: rc = 2; break;
        }
    }
    if (rc == 0) rc = cli_no_operands(cmd, argc, argv);
    if (rc == 0 && nmodels < 2) rc = cli_usage_error(cmd, "drift needs a base and at least one variant (-m BASE -m VARIANT)");
    if (rc == 0 && ncorpus == 0) rc = cli_usage_error(cmd, "no corpus: give --corpus DIR or FILE");
    if (rc == 0 && o.max_tokens > 0 && o.max_tokens < o.ctx)
        rc = cli_usage_error(cmd, "--max-tokens %ld is less than one window (--ctx %d)", o.max_tokens, o.ctx);
    if (rc) {
        free(models), free(corpus);
        return rc;
    }

    char **names = model_short_names(models, nmodels);
    o.models = models;
    o.names = (const char *const *)names;
    o.nmodels = nmodels;

    Err err;
    KwSet kw = {0};
    Corpus cp = {0};
    TfRun run = {0};
    rc = keywords ? kw_load_file(&kw, keywords, &err) : kw_load_builtin(&kw, &err);
    if (rc == 0) rc = corpus_gather(&cp, corpus, ncorpus, lang, &kw, &err);
    if (rc == 0 && cp.n == 0) rc = err_set(&err, "%s: no file of a known language (%zu files skipped)", corpus[0], cp.unknown);
    if (rc == 0) rc = tfrun(&o, &cp, &kw, &run, &err);
    if (rc == 0 && run.windows == 0)
        rc = err_set(&err, "no file is long enough for one window of %d tokens (%zu files shorter, %zu empty, %zu not UTF-8)",
                     o.ctx, run.too_short, run.empty, run.not_utf8);
    if (rc == 0) {
        Csvs csv = {0};
        if (outdir) {
            static const char *const TIDY[] = {"variant", "lang", "positions", "statistic", "#value", NULL};
            static const char *const HIST[] = {"variant", "#log10_kl_lo", "#log10_kl_hi", "#count", NULL};
            static const char *const MODELS[] = {"model", "role", "path", "tokenizer", "#same_vocab", "#n_vocab",
                                                 "#bits_per_weight", "#tokens", NULL};
            static const char *const CORPUS[] = {"statistic", "#value", NULL};
            csv.tidy = table_with(TIDY), csv.hist = table_with(HIST);
            csv.models = table_with(MODELS), csv.corpus = table_with(CORPUS);
        }
        report(&run, &o, fmt, outdir ? &csv : NULL);
        if (outdir) {
            rc = save(&csv, outdir, &err);
            if (rc == 0) printf("\nwrote %s/drift.csv, drift_kl_hist.csv, drift_models.csv, drift_corpus.csv\n", outdir);
            table_free(csv.tidy), table_free(csv.hist), table_free(csv.models), table_free(csv.corpus);
        }
    }
    if (rc) cli_fail(cmd, "%s", err.msg);
    tfrun_free(&run);
    corpus_free(&cp);
    kw_free(&kw);
    for (int i = 0; i < nmodels; i++) free(names[i]);
    free(names), free(models), free(corpus);
    return rc ? 1 : 0;
}
