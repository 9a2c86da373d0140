#!/usr/bin/env bash
# coldtok drift --shard I/N and coldtok merge: the merged shards give the unsharded run's CSV files
# byte for byte (drift_corpus.csv's seconds aside: the shards' time summed) and its --positions
# file, with --max-tokens,
# --seed, --bootstrap and --compare, shards given in any order, an empty shard; and merge refuses,
# with one line and writing nothing, a missing, repeated, truncated or foreign shard, shards of
# runs with other settings, inputs or shard counts.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/drift_csv.sh" # same_csvs
: "${COLDTOK:?set COLDTOK to the binary under test}"
FIX=${COLDTOK_FIXTURES:-../shared/fixtures}/models/stories260K
tmp=$(mktemp -d /tmp/coldtok-shard.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- usage errors: exit 2 ----
usage() { # NAME EXPECTED ARGS...
    local name=$1 want=$2; shift 2
    out=$("$COLDTOK" "$@" 2>&1); rc=$?
    check "usage: $name" '[ $rc -eq 2 ] && [[ $out == *"$want"* ]]' "rc=$rc out=$out"
}
touch "$tmp/a.gguf" "$tmp/b.gguf"
usage "shard 0" "--shard takes I/N" drift -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp" --shard 0/3 -o "$tmp/x"
usage "shard over N" "--shard takes I/N" drift -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp" --shard 4/3 -o "$tmp/x"
usage "shard junk" "--shard takes I/N" drift -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp" --shard 1/3x -o "$tmp/x"
usage "shard without -o" "give -o" drift -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp" --shard 1/3
usage "merge without -o" "give -o OUT" merge "$tmp"
usage "merge without shards" "no shard" merge -o "$tmp/x"
usage "merge: unknown option" "coldtok merge: unknown option '--frobnicate'" merge --frobnicate
usage "merge: -o without its value" "coldtok merge: option '-o' needs a value" merge -o

if [ ! -f "$FIX/stories260K-F32.gguf" ]; then
    skip "stories260K shards" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi
M=(-m "$FIX/stories260K-F32.gguf" -m "$FIX/stories260K-F16.gguf" -m "$FIX/stories260K-Q4_0mix.gguf")
cp -r data/samples/english "$tmp/english"
: > "$tmp/english/empty.txt"
# 30 windows of 64 tokens, drawn with seed 7; intervals of 200 replicates; the paired tests
RUN=("${M[@]}" --corpus "$tmp/english" --ctx 64 --max-tokens 1920 --seed 7 --bootstrap 200 --compare)

out=$("$COLDTOK" drift "${RUN[@]}" -o "$tmp/full" --positions "$tmp/full.pos" 2>&1); rc=$?
check "unsharded run" '[ $rc -eq 0 ]' "rc=$rc out=$out"
full_tables=$out
for i in 1 2 3; do
    out=$("$COLDTOK" drift "${RUN[@]}" --shard $i/3 -o "$tmp/s$i" 2>&1); rc=$?
    check "shard $i/3 runs" '[ $rc -eq 0 ] && [ -s "$tmp/s$i/drift.shard" ] && [ -s "$tmp/s$i/run.json" ]' "rc=$rc out=$out"
    check "shard $i/3 writes no tables" '[ ! -e "$tmp/s$i/drift.csv" ]' "$(ls "$tmp/s$i")"
    check "shard $i/3 says its share" '[[ $out == *"shard $i/3: 10 of the run'"'"'s 30 windows"* ]]' "$out"
done

out=$("$COLDTOK" merge "$tmp/s3" "$tmp/s1" "$tmp/s2/drift.shard" -o "$tmp/merged" --positions "$tmp/merged.pos" 2>&1); rc=$?
check "merge runs" '[ $rc -eq 0 ]' "rc=$rc out=$out"
check "merge writes drift_compare.csv" '[ -s "$tmp/merged/drift_compare.csv" ]' "$(ls "$tmp/merged")"
same_csvs "3 shards" "$tmp/full" "$tmp/merged"
check "merge --positions: the unsharded run's file" 'cmp -s "$tmp/full.pos" "$tmp/merged.pos" && [ $(wc -l < "$tmp/full.pos") -eq 1861 ]' \
    "$(wc -l "$tmp/full.pos" "$tmp/merged.pos"; cmp "$tmp/full.pos" "$tmp/merged.pos")"
check "merged seconds: the shards' sum" 'grep -q "^seconds," "$tmp/merged/drift_corpus.csv"' ""
check "merge's run.json names the shards" '[ $(grep -c "\"kind\": *\"shard\"" "$tmp/merged/run.json") -eq 3 ]' "$(cat "$tmp/merged/run.json")"
# the tables on stdout: the same but for the corpus row (seconds, tokens/s) and where the files went
tables() { printf '%s\n' "$1" | grep -Ev '^wrote |^[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ '; }
check "merge prints drift's tables, the same" '[[ $out == *"Drift from stories260K-F32"* ]] && [ "$(tables "$out")" = "$(tables "$full_tables")" ]' \
    "$(diff <(tables "$full_tables") <(tables "$out"))"

# one shard of one; four shards of three windows (one empty)
"$COLDTOK" drift "${RUN[@]}" --shard 1/1 -o "$tmp/one" >/dev/null 2>&1
"$COLDTOK" merge "$tmp/one" -o "$tmp/merged1" >/dev/null 2>&1
same_csvs "1 shard" "$tmp/full" "$tmp/merged1"
SMALL=("${M[@]}" --corpus "$tmp/english" --ctx 64 --max-tokens 192 --seed 3 --bootstrap 50)
"$COLDTOK" drift "${SMALL[@]}" -o "$tmp/small" >/dev/null 2>&1
for i in 1 2 3 4; do out=$("$COLDTOK" drift "${SMALL[@]}" --shard $i/4 -o "$tmp/q$i" 2>&1); done
check "an empty shard" '[[ $out == *"shard 4/4: 0 of the run'"'"'s 3 windows"* ]]' "$out"
"$COLDTOK" merge "$tmp"/q{1,2,3,4} -o "$tmp/merged4" >/dev/null 2>&1
same_csvs "4 shards of 3 windows" "$tmp/small" "$tmp/merged4"

# ---- refusals: exit 1, one line, nothing written ----
refused() { # NAME EXPECTED DIRS...
    local name=$1 want=$2; shift 2
    rm -rf "$tmp/bad"
    out=$("$COLDTOK" merge "$@" -o "$tmp/bad" 2>&1); rc=$?
    check "refused: $name" '[ $rc -eq 1 ] && [ $(printf "%s\n" "$out" | wc -l) -eq 1 ] && [[ $out == *"$want"* ]] && [ ! -e "$tmp/bad" ]' "rc=$rc out=$out"
}
refused "a missing shard" "1 of the 3 shards of the run missing (shard 2)" "$tmp/s1" "$tmp/s3"
refused "a repeated shard" "are both shard 1 of 3" "$tmp/s1" "$tmp/s1" "$tmp/s2" "$tmp/s3"
"$COLDTOK" drift "${RUN[@]}" --shard 2/2 -o "$tmp/n2" >/dev/null 2>&1
refused "shard counts differ" "shards of different runs" "$tmp/s1" "$tmp/n2" "$tmp/s3"
other=("${RUN[@]}"); other[${#other[@]}-2]=100 # --bootstrap 100
"$COLDTOK" drift "${other[@]}" --shard 2/3 -o "$tmp/b2" >/dev/null 2>&1
refused "other settings" "'bootstrap 200' against 'bootstrap 100'" "$tmp/s1" "$tmp/b2" "$tmp/s3"
cp -r "$tmp/english" "$tmp/english2"
f=$(ls "$tmp/english"/*.txt | head -1); printf 'one more line\n' >> "$tmp/english2/${f##*/}"
mv "$tmp/english" "$tmp/english.orig" && mv "$tmp/english2" "$tmp/english" # same paths, one file changed
"$COLDTOK" drift "${RUN[@]}" --shard 2/3 -o "$tmp/c2" >/dev/null 2>&1
mv "$tmp/english" "$tmp/english2" && mv "$tmp/english.orig" "$tmp/english"
refused "a changed corpus file" "shards of different runs: 'corpus $f" "$tmp/s1" "$tmp/c2" "$tmp/s3"
mkdir -p "$tmp/cut" && head -c -5 "$tmp/s2/drift.shard" > "$tmp/cut/drift.shard"
refused "a truncated shard (a job that died)" "cut short" "$tmp/s1" "$tmp/cut" "$tmp/s3"
mkdir -p "$tmp/cut2" && head -c 60 "$tmp/s2/drift.shard" > "$tmp/cut2/drift.shard"
refused "a shard cut in its header" "cut short in its header" "$tmp/s1" "$tmp/cut2" "$tmp/s3"
mkdir -p "$tmp/flip" && cp "$tmp/s2/drift.shard" "$tmp/flip/" && size=$(stat -c %s "$tmp/flip/drift.shard")
printf '\x55' | dd of="$tmp/flip/drift.shard" bs=1 seek=$((size - 100)) conv=notrunc status=none # in a record
refused "a damaged record" "do not match their checksum" "$tmp/s1" "$tmp/flip" "$tmp/s3"
mkdir -p "$tmp/junk" && echo "not a shard" > "$tmp/junk/drift.shard"
refused "not a shard file" "not a drift shard file" "$tmp/s1" "$tmp/junk" "$tmp/s3"
refused "a folder without a shard" "$tmp/english/drift.shard" "$tmp/s1" "$tmp/english" "$tmp/s3"

# ---- drift refuses what it cannot shard ----
out=$("$COLDTOK" drift "${M[@]}" --corpus "$tmp/english" --ctx 64 --max-tokens 640 --bytes --shard 1/2 -o "$tmp/by" 2>&1); rc=$?
check "a per-byte variant can be sharded (tests/cli_shard_bytes.sh merges them)" '[ $rc -eq 0 ] && [ -s "$tmp/by/drift.shard" ]' "rc=$rc out=$out"

done_testing
