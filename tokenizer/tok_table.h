/* tok_table: the data structures under a Tokenizer (hash maps over a string arena, the pair map of
 * BPE merges, the added-token trie), GPT-2's byte table, and how text from a file is quoted in an
 * error message. The bottom of tokenizer/: it knows nothing of a Tokenizer (see tok_internal.h for
 * the order of the folder's files). */
#ifndef COLDTOK_TOK_TABLE_H
#define COLDTOK_TOK_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* Token ids are below this in every loader (and in tokconv). */
#define TOK_MAX_VOCAB (1 << 24)

/* Memory for a large array a load fills (a 151k-token vocabulary's tables and lists are 0.5-9 MB
 * each): from TOK_BULK_MIN bytes, whole 2 MiB pages with transparent huge pages asked for (this
 * kernel gives them only on request). Each 4 KiB page is otherwise a page fault when first
 * written, and in a VM with shadow page tables a fault costs ~15 us: a first load of Qwen3's
 * tokenizer.json took ~5000 of them (150 ms; 80 ms in huge pages). Also fewer TLB misses for the
 * random accesses of a hash table. Not zeroed; never NULL (xmalloc's rule); a malloc block
 * (realloc and free work on it; free gives it back). Nothing is kept between loads: a
 * process-wide cache of freed blocks made a second load in one process 10-12 ms faster (the
 * kernel zeroes new huge pages) and a process's first load no faster, so it was dropped. */
#define TOK_BULK_MIN ((size_t)512 << 10)
void *tok_bulk_alloc(size_t bytes);

/* ---- hash maps ---- */

/* 64-bit multiply-fold over 8-byte words (wyhash-like; quality enough for vocabularies, fast for
 * the short keys hashed per pre-token). Inline: a load hashes a million keys, most of them one
 * word long, and a pair's key (8 bytes, constant) folds to two multiplies. */
static inline uint64_t tok_hash_mix(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}
static inline uint64_t tok_hash(const void *p, size_t n) {
    const uint8_t *s = p;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xA0761D6478BD642Full);
    while (n >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, s, 8);
        h = tok_hash_mix(h ^ w, 0xE7037ED1A0B428DBull);
        s += 8;
        n -= 8;
    }
    /* the last n < 8 bytes as a little-endian word, by two overlapping loads (a memcpy of a
     * variable length is a byte loop, a large part of hashing the short pieces of a vocabulary) */
    uint64_t w = 0;
    if (n >= 4) {
        uint32_t lo, hi;
        __builtin_memcpy(&lo, s, 4);
        __builtin_memcpy(&hi, s + n - 4, 4);
        w = lo | (uint64_t)hi << (8 * (n - 4));
    } else if (n) {
        w = s[0] | (uint64_t)s[n / 2] << (8 * (n / 2)) | (uint64_t)s[n - 1] << (8 * (n - 1));
    }
    return tok_hash_mix(h ^ w ^ ((uint64_t)n << 59), 0x8EBC6AF09C88C6E3ull);
}

/* String -> int map. Keys are (offset, length) into an arena Buf that the caller passes to every
 * call, so the arena may grow (move) while the map is built. Open addressing, linear probing; a
 * slot holds the key's reference, its value and upper hash bits, so a probe touches the arena
 * only when the key is likely there (these maps are far bigger than the caches). */
typedef struct {
    uint32_t tag;      /* upper hash bits */
    uint32_t off, len; /* len == UINT32_MAX: empty */
    int32_t val;
} StrEnt;
typedef struct {
    StrEnt *slots;
    size_t n, mask;
} StrMap;

void strmap_init(StrMap *m, size_t expect);
void strmap_free(StrMap *m);
/* Slot of the entry with this key, or -1. */
long strmap_find(const StrMap *m, const char *arena, const char *key, size_t len);
/* The same with the key's tok_hash already known; strmap_prefetch starts loading its first slot,
 * so a batch of lookups overlaps its cache misses. */
long strmap_find_hashed(const StrMap *m, const char *arena, const char *key, size_t len,
                        uint64_t h);
static inline void strmap_prefetch(const StrMap *m, uint64_t h) {
    __builtin_prefetch(&m->slots[(size_t)h & m->mask]);
}
/* Adds key -> val; the key must already be in the arena at off. Returns the entry's slot; when the
 * key exists, its slot is returned unchanged (the caller decides whether to overwrite). Slots stay
 * valid until the next strmap_add. */
long strmap_add(StrMap *m, const char *arena, uint32_t off, uint32_t len, int32_t val);
long strmap_add_hashed(StrMap *m, const char *arena, uint32_t off, uint32_t len, int32_t val,
                       uint64_t h);
static inline int strmap_get(const StrMap *m, const char *arena, const char *key, size_t len) {
    long e = strmap_find(m, arena, key, len);
    return e < 0 ? -1 : m->slots[e].val;
}
#define STRMAP_EMPTY(m, i) ((m)->slots[i].len == UINT32_MAX)

/* (a, b) id pair -> (rank, new id), for BPE merges. A slot holds the key and both values, so a
 * lookup or an insert touches one cache line (this map is far bigger than the caches). */
typedef struct {
    uint64_t key; /* UINT64_MAX = empty */
    uint32_t rank, new_id;
} PairEnt;
typedef struct {
    PairEnt *slots;
    size_t n, mask;
} PairMap;

void pairmap_init(PairMap *m, size_t expect);
void pairmap_free(PairMap *m);
/* Inserts or overwrites (a later duplicate merge wins, as in a Rust HashMap collect). */
void pairmap_put(PairMap *m, uint32_t a, uint32_t b, uint32_t rank, uint32_t new_id);
/* pairmap_put of each of e[0..n) in order (key = a << 32 | b), faster for many. */
void pairmap_put_all(PairMap *m, const PairEnt *e, size_t n);
static inline void pairmap_prefetch(const PairMap *m, uint32_t a, uint32_t b) {
    uint64_t k = ((uint64_t)a << 32) | b;
    __builtin_prefetch(&m->slots[(size_t)tok_hash(&k, 8) & m->mask]);
}
static inline long pairmap_find(const PairMap *m, uint32_t a, uint32_t b) {
    uint64_t k = ((uint64_t)a << 32) | b;
    size_t i = (size_t)tok_hash(&k, 8) & m->mask;
    for (;;) {
        if (m->slots[i].key == k) return (long)i;
        if (m->slots[i].key == UINT64_MAX) return -1;
        i = (i + 1) & m->mask;
    }
}

/* A byte trie over a set of strings, for leftmost-longest matching of added tokens. */
typedef struct {
    uint64_t *keys; /* (node << 8 | byte) + 1; 0 = empty */
    uint32_t *child;
    size_t mask, n_edges;
    int32_t *term; /* per node: pattern value or -1 */
    size_t n_nodes, cap_nodes;
    uint8_t first[32]; /* bitmap of bytes that start a pattern */
    int empty;         /* no patterns */
} Trie;

void trie_init(Trie *t);
void trie_free(Trie *t);
void trie_add(Trie *t, const char *s, size_t len, int32_t val);
/* Longest pattern starting at s[0..len): its length (and *val), or 0. */
size_t trie_longest(const Trie *t, const char *s, size_t len, int32_t *val);

/* GPT-2's byte <-> printable code point table. */
extern const uint16_t tok_byte_to_cp[256];
/* Byte for code point cp in that table, or -1. */
int tok_cp_to_byte(uint32_t cp);

/* File content made fit for a one-line error message: at most ~60 characters, control and
 * non-UTF-8 bytes as \xNN, "..." when cut. Returns buf (cap >= 256). */
const char *tok_shown(const char *s, size_t n, char *buf, size_t cap);

#endif
