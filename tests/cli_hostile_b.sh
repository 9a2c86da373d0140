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


# ---- a hostile Split regex: (.*a){25} over 24 'a' and N 'b' (14 s for N = 400 before its budget)
tok=tests/data/hostileb-regex/tokenizer.json
for nb in 400 6400; do
    in=$tmp/hostile$nb.txt
    printf 'a%.0s' $(seq 24) > "$in"
    printf 'b%.0s' $(seq $nb) >> "$in"
    start=$(date +%s%N)
    "$BIN" encode -t "$tok" < "$in" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    secs=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    is "hostile regex, $nb b's: exit 1" 1 "$rc"
    has "hostile regex, $nb b's: one line naming the pattern" "$tmp/err" \
        '^coldtok encode: <stdin>: regex "\(\.\*a\)\{25\}" is too costly'
    is "hostile regex, $nb b's: one line" 1 "$(wc -l < "$tmp/err")"
    check "hostile regex, $nb b's: fails within 5 s (took $secs s)" "awk 'BEGIN { exit !($secs < 5) }'"
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
start=$(date +%s%N)
"$BIN" plot "$pd" -o "$pd/fig" > "$tmp/out" 2> "$tmp/err"
rc=$?
secs=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
is "plot, 40,000 models: exit 1" 1 "$rc"
has_line "plot, 40,000 models: one line naming the figure and the limit" "$tmp/err" \
    "coldtok plot: pkp_by_language: not drawn: 40000 models x 2 languages = 80000 bars, past the limit of 100 models and 2000 bars a figure shows (docs/plots.md)"
is "plot, 40,000 models: one line" 1 "$(wc -l < "$tmp/err")"
check "plot, 40,000 models: refused within 5 s (took $secs s)" "awk 'BEGIN { exit !($secs < 5) }'"
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
done_testing
