/* test_shard_bytes: the per-byte records of drift's shards and their merge (analysis/drift_bytes.h).
 * Files of random bytes, classes and per-byte log-likelihoods (of wide magnitudes, so that the
 * order of the additions shows in the last bits) are summed as the unsharded run does (TfLedger,
 * in random steps, a file whose variant stopped spelling it dropped); N shards each see the base's
 * bytes of their own windows only, log them (tfbytelog_*) and encode them (tfbytes_put); the merge
 * of the N sections gives the same TfBytes totals bit for bit, and the union of the windows. The
 * same additions grouped by shard give other bits (so the check can fail); damaged records and
 * the same bytes in two shards are refused. */
#include "testutil.h"

#include <math.h>

#include "analysis/corpus.h"
#include "analysis/drift_bytes.h"

enum { NLANGS = 2, NCLS = MARK_COUNT + 1, FILES = 6, CTX = 16, TOKS_PER_WIN = 8 };

static uint64_t rng_state = 987654321;
static uint32_t rnd(uint32_t n) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33) % n;
}

typedef struct {
    size_t len;
    int lang, dead;
    uint8_t *marks, *sb, *sv; /* classes; bytes the base and the variant saw */
    double *nb, *nv;
    int *owner;               /* the shard of the base window that saw the byte */
    long nwin;                /* the variant's windows; ran[w]: 1 when the unsharded run ran it */
    uint8_t *ran;
    int *ran_by;              /* the shard that ran it (a window near two shards' bytes: the first) */
} File;

/* Token-sized runs of equal values, as tfledger_spread writes them; base tokens grouped in windows
 * of TOKS_PER_WIN tokens, window g owned by shard g % nshards. */
static void make_file(File *f, int nshards) {
    f->len = 200 + rnd(1800);
    f->lang = (int)rnd(NLANGS);
    f->marks = calloc(f->len, 1), f->sb = calloc(f->len, 1), f->sv = calloc(f->len, 1);
    f->nb = calloc(f->len, sizeof *f->nb), f->nv = calloc(f->len, sizeof *f->nv);
    f->owner = calloc(f->len, sizeof *f->owner);
    for (size_t b = 0; b < f->len; b++) f->marks[b] = (uint8_t)(rnd(MARK_COUNT) | (rnd(2) ? 0x80 : 0));
    long tok = 0;
    for (size_t b = 0; b < f->len; tok++) {
        size_t n = 1 + rnd(7);
        if (n > f->len - b) n = f->len - b;
        int seen = rnd(3) != 0;
        double v = ldexp(1 + rnd(100000) / 1e5, (int)rnd(40) - 20) / (double)n;
        for (size_t i = b; i < b + n; i++) f->sb[i] = (uint8_t)seen, f->nb[i] = v, f->owner[i] = (int)(tok / TOKS_PER_WIN % nshards);
        b += n;
    }
    /* the variant: its own tokens, its windows of 4 tokens; it runs a window when it meets a
     * byte the base saw (only the shards that saw such a byte run it) */
    f->nwin = 0;
    f->ran = calloc(f->len + 1, 1), f->ran_by = calloc(f->len + 1, sizeof *f->ran_by);
    tok = 0;
    for (size_t b = 0; b < f->len; tok++) {
        size_t n = 1 + rnd(5);
        if (n > f->len - b) n = f->len - b;
        double v = ldexp(1 + rnd(100000) / 1e5, (int)rnd(40) - 20) / (double)n;
        for (size_t i = b; i < b + n; i++) f->sv[i] = 1, f->nv[i] = v;
        b += n;
    }
    f->nwin = (long)(f->len / 16) + 1; /* windows of 16 bytes: window w covers 16w .. 16w+15 */
    f->dead = 0;
}

static void free_file(File *f) {
    free(f->marks), free(f->sb), free(f->sv), free(f->nb), free(f->nv), free(f->owner), free(f->ran), free(f->ran_by);
}

/* A ledger holding file f as lane 0 (the base's bytes of shard s, or all when s < 0) and lane 1. */
static void fill_ledger(TfLedger *l, const File *f, int s) {
    tfledger_init(l, 2);
    tfledger_extend(l, f->len);
    memcpy(l->marks, f->marks, f->len);
    for (size_t b = 0; b < f->len; b++) {
        int mine = f->sb[b] && (s < 0 || f->owner[b] == s);
        l->nll[b] = f->nb[b], l->seen[b] = (uint8_t)mine;
        l->nll[l->cap + b] = f->nv[b], l->seen[l->cap + b] = f->sv[b];
    }
}

/* The unsharded run's totals: file by file, in random steps; a dead file's additions dropped. */
static void sum_unsharded(const File *files, TfBytes *ref) {
    size_t nb = (size_t)(NLANGS + 1) * NCLS;
    TfBytes *acc = malloc(nb * sizeof *acc);
    for (int i = 0; i < FILES; i++) {
        TfLedger l;
        fill_ledger(&l, &files[i], -1);
        memcpy(acc, ref, nb * sizeof *acc);
        TfBytes *accs[2] = {NULL, acc};
        for (size_t upto = 0; upto < files[i].len;) {
            upto += 1 + rnd(300);
            tfledger_take(&l, upto, accs, files[i].lang, NLANGS, NCLS, TF_ALL);
        }
        if (!files[i].dead) memcpy(ref, acc, nb * sizeof *acc);
        tfledger_free(&l);
    }
    free(acc);
}

/* Shard s's section: its bytes logged in random steps, the windows it ran. */
static void shard_section(File *files, int s, Buf *sec) {
    TfByteLog g = {0};
    for (int i = 0; i < FILES; i++) {
        File *f = &files[i];
        TfLedger l;
        fill_ledger(&l, f, s);
        tfbytelog_file(&g, (uint32_t)i, f->lang);
        for (long w = 0; w < f->nwin; w++) { /* the windows that meet this shard's base bytes */
            int meets = 0;
            for (size_t b = (size_t)w * 16; b < (size_t)w * 16 + 16 && b < f->len && !meets; b++)
                meets = f->sb[b] && f->owner[b] == s;
            if (meets) tfbytelog_window(&g, w), f->ran[w] = 1;
        }
        TfByteLog *logs[2] = {NULL, &g};
        for (size_t upto = 0; upto < f->len;) {
            upto += 1 + rnd(300);
            tfbytelog_take(&l, upto, logs);
            tfledger_take(&l, upto, (TfBytes *[2]){NULL, NULL}, f->lang, NLANGS, NCLS, TF_ALL);
        }
        tfbytelog_end(&g, !f->dead, i == FILES - 1 ? f->nwin : -1); /* the last: every window counted */
        tfledger_free(&l);
    }
    TfModel m[2] = {{0}, {.blog = &g}};
    TfRun run = {.models = m, .nmodels = 2};
    tfbytes_put(sec, &run);
    tfbytelog_free(&g);
}

static void merged_run(TfRun *r, TfModel *m, TfBytes *bytes) {
    memset(m, 0, 2 * sizeof *m);
    memset(bytes, 0, (size_t)(NLANGS + 1) * NCLS * sizeof *bytes);
    m[1].name = "v", m[1].bytes = bytes;
    *r = (TfRun){.models = m, .nmodels = 2, .ctx = CTX, .nlangs = NLANGS, .files = FILES};
}

static void merge_is_the_unsharded_sum(void **state) {
    (void)state;
    for (int N = 1; N <= 4; N++) {
        File files[FILES];
        for (int i = 0; i < FILES; i++) make_file(&files[i], N);
        files[2].dead = 1; /* the variant stopped spelling it: nothing of it counts */
        TfBytes ref[(NLANGS + 1) * NCLS] = {{0}}, got[(NLANGS + 1) * NCLS];
        sum_unsharded(files, ref);
        Buf sec[4] = {{0}};
        const uint8_t *p[4];
        size_t len[4];
        const char *paths[4] = {"s1", "s2", "s3", "s4"};
        for (int s = 0; s < N; s++) shard_section(files, s, &sec[s]);
        for (int s = 0; s < N; s++) p[s] = (const uint8_t *)sec[s].data, len[s] = sec[s].len;
        TfModel m[2];
        TfRun r;
        merged_run(&r, m, got);
        Err err = {0};
        int rc = tfbytes_merge(p, len, paths, N, &r, &err);
        assert_int_equal(rc, 0);
        assert_memory_equal(got, ref, sizeof ref); /* bit for bit */
        assert_true(ref[NLANGS * NCLS + TF_ALL].bytes > 1000);
        long windows = 0;
        for (int i = 0; i < FILES; i++)
            if (!files[i].dead)
                for (long w = 0; w < files[i].nwin; w++) windows += i == FILES - 1 || files[i].ran[w];
        assert_int_equal(m[1].tokens, windows * (CTX - 1));

        if (N >= 2) {
            /* the same records merged shard after shard (a wrong order): other bits */
            TfBytes alt[(NLANGS + 1) * NCLS];
            TfModel ma[2];
            TfRun ra;
            merged_run(&ra, ma, alt);
            for (int s = 0; s < N; s++) assert_int_equal(tfbytes_merge(&p[s], &len[s], &paths[s], 1, &ra, &err), 0);
            assert_true(alt[NLANGS * NCLS + TF_ALL].bytes == ref[NLANGS * NCLS + TF_ALL].bytes);
            assert_true(memcmp(alt, ref, sizeof ref) != 0);
            /* one shard given twice: the same bytes twice */
            const uint8_t *pp[2] = {p[0], p[0]};
            size_t ll[2] = {len[0], len[0]};
            merged_run(&ra, ma, alt);
            assert_int_equal(tfbytes_merge(pp, ll, paths, 2, &ra, &err), -1);
            assert_non_null(strstr(err.msg, "is in two shards"));
        }
        /* a damaged class; a section cut short; a byte too many */
        uint8_t *bad = malloc(len[0] + 1);
        memcpy(bad, p[0], len[0]);
        bad[8 + 18] = 0x7e; /* the first run's class */
        const uint8_t *pb = bad;
        merged_run(&r, m, got);
        assert_int_equal(tfbytes_merge(&pb, &len[0], paths, 1, &r, &err), -1);
        assert_non_null(strstr(err.msg, "s1: a damaged per-byte record of v"));
        size_t cut = len[0] - 5;
        assert_int_equal(tfbytes_merge(&p[0], &cut, paths, 1, &r, &err), -1);
        assert_non_null(strstr(err.msg, "s1: its per-byte records of v are damaged"));
        memcpy(bad, p[0], len[0]);
        bad[len[0]] = 0;
        size_t more = len[0] + 1;
        merged_run(&r, m, got);
        assert_int_equal(tfbytes_merge(&pb, &more, paths, 1, &r, &err), -1);
        assert_non_null(strstr(err.msg, "s1: 1 bytes after its per-byte records"));
        free(bad);
        for (int s = 0; s < N; s++) buf_free(&sec[s]);
        for (int i = 0; i < FILES; i++) free_file(&files[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_is_the_unsharded_sum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
