/* names (private to plots/): the names a figure shows (languages, models, keywords, ...),
 * interned in order of first appearance, each with the text drawn for it already shortened; and
 * the series of a figure, which are (model, context) pairs when one file holds several contexts
 * for one model ("model @ context").
 *
 * A Names owns copies of its keys and shown texts; names_free releases them (a zeroed Names is
 * empty and ready to use). Nothing here fails (running out of memory ends the program). */
#ifndef COLDTOK_PLOTS_NAMES_H
#define COLDTOK_PLOTS_NAMES_H

#include <stddef.h>

#include "common/csvtable.h"
#include "common/util.h"

/* Longest name shown in a legend or on an axis; longer ones lose their middle. */
#define NAME_CHARS 36
/* Longest context shown after a model name ("model @ context"). */
#define CTX_CHARS 24

typedef struct {
    char **v;     /* keys */
    char **shown; /* [n] the text drawn for each key (already shortened) */
    size_t *tail; /* [n] bytes at the end of shown that a cut must keep (" @ context") */
    size_t n, cap;
    size_t *slot; /* open addressing: index + 1, 0 = empty; nslot a power of two */
    size_t nslot;
} Names;

/* Index of key, or -1. */
long names_find(const Names *ns, const char *key);

/* Index of key, added when new with the text shown (NULL: the key shortened to NAME_CHARS), whose
 * last tail bytes are to be kept whole when it is cut to fit. */
size_t names_add_tailed(Names *ns, const char *key, const char *shown, size_t tail);
size_t names_add_shown(Names *ns, const char *key, const char *shown);
size_t names_add(Names *ns, const char *key);

void names_free(Names *ns);

/* An unambiguous key for (name, ctx) in key (replacing its text): the length of name first. */
void pair_key(Buf *key, const char *name, const char *ctx);

/* metrics.csv and keywords.csv have a context column: one probe with several --context writes
 * rows that differ only in it. Whether a file needs series per context is decided once per file:
 * 1 when some value of column cm comes with two values of column cc (cc -1: no such column). */
int several_contexts(const CsvTable *t, int cm, int cc);

/* Adds the series of name (in context ctx when several): key (name, ctx), shown "name @ ctx". */
size_t add_series(Names *ns, const char *name, const char *ctx, int several);

/* How many models and contexts the series of a figure come from (when several contexts). */
typedef struct {
    Names models, contexts;
} Origins;

void origins_note(Origins *o, const char *model, const char *ctx);
void origins_free(Origins *o);

#endif
