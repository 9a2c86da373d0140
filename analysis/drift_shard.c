/* drift_shard: see drift_shard.h. */
#include "analysis/drift_shard.h"

#include "analysis/drift_bytes.h"
#include "analysis/shard_le.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char MAGIC[8] = {'C', 'T', 'D', 'S', 'H', 'A', 'R', 'D'};
static const char END[8] = {'C', 'T', 'D', 'E', 'N', 'D', 0, 0};
#define VERSION 2u /* 2: variants compared per byte (their records after the windows') */
#define POS_BYTES 13 /* kl, lp_base, lp_var (f32), flags */

/* A text field: u32 length, the bytes (analysis/shard_le.h has the little-endian fields). */
static void put_text(Buf *b, const Buf *t) {
    put_u32(b, (uint32_t)t->len);
    buf_append(b, t->data ? t->data : "", t->len);
}

/* FNV-1a, 64 bits: a damaged byte (a flipped bit on disk or in a copy) changes it. */
static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* ---- writing ---- */

/* What every shard of the run shares besides the settings: the models, languages and file counts. */
static void common_text(Buf *t, const TfRun *r) {
    buf_printf(t, "ctx %d\nfiles %zu\nunknown %zu\nscored %zu\nempty %zu\nnot_utf8 %zu\ntoo_short %zu\n", r->ctx,
               r->files, r->unknown, r->scored, r->empty, r->not_utf8, r->too_short);
    buf_printf(t, "unaligned %zu\nunsampled %zu\nmax_tokens %ld\nseed %" PRIu64 "\nall_windows %ld\n", r->unaligned,
               r->unsampled, r->max_tokens, r->seed, r->all_windows);
    buf_printf(t, "models %d\n", r->nmodels);
    for (int m = 0; m < r->nmodels; m++) {
        const TfModel *tm = &r->models[m];
        buf_printf(t, "model\t%s\t%s\t%s\t%d\t%.17g\t%d\n", tm->name, tm->path, tm->tokenizer_path, tm->n_vocab,
                   tm->bpw, tm->same_vocab);
    }
    buf_printf(t, "langs %d\n", r->nlangs);
    for (int l = 0; l < r->nlangs; l++) buf_printf(t, "lang\t%s\t%ld\n", r->langs[l], r->lang_windows[l]);
}

int tfshard_write(const char *path, const TfRun *r, const TfOptions *o, const char *settings, Err *err) {
    int n_out = r->ctx - 1 - r->ctx / 2, nvar = 0, first = 0; /* the variants on the base's vocabulary */
    for (int m = 1; m < r->nmodels; m++)
        if (r->models[m].same_vocab && nvar++ == 0) first = m;
    size_t rec = 10 + 5 * (size_t)n_out + (size_t)nvar * (size_t)n_out * POS_BYTES;
    Buf b = {0}, st = {0}, common = {0}, own = {0}, bytes = {0};
    tfbytes_put(&bytes, r);
    buf_puts(&st, settings);
    common_text(&common, r);
    buf_printf(&own, "windows %ld\npositions %ld\nseconds %.17g\n", r->windows, r->positions, r->seconds);
    for (int m = 0; m < r->nmodels; m++) buf_printf(&own, "tokens %d %ld\n", m, r->models[m].tokens);
    buf_append(&b, MAGIC, 8);
    put_u32(&b, VERSION), put_u32(&b, (uint32_t)o->shard), put_u32(&b, (uint32_t)o->nshards);
    put_text(&b, &st), put_text(&b, &common), put_text(&b, &own);
    put_u32(&b, (uint32_t)n_out), put_u32(&b, (uint32_t)nvar), put_u32(&b, (uint32_t)rec);
    put_u64(&b, (uint64_t)r->windows), put_u64(&b, (uint64_t)bytes.len);
    uint8_t *no_class = xmalloc((size_t)n_out + 1);
    memset(no_class, TF_ALL, (size_t)n_out + 1);
    for (long w = 0; w < r->windows; w++) {
        size_t k0 = (size_t)w * (size_t)n_out; /* the window's first position in every variant's sample */
        const TfModel *v1 = first ? &r->models[first] : NULL; /* none: the language and classes are unused */
        put_u32(&b, r->win_file[w]), put_u32(&b, r->win_index[w]), put_u16(&b, v1 ? v1->pos_lang[k0] : 0);
        buf_append(&b, v1 ? v1->pos_class + k0 : no_class, (size_t)n_out);
        for (int i = 0; i < n_out; i++) put_u32(&b, (uint32_t)r->win_next[k0 + (size_t)i]);
        for (int v = 1; v < r->nmodels; v++)
            for (int i = 0; i < n_out && r->models[v].same_vocab; i++) {
                const TfPos *p = &r->models[v].pos.v[k0 + (size_t)i];
                put_f32(&b, p->kl), put_f32(&b, p->lp_base), put_f32(&b, p->lp_var);
                uint8_t flags = (uint8_t)((p->same_top1 ? 1 : 0) | (p->top1_base ? 2 : 0) | (p->top1_var ? 4 : 0));
                buf_append(&b, &flags, 1);
            }
    }
    buf_append(&b, bytes.data, bytes.len);
    uint64_t sum = fnv1a((const uint8_t *)b.data, b.len); /* everything before the end mark */
    buf_append(&b, END, 8);
    put_u64(&b, (uint64_t)r->windows), put_u64(&b, sum);
    int rc = write_file_atomic(path, b.data, b.len, err);
    buf_free(&b), buf_free(&st), buf_free(&common), buf_free(&own), buf_free(&bytes);
    free(no_class);
    return rc;
}

/* ---- reading ---- */

typedef struct {
    const char *path;
    uint8_t *data;
    size_t len;
    uint32_t shard, nshards, n_out, nvar, rec;
    uint64_t records, blen; /* blen: bytes of the per-byte section after the records */
    char *settings, *common, *own;
    const uint8_t *recs;
} Shard;

static char *take_text(const uint8_t **p, const uint8_t *end) {
    if (end - *p < 4) return NULL;
    uint32_t n = get_u32(*p);
    if ((size_t)(end - *p - 4) < n) return NULL;
    char *s = xstrndup((const char *)*p + 4, n);
    *p += 4 + (size_t)n;
    return s;
}

static int shard_read(Shard *s, const char *path, Err *err) {
    memset(s, 0, sizeof *s);
    s->path = path;
    char *data = read_file(path, &s->len, err);
    if (!data) return -1;
    s->data = (uint8_t *)data;
    const uint8_t *p = s->data, *end = s->data + s->len;
    if (s->len < 20 || memcmp(p, MAGIC, 8))
        return err_set(err, "%s: not a drift shard file (coldtok drift --shard writes them)", path);
    if (get_u32(p + 8) != VERSION)
        return err_set(err, "%s: shard file version %u, this coldtok reads version %u", path, get_u32(p + 8), VERSION);
    s->shard = get_u32(p + 12), s->nshards = get_u32(p + 16);
    p += 20;
    if (!(s->settings = take_text(&p, end)) || !(s->common = take_text(&p, end)) || !(s->own = take_text(&p, end)) ||
        end - p < 28)
        return err_set(err, "%s: cut short in its header (a job that died?)", path);
    s->n_out = get_u32(p), s->nvar = get_u32(p + 4), s->rec = get_u32(p + 8), s->records = get_u64(p + 12);
    s->blen = get_u64(p + 20);
    p += 28;
    if (s->nshards < 1 || s->shard >= s->nshards || s->nvar > 65535 || s->n_out > (1u << 20) ||
        s->rec != 10 + 5 * (uint64_t)s->n_out + (uint64_t)s->nvar * s->n_out * POS_BYTES)
        return err_set(err, "%s: a damaged header (shard %u of %u, record of %u bytes)", path, s->shard + 1,
                       s->nshards, s->rec);
    size_t body = (size_t)(end - p);
    if (s->records > (body / s->rec) || body - s->records * s->rec < 24 || s->blen > body - s->records * s->rec - 24 ||
        memcmp(p + s->records * s->rec + s->blen, END, 8))
        return err_set(err, "%s: cut short: %" PRIu64 " records and %" PRIu64 " bytes of per-byte records announced, "
                       "%zu bytes after the header and no end mark where it belongs (a job that died, or a damaged file)",
                       path, s->records, s->blen, body);
    size_t all = (size_t)(s->records * s->rec + s->blen); /* records and per-byte section */
    if (body != all + 24 || get_u64(p + all + 8) != s->records)
        return err_set(err, "%s: %zu bytes after the records' end mark, or its count differs", path, body - all - 24);
    if (get_u64(p + all + 16) != fnv1a(s->data, (size_t)(p - s->data) + all))
        return err_set(err, "%s: its contents do not match their checksum (the file is damaged)", path);
    s->recs = p;
    return 0;
}

static void shard_free(Shard *s) {
    free(s->data), free(s->settings), free(s->common), free(s->own);
}

/* The first line where texts a and b differ, copied into out. */
static void first_diff(const char *a, const char *b, char *out, size_t cap) {
    while (*a && *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || memcmp(a, b, la)) {
            snprintf(out, cap, "'%.*s' against '%.*s'", (int)(la > 120 ? 120 : la), a, (int)(lb > 120 ? 120 : lb), b);
            return;
        }
        a += la + (a[la] != 0), b += lb + (b[lb] != 0);
    }
    snprintf(out, cap, "%s", *a ? "one has more lines" : "the other has more lines");
}

int tfshard_setting(const char *t, const char *key, char *out, size_t cap) {
    size_t k = strlen(key);
    for (const char *l = t; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        if (!strncmp(l, key, k) && l[k] == ' ') {
            size_t n = strcspn(l + k + 1, "\n");
            snprintf(out, cap, "%.*s", (int)n, l + k + 1);
            return 0;
        }
    return -1;
}

static long setting_long(const char *t, const char *key) {
    char v[64];
    return tfshard_setting(t, key, v, sizeof v) ? -1 : strtol(v, NULL, 10);
}

/* Rebuilds the run's models, languages and counts from the common text. */
static int parse_common(const Shard *s, TfMerged *m, Err *err) {
    TfRun *r = &m->run;
    const char *t = s->common;
    r->ctx = (int)setting_long(t, "ctx");
    r->files = (size_t)setting_long(t, "files"), r->unknown = (size_t)setting_long(t, "unknown");
    r->scored = (size_t)setting_long(t, "scored"), r->empty = (size_t)setting_long(t, "empty");
    r->not_utf8 = (size_t)setting_long(t, "not_utf8"), r->too_short = (size_t)setting_long(t, "too_short");
    r->unaligned = (size_t)setting_long(t, "unaligned"), r->unsampled = (size_t)setting_long(t, "unsampled");
    r->max_tokens = setting_long(t, "max_tokens"), r->all_windows = setting_long(t, "all_windows");
    char v[64];
    r->seed = tfshard_setting(t, "seed", v, sizeof v) ? 0 : strtoull(v, NULL, 10);
    long nmodels = setting_long(t, "models"), nlangs = setting_long(t, "langs");
    if (r->ctx < 4 || r->ctx - 1 - r->ctx / 2 != (int)s->n_out || nmodels < 2 || nmodels < (long)s->nvar + 1 || nmodels > 65536 ||
        nlangs < 0 || nlangs > 65535)
        return err_set(err, "%s: a damaged header (its run does not match its record layout)", s->path);
    r->nmodels = (int)nmodels, r->nlangs = (int)nlangs;
    r->models = xcalloc((size_t)r->nmodels, sizeof *r->models);
    m->langs = xcalloc((size_t)r->nlangs + 1, sizeof *m->langs);
    r->langs = xcalloc((size_t)r->nlangs + 1, sizeof *r->langs);
    r->lang_windows = xcalloc((size_t)r->nlangs + 1, sizeof *r->lang_windows);
    int nm = 0, nl = 0;
    for (const char *l = t; *l;) {
        size_t n = strcspn(l, "\n");
        char *line = xstrndup(l, n);
        char *f[8] = {0};
        int nf = 0;
        for (char *q = line; nf < 8 && q; nf++) {
            f[nf] = q;
            q = strchr(q, '\t');
            if (q) *q++ = 0;
        }
        if (!strcmp(f[0], "model") && nf == 7 && nm < r->nmodels) {
            TfModel *tm = &r->models[nm++];
            tm->name = xstrdup(f[1]), tm->path = xstrdup(f[2]), tm->tokenizer_path = xstrdup(f[3]);
            tm->n_vocab = atoi(f[4]), tm->bpw = strtod(f[5], NULL), tm->same_vocab = atoi(f[6]);
            tm->bytes = xcalloc((size_t)(r->nlangs + 1) * TF_CLASSES, sizeof *tm->bytes);
        } else if (!strcmp(f[0], "lang") && nf == 3 && nl < r->nlangs) {
            m->langs[nl] = xstrdup(f[1]);
            r->langs[nl] = m->langs[nl];
            r->lang_windows[nl++] = strtol(f[2], NULL, 10);
        }
        free(line);
        l += n + (l[n] != 0);
    }
    if (nm != r->nmodels || nl != r->nlangs)
        return err_set(err, "%s: a damaged header (%d of %d models, %d of %d languages)", s->path, nm, r->nmodels, nl,
                       r->nlangs);
    uint32_t same = 0;
    for (int k = 1; k < r->nmodels; k++) same += r->models[k].same_vocab != 0;
    if (same != s->nvar)
        return err_set(err, "%s: a damaged header (%u variants on the base's vocabulary, records for %u)", s->path, same,
                       s->nvar);
    return 0;
}

typedef struct {
    uint32_t file, window;
    const uint8_t *rec;
} WinRef;

static int by_window(const void *a, const void *b) {
    const WinRef *x = a, *y = b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return x->window < y->window ? -1 : x->window > y->window;
}

/* Checks that the n shards are all the shards of one run. */
static int check_set(const Shard *s, int n, Err *err) {
    char d[300];
    for (int i = 1; i < n; i++) {
        if (s[i].nshards != s[0].nshards)
            return err_set(err, "%s is shard %u of %u but %s of %u: shards of different runs", s[i].path,
                           s[i].shard + 1, s[i].nshards, s[0].path, s[0].nshards);
        if (strcmp(s[i].settings, s[0].settings)) {
            first_diff(s[0].settings, s[i].settings, d, sizeof d);
            return err_set(err, "%s and %s are shards of different runs: %s", s[0].path, s[i].path, d);
        }
        if (strcmp(s[i].common, s[0].common) || s[i].n_out != s[0].n_out || s[i].nvar != s[0].nvar) {
            first_diff(s[0].common, s[i].common, d, sizeof d);
            return err_set(err, "%s and %s are shards of different runs (their models or corpus differ): %s", s[0].path,
                           s[i].path, d);
        }
    }
    uint32_t N = s[0].nshards;
    const char **who = xcalloc(N, sizeof *who);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (who[s[i].shard])
            rc = err_set(err, "%s and %s are both shard %u of %u", who[s[i].shard], s[i].path, s[i].shard + 1, N);
        who[s[i].shard] = s[i].path;
    }
    Buf miss = {0};
    int nmiss = 0;
    for (uint32_t k = 0; k < N && rc == 0; k++)
        if (!who[k]) {
            if (nmiss++ < 10) buf_printf(&miss, "%s%u", nmiss > 1 ? ", " : "", k + 1);
            else if (nmiss == 11) buf_puts(&miss, ", ...");
        }
    if (rc == 0 && nmiss)
        rc = err_set(err, "%d of the %u shards of the run missing (shard %s): merge needs all of them", nmiss, N, miss.data);
    buf_free(&miss);
    free(who);
    return rc;
}

int tfshard_merge(const char *const *paths, int n, TfMerged *out, Err *err) {
    memset(out, 0, sizeof *out);
    Shard *s = xcalloc((size_t)n, sizeof *s);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) rc = shard_read(&s[i], paths[i], err);
    if (rc == 0) rc = check_set(s, n, err);
    if (rc == 0) rc = parse_common(&s[0], out, err);
    uint64_t total = 0;
    for (int i = 0; i < n && rc == 0; i++) total += s[i].records;
    if (rc == 0 && total != (uint64_t)out->run.all_windows)
        rc = err_set(err, "the shards hold %" PRIu64 " windows, their run scored %ld", total, out->run.all_windows);
    WinRef *w = NULL;
    if (rc == 0) {
        w = xmalloc((total + 1) * sizeof *w);
        size_t k = 0;
        for (int i = 0; i < n; i++)
            for (uint64_t j = 0; j < s[i].records; j++, k++) {
                const uint8_t *p = s[i].recs + j * s[i].rec;
                w[k] = (WinRef){get_u32(p), get_u32(p + 4), p};
            }
        for (size_t j = 0; j < total && rc == 0; j++) {
            const uint8_t *p = w[j].rec;
            int bad = w[j].file >= out->run.files || get_u16(p + 8) >= (uint32_t)out->run.nlangs;
            for (size_t i = 0; i < s[0].n_out && !bad; i++)
                bad = p[10 + i] > TF_ALL || get_u32(p + 10 + s[0].n_out + 4 * i) >= (uint32_t)out->run.models[0].n_vocab;
            if (bad) rc = err_set(err, "a shard holds a damaged record (file %u, window %u)", w[j].file, w[j].window);
        }
        if (rc == 0) qsort(w, total, sizeof *w, by_window);
        for (size_t j = 1; j < total && rc == 0; j++)
            if (!by_window(&w[j - 1], &w[j]))
                rc = err_set(err, "window %u of file %u is in two shards: shards of different runs", w[j].window, w[j].file);
    }
    if (rc == 0) { /* every variant's positions in corpus order, as the unsharded run holds them */
        TfRun *r = &out->run;
        size_t n_out = s[0].n_out, np = total * n_out;
        r->windows = (long)total, r->positions = (long)np;
        r->win_file = xmalloc((total + 1) * sizeof *r->win_file);
        r->win_index = xmalloc((total + 1) * sizeof *r->win_index);
        r->win_next = xmalloc((np + 1) * sizeof *r->win_next);
        for (size_t j = 0; j < total; j++) {
            r->win_file[j] = w[j].file, r->win_index[j] = w[j].window;
            for (size_t i = 0; i < n_out; i++) r->win_next[j * n_out + i] = (int)get_u32(w[j].rec + 10 + n_out + 4 * i);
        }
        for (int v = 1, sv = 0; v < r->nmodels; v++) {
            TfModel *tm = &r->models[v];
            if (!tm->same_vocab) continue;
            sv++;
            tm->pos.v = xmalloc((np + 1) * sizeof *tm->pos.v);
            tm->pos.cluster = xmalloc((np + 1) * sizeof *tm->pos.cluster);
            tm->pos.cap = tm->tags_cap = np + 1;
            tm->pos_lang = xmalloc((np + 1) * sizeof *tm->pos_lang);
            tm->pos_class = xmalloc(np + 1);
            for (size_t j = 0; j < total; j++) {
                const uint8_t *p = w[j].rec, *q = p + 10 + 5 * n_out + (size_t)(sv - 1) * n_out * POS_BYTES;
                for (size_t i = 0; i < n_out; i++, q += POS_BYTES) {
                    size_t k = j * n_out + i;
                    tm->pos.v[k] = (TfPos){get_f32(q), get_f32(q + 4), get_f32(q + 8), q[12] & 1, (q[12] >> 1) & 1,
                                           (q[12] >> 2) & 1};
                    tm->pos.cluster[k] = w[j].file;
                    tm->pos_lang[k] = (uint16_t)get_u16(p + 8);
                    tm->pos_class[k] = p[10 + i];
                }
            }
            tm->pos.n = np;
        }
        for (int i = 0; i < n; i++) { /* this shard's share of the work */
            char v[64];
            if (tfshard_setting(s[i].own, "seconds", v, sizeof v) == 0) r->seconds += strtod(v, NULL);
            for (int m = 0; m < r->nmodels; m++) {
                char key[32];
                snprintf(key, sizeof key, "tokens %d", m);
                if (tfshard_setting(s[i].own, key, v, sizeof v) == 0) r->models[m].tokens += strtol(v, NULL, 10);
            }
        }
        const uint8_t **sec = xcalloc((size_t)n, sizeof *sec); /* the variants compared per byte */
        size_t *slen = xcalloc((size_t)n, sizeof *slen);
        for (int i = 0; i < n; i++) sec[i] = s[i].recs + s[i].records * s[i].rec, slen[i] = (size_t)s[i].blen;
        rc = tfbytes_merge(sec, slen, paths, n, r, err);
        free(sec), free(slen);
        out->settings = xstrdup(s[0].settings);
        out->nshards = (int)s[0].nshards;
    }
    free(w);
    for (int i = 0; i < n; i++) shard_free(&s[i]);
    free(s);
    if (rc) tfmerged_free(out);
    return rc;
}

void tfmerged_free(TfMerged *m) {
    for (int l = 0; m->langs && l < m->run.nlangs; l++) free(m->langs[l]);
    free(m->langs), free(m->settings);
    tfrun_free(&m->run);
    memset(m, 0, sizeof *m);
}
