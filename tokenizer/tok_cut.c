/* tok_cut: where a long text may be cut so that its pieces, encoded one after the other, give the
 * ids of the whole (tokenizer.h; the stream that uses them: tok_stream.c).
 *
 * A cut point b of a text s is a place where the pipeline never reaches across: encoding s[0..b)
 * and then s[b..) with TOK_ENC_CONTINUES gives the ids of s. Which places are safe depends on the
 * pipeline; tok_prepare_cuts works it out once per tokenizer (docs/tokenizers.md, "Streaming"):
 *
 *   CUT_NL   s[b-1] = '\n', s[b] printable ASCII (not a blank). The Llama 3 / Qwen2 / DeepSeek-V3
 *            split regexes: every alternative that can hold '\n' ends in blanks or [\r\n]*, and
 *            the blank runs ending in '\n' are taken whole by \s*[\r\n]+ before \s+(?!\S) is
 *            tried, so no match crosses b and none ending at b depends on s[b].
 *   CUT_NL2  CUT_NL and s[b-2] printable ASCII: GPT-2's regex, where \s+(?!\S) would cut a blank
 *            run before its last blank (so "  \nx" splits as "  ", "\n" but, cut, as "  \n").
 *   CUT_NLX  s[b-1] = '\n', s[b] ASCII: a first split "[\r\n]" (DeepSeek Coder, DeepSeek LLM)
 *            isolates every line break.
 *   CUT_SP   s[b-1] printable ASCII, s[b] = ' ': in the regexes above no alternative takes a
 *            non-blank and then a blank, so the match holding s[b-1] ends at b whatever follows;
 *            without a split (SentencePiece style, the model over the whole text) this is the
 *            cut before a "▁" that follows another character, safe when no token has "▁" after
 *            another character (meta_split).
 *   CUT_NLA  s[b-1] = '\n', s[b] printable ASCII, and "\n" alone is an added token matched on
 *            the raw text (not normalized, no rstrip): whatever the pipeline and the model, the
 *            added tokens' leftmost-longest match then always ends at b (the '\n' is covered by
 *            one, and none holds the pair around b), so the model never sees across b. Gemma 3,
 *            whose model runs over whole lines of spaces turned "▁" (no split decides, and its
 *            tokens hold "▁" after other characters), has only these.
 *   Without a split regex, CUT_NL needs a model none of whose tokens holds '\n' followed by a
 *   printable character (so no merge crosses b) and a token or byte token for '\n' (no unk fusing
 *   across b).
 * Steps before the regex that decides must be splits that never match a blank (\p{N}, CJK runs,
 * punctuation runs: no match holds the pair of bytes around b); normalizers must be ASCII-safe
 * (Unicode forms, Lowercase, Prepend; Replace of " " only without a split regex); a prefix a step
 * adds (Prepend, ByteLevel add_prefix_space, Metaspace) must come at depth 0, where the
 * continuation flag drops it. Added tokens: none may hold the two bytes around b, end at b, or
 * (lstrip, single_word) start at b. Anything else: no cut rules, the text is encoded whole up to
 * the stream's limit. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"
#include "tokenizer/tok_regex.h"

enum { CUT_NL = 1, CUT_NL2 = 2, CUT_NLX = 4, CUT_SP = 8, CUT_NLA = 16 };

static int pat_is(const Pattern *p, const char *re) {
    return p->is_regex && p->src && p->src_len == strlen(re) && !memcmp(p->src, re, p->src_len);
}

/* A split that decides the cut points, and which rules it gives (0: not one). */
static unsigned deciding_split(const PreStep *st) {
    if (st->kind == PRE_BYTELEVEL)
        return st->use_regex && pat_is(&st->pat, TOK_RE_GPT2) ? CUT_NL2 | CUT_SP : 0;
    if (st->kind != PRE_SPLIT || st->behavior != B_ISOLATED || st->invert) return 0;
    if (pat_is(&st->pat, TOK_RE_LLAMA3) || pat_is(&st->pat, TOK_RE_QWEN2) ||
        pat_is(&st->pat, TOK_RE_DEEPSEEK_V3))
        return CUT_NL | CUT_SP;
    if (pat_is(&st->pat, TOK_RE_GPT2)) return CUT_NL2 | CUT_SP;
    if (pat_is(&st->pat, "[\r\n]")) return CUT_NLX;
    return 0;
}

/* A split before the deciding one whose matches never hold a blank (no lookaround, no anchor,
 * never empty): it may cut a piece at b, never join across it. */
static int blank_free_split(const PreStep *st) {
    static const char *const ok[] = {"\\p{N}", "\\p{N}+", "\\p{N}{1,3}", TOK_RE_CJK,
                                     TOK_RE_DEEPSEEK_V3_CJK, "[\\p{P}\\$\\+<=>\\^~\\|`]+",
                                     "[\\p{P}\\$\\+<=>\\^~\\|]+"};
    if (st->kind != PRE_SPLIT || st->invert) return 0;
    if (st->behavior != B_ISOLATED && st->behavior != B_CONTIGUOUS) return 0;
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (pat_is(&st->pat, ok[i])) return 1;
    return 0;
}

static int adds_prefix(const PreStep *st) {
    return (st->kind == PRE_BYTELEVEL && st->add_prefix_space) ||
        (st->kind == PRE_METASPACE && st->prepend != PREPEND_NEVER);
}

/* 1 when no model token holds '\n' followed by a printable ASCII byte, and '\n' has a token. */
static int model_keeps_lines(const Tokenizer *t) {
    if (t->ignore_merges || t->cont_prefix_len || t->eow_suffix_len) return 0;
    if (strmap_get(&t->piece_map, t->arena.data, "\n", 1) < 0 && t->byte_id['\n'] < 0) return 0;
    if (t->model == MODEL_BPE && strmap_get(&t->piece_map, t->arena.data, "\n", 1) < 0 &&
        !t->byte_fallback)
        return 0;
    for (size_t e = 0; e <= t->piece_map.mask; e++) {
        if (STRMAP_EMPTY(&t->piece_map, e)) continue;
        const uint8_t *p = (const uint8_t *)t->arena.data + t->piece_map.slots[e].off;
        uint32_t n = t->piece_map.slots[e].len;
        for (uint32_t k = 0; k + 1 < n; k++)
            if (p[k] == '\n' && p[k + 1] > 0x20 && p[k + 1] < 0x7F) return 0;
    }
    return 1;
}

static unsigned pipeline_rules(const Tokenizer *t) {
    int replaces_space = 0;
    for (int i = 0; i < t->n_norm; i++) {
        const NormStep *n = &t->norm[i];
        if (n->kind == NORM_STRIP) return 0;
        if (n->kind == NORM_REPLACE) {
            if (n->pat.is_regex || n->pat.lit_len != 1 || n->pat.lit[0] != ' ') return 0;
            if (memchr(n->str, ' ', n->len) || memchr(n->str, '\n', n->len) || !n->len) return 0;
            replaces_space = 1;
        }
    }
    for (int k = 0; k < t->n_pre; k++) {
        const PreStep *st = &t->pre[k];
        if (k > 0 && adds_prefix(st)) return 0;
        unsigned r = deciding_split(st);
        if (r) return replaces_space ? 0 : r;
        if (blank_free_split(st)) continue;
        /* a Split on " " after spaces became "▁" never matches (Gemma 2 and 3) */
        if (st->kind == PRE_SPLIT && !st->pat.is_regex && st->pat.lit_len == 1 &&
            st->pat.lit[0] == ' ' && replaces_space)
            continue;
        if (st->kind == PRE_METASPACE && st->repl_len == 3 &&
            !memcmp(st->repl, "\xE2\x96\x81", 3)) {
            replaces_space = 1;
            continue;
        }
        return 0;
    }
    /* no split regex decides: the model sees whole lines */
    unsigned r = 0;
    if (model_keeps_lines(t)) r |= CUT_NL;
    if (replaces_space && t->meta_split && !t->ignore_merges) r |= CUT_SP;
    return r;
}

static void block_added(Tokenizer *t, const uint8_t *s, size_t n, const AddedTok *a) {
    if (!n) return;
    if (a->lstrip || a->single_word) t->cut_first[s[0]] = 1;
    t->cut_last[s[n - 1]] = 1;
    for (size_t k = 0; k + 1 < n; k++) {
        uint8_t x = s[k], y = s[k + 1];
        if (k + 4 <= n && !memcmp(s + k + 1, "\xE2\x96\x81", 3)) y = ' '; /* "▁" is a blank */
        if (x < 128 && y < 128) t->cut_pair[x][y] = 1;
    }
    if (n >= 3 && !memcmp(s, "\xE2\x96\x81", 3) && (a->lstrip || a->single_word))
        t->cut_first[' '] = 1;
}

void tok_prepare_cuts(Tokenizer *t) {
    t->cut_rules = pipeline_rules(t);
    memset(t->cut_first, 0, sizeof t->cut_first);
    memset(t->cut_last, 0, sizeof t->cut_last);
    memset(t->cut_pair, 0, sizeof t->cut_pair);
    for (int i = 0; i < t->n_added; i++) {
        const AddedTok *a = &t->added[i];
        block_added(t, (const uint8_t *)t->arena.data + a->off, a->len, a);
        if (a->normalized) block_added(t, (const uint8_t *)t->arena.data + a->noff, a->nlen, a);
        if (a->len == 1 && t->arena.data[a->off] == '\n' && !a->normalized && !a->rstrip)
            t->cut_rules |= CUT_NLA;
    }
}

static int printable(uint8_t c) { return c > 0x20 && c < 0x7F; }

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* b may be a cut of s (0 < b < len). */
static int cut_at(const Tokenizer *t, const uint8_t *s, size_t b, unsigned how) {
    uint8_t x = s[b - 1], y = s[b];
    unsigned r = t->cut_rules;
    int ok = 0;
    if (x == '\n') {
        if ((r & CUT_NLA) && printable(y)) /* the added token "\n" ends at b (see the top) */
            return !t->cut_first[y] && !t->cut_pair[x][y] && !t->cut_pair[x][lower(y)];
        ok = ((r & CUT_NLX) && y < 0x80) || ((r & CUT_NL) && printable(y)) ||
            ((r & CUT_NL2) && printable(y) && b >= 2 && printable(s[b - 2]));
    } else if (y == ' ' && !(how & TOK_CUT_LINES)) {
        ok = (r & CUT_SP) && printable(x);
    }
    if (!ok) return 0;
    if (t->cut_first[y] || t->cut_last[x] || t->cut_last[lower(x)]) return 0;
    if (t->cut_pair[x][y] || t->cut_pair[lower(x)][lower(y)]) return 0;
    return 1;
}

size_t tok_cut(const Tokenizer *t, const char *s, size_t len, size_t from, unsigned how) {
    if (!t->cut_rules || len < 2) return 0;
    if (from < 1) from = 1;
    for (size_t b = len - 1; b >= from; b--)
        if (cut_at(t, (const uint8_t *)s, b, how)) return b;
    return 0;
}

int tok_can_cut(const Tokenizer *t, unsigned how) {
    unsigned r = t->cut_rules;
    if ((how & TOK_CUT_LINES) || t->cut_first[' ']) r &= ~(unsigned)CUT_SP;
    if (t->cut_last['\n']) r &= ~(unsigned)(CUT_NL | CUT_NL2 | CUT_NLX); /* a token ends in \n */
    /* (CUT_NLA stays: there a token ending in \n is the point) */
    return r != 0;
}
