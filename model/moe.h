/* moe: the mixture-of-experts FFN of a layer (qwen2moe, qwen3moe; deepseek2's MoE layers), called
 * by model/forward.c's step() where a dense layer has its FFN.
 *
 * Per position: router logits = x . router^T [n_expert]; probabilities by the family's gating
 * (softmax over all experts, or a sigmoid per expert); the top k experts (k = n_expert_used) in
 * llama.cpp's order (below); their probabilities as weights, divided by their sum when norm_topk
 * (the sum clamped below at 2^-14 as llama.cpp does) and multiplied by scale (when not 0 or 1);
 * out = sum over the k slots, in order, of weight * down(silu(gate(x)) * up(x)) of that expert.
 * A shared expert (when the layer has one) is added to that: down(silu(gate x) * up x), times
 * sigmoid(x . gate_inp_shexp) when the family gates it (qwen2moe).
 *
 * Only the experts the router picked are read: for a step of M positions the picks of all of them
 * are grouped by expert, and each picked expert (the union over the positions) has its three
 * matrices converted once and multiplied with the rows of the positions routed to it. The counts
 * of expert matrices read are kept (moe_stats) so tests can hold the pass to that.
 *
 * The order of the top k: llama.cpp sorts the probabilities in descending order with ggml's CPU
 * argsort, which is C++ std::sort over the indices 0..n-1 (libstdc++'s introsort: median-of-three
 * quicksort down to runs of 16, a heap sort past 2 log2 n levels, insertion sort to finish), and
 * keeps the first k. std::sort is not stable, so among equal probabilities the pick depends on
 * that algorithm; moe_argsort_desc reproduces it step for step, so ties (a zero router row,
 * duplicated rows) pick the same experts as llama.cpp.
 *
 * Ownership: a Moe borrows its Model and is owned by the Forward that made it; one thread at a
 * time calls it (the matmuls open their own parallel regions).
 * Errors: moe_ffn returns -1 with one line in *err (a matmul failure). */
#ifndef COLDTOK_MOE_H
#define COLDTOK_MOE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "model/matmul.h"
#include "model/model.h"

typedef struct Moe Moe;

/* What the expert layers have read since moe_new (or the last moe_stats_reset). */
typedef struct {
    uint64_t steps;         /* moe_ffn calls (one per expert layer per forward step) */
    uint64_t expert_loads;  /* routed experts whose matrices were read, summed over the calls */
    uint64_t expert_bytes;  /* their stored bytes (gate + up + down of each) */
    uint64_t routed_slots;  /* positions x k: the (position, expert) pairs routed */
} MoeStats;

Moe *moe_new(const Model *m);
void moe_free(Moe *e);

/* out [M, n_embd] = the expert FFN of layer L for the M rows of x [M, n_embd] (the FFN-normed
 * hidden states). swiglu(g, u, n): g = silu(g) * u, the forward pass's own. */
int moe_ffn(Moe *e, Matmul *mm, const MoeLayer *L, const float *x, int M, float *out,
            void (*swiglu)(float *g, const float *u, size_t n), Err *err);

const MoeStats *moe_stats(const Moe *e);
void moe_stats_reset(Moe *e);
/* 1 when expert `expert` of layer `layer` was picked for some position of that layer's last call
 * (for tests: which experts a step read). */
int moe_last_picked(const Moe *e, int layer, int expert);

/* The router of one position: probs [n_expert] becomes the gating of logits; ids [k] and
 * weights [k] the picked experts and their weights, in llama.cpp's order. */
void moe_route(const MoeConfig *c, const float *logits, float *probs, int *ids, float *weights);
/* idx [n] = 0..n-1 sorted by v descending exactly as libstdc++'s std::sort does it (see above). */
void moe_argsort_desc(const float *v, int n, int *idx);

#endif
