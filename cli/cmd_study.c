/* coldtok probe / coldtok diff: the command lines of the cold-start study (analysis/study.h), shown
 * by report/study_report.h. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "analysis/manifest.h"
#include "analysis/study.h"
#include "common/version.h"
#include "report/row_shard.h"
#include "report/run_record.h"
#include "report/study_report.h"

static const char PROBE_HELP[] =
    "usage: coldtok probe -m MODEL [-m MODEL ...] [options]\n"
    "\n"
    "The cold-start distribution of each model: one forward pass over the context token, then the\n"
    "probability mass on every language's keywords (PKP, KAP, p_seq), structural tokens (STP),\n"
    "indentation, the English control set (NLP), entropy and the top tokens. docs/metrics.md\n"
    "defines every figure.\n"
    "\n"
    "  -m, --model PATH      a GGUF file, a .safetensors file or a Hugging Face folder (repeatable)\n"
    "  -t, --tokenizer PATH  tokenizer to use (default: the model's own)\n"
    "      --context SPEC    bos (default: the BOS token, else EOS), a token id, a token string,\n"
    "                        or ids separated by commas (1,822) for a context of several tokens;\n"
    "                        repeat to compare start tokens\n"
    "      --context-text T  a context made of text: the start token (BOS, else EOS), then T\n"
    "                        encoded by the model's tokenizer (as `coldtok encode`, which adds no\n"
    "                        BOS itself); repeatable, in order with --context\n"
    "      --lang LIST       comma-separated languages (default: all built-in)\n"
    "      --keywords FILE   keyword file (LANG<TAB>KEYWORD lines) instead of the built-in lists\n"
    "      --top N           top tokens to show (default 10)\n"
    "      --compute MODE    f32 (default, exact) or bf16\n"
    "  -o, --out DIR         write tidy CSV files there (docs/output.md)\n"
    "      --format FMT      text (default), md or tex for the tables on stdout\n"
    "      --shard I/N       measure only shard I of N (every N-th model) into -o DIR, with\n"
    "                        DIR/rows.shard; coldtok merge makes the unsharded run's CSV files\n"
    "                        of all N (docs/scale.md)\n";

static const char DIFF_HELP[] =
    "usage: coldtok diff -m BASE -m VARIANT [-m VARIANT ...] [options]\n"
    "       coldtok diff --manifest FILE [options]\n"
    "\n"
    "How far each variant's cold-start distribution moved from its base: KL both ways, JS, total\n"
    "variation, top-1 agreement, top-10/100 overlap, Spearman of keyword probabilities, keyword KL,\n"
    "change of keyword mass per language, and the keywords that moved most. Variants on another\n"
    "vocabulary are compared on keyword strings through p_seq (the output says so).\n"
    "Models run one after another; memory holds one model at a time.\n"
    "\n"
    "  -m, --model PATH      the first is the base, the others its variants\n"
    "      --manifest FILE   CSV with columns name,path,kind,bits_per_weight,base\n"
    "                        (kind: fp16|quant|distill|finetune|scale; blank base = a base model;\n"
    "                        blank bits_per_weight = read from the file)\n"
    "  -t, --tokenizer PATH  tokenizer for every model (default: each model's own)\n"
    "      --context SPEC    as in probe (default bos)\n"
    "      --context-text T  as in probe: the start token, then the text's tokens\n"
    "      --lang LIST, --keywords FILE, --compute MODE, -o DIR, --format FMT   as in probe\n"
    "      --shard I/N       as in probe: every N-th model (a variant's base is run with it)\n";

/* The sub-list shard SHARD of NSHARDS runs: its own models (rowshard_owns, in the list's order)
 * and the bases they are compared with. A base run only for its variants keeps no base of its own
 * (its rows are not this shard's: merge drops them). */
static void shard_manifest(const Manifest *m, int shard, int nshards, Manifest *sub) {
    char *need = xcalloc(m->n + 1, 1);
    for (size_t i = 0; i < m->n; i++) {
        if (!rowshard_owns(i, shard, nshards)) continue;
        need[i] = 2;
        for (size_t j = 0; m->e[i].base && j < m->n; j++)
            if (!strcmp(m->e[j].name, m->e[i].base) && !need[j]) need[j] = 1;
    }
    for (size_t i = 0; i < m->n; i++) {
        const Entry *e = &m->e[i];
        if (!need[i]) continue;
        manifest_add(sub, e->name, e->path, e->kind, need[i] == 2 ? e->base : NULL, e->tokenizer);
        sub->e[sub->n - 1].bpw = e->bpw, sub->e[sub->n - 1].line = e->line;
    }
    free(need);
}

/* DIR/rows.shard of a probe or diff shard: the options and models as settings, every model a
 * unit, the files this shard read as inputs. */
static int write_study_shard(const char *cmd, const StudyOptions *o, int shard, int nshards, const Manifest *m,
                             const Manifest *sub, RunRecord *rec, const char *outdir, Err *err) {
    Buf st = {0};
    buf_printf(&st, "coldtok %s\ntop %d\ncompute %s\nlang %s\n", coldtok_version(), o->top_n,
               o->compute == COMPUTE_BF16 ? "bf16" : "f32", o->langs ? o->langs : "(all)");
    buf_printf(&st, "keywords %s\n", o->keywords_file ? o->keywords_file : "built-in");
    for (int c = 0; c < o->ncontexts; c++)
        buf_printf(&st, "context %s %s\n", o->context_is_text && o->context_is_text[c] ? "text" : "spec", o->contexts[c]);
    const char **units = xcalloc(m->n + 1, sizeof *units), **inputs = xcalloc(2 * sub->n + 2, sizeof *inputs);
    char **toks = xcalloc(sub->n + 1, sizeof *toks);
    size_t ninputs = 0;
    for (size_t i = 0; i < m->n; i++) {
        const Entry *e = &m->e[i];
        units[i] = e->name;
        buf_printf(&st, "model %s\t%s\t%s\t%s\t%s\t%.17g\n", e->name, e->path, e->kind, e->base ? e->base : "",
                   e->tokenizer ? e->tokenizer : "", e->bpw);
    }
    for (size_t i = 0; i < sub->n; i++) {
        toks[i] = model_tokenizer_path(sub->e[i].path, sub->e[i].tokenizer);
        inputs[ninputs++] = sub->e[i].path;
        if (strcmp(toks[i], sub->e[i].path)) inputs[ninputs++] = toks[i];
    }
    if (o->keywords_file) inputs[ninputs++] = o->keywords_file;
    static const char *const files[] = {"models.csv", "metrics.csv", "keywords.csv", "indent.csv", "top_tokens.csv"};
    RowShard rs = {cmd, shard, nshards, st.data, units, m->n, inputs, ninputs, files, 5};
    int rc = rowshard_write(outdir, &rs, rec, err);
    if (rc == 0) {
        size_t own = 0;
        for (size_t i = 0; i < m->n; i++) own += (size_t)rowshard_owns(i, shard, nshards);
        printf("shard %d/%d: %zu of the run's %zu models (%zu run) in %s/%s\n", shard + 1, nshards, own, m->n, sub->n,
               outdir, ROW_SHARD_FILE);
    }
    for (size_t i = 0; i < sub->n; i++) free(toks[i]);
    free(toks), free(units), free(inputs);
    buf_free(&st);
    return rc;
}

static int run(int argc, char **argv, int is_diff) {
    const char *cmd = is_diff ? "diff" : "probe";
    static const struct option longopts[] = {
        {"model", required_argument, 0, 'm'},     {"tokenizer", required_argument, 0, 't'},
        {"context", required_argument, 0, 'c'},   {"lang", required_argument, 0, 'l'},
        {"keywords", required_argument, 0, 'k'},  {"top", required_argument, 0, 'n'},
        {"compute", required_argument, 0, 'C'},   {"out", required_argument, 0, 'o'},
        {"format", required_argument, 0, 'f'},    {"manifest", required_argument, 0, 'M'},
        {"context-text", required_argument, 0, 'T'}, {"shard", required_argument, 0, 'H'},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
    StudyOptions o = {.compute = COMPUTE_F32, .top_n = 10};
    StudyReportOptions ro = {.per_model = !is_diff, .format = TABLE_TEXT};
    const char **models = xcalloc((size_t)argc, sizeof *models);
    o.contexts = xcalloc((size_t)argc + 1, sizeof *o.contexts);
    int *is_text = xcalloc((size_t)argc + 1, sizeof *is_text);
    o.context_is_text = is_text;
    int nmodels = 0, rc = 0, shard = 0, nshards = 0;
    const char *tokenizer = NULL, *manifest = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":m:t:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': models[nmodels++] = optarg; break;
        case 't': tokenizer = optarg; break;
        case 'c': o.contexts[o.ncontexts++] = optarg; break;
        case 'T':
            is_text[o.ncontexts] = 1;
            o.contexts[o.ncontexts++] = optarg;
            break;
        case 'l': o.langs = optarg; break;
        case 'k': o.keywords_file = optarg; break;
        case 'o': ro.outdir = optarg; break;
        case 'M':
            if (!is_diff) rc = cli_usage_error(cmd, "--manifest belongs to coldtok diff");
            manifest = optarg;
            break;
        case 'n':
            o.top_n = atoi(optarg);
            if (o.top_n < 1 || o.top_n > 100000) rc = cli_usage_error(cmd, "--top takes a number from 1 to 100000");
            break;
        case 'C': rc = cli_parse_compute(cmd, optarg, &o.compute); break;
        case 'f': rc = cli_parse_format(cmd, optarg, &ro.format); break;
        case 'H': {
            int used = 0;
            if (sscanf(optarg, "%d/%d%n", &shard, &nshards, &used) != 2 || optarg[used] || nshards < 1 || nshards > 65535 ||
                shard < 1 || shard > nshards)
                rc = cli_usage_error(cmd, "--shard takes I/N with 1 <= I <= N <= 65535 (got %s)", optarg);
            shard--;
            break;
        }
        case 'h':
            fputs(is_diff ? DIFF_HELP : PROBE_HELP, stdout);
            free(models);
            free(o.contexts);
            free(is_text);
            return 0;
        default: rc = cli_option_error(cmd, c, argv, longopts); break;
        }
    }
    if (rc == 0) rc = cli_no_operands(cmd, argc, argv);
    if (rc == 0 && manifest && nmodels) rc = cli_usage_error(cmd, "give either --manifest or -m, not both");
    if (rc == 0 && !manifest && nmodels == 0) rc = cli_usage_error(cmd, "no model: give -m MODEL%s", is_diff ? " twice or --manifest FILE" : "");
    if (rc == 0 && is_diff && !manifest && nmodels < 2) rc = cli_usage_error(cmd, "diff needs a base and at least one variant (-m BASE -m VARIANT)");
    if (rc == 0 && nshards && !ro.outdir) rc = cli_usage_error(cmd, "--shard writes its shard into -o DIR: give -o");
    if (rc == 0 && ro.outdir) rc = cli_make_dir(cmd, ro.outdir);
    if (rc != 0) {
        free(models);
        free(o.contexts);
        free(is_text);
        return rc;
    }
    if (o.ncontexts == 0) o.contexts[o.ncontexts++] = "bos";

    RunRecord *rec = run_record_start(argc, argv);
    if (ro.outdir) { /* models.csv and run.json share one digest per file, through DIR's hash cache */
        run_record_cache(rec, ro.outdir);
        ro.record = rec;
    }
    Manifest m = {0};
    Err err;
    if (manifest) {
        rc = manifest_load(&m, manifest, &err);
        if (rc == 0 && tokenizer)
            for (size_t i = 0; i < m.n; i++)
                if (!m.e[i].tokenizer) m.e[i].tokenizer = xstrdup(tokenizer);
        if (rc == 0) rc = manifest_check_tokenizers(&m, manifest, &err);
    } else {
        char **names = model_short_names(models, nmodels);
        for (int i = 0; i < nmodels; i++) {
            const char *base = is_diff && i > 0 ? names[0] : NULL;
            manifest_add(&m, names[i], models[i], is_diff ? (i ? "" : "base") : "", base, tokenizer);
        }
        for (int i = 0; i < nmodels; i++) free(names[i]);
        free(names);
        rc = manifest_check(&m, "command line", &err);
    }
    StudyReport *rp = study_report_new(&ro);
    o.model_done = study_report_model, o.model_done_arg = rp;
    Study s;
    Manifest sub = {0}; /* with --shard: the models this shard runs */
    if (rc == 0 && nshards && (size_t)nshards > m.n)
        rc = err_set(&err, "--shard %d/%d: the run has %zu models, so some shard would have none (N at most %zu)", shard + 1,
                     nshards, m.n, m.n);
    if (rc == 0 && nshards) shard_manifest(&m, shard, nshards, &sub);
    if (rc == 0) rc = study_run(nshards ? &sub : &m, &o, &s, &err);
    if (rc == 0) {
        rc = study_report_finish(rp, &s, &err);
        study_free(&s);
    }
    if (rc == 0 && nshards) rc = write_study_shard(cmd, &o, shard, nshards, &m, &sub, rec, ro.outdir, &err);
    if (rc == 0 && ro.outdir) { /* what the folder was made from (report/run_record.h) */
        run_record_threads(rec, fwd_threads());
        run_record_compute(rec, o.compute == COMPUTE_BF16 ? "bf16" : "f32");
        if (manifest) run_record_input(rec, "manifest", manifest);
        run_record_models(rec, nshards ? &sub : &m);
        run_record_keywords(rec, &o.keywords_file, o.keywords_file ? 1 : 0, !o.keywords_file);
        rc = run_record_write(rec, ro.outdir, &err);
    }
    run_record_free(rec);
    if (rc != 0) cli_fail(cmd, "%s", err.msg);
    study_report_free(rp);
    manifest_free(&sub);
    manifest_free(&m);
    free(models);
    free(o.contexts);
    free(is_text);
    return rc ? 1 : 0;
}

int cmd_probe(int argc, char **argv) { return run(argc, argv, 0); }
int cmd_diff(int argc, char **argv) { return run(argc, argv, 1); }
