/* tok_stream: encoding a long text in bounded pieces with the ids of the whole (TokStream,
 * tokenizer.h): text is buffered, cut at the last tok_cut point once a piece's worth waits, and
 * each piece is encoded with tok_encode (TOK_ENC_CONTINUES after the first). Built on the public
 * API only. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"

static size_t env_size(const char *name, size_t dflt) {
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    return *end || n == 0 ? dflt : (size_t)n;
}

void tok_stream_init(TokStream *s, const Tokenizer *t, unsigned flags, unsigned how) {
    memset(s, 0, sizeof *s);
    s->t = t;
    s->flags = flags;
    s->how = how;
    s->piece = env_size("COLDTOK_STREAM_PIECE", TOK_STREAM_PIECE);
    s->limit = env_size("COLDTOK_STREAM_LIMIT", TOK_STREAM_LIMIT);
    if (s->limit < s->piece) s->limit = s->piece;
}

void tok_stream_free(TokStream *s) {
    buf_free(&s->text);
    intvec_free(&s->ids);
    memset(s, 0, sizeof *s);
}

/* Encodes text[0..n) (a piece that starts at byte s->at of the whole) and hands it on. */
static int encode_piece(TokStream *s, size_t n, TokPieceFn fn, void *arg, Err *err) {
    const char *p = s->text.data ? s->text.data : "";
    size_t bad = utf8_valid_prefix(p, n);
    if (bad != n) return err_set(err, "invalid UTF-8 at byte %zu", s->at + bad);
    s->ids.n = 0;
    unsigned f = s->flags | (s->at > 0 ? (unsigned)TOK_ENC_CONTINUES : 0u);
    if (tok_encode(s->t, p, n, f, &s->ids, err)) return -1;
    int rc = fn ? fn(arg, p, n, s->at, &s->ids, err) : 0;
    s->at += n;
    s->pieces++;
    if (s->text.len > n) memmove(s->text.data, s->text.data + n, s->text.len - n); /* data may be NULL */
    s->text.len -= n;
    s->scanned = 0;
    return rc;
}

int tok_stream_put(TokStream *s, const char *data, size_t n, TokPieceFn fn, void *arg, Err *err) {
    buf_append(&s->text, data, n);
    while (s->text.len >= s->piece) {
        size_t from = s->scanned > 2 ? s->scanned - 2 : 1;
        size_t b = tok_cut(s->t, s->text.data, s->text.len, from, s->how);
        if (b) {
            int rc = encode_piece(s, b, fn, arg, err);
            if (rc) return rc;
            continue;
        }
        s->scanned = s->text.len;
        if (s->text.len < s->limit) break;
        if (!tok_can_cut(s->t, s->how))
            return err_set(err,
                           "a text longer than %zu bytes: no safe place is known to cut this "
                           "tokenizer's input (%s), so it is encoded whole, up to that limit",
                           s->limit, tok_pretokenizer(s->t));
        return err_set(err,
                       "no place to cut the text between bytes %zu and %zu (a line or word longer "
                       "than the %zu-byte limit of one piece)",
                       s->at, s->at + s->text.len, s->limit);
    }
    return 0;
}

int tok_stream_end(TokStream *s, TokPieceFn fn, void *arg, Err *err) {
    if (!s->text.len && s->at > 0) return 0;
    return encode_piece(s, s->text.len, fn, arg, err);
}
