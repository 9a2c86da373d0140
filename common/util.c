/* util: see util.h. */
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- errors and allocation ---- */

int err_set(Err *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        /* one line, always: parts quoted from hostile input (a JSON parser's "near '...'")
         * may hold line breaks and other control bytes */
        for (char *c = err->msg; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
    }
    return -1;
}

static void die_oom(size_t n) {
    fprintf(stderr, "coldtok: out of memory (allocating %zu bytes)\n", n);
    exit(2);
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die_oom(n);
    return p;
}

void *xmalloc_aligned(size_t n) {
    /* aligned_alloc wants a multiple of the alignment */
    void *p = aligned_alloc(64, n ? (n + 63) / 64 * 64 : 64);
    if (!p) die_oom(n);
    return p;
}

void *xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) die_oom(count * size);
    return p;
}

void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) die_oom(n);
    return q;
}

char *xstrndup(const char *s, size_t n) {
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

/* ---- buffers ---- */

void buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_append(Buf *b, const void *p, size_t n) {
    buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_puts(Buf *b, const char *s) { buf_append(b, s, strlen(s)); }
void buf_putc(Buf *b, char c) { buf_append(b, &c, 1); }

void buf_printf(Buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_clear(Buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void buf_free(Buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void intvec_push(IntVec *a, int x) {
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = x;
}

void intvec_free(IntVec *a) {
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

/* ---- files ---- */

static const char *kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a folder";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "not a regular file";
}

int open_regular(const char *path, Err *err) {
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return err_set(err, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return err_set(err, "%s: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) { /* map_file's word for it since before FIFOs were checked */
        close(fd);
        return err_set(err, "%s: not a regular file", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, "%s: %s, not a regular file", path, kind_of(st.st_mode));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

FILE *fopen_regular(const char *path, Err *err) {
    int fd = open_regular(path, err);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        err_set(err, "%s: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

int check_input_path(const char *path, Err *err) {
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return err_set(err, "%s: no such file or folder", path);
        return err_set(err, "%s: %s", path, strerror(errno));
    }
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return 0;
    return err_set(err, "%s: %s, not a regular file or a folder", path, kind_of(st.st_mode));
}

int map_file(MappedFile *mf, const char *path, Err *err) {
    memset(mf, 0, sizeof *mf);
    int fd = open_regular(path, err);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return err_set(err, "%s: %s", path, strerror(e));
    }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return err_set(err, "%s: cannot map: %s", path, strerror(e));
        }
        /* a file that is not yet in the page cache then comes in by 2 MiB folios, which later
         * mappings map whole (common/prefault.h says what 4 KiB pages cost in a VM) */
        if (st.st_size >= (2 << 20)) madvise(p, (size_t)st.st_size, MADV_HUGEPAGE);
        mf->data = p;
        mf->size = (size_t)st.st_size;
    }
    close(fd);
    mf->path = xstrdup(path);
    return 0;
}

void unmap_file(MappedFile *mf) {
    if (mf->data) munmap((void *)mf->data, mf->size);
    free(mf->path);
    memset(mf, 0, sizeof *mf);
}

char *read_file(const char *path, size_t *len, Err *err) {
    FILE *f = fopen_regular(path, err);
    if (!f) return NULL;
    Buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        buf_free(&b);
        err_set(err, "%s: read error", path);
        return NULL;
    }
    if (!b.data) buf_append(&b, "", 0);
    if (len) *len = b.len;
    return b.data;
}

/* ---- outputs that replace a file ---- */

int out_temp(const char *path, char **tmp, Err *err) {
    Buf t = {0};
    buf_printf(&t, "%s.tmpXXXXXX", path);
    int fd = mkstemp(t.data);
    if (fd < 0) {
        int e = errno;
        buf_free(&t);
        return err_set(err, "%s: cannot create a temporary file: %s", path, strerror(e));
    }
    mode_t mask = umask(0); /* mkstemp makes 0600; an output gets what creat() would give it */
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    close(fd);
    *tmp = t.data;
    return 0;
}

/* fsync of the folder holding path, so that the rename itself survives a crash (best effort) */
static void sync_parent(const char *path) {
    char *d = xstrdup(path);
    char *slash = strrchr(d, '/');
    if (slash == d) slash[1] = '\0';
    else if (slash) *slash = '\0';
    int fd = open(slash ? d : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(d);
}

int out_commit(const char *tmp, const char *path, Err *err) {
    int fd = open(tmp, O_WRONLY | O_CLOEXEC);
    int ok = fd >= 0 && fsync(fd) == 0;
    int e = errno;
    if (fd >= 0 && close(fd) != 0 && ok) ok = 0, e = errno;
    if (ok && rename(tmp, path) != 0) ok = 0, e = errno;
    if (!ok) {
        unlink(tmp); /* ours: made by out_temp */
        return err_set(err, "%s: cannot write: %s", path, strerror(e));
    }
    sync_parent(path);
    return 0;
}

int out_open(OutFile *o, const char *path, Err *err) {
    memset(o, 0, sizeof *o);
    if (out_temp(path, &o->tmp, err)) return -1;
    if (!(o->f = fopen(o->tmp, "wb"))) {
        int e = errno;
        unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
        return err_set(err, "%s: cannot create: %s", path, strerror(e));
    }
    o->path = xstrdup(path);
    return 0;
}

int out_close(OutFile *o, int ok, Err *err) {
    if (!o->f) return ok ? 0 : -1;
    int e = 0;
    if (fflush(o->f) != 0 || ferror(o->f)) e = errno ? errno : EIO;
    if (fclose(o->f) != 0 && !e) e = errno ? errno : EIO;
    o->f = NULL;
    int rc = 0;
    if (ok && e) rc = err_set(err, "%s: cannot write: %s", o->path, strerror(e));
    if (ok && !e) rc = out_commit(o->tmp, o->path, err);
    else unlink(o->tmp);
    if (!ok) rc = -1;
    free(o->tmp);
    free(o->path);
    o->tmp = o->path = NULL;
    return rc;
}

int write_file_atomic(const char *path, const void *data, size_t len, Err *err) {
    OutFile o;
    if (out_open(&o, path, err)) return -1;
    int ok = len == 0 || fwrite(data, 1, len, o.f) == len;
    if (!ok) {
        int e = errno ? errno : EIO;
        out_close(&o, 0, NULL);
        return err_set(err, "%s: cannot write: %s", path, strerror(e));
    }
    return out_close(&o, 1, err);
}

int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int make_dirs(const char *path, Err *err) {
    if (!*path) return err_set(err, "an empty folder name");
    char *p = xstrdup(path);
    int rc = 0;
    /* each prefix that ends at a '/' (or the end) in turn, like mkdir -p */
    for (char *q = p + 1;; q++) {
        if (*q != '/' && *q != '\0') continue;
        char c = *q;
        *q = '\0';
        if (!is_dir(p) && mkdir(p, 0777) != 0 && errno != EEXIST)
            rc = err_set(err, "%s: cannot create: %s", p, strerror(errno));
        *q = c;
        if (rc || !c) break;
    }
    free(p);
    if (rc == 0 && !is_dir(path)) rc = err_set(err, "%s: exists but is not a folder", path);
    return rc;
}

int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

/* ---- progress ---- */

static double progress_last;
static int progress_shown;

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void progress(const char *fmt, ...) {
    if (!isatty(STDERR_FILENO)) return;
    double t = now_seconds();
    if (progress_shown && t - progress_last < 0.1) return;
    progress_last = t;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    progress_shown = 1;
}

void progress_done(void) {
    if (!progress_shown) return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    progress_shown = 0;
}

/* ---- UTF-8 ---- */

int utf8_decode(const uint8_t *s, size_t len, uint32_t *cp) {
    if (len == 0) return 0;
    uint8_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int n;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0) n = 2, v = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) n = 3, v = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) n = 4, v = c & 0x07, min = 0x10000;
    else return 0;
    if ((size_t)n > len) return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return n;
}

int utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t utf8_valid_prefix(const char *s, size_t len) {
    size_t i = 0;
    uint32_t cp;
    while (i < len) {
        int n = utf8_decode((const uint8_t *)s + i, len - i, &cp);
        if (!n) return i;
        i += (size_t)n;
    }
    return len;
}
