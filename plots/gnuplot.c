/* gnuplot: see gnuplot.h. */
#include "plots/gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* gnuplot's diagnostics can be long; the first few KB hold the first error. */
#define GP_STDERR_KEEP 65536

/* Appends the line at q (up to its newline) with runs of blanks collapsed to one space. */
static void put_collapsed(Buf *m, const char *q) {
    int space = 0;
    for (; *q && *q != '\n'; q++) {
        if (*q == ' ' || *q == '\t' || *q == '\r') {
            space = 1;
            continue;
        }
        if (space) buf_putc(m, ' ');
        space = 0;
        buf_putc(m, *q);
    }
}

/* The most useful line of gnuplot's stderr: its first error ("line N: ..." that is not a
 * warning, with the "system error: ..." line that may follow it), else its last line that is not
 * an echo of the script or a caret. Written into msg. */
static void first_error(const char *s, char *msg, size_t cap) {
    const char *best = NULL, *last = NULL, *sys = NULL;
    for (const char *p = s; *p;) {
        const char *e = strchr(p, '\n');
        if (!e) e = p + strlen(p);
        const char *q = p;
        while (q < e && (*q == ' ' || *q == '\t')) q++;
        if (!strncmp(q, "\"/dev/stdin\" ", 13)) q += 13;
        if (q < e) {
            if (best && !sys && !strncmp(q, "system error:", 13)) sys = q;
            if (!best && !strncmp(q, "line ", 5) && !memmem(q, (size_t)(e - q), "warning:", 8)) best = q;
            if (strncmp(q, "gnuplot>", 8) && *q != '^') last = q;
        }
        p = *e ? e + 1 : e;
    }
    Buf m = {0};
    if (best || last) put_collapsed(&m, best ? best : last);
    if (sys) {
        buf_puts(&m, " (");
        put_collapsed(&m, sys);
        buf_putc(&m, ')');
    }
    snprintf(msg, cap, "%s", m.data ? m.data : "");
    buf_free(&m);
}

/* Writes the script while draining stderr, so neither side can block the other. */
static int pump(int in_fd, int err_fd, const char *script, size_t len, Buf *errtext) {
    size_t done = 0;
    int in_open = 1, err_open = 1, write_failed = 0;
    while (err_open) {
        struct pollfd fds[2] = {{.fd = err_fd, .events = POLLIN}, {.fd = in_open ? in_fd : -1, .events = POLLOUT}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[0].revents) {
            char chunk[4096];
            ssize_t n = read(err_fd, chunk, sizeof chunk);
            if (n > 0 && errtext->len < GP_STDERR_KEEP) buf_append(errtext, chunk, (size_t)n);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) err_open = 0;
        }
        if (in_open && fds[1].revents) {
            ssize_t n = done < len ? write(in_fd, script + done, len - done) : 0;
            if (n > 0) done += (size_t)n;
            if (n < 0 && errno != EINTR && errno != EAGAIN) write_failed = 1; /* gnuplot quit early */
            if (done == len || write_failed || (fds[1].revents & (POLLERR | POLLHUP))) {
                close(in_fd); /* end of script: gnuplot finishes and exits */
                in_open = 0;
            }
        }
    }
    if (in_open) close(in_fd);
    return write_failed ? -1 : 0;
}

int gp_run(const char *script, size_t len, Buf *out, Err *err) {
    const char *prog = getenv("COLDTOK_GNUPLOT");
    if (!prog || !*prog) prog = "gnuplot";
    int in[2], errp[2];
    if (pipe2(in, O_CLOEXEC) < 0) return err_set(err, "gnuplot: cannot make a pipe: %s", strerror(errno));
    if (pipe2(errp, O_CLOEXEC) < 0) {
        close(in[0]), close(in[1]);
        return err_set(err, "gnuplot: cannot make a pipe: %s", strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    /* A script file argument makes gnuplot stop at the first error (stdin itself would not). */
    char *argv[] = {(char *)prog, "-d", access("/dev/stdin", F_OK) == 0 ? "/dev/stdin" : "-", NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(errp[1]);
    if (rc != 0) {
        close(in[1]);
        close(errp[0]);
        if (rc == ENOENT)
            return err_set(err, "gnuplot: '%s' not found (install gnuplot-nox, or set COLDTOK_GNUPLOT)", prog);
        return err_set(err, "gnuplot: cannot run '%s': %s", prog, strerror(rc));
    }

    /* A gnuplot that quits early must not kill us with SIGPIPE: ignore it while writing. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    Buf errtext = {0};
    pump(in[1], errp[0], script, len, &errtext);
    close(errp[0]);
    sigaction(SIGPIPE, &old, NULL);

    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    const char *text = errtext.data ? errtext.data : "";
    int ret = 0;
    char msg[512];
    if (WIFSIGNALED(status)) {
        ret = err_set(err, "gnuplot: killed by signal %d", WTERMSIG(status));
    } else if (WEXITSTATUS(status) == 127 && !*text) {
        ret = err_set(err, "gnuplot: '%s' could not be started", prog);
    } else if (WEXITSTATUS(status) != 0) {
        first_error(text, msg, sizeof msg);
        if (*msg) ret = err_set(err, "gnuplot: %s", msg);
        else ret = err_set(err, "gnuplot: exited with status %d", WEXITSTATUS(status));
    }
    if (out) buf_append(out, text, strlen(text));
    buf_free(&errtext);
    return ret;
}

/* ---- strings ---- */

/* Splits s into displayable code points: calls f for each (bytes of one code point, or the
 * replacement character for a control character or an invalid byte). */
typedef void (*CpFn)(void *ctx, const char *bytes, size_t n);

static void each_cp(const char *s, CpFn f, void *ctx) {
    static const char repl[] = "\xEF\xBF\xBD"; /* U+FFFD */
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = utf8_decode((const uint8_t *)s + i, len - i, &cp);
        if (n == 0) {
            f(ctx, repl, 3);
            i++;
            continue;
        }
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) f(ctx, repl, 3);
        else f(ctx, s + i, (size_t)n);
        i += (size_t)n;
    }
}

typedef struct {
    size_t *off, *len; /* each code point's bytes: flat.data[off[i] .. off[i] + len[i]) */
    size_t n, cap;
    Buf flat;
} Cps;

static void collect(void *ctx, const char *bytes, size_t n) {
    Cps *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 32;
        c->off = xrealloc(c->off, c->cap * sizeof *c->off);
        c->len = xrealloc(c->len, c->cap * sizeof *c->len);
    }
    c->off[c->n] = c->flat.len;
    c->len[c->n++] = n;
    buf_append(&c->flat, bytes, n);
}

/* Visits the code points gp_quote shows for s: when max_chars > 0 and s is longer, its middle
 * becomes one "…" so that max_chars code points remain. */
static void each_shown(const char *s, size_t max_chars, CpFn f, void *ctx) {
    Cps c = {0};
    each_cp(s, collect, &c);
    size_t head = 0, tail = 0;
    int cut = max_chars > 0 && c.n > max_chars;
    if (cut) head = (max_chars - 1) / 2 + (max_chars - 1) % 2, tail = (max_chars - 1) / 2;
    for (size_t i = 0; i < c.n; i++) {
        if (cut && i == head) f(ctx, "\xE2\x80\xA6", 3); /* … */
        if (cut && i >= head && i < c.n - tail) continue;
        f(ctx, c.flat.data + c.off[i], c.len[i]);
    }
    free(c.off);
    free(c.len);
    buf_free(&c.flat);
}

/* A single quote cannot be doubled at the start of a gnuplot string ('''x' is an error), so the
 * string is closed, a double-quoted "'" (no backquote, so nothing is substituted) concatenated,
 * and a new single-quoted string opened: 'a'."'".'b'. */
static void put_cp(void *ctx, const char *bytes, size_t n) {
    Buf *b = ctx;
    if (n == 1 && *bytes == '\'') buf_puts(b, "'.\"'\".'");
    else buf_append(b, bytes, n);
}

void gp_quote(Buf *b, const char *s, size_t max_chars) {
    buf_putc(b, '\'');
    each_shown(s, max_chars, put_cp, b);
    buf_putc(b, '\'');
}

static void put_plain(void *ctx, const char *bytes, size_t n) { buf_append(ctx, bytes, n); }

void gp_shorten(Buf *b, const char *s, size_t max_chars) { each_shown(s, max_chars, put_plain, b); }

static void count_cp(void *ctx, const char *bytes, size_t n) {
    (void)bytes, (void)n;
    ++*(size_t *)ctx;
}

size_t gp_text_width(const char *s, size_t max_chars) {
    size_t n = 0;
    each_shown(s, max_chars, count_cp, &n);
    return n;
}

/* Advance widths of DejaVu Sans (DejaVuSans.ttf 2.37: its hmtx table through its cmap), in
 * 1/2048 em, for ' ' .. '~'. */
static const unsigned short dejavu_ascii[95] = {
    651,  821,  942,  1716, 1303, 1946, 1597, 563,  799,  799,  1024, 1716, 651,  739,  651,  690,
    1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690,  690,  1716, 1716, 1716, 1087,
    2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604,  604,  1343, 1141, 1767, 1532, 1612,
    1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799,  690,  799,  1716, 1024,
    1024, 1255, 1300, 1126, 1300, 1260, 721,  1300, 1298, 569,  569,  1186, 569,  1995, 1298, 1253,
    1300, 1300, 842,  1067, 803,  1298, 1212, 1675, 1212, 1212, 1075, 1303, 690,  1303, 1716};

/* East Asian wide characters and emoji come from a fallback font, about one em wide. */
static int is_wide(uint32_t cp) {
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
           (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) || cp >= 0x20000;
}

static void add_em(void *ctx, const char *bytes, size_t n) {
    uint32_t cp = (unsigned char)*bytes;
    if (n > 1 && utf8_decode((const uint8_t *)bytes, n, &cp) == 0) cp = 0xFFFD;
    double w;
    if (cp >= 0x20 && cp < 0x7f) w = dejavu_ascii[cp - 0x20] / 2048.0;
    else if (cp == 0x2026 || is_wide(cp)) w = 1.0; /* … is 2048 units too */
    else if (cp == 0xFFFD) w = 2100 / 2048.0;
    else w = 0.72; /* the other letters of DejaVu Sans are 0.55 to 0.8 em: err on the wide side */
    *(double *)ctx += w;
}

double gp_text_em(const char *s, size_t max_chars) {
    double w = 0;
    each_shown(s, max_chars, add_em, &w);
    return w;
}
