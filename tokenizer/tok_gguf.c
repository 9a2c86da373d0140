/* tok_gguf: loads the tokenizer.ggml.* keys of a GGUF file (through formats/gguf.h).
 *
 * "gpt2" is byte-level BPE: tokenizer.ggml.pre names a pre-tokenizer, mapped here to the regexes the
 * Hugging Face tokenizer.json of those models splits with (each regex a Split/Isolated step, as
 * llama.cpp's llama-vocab.cpp does), followed by ByteLevel. "llama" is SentencePiece with scores,
 * encoded as llama.cpp's llm_tokenizer_spm does; its "▁" handling is expressed as the same
 * Prepend + Replace normalizers and decoder chain as Llama 2's tokenizer.json.
 * Token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte. Control and
 * unknown tokens are matched in text as special tokens, user-defined ones as plain added tokens
 * (llama.cpp with parse_special). No NFC normalization is applied (llama.cpp applies none). */
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "tokenizer/tok_build.h"
#include "tokenizer/tok_load.h"
#include "tokenizer/tok_regex.h"

/* ---- the pre-tokenizer regexes by tokenizer.ggml.pre name ---- */
/* clang-format off */

typedef struct {
    const char *names[9];
    const char *regex[6];
    int ignore_merges;
} PreDef;

static const PreDef PRE_DEFS[] = {
    {{"llama3", "llama-v3", "llama-bpe", "falcon3", NULL}, {TOK_RE_LLAMA3}, 1},
    {{"dbrx", "smaug-bpe", "chatglm-bpe", "glm4", NULL}, {TOK_RE_LLAMA3}, 0},
    {{"qwen2", "deepseek-r1-qwen", "stablelm2", "megrez", NULL}, {TOK_RE_QWEN2}, 0},
    {{"deepseek-coder", NULL}, {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", TOK_RE_CJK, "\\p{N}"}, 0},
    /* its tokenizer.json splits digits one by one (Digits); llama.cpp takes runs */
    {{"deepseek-llm", NULL},
     {"[\r\n]", TOK_RE_DEEPSEEK_LLM_LETTERS, TOK_RE_DEEPSEEK_LLM_PUNCT, "\\s+$", TOK_RE_CJK, "\\p{N}+"},
     0},
    {{"deepseek-v3", NULL}, {"\\p{N}{1,3}", TOK_RE_DEEPSEEK_V3_CJK, TOK_RE_DEEPSEEK_V3}, 0},
    {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", NULL},
     {"\\p{N}", TOK_RE_GPT2},
     0},
    {{"gpt-2", "phi-2", "mpt", "olmo", "jais", "roberta-bpe", "gigachat", "exaone4", NULL}, {TOK_RE_GPT2}, 0},
    {{"jina-es", "jina-de", "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code", NULL}, {TOK_RE_GPT2}, 0},
    {{"falcon", NULL},
     {"[\\p{P}\\$\\+<=>\\^~\\|`]+", TOK_RE_GPT2, "[0-9][0-9][0-9]"},
     0},
    {{"poro-chat", "bloom", "gpt3-finnish", NULL},
     {" ?[^(\\s|.,!?\xE2\x80\xA6\xE3\x80\x82\xEF\xBC\x8C\xE3\x80\x81\xE0\xA5\xA4\xDB\x94\xD8\x8C)]+"},
     0},
    /* llama.cpp's fallback for "default" (and missing) pre names */
    {{"default", NULL},
     {"[\\p{P}\\$\\+<=>\\^~\\|]+", TOK_RE_GPT2, "\\p{N}+", "[0-9][0-9][0-9]"},
     0},
};

/* clang-format on */

static const PreDef *find_pre(const char *name, size_t len) {
    for (size_t i = 0; i < sizeof PRE_DEFS / sizeof *PRE_DEFS; i++)
        for (int k = 0; PRE_DEFS[i].names[k]; k++)
            if (strlen(PRE_DEFS[i].names[k]) == len && !memcmp(PRE_DEFS[i].names[k], name, len))
                return &PRE_DEFS[i];
    return NULL;
}

/* ---- loading ---- */

static int get_id(const Gguf *g, const char *key, int n_vocab) {
    int64_t v;
    if (gguf_get_int(g, key, &v) || v < 0 || v >= n_vocab) return -1;
    return (int)v;
}


/* ---- llama.cpp's guesses at token types from their texts ----
 *
 * llama.cpp's vocabulary loader (llama-vocab.cpp) changes some token types by their text, whatever
 * the GGUF says, and tokenizes with the changed types: end-of-generation texts become control
 * tokens (so "</s>", an HTML tag and a user-defined token in Gemma 2/3, is no longer matched with
 * parse_special off), so do fill-in-the-middle texts when the GGUF names no id of that kind, and a
 * few gpt-oss texts become user-defined. Applied here the same way, so that a GGUF encodes as
 * llama.cpp encodes it. (Where several texts of one FIM kind are present llama.cpp marks only the
 * first its hash map yields; all are marked here.) */

enum { TT_NORMAL = 1, TT_CONTROL = 3, TT_USER = 4 };

static const char *const EOG_TEXTS[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>", "[e~[", NULL};

/* fill-in-the-middle kinds: the GGUF keys that name the id (then no guess), and the texts */
static const struct {
    const char *keys[2];
    const char *texts[9];
} FIM_KINDS[] = {
    {{"tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id"},
     {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>",
      "<PRE>", "\xE2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", NULL}},
    {{"tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id"},
     {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81hole\xEF\xBD\x9C>",
      "<SUF>", "\xE2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", NULL}},
    {{"tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id"},
     {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>",
      "<MID>", "\xE2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL}},
    {{"tokenizer.ggml.fim_pad_token_id", NULL}, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL}},
    {{"tokenizer.ggml.fim_rep_token_id", NULL},
     {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", NULL}},
    {{"tokenizer.ggml.fim_sep_token_id", NULL}, {"<|file_sep|>", NULL}},
};

static const char *const ALWAYS_USER_TEXTS[] = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>", NULL};

/* s (len bytes, maybe with NULs) equals the C string t; stops at the first difference. */
static int is_text(const char *s, size_t len, const char *t) {
    for (size_t i = 0; i < len; i++)
        if (!t[i] || t[i] != s[i]) return 0;
    return !t[len];
}

static int in_list(const char *s, size_t len, const char *const *list) {
    for (int i = 0; list[i]; i++)
        if (is_text(s, len, list[i])) return 1;
    return 0;
}

/* What the whole vocabulary decides: which FIM kinds are guessed, and the two exceptions to the
 * end-of-generation rule ("<|end|>" stays user-defined next to "<|return|>"/"<|call|>" or
 * "<|calls|>"/"<|flush|>"; "</s>" stays normal next to "<|tool_response>"). */
typedef struct {
    int guess_fim[sizeof FIM_KINDS / sizeof FIM_KINDS[0]];
    int end_is_user, s_is_normal;
    /* the tok_hash of every listed text (0: empty slot), so that a vocabulary of tokens that look
     * listed ("<|unused_9|>": all but 265 of coldtok synth's 151,936) costs one hash per token
     * instead of some 60 comparisons; a token whose hash is here is then compared as before */
    uint64_t listed[256];
} TypeGuess;

/* The special ids coldtok reads must name tokens: an id past the vocabulary (bos 99999 of 512
 * tokens) is refused, not silently replaced by another token (llama.cpp warns and falls back). */
static int check_special_ids(const Gguf *g, int n_vocab, Err *err) {
    static const char *keys[] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                 "tokenizer.ggml.unknown_token_id"};
    int64_t v;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (gguf_get_int_range(g, keys[i], 0, n_vocab - 1, &v, err) < 0) return -1;
    for (size_t k = 0; k < sizeof FIM_KINDS / sizeof FIM_KINDS[0]; k++)
        for (int j = 0; j < 2 && FIM_KINDS[k].keys[j]; j++)
            if (gguf_get_int_range(g, FIM_KINDS[k].keys[j], 0, n_vocab - 1, &v, err) < 0) return -1;
    return 0;
}

static void listed_add(TypeGuess *q, const char *const *list) {
    const size_t mask = sizeof q->listed / sizeof q->listed[0] - 1;
    for (int i = 0; list[i]; i++) {
        uint64_t h = tok_hash(list[i], strlen(list[i])) | 1;
        size_t k = (size_t)h & mask;
        while (q->listed[k] && q->listed[k] != h) k = (k + 1) & mask;
        q->listed[k] = h;
    }
}

/* Whether s may equal a listed text: its hash is one of theirs. */
static int maybe_listed_text(const TypeGuess *q, const char *s, size_t len) {
    const size_t mask = sizeof q->listed / sizeof q->listed[0] - 1;
    uint64_t h = tok_hash(s, len) | 1;
    for (size_t k = (size_t)h & mask; q->listed[k]; k = (k + 1) & mask)
        if (q->listed[k] == h) return 1;
    return 0;
}

static void plan_guesses(const Gguf *g, int kv, uint64_t n, TypeGuess *q) {
    memset(q, 0, sizeof *q);
    listed_add(q, EOG_TEXTS);
    for (size_t k = 0; k < sizeof FIM_KINDS / sizeof FIM_KINDS[0]; k++) listed_add(q, FIM_KINDS[k].texts);
    listed_add(q, ALWAYS_USER_TEXTS);
    for (size_t k = 0; k < sizeof FIM_KINDS / sizeof FIM_KINDS[0]; k++) {
        int named = 0;
        for (int j = 0; j < 2 && FIM_KINDS[k].keys[j]; j++) named |= get_id(g, FIM_KINDS[k].keys[j], (int)n) >= 0;
        q->guess_fim[k] = !named;
    }
    int ret = 0, call = 0, flush = 0, tool = 0;
    for (uint64_t i = 0; i < n; i++) {
        size_t len;
        const char *s = gguf_arr_str(g, kv, i, &len);
        if (!s || len < 6 || len > 16) continue;
        ret |= is_text(s, len, "<|return|>");
        call |= is_text(s, len, "<|call|>") || is_text(s, len, "<|calls|>");
        flush |= is_text(s, len, "<|flush|>");
        tool |= is_text(s, len, "<|tool_response>");
    }
    q->end_is_user = (ret && call) || (call && flush);
    q->s_is_normal = tool;
}

/* Whether a text may be in one of the lists above: every one of them is at most 64 bytes with a
 * '<' or a '[' in its first 4 (keep it so when adding one). Most tokens fail this at once, sparing
 * a 151k-token vocabulary some 5 million string comparisons. */
static int may_be_listed(const char *s, size_t len) {
    if (len > 64) return 0;
    for (size_t i = 0; i < len && i < 4; i++)
        if (s[i] == '<' || s[i] == '[') return 1;
    return 0;
}

static int64_t guessed_type(const TypeGuess *q, const char *s, size_t len, int64_t type) {
    if (!may_be_listed(s, len) || !maybe_listed_text(q, s, len)) return type;
    if (in_list(s, len, EOG_TEXTS)) {
        if (q->end_is_user && is_text(s, len, "<|end|>")) return TT_USER;
        if (q->s_is_normal && is_text(s, len, "</s>")) return TT_NORMAL;
        return TT_CONTROL;
    }
    for (size_t k = 0; k < sizeof FIM_KINDS / sizeof FIM_KINDS[0]; k++)
        if (q->guess_fim[k] && in_list(s, len, FIM_KINDS[k].texts)) return TT_CONTROL;
    if (in_list(s, len, ALWAYS_USER_TEXTS)) return TT_USER;
    return type;
}

/* An int/float array kv of exactly n elements, or -1 (absent) / -2 (wrong shape). */
static int numeric_array(const Gguf *g, const char *key, uint64_t n) {
    int kv = gguf_find_kv(g, key);
    if (kv < 0) return -1;
    int et;
    uint64_t cnt;
    if (gguf_arr_info(g, kv, &et, &cnt) || cnt != n || et == GGUF_STRING || et == GGUF_ARRAY)
        return -2;
    return kv;
}

static int load_vocab(Tokenizer *t, const Gguf *g, int is_spm, Err *err) {
    char sh[256];
    int kv = gguf_find_kv(g, "tokenizer.ggml.tokens");
    int et;
    uint64_t n;
    if (kv < 0)
        return err_set(err, "%s: no tokenizer.ggml.tokens (no tokenizer in this GGUF)", t->path);
    if (gguf_arr_info(g, kv, &et, &n) || et != GGUF_STRING)
        return err_set(err, "%s: tokenizer.ggml.tokens is not a string array", t->path);
    unsigned long long nn = (unsigned long long)n;
    if (n == 0 || n > TOK_MAX_VOCAB)
        return err_set(err, "%s: tokenizer.ggml.tokens has %llu entries", t->path, nn);
    int tkv = numeric_array(g, "tokenizer.ggml.token_type", n);
    int skv = numeric_array(g, "tokenizer.ggml.scores", n);
    if (tkv == -2)
        return err_set(err, "%s: tokenizer.ggml.token_type does not match the %llu tokens", t->path,
                       nn);
    if (skv == -2)
        return err_set(err, "%s: tokenizer.ggml.scores does not match the %llu tokens", t->path,
                       nn);
    tok_alloc_table(t, (int)n);
    strmap_init(&t->piece_map, (size_t)n);
    strmap_init(&t->added_map, 64);
    if (is_spm) t->scores = xcalloc((size_t)n, sizeof *t->scores);
    t->added = xcalloc(1, sizeof *t->added);
    int cap_added = 1;
    TypeGuess guess;
    plan_guesses(g, kv, n, &guess);
    /* The texts go to the arena and their hashes are taken first; the inserts then prefetch the
     * slot a few tokens ahead (the map is far bigger than the caches). */
    uint64_t *h = xmalloc(((size_t)n + 1) * sizeof *h);
    for (uint64_t i = 0; i < n; i++) {
        size_t len;
        const char *s = gguf_arr_str(g, kv, i, &len);
        char empty[32];
        if (!s) {
            free(h);
            return err_set(err, "%s: tokenizer.ggml.tokens[%llu] unreadable", t->path,
                           (unsigned long long)i);
        }
        if (len == 0) { /* llama.cpp renames empty tokens the same way */
            len = (size_t)snprintf(empty, sizeof empty, "[EMPTY_%llu]", (unsigned long long)i);
            s = empty;
        }
        int64_t type = 1;
        if (tkv >= 0 && gguf_arr_int(g, tkv, i, &type)) type = 1;
        type = guessed_type(&guess, s, len, type);
        if (is_spm && skv >= 0) {
            double sc = 0;
            gguf_arr_float(g, skv, i, &sc);
            t->scores[i] = (float)sc;
        }
        t->piece_off[i] = tok_arena_put(t, s, len);
        t->piece_len[i] = (uint32_t)len;
        h[i] = tok_hash(s, len);
        uint8_t f = 0;
        switch (type) {
        case 2: f = TOK_UNKNOWN | TOK_SPECIAL | TOK_ADDED; break;
        case 3: f = TOK_SPECIAL | TOK_ADDED; break;
        case 4: f = TOK_ADDED; break;
        case 5: f = TOK_UNUSED; break;
        case 6: f = TOK_BYTE; break;
        default: break;
        }
        t->flags[i] = f;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (i + 8 < n) strmap_prefetch(&t->piece_map, h[i + 8]);
        const uint32_t off = t->piece_off[i], len = t->piece_len[i];
        long e = strmap_add_hashed(&t->piece_map, t->arena.data, off, len, (int)i, h[i]);
        if (t->piece_map.slots[e].val != (int)i) {
            free(h);
            return err_set(err, "%s: token %llu repeats token %d (\"%s\")", t->path,
                           (unsigned long long)i, t->piece_map.slots[e].val,
                           tok_shown(t->arena.data + off, len, sh, sizeof sh));
        }
        const uint8_t f = t->flags[i];
        if (f & TOK_ADDED) {
            if (t->n_added == cap_added) {
                cap_added *= 2;
                t->added = xrealloc(t->added, (size_t)cap_added * sizeof *t->added);
            }
            AddedTok *a = &t->added[t->n_added++];
            memset(a, 0, sizeof *a);
            a->id = (int)i;
            a->off = off;
            a->len = len;
            a->special = (f & TOK_SPECIAL) != 0;
            t->bytes_off[i] = off;
            t->bytes_len[i] = len;
            strmap_add(&t->added_map, t->arena.data, off, len, (int)i);
        }
    }
    free(h);
    if (check_special_ids(g, (int)n, err)) return -1;
    t->bos = get_id(g, "tokenizer.ggml.bos_token_id", (int)n);
    t->eos = get_id(g, "tokenizer.ggml.eos_token_id", (int)n);
    t->unk = get_id(g, "tokenizer.ggml.unknown_token_id", (int)n);
    if (is_spm && t->unk < 0) t->unk = 0; /* llama.cpp's SPM default */
    return 0;
}

static int load_merges(Tokenizer *t, const Gguf *g, Err *err) {
    int kv = gguf_find_kv(g, "tokenizer.ggml.merges");
    int et;
    uint64_t n;
    if (kv < 0) return err_set(err, "%s: gpt2 tokenizer without tokenizer.ggml.merges", t->path);
    if (gguf_arr_info(g, kv, &et, &n) || et != GGUF_STRING)
        return err_set(err, "%s: tokenizer.ggml.merges is not a string array", t->path);
    pairmap_init(&t->merges, (size_t)n);
    /* Three lookups per merge in a table far bigger than the caches: done in batches whose
     * slots are prefetched first (the order of the inserts is the file's). */
    enum { BATCH = 16 };
    struct {
        const char *a, *b;
        size_t al, bl, joff, jlen;
        uint64_t h[3];
    } q[BATCH];
    size_t nq = 0;
    uint64_t first = 0; /* index of q[0] */
    Buf joined = {0};
    for (uint64_t i = 0; i <= n; i++) {
        if (i < n) {
            size_t len;
            const char *s = gguf_arr_str(g, kv, i, &len);
            const char *sp =
                s && len > 1 ? memchr(s + 1, ' ', len - 1) : NULL; /* as llama.cpp: from 1 */
            if (!sp) {
                buf_free(&joined);
                return err_set(err, "%s: tokenizer.ggml.merges[%llu] is not \"a b\"", t->path,
                               (unsigned long long)i);
            }
            if (nq == 0) first = i;
            q[nq].a = s, q[nq].al = (size_t)(sp - s);
            q[nq].b = sp + 1, q[nq].bl = len - q[nq].al - 1;
            q[nq].joff = joined.len;
            buf_append(&joined, s, q[nq].al);
            buf_append(&joined, sp + 1, q[nq].bl);
            q[nq].jlen = joined.len - q[nq].joff;
            q[nq].h[0] = tok_hash(q[nq].a, q[nq].al);
            q[nq].h[1] = tok_hash(q[nq].b, q[nq].bl);
            q[nq].h[2] = tok_hash(joined.data + q[nq].joff, q[nq].jlen);
            for (int k = 0; k < 3; k++) strmap_prefetch(&t->piece_map, q[nq].h[k]);
            nq++;
        }
        if (nq < BATCH && !(i == n && nq)) continue;
        int ids[BATCH][3];
        for (size_t j = 0; j < nq; j++) {
            const StrMap *pm = &t->piece_map;
            const char *ar = t->arena.data;
            long e[3] = {strmap_find_hashed(pm, ar, q[j].a, q[j].al, q[j].h[0]),
                         strmap_find_hashed(pm, ar, q[j].b, q[j].bl, q[j].h[1]),
                         strmap_find_hashed(pm, ar, joined.data + q[j].joff, q[j].jlen, q[j].h[2])};
            for (int k = 0; k < 3; k++) ids[j][k] = e[k] < 0 ? -1 : pm->slots[e[k]].val;
            if (ids[j][0] >= 0 && ids[j][1] >= 0)
                pairmap_prefetch(&t->merges, (uint32_t)ids[j][0], (uint32_t)ids[j][1]);
        }
        for (size_t j = 0; j < nq; j++) {
            int a = ids[j][0], b = ids[j][1], m = ids[j][2];
            /* a merge naming a token the vocabulary lacks is a broken file (the tokenizer.json
             * loader and HF tokenizers refuse it too), not a merge to skip in silence */
            if (a < 0 || b < 0 || m < 0) {
                size_t len = q[j].al + 1 + q[j].bl;
                buf_free(&joined);
                return err_set(err, "%s: tokenizer.ggml.merges[%llu] \"%.*s\" uses a token that is not in the vocabulary",
                               t->path, (unsigned long long)(first + j), (int)(len < 64 ? len : 64), q[j].a);
            }
            /* llama.cpp keeps the first of duplicate merges */
            if (pairmap_find(&t->merges, (uint32_t)a, (uint32_t)b) >= 0) continue;
            pairmap_put(&t->merges, (uint32_t)a, (uint32_t)b, (uint32_t)(first + j), (uint32_t)m);
        }
        nq = 0;
        buf_clear(&joined);
    }
    buf_free(&joined);
    return 0;
}

static void add_norm(Tokenizer *t, int kind, const char *str, const char *lit) {
    t->norm = xrealloc(t->norm, (size_t)(t->n_norm + 1) * sizeof *t->norm);
    NormStep *s = &t->norm[t->n_norm++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->str = xstrdup(str);
    s->len = strlen(str);
    if (lit) pattern_init(&s->pat, 0, lit, strlen(lit), NULL);
}

static DecStep *add_dec(Tokenizer *t, int kind) {
    t->dec = xrealloc(t->dec, (size_t)(t->n_dec + 1) * sizeof *t->dec);
    DecStep *s = &t->dec[t->n_dec++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    t->has_decoder = 1;
    return s;
}

static int load_from(Tokenizer *t, const Gguf *g, Err *err) {
    char sh[256];
    size_t mlen;
    const char *model = gguf_get_str(g, "tokenizer.ggml.model", &mlen);
    if (!model)
        return err_set(err, "%s: no tokenizer.ggml.model (no tokenizer in this GGUF)", t->path);
    int is_spm = mlen == 5 && !memcmp(model, "llama", 5);
    int is_bpe = mlen == 4 && !memcmp(model, "gpt2", 4);
    if (!is_spm && !is_bpe)
        return err_set(err,
                       "%s: unsupported tokenizer.ggml.model '%s' (gpt2 and llama are supported)",
                       t->path, tok_shown(model, mlen, sh, sizeof sh));
    const PreDef *pre = NULL;
    size_t plen = 7;
    const char *pname = "default";
    if (is_bpe) {
        const char *p = gguf_get_str(g, "tokenizer.ggml.pre", &plen);
        if (p)
            pname = p;
        else
            plen = 7;
        pre = find_pre(pname, plen);
        if (!pre)
            return err_set(err, "%s: unknown tokenizer.ggml.pre '%s'", t->path,
                           tok_shown(pname, plen, sh, sizeof sh));
    }
    if (load_vocab(t, g, is_spm, err)) return -1;
    t->added_raw = 1;
    if (is_bpe) {
        t->model = MODEL_BPE;
        t->byte_level = 1;
        t->missing_byte_fails = 1;
        t->ignore_merges = pre->ignore_merges;
        if (load_merges(t, g, err)) return -1;
        for (int k = 0; k < 6 && pre->regex[k]; k++) {
            t->pre = xrealloc(t->pre, (size_t)(t->n_pre + 1) * sizeof *t->pre);
            PreStep *st = &t->pre[t->n_pre++];
            memset(st, 0, sizeof *st);
            st->kind = PRE_SPLIT;
            st->behavior = B_ISOLATED;
            Err e;
            if (pattern_init(&st->pat, 1, pre->regex[k], strlen(pre->regex[k]), &e))
                return err_set(err, "%s: %s", t->path, e.msg);
        }
        t->pre = xrealloc(t->pre, (size_t)(t->n_pre + 1) * sizeof *t->pre);
        memset(&t->pre[t->n_pre], 0, sizeof *t->pre);
        t->pre[t->n_pre++].kind = PRE_BYTELEVEL;
        add_dec(t, DEC_BYTELEVEL);
        snprintf(t->kind, sizeof t->kind, "BPE (byte-level)");
        snprintf(t->pre_desc, sizeof t->pre_desc, "gguf pre=%s",
                 tok_shown(pname, plen, sh, sizeof sh));
    } else {
        t->model = MODEL_SPM;
        int asp = 1;
        if (gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &asp)) asp = 1;
        t->add_space_prefix = asp;
        if (asp) add_norm(t, NORM_PREPEND, "\xE2\x96\x81", NULL);
        add_norm(t, NORM_REPLACE, "\xE2\x96\x81", " ");
        DecStep *d = add_dec(t, DEC_REPLACE);
        pattern_init(&d->pat, 0, "\xE2\x96\x81", 3, NULL);
        d->content = xstrdup(" ");
        d->content_len = 1;
        add_dec(t, DEC_BYTEFALLBACK);
        add_dec(t, DEC_FUSE);
        if (asp) {
            d = add_dec(t, DEC_STRIP);
            d->strip_cp = ' ';
            d->start = 1;
        }
        snprintf(t->kind, sizeof t->kind, "SentencePiece (scores)");
        snprintf(t->pre_desc, sizeof t->pre_desc, "gguf llama%s", asp ? " (space prefix)" : "");
    }
    return 0;
}

int tok_load_gguf(Tokenizer *t, Err *err) {
    Gguf *g = gguf_open(t->path, err);
    if (!g) return -1;
    int rc = load_from(t, g, err);
    gguf_close(g);
    return rc;
}
