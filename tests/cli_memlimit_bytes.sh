#!/usr/bin/env bash
# coldtok drift --mem-limit with variants compared per byte (another vocabulary, or --bytes;
# analysis/drift_chunk.h, docs/scale.md "Bounded memory"): their windows join the chunk with the
# byte offsets of their scored tokens, the base and each per-byte variant spread their
# log-likelihoods into the files' ledgers when the chunk runs, one model resident at a time, and
# the bytes are summed after it in corpus order. Checked here against the default schedule, byte
# for byte (every CSV file, drift_corpus.csv's seconds row aside; the --positions file and the
# tables), for chunks of one window (a limit of 1 byte), of a few windows and of every window:
# per-byte variants mixed with variants on the base's vocabulary over every language of
# data/samples (--max-tokens, --bootstrap, --compare); --bytes over long files cut in many pieces,
# with and without --max-tokens; a per-byte variant whose tokens stop spelling a file part-way
# (its sums for that file are dropped); shards under --mem-limit merge into the same files. Peak RSS
# (skipped in a sanitizer build): five synthesized 43 MB models under --bytes --mem-limit 1M peak
# where two do and below two models, while the default schedule holds all five.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/drift_csv.sh" # same_csvs
: "${COLDTOK:?set COLDTOK to the binary under test}"
FIXROOT=${COLDTOK_FIXTURES:-../shared/fixtures}
S=$FIXROOT/models
ST=$S/stories260K
TIME=/usr/bin/time
# the sanitizer build is ~10x slower: there, fewer chunk sizes and no RSS checks
ASAN=0; [[ $COLDTOK == *asan* ]] && ASAN=1
tmp=$(mktemp -d /tmp/coldtok-memlimit-bytes.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$ST/stories260K-F32.gguf" ]; then
    skip "--mem-limit with per-byte variants" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi

tables() { printf '%s\n' "$1" | grep -Ev '^wrote |^[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ '; }
# bytes compared for variant V (all languages, all classes) in DIR/drift.csv
nbytes() { awk -F, -v v="$1" '$1 == v && $2 == "all" && $3 == "all" && $4 == "bytes" { print $5 }' "$2/drift.csv"; }

# ---- mixed: two variants on the base's vocabulary, two on another, every language ----
if [ -f "$S/synth-qwen2/synth-qwen2-F32.gguf" ] && [ -f "$S/synth-llama/synth-llama-F32.gguf" ]; then
    X=(-m "$S/synth-qwen2/synth-qwen2-F32.gguf" -m "$S/synth-llama/synth-llama-F32.gguf"
       -m "$S/synth-qwen2/synth-qwen2-Q4_K.gguf" -m "$S/synth-llama/synth-llama-Q8_0.gguf"
       -m "$S/synth-qwen2/synth-qwen2-Q8_0.gguf" --corpus data/samples --ctx 64 --max-tokens 832
       --bootstrap 100 --compare)
    out=$("$COLDTOK" drift "${X[@]}" -o "$tmp/xfull" --positions "$tmp/xfull.pos" 2>&1); rc=$?
    check "mixed vocabularies: the default schedule runs" '[ $rc -eq 0 ]' "rc=$rc out=$out"
    full_tables=$out
    b1=$(nbytes synth-llama-F32 "$tmp/xfull"); b2=$(nbytes synth-llama-Q8_0 "$tmp/xfull")
    check "mixed vocabularies: both other-vocabulary variants compare bytes ($b1, $b2)" \
        '[ -n "$b1" ] && [ "$b1" -gt 100 ] && [ "$b1" = "$b2" ]' "b1=$b1 b2=$b2"
    # --positions: 13 windows of 31 scored positions for the 2 variants on the base's vocabulary
    XLIMS="1 150K 1G"; [ $ASAN = 1 ] && XLIMS="150K"
    for lim in $XLIMS; do
        out=$("$COLDTOK" drift "${X[@]}" --mem-limit $lim -o "$tmp/x$lim" --positions "$tmp/x$lim.pos" 2>&1); rc=$?
        check "mixed vocabularies, --mem-limit $lim runs" '[ $rc -eq 0 ]' "rc=$rc out=$out"
        same_csvs "mixed vocabularies, --mem-limit $lim" "$tmp/xfull" "$tmp/x$lim"
        check "mixed vocabularies, --mem-limit $lim: the same --positions file" \
            'cmp -s "$tmp/xfull.pos" "$tmp/x$lim.pos" && [ $(wc -l < "$tmp/xfull.pos") -eq 807 ]' \
            "$(cmp "$tmp/xfull.pos" "$tmp/x$lim.pos" 2>&1)"
        check "mixed vocabularies, --mem-limit $lim: the same tables" '[ "$(tables "$out")" = "$(tables "$full_tables")" ]' \
            "$(diff <(tables "$full_tables") <(tables "$out"))"
    done
    # every window of two files (no draw): the per-byte lanes run all of theirs (not in the sanitizer build)
    mkdir -p "$tmp/pr"
    cp data/samples/python/* data/samples/rust/* "$tmp/pr/"
    Y=(-m "$S/synth-qwen2/synth-qwen2-F32.gguf" -m "$S/synth-qwen2/synth-qwen2-Q4_K.gguf"
       -m "$S/synth-llama/synth-llama-F32.gguf" --corpus "$tmp/pr" --ctx 128 --bootstrap 0)
    [ $ASAN = 1 ] || "$COLDTOK" drift "${Y[@]}" -o "$tmp/yfull" > /dev/null 2>&1
    YLIMS="1 300K"; [ $ASAN = 1 ] && YLIMS=""
    for lim in $YLIMS; do
        "$COLDTOK" drift "${Y[@]}" --mem-limit $lim -o "$tmp/y$lim" > /dev/null 2>&1; rc=$?
        check_status "every window, mixed vocabularies, --mem-limit $lim runs" $rc
        same_csvs "every window, mixed vocabularies, --mem-limit $lim" "$tmp/yfull" "$tmp/y$lim"
    done
    # --shard with a per-byte variant under --mem-limit: its two shards merge into the unsharded
    # run's CSV files (tests/cli_shard_bytes.sh checks such merges at length)
    out=$("$COLDTOK" drift "${X[@]}" --shard 1/2 --mem-limit 1M -o "$tmp/xs1" 2>&1 &&
          "$COLDTOK" drift "${X[@]}" --shard 2/2 --mem-limit 150K -o "$tmp/xs2" 2>&1 &&
          "$COLDTOK" merge "$tmp/xs2" "$tmp/xs1" -o "$tmp/xsm" 2>&1); rc=$?
    check "--mem-limit --shard with a per-byte variant: shards and merge run" '[ $rc -eq 0 ]' "rc=$rc out=$out"
    same_csvs "--mem-limit --shard with a per-byte variant, merged" "$tmp/xfull" "$tmp/xsm"
else
    skip "mixed vocabularies under --mem-limit" "synth-qwen2 / synth-llama fixtures absent"
fi

# ---- --bytes: every variant per byte, over long files read in many pieces ----
mkdir -p "$tmp/c"
if [ $ASAN = 1 ]; then cp data/samples/python/* "$tmp/c/"; else cp data/samples/python/* data/samples/c/* "$tmp/c/"; fi
cat "$tmp"/c/* > "$tmp/c/all.py" # one file of many chunks and pieces
B=(-m "$ST/stories260K-F32.gguf" -m "$ST/stories260K-Q4_0mix.gguf" -m "$ST/stories260K-Q8_0mix.gguf"
   --corpus "$tmp/c" --ctx 64 --bootstrap 0 --bytes)
DRAWS=("" "--max-tokens 2000"); [ $ASAN = 1 ] && DRAWS=("--max-tokens 2000")
for draw in "${DRAWS[@]}"; do
    COLDTOK_STREAM_PIECE=300 "$COLDTOK" drift "${B[@]}" $draw -o "$tmp/bfull" > /dev/null 2>&1
    nb=$(nbytes stories260K-Q4_0mix "$tmp/bfull")
    check "--bytes ${draw:-(every window)}: the default schedule compares bytes ($nb)" '[ -n "$nb" ] && [ "$nb" -gt 1000 ]' "nb=$nb"
    BLIMS="1 64K 1G"; [ $ASAN = 1 ] && BLIMS="64K"
    for lim in $BLIMS; do
        COLDTOK_STREAM_PIECE=300 "$COLDTOK" drift "${B[@]}" $draw --mem-limit $lim -o "$tmp/b$lim" > /dev/null 2>&1; rc=$?
        check_status "--bytes ${draw:-(every window)}, --mem-limit $lim runs" $rc
        same_csvs "--bytes ${draw:-(every window)}, --mem-limit $lim" "$tmp/bfull" "$tmp/b$lim"
    done
done

# ---- a per-byte variant whose tokens stop spelling a file part-way adds nothing for it ----
# (a Lowercase normalizer; a capital at the end of the second of three files: the first and third
# count, the second not, though the lane ran windows in it; the other per-byte variant counts all)
mkdir -p "$tmp/lc"
cat data/samples/python/* | tr 'A-Z' 'a-z' > "$tmp/lc/a_lower.py"
[ $ASAN = 1 ] && head -c 8000 "$tmp/lc/a_lower.py" > "$tmp/lc/a" && mv "$tmp/lc/a" "$tmp/lc/a_lower.py"
{ cat "$tmp/lc/a_lower.py"; echo "LATE = 1"; } > "$tmp/lc/b_late.py"
head -c 3000 "$tmp/lc/a_lower.py" > "$tmp/lc/c_lower.py"
STA=$(cd "$ST" && pwd)
printf 'name,path,kind,bits_per_weight,base,tokenizer\nbase,%s,base,,,\nlow,%s,quant,,base,%s\nq8,%s,quant,,base,\n' \
    "$STA/stories260K-F32.gguf" "$STA/stories260K-Q4_0mix.gguf" "$PWD/tests/data/stream2-lower/tokenizer.json" \
    "$STA/stories260K-Q8_0mix.gguf" > "$tmp/lc.csv" # (a manifest's paths are relative to it)
L=(--manifest "$tmp/lc.csv" --corpus "$tmp/lc" --ctx 64 --bootstrap 0 --bytes)
COLDTOK_STREAM_PIECE=300 "$COLDTOK" drift "${L[@]}" -o "$tmp/lfull" > /dev/null 2>&1
lo=$(nbytes low "$tmp/lfull"); q8=$(nbytes q8 "$tmp/lfull")
check "a lane that stops spelling a file: the default schedule drops that file ($lo < $q8 bytes)" \
    '[ -n "$lo" ] && [ "$lo" -gt 0 ] && [ "$q8" -gt $((lo * 3 / 2)) ]' "low $lo, q8 $q8"
LLIMS="1 20K"; [ $ASAN = 1 ] && LLIMS="20K"
for lim in $LLIMS; do
    COLDTOK_STREAM_PIECE=300 "$COLDTOK" drift "${L[@]}" --mem-limit $lim -o "$tmp/l$lim" > /dev/null 2>&1; rc=$?
    check_status "a lane that stops spelling a file, --mem-limit $lim runs" $rc
    same_csvs "a lane that stops spelling a file, --mem-limit $lim" "$tmp/lfull" "$tmp/l$lim"
done

# ---- peak memory: one model resident at a time, per-byte variants too ----
if [ $ASAN = 1 ]; then
    skip "peak RSS under --bytes --mem-limit" "sanitizer build (its shadow memory is no measure)"
elif [ ! -x "$TIME" ]; then
    skip "peak RSS under --bytes --mem-limit" "no $TIME"
else
    # five models of ~44 MB (F32, byte vocabulary: the weights are nearly all of it), other seeds
    D="embd=512,layers=4,ff=1536,heads=8,kv_heads=2"
    for s in 1 2 3 4 5; do "$COLDTOK" synth --preset tiny-qwen2 --dims "$D" --type F32 --seed $s -o "$tmp/w$s.gguf" > /dev/null 2>&1; done
    size=$(($(stat -c %s "$tmp/w1.gguf") / 1024))
    rss() { "$TIME" -f '%M' -o "$tmp/rss" "$@"; local rc=$?; RSS=$(tail -1 "$tmp/rss"); return $rc; }
    C=(--corpus data/samples/python --ctx 64 --max-tokens 640 --bootstrap 0 --bytes)
    W5=(-m "$tmp/w1.gguf" -m "$tmp/w2.gguf" -m "$tmp/w3.gguf" -m "$tmp/w4.gguf" -m "$tmp/w5.gguf")
    rss "$COLDTOK" drift -m "$tmp/w1.gguf" -m "$tmp/w2.gguf" "${C[@]}" --mem-limit 1M -o "$tmp/p2" > /dev/null 2>&1; p2=$RSS
    rss "$COLDTOK" drift "${W5[@]}" "${C[@]}" --mem-limit 1M -o "$tmp/p5" > /dev/null 2>&1; rc=$?; p5=$RSS
    rss "$COLDTOK" drift "${W5[@]}" "${C[@]}" -o "$tmp/d5" > /dev/null 2>&1; d5=$RSS
    echo "# --bytes: model ${size} KiB; peak RSS KiB: --mem-limit 1M with 2 models $p2, with 5 models $p5; default schedule with 5 models $d5"
    check_status "--bytes --mem-limit: 5 models run" $rc
    same_csvs "--bytes --mem-limit 1M, 5 models" "$tmp/d5" "$tmp/p5"
    nb=$(nbytes w5 "$tmp/p5")
    check "--bytes --mem-limit, 5 models: the last variant compares bytes ($nb)" '[ -n "$nb" ] && [ "$nb" -gt 200 ]' "nb=$nb"
    check "--bytes --mem-limit: 3 more variants add less than a quarter of a model to the peak ($p2 -> $p5 KiB)" \
        '[ $((p5 - p2)) -lt $((size / 4)) ]' "p2=$p2 p5=$p5 model=$size"
    check "--bytes --mem-limit: peak below two models ($p5 KiB)" '[ $p5 -lt $((2 * size + 16384)) ]' "p5=$p5 model=$size"
    check "--bytes, the default schedule holds them all: 3 models more than --mem-limit ($d5 KiB)" \
        '[ $((d5 - p5)) -gt $((3 * size)) ]' "d5=$d5 p5=$p5 model=$size"
fi
done_testing
