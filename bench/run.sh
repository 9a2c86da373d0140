#!/usr/bin/env bash
# Runs every benchmark program of a build folder from the repository root and ends with one line:
#   coldtok bench: N programs, N PASS, N MISS[, N failed]
#   bench/run.sh BUILD          (the Makefile's `bench` target calls it with its build folder)
# Each program prints its measured figures and one "PASS"/"MISS" verdict per target with the ratio.
# A MISS is a result, not an error; a program that fails (non-zero exit) makes this script fail.
set -u
build=${1:?usage: bench/run.sh BUILD}
case $build in /*) ;; *) build=$PWD/$build ;; esac
cd "$(dirname "$0")/.."
programs=0 pass=0 miss=0 failed=0
for b in "$build"/bench/*; do
    [ -f "$b" ] && [ -x "$b" ] || continue
    programs=$((programs + 1))
    echo "== $(basename "$b")"
    out=$("$b" 2>&1); rc=$?
    printf '%s\n' "$out"
    pass=$((pass + $(grep -c ' PASS (' <<< "$out")))
    miss=$((miss + $(grep -c ' MISS (' <<< "$out")))
    if [ $rc -ne 0 ]; then failed=$((failed + 1)); echo "bench/run.sh: $(basename "$b") exited $rc"; fi
done
echo "coldtok bench: $programs programs, $pass PASS, $miss MISS$([ $failed -gt 0 ] && echo ", $failed failed")"
[ $failed -eq 0 ]
