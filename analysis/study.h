/* study: runs the cold-start analysis over a list of models — each model loaded, measured and
 * freed before the next, so memory holds one model at a time — compares every variant with its
 * base, and reports: tables on stdout, tidy CSV files in a folder (docs/output.md).
 *
 * The list comes from `-m` options (probe: every model on its own; diff: the first is the base of
 * the others) or from a manifest CSV with the columns name,path,kind,bits_per_weight,base
 * (bits_per_weight and base may be blank; paths are relative to the manifest's folder).
 * manifest_load checks everything — files exist, kinds known, bases listed, no cycles — before any
 * model is loaded, and orders the entries so that every base comes before its variants.
 *
 * Ownership: a Manifest owns its strings. Errors: -1 with one line in *err. */
#ifndef COLDTOK_STUDY_H
#define COLDTOK_STUDY_H

#include <stddef.h>

#include "common/util.h"
#include "report/table.h"
#include "model/forward.h"

typedef struct {
    char *name;
    char *path;
    char *kind;      /* base, fp16, quant, distill, finetune, scale, or "" */
    char *base;      /* name of the base entry, NULL for a model compared with nothing */
    char *tokenizer; /* NULL: the model's own (GGUF, or tokenizer.json beside it) */
    double bpw;      /* NAN: computed from the file */
} Entry;

typedef struct {
    Entry *e;
    size_t n;
} Manifest;

int manifest_load(Manifest *m, const char *path, Err *err);
/* Appends an entry (strings copied; base and tokenizer may be NULL). */
void manifest_add(Manifest *m, const char *name, const char *path, const char *kind,
                  const char *base, const char *tokenizer);
/* Checks bases (listed, no cycles) and orders bases first. MANIFEST names the source in errors. */
int manifest_check(Manifest *m, const char *source, Err *err);
void manifest_free(Manifest *m);

/* A short name for a model path: the file name without .gguf/.safetensors, or the folder name. */
char *model_short_name(const char *path);
/* The short names of n model paths, made unique: a name met before gets "#i" (i = its 1-based
 * place), so the same file given twice still has two names. Free each and the array. */
char **model_short_names(const char *const *paths, int n);
/* The tokenizer to load for a model (malloc'd): GIVEN when not NULL, else the GGUF file itself,
 * the folder, or the folder of a .safetensors file. */
char *model_tokenizer_path(const char *model, const char *given);

typedef struct {
    const char *cmd;            /* "probe" or "diff", for messages */
    const char *langs;          /* --lang list, NULL = all */
    const char *keywords_file;  /* --keywords FILE, or NULL for the built-in lists */
    const char **contexts;      /* --context values (at least one) */
    int ncontexts;
    Compute compute;
    int top_n;                  /* top tokens shown per model */
    const char *outdir;         /* -o DIR, or NULL */
    TableFormat format;
} StudyOptions;

int study_run(const Manifest *m, const StudyOptions *o, Err *err);

#endif
