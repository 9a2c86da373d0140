/* tokenizer: the public API (see tokenizer.h), on top of the folder: tok_load picks a loader by
 * path and finishes what it built; the encode driver splits the text on added tokens the way
 * tokenizers' AddedVocabulary does before handing each remaining segment to the normalizers,
 * pre-tokenizers and the model; decoding; the per-id queries. (tok_free is in tok_build.c.) */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "tokenizer/tok_build.h"
#include "tokenizer/tok_load.h"

/* ---- loading ---- */

/* Whatever a message quotes from a file, it stays one line. */
static void one_line(Err *err) {
    if (!err) return;
    for (char *p = err->msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F) *p = '?';
}

static int looks_like_gguf(const char *path) {
    FILE *f = fopen_regular(path, NULL); /* not a regular file: the loader names the problem */
    if (!f) return 0;
    char m[4] = {0};
    size_t n = fread(m, 1, 4, f);
    fclose(f);
    return n == 4 && !memcmp(m, "GGUF", 4);
}

Tokenizer *tok_load(const char *path, Err *err) {
    char *file;
    if (is_dir(path)) {
        Buf p = {0};
        buf_printf(&p, "%s/tokenizer.json", path);
        if (!is_file(p.data)) {
            err_set(err, "%s: a folder without tokenizer.json", path);
            buf_free(&p);
            return NULL;
        }
        file = p.data;
    } else {
        file = xstrdup(path);
    }
    Tokenizer *t = tok_new(file);
    /* by content, then by name: a file named .gguf that is not one gets the GGUF reader's word for
     * it (bad magic), not a JSON parser's complaint */
    int rc;
    if (looks_like_gguf(t->path) || ends_with(t->path, ".gguf"))
        rc = tok_load_gguf(t, err);
    else if (ends_with(t->path, ".safetensors"))
        rc = err_set(err, "%s: a safetensors file holds weights, not a tokenizer (give its folder or its tokenizer.json)",
                     t->path);
    else
        rc = tok_load_json(t, err);
    if (rc || tok_finish(t, err)) {
        one_line(err);
        tok_free(t);
        return NULL;
    }
    return t;
}

/* Unicode \w for single_word added tokens: letters, marks, digits, connector punctuation. */
static int is_word_char(uint32_t cp) {
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
            cp == '_';
    if (cp == 0x200C || cp == 0x200D) return 1;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC: return 1;
    default: return 0;
    }
}

static int is_ws(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
        (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
        cp == 0x205F || cp == 0x3000;
}

/* The code point that ends s[0..end), or -1. */
static long cp_before(const char *s, size_t end) {
    if (!end) return -1;
    size_t k = end - 1;
    while (k > 0 && ((uint8_t)s[k] & 0xC0) == 0x80) k--;
    uint32_t cp;
    return utf8_decode((const uint8_t *)s + k, end - k, &cp) ? (long)cp : -1;
}

static long cp_at(const char *s, size_t len, size_t at) {
    uint32_t cp;
    return at < len && utf8_decode((const uint8_t *)s + at, len - at, &cp) ? (long)cp : -1;
}

/* One piece of the added-token split: a token (id >= 0) or text to process further. */
typedef struct {
    size_t start, end;
    int id;
} Piece;
typedef struct {
    Piece *v;
    size_t n, cap;
} PieceVec;

static void pv_push(PieceVec *p, size_t s, size_t e, int id) {
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->v = xrealloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n++] = (Piece){s, e, id};
}

/* tokenizers' AddedVocabulary::find_matches: leftmost-longest non-overlapping matches, with the
 * single_word, lstrip and rstrip rules; special tokens are skipped under TOK_ENC_NO_SPECIAL. */
static void split_added(const Tokenizer *t, const Trie *trie, const char *s, size_t len,
                        unsigned flags, PieceVec *out) {
    out->n = 0;
    size_t start_offset = 0, i = 0;
    while (!trie->empty && i < len) {
        int32_t a;
        size_t ml = trie_longest(trie, s + i, len - i, &a);
        if (!ml) {
            i++;
            continue;
        }
        size_t start = i, stop = i + ml;
        i = stop;
        const AddedTok *tk = &t->added[a];
        if ((flags & TOK_ENC_NO_SPECIAL) && tk->special) continue;
        if (tk->single_word) {
            long before = cp_before(s, start), after = cp_at(s, len, stop);
            int start_space = start == 0 || !(before >= 0 && is_word_char((uint32_t)before));
            int stop_space = stop == len || !(after >= 0 && is_word_char((uint32_t)after));
            if (!start_space || !stop_space) continue;
        }
        if (tk->lstrip) {
            size_t ns = start;
            for (;;) {
                long cp = cp_before(s, ns);
                if (cp < 0 || !is_ws((uint32_t)cp)) break;
                ns--;
                while (ns > 0 && ((uint8_t)s[ns] & 0xC0) == 0x80) ns--;
            }
            start = ns > start_offset ? ns : start_offset;
        }
        if (tk->rstrip) {
            for (;;) {
                long cp = cp_at(s, len, stop);
                if (cp < 0 || !is_ws((uint32_t)cp)) break;
                uint32_t c;
                stop += (size_t)utf8_decode((const uint8_t *)s + stop, len - stop, &c);
            }
        }
        if (start_offset < start) pv_push(out, start_offset, start, -1);
        pv_push(out, start, stop, tk->id);
        start_offset = stop;
    }
    if (start_offset < len || len == 0) pv_push(out, start_offset, len, -1);
}

int tok_encode(const Tokenizer *t, const char *text, size_t len, unsigned flags, IntVec *out,
               Err *err) {
    size_t bad = utf8_valid_prefix(text, len);
    if (bad != len) return err_set(err, "invalid UTF-8 at byte %zu", bad);
    EncCtx c = {0};
    c.use_memo = len > 512;
    PieceVec raw = {0}, norm = {0};
    Buf nt = {0};
    int rc = 0;
    split_added(t, &t->raw_trie, text, len, flags, &raw);
    for (size_t i = 0; i < raw.n && !rc; i++) {
        Piece p = raw.v[i];
        if (p.id >= 0) {
            intvec_push(out, p.id);
            continue;
        }
        const char *seg = text + p.start;
        size_t seg_len = p.end - p.start;
        /* a text that continues a cut one: its first segment is the middle of a segment */
        int cont = (flags & TOK_ENC_CONTINUES) && p.start == 0;
        unsigned sflags = flags & ~(unsigned)TOK_ENC_CONTINUES;
        if (cont && !(flags & TOK_ENC_NO_PREFIX)) sflags |= TOK_ENC_NO_PREFIX | TOK_ENC_TOP_ONLY_;
        if (t->n_norm) {
            buf_clear(&nt);
            if (tok_normalize(t, &c, seg, seg_len, sflags, &nt, err)) {
                rc = -1;
                break;
            }
            seg = nt.data ? nt.data : "";
            seg_len = nt.len;
        }
        split_added(t, &t->norm_trie, seg, seg_len, flags, &norm);
        for (size_t j = 0; j < norm.n; j++) {
            Piece q = norm.v[j];
            if (q.id >= 0) {
                intvec_push(out, q.id);
                continue;
            }
            if (q.end == q.start) continue;
            int first = p.start == 0 && q.start == 0 && !cont;
            unsigned qflags = q.start == 0 ? sflags : flags & ~(unsigned)TOK_ENC_CONTINUES;
            if (tok_encode_segment(t, &c, seg + q.start, q.end - q.start, first, qflags, out, err)) {
                rc = -1;
                break;
            }
        }
    }
    free(raw.v);
    free(norm.v);
    buf_free(&nt);
    encctx_free(&c);
    if (rc) one_line(err);
    return rc;
}

int tok_decode(const Tokenizer *t, const int *ids, size_t n, Buf *out, Err *err) {
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= t->n_vocab)
            return err_set(err, "token id %d out of range (vocabulary size %d)", ids[i],
                           t->n_vocab);
    if (tok_run_decoders(t, ids, n, out, err)) {
        one_line(err);
        return -1;
    }
    return 0;
}

/* ---- accessors ---- */

const char *tok_path(const Tokenizer *t) { return t->path; }
const char *tok_kind(const Tokenizer *t) { return t->kind; }
const char *tok_pretokenizer(const Tokenizer *t) { return t->pre_desc; }
int tok_vocab_size(const Tokenizer *t) { return t->n_vocab; }
int tok_bos(const Tokenizer *t) { return t->bos; }
int tok_eos(const Tokenizer *t) { return t->eos; }

const char *tok_piece(const Tokenizer *t, int id, size_t *len) {
    if (id < 0 || id >= t->n_vocab) {
        if (len) *len = 0;
        return "";
    }
    if (len) *len = t->piece_len[id];
    return t->arena.data + t->piece_off[id];
}

const char *tok_bytes(const Tokenizer *t, int id, size_t *len) {
    if (id < 0 || id >= t->n_vocab) {
        if (len) *len = 0;
        return "";
    }
    if (len) *len = t->bytes_len[id];
    return t->arena.data + t->bytes_off[id];
}

unsigned tok_flags(const Tokenizer *t, int id) {
    return id < 0 || id >= t->n_vocab ? TOK_UNUSED : t->flags[id];
}

int tok_id_of_piece(const Tokenizer *t, const char *piece, size_t len) {
    return tok_find_piece(t, piece, len);
}

int tok_id_of_bytes(const Tokenizer *t, const char *bytes, size_t len) {
    return strmap_get(tok_bytes_map(t), t->arena.data, bytes, len);
}

int tok_same_vocab(const Tokenizer *a, const Tokenizer *b) {
    int n = tok_vocab_size(a);
    if (n != tok_vocab_size(b)) return 0;
    for (int id = 0; id < n; id++) {
        size_t la, lb;
        const char *pa = tok_piece(a, id, &la), *pb = tok_piece(b, id, &lb);
        if (la != lb || memcmp(pa, pb, la) != 0) return 0;
    }
    return 1;
}
