/* keywords: keyword sets per language, read from LANG<TAB>KEYWORD files.
 *
 * File format (UTF-8): one keyword per line, "LANG\tKEYWORD"; lines starting with '#' and blank
 * lines are ignored; a trailing "\r" (CRLF files) is ignored. LANG is [A-Za-z0-9_.+-]+; KEYWORD is
 * any non-empty UTF-8 text without a tab or control character and without leading or trailing
 * blanks (inner blanks are allowed: PHP's "yield from"). One file may hold any number of
 * languages. A keyword repeated within a language is dropped (the first one counts), across files
 * too. Languages keep the order of their first appearance; keywords keep file order.
 *
 * Built-in sets live in the data folder: DATA/keywords/NAME.tsv (the language keyword lists) and
 * DATA/control/NAME.tsv (control sets such as english, loaded but not selected by default). DATA is
 * the first of these that holds a keywords/ folder:
 *   1. $COLDTOK_DATA (when set, it must be valid: no fallback)
 *   2. EXE_DIR/data, EXE_DIR/../data, EXE_DIR/../share/coldtok/data  (EXE_DIR from /proc/self/exe)
 *   3. ./data  (the repository root, for tests and builds run from there)
 *
 * Ownership: a KwSet owns all its strings; kw_free releases them.
 * Errors: "FILE:LINE: problem" for a bad line, "PATH: problem" for a file that cannot be read. */
#ifndef COLDTOK_KEYWORDS_H
#define COLDTOK_KEYWORDS_H

#include <stddef.h>

#include "common/util.h"

typedef struct {
    char *name;
    char **words;
    size_t nwords, cap;
    size_t *slot, mask; /* a hash set of the words' indexes (keywords.c) */
    int control;  /* from data/control: not selected unless named in --lang */
    int selected; /* kw_select's choice; every non-control language after loading */
} KwLang;

typedef struct {
    KwLang *langs;
    size_t nlangs;
} KwSet;

/* Parses one file and merges its languages into S; it is read a line at a time, and a line longer
 * than KW_LINE_MAX bytes is refused (keywords are words: this bounds what a list costs to read and
 * what each keyword costs to encode). */
#define KW_LINE_MAX 1024
int kw_load_file(KwSet *s, const char *path, Err *err);
/* Parses TEXT (len bytes) as if read from the file NAME (used by kw_load_file and by tests). */
int kw_load_text(KwSet *s, const char *name, const char *text, size_t len, int control, Err *err);
/* Loads DATA/keywords/NAME.tsv then DATA/control/NAME.tsv, each folder in file-name order. */
int kw_load_builtin(KwSet *s, Err *err);
/* The data folder by the rule above, as a heap string, or NULL with a message listing the places
 * looked at. */
char *kw_data_dir(Err *err);

/* Selects the comma-separated languages in LIST (NULL or "" or "all": every non-control language)
 * and moves them, in LIST's order, to the front. An unknown name is an error that lists the known
 * ones. */
int kw_select(KwSet *s, const char *list, Err *err);
/* The language called NAME, or NULL. */
KwLang *kw_find(const KwSet *s, const char *name);
void kw_free(KwSet *s);

#endif
