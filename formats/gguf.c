/* gguf: see gguf.h.
 *
 * File layout (all little-endian):
 *   "GGUF" u32 version  u64 n_tensors  u64 n_kv
 *   n_kv  x { string key; u32 type; value }          string = u64 len + bytes (no NUL)
 *   n_tensors x { string name; u32 n_dims; u64 ne[n_dims]; u32 type; u64 offset }
 *   padding to general.alignment (default 32), then the data section; tensor offsets are relative
 *   to it and multiples of the alignment.
 * An array value is u32 elem_type, u64 count, then count values (arrays may nest).
 *
 * Parsing checks every length against the bytes that remain before reading, so afterwards the
 * accessors can read without checks: a validated Gguf never points outside its mapping. */
#include "formats/gguf.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "formats/qtype.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gguf.c reads little-endian values with memcpy: port it before using a big-endian host"
#endif

#define MAX_NESTING 16 /* arrays of arrays deeper than this are rejected (recursion bound) */

typedef struct {
    char *key;          /* NUL-terminated copy */
    uint64_t key_at;    /* file offset of the key's length field (for error messages) */
    int type;           /* enum GgufValueType */
    uint64_t at;        /* file offset of the value (for arrays: of the elem_type field) */
    int elem_type;      /* arrays only */
    uint64_t n;         /* arrays: element count; strings: length */
    uint64_t first;     /* arrays: offset of the first element; strings: of the first byte */
    uint64_t *str_at;   /* string arrays: offset of each element's length prefix */
} Kv;

struct Gguf {
    MappedFile mf;      /* empty for gguf_open_memory */
    const uint8_t *p;
    uint64_t size;
    char *path;
    uint32_t version, alignment;
    int n_kv, n_tensors;
    Kv *kv;
    Kv **kv_sorted;     /* by key, for gguf_find_kv */
    GgufTensor *t;
    GgufTensor **t_sorted; /* by name */
    uint64_t *t_at;     /* file offset of each tensor info (for error messages) */
    uint64_t data_start;
};

/* ---- reading with bounds ---- */

typedef struct {
    const uint8_t *p;
    uint64_t size, pos;
    const char *path;
    Err *err;
} Rd;

static int fail(Rd *r, uint64_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(Rd *r, uint64_t at, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(r->err, "%s: %s (at byte %llu)", r->path, msg, (unsigned long long)at);
}

static uint64_t left(const Rd *r) { return r->size - r->pos; }

static int need(Rd *r, uint64_t n, const char *what) {
    if (n > left(r))
        return fail(r, r->pos, "file ends inside %s (%llu bytes needed, %llu left)", what,
                    (unsigned long long)n, (unsigned long long)left(r));
    return 0;
}

static int rd_u32(Rd *r, uint32_t *v, const char *what) {
    if (need(r, 4, what)) return -1;
    memcpy(v, r->p + r->pos, 4);
    r->pos += 4;
    return 0;
}

static int rd_u64(Rd *r, uint64_t *v, const char *what) {
    if (need(r, 8, what)) return -1;
    memcpy(v, r->p + r->pos, 8);
    r->pos += 8;
    return 0;
}

/* A string: u64 length then bytes. Sets *at to the first byte. */
static int rd_str(Rd *r, uint64_t *at, uint64_t *len, const char *what) {
    uint64_t len_at = r->pos;
    if (rd_u64(r, len, what)) return -1;
    if (*len > left(r))
        return fail(r, len_at, "%s: string length %llu exceeds the %llu bytes left in the file",
                    what, (unsigned long long)*len, (unsigned long long)left(r));
    *at = r->pos;
    r->pos += *len;
    return 0;
}

size_t gguf_type_size(int type) {
    switch (type) {
    case GGUF_UINT8: case GGUF_INT8: case GGUF_BOOL: return 1;
    case GGUF_UINT16: case GGUF_INT16: return 2;
    case GGUF_UINT32: case GGUF_INT32: case GGUF_FLOAT32: return 4;
    case GGUF_UINT64: case GGUF_INT64: case GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* The fewest bytes one value of the type can take: its size, a string's length field, an
 * array's type and count fields. Used to reject impossible counts before allocating. */
static uint64_t min_size(int type) {
    if (type == GGUF_STRING) return 8;
    if (type == GGUF_ARRAY) return 12;
    return gguf_type_size(type);
}

static const char *type_name(int type) {
    static const char *names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
                                  "string", "array", "u64", "i64", "f64"};
    return type >= 0 && type <= GGUF_FLOAT64 ? names[type] : "?";
}

/* Skips one value of TYPE, checking it fits; WHAT names it for errors. */
static int skip_value(Rd *r, int type, int depth, const char *what);

static int skip_array(Rd *r, int depth, const char *what, int *elem_type, uint64_t *n) {
    uint64_t at = r->pos;
    uint32_t et;
    if (depth > MAX_NESTING) return fail(r, at, "%s: arrays nested deeper than %d", what, MAX_NESTING);
    if (rd_u32(r, &et, what)) return -1;
    if (et > GGUF_FLOAT64) return fail(r, at, "%s: unknown array element type %u", what, et);
    uint64_t count_at = r->pos;
    if (rd_u64(r, n, what)) return -1;
    uint64_t m = min_size((int)et);
    if (*n > left(r) / m)
        return fail(r, count_at,
                    "%s: array count %llu is impossible (%llu elements of type %s need at least "
                    "%llu bytes each, %llu bytes left)",
                    what, (unsigned long long)*n, (unsigned long long)*n, type_name((int)et),
                    (unsigned long long)m, (unsigned long long)left(r));
    *elem_type = (int)et;
    if (et != GGUF_STRING && et != GGUF_ARRAY) {
        r->pos += *n * m;
        return 0;
    }
    for (uint64_t i = 0; i < *n; i++)
        if (skip_value(r, (int)et, depth + 1, what)) return -1;
    return 0;
}

static int skip_value(Rd *r, int type, int depth, const char *what) {
    if (type == GGUF_STRING) {
        uint64_t at, len;
        return rd_str(r, &at, &len, what);
    }
    if (type == GGUF_ARRAY) {
        int et;
        uint64_t n;
        return skip_array(r, depth, what, &et, &n);
    }
    return need(r, gguf_type_size(type), what) ? -1 : (r->pos += gguf_type_size(type), 0);
}

/* ---- parsing ---- */

static int cmp_kv(const void *a, const void *b) {
    return strcmp((*(Kv *const *)a)->key, (*(Kv *const *)b)->key);
}

static int cmp_tensor_name(const void *a, const void *b) {
    return strcmp((*(GgufTensor *const *)a)->name, (*(GgufTensor *const *)b)->name);
}

static int cmp_tensor_offset(const void *a, const void *b) {
    uint64_t x = (*(GgufTensor *const *)a)->offset, y = (*(GgufTensor *const *)b)->offset;
    return x < y ? -1 : x > y;
}

/* A printable form of a (possibly hostile) name for error messages. */
static void quote(char *out, size_t cap, const uint8_t *s, uint64_t len) {
    size_t o = 0;
    for (uint64_t i = 0; i < len && o + 5 < cap; i++) {
        if (i == 60) {
            o += (size_t)snprintf(out + o, cap - o, "...");
            break;
        }
        if (s[i] >= 0x20 && s[i] < 0x7F && s[i] != '\'') out[o++] = (char)s[i];
        else o += (size_t)snprintf(out + o, cap - o, "\\x%02X", s[i]);
    }
    out[o] = '\0';
}

static int parse_kvs(Gguf *g, Rd *r) {
    char what[320];
    for (int i = 0; i < g->n_kv; i++) {
        Kv *kv = &g->kv[i];
        uint64_t key_at, key_len, kpos = r->pos;
        snprintf(what, sizeof what, "key #%d", i);
        if (rd_str(r, &key_at, &key_len, what)) return -1;
        char q[256];
        quote(q, sizeof q, r->p + key_at, key_len);
        if (key_len == 0) return fail(r, kpos, "key #%d is empty", i);
        if (memchr(r->p + key_at, 0, key_len)) return fail(r, kpos, "key '%s' contains a NUL byte", q);
        kv->key = xstrndup((const char *)r->p + key_at, key_len);
        kv->key_at = kpos;
        snprintf(what, sizeof what, "the value of key '%s'", q);
        uint32_t type;
        uint64_t type_at = r->pos;
        if (rd_u32(r, &type, what)) return -1;
        if (type > GGUF_FLOAT64) return fail(r, type_at, "key '%s': unknown value type %u", q, type);
        kv->type = (int)type;
        kv->at = r->pos;
        if (type == GGUF_STRING) {
            if (rd_str(r, &kv->first, &kv->n, what)) return -1;
        } else if (type == GGUF_ARRAY) {
            if (skip_array(r, 1, what, &kv->elem_type, &kv->n)) return -1;
            kv->first = kv->at + 12;
            if (kv->elem_type == GGUF_STRING) {
                /* O(1) access to element i: remember where each string starts. The count was
                 * checked against the file size, so this allocation is bounded by it. */
                kv->str_at = xmalloc((kv->n ? kv->n : 1) * sizeof *kv->str_at);
                uint64_t pos = kv->first, len;
                for (uint64_t j = 0; j < kv->n; j++) {
                    kv->str_at[j] = pos;
                    memcpy(&len, r->p + pos, 8);
                    pos += 8 + len;
                }
            }
        } else if (skip_value(r, (int)type, 0, what)) {
            return -1;
        }
    }
    /* duplicate keys: sort, then compare neighbours */
    g->kv_sorted = xmalloc((size_t)(g->n_kv ? g->n_kv : 1) * sizeof *g->kv_sorted);
    for (int i = 0; i < g->n_kv; i++) g->kv_sorted[i] = &g->kv[i];
    qsort(g->kv_sorted, (size_t)g->n_kv, sizeof *g->kv_sorted, cmp_kv);
    for (int i = 1; i < g->n_kv; i++)
        if (!strcmp(g->kv_sorted[i - 1]->key, g->kv_sorted[i]->key)) {
            char q[256];
            quote(q, sizeof q, (const uint8_t *)g->kv_sorted[i]->key, strlen(g->kv_sorted[i]->key));
            uint64_t a = g->kv_sorted[i - 1]->key_at, b = g->kv_sorted[i]->key_at;
            return fail(r, a > b ? a : b, "duplicate key '%s'", q);
        }
    return 0;
}

static int read_alignment(Gguf *g, Rd *r) {
    g->alignment = 32;
    int i = gguf_find_kv(g, "general.alignment");
    if (i < 0) return 0;
    int64_t v;
    if (g->kv[i].type == GGUF_ARRAY || g->kv[i].type == GGUF_STRING || g->kv[i].type == GGUF_BOOL ||
        g->kv[i].type == GGUF_FLOAT32 || g->kv[i].type == GGUF_FLOAT64 ||
        gguf_get_int(g, "general.alignment", &v))
        return fail(r, g->kv[i].at, "general.alignment has type %s, not an integer",
                    type_name(g->kv[i].type));
    if (v <= 0 || v > (1 << 30) || (v & (v - 1)))
        return fail(r, g->kv[i].at, "general.alignment %lld is not a power of two (1..2^30)",
                    (long long)v);
    g->alignment = (uint32_t)v;
    return 0;
}

static int parse_tensors(Gguf *g, Rd *r) {
    char what[320], q[256];
    for (int i = 0; i < g->n_tensors; i++) {
        GgufTensor *t = &g->t[i];
        uint64_t name_at, name_len, tpos = r->pos;
        g->t_at[i] = tpos;
        snprintf(what, sizeof what, "tensor info #%d", i);
        if (rd_str(r, &name_at, &name_len, what)) return -1;
        quote(q, sizeof q, r->p + name_at, name_len);
        if (name_len == 0) return fail(r, tpos, "tensor #%d has an empty name", i);
        if (memchr(r->p + name_at, 0, name_len))
            return fail(r, tpos, "tensor name '%s' contains a NUL byte", q);
        t->name = xstrndup((const char *)r->p + name_at, name_len);
        snprintf(what, sizeof what, "the info of tensor '%s'", q);
        uint32_t n_dims, type;
        uint64_t at = r->pos;
        if (rd_u32(r, &n_dims, what)) return -1;
        if (n_dims < 1 || n_dims > GGUF_MAX_DIMS)
            return fail(r, at, "tensor '%s': n_dims %u out of range 1..%d", q, n_dims, GGUF_MAX_DIMS);
        t->n_dims = (int)n_dims;
        uint64_t nelem = 1;
        for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
        for (uint32_t d = 0; d < n_dims; d++) {
            uint64_t ne;
            at = r->pos;
            if (rd_u64(r, &ne, what)) return -1;
            if (ne < 1 || ne > (uint64_t)INT64_MAX)
                return fail(r, at, "tensor '%s': ne[%u] = %llu out of range", q, d, (unsigned long long)ne);
            if (nelem > (uint64_t)INT64_MAX / ne)
                return fail(r, at, "tensor '%s': element count overflows 63 bits", q);
            nelem *= ne;
            t->ne[d] = (int64_t)ne;
        }
        at = r->pos;
        if (rd_u32(r, &type, what)) return -1;
        t->type = type;
        int be = qtype_block_elems(type);
        if (!be) return fail(r, at, "tensor '%s': unknown tensor type %u", q, type);
        if (t->ne[0] % be)
            return fail(r, at, "tensor '%s': ne[0] = %lld is not a multiple of the %s block size %d", q,
                        (long long)t->ne[0], qtype_name(type), be);
        uint64_t rows = nelem / (uint64_t)t->ne[0];
        uint64_t row_bytes = (uint64_t)(t->ne[0] / be) * qtype_block_bytes(type); /* may wrap: checked */
        if (row_bytes / qtype_block_bytes(type) != (uint64_t)(t->ne[0] / be) ||
            (rows && row_bytes > UINT64_MAX / rows))
            return fail(r, at, "tensor '%s': byte size overflows 64 bits", q);
        t->nbytes = row_bytes * rows;
        at = r->pos;
        if (rd_u64(r, &t->offset, what)) return -1;
        if (t->offset % g->alignment)
            return fail(r, at, "tensor '%s': offset %llu is not a multiple of the alignment %u", q,
                        (unsigned long long)t->offset, g->alignment);
    }
    uint64_t info_end = r->pos;
    g->data_start = info_end + (g->alignment - info_end % g->alignment) % g->alignment;
    if (!g->n_tensors) return 0;
    if (g->data_start > g->size)
        return fail(r, info_end, "file ends before the data section (aligned start %llu, file size %llu)",
                    (unsigned long long)g->data_start, (unsigned long long)g->size);
    /* The alignment padding is zeros (what every writer puts there): bytes there mean the header's
     * tensor count is too small, and an info it does not count is being skipped as padding, every
     * tensor's data then read from the wrong place. */
    for (uint64_t at = info_end; at < g->data_start; at++)
        if (g->p[at])
            return fail(r, at, "the padding before the data section is not zero (n_tensors %d too small? a tensor "
                        "info seems to follow the last one counted)", g->n_tensors);
    uint64_t data_size = g->size - g->data_start;
    uint64_t data_end = 0; /* the end of the last tensor's data, padded */
    for (int i = 0; i < g->n_tensors; i++)
        if (g->t[i].offset <= data_size && g->t[i].nbytes <= data_size - g->t[i].offset) {
            uint64_t e = g->t[i].offset + g->t[i].nbytes;
            e += (g->alignment - e % g->alignment) % g->alignment;
            if (e > data_end) data_end = e;
        }
    for (int i = 0; i < g->n_tensors; i++) {
        GgufTensor *t = &g->t[i];
        if (t->offset > data_size || t->nbytes > data_size - t->offset) {
            quote(q, sizeof q, (const uint8_t *)t->name, strlen(t->name));
            return fail(r, g->data_start + (t->offset < data_size ? t->offset : data_size),
                        "tensor '%s': data [%llu, +%llu) runs past the end of the file (data "
                        "section holds %llu bytes)",
                        q, (unsigned long long)t->offset, (unsigned long long)t->nbytes,
                        (unsigned long long)data_size);
        }
        t->data = g->p + g->data_start + t->offset;
    }
    /* overlaps: sort by offset, neighbours must not intersect */
    GgufTensor **by_off = xmalloc((size_t)g->n_tensors * sizeof *by_off);
    for (int i = 0; i < g->n_tensors; i++) by_off[i] = &g->t[i];
    qsort(by_off, (size_t)g->n_tensors, sizeof *by_off, cmp_tensor_offset);
    for (int i = 1; i < g->n_tensors; i++) {
        const GgufTensor *a = by_off[i - 1], *b = by_off[i];
        if (a->offset + a->nbytes > b->offset) {
            char qa[256];
            quote(qa, sizeof qa, (const uint8_t *)a->name, strlen(a->name));
            quote(q, sizeof q, (const uint8_t *)b->name, strlen(b->name));
            free(by_off);
            return fail(r, g->data_start + b->offset,
                        "tensors '%s' [%llu, +%llu) and '%s' [%llu, +%llu) overlap", qa,
                        (unsigned long long)a->offset, (unsigned long long)a->nbytes, q,
                        (unsigned long long)b->offset, (unsigned long long)b->nbytes);
        }
    }
    free(by_off);
    /* a data section longer than its tensors: the count or the table does not describe the file
     * (one tensor too few counted shifts every tensor; what is left over is the uncounted one) */
    if (data_size > data_end)
        return fail(r, g->data_start + data_end,
                    "the data section holds %llu bytes after the last tensor's data (n_tensors %d, "
                    "%llu bytes of tensors): the tensor count or table does not describe it",
                    (unsigned long long)(data_size - data_end), g->n_tensors, (unsigned long long)data_end);
    return 0;
}

static int check_tensor_names(Gguf *g, Rd *r) {
    g->t_sorted = xmalloc((size_t)(g->n_tensors ? g->n_tensors : 1) * sizeof *g->t_sorted);
    for (int i = 0; i < g->n_tensors; i++) g->t_sorted[i] = &g->t[i];
    qsort(g->t_sorted, (size_t)g->n_tensors, sizeof *g->t_sorted, cmp_tensor_name);
    for (int i = 1; i < g->n_tensors; i++)
        if (!strcmp(g->t_sorted[i - 1]->name, g->t_sorted[i]->name)) {
            char q[256];
            quote(q, sizeof q, (const uint8_t *)g->t_sorted[i]->name, strlen(g->t_sorted[i]->name));
            uint64_t a = g->t_at[g->t_sorted[i - 1] - g->t], b = g->t_at[g->t_sorted[i] - g->t];
            return fail(r, a > b ? a : b, "duplicate tensor name '%s'", q);
        }
    return 0;
}

static int parse(Gguf *g, Err *err) {
    Rd r = {g->p, g->size, 0, g->path, err};
    if (g->size < 4 || memcmp(g->p, "GGUF", 4)) {
        if (g->size >= 4 && !memcmp(g->p, "FUGG", 4))
            return fail(&r, 0, "big-endian GGUF is not supported");
        if (g->size < 4) return fail(&r, 0, "not a GGUF file (only %llu bytes)", (unsigned long long)g->size);
        return fail(&r, 0, "not a GGUF file (bad magic)");
    }
    r.pos = 4;
    if (rd_u32(&r, &g->version, "the header")) return -1;
    if (g->version == 1)
        return fail(&r, 4, "GGUF version 1 is not supported (only versions 2 and 3)");
    if (g->version != 2 && g->version != 3) {
        if ((g->version & 0xFFFF) == 0 && g->version)
            return fail(&r, 4, "GGUF version %u looks byte-swapped: big-endian files are not supported",
                        g->version);
        return fail(&r, 4, "unsupported GGUF version %u (only 2 and 3)", g->version);
    }
    uint64_t n_tensors, n_kv;
    if (rd_u64(&r, &n_tensors, "the header") || rd_u64(&r, &n_kv, "the header")) return -1;
    /* a kv takes at least 13 bytes (empty key, type, 1-byte value); a tensor info 32 */
    if (n_kv > left(&r) / 13 || n_kv > INT_MAX)
        return fail(&r, 16, "metadata count %llu is impossible for a file of %llu bytes",
                    (unsigned long long)n_kv, (unsigned long long)g->size);
    if (n_tensors > left(&r) / 32 || n_tensors > INT_MAX)
        return fail(&r, 8, "tensor count %llu is impossible for a file of %llu bytes",
                    (unsigned long long)n_tensors, (unsigned long long)g->size);
    g->n_kv = (int)n_kv;
    g->n_tensors = (int)n_tensors;
    g->kv = xcalloc(n_kv ? n_kv : 1, sizeof *g->kv);
    g->t = xcalloc(n_tensors ? n_tensors : 1, sizeof *g->t);
    g->t_at = xcalloc(n_tensors ? n_tensors : 1, sizeof *g->t_at);
    if (parse_kvs(g, &r) || read_alignment(g, &r) || parse_tensors(g, &r) ||
        check_tensor_names(g, &r))
        return -1;
    return 0;
}

static Gguf *open_common(Gguf *g, Err *err) {
    if (parse(g, err)) {
        gguf_close(g);
        return NULL;
    }
    return g;
}

Gguf *gguf_open(const char *path, Err *err) {
    Gguf *g = xcalloc(1, sizeof *g);
    if (map_file(&g->mf, path, err)) {
        free(g);
        return NULL;
    }
    g->p = g->mf.data;
    g->size = g->mf.size;
    g->path = xstrdup(path);
    return open_common(g, err);
}

Gguf *gguf_open_memory(const void *data, size_t size, const char *name, Err *err) {
    Gguf *g = xcalloc(1, sizeof *g);
    g->p = data;
    g->size = size;
    g->path = xstrdup(name ? name : "(memory)");
    return open_common(g, err);
}

void gguf_close(Gguf *g) {
    if (!g) return;
    if (g->kv)
        for (int i = 0; i < g->n_kv; i++) {
            free(g->kv[i].key);
            free(g->kv[i].str_at);
        }
    if (g->t)
        for (int i = 0; i < g->n_tensors; i++) free((char *)g->t[i].name);
    free(g->kv);
    free(g->kv_sorted);
    free(g->t);
    free(g->t_sorted);
    free(g->t_at);
    free(g->path);
    unmap_file(&g->mf);
    free(g);
}

const char *gguf_path(const Gguf *g) { return g->path; }
uint32_t gguf_version(const Gguf *g) { return g->version; }
uint64_t gguf_file_size(const Gguf *g) { return g->size; }
uint32_t gguf_alignment(const Gguf *g) { return g->alignment; }
uint64_t gguf_data_offset(const Gguf *g) { return g->data_start; }

/* ---- metadata access ---- */

int gguf_n_kv(const Gguf *g) { return g->n_kv; }

const char *gguf_kv_key(const Gguf *g, int kv) {
    return kv >= 0 && kv < g->n_kv ? g->kv[kv].key : NULL;
}

int gguf_kv_type(const Gguf *g, int kv) { return kv >= 0 && kv < g->n_kv ? g->kv[kv].type : -1; }

int gguf_find_kv(const Gguf *g, const char *key) {
    if (!g->kv_sorted) return -1;
    size_t lo = 0, hi = (size_t)g->n_kv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, g->kv_sorted[mid]->key);
        if (!c) return (int)(g->kv_sorted[mid] - g->kv);
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return -1;
}

/* A scalar of TYPE at P as int64 / double; -1 when the type is not an integer / number (or a
 * u64 too large for int64). */
static int scalar_int(int type, const uint8_t *p, int64_t *out) {
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
            uint64_t u64; int64_t i64; } v;
    memcpy(&v, p, gguf_type_size(type) ? gguf_type_size(type) : 1);
    switch (type) {
    case GGUF_UINT8: *out = v.u8; return 0;
    case GGUF_BOOL: *out = v.u8 != 0; return 0;
    case GGUF_INT8: *out = v.i8; return 0;
    case GGUF_UINT16: *out = v.u16; return 0;
    case GGUF_INT16: *out = v.i16; return 0;
    case GGUF_UINT32: *out = v.u32; return 0;
    case GGUF_INT32: *out = v.i32; return 0;
    case GGUF_INT64: *out = v.i64; return 0;
    case GGUF_UINT64:
        if (v.u64 > (uint64_t)INT64_MAX) return -1;
        *out = (int64_t)v.u64;
        return 0;
    default: return -1;
    }
}

static int scalar_float(int type, const uint8_t *p, double *out) {
    if (type == GGUF_FLOAT32) {
        float f;
        memcpy(&f, p, 4);
        *out = f;
        return 0;
    }
    if (type == GGUF_FLOAT64) {
        memcpy(out, p, 8);
        return 0;
    }
    if (type == GGUF_BOOL) return -1;
    if (type == GGUF_UINT64) {
        uint64_t u;
        memcpy(&u, p, 8);
        *out = (double)u;
        return 0;
    }
    int64_t i;
    if (scalar_int(type, p, &i)) return -1;
    *out = (double)i;
    return 0;
}

int gguf_get_int(const Gguf *g, const char *key, int64_t *out) {
    int i = gguf_find_kv(g, key);
    if (i < 0) return -1;
    return scalar_int(g->kv[i].type, g->p + g->kv[i].at, out);
}

int gguf_get_int_range(const Gguf *g, const char *key, int64_t lo, int64_t hi, int64_t *out, Err *err) {
    int i = gguf_find_kv(g, key);
    if (i < 0) return 0;
    int type = g->kv[i].type;
    const uint8_t *p = g->p + g->kv[i].at;
    if (type == GGUF_UINT64) { /* the one type whose values int64_t cannot all hold */
        uint64_t u;
        memcpy(&u, p, 8);
        if (u > (uint64_t)hi)
            return err_set(err, "%s: %s = %llu is out of range [%lld, %lld]", g->path, key, (unsigned long long)u,
                           (long long)lo, (long long)hi);
    }
    int64_t v;
    if (type == GGUF_BOOL || scalar_int(type, p, &v))
        return err_set(err, "%s: %s has type %s, not an integer", g->path, key, type_name(type));
    if (v < lo || v > hi)
        return err_set(err, "%s: %s = %lld is out of range [%lld, %lld]", g->path, key, (long long)v, (long long)lo,
                       (long long)hi);
    *out = v;
    return 1;
}

int gguf_get_float(const Gguf *g, const char *key, double *out) {
    int i = gguf_find_kv(g, key);
    if (i < 0) return -1;
    return scalar_float(g->kv[i].type, g->p + g->kv[i].at, out);
}

int gguf_get_bool(const Gguf *g, const char *key, int *out) {
    int i = gguf_find_kv(g, key);
    if (i < 0 || g->kv[i].type != GGUF_BOOL) return -1;
    *out = g->p[g->kv[i].at] != 0;
    return 0;
}

const char *gguf_get_str(const Gguf *g, const char *key, size_t *len) {
    int i = gguf_find_kv(g, key);
    if (i < 0 || g->kv[i].type != GGUF_STRING) return NULL;
    if (len) *len = (size_t)g->kv[i].n;
    return (const char *)g->p + g->kv[i].first;
}

int gguf_arr_info(const Gguf *g, int kv, int *elem_type, uint64_t *n) {
    if (kv < 0 || kv >= g->n_kv || g->kv[kv].type != GGUF_ARRAY) return -1;
    if (elem_type) *elem_type = g->kv[kv].elem_type;
    if (n) *n = g->kv[kv].n;
    return 0;
}

const char *gguf_arr_str(const Gguf *g, int kv, uint64_t i, size_t *len) {
    if (kv < 0 || kv >= g->n_kv || !g->kv[kv].str_at || i >= g->kv[kv].n) return NULL;
    uint64_t at = g->kv[kv].str_at[i], n;
    memcpy(&n, g->p + at, 8);
    if (len) *len = (size_t)n;
    return (const char *)g->p + at + 8;
}

static const uint8_t *arr_elem(const Gguf *g, int kv, uint64_t i) {
    if (kv < 0 || kv >= g->n_kv) return NULL;
    const Kv *k = &g->kv[kv];
    if (k->type != GGUF_ARRAY || !gguf_type_size(k->elem_type) || i >= k->n) return NULL;
    return g->p + k->first + i * gguf_type_size(k->elem_type);
}

int gguf_arr_float(const Gguf *g, int kv, uint64_t i, double *out) {
    const uint8_t *p = arr_elem(g, kv, i);
    return p ? scalar_float(g->kv[kv].elem_type, p, out) : -1;
}

int gguf_arr_int(const Gguf *g, int kv, uint64_t i, int64_t *out) {
    const uint8_t *p = arr_elem(g, kv, i);
    return p ? scalar_int(g->kv[kv].elem_type, p, out) : -1;
}

const void *gguf_arr_data(const Gguf *g, int kv) {
    if (kv < 0 || kv >= g->n_kv || g->kv[kv].type != GGUF_ARRAY ||
        !gguf_type_size(g->kv[kv].elem_type))
        return NULL;
    return g->p + g->kv[kv].first;
}

/* ---- formatting ---- */

#define FMT_STR_MAX 48  /* characters of a string shown before "..." */
#define FMT_ARR_MAX 6   /* array elements shown */

static void fmt_str(Buf *out, const uint8_t *s, uint64_t len) {
    buf_putc(out, '"');
    uint64_t shown = 0;
    for (uint64_t i = 0; i < len; i++) {
        if (shown >= FMT_STR_MAX) {
            buf_puts(out, "...");
            break;
        }
        uint8_t c = s[i];
        uint32_t cp;
        int n = utf8_decode(s + i, len - i, &cp);
        if (c == '"' || c == '\\') buf_printf(out, "\\%c", c);
        else if (c == '\n') buf_puts(out, "\\n");
        else if (c == '\t') buf_puts(out, "\\t");
        else if (c == '\r') buf_puts(out, "\\r");
        else if (c < 0x20 || c == 0x7F || n == 0) buf_printf(out, "\\x%02x", c);
        else if (n > 1) {
            buf_append(out, s + i, (size_t)n);
            i += (uint64_t)n - 1;
        } else buf_putc(out, (char)c);
        shown++;
    }
    buf_putc(out, '"');
}

static void fmt_scalar(Buf *out, int type, const uint8_t *p) {
    if (type == GGUF_BOOL) {
        buf_puts(out, *p ? "true" : "false");
    } else if (type == GGUF_FLOAT32 || type == GGUF_FLOAT64) {
        /* the shortest form that reads back as the same value: 1e-05, not 9.99999975e-06 */
        double d;
        scalar_float(type, p, &d);
        char s[40];
        if (d == d && d > -1e15 && d < 1e15 && d == (double)(int64_t)d) /* integral: 10000, not 1e+04 */
            snprintf(s, sizeof s, "%.0f", d);
        else for (int prec = 1; prec <= 17; prec++) {
            snprintf(s, sizeof s, "%.*g", prec, d);
            if (type == GGUF_FLOAT32 ? strtof(s, NULL) == (float)d : strtod(s, NULL) == d) break;
        }
        buf_puts(out, s);
    } else if (type == GGUF_UINT64) {
        uint64_t u;
        memcpy(&u, p, 8);
        buf_printf(out, "%llu", (unsigned long long)u);
    } else {
        int64_t i = 0;
        scalar_int(type, p, &i);
        buf_printf(out, "%lld", (long long)i);
    }
}

/* Formats the value of TYPE at *pos (already validated) and advances *pos past it. */
static void fmt_value(const Gguf *g, int type, uint64_t *pos, Buf *out) {
    const uint8_t *p = g->p;
    if (type == GGUF_STRING) {
        uint64_t len;
        memcpy(&len, p + *pos, 8);
        fmt_str(out, p + *pos + 8, len);
        *pos += 8 + len;
        return;
    }
    if (type != GGUF_ARRAY) {
        fmt_scalar(out, type, p + *pos);
        *pos += gguf_type_size(type);
        return;
    }
    uint32_t et;
    uint64_t n;
    memcpy(&et, p + *pos, 4);
    memcpy(&n, p + *pos + 4, 8);
    *pos += 12;
    buf_printf(out, "[%llu x %s", (unsigned long long)n, type_name((int)et));
    buf_puts(out, n ? ": " : "");
    for (uint64_t i = 0; i < n; i++) {
        if (i == FMT_ARR_MAX) {
            buf_puts(out, ", ...");
            /* skip the rest without formatting: fixed-size elements jump, others walk */
            if (gguf_type_size((int)et)) {
                *pos += (n - i) * gguf_type_size((int)et);
            } else {
                Buf sink = {0};
                for (; i < n; i++) fmt_value(g, (int)et, pos, &sink), buf_clear(&sink);
                buf_free(&sink);
            }
            break;
        }
        if (i) buf_puts(out, ", ");
        fmt_value(g, (int)et, pos, out);
    }
    buf_putc(out, ']');
}

void gguf_kv_format(const Gguf *g, int kv, Buf *out) {
    if (kv < 0 || kv >= g->n_kv) return;
    const Kv *k = &g->kv[kv];
    if (k->type == GGUF_ARRAY && k->elem_type == GGUF_STRING) {
        /* fast path for 150k-entry vocabularies: no walk over the tail */
        buf_printf(out, "[%llu x string", (unsigned long long)k->n);
        buf_puts(out, k->n ? ": " : "");
        for (uint64_t i = 0; i < k->n && i < FMT_ARR_MAX; i++) {
            size_t len;
            const char *s = gguf_arr_str(g, kv, i, &len);
            if (i) buf_puts(out, ", ");
            fmt_str(out, (const uint8_t *)s, len);
        }
        buf_puts(out, k->n > FMT_ARR_MAX ? ", ...]" : "]");
        return;
    }
    uint64_t pos = k->at;
    fmt_value(g, k->type, &pos, out);
}

/* ---- tensors ---- */

int gguf_n_tensors(const Gguf *g) { return g->n_tensors; }

const GgufTensor *gguf_tensor(const Gguf *g, int i) {
    return i >= 0 && i < g->n_tensors ? &g->t[i] : NULL;
}

const GgufTensor *gguf_find_tensor(const Gguf *g, const char *name) {
    size_t lo = 0, hi = (size_t)g->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, g->t_sorted[mid]->name);
        if (!c) return g->t_sorted[mid];
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}
