#!/usr/bin/env bash
# The low-bit GGUF types of formats/lowbit.c at model level, against llama.cpp (the oracle): the
# synth-llama F32 fixture quantized by llama_model_quantize --pure to IQ4_NL, IQ4_XS, TQ1_0, TQ2_0
# and MXFP4 (llama-quantize's MXFP4_MOE; --pure makes every matrix MXFP4), then dequantized again
# by llama.cpp to an F32 GGUF. coldtok's logits on the quantized file must equal, within 1e-4 of
# max |logit|, its f32 forward on ggml's dequantized weights (the same network computed on exact
# weights); llama.cpp's own logits on the quantized file are compared loosely (it rounds the
# activations to 8 bits for these types). Without the oracle everything skips. Prints TAP.
set -u
BIN=${COLDTOK:-./coldtok}
FX=${COLDTOK_FIXTURES:-../shared/fixtures}
ORACLE=${LLAMA_ORACLE:-$(dirname "$BIN")/oracle/llama_oracle}
tmp=$(mktemp -d /tmp/coldtok-cli-lowbit.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

F32=$FX/models/synth-llama/synth-llama-F32.gguf
if [ ! -x "$ORACLE" ]; then
    skip "low-bit types at model level" "the llama.cpp oracle is not built (make oracle; make tests)"
    done_testing
    exit 0
fi
if [ ! -f "$F32" ]; then
    skip "low-bit types at model level" "fixture $F32 absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi
ids=$(grep -o '"ids": *\[[^]]*\]' "$FX/models/synth-llama/prompt.json" | sed 's/.*\[//; s/\]//; s/ //g')

for ftype in IQ4_NL IQ4_XS TQ1_0 TQ2_0 MXFP4_MOE; do
    type=${ftype%_MOE}
    q=$tmp/$type.gguf deq=$tmp/$type-dequant.gguf
    "$ORACLE" quantize --pure "$F32" "$q" "$ftype" 2> "$tmp/err" &&
        "$ORACLE" quantize --pure "$q" "$deq" F32 2>> "$tmp/err"
    check_status "oracle: synth-llama to $type and back to F32" $? "$(cat "$tmp/err")"
    "$BIN" info "$q" > "$tmp/info" 2> "$tmp/err"
    has "info: 16 $type matrices, no unreadable type" "$tmp/info" "^  $type +16 tensors +1441792 weights "
    ! grep -q '^types coldtok cannot read' "$tmp/info"
    check_status "info: $type is a type coldtok reads" $? "$(sed -n '/^types coldtok/,$p' "$tmp/info")"
    : > "$tmp/cmp"
    # shellcheck disable=SC2086 # one -c per id: split on purpose
    "$BIN" logits -m "$q" -c ${ids//,/ -c } --raw-all "$tmp/q.f32" --top 0 > /dev/null 2> "$tmp/err" &&
        "$BIN" logits -m "$deq" -c ${ids//,/ -c } --raw-all "$tmp/deq.f32" --top 0 > /dev/null 2>> "$tmp/err" &&
        close_f32 "$tmp/q.f32" "$tmp/deq.f32" 1e-4 > "$tmp/cmp"; rc=$?
    check_status "logits of synth-llama-$type = f32 forward on ggml's dequantized weights ($(cat "$tmp/cmp"))" $rc \
        "$(cat "$tmp/err")"
    : > "$tmp/cmp"
    "$ORACLE" logits "$q" "$ids" "$tmp/llama.f32" 2> "$tmp/err" &&
        close_f32 "$tmp/q.f32" "$tmp/llama.f32" 5e-2 > "$tmp/cmp"; rc=$?
    check_status "logits of synth-llama-$type near llama.cpp's own ($(cat "$tmp/cmp"))" $rc "$(cat "$tmp/err")"
done
done_testing
