/* coldtok drift: teacher-forced drift of variants from a base on a code corpus (analysis/drift.h):
 * the command line; the tables and CSV files are report/drift_report.h's. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "analysis/drift.h"
#include "analysis/drift_shard.h"
#include "analysis/manifest.h"
#include "analysis/tfboot.h"
#include "report/drift_report.h"
#include "report/run_record.h"
#include "report/table.h"
#include "common/version.h"

static const char HELP[] =
    "usage: coldtok drift -m BASE -m VARIANT [-m VARIANT ...] --corpus DIR|FILE [options]\n"
    "       coldtok drift --manifest FILE --corpus DIR|FILE [options]\n"
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
    "      --max-tokens N    score N / ctx windows (N tokens), shared equally by the languages and\n"
    "                        drawn at random from all their files (--seed; default: every window)\n"
    "      --manifest FILE   the models as a CSV (name,path,kind,bits_per_weight,base[,tokenizer], as\n"
    "                        for coldtok diff): the one entry without a base is the base, every other\n"
    "                        entry a variant compared with it\n"
    "  -t, --tokenizer PATH  tokenizer for every model (default: each model's own)\n"
    "      --keywords FILE   keyword file (LANG<TAB>KEYWORD lines) instead of the built-in lists\n"
    "      --compute MODE    f32 (default, exact) or bf16\n"
    "      --bytes           compare every variant per byte, even on the base's vocabulary\n"
    "      --positions FILE  write one CSV row per scored position and variant\n"
    "      --compare         paired comparisons of every two models on the same positions: ΔKL and\n"
    "                        Δ log-likelihood with paired bootstrap intervals, McNemar's exact test on\n"
    "                        top-1 correctness with the odds ratio, Benjamini–Hochberg over the pairs\n"
    "      --bootstrap N     replicates of the 95% intervals, which resample whole files (default\n"
    "                        1000; 0: none)\n"
    "      --seed N          seed of the bootstrap and of the --max-tokens draw (default 1)\n"
    "  -o, --out DIR         write tidy CSV files there (docs/output.md)\n"
    "      --shard I/N       score only shard I of N (every N-th window of the run, after the\n"
    "                        --max-tokens draw) and write DIR/drift.shard instead of the tables;\n"
    "                        coldtok merge makes the unsharded run's CSV files of all N (docs/scale.md)\n"
    "      --mem-limit SIZE  bounded memory: run the windows in chunks whose buffer fits in SIZE\n"
    "                        (bytes, or with K, M, G, T: KiB ... TiB), the base over a chunk, then each\n"
    "                        variant in turn (per byte too), one model resident at a time; the same\n"
    "                        results as the default schedule, which keeps every model resident\n"
    "                        (docs/scale.md)\n"
    "      --format FMT      text (default), md or tex for the tables on stdout\n";

/* ---- the command ---- */

/* The models in m, the base first: the -m paths (named by model_short_names), or the manifest's
 * entries with its one entry without a base first. */
static int load_models(Manifest *m, const char *manifest, const char **paths, int n, const char *tokenizer,
                       Err *err) {
    if (!manifest) {
        char **names = model_short_names(paths, n);
        for (int i = 0; i < n; i++) manifest_add(m, names[i], paths[i], i ? "" : "base", NULL, tokenizer), free(names[i]);
        free(names);
        return 0;
    }
    if (manifest_load(m, manifest, err)) return -1;
    size_t roots = 0, root = 0;
    for (size_t i = 0; i < m->n; i++)
        if (!m->e[i].base) roots++, root = roots == 1 ? i : root;
    if (roots != 1 || m->n < 2)
        return err_set(err, "%s: drift compares one base with its variants: the manifest needs exactly one entry "
                       "without a base and at least one other (it has %zu entries, %zu without a base)",
                       manifest, m->n, roots);
    Entry e = m->e[root]; /* the base first, the rest in their order */
    memmove(m->e + 1, m->e, root * sizeof *m->e);
    m->e[0] = e;
    for (size_t i = 0; i < m->n; i++)
        if (tokenizer && !m->e[i].tokenizer) m->e[i].tokenizer = xstrdup(tokenizer);
    return manifest_check_tokenizers(m, manifest, err);
}

/* A size in bytes: digits, then optionally K, M, G or T (KiB .. TiB; "KiB" and "KB" read the same).
 * 0 when it is not one, or is 0, or is 2^50 or more. */
static size_t parse_size(const char *s) {
    char *end;
    if (*s < '0' || *s > '9') return 0;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    int shift = 0;
    const char *units = "KMGT", *u = *end ? strchr(units, *end & ~0x20) : NULL;
    if (u && *end) shift = 10 * (int)(u - units + 1), end++;
    if (shift && (!strcmp(end, "iB") || !strcmp(end, "B"))) end += strlen(end);
    if (errno || *end || v == 0 || v >= (1ull << 50) >> shift) return 0;
    return (size_t)(v << shift);
}

static long parse_count(const char *s, long min, long max) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || end == s || *end || v < min || v > max ? -1 : v;
}

/* The settings every shard of one run shares, one "key value" line each (analysis/drift_shard.h):
 * the options that change a number, and every input with its SHA-256, so that merge refuses to
 * mix shards of different runs or of changed inputs. */
static int shard_settings(Buf *b, const TfRun *run, const TfOptions *o, const DriftReportOptions *ro,
                          const Manifest *m, const Corpus *cp, const char *keywords, const char *lang,
                          RunRecord *rec, Err *err) {
    char hex[SHA256_HEX_LEN];
    uint64_t bytes;
    buf_printf(b, "coldtok %s\nctx %d\nmax_tokens %ld\nseed %llu\ncompute %s\nbootstrap %d\ncompare %d\n",
               coldtok_version(), o->ctx, o->max_tokens, (unsigned long long)o->seed,
               o->compute == COMPUTE_BF16 ? "bf16" : "f32", ro->boot_reps, ro->compare);
    buf_printf(b, "shards %d\nlang %s\n", o->nshards, lang ? lang : "(by folder or extension)");
    buf_printf(b, "bytes %d\n", o->bytes_only);
    for (size_t i = 0; i < m->n; i++) {
        if (run_record_model_digest(rec, m->e[i].path, &bytes, hex, err)) return -1;
        buf_printf(b, "model %s\t%s\t%s\n", m->e[i].name, m->e[i].path, hex);
        const char *tp = run->models[i].tokenizer_path;
        if (run_record_model_digest(rec, tp, &bytes, hex, err)) return -1;
        buf_printf(b, "tokenizer %s\t%s\n", tp, hex);
    }
    if (keywords) {
        if (run_record_digest(rec, keywords, hex, &bytes, err)) return -1;
        buf_printf(b, "keywords %s\t%s\n", keywords, hex);
    } else
        buf_printf(b, "keywords built-in %s\n", coldtok_version());
    for (size_t i = 0; i < cp->n; i++) {
        if (run_record_digest(rec, cp->files[i].path, hex, &bytes, err)) return -1;
        buf_printf(b, "corpus %s\t%s\t%s\n", cp->files[i].path, cp->files[i].lang, hex);
    }
    return 0;
}

static int write_shard(const TfRun *run, const TfOptions *o, const DriftReportOptions *ro, const Manifest *m,
                       const Corpus *cp, const char *keywords, const char *lang, RunRecord *rec, const char *outdir,
                       Err *err) {
    Buf st = {0};
    run_record_cache(rec, outdir);
    int rc = shard_settings(&st, run, o, ro, m, cp, keywords, lang, rec, err);
    char *path = xmalloc(strlen(outdir) + sizeof TF_SHARD_FILE + 1);
    sprintf(path, "%s/%s", outdir, TF_SHARD_FILE);
    if (rc == 0) rc = tfshard_write(path, run, o, st.data, err);
    if (rc == 0)
        printf("shard %d/%d: %ld of the run's %ld windows (%ld positions per variant) in %s\n", o->shard + 1,
               o->nshards, run->windows, run->all_windows, run->positions, path);
    free(path);
    buf_free(&st);
    return rc;
}

int cmd_drift(int argc, char **argv) {
    static const struct option longopts[] = {
        {"model", required_argument, 0, 'm'},      {"corpus", required_argument, 0, 'c'},
        {"lang", required_argument, 0, 'l'},       {"ctx", required_argument, 0, 'x'},
        {"max-tokens", required_argument, 0, 'n'}, {"tokenizer", required_argument, 0, 't'},
        {"keywords", required_argument, 0, 'k'},   {"compute", required_argument, 0, 'C'},
        {"bytes", no_argument, 0, 'b'},            {"positions", required_argument, 0, 'p'},
        {"out", required_argument, 0, 'o'},        {"format", required_argument, 0, 'f'},
        {"compare", no_argument, 0, 'P'},          {"bootstrap", required_argument, 0, 'B'},
        {"seed", required_argument, 0, 'S'},       {"manifest", required_argument, 0, 'M'},
        {"shard", required_argument, 0, 'H'},      {"help", no_argument, 0, 'h'},
        {"mem-limit", required_argument, 0, 'L'},
        {0, 0, 0, 0}};
    const char *cmd = "drift";
    TfOptions o = {.ctx = 512, .compute = COMPUTE_F32, .seed = 1};
    const char **models = xcalloc((size_t)argc, sizeof *models);
    const char **corpus = xcalloc((size_t)argc, sizeof *corpus);
    int nmodels = 0, ncorpus = 0, rc = 0, c;
    const char *lang = NULL, *keywords = NULL, *outdir = NULL, *manifest = NULL;
    TableFormat fmt = TABLE_TEXT;
    DriftReportOptions ro = {.boot_reps = TF_BOOT_REPS, .seed = 1};
    const char *positions = NULL;
    optind = 1;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":m:t:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': models[nmodels++] = optarg; break;
        case 'c': corpus[ncorpus++] = optarg; break;
        case 'l': lang = optarg; break;
        case 't': o.tokenizer = optarg; break;
        case 'k': keywords = optarg; break;
        case 'b': o.bytes_only = 1; break;
        case 'p': positions = optarg; break;
        case 'M': manifest = optarg; break;
        case 'o': outdir = optarg; break;
        case 'x':
            o.ctx = (int)parse_count(optarg, 4, 1 << 20);
            if (o.ctx < 0) rc = cli_usage_error(cmd, "--ctx takes a number of tokens from 4 to 1048576");
            break;
        case 'n':
            o.max_tokens = parse_count(optarg, 1, (long)1 << 50);
            if (o.max_tokens < 0) rc = cli_usage_error(cmd, "--max-tokens takes a positive number");
            break;
        case 'P': ro.compare = 1; break;
        case 'L':
            if (!(o.mem_limit = parse_size(optarg)))
                rc = cli_usage_error(cmd, "--mem-limit takes a size from 1 byte to 1023T, e.g. 512M or 4G (got %s)", optarg);
            break;
        case 'H': {
            int i = 0, n = 0, used = 0;
            if (sscanf(optarg, "%d/%d%n", &i, &n, &used) != 2 || optarg[used] || n < 1 || n > 65535 || i < 1 || i > n)
                rc = cli_usage_error(cmd, "--shard takes I/N with 1 <= I <= N <= 65535 (got %s)", optarg);
            o.shard = i - 1, o.nshards = n;
            break;
        }
        case 'B':
            ro.boot_reps = (int)parse_count(optarg, 0, 1000000);
            if (ro.boot_reps < 0) rc = cli_usage_error(cmd, "--bootstrap takes a number of replicates from 0 to 1000000");
            break;
        case 'S': {
            long seed = parse_count(optarg, 0, LONG_MAX);
            if (seed < 0) rc = cli_usage_error(cmd, "--seed takes a non-negative integer");
            ro.seed = o.seed = (uint64_t)seed;
            break;
        }
        case 'C': rc = cli_parse_compute(cmd, optarg, &o.compute); break;
        case 'f': rc = cli_parse_format(cmd, optarg, &fmt); break;
        case 'h':
            fputs(HELP, stdout);
            free(models), free(corpus);
            return 0;
        default: rc = cli_option_error(cmd, c, argv, longopts); break;
        }
    }
    if (rc == 0) rc = cli_no_operands(cmd, argc, argv);
    if (rc == 0 && manifest && nmodels) rc = cli_usage_error(cmd, "give either --manifest or -m, not both");
    if (rc == 0 && !manifest && nmodels < 2)
        rc = cli_usage_error(cmd, "drift needs a base and at least one variant (-m BASE -m VARIANT, or --manifest FILE)");
    if (rc == 0 && ncorpus == 0) rc = cli_usage_error(cmd, "no corpus: give --corpus DIR or FILE");
    if (rc == 0 && o.max_tokens > 0 && o.max_tokens < o.ctx)
        rc = cli_usage_error(cmd, "--max-tokens %ld is less than one window (--ctx %d)", o.max_tokens, o.ctx);
    if (rc == 0 && o.nshards && !outdir) rc = cli_usage_error(cmd, "--shard writes its shard into -o DIR: give -o");
    /* the -o folder first: --positions may name a file inside it */
    if (rc == 0 && outdir) rc = cli_make_dir(cmd, outdir);
    if (rc) {
        free(models), free(corpus);
        return rc;
    }

    DriftPositionsCsv poscsv;
    TfPositionSink sink = drift_positions_csv(&poscsv, positions);
    if (positions) o.positions = &sink;

    RunRecord *rec = run_record_start(argc, argv);
    Err err;
    KwSet kw = {0};
    Corpus cp = {0};
    TfRun run = {0};
    Manifest m = {0};
    rc = load_models(&m, manifest, models, nmodels, o.tokenizer, &err);
    nmodels = (int)m.n;
    models = xrealloc(models, (m.n + 1) * sizeof *models);
    const char **names = xcalloc(m.n + 1, sizeof *names), **toks = xcalloc(m.n + 1, sizeof *toks);
    for (size_t i = 0; i < m.n; i++) models[i] = m.e[i].path, names[i] = m.e[i].name, toks[i] = m.e[i].tokenizer;
    o.models = models;
    o.names = names;
    o.tokenizers = toks;
    o.nmodels = nmodels;
    if (rc == 0) rc = keywords ? kw_load_file(&kw, keywords, &err) : kw_load_builtin(&kw, &err);
    if (rc == 0) rc = corpus_gather(&cp, corpus, ncorpus, lang, &kw, &err);
    if (rc == 0 && cp.n == 0) rc = err_set(&err, "%s: no file of a known language (%zu files skipped)", corpus[0], cp.unknown);
    if (rc == 0) rc = tfrun(&o, &cp, &kw, &run, &err);
    if (rc == 0 && (o.nshards ? run.all_windows : run.windows) == 0)
        rc = err_set(&err, "no file is long enough for one window of %d tokens (%zu files shorter, %zu empty, %zu not UTF-8%s%s)",
                     o.ctx, run.too_short, run.empty, run.not_utf8, run.not_utf8 ? ": " : "",
                     run.not_utf8 ? run.not_utf8_names : "");
    if (rc == 0 && run.not_utf8) /* the table only counts them */
        fprintf(stderr, "coldtok drift: warning: %zu %s not UTF-8, skipped: %s\n", run.not_utf8,
                run.not_utf8 == 1 ? "file is" : "files are", run.not_utf8_names);
    ro.format = fmt, ro.outdir = outdir;
    if (rc == 0 && o.nshards) rc = write_shard(&run, &o, &ro, &m, &cp, keywords, lang, rec, outdir, &err);
    else if (rc == 0) rc = drift_report(&run, &ro, &err);
    if (rc == 0 && outdir) { /* what the folder was made from (report/run_record.h) */
        run_record_threads(rec, fwd_threads());
        run_record_compute(rec, o.compute == COMPUTE_BF16 ? "bf16" : "f32");
        run_record_models(rec, &m);
        if (manifest) run_record_input(rec, "manifest", manifest);
        run_record_keywords(rec, &keywords, keywords ? 1 : 0, !keywords);
        for (size_t i = 0; i < cp.n; i++) run_record_input(rec, "corpus", cp.files[i].path);
        rc = run_record_write(rec, outdir, &err);
    }
    run_record_free(rec);
    if (rc) cli_fail(cmd, "%s", err.msg);
    tfrun_free(&run);
    corpus_free(&cp);
    kw_free(&kw);
    manifest_free(&m);
    free(names), free(toks), free(models), free(corpus);
    return rc ? 1 : 0;
}
