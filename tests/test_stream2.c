/* test_stream2: the bookkeeping of drift's streamed per-byte comparison (analysis/drift_stream.h).
 * TfLedger: log-likelihoods spread over bytes as lanes progress, held text extended and summed in
 * random steps, give the per-language, per-class byte totals of a whole-array pass computed here
 * independently (the loop drift used before streaming), bit for bit. TfTrack: the ids and offsets
 * of a text streamed in tiny pieces are those of the whole text, windows read the right tokens
 * after drops, and tokens that do not spell their piece are caught. */
#include "testutil.h"

#include "analysis/corpus.h"
#include "analysis/drift_stream.h"
#include "tokenizer/tokenizer.h"

enum { LANES = 3, NLANGS = 2, NCLS = MARK_COUNT + 1 };

static uint64_t rng_state = 12345;
static uint32_t rnd(uint32_t n) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33) % n;
}

/* A lane's "tokens": a partition of [0, len) into runs of 1..7 bytes, each scored or not. */
typedef struct {
    size_t n, *start; /* [n + 1] */
    double *lp;
    int *scored;
} Toks;

static void make_toks(Toks *t, size_t len) {
    t->start = malloc((len + 2) * sizeof *t->start), t->lp = malloc((len + 1) * sizeof *t->lp);
    t->scored = malloc((len + 1) * sizeof *t->scored);
    t->n = 0;
    for (size_t b = 0; b < len; t->n++) {
        t->start[t->n] = b;
        t->lp[t->n] = -(double)(rnd(100000) + 1) / 7919.0;
        t->scored[t->n] = rnd(3) != 0;
        b += 1 + rnd(7);
        if (b > len) b = len;
    }
    t->start[t->n] = len;
}

static void free_toks(Toks *t) { free(t->start), free(t->lp), free(t->scored); }

static void ledger_sums_bit_for_bit(void **state) {
    (void)state;
    for (int round = 0; round < 20; round++) {
        size_t len = 500 + rnd(4000);
        int lang = (int)rnd(NLANGS);
        uint8_t *marks = malloc(len);
        for (size_t b = 0; b < len; b++) marks[b] = (uint8_t)(rnd(MARK_COUNT) | (rnd(10) == 0 ? MARK_START : 0));
        Toks tk[LANES];
        for (int k = 0; k < LANES; k++) make_toks(&tk[k], len);

        /* the reference: whole arrays, then drift's former add_bytes loop */
        TfBytes want[LANES][(NLANGS + 1) * NCLS];
        memset(want, 0, sizeof want);
        double *nll[LANES];
        uint8_t *seen[LANES];
        for (int k = 0; k < LANES; k++) {
            nll[k] = calloc(len, sizeof(double)), seen[k] = calloc(len, 1);
            for (size_t i = 0; i < tk[k].n; i++) {
                if (!tk[k].scored[i]) continue;
                size_t s = tk[k].start[i], e = tk[k].start[i + 1];
                for (size_t b = s; b < e; b++) nll[k][b] = -tk[k].lp[i] / (double)(e - s), seen[k][b] = 1;
            }
        }
        for (int k = 1; k < LANES; k++)
            for (size_t b = 0; b < len; b++) {
                if (!seen[0][b] || !seen[k][b]) continue;
                int ls[2] = {lang, NLANGS}, cs[2] = {MARK_CLASS(marks[b]), MARK_COUNT};
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++) {
                        TfBytes *t = &want[k][ls[i] * NCLS + cs[j]];
                        t->nll_base += nll[0][b], t->nll_var += nll[k][b], t->bytes += 1;
                    }
            }

        /* streamed: the text arrives in random chunks; each lane spreads its tokens that lie in
         * what arrived, in a random interleaving; the bytes before every lane's progress are taken */
        TfBytes got[LANES][(NLANGS + 1) * NCLS];
        memset(got, 0, sizeof got);
        TfBytes *acc[LANES] = {NULL, got[1], got[2]};
        TfLedger l;
        tfledger_init(&l, LANES);
        size_t arrived = 0, next[LANES] = {0};
        while (arrived < len || next[0] < tk[0].n || next[1] < tk[1].n || next[2] < tk[2].n) {
            if (arrived < len && rnd(2)) {
                size_t to = arrived + 1 + rnd(300);
                if (to > len) to = len;
                tfledger_extend(&l, to);
                memcpy(tfledger_marks(&l, arrived), marks + arrived, to - arrived);
                arrived = to;
            }
            int k = (int)rnd(LANES);
            for (int steps = (int)rnd(40); steps > 0 && next[k] < tk[k].n && tk[k].start[next[k] + 1] <= arrived;
                 steps--, next[k]++)
                if (tk[k].scored[next[k]])
                    tfledger_spread(&l, k, tk[k].start[next[k]], tk[k].start[next[k] + 1], tk[k].lp[next[k]]);
            size_t upto = len;
            for (int q = 0; q < LANES; q++) {
                size_t f = next[q] < tk[q].n ? tk[q].start[next[q]] : len;
                if (f < upto) upto = f;
            }
            if (rnd(3) == 0) tfledger_take(&l, upto, acc, lang, NLANGS, NCLS, MARK_COUNT);
        }
        tfledger_take(&l, SIZE_MAX, acc, lang, NLANGS, NCLS, MARK_COUNT);
        assert_int_equal(l.n, 0);
        assert_int_equal(l.byte0, len);
        for (int k = 1; k < LANES; k++) assert_memory_equal(got[k], want[k], sizeof want[k]);
        size_t all = want[1][NLANGS * NCLS + MARK_COUNT].bytes;
        assert_true(all > 0 && all < len);
        tfledger_free(&l);
        for (int k = 0; k < LANES; k++) free(nll[k]), free(seen[k]), free_toks(&tk[k]);
        free(marks);
    }
}

typedef struct {
    TfTrack tr;
    IntVec all;
} TrackArg;

static int track_piece(void *arg, const char *text, size_t len, size_t at, const IntVec *ids, Err *err) {
    (void)err;
    TrackArg *a = arg;
    for (size_t i = 0; i < ids->n; i++) intvec_push(&a->all, ids->v[i]);
    return tftrack_push(&a->tr, ids, text, len, at) ? -1 : 0;
}

static void track_pieces_are_the_whole(void **state) {
    (void)state;
    Err err;
    Tokenizer *t = tok_load("tests/data/tiny-bytelevel-tokenizer.json", &err);
    assert_non_null(t);
    Buf text = {0};
    for (int i = 0; i < 200; i++)
        buf_printf(&text, "def f%d(x):\n    return x * %d  # line %d\n\n", i, i * 7, i);
    IntVec whole = {0};
    assert_int_equal(tok_encode(t, text.data, text.len, TOK_ENC_NO_SPECIAL, &whole, &err), 0);
    size_t *off = malloc((whole.n + 1) * sizeof *off);
    assert_int_equal(tf_token_offsets(t, &whole, text.data, text.len, 1, off), 0);

    TrackArg a = {0};
    tftrack_init(&a.tr, t, 1);
    TokStream ts;
    tok_stream_init(&ts, t, TOK_ENC_NO_SPECIAL, TOK_CUT_LINES);
    ts.piece = 40;
    int ctx = 9;
    long w = 0;
    for (size_t pos = 0; pos < text.len;) {
        size_t n = 1 + rnd(23);
        if (n > text.len - pos) n = text.len - pos;
        assert_int_equal(tok_stream_put(&ts, text.data + pos, n, track_piece, &a, &err), 0);
        pos += n;
        /* every window the tokens allow reads the whole text's tokens; then it is dropped */
        while (tftrack_tokens(&a.tr) >= (size_t)(w + 1) * (size_t)(ctx - 1)) {
            int win[9];
            tftrack_window(&a.tr, w, ctx, -7, win);
            assert_int_equal(win[0], -7);
            size_t w0 = (size_t)w * (size_t)(ctx - 1);
            assert_memory_equal(win + 1, whole.v + w0, (size_t)(ctx - 1) * sizeof *win);
            assert_int_equal(tftrack_off(&a.tr, w0 + 3), off[w0 + 3]);
            w++;
            tftrack_drop(&a.tr, (size_t)w * (size_t)(ctx - 1));
            assert_int_equal(tftrack_frontier(&a.tr), off[a.tr.tok0]);
        }
    }
    assert_int_equal(tok_stream_end(&ts, track_piece, &a, &err), 0);
    assert_true(ts.pieces > 20);
    assert_int_equal(a.all.n, whole.n);
    assert_memory_equal(a.all.v, whole.v, whole.n * sizeof *whole.v);
    assert_int_equal(tftrack_tokens(&a.tr), whole.n);
    assert_true(a.tr.aligned);
    assert_true(w > 100);

    /* tokens that do not spell their piece: caught, and the track keeps no offsets any more */
    IntVec wrong = {0};
    assert_int_equal(tok_encode(t, "abc", 3, TOK_ENC_NO_SPECIAL, &wrong, &err), 0);
    assert_int_equal(tftrack_push(&a.tr, &wrong, "abd", 3, text.len), -1);
    assert_false(a.tr.aligned);
    assert_int_equal(tftrack_tokens(&a.tr), whole.n + wrong.n);
    assert_int_equal(tftrack_frontier(&a.tr), text.len + 3);

    intvec_free(&wrong);
    tok_stream_free(&ts);
    tftrack_free(&a.tr);
    intvec_free(&a.all), intvec_free(&whole);
    free(off);
    buf_free(&text);
    tok_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ledger_sums_bit_for_bit),
        cmocka_unit_test(track_pieces_are_the_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
