#!/usr/bin/env bash
# The hash cache of run records (common/hash_cache.h, docs/output.md "The hash cache"): probe/diff
# -o read each model file once per run (models.csv and run.json share the digest), a second run
# into the same folder reads no input again, a changed file is hashed again (same size and a new
# mtime; same size and the old mtime put back: its ctime moved), a file changed in the last 2 s is
# not cached, a broken cache file is ignored; every hash equals sha256sum's. Reads are counted
# with COLDTOK_DEBUG_HASH (one "coldtok: sha256: hashed|cached PATH" line per lookup), no timing.
# Prints TAP; gets the binary in $COLDTOK.
set -u
. "$(dirname "$0")/tap.sh"
: "${COLDTOK:?set COLDTOK to the binary under test}"
S=${COLDTOK_FIXTURES:-../shared/fixtures}/models/stories260K
tmp=$(mktemp -d /tmp/coldtok-hashcache.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [ ! -f "$S/stories260K-F32.gguf" ]; then
    skip "hash cache" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi
cp "$S/stories260K-F32.gguf" "$tmp/a.gguf"
cp "$S/stories260K-Q8_0mix.gguf" "$tmp/b.gguf"
touch -d '1 hour ago' "$tmp/a.gguf" "$tmp/b.gguf"
printf 'python\tdef\npython\tclass\n' > "$tmp/kw.tsv"
touch -d '1 hour ago' "$tmp/kw.tsv"
sleep 2.1 # the copies' change time (which touch cannot set back) must be 2 s old to be cached
A=$tmp/a.gguf B=$tmp/b.gguf

run_diff() { # run_diff LOG: diff a b into $tmp/out, the hash lines into LOG
    COLDTOK_DEBUG_HASH=1 "$COLDTOK" diff -m "$A" -m "$B" --keywords "$tmp/kw.tsv" -o "$tmp/out" > /dev/null 2> "$1"
}
count() { grep -c "^coldtok: sha256: $1 $2\$" "$3"; } # count hashed|cached PATH LOG
json_sha() { /usr/bin/python3 -c '
import json, sys
print(next(i["sha256"] for i in json.load(open(sys.argv[1]))["inputs"] if i["path"] == sys.argv[2]))' "$tmp/out/run.json" "$1"; }
csv_sha() { /usr/bin/python3 -c '
import csv, sys
print(next(r["sha256"] for r in csv.DictReader(open(sys.argv[1])) if r["path"] == sys.argv[2]))' "$tmp/out/models.csv" "$1"; }
sum() { sha256sum "$1" | cut -c1-64; }

# ---- the first run: one read per file ----
run_diff "$tmp/log1"
check_status "diff -o runs" $? "$(cat "$tmp/log1")"
is "first run: a.gguf is read once (not once for models.csv and again for run.json)" 1 "$(count hashed "$A" "$tmp/log1")"
is "first run: b.gguf is read once" 1 "$(count hashed "$B" "$tmp/log1")"
is "first run: nothing comes from a cache yet" 0 "$(grep -c ' cached ' "$tmp/log1")"
is "run.json's sha256 of a.gguf = sha256sum's" "$(sum "$A")" "$(json_sha "$A")"
is "models.csv's sha256 of b.gguf = sha256sum's" "$(sum "$B")" "$(csv_sha "$B")"
check "the cache file holds a.gguf's real path, size and hash" \
    'awk -F"\t" -v p="$(realpath "$A")" -v h="$(sum "$A")" -v s="$(stat -c %s "$A")" "\$7 == p && \$1 == h && \$2 == s { f = 1 } END { exit !f }" "$tmp/out/.sha256-cache"' \
    "$(cat "$tmp/out/.sha256-cache")"
is "the cache file's first line names its format" "coldtok-sha256-cache 1" "$(head -1 "$tmp/out/.sha256-cache")"

# ---- the second run: no input is read ----
run_diff "$tmp/log2"
is "second run: no file is read again" 0 "$(grep -c ' hashed ' "$tmp/log2")"
is "second run: a.gguf comes from the cache (once)" 1 "$(count cached "$A" "$tmp/log2")"
is "second run: the keyword file comes from the cache" 1 "$(count cached "$tmp/kw.tsv" "$tmp/log2")"
is "second run: run.json's sha256 of a.gguf = sha256sum's" "$(sum "$A")" "$(json_sha "$A")"
# timing-free proof that the entry is what the record uses: a forged digest in a matching entry
# comes out in run.json (the cache is trusted exactly while the file's identity matches)
forged=0000000000000000000000000000000000000000000000000000000000000000
cp "$tmp/out/.sha256-cache" "$tmp/cache.bak"
awk -F'\t' -v OFS='\t' -v p="$(realpath "$B")" -v f="$forged" '$7 == p { $1 = f } { print }' "$tmp/cache.bak" > "$tmp/out/.sha256-cache"
run_diff "$tmp/log3"
is "run.json takes b.gguf's digest from its matching cache entry" "$forged" "$(json_sha "$B")"
cp "$tmp/cache.bak" "$tmp/out/.sha256-cache"

# ---- a changed file is hashed again ----
old=$(sum "$A")
size=$(stat -c %s "$A")
printf '\x55' | dd of="$A" bs=1 seek=$((size - 3)) conv=notrunc status=none
touch -d '30 minutes ago' "$A"
sleep 2.1 # settled: this run stores the new entry
run_diff "$tmp/log4"
is "same size, new mtime: the file is read again" 1 "$(count hashed "$A" "$tmp/log4")"
is "its new digest is sha256sum's" "$(sum "$A")" "$(json_sha "$A")"
check "and differs from the old one" '[ "$(sum "$A")" != "$old" ]'
is "the unchanged b.gguf still comes from the cache" 1 "$(count cached "$B" "$tmp/log4")"
grep -q "$(sum "$A")" "$tmp/out/.sha256-cache"
check_status "the cache now holds the new digest" $?
# the content changes again but the mtime is put back: the change time gives it away
mtime=$(stat -c %y "$A")
printf '\x66' | dd of="$A" bs=1 seek=$((size - 3)) conv=notrunc status=none
touch -d "$mtime" "$A"
sleep 2.1 # past the settling time, so that the cache would take a new entry
run_diff "$tmp/log5"
is "same size, same mtime put back (ctime moved): read again" 1 "$(count hashed "$A" "$tmp/log5")"
is "its digest is sha256sum's" "$(sum "$A")" "$(json_sha "$A")"

# ---- a file not settled when hashed (changed under 2 s before, here: an mtime in the future) is
# not cached ----
printf '\x77' | dd of="$A" bs=1 seek=$((size - 3)) conv=notrunc status=none
touch -d '1 hour' "$A"
run_diff "$tmp/log6"
run_diff "$tmp/log7"
is "a file whose mtime is not 2 s in the past is read on every run (never cached)" "1 1" \
    "$(count hashed "$A" "$tmp/log6") $(count hashed "$A" "$tmp/log7")"
is "its digest is sha256sum's" "$(sum "$A")" "$(json_sha "$A")"

# ---- a broken cache file is ignored ----
printf 'not a cache\n\x01\x02' > "$tmp/out/.sha256-cache"
run_diff "$tmp/log8"
check_status "a broken cache file: the run succeeds" $? "$(cat "$tmp/log8")"
is "a broken cache file: b.gguf is read and hashed right" "1 $(sum "$B")" "$(count hashed "$B" "$tmp/log8") $(json_sha "$B")"
printf 'coldtok-sha256-cache 1\nzz\t1\t2\t3\t4\t5\t/x\n%s\tnot-a-number\t1\t1\t1\t1\t%s\n' "$forged" "$(realpath "$B")" > "$tmp/out/.sha256-cache"
run_diff "$tmp/log9"
is "malformed cache lines are skipped" "1 $(sum "$B")" "$(count hashed "$B" "$tmp/log9") $(json_sha "$B")"

# ---- coverage and drift records use the cache too ----
COLDTOK_DEBUG_HASH=1 "$COLDTOK" coverage -t "$B" --keywords "$tmp/kw.tsv" -o "$tmp/cov" > /dev/null 2> "$tmp/c1"
COLDTOK_DEBUG_HASH=1 "$COLDTOK" coverage -t "$B" --keywords "$tmp/kw.tsv" -o "$tmp/cov" > /dev/null 2> "$tmp/c2"
is "coverage -o twice: the tokenizer is read by the first run only (changed 2+ s ago)" "1 0" \
    "$(count hashed "$B" "$tmp/c1") $(count hashed "$B" "$tmp/c2")"
done_testing
