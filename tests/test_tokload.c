/* What a tokenizer.json load builds, and what it leaves for later.
 *
 * The merge table (tokenizer/tok_json.c), entry by entry: every
 * listed merge (a, b) must be in t->merges with its rank (its place in the list) and the id of
 * the piece it builds, and nothing else may be there.
 *
 * The load guesses each merge's new token as the id the previous merge built or the one after it
 * (compared in place), looks up only a miss, in batches of 48, and puts the merges into the
 * table at the end (pairmap_put_all). The vocabularies here are built like real ones: single letters, two-letter
 * tokens made by one merge each, three-letter tokens made by two merges in a row (as Llama 3
 * lists them: the guess "the same id" must hold), with and without a continuing_subword_prefix
 * ("##", which the joined piece drops from b); their merges listed in the order of the tokens'
 * ids (every guess right) and shuffled (most wrong), cut to 1, 47, 48, 49, 96, 97 entries and
 * the whole list (so the last batch is full, short, or the only one).
 *
 * pairmap_put_all (the load's way to fill the table: the entries sorted by their slot, then put)
 * must leave what pairmap_put one entry at a time leaves: 60000 entries over 20000 keys (so most
 * keys repeat, the last of them winning), into a table sized for them and into one that grows.
 *
 * The bytes map behind tok_id_of_bytes is built at its first call (tok_build.c): threads that
 * ask at once on a fresh Tokenizer all get every token's id. */
#include <pthread.h>
#include <unistd.h>

#include "tests/testutil.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/tokenizer.h"

enum { LETTERS = 7, MAX_TOKENS = 2048, MAX_MERGES = 2048 };

typedef struct {
    char tok[MAX_TOKENS][16];
    int n_tok;
    int a[MAX_MERGES], b[MAX_MERGES], joined[MAX_MERGES]; /* ids */
    int n_merges;
} Spec;

static int add_token(Spec *s, const char *piece) {
    for (int i = 0; i < s->n_tok; i++)
        if (!strcmp(s->tok[i], piece)) return i;
    assert_true(s->n_tok < MAX_TOKENS);
    snprintf(s->tok[s->n_tok], sizeof s->tok[0], "%s", piece);
    return s->n_tok++;
}

static void add_merge(Spec *s, const char *a, const char *b, const char *joined) {
    int ia = add_token(s, a), ib = add_token(s, b); /* already there: letters first */
    int k = s->n_merges++;
    s->a[k] = ia, s->b[k] = ib, s->joined[k] = add_token(s, joined);
}

/* The vocabulary and merges, ids in the order the merges first build the tokens. */
static void make_spec(Spec *s, const char *prefix) {
    memset(s, 0, sizeof *s);
    char x[2] = {0}, y[2] = {0}, z[2] = {0}, p1[16], p2[16], j[16];
    for (int c = 0; c < LETTERS; c++) { /* letters, and as continuations */
        x[0] = (char)('a' + c);
        add_token(s, x);
        snprintf(p1, sizeof p1, "%s%s", prefix, x);
        add_token(s, p1);
    }
    for (int c1 = 0; c1 < LETTERS; c1++)
        for (int c2 = 0; c2 < LETTERS; c2++) {
            x[0] = (char)('a' + c1), y[0] = (char)('a' + c2);
            snprintf(p1, sizeof p1, "%s%s", prefix, y);
            snprintf(j, sizeof j, "%s%s", x, y);
            add_merge(s, x, p1, j); /* x ##y -> xy */
            if (*prefix) {          /* ##x ##y -> ##xy */
                snprintf(p2, sizeof p2, "%s%s", prefix, x);
                snprintf(j, sizeof j, "%s%s%s", prefix, x, y);
                add_merge(s, p2, p1, j);
            }
        }
    for (int c1 = 0; c1 < LETTERS; c1++)
        for (int c2 = 0; c2 < LETTERS; c2++)
            for (int c3 = 0; c3 < LETTERS; c3++) {
                x[0] = (char)('a' + c1), y[0] = (char)('a' + c2), z[0] = (char)('a' + c3);
                snprintf(j, sizeof j, "%s%s%s", x, y, z);
                snprintf(p1, sizeof p1, "%s%s", x, y);
                snprintf(p2, sizeof p2, "%s%s", prefix, z);
                add_merge(s, p1, p2, j); /* xy ##z -> xyz */
                snprintf(p2, sizeof p2, "%s%s%s", prefix, y, z);
                add_merge(s, x, p2, j); /* x ##yz -> xyz: the same id again */
            }
}

static void shuffle(Spec *s, unsigned seed) {
    for (int k = s->n_merges - 1; k > 0; k--) {
        seed = seed * 1103515245u + 12345u;
        int r = (int)((seed >> 8) % (unsigned)(k + 1));
        int ta = s->a[k], tb = s->b[k], tj = s->joined[k];
        s->a[k] = s->a[r], s->b[k] = s->b[r], s->joined[k] = s->joined[r];
        s->a[r] = ta, s->b[r] = tb, s->joined[r] = tj;
    }
}

/* Writes the tokenizer.json of s's first n merges (the whole vocabulary) to a temporary file;
 * loads it. */
static Tokenizer *load_spec(const Spec *s, int n, const char *prefix) {
    Buf b = {0};
    buf_puts(&b, "{\"model\": {\"type\": \"BPE\", ");
    if (*prefix) buf_printf(&b, "\"continuing_subword_prefix\": \"%s\", ", prefix);
    buf_puts(&b, "\"vocab\": {");
    for (int i = 0; i < s->n_tok; i++) buf_printf(&b, "%s\"%s\": %d", i ? ", " : "", s->tok[i], i);
    buf_puts(&b, "}, \"merges\": [");
    for (int k = 0; k < n; k++)
        buf_printf(&b, "%s\"%s %s\"", k ? ", " : "", s->tok[s->a[k]], s->tok[s->b[k]]);
    buf_puts(&b, "]}}");
    char path[] = "/tmp/coldtok-tokload-merges-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);
    buf_free(&b);
    Err err;
    Tokenizer *t = tok_load(path, &err);
    remove(path);
    if (!t) fail_msg("%s", err.msg);
    return t;
}

/* Each of the first n merges in the table with its rank and new id; no other entry. */
static void check_table(const Tokenizer *t, const Spec *s, int n) {
    assert_int_equal(t->n_vocab, s->n_tok);
    assert_int_equal(t->merges.n, (size_t)n);
    for (int k = 0; k < n; k++) {
        long e = pairmap_find(&t->merges, (uint32_t)s->a[k], (uint32_t)s->b[k]);
        if (e < 0) fail_msg("merges[%d] (%s %s) is not in the table", k, s->tok[s->a[k]], s->tok[s->b[k]]);
        if (t->merges.slots[e].rank != (uint32_t)k || t->merges.slots[e].new_id != (uint32_t)s->joined[k])
            fail_msg("merges[%d] (%s %s): rank %u, new id %u; want %d, %d", k, s->tok[s->a[k]],
                     s->tok[s->b[k]], t->merges.slots[e].rank, t->merges.slots[e].new_id, k,
                     s->joined[k]);
    }
}

static void merge_table(void **state) {
    (void)state;
    static Spec s;
    static const char *prefixes[] = {"", "##"};
    int cases = 0;
    for (int pi = 0; pi < 2; pi++)
        for (int shuffled = 0; shuffled <= 1; shuffled++) {
            make_spec(&s, prefixes[pi]);
            if (shuffled) shuffle(&s, 7u + (unsigned)pi);
            const int counts[] = {1, 47, 48, 49, 96, 97, s.n_merges};
            for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
                Tokenizer *t = load_spec(&s, counts[c], prefixes[pi]);
                check_table(t, &s, counts[c]);
                tok_free(t);
                cases++;
            }
        }
    printf("# %d loads (the longest %d merges over %d tokens), every merge's rank and new id\n",
           cases, s.n_merges, s.n_tok);
}

/* The same two-letter merge listed twice: the later one's rank wins (a Rust HashMap collect), the
 * table keeps one entry. */
static void repeated_merge(void **state) {
    (void)state;
    static Spec s;
    make_spec(&s, "");
    int n = 60;
    s.a[n] = s.a[3], s.b[n] = s.b[3], s.joined[n] = s.joined[3];
    Tokenizer *t = load_spec(&s, n + 1, "");
    assert_int_equal(t->merges.n, (size_t)n);
    long e = pairmap_find(&t->merges, (uint32_t)s.a[3], (uint32_t)s.b[3]);
    assert_true(e >= 0);
    assert_int_equal(t->merges.slots[e].rank, n);
    tok_free(t);
}

/* A little xorshift, for keys that land all over the table. */
static uint64_t next_rand(uint64_t *x) {
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

static void put_all_as_put(void **state) {
    (void)state;
    enum { N = 60000, KEYS = 20000 };
    static PairEnt e[N];
    static uint64_t keys[KEYS];
    uint64_t x = 88172645463325252ull;
    for (int k = 0; k < KEYS; k++) keys[k] = next_rand(&x) & 0x00FFFFFF00FFFFFFull;
    for (int i = 0; i < N; i++)
        e[i] = (PairEnt){keys[next_rand(&x) % KEYS], (uint32_t)i, (uint32_t)(next_rand(&x) & 0xFFFFFF)};
    for (int grows = 0; grows <= 1; grows++) {
        PairMap one, all;
        pairmap_init(&one, KEYS);
        pairmap_init(&all, grows ? 100 : N); /* sized for every entry, or grown on the way */
        for (int i = 0; i < N; i++)
            pairmap_put(&one, (uint32_t)(e[i].key >> 32), (uint32_t)e[i].key, e[i].rank, e[i].new_id);
        pairmap_put_all(&all, e, N);
        assert_int_equal(all.n, one.n);
        for (int k = 0; k < KEYS; k++) {
            long a = pairmap_find(&all, (uint32_t)(keys[k] >> 32), (uint32_t)keys[k]);
            long b = pairmap_find(&one, (uint32_t)(keys[k] >> 32), (uint32_t)keys[k]);
            if ((a < 0) != (b < 0)) fail_msg("key %d: in one table only", k);
            if (a < 0) continue;
            if (all.slots[a].rank != one.slots[b].rank || all.slots[a].new_id != one.slots[b].new_id)
                fail_msg("key %d: rank %u new id %u; one by one %u %u", k, all.slots[a].rank,
                         all.slots[a].new_id, one.slots[b].rank, one.slots[b].new_id);
        }
        pairmap_free(&one);
        pairmap_free(&all);
    }
}

enum { ASKERS = 4 };

typedef struct {
    const Tokenizer *t;
    const Spec *s;
    int wrong;
} Asker;

static void *ask_bytes(void *arg) {
    Asker *a = arg;
    for (int id = a->s->n_tok - 1; id >= 0; id--) /* from the end: not the builder's order */
        if (tok_id_of_bytes(a->t, a->s->tok[id], strlen(a->s->tok[id])) != id) a->wrong++;
    if (tok_id_of_bytes(a->t, "zz", 2) != -1) a->wrong++;
    return NULL;
}

static void bytes_map_at_first_call(void **state) {
    (void)state;
    static Spec s;
    make_spec(&s, "##");
    for (int round = 0; round < 8; round++) {
        Tokenizer *t = load_spec(&s, s.n_merges, "##");
        pthread_t th[ASKERS];
        Asker a[ASKERS];
        for (int k = 0; k < ASKERS; k++) {
            a[k] = (Asker){t, &s, 0};
            assert_int_equal(pthread_create(&th[k], NULL, ask_bytes, &a[k]), 0);
        }
        for (int k = 0; k < ASKERS; k++) {
            pthread_join(th[k], NULL);
            assert_int_equal(a[k].wrong, 0);
        }
        tok_free(t);
    }
    /* a Tokenizer freed without ever being asked */
    tok_free(load_spec(&s, 10, "##"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_table),
        cmocka_unit_test(repeated_merge),
        cmocka_unit_test(put_all_as_put),
        cmocka_unit_test(bytes_map_at_first_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
