/* drift_model: one model of a drift run (analysis/drift.h): its tokenizer, its weights and forward
 * pass, and the logits of the scored positions of the window it ran last.
 *
 * Under --mem-limit (TfOptions.mem_limit) only one model is resident at a time: runner_unload
 * drops a model's weights (unmapped: their pages leave the process), its forward pass (KV cache,
 * activations) and its logits, keeping the tokenizer and what was learnt at load; runner_reload
 * maps them again from the same file (refused when the file no longer has the same outputs).
 *
 * Ownership: a Runner owns its parts; runner_close releases whatever is still loaded (a zeroed
 * Runner is valid to close). Errors: -1 and one line "PATH: problem" in *err. */
#ifndef COLDTOK_DRIFT_MODEL_H
#define COLDTOK_DRIFT_MODEL_H

#include "analysis/drift.h"
#include "model/forward.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    Tokenizer *tok;
    Model *m;      /* NULL while unloaded */
    Forward *f;
    int start;     /* the token every window begins with */
    float *logits; /* [n_out][n_vocab] of the current window */
    const char *path; /* the model file (borrowed from the TfModel) */
    Compute compute;
    int n_out, n_vocab;
} Runner;

/* Loads the model at path with its tokenizer and fills tm's name, paths, n_vocab and bpw. */
int runner_open(Runner *r, TfModel *tm, const char *path, const char *name, const char *tokenizer,
                const TfOptions *o, int n_out, Err *err);
void runner_close(Runner *r);

/* Drops the weights, forward pass and logits (the tokenizer stays). */
void runner_unload(Runner *r);
/* Maps them again; a no-op when loaded. */
int runner_reload(Runner *r, Err *err);

/* Runs one window (ctx tokens, the last one only predicted) and keeps the logits of the scored
 * positions (ctx/2 .. ctx-2) in r->logits. */
int runner_window(Runner *r, const int *win, int ctx, Err *err);

/* ln softmax(z)[id], in double. */
double log_prob_of(const float *z, int n, int id);

#endif
