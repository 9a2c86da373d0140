#!/usr/bin/env bash
# The llama.cpp oracle's decode-time (bench/bench_quantfmt.c's llama.cpp rows; docs/testing.md):
# "MEDIAN_MS MIN_MS" of one-position decodes (or of N-position ones: bench_llama's prefill), median
# >= min > 0; a bad run count, token id or position count is one line, exit 1. Skips without the oracle or the fixtures. Prints TAP.
set -u
BIN=${COLDTOK:-./coldtok}
FX=${COLDTOK_FIXTURES:-../shared/fixtures}
ORACLE=${LLAMA_ORACLE:-$(dirname "$BIN")/oracle/llama_oracle}
. "$(dirname "$0")/tap.sh"
M=$FX/models/synth-llama/synth-llama-Q8_0.gguf
if [ ! -x "$ORACLE" ] || [ ! -f "$M" ]; then
    skip "oracle decode-time" "the oracle ($ORACLE) or the fixture ($M) is absent"
    done_testing
    exit 0
fi
out=$("$ORACLE" -t 2 decode-time "$M" 1 3 2>&1); rc=$?
[ $rc = 0 ] && awk 'NF == 2 && $1 + 0 >= $2 + 0 && $2 + 0 > 0 { ok = 1 } END { exit !ok }' <<< "$out"
check_status "decode-time prints a median and a minimum in ms (median >= min > 0)" $? "rc=$rc: $out"
out=$("$ORACLE" -t 2 decode-time "$M" 1 3 8 2>&1); rc=$?
[ $rc = 0 ] && awk 'NF == 2 && $1 + 0 >= $2 + 0 && $2 + 0 > 0 { ok = 1 } END { exit !ok }' <<< "$out"
check_status "decode-time of 8 positions prints a median and a minimum" $? "rc=$rc: $out"
NV=$("$BIN" info "$M" 2>/dev/null | awk '/vocab size/ { print $3 }')
for bad in "1 0" "1 x" "999999999 3" "1 3 0" "1 3 4097" "1 3 8x" "$((${NV:-1000000} - 4)) 3 8"; do
    err=$("$ORACLE" decode-time "$M" $bad 2>&1 >/dev/null); rc=$?
    [ $rc = 1 ] && [ "$(wc -l <<< "$err")" = 1 ] && grep -q 'decode-time' <<< "$err"
    check_status "decode-time $bad: one line naming the command, exit 1" $? "rc=$rc: $err"
done
done_testing
