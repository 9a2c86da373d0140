/* coverage: see coverage.h. */
#include "analysis/coverage.h"

#include <stdlib.h>
#include <string.h>

int match_rule_parse(const char *s, MatchRule *rule) {
    if (!strcmp(s, "bare")) *rule = MATCH_BARE;
    else if (!strcmp(s, "space")) *rule = MATCH_SPACE;
    else if (!strcmp(s, "either")) *rule = MATCH_EITHER;
    else return -1;
    return 0;
}

const char *match_rule_name(MatchRule rule) {
    return rule == MATCH_BARE ? "bare" : rule == MATCH_SPACE ? "space" : "either";
}

/* Encodes TEXT as continuing text and records the token count and the joined pieces. */
static int encode_form(const Tokenizer *t, const char *text, size_t len, int *ntok, char **pieces,
                       Err *err) {
    IntVec ids = {0};
    if (tok_encode(t, text, len, TOK_ENC_NO_SPECIAL | TOK_ENC_NO_PREFIX, &ids, err)) {
        intvec_free(&ids);
        return -1;
    }
    Buf b = {0};
    for (size_t i = 0; i < ids.n; i++) {
        size_t plen;
        const char *p = tok_piece(t, ids.v[i], &plen);
        if (i) buf_putc(&b, ' ');
        buf_append(&b, p, plen);
    }
    *ntok = (int)ids.n;
    *pieces = b.data ? b.data : xstrdup("");
    intvec_free(&ids);
    return 0;
}

static int measure(const Tokenizer *t, const char *word, MatchRule rule, KwCoverage *k, Err *err) {
    size_t len = strlen(word);
    char *spaced = xmalloc(len + 2);
    spaced[0] = ' ';
    memcpy(spaced + 1, word, len + 1);
    k->word = word;
    k->bare_id = tok_id_of_bytes(t, word, len);
    k->space_id = tok_id_of_bytes(t, spaced, len + 1);
    int rc = encode_form(t, word, len, &k->bare_ntok, &k->bare_pieces, err);
    if (!rc) rc = encode_form(t, spaced, len + 1, &k->space_ntok, &k->space_pieces, err);
    free(spaced);
    int bare = k->bare_id >= 0, space = k->space_id >= 0;
    k->covered = rule == MATCH_BARE ? bare : rule == MATCH_SPACE ? space : (bare || space);
    return rc;
}

int coverage_compute(const Tokenizer *t, const KwSet *kw, MatchRule rule, Coverage *out, Err *err) {
    memset(out, 0, sizeof *out);
    out->rule = rule;
    size_t n = 0, nl = 0;
    for (size_t i = 0; i < kw->nlangs; i++)
        if (kw->langs[i].selected) n += kw->langs[i].nwords, nl++;
    out->items = xcalloc(n ? n : 1, sizeof *out->items);
    out->langs = xcalloc(nl ? nl : 1, sizeof *out->langs);
    double sum_bare = 0, sum_space = 0;
    for (size_t i = 0; i < kw->nlangs; i++) {
        const KwLang *l = &kw->langs[i];
        if (!l->selected) continue;
        LangCoverage *lc = &out->langs[out->nlangs++];
        lc->lang = l->name;
        lc->first = out->nitems;
        double lb = 0, ls = 0;
        for (size_t j = 0; j < l->nwords; j++) {
            KwCoverage *k = &out->items[out->nitems++];
            k->lang = l->name;
            if (measure(t, l->words[j], rule, k, err)) {
                coverage_free(out);
                return -1;
            }
            lc->covered += (size_t)k->covered;
            lb += k->bare_ntok;
            ls += k->space_ntok;
        }
        lc->count = l->nwords;
        lc->mean_bare_ntok = lc->count ? lb / (double)lc->count : 0;
        lc->mean_space_ntok = lc->count ? ls / (double)lc->count : 0;
        out->covered += lc->covered;
        sum_bare += lb;
        sum_space += ls;
    }
    out->mean_bare_ntok = out->nitems ? sum_bare / (double)out->nitems : 0;
    out->mean_space_ntok = out->nitems ? sum_space / (double)out->nitems : 0;
    return 0;
}

void coverage_free(Coverage *c) {
    for (size_t i = 0; i < c->nitems; i++) {
        free(c->items[i].bare_pieces);
        free(c->items[i].space_pieces);
    }
    free(c->items);
    free(c->langs);
    memset(c, 0, sizeof *c);
}

char *source_label(const char *path) {
    char *p = xstrdup(path);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') p[--n] = 0;
    /* walk up from the last component while it says nothing about which tokenizer this is */
    for (;;) {
        char *slash = strrchr(p, '/');
        char *base = slash ? slash + 1 : p;
        int generic = !strcmp(base, "tokenizer.json") || !strcmp(base, "models") ||
                      !strcmp(base, "model") || !strcmp(base, ".");
        if (!generic || !slash || slash == p) {
            char *label;
            if (ends_with(base, ".json") || ends_with(base, ".gguf"))
                label = xstrndup(base, strlen(base) - 5);
            else
                label = xstrdup(*base ? base : path);
            free(p);
            return label;
        }
        *slash = 0;
    }
}
