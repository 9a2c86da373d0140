#!/usr/bin/env bash
# coldtok quantize --type IQ2_S, IQ2_M, IQ2_S --llama-mix and IQ2_XS --llama-mix against
# llama_model_quantize itself (the oracle helper $BUILD/oracle/llama_oracle, docs/testing.md
# "llama.cpp as an oracle"), with coldtok's own importance data (--method imatrix --calib, written
# out with --save-imatrix) handed to llama.cpp, on two seeded F32 llamas of 8 layers:
#   A: 8 heads, 2 kv heads (llama.cpp's n_gqa 4), ffn width 352 (not a multiple of 256: ffn_down
#      falls back to IQ4_NL);
#   B: 8 heads, 4 kv heads (n_gqa 2), ffn width 512;
#   (a) every matrix IQ2_S (what llama-quantize --pure IQ2_M writes): every tensor of A
#       byte-identical to llama.cpp's file, the same general.file_type, and llama.cpp's logits of
#       coldtok's file identical to its logits of its own;
#   (b) llama-quantize's IQ2_M on A and B, its IQ2_S (mostly IQ2_XS) and IQ2_XS on A: every tensor
#       gets llama.cpp's type (token_embd IQ3_S, output Q5_K, attn_v Q4_K at n_gqa 4 and IQ3_S
#       below, attn_output and the first n_layer/8 ffn_down IQ3_S; IQ2_XS: Q2_K where the others
#       have IQ3_S, attn_output IQ2_XS), the i-quant tensors byte-identical,
#       each k-quant tensor reconstructing no worse than llama.cpp's (importance-weighted), and
#       llama.cpp runs coldtok's file;
#   (c) without importance data coldtok still writes IQ2_M (ggml's own no-importance IQ2_S
#       weights; llama.cpp refuses) with the same types.
# The ASan pass ($COLDTOK names an asan build) runs (a) without the logits and (b) on B for the
# types and bytes only. Without the oracle the comparisons skip with the reason. Prints TAP.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
ORACLE=${LLAMA_ORACLE:-$(dirname "$BIN")/oracle/llama_oracle}
CALIB=$(dirname "$0")/data/calib
ASAN=0
[[ $BIN == *asan* ]] && ASAN=1
tmp=$(mktemp -d /tmp/coldtok-cli-quantize-iq2s.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$BIN" quantize -m x.gguf --type IQ2_Q -o "$tmp/o.gguf" > "$tmp/out" 2> "$tmp/err"
rc=$?
check "an unknown type names IQ2_S and IQ2_M among the known ones" \
    '[ $rc != 0 ] && grep -Eq "known: ([A-Z0-9_]+ )*IQ2_S ([A-Z0-9_]+ )*\(every matrix" "$tmp/err" &&
    grep -Eq "\), ([A-Z0-9_]+ )*IQ2_M ([A-Z0-9_]+ )*\(llama.cpp mixtures" "$tmp/err"' "rc=$rc $(cat "$tmp/err")"

for m in A:2,ff=352 B:4,ff=512; do
    "$BIN" synth --arch llama --dims layers=8,heads=8,kv_heads=${m#*:},embd=256 --type F32 \
        -o "$tmp/${m%%:*}.gguf" > /dev/null 2> "$tmp/err"
    check_status "synth: model ${m%%:*} (kv_heads=${m#*:})" $? "$(cat "$tmp/err")"
done

# q MODEL TYPE OUT [ARGS]: coldtok quantize with importance data from the calibration text
q() {
    local m=$1 t=$2 o=$3
    shift 3
    "$BIN" quantize -m "$m" --type "$t" --method imatrix --calib "$CALIB" --calib-tokens 512 "$@" -o "$o" \
        > "$tmp/out" 2> "$tmp/err"
}

"$BIN" quantize -m "$tmp/B.gguf" --type IQ2_M -o "$tmp/cB0.gguf" > "$tmp/out0" 2> "$tmp/err"
check_status "(c) IQ2_M without importance data: written" $? "$(cat "$tmp/err")"

if [ ! -x "$ORACLE" ]; then
    skip "IQ2_S quantization against llama.cpp" "the oracle $ORACLE is not built (make oracle, then make tests)"
    done_testing
    exit 0
fi
if ! command -v python3 > /dev/null; then
    skip "IQ2_S quantization against llama.cpp" "python3 is missing"
    done_testing
    exit 0
fi

# compare and no_worse (no_worse reads the source model from $M)
. "$(dirname "$0")/quant_oracle.sh"

file_type() { "$BIN" info "$1" | awk '/^  general.file_type = / {print $3}'; }
IDS=1,17,93,200,311,402,7

# (a) every matrix IQ2_S, model A (coldtok's importance data saved for the rest of the test)
q "$tmp/A.gguf" IQ2_S "$tmp/cA.gguf" --save-imatrix "$tmp/imxA" &&
    "$ORACLE" quantize --pure "$tmp/A.gguf" "$tmp/oA.gguf" IQ2_M "$tmp/imxA" 2>> "$tmp/err" &&
    compare "$tmp/cA.gguf" "$tmp/oA.gguf" > "$tmp/listA"
check "(a) IQ2_S, every matrix: all 75 tensors byte-identical to llama_model_quantize --pure IQ2_M given the same importance" \
    '[ "$(grep -c " same$" "$tmp/listA")" = 75 ]' "$(cat "$tmp/err"; grep -v " same$" "$tmp/listA")"
has "(a) IQ2_S: token_embd (no importance data in either) and attn_q IQ2_S, ffn_down (352 columns) falls back to IQ4_NL" \
    "$tmp/listA" '^token_embd\.weight IQ2_S IQ2_S same$' '^blk\.4\.attn_q\.weight IQ2_S IQ2_S same$' \
    '^blk\.0\.ffn_down\.weight IQ4_NL IQ4_NL same$' '^output\.weight IQ2_S IQ2_S same$'
check "(a) IQ2_S: general.file_type 29, as llama.cpp's file" \
    '[ "$(file_type "$tmp/cA.gguf")" = 29 ] && [ "$(file_type "$tmp/oA.gguf")" = 29 ]' \
    "$(file_type "$tmp/cA.gguf") $(file_type "$tmp/oA.gguf")"
if [ $ASAN = 0 ]; then
    "$ORACLE" logits "$tmp/cA.gguf" $IDS "$tmp/lc.f32" 2> "$tmp/err" &&
        "$ORACLE" logits "$tmp/oA.gguf" $IDS "$tmp/lo.f32" 2>> "$tmp/err"
    check "(a) llama.cpp runs coldtok's IQ2_S file: logits identical to those of its own file" \
        '[ -s "$tmp/lc.f32" ] && cmp -s "$tmp/lc.f32" "$tmp/lo.f32"' "$(cat "$tmp/err")"
fi

# (b) the mixtures
runs="B:IQ2_M"
[ $ASAN = 0 ] && runs="A:IQ2_M A:IQ2_S:mix A:IQ2_XS:mix B:IQ2_M"
for run in $runs; do
    m=${run%%:*} rest=${run#*:}
    t=${rest%%:*} mix=
    [ "$rest" != "$t" ] && mix=--llama-mix
    ll=$t
    what="llama-quantize's $t on $m"
    if [ $m = A ]; then imx=$tmp/imxA; else imx=$tmp/imxB; fi
    if [ $m = B ] && [ ! -d "$tmp/imxB" ]; then
        q "$tmp/B.gguf" $t "$tmp/cm.gguf" $mix --save-imatrix "$imx"
    else
        q "$tmp/$m.gguf" $t "$tmp/cm.gguf" $mix
    fi &&
        "$ORACLE" quantize "$tmp/$m.gguf" "$tmp/om.gguf" $ll "$imx" 2>> "$tmp/err" &&
        compare "$tmp/cm.gguf" "$tmp/om.gguf" > "$tmp/list.$run"
    list=$tmp/list.$run
    check "(b) $what: every tensor of llama.cpp's type, the IQ ones byte-identical" \
        '[ "$(awk "\$2 == \$3" "$list" | wc -l)" = 75 ] && ! grep -q "^[^ ]* IQ[0-9]_[A-Z]* [^ ]* differ$" "$list"' \
        "$(cat "$tmp/err"; grep -v " same$" "$list")"
    case $run in
    A:IQ2_M)
        has "(b) $what: token_embd IQ3_S, output Q5_K, attn_v Q4_K (n_gqa 4), attn_output IQ3_S, ffn_down IQ4_NL (352 columns), the rest IQ2_S" \
            "$list" '^token_embd\.weight IQ3_S IQ3_S same$' '^output\.weight Q5_K Q5_K' '^blk\.5\.attn_v\.weight Q4_K Q4_K' \
            '^blk\.5\.attn_output\.weight IQ3_S IQ3_S same$' '^blk\.0\.ffn_down\.weight IQ4_NL IQ4_NL same$' \
            '^blk\.6\.ffn_down\.weight IQ4_NL IQ4_NL same$' '^blk\.2\.ffn_up\.weight IQ2_S IQ2_S same$'
        ;;
    A:IQ2_S:mix)
        has "(b) $what: the same rules on IQ2_XS" \
            "$list" '^token_embd\.weight IQ3_S IQ3_S same$' '^output\.weight Q5_K Q5_K' '^blk\.5\.attn_v\.weight Q4_K Q4_K' \
            '^blk\.5\.attn_output\.weight IQ3_S IQ3_S same$' '^blk\.0\.ffn_down\.weight IQ4_NL IQ4_NL same$' \
            '^blk\.2\.ffn_gate\.weight IQ2_XS IQ2_XS same$'
        check "(b) $what: general.file_type 28, as llama.cpp's file" \
            '[ "$(file_type "$tmp/cm.gguf")" = 28 ] && [ "$(file_type "$tmp/om.gguf")" = 28 ]'
        ;;
    A:IQ2_XS:mix)
        has "(b) $what: token_embd Q2_K, output Q5_K, attn_v Q4_K, attn_output IQ2_XS, ffn_down of layer 0 Q2_K (falls back to Q4_0), the rest IQ4_NL" \
            "$list" '^token_embd\.weight Q2_K Q2_K' '^output\.weight Q5_K Q5_K' '^blk\.5\.attn_v\.weight Q4_K Q4_K' \
            '^blk\.5\.attn_output\.weight IQ2_XS IQ2_XS same$' '^blk\.0\.ffn_down\.weight Q4_0 Q4_0' \
            '^blk\.1\.ffn_down\.weight IQ4_NL IQ4_NL same$' '^blk\.2\.ffn_gate\.weight IQ2_XS IQ2_XS same$'
        check "(b) $what: general.file_type 20, as llama.cpp's file" \
            '[ "$(file_type "$tmp/cm.gguf")" = 20 ] && [ "$(file_type "$tmp/om.gguf")" = 20 ]'
        ;;
    B:IQ2_M)
        has "(b) $what: attn_v IQ3_S (n_gqa 2), ffn_down of layer 0 IQ3_S, of layer 1 IQ2_S" \
            "$list" '^blk\.3\.attn_v\.weight IQ3_S IQ3_S same$' '^blk\.0\.ffn_down\.weight IQ3_S IQ3_S same$' \
            '^blk\.1\.ffn_down\.weight IQ2_S IQ2_S same$' '^output\.weight Q5_K Q5_K' '^token_embd\.weight IQ3_S IQ3_S same$'
        check "(b) $what: general.file_type 29, as llama.cpp's file" \
            '[ "$(file_type "$tmp/cm.gguf")" = 29 ] && [ "$(file_type "$tmp/om.gguf")" = 29 ]'
        cp "$tmp/cm.gguf" "$tmp/cB.gguf"
        ;;
    esac
    [ $ASAN = 1 ] && continue
    M="$tmp/$m.gguf" no_worse "$tmp/cm.gguf" "$tmp/om.gguf" "$list" "$imx" > "$tmp/nw"
    check_status "(b) $what: each k-quant tensor reconstructs no worse than llama.cpp's" $? "$(cat "$tmp/nw")"
    grep '^#' "$tmp/nw"
    "$ORACLE" logits "$tmp/cm.gguf" $IDS "$tmp/lc.f32" 2> "$tmp/err"
    check "(b) $what: llama.cpp runs coldtok's file (finite logits)" \
        '[ "$(stat -c %s "$tmp/lc.f32")" = $((7 * 512 * 4)) ] && od -An -v -f "$tmp/lc.f32" | awk "/nan|inf/ {exit 1}"' \
        "$(cat "$tmp/err")"
done

# (c) without importance data: the same types as llama.cpp's IQ2_M with it
types() { "$BIN" info "$1" | awk '/^  [a-z_.0-9]+ +[A-Z0-9_]+ +\[/ {print $1, $2}' | sort; }
types "$tmp/cB0.gguf" > "$tmp/types0"
types "$tmp/cB.gguf" > "$tmp/types1"
check "(c) IQ2_M without importance data: every tensor of the type llama.cpp's file with it has" \
    '[ "$(wc -l < "$tmp/types0")" = 75 ] && cmp -s "$tmp/types0" "$tmp/types1"' "$(diff "$tmp/types0" "$tmp/types1" | head)"
done_testing
