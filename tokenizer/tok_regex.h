/* tok_regex: the pre-tokenizer regexes of well-known tokenizers, as their tokenizer.json files
 * spell them (Oniguruma syntax). One copy for the three places that need them: the ByteLevel
 * pre-tokenizer (tok_json.c), llama.cpp's tokenizer.ggml.pre names (tok_gguf.c), and telling those
 * names from a tokenizer.json (tokconv.c). */
#ifndef COLDTOK_TOK_REGEX_H
#define COLDTOK_TOK_REGEX_H

/* clang-format off */

/* GPT-2's, which ByteLevel(use_regex=true) splits with (llama.cpp drops the final |\s+; the
 * splits are the same because unmatched text becomes its own piece either way). */
#define TOK_RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
/* Llama 3's Split regex (digits in runs of up to three). */
#define TOK_RE_LLAMA3                                                                              \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|" \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
/* Qwen2's Split regex (single digits). */
#define TOK_RE_QWEN2                                                                               \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"     \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* clang-format on */

#endif
