#!/usr/bin/env bash
# Hostile inputs, part A (issue 17): NaN/Inf weights, GGUF integers that do not fit, FIFOs and other
# non-regular files given as inputs, concurrent writers of one output, GGUF vocabularies and configs
# that contradict themselves. Every hostile file is made here from a fixture (python3 stdlib,
# tests/data/hostile-a/gguf_edit.py) or with printf; each case must fail with one line that names
# the file and the problem, never hang, never print a result computed from NaN.
set -u
. "$(dirname "$0")/tap.sh"
: "${COLDTOK:?set COLDTOK to the binary under test}"
S=${COLDTOK_FIXTURES:-../shared/fixtures}/models
EDIT="python3 $(dirname "$0")/data/hostile-a/gguf_edit.py"
tmp=$(mktemp -d /tmp/coldtok-hostile-a.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
L=$S/synth-llama/synth-llama-F32.gguf
Q=$S/synth-qwen2/synth-qwen2-F32.gguf
if [ ! -f "$L" ] || [ ! -f "$Q" ]; then
    skip "hostile inputs" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi

# fails NAME WANT CMD...: exit 1 and one line of output containing WANT
fails() {
    local name=$1 want=$2; shift 2
    out=$(timeout 60 "$@" 2>&1); rc=$?
    check "$name" '[ $rc -eq 1 ] && [[ $out == *"$want"* ]] && [ $(printf "%s\n" "$out" | wc -l) -eq 1 ]' "rc=$rc out=$out"
}

# ---- NaN and Inf weights: no result computed from them ----
$EDIT "$L" "$tmp/nan.gguf" poison blk.1.ffn_up.weight 1000 nan
$EDIT "$L" "$tmp/inf.gguf" poison blk.0.attn_norm.weight 3 inf
printf 'def f(x):\n    return x + 1\n%.0s' $(seq 40) > "$tmp/c.py"
fails "logits: a NaN weight is named" "nan.gguf: tensor blk.1.ffn_up.weight row 3 column 232 is not finite (nan)" \
    "$COLDTOK" logits -m "$tmp/nan.gguf"
fails "logits: an Inf norm weight is named" "inf.gguf: tensor blk.0.attn_norm element 3 is not finite (inf)" \
    "$COLDTOK" logits -m "$tmp/inf.gguf"
fails "probe: no entropy of NaN" "nan.gguf: tensor blk.1.ffn_up.weight" "$COLDTOK" probe -m "$tmp/nan.gguf"
fails "diff: the NaN variant is named" "nan.gguf: tensor blk.1.ffn_up.weight" "$COLDTOK" diff -m "$L" -m "$tmp/nan.gguf"
fails "drift: the NaN variant is named" "nan.gguf: tensor blk.1.ffn_up.weight" \
    "$COLDTOK" drift -m "$L" -m "$tmp/nan.gguf" --corpus "$tmp/c.py" --ctx 32 --bootstrap 0
