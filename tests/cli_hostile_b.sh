#!/usr/bin/env bash
# Hostile and careless inputs, part b (issue 17): a tokenizer.json whose Split regex backtracks
# catastrophically, plot given more bars than a figure can show, broken manifests, drift naming
# the files that are not UTF-8. Each case: one line naming the problem, non-zero exit, in bounded
# time. Prints TAP.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
tmp=$(mktemp -d /tmp/coldtok-cli-hostileb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# cpu_run CMD...: runs CMD (its redirections are the caller's); $? is its status and $cpu_secs the
# CPU seconds (user + system) it took: the bounds below are on CPU time, which the regex budget
# counts too, so a machine busy with other work does not fail them.
cpu_run() {
    local t rc
    { t=$( { TIMEFORMAT='%3U %3S'; time "$@" 2>&3 1>&5 3>&- 5>&-; } 2>&1 ); rc=$?; } 3>&2 5>&1
    cpu_secs=$(awk '{ printf "%.2f", $1 + $2 }' <<< "$t")
    return $rc
}

# ---- a hostile Split regex: (.*a){25} over 24 'a' and N 'b' (14 s for N = 400 before its budget)
tok=tests/data/hostileb-regex/tokenizer.json
for nb in 400 6400; do
    in=$tmp/hostile$nb.txt
    printf 'a%.0s' $(seq 24) > "$in"
    printf 'b%.0s' $(seq $nb) >> "$in"
    cpu_run "$BIN" encode -t "$tok" < "$in" > "$tmp/out" 2> "$tmp/err"
    rc=$? secs=$cpu_secs
    is "hostile regex, $nb b's: exit 1" 1 "$rc"
    has "hostile regex, $nb b's: one line naming the pattern" "$tmp/err" \
        '^coldtok encode: <stdin>: regex "\(\.\*a\)\{25\}" is too costly'
    is "hostile regex, $nb b's: one line" 1 "$(wc -l < "$tmp/err")"
    check "hostile regex, $nb b's: fails within 5 s of CPU (took $secs s)" "awk 'BEGIN { exit !($secs < 5) }'"
done
# the same tokenizer on text the pattern does not backtrack on still encodes
in=$tmp/plain.txt
printf 'bbbb' > "$in"
"$BIN" encode -t "$tok" < "$in" > "$tmp/out" 2> "$tmp/err"
is "hostile regex, text without an a: encodes" 0 "$?"

# ---- plot: more bars than a figure shows (40,000 models took 172 s in gnuplot): refused, one line
pd=$tmp/plot40k
mkdir -p "$pd"
awk 'BEGIN { print "model,base,scope,metric,value"
             for (i = 0; i < 40000; i++) printf "m%d,,python,pkp,%.6f\nm%d,,c,pkp,%.6f\n", i, 0.01 + i * 1e-7, i, 0.02 }' \
    > "$pd/metrics.csv"
cpu_run "$BIN" plot "$pd" -o "$pd/fig" > "$tmp/out" 2> "$tmp/err"
rc=$? secs=$cpu_secs
is "plot, 40,000 models: exit 1" 1 "$rc"
has_line "plot, 40,000 models: one line naming the figure and the limit" "$tmp/err" \
    "coldtok plot: pkp_by_language: not drawn: 40000 models x 2 languages = 80000 bars, past the limit of 100 models and 2000 bars a figure shows (docs/plots.md)"
is "plot, 40,000 models: one line" 1 "$(wc -l < "$tmp/err")"
check "plot, 40,000 models: refused within 5 s of CPU (took $secs s)" "awk 'BEGIN { exit !($secs < 5) }'"
check "plot, 40,000 models: no figure written" "[ ! -e '$pd/fig/pkp_by_language.png' ]"
# at the limit (100 models x 20 languages = 2000 bars) the figure is drawn; the coverage figure of
# the same folder is drawn while pkp, one model more, is refused with a warning
if command -v gnuplot > /dev/null; then
    awk 'BEGIN { print "model,base,scope,metric,value"
                 for (i = 0; i < 100; i++) for (l = 0; l < 20; l++) printf "m%d,,lang%d,pkp,0.01\n", i, l }' \
        > "$pd/metrics.csv"
    "$BIN" plot "$pd" -o "$pd/fig" > "$tmp/out" 2> "$tmp/err"
    is "plot, 100 models x 20 languages: drawn" "0 1" "$? $(grep -c '^drew    .*pkp_by_language' "$tmp/out")"
    echo "m100,,lang0,pkp,0.01" >> "$pd/metrics.csv"
    cp tests/data/plot/coverage_summary.csv "$pd/"
    "$BIN" plot "$pd" -o "$pd/fig2" > "$tmp/out" 2> "$tmp/err"
    is "plot, 101 models: exit 0, coverage drawn" "0 1" "$? $(grep -c '^drew    .*coverage_by_language' "$tmp/out")"
    has_line "plot, 101 models: pkp skipped, saying why" "$tmp/out" \
        "skipped pkp_by_language: not drawn: 101 models x 20 languages = 2020 bars, past the limit of 100 models and 2000 bars a figure shows (docs/plots.md)"
    has "plot, 101 models: a warning" "$tmp/err" '^coldtok plot: warning: pkp_by_language: not drawn: 101 models'
else
    skip "plot at the limit" "no gnuplot"
fi

# ---- manifests: each broken one refused with one line naming the manifest and the row's line
FIX=$(cd "${COLDTOK_FIXTURES:-../shared/fixtures}/models/stories260K" 2> /dev/null && pwd)
if [ -n "$FIX" ]; then
    md=$tmp/man
    mkdir -p "$md/nomodel" "$md/notok" "$md/tokless"
    ln -s "$FIX/stories260K-F32.gguf" "$md/f32.gguf"
    ln -s "$FIX/stories260K-F16.gguf" "$md/f16.gguf"
    touch "$md/notok/model.safetensors" "$md/notok/config.json"
    # man NAME CONTENT (printf format): writes $md/NAME.csv
    man() { printf "$2" > "$md/$1.csv"; }
    man nul 'name,path,kind,base\nbase,f32.gguf,base,\nv\0x,f16.gguf,fp16,base\n'
    man more 'name,path,kind,base\nbase,f32.gguf,base,\nv,f16.gguf,fp16,base,extra\n'
    man unclosed 'name,path,kind,base\nbase,"f32.gguf,base,\nv,f16.gguf,fp16,base\n'
    man folder 'name,path,kind,base\nbase,f32.gguf,base,\nv,nomodel,fp16,base\n'
    man tokdir 'name,path,kind,base,tokenizer\nbase,f32.gguf,base,,\nv,f16.gguf,fp16,base,tokless\n'
    man notok 'name,path,kind,base\nbase,f32.gguf,base,\nv,notok,fp16,base\n'
    man bom '\357\273\277name,path,kind,base\nbase,f32.gguf,base,\nv,f16.gguf,fp16,base\n'
    # refused CASE CMD LINE: coldtok CMD --manifest $md/CASE.csv fails with exactly LINE
    refused() {
        local case=$1 cmd=$2 want=$3
        if [ "$cmd" = drift ]; then
            "$BIN" drift --manifest "$md/$case.csv" --corpus "$md/bom.csv" -o "$tmp/o-$case" > "$tmp/out" 2> "$tmp/err"
        else
            "$BIN" diff --manifest "$md/$case.csv" -o "$tmp/o-$case" > "$tmp/out" 2> "$tmp/err"
        fi
        is "manifest $case ($cmd): exit 1, one line" "1 1" "$? $(wc -l < "$tmp/err")"
        has_line "manifest $case ($cmd): says what is wrong and where" "$tmp/err" "coldtok $cmd: $want"
    }
    refused nul diff "$md/nul.csv: line 3: a field holds a NUL byte (not a text CSV file?)"
    refused more diff "$md/more.csv:3: 5 fields, the header has 4"
    refused more drift "$md/more.csv:3: 5 fields, the header has 4"
    refused unclosed diff "$md/unclosed.csv:2: a quote is not closed on its line (column 'path' runs on to line 3)"
    refused folder diff "$md/folder.csv:3: model 'v' is the folder $md/nomodel, which holds no model.safetensors or model.safetensors.index.json"
    refused folder drift "$md/folder.csv:3: model 'v' is the folder $md/nomodel, which holds no model.safetensors or model.safetensors.index.json"
    refused tokdir diff "$md/tokdir.csv:3: tokenizer of 'v' is a folder without tokenizer.json: $md/tokless"
    refused notok diff "$md/notok.csv:3: model 'v' is the folder $md/notok, which holds no tokenizer.json (name one in a tokenizer column, or give -t)"
    refused notok drift "$md/notok.csv:3: model 'v' is the folder $md/notok, which holds no tokenizer.json (name one in a tokenizer column, or give -t)"
    "$BIN" diff --manifest "$md/nomodel" -o "$tmp/o-dir" > "$tmp/out" 2> "$tmp/err"
    is "manifest that is a folder: exit 1" 1 "$?"
    has_line "manifest that is a folder: says so" "$tmp/err" "coldtok diff: $md/nomodel: is a folder, not a manifest CSV file"
    "$BIN" diff --manifest "$md/bom.csv" -o "$tmp/o-bom" > "$tmp/out" 2> "$tmp/err"
    is "manifest with a UTF-8 BOM: read" 0 "$?"
    check "manifest with a UTF-8 BOM: both models, named as listed" \
        "grep -q '^base,' '$tmp/o-bom/models.csv' && grep -q '^v,' '$tmp/o-bom/models.csv'"
else
    skip "manifests" "no fixtures at ${COLDTOK_FIXTURES:-../shared/fixtures}"
fi

# ---- drift names the files it skips as not UTF-8 (it said only "1 not UTF-8")
if [ -n "$FIX" ]; then
    cd_=$tmp/corp
    mkdir -p "$cd_"
    for i in $(seq 40); do printf 'def f(x):\n    return x + 1\n'; done > "$cd_/good.py"
    for i in $(seq 40); do printf 'def f(x):\n    return \377 x\n'; done > "$cd_/bad.py"
    "$BIN" drift -m "$FIX/stories260K-F32.gguf" -m "$FIX/stories260K-F16.gguf" --corpus "$cd_" --ctx 64 \
        --bootstrap 0 -o "$tmp/d1" > "$tmp/out" 2> "$tmp/err"
    is "drift, one file not UTF-8: runs" 0 "$?"
    has_line "drift, one file not UTF-8: a warning names it" "$tmp/err" \
        "coldtok drift: warning: 1 file is not UTF-8, skipped: $cd_/bad.py"
    rm "$cd_/good.py"
    for i in 2 3 4 5 6 7; do cp "$cd_/bad.py" "$cd_/bad$i.py"; done
    "$BIN" drift -m "$FIX/stories260K-F32.gguf" -m "$FIX/stories260K-F16.gguf" --corpus "$cd_" --ctx 64 \
        --bootstrap 0 -o "$tmp/d2" > "$tmp/out" 2> "$tmp/err"
    is "drift, only files not UTF-8: exit 1" 1 "$?"
    has_line "drift, only files not UTF-8: the error names the first five" "$tmp/err" \
        "coldtok drift: no file is long enough for one window of 64 tokens (0 files shorter, 0 empty, 7 not UTF-8: $cd_/bad.py, $cd_/bad2.py, $cd_/bad3.py, $cd_/bad4.py, $cd_/bad5.py, ...)"
else
    skip "drift and files not UTF-8" "no fixtures"
fi
done_testing
