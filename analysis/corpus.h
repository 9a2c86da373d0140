/* corpus: the code files `coldtok drift` reads, and what each byte of a file is.
 *
 *   Corpus c = {0};
 *   corpus_gather(&c, paths, n, NULL, kw, &err);   // files under the paths, with their languages
 *   for each c.files[i]: corpus_read(...) -> text (valid UTF-8, non-empty) or a skip reason
 *   corpus_mark(text, len, lang, marks)             // keyword / indent / structural byte classes
 *   corpus_free(&c);
 *
 * Language of a file, first match wins: the --lang option; a folder on the file's path named
 * after a known language (data/samples/cpp/x.h is C++); the extension (docs/drift.md has the
 * table). Files of no known language are counted in `unknown`, not listed. Folders are walked
 * recursively in byte order of names (the same corpus gives the same order everywhere); names
 * starting with '.' are skipped.
 *
 * Byte classes (corpus_mark), for positions whose next token starts at a byte and for the
 * cross-vocabulary comparison:
 *   KEYWORD  the bytes of a keyword of the file's language, matched as a whole word (the bytes
 *            before and after are not [A-Za-z0-9_$]), in code, comments and strings alike;
 *   INDENT   line breaks and the blanks (spaces, tabs) that start a line;
 *   STRUCT   other blanks, punctuation and symbols (Unicode P*, S*, Z*) except '_' and '$';
 *   OTHER    everything else (identifiers, numbers, letters of other text).
 *
 * Ownership: a Corpus owns its paths; language names point into the KwSet given to
 * corpus_gather, which must outlive it. Errors: -1 and "PATH: problem" in *err. */
#ifndef COLDTOK_CORPUS_H
#define COLDTOK_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/keywords.h"
#include "common/util.h"

typedef struct {
    char *path;
    const char *lang; /* a KwSet language name (borrowed) */
} CorpusFile;

typedef struct {
    CorpusFile *files;
    size_t n, cap;
    size_t unknown; /* files skipped because no language was found for them */
} Corpus;

/* Adds the files under PATHS (files or folders). LANG (may be NULL) forces every file's language;
 * it must be a language of KW. A path that does not exist is an error. */
int corpus_gather(Corpus *c, const char *const *paths, int n, const char *lang, const KwSet *kw,
                  Err *err);
void corpus_free(Corpus *c);

/* The language a path's extension names ("python" for x.py), or NULL. */
const char *corpus_lang_of_ext(const char *path);

/* The class of the token covering text bytes [s, e): KEYWORD when a keyword starts inside it,
 * INDENT when every byte is INDENT, STRUCT when every byte is INDENT or STRUCT, else OTHER. */
int corpus_span_class(const uint8_t *marks, size_t s, size_t e);

/* Why a file is not scored. */
typedef enum { READ_OK, READ_EMPTY, READ_NOT_UTF8 } ReadStatus;

/* Adds PATH, the (n+1)-th file of some kind, to *list (malloc'd, ", "-separated; NULL when
 * empty): the first CORPUS_NOTE_MAX names, then "...", so that a message can name them. */
#define CORPUS_NOTE_MAX 5
void corpus_note_file(char **list, size_t n, const char *path);

/* Reads a file: *text (malloc'd, NUL-terminated) and *len, with *status READ_OK, or READ_EMPTY /
 * READ_NOT_UTF8 (text NULL). Returns -1 only when the file cannot be read. */
int corpus_read(const char *path, char **text, size_t *len, ReadStatus *status, Err *err);

/* Reads a file in chunks of at most CORPUS_CHUNK bytes, checking what corpus_read checks as it
 * goes, and hands every chunk to fn, cut between UTF-8 characters. *status: READ_OK, READ_EMPTY,
 * or READ_NOT_UTF8 (found part-way: fn may have had the chunks before). A non-zero return of fn
 * stops the reading and is returned; -1 with "PATH: problem" when the file cannot be read.
 * Memory: one chunk, whatever the file's size. */
#define CORPUS_CHUNK ((size_t)1 << 18)
typedef int (*CorpusChunkFn)(void *arg, const char *data, size_t n, Err *err);
int corpus_stream(const char *path, CorpusChunkFn fn, void *arg, ReadStatus *status, Err *err);

enum { MARK_OTHER, MARK_KEYWORD, MARK_INDENT, MARK_STRUCT, MARK_COUNT };
extern const char *const MARK_NAME[MARK_COUNT]; /* "other", "keyword", "indent", "structural" */

/* marks[0..len) receives the class of every byte of TEXT (a file of language LANG), with
 * MARK_START added on the first byte of every keyword occurrence. */
#define MARK_START 0x80
#define MARK_CLASS(m) ((m) & 0x7f)
void corpus_mark(const char *text, size_t len, const KwLang *lang, uint8_t *marks);

#endif
