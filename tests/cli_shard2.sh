#!/usr/bin/env bash
# probe, diff and coverage --shard I/N and coldtok merge: the merged shards give the unsharded
# run's CSV files byte for byte (probe and diff by models, with --context and --context-text;
# diff's variants on other shards than their base; coverage by tokenizers, repeated labels made
# unique over the whole list); merge refuses, with one line and writing nothing, shards of
# different runs (options, shard counts, commands, a model changed between jobs), a missing or
# repeated shard, a rows.shard cut short, a CSV file changed after its shard was written.
# The ASan pass (~10x slower) leaves out what only reruns the same code on other models or options:
# one shard of one, probe, and the refusals that need another diff run.
set -u
. "$(dirname "$0")/tap.sh"
: "${COLDTOK:?set COLDTOK to the binary under test}"
FIX=${COLDTOK_FIXTURES:-../shared/fixtures}/models/stories260K
tmp=$(mktemp -d /tmp/coldtok-shard2.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
asan=0
[[ $COLDTOK == *asan* ]] && asan=1

usage() { # NAME EXPECTED ARGS...
    local name=$1 want=$2; shift 2
    out=$("$COLDTOK" "$@" 2>&1); rc=$?
    check "usage: $name" '[ $rc -eq 2 ] && [[ $out == *"$want"* ]]' "rc=$rc out=$out"
}
usage "probe: shard 0" "--shard takes I/N" probe -m x.gguf --shard 0/2 -o "$tmp/x"
usage "diff: shard without -o" "give -o" diff -m a.gguf -m b.gguf --shard 1/2
usage "coverage: shard junk" "--shard takes I/N" coverage -t a.json --shard 1/2x -o "$tmp/x"
usage "coverage: shard with --csv" "no --csv" coverage -t a.json --shard 1/1 -o "$tmp/x" --csv "$tmp/x.csv"
usage "coverage: more shards than tokenizers" "the run has 1 tokenizers" coverage -t a.json --shard 2/2 -o "$tmp/x"

# CSV files of folder A and B identical
same_csvs() { # NAME A B MIN
    local name=$1 a=$2 b=$3 min=$4 f nf=0 bad=""
    for f in "$a"/*.csv; do
        nf=$((nf + 1))
        cmp -s "$f" "$b/$(basename "$f")" || bad="$bad $(basename "$f")"
    done
    check "$name: every CSV identical ($nf files)" '[ -z "$bad" ] && [ $nf -ge $min ]' "differ:$bad"
}
refused() { # NAME EXPECTED SHARDS...
    local name=$1 want=$2; shift 2
    rm -rf "$tmp/bad"
    out=$("$COLDTOK" merge "$@" -o "$tmp/bad" 2>&1); rc=$?
    check "refused: $name" '[ $rc -eq 1 ] && [ $(printf "%s\n" "$out" | wc -l) -eq 1 ] && [[ $out == *"$want"* ]] && [ ! -e "$tmp/bad" ]' "rc=$rc out=$out"
}

# ---- coverage, by tokenizers (no model needed) ----
TK=(-t demo=data/demo/tokenizer.json -t data/demo/teacher -t data/demo/tokenizer.json -t data/demo/student)
"$COLDTOK" coverage "${TK[@]}" --lang python,c,go,english -o "$tmp/cfull" >/dev/null 2>&1
for i in 1 2 3; do
    out=$("$COLDTOK" coverage "${TK[@]}" --lang python,c,go,english --shard $i/3 -o "$tmp/c$i" 2>&1); rc=$?
    check "coverage shard $i/3 runs" '[ $rc -eq 0 ] && [ -s "$tmp/c$i/rows.shard" ]' "rc=$rc out=$out"
done
check "coverage shard 1/3 has tokenizers 1 and 4" '[ "$(grep ^own "$tmp/c1/rows.shard")" = "$(printf "own demo\nown student")" ]' "$(cat "$tmp/c1/rows.shard")"
out=$("$COLDTOK" merge "$tmp/c3" "$tmp/c1/rows.shard" "$tmp/c2" -o "$tmp/cm" 2>&1); rc=$?
check "coverage merge runs" '[ $rc -eq 0 ] && [[ $out == *"merged the 3 shards of a coldtok coverage run"* ]]' "rc=$rc out=$out"
same_csvs "coverage, 3 shards" "$tmp/cfull" "$tmp/cm" 2
check "coverage: the repeated label is the run's (demo#2)" 'grep -q "^demo#2," "$tmp/cm/coverage_summary.csv"' "$(cut -d, -f1 "$tmp/cm/coverage_summary.csv" | uniq)"
check "merge's run.json names the shards" '[ $(grep -c "\"kind\": *\"shard\"" "$tmp/cm/run.json") -eq 3 ]' "$(cat "$tmp/cm/run.json")"
refused "a missing coverage shard" "1 of the 3 shards of the run missing (shard 2)" "$tmp/c1" "$tmp/c3"
refused "a repeated coverage shard" "are both shard 1 of 3" "$tmp/c1" "$tmp/c1" "$tmp/c2" "$tmp/c3"
"$COLDTOK" coverage "${TK[@]}" --lang python,c,go,english --match bare --shard 2/3 -o "$tmp/c2b" >/dev/null 2>&1
refused "coverage shards of other options" "'setting match either' against 'setting match bare'" "$tmp/c1" "$tmp/c2b" "$tmp/c3"
usage "merge --positions with coverage shards" "--positions belongs to drift's shards" merge --positions "$tmp/p.csv" "$tmp/c1" "$tmp/c2" "$tmp/c3" -o "$tmp/bad"

if [ ! -f "$FIX/stories260K-F32.gguf" ]; then
    skip "probe and diff shards" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi

# ---- diff, by models: 4 models, 3 shards (the base on shard 1, its variants on every shard) ----
cp "$FIX/stories260K-Q8_0mix.gguf" "$tmp/q8.gguf"
M=(-m "$FIX/stories260K-F32.gguf" -m "$FIX/stories260K-F16.gguf" -m "$FIX/stories260K-Q4_0mix.gguf" -m "$tmp/q8.gguf")
CTX=(--context bos --context-text " Once upon" --top 5 --lang python,english)
"$COLDTOK" diff "${M[@]}" "${CTX[@]}" -o "$tmp/dfull" >/dev/null 2>&1
for i in 1 2 3; do
    out=$("$COLDTOK" diff "${M[@]}" "${CTX[@]}" --shard $i/3 -o "$tmp/d$i" 2>&1); rc=$?
    check "diff shard $i/3 runs" '[ $rc -eq 0 ] && [ -s "$tmp/d$i/rows.shard" ]' "rc=$rc out=$out"
done
check "diff shard 2/3 runs its variant with the base" '[[ $out == *"shard 3/3: 1 of the run'"'"'s 4 models (2 run)"* ]]' "$out"
out=$("$COLDTOK" merge "$tmp/d2" "$tmp/d3" "$tmp/d1" -o "$tmp/dm" 2>&1); rc=$?
check "diff merge runs" '[ $rc -eq 0 ]' "rc=$rc out=$out"
same_csvs "diff, 3 shards" "$tmp/dfull" "$tmp/dm" 5
check "diff: the merged metrics hold every variant's drift" '[ $(grep -c "^stories260K-F16,stories260K-F32,<s>,all,kl_pq," "$tmp/dm/metrics.csv") -eq 1 ] && [ $(grep -c "^q8,stories260K-F32," "$tmp/dm/metrics.csv") -gt 10 ]' \
    "$(head -3 "$tmp/dm/metrics.csv")"
# the cheap refusals, on these shards
mkdir -p "$tmp/cut" && cp "$tmp/d2"/*.csv "$tmp/cut/" && head -c -4 "$tmp/d2/rows.shard" > "$tmp/cut/rows.shard"
refused "a rows.shard cut short" "cut short: no end line" "$tmp/d1" "$tmp/cut" "$tmp/d3"
cp -r "$tmp/d2" "$tmp/edit" && sed -i '2s/,0\./,1./' "$tmp/edit/metrics.csv"
refused "a CSV file changed after its shard" "edit/metrics.csv: not the file its shard wrote" "$tmp/d1" "$tmp/edit" "$tmp/d3"
mkdir -p "$tmp/junk" && echo "not a shard" > "$tmp/junk/rows.shard"
refused "not a shard file" "not a probe, diff or coverage shard file" "$tmp/junk" "$tmp/d1"
refused "a folder without a shard" "$tmp/cfull/rows.shard" "$tmp/d1" "$tmp/cfull" "$tmp/d3"
if [ $asan = 1 ]; then
    skip "one shard of one, probe, refusals of other runs" "sanitizer build: the same code on other models and options"
    done_testing
    exit 0
fi

"$COLDTOK" diff "${M[@]}" "${CTX[@]}" --shard 1/1 -o "$tmp/d11" >/dev/null 2>&1
"$COLDTOK" merge "$tmp/d11" -o "$tmp/dm1" >/dev/null 2>&1
same_csvs "diff, one shard of one" "$tmp/dfull" "$tmp/dm1" 5

# ---- probe, by models: 2 shards ----
P=(-m "$FIX/stories260K-F32.gguf" -m "$FIX/stories260K-Q4_0mix.gguf" -m "$FIX/stories260K-F16.gguf" --top 3 --lang python)
"$COLDTOK" probe "${P[@]}" -o "$tmp/pfull" >/dev/null 2>&1
"$COLDTOK" probe "${P[@]}" --shard 1/2 -o "$tmp/p1" >/dev/null 2>&1
"$COLDTOK" probe "${P[@]}" --shard 2/2 -o "$tmp/p2" >/dev/null 2>&1
out=$("$COLDTOK" merge "$tmp/p1" "$tmp/p2" -o "$tmp/pm" 2>&1); rc=$?
check "probe merge runs" '[ $rc -eq 0 ] && [[ $out == *"coldtok probe run"* ]]' "rc=$rc out=$out"
same_csvs "probe, 2 shards" "$tmp/pfull" "$tmp/pm" 5
out=$("$COLDTOK" probe "${P[@]}" --shard 4/4 -o "$tmp/p4" 2>&1); rc=$?
check "probe: more shards than models refused" '[ $rc -eq 1 ] && [[ $out == *"the run has 3 models"* ]]' "rc=$rc out=$out"

# drift's merge --positions: a base tokenizer gone since the shards ran is refused before OUT is made
cp "$FIX/stories260K-F32.gguf" "$tmp/tok.gguf"
SMALL=(-m "$FIX/stories260K-F32.gguf" -m "$FIX/stories260K-Q4_0mix.gguf" -t "$tmp/tok.gguf" --corpus data/samples/english
       --ctx 64 --max-tokens 128 --seed 3 --bootstrap 0)
"$COLDTOK" drift "${SMALL[@]}" --shard 1/1 -o "$tmp/dr1" >/dev/null 2>&1
rm "$tmp/tok.gguf"
rm -rf "$tmp/bad"
out=$("$COLDTOK" merge "$tmp/dr1" -o "$tmp/bad" --positions "$tmp/bad/pos.csv" 2>&1); rc=$?
check "drift merge --positions: a missing tokenizer, nothing written" '[ $rc -eq 1 ] && [[ $out == *"tok.gguf"* ]] && [ ! -e "$tmp/bad" ]' "rc=$rc out=$out"

# ---- refusals ----
refused "a probe shard among diff shards" "shards of different runs" "$tmp/d1" "$tmp/p2" "$tmp/d3"
"$COLDTOK" diff "${M[@]}" "${CTX[@]}" --shard 2/2 -o "$tmp/n2" >/dev/null 2>&1
refused "shard counts differ" "is shard 2 of 2 but" "$tmp/d1" "$tmp/n2" "$tmp/d3"
other=("${CTX[@]}"); other[5]=6 # --top 6
"$COLDTOK" diff "${M[@]}" "${other[@]}" --shard 2/3 -o "$tmp/t2" >/dev/null 2>&1
refused "other options" "'setting top 5' against 'setting top 6'" "$tmp/d1" "$tmp/t2" "$tmp/d3"
# the base changed between two jobs: both read it, with two digests
cp "$FIX/stories260K-F32.gguf" "$tmp/base.gguf"
MB=(-m "$tmp/base.gguf" "${M[@]:2}")
"$COLDTOK" diff "${MB[@]}" "${CTX[@]}" --shard 2/3 -o "$tmp/b2" >/dev/null 2>&1
printf '\x01' | dd of="$tmp/base.gguf" bs=1 seek=$(($(stat -c %s "$tmp/base.gguf") - 1)) conv=notrunc status=none # a weight's last byte
"$COLDTOK" diff "${MB[@]}" "${CTX[@]}" --shard 3/3 -o "$tmp/b3" >/dev/null 2>&1
"$COLDTOK" diff "${MB[@]}" "${CTX[@]}" --shard 1/3 -o "$tmp/b1" >/dev/null 2>&1
refused "a model changed between two shards" "$tmp/base.gguf had another SHA-256" "$tmp/b1" "$tmp/b2" "$tmp/b3"
done_testing
