/* manifest: see manifest.h. */
#include "analysis/manifest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/csvtable.h"

static const char *const KINDS[] = {"base", "fp16", "quant", "distill", "finetune", "scale", NULL};

void manifest_add(Manifest *m, const char *name, const char *path, const char *kind,
                  const char *base, const char *tokenizer) {
    m->e = xrealloc(m->e, (m->n + 1) * sizeof *m->e);
    m->e[m->n++] = (Entry){xstrdup(name), xstrdup(path), xstrdup(kind ? kind : ""),
                           base ? xstrdup(base) : NULL, tokenizer ? xstrdup(tokenizer) : NULL, NAN, 0};
}

void manifest_free(Manifest *m) {
    for (size_t i = 0; i < m->n; i++) {
        free(m->e[i].name);
        free(m->e[i].path);
        free(m->e[i].kind);
        free(m->e[i].base);
        free(m->e[i].tokenizer);
    }
    free(m->e);
    memset(m, 0, sizeof *m);
}

/* DIR/REL unless REL is absolute. */
static char *join_path(const char *dir, const char *rel) {
    if (rel[0] == '/' || !dir[0]) return xstrdup(rel);
    Buf b = {0};
    buf_printf(&b, "%s/%s", dir, rel);
    return b.data;
}

/* NULL when the folder DIR holds a model coldtok can load (model.safetensors or its index, and
 * config.json), else what it lacks. */
static const char *model_folder_lacks(const char *dir) {
    static const char *const need[][2] = {{"model.safetensors", "model.safetensors.index.json"},
                                           {"config.json", NULL}};
    static const char *const what[] = {"model.safetensors or model.safetensors.index.json", "config.json"};
    for (size_t i = 0; i < 2; i++) {
        int found = 0;
        for (size_t j = 0; j < 2 && need[i][j]; j++) {
            char *f = join_path(dir, need[i][j]);
            found |= is_file(f);
            free(f);
        }
        if (!found) return what[i];
    }
    return NULL;
}

/* A folder tokenizer without tokenizer.json: 1. */
static int lacks_tokenizer_json(const char *path) {
    if (!is_dir(path)) return 0;
    char *f = join_path(path, "tokenizer.json");
    int lacks = !is_file(f);
    free(f);
    return lacks;
}

/* Adds record R of the manifest table T (PATH, in folder DIR). Records count lines from the
 * header's (line 1), as the messages have always numbered them. */
static int add_record(Manifest *m, const CsvTable *t, size_t r, const char *path, const char *dir, Err *err) {
    int c_name = csv_table_col(t, "name"), c_path = csv_table_col(t, "path");
    int c_kind = csv_table_col(t, "kind"), c_bits = csv_table_col(t, "bits_per_weight");
    int c_base = csv_table_col(t, "base"), c_tok = csv_table_col(t, "tokenizer");
    const char *name = csv_table_cell(t, r, c_name), *model = csv_table_cell(t, r, c_path);
    const char *kind = csv_table_cell(t, r, c_kind), *bits = csv_table_cell(t, r, c_bits);
    const char *base = csv_table_cell(t, r, c_base), *tok = csv_table_cell(t, r, c_tok);
    size_t line = r + 2;
    if (!name[0] || !model[0]) return err_set(err, "%s:%zu: every row needs a name and a path", path, line);
    int known = 0;
    for (const char *const *k = KINDS; *k; k++) known |= !strcmp(*k, kind);
    if (!known)
        return err_set(err, "%s:%zu: unknown kind '%s' (fp16, quant, distill, finetune, scale or base)", path,
                       line, kind);
    char *full = join_path(dir, model);
    if (!is_file(full) && !is_dir(full)) {
        err_set(err, "%s:%zu: model '%s' not found: %s", path, line, name, full);
        free(full);
        return -1;
    }
    const char *lacks = is_dir(full) ? model_folder_lacks(full) : NULL;
    if (lacks) {
        err_set(err, "%s:%zu: model '%s' is the folder %s, which holds no %s", path, line, name, full, lacks);
        free(full);
        return -1;
    }
    char *tokfull = tok[0] ? join_path(dir, tok) : NULL;
    if (tokfull && ((!is_file(tokfull) && !is_dir(tokfull)) || lacks_tokenizer_json(tokfull))) {
        err_set(err, "%s:%zu: tokenizer of '%s' %s: %s", path, line, name,
                is_dir(tokfull) ? "is a folder without tokenizer.json" : "not found", tokfull);
        free(full);
        free(tokfull);
        return -1;
    }
    manifest_add(m, name, full, kind, base[0] ? base : NULL, tokfull);
    free(full);
    free(tokfull);
    m->e[m->n - 1].line = line;
    if (bits[0]) {
        char *end;
        double v = strtod(bits, &end);
        if (*end || !(v > 0 && v <= 64))
            return err_set(err, "%s:%zu: bits_per_weight '%s' is not a number in (0, 64]", path, line, bits);
        m->e[m->n - 1].bpw = v;
    }
    return 0;
}

int manifest_check_tokenizers(const Manifest *m, const char *source, Err *err) {
    for (size_t i = 0; i < m->n; i++) {
        const Entry *e = &m->e[i];
        if (e->line && !e->tokenizer && lacks_tokenizer_json(e->path))
            return err_set(err, "%s:%zu: model '%s' is the folder %s, which holds no tokenizer.json (name one in a "
                           "tokenizer column, or give -t)", source, e->line, e->name, e->path);
    }
    return 0;
}

/* Why record R of T cannot be read as a manifest row, or 0: more fields than the header, or a
 * field holding a line break (in a manifest only a quote left open makes one: it runs on to the
 * next quote or the end of the file). */
static int check_row_shape(const CsvTable *t, size_t r, const char *path, Err *err) {
    size_t line = r + 2;
    if (t->nfields[r] > t->ncols)
        return err_set(err, "%s:%zu: %zu fields, the header has %zu", path, line, t->nfields[r], t->ncols);
    for (size_t c = 0; c < t->ncols; c++)
        if (strpbrk(csv_table_cell(t, r, (int)c), "\r\n"))
            return err_set(err, "%s:%zu: a quote is not closed on its line (column '%s' runs on to line %d)", path,
                           line, t->header[c], t->line[r]);
    return 0;
}

int manifest_load(Manifest *m, const char *path, Err *err) {
    memset(m, 0, sizeof *m);
    if (is_dir(path)) return err_set(err, "%s: is a folder, not a manifest CSV file", path);
    size_t len;
    char *text = read_file(path, &len, err);
    if (!text) return -1;
    CsvTable t;
    int rc = csv_table_parse_flags(&t, path, text, len, NULL, CSV_TABLE_LOOSE | CSV_TABLE_EMPTY_OK, err);
    free(text);
    if (rc != 0) return -1;
    if (!t.header)
        rc = err_set(err, "%s: empty manifest (expected a header name,path,kind,bits_per_weight,base)", path);
    else if (csv_table_col(&t, "name") < 0 || csv_table_col(&t, "path") < 0 || csv_table_col(&t, "kind") < 0)
        rc = err_set(err, "%s:1: the header must name the columns name,path,kind (and may add bits_per_weight,base)",
                     path);
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else dir[0] = '\0';
    for (size_t r = 0; r < t.nrows && rc == 0; r++) {
        if (t.nfields[r] == 1 && !csv_table_cell(&t, r, 0)[0]) continue; /* a line holding only "" */
        rc = check_row_shape(&t, r, path, err);
        if (rc == 0) rc = add_record(m, &t, r, path, dir, err);
    }
    free(dir);
    csv_table_free(&t);
    if (rc == 0 && m->n == 0) rc = err_set(err, "%s: no models listed", path);
    if (rc == 0) rc = manifest_check(m, path, err);
    if (rc != 0) manifest_free(m);
    return rc;
}

static int find_entry(const Manifest *m, const char *name) {
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->e[i].name, name)) return (int)i;
    return -1;
}

int manifest_check(Manifest *m, const char *source, Err *err) {
    for (size_t i = 0; i < m->n; i++) {
        if (find_entry(m, m->e[i].name) != (int)i)
            return err_set(err, "%s: model name '%s' is listed twice", source, m->e[i].name);
        if (m->e[i].base && find_entry(m, m->e[i].base) < 0)
            return err_set(err, "%s: base '%s' of '%s' is not listed", source, m->e[i].base, m->e[i].name);
    }
    /* Depth along the base chain; a chain longer than the list is a cycle. */
    size_t *depth = xcalloc(m->n, sizeof *depth);
    for (size_t i = 0; i < m->n; i++) {
        size_t d = 0;
        for (int j = (int)i; m->e[j].base; j = find_entry(m, m->e[j].base))
            if (++d > m->n) {
                free(depth);
                return err_set(err, "%s: the bases of '%s' form a cycle", source, m->e[i].name);
            }
        depth[i] = d;
    }
    /* Stable order by depth: every base before its variants. */
    Entry *sorted = xmalloc(m->n * sizeof *sorted);
    size_t k = 0;
    for (size_t d = 0; k < m->n; d++)
        for (size_t i = 0; i < m->n; i++)
            if (depth[i] == d) sorted[k++] = m->e[i];
    free(m->e);
    m->e = sorted;
    free(depth);
    return 0;
}

char *model_short_name(const char *path) {
    char *p = xstrdup(path);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
    const char *slash = strrchr(p, '/');
    char *name = xstrdup(slash ? slash + 1 : p);
    free(p);
    if (ends_with(name, ".gguf")) name[strlen(name) - 5] = '\0';
    else if (ends_with(name, ".safetensors")) name[strlen(name) - 12] = '\0';
    return name;
}

char **model_short_names(const char *const *paths, int n) {
    char **names = xcalloc((size_t)(n > 0 ? n : 1), sizeof *names);
    for (int i = 0; i < n; i++) {
        Buf u = {0};
        char *name = model_short_name(paths[i]);
        buf_puts(&u, name); /* allocates even for "": u.data is never NULL after it (util.h) */
        free(name);
        for (int j = 0; j < i; j++)
            if (!strcmp(names[j], u.data)) buf_printf(&u, "#%d", i + 1);
        names[i] = u.data;
    }
    return names;
}

char *model_tokenizer_path(const char *model, const char *given) {
    if (given) return xstrdup(given);
    if (ends_with(model, ".safetensors")) {
        char *dir = xstrdup(model);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        else strcpy(dir, ".");
        return dir;
    }
    return xstrdup(model);
}
