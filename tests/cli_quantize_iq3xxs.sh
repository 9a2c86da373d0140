#!/usr/bin/env bash
# coldtok quantize --type IQ3_XXS and the llama-quantize mixtures IQ3_XS and IQ3_XXS against
# llama_model_quantize itself (the oracle helper $BUILD/oracle/llama_oracle, docs/testing.md
# "llama.cpp as an oracle"), on the seeded F32 llama of tests/cli_quantize_iq.sh (8 layers, 8 heads
# on 2 kv heads: n_gqa 4, ffn width 352, not a multiple of 256, so ffn_down falls back to IQ4_NL).
# llama.cpp quantizes IQ3_XXS tensors only with importance data; coldtok's own (--method imatrix
# --calib, written out with --save-imatrix) is handed to llama_model_quantize:
#   (a) every matrix IQ3_XXS (--pure): all 75 tensors byte-identical; without importance data
#       llama.cpp refuses, coldtok writes ggml_quantize_chunk's rows (checked on two matrices);
#   (b) the IQ3_XS mixture: every tensor of llama.cpp's type, every IQ tensor byte-identical, each
#       k-quant tensor (attn_v Q4_K, output Q6_K) no worse than llama.cpp's (importance-weighted);
#       llama.cpp loads coldtok's file, its logits close to those of its own file;
#   (c) the IQ3_XXS mixture, likewise, also on a model with n_gqa 1 (attn_v then IQ3_XXS) and ffn
#       512 (attn_q and attn_k are IQ2_S there: while coldtok cannot write IQ2_S, those two are
#       kept IQ3_XXS with --keep and the other 59 tensors are checked).
# In a sanitizer build ($COLDTOK contains "asan") only (b) with importance data runs: each
# calibration is ~10x slower there. Without the oracle the comparisons skip with the reason.
# Prints TAP.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/quant_oracle.sh"
BIN=${COLDTOK:-./coldtok}
ORACLE=${LLAMA_ORACLE:-$(dirname "$BIN")/oracle/llama_oracle}
CALIB=$(dirname "$0")/data/calib
tmp=$(mktemp -d /tmp/coldtok-cli-quantize-iq3xxs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
case "$BIN" in *asan*) light=1 ;; *) light=0 ;; esac

"$BIN" quantize -m x.gguf --type IQ3_XX -o "$tmp/o.gguf" > "$tmp/out" 2> "$tmp/err"
rc=$?
check "an unknown type names the known ones, IQ3_XXS and IQ3_XS among them" \
    '[ $rc = 2 ] && grep -q "IQ3_XXS" "$tmp/err" && grep -q "IQ3_XS " "$tmp/err"' "rc=$rc $(cat "$tmp/err")"

if [ ! -x "$ORACLE" ]; then
    skip "IQ3_XXS quantization against llama.cpp" "the oracle $ORACLE is not built (make oracle, then make tests)"
    done_testing
    exit 0
fi
if ! command -v python3 > /dev/null; then
    skip "IQ3_XXS quantization against llama.cpp" "python3 is missing"
    done_testing
    exit 0
fi

M=$tmp/m.gguf
"$BIN" synth --arch llama --dims layers=8,heads=8,kv_heads=2,embd=256,ff=352 --type F32 -o "$M" > /dev/null 2> "$tmp/err"
check_status "synth: an 8-layer F32 llama with n_gqa 4 and ffn 352" $? "$(cat "$tmp/err")"
calib() { "$BIN" quantize -m "$M" --method imatrix --calib "$CALIB" --calib-tokens 512 "$@"; }

# ---- (b) the IQ3_XS mixture with importance data (also writes the importance data for the rest)
calib --type IQ3_XS --save-imatrix "$tmp/imx" -o "$tmp/cm.gguf" > "$tmp/out" 2> "$tmp/err" &&
    "$ORACLE" quantize "$M" "$tmp/om.gguf" IQ3_XS "$tmp/imx" 2>> "$tmp/err" &&
    compare "$tmp/cm.gguf" "$tmp/om.gguf" > "$tmp/list"
check "(b) IQ3_XS mixture: every tensor of llama.cpp's type, the IQ ones byte-identical" \
    '[ "$(awk "\$2 == \$3" "$tmp/list" | wc -l)" = 75 ] && ! grep -q "^[^ ]* IQ[0-9]_[A-Z]* [^ ]* differ$" "$tmp/list"' \
    "$(cat "$tmp/err"; grep -v " same$" "$tmp/list")"
has "(b) IQ3_XS: attn_q, attn_k and the middle layers' ffn_gate/ffn_up IQ3_XXS, attn_v Q4_K, output Q6_K, the rest IQ3_S" \
    "$tmp/list" '^blk\.3\.attn_q\.weight IQ3_XXS IQ3_XXS same$' '^blk\.0\.attn_k\.weight IQ3_XXS IQ3_XXS same$' \
    '^blk\.1\.ffn_gate\.weight IQ3_XXS IQ3_XXS same$' '^blk\.6\.ffn_up\.weight IQ3_XXS IQ3_XXS same$' \
    '^blk\.0\.ffn_up\.weight IQ3_S IQ3_S same$' '^blk\.7\.ffn_gate\.weight IQ3_S IQ3_S same$' \
    '^blk\.2\.attn_output\.weight IQ3_S IQ3_S same$' '^blk\.4\.ffn_down\.weight IQ4_NL IQ4_NL same$' \
    '^token_embd\.weight IQ3_S IQ3_S same$' '^blk\.5\.attn_v\.weight Q4_K Q4_K' '^output\.weight Q6_K Q6_K'
has "(b) IQ3_XS: general.file_type 22, as llama-quantize's" <("$BIN" info "$tmp/cm.gguf") '^  general.file_type = 22$'
no_worse "$tmp/cm.gguf" "$tmp/om.gguf" "$tmp/list" "$tmp/imx" > "$tmp/nw"
check_status "(b) IQ3_XS: each k-quant tensor reconstructs no worse than llama.cpp's" $? "$(cat "$tmp/nw")"
grep '^#' "$tmp/nw"

# llama.cpp runs coldtok's file: logits of 8 positions, finite; their gap to the F32 model's logits
# no more than 1.25 times that of llama.cpp's own file (the files differ only in k-quant blocks,
# each no worse than llama.cpp's)
ids=1,7,42,100,3,9,300,5
"$ORACLE" logits "$tmp/cm.gguf" $ids "$tmp/lc.f32" 2> "$tmp/err" &&
    "$ORACLE" logits "$tmp/om.gguf" $ids "$tmp/lo.f32" 2>> "$tmp/err" &&
    "$ORACLE" logits "$M" $ids "$tmp/lf.f32" 2>> "$tmp/err" &&
    python3 - "$tmp/lc.f32" "$tmp/lo.f32" "$tmp/lf.f32" > "$tmp/cmp" 2>> "$tmp/err" <<'EOF'
import array, math, sys
def floats(p):
    a = array.array('f')
    with open(p, 'rb') as f:
        a.frombytes(f.read())
    return a
c, o, f = (floats(p) for p in sys.argv[1:4])
assert len(c) == len(o) == len(f) == 8 * 512 and all(math.isfinite(v) for v in c)
gap = lambda a, b: max(abs(x - y) for x, y in zip(a, b))
gc, go = gap(c, f), gap(o, f)
print(f"# IQ3_XS logits (llama.cpp) against the F32 model's: coldtok's file {gc:.4g}, llama.cpp's "
      f"{go:.4g}; between the two files {gap(c, o):.4g}; max |logit| {max(map(abs, f)):.4g}")
sys.exit(0 if gc <= 1.25 * go else 1)
EOF
check_status "(b) llama.cpp runs coldtok's IQ3_XS file; its logits are as near the F32 model's as those of llama.cpp's file" $? \
    "$(cat "$tmp/err" "$tmp/cmp")"
grep '^#' "$tmp/cmp"

if [ $light = 1 ]; then
    skip "(a), (c) and the runs without importance data" "a sanitizer build runs (b) with importance data only"
    done_testing
    exit 0
fi

# ---- (a) every matrix IQ3_XXS
calib --type IQ3_XXS -o "$tmp/c.gguf" > /dev/null 2> "$tmp/err" &&
    "$ORACLE" quantize --pure "$M" "$tmp/o.gguf" IQ3_XXS "$tmp/imx" 2>> "$tmp/err" &&
    compare "$tmp/c.gguf" "$tmp/o.gguf" > "$tmp/list"
check "(a) IQ3_XXS, every matrix, with coldtok's importance data: all 75 tensors byte-identical to llama_model_quantize --pure" \
    '[ "$(grep -c " same$" "$tmp/list")" = 75 ]' "$(cat "$tmp/err"; grep -v " same$" "$tmp/list")"
has "(a) IQ3_XXS: ffn_down (352 columns) falls back to IQ4_NL in both, token_embd and output are IQ3_XXS" "$tmp/list" \
    '^blk\.0\.ffn_down\.weight IQ4_NL IQ4_NL same$' '^token_embd\.weight IQ3_XXS IQ3_XXS same$' \
    '^output\.weight IQ3_XXS IQ3_XXS same$' '^blk\.4\.attn_q\.weight IQ3_XXS IQ3_XXS same$'
"$ORACLE" logits "$tmp/c.gguf" 1,7,42,100 "$tmp/lc.f32" 2> "$tmp/err" &&
    "$ORACLE" logits "$tmp/o.gguf" 1,7,42,100 "$tmp/lo.f32" 2>> "$tmp/err" && cmp -s "$tmp/lc.f32" "$tmp/lo.f32"
check_status "(a) llama.cpp's logits of coldtok's IQ3_XXS file are those of its own" $? "$(cat "$tmp/err")"

"$ORACLE" quantize --pure "$M" "$tmp/o0.gguf" IQ3_XXS > /dev/null 2> "$tmp/err"
rc=$?
check "(a) llama.cpp refuses IQ3_XXS without importance data" '[ $rc != 0 ] && grep -q "requires an importance matrix" "$tmp/err"' \
    "rc=$rc $(cat "$tmp/err")"
"$BIN" quantize -m "$M" --type IQ3_XXS -o "$tmp/c0.gguf" > /dev/null 2> "$tmp/err"
check_status "(a) coldtok writes IQ3_XXS without importance data" $? "$(cat "$tmp/err")"
for t in blk.2.attn_q.weight token_embd.weight; do
    "$ORACLE" tensor "$M" $t "$tmp/src.f32" > /dev/null &&
        "$ORACLE" quant IQ3_XXS 256 "$tmp/src.f32" "$tmp/want.bin" 2> "$tmp/err" &&
        "$ORACLE" tensor "$tmp/c0.gguf" $t "$tmp/got.bin" > /dev/null && cmp -s "$tmp/got.bin" "$tmp/want.bin"
    check_status "(a) without importance data, $t is ggml_quantize_chunk's IQ3_XXS rows" $? "$(cat "$tmp/err")"
done

# ---- (b) the IQ3_XS mixture without importance data: llama.cpp refuses it, coldtok gives the same types
"$BIN" quantize -m "$M" --type IQ3_XS -o "$tmp/cm0.gguf" > /dev/null 2> "$tmp/err" &&
    diff <("$BIN" info "$tmp/cm0.gguf" | awk '/^  [a-z_.0-9]+ +[A-Z0-9_]+ +\[/ {print $1, $2}') \
        <("$BIN" info "$tmp/cm.gguf" | awk '/^  [a-z_.0-9]+ +[A-Z0-9_]+ +\[/ {print $1, $2}') >> "$tmp/err"
check_status "(b) IQ3_XS without importance data: the same types as with it (the mixture does not look)" $? \
    "$(cat "$tmp/err")"

# ---- (c) the IQ3_XXS mixture (attn_q, attn_k in IQ2_S)
# first on a model without grouped-query attention (n_gqa 1: attn_v IQ3_XXS given importance data,
# not Q4_K) and with ffn 512 (no fallback), attn_q and attn_k kept IQ3_XXS (coldtok's IQ2_S aside)
M1=$tmp/m1.gguf
"$BIN" synth --arch llama --dims layers=8,heads=8,kv_heads=8,embd=256,ff=512 --type F32 -o "$M1" > /dev/null 2> "$tmp/err" &&
    "$BIN" quantize -m "$M1" --type IQ3_XXS --llama-mix --keep '*.attn_[qk].weight=IQ3_XXS' --method imatrix \
        --calib "$CALIB" --calib-tokens 256 --save-imatrix "$tmp/imx1" -o "$tmp/c1.gguf" > /dev/null 2>> "$tmp/err" &&
    "$ORACLE" quantize "$M1" "$tmp/o1.gguf" IQ3_XXS "$tmp/imx1" 2>> "$tmp/err" &&
    compare "$tmp/c1.gguf" "$tmp/o1.gguf" | grep -v '\.attn_[qk]\.weight ' > "$tmp/list"
check "(c) IQ3_XXS mixture, n_gqa 1: the 59 tensors but attn_q/attn_k of llama.cpp's type, the IQ ones byte-identical" \
    '[ "$(awk "\$2 == \$3" "$tmp/list" | wc -l)" = 59 ] && ! grep -q "^[^ ]* IQ[0-9]_[A-Z]* [^ ]* differ$" "$tmp/list" &&
     grep -q "^blk\.3\.attn_v\.weight IQ3_XXS IQ3_XXS same$" "$tmp/list" && grep -q "^blk\.0\.ffn_down\.weight IQ3_XXS IQ3_XXS same$" "$tmp/list"' \
    "$(cat "$tmp/err"; grep -v " same$" "$tmp/list")"

"$BIN" quantize -m "$tmp/none.gguf" --type Q8_0 --keep 'x=IQ2_S' -o "$tmp/probe.gguf" > /dev/null 2> "$tmp/err"
if grep -q "is not a type coldtok writes" "$tmp/err"; then
    # until then: the mixture with attn_q and attn_k kept IQ3_XXS, every other tensor checked
    calib --type IQ3_XXS --llama-mix --keep '*.attn_[qk].weight=IQ3_XXS' -o "$tmp/cx.gguf" > /dev/null 2> "$tmp/err" &&
        "$ORACLE" quantize "$M" "$tmp/ox.gguf" IQ3_XXS "$tmp/imx" 2>> "$tmp/err" &&
        compare "$tmp/cx.gguf" "$tmp/ox.gguf" | grep -v '\.attn_[qk]\.weight ' > "$tmp/list"
    check "(c) IQ3_XXS mixture, attn_q and attn_k aside (IQ2_S there, which this coldtok cannot write): the other 59 tensors of llama.cpp's type, the IQ ones byte-identical" \
        '[ "$(awk "\$2 == \$3" "$tmp/list" | wc -l)" = 59 ] && ! grep -q "^[^ ]* IQ[0-9]_[A-Z]* [^ ]* differ$" "$tmp/list"' \
        "$(cat "$tmp/err"; grep -v " same$" "$tmp/list")"
    has "(c) IQ3_XXS: attn_output and token_embd IQ3_S, attn_v Q4_K, output Q5_K, the rest IQ3_XXS" \
        "$tmp/list" '^blk\.2\.attn_output\.weight IQ3_S IQ3_S same$' '^token_embd\.weight IQ3_S IQ3_S same$' \
        '^blk\.0\.ffn_down\.weight IQ4_NL IQ4_NL same$' '^blk\.5\.ffn_up\.weight IQ3_XXS IQ3_XXS same$' \
        '^blk\.5\.attn_v\.weight Q4_K Q4_K' '^output\.weight Q5_K Q5_K'
    no_worse "$tmp/cx.gguf" "$tmp/ox.gguf" "$tmp/list" "$tmp/imx" > "$tmp/nw"
    check_status "(c) IQ3_XXS mixture: each k-quant tensor reconstructs no worse than llama.cpp's" $? "$(cat "$tmp/nw")"
    grep '^#' "$tmp/nw"
    skip "(c) the IQ3_XXS mixture's attn_q and attn_k" "IQ2_S there, which this coldtok cannot write"
    done_testing
    exit 0
fi
calib --type IQ3_XXS --llama-mix -o "$tmp/cx.gguf" > /dev/null 2> "$tmp/err" &&
    "$ORACLE" quantize "$M" "$tmp/ox.gguf" IQ3_XXS "$tmp/imx" 2>> "$tmp/err" &&
    compare "$tmp/cx.gguf" "$tmp/ox.gguf" > "$tmp/list"
check "(c) IQ3_XXS mixture: every tensor of llama.cpp's type, the IQ ones byte-identical" \
    '[ "$(awk "\$2 == \$3" "$tmp/list" | wc -l)" = 75 ] && ! grep -q "^[^ ]* IQ[0-9]_[A-Z]* [^ ]* differ$" "$tmp/list"' \
    "$(cat "$tmp/err"; grep -v " same$" "$tmp/list")"
has "(c) IQ3_XXS: attn_q, attn_k IQ2_S, attn_output and token_embd IQ3_S, attn_v Q4_K, output Q5_K, the rest IQ3_XXS" \
    "$tmp/list" '^blk\.3\.attn_q\.weight IQ2_S IQ2_S same$' '^blk\.0\.attn_k\.weight IQ2_S IQ2_S same$' \
    '^blk\.2\.attn_output\.weight IQ3_S IQ3_S same$' '^token_embd\.weight IQ3_S IQ3_S same$' \
    '^blk\.0\.ffn_down\.weight IQ4_NL IQ4_NL same$' '^blk\.5\.ffn_up\.weight IQ3_XXS IQ3_XXS same$' \
    '^blk\.5\.attn_v\.weight Q4_K Q4_K' '^output\.weight Q5_K Q5_K'
has "(c) IQ3_XXS mixture: general.file_type 23" <("$BIN" info "$tmp/cx.gguf") '^  general.file_type = 23$'
no_worse "$tmp/cx.gguf" "$tmp/ox.gguf" "$tmp/list" "$tmp/imx" > "$tmp/nw"
check_status "(c) IQ3_XXS mixture: each k-quant tensor reconstructs no worse than llama.cpp's" $? "$(cat "$tmp/nw")"
grep '^#' "$tmp/nw"
done_testing
