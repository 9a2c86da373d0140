/* The shortcuts of the fast tokenizer.json load (tokenizer/tok_json_read.c, tok_json.c):
 *
 * - a merge's new token is first tried as the id after the one the previous merge built, and
 *   looked up only when that id's piece differs. A vocabulary of 26 letters and 260 two-letter
 *   tokens whose merges are listed mostly in id order, with swapped neighbours and jumps (so the
 *   guess is often an id whose piece has the right length and other letters): every two-letter
 *   text must encode to its own token, and every three-letter text to the pair of lower rank, as
 *   computed here from the list; merges written "a b" and ["a", "b"].
 * - cJSON parses into an arena of chunks: a file whose nodes need many chunks loads the same
 *   tokenizer, and the same file cut short (cJSON then frees its partial tree itself, inside the
 *   arena's scope) is refused with one line naming the file. */
#include <unistd.h>

#include "tokenizer/tokenizer.h"
#include "tests/testutil.h"

enum { FIRSTS = 10, PAIRS = FIRSTS * 26 };

/* The two-letter token of pair k (ids 26 + k), and the place of its merge in the list. */
static void pair_text(int k, char out[3]) {
    out[0] = (char)('a' + k / 26), out[1] = (char)('a' + k % 26), out[2] = '\0';
}

static int order[PAIRS]; /* order[rank] = pair */
static int rank_of[PAIRS];

static void make_order(void) {
    for (int k = 0; k < PAIRS; k++) order[k] = k;
    for (int k = 0; k + 1 < PAIRS; k += 5) { /* swapped neighbours */
        int t = order[k];
        order[k] = order[k + 1], order[k + 1] = t;
    }
    for (int k = 60; k < 120; k++) { /* a block listed backwards: a jump at each end */
        int j = 179 - k;
        if (j <= k) break;
        int t = order[k];
        order[k] = order[j], order[j] = t;
    }
    for (int r = 0; r < PAIRS; r++) rank_of[order[r]] = r;
}

/* The tokenizer.json text; EXTRA (may be "") is put before "model". */
static void write_json(Buf *b, int array_merges, const char *extra) {
    buf_puts(b, "{");
    buf_puts(b, extra);
    buf_puts(b, "\"model\": {\"type\": \"BPE\", \"vocab\": {");
    for (int c = 0; c < 26; c++) buf_printf(b, "%s\"%c\": %d", c ? ", " : "", 'a' + c, c);
    for (int k = 0; k < PAIRS; k++) {
        char s[3];
        pair_text(k, s);
        buf_printf(b, ", \"%s\": %d", s, 26 + k);
    }
    buf_puts(b, "}, \"merges\": [");
    for (int r = 0; r < PAIRS; r++) {
        char s[3];
        pair_text(order[r], s);
        if (array_merges)
            buf_printf(b, "%s[\"%c\", \"%c\"]", r ? ", " : "", s[0], s[1]);
        else
            buf_printf(b, "%s\"%c %c\"", r ? ", " : "", s[0], s[1]);
    }
    buf_puts(b, "]}}");
}

static void write_file(const char *text, size_t len, char *path) {
    strcpy(path, "/tmp/coldtok-tokjson-fast-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static Tokenizer *load_text(const char *text, size_t len, Err *err) {
    char path[64];
    write_file(text, len, path);
    Tokenizer *t = tok_load(path, err);
    remove(path);
    return t;
}

static void encodes_to(const Tokenizer *t, const char *text, const int *want, size_t n) {
    IntVec ids = {0};
    Err err;
    if (tok_encode(t, text, strlen(text), 0, &ids, &err)) fail_msg("%s: %s", text, err.msg);
    if (ids.n != n || memcmp(ids.v, want, n * sizeof *want)) {
        fail_msg("\"%s\": %zu ids (first %d), want %zu (first %d)", text, ids.n,
                 ids.n ? ids.v[0] : -1, n, want[0]);
    }
    free(ids.v);
}

/* Every two- and three-letter text over the first letters against the ranks of the list. */
static void check_encodings(const Tokenizer *t) {
    assert_int_equal(tok_vocab_size(t), 26 + PAIRS);
    for (int k = 0; k < PAIRS; k++) {
        char s[3];
        pair_text(k, s);
        const int want[] = {26 + k};
        encodes_to(t, s, want, 1);
    }
    int three = 0;
    for (int x = 0; x < FIRSTS; x++)
        for (int y = 0; y < FIRSTS; y++)
            for (int z = 0; z < 26; z++) {
                const char s[4] = {(char)('a' + x), (char)('a' + y), (char)('a' + z), '\0'};
                const int xy = x * 26 + y, yz = y * 26 + z; /* both are tokens */
                int want[2];
                if (rank_of[xy] <= rank_of[yz]) /* a tie (x = y = z): the leftmost */
                    want[0] = 26 + xy, want[1] = z;
                else
                    want[0] = x, want[1] = 26 + yz;
                encodes_to(t, s, want, 2);
                three++;
            }
    printf("# %d two-letter and %d three-letter texts as the ranks say\n", PAIRS, three);
}

static void merges_out_of_order(void **state) {
    (void)state;
    make_order();
    for (int array_merges = 0; array_merges <= 1; array_merges++) {
        Buf b = {0};
        write_json(&b, array_merges, "");
        Err err;
        Tokenizer *t = load_text(b.data, b.len, &err);
        if (!t) fail_msg("%s", err.msg);
        check_encodings(t);
        tok_free(t);
        buf_free(&b);
    }
}

static void arena_of_many_chunks(void **state) {
    (void)state;
    make_order();
    /* 400k empty lists: ~25 MB of cJSON nodes from 1.2 MB of text, several of the arena's chunks
     * (the first holds about five times the text) */
    Buf extra = {0};
    buf_puts(&extra, "\"coldtok-test\": [");
    for (int k = 0; k < 400000; k++) buf_puts(&extra, k ? ",[]" : "[]");
    buf_puts(&extra, "], ");
    Buf b = {0};
    write_json(&b, 1, extra.data);
    Err err;
    Tokenizer *t = load_text(b.data, b.len, &err);
    if (!t) fail_msg("%s", err.msg);
    check_encodings(t);
    tok_free(t);
    /* cut in the middle of the lists: cJSON fails with its partial tree in the arena, then the
     * whole file goes to jansson, whose message names the place */
    char path[64];
    write_file(b.data, extra.len / 2, path);
    t = tok_load(path, &err);
    assert_null(t);
    printf("# %s\n", err.msg);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "invalid JSON"));
    assert_null(strchr(err.msg, '\n'));
    remove(path);
    buf_free(&extra);
    buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merges_out_of_order),
        cmocka_unit_test(arena_of_many_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
