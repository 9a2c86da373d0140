#!/usr/bin/env bash
# What every command does with what it is given, before any result: an unknown option or a missing
# value is the usage error "coldtok CMD: ..." + "try 'coldtok CMD --help'" (exit 2, nothing from
# getopt itself); -o makes its folder with any missing folders above it (mkdir -p), before anything
# is written, so --csv and --positions may point inside it; a file that is not what its name says
# (text named .gguf, junk named .safetensors) is named for what is wrong with the file itself,
# not for a tokenizer or config.json that is missing beside it.
set -u
. "$(dirname "$0")/tap.sh"
: "${COLDTOK:?set COLDTOK to the binary under test}"
[[ $COLDTOK == */* && $COLDTOK != /* ]] && COLDTOK=$PWD/$COLDTOK # the -o tests run in another folder
FIX=${COLDTOK_FIXTURES:-../shared/fixtures}/models/stories260K
[ -d "$FIX" ] && FIX=$(cd "$FIX" && pwd)
tmp=$(mktemp -d /tmp/coldtok-usage.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- option errors: exactly two lines on stderr, exit 2, for every command ----
# usage_error NAME WANT-FIRST-LINE CMD ARGS...
usage_error() {
    local name=$1 want=$2 cmd=$3
    shift 3
    "$COLDTOK" "$cmd" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
    local rc=$? got
    got=$(cat "$tmp/err")
    is "$name" "$(printf "%s\ntry 'coldtok %s --help'\nexit 2" "$want" "$cmd")" "$(printf '%s\nexit %d' "$got" "$rc")"
}
for cmd in info synth plot quantize encode decode coverage vocab probe diff logits drift; do
    usage_error "$cmd: unknown option" "coldtok $cmd: unknown option '--frobnicate'" "$cmd" --frobnicate
done
usage_error "probe: a misspelt option gets a suggestion" \
    "coldtok probe: unknown option '--modle' (did you mean '--model'?)" probe --modle x.gguf
usage_error "coverage: a misspelt option gets a suggestion" \
    "coldtok coverage: unknown option '--tokeniser' (did you mean '--tokenizer'?)" coverage --tokeniser t.json
usage_error "probe: unknown short option" "coldtok probe: unknown option '-z'" probe -z
usage_error "probe: ambiguous abbreviation" "coldtok probe: ambiguous option '--co' (--context, --compute, --context-text)" probe --co bos
usage_error "drift: a value for a flag" "coldtok drift: option '--bytes' takes no value" drift --bytes=yes
for cmd in probe diff logits drift quantize; do
    usage_error "$cmd: -m without its value" "coldtok $cmd: option '-m' needs a value" "$cmd" -m
done
for cmd in encode decode coverage vocab; do
    usage_error "$cmd: --tokenizer without its value" "coldtok $cmd: option '--tokenizer' needs a value" "$cmd" --tokenizer
done
usage_error "synth: -o without its value" "coldtok synth: option '-o' needs a value" synth --preset tiny-llama -o
usage_error "plot: --output without its value" "coldtok plot: option '--output' needs a value" plot tests/data/plot --output
usage_error "quantize: --calib without its value" "coldtok quantize: option '--calib' needs a value" quantize --calib

# ---- bad files: the first error is about the file itself ----
# file_error NAME WANT CMD ARGS...: exit 1 and stderr is the one line WANT
file_error() {
    local name=$1 want=$2
    shift 2
    "$COLDTOK" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
    local rc=$?
    is "$name" "$(printf '%s\nexit 1' "$want")" "$(printf '%s\nexit %d' "$(cat "$tmp/err")" "$rc")"
}
mkdir -p "$tmp/bad/st"
echo "hello, I am not a model" > "$tmp/bad/text.gguf"
printf 'not a safetensors header' > "$tmp/bad/junk.safetensors"   # no config.json, no tokenizer beside
printf 'not a safetensors header' > "$tmp/bad/st/model.safetensors" # a config.json, no tokenizer beside
cp tests/data/hf-llama-f32/config.json "$tmp/bad/st/"
gguf_magic="not a GGUF file (bad magic) (at byte 0)"
st_header="header length 7021991845529153390 does not fit the file (24 bytes)" # "not a sa", little-endian
file_error "probe: text named .gguf" "coldtok probe: $tmp/bad/text.gguf: $gguf_magic" probe -m "$tmp/bad/text.gguf"
file_error "probe: junk .safetensors" "coldtok probe: $tmp/bad/junk.safetensors: $st_header" probe -m "$tmp/bad/junk.safetensors"
file_error "probe: junk .safetensors beside a config.json" "coldtok probe: $tmp/bad/st/model.safetensors: $st_header" \
    probe -m "$tmp/bad/st/model.safetensors"
file_error "probe: a folder of junk safetensors" "coldtok probe: $tmp/bad/st/model.safetensors: $st_header" probe -m "$tmp/bad/st"
file_error "logits: junk .safetensors" "coldtok logits: $tmp/bad/junk.safetensors: $st_header" logits -m "$tmp/bad/junk.safetensors"
file_error "encode: text named .gguf" "coldtok encode: $tmp/bad/text.gguf: $gguf_magic" encode -t "$tmp/bad/text.gguf"
file_error "coverage: text named .gguf" "coldtok coverage: $tmp/bad/text.gguf: $gguf_magic" coverage -t "$tmp/bad/text.gguf"
file_error "coverage: a .safetensors given as tokenizer" \
    "coldtok coverage: $tmp/bad/junk.safetensors: a safetensors file holds weights, not a tokenizer (give its folder or its tokenizer.json)" \
    coverage -t "$tmp/bad/junk.safetensors"
mkdir -p "$tmp/bad/code" && echo 'def f(): return 1' > "$tmp/bad/code/x.py"
if [ -f "$FIX/stories260K-F32.gguf" ]; then
    file_error "diff: a text variant named .gguf" "coldtok diff: $tmp/bad/text.gguf: $gguf_magic" \
        diff -m "$FIX/stories260K-F32.gguf" -m "$tmp/bad/text.gguf"
    file_error "drift: junk .safetensors" "coldtok drift: $tmp/bad/junk.safetensors: $st_header" \
        drift -m "$FIX/stories260K-F32.gguf" -m "$tmp/bad/junk.safetensors" --corpus "$tmp/bad/code"
else
    skip "diff/drift on bad variants" "fixtures absent (set COLDTOK_FIXTURES)"
fi

# ---- -o makes its folder, parents included, before anything is written ----
cd "$tmp" || exit 1 # relative -o paths, as typed at a prompt
ROOT=$OLDPWD
mkdir -p here
echo "a file" > here/file
file_error "-o naming a file" "coldtok coverage: here/file: exists but is not a folder" \
    coverage -t "$ROOT/tests/data/cov-tiny-tokenizer.json" -o here/file
file_error "-o below a file" "coldtok coverage: here/file/out: cannot create: Not a directory" \
    coverage -t "$ROOT/tests/data/cov-tiny-tokenizer.json" -o here/file/out
"$COLDTOK" coverage -t "$ROOT/tests/data/cov-tiny-tokenizer.json" -o cov/run1 --csv cov/run1/detail.csv > out 2> err
rc=$?
check "coverage: -o DIR (parents missing) with --csv DIR/x.csv" \
    '[ $rc -eq 0 ] && [ -s cov/run1/detail.csv ] && [ -s cov/run1/coverage.csv ] && [ -s cov/run1/coverage_summary.csv ]' \
    "rc=$rc $(cat err)"
check "coverage: --csv inside -o equals the detail rows of coverage.csv" 'cmp -s cov/run1/detail.csv cov/run1/coverage.csv' \
    "$(diff cov/run1/detail.csv cov/run1/coverage.csv | head -5)"
"$COLDTOK" coverage -t "$ROOT/tests/data/cov-tiny-tokenizer.json" -o cov/run1/ > out 2> err
check "coverage: an existing -o folder (trailing slash) is fine" '[ $? -eq 0 ]' "$(cat err)"

if [ -f "$FIX/stories260K-F32.gguf" ]; then
    F32=$FIX/stories260K-F32.gguf Q4=$FIX/stories260K-Q4_0mix.gguf
    "$COLDTOK" probe -m "$F32" -o results/probe/run1 > out 2> err
    rc=$?
    check "probe: -o with missing parents" '[ $rc -eq 0 ] && [ -s results/probe/run1/models.csv ]' "rc=$rc $(cat err)"
    "$COLDTOK" diff -m "$F32" -m "$Q4" -o results/diff/run1 > out 2> err
    rc=$?
    check "diff: -o with missing parents" '[ $rc -eq 0 ] && [ -s results/diff/run1/metrics.csv ]' "rc=$rc $(cat err)"
    mkdir -p corpus/english && cp "$ROOT"/data/samples/english/* corpus/english/
    "$COLDTOK" drift -m "$F32" -m "$Q4" --corpus corpus/english --ctx 32 --max-tokens 64 \
        -o results/drift/run1 --positions results/drift/run1/positions.csv > out 2> err
    rc=$?
    check "drift: -o with missing parents, --positions inside it" \
        '[ $rc -eq 0 ] && [ -s results/drift/run1/drift.csv ] && [ -s results/drift/run1/positions.csv ]' "rc=$rc $(cat err)"
    "$COLDTOK" quantize -m "$F32" --type Q8_0 -o models/q8/stories-Q8_0.gguf > out 2> err
    rc=$?
    check "quantize: -o FILE in missing folders" '[ $rc -eq 0 ] && [ -s models/q8/stories-Q8_0.gguf ]' "rc=$rc $(cat err)"
else
    skip "probe/diff/drift/quantize -o with missing parents" "fixtures absent (set COLDTOK_FIXTURES)"
fi
"$COLDTOK" synth --preset tiny-llama -o models/synth/tiny.gguf > out 2> err
rc=$?
check "synth: -o FILE in missing folders" '[ $rc -eq 0 ] && [ -s models/synth/tiny.gguf ]' "rc=$rc $(cat err)"
if gp=$(command -v "${COLDTOK_GNUPLOT:-gnuplot}") && "$gp" -e 'exit' > /dev/null 2>&1; then
    "$COLDTOK" plot "$ROOT/tests/data/plot" -o figs/run1/png > out 2> err
    rc=$?
    check "plot: -o with missing parents" '[ $rc -eq 0 ] && [ -s figs/run1/png/kl_vs_bits.png ]' "rc=$rc $(cat err)"
else
    skip "plot: -o with missing parents" "gnuplot absent"
fi

done_testing
