/* cli: the subcommands of the coldtok binary and the helpers they share.
 * Each command lives in cli/cmd_NAME.c (or its module's folder), parses its own options with
 * getopt_long, prints "coldtok NAME: message" on failure and returns the process exit code:
 * 0 success, 1 bad input or failure, 2 usage error. */
#ifndef COLDTOK_CLI_H
#define COLDTOK_CLI_H

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;               /* one line for `coldtok --help` */
} Command;

/* Prints "coldtok CMD: message\n" on stderr and returns 1 (for `return fail(...)`). */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For a usage error: prints the message and "try 'coldtok CMD --help'", returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
