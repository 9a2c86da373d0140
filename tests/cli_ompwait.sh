#!/usr/bin/env bash
# The OpenMP wait policy coldtok runs with (cli/main.c): passive unless the user set one, as libgomp
# itself reports what it read in its constructor (OMP_DISPLAY_ENV=verbose): the policy, and the
# spin count it implies (0 when passive: a waiting thread sleeps at once; libgomp shows PASSIVE
# for an unset policy too, so the count is what tells them apart). The policy is set by executing
# the program again, so libgomp reports twice: the second report is the one the work runs with.
set -u
. "$(dirname "$0")/tap.sh"
shown() { env "$@" OMP_DISPLAY_ENV=verbose "$COLDTOK" --version 2>&1 >/dev/null |
          sed -n "s/^ *\\(OMP_WAIT_POLICY\\|GOMP_SPINCOUNT\\) = '\\(.*\\)'\$/\\1=\\2/p" | tail -n 2 | tr '\n' ' '; }
is "passive by default: no spinning" "OMP_WAIT_POLICY=PASSIVE GOMP_SPINCOUNT=0 " \
    "$(shown -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT)"
is "a user's OMP_WAIT_POLICY=active is kept" "OMP_WAIT_POLICY=ACTIVE GOMP_SPINCOUNT=30000000000 " \
    "$(shown -u GOMP_SPINCOUNT OMP_WAIT_POLICY=active)"
is "a user's GOMP_SPINCOUNT is kept" "OMP_WAIT_POLICY=PASSIVE GOMP_SPINCOUNT=1000 " \
    "$(shown -u OMP_WAIT_POLICY GOMP_SPINCOUNT=1000)"
done_testing
