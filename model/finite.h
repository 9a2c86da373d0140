/* finite: what to say when a forward pass produced a logit that is not a number (NaN or +-Inf).
 *
 * The forward pass checks its logits (a scan of what it writes, nothing in the matmul panels), and
 * only when one is not finite does it ask this module for the reason: the first weight of the model
 * that is not finite, in the order the forward pass reads them (embeddings, each layer's norms,
 * biases and matrices, the output norm and matrix), found by dequantizing every tensor row by row.
 * So a model with good weights pays nothing, and a bad one gets one line naming the tensor.
 *
 * Errors: model_nonfinite_error always returns -1 with one line in *err: "MODEL: tensor NAME row R
 * column C is not finite (nan); the logits at position P are not finite" (a vector: "element I"), or, when every
 * weight is finite (an activation overflowed), "MODEL: the logits at position P are not finite
 * (inf at token id V); every weight is finite". */
#ifndef COLDTOK_FINITE_H
#define COLDTOK_FINITE_H

#include "common/util.h"
#include "model/model.h"

/* Index of the first value of x[0..n) that is not finite, or n when all are. */
size_t first_nonfinite(const float *x, size_t n);

/* The one-line error for logits that are not finite: pos is the position of the first bad row,
 * id the token id (column) of its first bad logit, value that logit. Returns -1. */
int model_nonfinite_error(const Model *m, int pos, int id, float value, Err *err);

#endif
