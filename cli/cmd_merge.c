/* coldtok merge: the shards of one `coldtok drift --shard I/N` run into the CSV files of the
 * unsharded run (analysis/drift_shard.h rebuilds its result; report/drift_report.h writes it). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "analysis/drift_shard.h"
#include "report/drift_report.h"
#include "report/row_shard.h"
#include "report/run_record.h"
#include "report/table.h"
#include "tokenizer/tokenizer.h"

static const char HELP[] =
    "usage: coldtok merge DIR [DIR ...] -o OUT [--format FMT]\n"
    "\n"
    "Merges the shards of one `coldtok drift --shard I/N` run: each DIR is the -o folder of one shard\n"
    "(or its drift.shard file), and all N shards must be given. OUT gets the CSV files the unsharded\n"
    "run writes, byte for byte (its seconds and tokens/s excepted: they are the shards' summed), and a\n"
    "run.json naming the shard files with their SHA-256; the tables go to stdout. Shards of different\n"
    "runs (options, models, corpus, shard counts), a missing or repeated shard, or a shard file cut\n"
    "short are refused with one line, and nothing is written. The --bootstrap, --compare and --seed of\n"
    "the drift run apply (docs/scale.md).\n"
    "The shards of a `coldtok probe`, `diff` or `coverage --shard I/N` run (their rows.shard) merge the\n"
    "same way into that command's CSV files, byte for byte.\n"
    "\n"
    "  -o, --out DIR         write the CSV files there\n"
    "      --positions FILE  write the unsharded run's --positions file (reads the base's tokenizer)\n"
    "      --format FMT      text (default), md or tex for the tables on stdout\n";

/* The --positions file of the unsharded run: every window of the merged run, in its order, shown
 * to drift_report's positions writer variant by variant as drift's run does; the files are the
 * shards' settings' corpus lines, in the corpus's order (the records' file indices). */
static int replay_positions(const TfMerged *mg, Tokenizer *tok, const char *path, Err *err) {
    const TfRun *r = &mg->run;
    size_t nfiles = 0;
    char **files = xcalloc(r->files + 1, sizeof *files);
    for (const char *l = mg->settings; *l; l += strcspn(l, "\n"), l += *l == '\n')
        if (!strncmp(l, "corpus ", 7) && nfiles < r->files) files[nfiles++] = xstrndup(l + 7, strcspn(l + 7, "\t\n"));
    if (nfiles != r->files) err_set(err, "the shards' settings list %zu corpus files, their run %zu", nfiles, r->files);
    DriftPositionsCsv pc;
    TfPositionSink sink = drift_positions_csv(&pc, path);
    int rc = nfiles == r->files ? sink.open(sink.arg, err) : -1;
    if (rc == 0) {
        int n_out = r->ctx - 1 - r->ctx / 2, first = r->ctx / 2;
        int *win = xcalloc((size_t)r->ctx, sizeof *win);
        for (long j = 0; j < r->windows; j++) {
            memcpy(win + first + 1, r->win_next + (size_t)j * (size_t)n_out, (size_t)n_out * sizeof *win);
            for (int v = 1; v < r->nmodels; v++) {
                const TfModel *tm = &r->models[v];
                if (!tm->same_vocab) continue; /* compared per byte: no positions (as in drift's run) */
                size_t k0 = (size_t)j * (size_t)n_out;
                TfWindow w = {tm->name, files[r->win_file[j]], (long)r->win_index[j], first, tok, win,
                              tm->pos.v + k0, tm->pos_class + k0, n_out};
                sink.window(sink.arg, &w);
            }
        }
        free(win);
        rc = sink.close(sink.arg, err);
    }
    for (size_t i = 0; i < nfiles; i++) free(files[i]);
    free(files);
    return rc;
}

/* The shards of a probe, diff or coverage run: their CSV files row by row (report/row_shard.h). */
static int merge_rows(const char *cmd, char **paths, int n, const char *outdir, const char *positions, int argc,
                      char **argv) {
    Err err;
    Buf written = {0};
    const char *command = "";
    int rc = 0;
    if (positions) rc = cli_usage_error(cmd, "--positions belongs to drift's shards, not to %s", paths[0]);
    if (rc == 0 && rowshard_merge((const char *const *)paths, n, outdir, &command, &written, &err)) rc = cli_fail(cmd, "%s", err.msg);
    if (rc == 0) {
        RunRecord *rec = run_record_start(argc, argv);
        for (int i = 0; i < n; i++) run_record_input(rec, "shard", paths[i]);
        if (run_record_write(rec, outdir, &err)) rc = cli_fail(cmd, "%s", err.msg);
        run_record_free(rec);
    }
    if (rc == 0) {
        printf("merged the %d shards of a coldtok %s run into %s:", n, command, outdir);
        for (const char *l = written.data ? written.data : ""; *l; l += strcspn(l, "\n") + 1)
            printf(" %.*s", (int)strcspn(l, "\n"), l);
        putchar('\n');
    }
    buf_free(&written);
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    return rc;
}

int cmd_merge(int argc, char **argv) {
    static const struct option longopts[] = {{"out", required_argument, 0, 'o'},
                                             {"format", required_argument, 0, 'f'},
                                             {"positions", required_argument, 0, 'p'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *cmd = "merge", *outdir = NULL, *positions = NULL;
    TableFormat fmt = TABLE_TEXT;
    int rc = 0, c;
    optind = 1;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': outdir = optarg; break;
        case 'p': positions = optarg; break;
        case 'f': rc = cli_parse_format(cmd, optarg, &fmt); break;
        case 'h': fputs(HELP, stdout); return 0;
        default: rc = cli_option_error(cmd, c, argv, longopts); break;
        }
    }
    if (rc) return rc;
    int n = argc - optind;
    if (n < 1) return cli_usage_error(cmd, "no shard: give the -o folders of the drift --shard runs");
    if (!outdir) return cli_usage_error(cmd, "give -o OUT, the folder of the merged CSV files");

    char **paths = xcalloc((size_t)n, sizeof *paths);
    int rows = 0; /* probe, diff or coverage shards: the first folder (or file) says */
    for (int i = 0; i < n; i++) {
        const char *d = argv[optind + i];
        paths[i] = xmalloc(strlen(d) + sizeof TF_SHARD_FILE + sizeof ROW_SHARD_FILE + 2);
        sprintf(paths[i], "%s/%s", d, ROW_SHARD_FILE);
        if (i == 0) rows = is_dir(d) ? is_file(paths[i]) : ends_with(d, ROW_SHARD_FILE);
        if (is_dir(d)) sprintf(paths[i], "%s/%s", d, rows ? ROW_SHARD_FILE : TF_SHARD_FILE);
        else strcpy(paths[i], d);
    }
    if (rows) return merge_rows(cmd, paths, n, outdir, positions, argc, argv);
    Err err;
    TfMerged mg;
    rc = tfshard_merge((const char *const *)paths, n, &mg, &err);
    char v[64];
    DriftReportOptions ro = {.format = fmt, .outdir = outdir};
    if (rc == 0) { /* the drift run's report options */
        ro.boot_reps = tfshard_setting(mg.settings, "bootstrap", v, sizeof v) ? 0 : atoi(v);
        ro.compare = tfshard_setting(mg.settings, "compare", v, sizeof v) ? 0 : atoi(v);
        ro.seed = tfshard_setting(mg.settings, "seed", v, sizeof v) ? 1 : strtoull(v, NULL, 10);
    }
    if (rc) {
        cli_fail(cmd, "%s", err.msg);
        for (int i = 0; i < n; i++) free(paths[i]);
        free(paths);
        return 1;
    }
    /* --positions reads the base's tokenizer: loaded before OUT is made, so a missing one writes nothing */
    Tokenizer *tok = positions ? tok_load(mg.run.models[0].tokenizer_path, &err) : NULL;
    RunRecord *rec = run_record_start(argc, argv);
    if (positions && !tok) rc = cli_fail(cmd, "%s", err.msg);
    else if (cli_make_dir(cmd, outdir)) rc = 1;
    else if (positions && replay_positions(&mg, tok, positions, &err)) rc = cli_fail(cmd, "%s", err.msg);
    else if (drift_report(&mg.run, &ro, &err)) rc = cli_fail(cmd, "%s", err.msg);
    else { /* run.json: the shard files merged, each with its SHA-256 */
        for (int i = 0; i < n; i++) run_record_input(rec, "shard", paths[i]);
        if (run_record_write(rec, outdir, &err)) rc = cli_fail(cmd, "%s", err.msg);
    }
    run_record_free(rec);
    if (tok) tok_free(tok);
    tfmerged_free(&mg);
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    return rc;
}
