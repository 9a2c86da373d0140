/* tok_table: the hash maps and the trie behind the tokenizer, and GPT-2's byte table.
 * All open addressing with linear probing over power-of-two tables, so a 151k-entry vocabulary
 * costs a few allocations, not one per token. */
#include "tokenizer/tok_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/util.h"

/* Table sizes: room for expect entries at a load of at most 2/3 at first, grown (doubled) past
 * 3/4. Linear probing stays short at that load (a miss probes ~4 slots, most in one cache line)
 * and a 151k-entry vocabulary's maps take 4 MB each instead of 8 (fewer pages to fault in at
 * load, more of the map in the caches). */
static size_t table_cap(size_t expect) { return expect + expect / 2 + 1; }
static int table_full(size_t n, size_t mask) { return (n + 1) * 4 > (mask + 1) * 3; }

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

void *tok_bulk_alloc(size_t bytes) {
    const size_t huge = (size_t)2 << 20;
    if (bytes < TOK_BULK_MIN) return xmalloc(bytes);
    bytes = (bytes + huge - 1) & ~(huge - 1);
    void *p = aligned_alloc(huge, bytes);
    if (!p) return xmalloc(bytes); /* which reports running out */
    madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

/* ---- StrMap ---- */

static StrEnt *strmap_alloc(size_t cap) {
    StrEnt *s = tok_bulk_alloc(cap * sizeof *s);
    memset(s, 0xFF, cap * sizeof *s); /* len = UINT32_MAX: empty */
    return s;
}

void strmap_init(StrMap *m, size_t expect) {
    size_t cap = pow2_at_least(table_cap(expect));
    m->slots = strmap_alloc(cap);
    m->mask = cap - 1;
    m->n = 0;
}

void strmap_free(StrMap *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

long strmap_find_hashed(const StrMap *m, const char *arena, const char *key, size_t len,
                        uint64_t h) {
    if (!m->slots) return -1;
    uint32_t tag = (uint32_t)(h >> 32);
    size_t i = (size_t)h & m->mask;
    for (;;) {
        const StrEnt *e = &m->slots[i];
        if (e->len == UINT32_MAX) return -1;
        if (e->tag == tag && e->len == len && !memcmp(arena + e->off, key, len)) return (long)i;
        i = (i + 1) & m->mask;
    }
}

long strmap_find(const StrMap *m, const char *arena, const char *key, size_t len) {
    return strmap_find_hashed(m, arena, key, len, tok_hash(key, len));
}

static size_t strmap_place(StrMap *m, uint64_t h, uint32_t off, uint32_t len, int32_t val) {
    size_t i = (size_t)h & m->mask;
    while (m->slots[i].len != UINT32_MAX) i = (i + 1) & m->mask;
    m->slots[i] = (StrEnt){(uint32_t)(h >> 32), off, len, val};
    return i;
}

static void strmap_grow(StrMap *m, const char *arena) {
    StrEnt *old = m->slots;
    size_t ocap = m->mask + 1, cap = ocap * 2;
    m->slots = strmap_alloc(cap);
    m->mask = cap - 1;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].len != UINT32_MAX)
            strmap_place(m, tok_hash(arena + old[i].off, old[i].len), old[i].off, old[i].len,
                         old[i].val);
    free(old);
}

long strmap_add(StrMap *m, const char *arena, uint32_t off, uint32_t len, int32_t val) {
    return strmap_add_hashed(m, arena, off, len, val, tok_hash(arena + off, len));
}

long strmap_add_hashed(StrMap *m, const char *arena, uint32_t off, uint32_t len, int32_t val,
                       uint64_t h) {
    if (table_full(m->n, m->mask)) strmap_grow(m, arena);
    uint32_t tag = (uint32_t)(h >> 32);
    size_t i = (size_t)h & m->mask;
    for (;;) { /* one probe sequence: the existing entry, or the empty slot it would be in */
        StrEnt *e = &m->slots[i];
        if (e->len == UINT32_MAX) break;
        if (e->tag == tag && e->len == len && !memcmp(arena + e->off, arena + off, len))
            return (long)i;
        i = (i + 1) & m->mask;
    }
    m->slots[i] = (StrEnt){tag, off, len, val};
    m->n++;
    return (long)i;
}

/* ---- PairMap ---- */

void pairmap_init(PairMap *m, size_t expect) {
    size_t cap = pow2_at_least(table_cap(expect));
    m->slots = tok_bulk_alloc(cap * sizeof *m->slots);
    for (size_t i = 0; i < cap; i++) m->slots[i].key = UINT64_MAX;
    m->mask = cap - 1;
    m->n = 0;
}

void pairmap_free(PairMap *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static void pairmap_grow(PairMap *m) {
    PairMap old = *m;
    pairmap_init(m, (old.mask + 1));
    for (size_t i = 0; i <= old.mask; i++)
        if (old.slots[i].key != UINT64_MAX)
            pairmap_put(m, (uint32_t)(old.slots[i].key >> 32), (uint32_t)old.slots[i].key,
                        old.slots[i].rank, old.slots[i].new_id);
    pairmap_free(&old);
}

void pairmap_put(PairMap *m, uint32_t a, uint32_t b, uint32_t rank, uint32_t new_id) {
    if (table_full(m->n, m->mask)) pairmap_grow(m);
    uint64_t k = ((uint64_t)a << 32) | b;
    size_t i = (size_t)tok_hash(&k, 8) & m->mask;
    while (m->slots[i].key != UINT64_MAX && m->slots[i].key != k) i = (i + 1) & m->mask;
    if (m->slots[i].key == UINT64_MAX) m->n++;
    m->slots[i] = (PairEnt){k, rank, new_id};
}

/* The entries partitioned by their home slot's top bits (a counting sort, stable), then put bucket
 * by bucket: each bucket's slots are a few kB of the table, so the puts sweep it in order instead
 * of each landing at random (a cache miss per entry: 4-8 MB tables; 8 ms of Llama 3.1's load for
 * its 280k merges, prefetching did not hide it). Stable, so of equal keys the later still wins. */
void pairmap_put_all(PairMap *m, const PairEnt *e, size_t n) {
    size_t cap = m->mask + 1;
    if (n < 4096 || table_full(m->n + n, m->mask)) { /* small, or it will grow: one by one */
        for (size_t i = 0; i < n; i++)
            pairmap_put(m, (uint32_t)(e[i].key >> 32), (uint32_t)e[i].key, e[i].rank, e[i].new_id);
        return;
    }
    unsigned shift = 0;
    while ((cap >> shift) > 2048) shift++; /* 2048 buckets at most */
    size_t nb = cap >> shift;
    size_t *start = xcalloc(nb + 1, sizeof *start);
    for (size_t i = 0; i < n; i++) start[((size_t)tok_hash(&e[i].key, 8) & m->mask) >> shift]++;
    for (size_t b = 0, sum = 0; b <= nb; b++) { /* counts into starts */
        size_t c = start[b];
        start[b] = sum;
        sum += c;
    }
    PairEnt *sorted = tok_bulk_alloc(n * sizeof *sorted);
    for (size_t i = 0; i < n; i++)
        sorted[start[((size_t)tok_hash(&e[i].key, 8) & m->mask) >> shift]++] = e[i];
    free(start);
    for (size_t i = 0; i < n; i++) {
        const uint64_t k = sorted[i].key;
        size_t j = (size_t)tok_hash(&k, 8) & m->mask;
        while (m->slots[j].key != UINT64_MAX && m->slots[j].key != k) j = (j + 1) & m->mask;
        if (m->slots[j].key == UINT64_MAX) m->n++;
        m->slots[j] = sorted[i];
    }
    free(sorted);
}

/* ---- Trie: nodes are numbers, edges a hash map (node, byte) -> child ---- */

void trie_init(Trie *t) {
    memset(t, 0, sizeof *t);
    size_t cap = 64;
    t->keys = xcalloc(cap, sizeof *t->keys);
    t->child = xmalloc(cap * sizeof *t->child);
    t->mask = cap - 1;
    t->cap_nodes = 16;
    t->term = xmalloc(t->cap_nodes * sizeof *t->term);
    t->term[0] = -1;
    t->n_nodes = 1;
    t->empty = 1;
}

void trie_free(Trie *t) {
    free(t->keys);
    free(t->child);
    free(t->term);
    memset(t, 0, sizeof *t);
}

static long trie_edge(const Trie *t, uint32_t node, uint8_t c) {
    uint64_t k = (((uint64_t)node << 8) | c) + 1;
    size_t i = (size_t)tok_hash(&k, 8) & t->mask;
    for (;;) {
        if (t->keys[i] == k) return t->child[i];
        if (!t->keys[i]) return -1;
        i = (i + 1) & t->mask;
    }
}

static void trie_put_edge(Trie *t, uint64_t k, uint32_t child) {
    size_t i = (size_t)tok_hash(&k, 8) & t->mask;
    while (t->keys[i]) i = (i + 1) & t->mask;
    t->keys[i] = k;
    t->child[i] = child;
}

static void trie_grow(Trie *t) {
    uint64_t *ok = t->keys;
    uint32_t *oc = t->child;
    size_t ocap = t->mask + 1, cap = ocap * 2;
    t->keys = xcalloc(cap, sizeof *t->keys);
    t->child = xmalloc(cap * sizeof *t->child);
    t->mask = cap - 1;
    for (size_t i = 0; i < ocap; i++)
        if (ok[i]) trie_put_edge(t, ok[i], oc[i]);
    free(ok);
    free(oc);
}

void trie_add(Trie *t, const char *s, size_t len, int32_t val) {
    if (len == 0)
        return; /* an empty token never matches (aho-corasick would match it everywhere,
                             but Hugging Face refuses empty added tokens) */
    t->empty = 0;
    t->first[(uint8_t)s[0] >> 3] |= (uint8_t)(1u << ((uint8_t)s[0] & 7));
    uint32_t node = 0;
    for (size_t i = 0; i < len; i++) {
        long c = trie_edge(t, node, (uint8_t)s[i]);
        if (c < 0) {
            if (t->n_nodes == t->cap_nodes) {
                t->cap_nodes *= 2;
                t->term = xrealloc(t->term, t->cap_nodes * sizeof *t->term);
            }
            c = (long)t->n_nodes++;
            t->term[c] = -1;
            if ((t->n_edges + 1) * 2 > t->mask + 1) trie_grow(t);
            trie_put_edge(t, ((((uint64_t)node << 8) | (uint8_t)s[i]) + 1), (uint32_t)c);
            t->n_edges++;
        }
        node = (uint32_t)c;
    }
    if (t->term[node] < 0) t->term[node] = val; /* the first of equal patterns wins */
}

size_t trie_longest(const Trie *t, const char *s, size_t len, int32_t *val) {
    if (t->empty || !len || !(t->first[(uint8_t)s[0] >> 3] & (1u << ((uint8_t)s[0] & 7)))) return 0;
    uint32_t node = 0;
    size_t best = 0;
    for (size_t i = 0; i < len; i++) {
        long c = trie_edge(t, node, (uint8_t)s[i]);
        if (c < 0) break;
        node = (uint32_t)c;
        if (t->term[node] >= 0) {
            best = i + 1;
            *val = t->term[node];
        }
    }
    return best;
}

/* ---- GPT-2 bytes_to_unicode: printable bytes stand for themselves, the other 68 bytes map to
 * U+0100.. in byte order, so every byte string becomes printable text. ---- */

#define R(a) a, a + 1, a + 2, a + 3, a + 4, a + 5, a + 6, a + 7
const uint16_t tok_byte_to_cp[256] = {
    /* 0x00-0x20 -> U+0100..U+0120 */
    R(0x100), R(0x108), R(0x110), R(0x118), 0x120,
    /* 0x21-0x7E themselves */
    0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, R(0x28), R(0x30), R(0x38), R(0x40), R(0x48), R(0x50),
    R(0x58), R(0x60), R(0x68), R(0x70), 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x7D, 0x7E,
    /* 0x7F-0xA0 -> U+0121..U+0142 */
    0x121, 0x122, 0x123, 0x124, 0x125, 0x126, 0x127, R(0x128), R(0x130), R(0x138), 0x140, 0x141,
    0x142,
    /* 0xA1-0xAC themselves */
    0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC,
    /* 0xAD -> U+0143 */
    0x143,
    /* 0xAE-0xFF themselves */
    0xAE, 0xAF, R(0xB0), R(0xB8), R(0xC0), R(0xC8), R(0xD0), R(0xD8), R(0xE0), R(0xE8), R(0xF0),
    R(0xF8)};
#undef R

int tok_cp_to_byte(uint32_t cp) {
    if (cp >= 0x21 && cp <= 0x7E) return (int)cp;
    if (cp >= 0xA1 && cp <= 0xAC) return (int)cp;
    if (cp >= 0xAE && cp <= 0xFF) return (int)cp;
    if (cp >= 0x100 && cp <= 0x120) return (int)(cp - 0x100);
    if (cp >= 0x121 && cp <= 0x142) return (int)(cp - 0x121 + 0x7F);
    if (cp == 0x143) return 0xAD;
    return -1;
}

/* ---- quoting file content in a message ---- */

const char *tok_shown(const char *s, size_t n, char *buf, size_t cap) {
    size_t o = 0, i = 0, chars = 0;
    while (i < n && o + 8 < cap) {
        if (chars == 60) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        uint32_t cp;
        int m = utf8_decode((const uint8_t *)s + i, n - i, &cp);
        if (!m || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02X", (uint8_t)s[i]);
            i++;
        } else {
            memcpy(buf + o, s + i, (size_t)m);
            o += (size_t)m;
            i += (size_t)m;
        }
        chars++;
    }
    buf[o] = '\0';
    return buf;
}
