#!/usr/bin/env bash
# README.md's numbers are coldtok's: tests/readme_check.py reruns the commands of the README's
# marked blocks (coverage, probe and diff on the fixtures; the demo's drift block only with
# COLDTOK_README_SLOW=1) and compares every line they print. Then the check must fail on a copy of
# the README with one number changed. Prints TAP; gets the binary in $COLDTOK.
set -u
. "$(dirname "$0")/tap.sh"
: "${COLDTOK:?set COLDTOK to the binary under test}"
tmp=$(mktemp -d /tmp/coldtok-readme.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if ! command -v python3 > /dev/null; then
    skip "README numbers" "python3 absent"
    done_testing
    exit 0
fi

# the real README: its own TAP lines, renumbered into this script's. Its numbers do not depend on
# the build, so a sanitizer build (make check's second pass) checks only the two failures below.
if [[ $COLDTOK == *asan* ]]; then
    printf 'ok 1 - README.md # SKIP checked with the normal build\n' > "$tmp/out"
    rc=0
else
    COLDTOK=$COLDTOK python3 tests/readme_check.py > "$tmp/out" 2>&1
    rc=$?
fi
while IFS= read -r line; do
    case $line in
    "ok "*"# SKIP "*) name=${line#ok * - }; skip "${name% \# SKIP *}" "${line##*# SKIP }" ;;
    "ok "*) ok "${line#ok * - }" ;;
    "not ok "*) notok "${line#not ok * - }" "$(awk -v l="$line" 'f && /^#/ { print; next } f { exit } $0 == l { f = 1 }' "$tmp/out")" ;;
    esac
done < "$tmp/out"
check "readme_check.py exits 0 on README.md" '[ $rc -eq 0 ]' "rc=$rc $(tail -5 "$tmp/out")"

# a copy with p(▁Once | BOS) changed from 0.7837 to 0.7873: the probe block (the second) must fail
# and name the line and the number
grep -q '   1  403  ␣Once  0.7837' README.md
check_status "README.md shows p(▁Once) = 0.7837" $?
sed 's/   1  403  ␣Once  0\.7837/   1  403  ␣Once  0.7873/' README.md > "$tmp/README.md"
COLDTOK=$COLDTOK python3 tests/readme_check.py --block 2 "$tmp/README.md" > "$tmp/bad" 2>&1
rc=$?
check "a changed number in the README fails the check, naming both numbers" \
    '[ $rc -eq 1 ] && grep -q "^not ok" "$tmp/bad" && grep -Fq "differs: '"'"'0.7873'"'"' -> '"'"'0.7837'"'"'" "$tmp/bad"' "rc=$rc $(cat "$tmp/bad")"
# a table row the README shows that coldtok no longer prints at all
sed 's/^javascript        54  0.0001509/javascript        54  0.0001590/' README.md > "$tmp/README.md"
COLDTOK=$COLDTOK python3 tests/readme_check.py --block 2 "$tmp/README.md" > "$tmp/bad" 2>&1
rc=$?
check "a changed number in a table row fails the check" '[ $rc -eq 1 ] && grep -Fq "'"'"'0.0001590'"'"' -> '"'"'0.0001509'"'"'" "$tmp/bad"' "$(cat "$tmp/bad")"
done_testing
