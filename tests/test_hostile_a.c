/* Tests of the hostile-input guards of issue 17 (part A) at the library level, where ASan sees
 * them: first_nonfinite against hand-placed NaN/Inf (in the AVX2 body and in the tail),
 * gguf_get_int_range on a GGUF written here with each integer type, open_regular on a FIFO and a
 * folder (refused at once, no blocking), and the replace-on-success outputs: a failed write leaves
 * the old file and no temporary, a success replaces it whole, another run's temporaries are never
 * touched. tests/cli_hostile_a.sh checks the same end to end on full-size files. */
#include <dirent.h>
#include <float.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/gguf_write.h"
#include "model/finite.h"
#include "tests/testutil.h"

static void nonfinite_found_where_placed(void **state) {
    (void)state;
    enum { N = 203 }; /* 25 AVX2 blocks and a tail of 3 */
    float x[N];
    for (int i = 0; i < N; i++) x[i] = (float)(i - 100) * 1e36f; /* large, finite */
    x[7] = FLT_MAX, x[8] = -FLT_MAX;
    assert_int_equal(first_nonfinite(x, N), N);
    assert_int_equal(first_nonfinite(x, 0), 0);
    const int at[] = {0, 7, 8, 120, 199, 200, 202};
    const float bad[] = {NAN, INFINITY, -INFINITY, -NAN};
    for (size_t a = 0; a < sizeof at / sizeof *at; a++)
        for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
            float keep = x[at[a]];
            x[at[a]] = bad[b];
            assert_int_equal(first_nonfinite(x, N), at[a]);
            x[N - 1] = NAN; /* a later one does not hide the first */
            assert_int_equal(first_nonfinite(x, N), at[a]);
            x[N - 1] = (float)(N - 1 - 100) * 1e36f;
            x[at[a]] = keep;
        }
}

static char *write_int_keys(void) {
    char *path = xstrdup("/tmp/coldtok-hostile-a-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    GgufWriter *w = gw_new();
    uint64_t u64 = 4294967298ull, u64max = UINT64_MAX;
    int32_t neg = -5;
    int64_t i64 = (int64_t)1 << 40;
    uint16_t u16 = 60000;
    gw_kv_raw(w, "k.u64", GGUF_UINT64, &u64, 8);
    gw_kv_raw(w, "k.u64max", GGUF_UINT64, &u64max, 8);
    gw_kv_raw(w, "k.i32", GGUF_INT32, &neg, 4);
    gw_kv_raw(w, "k.i64", GGUF_INT64, &i64, 8);
    gw_kv_raw(w, "k.u16", GGUF_UINT16, &u16, 2);
    gw_kv_u32(w, "k.u32", 7);
    gw_kv_str(w, "k.str", "12");
    gw_kv_f32(w, "k.f32", 3.0f);
    Err err;
    if (gw_begin(w, path, &err) || gw_end(w, &err)) fail_msg("%s", err.msg);
    gw_free(w);
    return path;
}

static void int_keys_fit_or_are_refused_with_their_value(void **state) {
    (void)state;
    char *path = write_int_keys();
    Err err = {{0}};
    Gguf *g = gguf_open(path, &err);
    if (!g) fail_msg("%s", err.msg);
    int64_t v = -1;
    assert_int_equal(gguf_get_int_range(g, "k.u32", 0, 2147483647, &v, &err), 1);
    assert_int_equal(v, 7);
    assert_int_equal(gguf_get_int_range(g, "k.u16", 0, 65535, &v, &err), 1);
    assert_int_equal(v, 60000);
    assert_int_equal(gguf_get_int_range(g, "k.absent", 0, 10, &v, &err), 0);
    assert_int_equal(v, 60000); /* untouched */
    struct { const char *key, *want; } bad[] = {
        {"k.u64", "k.u64 = 4294967298 is out of range [0, 2147483647]"},
        {"k.u64max", "k.u64max = 18446744073709551615 is out of range [0, 2147483647]"},
        {"k.i32", "k.i32 = -5 is out of range [0, 2147483647]"},
        {"k.i64", "k.i64 = 1099511627776 is out of range [0, 2147483647]"},
        {"k.str", "k.str has type string, not an integer"},
        {"k.f32", "k.f32 has type f32, not an integer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err.msg[0] = '\0';
        assert_int_equal(gguf_get_int_range(g, bad[i].key, 0, 2147483647, &v, &err), -1);
        if (!strstr(err.msg, bad[i].want) || strncmp(err.msg, path, strlen(path)) != 0)
            fail_msg("%s: got '%s'", bad[i].key, err.msg);
    }
    assert_int_equal(v, 60000);
    gguf_close(g);
    unlink(path);
    free(path);
}

static void fifos_and_folders_are_refused_without_blocking(void **state) {
    (void)state;
    char dir[] = "/tmp/coldtok-hostile-a-dir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fifo[sizeof dir + 8];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    Err err = {{0}};
    assert_int_equal(open_regular(fifo, &err), -1); /* would block forever without O_NONBLOCK */
    assert_non_null(strstr(err.msg, "fifo: a FIFO, not a regular file"));
    assert_null(read_file(fifo, NULL, &err));
    assert_non_null(strstr(err.msg, "a FIFO"));
    MappedFile mf;
    assert_int_equal(map_file(&mf, fifo, &err), -1);
    assert_int_equal(check_input_path(fifo, &err), -1);
    assert_non_null(strstr(err.msg, "a FIFO, not a regular file or a folder"));
    assert_int_equal(check_input_path(dir, &err), 0);
    assert_null(read_file(dir, NULL, &err)); /* was "read error" */
    assert_non_null(strstr(err.msg, ": not a regular file"));
    assert_int_equal(check_input_path("/nonexistent/x", &err), -1);
    assert_non_null(strstr(err.msg, "no such file or folder"));
    unlink(fifo);
    rmdir(dir);
}

/* Files in DIR whose name starts with PREFIX. */
static int count_prefixed(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += !strncmp(e->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

static void outputs_are_replaced_whole_or_not_at_all(void **state) {
    (void)state;
    char dir[] = "/tmp/coldtok-hostile-a-out-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[sizeof dir + 16], other[sizeof dir + 32];
    snprintf(path, sizeof path, "%s/out.csv", dir);
    snprintf(other, sizeof other, "%s/out.csv.tmp", dir); /* another run's (the old fixed name) */
    Err err = {{0}};
    assert_int_equal(write_file_atomic(other, "theirs", 6, &err), 0);
    assert_int_equal(write_file_atomic(path, "old", 3, &err), 0);
    OutFile o;
    assert_int_equal(out_open(&o, path, &err), 0);
    fputs("half of a new", o.f);
    assert_int_equal(out_close(&o, 0, NULL), -1); /* a failed run */
    size_t len;
    char *s = read_file(path, &len, &err);
    assert_string_equal(s, "old");
    free(s);
    assert_int_equal(count_prefixed(dir, "out.csv.tmp"), 1); /* only the other run's */
    assert_int_equal(out_open(&o, path, &err), 0);
    OutFile o2; /* a concurrent writer of the same target: its own temporary */
    assert_int_equal(out_open(&o2, path, &err), 0);
    assert_string_not_equal(o.tmp, o2.tmp);
    fputs("new", o.f);
    fputs("newer", o2.f);
    assert_int_equal(out_close(&o, 1, &err), 0);
    assert_int_equal(out_close(&o2, 1, &err), 0);
    s = read_file(path, &len, &err);
    assert_string_equal(s, "newer"); /* the last to finish, whole */
    free(s);
    s = read_file(other, &len, &err);
    assert_string_equal(s, "theirs");
    free(s);
    assert_int_equal(count_prefixed(dir, "out.csv.tmp"), 1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(st.st_mode & 0777, 0666 & ~mask); /* not mkstemp's 0600 */
    unlink(path);
    unlink(other);
    assert_int_equal(write_file_atomic("/nonexistent-dir/x.csv", "x", 1, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/x.csv: cannot create a temporary file"));
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nonfinite_found_where_placed),
        cmocka_unit_test(int_keys_fit_or_are_refused_with_their_value),
        cmocka_unit_test(fifos_and_folders_are_refused_without_blocking),
        cmocka_unit_test(outputs_are_replaced_whole_or_not_at_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
