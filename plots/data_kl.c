/* data_kl: what kl_vs_bits and drift_kl_vs_bits share (data.h): which variants are
 * quantizations of their base, the names of methods, and the lines a set of points makes. */
#include "plots/data.h"

#include <stdlib.h>
#include <string.h>

int model_is_separate(const Provenance *pv) {
    if (!pv->has_method && !pv->has_kind) return 0; /* nothing recorded: every variant on its family's line */
    static const char *const other[] = {"distill", "finetune", "scale"}; /* the manifest's word wins */
    for (size_t i = 0; i < sizeof other / sizeof *other; i++)
        if (!strcmp(pv->kind, other[i])) return 1;
    if (*pv->method) return 0;
    return strcmp(pv->kind, "quant") && strcmp(pv->kind, "fp16");
}

/* A calibration file's name without its folder and extension: "data/calib/code.txt" -> "code". */
static void put_stem(Buf *out, const char *s, size_t n) {
    size_t start = 0, end = n;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/') start = i + 1;
    for (size_t i = n; i > start + 1; i--)
        if (s[i - 1] == '.') {
            end = i - 1;
            break;
        }
    buf_append(out, s + start, end - start);
}

void method_label(const Provenance *pv, Buf *out) {
    out->len = 0;
    if (!*pv->method) {
        buf_puts(out, *pv->kind ? pv->kind : "method not recorded");
        return;
    }
    buf_puts(out, pv->method);
    const char *c = pv->calibration;
    for (int first = 1; *c; first = 0) {
        const char *e = strchr(c, ',');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        size_t mark = out->len;
        buf_putc(out, first ? '-' : '+');
        put_stem(out, c, n);
        if (!strcmp(out->data + mark + 1, pv->method)) out->len = mark, out->data[mark] = '\0'; /* imatrix-imatrix */
        c = e ? e + 1 : c + n;
    }
    if (!out->data) buf_puts(out, "");
}

void kl_add_point(KlData *k, const char *model, size_t family, const Provenance *pv, double bits, double kl,
                  double lo, double hi) {
    Buf label = {0};
    method_label(pv, &label);
    KlPoint *p = &k->p[k->n++];
    *p = (KlPoint){.model = xstrdup(model), .family = family, .separate = model_is_separate(pv), .bits = bits,
                   .kl = kl, .lo = lo, .hi = hi, .method = label.data};
    if (pv->has_method) k->by_method = 1;
    if (p->separate) k->nseparate++;
    if (lo == lo && hi == hi) k->has_ci = 1; /* not NAN */
}

static int by_line_bits(const void *a, const void *b) {
    const KlPoint *x = a, *y = b;
    if (x->separate != y->separate) return x->separate - y->separate;
    if (!x->separate && x->series != y->series) return x->series < y->series ? -1 : 1;
    return (x->bits > y->bits) - (x->bits < y->bits);
}

void kl_finish(KlData *k) {
    Buf key = {0}, shown = {0};
    for (size_t i = 0; i < k->n; i++) {
        KlPoint *p = &k->p[i];
        if (p->separate) continue;
        const Names *f = &k->families;
        if (!k->by_method) {
            p->series = names_add_tailed(&k->series, f->v[p->family], f->shown[p->family], f->tail[p->family]);
            continue;
        }
        pair_key(&key, f->v[p->family], p->method);
        shown.len = 0;
        if (f->n > 1) buf_printf(&shown, "%s: ", f->shown[p->family]);
        buf_puts(&shown, p->method);
        p->series = names_add_tailed(&k->series, key.data, shown.data, f->n > 1 ? strlen(p->method) : 0);
    }
    buf_free(&key);
    buf_free(&shown);
    qsort(k->p, k->n, sizeof *k->p, by_line_bits);
}
