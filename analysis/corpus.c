/* corpus: see corpus.h. */
#define _DEFAULT_SOURCE /* DT_DIR etc. are not needed, but strdup/opendir prototypes are */
#include "analysis/corpus.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

const char *const MARK_NAME[MARK_COUNT] = {"other", "keyword", "indent", "structural"};

/* ---- languages ---- */

static const struct {
    const char *ext, *lang;
} EXT_LANG[] = {
    {"py", "python"},     {"pyi", "python"},     {"c", "c"},           {"h", "c"},
    {"cc", "cpp"},        {"cpp", "cpp"},        {"cxx", "cpp"},       {"c++", "cpp"},
    {"hh", "cpp"},        {"hpp", "cpp"},        {"hxx", "cpp"},       {"h++", "cpp"},
    {"ipp", "cpp"},       {"tcc", "cpp"},        {"java", "java"},     {"js", "javascript"},
    {"mjs", "javascript"}, {"cjs", "javascript"}, {"jsx", "react"},    {"tsx", "react"},
    {"ts", "typescript"}, {"mts", "typescript"}, {"cts", "typescript"}, {"go", "go"},
    {"rs", "rust"},       {"php", "php"},        {"rb", "ruby"},       {"cs", "csharp"},
    {"sh", "bash"},       {"bash", "bash"},      {"sql", "sql"},       {"kt", "kotlin"},
    {"kts", "kotlin"},    {"swift", "swift"},    {"txt", "english"},   {"md", "english"},
};

const char *corpus_lang_of_ext(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) return NULL;
    for (size_t i = 0; i < sizeof EXT_LANG / sizeof EXT_LANG[0]; i++)
        if (!strcmp(dot + 1, EXT_LANG[i].ext)) return EXT_LANG[i].lang;
    return NULL;
}

/* The innermost folder of PATH named after a language of KW, else the extension's language
 * when KW has it. NULL when neither. */
static const char *lang_of(const char *path, const KwSet *kw) {
    const char *end = strrchr(path, '/');
    while (end && end > path) {
        const char *start = end - 1;
        while (start > path && start[-1] != '/') start--;
        for (size_t i = 0; i < kw->nlangs; i++) {
            size_t n = strlen(kw->langs[i].name);
            if ((size_t)(end - start) == n && !memcmp(start, kw->langs[i].name, n)) return kw->langs[i].name;
        }
        end = start > path ? start - 1 : NULL;
    }
    const char *ext = corpus_lang_of_ext(path);
    KwLang *l = ext ? kw_find(kw, ext) : NULL;
    return l ? l->name : NULL;
}

/* ---- gathering ---- */

static void add_file(Corpus *c, const char *path, const char *lang) {
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->files = xrealloc(c->files, c->cap * sizeof *c->files);
    }
    c->files[c->n].path = xstrdup(path);
    c->files[c->n].lang = lang;
    c->n++;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(Corpus *c, const char *path, const char *force, const KwSet *kw, int depth, Err *err) {
    struct stat st;
    if (stat(path, &st) != 0) return err_set(err, "%s: %s", path, strerror(errno));
    if (S_ISREG(st.st_mode)) {
        const char *lang = force ? force : lang_of(path, kw);
        if (lang) add_file(c, path, lang);
        else c->unknown++;
        return 0;
    }
    if (!S_ISDIR(st.st_mode) && depth == 0) /* named on the command line: say why it is not read */
        return err_set(err, "%s: %s", path, S_ISFIFO(st.st_mode) ? "a FIFO, not a regular file or a folder"
                                                                  : "not a regular file or a folder");
    if (!S_ISDIR(st.st_mode)) return 0; /* sockets, devices, FIFOs inside a folder: not text */
    if (depth > 64) return err_set(err, "%s: folders nested too deep (a link loop?)", path);
    DIR *d = opendir(path);
    if (!d) return err_set(err, "%s: %s", path, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) names = xrealloc(names, (cap = cap ? 2 * cap : 32) * sizeof *names);
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            Buf child = {0};
            buf_printf(&child, "%s%s%s", path, ends_with(path, "/") ? "" : "/", names[i]);
            rc = walk(c, child.data, force, kw, depth + 1, err);
            buf_free(&child);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int corpus_gather(Corpus *c, const char *const *paths, int n, const char *lang, const KwSet *kw,
                  Err *err) {
    const char *force = NULL;
    if (lang) {
        KwLang *l = kw_find(kw, lang);
        if (!l) return err_set(err, "--lang %s: no keyword list for this language", lang);
        force = l->name;
    }
    for (int i = 0; i < n; i++)
        if (walk(c, paths[i], force, kw, 0, err)) return -1;
    return 0;
}

void corpus_free(Corpus *c) {
    for (size_t i = 0; i < c->n; i++) free(c->files[i].path);
    free(c->files);
    memset(c, 0, sizeof *c);
}

/* ---- reading ---- */

int corpus_read(const char *path, char **text, size_t *len, ReadStatus *status, Err *err) {
    *text = NULL;
    char *t = read_file(path, len, err);
    if (!t) return -1;
    if (*len == 0) *status = READ_EMPTY;
    else if (utf8_valid_prefix(t, *len) != *len || memchr(t, '\0', *len)) *status = READ_NOT_UTF8;
    else {
        *status = READ_OK;
        *text = t;
        return 0;
    }
    free(t);
    return 0;
}

/* 1 when s[0..n) (n < 4) is the start of a UTF-8 character that the next bytes may complete. */
static int utf8_incomplete(const unsigned char *s, size_t n) {
    size_t need = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : 0;
    if (n >= need) return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return 1;
}

int corpus_stream(const char *path, CorpusChunkFn fn, void *arg, ReadStatus *status, Err *err) {
    *status = READ_OK;
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(err, "%s: %s", path, strerror(errno));
    char *buf = xmalloc(CORPUS_CHUNK + 4);
    size_t keep = 0, total = 0, n;
    int rc = 0;
    while ((n = fread(buf + keep, 1, CORPUS_CHUNK, f)) > 0) {
        total += n;
        if (memchr(buf + keep, '\0', n)) {
            *status = READ_NOT_UTF8;
            break;
        }
        n += keep;
        size_t ok = utf8_valid_prefix(buf, n);
        if (ok < n && (n - ok >= 4 || !utf8_incomplete((const unsigned char *)buf + ok, n - ok))) {
            *status = READ_NOT_UTF8;
            break;
        }
        if (ok && (rc = fn(arg, buf, ok, err)) != 0) break;
        keep = n - ok;
        memmove(buf, buf + ok, keep);
    }
    if (rc == 0 && ferror(f)) rc = err_set(err, "%s: %s", path, strerror(errno ? errno : EIO));
    if (rc == 0 && *status == READ_OK && keep) *status = READ_NOT_UTF8;
    if (rc == 0 && *status == READ_OK && total == 0) *status = READ_EMPTY;
    fclose(f);
    free(buf);
    return rc;
}

/* ---- byte classes ---- */

static int is_word_byte(unsigned char b) {
    return b == '_' || b == '$' || (b >= '0' && b <= '9') || ((b | 32) >= 'a' && (b | 32) <= 'z') || b >= 0x80;
}

static int is_struct_cp(int32_t cp) {
    if (cp == '_' || cp == '$') return 0; /* identifier characters in code, not punctuation */
    if (cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == '\v' || cp == '\f') return 1;
    utf8proc_category_t k = utf8proc_category(cp);
    return (k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_SO) ||
           (k >= UTF8PROC_CATEGORY_ZS && k <= UTF8PROC_CATEGORY_ZP);
}

void corpus_mark(const char *text, size_t len, const KwLang *lang, uint8_t *marks) {
    const unsigned char *s = (const unsigned char *)text;
    /* structural / other by code point; indentation: line breaks and a line's leading blanks */
    int line_start = 1;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = utf8_decode(s + i, len - i, &cp);
        if (n <= 0) n = 1, cp = 0xFFFD;
        uint8_t m;
        if (cp == '\n' || cp == '\r') m = MARK_INDENT, line_start = 1;
        else if (line_start && (cp == ' ' || cp == '\t')) m = MARK_INDENT;
        else {
            line_start = 0;
            m = is_struct_cp((int32_t)cp) ? MARK_STRUCT : MARK_OTHER;
        }
        memset(marks + i, m, (size_t)n);
        i += (size_t)n;
    }
    if (!lang) return;
    /* keywords as whole words: at every word start, the longest keyword that matches */
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && is_word_byte(s[i - 1])) continue;
        size_t best = 0;
        for (size_t k = 0; k < lang->nwords; k++) {
            const char *w = lang->words[k];
            size_t n = strlen(w);
            if (n > best && n <= len - i && (unsigned char)w[0] == s[i] && !memcmp(s + i, w, n) &&
                (i + n == len || !is_word_byte(s[i + n]) || !is_word_byte((unsigned char)w[n - 1])))
                best = n;
        }
        if (!best) continue;
        memset(marks + i, MARK_KEYWORD, best);
        marks[i] |= MARK_START;
        i += best - 1;
    }
}

int corpus_span_class(const uint8_t *marks, size_t s, size_t e) {
    int all_indent = 1, all_struct = 1;
    for (size_t i = s; i < e; i++) {
        if (marks[i] & MARK_START) return MARK_KEYWORD;
        int c = MARK_CLASS(marks[i]);
        if (c != MARK_INDENT) all_indent = 0;
        if (c != MARK_INDENT && c != MARK_STRUCT) all_struct = 0;
    }
    if (s >= e) return MARK_OTHER;
    return all_indent ? MARK_INDENT : all_struct ? MARK_STRUCT : MARK_OTHER;
}

void corpus_note_file(char **list, size_t n, const char *path) {
    if (n > CORPUS_NOTE_MAX) return;
    Buf b = {0};
    if (*list) buf_puts(&b, *list);
    if (n == CORPUS_NOTE_MAX) buf_puts(&b, ", ...");
    else buf_printf(&b, "%s%s", n ? ", " : "", path);
    free(*list);
    *list = b.data;
}
