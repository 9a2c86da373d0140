/* cli: the error reporting and the option parsers the commands share (cli.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- option errors ---- */

/* Levenshtein distance of two short strings (long ones count as far apart). */
static size_t edit_distance(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b), row[65];
    if (n > 64 || m > 64) return 1000;
    for (size_t j = 0; j <= m; j++) row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[m];
}

/* The long options whose names start with NAME, as " (--a, --b)" into LIST; returns how many.
 * An exact match counts alone (getopt_long takes it over longer names). */
static int prefix_matches(const struct option *longopts, const char *name, Buf *list) {
    size_t len = strlen(name);
    int n = 0;
    for (const struct option *o = longopts; o->name; o++)
        if (!strcmp(o->name, name)) return 1;
    for (const struct option *o = longopts; o->name; o++) {
        if (strncmp(o->name, name, len)) continue;
        buf_printf(list, "%s--%s", n++ ? ", " : " (", o->name);
    }
    if (n) buf_putc(list, ')');
    return n;
}

/* The long option that NAME (as typed, maybe abbreviated) selects, if it selects one. */
static const struct option *long_option(const struct option *longopts, const char *name) {
    const struct option *hit = NULL;
    for (const struct option *o = longopts; o->name; o++) {
        if (!strcmp(o->name, name)) return o;
        if (!strncmp(o->name, name, strlen(name))) {
            if (hit) return NULL;
            hit = o;
        }
    }
    return hit;
}

int cli_option_error(const char *cmd, int c, char **argv, const struct option *longopts) {
    /* getopt_long has stepped past a long option at fault; a short one is optopt */
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    char *name = NULL;
    if (!strncmp(arg, "--", 2) && arg[2]) {
        const char *eq = strchr(arg + 2, '=');
        name = eq ? xstrndup(arg + 2, (size_t)(eq - arg - 2)) : xstrdup(arg + 2);
    }
    const struct option *o = name ? long_option(longopts, name) : NULL;
    int rc;
    if (name && optopt == 0) {
        Buf list = {0};
        if (prefix_matches(longopts, name, &list) > 1) {
            rc = cli_usage_error(cmd, "ambiguous option '--%s'%s", name, list.data);
        } else {
            const struct option *near = NULL;
            size_t best = 3; /* at most two edits, and fewer than the name has letters */
            for (const struct option *q = longopts; q->name; q++) {
                size_t d = edit_distance(name, q->name);
                if (d < best && d < strlen(name)) best = d, near = q;
            }
            if (near) rc = cli_usage_error(cmd, "unknown option '--%s' (did you mean '--%s'?)", name, near->name);
            else rc = cli_usage_error(cmd, "unknown option '--%s'", name);
        }
        buf_free(&list);
    } else if (o && o->val == optopt) {
        rc = c == ':' ? cli_usage_error(cmd, "option '--%s' needs a value", o->name)
                      : cli_usage_error(cmd, "option '--%s' takes no value", o->name);
    } else if (optopt > 0 && optopt < 128 && isprint(optopt)) {
        rc = c == ':' ? cli_usage_error(cmd, "option '-%c' needs a value", optopt)
                      : cli_usage_error(cmd, "unknown option '-%c'", optopt);
    } else {
        rc = cli_usage_error(cmd, "unknown option '-\\x%02x'", (unsigned)optopt & 0xFF);
    }
    free(name);
    return rc;
}

/* ---- output folders ---- */

int cli_make_dir(const char *cmd, const char *dir) {
    Err err;
    return make_dirs(dir, &err) ? cli_fail(cmd, "%s", err.msg) : 0;
}

int cli_make_parent(const char *cmd, const char *file) {
    const char *slash = strrchr(file, '/');
    if (!slash || slash == file) return 0;
    char *dir = xstrndup(file, (size_t)(slash - file));
    int rc = cli_make_dir(cmd, dir);
    free(dir);
    return rc;
}

/* ---- option values ---- */

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
