/* tokconv: see tokconv.h.
 *
 * What llama.cpp's convert_hf_to_gguf.py writes, from tokenizer.json alone:
 *   byte-level BPE (a ByteLevel pre-tokenizer or decoder): model "gpt2"; tokens by id (holes
 *     "[PAD<id>]", type UNUSED); token types NORMAL, CONTROL (special added tokens),
 *     USER_DEFINED (other added tokens); merges as "a b"; pre = llama.cpp's name of the
 *     pre-tokenizer, recognized here by its regex (llama.cpp hashes the encoding of a test text
 *     instead, which needs the tokenizer itself);
 *   BPE with byte fallback (SentencePiece-style): model "llama"; tokens; token types (BYTE for
 *     <0xNN>, UNKNOWN for the unk token, CONTROL / USER_DEFINED for added tokens); scores from the
 *     merge ranks (the token made by merge r scores -r, other tokens -(n_merges + id)), which is
 *     the order llama.cpp's SentencePiece tokenizer merges in; add_space_prefix from the
 *     normalizer's Prepend("▁") or a Metaspace pre-tokenizer.
 * Both: as many tokens as the model's embedding has rows (holes "[PAD<id>]", as llama.cpp pads),
 * special ids and add_bos/add_eos from tokenizer_config.json (else config.json) beside it,
 * tokenizer.chat_template, and the whole tokenizer.json as tokenizer.huggingface.json (the GGUF
 * key meant for it), so nothing is lost even where llama.cpp's keys cannot say it all. */
#include "tokenizer/tokconv.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5, TT_BYTE = 6 };

#define MAX_VOCAB (1 << 24)

typedef struct {
    TokConvKv *kv;
    int n;
} Out;

static Buf *add(Out *o, const char *key, uint32_t type) {
    o->kv = xrealloc(o->kv, (size_t)(o->n + 1) * sizeof *o->kv);
    TokConvKv *k = &o->kv[o->n++];
    k->key = xstrdup(key);
    k->type = type;
    k->val = (Buf){0};
    return &k->val;
}

static void put_u32(Buf *b, uint32_t v) { buf_append(b, &v, 4); }
static void put_u64(Buf *b, uint64_t v) { buf_append(b, &v, 8); }
static void put_str(Buf *b, const char *s, size_t n) {
    put_u64(b, n);
    buf_append(b, s, n);
}
static void add_str(Out *o, const char *key, const char *s) { put_str(add(o, key, GGUF_STRING), s, strlen(s)); }
static void add_u32(Out *o, const char *key, uint32_t v) { put_u32(add(o, key, GGUF_UINT32), v); }
static void add_bool(Out *o, const char *key, int v) { buf_putc(add(o, key, GGUF_BOOL), (char)(v != 0)); }

static void set_note(char **note, const char *fmt, const char *a, const char *b) {
    Buf nb = {0};
    buf_printf(&nb, fmt, a, b);
    free(*note);
    *note = nb.data;
}

/* "type" of a pre-tokenizer/decoder node, or of any node in its Sequence, equals t */
static int has_type(json_t *node, const char *t) {
    if (!json_is_object(node)) return 0;
    const char *ty = json_string_value(json_object_get(node, "type"));
    if (ty && !strcmp(ty, t)) return 1;
    json_t *seq = json_object_get(node, "pretokenizers");
    if (!seq) seq = json_object_get(node, "decoders");
    if (!seq) seq = json_object_get(node, "normalizers");
    size_t i;
    json_t *v;
    json_array_foreach(seq, i, v) if (has_type(v, t)) return 1;
    return 0;
}

/* llama.cpp's pre-tokenizer name for the Split regexes of a byte-level tokenizer */
static const char *pre_name(json_t *pre) {
    static const struct { const char *name, *regex; } known[] = {
        {"qwen2", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
        {"llama-bpe", "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
    };
    if (!json_is_object(pre)) return NULL;
    const char *ty = json_string_value(json_object_get(pre, "type"));
    if (ty && !strcmp(ty, "ByteLevel")) /* GPT-2: the ByteLevel pre-tokenizer's own regex */
        return json_is_true(json_object_get(pre, "use_regex")) ? "gpt2" : NULL;
    json_t *seq = json_object_get(pre, "pretokenizers");
    if (!ty || strcmp(ty, "Sequence") || json_array_size(seq) != 2) return NULL;
    json_t *split = json_array_get(seq, 0), *bl = json_array_get(seq, 1);
    const char *st = json_string_value(json_object_get(split, "type"));
    const char *rx = json_string_value(json_object_get(json_object_get(split, "pattern"), "Regex"));
    if (!st || strcmp(st, "Split") || !rx || !has_type(bl, "ByteLevel") ||
        json_is_true(json_object_get(bl, "use_regex")))
        return NULL;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(rx, known[i].regex)) return known[i].name;
    return NULL;
}

/* a special-token entry of tokenizer_config.json: "text" or {"content": "text"} */
static const char *token_text(json_t *v) {
    if (json_is_string(v)) return json_string_value(v);
    return json_string_value(json_object_get(v, "content"));
}

/* the directory part of path, with a trailing slash ("" for a bare name) */
static void dir_of(const char *path, Buf *out) {
    const char *s = strrchr(path, '/');
    if (s) buf_append(out, path, (size_t)(s - path) + 1);
}

static int find_token(char **tokens, int n, const char *s) {
    for (int i = 0; i < n; i++)
        if (tokens[i] && !strcmp(tokens[i], s)) return i;
    return -1;
}

/* special ids and flags from tokenizer_config.json, else config.json */
static void special_ids(Out *o, const char *path, char **tokens, int n, const char *unk) {
    Buf p = {0};
    dir_of(path, &p);
    size_t base = p.len;
    buf_puts(&p, "tokenizer_config.json");
    json_t *tc = is_file(p.data) ? json_load_file(p.data, 0, NULL) : NULL;
    p.len = base;
    buf_puts(&p, "config.json");
    json_t *cf = is_file(p.data) ? json_load_file(p.data, 0, NULL) : NULL;
    buf_free(&p);
    static const struct { const char *tc, *cfg, *key; } ids[] = {
        {"bos_token", "bos_token_id", "tokenizer.ggml.bos_token_id"},
        {"eos_token", "eos_token_id", "tokenizer.ggml.eos_token_id"},
        {"unk_token", NULL, "tokenizer.ggml.unknown_token_id"},
        {"pad_token", "pad_token_id", "tokenizer.ggml.padding_token_id"},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        int id = -1;
        const char *t = token_text(json_object_get(tc, ids[i].tc));
        if (t) id = find_token(tokens, n, t);
        if (id < 0 && ids[i].cfg) {
            json_t *v = json_object_get(cf, ids[i].cfg);
            if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < n)
                id = (int)json_integer_value(v);
        }
        if (id < 0 && i == 2 && unk) id = find_token(tokens, n, unk);
        if (id >= 0) add_u32(o, ids[i].key, (uint32_t)id);
    }
    json_t *ab = json_object_get(tc, "add_bos_token"), *ae = json_object_get(tc, "add_eos_token");
    if (json_is_boolean(ab)) add_bool(o, "tokenizer.ggml.add_bos_token", json_is_true(ab));
    if (json_is_boolean(ae)) add_bool(o, "tokenizer.ggml.add_eos_token", json_is_true(ae));
    const char *tmpl = json_string_value(json_object_get(tc, "chat_template"));
    if (tmpl) add_str(o, "tokenizer.chat_template", tmpl);
    json_decref(tc);
    json_decref(cf);
}

/* merges as "a b" strings (either form of tokenizer.json); NULL entries are malformed */
static char *merge_text(json_t *m) {
    if (json_is_string(m)) return xstrdup(json_string_value(m));
    if (json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) && json_is_string(json_array_get(m, 1))) {
        Buf b = {0};
        buf_printf(&b, "%s %s", json_string_value(json_array_get(m, 0)), json_string_value(json_array_get(m, 1)));
        return b.data;
    }
    return NULL;
}

int tokconv_from_json(const char *path, int n_vocab, TokConvKv **kvs, char **note, Err *err) {
    *kvs = NULL;
    size_t len;
    char *text = read_file(path, &len, err);
    if (!text) return -1;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    Out o = {0};
    char **tokens = NULL;
    int32_t *types = NULL;
    int n = 0, rc = -1;
    json_t *model = json_object_get(root, "model"), *vocab = json_object_get(model, "vocab");
    if (!root) {
        err_set(err, "%s: not valid JSON: %s (line %d)", path, je.text, je.line);
        goto done;
    }
    const char *mtype = json_string_value(json_object_get(model, "type"));
    if (!mtype || strcmp(mtype, "BPE") || !json_is_object(vocab)) {
        set_note(note, "%s: a %s tokenizer is not converted: the output has no tokenizer keys", path,
                 mtype ? mtype : "model-less");
        rc = 0;
        goto done;
    }
    const int byte_fallback = json_is_true(json_object_get(model, "byte_fallback"));
    json_t *pre = json_object_get(root, "pre_tokenizer");
    const int byte_level = has_type(pre, "ByteLevel") || has_type(json_object_get(root, "decoder"), "ByteLevel");
    if (!byte_fallback && !byte_level) {
        set_note(note, "%s: a BPE tokenizer that is neither byte-level nor byte-fallback is not %s"
                       "converted: the output has no tokenizer keys", path, "");
        rc = 0;
        goto done;
    }
    /* ids: the vocabulary and the added tokens */
    json_t *added = json_object_get(root, "added_tokens");
    const char *key;
    json_t *v;
    size_t i;
    json_object_foreach(vocab, key, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= MAX_VOCAB) {
            err_set(err, "%s: vocabulary entry '%s' has a bad id", path, key);
            goto done;
        }
        if (json_integer_value(v) >= n) n = (int)json_integer_value(v) + 1;
    }
    json_array_foreach(added, i, v) {
        json_t *id = json_object_get(v, "id");
        if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) >= MAX_VOCAB ||
            !json_is_string(json_object_get(v, "content"))) {
            err_set(err, "%s: added_tokens[%zu] needs an id and a content", path, i);
            goto done;
        }
        if (json_integer_value(id) >= n) n = (int)json_integer_value(id) + 1;
    }
    if (n_vocab > n && n_vocab <= MAX_VOCAB) n = n_vocab; /* the embedding's rows: [PAD] holes */
    tokens = xcalloc((size_t)n, sizeof *tokens);
    types = xcalloc((size_t)n, sizeof *types);
    json_object_foreach(vocab, key, v) {
        int id = (int)json_integer_value(v);
        if (tokens[id]) {
            err_set(err, "%s: id %d is used by two vocabulary entries", path, id);
            goto done;
        }
        tokens[id] = xstrdup(key);
        types[id] = TT_NORMAL;
        if (byte_fallback && strlen(key) == 6 && !strncmp(key, "<0x", 3) && key[5] == '>') types[id] = TT_BYTE;
    }
    json_array_foreach(added, i, v) {
        int id = (int)json_integer_value(json_object_get(v, "id"));
        const char *c = json_string_value(json_object_get(v, "content"));
        if (tokens[id] && strcmp(tokens[id], c)) {
            err_set(err, "%s: added token '%s' has the id %d of '%s'", path, c, id, tokens[id]);
            goto done;
        }
        if (!tokens[id]) tokens[id] = xstrdup(c);
        types[id] = json_is_true(json_object_get(v, "special")) ? TT_CONTROL : TT_USER;
    }
    const char *unk = json_string_value(json_object_get(model, "unk_token"));
    for (int t = 0; t < n; t++)
        if (!tokens[t]) {
            char pad[32];
            snprintf(pad, sizeof pad, "[PAD%d]", t);
            tokens[t] = xstrdup(pad);
            types[t] = TT_UNUSED;
        } else if (byte_fallback && unk && !strcmp(tokens[t], unk)) {
            types[t] = TT_UNKNOWN;
        }
    json_t *merges = json_object_get(model, "merges");
    const size_t n_merges = json_array_size(merges);

    add_str(&o, "tokenizer.ggml.model", byte_fallback ? "llama" : "gpt2");
    if (!byte_fallback) {
        const char *pn = pre_name(pre);
        if (!pn)
            set_note(note, "%s: pre-tokenizer not one llama.cpp names here (gpt2, qwen2, llama-bpe): "
                           "tokenizer.ggml.pre = \"gpt2\"%s; the exact tokenizer is kept in "
                           "tokenizer.huggingface.json", path, "");
        add_str(&o, "tokenizer.ggml.pre", pn ? pn : "gpt2");
    }
    Buf *b = add(&o, "tokenizer.ggml.tokens", GGUF_ARRAY);
    put_u32(b, GGUF_STRING);
    put_u64(b, (uint64_t)n);
    for (int t = 0; t < n; t++) put_str(b, tokens[t], strlen(tokens[t]));
    if (byte_fallback) {
        float *sc = xmalloc((size_t)n * sizeof(float));
        for (int t = 0; t < n; t++) sc[t] = -(float)(n_merges + (size_t)t);
        json_array_foreach(merges, i, v) { /* the token a merge makes scores -rank (first wins) */
            char *m = merge_text(v);
            if (!m) {
                free(sc);
                err_set(err, "%s: merges[%zu] is malformed", path, i);
                goto done;
            }
            if (json_is_string(v)) { /* "a b" -> "ab"; the pair form was joined with one space */
                char *sp = strchr(m, ' ');
                if (sp) memmove(sp, sp + 1, strlen(sp));
            } else {
                size_t la = strlen(json_string_value(json_array_get(v, 0)));
                memmove(m + la, m + la + 1, strlen(m + la + 1) + 1);
            }
            json_t *id = json_object_get(vocab, m);
            if (json_is_integer(id) && sc[json_integer_value(id)] < -(float)i) sc[json_integer_value(id)] = -(float)i;
            free(m);
        }
        b = add(&o, "tokenizer.ggml.scores", GGUF_ARRAY);
        put_u32(b, GGUF_FLOAT32);
        put_u64(b, (uint64_t)n);
        buf_append(b, sc, (size_t)n * sizeof(float));
        free(sc);
    }
    b = add(&o, "tokenizer.ggml.token_type", GGUF_ARRAY);
    put_u32(b, GGUF_INT32);
    put_u64(b, (uint64_t)n);
    buf_append(b, types, (size_t)n * sizeof(int32_t));
    if (!byte_fallback) {
        b = add(&o, "tokenizer.ggml.merges", GGUF_ARRAY);
        put_u32(b, GGUF_STRING);
        put_u64(b, n_merges);
        json_array_foreach(merges, i, v) {
            char *m = merge_text(v);
            if (!m) {
                err_set(err, "%s: merges[%zu] is malformed", path, i);
                goto done;
            }
            put_str(b, m, strlen(m));
            free(m);
        }
    } else {
        json_t *norm = json_object_get(root, "normalizer");
        int prepend = 0;
        if (has_type(norm, "Prepend")) prepend = 1;
        if (has_type(pre, "Metaspace")) {
            const char *scheme = json_string_value(json_object_get(pre, "prepend_scheme"));
            prepend = !scheme || strcmp(scheme, "never");
        }
        add_bool(&o, "tokenizer.ggml.add_space_prefix", prepend);
    }
    special_ids(&o, path, tokens, n, unk);
    put_str(add(&o, "tokenizer.huggingface.json", GGUF_STRING), text, len);
    rc = o.n;
done:
    if (rc < 0 || rc == 0) {
        tokconv_free(o.kv, o.n);
        o.kv = NULL;
    }
    *kvs = o.kv;
    for (int t = 0; tokens && t < n; t++) free(tokens[t]);
    free(tokens);
    free(types);
    json_decref(root);
    free(text);
    return rc;
}

void tokconv_free(TokConvKv *kvs, int n) {
    for (int i = 0; i < n; i++) {
        free(kvs[i].key);
        buf_free(&kvs[i].val);
    }
    free(kvs);
}
