/* gguf_write: see gguf_write.h. Metadata is serialized into a buffer as it is added; the file is
 * header + that buffer + tensor infos + padding + data. All integers little-endian (x86 and ARM
 * Linux are, and GGUF v3 says so). */
#include "formats/gguf_write.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/qtype.h"

#define ALIGN 32
/* The file leaves in whole pieces of STAGE bytes at offsets that are multiples of STAGE (all but
 * the last), so that the page cache holds it in 2 MiB folios, which a reader's mapping then maps
 * with one page-table entry each. In a virtual machine with shadow page tables the first touch of
 * each 4 KiB page costs about 1.5 us: the first forward pass over a 1 GB model written in
 * unaligned 2 MB pieces took 0.3 s more than over the same file in 2 MiB folios (docs/models.md,
 * "Cold start"). */
#define STAGE ((size_t)4 << 20)

typedef struct {
    char *name;
    uint32_t type;
    int n_dims;
    int64_t ne[4];
    uint64_t offset, nbytes;
} Info;

struct GgufWriter {
    Buf kv;        /* serialized key/value pairs */
    uint64_t n_kv;
    Info *t;
    int n_t;
    uint64_t data_size; /* of the data section, padded */
    FILE *fp;           /* unbuffered: stage is the buffer */
    unsigned char *stage;
    size_t staged;      /* bytes in stage */
    char *path;
    int cur;            /* tensor being written */
    uint64_t cur_done;  /* its bytes written so far */
    int failed;
};

GgufWriter *gw_new(void) { return xcalloc(1, sizeof(GgufWriter)); }

void gw_free(GgufWriter *w) {
    if (!w) return;
    if (w->fp) fclose(w->fp);
    free(w->stage);
    for (int i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->t);
    free(w->path);
    buf_free(&w->kv);
    free(w);
}

static void put_u32(Buf *b, uint32_t v) { buf_append(b, &v, 4); }
static void put_u64(Buf *b, uint64_t v) { buf_append(b, &v, 8); }
static void put_str(Buf *b, const char *s) {
    put_u64(b, strlen(s));
    buf_puts(b, s);
}

static void key(GgufWriter *w, const char *k, uint32_t type) {
    put_str(&w->kv, k);
    put_u32(&w->kv, type);
    w->n_kv++;
}

void gw_kv_str(GgufWriter *w, const char *k, const char *v) { key(w, k, 8), put_str(&w->kv, v); }
void gw_kv_u32(GgufWriter *w, const char *k, uint32_t v) { key(w, k, 4), put_u32(&w->kv, v); }
void gw_kv_f32(GgufWriter *w, const char *k, float v) { key(w, k, 6), buf_append(&w->kv, &v, 4); }
void gw_kv_bool(GgufWriter *w, const char *k, int v) {
    key(w, k, 7);
    buf_putc(&w->kv, (char)(v != 0));
}

void gw_kv_arr_str(GgufWriter *w, const char *k, const char *const *v, size_t n) {
    key(w, k, 9);
    put_u32(&w->kv, 8);
    put_u64(&w->kv, n);
    for (size_t i = 0; i < n; i++) put_str(&w->kv, v[i]);
}

void gw_kv_arr_i32(GgufWriter *w, const char *k, const int32_t *v, size_t n) {
    key(w, k, 9);
    put_u32(&w->kv, 5);
    put_u64(&w->kv, n);
    buf_append(&w->kv, v, n * 4);
}

void gw_kv_arr_f32(GgufWriter *w, const char *k, const float *v, size_t n) {
    key(w, k, 9);
    put_u32(&w->kv, 6);
    put_u64(&w->kv, n);
    buf_append(&w->kv, v, n * 4);
}

void gw_kv_raw(GgufWriter *w, const char *k, uint32_t type, const void *v, size_t n) {
    key(w, k, type);
    buf_append(&w->kv, v, n);
}

static uint64_t pad_to(uint64_t x) { return (x + ALIGN - 1) / ALIGN * ALIGN; }

int64_t gw_add_tensor(GgufWriter *w, const char *name, uint32_t type, int n_dims, const int64_t *ne,
                      Err *err) {
    if (w->failed) return err_set(err, "gguf writer: an earlier call failed");
    if (w->fp) return err_set(err, "gguf writer: tensor %s added after gw_begin", name);
    if (strlen(name) >= 64) return err_set(err, "gguf writer: tensor name '%s' is too long", name);
    for (int i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) return err_set(err, "gguf writer: tensor %s added twice", name);
    if (n_dims < 1 || n_dims > 4) return err_set(err, "gguf writer: tensor %s has %d dims", name, n_dims);
    Info t = {.type = type, .n_dims = n_dims, .ne = {1, 1, 1, 1}};
    uint64_t rows = 1;
    for (int d = 0; d < n_dims; d++) {
        if (ne[d] < 1 || ne[d] > (1LL << 32))
            return err_set(err, "gguf writer: tensor %s: bad dimension %lld", name, (long long)ne[d]);
        t.ne[d] = ne[d];
        if (d) rows *= (uint64_t)ne[d];
    }
    size_t rb = qtype_row_bytes(type, ne[0]);
    if (!rb)
        return err_set(err, "gguf writer: tensor %s: %lld is not a multiple of the %s block", name,
                       (long long)ne[0], qtype_name(type) ? qtype_name(type) : "?");
    t.nbytes = rb * rows;
    t.offset = w->data_size;
    t.name = xstrdup(name);
    w->data_size = pad_to(w->data_size + t.nbytes);
    w->t = xrealloc(w->t, (size_t)(w->n_t + 1) * sizeof *w->t);
    w->t[w->n_t++] = t;
    return (int64_t)t.nbytes;
}

static int io_fail(GgufWriter *w, Err *err) {
    w->failed = 1;
    return err_set(err, "%s: write failed: %s", w->path, strerror(errno));
}

/* Appends n bytes to the file through stage (STAGE above); a whole piece at a piece boundary is
 * written straight from data. */
static int emit(GgufWriter *w, const void *data, size_t n, Err *err) {
    const unsigned char *p = data;
    while (n) {
        if (!w->staged && n >= STAGE) {
            size_t k = n - n % STAGE;
            if (fwrite(p, 1, k, w->fp) != k) return io_fail(w, err);
            p += k, n -= k;
            continue;
        }
        size_t k = STAGE - w->staged < n ? STAGE - w->staged : n;
        memcpy(w->stage + w->staged, p, k);
        w->staged += k, p += k, n -= k;
        if (w->staged == STAGE) {
            if (fwrite(w->stage, 1, STAGE, w->fp) != STAGE) return io_fail(w, err);
            w->staged = 0;
        }
    }
    return 0;
}

int gw_begin(GgufWriter *w, const char *path, Err *err) {
    if (w->failed || w->fp) return err_set(err, "%s: gguf writer misused", path);
    w->path = xstrdup(path);
    if (!(w->fp = fopen(path, "wb"))) return io_fail(w, err);
    setvbuf(w->fp, NULL, _IONBF, 0);
    w->stage = xmalloc(STAGE);
    w->staged = 0;
    Buf h = {0};
    buf_append(&h, "GGUF", 4);
    put_u32(&h, 3);
    put_u64(&h, (uint64_t)w->n_t);
    put_u64(&h, w->n_kv);
    buf_append(&h, w->kv.data, w->kv.len);
    for (int i = 0; i < w->n_t; i++) {
        const Info *t = &w->t[i];
        put_str(&h, t->name);
        put_u32(&h, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++) put_u64(&h, (uint64_t)t->ne[d]);
        put_u32(&h, t->type);
        put_u64(&h, t->offset);
    }
    while (h.len % ALIGN) buf_putc(&h, 0);
    int r = emit(w, h.data, h.len, err);
    buf_free(&h);
    w->cur = 0;
    w->cur_done = 0;
    return r;
}

int gw_data(GgufWriter *w, const void *data, size_t n, Err *err) {
    if (w->failed || !w->fp) return err_set(err, "gguf writer: gw_data without gw_begin");
    static const char zeros[ALIGN];
    const uint8_t *p = data;
    while (n) {
        if (w->cur >= w->n_t) {
            w->failed = 1;
            return err_set(err, "%s: more tensor data than declared", w->path);
        }
        Info *t = &w->t[w->cur];
        uint64_t k = t->nbytes - w->cur_done < n ? t->nbytes - w->cur_done : n;
        if (emit(w, p, (size_t)k, err)) return -1;
        p += k, n -= (size_t)k, w->cur_done += k;
        if (w->cur_done == t->nbytes) {
            size_t pad = (size_t)(pad_to(t->nbytes) - t->nbytes);
            if (pad && emit(w, zeros, pad, err)) return -1;
            w->cur++;
            w->cur_done = 0;
        }
    }
    return 0;
}

int gw_end(GgufWriter *w, Err *err) {
    if (w->failed || !w->fp) return err_set(err, "gguf writer: gw_end without a good gw_begin");
    /* zero-size tensors cannot exist (dims >= 1), so every tensor must have been completed */
    if (w->cur != w->n_t) {
        w->failed = 1;
        return err_set(err, "%s: tensor %s: data incomplete", w->path, w->t[w->cur].name);
    }
    int bad = w->staged && fwrite(w->stage, 1, w->staged, w->fp) != w->staged;
    bad |= fclose(w->fp) != 0;
    w->fp = NULL;
    free(w->stage);
    w->stage = NULL;
    return bad ? io_fail(w, err) : 0;
}
