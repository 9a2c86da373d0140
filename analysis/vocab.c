/* vocab: see vocab.h. */
#include "analysis/vocab.h"

#include <string.h>
#include <utf8proc.h>

static int is_space_cp(uint32_t cp) {
    if (cp == '\t' || cp == '\n' || cp == '\v' || cp == '\f' || cp == '\r' || cp == ' ' ||
        cp == 0x85)
        return 1;
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

static int is_invisible_cp(uint32_t cp) {
    if (cp == '\t' || cp == '\n' || cp == '\v' || cp == '\f' || cp == '\r') return 0;
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CS ||
           c == UTF8PROC_CATEGORY_CO || c == UTF8PROC_CATEGORY_CN;
}

static int is_letter(utf8proc_category_t c) {
    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

static int is_mark(utf8proc_category_t c) {
    return c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME;
}

static int is_punct_or_symbol(utf8proc_category_t c) {
    return (c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO) ||
           (c >= UTF8PROC_CATEGORY_SM && c <= UTF8PROC_CATEGORY_SO);
}

/* Indentation shape of an all-whitespace token: line breaks, then a run of one character. */
static unsigned indentation(const char *s, size_t len, int *width) {
    size_t i = 0;
    int breaks = 0;
    while (i < len) {
        if (s[i] == '\n') i++, breaks++;
        else if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') i += 2, breaks++;
        else break;
    }
    if (i == len) return breaks ? VOC_NEWLINES : 0;
    char c = s[i];
    if (c != ' ' && c != '\t') return 0;
    size_t j = i;
    while (j < len && s[j] == c) j++;
    if (j != len) return 0;
    *width = (int)(len - i);
    if (c == ' ') return breaks ? VOC_NL_SPACES : VOC_SPACES;
    return breaks ? VOC_NL_TABS : VOC_TABS;
}

/* Flags of the part after an optional single leading space: ident, digits, punct. */
static unsigned shape(const char *s, size_t len) {
    if (!len) return 0;
    int ident = 1, digits = 1, punct = 1;
    size_t i = 0;
    int first = 1;
    while (i < len) {
        uint32_t cp;
        int n = utf8_decode((const uint8_t *)s + i, len - i, &cp);
        if (!n) return 0;
        utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
        if (!(cp >= '0' && cp <= '9')) digits = 0;
        if (!is_punct_or_symbol(c)) punct = 0;
        if (first) {
            if (!(is_letter(c) || cp == '_')) ident = 0;
        } else if (!(is_letter(c) || is_mark(c) || c == UTF8PROC_CATEGORY_ND || cp == '_')) {
            ident = 0;
        }
        first = 0;
        i += (size_t)n;
    }
    return (ident ? VOC_IDENT : 0) | (digits ? VOC_DIGITS : 0) | (punct ? VOC_PUNCT : 0);
}

unsigned vocab_classify(const char *s, size_t len, int *width) {
    *width = 0;
    if (!len) return VOC_DEAD;
    if (utf8_valid_prefix(s, len) != len) return VOC_PARTIAL;
    int all_space = 1, all_invisible = 1;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = utf8_decode((const uint8_t *)s + i, len - i, &cp);
        if (!is_space_cp(cp)) all_space = 0;
        if (!is_invisible_cp(cp)) all_invisible = 0;
        i += (size_t)n;
    }
    if (all_invisible) return VOC_DEAD;
    if (all_space) return VOC_WHITESPACE | indentation(s, len, width);
    unsigned f = shape(s, len);
    if (len > 1 && s[0] == ' ') {
        unsigned g = shape(s + 1, len - 1);
        f |= (g & VOC_IDENT ? VOC_IDENT_SPACE : 0) | (g & VOC_DIGITS ? VOC_DIGITS_SPACE : 0) |
             (g & VOC_PUNCT ? VOC_PUNCT_SPACE : 0);
    }
    return f;
}

static void bump(int *hist, int w) { hist[w > VOCAB_MAX_WIDTH ? VOCAB_MAX_WIDTH : w]++; }

void vocab_measure(const Tokenizer *t, VocabStats *s) {
    memset(s, 0, sizeof *s);
    s->size = tok_vocab_size(t);
    double bytes = 0;
    for (int id = 0; id < s->size; id++) {
        unsigned fl = tok_flags(t, id);
        if (fl & TOK_UNUSED) { s->unused++; continue; }
        /* the unk token is reported as such even when it is also special (starcoder's
           unknown_token_id is its <|endoftext|> control token) */
        if (fl & TOK_UNKNOWN) { s->unknown++; continue; }
        if (fl & TOK_SPECIAL) { s->special++; continue; }
        if (fl & TOK_BYTE) { s->byte_fallback++; continue; }
        s->text++;
        if (fl & TOK_ADDED) s->added++;
        size_t len;
        const char *b = tok_bytes(t, id, &len);
        bytes += (double)len;
        int w;
        unsigned c = vocab_classify(b, len, &w);
        if (c & VOC_WHITESPACE) {
            s->whitespace++;
            if (c & VOC_SPACES) bump(s->spaces, w);
            else if (c & VOC_TABS) bump(s->tabs, w);
            else if (c & VOC_NL_SPACES) bump(s->nl_spaces, w);
            else if (c & VOC_NL_TABS) bump(s->nl_tabs, w);
            else if (c & VOC_NEWLINES) s->newlines++;
            else s->other_whitespace++;
        }
        if (c & VOC_DEAD) s->dead++;
        if (c & VOC_PARTIAL) s->partial_utf8++;
        if (c & VOC_IDENT) s->ident++;
        if (c & VOC_IDENT_SPACE) s->ident_space++;
        if (c & VOC_DIGITS) {
            s->digits++;
            if ((int)len > s->max_digits) s->max_digits = (int)len;
        }
        if (c & VOC_DIGITS_SPACE) s->digits_space++;
        if (c & VOC_PUNCT) s->punct++;
        if (c & VOC_PUNCT_SPACE) s->punct_space++;
    }
    s->mean_bytes = s->text ? bytes / s->text : 0;
}
