/* Tests of common/sha256: FIPS 180-2's published vectors (the empty string, "abc", the 448-bit
 * two-block message) and a file larger than the read chunk compared with coreutils' sha256sum. */
#include <unistd.h>

#include "common/sha256.h"
#include "tests/testutil.h"

static void known_vectors(void **state) {
    (void)state;
    char hex[SHA256_HEX_LEN];
    Err err = {{0}};
    assert_int_equal(sha256_buffer("", 0, hex, &err), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(sha256_buffer(NULL, 0, hex, &err), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(sha256_buffer("abc", 3, hex, &err), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal(sha256_buffer(two, strlen(two), hex, &err), 0);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* A 20 MB + 3 byte file (several 8 MiB chunks and a ragged tail) against sha256sum's digest. */
static void file_matches_sha256sum(void **state) {
    (void)state;
    char path[] = "/tmp/coldtok-sha256-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = 20u * 1000 * 1000 + 3;
    unsigned char *data = xmalloc(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        data[i] = (unsigned char)(x >> 24);
    }
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);

    char hex[SHA256_HEX_LEN], bufhex[SHA256_HEX_LEN], cmd[256], want[SHA256_HEX_LEN] = {0};
    uint64_t size = 0;
    Err err = {{0}};
    assert_int_equal(sha256_file(path, hex, &size, &err), 0);
    assert_int_equal(size, n);
    assert_int_equal(sha256_buffer(data, n, bufhex, &err), 0);
    assert_string_equal(hex, bufhex);
    snprintf(cmd, sizeof cmd, "sha256sum %s", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%64s", want), 1);
    pclose(p);
    assert_string_equal(hex, want);
    unlink(path);
    free(data);
}

static void missing_file_is_one_error(void **state) {
    (void)state;
    char hex[SHA256_HEX_LEN];
    Err err = {{0}};
    assert_int_equal(sha256_file("/nonexistent/model.gguf", hex, NULL, &err), -1);
    assert_string_equal(err.msg, "/nonexistent/model.gguf: No such file or directory");
    assert_int_equal(sha256_file("/tmp", hex, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "/tmp: Is a directory"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_vectors),
        cmocka_unit_test(file_matches_sha256sum),
        cmocka_unit_test(missing_file_is_one_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
