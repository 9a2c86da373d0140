/* tok_json_check: see tok_json_check.h. */
#include "tokenizer/tok_json_check.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* The length of the UTF-8 character at s (lead byte >= 0x80) when it is whole and valid before
 * end, else 0: utf8_decode's rules (no overlong form, no surrogate, nothing past U+10FFFF) as
 * the byte ranges of each lead byte, inline. */
static inline size_t utf8_char_len(const unsigned char *s, const unsigned char *end) {
    const unsigned c = s[0];
    unsigned lo = 0x80, hi = 0xBF; /* the range of the second byte */
    size_t n;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if ((size_t)(end - s) < n || s[1] < lo || s[1] > hi) return 0;
    for (size_t k = 2; k < n; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    return n;
}

/* UTF-8 and control bytes of [s, end): eight bytes at a time up to the first byte that is not
 * printable ASCII, which is then checked on its own. */
static int plain_portable(const unsigned char *s, const unsigned char *end) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (s < end) {
        if (end - s >= 8) {
            uint64_t w;
            memcpy(&w, s, 8);
            /* the high bit of each byte >= 0x80 or < 0x20; exact up to the first such byte
             * (a borrow only disturbs the bytes after it) */
            const uint64_t odd = (w | ((w - 0x20 * ones) & ~w)) & highs;
            if (!odd) {
                s += 8;
                continue;
            }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            s += (size_t)__builtin_ctzll(odd) / 8;
#endif
        }
        const unsigned c = *s;
        if (c >= 0x80) { /* a multi-byte character must be whole and valid */
            const size_t n = utf8_char_len(s, end);
            if (!n) return 0;
            s += n;
            continue;
        }
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') return 0;
        s++;
    }
    return 1;
}

/* No "\u0000" escape (a backslash before "\\u0000" is not told apart: such a file takes the slow
 * route, which reads it right). */
static int no_nul_escape(const char *text, size_t len) {
    const char *p = text, *end = text + len;
    while ((p = memchr(p, '\\', (size_t)(end - p)))) {
        if (end - p >= 6 && !memcmp(p, "\\u0000", 6)) return 0;
        p++;
    }
    return 1;
}

#if defined(__x86_64__)
/* UTF-8 checked 32 bytes at a time by the lookup method of Keiser and Lemire ("Validating UTF-8
 * in less than one instruction per byte", 2021): three table lookups classify each pair of
 * adjacent bytes by the error it would be (a bit per kind), and a byte that must continue a
 * 3- or 4-byte character is checked against the two and three bytes before it. Control bytes
 * by comparison. Returns how many bytes were checked (a multiple of 32, backed up to the lead
 * byte of a character the last block cut), or (size_t)-1 on a bad byte. */
enum {
    TOO_SHORT = 1 << 0,  /* a lead byte followed by a lead byte or ASCII */
    TOO_LONG = 1 << 1,   /* ASCII followed by a continuation */
    OVERLONG_3 = 1 << 2, /* E0 80..9F */
    TOO_LARGE = 1 << 3,  /* F4 90..BF, F5.. */
    SURROGATE = 1 << 4,  /* ED A0..BF */
    OVERLONG_2 = 1 << 5, /* C0, C1 */
    TOO_LARGE_1000 = 1 << 6, /* F5..FF 80..8F */
    OVERLONG_4 = 1 << 6, /* F0 80..8F */
    TWO_CONTS = 1 << 7,  /* two continuations: right only in a 3- or 4-byte character */
    CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS,
};

/* a 16-entry table in both 128-bit lanes (_mm256_shuffle_epi8 looks up within each lane) */
#define C(x) ((char)(x))
#define LANES(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p)                                      \
    _mm256_setr_epi8(C(a), C(b), C(c), C(d), C(e), C(f), C(g), C(h), C(i), C(j), C(k), C(l), C(m), \
                     C(n), C(o), C(p), C(a), C(b), C(c), C(d), C(e), C(f), C(g), C(h), C(i), C(j), \
                     C(k), C(l), C(m), C(n), C(o), C(p))

__attribute__((target("avx2"))) static size_t plain_avx2(const unsigned char *s, size_t len) {
    const __m256i byte1_high = LANES(
        TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, /* 0_ */
        TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,                                     /* 10 */
        TOO_SHORT | OVERLONG_2, TOO_SHORT,                                              /* 110 */
        TOO_SHORT | OVERLONG_3 | SURROGATE,                                             /* 1110 */
        TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);                           /* 1111 */
    const __m256i byte1_low = LANES(
        CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
        CARRY | TOO_LARGE, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000);
    const __m256i byte2_high = LANES(
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4, /* 1000 */
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,                  /* 1001 */
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,                   /* 101_ */
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT); /* 11__ */
    const __m256i nibble = _mm256_set1_epi8(0x0F), high = _mm256_set1_epi8((char)0x80);
    const __m256i ctl_max = _mm256_set1_epi8(0x1F), tab = _mm256_set1_epi8('\t'),
                  lf = _mm256_set1_epi8('\n'), cr = _mm256_set1_epi8('\r');
    const __m256i third = _mm256_set1_epi8(0xE0 - 0x80), fourth = _mm256_set1_epi8(0xF0 - 0x80);
    __m256i prev = _mm256_setzero_si256(), error = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        const __m256i in = _mm256_loadu_si256((const __m256i *)(s + i));
        /* the input shifted by 1, 2, 3 bytes, the previous block's last bytes coming in */
        const __m256i carried = _mm256_permute2x128_si256(prev, in, 0x21);
        const __m256i prev1 = _mm256_alignr_epi8(in, carried, 15);
        const __m256i prev2 = _mm256_alignr_epi8(in, carried, 14);
        const __m256i prev3 = _mm256_alignr_epi8(in, carried, 13);
        const __m256i special = _mm256_and_si256(
            _mm256_and_si256(
                _mm256_shuffle_epi8(byte1_high, _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nibble)),
                _mm256_shuffle_epi8(byte1_low, _mm256_and_si256(prev1, nibble))),
            _mm256_shuffle_epi8(byte2_high, _mm256_and_si256(_mm256_srli_epi16(in, 4), nibble)));
        const __m256i must23 = _mm256_and_si256(
            _mm256_or_si256(_mm256_subs_epu8(prev2, third), _mm256_subs_epu8(prev3, fourth)), high);
        error = _mm256_or_si256(error, _mm256_xor_si256(must23, special));
        /* control bytes: <= 0x1F and none of the three whitespace ones */
        const __m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(in, ctl_max), in);
        const __m256i ws = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(in, tab), _mm256_cmpeq_epi8(in, lf)),
                                           _mm256_cmpeq_epi8(in, cr));
        error = _mm256_or_si256(error, _mm256_andnot_si256(ws, ctl));
        prev = in;
        if (((i >> 5) & 63) == 63 && !_mm256_testz_si256(error, error)) return (size_t)-1;
    }
    if (!_mm256_testz_si256(error, error)) return (size_t)-1;
    /* a character the last block cut (a lead byte among its last three) is checked again whole */
    for (size_t k = 1; k <= 3 && k <= i; k++)
        if (s[i - k] >= 0xC0) return i - k;
    return i;
}

/* plain_avx2 over 64 bytes at a time (AVX-512BW; the same tables in all four 128-bit lanes), the
 * control bytes as a mask: on this EPYC (Zen 4) the check of an 11 MB file takes ~3.5 ms instead
 * of ~6. */
#define LANES4(...) _mm512_broadcast_i32x4(_mm_setr_epi8(__VA_ARGS__))
__attribute__((target("avx512f,avx512bw"))) static size_t plain_avx512(const unsigned char *s,
                                                                       size_t len) {
    const __m512i byte1_high = LANES4(
        C(TOO_LONG), C(TOO_LONG), C(TOO_LONG), C(TOO_LONG), C(TOO_LONG), C(TOO_LONG), C(TOO_LONG),
        C(TOO_LONG), C(TWO_CONTS), C(TWO_CONTS), C(TWO_CONTS), C(TWO_CONTS),
        C(TOO_SHORT | OVERLONG_2), C(TOO_SHORT), C(TOO_SHORT | OVERLONG_3 | SURROGATE),
        C(TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4));
    const __m512i byte1_low = LANES4(
        C(CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4), C(CARRY | OVERLONG_2), C(CARRY), C(CARRY),
        C(CARRY | TOO_LARGE), C(CARRY | TOO_LARGE | TOO_LARGE_1000),
        C(CARRY | TOO_LARGE | TOO_LARGE_1000), C(CARRY | TOO_LARGE | TOO_LARGE_1000),
        C(CARRY | TOO_LARGE | TOO_LARGE_1000), C(CARRY | TOO_LARGE | TOO_LARGE_1000),
        C(CARRY | TOO_LARGE | TOO_LARGE_1000), C(CARRY | TOO_LARGE | TOO_LARGE_1000),
        C(CARRY | TOO_LARGE | TOO_LARGE_1000), C(CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE),
        C(CARRY | TOO_LARGE | TOO_LARGE_1000), C(CARRY | TOO_LARGE | TOO_LARGE_1000));
    const __m512i byte2_high = LANES4(
        C(TOO_SHORT), C(TOO_SHORT), C(TOO_SHORT), C(TOO_SHORT), C(TOO_SHORT), C(TOO_SHORT),
        C(TOO_SHORT), C(TOO_SHORT),
        C(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4),
        C(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE),
        C(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE),
        C(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE), C(TOO_SHORT), C(TOO_SHORT),
        C(TOO_SHORT), C(TOO_SHORT));
    const __m512i nibble = _mm512_set1_epi8(0x0F), high = _mm512_set1_epi8((char)0x80);
    const __m512i ctl_end = _mm512_set1_epi8(0x20), tab = _mm512_set1_epi8('\t'),
                  lf = _mm512_set1_epi8('\n'), cr = _mm512_set1_epi8('\r');
    const __m512i third = _mm512_set1_epi8(0xE0 - 0x80), fourth = _mm512_set1_epi8(0xF0 - 0x80);
    __m512i prev = _mm512_setzero_si512(), error = _mm512_setzero_si512();
    __mmask64 ctl = 0;
    size_t i = 0;
    for (; i + 64 <= len; i += 64) {
        const __m512i in = _mm512_loadu_si512((const void *)(s + i));
        /* each 128-bit lane's predecessor (the previous block's last lane for the first), so that
         * alignr, which works within lanes, shifts the whole block by 1, 2, 3 bytes */
        const __m512i carried = _mm512_alignr_epi64(in, prev, 6);
        const __m512i prev1 = _mm512_alignr_epi8(in, carried, 15);
        const __m512i prev2 = _mm512_alignr_epi8(in, carried, 14);
        const __m512i prev3 = _mm512_alignr_epi8(in, carried, 13);
        const __m512i special = _mm512_and_si512(
            _mm512_and_si512(
                _mm512_shuffle_epi8(byte1_high, _mm512_and_si512(_mm512_srli_epi16(prev1, 4), nibble)),
                _mm512_shuffle_epi8(byte1_low, _mm512_and_si512(prev1, nibble))),
            _mm512_shuffle_epi8(byte2_high, _mm512_and_si512(_mm512_srli_epi16(in, 4), nibble)));
        const __m512i must23 = _mm512_and_si512(
            _mm512_or_si512(_mm512_subs_epu8(prev2, third), _mm512_subs_epu8(prev3, fourth)), high);
        error = _mm512_or_si512(error, _mm512_xor_si512(must23, special));
        /* control bytes: < 0x20 and none of the three whitespace ones */
        const __mmask64 low = _mm512_cmplt_epu8_mask(in, ctl_end);
        const __mmask64 ws = _mm512_cmpeq_epi8_mask(in, tab) | _mm512_cmpeq_epi8_mask(in, lf) |
                             _mm512_cmpeq_epi8_mask(in, cr);
        ctl |= low & ~ws;
        prev = in;
        if (((i >> 6) & 63) == 63 && (ctl || _mm512_test_epi8_mask(error, error))) return (size_t)-1;
    }
    if (ctl || _mm512_test_epi8_mask(error, error)) return (size_t)-1;
    /* a character the last block cut (a lead byte among its last three) is checked again whole */
    for (size_t k = 1; k <= 3 && k <= i; k++)
        if (s[i - k] >= 0xC0) return i - k;
    return i;
}
#undef LANES4
#endif

int tokjson_cjson_safe_portable(const char *text, size_t len) {
    return tokjson_cjson_safe_isa(text, len, 0);
}

int tokjson_cjson_safe_isa(const char *text, size_t len, int isa) {
    const unsigned char *s = (const unsigned char *)text;
    size_t done = 0;
#if defined(__x86_64__)
    if (isa >= 2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
        done = plain_avx512(s, len);
        if (done == (size_t)-1) return 0;
    } else if (isa >= 1 && __builtin_cpu_supports("avx2")) {
        done = plain_avx2(s, len);
        if (done == (size_t)-1) return 0;
    }
#else
    (void)isa;
#endif
    return plain_portable(s + done, s + len) && no_nul_escape(text, len);
}

int tokjson_cjson_safe(const char *text, size_t len) { return tokjson_cjson_safe_isa(text, len, 2); }
