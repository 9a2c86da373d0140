#!/usr/bin/env bash
# Bounded memory on big inputs, part 2 (issue 17): drift's variants compared per byte (another
# vocabulary, or --bytes) are streamed like the same-vocabulary path (analysis/drift.c's lanes,
# analysis/drift_stream.c). Here: the CSV files of a run in tiny pieces (COLDTOK_STREAM_PIECE) are
# byte for byte those of the run in one piece per file (the whole-file pass the code replaced
# computed the same sums in the same order); under --max-tokens the per-byte variant runs only
# the windows that meet a byte the base scored, with the same byte totals; and the peak memory of
# a per-byte run does not grow with a corpus file's size (skipped in a sanitizer build, as
# tests/cli_stream.sh does).
. "$(dirname "$0")/tap.sh"
COLDTOK=${COLDTOK:-build/coldtok}
FIXROOT=${COLDTOK_FIXTURES:-../shared/fixtures}
ST=$FIXROOT/models/stories260K
SY=$FIXROOT/models
TIME=/usr/bin/time
tmp=$(mktemp -d /tmp/coldtok-stream2.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
asan=0
[[ $COLDTOK == *asan* ]] && asan=1

# the CSV files of two result folders, the wall time aside
same_csv() { # NAME DIR1 DIR2
    local f bad=""
    for f in "$2"/*.csv; do
        if ! diff <(grep -v '^seconds,' "$f") <(grep -v '^seconds,' "$3/$(basename "$f")") > /dev/null; then
            bad="$bad $(basename "$f")"
        fi
    done
    local dir=$2
    check "$1" '[ -z "$bad" ] && [ -s "$dir/drift.csv" ]' "differ:$bad"
}

# ---- per byte, streamed = one piece per file ----
if [ -f "$ST/stories260K-F32.gguf" ]; then
    mkdir -p "$tmp/c"
    if [ $asan = 1 ]; then cp data/samples/python/* "$tmp/c/"; else cp data/samples/python/* data/samples/c/* "$tmp/c/"; fi
    # one file of many pieces: every sample, one after the other
    cat "$tmp"/c/* > "$tmp/c/all.py"
    B=(-m "$ST/stories260K-F32.gguf" -m "$ST/stories260K-Q4_0mix.gguf" -m "$ST/stories260K-Q8_0mix.gguf"
       --corpus "$tmp/c" --ctx 64 --bootstrap 0 --bytes)
    COLDTOK_STREAM_PIECE=100000000 COLDTOK_STREAM_LIMIT=100000000 "$COLDTOK" drift "${B[@]}" -o "$tmp/whole" > /dev/null 2>&1
    check_status "--bytes, one piece per file: runs" $?
    COLDTOK_STREAM_PIECE=200 "$COLDTOK" drift "${B[@]}" -o "$tmp/tiny" > "$tmp/out" 2>&1
    check_status "--bytes, 200-byte pieces: runs" $? "$(tail -2 "$tmp/out")"
    same_csv "--bytes: the CSV files in 200-byte pieces = in one piece per file" "$tmp/whole" "$tmp/tiny"
    nb=$(awk -F, '$1 == "stories260K-Q4_0mix" && $2 == "all" && $3 == "all" && $4 == "bytes" { print $5 }' "$tmp/tiny/drift.csv")
    check "--bytes: the bytes of the whole corpus are compared ($nb)" \
        "[ -n '$nb' ] && [ '$nb' -gt $(($(cat "$tmp"/c/* | wc -c) / 4)) ]" "$nb bytes"
    # the draw: the same byte totals whether the per-byte lanes run every window or only the
    # ones that meet a byte the base scored; the variant then evaluates far fewer tokens
    COLDTOK_STREAM_PIECE=300 "$COLDTOK" drift "${B[@]}" --max-tokens 2000 -o "$tmp/mt" > /dev/null 2>&1
    check_status "--bytes --max-tokens: runs" $?
    all=$(awk -F, '$1 == "stories260K-Q4_0mix" { print $8 }' "$tmp/whole/drift_models.csv")
    few=$(awk -F, '$1 == "stories260K-Q4_0mix" { print $8 }' "$tmp/mt/drift_models.csv")
    check "--bytes --max-tokens 2000: the variant evaluates a few windows ($few tokens, $all without the draw)" \
        "[ -n '$few' ] && [ '$few' -gt 0 ] && [ '$few' -le 4000 ] && [ '$few' -lt '$all' ]" "$few of $all"
    b1=$(awk -F, '$1 == "stories260K-Q4_0mix" && $2 == "all" && $4 == "bytes" { print $5 }' "$tmp/mt/drift.csv" | paste -sd' ')
    b2=$(awk -F, '$1 == "stories260K-Q8_0mix" && $2 == "all" && $4 == "bytes" { print $5 }' "$tmp/mt/drift.csv" | paste -sd' ')
    is "--bytes --max-tokens: both variants compared on the same bytes (every class)" "$b1" "$b2"

    # a per-byte variant whose tokens stop spelling a file part-way (a Lowercase normalizer, a
    # capital at the file's end) adds nothing for that file, though its lane ran windows there:
    # its totals are those of the one file it spells
    mkdir -p "$tmp/lc" "$tmp/lc1"
    cat data/samples/python/* | tr 'A-Z' 'a-z' > "$tmp/lc/a_lower.py"
    { cat "$tmp/lc/a_lower.py"; echo "LATE = 1"; } > "$tmp/lc/b_late.py"
    cp "$tmp/lc/a_lower.py" "$tmp/lc1/"
    STA=$(cd "$ST" && pwd)
    printf 'name,path,kind,bits_per_weight,base,tokenizer\nbase,%s,base,,,\nlow,%s,quant,,base,%s\nq8,%s,quant,,base,\n' \
        "$STA/stories260K-F32.gguf" "$STA/stories260K-Q4_0mix.gguf" "$PWD/tests/data/stream2-lower/tokenizer.json" \
        "$STA/stories260K-Q8_0mix.gguf" > "$tmp/lc.csv" # (a manifest's paths are relative to it)
    L=(--manifest "$tmp/lc.csv" --ctx 64 --bootstrap 0 --bytes)
    COLDTOK_STREAM_PIECE=300 "$COLDTOK" drift "${L[@]}" --corpus "$tmp/lc" -o "$tmp/lco" > "$tmp/out" 2>&1
    check_status "a variant that stops spelling a file: runs" $? "$(tail -2 "$tmp/out")"
    "$COLDTOK" drift "${L[@]}" --corpus "$tmp/lc1" -o "$tmp/lc1o" > /dev/null 2>&1
    one=$(grep '^low,all,all,' "$tmp/lc1o/drift.csv"; awk -F, '$1 == "low" { print $8 }' "$tmp/lc1o/drift_models.csv")
    two=$(grep '^low,all,all,' "$tmp/lco/drift.csv"; awk -F, '$1 == "low" { print $8 }' "$tmp/lco/drift_models.csv")
    check "a variant that stops spelling a file at its end: its totals are those of the file it spells" \
        '[ -n "$one" ] && [ "$one" = "$two" ]' "$(printf 'one file:\n%s\nboth:\n%s' "$one" "$two")"
    q8=$(awk -F, '$1 == "q8" && $2 == "all" && $3 == "all" && $4 == "bytes" { print $5 }' "$tmp/lco/drift.csv")
    lo=$(awk -F, '$1 == "low" && $2 == "all" && $3 == "all" && $4 == "bytes" { print $5 }' "$tmp/lco/drift.csv")
    check "a variant that stops spelling a file: the other per-byte variant compares both files ($q8 > $lo bytes)" \
        '[ -n "$lo" ] && [ "$lo" -gt 0 ] && [ "$q8" -gt $((lo * 3 / 2)) ]' "q8 $q8, low $lo"
else
    skip "per-byte streaming" "fixtures absent (set COLDTOK_FIXTURES)"
fi

# another vocabulary: synth-qwen2 (Qwen2 byte-level BPE) against synth-llama (SentencePiece)
if [ $asan = 0 ] && [ -f "$SY/synth-qwen2/synth-qwen2-F32.gguf" ] && [ -f "$SY/synth-llama/synth-llama-F32.gguf" ]; then
    mkdir -p "$tmp/x"
    cat data/samples/python/* data/samples/rust/* > "$tmp/x/code.py"
    X=(-m "$SY/synth-qwen2/synth-qwen2-F32.gguf" -m "$SY/synth-qwen2/synth-qwen2-Q4_K.gguf"
       -m "$SY/synth-llama/synth-llama-F32.gguf" --corpus "$tmp/x" --ctx 128 --bootstrap 0)
    COLDTOK_STREAM_PIECE=100000000 COLDTOK_STREAM_LIMIT=100000000 "$COLDTOK" drift "${X[@]}" -o "$tmp/xw" > /dev/null 2>&1
    check_status "another vocabulary, one piece: runs" $?
    COLDTOK_STREAM_PIECE=500 "$COLDTOK" drift "${X[@]}" -o "$tmp/xt" > /dev/null 2>&1
    check_status "another vocabulary, 500-byte pieces: runs" $?
    same_csv "another vocabulary: the CSV files in 500-byte pieces = in one piece" "$tmp/xw" "$tmp/xt"
    grep -q '^synth-llama-F32,all,all,bpb_variant,[0-9]' "$tmp/xt/drift.csv"
    check_status "another vocabulary: compared per byte" $?
else
    skip "another vocabulary, streamed" "$([ $asan = 1 ] && echo "light under ASan" || echo "fixtures absent")"
fi

# ---- coverage: keyword lists read a line at a time, a line of at most 1024 bytes ----
TK=tests/data/tiny-bytelevel-tokenizer.json
{ printf 'python\tdef\n'; printf 'python\t'; head -c 2000 /dev/zero | tr '\0' x; printf '\n'; } > "$tmp/long.tsv"
out=$("$COLDTOK" coverage -t "$TK" --keywords "$tmp/long.tsv" 2>&1); rc=$?
is "coverage: a 2007-byte keyword line is refused, naming the file and line" \
    "1 coldtok coverage: $tmp/long.tsv:2: a line longer than 1024 bytes (a list holds one keyword a line)" "$rc $out"
# many distinct keywords load in linear time (the duplicate check was a linear search per word)
n_kw=20000
[ $asan = 1 ] && n_kw=4000
awk -v n=$n_kw 'BEGIN { for (i = 0; i < n; i++) printf "python\tw%d\n", i; print "python\tw7" }' > "$tmp/many.tsv"
"$COLDTOK" coverage -t "$TK" --keywords "$tmp/many.tsv" --csv "$tmp/many.csv" > /dev/null 2>&1
check_status "coverage: $n_kw keywords (one repeated) load" $?
is "coverage: one row per distinct keyword" "$n_kw" "$(($(wc -l < "$tmp/many.csv") - 1))"

if [ ! -x "$TIME" ] || [ $asan = 1 ] || [ ! -f "$ST/stories260K-F32.gguf" ]; then
    skip "per-byte drift memory" "$([ $asan = 1 ] && echo "a sanitizer build's peak memory says nothing of the code's" || echo "$TIME or fixtures absent")"
    done_testing
    exit 0
fi

# ---- per byte: peak memory independent of a corpus file's size ----
rss() { "$TIME" -f '%M' -o "$tmp/rss" "$@"; local rc=$?; RSS=$(tail -1 "$tmp/rss"); return $rc; }
cat data/samples/python/* data/samples/c/* > "$tmp/code.txt"
mkdir -p "$tmp/small" "$tmp/big"
cp data/samples/python/* "$tmp/small/"
cp data/samples/python/* "$tmp/big/"
: > "$tmp/big/huge.py"
while [ "$(stat -c %s "$tmp/big/huge.py")" -lt $((12 * 1048576)) ]; do
    cat "$tmp/code.txt" "$tmp/code.txt" "$tmp/code.txt" "$tmp/code.txt" >> "$tmp/big/huge.py"
done
P=(-m "$ST/stories260K-F32.gguf" -m "$ST/stories260K-Q4_0mix.gguf" --ctx 64 --max-tokens 4000 --bootstrap 0 --bytes)
rss "$COLDTOK" drift "${P[@]}" --corpus "$tmp/small" -o "$tmp/p1" > /dev/null 2>&1
base=$RSS
t0=$(date +%s.%N)
rss "$COLDTOK" drift "${P[@]}" --corpus "$tmp/big" -o "$tmp/p2" > "$tmp/out" 2>&1; rc=$?
t1=$(date +%s.%N)
check_status "--bytes over a 12 MiB file runs" $rc "$(tail -3 "$tmp/out")"
# the whole-file per-byte code held about 25 bytes per byte of the file (300 MiB here)
check "--bytes with a 12 MiB file: peak RSS within 96 MiB of the small corpus's" "[ $((RSS - base)) -lt 98304 ]" \
    "peak $RSS KiB, small corpus $base KiB"
echo "# --bytes with a 12 MiB file: peak $RSS KiB (small corpus $base KiB), $(echo "$t1 - $t0" | bc) s"
grep -q '^stories260K-Q4_0mix,all,all,bytes,[1-9]' "$tmp/p2/drift.csv"
check_status "--bytes with a 12 MiB file: bytes compared" $?

# ---- coverage: a keyword list's size costs no memory beyond its keywords ----
{ printf 'python\tdef\n'; yes '# a comment line of a long keyword list, read one line at a time' | head -c $((64 * 1048576)); } > "$tmp/comments.tsv"
rss "$COLDTOK" coverage -t "$TK" --keywords "$tmp/many.tsv" > /dev/null 2>&1; base=$RSS
rss "$COLDTOK" coverage -t "$TK" --keywords "$tmp/comments.tsv" > /dev/null 2>&1
check_status "coverage of a 64 MiB keyword list runs" $?
check "coverage of a 64 MiB keyword list: peak RSS not above a 20000-keyword list's + 16 MiB" "[ $((RSS - base)) -lt 16384 ]" \
    "peak $RSS KiB, 20000 keywords $base KiB"
rm -f "$tmp/comments.tsv"

done_testing
