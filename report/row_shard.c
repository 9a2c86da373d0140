/* row_shard: the rows.shard file of probe, diff and coverage shards and their merge (row_shard.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/row_shard.h"

#define MAGIC "coldtok-rows-shard 1"

int rowshard_owns(size_t unit, int shard, int nshards) { return (int)(unit % (size_t)nshards) == shard; }

/* ---- writing ---- */

static int one_line(const char *s) { return !strpbrk(s, "\t\n\r"); }

int rowshard_write(const char *dir, const RowShard *s, RunRecord *rec, Err *err) {
    Buf b = {0}, path = {0};
    char hex[SHA256_HEX_LEN];
    uint64_t bytes = 0;
    int rc = 0;
    buf_printf(&b, "%s\ncommand %s\nshard %d %d\n", MAGIC, s->command, s->shard + 1, s->nshards);
    for (const char *l = s->settings; *l; l += strcspn(l, "\n"), l += *l == '\n')
        buf_printf(&b, "setting %.*s\n", (int)strcspn(l, "\n"), l);
    for (size_t u = 0; u < s->nunits && rc == 0; u++)
        if (!one_line(s->units[u])) rc = err_set(err, "'%s': a name with a tab or a line break cannot be sharded", s->units[u]);
    for (size_t u = 0; u < s->nunits && rc == 0; u++) buf_printf(&b, "unit %s\n", s->units[u]);
    for (size_t u = 0; u < s->nunits && rc == 0; u++)
        if (rowshard_owns(u, s->shard, s->nshards)) buf_printf(&b, "own %s\n", s->units[u]);
    for (size_t i = 0; i < s->ninputs && rc == 0; i++) {
        rc = run_record_model_digest(rec, s->inputs[i], &bytes, hex, err);
        if (rc == 0 && !one_line(s->inputs[i])) rc = err_set(err, "%s: a path with a tab or a line break cannot be sharded", s->inputs[i]);
        if (rc == 0) buf_printf(&b, "input %s\t%s\n", s->inputs[i], hex);
    }
    for (size_t i = 0; i < s->nfiles && rc == 0; i++) {
        buf_clear(&path);
        buf_printf(&path, "%s/%s", dir, s->files[i]);
        rc = sha256_file(path.data, hex, &bytes, err);
        if (rc == 0) buf_printf(&b, "file %s\t%llu\t%s\n", s->files[i], (unsigned long long)bytes, hex);
    }
    buf_puts(&b, "end\n");
    buf_clear(&path);
    buf_printf(&path, "%s/%s", dir, ROW_SHARD_FILE);
    if (rc == 0) rc = write_file_atomic(path.data, b.data, b.len, err);
    buf_free(&b), buf_free(&path);
    return rc;
}

/* ---- reading ---- */

typedef struct {
    const char *path;
    char *text;       /* the whole file; the fields below point into it (lines cut at '\n') */
    char *command;
    int shard, nshards;
    Buf settings;     /* the setting and unit lines, joined: the same in every shard of a run */
    char **units, **owns, **inputs, **files;
    size_t nunits, nowns, ninputs, nfiles;
} Shard;

static void shard_free(Shard *s) {
    free(s->text), free(s->units), free(s->owns), free(s->inputs), free(s->files);
    buf_free(&s->settings);
}

static void push(char ***v, size_t *n, char *s) {
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = s;
}

static int read_shard(Shard *s, const char *path, Err *err) {
    memset(s, 0, sizeof *s);
    s->path = path;
    size_t len;
    if (!(s->text = read_file(path, &len, err))) return -1;
    if (len < sizeof MAGIC || memcmp(s->text, MAGIC "\n", sizeof MAGIC))
        return err_set(err, "%s: not a probe, diff or coverage shard file (no '%s' line)", path, MAGIC);
    if (len < 4 || strcmp(s->text + len - 4, "end\n") || (len > 4 && s->text[len - 5] != '\n'))
        return err_set(err, "%s: cut short: no end line (a job that died, or a damaged file)", path);
    if (strlen(s->text) != len) return err_set(err, "%s: a NUL byte: not a shard file", path);
    buf_puts(&s->settings, "");
    char *line = s->text + sizeof MAGIC, *next;
    for (; *line; line = next) {
        next = line + strcspn(line, "\n");
        *next++ = 0;
        char *sp = strchr(line, ' ');
        const char *rest = sp ? sp + 1 : "";
        if (!strncmp(line, "command ", 8)) s->command = line + 8;
        else if (!strncmp(line, "shard ", 6)) {
            if (sscanf(rest, "%d %d", &s->shard, &s->nshards) != 2 || s->nshards < 1 || s->shard < 1 || s->shard > s->nshards)
                return err_set(err, "%s: a damaged shard line '%s'", path, line);
        } else if (!strncmp(line, "setting ", 8) || !strncmp(line, "unit ", 5)) {
            buf_printf(&s->settings, "%s\n", line);
            if (line[0] == 'u') push(&s->units, &s->nunits, line + 5);
        } else if (!strncmp(line, "own ", 4)) push(&s->owns, &s->nowns, line + 4);
        else if (!strncmp(line, "input ", 6) && strchr(rest, '\t')) push(&s->inputs, &s->ninputs, line + 6);
        else if (!strncmp(line, "file ", 5) && strchr(rest, '\t')) push(&s->files, &s->nfiles, line + 5);
        else if (!strcmp(line, "end") && !*next) break;
        else return err_set(err, "%s: a line that belongs in no shard file: '%.60s'", path, line);
    }
    if (!s->command || !s->nshards || !s->nunits) return err_set(err, "%s: no command, shard or unit line: not a complete shard file", path);
    /* the units this shard must own, by the rule of rowshard_owns */
    size_t k = 0;
    for (size_t u = 0; u < s->nunits; u++)
        if (rowshard_owns(u, s->shard - 1, s->nshards) && (k >= s->nowns || strcmp(s->owns[k++], s->units[u])))
            return err_set(err, "%s: its own units are not those of shard %d of %d (a damaged file)", path, s->shard, s->nshards);
    if (k != s->nowns) return err_set(err, "%s: its own units are not those of shard %d of %d (a damaged file)", path, s->shard, s->nshards);
    return 0;
}

/* The first line where two texts differ, quoted into err's message. */
static int differ(const Shard *a, const Shard *b, const char *ta, const char *tb, Err *err) {
    while (*ta && *tb) {
        size_t la = strcspn(ta, "\n"), lb = strcspn(tb, "\n");
        if (la != lb || memcmp(ta, tb, la))
            return err_set(err, "%s and %s are shards of different runs: '%.*s' against '%.*s'", a->path, b->path,
                           (int)(la > 200 ? 200 : la), ta, (int)(lb > 200 ? 200 : lb), tb);
        ta += la + (ta[la] == '\n'), tb += lb + (tb[lb] == '\n');
    }
    return err_set(err, "%s and %s are shards of different runs: one lists more settings or units than the other",
                   a->path, b->path);
}

/* Shards of one run, all of them, each once, no input read with two digests. */
static int check_run(Shard *s, int n, Err *err) {
    const Shard *a = &s[0];
    for (int i = 1; i < n; i++) {
        const Shard *b = &s[i];
        if (strcmp(a->command, b->command))
            return err_set(err, "%s is a %s shard but %s a %s shard: shards of different runs", b->path, b->command, a->path, a->command);
        if (a->nshards != b->nshards)
            return err_set(err, "%s is shard %d of %d but %s of %d: shards of different runs", b->path, b->shard, b->nshards, a->path, a->nshards);
        if (strcmp(a->settings.data, b->settings.data)) return differ(a, b, a->settings.data, b->settings.data, err);
        if (a->nfiles != b->nfiles) return err_set(err, "%s and %s list different CSV files: shards of different runs", a->path, b->path);
    }
    int nsh = a->nshards, missing = 0;
    const Shard **by = xcalloc((size_t)nsh, sizeof *by);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (by[s[i].shard - 1]) rc = err_set(err, "%s and %s are both shard %d of %d", by[s[i].shard - 1]->path, s[i].path, s[i].shard, nsh);
        by[s[i].shard - 1] = &s[i];
    }
    Buf list = {0};
    for (int i = 0; i < nsh && rc == 0; i++)
        if (!by[i]) buf_printf(&list, "%s%d", missing++ ? ", " : "", i + 1);
    if (rc == 0 && missing)
        rc = err_set(err, "%d of the %d shards of the run missing (shard %s): merge needs all of them", missing, nsh, list.data);
    buf_free(&list);
    free(by);
    /* a file two shards read must be the same file in both (a model changed between jobs) */
    for (int i = 0; i < n && rc == 0; i++)
        for (int j = i + 1; j < n && rc == 0; j++)
            for (size_t p = 0; p < s[i].ninputs && rc == 0; p++)
                for (size_t q = 0; q < s[j].ninputs && rc == 0; q++) {
                    const char *x = s[i].inputs[p], *y = s[j].inputs[q];
                    size_t lx = strcspn(x, "\t");
                    if (lx == strcspn(y, "\t") && !strncmp(x, y, lx) && strcmp(x + lx, y + lx))
                        rc = err_set(err, "%s and %s are shards of different runs: %.*s had another SHA-256 for each", s[i].path,
                                     s[j].path, (int)lx, x);
                }
    return rc;
}

/* ---- the CSV rows ---- */

/* The length of the CSV record at p (its line break included; a quoted field may hold breaks). */
static size_t record_len(const char *p, const char *end) {
    int quoted = 0;
    for (const char *q = p; q < end; q++) {
        if (*q == '"') quoted = !quoted;
        else if (*q == '\n' && !quoted) return (size_t)(q - p) + 1;
    }
    return (size_t)(end - p);
}

/* The record's first field, unquoted, into f. */
static void first_field(const char *p, size_t len, Buf *f) {
    buf_clear(f);
    buf_puts(f, "");
    if (len && *p == '"') {
        for (size_t i = 1; i < len; i++) {
            if (p[i] == '"' && i + 1 < len && p[i + 1] == '"') buf_putc(f, '"'), i++;
            else if (p[i] == '"') break;
            else buf_putc(f, p[i]);
        }
        return;
    }
    buf_append(f, p, strcspn(p, ",\r\n") < len ? strcspn(p, ",\r\n") : len);
}

/* The rows of FILE of shard S that belong to its own units, appended to rows[unit]; the header to
 * *header (checked against the one already there). */
static int take_rows(const Shard *s, const char *name, uint64_t bytes, const char *hex, Buf *header, Buf *rows, Err *err) {
    Buf path = {0}, field = {0};
    const char *slash = strrchr(s->path, '/');
    if (slash) buf_printf(&path, "%.*s/%s", (int)(slash - s->path), s->path, name);
    else buf_puts(&path, name);
    char got[SHA256_HEX_LEN];
    uint64_t size = 0;
    size_t len = 0;
    char *text = NULL;
    int rc = sha256_file(path.data, got, &size, err);
    if (rc == 0 && (size != bytes || strcmp(got, hex)))
        rc = err_set(err, "%s: not the file its shard wrote (changed or damaged after %s was written)", path.data, s->path);
    if (rc == 0 && !(text = read_file(path.data, &len, err))) rc = -1;
    if (rc == 0) {
        const char *p = text, *end = text + len;
        size_t h = record_len(p, end);
        if (header->data && (header->len != h || memcmp(header->data, p, h)))
            rc = err_set(err, "%s: its header differs from the other shards' %s", path.data, name);
        if (!header->data) buf_append(header, p, h);
        for (p += h; p < end && rc == 0; p += h) {
            h = record_len(p, end);
            first_field(p, h, &field);
            size_t u = 0;
            while (u < s->nunits && strcmp(s->units[u], field.data)) u++;
            if (u == s->nunits) rc = err_set(err, "%s: a row of '%s', which is no unit of the run", path.data, field.data);
            else if (rowshard_owns(u, s->shard - 1, s->nshards)) buf_append(&rows[u], p, h);
        }
    }
    free(text);
    buf_free(&path), buf_free(&field);
    return rc;
}

int rowshard_merge(const char *const *paths, int n, const char *outdir, const char **command, Buf *written, Err *err) {
    Shard *s = xcalloc((size_t)n, sizeof *s);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) rc = read_shard(&s[i], paths[i], err);
    if (rc == 0) rc = check_run(s, n, err);
    size_t nfiles = rc == 0 ? s[0].nfiles : 0, nunits = rc == 0 ? s[0].nunits : 0;
    Buf *out = xcalloc(nfiles + 1, sizeof *out), *rows = xcalloc(nunits + 1, sizeof *rows);
    for (size_t f = 0; f < nfiles && rc == 0; f++) {
        Buf header = {0};
        char *name = xstrndup(s[0].files[f], strcspn(s[0].files[f], "\t"));
        for (size_t u = 0; u < nunits; u++) buf_clear(&rows[u]);
        for (int i = 0; i < n && rc == 0; i++) {
            const char *rec = s[i].files[f];
            unsigned long long bytes;
            char hex[SHA256_HEX_LEN] = "";
            size_t ln = strcspn(rec, "\t");
            if (ln != strlen(name) || strncmp(rec, name, ln) || sscanf(rec + ln, "\t%llu\t%64s", &bytes, hex) != 2)
                rc = err_set(err, "%s and %s list different CSV files: shards of different runs", s[0].path, s[i].path);
            else rc = take_rows(&s[i], name, bytes, hex, &header, rows, err);
        }
        buf_append(&out[f], header.data ? header.data : "", header.len);
        for (size_t u = 0; u < nunits && rc == 0; u++) buf_append(&out[f], rows[u].data ? rows[u].data : "", rows[u].len);
        buf_free(&header);
        free(name);
    }
    if (rc == 0) rc = make_dirs(outdir, err);
    for (size_t f = 0; f < nfiles && rc == 0; f++) { /* every check passed: now the files */
        Buf p = {0};
        size_t ln = strcspn(s[0].files[f], "\t");
        buf_printf(&p, "%s/%.*s", outdir, (int)ln, s[0].files[f]);
        rc = write_file_atomic(p.data, out[f].data ? out[f].data : "", out[f].len, err);
        if (rc == 0) buf_printf(written, "%.*s\n", (int)ln, s[0].files[f]);
        buf_free(&p);
    }
    if (rc == 0) {
        static const char *const known[] = {"probe", "diff", "coverage"};
        *command = "?";
        for (size_t k = 0; k < 3; k++)
            if (!strcmp(s[0].command, known[k])) *command = known[k];
    }
    for (size_t f = 0; f < nfiles; f++) buf_free(&out[f]);
    for (size_t u = 0; u < nunits; u++) buf_free(&rows[u]);
    free(out), free(rows);
    for (int i = 0; i < n; i++) shard_free(&s[i]);
    free(s);
    return rc;
}
