/* cli: the error reporting and the option parsers the commands share (cli.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "analysis/coverage.h"

/* "coldtok CMD: MESSAGE" on stderr, without the newline. */
static void say(const char *cmd, const char *fmt, va_list ap) {
    fprintf(stderr, "coldtok %s: ", cmd);
    vfprintf(stderr, fmt, ap);
}

int cli_fail(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say(cmd, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\ntry 'coldtok %s --help'\n", cmd);
    return 2;
}

int cli_parse_compute(const char *cmd, const char *arg, Compute *out) {
    if (!strcmp(arg, "f32")) *out = COMPUTE_F32;
    else if (!strcmp(arg, "bf16")) *out = COMPUTE_BF16;
    else return cli_usage_error(cmd, "--compute takes f32 or bf16, not '%s'", arg);
    return 0;
}

int cli_parse_format(const char *cmd, const char *arg, TableFormat *out) {
    if (table_format_parse(arg, out)) return cli_usage_error(cmd, "--format takes text, md or tex, not '%s'", arg);
    return 0;
}

int cli_no_operands(const char *cmd, int argc, char **argv) {
    return optind < argc ? cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]) : 0;
}

const char *cli_labelled_path(const char *arg, char **label) {
    const char *eq = strchr(arg, '=');
    /* a '/' before the '=' or an existing file makes the '=' part of the path */
    if (eq && eq > arg && !memchr(arg, '/', (size_t)(eq - arg)) && !is_file(arg) && !is_dir(arg)) {
        *label = xstrndup(arg, (size_t)(eq - arg));
        return eq + 1;
    }
    *label = source_label(arg);
    return arg;
}
