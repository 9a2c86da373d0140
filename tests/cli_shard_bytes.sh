#!/usr/bin/env bash
# coldtok drift --shard I/N with variants compared per byte (--bytes, or another vocabulary) and
# coldtok merge (issue 16, docs/scale.md): the merged shards give every CSV file of the unsharded
# run byte for byte (drift_corpus.csv's seconds aside), with and without --max-tokens, for 2 and 3
# shards: the per-byte totals are sums of doubles in byte order, which the merge replays from the
# shards' byte records; tokens of a per-byte variant are the windows it really ran (their union).
# A per-byte variant whose tokens stop spelling a file (a Lowercase normalizer, a capital near the
# end) adds nothing for that file in the unsharded run; every shard must decide the same, reading
# as far as the unsharded run does (the t*.py files below put the capital in the last window, past
# the last window of all shards but one). Merge refuses shards of different runs, old shard files,
# damaged or cut-short per-byte records, with one line and nothing written. Shards run under
# --mem-limit (per-byte sums deferred to the chunks) merge into the same files.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/drift_csv.sh" # same_csvs
: "${COLDTOK:?set COLDTOK to the binary under test}"
FIX=${COLDTOK_FIXTURES:-../shared/fixtures}/models
ST=$FIX/stories260K
tmp=$(mktemp -d /tmp/coldtok-shard-bytes.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
asan=0
[[ $COLDTOK == *asan* ]] && asan=1

if [ ! -f "$ST/stories260K-F32.gguf" ]; then
    skip "per-byte shards" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi

# sharded NAME N TAG ARGS...: runs the N shards of drift ARGS into $tmp/TAG.I, merges them into
# $tmp/TAG.mN and compares with the unsharded run $tmp/TAG.full (run first by the caller)
sharded() {
    local name=$1 N=$2 tag=$3 i rc out dirs=()
    shift 3
    for i in $(seq "$N"); do
        out=$("$COLDTOK" drift "$@" --shard "$i/$N" -o "$tmp/$tag.$N.$i" 2>&1); rc=$?
        [ $rc -eq 0 ] || { notok "$name, $N shards: shard $i/$N runs" "rc=$rc" "$out"; return; }
        dirs+=("$tmp/$tag.$N.$i")
    done
    out=$("$COLDTOK" merge "${dirs[@]}" -o "$tmp/$tag.m$N" 2>&1); rc=$?
    check_status "$name, $N shards: merge runs" $rc "$out"
    same_csvs "$name, $N shards" "$tmp/$tag.full" "$tmp/$tag.m$N"
}

# full TAG ARGS...: the unsharded run
full() {
    local tag=$1 rc out
    shift
    out=$("$COLDTOK" drift "$@" -o "$tmp/$tag.full" 2>&1); rc=$?
    check_status "$tag: the unsharded run" $rc "$out"
}

# ---- --bytes on the base's vocabulary ----
mkdir -p "$tmp/py"
if [ $asan = 1 ]; then cp data/samples/python/context.py data/samples/python/minicompat.py "$tmp/py/"
else cp data/samples/python/* "$tmp/py/"; fi
B=(-m "$ST/stories260K-F32.gguf" -m "$ST/stories260K-F16.gguf" -m "$ST/stories260K-Q4_0mix.gguf"
   --corpus "$tmp/py" --ctx 64 --bootstrap 50 --bytes)
full bytes "${B[@]}"
grep -q '^stories260K-Q4_0mix,all,all,bytes,[1-9]' "$tmp/bytes.full/drift.csv"
check_status "--bytes: the variants are compared per byte" $?
sharded "--bytes" 2 bytes "${B[@]}"
sharded "--bytes" 3 bytes "${B[@]}"
full bytesmt "${B[@]}" --max-tokens 2000 --seed 7
sharded "--bytes --max-tokens 2000" 2 bytesmt "${B[@]}" --max-tokens 2000 --seed 7
sharded "--bytes --max-tokens 2000" 3 bytesmt "${B[@]}" --max-tokens 2000 --seed 7
# shards run under --mem-limit (their per-byte sums wait for the chunks: docs/scale.md) merge alike
cp -r "$tmp/bytesmt.full" "$tmp/bytesml.full"
sharded "--bytes --max-tokens 2000, shards under --mem-limit 1" 2 bytesml "${B[@]}" --max-tokens 2000 --seed 7 --mem-limit 1
cp -r "$tmp/bytes.full" "$tmp/bytesml2.full"
sharded "--bytes, shards under --mem-limit 300K" 3 bytesml2 "${B[@]}" --mem-limit 300K

# ---- a per-byte variant that stops spelling files (tests/data/stream2-lower: a Lowercase
# normalizer): one clean file, and capitals at several distances from the end of a file ----
mkdir -p "$tmp/lc"
cat data/samples/python/* | tr 'A-Z' 'a-z' > "$tmp/low.txt"
head -c 8000 "$tmp/low.txt" > "$tmp/lc/a_lower.py"
tails="30 70 110 150 190 230"
[ $asan = 1 ] && tails="70 150"
for t in $tails; do { head -c 3000 "$tmp/low.txt"; printf '\nTAIL = 1\n'; tail -c "$t" "$tmp/low.txt"; } > "$tmp/lc/t$t.py"; done
STA=$(cd "$ST" && pwd)
printf 'name,path,kind,bits_per_weight,base,tokenizer\nbase,%s,base,,,\nlow,%s,quant,,base,%s\nq8,%s,quant,,base,\n' \
    "$STA/stories260K-F32.gguf" "$STA/stories260K-Q4_0mix.gguf" "$PWD/tests/data/stream2-lower/tokenizer.json" \
    "$STA/stories260K-Q8_0mix.gguf" > "$tmp/lc.csv"
L=(--manifest "$tmp/lc.csv" --corpus "$tmp/lc" --ctx 64 --bootstrap 0 --bytes)
export COLDTOK_STREAM_PIECE=300 # pieces of a few lines: where a lane stops reading matters
# every window drawn: the unsharded run reads each file up to its last window's end
full lcall "${L[@]}" --max-tokens 100000000
lo=$(awk -F, '$1 == "low" && $2 == "all" && $3 == "all" && $4 == "bytes" { print $5 }' "$tmp/lcall.full/drift.csv")
q8=$(awk -F, '$1 == "q8" && $2 == "all" && $3 == "all" && $4 == "bytes" { print $5 }' "$tmp/lcall.full/drift.csv")
check "the lowercasing variant compares only the file it spells ($lo bytes, q8 $q8)" \
    '[ -n "$lo" ] && [ "$lo" -gt 0 ] && [ "$q8" -gt $((lo * 3 / 2)) ]' "low $lo, q8 $q8"
sharded "a variant that stops spelling files, every window drawn" 2 lcall "${L[@]}" --max-tokens 100000000
sharded "a variant that stops spelling files, every window drawn" 3 lcall "${L[@]}" --max-tokens 100000000
full lcmt "${L[@]}" --max-tokens 1500 --seed 3
sharded "a variant that stops spelling files, --max-tokens 1500" 3 lcmt "${L[@]}" --max-tokens 1500 --seed 3
full lc "${L[@]}"
sharded "a variant that stops spelling files, no draw" 2 lc "${L[@]}"
unset COLDTOK_STREAM_PIECE

# ---- another vocabulary: synth-qwen2 F32, its Q4_K (per position) and synth-llama (per byte) ----
SY=$FIX
if [ $asan = 0 ] && [ -f "$SY/synth-qwen2/synth-qwen2-F32.gguf" ] && [ -f "$SY/synth-llama/synth-llama-F32.gguf" ]; then
    mkdir -p "$tmp/x"
    cat data/samples/python/* data/samples/rust/* > "$tmp/x/code.py"
    cp data/samples/c/* "$tmp/x/"
    X=(-m "$SY/synth-qwen2/synth-qwen2-F32.gguf" -m "$SY/synth-qwen2/synth-qwen2-Q4_K.gguf"
       -m "$SY/synth-llama/synth-llama-F32.gguf" --corpus "$tmp/x" --ctx 128 --bootstrap 20 --compare)
    full other "${X[@]}" --positions "$tmp/other.pos"
    grep -q '^synth-llama-F32,all,all,bpb_variant,[0-9]' "$tmp/other.full/drift.csv"
    check_status "another vocabulary: synth-llama is compared per byte" $?
    sharded "another vocabulary" 2 other "${X[@]}"
    sharded "another vocabulary" 3 other "${X[@]}"
    out=$("$COLDTOK" merge "$tmp/other.3.2" "$tmp/other.3.3" "$tmp/other.3.1" -o "$tmp/other.mp" --positions "$tmp/other.mp.pos" 2>&1); rc=$?
    check "another vocabulary: merge --positions, the unsharded run's file (the per-position variant's)" \
        '[ $rc -eq 0 ] && cmp -s "$tmp/other.pos" "$tmp/other.mp.pos" && [ $(wc -l < "$tmp/other.pos") -gt 1000 ]' \
        "rc=$rc $out $(cmp "$tmp/other.pos" "$tmp/other.mp.pos")"
    full othermt "${X[@]}" --max-tokens 3000 --seed 11
    sharded "another vocabulary, --max-tokens 3000" 2 othermt "${X[@]}" --max-tokens 3000 --seed 11
    sharded "another vocabulary, --max-tokens 3000" 3 othermt "${X[@]}" --max-tokens 3000 --seed 11
    cp -r "$tmp/othermt.full" "$tmp/otherml.full"
    sharded "another vocabulary, --max-tokens 3000, shards under --mem-limit 100K" 2 otherml "${X[@]}" \
        --max-tokens 3000 --seed 11 --mem-limit 100K
    few=$(awk -F, '$1 == "synth-llama-F32" { print $8 }' "$tmp/othermt.full/drift_models.csv")
    all=$(awk -F, '$1 == "synth-llama-F32" { print $8 }' "$tmp/other.full/drift_models.csv")
    check "another vocabulary, --max-tokens: the per-byte variant ran fewer windows ($few of $all tokens)" \
        '[ -n "$few" ] && [ "$few" -gt 0 ] && [ "$few" -lt "$all" ]' "$few of $all"
else
    skip "another vocabulary" "$([ $asan = 1 ] && echo "light under ASan" || echo "synth fixtures absent")"
fi

# ---- refusals: one line, exit 1, nothing written ----
refused() { # NAME WANT SHARDS...
    local name=$1 want=$2 out rc
    shift 2
    rm -rf "$tmp/no"
    out=$("$COLDTOK" merge "$@" -o "$tmp/no" 2>&1); rc=$?
    check "refused: $name" '[ $rc -eq 1 ] && [[ $out == *"$want"* ]] && [ $(printf "%s\n" "$out" | wc -l) -eq 1 ] && [ ! -e "$tmp/no" ]' \
        "rc=$rc out=$out"
}
refused "shards of a --bytes run and of its --max-tokens run" "shards of different runs: 'max_tokens 0' against 'max_tokens 2000'" \
    "$tmp/bytes.2.1" "$tmp/bytesmt.2.2"
"$COLDTOK" drift "${B[@]:0:${#B[@]}-1}" --shard 2/2 -o "$tmp/nobytes" > /dev/null 2>&1
refused "shards of a --bytes run and of the run without it" "shards of different runs: 'bytes 1' against 'bytes 0'" \
    "$tmp/bytes.2.1" "$tmp/nobytes"
S=$tmp/bytes.2.2/drift.shard
size=$(stat -c %s "$S")
cp "$S" "$tmp/flip.shard"
printf '\x55' | dd of="$tmp/flip.shard" bs=1 seek=$((size - 40)) conv=notrunc 2> /dev/null # a per-byte record
refused "a damaged per-byte record" "flip.shard: its contents do not match their checksum" "$tmp/bytes.2.1" "$tmp/flip.shard"
head -c $((size - 100)) "$S" > "$tmp/cut.shard"
refused "per-byte records cut short" "cut.shard: cut short:" "$tmp/bytes.2.1" "$tmp/cut.shard"
cp "$S" "$tmp/v1.shard"
printf '\x01' | dd of="$tmp/v1.shard" bs=1 seek=8 conv=notrunc 2> /dev/null
refused "a shard file of version 1" "v1.shard: shard file version 1, this coldtok reads version 2" "$tmp/bytes.2.1" "$tmp/v1.shard"

done_testing
