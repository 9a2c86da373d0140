/* keywords: see keywords.h. */
#include "analysis/keywords.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

KwLang *kw_find(const KwSet *s, const char *name) {
    for (size_t i = 0; i < s->nlangs; i++)
        if (!strcmp(s->langs[i].name, name)) return &s->langs[i];
    return NULL;
}

static KwLang *get_lang(KwSet *s, const char *name, size_t len, int control) {
    for (size_t i = 0; i < s->nlangs; i++)
        if (strlen(s->langs[i].name) == len && !memcmp(s->langs[i].name, name, len))
            return &s->langs[i];
    s->langs = xrealloc(s->langs, (s->nlangs + 1) * sizeof *s->langs);
    KwLang *l = &s->langs[s->nlangs++];
    memset(l, 0, sizeof *l);
    l->name = xstrndup(name, len);
    l->control = control;
    l->selected = !control;
    return l;
}

static uint64_t word_hash(const char *w, size_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)w[i]) * 1099511628211ull;
    return h;
}

/* Adds WORD unless the language has it already (a hash set of word indexes: a list of any length
 * loads in linear time). */
static void add_word(KwLang *l, const char *w, size_t len) {
    if (2 * (l->nwords + 1) > l->mask) { /* rehash at half full */
        size_t mask = l->mask ? 2 * l->mask + 1 : 63;
        size_t *slot = xmalloc((mask + 1) * sizeof *slot);
        memset(slot, 0xff, (mask + 1) * sizeof *slot);
        for (size_t i = 0; i < l->nwords; i++) {
            size_t h = (size_t)word_hash(l->words[i], strlen(l->words[i])) & mask;
            while (slot[h] != (size_t)-1) h = (h + 1) & mask;
            slot[h] = i;
        }
        free(l->slot);
        l->slot = slot, l->mask = mask;
    }
    size_t h = (size_t)word_hash(w, len) & l->mask;
    for (; l->slot[h] != (size_t)-1; h = (h + 1) & l->mask) {
        const char *o = l->words[l->slot[h]];
        if (strlen(o) == len && !memcmp(o, w, len)) return;
    }
    if (l->nwords == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 32;
        l->words = xrealloc(l->words, l->cap * sizeof *l->words);
    }
    l->slot[h] = l->nwords;
    l->words[l->nwords++] = xstrndup(w, len);
}

static int lang_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '+' || c == '-';
}

/* Checks one "LANG\tKEYWORD" line; on success sets the two fields. */
static int parse_line(const char *p, size_t len, const char *name, size_t lineno, const char **lang,
                      size_t *lang_len, const char **kw, size_t *kw_len, Err *err) {
    const char *tab = memchr(p, '\t', len);
    if (!tab) return err_set(err, "%s:%zu: expected LANG<TAB>KEYWORD, found no tab", name, lineno);
    *lang = p;
    *lang_len = (size_t)(tab - p);
    *kw = tab + 1;
    *kw_len = len - *lang_len - 1;
    if (!*lang_len) return err_set(err, "%s:%zu: empty language name", name, lineno);
    for (size_t i = 0; i < *lang_len; i++)
        if (!lang_char((unsigned char)p[i]))
            return err_set(err, "%s:%zu: bad character in language name (allowed: A-Z a-z 0-9 _ . + -)",
                           name, lineno);
    if (!*kw_len) return err_set(err, "%s:%zu: empty keyword", name, lineno);
    if (memchr(*kw, '\t', *kw_len))
        return err_set(err, "%s:%zu: more than two fields (a second tab)", name, lineno);
    for (size_t i = 0; i < *kw_len; i++) {
        unsigned char c = (unsigned char)(*kw)[i];
        if (c < 0x20 || c == 0x7f)
            return err_set(err, "%s:%zu: control character 0x%02X in keyword", name, lineno, c);
    }
    if ((*kw)[0] == ' ' || (*kw)[*kw_len - 1] == ' ')
        return err_set(err, "%s:%zu: keyword has leading or trailing blanks", name, lineno);
    size_t ok = utf8_valid_prefix(*kw, *kw_len);
    if (ok != *kw_len)
        return err_set(err, "%s:%zu: keyword is not valid UTF-8 (byte %zu)", name, lineno, ok + 1);
    return 0;
}

/* One line (without its '\n'), number lineno of the file NAME. */
static int take_line(KwSet *s, const char *name, const char *p, size_t n, size_t lineno, int control, Err *err) {
    if (n > KW_LINE_MAX)
        return err_set(err, "%s:%zu: a line longer than %d bytes (a list holds one keyword a line)", name, lineno,
                       KW_LINE_MAX);
    if (n && p[n - 1] == '\r') n--;
    if (memchr(p, 0, n)) return err_set(err, "%s:%zu: NUL byte in line", name, lineno);
    size_t k = 0;
    while (k < n && (p[k] == ' ' || p[k] == '\t')) k++;
    if (k == n || p[k] == '#') return 0; /* blank or comment */
    const char *lang = NULL, *kw = NULL;
    size_t lang_len = 0, kw_len = 0;
    if (parse_line(p, n, name, lineno, &lang, &lang_len, &kw, &kw_len, err)) return -1;
    add_word(get_lang(s, lang, lang_len, control), kw, kw_len);
    return 0;
}

int kw_load_text(KwSet *s, const char *name, const char *text, size_t len, int control, Err *err) {
    size_t lineno = 0, pos = 0;
    while (pos < len) {
        const char *p = text + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - p) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (take_line(s, name, p, n, ++lineno, control, err)) return -1;
    }
    return 0;
}

/* Reads the file a line at a time: what is held is one line (at most KW_LINE_MAX bytes) and the
 * words kept, whatever the file's size. */
static int load_file(KwSet *s, const char *path, int control, Err *err) {
    FILE *f = fopen_regular(path, err);
    if (!f) return -1;
    char *line = xmalloc(KW_LINE_MAX + 2);
    size_t n = 0, lineno = 0;
    int c, rc = 0;
    while (rc == 0 && (c = getc_unlocked(f)) != EOF) {
        if (c == '\n') {
            rc = take_line(s, path, line, n, ++lineno, control, err);
            n = 0;
        } else if (n <= KW_LINE_MAX) {
            line[n++] = (char)c;
        } else { /* (the line is refused: take_line names it) */
            rc = take_line(s, path, line, n, ++lineno, control, err);
        }
    }
    if (rc == 0 && ferror(f)) rc = err_set(err, "%s: %s", path, strerror(errno ? errno : EIO));
    if (rc == 0 && n) rc = take_line(s, path, line, n, ++lineno, control, err);
    fclose(f);
    free(line);
    return rc;
}

int kw_load_file(KwSet *s, const char *path, Err *err) { return load_file(s, path, 0, err); }

static int has_keywords(const char *dir) {
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/keywords", dir) >= (int)sizeof p) return 0;
    return is_dir(p);
}

char *kw_data_dir(Err *err) {
    const char *env = getenv("COLDTOK_DATA");
    if (env && *env) {
        if (has_keywords(env)) return xstrdup(env);
        err_set(err, "%s: COLDTOK_DATA has no keywords/ folder", env);
        return NULL;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    Buf looked = {0};
    if (n > 0) {
        exe[n] = 0;
        char *dir = dirname(exe);
        const char *rel[] = {"data", "../data", "../share/coldtok/data"};
        for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
            char p[PATH_MAX];
            if (snprintf(p, sizeof p, "%s/%s", dir, rel[i]) >= (int)sizeof p) continue;
            if (has_keywords(p)) {
                buf_free(&looked);
                char *real = realpath(p, NULL);
                return real ? real : xstrdup(p);
            }
            buf_printf(&looked, "%s, ", p);
        }
    }
    if (has_keywords("data")) {
        buf_free(&looked);
        char *real = realpath("data", NULL);
        return real ? real : xstrdup("data");
    }
    err_set(err, "no keyword data found (looked in %s./data): set COLDTOK_DATA to coldtok's data folder",
            looked.data ? looked.data : "");
    buf_free(&looked);
    return NULL;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every NAME.tsv of DIR in name order. A missing folder is fine when OPTIONAL. */
static int load_dir(KwSet *s, const char *dir, int control, int optional, Err *err) {
    DIR *d = opendir(dir);
    if (!d) {
        if (optional && errno == ENOENT) return 0;
        return err_set(err, "%s: cannot open folder: %s", dir, strerror(errno));
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".tsv")) continue;
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, by_name);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rc) {
            Buf p = {0};
            buf_printf(&p, "%s/%s", dir, names[i]);
            rc = load_file(s, p.data, control, err);
            buf_free(&p);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int kw_load_builtin(KwSet *s, Err *err) {
    char *data = kw_data_dir(err);
    if (!data) return -1;
    Buf p = {0};
    buf_printf(&p, "%s/keywords", data);
    int rc = load_dir(s, p.data, 0, 0, err);
    if (!rc) {
        buf_clear(&p);
        buf_printf(&p, "%s/control", data);
        rc = load_dir(s, p.data, 1, 1, err);
    }
    buf_free(&p);
    free(data);
    return rc;
}

int kw_select(KwSet *s, const char *list, Err *err) {
    if (!list || !*list || !strcmp(list, "all")) {
        for (size_t i = 0; i < s->nlangs; i++) s->langs[i].selected = !s->langs[i].control;
        return 0;
    }
    for (size_t i = 0; i < s->nlangs; i++) s->langs[i].selected = 0;
    size_t front = 0;
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        size_t at = s->nlangs;
        for (size_t i = 0; i < s->nlangs; i++)
            if (strlen(s->langs[i].name) == len && !memcmp(s->langs[i].name, p, len)) at = i;
        if (len && at == s->nlangs) {
            Buf known = {0};
            for (size_t i = 0; i < s->nlangs; i++)
                buf_printf(&known, "%s%s", i ? "," : "", s->langs[i].name);
            err_set(err, "unknown language '%.*s' (known: %s)", (int)len, p,
                    known.data ? known.data : "none");
            buf_free(&known);
            return -1;
        }
        if (len && !s->langs[at].selected) {
            /* move it to position FRONT so the selection's order is the output order */
            KwLang l = s->langs[at];
            memmove(&s->langs[front + 1], &s->langs[front], (at - front) * sizeof l);
            s->langs[front] = l;
            s->langs[front++].selected = 1;
        }
        p += len + (comma ? 1 : 0);
    }
    if (!front) return err_set(err, "empty language list '%s'", list);
    return 0;
}

void kw_free(KwSet *s) {
    for (size_t i = 0; i < s->nlangs; i++) {
        for (size_t j = 0; j < s->langs[i].nwords; j++) free(s->langs[i].words[j]);
        free(s->langs[i].words);
        free(s->langs[i].slot);
        free(s->langs[i].name);
    }
    free(s->langs);
    s->langs = NULL;
    s->nlangs = 0;
}
