#!/usr/bin/env bash
# coldtok drift --mem-limit (analysis/drift_chunk.h, docs/scale.md): the bounded-memory schedule
# (chunks of windows: the base once, its logits kept, then each variant in turn, one model resident
# at a time) writes the default schedule's CSV files byte for byte (drift_corpus.csv's seconds row
# aside) and its --positions file, whatever the chunk: one window (a limit of 1 byte), a few
# windows, every window; with --max-tokens, --seed, --bootstrap, --compare, every language of
# data/samples, and --shard. Its peak resident memory does not grow with the number of variants,
# where the default schedule's grows by one model each. Bad sizes are refused in one line; variants
# compared per byte (another vocabulary, --bytes) run (tests/cli_memlimit_bytes.sh checks them).
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/drift_csv.sh" # same_csvs
: "${COLDTOK:?set COLDTOK to the binary under test}"
FIXROOT=${COLDTOK_FIXTURES:-../shared/fixtures}
FIX=$FIXROOT/models/stories260K
S=$FIXROOT/models
TIME=/usr/bin/time
# the sanitizer build is ~10x slower: there, fewer chunk sizes and no shards or RSS checks
ASAN=0; [[ $COLDTOK == *asan* ]] && ASAN=1
tmp=$(mktemp -d /tmp/coldtok-memlimit.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- bad sizes: exit 2, one line naming the option ----
touch "$tmp/a.gguf" "$tmp/b.gguf"
for bad in 0 -1 12X 1.5G "" 1024T 99999999999999999999 0K M 1GB2 " 4G"; do
    out=$("$COLDTOK" drift -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp" --mem-limit "$bad" 2>&1); rc=$?
    # one line saying what is wrong, then the usual pointer to --help
    check "--mem-limit '$bad' refused in one line" \
        '[ $rc -eq 2 ] && [[ $(printf "%s\n" "$out" | head -1) == *"--mem-limit takes a size"*"(got $bad)" ]] && [ "$(printf "%s\n" "$out" | sed 1d)" = "try '"'"'coldtok drift --help'"'"'" ]' "rc=$rc out=$out"
done
out=$("$COLDTOK" drift --help 2>&1)
check "--help names --mem-limit" '[[ $out == *"--mem-limit SIZE"* ]]' "$out"

if [ ! -f "$FIX/stories260K-F32.gguf" ]; then
    skip "--mem-limit runs" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi

# ---- stories260K, three models: 30 windows of 64 tokens (a window's buffer is ~64 KiB) ----
M=(-m "$FIX/stories260K-F32.gguf" -m "$FIX/stories260K-F16.gguf" -m "$FIX/stories260K-Q4_0mix.gguf")
cp -r data/samples/english "$tmp/english"
RUN=("${M[@]}" --corpus "$tmp/english" --ctx 64 --max-tokens 1920 --seed 7 --bootstrap 200 --compare)
out=$("$COLDTOK" drift "${RUN[@]}" -o "$tmp/full" --positions "$tmp/full.pos" 2>&1); rc=$?
check "default schedule runs" '[ $rc -eq 0 ]' "rc=$rc out=$out"
full_tables=$out
tables() { printf '%s\n' "$1" | grep -Ev '^wrote |^[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ '; }
# 1 byte: every chunk one window; 200K: chunks of 3 windows; 1G: one chunk of all 30
LIMS="1 200K 1G"; [ $ASAN = 1 ] && LIMS="1 200K"
for lim in $LIMS; do
    out=$("$COLDTOK" drift "${RUN[@]}" --mem-limit $lim -o "$tmp/m$lim" --positions "$tmp/m$lim.pos" 2>&1); rc=$?
    check "--mem-limit $lim runs" '[ $rc -eq 0 ]' "rc=$rc out=$out"
    same_csvs "--mem-limit $lim" "$tmp/full" "$tmp/m$lim"
    check "--mem-limit $lim: the same --positions file" 'cmp -s "$tmp/full.pos" "$tmp/m$lim.pos" && [ $(wc -l < "$tmp/full.pos") -eq 1861 ]' \
        "$(cmp "$tmp/full.pos" "$tmp/m$lim.pos" 2>&1)"
    check "--mem-limit $lim: the same tables" '[ "$(tables "$out")" = "$(tables "$full_tables")" ]' \
        "$(diff <(tables "$full_tables") <(tables "$out"))"
done

# shards under --mem-limit merge into the default schedule's run
[ $ASAN = 1 ] || for i in 1 2; do "$COLDTOK" drift "${RUN[@]}" --mem-limit 150K --shard $i/2 -o "$tmp/s$i" > /dev/null 2>&1; done
if [ $ASAN = 0 ]; then
    out=$("$COLDTOK" merge "$tmp/s1" "$tmp/s2" -o "$tmp/merged" 2>&1); rc=$?
    check "--mem-limit with --shard: the shards merge" '[ $rc -eq 0 ]' "rc=$rc out=$out"
    same_csvs "--mem-limit shards merged" "$tmp/full" "$tmp/merged"
fi

# ---- every language of data/samples, two variants; per-byte variants refused ----
if [ -f "$S/synth-qwen2/synth-qwen2-F32.gguf" ] && [ -f "$S/synth-llama/synth-llama-F32.gguf" ]; then
    X=(-m "$S/synth-qwen2/synth-qwen2-F32.gguf" -m "$S/synth-qwen2/synth-qwen2-Q4_K.gguf" -m "$S/synth-qwen2/synth-qwen2-Q8_0.gguf"
       --corpus data/samples --ctx 64 --max-tokens 832 --bootstrap 100 --compare)
    "$COLDTOK" drift "${X[@]}" -o "$tmp/xfull" --positions "$tmp/xfull.pos" > /dev/null 2>&1
    XLIMS="1 150K"; [ $ASAN = 1 ] && XLIMS="150K"
    for lim in $XLIMS; do
        out=$("$COLDTOK" drift "${X[@]}" --mem-limit $lim -o "$tmp/x$lim" --positions "$tmp/x$lim.pos" 2>&1); rc=$?
        check "13 languages, --mem-limit $lim runs" '[ $rc -eq 0 ]' "rc=$rc out=$out"
        same_csvs "13 languages, --mem-limit $lim" "$tmp/xfull" "$tmp/x$lim"
        check "13 languages, --mem-limit $lim: the same --positions file" 'cmp -s "$tmp/xfull.pos" "$tmp/x$lim.pos"' \
            "$(cmp "$tmp/xfull.pos" "$tmp/x$lim.pos" 2>&1)"
    done
    # a variant compared per byte runs under --mem-limit too (tests/cli_memlimit_bytes.sh compares its CSV files)
    for extra in "-m $S/synth-llama/synth-llama-F32.gguf" "--bytes"; do
        out=$("$COLDTOK" drift "${X[@]}" $extra --mem-limit 1M -o "$tmp/xb" 2>&1); rc=$?
        check "--mem-limit with a per-byte variant ($extra) runs" '[ $rc -eq 0 ] && [ -s "$tmp/xb/drift.csv" ]' "rc=$rc out=$out"
    done
else
    skip "13 languages under --mem-limit" "synth-qwen2 / synth-llama fixtures absent"
fi

# ---- peak memory: one model resident at a time ----
if [ $ASAN = 1 ]; then
    skip "peak RSS under --mem-limit" "sanitizer build (its shadow memory is no measure)"
elif [ ! -x "$TIME" ]; then
    skip "peak RSS under --mem-limit" "no $TIME"
else
    # five models of ~44 MB (F32, byte vocabulary: the weights are nearly all of it); variants of
    # other seeds, so that there is drift to compute
    D="embd=512,layers=4,ff=1536,heads=8,kv_heads=2"
    for s in 1 2 3 4 5; do "$COLDTOK" synth --preset tiny-qwen2 --dims "$D" --type F32 --seed $s -o "$tmp/w$s.gguf" > /dev/null 2>&1; done
    size=$(($(stat -c %s "$tmp/w1.gguf") / 1024))
    rss() { "$TIME" -f '%M' -o "$tmp/rss" "$@"; local rc=$?; RSS=$(tail -1 "$tmp/rss"); return $rc; }
    C=(--corpus data/samples/python --ctx 64 --max-tokens 640 --bootstrap 0)
    rss "$COLDTOK" drift -m "$tmp/w1.gguf" -m "$tmp/w2.gguf" "${C[@]}" --mem-limit 1M -o "$tmp/p2" > /dev/null 2>&1; p2=$RSS
    rss "$COLDTOK" drift -m "$tmp/w1.gguf" -m "$tmp/w2.gguf" -m "$tmp/w3.gguf" -m "$tmp/w4.gguf" -m "$tmp/w5.gguf" "${C[@]}" \
        --mem-limit 1M -o "$tmp/p5" > /dev/null 2>&1; rc=$?; p5=$RSS
    rss "$COLDTOK" drift -m "$tmp/w1.gguf" -m "$tmp/w2.gguf" -m "$tmp/w3.gguf" -m "$tmp/w4.gguf" -m "$tmp/w5.gguf" "${C[@]}" \
        -o "$tmp/d5" > /dev/null 2>&1; d5=$RSS
    echo "# model ${size} KiB; peak RSS KiB: --mem-limit 1M with 2 models $p2, with 5 models $p5; default schedule with 5 models $d5"
    check "--mem-limit: 5 models run" '[ $rc -eq 0 ]' "rc=$rc"
    same_csvs "--mem-limit 1M, 5 models" "$tmp/d5" "$tmp/p5"
    check "--mem-limit: 3 more variants add less than a quarter of a model to the peak ($p2 -> $p5 KiB)" \
        '[ $((p5 - p2)) -lt $((size / 4)) ]' "p2=$p2 p5=$p5 model=$size"
    check "--mem-limit: peak below two models ($p5 KiB)" '[ $p5 -lt $((2 * size + 16384)) ]' "p5=$p5 model=$size"
    check "the default schedule holds them all: 3 models more than --mem-limit ($d5 KiB)" \
        '[ $((d5 - p5)) -gt $((3 * size)) ]' "d5=$d5 p5=$p5 model=$size"
fi
done_testing
