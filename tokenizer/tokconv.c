/* tokconv: see tokconv.h.
 *
 * What llama.cpp's convert_hf_to_gguf.py writes, from tokenizer.json alone (read by
 * tok_json_read.c, as the loader reads it):
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "tokenizer/tok_json_read.h"
#include "tokenizer/tok_regex.h"

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5, TT_BYTE = 6 };

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

/* ---- what the pipeline says ---- */

/* The first step of that type, or NULL. */
static const TjStep *find_step(const TjSteps *s, const char *type) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->v[i].type, type)) return &s->v[i];
    return NULL;
}

/* llama.cpp's name for a byte-level tokenizer's pre-tokenizer, told by the steps of the
 * tokenizer.json, each written as the regex it splits with: Split(Regex, Isolated) as its pattern,
 * Digits(individual_digits) as \p{N} (runs: \p{N}+), a final ByteLevel with use_regex as GPT-2's
 * regex (without: nothing more); add_prefix_space must be off (llama.cpp adds no space).
 * The names are the ones llama.cpp's convert_hf_to_gguf.py gives these tokenizers; each loads in
 * llama.cpp with the same regexes (tok_gguf.c), except that llama.cpp's deepseek-llm takes digit
 * runs where the tokenizer.json splits digits one by one (the same tokens when the vocabulary has
 * no multi-digit token, as DeepSeek LLM's and DeepSeek-V2's have not). */
#define MAX_PRE_STEPS 8
typedef struct {
    const char *name;
    int ignore_merges; /* -1: either; else as llama.cpp sets it for the name */
    const char *steps[MAX_PRE_STEPS];
} KnownPre;

static const KnownPre KNOWN_PRE[] = {
    {"gpt-2", -1, {TOK_RE_GPT2}},
    {"qwen2", -1, {TOK_RE_QWEN2}},
    {"llama-bpe", 1, {TOK_RE_LLAMA3}},
    {"dbrx", 0, {TOK_RE_LLAMA3}},
    {"starcoder", -1, {"\\p{N}", TOK_RE_GPT2}},                      /* StarCoder2 */
    {"deepseek-coder", -1, {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", TOK_RE_CJK, "\\p{N}"}},
    {"deepseek-llm", -1, /* DeepSeek LLM, DeepSeek-V2, DeepSeek-Coder-V2 */
     {"[\r\n]", TOK_RE_DEEPSEEK_LLM_LETTERS, TOK_RE_DEEPSEEK_LLM_PUNCT, "\\s+$", TOK_RE_CJK, "\\p{N}"}},
    {"deepseek-v3", -1, {"\\p{N}{1,3}", TOK_RE_DEEPSEEK_V3_CJK, TOK_RE_DEEPSEEK_V3}},
};

/* Regexes are equal when their bytes are, reading a control character CR/LF/TAB the same as its
 * escape (\r \n \t), which tokenizer.json files write either way. */
static int esc_char(const char *s, size_t n, size_t *i) {
    static const char ctl[] = "\r\n\t", esc[] = "rnt";
    if (s[*i] == '\\' && *i + 1 < n) {
        const char *e = strchr(esc, s[*i + 1]);
        if (e && *e) {
            *i += 2;
            return ctl[e - esc];
        }
        *i += 2;
        return 256 + (unsigned char)s[*i - 1]; /* another escape: itself */
    }
    return (unsigned char)s[(*i)++];
}

static int same_regex(const char *a, size_t an, const char *b) {
    size_t bn = strlen(b), i = 0, j = 0;
    while (i < an && j < bn)
        if (esc_char(a, an, &i) != esc_char(b, bn, &j)) return 0;
    return i == an && j == bn;
}

/* The steps as regexes (pointers into the JSON, lengths in len); -1 when one is not expressible. */
static int pre_regexes(const TjSteps *pre, const char **rx, size_t *len) {
    int n = 0;
    for (int i = 0; i < pre->n; i++) {
        const json_t *node = pre->v[i].node;
        const char *type = pre->v[i].type;
        if (n == MAX_PRE_STEPS) return -1;
        if (!strcmp(type, "ByteLevel")) {
            if (i != pre->n - 1 || tokjson_bool(node, "add_prefix_space", 1)) return -1;
            if (tokjson_bool(node, "use_regex", 1)) rx[n] = TOK_RE_GPT2, len[n++] = strlen(TOK_RE_GPT2);
        } else if (!strcmp(type, "Digits")) {
            rx[n] = tokjson_bool(node, "individual_digits", 0) ? "\\p{N}" : "\\p{N}+";
            len[n] = strlen(rx[n]);
            n++;
        } else if (!strcmp(type, "Split")) {
            const char *b = tokjson_str(node, "behavior", NULL);
            if (!b || strcmp(b, "Isolated") || tokjson_bool(node, "invert", 0)) return -1;
            rx[n] = tokjson_str(json_object_get(node, "pattern"), "Regex", &len[n]);
            if (!rx[n++]) return -1;
        } else {
            return -1;
        }
    }
    return pre->n && !strcmp(pre->v[pre->n - 1].type, "ByteLevel") ? n : -1;
}

static const char *pre_name(const TjSteps *pre, int ignore_merges) {
    const char *rx[MAX_PRE_STEPS];
    size_t len[MAX_PRE_STEPS];
    int n = pre_regexes(pre, rx, len);
    for (size_t k = 0; n > 0 && k < sizeof KNOWN_PRE / sizeof KNOWN_PRE[0]; k++) {
        const KnownPre *kp = &KNOWN_PRE[k];
        int m = 0;
        while (m < MAX_PRE_STEPS && kp->steps[m]) m++;
        if (m != n || (kp->ignore_merges >= 0 && kp->ignore_merges != ignore_merges)) continue;
        int same = 1;
        for (int i = 0; i < n && same; i++) same = same_regex(rx[i], len[i], kp->steps[i]);
        if (same) return kp->name;
    }
    return NULL;
}

/* ---- the token list ---- */

/* Every id's text and GGUF token type, holes padded. */
typedef struct {
    char **tok; /* NUL-terminated copies */
    size_t *len;
    int32_t *type;
    int n;
} Table;

static int build_table(Table *tb, const TokJson *tj, int n_vocab, Err *err) {
    int n = tj->n_ids;
    if (n_vocab > n && n_vocab <= TOK_MAX_VOCAB) n = n_vocab; /* the embedding's rows: holes */
    tb->n = n;
    tb->tok = xcalloc((size_t)n, sizeof *tb->tok);
    tb->len = xcalloc((size_t)n, sizeof *tb->len);
    tb->type = xcalloc((size_t)n, sizeof *tb->type);
    for (size_t i = 0; i < tj->n_vocab; i++) {
        const TjPiece *p = &tj->vocab[i];
        if (tb->tok[p->id])
            return err_set(err, "%s: id %d is used by two vocabulary entries", tj->path, p->id);
        tb->tok[p->id] = xstrndup(p->s, p->len);
        tb->len[p->id] = p->len;
        tb->type[p->id] = TT_NORMAL;
        if (tj->byte_fallback && p->len == 6 && !memcmp(p->s, "<0x", 3) && p->s[5] == '>')
            tb->type[p->id] = TT_BYTE;
    }
    for (size_t i = 0; i < tj->n_added; i++) {
        const TjAdded *a = &tj->added[i];
        char *have = tb->tok[a->id];
        if (have && (tb->len[a->id] != a->len || memcmp(have, a->content, a->len)))
            return err_set(err, "%s: added token '%s' has the id %d of '%s'", tj->path,
                           a->content, a->id, have);
        if (!have) {
            tb->tok[a->id] = xstrndup(a->content, a->len);
            tb->len[a->id] = a->len;
        }
        tb->type[a->id] = a->special ? TT_CONTROL : TT_USER;
    }
    for (int t = 0; t < n; t++)
        if (!tb->tok[t]) {
            char pad[32];
            tb->len[t] = (size_t)snprintf(pad, sizeof pad, "[PAD%d]", t);
            tb->tok[t] = xstrdup(pad);
            tb->type[t] = TT_UNUSED;
        } else if (tj->byte_fallback && tj->unk && tb->len[t] == tj->unk_len &&
                   !memcmp(tb->tok[t], tj->unk, tj->unk_len)) {
            tb->type[t] = TT_UNKNOWN;
        }
    return 0;
}

static void free_table(Table *tb) {
    for (int t = 0; tb->tok && t < tb->n; t++) free(tb->tok[t]);
    free(tb->tok);
    free(tb->len);
    free(tb->type);
}

static int find_token(const Table *tb, const char *s, size_t len) {
    for (int i = 0; i < tb->n; i++)
        if (tb->len[i] == len && !memcmp(tb->tok[i], s, len)) return i;
    return -1;
}

/* ---- special tokens, from the files beside tokenizer.json ---- */

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

/* special ids and flags from tokenizer_config.json, else config.json */
static void special_ids(Out *o, const char *path, const Table *tb, const char *unk,
                        size_t unk_len) {
    Buf p = {0};
    dir_of(path, &p);
    size_t base = p.len;
    buf_puts(&p, "tokenizer_config.json");
    /* as reals: Llama configs hold a 31-digit model_max_length, which as an integer fails the load */
    json_t *tc = is_file(p.data) ? json_load_file(p.data, JSON_DECODE_INT_AS_REAL, NULL) : NULL;
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
        if (t) id = find_token(tb, t, strlen(t));
        if (id < 0 && ids[i].cfg) {
            json_t *v = json_object_get(cf, ids[i].cfg);
            if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < tb->n)
                id = (int)json_integer_value(v);
        }
        if (id < 0 && i == 2 && unk) id = find_token(tb, unk, unk_len);
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

/* ---- the keys ---- */

/* SentencePiece-style scores: the token a merge makes scores -rank (the first merge making it
 * wins), every other token -(n_merges + id). */
static void add_scores(Out *o, TokJson *tj, int n) {
    float *sc = xmalloc((size_t)n * sizeof(float));
    for (int t = 0; t < n; t++) sc[t] = -(float)(tj->n_merges + (size_t)t);
    Buf joined = {0};
    for (size_t i = 0; i < tj->n_merges; i++) {
        const TjMerge *m = &tj->merges[i];
        buf_clear(&joined);
        buf_append(&joined, m->a, m->al);
        buf_append(&joined, m->b, m->bl);
        int id = tokjson_vocab_id(tj, joined.data ? joined.data : "", joined.len);
        if (id >= 0 && sc[id] < -(float)i) sc[id] = -(float)i;
    }
    buf_free(&joined);
    Buf *b = add(o, "tokenizer.ggml.scores", GGUF_ARRAY);
    put_u32(b, GGUF_FLOAT32);
    put_u64(b, (uint64_t)n);
    buf_append(b, sc, (size_t)n * sizeof(float));
    free(sc);
}

int tokconv_from_json(const char *path, int n_vocab, TokConvKv **kvs, char **note, Err *err) {
    *kvs = NULL;
    TokJson tj;
    if (tokjson_open(&tj, path, err)) return -1;
    Out o = {0};
    TjSteps norm = {0}, pre = {0}, dec = {0};
    Table tb = {0};
    int rc = -1;
    if (!tj.type || strcmp(tj.type, "BPE")) {
        set_note(note, "%s: a %s tokenizer is not converted: the output has no tokenizer keys",
                 path, tj.type ? tj.type : "model-less");
        rc = 0;
        goto done;
    }
    if (tokjson_steps(&tj, TJ_NORMALIZER, &norm, err) ||
        tokjson_steps(&tj, TJ_PRE_TOKENIZER, &pre, err) ||
        tokjson_steps(&tj, TJ_DECODER, &dec, err))
        goto done;
    const int byte_fallback = tj.byte_fallback;
    const int byte_level = find_step(&pre, "ByteLevel") || find_step(&dec, "ByteLevel");
    if (!byte_fallback && !byte_level) {
        set_note(note, "%s: a BPE tokenizer that is neither byte-level nor byte-fallback is not %s"
                       "converted: the output has no tokenizer keys", path, "");
        rc = 0;
        goto done;
    }
    if (tokjson_read_bpe(&tj, err) || build_table(&tb, &tj, n_vocab, err)) goto done;

    add_str(&o, "tokenizer.ggml.model", byte_fallback ? "llama" : "gpt2");
    if (!byte_fallback) {
        const char *pn = pre_name(&pre, tj.ignore_merges);
        if (!pn)
            set_note(note,
                     "%s: pre-tokenizer not one llama.cpp names here (gpt-2, qwen2, llama-bpe, "
                     "dbrx, starcoder, deepseek-coder, deepseek-llm, deepseek-v3): "
                     "tokenizer.ggml.pre = \"default\"%s; the exact tokenizer is kept in "
                     "tokenizer.huggingface.json",
                     path, "");
        add_str(&o, "tokenizer.ggml.pre", pn ? pn : "default");
    }
    Buf *b = add(&o, "tokenizer.ggml.tokens", GGUF_ARRAY);
    put_u32(b, GGUF_STRING);
    put_u64(b, (uint64_t)tb.n);
    for (int t = 0; t < tb.n; t++) put_str(b, tb.tok[t], tb.len[t]);
    if (byte_fallback) add_scores(&o, &tj, tb.n);
    b = add(&o, "tokenizer.ggml.token_type", GGUF_ARRAY);
    put_u32(b, GGUF_INT32);
    put_u64(b, (uint64_t)tb.n);
    buf_append(b, tb.type, (size_t)tb.n * sizeof(int32_t));
    if (!byte_fallback) {
        b = add(&o, "tokenizer.ggml.merges", GGUF_ARRAY);
        put_u32(b, GGUF_STRING);
        put_u64(b, tj.n_merges);
        for (size_t i = 0; i < tj.n_merges; i++) { /* "a b" */
            const TjMerge *m = &tj.merges[i];
            put_u64(b, m->al + 1 + m->bl);
            buf_append(b, m->a, m->al);
            buf_putc(b, ' ');
            buf_append(b, m->b, m->bl);
        }
    } else {
        int prepend = find_step(&norm, "Prepend") != NULL;
        const TjStep *meta = find_step(&pre, "Metaspace");
        if (meta) {
            const char *scheme = tokjson_str(meta->node, "prepend_scheme", NULL);
            prepend = !scheme || strcmp(scheme, "never");
        }
        add_bool(&o, "tokenizer.ggml.add_space_prefix", prepend);
    }
    special_ids(&o, path, &tb, tj.unk, tj.unk_len);
    put_str(add(&o, "tokenizer.huggingface.json", GGUF_STRING), tj.text, tj.len);
    rc = o.n;
done:
    if (rc <= 0) {
        tokconv_free(o.kv, o.n);
        o.kv = NULL;
    }
    *kvs = o.kv;
    free_table(&tb);
    free(norm.v);
    free(pre.v);
    free(dec.v);
    tokjson_close(&tj);
    return rc;
}

void tokconv_free(TokConvKv *kvs, int n) {
    for (int i = 0; i < n; i++) {
        free(kvs[i].key);
        buf_free(&kvs[i].val);
    }
    free(kvs);
}
