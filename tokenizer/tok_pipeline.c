/* tok_pipeline: patterns, normalizers and pre-tokenizers, each doing what the Hugging Face
 * tokenizers library does (tokenizers/src/{normalizers,pre_tokenizers}), on plain byte strings: we
 * need the ids, not the offsets, so no alignment tracking. (The decoders: tok_decode.c.)
 *
 * Regexes are compiled with Oniguruma's own syntax (ONIG_SYNTAX_ONIGURUMA, the default syntax of
 * Oniguruma 6.9 and so of the Rust onig crate's Regex::new that tokenizers uses), UTF-8, no options,
 * and iterated the way onig's find_iter does (an empty match right after a match is skipped). */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <utf8proc.h>

#include "tokenizer/tok_internal.h"

static int utf8_len_at(const char *s, size_t len, size_t i) {
    uint32_t cp;
    int n = utf8_decode((const uint8_t *)s + i, len - i, &cp);
    return n ? n : 1;
}

/* ---- patterns ---- */

int pattern_init(Pattern *p, int is_regex, const char *s, size_t len, Err *err) {
    memset(p, 0, sizeof *p);
    p->is_regex = is_regex;
    p->src = xstrndup(s, len);
    p->src_len = len;
    if (!is_regex && len > 0) {
        p->lit = xstrndup(s, len);
        p->lit_len = len;
        return 0;
    }
    /* a regex, or the empty literal (which, escaped, is the empty regex) */
    OnigEncoding enc = ONIG_ENCODING_UTF8;
    onig_initialize(&enc, 1); /* idempotent */
    OnigErrorInfo einfo;
    int r = onig_new(&p->re, (const OnigUChar *)s, (const OnigUChar *)s + len, ONIG_OPTION_NONE,
                     ONIG_ENCODING_UTF8, ONIG_SYNTAX_ONIGURUMA, &einfo);
    if (r != ONIG_NORMAL) {
        OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
        onig_error_code_to_str(msg, r, &einfo);
        p->re = NULL;
        free(p->src);
        p->src = NULL;
        char sh[256];
        return err_set(err, "bad regex \"%s\": %s", tok_shown(s, len, sh, sizeof sh), (char *)msg);
    }
    return 0;
}

void pattern_free(Pattern *p) {
    if (p->re) onig_free(p->re);
    free(p->lit);
    free(p->src);
    memset(p, 0, sizeof *p);
}

/* The cost bound of one text. Oniguruma backtracks without bound on its own: a hostile Split regex
 * such as (.*a){25} took 14 s on 424 bytes, and its cost grows faster than the square of the text.
 * Every text a pattern runs over gets, for all its searches together,
 *   - a retry budget (retries are Oniguruma's unit of backtracking): RE_RETRIES_BASE +
 *     RE_RETRIES_PER_BYTE x its length. Oniguruma cannot tell how much of a limit a search used,
 *     so each search first runs under RE_FIRST_LIMIT retries, which is not charged (a text has at
 *     most two searches per byte, so these cost at most 2 x RE_FIRST_LIMIT per byte), and while
 *     its limit runs out it is run again under RE_GROWTH x that, charged every limit it ran under (at
 *     most 10x what it really used);
 *   - a CPU-time budget, RE_SECONDS_BASE + RE_SECONDS_PER_BYTE x its length, because one retry
 *     can cost a scan of the rest of the text: checked when a search's limit runs out and every
 *     RE_CLOCK_EVERY searches, so that cheap patterns seldom read the clock.
 * A pattern that goes past either fails with one line naming it. The tokenizers of real models use
 * under 30 retries per byte and seldom run a search twice (docs/tokenizers.md). */
#define RE_RETRIES_BASE 100000UL
#define RE_RETRIES_PER_BYTE 1000UL
#define RE_FIRST_LIMIT 1024UL
#define RE_GROWTH 8
#define RE_SECONDS_BASE 0.1
#define RE_SECONDS_PER_BYTE 20e-6 /* ~250x what real tokenizers take, ~25x under ASan */
#define RE_CLOCK_EVERY 256

typedef struct {
    unsigned long retries;  /* left */
    double seconds, start; /* allowed; thread CPU time at the first check (0: not read yet) */
    size_t searches;
} ReBudget;

static double thread_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Whether the text's time is up (the clock starts at the first check). */
static int time_is_up(ReBudget *b) {
    double t = thread_cpu_seconds();
    if (b->start == 0) b->start = t;
    return t - b->start > b->seconds;
}

static int is_out_of_retries(int r) {
    return r == ONIGERR_RETRY_LIMIT_IN_SEARCH_OVER || r == ONIGERR_RETRY_LIMIT_IN_MATCH_OVER;
}

/* One onig_search from `from`, within budget b; ONIGERR_RETRY_LIMIT_IN_SEARCH_OVER when it is
 * spent. */
static int bounded_search(const Pattern *p, EncCtx *c, const OnigUChar *u, size_t len, size_t from,
                          ReBudget *b) {
    if (!c->mparam) c->mparam = onig_new_match_param();
    if (++b->searches % RE_CLOCK_EVERY == 0 && time_is_up(b))
        return ONIGERR_RETRY_LIMIT_IN_SEARCH_OVER;
    unsigned long limit = RE_FIRST_LIMIT;
    for (int first = 1;; first = 0) {
        if (!first && limit > b->retries) limit = b->retries;
        if (limit == 0) return ONIGERR_RETRY_LIMIT_IN_SEARCH_OVER;
        onig_set_retry_limit_in_search_of_match_param(c->mparam, limit);
        int r = onig_search_with_param(p->re, u, u + len, u + from, u + len, c->region,
                                       ONIG_OPTION_NONE, c->mparam);
        int ran_out = is_out_of_retries(r);
        if (ran_out || !first) b->retries -= limit < b->retries ? limit : b->retries;
        if (!ran_out) return r;
        if (time_is_up(b)) return ONIGERR_RETRY_LIMIT_IN_SEARCH_OVER;
        limit *= RE_GROWTH;
    }
}

static void mv_push(MatchVec *m, size_t s, size_t e, int is_match) {
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 32;
        m->v = xrealloc(m->v, m->cap * sizeof *m->v);
    }
    m->v[m->n++] = (Match){s, e, is_match};
}

int pattern_matches(const Pattern *p, EncCtx *c, const char *s, size_t len, MatchVec *out,
                    Err *err) {
    out->n = 0;
    if (len == 0) {
        mv_push(out, 0, 0, 0);
        return 0;
    }
    size_t prev = 0;
    if (!p->re) {
        size_t i = 0;
        while (i + p->lit_len <= len) {
            const char *f = memmem(s + i, len - i, p->lit, p->lit_len);
            if (!f) break;
            size_t st = (size_t)(f - s);
            if (prev != st) mv_push(out, prev, st, 0);
            mv_push(out, st, st + p->lit_len, 1);
            prev = i = st + p->lit_len;
        }
    } else {
        if (!c->region) c->region = onig_region_new();
        const OnigUChar *u = (const OnigUChar *)s;
        size_t last_end = 0;
        int skip_empty = 0;
        ReBudget b = {RE_RETRIES_BASE + RE_RETRIES_PER_BYTE * len,
                      RE_SECONDS_BASE + RE_SECONDS_PER_BYTE * (double)len, 0, 0};
        while (last_end <= len) {
            int r = bounded_search(p, c, u, len, last_end, &b);
            if (r == ONIG_MISMATCH) break;
            if (is_out_of_retries(r)) {
                char sh[256];
                return err_set(err,
                               "regex \"%s\" is too costly: it backtracks past its budget for a "
                               "%zu-byte text (%lu retries, %.2f s of CPU; docs/tokenizers.md)",
                               tok_shown(p->src, p->src_len, sh, sizeof sh), len,
                               RE_RETRIES_BASE + RE_RETRIES_PER_BYTE * len,
                               RE_SECONDS_BASE + RE_SECONDS_PER_BYTE * (double)len);
            }
            if (r < 0) {
                OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
                onig_error_code_to_str(msg, r);
                return err_set(err, "regex search failed: %s", (char *)msg);
            }
            size_t st = (size_t)c->region->beg[0], en = (size_t)c->region->end[0];
            last_end = en;
            if (en == st) {
                last_end += last_end < len ? (size_t)utf8_len_at(s, len, last_end) : 1;
                if (skip_empty) {
                    skip_empty = 0;
                    continue;
                }
            } else {
                skip_empty = 1;
            }
            if (prev != st) mv_push(out, prev, st, 0);
            mv_push(out, st, en, 1);
            prev = en;
        }
    }
    if (prev != len) mv_push(out, prev, len, 0);
    return 0;
}

/* ---- normalizers ---- */

/* Rust's char::is_whitespace: the Unicode White_Space property. */
static int is_white_space(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
        (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
        cp == 0x205F || cp == 0x3000;
}

static int unicode_form_chunk(int kind, const char *in, size_t len, Buf *out, Err *err) {
    int opt = UTF8PROC_STABLE;
    if (kind == NORM_NFC || kind == NORM_NFKC)
        opt |= UTF8PROC_COMPOSE;
    else
        opt |= UTF8PROC_DECOMPOSE;
    if (kind == NORM_NFKC || kind == NORM_NFKD) opt |= UTF8PROC_COMPAT;
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)len, &dst,
                                      (utf8proc_option_t)opt);
    if (n < 0) return err_set(err, "unicode normalization failed: %s", utf8proc_errmsg(n));
    buf_append(out, dst, (size_t)n);
    free(dst);
    return 0;
}

/* NFC/NFKC/NFD/NFKD. An ASCII character is its own normal form, never composes with what
 * precedes it and blocks reordering, so the text normalizes piecewise: ASCII runs are copied, and
 * each non-ASCII run is normalized together with the one character before it (which a combining
 * mark may compose with). Source code is mostly ASCII, so this is mostly memcpy. */
static int unicode_form(int kind, const char *in, size_t len, Buf *out, Err *err) {
    size_t i = 0;
    while (i < len) {
        size_t a = i;
        while (i < len && (uint8_t)in[i] < 0x80) i++;
        if (i == len) {
            buf_append(out, in + a, i - a);
            break;
        }
        size_t start = i > a ? i - 1 : i; /* the ASCII character before the run, if any */
        buf_append(out, in + a, start - a);
        while (i < len && (uint8_t)in[i] >= 0x80) i++;
        if (unicode_form_chunk(kind, in + start, i - start, out, err)) return -1;
    }
    return 0;
}

static void lowercase(const char *in, size_t len, Buf *out) {
    size_t i = 0;
    while (i < len) {
        uint8_t ch = (uint8_t)in[i];
        if (ch < 0x80) {
            buf_putc(out, (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch));
            i++;
            continue;
        }
        uint32_t cp;
        int n = utf8_decode((const uint8_t *)in + i, len - i, &cp);
        if (!n) { /* cannot happen on validated text; keep the byte */
            buf_putc(out, (char)ch);
            i++;
            continue;
        }
        char enc[8];
        if (cp == 0x130) { /* the one unconditional multi-char lowercase mapping: İ -> i̇ */
            buf_append(out, "i\xCC\x87", 3);
        } else {
            int m = utf8_encode((uint32_t)utf8proc_tolower((utf8proc_int32_t)cp), enc);
            buf_append(out, enc, (size_t)m);
        }
        i += (size_t)n;
    }
}

int pattern_replace(const Pattern *p, EncCtx *c, const char *in, size_t len, const char *with,
                    size_t wlen, Buf *out, Err *err) {
    MatchVec m = {0};
    if (pattern_matches(p, c, in, len, &m, err)) {
        free(m.v);
        return -1;
    }
    for (size_t i = 0; i < m.n; i++) {
        if (m.v[i].is_match)
            buf_append(out, with, wlen);
        else
            buf_append(out, in + m.v[i].start, m.v[i].end - m.v[i].start);
    }
    free(m.v);
    return 0;
}

static void strip(const char *in, size_t len, int left, int right, Buf *out) {
    size_t a = 0, b = len;
    uint32_t cp;
    if (left)
        while (a < b) {
            int n = utf8_decode((const uint8_t *)in + a, b - a, &cp);
            if (!n || !is_white_space(cp)) break;
            a += (size_t)n;
        }
    if (right)
        while (b > a) {
            size_t k = b - 1;
            while (k > a && ((uint8_t)in[k] & 0xC0) == 0x80) k--;
            int n = utf8_decode((const uint8_t *)in + k, b - k, &cp);
            if (!n || !is_white_space(cp)) break;
            b = k;
        }
    buf_append(out, in + a, b - a);
}

int tok_normalize(const Tokenizer *t, EncCtx *c, const char *in, size_t len, unsigned flags,
                  Buf *out, Err *err) {
    Buf cur = {0}, nxt = {0};
    buf_append(&cur, in, len);
    for (int i = 0; i < t->n_norm; i++) {
        const NormStep *st = &t->norm[i];
        buf_clear(&nxt);
        switch (st->kind) {
        case NORM_NFC:
        case NORM_NFKC:
        case NORM_NFD:
        case NORM_NFKD:
            if (unicode_form(st->kind, cur.data, cur.len, &nxt, err)) goto fail;
            break;
        case NORM_LOWER: lowercase(cur.data, cur.len, &nxt); break;
        case NORM_PREPEND:
            if (cur.len && !(flags & TOK_ENC_NO_PREFIX)) buf_append(&nxt, st->str, st->len);
            buf_append(&nxt, cur.data, cur.len);
            break;
        case NORM_REPLACE:
            if (pattern_replace(&st->pat, c, cur.data, cur.len, st->str, st->len, &nxt, err))
                goto fail;
            break;
        case NORM_STRIP: strip(cur.data, cur.len, st->left, st->right, &nxt); break;
        }
        Buf tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    buf_append(out, cur.data ? cur.data : "", cur.len);
    buf_free(&cur);
    buf_free(&nxt);
    return 0;
fail:
    buf_free(&cur);
    buf_free(&nxt);
    return -1;
}

/* ---- pre-tokenizers ----
 * Run depth first: a span goes through step k, each piece it yields through step k+1 and so on,
 * down to the model. What a span becomes depends only on its text (the one exception, Metaspace
 * "first", concerns only the span at offset 0), so on longer inputs short spans are memoized per
 * step: source code repeats its words, and Oniguruma costs a malloc and a stack copy per search. */

#define MEMO_MAX 64 /* longest span (bytes) worth remembering */

/* Folds the match list of a span into pieces [start, end) as SplitDelimiterBehavior does, in
 * place; returns the number of pieces (empty ones included, the caller skips them). */
static size_t fold_behavior(Match *m, size_t n, int behavior, int invert) {
    if (invert)
        for (size_t i = 0; i < n; i++) m[i].is_match = !m[i].is_match;
    size_t out = 0;
    int prev_match = 0;
    switch (behavior) {
    case B_REMOVED:
        for (size_t i = 0; i < n; i++)
            if (!m[i].is_match) m[out++] = m[i];
        break;
    case B_ISOLATED: out = n; break;
    case B_CONTIGUOUS:
        for (size_t i = 0; i < n; i++) {
            if (m[i].is_match == prev_match && out)
                m[out - 1].end = m[i].end;
            else
                m[out++] = m[i];
            prev_match = m[i].is_match;
        }
        break;
    case B_MERGED_PREV:
        for (size_t i = 0; i < n; i++) {
            if (m[i].is_match && !prev_match && out)
                m[out - 1].end = m[i].end;
            else
                m[out++] = m[i];
            prev_match = m[i].is_match;
        }
        break;
    case B_MERGED_NEXT: { /* walks backwards, compacting towards the end, then moves down */
        size_t w = n;
        for (size_t i = n; i-- > 0;) {
            if (m[i].is_match && !prev_match && w < n)
                m[w].start = m[i].start;
            else
                m[--w] = m[i];
            prev_match = m[i].is_match;
        }
        memmove(m, m + w, (n - w) * sizeof *m);
        out = n - w;
        break;
    }
    }
    return out;
}

/* GPT-2's byte-to-character map: every byte becomes one or two UTF-8 bytes. */
static void byte_level_map(const char *in, size_t n, Buf *out) {
    if (out->len + 2 * n + 1 > out->cap) {
        size_t cap = out->cap ? out->cap : 64;
        while (cap < out->len + 2 * n + 1) cap *= 2;
        out->data = xrealloc(out->data, cap);
        out->cap = cap;
    }
    char *w = out->data + out->len;
    for (size_t j = 0; j < n; j++) {
        uint16_t cp = tok_byte_to_cp[(uint8_t)in[j]];
        if (cp < 0x80) {
            *w++ = (char)cp;
        } else { /* the whole table is below U+0800: two bytes */
            *w++ = (char)(0xC0 | (cp >> 6));
            *w++ = (char)(0x80 | (cp & 0x3F));
        }
    }
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
}

static int memo_get(EncCtx *c, int k, const char *s, size_t n, IntVec *out) {
    int v = strmap_get(&c->memo[k], c->memo_keys.data, s, n);
    if (v < 0) return 0;
    int cnt = c->memo_ids.v[v];
    for (int i = 0; i < cnt; i++) intvec_push(out, c->memo_ids.v[v + 1 + i]);
    return 1;
}

static void memo_put(EncCtx *c, int k, const char *s, size_t n, const IntVec *out, size_t from) {
    if (c->memo_keys.len + n >= (size_t)1 << 31 || c->memo_ids.n >= (size_t)1 << 30)
        return; /* offsets are 32-bit */
    uint32_t off = (uint32_t)c->memo_keys.len;
    buf_append(&c->memo_keys, s, n);
    int at = (int)c->memo_ids.n;
    intvec_push(&c->memo_ids, (int)(out->n - from));
    for (size_t i = from; i < out->n; i++) intvec_push(&c->memo_ids, out->v[i]);
    strmap_add(&c->memo[k], c->memo_keys.data, off, (uint32_t)n, at);
}

static void ensure_depth(EncCtx *c, int depth) {
    if (c->depth >= depth) return;
    c->mv = xrealloc(c->mv, (size_t)depth * sizeof *c->mv);
    c->tb = xrealloc(c->tb, (size_t)depth * sizeof *c->tb);
    c->mb = xrealloc(c->mb, (size_t)depth * sizeof *c->mb);
    c->memo = xrealloc(c->memo, (size_t)depth * sizeof *c->memo);
    for (int k = c->depth; k < depth; k++) {
        memset(&c->mv[k], 0, sizeof c->mv[k]);
        memset(&c->tb[k], 0, sizeof c->tb[k]);
        memset(&c->mb[k], 0, sizeof c->mb[k]);
        memset(&c->memo[k], 0, sizeof c->memo[k]);
        if (c->use_memo) strmap_init(&c->memo[k], 256);
    }
    c->depth = depth;
}

static int model_word_memo(const Tokenizer *t, EncCtx *c, const char *w, size_t n, IntVec *out,
                           Err *err) {
    int memo = c->use_memo && n <= MEMO_MAX;
    if (memo && memo_get(c, t->n_pre, w, n, out)) return 0;
    size_t before = out->n;
    if (tok_model_word(t, c, w, n, out, err)) return -1;
    if (memo) memo_put(c, t->n_pre, w, n, out, before);
    return 0;
}

/* The model over one pre-token; a long SentencePiece-style word is cut before each "▁" that
 * follows another character when no merge can cross such a point (see meta_split). */
static int model_span(const Tokenizer *t, EncCtx *c, const char *w, size_t n, IntVec *out,
                      Err *err) {
    size_t a = 0;
    if (t->meta_split && n > MEMO_MAX)
        for (size_t j = 1; j + 3 <= n; j++)
            if (!memcmp(w + j, "\xE2\x96\x81", 3) &&
                !(j >= 3 && !memcmp(w + j - 3, "\xE2\x96\x81", 3))) {
                if (model_word_memo(t, c, w + a, j - a, out, err)) return -1;
                a = j;
            }
    return model_word_memo(t, c, w + a, n - a, out, err);
}

static int run_from(const Tokenizer *t, EncCtx *c, int k, const char *s, size_t len, int first,
                    unsigned flags, IntVec *out, Err *err);

/* Runs the pieces m[0..np) of text base through step k + 1 on. */
static int run_pieces(const Tokenizer *t, EncCtx *c, int k, const char *base, const Match *m,
                      size_t np, int first, unsigned flags, IntVec *out, Err *err) {
    for (size_t i = 0; i < np; i++) {
        if (m[i].end == m[i].start) continue; /* tokenizers drops empty splits */
        if (run_from(t, c, k + 1, base + m[i].start, m[i].end - m[i].start,
                     first && m[i].start == 0, flags, out, err))
            return -1;
    }
    return 0;
}

static int run_step(const Tokenizer *t, EncCtx *c, int k, const char *s, size_t len, int first,
                    unsigned flags, IntVec *out, Err *err) {
    const PreStep *st = &t->pre[k];
    MatchVec *m = &c->mv[k];
    Buf *tb = &c->tb[k], *mb = &c->mb[k];
    switch (st->kind) {
    case PRE_SPLIT: {
        if (pattern_matches(&st->pat, c, s, len, m, err)) return -1;
        size_t np = fold_behavior(m->v, m->n, st->behavior, st->invert);
        return run_pieces(t, c, k, s, m->v, np, first, flags, out, err);
    }
    case PRE_BYTELEVEL: {
        const char *cur = s;
        size_t n = len;
        if (st->add_prefix_space && !(flags & TOK_ENC_NO_PREFIX) && s[0] != ' ') {
            buf_clear(tb);
            buf_putc(tb, ' ');
            buf_append(tb, s, len);
            cur = tb->data;
            n = tb->len;
        }
        size_t np = 1;
        if (st->use_regex) {
            if (pattern_matches(&st->pat, c, cur, n, m, err)) return -1;
            np = fold_behavior(m->v, m->n, B_ISOLATED, 0);
        } else {
            m->n = 0;
            if (!m->cap) {
                m->cap = 8;
                m->v = xmalloc(m->cap * sizeof *m->v);
            }
            m->v[0] = (Match){0, n, 0};
        }
        for (size_t i = 0; i < np; i++) {
            Match p = m->v[i];
            if (p.end == p.start) continue;
            buf_clear(mb);
            byte_level_map(cur + p.start, p.end - p.start, mb);
            if (run_from(t, c, k + 1, mb->data, mb->len, first && p.start == 0, flags, out, err))
                return -1;
        }
        return 0;
    }
    case PRE_METASPACE: {
        buf_clear(tb);
        int starts = len >= (size_t)st->repl_len && !memcmp(s, st->repl, (size_t)st->repl_len);
        int prepend = !(flags & TOK_ENC_NO_PREFIX) && s[0] != ' ' && !starts &&
            (st->prepend == PREPEND_ALWAYS || (st->prepend == PREPEND_FIRST && first));
        if (prepend) buf_append(tb, st->repl, (size_t)st->repl_len);
        for (size_t j = 0; j < len; j++) {
            if (s[j] == ' ')
                buf_append(tb, st->repl, (size_t)st->repl_len);
            else
                buf_putc(tb, s[j]);
        }
        if (!st->split) return run_from(t, c, k + 1, tb->data, tb->len, first, flags, out, err);
        if (pattern_matches(&st->pat, c, tb->data, tb->len, m, err)) return -1;
        size_t np = fold_behavior(m->v, m->n, B_MERGED_NEXT, 0);
        return run_pieces(t, c, k, tb->data, m->v, np, first, flags, out, err);
    }
    }
    return 0;
}

static int run_from(const Tokenizer *t, EncCtx *c, int k, const char *s, size_t len, int first,
                    unsigned flags, IntVec *out, Err *err) {
    if (k == t->n_pre) return model_span(t, c, s, len, out, err);
    int top_only = (flags & TOK_ENC_TOP_ONLY_) != 0;
    if (top_only && k > 0) { /* the continued segment's pieces are ordinary pieces */
        flags &= ~(TOK_ENC_TOP_ONLY_ | TOK_ENC_NO_PREFIX);
        top_only = 0;
    }
    int memo = c->use_memo && !first && !top_only && len <= MEMO_MAX;
    if (memo && memo_get(c, k, s, len, out)) return 0;
    size_t before = out->n;
    if (run_step(t, c, k, s, len, first, flags, out, err)) return -1;
    if (memo) memo_put(c, k, s, len, out, before);
    return 0;
}

/* Pre-tokenizes one segment of text (no added tokens in it) and runs the model over it. */
int tok_encode_segment(const Tokenizer *t, EncCtx *c, const char *s, size_t len, int first,
                       unsigned flags, IntVec *out, Err *err) {
    ensure_depth(c, t->n_pre + 1);
    return run_from(t, c, 0, s, len, first, flags, out, err);
}

void encctx_free(EncCtx *c) {
    if (c->region) onig_region_free(c->region, 1);
    if (c->mparam) onig_free_match_param(c->mparam);
    for (int k = 0; k < c->depth; k++) {
        free(c->mv[k].v);
        buf_free(&c->tb[k]);
        buf_free(&c->mb[k]);
        strmap_free(&c->memo[k]);
    }
    free(c->mv);
    free(c->tb);
    free(c->mb);
    free(c->memo);
    buf_free(&c->memo_keys);
    intvec_free(&c->memo_ids);
    free(c->sym);
    free(c->prev);
    free(c->next);
    free(c->dead);
    free(c->heap);
    buf_free(&c->word);
    memset(c, 0, sizeof *c);
}
