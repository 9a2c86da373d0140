#!/usr/bin/env bash
# Rules for the test scripts themselves, checked against tests/*.sh (TAP):
#   1. no check_status takes $? after a command substitution in an earlier argument: bash runs
#      "$(cat "$tmp/cmp")" first and $? is then cat's status, so the check could never fail (22
#      checks of the cli_arch_* scripts were written so and passed without testing anything);
#      save the status first (rc=$?; check_status "... $(cat ...)" $rc).
set -u
cd "$(dirname "$0")/.."
. "$(dirname "$0")/tap.sh"

bad=$(awk '
    /^[ \t]*(rc=\$\?; *)?check_status / {
        line = $0; n = FNR
        while (line ~ /\\$/ && (getline more) > 0) line = substr(line, 1, length(line) - 1) more
        status = line; sub(/^[ \t]*(rc=\$\?; *)?check_status /, "", status)
        # the status argument follows the quoted name: $? there after a $( in the name is wrong
        if (match(status, /^"([^"\\]|\\.|\$\([^)]*\))*"[ \t]+\$\?/) && substr(status, 1, RLENGTH) ~ /\$\(/)
            print "  " FILENAME ":" n ": " $0
    }' tests/*.sh)
is "no check_status reads \$? after a command substitution in its name" "" "$bad"
done_testing
