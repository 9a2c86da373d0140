/* manifest: the list of models a study runs, each named, with its kind and the base it is compared
 * with; and the two rules that name a model given by path and find its tokenizer.
 *
 * The list comes from `-m` options (probe: every model on its own; diff: the first is the base of
 * the others) or from a manifest CSV with the columns name,path,kind,bits_per_weight,base (and
 * optionally tokenizer; bits_per_weight, base and tokenizer may be blank; paths are relative to
 * the manifest's folder), read loosely (common/csvtable.h: blanks around fields dropped, short
 * rows padded, a leading UTF-8 byte-order mark skipped; but a row with more fields than the
 * header, a NUL byte, or a quote left open are errors). manifest_load checks everything — files
 * exist (a model folder holds model.safetensors or its index and config.json; a tokenizer folder
 * a tokenizer.json), kinds known, bases listed, no cycles — before any model is loaded, and orders
 * the entries so that every base comes before its variants. Every error about a row names the
 * manifest and the row's line.
 *
 * Ownership: a Manifest owns its strings. Errors: -1 with one line in *err. */
#ifndef COLDTOK_MANIFEST_H
#define COLDTOK_MANIFEST_H

#include <stddef.h>

#include "common/util.h"

typedef struct {
    char *name;
    char *path;
    char *kind;      /* base, fp16, quant, distill, finetune, scale, or "" */
    char *base;      /* name of the base entry, NULL for a model compared with nothing */
    char *tokenizer; /* NULL: the model's own (GGUF, or tokenizer.json beside it) */
    double bpw;      /* NAN: computed from the file */
    size_t line;     /* its line in the manifest (for messages); 0 when not from a manifest */
} Entry;

typedef struct {
    Entry *e;
    size_t n;
} Manifest;

int manifest_load(Manifest *m, const char *path, Err *err);
/* Checks, once the command has set the tokenizers it overrides, that every manifest entry whose
 * tokenizer is its model folder has a tokenizer.json there; the error names SOURCE (the manifest)
 * and the entry's line. */
int manifest_check_tokenizers(const Manifest *m, const char *source, Err *err);
/* Appends an entry (strings copied; base and tokenizer may be NULL). */
void manifest_add(Manifest *m, const char *name, const char *path, const char *kind,
                  const char *base, const char *tokenizer);
/* Checks bases (listed, no cycles) and orders bases first. SOURCE names the list in errors. */
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

#endif
