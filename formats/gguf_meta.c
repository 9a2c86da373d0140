/* gguf_meta: see gguf_meta.h. */
#include "formats/gguf_meta.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;
    uint32_t type;
    Buf val;
} Entry;

struct GgufMeta {
    Entry *e;
    int n;
};

GgufMeta *gm_new(void) { return xcalloc(1, sizeof(GgufMeta)); }

void gm_free(GgufMeta *m) {
    if (!m) return;
    for (int i = 0; i < m->n; i++) {
        free(m->e[i].key);
        buf_free(&m->e[i].val);
    }
    free(m->e);
    free(m);
}

/* The entry of key, emptied and given the type; appended when new. */
static Entry *slot(GgufMeta *m, const char *key, uint32_t type) {
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->e[i].key, key)) {
            buf_clear(&m->e[i].val);
            m->e[i].type = type;
            return &m->e[i];
        }
    m->e = xrealloc(m->e, (size_t)(m->n + 1) * sizeof *m->e);
    Entry *e = &m->e[m->n++];
    e->key = xstrdup(key);
    e->type = type;
    e->val = (Buf){0};
    return e;
}

void gm_remove(GgufMeta *m, const char *key) {
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->e[i].key, key)) {
            free(m->e[i].key);
            buf_free(&m->e[i].val);
            memmove(&m->e[i], &m->e[i + 1], (size_t)(m->n - i - 1) * sizeof *m->e);
            m->n--;
            return;
        }
}

static void put_u32(Buf *b, uint32_t v) { buf_append(b, &v, 4); } /* little-endian hosts only */
static void put_u64(Buf *b, uint64_t v) { buf_append(b, &v, 8); }
static void put_strn(Buf *b, const char *s, size_t n) {
    put_u64(b, n);
    buf_append(b, s, n);
}

void gm_str(GgufMeta *m, const char *key, const char *v) {
    put_strn(&slot(m, key, GGUF_STRING)->val, v, strlen(v));
}
void gm_u32(GgufMeta *m, const char *key, uint32_t v) { put_u32(&slot(m, key, GGUF_UINT32)->val, v); }
void gm_u64(GgufMeta *m, const char *key, uint64_t v) { put_u64(&slot(m, key, GGUF_UINT64)->val, v); }
void gm_f32(GgufMeta *m, const char *key, float v) {
    buf_append(&slot(m, key, GGUF_FLOAT32)->val, &v, 4);
}

void gm_take(GgufMeta *m, const char *key, uint32_t type, Buf *val) {
    Entry *e = slot(m, key, type);
    buf_free(&e->val);
    e->val = *val;
    *val = (Buf){0};
}

/* Serializes metadata entry kv of g into out; -1 for an array of arrays (not exposed by the
 * reader; no llama.cpp key uses one). */
static int serialize(const Gguf *g, int kv, Buf *out) {
    const char *key = gguf_kv_key(g, kv);
    const int t = gguf_kv_type(g, kv);
    if (t == GGUF_STRING) {
        size_t len;
        const char *s = gguf_get_str(g, key, &len);
        put_strn(out, s, len);
        return 0;
    }
    if (t == GGUF_FLOAT32 || t == GGUF_FLOAT64) {
        double d;
        gguf_get_float(g, key, &d);
        if (t == GGUF_FLOAT32) {
            float f = (float)d;
            buf_append(out, &f, 4);
        } else {
            buf_append(out, &d, 8);
        }
        return 0;
    }
    if (t == GGUF_ARRAY) {
        int et;
        uint64_t n;
        gguf_arr_info(g, kv, &et, &n);
        put_u32(out, (uint32_t)et);
        put_u64(out, n);
        if (et == GGUF_STRING) {
            for (uint64_t i = 0; i < n; i++) {
                size_t len;
                const char *s = gguf_arr_str(g, kv, i, &len);
                put_strn(out, s, len);
            }
            return 0;
        }
        const size_t es = gguf_type_size(et);
        if (!es) return -1;
        if (n) buf_append(out, gguf_arr_data(g, kv), (size_t)n * es);
        return 0;
    }
    const size_t es = gguf_type_size(t);
    if (!es) return -1;
    int64_t v = 0;
    if (t == GGUF_BOOL) {
        int b;
        gguf_get_bool(g, key, &b);
        v = b;
    } else {
        gguf_get_int(g, key, &v);
    }
    uint64_t u = (uint64_t)v; /* two's complement: the low es bytes are the value */
    buf_append(out, &u, es);
    return 0;
}

int gm_copy(GgufMeta *m, const Gguf *g, int kv) {
    Buf v = {0};
    if (serialize(g, kv, &v) != 0) {
        buf_free(&v);
        return -1;
    }
    gm_take(m, gguf_kv_key(g, kv), (uint32_t)gguf_kv_type(g, kv), &v);
    return 0;
}

void gm_write(const GgufMeta *m, GgufWriter *w) {
    for (int i = 0; i < m->n; i++) gw_kv_raw(w, m->e[i].key, m->e[i].type, m->e[i].val.data, m->e[i].val.len);
}
