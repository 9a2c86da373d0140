/* The check that sends a tokenizer.json down cJSON's fast route (tokenizer/tok_json_read.c: the
 * file must be UTF-8 throughout, as jansson requires, since cJSON does not check): every valid
 * and invalid form of a multi-byte character, at every offset within the eight-byte words the
 * check reads, inside a vocabulary key. A valid one must load with the key's bytes intact; an
 * invalid one must be refused with jansson's error, as before the fast route existed. The
 * expectations are UTF-8's rules (RFC 3629), written out by hand, not taken from the code. */
#include <string.h>
#include <unistd.h>

#include "tokenizer/tok_json_check.h"
#include "tokenizer/tokenizer.h"
#include "tests/testutil.h"

static const struct {
    const char *bytes;
    int valid;
} CASES[] = {
    {"\xC2\x80", 1},         {"\xDF\xBF", 1},         {"\xC4\xA0", 1}, /* Ġ */
    {"\xE0\xA0\x80", 1},     {"\xED\x9F\xBF", 1},     {"\xEE\x80\x80", 1},
    {"\xEF\xBF\xBF", 1},     {"\xE2\x96\x81", 1}, /* ▁ */
    {"\xF0\x90\x80\x80", 1}, {"\xF4\x8F\xBF\xBF", 1}, {"\xF3\xBF\xBF\xBF", 1},
    {"\x7F", 1}, /* DEL is not a control byte to JSON */
    {"\xC0\x80", 0},         {"\xC1\xBF", 0}, /* overlong 2-byte */
    {"\xE0\x9F\xBF", 0}, /* overlong 3-byte */
    {"\xED\xA0\x80", 0},     {"\xED\xBF\xBF", 0}, /* surrogates */
    {"\xF0\x8F\xBF\xBF", 0}, /* overlong 4-byte */
    {"\xF4\x90\x80\x80", 0}, {"\xF5\x80\x80\x80", 0}, {"\xFF", 0}, /* past U+10FFFF */
    {"\x80", 0},             {"\xBF\xBF", 0}, /* lone continuations */
    {"\xC4", 0},             {"\xE2\x96", 0},         {"\xF0\x90\x80", 0}, /* cut short */
    {"\xC4\x41", 0},         {"\xE2\x41\x81", 0},     {"\xF0\x90\x41\x80", 0},
    {"\x01", 0},             {"\x1F", 0}, /* control bytes */
};

/* The check's rules written out independently: utf8_valid_prefix (common/util.c), a byte-by-byte
 * control check, memmem for the escape. */
static int reference(const char *s, size_t len) {
    if (utf8_valid_prefix(s, len) != len || memmem(s, len, "\\u0000", 6)) return 0;
    for (size_t i = 0; i < len; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return 0;
    }
    return 1;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_random(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

/* Random texts, mostly valid (ASCII runs, the CASES' characters, whitespace), some with one byte
 * changed, of every length up to 300 (so every place of a character against the vectorized
 * checks' 32- and 64-byte blocks and the cut at the end): the vectorized checks (AVX2 and
 * AVX-512, each where the CPU has it), the portable one and the reference agree on each. */
static void random_texts(void **state) {
    (void)state;
    char buf[400];
    int passed = 0, failed = 0;
    for (int round = 0; round < 60000; round++) {
        const size_t target = next_random() % 300;
        size_t len = 0;
        while (len < target) {
            const uint32_t r = next_random() % 1000;
            const char *piece = r < 450 ? "abc def" : r < 550 ? "\n\t\r" : r < 553 ? "\\u0000" : NULL;
            if (!piece) { /* a character of the cases, valid or not (mostly valid) */
                size_t c = next_random() % (sizeof CASES / sizeof CASES[0]);
                if (!CASES[c].valid && next_random() % 64) c = 2;
                piece = CASES[c].bytes;
            }
            const size_t n = strlen(piece);
            if (len + n > sizeof buf) break;
            memcpy(buf + len, piece, n);
            len += n;
        }
        if (len && next_random() % 3 == 0) buf[next_random() % len] = (char)next_random();
        const int want = reference(buf, len);
        if (tokjson_cjson_safe(buf, len) != want || tokjson_cjson_safe_portable(buf, len) != want)
            fail_msg("round %d (%zu bytes): the checks disagree with the reference (%d)", round, len, want);
        for (int isa = 1; isa <= 2; isa++) /* AVX2 and AVX-512 on a CPU with both */
            if (tokjson_cjson_safe_isa(buf, len, isa) != want)
                fail_msg("round %d (%zu bytes): the check up to ISA level %d says %d, the reference %d",
                         round, len, isa, !want, want);
        want ? passed++ : failed++;
    }
    printf("# 60000 texts: %d pass, %d fail, all the checks agree\n", passed, failed);
    assert_true(passed > 10000 && failed > 10000);
}

/* A tokenizer.json whose vocabulary has one key: PAD ASCII letters, BYTES, then "z". */
static void write_case(const char *path, const char *bytes, int pad) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"%.*s%sz\": 0, \"q\": 1}, \"merges\": []}}",
            pad, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ", bytes);
    assert_int_equal(fclose(f), 0);
}

static void utf8_check(void **state) {
    (void)state;
    char path[] = "/tmp/coldtok-tokjson-load-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    int checked = 0;
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++)
        for (int pad = 0; pad <= 40; pad++) {
            write_case(path, CASES[c].bytes, pad);
            Err err;
            Tokenizer *t = tok_load(path, &err);
            if (CASES[c].valid) {
                if (!t) fail_msg("case %zu pad %d: %s", c, pad, err.msg);
                char want[64];
                snprintf(want, sizeof want, "%.*s%sz", pad, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
                         CASES[c].bytes);
                size_t len;
                const char *p = tok_piece(t, 0, &len);
                assert_int_equal(len, strlen(want));
                assert_memory_equal(p, want, len);
                tok_free(t);
            } else {
                if (t) fail_msg("case %zu pad %d: loaded, but the file is not valid JSON", c, pad);
                if (!strstr(err.msg, "invalid JSON")) fail_msg("case %zu: %s", c, err.msg);
            }
            checked++;
        }
    remove(path);
    printf("# %d keys checked\n", checked);
}

/* ---- the bytes of byte-level tokens (tok_finish decodes every token at load) ---- */

/* GPT-2's bytes_to_unicode, written out: printable bytes stand for themselves, the others in
 * order for U+0100 onward. */
static int gpt2_byte_of(uint32_t cp) {
    uint32_t next = 256;
    for (int b = 0; b < 256; b++) {
        const int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        const uint32_t c = printable ? (uint32_t)b : next++;
        if (c == cp) return b;
    }
    return -1;
}

/* The token's bytes as the ByteLevel decoder defines them: each character's byte, or the text
 * unchanged when some character stands for no byte. */
static size_t reference_bytes(const char *s, size_t n, char *out) {
    size_t i = 0, k = 0;
    while (i < n) {
        uint32_t cp;
        const int m = utf8_decode((const uint8_t *)s + i, n - i, &cp);
        const int b = m ? gpt2_byte_of(cp) : -1;
        if (b < 0) {
            memcpy(out, s, n);
            return n;
        }
        out[k++] = (char)b;
        i += (size_t)m;
    }
    return k;
}

static void byte_level_bytes(void **state) {
    (void)state;
    /* keys: every character from U+0021 to U+07FF and a few longer ones, alone and between
     * "\xC4\xA0" (the space byte) and "a" */
    Buf keys = {0};
    uint32_t extra[] = {0x800, 0x2581, 0xFFFD, 0x1F600};
    int n = 0;
    char path[] = "/tmp/coldtok-tokjson-bytes-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    fputs("{\"model\": {\"type\": \"BPE\", \"merges\": [], \"vocab\": {", f);
    for (uint32_t cp = 0x21; cp <= 0x7FF + 4; cp++) {
        const uint32_t c = cp <= 0x7FF ? cp : extra[cp - 0x800];
        char u[8];
        const int len = utf8_encode(c, u);
        for (int form = 0; form < 2; form++) {
            buf_clear(&keys);
            if (form) buf_puts(&keys, "\xC4\xA0");
            if (c == '"' || c == '\\') buf_putc(&keys, '\\');
            buf_append(&keys, u, (size_t)len);
            if (form) buf_putc(&keys, 'a');
            fprintf(f, "%s\"%s\": %d", n ? ", " : "", keys.data, n);
            n++;
        }
    }
    fputs("}}, \"decoder\": {\"type\": \"ByteLevel\"}}", f);
    assert_int_equal(fclose(f), 0);
    buf_free(&keys);
    Err err;
    Tokenizer *t = tok_load(path, &err);
    remove(path);
    if (!t) fail_msg("%s", err.msg);
    for (int id = 0; id < n; id++) {
        size_t plen, blen;
        const char *piece = tok_piece(t, id, &plen), *bytes = tok_bytes(t, id, &blen);
        char want[64];
        const size_t wlen = reference_bytes(piece, plen, want);
        if (wlen != blen || memcmp(want, bytes, blen)) fail_msg("id %d: bytes differ from the reference", id);
    }
    printf("# %d byte-level tokens: bytes as GPT-2's table says\n", n);
    tok_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_check),
        cmocka_unit_test(random_texts),
        cmocka_unit_test(byte_level_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
