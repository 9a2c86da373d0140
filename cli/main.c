/* coldtok: what compression does to code models, per programming language.
 * This file only dispatches to the subcommands; each one documents itself with --help. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/version.h"

static const Command commands[] = {
    {"info", cmd_info, "describe a GGUF model: hyper-parameters, metadata, tensors, bytes"},
    {"synth", cmd_synth, "write a random-weight GGUF model of a real shape (tests, benchmarks)"},
    {"plot", cmd_plot, "draw figures with gnuplot from the CSV files of an analysis folder"},
    {"quantize", cmd_quantize, "write a quantized variant of a model as a llama.cpp GGUF file"},
    {"encode", cmd_encode, "encode stdin with a tokenizer: one line of token ids (or pieces)"},
    {"decode", cmd_decode, "decode token ids from stdin back to text"},
    {"coverage", cmd_coverage, "keyword coverage of tokenizers: ids, token counts, missing keywords"},
    {"vocab", cmd_vocab, "what a vocabulary is made of: special, whitespace, indentation, identifiers"},
    {"probe", cmd_probe, "cold-start keyword probabilities of models, per language"},
    {"diff", cmd_diff, "drift of variants from their base: KL, JS, top-k, keyword mass"},
    {"logits", cmd_logits, "next-token logits of a model after a context: top tokens, raw floats"},
    {"drift", cmd_drift, "teacher-forced drift of variants on a code corpus: KL per language, keywords"},
    {"merge", cmd_merge, "merge the shards of a --shard run (drift, probe, diff, coverage) into its CSV files"},
    {"sweep", cmd_sweep, "a sharded run as Slurm jobs: an array of shards, then their merge"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out) {
    fprintf(out,
            "usage: coldtok COMMAND [options]   (coldtok COMMAND --help for details)\n"
            "       coldtok --version\n\n"
            "commands:\n");
    for (const Command *c = commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
}

/* The OpenMP teams (ours and oneDNN's: Debian's libdnnl runs on the same libgomp) spin at their
 * barriers by default (GOMP_SPINCOUNT 300000), and on a shared machine a spinning member holds the
 * core that the member being waited for needs. Measured with bench/bench_shared on this 2-core
 * machine: a cold start of 2-5 s with spinning against about 1 s passive (docs/models.md). libgomp
 * reads OMP_WAIT_POLICY when it is loaded, before main, so the passive policy is set by executing
 * the program again once with it; a user's OMP_WAIT_POLICY or GOMP_SPINCOUNT is left alone, and a
 * failed exec just goes on with the default. (A setenv in a pre-initialiser, DT_PREINIT_ARRAY, runs
 * before libgomp's constructor but is lost: libc's own initialiser then points environ back at the
 * original array. tests/cli_ompwait.sh checks the spin count libgomp ends up with.) */
static void prefer_passive_wait(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("OMP_WAIT_POLICY", "passive", 1)) return;
    execv("/proc/self/exe", argv);
}

int main(int argc, char **argv) {
    prefer_passive_wait(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("coldtok %s\n", coldtok_version());
        return 0;
    }
    for (const Command *c = commands; c->name; c++)
        if (!strcmp(argv[1], c->name)) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "coldtok: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
