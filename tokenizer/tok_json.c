/* tok_json: loads a Hugging Face tokenizer.json (model BPE), as tok_json_read.c reads it: the
 * vocabulary, merges and added tokens into the token table, each normalizer, pre-tokenizer and
 * decoder step into its step list; anything this code does not implement is an error naming the
 * file and the type, never a silent skip. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_build.h"
#include "tokenizer/tok_json_read.h"
#include "tokenizer/tok_load.h"
#include "tokenizer/tok_regex.h"

/* A NUL-terminated string from the file, made printable for an error message. */
#define SHOWN(str) tok_shown((str), strlen(str), sh, sizeof sh)

/* A {"String": s} or {"Regex": r} pattern. */
static int jpattern(Tokenizer *t, const json_t *obj, const char *what, Pattern *p, Err *err) {
    json_t *pat = json_object_get(obj, "pattern");
    size_t len;
    const char *s;
    int is_regex;
    if ((s = tokjson_str(pat, "String", &len)))
        is_regex = 0;
    else if ((s = tokjson_str(pat, "Regex", &len)))
        is_regex = 1;
    else
        return err_set(err, "%s: %s without a String or Regex pattern", t->path, what);
    Err e;
    if (pattern_init(p, is_regex, s, len, &e))
        return err_set(err, "%s: %s: %s", t->path, what, e.msg);
    return 0;
}

static void desc_add(Tokenizer *t, const char *name) {
    size_t n = strlen(t->pre_desc);
    snprintf(t->pre_desc + n, sizeof t->pre_desc - n, "%s%s", n ? " + " : "", name);
}

/* ---- normalizers ---- */

static NormStep *norm_new(Tokenizer *t, int kind) {
    t->norm = xrealloc(t->norm, (size_t)(t->n_norm + 1) * sizeof *t->norm);
    NormStep *s = &t->norm[t->n_norm++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

static int parse_normalizer(Tokenizer *t, const TjStep *step, Err *err) {
    char sh[256];
    const json_t *n = step->node;
    const char *type = step->type;
    size_t len;
    const char *s;
    if (!strcmp(type, "NFC"))
        norm_new(t, NORM_NFC);
    else if (!strcmp(type, "NFKC"))
        norm_new(t, NORM_NFKC);
    else if (!strcmp(type, "NFD"))
        norm_new(t, NORM_NFD);
    else if (!strcmp(type, "NFKD"))
        norm_new(t, NORM_NFKD);
    else if (!strcmp(type, "Lowercase"))
        norm_new(t, NORM_LOWER);
    else if (!strcmp(type, "Prepend")) {
        if (!(s = tokjson_str(n, "prepend", &len)))
            return err_set(err, "%s: Prepend normalizer without a prepend string", t->path);
        NormStep *st = norm_new(t, NORM_PREPEND);
        st->str = xstrndup(s, len);
        st->len = len;
    } else if (!strcmp(type, "Replace")) {
        if (!(s = tokjson_str(n, "content", &len)))
            return err_set(err, "%s: Replace normalizer without content", t->path);
        NormStep *st = norm_new(t, NORM_REPLACE);
        st->str = xstrndup(s, len);
        st->len = len;
        if (jpattern(t, n, "Replace normalizer", &st->pat, err)) return -1;
    } else if (!strcmp(type, "Strip")) {
        NormStep *st = norm_new(t, NORM_STRIP);
        st->left = tokjson_bool(n, "strip_left", 1);
        st->right = tokjson_bool(n, "strip_right", 1);
    } else {
        return err_set(err, "%s: unsupported normalizer type '%s'", t->path, SHOWN(type));
    }
    return 0;
}

/* ---- pre-tokenizers ---- */

static PreStep *pre_new(Tokenizer *t, int kind) {
    t->pre = xrealloc(t->pre, (size_t)(t->n_pre + 1) * sizeof *t->pre);
    PreStep *s = &t->pre[t->n_pre++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

static int parse_prepend_scheme(Tokenizer *t, const json_t *n, int *out, Err *err) {
    char sh[256];
    const char *ps = tokjson_str(n, "prepend_scheme", NULL);
    if (ps) {
        if (!strcmp(ps, "always"))
            *out = PREPEND_ALWAYS;
        else if (!strcmp(ps, "first"))
            *out = PREPEND_FIRST;
        else if (!strcmp(ps, "never"))
            *out = PREPEND_NEVER;
        else
            return err_set(err, "%s: unknown Metaspace prepend_scheme '%s'", t->path, SHOWN(ps));
    } else { /* older files: add_prefix_space */
        *out = tokjson_bool(n, "add_prefix_space", 1) ? PREPEND_ALWAYS : PREPEND_NEVER;
    }
    return 0;
}

/* The Metaspace replacement: one character. */
static int parse_replacement(Tokenizer *t, const json_t *n, char *out, int *out_len, uint32_t *cp,
                             Err *err) {
    size_t len;
    const char *r = tokjson_str(n, "replacement", &len);
    if (!r) r = "\xE2\x96\x81", len = 3; /* ▁ */
    uint32_t c;
    if (len == 0 || len > 4 || utf8_decode((const uint8_t *)r, len, &c) != (int)len)
        return err_set(err, "%s: Metaspace replacement must be one character", t->path);
    memcpy(out, r, len);
    *out_len = (int)len;
    if (cp) *cp = c;
    return 0;
}

static int split_step(Tokenizer *t, const char *regex, int behavior, int invert, Err *err) {
    PreStep *st = pre_new(t, PRE_SPLIT);
    st->behavior = behavior;
    st->invert = invert;
    Err e;
    if (pattern_init(&st->pat, 1, regex, strlen(regex), &e))
        return err_set(err, "%s: %s", t->path, e.msg);
    return 0;
}

static int parse_pretokenizer(Tokenizer *t, const TjStep *step, Err *err) {
    char sh[256];
    const json_t *n = step->node;
    const char *type = step->type;
    if (!strcmp(type, "ByteLevel")) {
        PreStep *st = pre_new(t, PRE_BYTELEVEL);
        st->add_prefix_space = tokjson_bool(n, "add_prefix_space", 1);
        st->use_regex = tokjson_bool(n, "use_regex", 1);
        if (st->use_regex) {
            Err e;
            const char *re = TOK_RE_GPT2;
            if (pattern_init(&st->pat, 1, re, strlen(re), &e))
                return err_set(err, "%s: %s", t->path, e.msg);
        }
        t->byte_level = 1;
        desc_add(t, st->use_regex ? "ByteLevel(regex)" : "ByteLevel");
    } else if (!strcmp(type, "Split")) {
        const char *b = tokjson_str(n, "behavior", NULL);
        int behavior;
        if (!b) return err_set(err, "%s: Split pre-tokenizer without a behavior", t->path);
        if (!strcmp(b, "Removed"))
            behavior = B_REMOVED;
        else if (!strcmp(b, "Isolated"))
            behavior = B_ISOLATED;
        else if (!strcmp(b, "MergedWithPrevious"))
            behavior = B_MERGED_PREV;
        else if (!strcmp(b, "MergedWithNext"))
            behavior = B_MERGED_NEXT;
        else if (!strcmp(b, "Contiguous"))
            behavior = B_CONTIGUOUS;
        else
            return err_set(err, "%s: unknown Split behavior '%s'", t->path, SHOWN(b));
        PreStep *st = pre_new(t, PRE_SPLIT);
        st->behavior = behavior;
        st->invert = tokjson_bool(n, "invert", 0);
        if (jpattern(t, n, "Split pre-tokenizer", &st->pat, err)) return -1;
        desc_add(t, st->pat.is_regex ? "Split(regex)" : "Split(string)");
    } else if (!strcmp(type, "Digits")) {
        /* char::is_numeric is \p{N}; each digit is a match, Contiguous glues runs */
        int individual = tokjson_bool(n, "individual_digits", 0);
        if (split_step(t, "\\p{N}", individual ? B_ISOLATED : B_CONTIGUOUS, 0, err)) return -1;
        desc_add(t, individual ? "Digits(individual)" : "Digits");
    } else if (!strcmp(type, "Metaspace")) {
        PreStep *st = pre_new(t, PRE_METASPACE);
        if (parse_replacement(t, n, st->repl, &st->repl_len, NULL, err)) return -1;
        if (parse_prepend_scheme(t, n, &st->prepend, err)) return -1;
        st->split = tokjson_bool(n, "split", 1);
        Err e;
        if (pattern_init(&st->pat, 0, st->repl, (size_t)st->repl_len, &e))
            return err_set(err, "%s: %s", t->path, e.msg);
        desc_add(t, "Metaspace");
    } else if (!strcmp(type, "Whitespace")) {
        if (split_step(t, "\\w+|[^\\w\\s]+", B_REMOVED, 1, err)) return -1;
        desc_add(t, "Whitespace");
    } else if (!strcmp(type, "WhitespaceSplit")) {
        if (split_step(t, "\\s+", B_REMOVED, 0, err)) return -1;
        desc_add(t, "WhitespaceSplit");
    } else {
        return err_set(err, "%s: unsupported pre-tokenizer type '%s'", t->path, SHOWN(type));
    }
    return 0;
}

/* ---- decoders ---- */

static DecStep *dec_new(Tokenizer *t, int kind) {
    t->dec = xrealloc(t->dec, (size_t)(t->n_dec + 1) * sizeof *t->dec);
    DecStep *s = &t->dec[t->n_dec++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

static int parse_decoder(Tokenizer *t, const TjStep *step, Err *err) {
    char sh[256];
    const json_t *n = step->node;
    const char *type = step->type;
    if (!strcmp(type, "ByteLevel")) {
        dec_new(t, DEC_BYTELEVEL);
        t->byte_level = 1;
    } else if (!strcmp(type, "Metaspace")) {
        DecStep *st = dec_new(t, DEC_METASPACE);
        char r[8];
        int rl;
        if (parse_replacement(t, n, r, &rl, &st->repl_cp, err)) return -1;
        if (parse_prepend_scheme(t, n, &st->prepend, err)) return -1;
    } else if (!strcmp(type, "Replace")) {
        size_t len;
        const char *s = tokjson_str(n, "content", &len);
        if (!s) return err_set(err, "%s: Replace decoder without content", t->path);
        DecStep *st = dec_new(t, DEC_REPLACE);
        st->content = xstrndup(s, len);
        st->content_len = len;
        if (jpattern(t, n, "Replace decoder", &st->pat, err)) return -1;
    } else if (!strcmp(type, "ByteFallback")) {
        dec_new(t, DEC_BYTEFALLBACK);
    } else if (!strcmp(type, "Fuse")) {
        dec_new(t, DEC_FUSE);
    } else if (!strcmp(type, "Strip")) {
        size_t len;
        const char *s = tokjson_str(n, "content", &len);
        uint32_t cp;
        if (!s || !len || utf8_decode((const uint8_t *)s, len, &cp) != (int)len)
            return err_set(err, "%s: Strip decoder content must be one character", t->path);
        json_t *a = json_object_get(n, "start"), *b = json_object_get(n, "stop");
        if ((a && !json_is_integer(a)) || (b && !json_is_integer(b)))
            return err_set(err, "%s: Strip decoder start/stop must be integers", t->path);
        long long sa = a ? json_integer_value(a) : 0, sb = b ? json_integer_value(b) : 0;
        if (sa < 0 || sb < 0 || sa > 1 << 20 || sb > 1 << 20)
            return err_set(err, "%s: Strip decoder start/stop out of range", t->path);
        DecStep *st = dec_new(t, DEC_STRIP);
        st->strip_cp = cp;
        st->start = (int)sa;
        st->stop = (int)sb;
    } else {
        return err_set(err, "%s: unsupported decoder type '%s'", t->path, SHOWN(type));
    }
    return 0;
}

/* ---- the model ---- */

/* Whether id's vocabulary piece is m's a followed by its b less skip bytes (the piece the merge
 * builds): as piece_map would answer, since it maps each piece to the id that piece_off/piece_len
 * hold it for. Compared in place: no joined copy. */
static int is_joined(const Tokenizer *t, int id, const TjMerge *m, size_t skip) {
    if (id < 0 || id >= t->n_vocab || (t->flags[id] & TOK_UNUSED)) return 0;
    const size_t bl = m->bl - skip;
    if (t->piece_len[id] != m->al + bl) return 0;
    const char *p = t->arena.data + t->piece_off[id];
    return !memcmp(p, m->a, m->al) && !memcmp(p + m->al, m->b + skip, bl);
}

static int load_model(Tokenizer *t, TokJson *tj, Err *err) {
    char sh[256];
    if (!tj->model) return err_set(err, "%s: no \"model\" object (not a tokenizer.json?)", t->path);
    if (!tj->type) return err_set(err, "%s: model without a type", t->path);
    if (strcmp(tj->type, "BPE"))
        return err_set(err, "%s: unsupported model type '%s' (only BPE is supported)", t->path,
                       SHOWN(tj->type));
    json_t *drop = json_object_get(tj->model, "dropout");
    if (drop && !json_is_null(drop) && !(json_is_number(drop) && json_number_value(drop) == 0.0))
        return err_set(err, "%s: BPE dropout is not supported (deterministic encoding only)",
                       t->path);
    if (tokjson_read_bpe(tj, err)) return -1;

    tok_alloc_table(t, tj->n_ids);
    /* The pieces go to the arena and their hashes are taken first; the inserts then prefetch the
     * slot a few entries ahead (the table is far bigger than the caches). */
    size_t nv = tj->n_vocab;
    strmap_init(&t->piece_map, nv);
    struct VocabEnt {
        uint64_t h;
        uint32_t off, len;
        int id;
    } *ve = tok_bulk_alloc((nv + 1) * sizeof *ve);
    size_t room = 0;
    for (size_t k = 0; k < nv; k++) room += tj->vocab[k].len + 1;
    /* then each piece is copied in place (tok_arena_put's layout); the room is twice theirs, for
     * the bytes tok_finish decodes from a byte-level vocabulary's pieces (as long at most) */
    tok_arena_reserve(t, 2 * room + 4096);
    for (size_t k = 0; k < nv; k++) {
        const TjPiece *p = &tj->vocab[k];
        uint32_t off = (uint32_t)t->arena.len;
        memcpy(t->arena.data + off, p->s, p->len);
        t->arena.data[off + p->len] = '\0';
        t->arena.len += p->len + 1;
        ve[k] = (struct VocabEnt){tok_hash(p->s, p->len), off, (uint32_t)p->len, p->id};
    }
    t->arena.data[t->arena.len] = '\0'; /* a Buf's data ends in a NUL */
    /* done with the file's list: freed now, not with the rest, so it is not held while the
     * merges' tables are made (4 MB less at the load's peak); tj has no vocab from here on
     * (tokjson_vocab_id is tokconv's, which reads the list without this function) */
    free(tj->vocab);
    tj->vocab = NULL, tj->n_vocab = 0;
    for (size_t k = 0; k < nv; k++) {
        if (k + 8 < nv) strmap_prefetch(&t->piece_map, ve[k + 8].h);
        int id = ve[k].id;
        long e = strmap_add_hashed(&t->piece_map, t->arena.data, ve[k].off, ve[k].len, id, ve[k].h);
        if (t->piece_map.slots[e].val != id) { /* a repeated key (jansson kept only the last) */
            err_set(err, "%s: vocab lists \"%s\" twice (ids %d and %d)", t->path,
                    tok_shown(t->arena.data + ve[k].off, ve[k].len, sh, sizeof sh),
                    t->piece_map.slots[e].val, id);
            free(ve);
            return -1;
        }
        if (t->flags[id] & TOK_UNUSED) {
            t->piece_off[id] = ve[k].off;
            t->piece_len[id] = ve[k].len;
            t->flags[id] = 0;
        }
    }
    free(ve);

    /* options */
    t->byte_fallback = tj->byte_fallback;
    t->ignore_merges = tj->ignore_merges;
    t->fuse_unk = tj->fuse_unk;
    if (tj->cont_prefix) {
        t->cont_prefix = xstrndup(tj->cont_prefix, tj->cont_prefix_len);
        t->cont_prefix_len = tj->cont_prefix_len;
    }
    if (tj->eow_suffix) {
        t->eow_suffix = xstrndup(tj->eow_suffix, tj->eow_suffix_len);
        t->eow_suffix_len = tj->eow_suffix_len;
    }
    if (tj->unk) {
        t->unk = strmap_get(&t->piece_map, t->arena.data, tj->unk, tj->unk_len);
        if (t->unk < 0) t->unk_missing = 1;
    }

    /* merges: (a, b) -> (rank, id of a + b without b's continuing prefix). Lookups in a table far
     * bigger than the caches, done in batches: each key's slot is prefetched, then the piece a
     * matching tag points at, then the keys are compared. The joined piece is first tried as the
     * id the previous merge built and the one after it (tokenizers list merges in the order of
     * the tokens they make, a token made by several merges in a row: every one of Qwen3's,
     * DeepSeek V3's and Llama 3's), compared in place, which reads the tables in order; only a
     * miss is joined, hashed and looked up (and the batch's later merges too, the previous id
     * being known only after the lookup). The entries are put in the pair map at the end, all at
     * once (pairmap_put_all: in the table's order). */
    pairmap_init(&t->merges, tj->n_merges);
    PairEnt *pe = tok_bulk_alloc((tj->n_merges + 1) * sizeof *pe);
    enum { BATCH = 48 }; /* in flight: 1.5-4 ms less than 16 (Qwen3, Llama 3.1); 96 no better */
    struct {
        const TjMerge *m;
        size_t joff, jlen;
        uint64_t h[3];
        int joined_id; /* -1: look it up */
    } q[BATCH];
    size_t nq = 0, rank = 0;
    int last = -1, in_order = 1; /* the id the last merge built; still predicting */
    Buf joined = {0};
    for (size_t i = 0; i <= tj->n_merges; i++) {
        const TjMerge *m = i < tj->n_merges ? &tj->merges[i] : NULL;
        if (m) {
            if (i + 16 < tj->n_merges) { /* its strings, read by is_joined below: out of the
                                          * caches since read_merges, scattered in cJSON's arena */
                __builtin_prefetch(tj->merges[i + 16].a);
                __builtin_prefetch(tj->merges[i + 16].b);
            }
            size_t skip = t->cont_prefix_len <= m->bl ? t->cont_prefix_len : m->bl;
            q[nq].m = m;
            q[nq].h[0] = m->ha;
            q[nq].h[1] = m->hb;
            strmap_prefetch(&t->piece_map, q[nq].h[0]);
            strmap_prefetch(&t->piece_map, q[nq].h[1]);
            q[nq].joined_id = -1;
            if (in_order && is_joined(t, last + 1, m, skip))
                q[nq].joined_id = ++last;
            else if (in_order && is_joined(t, last, m, skip))
                q[nq].joined_id = last;
            else
                in_order = 0;
            if (q[nq].joined_id < 0) {
                q[nq].joff = joined.len;
                buf_append(&joined, m->a, m->al);
                buf_append(&joined, m->b + skip, m->bl - skip);
                q[nq].jlen = joined.len - q[nq].joff;
                q[nq].h[2] = tok_hash(joined.data + q[nq].joff, q[nq].jlen);
                strmap_prefetch(&t->piece_map, q[nq].h[2]);
            }
            nq++;
        }
        if (nq == BATCH || (!m && nq)) {
            const StrMap *pm = &t->piece_map;
            const char *ar = t->arena.data;
            for (size_t j = 0; j < nq; j++) /* the pieces the first slots point at */
                for (int k = 0; k < (q[j].joined_id < 0 ? 3 : 2); k++) {
                    const StrEnt *e = &pm->slots[(size_t)q[j].h[k] & pm->mask];
                    if (e->tag == (uint32_t)(q[j].h[k] >> 32)) __builtin_prefetch(ar + e->off);
                }
            for (size_t j = 0; j < nq; j++) {
                const TjMerge *mj = q[j].m;
                long ea = strmap_find_hashed(pm, ar, mj->a, mj->al, q[j].h[0]);
                long eb = strmap_find_hashed(pm, ar, mj->b, mj->bl, q[j].h[1]);
                long en = q[j].joined_id >= 0
                    ? 0
                    : strmap_find_hashed(pm, ar, joined.data + q[j].joff, q[j].jlen, q[j].h[2]);
                if (ea < 0 || eb < 0 || en < 0) {
                    buf_free(&joined);
                    free(pe);
                    return err_set(err,
                                   "%s: merges[%zu] uses a token that is not in the vocabulary",
                                   t->path, mj->index);
                }
                const uint32_t a = (uint32_t)pm->slots[ea].val, b = (uint32_t)pm->slots[eb].val;
                last = q[j].joined_id >= 0 ? q[j].joined_id : pm->slots[en].val;
                pe[rank] = (PairEnt){(uint64_t)a << 32 | b, (uint32_t)rank, (uint32_t)last};
                rank++;
            }
            in_order = 1;
            nq = 0;
            buf_clear(&joined);
        }
    }
    buf_free(&joined);
    pairmap_put_all(&t->merges, pe, rank);
    free(pe);

    /* added tokens */
    t->n_added = (int)tj->n_added;
    t->added = xcalloc((size_t)t->n_added + 1, sizeof *t->added);
    strmap_init(&t->added_map, (size_t)t->n_added);
    for (int i = 0; i < t->n_added; i++) {
        const TjAdded *src = &tj->added[i];
        AddedTok *a = &t->added[i];
        a->id = src->id;
        a->special = (uint8_t)src->special;
        a->single_word = (uint8_t)src->single_word;
        a->lstrip = (uint8_t)src->lstrip;
        a->rstrip = (uint8_t)src->rstrip;
        a->normalized = (uint8_t)src->normalized;
        a->off = tok_arena_put(t, src->content, src->len);
        a->len = (uint32_t)src->len;
        strmap_add(&t->added_map, t->arena.data, a->off, a->len, a->id);
        int id = a->id;
        if ((t->flags[id] & TOK_UNUSED) || !t->piece_len[id]) {
            t->piece_off[id] = a->off;
            t->piece_len[id] = a->len;
        }
        t->flags[id] =
            (uint8_t)((t->flags[id] & ~TOK_UNUSED) | TOK_ADDED | (a->special ? TOK_SPECIAL : 0));
        t->bytes_off[id] = a->off;
        t->bytes_len[id] = a->len;
    }
    return 0;
}

/* ---- the steps ---- */

/* Each step of each list, in the order of the file. */
static int load_steps(Tokenizer *t, const TokJson *tj, Err *err) {
    static int (*const parse[])(Tokenizer *, const TjStep *, Err *) = {
        [TJ_NORMALIZER] = parse_normalizer,
        [TJ_PRE_TOKENIZER] = parse_pretokenizer,
        [TJ_DECODER] = parse_decoder,
    };
    for (int which = TJ_NORMALIZER; which <= TJ_DECODER; which++) {
        TjSteps steps;
        if (tokjson_steps(tj, (enum TjList)which, &steps, err)) return -1;
        if (which == TJ_DECODER) t->has_decoder = steps.present;
        int rc = 0;
        for (int k = 0; k < steps.n && !rc; k++) rc = parse[which](t, &steps.v[k], err);
        free(steps.v);
        if (rc) return -1;
    }
    return 0;
}

/* "bos_token": "<s>" or {"content": "<s>", ...}: the id of that added token or vocab entry. */
static int config_token(Tokenizer *t, const json_t *cfg, const char *key) {
    json_t *v = json_object_get(cfg, key);
    if (json_is_object(v)) v = json_object_get(v, "content");
    if (!json_is_string(v)) return -1;
    return tok_find_piece(t, json_string_value(v), json_string_length(v));
}

static int config_specials(Tokenizer *t) {
    const char *slash = strrchr(t->path, '/');
    Buf p = {0};
    if (slash) buf_append(&p, t->path, (size_t)(slash - t->path) + 1);
    buf_puts(&p, "tokenizer_config.json");
    json_error_t je;
    /* integers as reals: Llama 3 writes model_max_length as a 31-digit integer */
    json_t *cfg = is_file(p.data)
        ? json_load_file(p.data, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je)
        : NULL;
    buf_free(&p);
    if (!json_is_object(cfg)) { /* absent or unreadable: it is optional */
        json_decref(cfg);
        return 0;
    }
    t->bos = config_token(t, cfg, "bos_token");
    t->eos = config_token(t, cfg, "eos_token");
    json_decref(cfg);
    return 1;
}

int tok_load_json(Tokenizer *t, Err *err) {
    TokJson tj;
    if (tokjson_open(&tj, t->path, err)) return -1;
    int rc = -1;
    t->model = MODEL_BPE;
    if (load_model(t, &tj, err) || load_steps(t, &tj, err)) goto done;
    if (!t->pre_desc[0]) snprintf(t->pre_desc, sizeof t->pre_desc, "none");
    snprintf(t->kind, sizeof t->kind, "%s",
             t->byte_level          ? "BPE (byte-level)"
                 : t->byte_fallback ? "BPE (byte fallback)"
                                    : "BPE");
    /* bos/eos: tokenizer.json does not name them; tokenizer_config.json beside it does */
    int have_config = config_specials(t);
    static const char *bos_names[] = {"<|begin_of_text|>",
                                      "<s>",
                                      "<\xEF\xBD\x9C"
                                      "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                                      "<|startoftext|>",
                                      "<bos>",
                                      NULL};
    static const char *eos_names[] = {"<|end_of_text|>",
                                      "</s>",
                                      "<\xEF\xBD\x9C"
                                      "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                                      "<|endoftext|>",
                                      "<eos>",
                                      NULL};
    for (int k = 0; !have_config && bos_names[k] && t->bos < 0; k++)
        t->bos = strmap_get(&t->added_map, t->arena.data, bos_names[k], strlen(bos_names[k]));
    for (int k = 0; !have_config && eos_names[k] && t->eos < 0; k++)
        t->eos = strmap_get(&t->added_map, t->arena.data, eos_names[k], strlen(eos_names[k]));
    rc = 0;
done:
    tokjson_close(&tj);
    return rc;
}
