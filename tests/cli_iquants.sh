#!/usr/bin/env bash
# The grid-based i-quants (IQ2_XXS IQ2_XS IQ2_S IQ3_XXS IQ3_S IQ1_S IQ1_M) against llama.cpp, the
# oracle $BUILD/oracle/llama_oracle (docs/testing.md "llama.cpp as an oracle"):
#   (a) formats/iq_tables.c is what tests/oracle/make_iq_tables.py derives from the oracle now;
#   (b) a synth-llama GGUF of each type made by llama_model_quantize --pure (importance all ones):
#       coldtok's F32 conversion of it holds ggml's dequantized weights byte for byte, and coldtok's
#       logits on the i-quant file are within 1e-4 of max |logit| of its f32 forward on that file.
# (tests/test_iquants.c compares the dequantizers block by block.) Without the oracle or the
# fixtures everything skips with the reason. Prints TAP.
set -u
BIN=${COLDTOK:-./coldtok}
FX=${COLDTOK_FIXTURES:-../shared/fixtures}
ORACLE=${LLAMA_ORACLE:-$(dirname "$BIN")/oracle/llama_oracle}
tmp=$(mktemp -d /tmp/coldtok-cli-iquants.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

if [ ! -x "$ORACLE" ]; then
    skip "i-quants against llama.cpp" "the oracle $ORACLE is not built (make oracle, then make tests)"
    done_testing
    exit 0
fi

# The sanitizer pass (make check runs every script on build-asan too) spends its time in the
# oracle, not in coldtok: there it reads three types' files (test_iquants runs every dequantizer
# on random blocks under the sanitizers) and leaves the tables to the normal pass.
ASAN=""; case "$BIN" in *asan*) ASAN=1 ;; esac

# (a) the committed tables against the oracle's dequantizer today
if [ -n "$ASAN" ]; then
    skip "formats/iq_tables.c against the oracle" "checked in the normal pass"
elif command -v python3 > /dev/null 2>&1; then
    python3 tests/oracle/make_iq_tables.py "$ORACLE" > "$tmp/iq_tables.c" 2> "$tmp/err" &&
        cmp -s "$tmp/iq_tables.c" formats/iq_tables.c
    check_status "formats/iq_tables.c equals what make_iq_tables.py derives from the oracle" $? \
        "$(cat "$tmp/err"; diff "$tmp/iq_tables.c" formats/iq_tables.c | head -5)"
else
    skip "formats/iq_tables.c against the oracle" "python3 is missing"
fi

# (b) models
L=$FX/models/synth-llama
if [ ! -f "$L/synth-llama-F32.gguf" ]; then
    skip "i-quant models" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi
WEIGHTS="token_embd output"
for l in 0 1; do
    for w in attn_q attn_k attn_v attn_output ffn_gate ffn_up ffn_down; do WEIGHTS+=" blk.$l.$w"; done
done
mkdir -p "$tmp/imatrix" # unit importance for every matrix (llama.cpp requires one for IQ1/IQ2)
for w in $WEIGHTS; do
    cols=256; [ "${w#*ffn_down}" != "$w" ] && cols=512
    perl -e 'print pack("f<*", (1) x $ARGV[0])' $cols > "$tmp/imatrix/$w.weight.f32"
done
ids=$(grep -o '"ids": *\[[^]]*\]' "$L/prompt.json" | sed 's/.*\[//; s/\]//; s/ //g')
# TYPE:FTYPE; llama.cpp's file type IQ2_S stores IQ2_XS matrices, its IQ2_M stores IQ2_S ones
TYPES="IQ2_XXS:IQ2_XXS IQ2_XS:IQ2_XS IQ2_S:IQ2_M IQ3_XXS:IQ3_XXS IQ3_S:IQ3_S IQ1_S:IQ1_S IQ1_M:IQ1_M"
[ -n "$ASAN" ] && TYPES="IQ2_XXS:IQ2_XXS IQ2_S:IQ2_M IQ3_S:IQ3_S"
for tf in $TYPES; do
    t=${tf%:*} q=$tmp/${tf%:*}.gguf f=$tmp/${tf%:*}-f32.gguf
    "$ORACLE" -t 2 quantize --pure "$L/synth-llama-F32.gguf" "$q" "${tf#*:}" "$tmp/imatrix" 2> "$tmp/err" &&
        "$BIN" quantize -m "$q" --type f32 -o "$f" > /dev/null 2>> "$tmp/err"
    check_status "$t: llama.cpp quantizes synth-llama, coldtok converts it to F32" $? "$(cat "$tmp/err")" || continue
    bad=""
    for w in $WEIGHTS; do
        got=$("$ORACLE" tensor "$q" "$w.weight" "$tmp/blocks" 2> "$tmp/err") &&
            "$ORACLE" dequant "$got" "$tmp/blocks" "$tmp/want.f32" 2>> "$tmp/err" &&
            "$ORACLE" tensor "$f" "$w.weight" "$tmp/have.f32" > /dev/null 2>> "$tmp/err" &&
            [ "$got" = "$t" ] && cmp -s "$tmp/have.f32" "$tmp/want.f32" || bad+=" $w($got)"
    done
    is "$t: the F32 file holds ggml's dequantization of every matrix, in $t (memcmp)" "" "$bad"
    # shellcheck disable=SC2086 # one -c per id: split on purpose
    "$BIN" logits -m "$f" -c ${ids//,/ -c } --raw-all "$tmp/ref.f32" --top 0 > /dev/null 2> "$tmp/err" &&
        "$BIN" logits -m "$q" -c ${ids//,/ -c } --raw-all "$tmp/got.f32" --top 0 > /dev/null 2>> "$tmp/err" &&
        close_f32 "$tmp/got.f32" "$tmp/ref.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "$t: logits of the $t model equal the f32 forward over its dequantized weights ($(cat "$tmp/cmp"))" \
        $rc "$(cat "$tmp/err")"
    : > "$tmp/cmp"
    rm -f "$q" "$f"
done
done_testing
