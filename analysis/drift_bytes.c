/* drift_bytes: see drift_bytes.h. */
#include "analysis/drift_bytes.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/corpus.h"
#include "analysis/shard_le.h"

#define RUN_BYTES 35   /* file, offset, bytes, language, class, nll_base, nll_var */
#define RANGE_BYTES 12 /* file, first window, windows */

/* ---- logging (a shard's run) ---- */

static void flush_run(TfByteLog *g) {
    if (!g->open) return;
    put_u32(&g->frun, g->file), put_u64(&g->frun, g->off), put_u32(&g->frun, g->len);
    put_u16(&g->frun, g->lang), buf_append(&g->frun, &g->cls, 1);
    put_f64(&g->frun, g->nb), put_f64(&g->frun, g->nv);
    g->fnruns++;
    g->open = 0;
}

void tfbytelog_file(TfByteLog *g, uint32_t file, int lang) {
    g->frun.len = 0, g->fnruns = 0, g->nfwin = 0, g->open = 0;
    g->file = file, g->lang = (uint16_t)lang;
}

void tfbytelog_window(TfByteLog *g, long w) {
    if (g->nfwin == g->fwin_cap) {
        g->fwin_cap = g->fwin_cap ? 2 * g->fwin_cap : 16;
        g->fwin = xrealloc(g->fwin, g->fwin_cap * sizeof *g->fwin);
    }
    g->fwin[g->nfwin++] = w;
}

/* Byte at of class cls with values nb, nv: extends the pending run when it continues it (the same
 * bits), else starts a new one. */
static void log_byte(TfByteLog *g, uint64_t at, uint8_t cls, double nb, double nv) {
    if (g->open && at == g->off + g->len && cls == g->cls && g->len < UINT32_MAX && !memcmp(&nb, &g->nb, 8) &&
        !memcmp(&nv, &g->nv, 8)) {
        g->len++;
        return;
    }
    flush_run(g);
    g->open = 1, g->off = at, g->len = 1, g->cls = cls, g->nb = nb, g->nv = nv;
}

void tfbytelog_take(const TfLedger *l, size_t upto, TfByteLog *const *logs) {
    if (upto <= l->byte0) return;
    size_t m = upto - l->byte0; /* the bytes tfledger_take sums */
    if (m > l->n) m = l->n;
    if (!m) return;
    const double *nb = l->nll;
    const uint8_t *sb = l->seen;
    for (int k = 1; k < l->lanes; k++) {
        if (!logs[k]) continue;
        const double *nv = l->nll + (size_t)k * l->cap;
        const uint8_t *sv = l->seen + (size_t)k * l->cap;
        for (size_t b = 0; b < m; b++)
            if (sb[b] && sv[b]) log_byte(logs[k], l->byte0 + b, (uint8_t)MARK_CLASS(l->marks[b]), nb[b], nv[b]);
    }
}

static void put_range(Buf *b, uint64_t *n, uint32_t file, long first, long count) {
    put_u32(b, file), put_u32(b, (uint32_t)first), put_u32(b, (uint32_t)count);
    (*n)++;
}

void tfbytelog_end(TfByteLog *g, int keep, long all_windows) {
    flush_run(g);
    if (keep) {
        buf_append(&g->runs, g->frun.data, g->frun.len);
        g->nruns += g->fnruns;
        if (all_windows >= 0) {
            if (all_windows > 0) put_range(&g->ranges, &g->nranges, g->file, 0, all_windows);
        } else
            for (size_t i = 0, j; i < g->nfwin; i = j) { /* consecutive windows: one range */
                for (j = i + 1; j < g->nfwin && g->fwin[j] == g->fwin[j - 1] + 1;) j++;
                put_range(&g->ranges, &g->nranges, g->file, g->fwin[i], (long)(j - i));
            }
    }
    g->frun.len = 0, g->fnruns = 0, g->nfwin = 0;
}

void tfbytelog_free(TfByteLog *g) {
    buf_free(&g->runs), buf_free(&g->ranges), buf_free(&g->frun);
    free(g->fwin);
    memset(g, 0, sizeof *g);
}

void tfbytes_put(Buf *b, const TfRun *run) {
    for (int m = 1; m < run->nmodels; m++) {
        const TfByteLog *g = run->models[m].blog;
        if (!g) continue;
        put_u64(b, g->nruns);
        buf_append(b, g->runs.data, g->runs.len);
        put_u64(b, g->nranges);
        buf_append(b, g->ranges.data, g->ranges.len);
    }
}

/* ---- the merge ---- */

typedef struct {
    uint32_t file;
    uint64_t off;
    const uint8_t *rec;
} RunRef;

static int by_place(const void *a, const void *b) {
    const RunRef *x = a, *y = b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

typedef struct {
    uint32_t file, first, count;
} Range;

static int by_range(const void *a, const void *b) {
    const Range *x = a, *y = b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Reads a count and its items of size item from the section at *p (end: its end). */
static const uint8_t *take_items(const uint8_t **p, const uint8_t *end, size_t item, uint64_t *n) {
    if (end - *p < 8) return NULL;
    *n = get_u64(*p);
    if (*n > (uint64_t)(end - *p - 8) / item) return NULL;
    const uint8_t *items = *p + 8;
    *p = items + *n * item;
    return items;
}

/* Adds the sorted runs into model tm's totals, byte by byte: tfledger_take's additions, in its order. */
static void replay(TfModel *tm, const RunRef *r, size_t n, int nlangs) {
    for (size_t i = 0; i < n; i++) {
        const uint8_t *q = r[i].rec;
        uint32_t len = get_u32(q + 12);
        int ls[2] = {(int)get_u16(q + 16), nlangs}, cs[2] = {q[18], TF_ALL};
        double nb = get_f64(q + 19), nv = get_f64(q + 27);
        for (uint32_t b = 0; b < len; b++)
            for (int a = 0; a < 2; a++)
                for (int c = 0; c < 2; c++) {
                    TfBytes *t = &tm->bytes[(size_t)ls[a] * TF_CLASSES + (size_t)cs[c]];
                    t->nll_base += nb, t->nll_var += nv, t->bytes += 1;
                }
    }
}

int tfbytes_merge(const uint8_t *const *sec, const size_t *len, const char *const *paths, int n, TfRun *run,
                  Err *err) {
    const uint8_t **p = xcalloc((size_t)n, sizeof *p);
    for (int i = 0; i < n; i++) p[i] = sec[i];
    int rc = 0;
    for (int m = 1; m < run->nmodels && rc == 0; m++) {
        TfModel *tm = &run->models[m];
        if (tm->same_vocab) continue;
        const uint8_t **runs = xcalloc((size_t)n, sizeof *runs), **ranges = xcalloc((size_t)n, sizeof *ranges);
        uint64_t *nruns = xcalloc((size_t)n, sizeof *nruns), *nranges = xcalloc((size_t)n, sizeof *nranges);
        size_t total = 0, rtotal = 0;
        for (int i = 0; i < n && rc == 0; i++) {
            const uint8_t *end = sec[i] + len[i];
            if (!(runs[i] = take_items(&p[i], end, RUN_BYTES, &nruns[i])) ||
                !(ranges[i] = take_items(&p[i], end, RANGE_BYTES, &nranges[i])))
                rc = err_set(err, "%s: its per-byte records of %s are damaged", paths[i], tm->name);
            total += (size_t)nruns[i], rtotal += (size_t)nranges[i];
        }
        RunRef *r = rc ? NULL : xmalloc((total + 1) * sizeof *r);
        Range *g = rc ? NULL : xmalloc((rtotal + 1) * sizeof *g);
        size_t k = 0, kr = 0;
        for (int i = 0; i < n && rc == 0; i++) {
            for (uint64_t j = 0; j < nruns[i] && rc == 0; j++, k++) {
                const uint8_t *q = runs[i] + j * RUN_BYTES;
                r[k] = (RunRef){get_u32(q), get_u64(q + 4), q};
                if (r[k].file >= run->files || get_u32(q + 12) == 0 || get_u16(q + 16) >= (uint32_t)run->nlangs ||
                    q[18] >= MARK_COUNT || r[k].off > UINT64_MAX / 2)
                    rc = err_set(err, "%s: a damaged per-byte record of %s (file %u)", paths[i], tm->name, r[k].file);
            }
            for (uint64_t j = 0; j < nranges[i] && rc == 0; j++, kr++) {
                const uint8_t *q = ranges[i] + j * RANGE_BYTES;
                g[kr] = (Range){get_u32(q), get_u32(q + 4), get_u32(q + 8)};
                if (g[kr].file >= run->files || g[kr].count == 0 || g[kr].first > UINT32_MAX - g[kr].count)
                    rc = err_set(err, "%s: a damaged window range of %s (file %u)", paths[i], tm->name, g[kr].file);
            }
        }
        if (rc == 0) {
            qsort(r, total, sizeof *r, by_place); /* the byte order of the unsharded run */
            for (size_t j = 1; j < total && rc == 0; j++)
                if (r[j].file == r[j - 1].file && r[j].off < r[j - 1].off + get_u32(r[j - 1].rec + 12))
                    rc = err_set(err, "byte %" PRIu64 " of file %u of %s is in two shards: shards of different runs",
                                 r[j].off, r[j].file, tm->name);
        }
        if (rc == 0) {
            replay(tm, r, total, run->nlangs);
            qsort(g, rtotal, sizeof *g, by_range); /* the union of the windows the variant ran */
            long windows = 0;
            for (size_t j = 0, e = 0; j < rtotal; j++) {
                uint64_t end = (uint64_t)g[j].first + g[j].count;
                if (j == 0 || g[j].file != g[j - 1].file) e = 0;
                if (end > e) windows += (long)(end - (g[j].first > e ? g[j].first : e)), e = end;
            }
            tm->tokens = windows * (run->ctx - 1);
        }
        free(r), free(g), free(runs), free(ranges), free(nruns), free(nranges);
    }
    for (int i = 0; i < n && rc == 0; i++)
        if (p[i] != sec[i] + len[i])
            rc = err_set(err, "%s: %zu bytes after its per-byte records", paths[i], (size_t)(sec[i] + len[i] - p[i]));
    free(p);
    return rc;
}
