#!/usr/bin/env bash
# CLI tests of `coldtok encode` / `coldtok decode`: output format, hand-computed ids on a tokenizer.json
# written here, fixture ids on a GGUF vocabulary, and the one-line errors (exit 1) for bad files and bad
# input. Prints TAP; gets the binary in $COLDTOK.
set -u
. "$(dirname "$0")/tap.sh"
COLDTOK=${COLDTOK:-./coldtok}
FIX=${COLDTOK_FIXTURES:-../shared/fixtures}
tmp=$(mktemp -d /tmp/coldtok-cli-tok.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# expect_error NAME WANT_RC WANT_STDERR_LINE CMD... (stdin from the caller): exactly that one line on
# stderr, nothing on stdout. A WANT ending in '*' is a prefix.
expect_error() {
    local name=$1 want_rc=$2 want=$3
    shift 3
    "$@" > "$tmp/out" 2> "$tmp/err"
    local rc=$? lines got match=0
    lines=$(wc -l < "$tmp/err")
    got=$(cat "$tmp/err")
    if [[ "$want" == *'*' ]]; then [[ "$got" == "${want%\*}"* ]] && match=1; else [ "$got" == "$want" ] && match=1; fi
    if [ $rc -eq "$want_rc" ] && [ "$lines" -eq 1 ] && [ $match -eq 1 ] && [ ! -s "$tmp/out" ]; then
        ok "$name"
    else
        notok "$name" "want rc $want_rc and one line: $want" "got rc $rc, $lines line(s): $(head -c 300 "$tmp/err")"
    fi
}

# A small byte-level BPE written by hand: "hello world" -> hello (11), Ġw (12) o r l d.
cat > "$tmp/tokenizer.json" <<'EOF'
{"added_tokens": [{"id": 13, "content": "<|end|>", "special": true, "normalized": false}],
 "normalizer": null,
 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
 "decoder": {"type": "ByteLevel"},
 "model": {"type": "BPE", "vocab": {"h": 0, "e": 1, "l": 2, "o": 3, "Ġ": 4, "w": 5, "r": 6, "d": 7,
   "he": 8, "ll": 9, "hell": 10, "hello": 11, "Ġw": 12},
   "merges": ["h e", "l l", "he ll", "hell o", "Ġ w"]}}
EOF
T=$tmp/tokenizer.json

# --help
out=$("$COLDTOK" encode --help); rc=$?
if [ $rc -eq 0 ] && grep -q '^usage: coldtok encode -t TOKENIZER' <<< "$out"; then ok "encode --help"; else notok "encode --help" "rc $rc"; fi
out=$("$COLDTOK" decode --help); rc=$?
if [ $rc -eq 0 ] && grep -q '^usage: coldtok decode -t TOKENIZER' <<< "$out"; then ok "decode --help"; else notok "decode --help" "rc $rc"; fi

# ids, pieces, special tokens, decode
is "encode ids (hand-computed merges)" "11 12 3 6 2 7" "$(printf 'hello world' | "$COLDTOK" encode -t "$T")"
is "encode --ids is the default" "11 12 3 6 2 7" "$(printf 'hello world' | "$COLDTOK" encode --ids -t "$T")"
is "encode --pieces" 'hello Ġw o r l d' "$(printf 'hello world' | "$COLDTOK" encode --pieces -t "$T")"
is "special token matched in text" "11 13" "$(printf 'hello<|end|>' | "$COLDTOK" encode -t "$T")"
is "--no-special: special token text is text" "11 1 7" "$(printf 'hello<|end|>' | "$COLDTOK" encode --no-special -t "$T")"
is "empty input: an empty line" "" "$(printf '' | "$COLDTOK" encode -t "$T")"
is "decode" "hello world<|end|>" "$(echo '11 12 3 6 2 7 13' | "$COLDTOK" decode -t "$T")"
is "decode adds nothing (no newline)" "11" "$(printf 'hello world' | "$COLDTOK" encode -t "$T" | "$COLDTOK" decode -t "$T" | wc -c)"

# pieces are printed visibly: a vocabulary whose tokens are a space, tab, newline, backslash, \x01
mkdir -p "$tmp/raw"
printf '%s' '{"model": {"type": "BPE", "vocab": {" ": 0, "\t": 1, "\n": 2, "\\": 3, "\u0001": 4, "a": 5}, "merges": []}}' \
    > "$tmp/raw/tokenizer.json"
is "pieces escape whitespace, backslash and control bytes" 'a \s \t \n \\ \x01' \
    "$(printf 'a \t\n\\\x01' | "$COLDTOK" encode --pieces -t "$tmp/raw")"
is "a model folder is a tokenizer" "5 0 5" "$(printf 'a a' | "$COLDTOK" encode -t "$tmp/raw")"

# a real vocabulary: GPT-2 in GGUF (ids from the llama.cpp test vectors)
G=$FIX/vocab/ggml-vocab-gpt-2.gguf
if [ -f "$G" ]; then
    is "gguf gpt-2 ids" "15496 11 995 0" "$(printf 'Hello, world!' | "$COLDTOK" encode -t "$G")"
    is "gguf gpt-2 pieces" 'Hello Ġworld' "$(printf 'Hello world' | "$COLDTOK" encode --pieces -t "$G")"
    text=$'def f(x):\r\n\treturn x  # caf\xc3\xa9 \xf0\x9f\xa6\x99\n'
    is "gguf gpt-2 round trip" "${text}END" "$(printf '%s' "$text" | "$COLDTOK" encode -t "$G" | "$COLDTOK" decode -t "$G"; echo END)"
else
    skip "gguf gpt-2 ids" "fixture $G absent"
    skip "gguf gpt-2 pieces" "fixture $G absent"
    skip "gguf gpt-2 round trip" "fixture $G absent"
fi
# bad tokenizer files: one line "coldtok encode: PATH: problem", exit 1
head -c 150 "$T" > "$tmp/truncated.json"
expect_error "truncated tokenizer.json" 1 "coldtok encode: $tmp/truncated.json: invalid JSON at line *" \
    "$COLDTOK" encode -t "$tmp/truncated.json" < /dev/null
printf '{"model": {"type": "BPE", "vocab": {"caf\xe9": 0}, "merges": []}}' > "$tmp/latin1.json"
expect_error "non-UTF-8 tokenizer.json" 1 "coldtok encode: $tmp/latin1.json: invalid JSON at line 1 column *" \
    "$COLDTOK" encode -t "$tmp/latin1.json" < /dev/null
echo '{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}' > "$tmp/unigram.json"
expect_error "unknown model type" 1 \
    "coldtok encode: $tmp/unigram.json: unsupported model type 'Unigram' (only BPE is supported)" \
    "$COLDTOK" encode -t "$tmp/unigram.json" < /dev/null
echo '{"pre_tokenizer": {"type": "Punctuationish"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}' > "$tmp/pre.json"
expect_error "unknown pre-tokenizer type" 1 \
    "coldtok encode: $tmp/pre.json: unsupported pre-tokenizer type 'Punctuationish'" \
    "$COLDTOK" encode -t "$tmp/pre.json" < /dev/null
expect_error "missing file" 1 "coldtok encode: $tmp/nope.json: No such file or directory" \
    "$COLDTOK" encode -t "$tmp/nope.json" < /dev/null
mkdir "$tmp/emptydir"
expect_error "folder without tokenizer.json" 1 "coldtok decode: $tmp/emptydir: a folder without tokenizer.json" \
    "$COLDTOK" decode -t "$tmp/emptydir" < /dev/null

# a GGUF whose tokenizer.ggml.pre llama.cpp does not know, written byte by byte (GGUF v3, no tensors)
u32() { printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"; }
u64() { u32 "$1"; u32 0; }
gstr() { u64 ${#1}; printf '%s' "$1"; }
kv_str() { gstr "$1"; u32 8; gstr "$2"; }
{ printf 'GGUF'; u32 3; u64 0; u64 3
  kv_str tokenizer.ggml.model gpt2
  kv_str tokenizer.ggml.pre not-a-pre-tokenizer
  gstr tokenizer.ggml.tokens; u32 9; u32 8; u64 2; gstr a; gstr b; } > "$tmp/badpre.gguf"
expect_error "gguf with an unknown pre-tokenizer name" 1 \
    "coldtok encode: $tmp/badpre.gguf: unknown tokenizer.ggml.pre 'not-a-pre-tokenizer'" \
    "$COLDTOK" encode -t "$tmp/badpre.gguf" < /dev/null
head -c 40 "$tmp/badpre.gguf" > "$tmp/cut.gguf"
"$COLDTOK" encode -t "$tmp/cut.gguf" < /dev/null > /dev/null 2> "$tmp/err"; rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q "^coldtok encode: $tmp/cut.gguf: " "$tmp/err"; then
    ok "truncated gguf"
else
    notok "truncated gguf" "rc $rc: $(cat "$tmp/err")"
fi

# bad input on stdin
printf 'ab\xffcd' > "$tmp/bad.txt"
expect_error "invalid UTF-8 on stdin" 1 "coldtok encode: <stdin>: invalid UTF-8 at byte 2" \
    "$COLDTOK" encode -t "$T" < "$tmp/bad.txt"
expect_error "decode: id out of range" 1 "coldtok decode: <stdin>: token id 99 out of range (vocabulary size 14)" \
    "$COLDTOK" decode -t "$T" <<< "11 99"
expect_error "decode: not an id" 1 "coldtok decode: <stdin>: 'eleven' is not a token id" \
    "$COLDTOK" decode -t "$T" <<< "11 eleven"

# usage errors: exit 2
"$COLDTOK" encode < /dev/null > /dev/null 2> "$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "^coldtok encode: no tokenizer" "$tmp/err"; then ok "encode without -t: usage error"; else notok "encode without -t: usage error" "rc $rc"; fi
"$COLDTOK" decode -t "$T" --frobnicate < /dev/null > /dev/null 2> "$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "^coldtok decode: unknown option '--frobnicate'" "$tmp/err"; then ok "unknown option: usage error"; else notok "unknown option: usage error" "rc $rc"; fi

done_testing
