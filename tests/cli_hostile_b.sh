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
done_testing
