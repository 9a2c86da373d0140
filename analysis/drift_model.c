/* drift_model: see drift_model.h. */
#include "analysis/drift_model.h"

#include <math.h>
#include <stdlib.h>

#include "analysis/manifest.h"

int runner_open(Runner *r, TfModel *tm, const char *path, const char *name, const char *tokenizer,
                const TfOptions *o, int n_out, Err *err) {
    tm->name = xstrdup(name);
    tm->path = xstrdup(path);
    tm->tokenizer_path = model_tokenizer_path(path, tokenizer);
    r->path = tm->path, r->compute = o->compute, r->n_out = n_out;
    /* the model first, so that a bad file is named as such, not as a tokenizer that is missing */
    if (!(r->m = model_load(path, err))) return -1;
    if (!(r->tok = tok_load(tm->tokenizer_path, err))) return -1;
    r->start = tok_bos(r->tok) >= 0 ? tok_bos(r->tok) : tok_eos(r->tok);
    if (r->start < 0)
        return err_set(err, "%s: the tokenizer has neither BOS nor EOS to start a window with", tm->tokenizer_path);
    if (tok_vocab_size(r->tok) > r->m->cfg.n_vocab)
        return err_set(err, "%s: the tokenizer has %d ids but the model only %d outputs", tm->tokenizer_path,
                       tok_vocab_size(r->tok), r->m->cfg.n_vocab);
    tm->n_vocab = r->n_vocab = r->m->cfg.n_vocab;
    tm->bpw = model_bits_per_weight(r->m);
    if (!(r->f = fwd_new(r->m, o->compute, err))) return -1;
    r->logits = xmalloc((size_t)n_out * (size_t)tm->n_vocab * sizeof(float));
    return 0;
}

void runner_unload(Runner *r) {
    free(r->logits);
    fwd_free(r->f);
    model_free(r->m); /* unmaps the file: its pages leave the process */
    r->logits = NULL, r->f = NULL, r->m = NULL;
}

int runner_reload(Runner *r, Err *err) {
    if (r->m) return 0;
    if (!(r->m = model_load(r->path, err))) return -1;
    if (r->m->cfg.n_vocab != r->n_vocab) {
        err_set(err, "%s: the file changed while drift ran (%d outputs, %d before)", r->path, r->m->cfg.n_vocab,
                r->n_vocab);
        runner_unload(r);
        return -1;
    }
    if (!(r->f = fwd_new(r->m, r->compute, err))) {
        runner_unload(r);
        return -1;
    }
    r->logits = xmalloc((size_t)r->n_out * (size_t)r->n_vocab * sizeof(float));
    return 0;
}

void runner_close(Runner *r) {
    runner_unload(r);
    tok_free(r->tok);
    r->tok = NULL;
}

int runner_window(Runner *r, const int *win, int ctx, Err *err) {
    fwd_rewind(r->f, 0);
    int first = ctx / 2;
    return fwd_eval_last(r->f, win, ctx - 1, ctx - 1 - first, r->logits, err);
}

double log_prob_of(const float *z, int n, int id) {
    float mx = z[0];
    for (int i = 1; i < n; i++) mx = z[i] > mx ? z[i] : mx;
    double s = 0;
    for (int i = 0; i < n; i++) s += exp((double)z[i] - mx);
    return (double)z[id] - mx - log(s);
}
