/* libFuzzer harness for the tokenizer.json loader and the encoder/decoder.
 *
 * The first input byte chooses what the rest is (bits 0-1 the mode, bit 2 TOK_ENC_NO_SPECIAL, bit 3
 * TOK_ENC_NO_PREFIX):
 *   mode 0, 3  a tokenizer.json file: written to a temporary file and loaded. A failed load must leave
 *              one line naming the file; a loaded tokenizer encodes a fixed code snippet, decodes the
 *              ids and answers the per-id queries for every id. (The file is unlinked as soon as it
 *              is made and reached through /proc/self/fd, so no run, crashed or not, leaves it.)
 *   mode 1     text for tests/data/tiny-bytelevel-tokenizer.json (byte-level BPE, no normalizer). Valid
 *              UTF-8 must encode, and both decode(ids) and the concatenated tok_bytes() of the ids
 *              must give the text back exactly; invalid UTF-8 must be an error.
 *   mode 2     text for tests/data/tiny-spm-tokenizer.json (Prepend/Replace "▁" normalizer, byte
 *              fallback, Strip decoder). With TOK_ENC_NO_SPECIAL the tok_bytes() of the ids must be
 *              the text with "▁" read as " " and one " " in front (none with TOK_ENC_NO_PREFIX), and
 *              decode(ids) that with its first " " stripped.
 * Any violation aborts with a message. The two small tokenizers are read from tests/data/ below the
 * current folder (tests/run.sh runs fuzzers from the repository root) or below $COLDTOK_ROOT.
 * Seeds: fuzz/corpus/tokenizer/ (made by fuzz/make_tokenizer_seeds.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/util.h"
#include "tokenizer/tokenizer.h"

#define FUZZ_NAME "fuzz_tokenizer"
#include "fuzz/fuzzutil.h"

/* libFuzzer calls the entry points with no context, so the harness keeps its fixtures here. */
static Tokenizer *bytelevel, *spm;
static int tmpfd = -1;
static char tmpjson[64]; /* /proc/self/fd/N of the unlinked temporary file */

static void cleanup(void) {
    tok_free(bytelevel);
    tok_free(spm);
}

static Tokenizer *load_fixture(const char *rel) {
    char path[4096];
    const char *root = getenv("COLDTOK_ROOT");
    snprintf(path, sizeof path, "%s%s%s", root ? root : "", root ? "/" : "", rel);
    Err err;
    Tokenizer *t = tok_load(path, &err);
    if (!t) {
        fprintf(stderr, "fuzz_tokenizer: %s (run from the repository root or set COLDTOK_ROOT)\n", err.msg);
        exit(1);
    }
    return t;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    bytelevel = load_fixture("tests/data/tiny-bytelevel-tokenizer.json");
    spm = load_fixture("tests/data/tiny-spm-tokenizer.json");
    char name[] = "/tmp/fuzz_tokenizer.XXXXXX";
    tmpfd = mkstemp(name);
    if (tmpfd < 0) {
        perror("fuzz_tokenizer: mkstemp");
        exit(1);
    }
    unlink(name);
    snprintf(tmpjson, sizeof tmpjson, "/proc/self/fd/%d", tmpfd);
    atexit(cleanup);
    return 0;
}

static void check_ids(const Tokenizer *t, const IntVec *ids) {
    int n = tok_vocab_size(t);
    for (size_t i = 0; i < ids->n; i++)
        CHECK(ids->v[i] >= 0 && ids->v[i] < n, "id %d out of range 0..%d", ids->v[i], n - 1);
}

/* The concatenated tok_bytes() of the ids. */
static void bytes_of(const Tokenizer *t, const IntVec *ids, Buf *out) {
    for (size_t i = 0; i < ids->n; i++) {
        size_t len;
        const char *b = tok_bytes(t, ids->v[i], &len);
        buf_append(out, b, len);
    }
}

static int same(const Buf *b, const char *s, size_t len) {
    return b->len == len && (len == 0 || memcmp(b->data, s, len) == 0);
}

static void fuzz_json(const uint8_t *data, size_t size, unsigned flags) {
    CHECK(ftruncate(tmpfd, 0) == 0 && pwrite(tmpfd, data, size, 0) == (ssize_t)size,
          "cannot write %s", tmpjson);
    Err err;
    Tokenizer *t = tok_load(tmpjson, &err);
    if (!t) {
        check_err(&err, "tok_load");
        CHECK(strstr(err.msg, tmpjson), "tok_load error does not name the file: %s", err.msg);
        return;
    }
    static const char snippet[] =
        "def grüße(n):\n\treturn n * 12345  # it's <|endoftext|> <s> café 变量 🚀\r\n";
    IntVec ids = {0};
    if (tok_encode(t, snippet, sizeof snippet - 1, flags, &ids, &err) == 0) {
        check_ids(t, &ids);
        Buf out = {0};
        if (tok_decode(t, ids.v, ids.n, &out, &err)) check_err(&err, "tok_decode");
        buf_free(&out);
    } else {
        check_err(&err, "tok_encode");
    }
    intvec_free(&ids);
    /* Every per-id query, for every id (bounded: a vocabulary is at most as large as its file). */
    int n = tok_vocab_size(t);
    CHECK(n >= 0, "negative vocabulary size %d", n);
    for (int id = 0; id < n; id++) {
        size_t plen, blen;
        const char *piece = tok_piece(t, id, &plen);
        const char *bytes = tok_bytes(t, id, &blen);
        CHECK(piece && bytes, "id %d: NULL piece or bytes", id);
        unsigned fl = tok_flags(t, id);
        if (!(fl & TOK_UNUSED) && plen > 0) {
            int back = tok_id_of_piece(t, piece, plen);
            CHECK(back >= 0 && back < n, "piece of id %d not found again", id);
        }
        (void)tok_id_of_bytes(t, bytes, blen);
    }
    (void)tok_path(t);
    (void)tok_kind(t);
    (void)tok_pretokenizer(t);
    (void)tok_bos(t);
    (void)tok_eos(t);
    tok_free(t);
}

static void fuzz_text(const Tokenizer *t, int is_spm, const char *text, size_t len, unsigned flags) {
    Err err;
    IntVec ids = {0};
    int valid = utf8_valid_prefix(text, len) == len;
    int rc = tok_encode(t, text, len, flags, &ids, &err);
    if (!valid) {
        CHECK(rc == -1, "invalid UTF-8 (first bad byte at %zu) encoded without an error",
              utf8_valid_prefix(text, len));
        check_err(&err, "tok_encode");
        intvec_free(&ids);
        return;
    }
    CHECK(rc == 0, "valid UTF-8 text of %zu bytes failed to encode: %s", len, err.msg);
    check_ids(t, &ids);
    /* Only special tokens are checked: whether TOK_ENC_NO_SPECIAL also leaves non-special added
     * tokens unmatched is the tokenizer's choice (HF's split_special_tokens and llama.cpp's
     * parse_special=false still match them). */
    if (flags & TOK_ENC_NO_SPECIAL)
        for (size_t i = 0; i < ids.n; i++)
            CHECK(!(tok_flags(t, ids.v[i]) & TOK_SPECIAL), "TOK_ENC_NO_SPECIAL produced special token %d",
                  ids.v[i]);
    Buf bytes = {0}, dec = {0}, want = {0};
    bytes_of(t, &ids, &bytes);
    CHECK(tok_decode(t, ids.v, ids.n, &dec, &err) == 0, "decode of fresh ids failed: %s", err.msg);
    if (!is_spm) {
        CHECK(same(&bytes, text, len), "byte-level: tok_bytes of the ids are not the text");
        CHECK(same(&dec, text, len), "byte-level: decode(encode(text)) is not the text");
    } else if (flags & TOK_ENC_NO_SPECIAL) {
        if (len > 0 && !(flags & TOK_ENC_NO_PREFIX)) buf_putc(&want, ' ');
        for (size_t i = 0; i < len; i++) {
            if (i + 3 <= len && !memcmp(text + i, "\xE2\x96\x81", 3)) { /* U+2581 "▁" */
                buf_putc(&want, ' ');
                i += 2;
            } else {
                buf_putc(&want, text[i]);
            }
        }
        CHECK(same(&bytes, want.data ? want.data : "", want.len),
              "spm: tok_bytes of the ids are not \" \" + text with \"▁\" as \" \"");
        size_t skip = want.len > 0 && want.data[0] == ' ';
        CHECK(same(&dec, want.data ? want.data + skip : "", want.len - skip),
              "spm: decode(encode(text)) is not the text with its first space stripped");
    }
    buf_free(&bytes);
    buf_free(&dec);
    buf_free(&want);
    intvec_free(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    unsigned mode = data[0] & 3, flags = 0;
    if (data[0] & 4) flags |= TOK_ENC_NO_SPECIAL;
    if (data[0] & 8) flags |= TOK_ENC_NO_PREFIX;
    data++;
    size--;
    if (mode == 1)
        fuzz_text(bytelevel, 0, (const char *)data, size, flags);
    else if (mode == 2)
        fuzz_text(spm, 1, (const char *)data, size, flags);
    else
        fuzz_json(data, size, flags);
    return 0;
}
