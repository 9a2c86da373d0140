/* util: the few things every module needs: one-line errors, checked allocation,
 * growable byte and int buffers, read-only file mappings and a stderr progress line.
 *
 * Errors: a function that can fail takes an Err *, returns -1 (or NULL) and leaves one
 * line in err->msg, conventionally "PATH: what is wrong". The caller decides whether
 * to print it; nothing here prints except the progress line and die_oom().
 * Allocation: xmalloc/xcalloc/xrealloc never return NULL; running out of memory ends
 * the process with one line on stderr (there is nothing useful a CLI can do instead). */
#ifndef COLDTOK_UTIL_H
#define COLDTOK_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    char msg[1024];
} Err;

/* Formats the message into err (if err is not NULL) and returns -1. The message is kept to one
 * line: control bytes (a line break quoted from bad input) become spaces. */
int err_set(Err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void *xmalloc(size_t n);
/* xmalloc on a 64-byte boundary (a cache line; free() frees it): vector loads of rows whose
 * length is a multiple of 16 floats then never straddle two lines. */
void *xmalloc_aligned(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* A growable byte string. A Buf starts as {0} with data == NULL; the first append (buf_puts of ""
 * included) allocates, and from then on data is NUL-terminated (the NUL is not counted in len).
 * buf_free returns it to {0}. So `b.data ? b.data : ""` reads a Buf that may never have grown. */
typedef struct {
    char *data;
    size_t len, cap;
} Buf;

void buf_append(Buf *b, const void *p, size_t n);
void buf_puts(Buf *b, const char *s);
void buf_putc(Buf *b, char c);
void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_clear(Buf *b);  /* len = 0, keeps the storage */
/* Room for extra more bytes and the NUL: appends of that much do not move data (a caller may
 * also write there itself, then set len and data[len] = '\0'). */
void buf_reserve(Buf *b, size_t extra);
void buf_free(Buf *b);

/* A growable array of ints (token ids). */
typedef struct {
    int *v;
    size_t n, cap;
} IntVec;

void intvec_push(IntVec *a, int x);
void intvec_free(IntVec *a);

/* A read-only mapping of a whole file. Empty files map to data == NULL, size == 0. */
typedef struct {
    const uint8_t *data;
    size_t size;
    char *path;  /* owned copy, for error messages */
} MappedFile;

int map_file(MappedFile *mf, const char *path, Err *err);
void unmap_file(MappedFile *mf);

/* Reads a whole file into a NUL-terminated heap buffer (for JSON and text inputs). */
char *read_file(const char *path, size_t *len, Err *err);

/* Every input file is opened through these (map_file and read_file included): the open does not
 * block (O_NONBLOCK, cleared again after), and anything but a regular file is refused before a
 * byte is read: "PATH: a FIFO, not a regular file" (a socket, a device likewise; a folder: "PATH: not a regular file"), so a
 * FIFO given as a model or a text never hangs a command. open_regular returns a blocking fd (or -1);
 * fopen_regular a FILE opened "rb" (or NULL). */
int open_regular(const char *path, Err *err);
FILE *fopen_regular(const char *path, Err *err);
/* For an input that may be a file or a folder (a model, a corpus): 0 when PATH is either, else
 * "PATH: no such file or folder" or "PATH: a FIFO, not a regular file or a folder". */
int check_input_path(const char *path, Err *err);

/* Outputs that replace a file (a quantized GGUF, CSV tables, figures, run records, raw logits):
 * written to a temporary of a unique name in the target's own folder, made by mkstemp
 * ("PATH.tmpXXXXXX", mode 0666 less the umask), flushed to disk (fsync) and renamed onto PATH only
 * when complete, so that a reader, a crash or a second run writing the same PATH never sees a
 * partial file. Each run removes only the temporary it created itself.
 *   out_temp(path, &tmp): creates the temporary (empty, closed), *tmp its name (free it);
 *   out_commit(tmp, path): fsync(tmp), rename onto path, fsync the folder; on failure the
 *     temporary is removed;
 *   out_open / out_close: the same around a FILE * opened "wb" on the temporary; out_close with
 *     ok 0 (or after a write error) removes the temporary and leaves PATH as it was;
 *   write_file_atomic: a whole buffer in one call.
 * Errors: "PATH: cannot create a temporary file: reason", "PATH: cannot write: reason". */
int out_temp(const char *path, char **tmp, Err *err);
int out_commit(const char *tmp, const char *path, Err *err);
typedef struct {
    FILE *f;
    char *path, *tmp;
} OutFile;
int out_open(OutFile *o, const char *path, Err *err);
int out_close(OutFile *o, int ok, Err *err);
int write_file_atomic(const char *path, const void *data, size_t len, Err *err);

int is_dir(const char *path);
int is_file(const char *path);
/* Makes the folder PATH and every missing folder above it, like mkdir -p; an existing folder is
 * fine. Errors: "PREFIX: cannot create: reason" for the first folder that could not be made, or
 * "PATH: exists but is not a folder". */
int make_dirs(const char *path, Err *err);
/* True when the name ends with suffix (case-sensitive). */
int ends_with(const char *s, const char *suffix);

/* Progress on stderr, only when stderr is a terminal: progress("loading %s", p) rewrites
 * one line; progress_done() clears it. Cheap to call often (rate-limited to ~10 Hz). */
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void progress_done(void);

/* Wall-clock seconds from a monotonic clock, for benchmarks and progress rates. */
double now_seconds(void);

/* Decodes one UTF-8 code point at s[0..len); returns its byte length (1..4) and stores the code
 * point, or returns 0 when the bytes there are not valid UTF-8 (overlong, surrogate, truncated). */
int utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);
/* Encodes cp into out (at least 4 bytes); returns the byte length. */
int utf8_encode(uint32_t cp, char *out);
/* Offset of the first invalid byte, or len when the whole string is valid UTF-8. */
size_t utf8_valid_prefix(const char *s, size_t len);

#endif
