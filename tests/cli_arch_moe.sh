#!/usr/bin/env bash
# Mixture of experts (qwen2moe, qwen3moe; model/moe.h) end to end:
#  (a) each family's F32 synth model (8 experts, top 2 / top 4) against llama.cpp itself
#      ($BUILD/oracle/llama_oracle logits): every position of a 22-token prompt within 1e-4 of
#      max |logit|;
#  (b) the HF folders of tests/reference/moe_ref.py (float64 torch forward of modeling_qwen2_moe /
#      qwen3_moe) within 1e-4; `coldtok quantize --type f32` turns each into a GGUF that llama.cpp
#      loads with the same logits (1e-4 of the torch ones), and coldtok on that GGUF too;
#  (c) ties: the tied-router folder (32 experts in 4 groups of 8 equal router rows, top 6), where
#      the pick among equal probabilities is the sort's: coldtok = llama.cpp within 1e-4 (a stable
#      sort instead of std::sort's order misses by more than half of max |logit|);
#  (d) probe, diff and drift run on a MoE model; synth of the quantized types loads and runs;
#  (e) bad input: a config or tensor that does not fit is one line naming the key or the tensor.
# Without the oracle, (a), (c) and the llama.cpp half of (b) skip with the reason. Prints TAP.
set -u
BIN=${COLDTOK:-./coldtok}
ORACLE=${LLAMA_ORACLE:-$(dirname "$BIN")/oracle/llama_oracle}
tmp=$(mktemp -d /tmp/coldtok-cli-moe.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

have_oracle=1
[ -x "$ORACLE" ] || have_oracle=0
why="the llama.cpp oracle is not built (make tests; make oracle needs npm)"
ids_of() { grep -o '"ids": *\[[^]]*\]' "$1" | sed 's/.*\[//; s/\]//; s/ //g'; }
# coldtok's raw logits of every position of ids (comma-separated) into OUT
logits_all() { # MODEL IDS OUT
    # shellcheck disable=SC2086 # one -c per id: split on purpose
    "$BIN" logits -m "$1" -c ${2//,/ -c } --raw-all "$3" --top 0 > /dev/null 2> "$tmp/err"
}

# ---- (a) synth models vs llama.cpp ----
PROMPT=257,1,45,99,300,12,7,8,200,150,33,77,260,261,262,5,6,90,91,92,400,410
for a in qwen2moe qwen3moe; do
    "$BIN" synth --arch $a --type F32 --std 0.1 --seed 11 -o "$tmp/$a.gguf" 2> "$tmp/err"
    check_status "synth --arch $a F32" $? "$(cat "$tmp/err")"
    if [ $have_oracle = 0 ]; then skip "$a synth vs llama.cpp" "$why"; continue; fi
    "$ORACLE" logits "$tmp/$a.gguf" "$PROMPT" "$tmp/$a.oracle.f32" 2> "$tmp/err"
    check_status "oracle: llama.cpp loads the $a synth model" $? "$(cat "$tmp/err")"
    : > "$tmp/cmp"
    logits_all "$tmp/$a.gguf" "$PROMPT" "$tmp/$a.coldtok.f32" &&
        close_f32 "$tmp/$a.coldtok.f32" "$tmp/$a.oracle.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "$a synth F32, 22 positions: coldtok = llama.cpp ($(cat "$tmp/cmp"))" $rc "$(cat "$tmp/err")"
done

# ---- (b) HF folders vs the float64 torch forward; HF -> GGUF in llama.cpp ----
for a in qwen2moe qwen3moe; do
    d=tests/data/moe-$a-f32
    ids=$(ids_of "$d/prompt.json")
    : > "$tmp/cmp"
    logits_all "$d" "$ids" "$tmp/hf-$a.f32" && close_f32 "$tmp/hf-$a.f32" "$d/torch.logits.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "HF $a folder = float64 torch ($(cat "$tmp/cmp"))" $rc "$(cat "$tmp/err")"
    mkdir -p "$tmp/hf-$a" && cp "$d"/config.json "$d"/model.safetensors "$tmp/hf-$a/" &&
        cp tests/data/cov-tiny-tokenizer.json "$tmp/hf-$a/tokenizer.json"
    "$BIN" quantize -m "$tmp/hf-$a" --type f32 -o "$tmp/hf-$a.gguf" > /dev/null 2> "$tmp/err"
    check_status "quantize the HF $a folder to an F32 GGUF (experts stacked)" $? "$(cat "$tmp/err")"
    : > "$tmp/cmp"
    logits_all "$tmp/hf-$a.gguf" "$ids" "$tmp/hfg-$a.f32" && close_f32 "$tmp/hfg-$a.f32" "$d/torch.logits.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "coldtok on the converted $a GGUF = torch ($(cat "$tmp/cmp"))" $rc "$(cat "$tmp/err")"
    if [ $have_oracle = 0 ]; then skip "llama.cpp on the converted $a GGUF" "$why"; continue; fi
    : > "$tmp/cmp"
    "$ORACLE" logits "$tmp/hf-$a.gguf" "$ids" "$tmp/hfo-$a.f32" 2> "$tmp/err" &&
        close_f32 "$tmp/hfo-$a.f32" "$d/torch.logits.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "llama.cpp on the converted $a GGUF = torch ($(cat "$tmp/cmp"))" $rc "$(cat "$tmp/err")"
done

# ---- (c) router ties: llama.cpp's order ----
d=tests/data/moe-qwen3moe-ties-f32
if [ $have_oracle = 1 ]; then
    ids=$(ids_of "$d/prompt.json")
    mkdir -p "$tmp/ties" && cp "$d"/config.json "$d"/model.safetensors "$tmp/ties/" &&
        cp tests/data/cov-tiny-tokenizer.json "$tmp/ties/tokenizer.json"
    : > "$tmp/cmp"
    "$BIN" quantize -m "$tmp/ties" --type f32 -o "$tmp/ties.gguf" > /dev/null 2> "$tmp/err" &&
        "$ORACLE" logits "$tmp/ties.gguf" "$ids" "$tmp/ties.oracle.f32" 2>> "$tmp/err" &&
        logits_all "$d" "$ids" "$tmp/ties.coldtok.f32" &&
        close_f32 "$tmp/ties.coldtok.f32" "$tmp/ties.oracle.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "tied router (4 groups of 8 equal experts, top 6): coldtok picks as llama.cpp ($(cat "$tmp/cmp"))" $rc "$(cat "$tmp/err")"
else
    skip "tied router vs llama.cpp" "$why"
fi

# ---- (d) the commands on a MoE model; quantized synth ----
"$BIN" synth --preset tiny-qwen3moe --type F16 --seed 3 -o "$tmp/base.gguf" 2> "$tmp/err" &&
    "$BIN" synth --preset tiny-qwen3moe --type Q8_0 --seed 3 -o "$tmp/q8.gguf" 2>> "$tmp/err"
check_status "synth tiny-qwen3moe F16 and Q8_0" $? "$(cat "$tmp/err")"
out=$("$BIN" probe -m "$tmp/base.gguf" --lang python 2>&1); rc=$?
check "probe on qwen3moe" '[ $rc -eq 0 ] && [[ $out == *"keyword mass per language"* ]] && [[ $out == *python* ]]' "rc=$rc $out"
out=$("$BIN" diff -m "$tmp/base.gguf" -m "$tmp/q8.gguf" --lang python 2>&1); rc=$?
check "diff of two qwen3moe variants" '[ $rc -eq 0 ] && [[ $out == *"relative to the base"* ]] && [[ $out == *q8* ]]' "rc=$rc $out"
out=$("$BIN" drift -m "$tmp/base.gguf" -m "$tmp/q8.gguf" --corpus data/samples/python --ctx 64 \
      --max-tokens 640 2>&1); rc=$?
kl=$(printf '%s\n' "$out" | awk '$1 == "q8" && $2 == "python" { print $5 }')
check "drift of qwen3moe Q8_0 from F16: a small positive KL ($kl)" \
    '[ $rc -eq 0 ] && awk -v k="$kl" "BEGIN { exit !(k > 0 && k < 0.01) }"' "rc=$rc $out"
for t in Q4_K Q6_K; do
    "$BIN" synth --preset tiny-qwen2moe --type $t --seed 5 -o "$tmp/s-$t.gguf" 2> "$tmp/err" &&
        "$BIN" logits -m "$tmp/s-$t.gguf" --top 3 > "$tmp/out" 2>> "$tmp/err" && grep -Eq '^ +3 ' "$tmp/out"
    check_status "synth tiny-qwen2moe $t loads and runs" $? "$(cat "$tmp/err")"
done

# ---- (e) bad input: one line naming the key or tensor ----
fails() { # NAME EXPECTED MODEL
    local name=$1 want=$2
    out=$("$BIN" logits -m "$3" --top 1 2>&1); rc=$?
    check "error: $name" '[ $rc -ne 0 ] && [ $(printf "%s\n" "$out" | wc -l) -eq 1 ] && [[ $out == *"$want"* ]]' "rc=$rc out=$out"
}
bad() { # NAME SED-EXPRESSION: a copy of the qwen3moe folder with config.json edited
    mkdir -p "$tmp/$1" && cp tests/data/moe-qwen3moe-f32/model.safetensors "$tmp/$1/" &&
        sed "$2" tests/data/moe-qwen3moe-f32/config.json > "$tmp/$1/config.json"
}
bad nine 's/"num_experts": 8/"num_experts": 9/'
fails "num_experts 9 for 8 experts" "tensor model.layers.0.mlp.gate.weight has shape [8, 64] (2 dimensions), expected [9, 64]" "$tmp/nine"
bad sparse 's/"decoder_sparse_step": 1/"decoder_sparse_step": 2/'
fails "decoder_sparse_step 2" '"decoder_sparse_step" 2 is not supported' "$tmp/sparse"
bad only 's/"mlp_only_layers": \[\]/"mlp_only_layers": [1]/'
fails "mlp_only_layers [1]" '"mlp_only_layers" is not supported' "$tmp/only"
bad nok 's/"num_experts_per_tok": 4,//'
fails "no num_experts_per_tok" 'missing "num_experts_per_tok"' "$tmp/nok"
bad k9 's/"num_experts_per_tok": 4/"num_experts_per_tok": 9/'
fails "more experts used than there are" "9 experts used per position, of 8" "$tmp/k9"
mkdir -p "$tmp/norm" && cp tests/data/moe-qwen3moe-f32/model.safetensors "$tmp/norm/" &&
    sed 's/"norm_topk_prob": true/"norm_topk_prob": false/' tests/data/moe-qwen3moe-f32/config.json > "$tmp/norm/config.json"
out=$("$BIN" quantize -m "$tmp/norm" --type f32 -o "$tmp/norm.gguf" 2>&1); rc=$?
check "quantize refuses a norm_topk_prob llama.cpp's qwen3moe cannot express" \
    '[ $rc -ne 0 ] && [[ $out == *"norm_topk_prob false"* ]] && [ ! -e "$tmp/norm.gguf" ]' "rc=$rc out=$out"
# a GGUF whose expert tensors do not match its keys: expert_feed_forward_length patched 64 -> 32
"$BIN" synth --arch qwen3moe --type F32 --dims experts=4,experts_used=2 -o "$tmp/four.gguf" 2> "$tmp/err"
check_status "synth --dims experts=4,experts_used=2" $? "$(cat "$tmp/err")"
if command -v python3 > /dev/null; then
    python3 - "$tmp/four.gguf" "$tmp/short.gguf" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
key = b"qwen3moe.expert_feed_forward_length"
i = b.index(struct.pack("<Q", len(key)) + key) + 8 + len(key)
assert struct.unpack_from("<II", b, i) == (4, 64)  # GGUF_TYPE_UINT32, 64
struct.pack_into("<I", b, i + 4, 32)
open(sys.argv[2], "wb").write(b)
PY
    fails "expert tensor unlike the keys" "tensor blk.0.ffn_gate_exps.weight has ne [128, 64, 4, 1], expected [128, 32, 4]" "$tmp/short.gguf"
else
    skip "expert tensor unlike the keys" "no python3 to patch the file"
fi
out=$("$BIN" synth --arch qwen2moe --dims ff_shexp=0 -o "$tmp/x.gguf" 2>&1); rc=$?
check "synth qwen2moe without a shared expert is refused" '[ $rc -ne 0 ] && [[ $out == *"needs"* ]]' "rc=$rc out=$out"

done_testing
