/* safetensors: see safetensors.h. */
#include "formats/safetensors.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "formats/qtype.h"

#define MAX_HEADER (256u << 20) /* a header larger than this is not a real checkpoint */
#define MAX_SHARDS 4096

struct SafeTensors {
    char *path;
    MappedFile *files; /* [n_files] */
    int n_files;
    int borrowed;      /* st_open_memory: files[0] is the caller's bytes, not a mapping */
    StTensor *t;       /* [n] */
    int n, cap;
    char **strings;    /* owned names and dtypes, freed at close */
    int n_strings, cap_strings;
};

static const char *own(SafeTensors *st, const char *s) {
    if (st->n_strings == st->cap_strings) {
        st->cap_strings = st->cap_strings ? 2 * st->cap_strings : 64;
        st->strings = xrealloc(st->strings, (size_t)st->cap_strings * sizeof *st->strings);
    }
    return st->strings[st->n_strings++] = xstrdup(s);
}

/* dtype name -> element size and ggml type. */
static int dtype_info(const char *d, uint32_t *type) {
    static const struct { const char *name; int size; uint32_t type; } tab[] = {
        {"F32", 4, Q_F32}, {"F16", 2, Q_F16}, {"BF16", 2, Q_BF16},
        {"F64", 8, ST_UNSUPPORTED}, {"I64", 8, ST_UNSUPPORTED}, {"U64", 8, ST_UNSUPPORTED},
        {"I32", 4, ST_UNSUPPORTED}, {"U32", 4, ST_UNSUPPORTED}, {"I16", 2, ST_UNSUPPORTED},
        {"U16", 2, ST_UNSUPPORTED}, {"I8", 1, ST_UNSUPPORTED},  {"U8", 1, ST_UNSUPPORTED},
        {"BOOL", 1, ST_UNSUPPORTED}, {"F8_E4M3", 1, ST_UNSUPPORTED}, {"F8_E5M2", 1, ST_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(d, tab[i].name)) {
            *type = tab[i].type;
            return tab[i].size;
        }
    return 0;
}

static int by_begin(const void *a, const void *b) {
    const StTensor *x = *(const StTensor *const *)a, *y = *(const StTensor *const *)b;
    const uint8_t *p = x->data, *q = y->data;
    return p < q ? -1 : p > q;
}

/* Parses one mapped file's header and appends its tensors. */
static int read_file_tensors(SafeTensors *st, const MappedFile *mf, Err *err) {
    const char *path = mf->path;
    if (mf->size < 8) return err_set(err, "%s: truncated (no 8-byte header length)", path);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | mf->data[i];
    if (n < 2 || n > MAX_HEADER || n > mf->size - 8)
        return err_set(err, "%s: header length %llu does not fit the file (%zu bytes)", path,
                       (unsigned long long)n, mf->size);
    json_error_t je;
    json_t *root = json_loadb((const char *)mf->data + 8, (size_t)n, JSON_REJECT_DUPLICATES, &je);
    if (!root) return err_set(err, "%s: header is not valid JSON: %s", path, je.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return err_set(err, "%s: header is not a JSON object", path);
    }
    /* errors name json strings: set the message before the JSON is freed */
#define FAIL(...)                 \
    do {                          \
        r = err_set(__VA_ARGS__); \
        goto done;                \
    } while (0)
    int r = 0;
    const uint8_t *base = mf->data + 8 + n;
    uint64_t data_size = mf->size - 8 - n;
    int first = st->n;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (!strcmp(key, "__metadata__")) continue;
        json_t *jd = json_object_get(v, "dtype"), *js = json_object_get(v, "shape"),
               *jo = json_object_get(v, "data_offsets");
        if (!json_is_object(v) || !json_is_string(jd) || !json_is_array(js) || !json_is_array(jo) ||
            json_array_size(jo) != 2) {
            FAIL(err, "%s: tensor '%s': needs dtype, shape and data_offsets [begin, end]", path,
                 key);
        }
        StTensor t = {0};
        t.file = path;
        int esize = dtype_info(json_string_value(jd), &t.type);
        if (!esize) {
            FAIL(err, "%s: tensor '%s': unknown dtype '%s'", path, key, json_string_value(jd));
        }
        if (json_array_size(js) > ST_MAX_DIMS) {
            FAIL(err, "%s: tensor '%s': more than %d dimensions", path, key, ST_MAX_DIMS);
        }
        t.n_dims = (int)json_array_size(js);
        uint64_t elems = 1;
        for (int d = 0; d < t.n_dims; d++) {
            json_t *x = json_array_get(js, (size_t)d);
            json_int_t e = json_is_integer(x) ? json_integer_value(x) : -1;
            if (e < 0 || e > (json_int_t)1 << 40 || (e && elems > (UINT64_MAX >> 8) / (uint64_t)e)) {
                FAIL(err, "%s: tensor '%s': bad shape entry %d", path, key, d);
            }
            t.shape[d] = e;
            elems *= (uint64_t)e;
        }
        json_t *jb = json_array_get(jo, 0), *je2 = json_array_get(jo, 1);
        json_int_t b = json_is_integer(jb) ? json_integer_value(jb) : -1;
        json_int_t e = json_is_integer(je2) ? json_integer_value(je2) : -1;
        if (b < 0 || e < b || (uint64_t)e > data_size) {
            FAIL(err, "%s: tensor '%s': data_offsets [%lld, %lld] outside the %llu-byte data section",
                 path, key, (long long)b, (long long)e, (unsigned long long)data_size);
        }
        t.nbytes = (uint64_t)(e - b);
        if (t.nbytes != elems * (uint64_t)esize) {
            FAIL(err, "%s: tensor '%s': %llu bytes for %llu elements of %s", path, key,
                 (unsigned long long)t.nbytes, (unsigned long long)elems, json_string_value(jd));
        }
        t.data = base + b;
        t.name = own(st, key);
        t.dtype = own(st, json_string_value(jd));
        if (st->n == st->cap) {
            st->cap = st->cap ? 2 * st->cap : 64;
            st->t = xrealloc(st->t, (size_t)st->cap * sizeof *st->t);
        }
        st->t[st->n++] = t;
    }
#undef FAIL
done:
    json_decref(root);
    if (r) return r;
    /* no two tensors of this file may share bytes */
    int k = st->n - first;
    const StTensor **order = xmalloc((size_t)(k ? k : 1) * sizeof *order);
    for (int i = 0; i < k; i++) order[i] = &st->t[first + i];
    qsort(order, (size_t)k, sizeof *order, by_begin);
    int bad = -1;
    for (int i = 1; i < k && bad < 0; i++)
        if ((const uint8_t *)order[i - 1]->data + order[i - 1]->nbytes > (const uint8_t *)order[i]->data)
            bad = i;
    if (bad >= 0)
        r = err_set(err, "%s: tensors '%s' and '%s' overlap", path, order[bad - 1]->name,
                    order[bad]->name);
    free(order);
    return r;
}

static int add_file(SafeTensors *st, const char *path, Err *err) {
    if (st->n_files >= MAX_SHARDS) return err_set(err, "%s: too many shards", st->path);
    st->files = xrealloc(st->files, (size_t)(st->n_files + 1) * sizeof *st->files);
    if (map_file(&st->files[st->n_files], path, err) != 0) return -1;
    st->n_files++;
    return read_file_tensors(st, &st->files[st->n_files - 1], err);
}

/* A folder with model.safetensors.index.json: open each shard named in weight_map once, then
 * check that every name is where the index says. */
static int open_index(SafeTensors *st, const char *dir, const char *index, Err *err) {
    json_error_t je;
    json_t *root = json_load_file(index, JSON_REJECT_DUPLICATES, &je);
    if (!root) return err_set(err, "%s: not valid JSON: %s", index, je.text);
    json_t *map = json_object_get(root, "weight_map");
    int r = 0;
    if (!json_is_object(map) || !json_object_size(map)) {
        r = err_set(err, "%s: no weight_map object", index);
        goto done;
    }
    const char *name;
    json_t *v;
    Buf p = {0};
    json_object_foreach(map, name, v) {
        const char *shard = json_string_value(v);
        if (!shard || !*shard || strchr(shard, '/') || !strcmp(shard, "..")) {
            r = err_set(err, "%s: weight_map['%s'] is not a file name in the folder", index, name);
            break;
        }
        buf_clear(&p);
        buf_printf(&p, "%s/%s", dir, shard);
        int seen = 0;
        for (int i = 0; i < st->n_files && !seen; i++) seen = !strcmp(st->files[i].path, p.data);
        if (!seen && (r = add_file(st, p.data, err)) != 0) break;
        const StTensor *t = st_find(st, name);
        if (!t || strcmp(t->file, p.data) != 0) {
            r = err_set(err, "%s: tensor '%s' is not in %s as the index says", index, name, shard);
            break;
        }
    }
    buf_free(&p);
done:
    json_decref(root);
    return r;
}

SafeTensors *st_open(const char *path, Err *err) {
    SafeTensors *st = xcalloc(1, sizeof *st);
    st->path = xstrdup(path);
    int r;
    if (is_dir(path)) {
        Buf p = {0};
        buf_printf(&p, "%s/model.safetensors.index.json", path);
        if (is_file(p.data)) {
            r = open_index(st, path, p.data, err);
        } else {
            buf_clear(&p);
            buf_printf(&p, "%s/model.safetensors", path);
            r = is_file(p.data) ? add_file(st, p.data, err)
                                : err_set(err, "%s: no model.safetensors or model.safetensors.index.json",
                                          path);
        }
        buf_free(&p);
    } else {
        r = add_file(st, path, err);
    }
    if (r == 0) {
        /* names must be unique across shards too */
        for (int i = 0; i < st->n && r == 0; i++) {
            const StTensor *t = st_find(st, st->t[i].name);
            if (t != &st->t[i])
                r = err_set(err, "%s: tensor '%s' appears twice (%s and %s)", path, st->t[i].name,
                            t->file, st->t[i].file);
        }
    }
    if (r != 0) {
        st_close(st);
        return NULL;
    }
    return st;
}

SafeTensors *st_open_memory(const void *data, size_t size, const char *name, Err *err) {
    SafeTensors *st = xcalloc(1, sizeof *st);
    st->path = xstrdup(name);
    st->borrowed = 1;
    st->files = xcalloc(1, sizeof *st->files);
    st->files[0] = (MappedFile){data, size, xstrdup(name)};
    st->n_files = 1;
    if (read_file_tensors(st, &st->files[0], err) != 0) {
        st_close(st);
        return NULL;
    }
    return st;
}

void st_close(SafeTensors *st) {
    if (!st) return;
    for (int i = 0; i < st->n_files; i++) {
        if (st->borrowed) free(st->files[i].path);
        else unmap_file(&st->files[i]);
    }
    for (int i = 0; i < st->n_strings; i++) free(st->strings[i]);
    free(st->strings);
    free(st->files);
    free(st->t);
    free(st->path);
    free(st);
}

int st_n_tensors(const SafeTensors *st) { return st->n; }
const StTensor *st_tensor(const SafeTensors *st, int i) {
    return i >= 0 && i < st->n ? &st->t[i] : NULL;
}

const StTensor *st_find(const SafeTensors *st, const char *name) {
    for (int i = 0; i < st->n; i++)
        if (!strcmp(st->t[i].name, name)) return &st->t[i];
    return NULL;
}
