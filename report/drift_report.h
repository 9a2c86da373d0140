/* drift_report: the teacher-forced drift (analysis/drift.h) on stdout and in tidy CSV files
 * (docs/output.md): drift.csv, drift_kl_hist.csv, drift_models.csv and drift_corpus.csv; and the
 * --positions file, written while the run goes.
 *
 * Tables: the drift of every variant on the base's vocabulary (overall, by the class of the true
 * next token, per language) with standard errors over positions and 95% intervals by a cluster
 * bootstrap over files (analysis/tfboot.h), the variants compared per byte, optionally the paired
 * comparisons of every two models (drift_compare.csv), and the corpus. A table with no row is
 * left out, except the corpus's.
 *
 * Errors: only writing files can fail, "PATH: problem". */
#ifndef COLDTOK_DRIFT_REPORT_H
#define COLDTOK_DRIFT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "analysis/drift.h"
#include "common/util.h"
#include "report/table.h"

typedef struct {
    TableFormat format;  /* of the tables on stdout */
    const char *outdir;  /* write the CSV files into this folder (created), or NULL */
    int boot_reps;       /* cluster-bootstrap replicates of every interval (analysis/tfboot.h); 0: none */
    uint64_t seed;       /* of the bootstrap */
    int compare;         /* 1: the paired comparisons (table, and drift_compare.csv with outdir) */
} DriftReportOptions;

/* The tables, then (with outdir) the CSV files and a line saying where they went. */
int drift_report(const TfRun *run, const DriftReportOptions *o, Err *err);

/* The --positions file: one CSV row per scored position and variant (variant, file, window,
 * position, next_id, next_piece, class, kl, lp_base, lp_variant, same_top1, top1_base, top1_variant). */
typedef struct {
    const char *path;
    FILE *f;
    OutFile out; /* f is out.f: a temporary renamed onto path when the run succeeds */
} DriftPositionsCsv;

/* A sink for TfOptions.positions that writes PATH (created when the run starts) through PC, which
 * must outlive the run. */
TfPositionSink drift_positions_csv(DriftPositionsCsv *pc, const char *path);

#endif
