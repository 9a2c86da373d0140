#!/usr/bin/env bash
# coldtok --version: the release and the git revision the binary was built from (common/version.h).
set -u
. "$(dirname "$0")/tap.sh"
out=$("$COLDTOK" --version); rc=$?
check_status "--version exits 0" $rc
has_line "--version is one line: coldtok RELEASE (git REVISION)" <(echo "$out") \
    "coldtok $(sed -n 's/^RELEASE := //p' Makefile) (git $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(
        git diff --quiet HEAD -- 2>/dev/null || echo -dirty))"
is "'coldtok version' says the same" "$out" "$("$COLDTOK" version)"
done_testing
