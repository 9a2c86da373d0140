/* tok_model: the models that turn one pre-token into ids.
 *
 * BPE is Hugging Face's Word::merge_all: symbols in a linked list, a binary heap of candidate
 * merges ordered by (rank, position), stale entries skipped when the pair at that position no
 * longer yields the merge's new id. SentencePiece ("llama" in GGUF) is llama.cpp's
 * llm_tokenizer_spm: bigrams ordered by (score of the merged piece, descending; left position),
 * pieces that are not tokens fall back to byte tokens.
 * Both run in O(n log n) over the symbols, so an unsplit Llama-2 text of any length is fine. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"

static void grow_syms(EncCtx *c, size_t n) {
    if (n <= c->capsym) return;
    size_t cap = c->capsym ? c->capsym : 64;
    while (cap < n) cap *= 2;
    c->sym = xrealloc(c->sym, cap * sizeof *c->sym);
    c->prev = xrealloc(c->prev, cap * sizeof *c->prev);
    c->next = xrealloc(c->next, cap * sizeof *c->next);
    c->dead = xrealloc(c->dead, cap * sizeof *c->dead);
    c->capsym = cap;
}

/* Heap order: smaller key first; key = (k1, pos). BPE: k1 = rank. SPM: k1 = -score. */
static inline int heap_less(const HeapEnt *a, const HeapEnt *b) {
    if (a->score != b->score) return a->score < b->score;
    return a->pos < b->pos;
}

static void heap_push(EncCtx *c, HeapEnt e) {
    if (c->nheap == c->capheap) {
        c->capheap = c->capheap ? c->capheap * 2 : 64;
        c->heap = xrealloc(c->heap, c->capheap * sizeof *c->heap);
    }
    size_t i = c->nheap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(&e, &c->heap[p])) break;
        c->heap[i] = c->heap[p];
        i = p;
    }
    c->heap[i] = e;
}

static HeapEnt heap_pop(EncCtx *c) {
    HeapEnt top = c->heap[0], last = c->heap[--c->nheap];
    size_t i = 0, n = c->nheap;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const HeapEnt *best = &last;
        if (l < n && heap_less(&c->heap[l], best)) m = l, best = &c->heap[l];
        if (r < n && heap_less(&c->heap[r], best)) m = r;
        if (m == i) break;
        c->heap[i] = c->heap[m];
        i = m;
    }
    if (n) c->heap[i] = last;
    return top;
}

/* ---- BPE ---- */

static void bpe_add_pair(const Tokenizer *t, EncCtx *c, int pos) {
    int nx = c->next[pos];
    if (nx < 0) return;
    long k = pairmap_find(&t->merges, (uint32_t)c->sym[pos], (uint32_t)c->sym[nx]);
    if (k < 0) return;
    const PairEnt *m = &t->merges.slots[k];
    heap_push(c, (HeapEnt){m->rank, pos, m->new_id, (float)m->rank});
}

static void sym_add(EncCtx *c, int id) {
    grow_syms(c, c->nsym + 1);
    int i = (int)c->nsym++;
    c->sym[i] = id;
    c->prev[i] = i - 1;
    c->next[i] = -1;
    c->dead[i] = 0;
    if (i > 0) c->next[i - 1] = i;
}

static int bpe_word(const Tokenizer *t, EncCtx *c, const char *w, size_t n, IntVec *out, Err *err) {
    const char *arena = t->arena.data;
    if (t->ignore_merges) {
        int id = strmap_get(&t->piece_map, arena, w, n);
        if (id >= 0) {
            intvec_push(out, id);
            return 0;
        }
    }
    c->nsym = 0;
    int unk_pending = 0;
    size_t i = 0;
    while (i < n) {
        uint32_t cp = UINT32_MAX;
        int cl = utf8_decode((const uint8_t *)w + i, n - i, &cp);
        if (!cl) cl = 1;
        const char *s = w + i;
        size_t sl = (size_t)cl;
        int first = i == 0, last = i + (size_t)cl == n;
        if ((!first && t->cont_prefix_len) || (last && t->eow_suffix_len)) {
            buf_clear(&c->word);
            if (!first) buf_append(&c->word, t->cont_prefix, t->cont_prefix_len);
            buf_append(&c->word, s, sl);
            if (last) buf_append(&c->word, t->eow_suffix, t->eow_suffix_len);
            s = c->word.data;
            sl = c->word.len;
        }
        i += (size_t)cl;
        int id = strmap_get(&t->piece_map, arena, s, sl);
        if (id >= 0) {
            if (unk_pending) sym_add(c, t->unk), unk_pending = 0;
            sym_add(c, id);
            continue;
        }
        if (t->byte_fallback) {
            size_t k;
            for (k = 0; k < sl && t->byte_id[(uint8_t)s[k]] >= 0; k++) {
            }
            if (k == sl) {
                /* tokenizers does not flush a pending unk here: it stays pending */
                for (k = 0; k < sl; k++) sym_add(c, t->byte_id[(uint8_t)s[k]]);
                continue;
            }
        }
        if (t->unk >= 0 || t->unk_missing) {
            if (t->unk_missing)
                return err_set(err, "%s: the unk token is not in the vocabulary", t->path);
            if (unk_pending && !t->fuse_unk) sym_add(c, t->unk);
            unk_pending = 1;
        }
        /* no unk token: the character is dropped, as tokenizers does (and llama.cpp's BPE for a
         * GGUF); but in a GGUF byte-level vocabulary every byte must have its token: a byte
         * silently missing from the ids would pass for a faithful encoding (issue 17) */
        if (t->unk < 0 && !t->unk_missing && t->byte_level && t->missing_byte_fails) {
            int byte = -1;
            for (int b = 0; b < 256 && byte < 0; b++)
                if (tok_byte_to_cp[b] == cp) byte = b;
            if (byte >= 0)
                return err_set(err, "%s: the byte-level vocabulary has no token for byte 0x%02X (\"%.*s\") and no unk token",
                               t->path, byte, cl, w + i - cl);
        }
    }
    if (unk_pending) sym_add(c, t->unk);

    c->nheap = 0;
    for (int p = 0; p + 1 < (int)c->nsym; p++) bpe_add_pair(t, c, p);
    while (c->nheap) {
        HeapEnt top = heap_pop(c);
        int pos = top.pos;
        if (c->dead[pos]) continue;
        int nx = c->next[pos];
        if (nx < 0) continue;
        long k = pairmap_find(&t->merges, (uint32_t)c->sym[pos], (uint32_t)c->sym[nx]);
        if (k < 0 || t->merges.slots[k].new_id != top.new_id) continue; /* stale */
        c->sym[pos] = (int)top.new_id;
        c->dead[nx] = 1;
        c->next[pos] = c->next[nx];
        if (c->next[nx] >= 0) c->prev[c->next[nx]] = pos;
        if (c->prev[pos] >= 0) bpe_add_pair(t, c, c->prev[pos]);
        bpe_add_pair(t, c, pos);
    }
    for (size_t p = 0; p < c->nsym; p++)
        if (!c->dead[p]) intvec_push(out, c->sym[p]);
    return 0;
}

/* ---- SentencePiece (llama.cpp's llm_tokenizer_spm); sym = byte offset, dead = byte length ---- */

static void spm_add_bigram(const Tokenizer *t, EncCtx *c, const char *w, int left, int right) {
    if (left < 0 || right < 0) return;
    size_t len = (size_t)(c->dead[left] + c->dead[right]);
    int id = strmap_get(&t->piece_map, t->arena.data, w + c->sym[left], len);
    if (id < 0) return;
    heap_push(c, (HeapEnt){(uint32_t)len, left, (uint32_t)right, -t->scores[id]});
}

static int spm_word(const Tokenizer *t, EncCtx *c, const char *w, size_t n, IntVec *out, Err *err) {
    c->nsym = 0;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        int cl = utf8_decode((const uint8_t *)w + i, n - i, &cp);
        if (!cl) cl = 1;
        grow_syms(c, c->nsym + 1);
        int k = (int)c->nsym++;
        c->sym[k] = (int)i;
        c->dead[k] = cl;
        c->prev[k] = k - 1;
        i += (size_t)cl;
        c->next[k] = i == n ? -1 : k + 1;
    }
    c->nheap = 0;
    for (int k = 1; k < (int)c->nsym; k++) spm_add_bigram(t, c, w, k - 1, k);
    while (c->nheap) {
        HeapEnt b = heap_pop(c);
        int l = b.pos, r = (int)b.new_id;
        if (c->dead[l] == 0 || c->dead[r] == 0 || (uint32_t)(c->dead[l] + c->dead[r]) != b.rank)
            continue;
        c->dead[l] += c->dead[r];
        c->dead[r] = 0;
        c->next[l] = c->next[r];
        if (c->next[r] >= 0) c->prev[c->next[r]] = l;
        spm_add_bigram(t, c, w, c->prev[l], l);
        spm_add_bigram(t, c, w, l, c->next[l]);
    }
    for (int k = c->nsym ? 0 : -1; k != -1; k = c->next[k]) {
        const char *s = w + c->sym[k];
        size_t len = (size_t)c->dead[k];
        int id = strmap_get(&t->piece_map, t->arena.data, s, len);
        if (id >= 0) {
            intvec_push(out, id);
            continue;
        }
        for (size_t j = 0; j < len; j++) {
            int b = t->byte_id[(uint8_t)s[j]];
            if (b < 0) b = t->unk;
            if (b < 0)
                return err_set(err, "%s: no byte token for byte 0x%02X and no unk token", t->path,
                               (uint8_t)s[j]);
            intvec_push(out, b);
        }
    }
    return 0;
}

int tok_model_word(const Tokenizer *t, EncCtx *c, const char *w, size_t n, IntVec *out, Err *err) {
    if (!n) return 0;
    return t->model == MODEL_SPM ? spm_word(t, c, w, n, out, err) : bpe_word(t, c, w, n, out, err);
}
