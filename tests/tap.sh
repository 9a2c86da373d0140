# tests/tap.sh: the TAP helpers of the tests/cli_*.sh scripts, which source it first:
#   . "$(dirname "$0")/tap.sh"
# Each helper prints one numbered TAP line ("ok N - NAME", "not ok N - NAME" or a skip); details
# of a failure follow as "#" lines, which tests/run.sh does not count. A script ends with
# done_testing, which prints the plan.
n=0

# ok NAME
ok() { n=$((n + 1)); echo "ok $n - $1"; }

# notok NAME [DETAIL...]: a failure; every line of every non-empty DETAIL as a "#" line, so that
# no output quoted in a detail can pass for a TAP line
notok() {
    n=$((n + 1))
    echo "not ok $n - $1"
    shift
    local detail
    for detail in "$@"; do
        [ -n "$detail" ] && printf '%s\n' "$detail" | sed 's/^/#   /'
    done
    return 0
}

# skip NAME REASON: a test that cannot run here (counted as skipped, not as passed or failed)
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# check NAME CONDITION [DETAIL]: ok when the shell command CONDITION (a string, run by eval) succeeds
check() { if eval "$2"; then ok "$1"; else notok "$1" "${3:-failed: $2}"; fi; }

# check_status NAME STATUS [DETAIL]: ok when STATUS (an exit code, usually $?) is 0
# Keep the status first (`...; rc=$?` then check_status ... $rc) when NAME holds a $(...): bash
# expands the arguments left to right, so a $? after a command substitution is the substitution's.
check_status() { if [ "$2" = 0 ]; then ok "$1"; else notok "$1" "${3:-}"; fi; }

# is NAME WANT GOT: ok when the two strings are equal; else both as details
is() { if [ "$2" == "$3" ]; then ok "$1"; else notok "$1" "want: $2" "got:  $3"; fi; }

# has NAME FILE REGEX...: every extended regex matches some line of FILE
has() { grep_each -Eq "no line matches" "$@"; }

# has_line NAME FILE LINE...: every LINE appears verbatim as a whole line of FILE
has_line() { grep_each -Fxq "no line" "$@"; }

# grep_each FLAGS WHY NAME FILE PATTERN...: ok when `grep FLAGS PATTERN FILE` succeeds for every
# PATTERN; else a failure naming the first that does not
grep_each() {
    local flags=$1 why=$2 name=$3 file=$4 pattern
    shift 4
    for pattern in "$@"; do
        if ! grep "$flags" -- "$pattern" "$file"; then notok "$name" "$why: $pattern"; return; fi
    done
    ok "$name"
}

# close_f32 A.f32 B.f32 TOL: ok (status 0) when the two raw little-endian float32 files hold the
# same number of values and max |a - b| <= TOL * max |b|; prints one line saying how close they are
# (for a test's name or detail). The logits comparisons of several scripts.
close_f32() {
    paste <(od -An -v -f "$1" | tr -s ' ' '\n' | grep -v '^$') \
          <(od -An -v -f "$2" | tr -s ' ' '\n' | grep -v '^$') | awk -F'\t' -v tol="$3" '
        $1 == "" || $2 == "" { uneven = 1; next }
        { n++; d = $1 - $2; if (d < 0) d = -d; if (d > md) md = d; b = $2 < 0 ? -$2 : $2; if (b > mb) mb = b }
        END { if (uneven || n == 0) { print "the files hold different numbers of values, or none"; exit 1 }
              printf "max |diff| %.3g = %.3g of max |ref| %.4g (allowed %g)\n", md, mb ? md / mb : 0, mb, tol
              exit !(md <= tol * mb) }'
}

# done_testing: the plan line, after the last test
done_testing() { echo "1..$n"; }
