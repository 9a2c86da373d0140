#!/usr/bin/env bash
# Runs every test of the given build folders and prints one closing line:
#   coldtok tests: N passed, N failed, N skipped
# tests/check_*.sh check the source tree once (TAP). Each cmocka program reports in TAP; each
# tests/cli_*.sh script prints TAP lines too (it gets the binary under test in $COLDTOK); each
# fuzzer in build-fuzz/ runs for $FUZZ_SECONDS (default 30) and counts as one test. A program
# that dies without reporting counts as a failure.
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0 skipped=0
failed_names=()

count() { # count NAME < TAP
    local name=$1 line any=0
    while IFS= read -r line; do
        case "$line" in
            "ok "*"# SKIP"*) skipped=$((skipped + 1)); any=1; echo "  $name: ${line#ok }" ;; # TAP's own skip form
            "ok "*) pass=$((pass + 1)); any=1 ;;
            "not ok "*"# SKIP"*) skipped=$((skipped + 1)); any=1; echo "  $name: ${line#not ok }" ;;
            "not ok "*) fail=$((fail + 1)); any=1; failed_names+=("$name: ${line#not ok }") ;;
        esac
    done
    return $((1 - any))
}

run_tap() { # run_tap NAME CMD...
    local name=$1 out rc
    shift
    out=$("$@" 2>&1); rc=$?
    printf '%s\n' "$out" > "$logdir/$name.log"
    if ! count "$name" <<< "$out" || { [ $rc -ne 0 ] && ! grep -q '^not ok' <<< "$out"; }; then
        fail=$((fail + 1)); failed_names+=("$name: exited $rc without a full report (see $logdir/$name.log)")
    fi
}

logdir=$(mktemp -d /tmp/coldtok-tests.XXXXXX)
echo "== source tree"
for s in tests/check_*.sh; do # the house rules (docs/architecture.md), once, not per build
    [ -f "$s" ] || continue
    echo "  $(basename "$s" .sh)"
    run_tap "$(basename "$s" .sh)" bash "$s"
done
for build in "$@"; do
    [ -x "$build/coldtok" ] || { echo "tests/run.sh: $build/coldtok missing: run make first" >&2; exit 2; }
    echo "== $build"
    for t in "$build"/tests/test_*; do
        [ -x "$t" ] || continue
        name="$build/$(basename "$t")"
        echo "  $name"
        run_tap "${name//\//_}" env CMOCKA_MESSAGE_OUTPUT=TAP COLDTOK="$build/coldtok" "$t"
    done
    for s in tests/cli_*.sh; do
        [ -f "$s" ] || continue
        name="$build/$(basename "$s" .sh)"
        echo "  $name"
        run_tap "${name//\//_}" env COLDTOK="$build/coldtok" bash "$s"
    done
done
fuzzbuild=${FUZZBUILD:-build-fuzz}
if [ -d "$fuzzbuild" ]; then
    echo "== fuzzers (${FUZZ_SECONDS:-30} s each)"
    for f in "$fuzzbuild"/fuzz_*; do
        [ -x "$f" ] || continue
        name=$(basename "$f")
        seeds="fuzz/corpus/${name#fuzz_}"
        work=$(mktemp -d /tmp/coldtok-fuzz.XXXXXX)
        [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
        echo "  $name"
        if "$f" -max_total_time="${FUZZ_SECONDS:-30}" -rss_limit_mb=4096 -print_final_stats=0 \
            -artifact_prefix="$logdir/$name-" \
            "$work" > "$logdir/$name.log" 2>&1; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1)); failed_names+=("$name: crashed (see $logdir/$name.log)")
        fi
        rm -rf "$work"
    done
fi
for f in "${failed_names[@]}"; do echo "FAILED $f"; done
echo "logs in $logdir"
echo "coldtok tests: $pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
