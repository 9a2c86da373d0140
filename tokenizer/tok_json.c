/* tok_json: loads a Hugging Face tokenizer.json (model BPE) with jansson.
 * Sequences of normalizers, pre-tokenizers and decoders are flattened into step lists; anything
 * this code does not implement is an error naming the file and the type, never a silent skip. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tokenizer/tok_build.h"
#include "tokenizer/tok_load.h"

#define MAX_VOCAB (1 << 24)

/* A NUL-terminated string from the file, made printable for an error message. */
#define SHOWN(str) tok_shown((str), strlen(str), sh, sizeof sh)

/* A string member: its bytes and length (strings may hold NUL bytes), or NULL. */
static const char *jstr(const json_t *obj, const char *key, size_t *len) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) return NULL;
    if (len) *len = json_string_length(v);
    return json_string_value(v);
}

static int jbool(const json_t *obj, const char *key, int def) {
    json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

/* A {"String": s} or {"Regex": r} pattern. */
static int jpattern(Tokenizer *t, const json_t *obj, const char *what, Pattern *p, Err *err) {
    json_t *pat = json_object_get(obj, "pattern");
    size_t len;
    const char *s;
    int is_regex;
    if ((s = jstr(pat, "String", &len)))
        is_regex = 0;
    else if ((s = jstr(pat, "Regex", &len)))
        is_regex = 1;
    else
        return err_set(err, "%s: %s without a String or Regex pattern", t->path, what);
    Err e;
    if (pattern_init(p, is_regex, s, len, &e))
        return err_set(err, "%s: %s: %s", t->path, what, e.msg);
    return 0;
}

static void desc_add(Tokenizer *t, const char *name) {
    size_t n = strlen(t->pre_desc);
    snprintf(t->pre_desc + n, sizeof t->pre_desc - n, "%s%s", n ? " + " : "", name);
}

/* ---- normalizers ---- */

static NormStep *norm_new(Tokenizer *t, int kind) {
    t->norm = xrealloc(t->norm, (size_t)(t->n_norm + 1) * sizeof *t->norm);
    NormStep *s = &t->norm[t->n_norm++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

static int parse_normalizer(Tokenizer *t, const json_t *n, int depth, Err *err) {
    char sh[256];
    if (!n || json_is_null(n)) return 0;
    const char *type = jstr(n, "type", NULL);
    if (!json_is_object(n) || !type)
        return err_set(err, "%s: a normalizer without a type", t->path);
    if (depth > 32) return err_set(err, "%s: normalizers nested too deeply", t->path);
    size_t len;
    const char *s;
    if (!strcmp(type, "Sequence")) {
        json_t *arr = json_object_get(n, "normalizers");
        if (!json_is_array(arr))
            return err_set(err, "%s: normalizer Sequence without a list", t->path);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) if (parse_normalizer(t, v, depth + 1, err)) return -1;
    } else if (!strcmp(type, "NFC"))
        norm_new(t, NORM_NFC);
    else if (!strcmp(type, "NFKC"))
        norm_new(t, NORM_NFKC);
    else if (!strcmp(type, "NFD"))
        norm_new(t, NORM_NFD);
    else if (!strcmp(type, "NFKD"))
        norm_new(t, NORM_NFKD);
    else if (!strcmp(type, "Lowercase"))
        norm_new(t, NORM_LOWER);
    else if (!strcmp(type, "Prepend")) {
        if (!(s = jstr(n, "prepend", &len)))
            return err_set(err, "%s: Prepend normalizer without a prepend string", t->path);
        NormStep *st = norm_new(t, NORM_PREPEND);
        st->str = xstrndup(s, len);
        st->len = len;
    } else if (!strcmp(type, "Replace")) {
        if (!(s = jstr(n, "content", &len)))
            return err_set(err, "%s: Replace normalizer without content", t->path);
        NormStep *st = norm_new(t, NORM_REPLACE);
        st->str = xstrndup(s, len);
        st->len = len;
        if (jpattern(t, n, "Replace normalizer", &st->pat, err)) return -1;
    } else if (!strcmp(type, "Strip")) {
        NormStep *st = norm_new(t, NORM_STRIP);
        st->left = jbool(n, "strip_left", 1);
        st->right = jbool(n, "strip_right", 1);
    } else {
        return err_set(err, "%s: unsupported normalizer type '%s'", t->path, SHOWN(type));
    }
    return 0;
}

/* ---- pre-tokenizers ---- */

static PreStep *pre_new(Tokenizer *t, int kind) {
    t->pre = xrealloc(t->pre, (size_t)(t->n_pre + 1) * sizeof *t->pre);
    PreStep *s = &t->pre[t->n_pre++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

static int parse_prepend_scheme(Tokenizer *t, const json_t *n, int *out, Err *err) {
    char sh[256];
    const char *ps = jstr(n, "prepend_scheme", NULL);
    if (ps) {
        if (!strcmp(ps, "always"))
            *out = PREPEND_ALWAYS;
        else if (!strcmp(ps, "first"))
            *out = PREPEND_FIRST;
        else if (!strcmp(ps, "never"))
            *out = PREPEND_NEVER;
        else
            return err_set(err, "%s: unknown Metaspace prepend_scheme '%s'", t->path, SHOWN(ps));
    } else { /* older files: add_prefix_space */
        *out = jbool(n, "add_prefix_space", 1) ? PREPEND_ALWAYS : PREPEND_NEVER;
    }
    return 0;
}

/* The Metaspace replacement: one character. */
static int parse_replacement(Tokenizer *t, const json_t *n, char *out, int *out_len, uint32_t *cp,
                             Err *err) {
    size_t len;
    const char *r = jstr(n, "replacement", &len);
    if (!r) r = "\xE2\x96\x81", len = 3; /* ▁ */
    uint32_t c;
    if (len == 0 || len > 4 || utf8_decode((const uint8_t *)r, len, &c) != (int)len)
        return err_set(err, "%s: Metaspace replacement must be one character", t->path);
    memcpy(out, r, len);
    *out_len = (int)len;
    if (cp) *cp = c;
    return 0;
}

static int split_step(Tokenizer *t, const char *regex, int behavior, int invert, Err *err) {
    PreStep *st = pre_new(t, PRE_SPLIT);
    st->behavior = behavior;
    st->invert = invert;
    Err e;
    if (pattern_init(&st->pat, 1, regex, strlen(regex), &e))
        return err_set(err, "%s: %s", t->path, e.msg);
    return 0;
}

static int parse_pretokenizer(Tokenizer *t, const json_t *n, int depth, Err *err) {
    char sh[256];
    if (!n || json_is_null(n)) return 0;
    const char *type = jstr(n, "type", NULL);
    if (!json_is_object(n) || !type)
        return err_set(err, "%s: a pre-tokenizer without a type", t->path);
    if (depth > 32) return err_set(err, "%s: pre-tokenizers nested too deeply", t->path);
    if (!strcmp(type, "Sequence")) {
        json_t *arr = json_object_get(n, "pretokenizers");
        if (!json_is_array(arr))
            return err_set(err, "%s: pre-tokenizer Sequence without a list", t->path);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) if (parse_pretokenizer(t, v, depth + 1, err)) return -1;
    } else if (!strcmp(type, "ByteLevel")) {
        PreStep *st = pre_new(t, PRE_BYTELEVEL);
        st->add_prefix_space = jbool(n, "add_prefix_space", 1);
        st->use_regex = jbool(n, "use_regex", 1);
        if (st->use_regex) {
            Err e;
            const char *re = tok_gpt2_regex();
            if (pattern_init(&st->pat, 1, re, strlen(re), &e))
                return err_set(err, "%s: %s", t->path, e.msg);
        }
        t->byte_level = 1;
        desc_add(t, st->use_regex ? "ByteLevel(regex)" : "ByteLevel");
    } else if (!strcmp(type, "Split")) {
        const char *b = jstr(n, "behavior", NULL);
        int behavior;
        if (!b) return err_set(err, "%s: Split pre-tokenizer without a behavior", t->path);
        if (!strcmp(b, "Removed"))
            behavior = B_REMOVED;
        else if (!strcmp(b, "Isolated"))
            behavior = B_ISOLATED;
        else if (!strcmp(b, "MergedWithPrevious"))
            behavior = B_MERGED_PREV;
        else if (!strcmp(b, "MergedWithNext"))
            behavior = B_MERGED_NEXT;
        else if (!strcmp(b, "Contiguous"))
            behavior = B_CONTIGUOUS;
        else
            return err_set(err, "%s: unknown Split behavior '%s'", t->path, SHOWN(b));
        PreStep *st = pre_new(t, PRE_SPLIT);
        st->behavior = behavior;
        st->invert = jbool(n, "invert", 0);
        if (jpattern(t, n, "Split pre-tokenizer", &st->pat, err)) return -1;
        desc_add(t, st->pat.is_regex ? "Split(regex)" : "Split(string)");
    } else if (!strcmp(type, "Digits")) {
        /* char::is_numeric is \p{N}; each digit is a match, Contiguous glues runs */
        int individual = jbool(n, "individual_digits", 0);
        if (split_step(t, "\\p{N}", individual ? B_ISOLATED : B_CONTIGUOUS, 0, err)) return -1;
        desc_add(t, individual ? "Digits(individual)" : "Digits");
    } else if (!strcmp(type, "Metaspace")) {
        PreStep *st = pre_new(t, PRE_METASPACE);
        if (parse_replacement(t, n, st->repl, &st->repl_len, NULL, err)) return -1;
        if (parse_prepend_scheme(t, n, &st->prepend, err)) return -1;
        st->split = jbool(n, "split", 1);
        Err e;
        if (pattern_init(&st->pat, 0, st->repl, (size_t)st->repl_len, &e))
            return err_set(err, "%s: %s", t->path, e.msg);
        desc_add(t, "Metaspace");
    } else if (!strcmp(type, "Whitespace")) {
        if (split_step(t, "\\w+|[^\\w\\s]+", B_REMOVED, 1, err)) return -1;
        desc_add(t, "Whitespace");
    } else if (!strcmp(type, "WhitespaceSplit")) {
        if (split_step(t, "\\s+", B_REMOVED, 0, err)) return -1;
        desc_add(t, "WhitespaceSplit");
    } else {
        return err_set(err, "%s: unsupported pre-tokenizer type '%s'", t->path, SHOWN(type));
    }
    return 0;
}

/* ---- decoders ---- */

static DecStep *dec_new(Tokenizer *t, int kind) {
    t->dec = xrealloc(t->dec, (size_t)(t->n_dec + 1) * sizeof *t->dec);
    DecStep *s = &t->dec[t->n_dec++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

static int parse_decoder(Tokenizer *t, const json_t *n, int depth, Err *err) {
    char sh[256];
    if (!n || json_is_null(n)) return 0;
    const char *type = jstr(n, "type", NULL);
    if (!json_is_object(n) || !type) return err_set(err, "%s: a decoder without a type", t->path);
    if (depth > 32) return err_set(err, "%s: decoders nested too deeply", t->path);
    t->has_decoder = 1;
    if (!strcmp(type, "Sequence")) {
        json_t *arr = json_object_get(n, "decoders");
        if (!json_is_array(arr))
            return err_set(err, "%s: decoder Sequence without a list", t->path);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) if (parse_decoder(t, v, depth + 1, err)) return -1;
    } else if (!strcmp(type, "ByteLevel")) {
        dec_new(t, DEC_BYTELEVEL);
        t->byte_level = 1;
    } else if (!strcmp(type, "Metaspace")) {
        DecStep *st = dec_new(t, DEC_METASPACE);
        char r[8];
        int rl;
        if (parse_replacement(t, n, r, &rl, &st->repl_cp, err)) return -1;
        if (parse_prepend_scheme(t, n, &st->prepend, err)) return -1;
    } else if (!strcmp(type, "Replace")) {
        size_t len;
        const char *s = jstr(n, "content", &len);
        if (!s) return err_set(err, "%s: Replace decoder without content", t->path);
        DecStep *st = dec_new(t, DEC_REPLACE);
        st->content = xstrndup(s, len);
        st->content_len = len;
        if (jpattern(t, n, "Replace decoder", &st->pat, err)) return -1;
    } else if (!strcmp(type, "ByteFallback")) {
        dec_new(t, DEC_BYTEFALLBACK);
    } else if (!strcmp(type, "Fuse")) {
        dec_new(t, DEC_FUSE);
    } else if (!strcmp(type, "Strip")) {
        size_t len;
        const char *s = jstr(n, "content", &len);
        uint32_t cp;
        if (!s || !len || utf8_decode((const uint8_t *)s, len, &cp) != (int)len)
            return err_set(err, "%s: Strip decoder content must be one character", t->path);
        json_t *a = json_object_get(n, "start"), *b = json_object_get(n, "stop");
        if ((a && !json_is_integer(a)) || (b && !json_is_integer(b)))
            return err_set(err, "%s: Strip decoder start/stop must be integers", t->path);
        long long sa = a ? json_integer_value(a) : 0, sb = b ? json_integer_value(b) : 0;
        if (sa < 0 || sb < 0 || sa > 1 << 20 || sb > 1 << 20)
            return err_set(err, "%s: Strip decoder start/stop out of range", t->path);
        DecStep *st = dec_new(t, DEC_STRIP);
        st->strip_cp = cp;
        st->start = (int)sa;
        st->stop = (int)sb;
    } else {
        return err_set(err, "%s: unsupported decoder type '%s'", t->path, SHOWN(type));
    }
    return 0;
}

/* ---- the model ---- */

/* Splits a merge entry into its two pieces: "a b" (exactly one space) or ["a", "b"]. */
static int merge_parts(const json_t *m, const char **a, size_t *al, const char **b, size_t *bl) {
    if (json_is_string(m)) {
        const char *s = json_string_value(m);
        size_t n = json_string_length(m);
        const char *sp = memchr(s, ' ', n);
        if (!sp || memchr(sp + 1, ' ', n - (size_t)(sp + 1 - s))) return -1;
        *a = s, *al = (size_t)(sp - s), *b = sp + 1, *bl = n - *al - 1;
        return 0;
    }
    if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
        json_is_string(json_array_get(m, 1))) {
        *a = json_string_value(json_array_get(m, 0));
        *al = json_string_length(json_array_get(m, 0));
        *b = json_string_value(json_array_get(m, 1));
        *bl = json_string_length(json_array_get(m, 1));
        return 0;
    }
    return -1;
}

static int opt_string(Tokenizer *t, const json_t *model, const char *key, char **out,
                      size_t *out_len, Err *err) {
    json_t *v = json_object_get(model, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return err_set(err, "%s: model.%s is not a string", t->path, key);
    *out_len = json_string_length(v);
    *out = xstrndup(json_string_value(v), *out_len);
    return 0;
}

static int load_model(Tokenizer *t, const json_t *root, Err *err) {
    char sh[256];
    json_t *model = json_object_get(root, "model");
    if (!json_is_object(model))
        return err_set(err, "%s: no \"model\" object (not a tokenizer.json?)", t->path);
    const char *type = jstr(model, "type", NULL);
    json_t *vocab = json_object_get(model, "vocab");
    json_t *merges = json_object_get(model, "merges");
    if (!type && json_is_array(merges)) type = "BPE"; /* tokenizers infers the untagged type */
    if (!type) return err_set(err, "%s: model without a type", t->path);
    if (strcmp(type, "BPE"))
        return err_set(err, "%s: unsupported model type '%s' (only BPE is supported)", t->path,
                       SHOWN(type));
    if (!json_is_object(vocab))
        return err_set(err, "%s: BPE model without a vocab object", t->path);
    if (!json_is_array(merges)) return err_set(err, "%s: BPE model without a merges list", t->path);
    json_t *drop = json_object_get(model, "dropout");
    if (drop && !json_is_null(drop) && !(json_is_number(drop) && json_number_value(drop) == 0.0))
        return err_set(err, "%s: BPE dropout is not supported (deterministic encoding only)",
                       t->path);

    /* the id range: vocab and added tokens */
    json_t *added = json_object_get(root, "added_tokens");
    if (added && !json_is_null(added) && !json_is_array(added))
        return err_set(err, "%s: added_tokens is not a list", t->path);
    size_t n_entries = json_object_size(vocab) + json_array_size(added);
    long long max_id = -1;
    const char *key;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach((json_t *)vocab, key, klen, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return err_set(err, "%s: vocab entry \"%s\" has no valid id", t->path,
                           tok_shown(key, klen, sh, sizeof sh));
        if (json_integer_value(v) > max_id) max_id = json_integer_value(v);
    }
    size_t i;
    json_array_foreach(added, i, v) {
        json_t *id = json_object_get(v, "id");
        if (!json_is_integer(id) || json_integer_value(id) < 0 || !jstr(v, "content", NULL))
            return err_set(err, "%s: added_tokens[%zu] needs an id and a content", t->path, i);
        if (json_integer_value(id) > max_id) max_id = json_integer_value(id);
    }
    if (max_id < 0) return err_set(err, "%s: empty vocabulary", t->path);
    if (max_id >= MAX_VOCAB || (size_t)max_id > 2 * n_entries + 65536)
        return err_set(err, "%s: token id %lld out of range for %zu vocabulary entries", t->path,
                       max_id, n_entries);
    tok_alloc_table(t, (int)max_id + 1);
    /* The pieces go to the arena and their hashes are taken first; the inserts then prefetch the
     * slot a few entries ahead (the table is far bigger than the caches). */
    size_t nv = json_object_size(vocab), k = 0;
    strmap_init(&t->piece_map, nv);
    struct VocabEnt {
        uint64_t h;
        uint32_t off, len;
        int id;
    } *ve = xmalloc((nv + 1) * sizeof *ve);
    json_object_keylen_foreach((json_t *)vocab, key, klen, v) {
        uint32_t off = tok_arena_put(t, key, klen);
        ve[k++] =
            (struct VocabEnt){tok_hash(key, klen), off, (uint32_t)klen, (int)json_integer_value(v)};
    }
    for (k = 0; k < nv; k++) {
        if (k + 8 < nv) strmap_prefetch(&t->piece_map, ve[k + 8].h);
        int id = ve[k].id;
        strmap_add_hashed(&t->piece_map, t->arena.data, ve[k].off, ve[k].len, id, ve[k].h);
        if (t->flags[id] & TOK_UNUSED) {
            t->piece_off[id] = ve[k].off;
            t->piece_len[id] = ve[k].len;
            t->flags[id] = 0;
        }
    }
    free(ve);

    /* options */
    t->byte_fallback = jbool(model, "byte_fallback", 0);
    t->ignore_merges = jbool(model, "ignore_merges", 0);
    t->fuse_unk = jbool(model, "fuse_unk", 0);
    if (opt_string(t, model, "continuing_subword_prefix", &t->cont_prefix, &t->cont_prefix_len,
                   err) ||
        opt_string(t, model, "end_of_word_suffix", &t->eow_suffix, &t->eow_suffix_len, err))
        return -1;
    size_t ulen;
    const char *unk = jstr(model, "unk_token", &ulen);
    if (unk) {
        t->unk = strmap_get(&t->piece_map, t->arena.data, unk, ulen);
        if (t->unk < 0) t->unk_missing = 1;
    }

    /* merges: (a, b) -> (rank, id of a + b without b's continuing prefix). Three lookups each in
     * a table far bigger than the caches: done in batches whose slots are prefetched first. */
    pairmap_init(&t->merges, json_array_size(merges));
    enum { BATCH = 16 };
    struct {
        const char *a, *b;
        size_t al, bl, joff, jlen, index;
        uint64_t h[3];
    } q[BATCH];
    size_t nq = 0, rank = 0, n_merges = json_array_size(merges);
    Buf joined = {0};
    for (i = 0; i <= n_merges; i++) {
        v = i < n_merges ? json_array_get(merges, i) : NULL;
        if (v && json_is_string(v) && json_string_length(v) >= 8 &&
            !memcmp(json_string_value(v), "#version", 8))
            continue; /* tokenizers skips a merges.txt header line */
        if (v) {
            if (merge_parts(v, &q[nq].a, &q[nq].al, &q[nq].b, &q[nq].bl)) {
                buf_free(&joined);
                return err_set(err, "%s: merges[%zu] is not \"a b\" or [\"a\", \"b\"]", t->path, i);
            }
            size_t skip = t->cont_prefix_len <= q[nq].bl ? t->cont_prefix_len : q[nq].bl;
            q[nq].joff = joined.len;
            buf_append(&joined, q[nq].a, q[nq].al);
            buf_append(&joined, q[nq].b + skip, q[nq].bl - skip);
            q[nq].jlen = joined.len - q[nq].joff;
            q[nq].index = i;
            q[nq].h[0] = tok_hash(q[nq].a, q[nq].al);
            q[nq].h[1] = tok_hash(q[nq].b, q[nq].bl);
            q[nq].h[2] = tok_hash(joined.data + q[nq].joff, q[nq].jlen);
            for (int k = 0; k < 3; k++) strmap_prefetch(&t->piece_map, q[nq].h[k]);
            nq++;
        }
        if (nq == BATCH || (!v && nq)) {
            uint32_t ids[BATCH][3];
            for (size_t j = 0; j < nq; j++) {
                const StrMap *pm = &t->piece_map;
                const char *ar = t->arena.data;
                long ea = strmap_find_hashed(pm, ar, q[j].a, q[j].al, q[j].h[0]);
                long eb = strmap_find_hashed(pm, ar, q[j].b, q[j].bl, q[j].h[1]);
                long en = strmap_find_hashed(pm, ar, joined.data + q[j].joff, q[j].jlen, q[j].h[2]);
                if (ea < 0 || eb < 0 || en < 0) {
                    buf_free(&joined);
                    return err_set(err,
                                   "%s: merges[%zu] uses a token that is not in the vocabulary",
                                   t->path, q[j].index);
                }
                ids[j][0] = (uint32_t)pm->slots[ea].val;
                ids[j][1] = (uint32_t)pm->slots[eb].val;
                ids[j][2] = (uint32_t)pm->slots[en].val;
                pairmap_prefetch(&t->merges, ids[j][0], ids[j][1]);
            }
            for (size_t j = 0; j < nq; j++)
                pairmap_put(&t->merges, ids[j][0], ids[j][1], (uint32_t)rank++, ids[j][2]);
            nq = 0;
            buf_clear(&joined);
        }
    }
    buf_free(&joined);

    /* added tokens */
    t->n_added = (int)json_array_size(added);
    t->added = xcalloc((size_t)t->n_added + 1, sizeof *t->added);
    strmap_init(&t->added_map, (size_t)t->n_added);
    json_array_foreach(added, i, v) {
        AddedTok *a = &t->added[i];
        size_t clen = 0;
        const char *content = jstr(v, "content", &clen);
        a->id = (int)json_integer_value(json_object_get(v, "id"));
        a->special = (uint8_t)jbool(v, "special", 0);
        a->single_word = (uint8_t)jbool(v, "single_word", 0);
        a->lstrip = (uint8_t)jbool(v, "lstrip", 0);
        a->rstrip = (uint8_t)jbool(v, "rstrip", 0);
        a->normalized = (uint8_t)jbool(v, "normalized", !a->special);
        a->off = tok_arena_put(t, content, clen);
        a->len = (uint32_t)clen;
        strmap_add(&t->added_map, t->arena.data, a->off, a->len, a->id);
        int id = a->id;
        if ((t->flags[id] & TOK_UNUSED) || !t->piece_len[id]) {
            t->piece_off[id] = a->off;
            t->piece_len[id] = a->len;
        }
        t->flags[id] =
            (uint8_t)((t->flags[id] & ~TOK_UNUSED) | TOK_ADDED | (a->special ? TOK_SPECIAL : 0));
        t->bytes_off[id] = a->off;
        t->bytes_len[id] = a->len;
    }
    return 0;
}

/* "bos_token": "<s>" or {"content": "<s>", ...}: the id of that added token or vocab entry. */
static int config_token(Tokenizer *t, const json_t *cfg, const char *key) {
    json_t *v = json_object_get(cfg, key);
    if (json_is_object(v)) v = json_object_get(v, "content");
    if (!json_is_string(v)) return -1;
    return tok_find_piece(t, json_string_value(v), json_string_length(v));
}

static int config_specials(Tokenizer *t) {
    const char *slash = strrchr(t->path, '/');
    Buf p = {0};
    if (slash) buf_append(&p, t->path, (size_t)(slash - t->path) + 1);
    buf_puts(&p, "tokenizer_config.json");
    json_error_t je;
    /* integers as reals: Llama 3 writes model_max_length as a 31-digit integer */
    json_t *cfg = is_file(p.data)
        ? json_load_file(p.data, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je)
        : NULL;
    buf_free(&p);
    if (!json_is_object(cfg)) { /* absent or unreadable: it is optional */
        json_decref(cfg);
        return 0;
    }
    t->bos = config_token(t, cfg, "bos_token");
    t->eos = config_token(t, cfg, "eos_token");
    json_decref(cfg);
    return 1;
}

int tok_load_json(Tokenizer *t, Err *err) {
    size_t len;
    char *json = read_file(t->path, &len, err);
    if (!json) return -1;
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_ALLOW_NUL, &je);
    free(json);
    if (!root)
        return err_set(err, "%s: invalid JSON at line %d column %d: %s", t->path, je.line,
                       je.column, je.text);
    int rc = -1;
    if (!json_is_object(root)) {
        err_set(err, "%s: not a tokenizer.json (the top level is not an object)", t->path);
        goto done;
    }
    t->model = MODEL_BPE;
    if (load_model(t, root, err)) goto done;
    if (parse_normalizer(t, json_object_get(root, "normalizer"), 0, err)) goto done;
    if (parse_pretokenizer(t, json_object_get(root, "pre_tokenizer"), 0, err)) goto done;
    if (parse_decoder(t, json_object_get(root, "decoder"), 0, err)) goto done;
    if (!t->pre_desc[0]) snprintf(t->pre_desc, sizeof t->pre_desc, "none");
    snprintf(t->kind, sizeof t->kind, "%s",
             t->byte_level          ? "BPE (byte-level)"
                 : t->byte_fallback ? "BPE (byte fallback)"
                                    : "BPE");
    /* bos/eos: tokenizer.json does not name them; tokenizer_config.json beside it does */
    int have_config = config_specials(t);
    static const char *bos_names[] = {"<|begin_of_text|>",
                                      "<s>",
                                      "<\xEF\xBD\x9C"
                                      "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                                      "<|startoftext|>",
                                      "<bos>",
                                      NULL};
    static const char *eos_names[] = {"<|end_of_text|>",
                                      "</s>",
                                      "<\xEF\xBD\x9C"
                                      "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                                      "<|endoftext|>",
                                      "<eos>",
                                      NULL};
    for (int k = 0; !have_config && bos_names[k] && t->bos < 0; k++)
        t->bos = strmap_get(&t->added_map, t->arena.data, bos_names[k], strlen(bos_names[k]));
    for (int k = 0; !have_config && eos_names[k] && t->eos < 0; k++)
        t->eos = strmap_get(&t->added_map, t->arena.data, eos_names[k], strlen(eos_names[k]));
    rc = 0;
done:
    json_decref(root);
    return rc;
}
