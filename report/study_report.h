/* study_report: the cold-start study's results (analysis/study.h) on stdout and in tidy CSV files
 * (docs/output.md): models.csv, metrics.csv, keywords.csv, indent.csv and top_tokens.csv.
 *
 *   StudyReport *rp = study_report_new(&(StudyReportOptions){.per_model = 1, .format = TABLE_TEXT});
 *   options.model_done = study_report_model, options.model_done_arg = rp;   // rows as models finish
 *   study_run(&manifest, &options, &study, &err);
 *   study_report_finish(rp, &study, &err);                                   // tables, CSV files
 *   study_report_free(rp);
 *
 * Per model and context (with per_model, as `coldtok probe` shows them): the distribution summary,
 * the top tokens and the keyword mass per language. After the run, when any model has a base (as
 * in `coldtok diff`): the drift of every variant from its base and the change of keyword mass per
 * language, both in the first context.
 *
 * Ownership: the report copies what it keeps. Errors: only writing the CSV files can fail,
 * "PATH: problem". */
#ifndef COLDTOK_STUDY_REPORT_H
#define COLDTOK_STUDY_REPORT_H

#include <stddef.h>

#include "analysis/study.h"
#include "common/util.h"
#include "report/run_record.h"
#include "report/table.h"

typedef struct {
    int per_model;       /* print each model's tables as soon as it is measured */
    TableFormat format;  /* of the tables on stdout */
    const char *outdir;  /* write the CSV files into this folder (created), or NULL */
    RunRecord *record;   /* models.csv's digests through its run_record_digest (each file read
                            once per run, the hash cache), or NULL: hashed here */
} StudyReportOptions;

typedef struct StudyReport StudyReport;

StudyReport *study_report_new(const StudyReportOptions *o);
/* Takes model i's results (its rows of the CSV files) and, with per_model, prints its tables.
 * REPORT is the StudyReport: this is a StudyOptions.model_done. */
void study_report_model(const Study *s, size_t i, void *report);
/* After the run: the comparison tables (when a model has a base), then the CSV files with a line
 * saying where they went. */
int study_report_finish(StudyReport *rp, const Study *s, Err *err);
void study_report_free(StudyReport *rp);

#endif
