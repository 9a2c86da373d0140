/* Tests of common/hash_cache: a settled file is hashed once and then served from the saved cache
 * file; a file written just now is hashed but never stored; damaged cache files (garbage, a cut
 * last line, bad fields, NUL bytes, huge numbers, a forged entry for another inode) cost a rehash,
 * never a crash or a wrong digest; errors name the file. Digests are checked against
 * sha256_buffer of the file's bytes. Run from the source tree (data/control/english.tsv is a
 * file whose times are long settled). */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash_cache.h"
#include "tests/testutil.h"

#define SETTLED "data/control/english.tsv"

/* The digest of the file's bytes, the reference. */
static void digest_of(const char *path, char hex[SHA256_HEX_LEN]) {
    size_t len;
    Err err;
    char *text = read_file(path, &len, &err);
    assert_non_null(text);
    assert_int_equal(sha256_buffer(text, len, hex, &err), 0);
    free(text);
}

static void write_text(const char *path, const char *text, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Looks SETTLED up through a cache opened from CACHE; returns how many files it had to read. */
static unsigned long lookup(const char *cache, const char *want) {
    HashCache *c = hash_cache_open(cache);
    char hex[SHA256_HEX_LEN];
    uint64_t size = 0;
    Err err;
    assert_int_equal(hash_cache_file(c, SETTLED, hex, &size, &err), 0);
    assert_string_equal(hex, want);
    struct stat st;
    assert_int_equal(stat(SETTLED, &st), 0);
    assert_int_equal(size, (uint64_t)st.st_size);
    assert_int_equal(hash_cache_save(c, &err), 0);
    unsigned long n = hash_cache_hashed(c);
    hash_cache_free(c);
    return n;
}

static void settled_file_is_read_once(void **state) {
    (void)state;
    char dir[] = "/tmp/coldtok-hcache-XXXXXX", cache[64], want[SHA256_HEX_LEN];
    assert_non_null(mkdtemp(dir));
    snprintf(cache, sizeof cache, "%s/c", dir);
    digest_of(SETTLED, want);
    assert_int_equal(lookup(cache, want), 1);  /* no cache file yet: read */
    assert_int_equal(lookup(cache, want), 0);  /* the saved entry */
    assert_int_equal(lookup(cache, want), 0);
    /* the same file twice in one cache: one read */
    HashCache *c = hash_cache_open("/nonexistent/dir/c");
    char hex[SHA256_HEX_LEN];
    Err err;
    assert_int_equal(hash_cache_file(c, SETTLED, hex, NULL, &err), 0);
    assert_int_equal(hash_cache_file(c, SETTLED, hex, NULL, &err), 0);
    assert_int_equal(hash_cache_hashed(c), 1);
    assert_int_equal(hash_cache_save(c, &err), -1); /* the folder does not exist: one error line */
    assert_non_null(strstr(err.msg, "/nonexistent/dir/c"));
    hash_cache_free(c);
    unlink(cache);
    rmdir(dir);
}

static void fresh_file_is_not_stored(void **state) {
    (void)state;
    char dir[] = "/tmp/coldtok-hcache-XXXXXX", cache[64], file[64], want[SHA256_HEX_LEN], hex[SHA256_HEX_LEN];
    assert_non_null(mkdtemp(dir));
    snprintf(cache, sizeof cache, "%s/c", dir);
    snprintf(file, sizeof file, "%s/f", dir);
    write_text(file, "just written\n", 13);
    digest_of(file, want);
    Err err;
    for (int run = 0; run < 2; run++) {
        HashCache *c = hash_cache_open(cache);
        assert_int_equal(hash_cache_file(c, file, hex, NULL, &err), 0);
        assert_string_equal(hex, want);
        assert_int_equal(hash_cache_hashed(c), 1);
        assert_int_equal(hash_cache_save(c, &err), 0);
        hash_cache_free(c);
        assert_false(is_file(cache)); /* nothing to store: no file written */
    }
    /* no cache at all: plain hashing */
    assert_int_equal(hash_cache_file(NULL, file, hex, NULL, &err), 0);
    assert_string_equal(hex, want);
    assert_int_equal(hash_cache_file(NULL, "/nonexistent/model.gguf", hex, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/model.gguf"));
    unlink(file);
    rmdir(dir);
}

static void damaged_cache_files_cost_a_rehash(void **state) {
    (void)state;
    char dir[] = "/tmp/coldtok-hcache-XXXXXX", cache[64], want[SHA256_HEX_LEN], line[8192];
    assert_non_null(mkdtemp(dir));
    snprintf(cache, sizeof cache, "%s/c", dir);
    digest_of(SETTLED, want);
    char *real = realpath(SETTLED, NULL);
    struct stat st;
    assert_int_equal(stat(SETTLED, &st), 0);
    const char *zeros = "0000000000000000000000000000000000000000000000000000000000000000";
    long long mt = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    long long ct = (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *bad[] = {
        "",                                         /* empty */
        "garbage\n\x01\x02\xff",                    /* no header */
        "coldtok-sha256-cache 2\n",                 /* another version */
        "coldtok-sha256-cache 1",                   /* header cut short */
        "coldtok-sha256-cache 1\n\n\t\t\t\t\t\t\n", /* empty fields */
        big,
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_text(cache, bad[i], strlen(bad[i]));
        assert_int_equal(lookup(cache, want), 1);
        unlink(cache);
    }
    /* entries that must not be trusted: wrong inode, wrong size, wrong times, bad numbers, a
     * relative path, a cut last line, a NUL inside */
    struct {
        long long size, mtime, ctime;
        unsigned long long dev, ino;
        const char *path, *tail;
    } cases[] = {
        {(long long)st.st_size, mt, ct, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino + 1, real, "\n"},
        {(long long)st.st_size + 1, mt, ct, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, real, "\n"},
        {(long long)st.st_size, mt + 1, ct, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, real, "\n"},
        {(long long)st.st_size, mt, ct - 1, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, real, "\n"},
        {(long long)st.st_size, mt, ct, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, SETTLED, "\n"},
        {(long long)st.st_size, mt, ct, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, real, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int n = snprintf(line, sizeof line, "coldtok-sha256-cache 1\n%s\t%lld\t%lld\t%lld\t%llu\t%llu\t%s%s", zeros,
                         cases[i].size, cases[i].mtime, cases[i].ctime, cases[i].dev, cases[i].ino, cases[i].path,
                         cases[i].tail);
        write_text(cache, line, (size_t)n);
        assert_int_equal(lookup(cache, want), 1); /* read, and the right digest, not the zeros */
        unlink(cache);
    }
    /* a matching entry is used as it is (what makes the cache a cache) */
    int n = snprintf(line, sizeof line, "coldtok-sha256-cache 1\n%s\t%lld\t%lld\t%lld\t%llu\t%llu\t%s\n", want,
                     (long long)st.st_size, mt, ct, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, real);
    write_text(cache, line, (size_t)n);
    assert_int_equal(lookup(cache, want), 0);
    /* bad numbers and a NUL byte in an otherwise matching line */
    const char *mangled[] = {"12x", "-", "99999999999999999999999999"};
    for (size_t i = 0; i < sizeof mangled / sizeof *mangled; i++) {
        n = snprintf(line, sizeof line, "coldtok-sha256-cache 1\n%s\t%s\t%lld\t%lld\t%llu\t%llu\t%s\n", zeros, mangled[i], mt,
                     ct, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, real);
        write_text(cache, line, (size_t)n);
        assert_int_equal(lookup(cache, want), 1);
    }
    n = snprintf(line, sizeof line, "coldtok-sha256-cache 1\n%s\t%lld\t%lld\t%lld\t%llu\t%llu\t%s\n", zeros,
                 (long long)st.st_size, mt, ct, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, real);
    line[30] = '\0'; /* inside the digest */
    write_text(cache, line, (size_t)n);
    assert_int_equal(lookup(cache, want), 1);
    unlink(cache);
    free(real);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(settled_file_is_read_once),
        cmocka_unit_test(fresh_file_is_not_stored),
        cmocka_unit_test(damaged_cache_files_cost_a_rehash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
