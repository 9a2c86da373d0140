#!/usr/bin/env bash
# coldtok --version: the release and the git revision the binary was built from (common/version.h).
set -u
. "$(dirname "$0")/tap.sh"
out=$("$COLDTOK" --version); rc=$?
check_status "--version exits 0" $rc
# the revision of HEAD; "-dirty" depends on the tree when the binary was built, not now
rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
has "--version is one line: coldtok RELEASE (git REVISION)" <(echo "$out") \
    "^coldtok $(sed -n 's/^RELEASE := //p' Makefile) \\(git $rev(-dirty)?\\)\$"
is "'coldtok version' says the same" "$out" "$("$COLDTOK" version)"
done_testing
