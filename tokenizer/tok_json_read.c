/* tok_json_read: see tok_json_read.h. */
#include "tokenizer/tok_json_read.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cjson/cJSON.h>

#include "tokenizer/tok_json_check.h"

const char *tokjson_str(const json_t *obj, const char *key, size_t *len) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) return NULL;
    if (len) *len = json_string_length(v);
    return json_string_value(v);
}

int tokjson_bool(const json_t *obj, const char *key, int def) {
    json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

/* ---- cJSON's allocations in an arena ---- */

/* cJSON allocates each node and each string on its own: about a million malloc calls for Qwen3's
 * file, and as many frees in cJSON_Delete (with malloc_consolidate, half of the parse's time and
 * all of the delete's). Its only allocator interface is cJSON_InitHooks, which is process-wide;
 * so the hooks are installed once, and they bump-allocate from an arena only while this thread is
 * inside parse_fast's one cJSON_ParseWithLength call (cj_current, thread-local, set and cleared
 * around that call). Any other cJSON call, in this thread or another, gets malloc and free as
 * without hooks. A tree parsed into an arena is never given to cJSON_Delete: tokjson_close drops
 * the arena whole. The free hook still recognises arena pointers (cJSON frees its partial tree
 * itself when a parse fails, inside the scope) and leaves them to the arena. */
typedef struct CjChunk {
    struct CjChunk *next;
    size_t used, cap; /* bytes of data */
    _Alignas(16) unsigned char data[];
} CjChunk;

struct CjArena {
    CjChunk *head; /* the chunk being filled; the older ones follow */
    size_t next_cap;
};

static _Thread_local struct CjArena *cj_current;

/* A chunk with room for cap bytes. A big one (a large tokenizer.json's first chunk is tens of MB)
 * is tok_bulk_alloc's: whole 2 MiB pages with transparent huge pages, which this kernel gives only
 * on request (4 KiB pages cost a large file's load ~15 ms more in page faults and TLB misses). A
 * small file's is an ordinary allocation (a huge page would be 2 MiB zeroed for a few kB). */
static CjChunk *cj_chunk_new(size_t cap) {
    if (cap > SIZE_MAX / 4) return NULL;
    size_t bytes = sizeof(CjChunk) + cap;
    CjChunk *c = bytes >= ((size_t)2 << 20) ? tok_bulk_alloc(bytes) : malloc(bytes);
    if (!c) return NULL;
    c->next = NULL, c->used = 0, c->cap = bytes - sizeof *c;
    return c;
}

/* A new chunk for an allocation of n bytes, at least as big as the last (hostile input may need
 * many times the text's size in nodes); out of line, so that cj_alloc's common path stays short. */
static __attribute__((noinline)) void *cj_alloc_chunk(struct CjArena *a, size_t n) {
    size_t cap = a->next_cap > n ? a->next_cap : n;
    CjChunk *c = cj_chunk_new(cap);
    if (!c) return NULL; /* cJSON reports a failed parse */
    c->next = a->head;
    a->head = c;
    a->next_cap = cap;
    c->used = n;
    return c->data;
}

static void *CJSON_CDECL cj_alloc(size_t n) {
    struct CjArena *a = cj_current;
    if (!a) return malloc(n);
    n = (n + 7) & ~(size_t)7; /* a node holds a double and pointers */
    CjChunk *c = a->head;
    if (!c || c->cap - c->used < n) return cj_alloc_chunk(a, n);
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static int cj_owned(const struct CjArena *a, const void *p) {
    for (const CjChunk *c = a ? a->head : NULL; c; c = c->next)
        if ((const unsigned char *)p >= c->data && (const unsigned char *)p < c->data + c->cap)
            return 1;
    return 0;
}

static void CJSON_CDECL cj_free(void *p) {
    if (!cj_owned(cj_current, p)) free(p);
}

static pthread_once_t cj_hooks_once = PTHREAD_ONCE_INIT;
static void cj_hooks_install(void) {
    cJSON_Hooks hooks = {cj_alloc, cj_free};
    cJSON_InitHooks(&hooks);
}

/* An arena whose first chunk holds what a tokenizer.json of len bytes usually needs (about four
 * times its text in nodes and strings; a large chunk's pages that are never touched are never
 * mapped). */
static struct CjArena *cj_arena_new(size_t len) {
    struct CjArena *a = xcalloc(1, sizeof *a);
    a->next_cap = 5 * len + (1u << 16);
    return a;
}

static void cj_arena_free(struct CjArena *a) {
    if (!a) return;
    for (CjChunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

/* cJSON_ParseWithLength with its allocations in arena. */
static cJSON *cj_parse_in(struct CjArena *arena, const char *text, size_t len) {
    pthread_once(&cj_hooks_once, cj_hooks_install);
    cj_current = arena;
    cJSON *root = cJSON_ParseWithLength(text, len);
    cj_current = NULL;
    return root;
}

/* ---- parsing: cJSON for the vocab and merges, jansson for the rest (see the header) ---- */

/* The last member KEY of a cJSON object (jansson keeps the last of repeated keys), or NULL. */
static cJSON *cj_last(const cJSON *obj, const char *key) {
    cJSON *found = NULL;
    for (cJSON *c = obj ? obj->child : NULL; c; c = c->next)
        if (c->string && !strcmp(c->string, key)) found = c;
    return found;
}

/* cJSON parses the text; model.vocab (an object) and model.merges (an array) are detached into tj
 * and the rest is printed back and parsed by jansson into tj->root. 0 when it worked, -1 when the
 * file should go to jansson whole (nothing kept). */
static int parse_fast(TokJson *tj) {
    if (!tokjson_cjson_safe(tj->text, tj->len)) return -1;
    struct CjArena *arena = cj_arena_new(tj->len);
    cJSON *root = cj_parse_in(arena, tj->text, tj->len);
    cJSON *model = cJSON_IsObject(root) ? cj_last(root, "model") : NULL;
    cJSON *vocab = cJSON_IsObject(model) ? cj_last(model, "vocab") : NULL;
    cJSON *merges = cJSON_IsObject(model) ? cj_last(model, "merges") : NULL;
    /* a "vocab" or "merges" before the last would come back in the printed rest */
    int repeated = 0;
    for (cJSON *c = vocab && merges ? model->child : NULL; c; c = c->next)
        if (c != vocab && c != merges && c->string &&
            (!strcmp(c->string, "vocab") || !strcmp(c->string, "merges")))
            repeated = 1;
    char *rest = NULL;
    if (cJSON_IsObject(vocab) && cJSON_IsArray(merges) && !repeated) {
        cJSON_DetachItemViaPointer(model, vocab);
        cJSON_DetachItemViaPointer(model, merges);
        rest = cJSON_PrintUnformatted(root); /* outside the arena's scope: malloc'd */
    }
    json_error_t je;
    tj->root = rest ? json_loads(rest, 0, &je) : NULL;
    cJSON_free(rest);
    if (!tj->root) { /* every node, the vocab's and merges' too, is in the arena */
        cj_arena_free(arena);
        return -1;
    }
    tj->cj_vocab = vocab, tj->cj_merges = merges, tj->cj_arena = arena;
    return 0;
}

int tokjson_open(TokJson *tj, const char *path, Err *err) {
    memset(tj, 0, sizeof *tj);
    tj->path = path;
    /* mapped, not read: the page cache's pages, no copy (the parse reads the text once) */
    if (map_file(&tj->file, path, err)) return -1;
#ifdef MADV_POPULATE_READ
    /* every page mapped by one call, not a page fault per 64 kB as the check first reads them
     * (in a VM with shadow page tables ~15 us each; older kernels refuse it, which is harmless) */
    if (tj->file.data) madvise((void *)tj->file.data, tj->file.size, MADV_POPULATE_READ);
#endif
    tj->text = tj->file.data ? (const char *)tj->file.data : "";
    tj->len = tj->file.size;
    if (parse_fast(tj)) {
        json_error_t je;
        tj->root = json_loadb(tj->text, tj->len, JSON_ALLOW_NUL, &je);
        if (!tj->root) {
            err_set(err, "%s: invalid JSON at line %d column %d: %s", path, je.line, je.column,
                    je.text);
            tokjson_close(tj);
            return -1;
        }
    }
    if (!json_is_object(tj->root)) {
        err_set(err, "%s: not a tokenizer.json (the top level is not an object)", path);
        tokjson_close(tj);
        return -1;
    }
    json_t *model = json_object_get(tj->root, "model");
    if (!json_is_object(model)) return 0;
    tj->model = model;
    tj->type = tokjson_str(model, "type", NULL);
    if (!tj->type && (tj->cj_merges || json_is_array(json_object_get(model, "merges"))))
        tj->type = "BPE";
    tj->byte_fallback = tokjson_bool(model, "byte_fallback", 0);
    tj->ignore_merges = tokjson_bool(model, "ignore_merges", 0);
    tj->fuse_unk = tokjson_bool(model, "fuse_unk", 0);
    tj->unk = tokjson_str(model, "unk_token", &tj->unk_len);
    return 0;
}

void tokjson_close(TokJson *tj) {
    free(tj->vocab);
    free(tj->added);
    free(tj->merges);
    json_decref(tj->root);
    cj_arena_free(tj->cj_arena); /* cj_vocab's and cj_merges' nodes */
    if (tj->index.slots) strmap_free(&tj->index);
    buf_free(&tj->index_arena);
    unmap_file(&tj->file);
    memset(tj, 0, sizeof *tj);
}

/* ---- a BPE model ---- */

/* "a b" (exactly one space) into its two pieces. */
static int split_merge(const char *s, size_t n, TjMerge *out) {
    const char *sp = memchr(s, ' ', n);
    if (!sp || memchr(sp + 1, ' ', n - (size_t)(sp + 1 - s))) return -1;
    out->a = s, out->al = (size_t)(sp - s), out->b = sp + 1, out->bl = n - out->al - 1;
    return 0;
}

/* Splits a merge entry into its two pieces: "a b" or ["a", "b"]. */
static int merge_parts(const json_t *m, TjMerge *out) {
    if (json_is_string(m)) return split_merge(json_string_value(m), json_string_length(m), out);
    if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
        json_is_string(json_array_get(m, 1))) {
        out->a = json_string_value(json_array_get(m, 0));
        out->al = json_string_length(json_array_get(m, 0));
        out->b = json_string_value(json_array_get(m, 1));
        out->bl = json_string_length(json_array_get(m, 1));
        return 0;
    }
    return -1;
}

/* cJSON_IsString and the like, inline: the library's are a call per node, a million here. */
static inline int cj_is(const cJSON *c, int type) { return c && (c->type & 0xFF) == type; }

/* merge_parts for an entry cJSON parsed (its strings hold no NUL: tokjson_cjson_safe); a
 * string's length is known. */
static int merge_parts_cj(const cJSON *m, size_t len, TjMerge *out) {
    if (cj_is(m, cJSON_String)) return split_merge(m->valuestring, len, out);
    const cJSON *a = cj_is(m, cJSON_Array) ? m->child : NULL, *b = a ? a->next : NULL;
    if (cj_is(a, cJSON_String) && cj_is(b, cJSON_String) && !b->next) {
        out->a = a->valuestring, out->al = strlen(a->valuestring);
        out->b = b->valuestring, out->bl = strlen(b->valuestring);
        return 0;
    }
    return -1;
}

/* A merges.txt header line, which tokenizers skips. */
static int version_line(const char *s, size_t n) { return n >= 8 && !memcmp(s, "#version", 8); }

/* The memory some entries after node c, lines lines of it. The arena hands out memory in parse
 * order, so a list's later nodes (and their strings) lie ahead of c in it: the walks below,
 * otherwise a chain of dependent loads over tens of MB, read them from the cache (read_merges and
 * read_vocab 25-35% faster). Only a hint: an address past the arena is never dereferenced. */
static inline void cj_prefetch_ahead(const cJSON *c, int lines) {
    for (int k = 0; k < lines; k++) __builtin_prefetch((const char *)c + 1024 + 64 * k);
}

/* An id as cJSON holds it (a double): a whole number in 0 .. INT_MAX, else -1. */
static long long cj_id(const cJSON *v) {
    if (!cj_is(v, cJSON_Number)) return -1;
    double d = v->valuedouble;
    return d >= 0 && d <= 2147483647.0 && d == (double)(long long)d ? (long long)d : -1;
}

/* The number of members of a cJSON list: the arrays below are allocated once at their size, in
 * huge pages (tok_bulk_alloc), rather than grown by doubling (each growth a copy into fresh 4 KiB
 * pages, each page a fault). The walk reads the list's nodes in the order the arena holds them. */
static size_t cj_count(const cJSON *list) {
    size_t n = 0;
    for (const cJSON *c = list->child; c; c = c->next) {
        cj_prefetch_ahead(c, 4);
        n++;
    }
    return n;
}

/* The vocabulary's entries into tj->vocab; the largest id into *max_id. */
static int read_vocab(TokJson *tj, long long *max_id, Err *err) {
    char sh[256];
    if (tj->cj_vocab) {
        tj->vocab = tok_bulk_alloc((cj_count(tj->cj_vocab) + 1) * sizeof *tj->vocab);
        for (const cJSON *c = tj->cj_vocab->child; c; c = c->next) {
            cj_prefetch_ahead(c, 2); /* an entry: a node and its key */
            const size_t klen = strlen(c->string);
            const long long id = cj_id(c);
            if (id < 0)
                return err_set(err, "%s: vocab entry \"%s\" has no valid id", tj->path,
                               tok_shown(c->string, klen, sh, sizeof sh));
            if (id > *max_id) *max_id = id;
            tj->vocab[tj->n_vocab++] = (TjPiece){c->string, klen, (int)id};
        }
        return 0;
    }
    json_t *vocab = json_object_get(tj->model, "vocab");
    if (!json_is_object(vocab)) return err_set(err, "%s: BPE model without a vocab object", tj->path);
    tj->vocab = tok_bulk_alloc((json_object_size(vocab) + 1) * sizeof *tj->vocab);
    const char *key;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(vocab, key, klen, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 2147483647)
            return err_set(err, "%s: vocab entry \"%s\" has no valid id", tj->path,
                           tok_shown(key, klen, sh, sizeof sh));
        if (json_integer_value(v) > *max_id) *max_id = json_integer_value(v);
        tj->vocab[tj->n_vocab++] = (TjPiece){key, klen, (int)json_integer_value(v)};
    }
    return 0;
}

/* The merges into tj->merges, header lines left out; index = the entry's place in the list. */
static int read_merges(TokJson *tj, Err *err) {
    size_t i = 0;
    if (tj->cj_merges) {
        tj->merges = tok_bulk_alloc((cj_count(tj->cj_merges) + 1) * sizeof *tj->merges);
        for (const cJSON *c = tj->cj_merges->child; c; c = c->next, i++) {
            cj_prefetch_ahead(c, 4); /* an entry: an array and two strings, or one string */
            const size_t len = cj_is(c, cJSON_String) ? strlen(c->valuestring) : 0;
            if (len && version_line(c->valuestring, len)) continue;
            TjMerge *m = &tj->merges[tj->n_merges];
            if (merge_parts_cj(c, len, m))
                return err_set(err, "%s: merges[%zu] is not \"a b\" or [\"a\", \"b\"]", tj->path, i);
            m->index = i;
            m->ha = tok_hash(m->a, m->al), m->hb = tok_hash(m->b, m->bl);
            tj->n_merges++;
        }
        return 0;
    }
    json_t *merges = json_object_get(tj->model, "merges"), *v;
    if (!json_is_array(merges)) return err_set(err, "%s: BPE model without a merges list", tj->path);
    tj->merges = tok_bulk_alloc((json_array_size(merges) + 1) * sizeof *tj->merges);
    json_array_foreach(merges, i, v) {
        if (json_is_string(v) && version_line(json_string_value(v), json_string_length(v))) continue;
        TjMerge *m = &tj->merges[tj->n_merges];
        if (merge_parts(v, m))
            return err_set(err, "%s: merges[%zu] is not \"a b\" or [\"a\", \"b\"]", tj->path, i);
        m->index = i;
        m->ha = tok_hash(m->a, m->al), m->hb = tok_hash(m->b, m->bl);
        tj->n_merges++;
    }
    return 0;
}

/* model.KEY: a string, or absent/null (*out stays NULL). */
static int opt_string(const TokJson *tj, const char *key, const char **out, size_t *out_len,
                      Err *err) {
    json_t *v = json_object_get(tj->model, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return err_set(err, "%s: model.%s is not a string", tj->path, key);
    *out_len = json_string_length(v);
    *out = json_string_value(v);
    return 0;
}

int tokjson_read_bpe(TokJson *tj, Err *err) {
    const char *path = tj->path;
    if (!tj->cj_vocab && !json_is_object(json_object_get(tj->model, "vocab")))
        return err_set(err, "%s: BPE model without a vocab object", path);
    if (!tj->cj_merges && !json_is_array(json_object_get(tj->model, "merges")))
        return err_set(err, "%s: BPE model without a merges list", path);

    /* the vocabulary and the added tokens, and the id range they span */
    json_t *added = json_object_get(tj->root, "added_tokens"), *v;
    if (added && !json_is_null(added) && !json_is_array(added))
        return err_set(err, "%s: added_tokens is not a list", path);
    long long max_id = -1;
    if (read_vocab(tj, &max_id, err)) return -1;
    size_t n_entries = tj->n_vocab + json_array_size(added);
    tj->added = xcalloc(json_array_size(added) + 1, sizeof *tj->added);
    size_t i;
    json_array_foreach(added, i, v) {
        json_t *id = json_object_get(v, "id");
        TjAdded *a = &tj->added[i];
        a->content = tokjson_str(v, "content", &a->len);
        if (!json_is_integer(id) || json_integer_value(id) < 0 || !a->content)
            return err_set(err, "%s: added_tokens[%zu] needs an id and a content", path, i);
        if (json_integer_value(id) > max_id) max_id = json_integer_value(id);
        a->id = (int)json_integer_value(id);
        a->special = tokjson_bool(v, "special", 0);
        a->single_word = tokjson_bool(v, "single_word", 0);
        a->lstrip = tokjson_bool(v, "lstrip", 0);
        a->rstrip = tokjson_bool(v, "rstrip", 0);
        a->normalized = tokjson_bool(v, "normalized", !a->special);
        tj->n_added++;
    }
    if (max_id < 0) return err_set(err, "%s: empty vocabulary", path);
    if (max_id >= TOK_MAX_VOCAB || (size_t)max_id > 2 * n_entries + 65536)
        return err_set(err, "%s: token id %lld out of range for %zu vocabulary entries", path,
                       max_id, n_entries);
    tj->n_ids = (int)max_id + 1;

    if (opt_string(tj, "continuing_subword_prefix", &tj->cont_prefix, &tj->cont_prefix_len, err) ||
        opt_string(tj, "end_of_word_suffix", &tj->eow_suffix, &tj->eow_suffix_len, err))
        return -1;
    return read_merges(tj, err);
}

int tokjson_vocab_id(TokJson *tj, const char *piece, size_t len) {
    if (!tj->index.slots) { /* first call: an index over the entries (the first of a repeat wins) */
        strmap_init(&tj->index, tj->n_vocab);
        for (size_t k = 0; k < tj->n_vocab; k++) {
            const uint32_t off = (uint32_t)tj->index_arena.len;
            buf_append(&tj->index_arena, tj->vocab[k].s, tj->vocab[k].len);
            strmap_add(&tj->index, tj->index_arena.data, off, (uint32_t)tj->vocab[k].len, tj->vocab[k].id);
        }
    }
    return strmap_get(&tj->index, tj->index_arena.data ? tj->index_arena.data : "", piece, len);
}

/* ---- normalizer, pre-tokenizer, decoder ---- */

static const struct {
    const char *key, *list, *what, *whats;
} LISTS[] = {
    [TJ_NORMALIZER] = {"normalizer", "normalizers", "normalizer", "normalizers"},
    [TJ_PRE_TOKENIZER] = {"pre_tokenizer", "pretokenizers", "pre-tokenizer", "pre-tokenizers"},
    [TJ_DECODER] = {"decoder", "decoders", "decoder", "decoders"},
};

static int flatten(const TokJson *tj, enum TjList which, const json_t *n, int depth,
                   TjSteps *out, Err *err) {
    if (!n || json_is_null(n)) return 0;
    const char *type = tokjson_str(n, "type", NULL);
    if (!json_is_object(n) || !type)
        return err_set(err, "%s: a %s without a type", tj->path, LISTS[which].what);
    if (depth > 32) return err_set(err, "%s: %s nested too deeply", tj->path, LISTS[which].whats);
    if (!strcmp(type, "Sequence")) {
        json_t *arr = json_object_get(n, LISTS[which].list);
        if (!json_is_array(arr))
            return err_set(err, "%s: %s Sequence without a list", tj->path, LISTS[which].what);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) if (flatten(tj, which, v, depth + 1, out, err)) return -1;
        return 0;
    }
    out->v = xrealloc(out->v, (size_t)(out->n + 1) * sizeof *out->v);
    out->v[out->n++] = (TjStep){n, type};
    return 0;
}

int tokjson_steps(const TokJson *tj, enum TjList which, TjSteps *out, Err *err) {
    memset(out, 0, sizeof *out);
    json_t *top = json_object_get(tj->root, LISTS[which].key);
    out->present = top && !json_is_null(top);
    if (!flatten(tj, which, top, 0, out, err)) return 0;
    free(out->v);
    memset(out, 0, sizeof *out);
    return -1;
}
