/* cmd_encode: `coldtok encode` (text on stdin -> one line of ids or pieces) and `coldtok decode`
 * (ids on stdin -> text), the plumbing other tools use to check coldtok's tokenizers. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tokenizer/tokenizer.h"

static void encode_usage(FILE *out) {
    fprintf(
        out,
        "usage: coldtok encode -t TOKENIZER [--ids|--pieces] [--no-special] [--no-prefix] < "
        "text\n\n"
        "Encodes the UTF-8 text on stdin and prints one line: the token ids, space-separated\n"
        "(--ids, the default), or the tokens as the vocabulary stores them (--pieces), made\n"
        "visible: \\s space, \\n \\r \\t, \\\\ backslash, \\xNN other control or non-UTF-8 bytes.\n"
        "No BOS/EOS is added. Added and special tokens written in the text are matched as the\n"
        "Hugging Face tokenizers library does. The text is read and encoded in pieces, cut where\n"
        "the tokenizer never reaches across (the ids are those of the whole text; memory stays\n"
        "bounded): more than 4 MiB with no such place (one huge word) is an error\n"
        "(COLDTOK_STREAM_LIMIT, in bytes, raises the limit).\n\n"
        "  -t, --tokenizer T  a tokenizer.json, a .gguf file or a model folder\n"
        "  --ids              print ids (default)\n"
        "  --pieces           print the tokens' pieces instead of ids\n"
        "  --no-special       treat special-token texts (<|endoftext|>, <s>) as plain text\n"
        "  --no-prefix        no SentencePiece-style leading \"\xE2\x96\x81\": encode the text as "
        "the\n"
        "                     continuation of a line\n"
        "  -h, --help         this help\n");
}

static void decode_usage(FILE *out) {
    fprintf(out,
            "usage: coldtok decode -t TOKENIZER < ids\n\n"
            "Reads whitespace-separated token ids on stdin and prints the text they decode to "
            "(through\n"
            "the tokenizer's decoder: byte-level, Metaspace, byte fallback ...), with nothing "
            "added.\n\n"
            "  -t, --tokenizer T  a tokenizer.json, a .gguf file or a model folder\n"
            "  -h, --help         this help\n");
}

/* Reads all of stdin; NULL (and errno) on a read error. */
static char *read_stdin(size_t *len) {
    Buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) buf_append(&b, chunk, n);
    if (ferror(stdin)) {
        buf_free(&b);
        return NULL;
    }
    if (!b.data) buf_append(&b, "", 0);
    *len = b.len;
    return b.data;
}

static void put_visible(Buf *out, const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = (uint8_t)s[i];
        uint32_t cp;
        int m = utf8_decode((const uint8_t *)s + i, n - i, &cp);
        if (c == ' ')
            buf_puts(out, "\\s");
        else if (c == '\n')
            buf_puts(out, "\\n");
        else if (c == '\r')
            buf_puts(out, "\\r");
        else if (c == '\t')
            buf_puts(out, "\\t");
        else if (c == '\\')
            buf_puts(out, "\\\\");
        else if (!m || c < 0x20 || c == 0x7F || (cp >= 0x80 && cp < 0xA0))
            buf_printf(out, "\\x%02X", c);
        else {
            buf_append(out, s + i, (size_t)m);
            i += (size_t)m;
            continue;
        }
        i++;
    }
}

/* After the options of encode and decode: no operand left, the tokenizer at PATH in *t and all of
 * stdin in *text (*len bytes), both the caller's to free. 0, or the exit code of the error it
 * reported. */
static int open_input(const char *cmd, int argc, char **argv, const char *path, Tokenizer **t, char **text,
                      size_t *len) {
    int bad = cli_no_operands(cmd, argc, argv);
    if (bad) return bad;
    if (!path) return cli_usage_error(cmd, "no tokenizer: give -t TOKENIZER");
    Err err;
    if (!(*t = tok_load(path, &err))) return cli_fail(cmd, "%s", err.msg);
    if (!(*text = read_stdin(len))) {
        int e = errno;
        tok_free(*t);
        return cli_fail(cmd, "<stdin>: %s", strerror(e));
    }
    return 0;
}

static int write_all(const char *cmd, const Buf *b) {
    if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
        return cli_fail(cmd, "<stdout>: %s", strerror(errno));
    if (fflush(stdout)) return cli_fail(cmd, "<stdout>: %s", strerror(errno));
    return 0;
}

#define CHUNK ((size_t)1 << 16)

/* Writes each streamed piece's ids (or pieces) as they come. */
typedef struct {
    const Tokenizer *t;
    int pieces, write_error;
    size_t any; /* ids written */
    Buf out;
} Printer;

static int print_piece(void *arg, const char *text, size_t len, size_t at, const IntVec *ids,
                       Err *err) {
    (void)text, (void)len, (void)at, (void)err;
    Printer *p = arg;
    buf_clear(&p->out);
    for (size_t i = 0; i < ids->n; i++) {
        if (p->any++) buf_putc(&p->out, ' ');
        if (!p->pieces) {
            buf_printf(&p->out, "%d", ids->v[i]);
        } else {
            size_t pl;
            const char *s = tok_piece(p->t, ids->v[i], &pl);
            put_visible(&p->out, s, pl);
        }
    }
    if (p->out.len && fwrite(p->out.data, 1, p->out.len, stdout) != p->out.len) {
        p->write_error = errno ? errno : EIO;
        return -1;
    }
    buf_clear(&p->out);
    return 0;
}

int cmd_encode(int argc, char **argv) {
    static const struct option opts[] = {{"tokenizer", required_argument, NULL, 't'},
                                         {"ids", no_argument, NULL, 'i'},
                                         {"pieces", no_argument, NULL, 'p'},
                                         {"no-special", no_argument, NULL, 's'},
                                         {"no-prefix", no_argument, NULL, 'x'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int pieces = 0;
    unsigned flags = 0;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': path = optarg; break;
        case 'i': pieces = 0; break;
        case 'p': pieces = 1; break;
        case 's': flags |= TOK_ENC_NO_SPECIAL; break;
        case 'x': flags |= TOK_ENC_NO_PREFIX; break;
        case 'h': encode_usage(stdout); return 0;
        default: return cli_option_error("encode", c, argv, opts);
        }
    }
    int bad = cli_no_operands("encode", argc, argv);
    if (bad) return bad;
    if (!path) return cli_usage_error("encode", "no tokenizer: give -t TOKENIZER");
    Err err;
    Tokenizer *t = tok_load(path, &err);
    if (!t) return cli_fail("encode", "%s", err.msg);
    /* streamed: stdin is read in chunks and encoded piece by piece at the tokenizer's cut points
     * (tokenizer.h), each piece's ids written as they come, so memory stays bounded */
    Printer pr = {.t = t, .pieces = pieces};
    TokStream ts;
    tok_stream_init(&ts, t, flags, 0);
    char *chunk = xmalloc(CHUNK);
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, CHUNK, stdin)) > 0)
        rc = tok_stream_put(&ts, chunk, n, print_piece, &pr, &err);
    if (rc == 0 && ferror(stdin)) {
        rc = cli_fail("encode", "<stdin>: %s", strerror(errno));
    } else {
        if (rc == 0) rc = tok_stream_end(&ts, print_piece, &pr, &err);
        if (rc == 0) {
            buf_putc(&pr.out, '\n');
            rc = write_all("encode", &pr.out);
        } else if (pr.write_error) {
            rc = cli_fail("encode", "<stdout>: %s", strerror(pr.write_error));
        } else {
            if (pr.any) fflush(stdout); /* what was encoded before the error stays written */
            rc = cli_fail("encode", "<stdin>: %s", err.msg);
        }
    }
    free(chunk);
    tok_stream_free(&ts);
    buf_free(&pr.out);
    tok_free(t);
    return rc;
}

int cmd_decode(int argc, char **argv) {
    static const struct option opts[] = {{"tokenizer", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': path = optarg; break;
        case 'h': decode_usage(stdout); return 0;
        default: return cli_option_error("decode", c, argv, opts);
        }
    }
    Tokenizer *t = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = open_input("decode", argc, argv, path, &t, &text, &len);
    if (rc) return rc;
    Err err;
    IntVec ids = {0};
    char *p = text, *end = text + len;
    while (p < end && !rc) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',')) p++;
        if (p == end) break;
        char *q = p;
        while (q < end && !(*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r' || *q == ',')) q++;
        char word[32];
        size_t wl = (size_t)(q - p);
        char *stop = NULL;
        long v = -1;
        if (wl < sizeof word) {
            memcpy(word, p, wl);
            word[wl] = '\0';
            errno = 0;
            v = strtol(word, &stop, 10);
        }
        if (wl >= sizeof word || !wl || *stop || errno || v < INT_MIN || v > INT_MAX)
            rc = cli_fail("decode", "<stdin>: '%.*s' is not a token id", (int)(wl > 40 ? 40 : wl),
                          p);
        else
            intvec_push(&ids, (int)v);
        p = q;
    }
    if (!rc) {
        Buf out = {0};
        if (tok_decode(t, ids.v, ids.n, &out, &err))
            rc = cli_fail("decode", "<stdin>: %s", err.msg);
        else
            rc = write_all("decode", &out);
        buf_free(&out);
    }
    intvec_free(&ids);
    free(text);
    tok_free(t);
    return rc;
}
