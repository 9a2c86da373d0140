/* hash_cache: see hash_cache.h. */
#include "common/hash_cache.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAGIC "coldtok-sha256-cache 1"
#define SETTLE_NS 2000000000LL /* a file changed more recently than this is not cached */

typedef struct {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
} FileId;

typedef struct {
    char *path; /* realpath */
    FileId id;
    char hex[SHA256_HEX_LEN];
    int used;   /* looked up or stored by this run: kept first when the file is written */
} CacheEntry;

struct HashCache {
    char *file;
    CacheEntry *e;
    size_t n, cap;
    int dirty;
    unsigned long hashed;
};

static int64_t ns_of(struct timespec t) { return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec; }

static int file_id(const char *path, FileId *id) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    *id = (FileId){(uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size, ns_of(st.st_mtim),
                   ns_of(st.st_ctim)};
    return 0;
}

static int same_id(const FileId *a, const FileId *b) {
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns &&
           a->ctime_ns == b->ctime_ns;
}

static int is_hex64(const char *s) {
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return s[64] == '\0';
}

static CacheEntry *add_entry(HashCache *c) {
    if (c->n == c->cap) c->e = xrealloc(c->e, (c->cap = c->cap ? 2 * c->cap : 16) * sizeof *c->e);
    CacheEntry *e = &c->e[c->n++];
    memset(e, 0, sizeof *e);
    return e;
}

/* One line: hex size mtime_ns ctime_ns dev ino path, tab-separated. A bad line is skipped. */
static void parse_line(HashCache *c, char *line) {
    char *f[7];
    int k = 0;
    for (char *p = line; k < 7; k++) {
        f[k] = p;
        if (k == 6) break;
        p = strchr(p, '\t');
        if (!p) return;
        *p++ = '\0';
    }
    if (!is_hex64(f[0]) || f[6][0] != '/') return;
    FileId id;
    char *end;
    uint64_t v[5];
    for (int i = 0; i < 5; i++) {
        v[i] = strtoull(f[i + 1], &end, 10);
        if (end == f[i + 1] || *end) return;
    }
    id = (FileId){v[3], v[4], v[0], (int64_t)v[1], (int64_t)v[2]};
    CacheEntry *e = add_entry(c);
    e->path = xstrdup(f[6]);
    e->id = id;
    memcpy(e->hex, f[0], SHA256_HEX_LEN);
}

HashCache *hash_cache_open(const char *path) {
    HashCache *c = xcalloc(1, sizeof *c);
    c->file = xstrdup(path);
    size_t len;
    Err ignored;
    char *text = is_file(path) ? read_file(path, &len, &ignored) : NULL;
    if (!text) return c;
    char *line = text, *nl = strchr(line, '\n');
    if (nl && (size_t)(nl - line) == strlen(MAGIC) && !strncmp(line, MAGIC, strlen(MAGIC))) {
        for (line = nl + 1; *line && c->n < HASH_CACHE_MAX; line = nl + 1) {
            nl = strchr(line, '\n');
            if (!nl) break; /* a last line without its newline was cut short */
            *nl = '\0';
            parse_line(c, line);
        }
    }
    free(text);
    return c;
}

static void debug(const char *what, const char *path) {
    if (getenv("COLDTOK_DEBUG_HASH")) fprintf(stderr, "coldtok: sha256: %s %s\n", what, path);
}

int hash_cache_file(HashCache *c, const char *path, char hex[SHA256_HEX_LEN], uint64_t *size, Err *err) {
    FileId before, after;
    char *real = NULL;
    CacheEntry *e = NULL;
    if (c && file_id(path, &before) == 0 && (real = realpath(path, NULL))) {
        for (size_t i = 0; i < c->n && !e; i++)
            if (!strcmp(c->e[i].path, real)) e = &c->e[i];
        if (e && same_id(&e->id, &before)) {
            memcpy(hex, e->hex, SHA256_HEX_LEN);
            if (size) *size = e->id.size;
            e->used = 1;
            free(real);
            debug("cached", path);
            return 0;
        }
    }
    uint64_t got = 0;
    if (sha256_file(path, hex, &got, err) != 0) {
        free(real);
        return -1;
    }
    if (size) *size = got;
    debug("hashed", path);
    if (!c) return 0;
    c->hashed++;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t t = ns_of(now);
    /* stored only when the file stood still while it was read and has settled since its last change */
    if (real && !strpbrk(real, "\t\n") && file_id(path, &after) == 0 && same_id(&before, &after) &&
        after.size == got && t - after.mtime_ns >= SETTLE_NS && t - after.ctime_ns >= SETTLE_NS) {
        if (!e) {
            e = add_entry(c);
            e->path = real;
            real = NULL;
        }
        e->id = after;
        memcpy(e->hex, hex, SHA256_HEX_LEN);
        e->used = 1;
        c->dirty = 1;
    }
    free(real);
    return 0;
}

int hash_cache_save(HashCache *c, Err *err) {
    if (!c || !c->dirty) return 0;
    Buf b = {0};
    buf_printf(&b, "%s\n", MAGIC);
    size_t kept = 0;
    for (int pass = 1; pass >= 0; pass--) /* this run's entries first, then older ones */
        for (size_t i = 0; i < c->n && kept < HASH_CACHE_MAX; i++) {
            const CacheEntry *e = &c->e[i];
            if (e->used != pass) continue;
            buf_printf(&b, "%s\t%" PRIu64 "\t%" PRId64 "\t%" PRId64 "\t%" PRIu64 "\t%" PRIu64 "\t%s\n", e->hex,
                       e->id.size, e->id.mtime_ns, e->id.ctime_ns, e->id.dev, e->id.ino, e->path);
            kept++;
        }
    int rc = write_file_atomic(c->file, b.data, b.len, err);
    buf_free(&b);
    if (rc == 0) c->dirty = 0;
    return rc;
}

unsigned long hash_cache_hashed(const HashCache *c) { return c ? c->hashed : 0; }

void hash_cache_free(HashCache *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) free(c->e[i].path);
    free(c->e);
    free(c->file);
    free(c);
}
