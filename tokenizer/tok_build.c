/* tok_build: see tok_build.h. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_build.h"

Tokenizer *tok_new(char *path) {
    Tokenizer *t = xcalloc(1, sizeof *t);
    t->path = path;
    t->bos = t->eos = t->unk = -1;
    for (int i = 0; i < 256; i++) t->byte_id[i] = -1;
    pthread_mutex_init(&t->bytes_lock, NULL);
    return t;
}

uint32_t tok_arena_put(Tokenizer *t, const char *s, size_t len) {
    uint32_t off = (uint32_t)t->arena.len;
    buf_append(&t->arena, s, len);
    buf_putc(&t->arena, '\0'); /* so tok_piece/tok_bytes are NUL-terminated */
    return off;
}

void tok_arena_reserve(Tokenizer *t, size_t extra) {
    Buf *a = &t->arena;
    if (a->len + extra + 1 <= a->cap) return;
    size_t cap = a->len + extra + 1;
    if (cap >= TOK_BULK_MIN) cap = (cap + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1);
    char *d = tok_bulk_alloc(cap);
    if (a->data) memcpy(d, a->data, a->len);
    d[a->len] = '\0';
    free(a->data);
    a->data = d, a->cap = cap;
}

void tok_alloc_table(Tokenizer *t, int n_vocab) {
    t->n_vocab = n_vocab;
    size_t n = (size_t)n_vocab;
    /* one block (tok_free frees it by piece_off): one allocation's huge pages, not five */
    uint32_t *block = tok_bulk_alloc(4 * n * sizeof *block + n + 1);
    t->piece_off = block, t->piece_len = block + n, t->bytes_off = block + 2 * n;
    t->bytes_len = block + 3 * n, t->flags = (uint8_t *)(block + 4 * n);
    uint32_t empty = tok_arena_put(t, "", 0);
    for (size_t i = 0; i < n; i++) {
        t->piece_off[i] = t->bytes_off[i] = empty;
        t->piece_len[i] = t->bytes_len[i] = 0;
        t->flags[i] = TOK_UNUSED; /* until a loader fills the id */
    }
}

int tok_find_piece(const Tokenizer *t, const char *piece, size_t len) {
    int id = strmap_get(&t->added_map, t->arena.data, piece, len);
    return id >= 0 ? id : strmap_get(&t->piece_map, t->arena.data, piece, len);
}

/* ---- finishing a load ---- */

/* Lower is better for tok_id_of_bytes: a normal token, then a non-special added one, then a byte
 * token; special, unknown and unused tokens are never returned. */
static int bytes_rank(unsigned f) {
    if (f & (TOK_SPECIAL | TOK_UNKNOWN | TOK_UNUSED)) return -1;
    if (f & TOK_BYTE) return 2;
    if (f & TOK_ADDED) return 1;
    return 0;
}

const StrMap *tok_bytes_map(const Tokenizer *tc) {
    if (atomic_load_explicit(&tc->bytes_ready, memory_order_acquire)) return &tc->bytes_map;
    Tokenizer *t = (Tokenizer *)tc; /* allocated by tok_new: the lazy part is not const */
    pthread_mutex_lock(&t->bytes_lock);
    if (!atomic_load_explicit(&t->bytes_ready, memory_order_relaxed)) {
        strmap_init(&t->bytes_map, (size_t)t->n_vocab);
        /* hashes first, then prefetching inserts */
        uint64_t *h = xmalloc(((size_t)t->n_vocab + 1) * sizeof *h);
        for (int id = 0; id < t->n_vocab; id++)
            h[id] = tok_hash(t->arena.data + t->bytes_off[id], t->bytes_len[id]);
        for (int id = 0; id < t->n_vocab; id++) {
            if (id + 8 < t->n_vocab) strmap_prefetch(&t->bytes_map, h[id + 8]);
            int r = bytes_rank(t->flags[id]);
            if (r < 0 || !t->bytes_len[id]) continue;
            long e = strmap_add_hashed(&t->bytes_map, t->arena.data, t->bytes_off[id],
                                       t->bytes_len[id], id, h[id]);
            int cur = t->bytes_map.slots[e].val;
            if (cur != id && bytes_rank(t->flags[cur]) > r) t->bytes_map.slots[e].val = id;
        }
        free(h);
        atomic_store_explicit(&t->bytes_ready, 1, memory_order_release);
    }
    pthread_mutex_unlock(&t->bytes_lock);
    return &t->bytes_map;
}

int tok_finish(Tokenizer *t, Err *err) {
    /* byte tokens */
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        int id = strmap_get(&t->piece_map, t->arena.data, name, 6);
        if (id >= 0 && (t->model == MODEL_SPM || t->byte_fallback)) {
            t->byte_id[b] = id;
            t->flags[id] |= TOK_BYTE;
        }
    }
    if (t->unk >= 0 && t->unk < t->n_vocab) t->flags[t->unk] |= TOK_UNKNOWN;
    /* bytes of every token; a byte-level vocabulary's are decoded straight into the arena, its
     * room reserved first (the bytes are never longer than the piece) */
    if (t->byte_level) {
        size_t room = 0;
        for (int id = 0; id < t->n_vocab; id++) room += t->piece_len[id] + 1;
        tok_arena_reserve(t, room);
    }
    Buf b = {0};
    for (int id = 0; id < t->n_vocab; id++) {
        if (t->flags[id] & TOK_UNUSED && !t->piece_len[id]) continue;
        if (t->flags[id] & TOK_ADDED) continue; /* the loader set bytes = content */
        if (t->byte_level && !(t->flags[id] & TOK_BYTE)) { /* tok_piece_bytes' byte-level case */
            char *dst = t->arena.data + t->arena.len;
            const char *piece = t->arena.data + t->piece_off[id];
            size_t n = tok_byte_level_bytes(piece, t->piece_len[id], dst);
            dst[n] = '\0';
            t->bytes_off[id] = (uint32_t)t->arena.len;
            t->bytes_len[id] = (uint32_t)n;
            t->arena.len += n + 1;
            t->arena.data[t->arena.len] = '\0'; /* a Buf's data ends in a NUL */
            continue;
        }
        buf_clear(&b);
        tok_piece_bytes(t, t->arena.data + t->piece_off[id], t->piece_len[id],
                        (t->flags[id] & TOK_BYTE) != 0, &b);
        t->bytes_off[id] = tok_arena_put(t, b.data ? b.data : "", b.len);
        t->bytes_len[id] = (uint32_t)b.len;
    }
    buf_free(&b);
    /* Merges only ever build vocabulary tokens, so when no token has "▁" right after another
     * character, no merge crosses the boundary before such a "▁" in a word: an unsplit
     * SentencePiece-style text (Llama 2) can be merged word by word, and memoized. */
    t->meta_split = !t->cont_prefix_len && !t->eow_suffix_len && /* and "▁" is a token, so it */
        strmap_get(&t->piece_map, t->arena.data, "\xE2\x96\x81", 3) >= 0; /* ends an unk run */
    for (size_t e = 0; e <= t->piece_map.mask && t->meta_split; e++) {
        if (STRMAP_EMPTY(&t->piece_map, e)) continue;
        const char *p = t->arena.data + t->piece_map.slots[e].off;
        uint32_t n = t->piece_map.slots[e].len;
        for (uint32_t k = 1; k + 3 <= n; k++)
            if (!memcmp(p + k, "\xE2\x96\x81", 3) &&
                (k < 3 || memcmp(p + k - 3, "\xE2\x96\x81", 3))) {
                t->meta_split = 0;
                break;
            }
    }
    /* added tokens: the raw trie, and the normalized one over normalized contents */
    trie_init(&t->raw_trie);
    trie_init(&t->norm_trie);
    EncCtx c = {0};
    Buf nb = {0};
    for (int i = 0; i < t->n_added; i++) {
        AddedTok *a = &t->added[i];
        const char *content = t->arena.data + a->off;
        if (!a->normalized) {
            trie_add(&t->raw_trie, content, a->len, i);
            continue;
        }
        buf_clear(&nb);
        if (tok_normalize(t, &c, content, a->len, 0, &nb, err)) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            err_set(err, "%s: added token %d: %s", t->path, a->id, msg);
            buf_free(&nb);
            encctx_free(&c);
            return -1;
        }
        a->noff = tok_arena_put(t, nb.data ? nb.data : "", nb.len);
        a->nlen = (uint32_t)nb.len;
        trie_add(&t->norm_trie, t->arena.data + a->noff, a->nlen, i);
    }
    buf_free(&nb);
    encctx_free(&c);
    tok_prepare_cuts(t);
    return 0;
}

void tok_free(Tokenizer *t) {
    if (!t) return;
    free(t->path);
    free(t->arena.data);
    free(t->piece_off); /* and the other four arrays: tok_alloc_table */
    free(t->scores);
    strmap_free(&t->piece_map);
    strmap_free(&t->added_map);
    strmap_free(&t->bytes_map);
    pthread_mutex_destroy(&t->bytes_lock);
    pairmap_free(&t->merges);
    free(t->cont_prefix);
    free(t->eow_suffix);
    free(t->added);
    trie_free(&t->raw_trie);
    trie_free(&t->norm_trie);
    for (int i = 0; i < t->n_norm; i++) {
        pattern_free(&t->norm[i].pat);
        free(t->norm[i].str);
    }
    free(t->norm);
    for (int i = 0; i < t->n_pre; i++) pattern_free(&t->pre[i].pat);
    free(t->pre);
    for (int i = 0; i < t->n_dec; i++) {
        pattern_free(&t->dec[i].pat);
        free(t->dec[i].content);
    }
    free(t->dec);
    free(t);
}
