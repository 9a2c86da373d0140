/* cli: the subcommands of the coldtok binary and the helpers they share.
 * Each command lives in cli/cmd_NAME.c, parses its own options with getopt_long, prints
 * "coldtok NAME: message" on failure and returns the process exit code: 0 success, 1 bad input
 * or failure, 2 usage error. The parsers below hold the options that several commands take, so
 * that one option is read and refused the same way (with the same message) everywhere. */
#ifndef COLDTOK_CLI_H
#define COLDTOK_CLI_H

#include <getopt.h>

#include "model/forward.h"
#include "report/table.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;               /* one line for `coldtok --help` */
} Command;

/* The commands' entry points (argv[0] is the command name), one file each. */
int cmd_info(int argc, char **argv);     /* cmd_info.c */
int cmd_synth(int argc, char **argv);    /* cmd_synth.c */
int cmd_plot(int argc, char **argv);     /* cmd_plot.c */
int cmd_quantize(int argc, char **argv); /* cmd_quantize.c */
int cmd_encode(int argc, char **argv);   /* cmd_encode.c */
int cmd_decode(int argc, char **argv);   /* cmd_encode.c */
int cmd_coverage(int argc, char **argv); /* cmd_coverage.c */
int cmd_vocab(int argc, char **argv);    /* cmd_vocab.c */
int cmd_probe(int argc, char **argv);    /* cmd_study.c */
int cmd_diff(int argc, char **argv);     /* cmd_study.c */
int cmd_logits(int argc, char **argv);   /* cmd_logits.c */
int cmd_drift(int argc, char **argv);    /* cmd_drift.c */
int cmd_merge(int argc, char **argv);    /* cmd_merge.c */
int cmd_sweep(int argc, char **argv);    /* cmd_sweep.c */

/* Prints "coldtok CMD: message\n" on stderr and returns 1 (for `return cli_fail(...)`). */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For a usage error: prints the message and "try 'coldtok CMD --help'", returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every command parses with opterr = 0 and an optstring that starts with ':' (so that getopt_long
 * prints nothing and returns ':' for a missing value); on '?' or ':' it returns this: the usage
 * error naming the option at fault ("unknown option '--modle' (did you mean '--model'?)",
 * "option '--model' needs a value", "option '--help' takes no value", "ambiguous option '--co'
 * (--context, --compute)"), exit code 2. C is what getopt_long returned; LONGOPTS its table. */
int cli_option_error(const char *cmd, int c, char **argv, const struct option *longopts);

/* Output folders: -o DIR is made (with the folders above it, like mkdir -p) before the command
 * writes anything, so that other outputs (--csv, --positions) may go inside it; for -o FILE the
 * folder that holds FILE. Each returns 0, or prints "coldtok CMD: PATH: cannot create: reason"
 * and returns 1. */
int cli_make_dir(const char *cmd, const char *dir);
int cli_make_parent(const char *cmd, const char *file);

/* The shared option parsers. Each reads one option's value into *out and returns 0, or reports
 * the usage error for CMD and returns 2 (the exit code), leaving *out as it was. */

/* --compute f32|bf16 */
int cli_parse_compute(const char *cmd, const char *arg, Compute *out);
/* --format text|md|tex (the tables on stdout) */
int cli_parse_format(const char *cmd, const char *arg, TableFormat *out);
/* After getopt_long: an argument left over (argv[optind] onwards) is a usage error. */
int cli_no_operands(const char *cmd, int argc, char **argv);

/* A -t [NAME=]PATH argument: returns the PATH part (inside ARG) and sets *label to NAME, or to the
 * source_label of ARG when there is no NAME (no '=', a '/' before it, or ARG itself is a file or
 * a folder). *label is the caller's to free. */
const char *cli_labelled_path(const char *arg, char **label);

#endif
