/* drift: see drift.h. */
#include "analysis/drift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "analysis/drift_bytes.h"
#include "analysis/drift_chunk.h"
#include "analysis/drift_model.h"
#include "analysis/drift_stream.h"
#include "analysis/manifest.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

/* ---- text and tokens ---- */

/* Files are tokenized streamed (tokenizer.h's TokStream), cut only after line breaks so that each
 * piece's byte classes (corpus_mark) are those of the whole file: memory stays bounded whatever
 * the files' sizes. The ids are the whole file's (tests/test_stream.c). */
static void stream_open(TokStream *ts, const Tokenizer *t) { tok_stream_init(ts, t, TOK_ENC_NO_SPECIAL, TOK_CUT_LINES); }

/* A tokenizer's message names no file: "PATH: problem". */
static void name_file(const char *path, Err *err) {
    size_t n = strlen(path);
    if (!strncmp(err->msg, path, n) && err->msg[n] == ':') return;
    Err e2;
    err_set(&e2, "%s: %s", path, err->msg);
    *err = e2;
}

/* ---- the run ---- */

/* Windows a file of n tokens gives. */
static long windows_of(size_t n, int ctx) { return (long)(n / (size_t)(ctx - 1)); }

static void fmt_duration(char *out, size_t n, double s) {
    if (!(s >= 0) || s > 1e7) snprintf(out, n, "?");
    else if (s < 60) snprintf(out, n, "%.0fs", s);
    else if (s < 3600) snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(out, n, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

static int kw_index(const KwSet *kw, const char *lang) {
    for (size_t i = 0; i < kw->nlangs; i++)
        if (!strcmp(kw->langs[i].name, lang)) return (int)i;
    return -1;
}

/* ---- which windows are scored ---- */

/* Every window of every file, or under max_tokens a fair sample: the budget of max_tokens / ctx
 * windows is shared equally by the languages that have windows (a language with fewer takes all
 * of its own and leaves the rest to the others), and each language's share is drawn uniformly
 * without replacement from all windows of all its files (seeded), so a small budget still sees
 * every language and many files rather than the first files in byte order. */
typedef struct {
    long *nw;       /* [files] windows of each file (0 for a file that has none or cannot be read) */
    uint8_t **pick; /* [files] NULL: every window of the file; else [nw] 1 for a window to score */
    long total;     /* windows to run */
    uint8_t *status;  /* [files] ReadStatus, or PLAN_FAILED (read or tokenizer error: run again) */
    uint8_t *aligned; /* [files] the tokens' bytes spell the file (token_offsets) */
    long *last_all;   /* with a shard: [files] the unsharded run's last window (-1: none), else NULL */
} Plan;

#define PLAN_FAILED 0xFF

static uint64_t plan_rand(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Draws take of the language's n windows (file index, window index) in place: the first take
 * entries of a partial Fisher–Yates shuffle. */
static void draw_windows(long (*w)[2], long n, long take, uint64_t *rng) {
    for (long i = 0; i < take; i++) {
        long j = i + (long)(((unsigned __int128)plan_rand(rng) * (uint64_t)(n - i)) >> 64);
        long t0 = w[i][0], t1 = w[i][1];
        w[i][0] = w[j][0], w[i][1] = w[j][1], w[j][0] = t0, w[j][1] = t1;
    }
}

static void plan_sample(Plan *p, const Corpus *c, const KwSet *kw, const TfOptions *o, long *lang_windows) {
    size_t L = kw->nlangs;
    long *have = xcalloc(L + 1, sizeof *have), *share = xcalloc(L + 1, sizeof *share);
    for (size_t i = 0; i < c->n; i++) {
        int l = kw_index(kw, c->files[i].lang);
        if (l >= 0) have[l] += p->nw[i];
    }
    /* water-filling: equal shares of what is left, languages with less than a share take all */
    long left = o->max_tokens / o->ctx;
    for (int changed = 1; changed && left > 0;) {
        changed = 0;
        long open = 0;
        for (size_t l = 0; l < L; l++) open += have[l] > share[l];
        if (open == 0) break;
        long each = left / open, extra = left % open;
        for (size_t l = 0; l < L && left > 0; l++) {
            if (have[l] <= share[l]) continue;
            long want = each + (extra > 0), got = want < have[l] - share[l] ? want : have[l] - share[l];
            if (extra > 0) extra--;
            if (got > 0) share[l] += got, left -= got, changed = 1;
        }
    }
    uint64_t rng = o->seed;
    for (size_t l = 0; l < L; l++) {
        lang_windows[l] = share[l];
        if (have[l] == 0) continue;
        long(*w)[2] = xmalloc((size_t)have[l] * sizeof *w), n = 0;
        for (size_t i = 0; i < c->n; i++)
            if (kw_index(kw, c->files[i].lang) == (int)l)
                for (long k = 0; k < p->nw[i]; k++) w[n][0] = (long)i, w[n][1] = k, n++;
        draw_windows(w, n, share[l], &rng);
        for (long k = 0; k < share[l]; k++) {
            long f = w[k][0];
            if (!p->pick[f]) p->pick[f] = xcalloc((size_t)p->nw[f], 1);
            p->pick[f][w[k][1]] = 1;
        }
        p->total += share[l];
        free(w);
    }
    /* a file none of whose windows was drawn is not scored */
    for (size_t i = 0; i < c->n; i++)
        if (p->nw[i] > 0 && !p->pick[i]) p->pick[i] = xcalloc((size_t)p->nw[i], 1);
    free(have), free(share);
}

/* Counting a file's tokens, streamed: the pieces' ids are counted and checked against the text. */
typedef struct {
    TokStream ts;
    size_t tokens;
    int aligned;
} Counter;

static int count_piece(void *arg, const char *text, size_t len, size_t at, const IntVec *ids, Err *err) {
    (void)err;
    Counter *k = arg;
    k->tokens += ids->n;
    if (k->aligned && tf_token_offsets(k->ts.t, ids, text, len, at == 0, NULL) != 0) k->aligned = 0;
    return 0;
}

static int count_chunk(void *arg, const char *data, size_t n, Err *err) {
    Counter *k = arg;
    return tok_stream_put(&k->ts, data, n, count_piece, k, err);
}

/* Tokens of the file at PATH and whether they spell it; -1 (and err) on a read or tokenizer error. */
static int count_file(const char *path, const Tokenizer *tok, ReadStatus *st, size_t *tokens, int *aligned,
                      Err *err) {
    Counter k = {.aligned = 1};
    stream_open(&k.ts, tok);
    int rc = corpus_stream(path, count_chunk, &k, st, err);
    if (rc == 0 && *st == READ_OK) rc = tok_stream_end(&k.ts, count_piece, &k, err);
    tok_stream_free(&k.ts);
    if (rc) name_file(path, err);
    *tokens = k.tokens, *aligned = k.aligned;
    return rc ? -1 : 0;
}

/* Tokenizes every file once with the base tokenizer to count its windows, then picks them. */
static void plan_windows(Plan *p, const TfOptions *o, const Corpus *c, const KwSet *kw, const Tokenizer *tok,
                         long *lang_windows) {
    p->nw = xcalloc(c->n + 1, sizeof *p->nw);
    p->pick = xcalloc(c->n + 1, sizeof *p->pick);
    p->status = xcalloc(c->n + 1, 1);
    p->aligned = xcalloc(c->n + 1, 1);
    p->total = 0;
    Err err;
    for (size_t i = 0; i < c->n; i++) {
        ReadStatus st;
        size_t tokens;
        int aligned;
        progress("drift: counting windows, file %zu/%zu", i + 1, c->n);
        if (count_file(c->files[i].path, tok, &st, &tokens, &aligned, &err)) {
            p->status[i] = PLAN_FAILED;
            continue;
        }
        p->status[i] = (uint8_t)st;
        if (st != READ_OK) continue;
        p->nw[i] = windows_of(tokens, o->ctx);
        p->aligned[i] = (uint8_t)aligned;
        int l = kw_index(kw, c->files[i].lang);
        if (l >= 0 && o->max_tokens <= 0) lang_windows[l] += p->nw[i];
        if (o->max_tokens <= 0) p->total += p->nw[i];
    }
    if (o->max_tokens > 0) plan_sample(p, c, kw, o, lang_windows);
}

/* The file counts of the unsharded run, from its plan (what stream_file counts as it goes). */
typedef struct {
    size_t scored, empty, not_utf8, too_short, unaligned, unsampled;
} PlanTally;

static void plan_tally(const Plan *p, size_t nfiles, PlanTally *t) {
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < nfiles; i++) {
        if (p->status[i] == READ_EMPTY) t->empty++;
        else if (p->status[i] == READ_NOT_UTF8) t->not_utf8++;
        else if (p->status[i] != READ_OK) continue;
        else if (p->nw[i] <= 0) t->too_short++;
        else {
            int any = !p->pick[i];
            for (long w = 0; w < p->nw[i] && !any; w++) any = p->pick[i][w];
            if (!any) t->unsampled++;
            else t->scored++, t->unaligned += !p->aligned[i];
        }
    }
}

/* Keeps the windows of shard k of n: the planned windows numbered in corpus order, g % n == k. */
static void plan_shard(Plan *p, size_t nfiles, int k, int n) {
    long g = 0;
    p->total = 0;
    p->last_all = xmalloc((nfiles + 1) * sizeof *p->last_all);
    for (size_t i = 0; i < nfiles; i++) {
        p->last_all[i] = -1;
        if (p->status[i] != READ_OK || p->nw[i] <= 0) continue;
        if (!p->pick[i]) memset(p->pick[i] = xmalloc((size_t)p->nw[i]), 1, (size_t)p->nw[i]);
        for (long w = 0; w < p->nw[i]; w++) {
            if (!p->pick[i][w]) continue;
            p->last_all[i] = w;
            if (g++ % n != k) p->pick[i][w] = 0;
            else p->total++;
        }
    }
}

static void plan_free(Plan *p, size_t nfiles) {
    for (size_t i = 0; i < nfiles; i++) free(p->pick[i]);
    free(p->pick), free(p->nw), free(p->status), free(p->aligned), free(p->last_all);
}

typedef struct Scorer Scorer;

typedef struct {
    const TfOptions *o;
    TfRun *run;
    Runner *r;
    int n_out;
    int *win;
    TfPos *pos;        /* [n_out] */
    uint8_t *cls;      /* [n_out] class of each scored position */
    float **scratch;   /* [threads] 2 * n_vocab floats of scratch for tf_position */
    int threads;
    const TfPositionSink *sink; /* NULL, or opened */
    Plan plan;           /* the windows to score */
    double t0;
    uint32_t file_index; /* of the file being scored, in the corpus's order */
    int chunked;         /* --mem-limit: windows gather in chunk, one model resident at a time */
    Chunk chunk;
    int *var_index;      /* [chunk.nvar] the variants on the base's vocabulary: their indices in r[] */
    size_t *off;         /* [n_out + 1] the byte offsets of a window's scored tokens */
    Scorer *open;        /* --mem-limit: the file being read, when it has per-byte lanes */
    Scorer **fin;        /* [nfin] files read whose per-byte sums wait for the chunk, in corpus order */
    size_t nfin, fin_cap, fin_bytes; /* fin_bytes: their ledgers' bytes */
} Ctx;

static void record_window(Ctx *x, int v, int lang, const char *file, long window);

/* Compares the base's and variant v's logits of the current window. */
static void compare_window(Ctx *x, int v, int lang, const char *file, long window) {
    const Runner *base = &x->r[0], *var = &x->r[v];
    int V = base->n_vocab, first = x->o->ctx / 2, n = x->n_out;
#ifdef _OPENMP
    /* a parallel region costs more than a small vocabulary's rows (a team on a busy machine
     * waits for its slowest thread) */
#pragma omp parallel for num_threads(x->threads) schedule(dynamic, 4) if ((size_t)n * V > (1u << 18))
#endif
    for (int i = 0; i < n; i++) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        tf_position(base->logits + (size_t)i * V, var->logits + (size_t)i * V, V, x->win[first + i + 1], &x->pos[i],
                    x->scratch[t]);
    }
    record_window(x, v, lang, file, window);
}

/* Keeps x->pos, the comparison of variant v in the current window (x->win, x->cls, x->file_index),
 * and hands it to the sink. */
static void record_window(Ctx *x, int v, int lang, const char *file, long window) {
    int first = x->o->ctx / 2, n = x->n_out;
    TfModel *tm = &x->run->models[v];
    for (int i = 0; i < n; i++) {
        tf_push_in(&tm->pos, x->pos[i], x->file_index); /* the file: the bootstrap's cluster */
        size_t k = tm->pos.n - 1;
        if (k >= tm->tags_cap) { /* the tags grow with the sample (geometrically) */
            tm->tags_cap = tm->pos.cap;
            tm->pos_lang = xrealloc(tm->pos_lang, tm->tags_cap * sizeof *tm->pos_lang);
            tm->pos_class = xrealloc(tm->pos_class, tm->tags_cap * sizeof *tm->pos_class);
        }
        tm->pos_lang[k] = (uint16_t)lang;
        tm->pos_class[k] = x->cls[i];
    }
    if (x->sink) {
        TfWindow w = {tm->name, file, window, first, x->r[0].tok, x->win, x->pos, x->cls, n};
        x->sink->window(x->sink->arg, &w);
    }
}

/* Runs window w of a file (x->win and x->cls filled) through the base and the variants on its
 * vocabulary, and compares them. led: under --mem-limit, NULL or the ledger the base's
 * log-likelihoods go to (over the bytes x->off). */
static void note_window(Ctx *x, long w);
static int flush_chunk(Ctx *x, Err *err);
static size_t held_bytes(const Ctx *x);

static int run_window(Ctx *x, int lang, const char *file, long w, TfLedger *led, Err *err) {
    TfRun *run = x->run;
    int ctx = x->o->ctx;
    if (x->chunked) { /* run later, model by model */
        chunk_add(&x->chunk, x->win, x->cls, lang, x->file_index, w, file, led, x->off);
        return chunk_over(&x->chunk, held_bytes(x)) ? flush_chunk(x, err) : 0;
    }
    int rc = runner_window(&x->r[0], x->win, ctx, err);
    run->models[0].tokens += ctx - 1;
    for (int v = 1; v < run->nmodels && rc == 0; v++) {
        if (!run->models[v].same_vocab) continue;
        rc = runner_window(&x->r[v], x->win, ctx, err);
        run->models[v].tokens += ctx - 1;
        if (rc == 0) compare_window(x, v, lang, file, w);
    }
    note_window(x, w);
    return rc;
}

static void settle_files(Ctx *x);

/* Runs the gathered windows model by model (drift_chunk.h), then records them as run_window
 * would have, window by window and variant by variant, and sums the bytes of the files read. */
static int flush_chunk(Ctx *x, Err *err) {
    Chunk *k = &x->chunk;
    TfRun *run = x->run;
    int ctx = x->o->ctx, n = x->n_out;
    if ((k->n > 0 || k->nb > 0) &&
        chunk_run(k, x->r, run->nmodels, x->var_index, x->threads, x->scratch, run->windows, x->plan.total, err))
        return -1;
    uint32_t file_index = x->file_index;
    for (long i = 0; i < k->n; i++) {
        memcpy(x->win, k->win + (size_t)i * (size_t)ctx, (size_t)ctx * sizeof *x->win);
        memcpy(x->cls, k->cls + (size_t)i * (size_t)n, (size_t)n);
        x->file_index = k->file[i];
        run->models[0].tokens += ctx - 1;
        for (int j = 0; j < k->nvar; j++) {
            memcpy(x->pos, k->pos + ((size_t)j * (size_t)k->cap + (size_t)i) * (size_t)n, (size_t)n * sizeof *x->pos);
            run->models[x->var_index[j]].tokens += ctx - 1;
            record_window(x, x->var_index[j], k->lang[i], k->path[i], k->window[i]);
        }
        note_window(x, k->window[i]);
    }
    x->file_index = file_index;
    k->n = 0;
    settle_files(x);
    return 0;
}

/* The run's record of window w of file x->file_index, just scored. */
static void note_window(Ctx *x, long w) {
    TfRun *run = x->run;
    int ctx = x->o->ctx;
    if ((run->windows & (run->windows - 1)) == 0) { /* grow at powers of two */
        size_t cap = run->windows ? 2 * (size_t)run->windows : 1;
        run->win_file = xrealloc(run->win_file, cap * sizeof *run->win_file);
        run->win_index = xrealloc(run->win_index, cap * sizeof *run->win_index);
        if (x->o->nshards > 0) run->win_next = xrealloc(run->win_next, cap * (size_t)x->n_out * sizeof *run->win_next);
    }
    if (x->o->nshards > 0) /* the true next tokens, for the merge's --positions */
        memcpy(run->win_next + (size_t)run->windows * (size_t)x->n_out, x->win + ctx / 2 + 1,
               (size_t)x->n_out * sizeof *run->win_next);
    run->win_file[run->windows] = x->file_index, run->win_index[run->windows] = (uint32_t)w;
    run->windows++;
    run->positions += x->n_out;
    double dt = now_seconds() - x->t0;
    char eta[32];
    fmt_duration(eta, sizeof eta, dt / (double)run->windows * (double)(x->plan.total - run->windows));
    progress("drift: window %ld/%ld, %.0f tokens/s per model, ETA %s", run->windows, x->plan.total,
             (double)run->windows * (ctx - 1) / dt, eta);
}

/* Scoring a file streamed. Lane 0 reads it with the base's tokenizer and runs the windows drawn
 * (the base and the variants on its vocabulary, compared position by position). Each variant
 * compared per byte (another vocabulary, or --bytes) has a lane of its own that reads the same
 * chunks with its tokenizer and runs its own windows; the bytes' log-likelihoods wait in a
 * TfLedger until no window of any lane can write them, and are then summed in byte order (the
 * sums of a whole-file pass, bit for bit). What is held: each lane's tokens from its next window
 * on, and the bytes from the slowest lane's next window to the reading. The reading stops once
 * every lane is done: the base after its last window drawn; a per-byte lane, when windows were
 * drawn (--max-tokens), once it is past the last byte the base scored, and it only runs the
 * windows that hold a byte the base scored (the others could add nothing). */
typedef struct {
    Scorer *s;
    int model;      /* its runner: x->r[model] */
    TokStream ts;
    TfTrack tr;
    long next;      /* its next window */
    int done, dead; /* done: nothing more to run; dead: its tokens stopped spelling the file */
    long tokens;    /* per-byte lanes: tokens evaluated in this file */
    TfBytes *acc;   /* per-byte lanes: the model's byte totals with this file's bytes added (under
                     * --mem-limit NULL until the files before it are summed: own_totals) */
    long *wins;     /* a shard's per-byte lanes: the windows run in this file, for its byte log */
    size_t nwins, wins_cap;
    long all_windows; /* the file's windows of this lane when the unsharded run runs them all, else -1 */
} Lane;

/* Remembers that the lane ran window w (its byte log takes it with the file's sums). */
static void push_window(Lane *ln, long w) {
    if (ln->nwins == ln->wins_cap) ln->wins = xrealloc(ln->wins, (ln->wins_cap = 2 * ln->wins_cap + 16) * sizeof *ln->wins);
    ln->wins[ln->nwins++] = w;
}

struct Scorer {
    Ctx *x;
    const KwLang *kl;
    const char *path;
    int lang, window_failed;
    const uint8_t *pick;
    long last;          /* the base's last window to score */
    int nlanes;         /* 1 + the per-byte lanes */
    Lane *lane;
    TfLedger led;       /* the bytes' classes; with per-byte lanes, their log-likelihoods per lane */
    size_t scored_end;  /* the end of the bytes the base scored so far */
    size_t pending;     /* --mem-limit: the first byte whose log-likelihoods wait for the chunk
                         * (SIZE_MAX: none); no byte from there on is summed before it runs */
    int draw;           /* the unsharded run draws windows (--max-tokens): per-byte lanes stop after
                         * the end of its last window (a shard reads as far as it would) */
    size_t file;        /* its index in the corpus */
};

/* Under --mem-limit the log-likelihoods of a window come when its chunk runs (drift_chunk.h):
 * the byte offsets of the scored tokens of window w of lane k go to x->off, and the bytes are
 * claimed for the lane now (a per-byte lane under a draw asks which bytes the base scored). */
static void claim_window(Scorer *s, int k, long w) {
    Ctx *x = s->x;
    int first = x->o->ctx / 2;
    size_t w0 = (size_t)w * (size_t)(x->o->ctx - 1);
    for (int i = 0; i <= x->n_out; i++) x->off[i] = tftrack_off(&s->lane[k].tr, w0 + (size_t)(first + i));
    tfledger_claim(&s->led, k, x->off[0], x->off[x->n_out]);
    if (x->off[0] < s->pending) s->pending = x->off[0];
}

/* Spreads the log-likelihoods of the scored positions of r's current window (window w of lane k)
 * over the bytes of the tokens they predict. */
static void spread_window(Scorer *s, int k, const Runner *r, const int *win, long w) {
    int ctx = s->x->o->ctx, first = ctx / 2, V = r->m->cfg.n_vocab;
    const TfTrack *tr = &s->lane[k].tr;
    size_t w0 = (size_t)w * (size_t)(ctx - 1);
    for (int i = first; i < ctx - 1; i++) {
        double lp = log_prob_of(r->logits + (size_t)(i - first) * V, V, win[i + 1]);
        tfledger_spread(&s->led, k, tftrack_off(tr, w0 + i), tftrack_off(tr, w0 + i + 1), lp);
    }
}

/* Runs the base's windows that its tokens allow. */
static int run_base(Scorer *s, Err *err) {
    Ctx *x = s->x;
    Lane *b = &s->lane[0];
    int ctx = x->o->ctx, first = ctx / 2;
    size_t wl = (size_t)(ctx - 1);
    while (b->next <= s->last && tftrack_tokens(&b->tr) >= (size_t)(b->next + 1) * wl) {
        long w = b->next++;
        if (s->pick && !s->pick[w]) continue;
        size_t w0 = (size_t)w * wl;
        tftrack_window(&b->tr, w, ctx, x->r[0].start, x->win);
        for (int i = 0; i < x->n_out; i++) {
            size_t ts = w0 + (size_t)(first + i);
            x->cls[i] = b->tr.aligned ? (uint8_t)corpus_span_class(s->led.marks, tftrack_off(&b->tr, ts) - s->led.byte0,
                                                                   tftrack_off(&b->tr, ts + 1) - s->led.byte0)
                                      : TF_ALL;
        }
        TfLedger *led = NULL;
        if (x->chunked && s->nlanes > 1) claim_window(s, 0, w), led = &s->led;
        if (run_window(x, s->lang, s->path, w, led, err)) return s->window_failed = 1, -1;
        if (s->nlanes > 1) { /* the base's logits stay until its next window */
            if (!x->chunked) spread_window(s, 0, &x->r[0], x->win, w);
            s->scored_end = tftrack_off(&b->tr, w0 + wl);
        }
    }
    if (b->next > s->last) { /* (a shard's base passes the unsharded run's last window, unrun) */
        b->done = 1;
        if (s->nlanes > 1) s->scored_end = tftrack_off(&b->tr, (size_t)b->next * wl);
    }
    tftrack_drop(&b->tr, (size_t)b->next * wl);
    return 0;
}

/* Runs the windows of per-byte lane k that its tokens (and, under a draw, the base's) allow. */
static int run_lane(Scorer *s, int k, Err *err) {
    Lane *ln = &s->lane[k];
    const Lane *b = &s->lane[0];
    Runner *r = &s->x->r[ln->model];
    int ctx = s->x->o->ctx, first = ctx / 2, *win = s->x->win;
    size_t wl = (size_t)(ctx - 1);
    while (!ln->done && tftrack_tokens(&ln->tr) >= (size_t)(ln->next + 1) * wl) {
        size_t w0 = (size_t)ln->next * wl;
        if (s->pick) { /* only the windows holding a byte the base scored: wait until it is known */
            size_t vs = tftrack_off(&ln->tr, w0 + (size_t)first), ve = tftrack_off(&ln->tr, w0 + wl);
            if (!b->done && tftrack_frontier(&b->tr) < ve) break;
            if (!tfledger_any(&s->led, 0, vs, ve)) {
                ln->next++;
                continue;
            }
        }
        tftrack_window(&ln->tr, ln->next, ctx, r->start, win);
        if (s->x->chunked) { /* run when the chunk runs */
            claim_window(s, k, ln->next);
            chunk_add_bytes(&s->x->chunk, (ChunkByteWin){ln->model, k, &s->led, &ln->dead}, win, s->x->off);
        } else {
            if (runner_window(r, win, ctx, err)) return s->window_failed = 1, -1;
            spread_window(s, k, r, win, ln->next);
        }
        ln->tokens += ctx - 1;
        if (s->x->run->models[ln->model].blog) push_window(ln, ln->next); /* logged when the file's sums are */
        ln->next++;
        if (s->x->chunked && chunk_over(&s->x->chunk, held_bytes(s->x)) && flush_chunk(s->x, err))
            return s->window_failed = 1, -1;
    }
    tftrack_drop(&ln->tr, (size_t)ln->next * wl);
    if (s->draw && b->done && tftrack_frontier(&ln->tr) >= s->scored_end) ln->done = 1;
    return 0;
}

/* Sums the bytes before upto (every byte no lane's window will write any more by default). */
static void take_bytes(Scorer *s, size_t upto) {
    TfBytes **acc = xcalloc((size_t)s->nlanes, sizeof *acc);
    TfByteLog **logs = xcalloc((size_t)s->nlanes, sizeof *logs);
    for (int k = 0; k < s->nlanes; k++) {
        const Lane *ln = &s->lane[k];
        if (k > 0 && !ln->dead && ln->acc) acc[k] = ln->acc, logs[k] = s->x->run->models[ln->model].blog;
        if (!ln->done && tftrack_frontier(&ln->tr) < upto) upto = tftrack_frontier(&ln->tr);
    }
    if (upto > s->pending) upto = s->pending;
    tfbytelog_take(&s->led, upto, logs); /* a shard's per-byte lanes: the merge's records */
    tfledger_take(&s->led, upto, acc, s->lang, s->x->run->nlangs, TF_CLASSES, TF_ALL);
    free(acc), free(logs);
}

/* Runs every window the tokens so far allow, and sums the bytes no window will write any more. */
static int pump(Scorer *s, Err *err) {
    if (run_base(s, err)) return -1;
    for (int k = 1; k < s->nlanes; k++)
        if (run_lane(s, k, err)) return -1;
    take_bytes(s, SIZE_MAX);
    return 0;
}

static int lane_piece(void *arg, const char *text, size_t len, size_t at, const IntVec *ids, Err *err) {
    Lane *ln = arg;
    Scorer *s = ln->s;
    if (tftrack_push(&ln->tr, ids, text, len, at) != 0) {
        if (ln == s->lane)
            return err_set(err, "%s: the file changed while drift ran (its tokens no longer spell it)", s->path);
        ln->dead = ln->done = 1; /* its bytes cannot be placed: not compared in this file */
    }
    if (ln == s->lane && ln->tr.aligned) {
        tfledger_extend(&s->led, at + len);
        corpus_mark(text, len, s->kl, tfledger_marks(&s->led, at)); /* a piece starts a line: exact */
    } else if (s->nlanes > 1) {
        tfledger_extend(&s->led, at + len);
    }
    return pump(s, err) ? -1 : ln->done ? 1 : 0; /* 1: enough read */
}

static int score_chunk(void *arg, const char *data, size_t n, Err *err) {
    Scorer *s = arg;
    int done = 1;
    for (int k = 0; k < s->nlanes; k++)
        if (!s->lane[k].done && tok_stream_put(&s->lane[k].ts, data, n, lane_piece, &s->lane[k], err) < 0) return -1;
    for (int k = 0; k < s->nlanes; k++) done &= s->lane[k].done;
    return done;
}

/* Gives the per-byte lanes their totals: a copy of the model's so far, to which the file's bytes
 * are added, kept aside until the file ends (a lane that stops spelling the file adds nothing). Under
 * --mem-limit only once every file before it is summed, so the sums keep the corpus's byte order. */
static void own_totals(Scorer *s) {
    TfRun *run = s->x->run;
    size_t nb = (size_t)(run->nlangs + 1) * TF_CLASSES * sizeof(TfBytes);
    for (int k = 1; k < s->nlanes; k++) {
        TfModel *tm = &run->models[s->lane[k].model];
        if (s->lane[k].acc) continue;
        s->lane[k].acc = memcpy(xmalloc(nb), tm->bytes, nb);
        if (tm->blog) tfbytelog_file(tm->blog, (uint32_t)s->file, s->lang); /* its bytes are logged from now on */
    }
}

/* The file is read and every log-likelihood of its bytes is known: sums the bytes left and keeps
 * the totals of the lanes still spelling it. */
static void finish_file(Scorer *s) {
    TfRun *run = s->x->run;
    size_t nb = (size_t)(run->nlangs + 1) * TF_CLASSES * sizeof(TfBytes);
    own_totals(s);
    for (int k = 0; k < s->nlanes; k++) s->lane[k].done = 1;
    take_bytes(s, SIZE_MAX);
    for (int k = 1; k < s->nlanes; k++) {
        TfByteLog *g = run->models[s->lane[k].model].blog;
        for (size_t w = 0; g && w < s->lane[k].nwins; w++) tfbytelog_window(g, s->lane[k].wins[w]);
        if (g) tfbytelog_end(g, !s->lane[k].dead, s->lane[k].all_windows);
        if (s->lane[k].dead) continue;
        memcpy(run->models[s->lane[k].model].bytes, s->lane[k].acc, nb);
        run->models[s->lane[k].model].tokens += s->lane[k].tokens;
    }
}

static void scorer_free(Scorer *s) {
    for (int k = 0; k < s->nlanes; k++) {
        tok_stream_free(&s->lane[k].ts);
        tftrack_free(&s->lane[k].tr);
        free(s->lane[k].acc), free(s->lane[k].wins);
    }
    free(s->lane);
    tfledger_free(&s->led);
    free(s);
}

static size_t held_bytes(const Ctx *x) { return x->fin_bytes + (x->open ? tfledger_bytes(&x->open->led) : 0); }

/* After a chunk ran (every log-likelihood it owed is in the ledgers): sums the files read, in
 * corpus order, and lets the file being read sum its bytes from now on. */
static void settle_files(Ctx *x) {
    for (size_t i = 0; i < x->nfin; i++) {
        x->fin[i]->pending = SIZE_MAX;
        finish_file(x->fin[i]);
        scorer_free(x->fin[i]);
    }
    x->nfin = 0, x->fin_bytes = 0;
    if (x->open) x->open->pending = SIZE_MAX, own_totals(x->open);
}

/* Scores file x->file_index, streamed. */
static int stream_file(Ctx *x, const KwSet *kw, const CorpusFile *cf, Err *err) {
    TfRun *run = x->run;
    const Plan *p = &x->plan;
    size_t i = x->file_index;
    long nw = p->nw[i];
    int lang = kw_index(kw, cf->lang);
    if (p->status[i] == PLAN_FAILED) { /* read again for the error */
        ReadStatus st;
        size_t tokens;
        int aligned;
        if (count_file(cf->path, x->r[0].tok, &st, &tokens, &aligned, err)) return -1;
        return err_set(err, "%s: the file changed while drift ran (it could not be read before)", cf->path);
    }
    if (lang < 0) return err_set(err, "%s: language %s has no keyword list", cf->path, cf->lang);
    if (nw <= 0) {
        run->too_short++;
        return 0;
    }
    const uint8_t *pick = p->pick[i];
    long last = -1;
    for (long w = 0; w < nw; w++)
        if (!pick || pick[w]) last = w;
    if (last < 0) {
        run->unsampled++;
        return 0;
    }
    run->scored++;
    if (!p->aligned[i]) run->unaligned++;
    Scorer *s = xmalloc(sizeof *s);
    *s = (Scorer){.x = x, .kl = &kw->langs[lang], .path = cf->path, .lang = lang, .pick = pick, .last = last,
                  .pending = SIZE_MAX, .draw = x->o->max_tokens > 0, .file = i};
    s->lane = xcalloc((size_t)run->nmodels, sizeof *s->lane);
    s->lane[s->nlanes++].model = 0;
    for (int v = 1; v < run->nmodels && p->aligned[i]; v++) /* per byte: where the base's bytes are known */
        if (!run->models[v].same_vocab) s->lane[s->nlanes++].model = v;
    if (s->nlanes > 1 && p->last_all) s->last = p->last_all[i]; /* a shard reads as the unsharded run does */
    tfledger_init(&s->led, s->nlanes > 1 ? s->nlanes : 0);
    for (int k = 0; k < s->nlanes; k++) {
        Lane *ln = &s->lane[k];
        ln->s = s;
        stream_open(&ln->ts, x->r[ln->model].tok);
        tftrack_init(&ln->tr, x->r[ln->model].tok, k == 0 ? p->aligned[i] : 1);
    }
    if (x->nfin == 0) own_totals(s); /* else once the files before it are summed (settle_files) */
    if (x->chunked && s->nlanes > 1) x->open = s;
    ReadStatus st;
    int rc = corpus_stream(cf->path, score_chunk, s, &st, err);
    if (rc == 0 && st != READ_OK)
        rc = err_set(err, "%s: the file changed while drift ran (%s)", cf->path,
                     st == READ_EMPTY ? "it is empty" : "it is not UTF-8 text any more");
    for (int k = 0; k < s->nlanes && rc == 0; k++)
        if (!s->lane[k].done && tok_stream_end(&s->lane[k].ts, lane_piece, &s->lane[k], err) < 0) rc = -1;
    if (rc == 0 && pump(s, err)) rc = -1; /* (a lane whose text had all been encoded had no last piece) */
    if (rc == 0 && !s->lane[0].done) /* the read ended before the base's last window */
        rc = err_set(err, "%s: the file changed while drift ran (%ld windows, %ld before)", cf->path,
                     windows_of(tftrack_tokens(&s->lane[0].tr), x->o->ctx), nw);
    x->open = NULL;
    if (rc < 0 && !s->window_failed) name_file(cf->path, err);
    for (int k = 0; k < s->nlanes; k++) { /* without a draw the unsharded run ran every window of a lane */
        s->lane[k].all_windows = s->draw ? -1 : windows_of(tftrack_tokens(&s->lane[k].tr), x->o->ctx);
        tok_stream_free(&s->lane[k].ts), tftrack_free(&s->lane[k].tr);
    }
    if (rc >= 0 && (s->pending != SIZE_MAX || x->nfin > 0)) { /* --mem-limit: summed after the chunk runs */
        for (int k = 0; k < s->nlanes; k++) s->lane[k].done = 1;
        take_bytes(s, SIZE_MAX); /* the bytes before the first that waits */
        if (x->nfin == x->fin_cap) x->fin = xrealloc(x->fin, (x->fin_cap = 2 * x->fin_cap + 4) * sizeof *x->fin);
        x->fin[x->nfin++] = s;
        x->fin_bytes += tfledger_bytes(&s->led);
        return 0;
    }
    if (rc >= 0) finish_file(s);
    scorer_free(s);
    return rc < 0 ? -1 : 0;
}

int tfrun(const TfOptions *o, const Corpus *c, const KwSet *kw, TfRun *run, Err *err) {
    memset(run, 0, sizeof *run);
    if (o->ctx < 4) return err_set(err, "--ctx %d: a window needs at least 4 tokens", o->ctx);
    run->nmodels = o->nmodels;
    run->ctx = o->ctx;
    run->models = xcalloc((size_t)o->nmodels, sizeof *run->models);
    run->nlangs = (int)kw->nlangs;
    run->langs = xcalloc(kw->nlangs + 1, sizeof *run->langs);
    for (size_t i = 0; i < kw->nlangs; i++) run->langs[i] = kw->langs[i].name;
    run->lang_windows = xcalloc(kw->nlangs + 1, sizeof *run->lang_windows);
    run->max_tokens = o->max_tokens, run->seed = o->seed;
    run->files = c->n;
    run->unknown = c->unknown;

    Ctx x = {.o = o, .run = run, .n_out = o->ctx - 1 - o->ctx / 2, .chunked = o->mem_limit > 0};
    x.r = xcalloc((size_t)o->nmodels, sizeof *x.r);
    int rc = 0;
    for (int i = 0; i < o->nmodels && rc == 0; i++) {
        progress("drift: loading model %d/%d: %s", i + 1, o->nmodels, o->names[i]);
        const char *tok = o->tokenizers && o->tokenizers[i] ? o->tokenizers[i] : o->tokenizer;
        rc = runner_open(&x.r[i], &run->models[i], o->models[i], o->names[i], tok, o, x.n_out, err);
        TfModel *tm = &run->models[i];
        tm->bytes = xcalloc((size_t)(run->nlangs + 1) * TF_CLASSES, sizeof *tm->bytes);
        if (rc == 0 && i > 0)
            tm->same_vocab = !o->bytes_only && tm->n_vocab == run->models[0].n_vocab &&
                             tok_same_vocab(x.r[0].tok, x.r[i].tok) && x.r[i].start == x.r[0].start;
        if (rc == 0 && x.chunked) { /* one model resident at a time: each is loaded again for its turn */
            runner_unload(&x.r[i]);
            if (i > 0 && tm->same_vocab) tok_free(x.r[i].tok), x.r[i].tok = NULL; /* the base's serves */
        }
    }
    for (int i = 1; i < o->nmodels && rc == 0 && o->nshards > 0; i++) /* the merge replays their bytes */
        if (!run->models[i].same_vocab) run->models[i].blog = xcalloc(1, sizeof *run->models[i].blog);
    if (rc == 0 && o->nshards > 0 && (o->shard < 0 || o->shard >= o->nshards))
        rc = err_set(err, "--shard %d/%d: no such shard", o->shard + 1, o->nshards);
    if (rc == 0 && o->positions && (rc = o->positions->open(o->positions->arg, err)) == 0) x.sink = o->positions;
    if (rc == 0) {
#ifdef _OPENMP
        x.threads = omp_get_max_threads();
#else
        x.threads = 1;
#endif
        x.scratch = xcalloc((size_t)x.threads, sizeof *x.scratch);
        for (int t = 0; t < x.threads; t++)
            x.scratch[t] = xmalloc(2 * (size_t)run->models[0].n_vocab * sizeof(float));
        x.win = xmalloc((size_t)o->ctx * sizeof *x.win);
        x.pos = xmalloc((size_t)x.n_out * sizeof *x.pos);
        x.cls = xmalloc((size_t)x.n_out);
        x.off = xmalloc((size_t)(x.n_out + 1) * sizeof *x.off);
        plan_windows(&x.plan, o, c, kw, x.r[0].tok, run->lang_windows);
        run->all_windows = x.plan.total;
        PlanTally tally;
        plan_tally(&x.plan, c->n, &tally);
        if (o->nshards > 0) plan_shard(&x.plan, c->n, o->shard, o->nshards);
        if (x.chunked) {
            int nsame = 0, bytes = 0; /* the variants compared per position, and whether some are per byte */
            x.var_index = xcalloc((size_t)run->nmodels, sizeof *x.var_index);
            for (int v = 1; v < run->nmodels; v++)
                if (run->models[v].same_vocab) x.var_index[nsame++] = v;
                else bytes = 1;
            chunk_init(&x.chunk, o->mem_limit, x.plan.total, o->ctx, run->models[0].n_vocab, nsame, bytes);
        }
        x.t0 = now_seconds();
        for (size_t i = 0; i < c->n && rc == 0; i++) { /* streamed: memory bounded */
            x.file_index = (uint32_t)i;
            if (x.plan.status[i] == READ_EMPTY) run->empty++;
            else if (x.plan.status[i] == READ_NOT_UTF8)
                corpus_note_file(&run->not_utf8_names, run->not_utf8++, c->files[i].path);
            else rc = stream_file(&x, kw, &c->files[i], err);
        }
        if (x.chunked && rc == 0) rc = flush_chunk(&x, err);
        if (x.chunked) chunk_free(&x.chunk), free(x.var_index);
        for (size_t i = 0; i < x.nfin; i++) scorer_free(x.fin[i]); /* (after a failure) */
        free(x.fin);
        progress_done();
        run->seconds = now_seconds() - x.t0;
        if (o->nshards > 0 && rc == 0) { /* a shard reports the whole run's files */
            run->scored = tally.scored, run->empty = tally.empty, run->not_utf8 = tally.not_utf8;
            run->too_short = tally.too_short, run->unaligned = tally.unaligned, run->unsampled = tally.unsampled;
        }
        for (int t = 0; t < x.threads; t++) free(x.scratch[t]);
        free(x.scratch), free(x.win), free(x.pos), free(x.cls), free(x.off);
        plan_free(&x.plan, c->n);
    }
    if (x.sink && x.sink->close(x.sink->arg, rc == 0 ? err : NULL) != 0 && rc == 0) rc = -1;
    for (int i = 0; i < o->nmodels; i++) runner_close(&x.r[i]);
    free(x.r);
    return rc;
}

void tfrun_free(TfRun *run) {
    for (int i = 0; i < run->nmodels; i++) {
        TfModel *m = &run->models[i];
        free(m->name), free(m->path), free(m->tokenizer_path);
        tf_sample_free(&m->pos);
        free(m->pos_lang), free(m->pos_class), free(m->bytes);
        if (m->blog) tfbytelog_free(m->blog), free(m->blog);
    }
    free(run->models);
    free(run->not_utf8_names);
    free(run->langs);
    free(run->lang_windows);
    free(run->win_file), free(run->win_index), free(run->win_next);
    memset(run, 0, sizeof *run);
}

const TfBytes *tfrun_bytes(const TfRun *run, int m, int l, int c) {
    return &run->models[m].bytes[(size_t)l * TF_CLASSES + c];
}

void tfrun_select(const TfRun *run, int m, int l, int c, TfSample *out) {
    const TfModel *tm = &run->models[m];
    out->n = 0;
    for (size_t i = 0; i < tm->pos.n; i++)
        if ((l == run->nlangs || tm->pos_lang[i] == l) && (c == TF_ALL || tm->pos_class[i] == c)) {
            if (tm->pos.cluster) tf_push_in(out, tm->pos.v[i], tm->pos.cluster[i]);
            else tf_push(out, tm->pos.v[i]);
        }
}
