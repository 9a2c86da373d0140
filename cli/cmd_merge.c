/* coldtok merge: the shards of one `coldtok drift --shard I/N` run into the CSV files of the
 * unsharded run (analysis/drift_shard.h rebuilds its result; report/drift_report.h writes it). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "analysis/drift_shard.h"
#include "report/drift_report.h"
#include "report/run_record.h"
#include "report/table.h"

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
    "\n"
    "  -o, --out DIR         write the CSV files there\n"
    "      --format FMT      text (default), md or tex for the tables on stdout\n";

int cmd_merge(int argc, char **argv) {
    static const struct option longopts[] = {{"out", required_argument, 0, 'o'},
                                             {"format", required_argument, 0, 'f'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *cmd = "merge", *outdir = NULL;
    TableFormat fmt = TABLE_TEXT;
    int rc = 0, c;
    optind = 1;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': outdir = optarg; break;
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
    for (int i = 0; i < n; i++) {
        const char *d = argv[optind + i];
        paths[i] = xmalloc(strlen(d) + sizeof TF_SHARD_FILE + 2);
        if (is_dir(d)) sprintf(paths[i], "%s/%s", d, TF_SHARD_FILE);
        else strcpy(paths[i], d);
    }
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
    RunRecord *rec = run_record_start(argc, argv);
    if (cli_make_dir(cmd, outdir)) rc = 1;
    else if (drift_report(&mg.run, &ro, &err)) rc = cli_fail(cmd, "%s", err.msg);
    else { /* run.json: the shard files merged, each with its SHA-256 */
        for (int i = 0; i < n; i++) run_record_input(rec, "shard", paths[i]);
        if (run_record_write(rec, outdir, &err)) rc = cli_fail(cmd, "%s", err.msg);
    }
    run_record_free(rec);
    tfmerged_free(&mg);
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
    return rc;
}
