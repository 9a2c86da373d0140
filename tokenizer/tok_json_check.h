/* tok_json_check: whether cJSON reads a tokenizer.json as jansson would (tok_json_read.c sends a
 * file down cJSON's fast route only then): UTF-8 throughout (jansson checks, cJSON does not), no
 * control byte but the JSON whitespace ones (\t, \n, \r), no "\u0000" escape (cJSON's strings
 * end at a NUL). Over the whole text, vectorized (AVX-512BW or AVX2, chosen at run time) with a
 * portable fallback that gives the same answer.
 *
 * Known gap, as before this check was vectorized: a raw \t, \n or \r inside a string is not
 * seen (telling it from whitespace between tokens means parsing); cJSON accepts it where jansson
 * refuses the file. */
#ifndef COLDTOK_TOK_JSON_CHECK_H
#define COLDTOK_TOK_JSON_CHECK_H

#include <stddef.h>

/* 1 when text (len bytes) passes, else 0. */
int tokjson_cjson_safe(const char *text, size_t len);
/* The same, portable code only (for the tests: all must agree). */
int tokjson_cjson_safe_portable(const char *text, size_t len);
/* The same with vector code up to isa: 0 portable, 1 AVX2, 2 AVX-512BW (each only where the CPU
 * has it, else the next lower), for the tests. */
int tokjson_cjson_safe_isa(const char *text, size_t len, int isa);

#endif
