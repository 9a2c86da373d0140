#!/usr/bin/env bash
# coldtok quantize --type IQ4_NL / IQ4_XS / IQ3_S / IQ2_XS against llama_model_quantize itself (the oracle helper
# $BUILD/oracle/llama_oracle, docs/testing.md "llama.cpp as an oracle"), on a seeded F32 llama of
# 8 layers with grouped-query attention (8 heads, 2 kv heads: llama.cpp's n_gqa 4) and an ffn width
# of 352 (not a multiple of 256, so ffn_down falls back):
#   (a) every matrix in the type (--pure): every tensor byte-identical to llama.cpp's file, without
#       and with importance data: coldtok's own (--method imatrix --calib, written out with
#       --save-imatrix) handed to llama_model_quantize (IQ2_XS, which llama.cpp refuses without,
#       with it only);
#   (b) llama-quantize's IQ4_XS mixture (--llama-mix), without and with importance data, and its
#       IQ3_M with importance data: every
#       tensor gets llama.cpp's type, the IQ4 tensors are byte-identical, and each k-quant tensor
#       (attn_v in Q5_K, output.weight in Q6_K, ...) reconstructs no worse than llama.cpp's
#       (importance-weighted with importance data, as quantize.h promises);
# and the new option's usage error. Without the oracle the comparisons skip with the reason.
# Prints TAP.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
ORACLE=${LLAMA_ORACLE:-$(dirname "$BIN")/oracle/llama_oracle}
CALIB=$(dirname "$0")/data/calib
tmp=$(mktemp -d /tmp/coldtok-cli-quantize-iq.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$BIN" quantize -m x.gguf --type IQ4_XS -o "$tmp/o.gguf" --save-imatrix "$tmp/imx" > "$tmp/out" 2> "$tmp/err"
rc=$?
check "--save-imatrix without calibration is a usage error" \
    '[ $rc = 2 ] && grep -q "save-imatrix needs --method imatrix or gptq" "$tmp/err" && [ ! -e "$tmp/imx" ]' \
    "rc=$rc $(cat "$tmp/err")"

if [ ! -x "$ORACLE" ]; then
    skip "IQ4 quantization against llama.cpp" "the oracle $ORACLE is not built (make oracle, then make tests)"
    done_testing
    exit 0
fi
if ! command -v python3 > /dev/null; then
    skip "IQ4 quantization against llama.cpp" "python3 is missing"
    done_testing
    exit 0
fi

M=$tmp/m.gguf
"$BIN" synth --arch llama --dims layers=8,heads=8,kv_heads=2,embd=256,ff=352 --type F32 -o "$M" > /dev/null 2> "$tmp/err"
check_status "synth: an 8-layer F32 llama with n_gqa 4 and ffn 352" $? "$(cat "$tmp/err")"

# compare and no_worse: tests/quant_oracle.sh
. "$(dirname "$0")/quant_oracle.sh"

# The sanitizer pass (make check runs every script on build-asan too, ~10x slower) runs one type
# and one mixture of each kind; the normal pass runs them all.
ASAN=""; case "$BIN" in *asan*) ASAN=1 ;; esac
TYPES="IQ4_XS IQ4_NL IQ3_S" MIXES="IQ4_XS: IQ4_XS:$tmp/imx IQ3_M:$tmp/imx"
[ -n "$ASAN" ] && TYPES="IQ4_XS" MIXES="IQ3_M:$tmp/imx"
for t in $TYPES; do
    "$BIN" quantize -m "$M" --type $t -o "$tmp/c.gguf" > /dev/null 2> "$tmp/err" &&
        "$ORACLE" quantize --pure "$M" "$tmp/o.gguf" $t 2>> "$tmp/err" &&
        compare "$tmp/c.gguf" "$tmp/o.gguf" > "$tmp/list.$t"
    check "(a) $t, every matrix: all 75 tensors byte-identical to llama_model_quantize --pure" \
        '[ "$(grep -c " same$" "$tmp/list.$t")" = 75 ]' "$(cat "$tmp/err"; grep -v " same$" "$tmp/list.$t")"
done
has "(a) IQ4_XS: ffn_down (352 columns) falls back to IQ4_NL in both, the rest is IQ4_XS" "$tmp/list.IQ4_XS" \
    '^blk\.0\.ffn_down\.weight IQ4_NL IQ4_NL same$' '^output\.weight IQ4_XS IQ4_XS same$'

"$BIN" quantize -m "$M" --type IQ4_XS --method imatrix --calib "$CALIB" --calib-tokens 512 \
    --save-imatrix "$tmp/imx" -o "$tmp/ci.gguf" > /dev/null 2> "$tmp/err" &&
    "$ORACLE" quantize --pure "$M" "$tmp/oi.gguf" IQ4_XS "$tmp/imx" 2>> "$tmp/err" &&
    compare "$tmp/ci.gguf" "$tmp/oi.gguf" > "$tmp/list"
check "(a) IQ4_XS with coldtok's importance data: all 75 tensors byte-identical to llama.cpp's given it" \
    '[ "$(grep -c " same$" "$tmp/list")" = 75 ] && [ "$(ls "$tmp/imx" | wc -l)" = 57 ]' \
    "$(cat "$tmp/err"; grep -v " same$" "$tmp/list"; ls "$tmp/imx" | wc -l)"

# IQ2_XS, which llama.cpp quantizes only with importance data for every matrix: token_embd has no
# calibration statistics, and coldtok then uses uniform importance, i.e. a file of ones for llama.cpp
cp -r "$tmp/imx" "$tmp/imx2"
perl -e 'print pack("f<*", (1) x 256)' > "$tmp/imx2/token_embd.weight.f32"
"$BIN" quantize -m "$M" --type IQ2_XS --method imatrix --calib "$CALIB" --calib-tokens 512 \
    -o "$tmp/c2.gguf" > /dev/null 2> "$tmp/err" &&
    "$ORACLE" quantize --pure "$M" "$tmp/o2.gguf" IQ2_XS "$tmp/imx2" 2>> "$tmp/err" &&
    compare "$tmp/c2.gguf" "$tmp/o2.gguf" > "$tmp/list"
check "(a) IQ2_XS with coldtok's importance data (ones for token_embd): all 75 tensors byte-identical" \
    '[ "$(grep -c " same$" "$tmp/list")" = 75 ] && grep -q "^blk\.3\.attn_q\.weight IQ2_XS IQ2_XS same$" "$tmp/list"' \
    "$(cat "$tmp/err"; grep -v " same$" "$tmp/list")"
"$BIN" quantize -m "$M" --type IQ4_XS -o "$tmp/c.gguf" > /dev/null 2>&1 && compare "$tmp/ci.gguf" "$tmp/c.gguf" > "$tmp/list2"
check "(a) the importance data changes the quantization (57 matrices differ from rtn's)" \
    '[ "$(grep -c " differ$" "$tmp/list2")" = 57 ]' "$(grep -c " differ$" "$tmp/list2")"

# (b) the mixtures (the same importance data as above: coldtok's calibration is deterministic)
for run in $MIXES; do
    mix=${run%%:*} imx=${run#*:}
    what=${imx:+with importance data}
    what="$mix mixture ${what:-without importance data}"
    if [ -z "$imx" ]; then
        "$BIN" quantize -m "$M" --type $mix --llama-mix -o "$tmp/cm.gguf" > "$tmp/out" 2> "$tmp/err"
    else
        "$BIN" quantize -m "$M" --type $mix --llama-mix --method imatrix --calib "$CALIB" \
            --calib-tokens 512 -o "$tmp/cm.gguf" > "$tmp/out" 2> "$tmp/err"
    fi &&
        "$ORACLE" quantize "$M" "$tmp/om.gguf" $mix $imx 2>> "$tmp/err" &&
        compare "$tmp/cm.gguf" "$tmp/om.gguf" > "$tmp/list"
    check "(b) $what: every tensor of llama.cpp's type, the IQ ones byte-identical" \
        '[ "$(awk "\$2 == \$3" "$tmp/list" | wc -l)" = 75 ] && ! grep -q "^[^ ]* IQ[0-9]_[A-Z]* [^ ]* differ$" "$tmp/list"' \
        "$(cat "$tmp/err"; grep -v " same$" "$tmp/list")"
    if [ $mix = IQ3_M ]; then
        has "(b) IQ3_M: attn_v, attn_output in Q4_K, ffn_down of layer 0 Q4_K (falls back to Q5_0), output Q6_K, the rest IQ3_S" \
            "$tmp/list" '^blk\.5\.attn_v\.weight Q4_K Q4_K' '^blk\.5\.attn_output\.weight Q4_K Q4_K' \
            '^blk\.0\.ffn_down\.weight Q5_0 Q5_0' '^blk\.1\.ffn_down\.weight IQ4_NL IQ4_NL same$' \
            '^output\.weight Q6_K Q6_K' '^blk\.2\.ffn_up\.weight IQ3_S IQ3_S same$'
    elif [ -z "$imx" ]; then
        has "(b) without importance data: attn_v in Q5_K (n_gqa 4), ffn_down of layer 0 in Q5_K (falls back to Q5_1), output in Q6_K" \
            "$tmp/list" '^blk\.3\.attn_v\.weight Q5_K Q5_K' '^blk\.0\.ffn_down\.weight Q5_1 Q5_1 same$' \
            '^blk\.1\.ffn_down\.weight IQ4_NL IQ4_NL same$' '^output\.weight Q6_K Q6_K' '^blk\.2\.attn_q\.weight IQ4_XS IQ4_XS same$'
        has "(b) general.file_type 30, as llama-quantize's IQ4_XS" <("$BIN" info "$tmp/cm.gguf") '^  general.file_type = 30$'
    else
        has "(b) with importance data: ffn_down of layer 0 stays IQ4 (IQ4_NL: 352 columns)" \
            "$tmp/list" '^blk\.0\.ffn_down\.weight IQ4_NL IQ4_NL same$'
    fi
    no_worse "$tmp/cm.gguf" "$tmp/om.gguf" "$tmp/list" "$imx" > "$tmp/nw"
    check_status "(b) $what: each k-quant and legacy tensor reconstructs no worse than llama.cpp's" $? "$(cat "$tmp/nw")"
    grep '^#' "$tmp/nw"
done
done_testing
