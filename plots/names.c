/* names: see names.h. */
#include "plots/names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plots/gnuplot.h"

static size_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return (size_t)h;
}

long names_find(const Names *ns, const char *s) {
    if (!ns->nslot) return -1;
    for (size_t h = hash_str(s) & (ns->nslot - 1);; h = (h + 1) & (ns->nslot - 1)) {
        size_t k = ns->slot[h];
        if (!k) return -1;
        if (!strcmp(ns->v[k - 1], s)) return (long)(k - 1);
    }
}

static void names_place(Names *ns, size_t i) {
    size_t h = hash_str(ns->v[i]) & (ns->nslot - 1);
    while (ns->slot[h]) h = (h + 1) & (ns->nslot - 1);
    ns->slot[h] = i + 1;
}

size_t names_add_tailed(Names *ns, const char *key, const char *shown, size_t tail) {
    long found = names_find(ns, key);
    if (found >= 0) return (size_t)found;
    if (2 * (ns->n + 1) > ns->nslot) {
        free(ns->slot);
        ns->nslot = ns->nslot ? 2 * ns->nslot : 64;
        ns->slot = xcalloc(ns->nslot, sizeof *ns->slot);
        for (size_t i = 0; i < ns->n; i++) names_place(ns, i);
    }
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? 2 * ns->cap : 16;
        ns->v = xrealloc(ns->v, ns->cap * sizeof *ns->v);
        ns->shown = xrealloc(ns->shown, ns->cap * sizeof *ns->shown);
        ns->tail = xrealloc(ns->tail, ns->cap * sizeof *ns->tail);
    }
    ns->v[ns->n] = xstrdup(key);
    if (shown) {
        ns->shown[ns->n] = xstrdup(shown);
    } else {
        Buf b = {0};
        gp_shorten(&b, key, NAME_CHARS);
        ns->shown[ns->n] = b.data ? b.data : xstrdup("");
    }
    ns->tail[ns->n] = tail;
    names_place(ns, ns->n);
    return ns->n++;
}

size_t names_add_shown(Names *ns, const char *key, const char *shown) {
    return names_add_tailed(ns, key, shown, 0);
}

size_t names_add(Names *ns, const char *key) { return names_add_shown(ns, key, NULL); }

void names_free(Names *ns) {
    for (size_t i = 0; i < ns->n; i++) free(ns->v[i]), free(ns->shown[i]);
    free(ns->v);
    free(ns->shown);
    free(ns->tail);
    free(ns->slot);
    memset(ns, 0, sizeof *ns);
}

/* ---- (model, context) ---- */

void pair_key(Buf *key, const char *name, const char *ctx) {
    key->len = 0;
    buf_printf(key, "%zu:%s%s", strlen(name), name, ctx);
}

int several_contexts(const CsvTable *t, int cm, int cc) {
    if (cc < 0) return 0;
    Names models = {0}, pairs = {0};
    Buf key = {0};
    int several = 0;
    for (size_t r = 0; r < t->nrows && !several; r++) {
        pair_key(&key, csv_table_cell(t, r, cm), csv_table_cell(t, r, cc));
        names_add_shown(&models, csv_table_cell(t, r, cm), "");
        names_add_shown(&pairs, key.data, "");
        several = pairs.n > models.n;
    }
    buf_free(&key);
    names_free(&models);
    names_free(&pairs);
    return several;
}

size_t add_series(Names *ns, const char *name, const char *ctx, int several) {
    if (!several) return names_add(ns, name);
    Buf key = {0}, shown = {0};
    pair_key(&key, name, ctx);
    gp_shorten(&shown, name, NAME_CHARS);
    size_t head = shown.len;
    buf_puts(&shown, " @ ");
    gp_shorten(&shown, ctx, CTX_CHARS);
    size_t i = names_add_tailed(ns, key.data, shown.data, shown.len - head);
    buf_free(&key);
    buf_free(&shown);
    return i;
}

void origins_note(Origins *o, const char *model, const char *ctx) {
    names_add_shown(&o->models, model, "");
    names_add_shown(&o->contexts, ctx, "");
}

void origins_free(Origins *o) {
    names_free(&o->models);
    names_free(&o->contexts);
}
