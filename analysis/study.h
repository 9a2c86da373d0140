/* study: the cold-start analysis over a list of models (analysis/manifest.h) — each model loaded,
 * measured and freed before the next, so memory holds one model at a time — with every variant
 * compared with its base. It returns the results and prints nothing: report/study_report.h shows
 * and writes them.
 *
 *   Study s;
 *   study_run(&manifest, &options, &s, &err);   // keywords, then every model in the list's order
 *   ... s.models[i].ctx[c].cs.entropy, s.models[i].ctx[c].diff.kl_pq ...
 *   study_free(&s);
 *
 * The keywords are the built-in lists or a --keywords file (then with the built-in English control
 * set added), restricted to --lang. A variant is compared with its base over the full distribution
 * when both have the same output size and vocabulary (tok_same_vocab), else on keyword strings
 * (analysis/colddiff.h). A base keeps its tokenizer for that check while a variant of it is to come.
 *
 * Ownership: a Study owns its results and the KwSet their names point into; the entries are
 * borrowed from the manifest, which must outlive the Study. Errors: -1 with one line in *err. */
#ifndef COLDTOK_STUDY_H
#define COLDTOK_STUDY_H

#include <stddef.h>

#include "analysis/colddiff.h"
#include "analysis/coldstart.h"
#include "analysis/keywords.h"
#include "analysis/manifest.h"
#include "common/util.h"
#include "model/forward.h"

typedef struct {
    int id;
    char *piece;      /* as the vocabulary stores it (tok_piece); "" past the tokenizer's end */
    size_t piece_len;
    char *text;       /* the bytes the token stands for (tok_bytes); may hold NUL bytes */
    size_t text_len;
    double p;
} StudyToken;

typedef struct {
    ColdStart cs;
    ColdDiff diff;    /* from the base's cold start in the same context, when there is a base */
    StudyToken *top;  /* [ntop] the likeliest next tokens, likeliest first */
    size_t ntop;
} StudyContext;

typedef struct {
    const Entry *entry;   /* borrowed from the manifest */
    int base;             /* index of the base in Study.models, -1 for a model compared with nothing */
    double bpw;           /* the manifest's bits per weight, else the file's */
    int vocab;            /* the model's output size */
    char *tokenizer_path;
    StudyContext *ctx;    /* [ncontexts], in the order of StudyOptions.contexts */
} StudyModel;

typedef struct {
    KwSet kw;             /* the keyword lists measured; the results borrow their names */
    int ncontexts;
    size_t n;             /* models measured so far: every entry once study_run has returned 0 */
    StudyModel *models;   /* [the manifest's n], in its order (every base before its variants) */
} Study;

typedef struct {
    const char *langs;          /* --lang list, NULL = all */
    const char *keywords_file;  /* --keywords FILE, or NULL for the built-in lists */
    const char **contexts;      /* --context values (at least one) */
    int ncontexts;
    const int *context_is_text; /* [ncontexts] 1: contexts[c] is a --context-text, text encoded
                                   after the start token (coldstart_context_ids); NULL: none is */
    Compute compute;
    int top_n;                  /* top tokens kept per model and context */
    /* Called once model i is measured and compared with its base (models[0..i] are complete), so
     * that a caller can show it while the next model runs; NULL: nothing is called. */
    void (*model_done)(const Study *s, size_t i, void *arg);
    void *model_done_arg;
} StudyOptions;

/* Runs the study over M. On error s is left empty (nothing to free). */
int study_run(const Manifest *m, const StudyOptions *o, Study *s, Err *err);
void study_free(Study *s);

#endif
