/* study: see study.h. */
#include "analysis/study.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/coldstart.h"
#include "analysis/colddiff.h"
#include "analysis/keywords.h"
#include "analysis/metrics.h"
#include "report/table.h"
#include "model/model.h"
#include "formats/qtype.h"
#include "tokenizer/tokenizer.h"

/* ---- manifest ---- */

static const char *const KINDS[] = {"base", "fp16", "quant", "distill", "finetune", "scale", NULL};

void manifest_add(Manifest *m, const char *name, const char *path, const char *kind,
                  const char *base, const char *tokenizer) {
    m->e = xrealloc(m->e, (m->n + 1) * sizeof *m->e);
    m->e[m->n++] = (Entry){xstrdup(name), xstrdup(path), xstrdup(kind ? kind : ""),
                           base ? xstrdup(base) : NULL, tokenizer ? xstrdup(tokenizer) : NULL, NAN};
}

void manifest_free(Manifest *m) {
    for (size_t i = 0; i < m->n; i++) {
        free(m->e[i].name);
        free(m->e[i].path);
        free(m->e[i].kind);
        free(m->e[i].base);
        free(m->e[i].tokenizer);
    }
    free(m->e);
    memset(m, 0, sizeof *m);
}

/* libcsv hands fields and row ends to callbacks; they collect rows of strings. */
typedef struct {
    char **fields;
    size_t nfields;
    char ***rows;
    size_t *rowlen;
    size_t nrows;
} CsvRows;

static void on_field(void *s, size_t len, void *data) {
    CsvRows *c = data;
    c->fields = xrealloc(c->fields, (c->nfields + 1) * sizeof *c->fields);
    c->fields[c->nfields++] = xstrndup(s ? s : "", s ? len : 0);
}

static void on_row(int ch, void *data) {
    (void)ch;
    CsvRows *c = data;
    c->rows = xrealloc(c->rows, (c->nrows + 1) * sizeof *c->rows);
    c->rowlen = xrealloc(c->rowlen, (c->nrows + 1) * sizeof *c->rowlen);
    c->rows[c->nrows] = c->fields;
    c->rowlen[c->nrows++] = c->nfields;
    c->fields = NULL;
    c->nfields = 0;
}

static void csvrows_free(CsvRows *c) {
    for (size_t r = 0; r < c->nrows; r++) {
        for (size_t f = 0; f < c->rowlen[r]; f++) free(c->rows[r][f]);
        free(c->rows[r]);
    }
    for (size_t f = 0; f < c->nfields; f++) free(c->fields[f]);
    free(c->fields);
    free(c->rows);
    free(c->rowlen);
}

static int column_of(char **header, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(header[i], name)) return (int)i;
    return -1;
}

/* DIR/REL unless REL is absolute. */
static char *join_path(const char *dir, const char *rel) {
    if (rel[0] == '/' || !dir[0]) return xstrdup(rel);
    Buf b = {0};
    buf_printf(&b, "%s/%s", dir, rel);
    return b.data;
}

int manifest_load(Manifest *m, const char *path, Err *err) {
    memset(m, 0, sizeof *m);
    size_t len;
    char *text = read_file(path, &len, err);
    if (!text) return -1;
    struct csv_parser p;
    CsvRows rows = {0};
    csv_init(&p, CSV_APPEND_NULL);
    int bad = csv_parse(&p, text, len, on_field, on_row, &rows) != len ||
              csv_fini(&p, on_field, on_row, &rows) != 0;
    if (bad) err_set(err, "%s: not valid CSV: %s", path, csv_strerror(csv_error(&p)));
    csv_free(&p);
    free(text);
    if (bad) goto fail;
    if (rows.nrows == 0) {
        err_set(err, "%s: empty manifest (expected a header name,path,kind,bits_per_weight,base)", path);
        goto fail;
    }
    char **h = rows.rows[0];
    size_t hn = rows.rowlen[0];
    int c_name = column_of(h, hn, "name"), c_path = column_of(h, hn, "path");
    int c_kind = column_of(h, hn, "kind"), c_bits = column_of(h, hn, "bits_per_weight");
    int c_base = column_of(h, hn, "base"), c_tok = column_of(h, hn, "tokenizer");
    if (c_name < 0 || c_path < 0 || c_kind < 0) {
        err_set(err, "%s:1: the header must name the columns name,path,kind (and may add bits_per_weight,base)", path);
        goto fail;
    }
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else dir[0] = '\0';
    for (size_t r = 1; r < rows.nrows; r++) {
        char **f = rows.rows[r];
        size_t n = rows.rowlen[r];
        if (n == 1 && !f[0][0]) continue; /* a blank line */
        size_t line = r + 1;
#define FIELD(c) ((c) >= 0 && (size_t)(c) < n ? f[c] : "")
        const char *name = FIELD(c_name), *kind = FIELD(c_kind), *bits = FIELD(c_bits);
        const char *base = FIELD(c_base), *tok = FIELD(c_tok);
#undef FIELD
        if (!name[0] || (size_t)c_path >= n || !f[c_path][0]) {
            err_set(err, "%s:%zu: every row needs a name and a path", path, line);
            free(dir);
            goto fail;
        }
        int known = 0;
        for (const char *const *k = KINDS; *k; k++) known |= !strcmp(*k, kind);
        if (!known) {
            err_set(err, "%s:%zu: unknown kind '%s' (fp16, quant, distill, finetune, scale or base)", path, line, kind);
            free(dir);
            goto fail;
        }
        char *full = join_path(dir, f[c_path]);
        if (!is_file(full) && !is_dir(full)) {
            err_set(err, "%s:%zu: model '%s' not found: %s", path, line, name, full);
            free(full);
            free(dir);
            goto fail;
        }
        char *tokfull = tok[0] ? join_path(dir, tok) : NULL;
        manifest_add(m, name, full, kind, base[0] ? base : NULL, tokfull);
        free(full);
        free(tokfull);
        if (bits[0]) {
            char *end;
            double v = strtod(bits, &end);
            if (*end || !(v > 0 && v <= 64)) {
                err_set(err, "%s:%zu: bits_per_weight '%s' is not a number in (0, 64]", path, line, bits);
                free(dir);
                goto fail;
            }
            m->e[m->n - 1].bpw = v;
        }
    }
    free(dir);
    csvrows_free(&rows);
    if (m->n == 0) {
        err_set(err, "%s: no models listed", path);
        manifest_free(m);
        return -1;
    }
    return manifest_check(m, path, err);
fail:
    csvrows_free(&rows);
    manifest_free(m);
    return -1;
}

static int find_entry(const Manifest *m, const char *name) {
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->e[i].name, name)) return (int)i;
    return -1;
}

int manifest_check(Manifest *m, const char *source, Err *err) {
    for (size_t i = 0; i < m->n; i++) {
        if (find_entry(m, m->e[i].name) != (int)i)
            return err_set(err, "%s: model name '%s' is listed twice", source, m->e[i].name);
        if (m->e[i].base && find_entry(m, m->e[i].base) < 0)
            return err_set(err, "%s: base '%s' of '%s' is not listed", source, m->e[i].base, m->e[i].name);
    }
    /* Depth along the base chain; a chain longer than the list is a cycle. */
    size_t *depth = xcalloc(m->n, sizeof *depth);
    for (size_t i = 0; i < m->n; i++) {
        size_t d = 0;
        for (int j = (int)i; m->e[j].base; j = find_entry(m, m->e[j].base))
            if (++d > m->n) {
                free(depth);
                return err_set(err, "%s: the bases of '%s' form a cycle", source, m->e[i].name);
            }
        depth[i] = d;
    }
    /* Stable order by depth: every base before its variants. */
    Entry *sorted = xmalloc(m->n * sizeof *sorted);
    size_t k = 0;
    for (size_t d = 0; k < m->n; d++)
        for (size_t i = 0; i < m->n; i++)
            if (depth[i] == d) sorted[k++] = m->e[i];
    free(m->e);
    m->e = sorted;
    free(depth);
    return 0;
}

char *model_short_name(const char *path) {
    char *p = xstrdup(path);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
    const char *slash = strrchr(p, '/');
    char *name = xstrdup(slash ? slash + 1 : p);
    free(p);
    if (ends_with(name, ".gguf")) name[strlen(name) - 5] = '\0';
    else if (ends_with(name, ".safetensors")) name[strlen(name) - 12] = '\0';
    return name;
}

char **model_short_names(const char *const *paths, int n) {
    char **names = xcalloc((size_t)(n > 0 ? n : 1), sizeof *names);
    for (int i = 0; i < n; i++) {
        Buf u = {0};
        char *name = model_short_name(paths[i]);
        buf_puts(&u, name);
        free(name);
        for (int j = 0; j < i; j++)
            if (!strcmp(names[j], u.data)) buf_printf(&u, "#%d", i + 1);
        names[i] = u.data ? u.data : xstrdup(""); /* Buf leaves data NULL when nothing was added */
    }
    return names;
}

/* ---- per-model results ---- */

typedef struct {
    const Entry *e;
    double bpw;
    int vocab;
    uint64_t vocab_hash; /* FNV-1a over every piece: equal vocabularies hash equal */
    char *tokenizer_path;
    ColdStart *cs;       /* [ncontexts] */
    ColdDiff *drift;        /* [ncontexts] when the entry has a base */
    int base;            /* index of the base result, -1 */
} Result;

static uint64_t vocabulary_hash(const Tokenizer *t) {
    uint64_t h = 1469598103934665603ull;
    for (int id = 0; id < tok_vocab_size(t); id++) {
        size_t len;
        const unsigned char *p = (const unsigned char *)tok_piece(t, id, &len);
        for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull; /* separator: no byte of a piece is 0xff in UTF-8 */
    }
    return h;
}

char *model_tokenizer_path(const char *model, const char *given) {
    if (given) return xstrdup(given);
    if (ends_with(model, ".safetensors")) {
        char *dir = xstrdup(model);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        else strcpy(dir, ".");
        return dir;
    }
    return xstrdup(model);
}

/* TAG ("model i of n: name") prefixes the progress line. */
static int run_model(const Entry *e, const char *tag, const StudyOptions *o, const KwSet *kw,
                     Result *r, Tokenizer **tok_out, Err *err) {
    r->tokenizer_path = model_tokenizer_path(e->path, e->tokenizer);
    progress("%s: loading tokenizer", tag);
    Tokenizer *tok = tok_load(r->tokenizer_path, err);
    if (!tok) return -1;
    progress("%s: loading model", tag);
    Model *m = model_load(e->path, err);
    if (!m) {
        tok_free(tok);
        return -1;
    }
    r->bpw = isnan(e->bpw) ? model_bits_per_weight(m) : e->bpw;
    r->vocab = m->cfg.n_vocab;
    r->vocab_hash = vocabulary_hash(tok);
    Forward *f = fwd_new(m, o->compute, err);
    int rc = f ? 0 : -1;
    r->cs = xcalloc((size_t)o->ncontexts, sizeof *r->cs);
    for (int c = 0; c < o->ncontexts && rc == 0; c++) {
        int id;
        progress("%s: cold start, context %s", tag, o->contexts[c]);
        rc = coldstart_context(tok, o->contexts[c], &id, err);
        if (rc == 0) rc = coldstart_run(f, m->cfg.n_vocab, tok, kw, id, &r->cs[c], err);
    }
    progress_done();
    fwd_free(f);
    model_free(m);
    *tok_out = tok;
    return rc;
}

static void result_free(Result *r, int ncontexts) {
    for (int c = 0; r->cs && c < ncontexts; c++) coldstart_free(&r->cs[c]);
    free(r->cs);
    free(r->drift);
    free(r->tokenizer_path);
}

/* ---- report ---- */

typedef struct {
    Table *models, *metrics, *keywords, *indent, *top;
} Report;

static Table *table_with(const char *const *cols) {
    Table *t = table_new();
    for (; *cols; cols++) table_column(t, *cols, 0);
    return t;
}

static void report_init(Report *rp) {
    static const char *const models[] = {"model", "path", "kind", "bits_per_weight", "base",
                                         "vocab", "tokenizer", "context", NULL};
    static const char *const metrics[] = {"model", "base", "context", "scope", "metric", "value", NULL};
    static const char *const keywords[] = {"model", "context", "lang", "keyword", "bare_id",
                                           "space_id", "p_bare", "p_space", "p_sum", "p_seq",
                                           "rank", "log_ratio", NULL};
    static const char *const indent[] = {"model", "context", "kind", "width", "newline", "mass", NULL};
    static const char *const top[] = {"model", "context", "rank", "id", "piece", "text", "p", NULL};
    rp->models = table_with(models);
    rp->metrics = table_with(metrics);
    rp->keywords = table_with(keywords);
    rp->indent = table_with(indent);
    rp->top = table_with(top);
}

static void report_free(Report *rp) {
    table_free(rp->models);
    table_free(rp->metrics);
    table_free(rp->keywords);
    table_free(rp->indent);
    table_free(rp->top);
}

/* A number cell: %.10g, empty for NAN. */
static void put_num(Table *t, int col, double v) {
    if (!isnan(v)) table_putf(t, col, "%.10g", v);
}

static void metric_row(Table *t, const char *model, const char *base, const char *ctx,
                       const char *scope, const char *metric, double v) {
    table_row(t);
    table_put(t, 0, model);
    table_put(t, 1, base ? base : "");
    table_put(t, 2, ctx);
    table_put(t, 3, scope);
    table_put(t, 4, metric);
    put_num(t, 5, v);
}

/* A token's text made visible: whitespace and control bytes escaped. */
static void visible(const char *s, size_t len, Buf *out) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ') buf_puts(out, "␣");
        else if (c == '\n') buf_puts(out, "\\n");
        else if (c == '\t') buf_puts(out, "\\t");
        else if (c == '\r') buf_puts(out, "\\r");
        else if (c < 0x20 || c == 0x7f) buf_printf(out, "\\x%02x", c);
        else buf_putc(out, (char)c);
    }
}

/* The reverse of visible() for control bytes only ("\\n" back to a line break; "␣" stays): the
 * tables escape control bytes themselves, and would show an escape of an escape. */
static void control_bytes(const char *s, Buf *out) {
    for (; *s; s++) {
        unsigned hex;
        if (s[0] == '\\' && (s[1] == 'n' || s[1] == 't' || s[1] == 'r')) {
            buf_putc(out, s[1] == 'n' ? '\n' : s[1] == 't' ? '\t' : '\r');
            s++;
        } else if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &hex) == 1 && s[2] && s[3]) {
            buf_putc(out, (char)hex);
            s += 3;
        } else {
            buf_putc(out, *s);
        }
    }
}

static void report_model(Report *rp, const Result *r, const Result *base, const Tokenizer *tok,
                         const StudyOptions *o) {
    const Entry *e = r->e;
    const char *bname = base ? base->e->name : NULL;
    for (int c = 0; c < o->ncontexts; c++) {
        const ColdStart *cs = &r->cs[c];
        const char *ctx = cs->context_label;
        table_row(rp->models);
        table_put(rp->models, 0, e->name);
        table_put(rp->models, 1, e->path);
        table_put(rp->models, 2, e->kind);
        put_num(rp->models, 3, r->bpw);
        table_put(rp->models, 4, bname ? bname : "");
        table_putf(rp->models, 5, "%d", r->vocab);
        table_put(rp->models, 6, r->tokenizer_path);
        table_put(rp->models, 7, ctx);

        metric_row(rp->metrics, e->name, bname, ctx, "all", "entropy", cs->entropy);
        metric_row(rp->metrics, e->name, bname, ctx, "all", "stp", cs->stp);
        metric_row(rp->metrics, e->name, bname, ctx, "all", "indent_mass", cs->indent_mass);
        if (cs->english.n) metric_row(rp->metrics, e->name, bname, ctx, "english", "nlp", cs->nlp);
        for (size_t l = 0; l < cs->nlangs; l++) {
            const LangProb *lp = &cs->langs[l];
            metric_row(rp->metrics, e->name, bname, ctx, lp->name, "pkp", lp->pkp);
            metric_row(rp->metrics, e->name, bname, ctx, lp->name, "kap", lp->kap);
            metric_row(rp->metrics, e->name, bname, ctx, lp->name, "pkp_seq", lp->pkp_seq);
            static const char *const nm[4] = {"n80", "n85", "n90", "n95"};
            for (int f = 0; f < 4; f++)
                metric_row(rp->metrics, e->name, bname, ctx, lp->name, nm[f], (double)lp->n_mass[f]);
        }
        if (base) {
            const ColdDiff *d = &r->drift[c];
            const ColdStart *bs = &base->cs[c];
            metric_row(rp->metrics, e->name, bname, ctx, "all", "kl_pq", d->kl_pq);
            metric_row(rp->metrics, e->name, bname, ctx, "all", "kl_qp", d->kl_qp);
            metric_row(rp->metrics, e->name, bname, ctx, "all", "js", d->js);
            metric_row(rp->metrics, e->name, bname, ctx, "all", "tv", d->tv);
            metric_row(rp->metrics, e->name, bname, ctx, "all", "top1_agree", d->top1_agree);
            metric_row(rp->metrics, e->name, bname, ctx, "all", "top10_overlap", d->top10);
            metric_row(rp->metrics, e->name, bname, ctx, "all", "top100_overlap", d->top100);
            metric_row(rp->metrics, e->name, bname, ctx, "keywords", "spearman_kw", d->spearman_kw);
            metric_row(rp->metrics, e->name, bname, ctx, "keywords", "kl_keywords", d->kl_keywords);
            metric_row(rp->metrics, e->name, bname, ctx, "keywords", "kl_keywords_seq", d->kl_keywords_seq);
            for (size_t l = 0; l < cs->nlangs && l < bs->nlangs; l++) {
                const LangProb *lp = &cs->langs[l], *lb = &bs->langs[l];
                double dp = d->same_vocab ? lp->pkp - lb->pkp : NAN;
                double rel = d->same_vocab && lb->pkp > 0 ? dp / lb->pkp : NAN;
                double dps = lp->pkp_seq - lb->pkp_seq;
                metric_row(rp->metrics, e->name, bname, ctx, lp->name, "delta_pkp", dp);
                metric_row(rp->metrics, e->name, bname, ctx, lp->name, "delta_pkp_rel", rel);
                metric_row(rp->metrics, e->name, bname, ctx, lp->name, "delta_pkp_seq", dps);
            }
        }
        for (size_t l = 0; l < cs->nlangs; l++) {
            const LangProb *lp = &cs->langs[l];
            for (size_t k = 0; k < lp->n; k++) {
                const KwProb *kp = &lp->kw[k];
                Table *t = rp->keywords;
                table_row(t);
                table_put(t, 0, e->name);
                table_put(t, 1, ctx);
                table_put(t, 2, lp->name);
                table_put(t, 3, kp->word);
                if (kp->bare_id >= 0) table_putf(t, 4, "%d", kp->bare_id);
                if (kp->space_id >= 0) table_putf(t, 5, "%d", kp->space_id);
                put_num(t, 6, kp->p_bare);
                put_num(t, 7, kp->p_space);
                put_num(t, 8, kp->p_bare + (kp->space_id != kp->bare_id ? kp->p_space : 0));
                put_num(t, 9, kp->p_seq);
                if (kp->rank) table_putf(t, 10, "%d", kp->rank);
                if (base && l < base->cs[c].nlangs && k < base->cs[c].langs[l].n)
                    put_num(t, 11, keyword_log_ratio(&base->cs[c].langs[l].kw[k], kp, r->drift[c].same_vocab));
            }
        }
        static const char *const kinds[2] = {"spaces", "tabs"};
        for (int kd = 0; kd < 2; kd++)
            for (int nl = 0; nl < 2; nl++)
                for (int w = 1; w <= INDENT_MAX; w++) {
                    if (cs->indent[kd][nl][w] <= 0) continue;
                    table_row(rp->indent);
                    table_put(rp->indent, 0, e->name);
                    table_put(rp->indent, 1, ctx);
                    table_put(rp->indent, 2, kinds[kd]);
                    table_putf(rp->indent, 3, "%d", w);
                    table_putf(rp->indent, 4, "%d", nl);
                    put_num(rp->indent, 5, cs->indent[kd][nl][w]);
                }
        size_t *top = xmalloc((size_t)o->top_n * sizeof *top);
        size_t nt = metric_top_k(cs->logp, (size_t)cs->n_vocab, (size_t)o->top_n, top);
        for (size_t i = 0; i < nt; i++) {
            int id = (int)top[i];
            size_t plen = 0, blen = 0;
            const char *piece = id < tok_vocab_size(tok) ? tok_piece(tok, id, &plen) : "";
            const char *text = id < tok_vocab_size(tok) ? tok_bytes(tok, id, &blen) : "";
            Buf vis = {0};
            visible(text, blen, &vis);
            Table *t = rp->top;
            table_row(t);
            table_put(t, 0, e->name);
            table_put(t, 1, ctx);
            table_putf(t, 2, "%zu", i + 1);
            table_putf(t, 3, "%d", id);
            table_putn(t, 4, piece, plen);
            table_put(t, 5, vis.data ? vis.data : "");
            put_num(t, 6, exp(cs->logp[id]));
            buf_free(&vis);
        }
        free(top);
    }
}

static int save_report(const Report *rp, const char *dir, Err *err) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return err_set(err, "%s: %s", dir, strerror(errno));
    const struct {
        const char *file;
        const Table *t;
    } files[] = {{"models.csv", rp->models}, {"metrics.csv", rp->metrics},
                 {"keywords.csv", rp->keywords}, {"indent.csv", rp->indent},
                 {"top_tokens.csv", rp->top}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        Buf path = {0};
        buf_printf(&path, "%s/%s", dir, files[i].file);
        int rc = table_save_csv(files[i].t, path.data, err);
        buf_free(&path);
        if (rc != 0) return -1;
    }
    return 0;
}

/* ---- terminal tables ---- */

static void fmt_cell(Table *t, int col, const char *fmt, double v) {
    if (isnan(v)) table_put(t, col, "-");
    else table_putf(t, col, fmt, v);
}

/* Per model and context: the distribution summary, top tokens, and languages. */
static void print_probe(const Result *r, const Report *rp, const StudyOptions *o) {
    for (int c = 0; c < o->ncontexts; c++) {
        const ColdStart *cs = &r->cs[c];
        printf("\n== %s  (context %s)\n", r->e->name, cs->context_label);
        printf("entropy %.4f nats   STP %.4f   indentation %.4f   English (NLP) %.4f\n",
               cs->entropy, cs->stp, cs->indent_mass, cs->nlp);
        Table *top = table_new();
        table_column(top, "rank", 1);
        table_column(top, "id", 1);
        table_column(top, "token", 0);
        table_column(top, "p", 1);
        for (size_t i = 0; i < table_nrows(rp->top); i++) {
            if (strcmp(table_cell(rp->top, i, 0), r->e->name) ||
                strcmp(table_cell(rp->top, i, 1), cs->context_label))
                continue;
            table_row(top);
            table_put(top, 0, table_cell(rp->top, i, 2));
            table_put(top, 1, table_cell(rp->top, i, 3));
            Buf raw = {0};
            control_bytes(table_cell(rp->top, i, 5), &raw);
            table_putn(top, 2, raw.data ? raw.data : "", raw.len);
            buf_free(&raw);
            fmt_cell(top, 3, "%.4f", atof(table_cell(rp->top, i, 6)));
        }
        table_print(top, o->format, "top tokens");
        table_free(top);
        Table *lt = table_new();
        const char *cols[] = {"lang", "keywords", "PKP", "KAP", "PKP_seq", "n80", "n90", "n95", "top keywords"};
        for (int i = 0; i < 9; i++) table_column(lt, cols[i], i >= 1 && i <= 7);
        for (size_t l = 0; l < cs->nlangs; l++) {
            const LangProb *lp = &cs->langs[l];
            table_row(lt);
            table_put(lt, 0, lp->name);
            table_putf(lt, 1, "%zu", lp->n);
            table_putf(lt, 2, "%.4g", lp->pkp);
            table_putf(lt, 3, "%.3g", lp->kap);
            table_putf(lt, 4, "%.4g", lp->pkp_seq);
            table_putf(lt, 5, "%zu", lp->n_mass[0]);
            table_putf(lt, 6, "%zu", lp->n_mass[2]);
            table_putf(lt, 7, "%zu", lp->n_mass[3]);
            /* the three likeliest keywords by p_seq */
            size_t best[3] = {0}, nb = 0;
            double *ps = xmalloc((lp->n ? lp->n : 1) * sizeof *ps);
            for (size_t k = 0; k < lp->n; k++) ps[k] = lp->kw[k].p_seq;
            nb = metric_top_k(ps, lp->n, 3, best);
            Buf b = {0};
            for (size_t i = 0; i < nb; i++) buf_printf(&b, "%s%s", i ? " " : "", lp->kw[best[i]].word);
            table_put(lt, 8, b.data ? b.data : "");
            buf_free(&b);
            free(ps);
        }
        table_print(lt, o->format, "keyword mass per language");
        table_free(lt);
    }
}

static void print_diff(const Result *res, size_t n, const StudyOptions *o) {
    Table *t = table_new();
    const char *cols[] = {"variant", "base", "kind", "bpw", "compare", "KL(P||Q)", "KL(Q||P)", "JS",
                          "TV", "top1", "top10", "top100", "rho_kw", "KL_kw"};
    for (int i = 0; i < 14; i++) table_column(t, cols[i], i == 3 || i >= 5);
    for (size_t i = 0; i < n; i++) {
        const Result *r = &res[i];
        if (r->base < 0) continue;
        const ColdDiff *d = &r->drift[0];
        table_row(t);
        table_put(t, 0, r->e->name);
        table_put(t, 1, res[r->base].e->name);
        table_put(t, 2, r->e->kind);
        fmt_cell(t, 3, "%.2f", r->bpw);
        table_put(t, 4, d->same_vocab ? "vocab" : "p_seq");
        fmt_cell(t, 5, "%.3e", d->kl_pq);
        fmt_cell(t, 6, "%.3e", d->kl_qp);
        fmt_cell(t, 7, "%.3e", d->js);
        fmt_cell(t, 8, "%.3e", d->tv);
        fmt_cell(t, 9, "%.0f", d->top1_agree);
        fmt_cell(t, 10, "%.2f", d->top10);
        fmt_cell(t, 11, "%.2f", d->top100);
        fmt_cell(t, 12, "%.4f", d->spearman_kw);
        fmt_cell(t, 13, "%.3e", d->same_vocab ? d->kl_keywords : d->kl_keywords_seq);
    }
    table_print(t, o->format, "drift from the base (compare: vocab = full distribution; p_seq = keyword strings only, vocabularies differ)");
    table_free(t);

    /* ΔPKP per language, one column per variant (relative, or on p_seq across vocabularies). */
    Table *d = table_new();
    table_column(d, "lang", 0);
    table_column(d, "base PKP", 1);
    for (size_t i = 0; i < n; i++)
        if (res[i].base >= 0) table_column(d, res[i].e->name, 1);
    const ColdStart *b0 = NULL;
    for (size_t i = 0; i < n && !b0; i++)
        if (res[i].base >= 0) b0 = &res[res[i].base].cs[0];
    for (size_t l = 0; b0 && l < b0->nlangs; l++) {
        table_row(d);
        table_put(d, 0, b0->langs[l].name);
        table_putf(d, 1, "%.4g", b0->langs[l].pkp);
        int col = 2;
        for (size_t i = 0; i < n; i++) {
            if (res[i].base < 0) continue;
            const LangProb *lb = &res[res[i].base].cs[0].langs[l], *lv = &res[i].cs[0].langs[l];
            if (res[i].drift[0].same_vocab)
                fmt_cell(d, col++, "%+.2f%%", lb->pkp > 0 ? 100 * (lv->pkp - lb->pkp) / lb->pkp : NAN);
            else
                fmt_cell(d, col++, "%+.2f%% seq", lb->pkp_seq > 0 ? 100 * (lv->pkp_seq - lb->pkp_seq) / lb->pkp_seq : NAN);
        }
    }
    if (b0) table_print(d, o->format, "change of PKP per language (relative to the base)");
    table_free(d);
}

/* ---- the run ---- */

int study_run(const Manifest *m, const StudyOptions *o, Err *err) {
    KwSet kw = {0};
    int rc = o->keywords_file ? kw_load_file(&kw, o->keywords_file, err) : kw_load_builtin(&kw, err);
    if (rc == 0 && o->keywords_file) {
        /* The English control set comes with the built-in data even for a user keyword file. */
        KwSet builtin = {0};
        Err ignored;
        if (kw_load_builtin(&builtin, &ignored) == 0) {
            KwLang *en = kw_find(&builtin, "english");
            if (en && !kw_find(&kw, "english")) {
                Buf text = {0};
                for (size_t i = 0; i < en->nwords; i++) buf_printf(&text, "english\t%s\n", en->words[i]);
                rc = kw_load_text(&kw, "data/control/english.tsv", text.data, text.len, 1, err);
                buf_free(&text);
            }
        }
        kw_free(&builtin);
    }
    if (rc == 0) rc = kw_select(&kw, o->langs, err);
    if (rc != 0) {
        kw_free(&kw);
        return -1;
    }
    Result *res = xcalloc(m->n, sizeof *res);
    Report rp;
    report_init(&rp);
    for (size_t i = 0; i < m->n && rc == 0; i++) {
        Result *r = &res[i];
        r->e = &m->e[i];
        r->base = -1;
        if (m->e[i].base)
            for (size_t j = 0; j < i; j++)
                if (!strcmp(m->e[j].name, m->e[i].base)) r->base = (int)j;
        Buf tag = {0};
        buf_printf(&tag, "model %zu of %zu: %s", i + 1, m->n, m->e[i].name);
        Tokenizer *tok = NULL;
        rc = run_model(&m->e[i], tag.data, o, &kw, r, &tok, err);
        buf_free(&tag);
        if (rc == 0 && r->base >= 0) {
            const Result *b = &res[r->base];
            int same = b->vocab == r->vocab && b->vocab_hash == r->vocab_hash;
            r->drift = xcalloc((size_t)o->ncontexts, sizeof *r->drift);
            for (int c = 0; c < o->ncontexts; c++) colddiff_compare(&b->cs[c], &r->cs[c], same, &r->drift[c]);
        }
        if (rc == 0) {
            report_model(&rp, r, r->base >= 0 ? &res[r->base] : NULL, tok, o);
            if (!strcmp(o->cmd, "probe")) print_probe(r, &rp, o);
        }
        tok_free(tok);
    }
    if (rc == 0) {
        int any_drift = 0;
        for (size_t i = 0; i < m->n; i++) any_drift |= res[i].base >= 0;
        if (any_drift) print_diff(res, m->n, o);
        if (o->outdir) {
            rc = save_report(&rp, o->outdir, err);
            if (rc == 0) printf("\nwrote %s/{models,metrics,keywords,indent,top_tokens}.csv\n", o->outdir);
        }
    }
    for (size_t i = 0; i < m->n; i++) result_free(&res[i], o->ncontexts);
    free(res);
    report_free(&rp);
    kw_free(&kw);
    return rc;
}
