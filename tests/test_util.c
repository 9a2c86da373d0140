/* Tests of common/util: UTF-8 against hand-encoded code points, buffers, file mapping errors. */
#include <string.h>

#include "tests/testutil.h"

static void utf8_roundtrip_and_rejects(void **state) {
    (void)state;
    uint32_t cp;
    /* "é" U+00E9 = C3 A9, "€" U+20AC = E2 82 AC, "🦙" U+1F999 = F0 9F A6 99 */
    assert_int_equal(utf8_decode((const uint8_t *)"\xC3\xA9", 2, &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(utf8_decode((const uint8_t *)"\xE2\x82\xAC", 3, &cp), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(utf8_decode((const uint8_t *)"\xF0\x9F\xA6\x99", 4, &cp), 4);
    assert_int_equal(cp, 0x1F999);
    char out[4];
    assert_int_equal(utf8_encode(0x1F999, out), 4);
    assert_memory_equal(out, "\xF0\x9F\xA6\x99", 4);
    /* overlong "/" (C0 AF), a lone surrogate (ED A0 80), a truncated sequence, a stray continuation */
    assert_int_equal(utf8_decode((const uint8_t *)"\xC0\xAF", 2, &cp), 0);
    assert_int_equal(utf8_decode((const uint8_t *)"\xED\xA0\x80", 3, &cp), 0);
    assert_int_equal(utf8_decode((const uint8_t *)"\xE2\x82", 2, &cp), 0);
    assert_int_equal(utf8_decode((const uint8_t *)"\x80", 1, &cp), 0);
    assert_int_equal(utf8_valid_prefix("ab\xC3\xA9\xFF", 5), 4);
}

static void buffers_grow_and_terminate(void **state) {
    (void)state;
    Buf b = {0};
    for (int i = 0; i < 1000; i++) buf_printf(&b, "%d,", i);
    assert_int_equal(b.len, strlen(b.data));
    assert_true(!strncmp(b.data, "0,1,2,", 6));
    buf_append(&b, "\0x", 2); /* embedded NUL is kept and counted */
    assert_int_equal(b.data[b.len - 2], '\0');
    buf_free(&b);
    IntVec v = {0};
    for (int i = 0; i < 100; i++) intvec_push(&v, i * i);
    assert_int_equal(v.n, 100);
    assert_int_equal(v.v[99], 9801);
    intvec_free(&v);
}

static void missing_file_is_one_clear_error(void **state) {
    (void)state;
    Err err;
    MappedFile mf;
    assert_int_equal(map_file(&mf, "/nonexistent/x.gguf", &err), -1);
    assert_string_equal(err.msg, "/nonexistent/x.gguf: No such file or directory");
    assert_int_equal(map_file(&mf, "/tmp", &err), -1);
    assert_string_equal(err.msg, "/tmp: not a regular file");
}

/* Found by fuzz_safetensors: jansson quotes the bad input, line breaks included. */
static void error_messages_stay_one_line(void **state) {
    (void)state;
    Err err;
    assert_int_equal(err_set(&err, "%s: invalid escape near '%s'", "x.json", "\"a\\\n\r\t\001" "b"), -1);
    assert_string_equal(err.msg, "x.json: invalid escape near '\"a\\    b'");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_messages_stay_one_line),
        cmocka_unit_test(utf8_roundtrip_and_rejects),
        cmocka_unit_test(buffers_grow_and_terminate),
        cmocka_unit_test(missing_file_is_one_clear_error),
    };
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
