/* tok_decode: the decoders, each doing what the Hugging Face tokenizers library's does
 * (tokenizers/src/decoders), over the list of token strings; and, with the same steps in a
 * raw-bytes mode, what one piece stands for in text (tok_bytes). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"

/* ---- decoders: a list of strings, rewritten step by step ---- */

typedef struct {
    Buf text;
    size_t *off, *len;
    size_t n, cap;
} StrList;

static void sl_push(StrList *l, const char *s, size_t n) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->off = xrealloc(l->off, l->cap * sizeof *l->off);
        l->len = xrealloc(l->len, l->cap * sizeof *l->len);
    }
    l->off[l->n] = l->text.len;
    buf_append(&l->text, s, n);
    l->len[l->n++] = n;
}

/* Starts a string that the caller appends to l->text, then closes with sl_close. */
static void sl_open(StrList *l) { sl_push(l, "", 0); }
static void sl_close(StrList *l) { l->len[l->n - 1] = l->text.len - l->off[l->n - 1]; }

static void sl_free(StrList *l) {
    buf_free(&l->text);
    free(l->off);
    free(l->len);
    memset(l, 0, sizeof *l);
}

static void sl_clear(StrList *l) {
    buf_clear(&l->text);
    l->n = 0;
}

/* "<0xNN>" -> the byte, or -1. */
static int byte_token(const char *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char ch = s[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0'
            : ch >= 'A' && ch <= 'F'   ? ch - 'A' + 10
            : ch >= 'a' && ch <= 'f'   ? ch - 'a' + 10
                                       : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Rust's String::from_utf8_lossy: invalid sequences become U+FFFD. */
static void utf8_lossy(const char *s, size_t len, Buf *out) {
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        int n = utf8_decode(u + i, len - i, &cp);
        if (n) {
            buf_append(out, s + i, (size_t)n);
            i += (size_t)n;
            continue;
        }
        /* one U+FFFD per maximal subpart of a valid sequence (Unicode 3.9, as Rust does) */
        uint8_t c0 = u[i];
        size_t need = c0 >= 0xC2 && c0 <= 0xDF ? 1
            : c0 >= 0xE0 && c0 <= 0xEF         ? 2
            : c0 >= 0xF0 && c0 <= 0xF4         ? 3
                                               : 0;
        size_t k = 1;
        if (need && i + 1 < len) {
            uint8_t lo = 0x80, hi = 0xBF, c1 = u[i + 1];
            if (c0 == 0xE0)
                lo = 0xA0;
            else if (c0 == 0xED)
                hi = 0x9F;
            else if (c0 == 0xF0)
                lo = 0x90;
            else if (c0 == 0xF4)
                hi = 0x8F;
            if (c1 >= lo && c1 <= hi) {
                k = 2;
                while (k <= need && i + k < len && (u[i + k] & 0xC0) == 0x80) k++;
            }
        }
        buf_append(out, "\xEF\xBF\xBD", 3);
        i += k;
    }
}

/* The byte each two-byte GPT-2 character stands for, by its code point less 0x80 (lead bytes C2..C5
 * are U+0080..U+017F), or -1: tok_cp_to_byte's answers, tabled once. Every GPT-2 character is
 * printable ASCII or one of these, so only those are decoded; any other character, or a broken
 * sequence, is no byte (as utf8_decode + tok_cp_to_byte say). A load decodes every piece of a
 * byte-level vocabulary (a million characters for Qwen3): a table lookup, not a chain of range
 * tests behind a call. */
static int16_t two_byte[256];
static pthread_once_t two_byte_once = PTHREAD_ONCE_INIT;
static void two_byte_init(void) {
    for (int i = 0; i < 256; i++) two_byte[i] = (int16_t)tok_cp_to_byte(0x80u + (uint32_t)i);
}

size_t tok_byte_level_bytes(const char *str, size_t n, char *out) {
    pthread_once(&two_byte_once, two_byte_init);
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, k = 0;
    while (i < n) {
        const unsigned c = s[i];
        if (c - 0x21u <= 0x7Eu - 0x21u) { /* printable ASCII: itself */
            out[k++] = (char)c;
            i++;
            continue;
        }
        int b = -1;
        if (c - 0xC2u <= 3u && i + 1 < n && (s[i + 1] & 0xC0) == 0x80)
            b = two_byte[(((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu)) - 0x80u];
        if (b < 0) { /* not a byte-level string: keep it as it is */
            memcpy(out, s, n);
            return n;
        }
        out[k++] = (char)b;
        i += 2;
    }
    return k;
}

static void byte_level_decode(const char *s, size_t n, Buf *out) {
    buf_reserve(out, n); /* never longer than the piece */
    out->len += tok_byte_level_bytes(s, n, out->data + out->len);
    out->data[out->len] = '\0';
}

/* One decoder step over list in, into list out. raw: a single token in the middle of a text,
 * wanting its bytes (no U+FFFD, no stripping), for tok_bytes. */
static int dec_step(const DecStep *st, EncCtx *c, StrList *in, StrList *out, int raw, Err *err) {
    sl_clear(out);
    switch (st->kind) {
    case DEC_BYTELEVEL: {
        Buf bytes = {0};
        for (size_t i = 0; i < in->n; i++)
            byte_level_decode(in->text.data + in->off[i], in->len[i], &bytes);
        sl_open(out);
        if (raw)
            buf_append(&out->text, bytes.data ? bytes.data : "", bytes.len);
        else
            utf8_lossy(bytes.data ? bytes.data : "", bytes.len, &out->text);
        sl_close(out);
        buf_free(&bytes);
        break;
    }
    case DEC_METASPACE:
        for (size_t i = 0; i < in->n; i++) {
            const char *s = in->text.data + in->off[i];
            size_t n = in->len[i], j = 0;
            sl_open(out);
            while (j < n) {
                uint32_t cp;
                int m = utf8_decode((const uint8_t *)s + j, n - j, &cp);
                if (!m) m = 1, cp = 0xFFFFFFFF;
                if (cp == st->repl_cp) {
                    if (raw || i != 0 || st->prepend == PREPEND_NEVER) buf_putc(&out->text, ' ');
                } else {
                    buf_append(&out->text, s + j, (size_t)m);
                }
                j += (size_t)m;
            }
            sl_close(out);
        }
        break;
    case DEC_REPLACE:
        for (size_t i = 0; i < in->n; i++) {
            sl_open(out);
            if (pattern_replace(&st->pat, c, in->text.data + in->off[i], in->len[i], st->content,
                                st->content_len, &out->text, err))
                return -1;
            sl_close(out);
        }
        break;
    case DEC_BYTEFALLBACK: {
        Buf pend = {0};
        for (size_t i = 0; i <= in->n; i++) {
            int b = i < in->n ? byte_token(in->text.data + in->off[i], in->len[i]) : -1;
            if (b >= 0) {
                buf_putc(&pend, (char)b);
                continue;
            }
            if (pend.len) {
                if (raw || utf8_valid_prefix(pend.data, pend.len) == pend.len) {
                    sl_push(out, pend.data, pend.len);
                } else {
                    for (size_t k = 0; k < pend.len; k++) sl_push(out, "\xEF\xBF\xBD", 3);
                }
                buf_clear(&pend);
            }
            if (i < in->n) sl_push(out, in->text.data + in->off[i], in->len[i]);
        }
        buf_free(&pend);
        break;
    }
    case DEC_FUSE:
        sl_open(out);
        for (size_t i = 0; i < in->n; i++)
            buf_append(&out->text, in->text.data + in->off[i], in->len[i]);
        sl_close(out);
        break;
    case DEC_STRIP:
        for (size_t i = 0; i < in->n; i++) {
            const char *s = in->text.data + in->off[i];
            size_t n = in->len[i], a = 0, b = n;
            if (!raw) {
                char enc[4];
                int el = utf8_encode(st->strip_cp, enc);
                for (int k = 0;
                     k < st->start && a + (size_t)el <= b && !memcmp(s + a, enc, (size_t)el); k++)
                    a += (size_t)el;
                for (int k = 0;
                     k < st->stop && b >= a + (size_t)el && !memcmp(s + b - el, enc, (size_t)el);
                     k++)
                    b -= (size_t)el;
            }
            sl_push(out, s + a, b - a);
        }
        break;
    }
    return 0;
}

/* The string a token id contributes to decoding: an added token's content or the model piece. */
static void token_string(const Tokenizer *t, int id, const char **s, size_t *n) {
    *s = t->arena.data + t->piece_off[id];
    *n = t->piece_len[id];
    if (t->flags[id] & TOK_ADDED) { /* the content (which is also what piece holds for them) */
        *s = t->arena.data + t->bytes_off[id];
        *n = t->bytes_len[id];
    }
}

/* The decoder chain over ids[0..n); strip = 0 leaves Strip steps out (a run that does not begin
 * the text). */
static int decode_run(const Tokenizer *t, const int *ids, size_t n, int strip, Buf *out, Err *err) {
    StrList a = {0}, b = {0};
    EncCtx c = {0};
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        token_string(t, ids[i], &s, &len);
        sl_push(&a, s, len);
    }
    if (!t->has_decoder) { /* tokenizers joins the tokens with spaces */
        for (size_t i = 0; i < a.n; i++) {
            if (i) buf_putc(out, ' ');
            buf_append(out, a.text.data + a.off[i], a.len[i]);
        }
        goto done;
    }
    for (int k = 0; k < t->n_dec; k++) {
        if (!strip && t->dec[k].kind == DEC_STRIP) continue;
        if (dec_step(&t->dec[k], &c, &a, &b, 0, err)) {
            rc = -1;
            goto done;
        }
        StrList tmp = a;
        a = b;
        b = tmp;
    }
    for (size_t i = 0; i < a.n; i++) buf_append(out, a.text.data + a.off[i], a.len[i]);
done:
    sl_free(&a);
    sl_free(&b);
    encctx_free(&c);
    return rc;
}

int tok_run_decoders(const Tokenizer *t, const int *ids, size_t n, Buf *out, Err *err) {
    if (!t->added_raw) return decode_run(t, ids, n, 1, out, err);
    size_t i = 0;
    while (i < n) {
        if (t->flags[ids[i]] & TOK_ADDED) {
            buf_append(out, t->arena.data + t->bytes_off[ids[i]], t->bytes_len[ids[i]]);
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && !(t->flags[ids[j]] & TOK_ADDED)) j++;
        if (decode_run(t, ids + i, j - i, i == 0, out, err)) return -1;
        i = j;
    }
    return 0;
}

void tok_piece_bytes(const Tokenizer *t, const char *piece, size_t len, int is_byte_token,
                     Buf *out) {
    int b = is_byte_token ? byte_token(piece, len) : -1;
    if (b >= 0) {
        buf_putc(out, (char)b);
        return;
    }
    if (t->byte_level) {
        byte_level_decode(piece, len, out);
        return;
    }
    StrList x = {0}, y = {0};
    EncCtx c = {0};
    sl_push(&x, piece, len);
    for (int k = 0; k < t->n_dec; k++) {
        if (t->dec[k].kind == DEC_BYTEFALLBACK || t->dec[k].kind == DEC_BYTELEVEL) continue;
        if (dec_step(&t->dec[k], &c, &x, &y, 1, NULL)) break;
        StrList tmp = x;
        x = y;
        y = tmp;
    }
    for (size_t i = 0; i < x.n; i++) buf_append(out, x.text.data + x.off[i], x.len[i]);
    sl_free(&x);
    sl_free(&y);
    encctx_free(&c);
}
