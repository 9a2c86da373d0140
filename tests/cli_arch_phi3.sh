#!/usr/bin/env bash
# phi3 and RoPE scaling (YaRN, LongRoPE) end to end (docs/models.md "RoPE scaling", docs/testing.md):
#  (a) synth GGUF files against llama.cpp itself (the oracle helper): phi3 (fused attn_qkv and
#      ffn_up = gate | up), qwen2 and qwen3 with YaRN metadata, phi3 with LongRoPE factor tensors
#      (also with partial rotary dims); logits at every position within 1e-4 of max |logit|;
#  (b) the HF folders of tests/reference/phi3_ref.py (float64 torch) within 1e-4: phi3 with a
#      sliding window shorter than the prompt, phi3 LongRoPE, qwen2 YaRN;
#  (c) coldtok quantize of each folder to an F32 GGUF that llama.cpp loads with the same logits;
#  (d) probe, diff and drift on phi3 models; (e) what is refused, with one line naming it.
# Without the oracle the llama.cpp comparisons skip with the reason. Prints TAP.
set -u
BIN=${COLDTOK:-./coldtok}
ORACLE=${LLAMA_ORACLE:-$(dirname "$BIN")/oracle/llama_oracle}
D=tests/data
tmp=$(mktemp -d /tmp/coldtok-arch-phi3.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

have_oracle=1
[ -x "$ORACLE" ] || have_oracle=0
no_oracle() { skip "$1" "the llama.cpp oracle helper is not built ($ORACLE): make BUILD=$(dirname "$BIN") tests"; }

# coldtok's logits of every position of the ids (comma-separated) into OUT
coldtok_logits() { # MODEL IDS OUT
    # shellcheck disable=SC2046 # one -c per id
    "$BIN" logits -m "$1" $(printf -- '-c %s ' ${2//,/ }) --raw-all "$3" --top 0 > /dev/null 2> "$tmp/err"
}

# A prompt of 43 ids, longer than every window and original context below.
IDS=$(seq -s, 1 7 300 | sed 's/,$//')

# ---- (a) synth models against llama.cpp ----
vs_oracle() { # NAME SYNTH-ARGS...
    local name=$1; shift
    "$BIN" synth --type F32 --std 0.1 "$@" -o "$tmp/$name.gguf" 2> "$tmp/err"
    check_status "synth $name ($*)" $? "$(cat "$tmp/err")"
    if [ $have_oracle = 0 ]; then no_oracle "$name against llama.cpp"; return; fi
    "$ORACLE" logits "$tmp/$name.gguf" "$IDS" "$tmp/$name.oracle.f32" 2> "$tmp/err"
    check_status "oracle: logits of $name" $? "$(cat "$tmp/err")"
    : > "$tmp/cmp"
    coldtok_logits "$tmp/$name.gguf" "$IDS" "$tmp/$name.f32" &&
        close_f32 "$tmp/$name.f32" "$tmp/$name.oracle.f32" 1e-4 > "$tmp/cmp"; rc=$?
    check_status "$name: coldtok = llama.cpp at all 43 positions ($(cat "$tmp/cmp"))" $rc "$(cat "$tmp/err")"
}
vs_oracle phi3 --arch phi3
vs_oracle phi3-gqa1 --arch phi3 --dims kv_heads=1,layers=3
vs_oracle qwen2-plain --arch qwen2 --dims theta=10000
vs_oracle qwen2-yarn --arch qwen2 --dims theta=10000,yarn=4,orig_ctx=32
vs_oracle qwen3-yarn --arch qwen3 --dims yarn=8,orig_ctx=16,attn_factor=1.3
vs_oracle qwen2-attn-factor --arch qwen2 --dims theta=10000,attn_factor=1.3 # llama.cpp applies it unscaled too
vs_oracle phi3-longrope --arch phi3 --dims longrope=1
vs_oracle phi3-longrope-rot16 --arch phi3 --dims longrope=1,rot=16,kv_heads=4

# the scaling is not a no-op: the same weights without it give other logits
if [ -s "$tmp/qwen2-yarn.f32" ] && coldtok_logits "$tmp/qwen2-plain.gguf" "$IDS" "$tmp/plain.f32"; then
    ! close_f32 "$tmp/qwen2-yarn.f32" "$tmp/plain.f32" 0.05 > "$tmp/cmp"
    rc=$?; check_status "YaRN changes the logits of the same weights ($(cat "$tmp/cmp"))" $rc
else
    skip "YaRN changes the logits" "no yarn logits"
fi
out=$("$BIN" info "$tmp/phi3-longrope.gguf" 2>&1)
check "synth LongRoPE writes llama.cpp's keys and factor tensors" \
    '[[ $out == *"phi3.rope.scaling.type = \"longrope\""* && $out == *"rope.scaling.attn_factor"* && $out == *rope_factors_short.weight* && $out == *rope_factors_long.weight* && $out == *blk.0.attn_qkv.weight* ]]' "$out"

# ---- (b) HF folders against the float64 torch reference ----
ids_of() { grep -o '"ids": *\[[^]]*\]' "$1/prompt.json" | sed 's/.*\[//; s/\]//; s/ //g'; }
for c in phi3-hf-f32 phi3-hf-longrope phi3-hf-qwen2-yarn; do
    ids=$(ids_of "$D/$c")
    : > "$tmp/cmp"
    coldtok_logits "$D/$c" "$ids" "$tmp/$c.f32" && close_f32 "$tmp/$c.f32" "$D/$c/torch.logits.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "$c: coldtok = torch float64 at all 20 positions ($(cat "$tmp/cmp"))" $rc "$(cat "$tmp/err")"
done

# ---- (c) HF folder -> GGUF (coldtok quantize) -> llama.cpp ----
# The phi3 folder's sliding window (8) is transformers'; llama.cpp disables phi3's window, and so
# does coldtok reading a phi3 GGUF: that file agrees with torch on the first 8 positions only.
# The copies get a tokenizer.json (llama.cpp wants a vocabulary) and a folder name without "phi3"
# in it: general.name is the folder's, and llama.cpp gives "</s>" of a model named phi3 an
# attribute, failing on a vocabulary without it.
bytes_of_positions() { head -c $(($2 * 160 * 4)) "$1" > "$3"; }
k=0
for c in phi3-hf-f32 phi3-hf-longrope phi3-hf-qwen2-yarn; do
    ids=$(ids_of "$D/$c")
    k=$((k + 1))
    mkdir -p "$tmp/hf$k" && cp "$D/$c"/* "$tmp/hf$k/" && cp "$D/cov-tiny-tokenizer.json" "$tmp/hf$k/tokenizer.json"
    "$BIN" quantize -m "$tmp/hf$k" --type F32 -o "$tmp/$c.gguf" > /dev/null 2> "$tmp/err"
    check_status "quantize $c to F32" $? "$(cat "$tmp/err")"
    if [ $have_oracle = 0 ]; then no_oracle "$c.gguf against llama.cpp"; continue; fi
    "$ORACLE" logits "$tmp/$c.gguf" "$ids" "$tmp/$c.oracle.f32" 2> "$tmp/err"
    check_status "oracle loads the quantized $c" $? "$(cat "$tmp/err")"
    : > "$tmp/cmp"
    coldtok_logits "$tmp/$c.gguf" "$ids" "$tmp/$c.gguf.f32" &&
        close_f32 "$tmp/$c.gguf.f32" "$tmp/$c.oracle.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "$c.gguf: coldtok = llama.cpp ($(cat "$tmp/cmp"))" $rc "$(cat "$tmp/err")"
    npos=20
    [ $c = phi3-hf-f32 ] && npos=8
    bytes_of_positions "$tmp/$c.oracle.f32" $npos "$tmp/a.f32"
    bytes_of_positions "$D/$c/torch.logits.f32" $npos "$tmp/b.f32"
    close_f32 "$tmp/a.f32" "$tmp/b.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "$c.gguf: llama.cpp = torch on the first $npos positions ($(cat "$tmp/cmp"))" $rc
done
if [ $have_oracle = 1 ] && [ -s "$tmp/phi3-hf-f32.oracle.f32" ]; then
    ! close_f32 "$tmp/phi3-hf-f32.oracle.f32" "$D/phi3-hf-f32/torch.logits.f32" 1e-3 > "$tmp/cmp"
    rc=$?; check_status "the window matters: past position 8 the windowless GGUF differs from torch ($(cat "$tmp/cmp"))" $rc
fi

# ---- (d) probe, diff and drift on phi3 ----
"$BIN" synth --arch phi3 --type F16 --seed 3 -o "$tmp/p16.gguf" 2> /dev/null &&
    "$BIN" synth --arch phi3 --type Q8_0 --seed 3 -o "$tmp/p8.gguf" 2> /dev/null
check_status "synth phi3 F16 and Q8_0" $?
out=$("$BIN" probe -m "$tmp/p16.gguf" --lang python 2>&1); rc=$?
check "probe on phi3" '[ $rc -eq 0 ] && [[ $out == *python* ]]' "rc=$rc $out"
out=$("$BIN" diff -m "$tmp/p16.gguf" -m "$tmp/p8.gguf" --lang python -o "$tmp/diff" 2>&1); rc=$?
check "diff of phi3 F16 and Q8_0" '[ $rc -eq 0 ] && [ -s "$tmp/diff/metrics.csv" ] && [[ $out == *p8* ]]' "rc=$rc $out; $(ls "$tmp/diff" 2>&1)"
out=$("$BIN" drift -m "$tmp/p16.gguf" -m "$tmp/p8.gguf" --corpus data/samples --ctx 64 --max-tokens 512 -o "$tmp/drift" 2>&1); rc=$?
kl=$(awk -F, '$1 == "p8" && $2 == "all" && $3 == "all" && $4 == "kl_mean" { print $5 }' "$tmp/drift/drift.csv" 2> /dev/null)
check "drift of phi3 Q8_0 from F16 (KL $kl)" '[ $rc -eq 0 ] && [ -n "$kl" ] && awk -v k="$kl" "BEGIN { exit !(k > 0 && k < 1) }"' "rc=$rc $out"
"$BIN" quantize -m "$tmp/phi3.gguf" --type Q4_0 --method imatrix --calib data/samples --calib-tokens 512 \
    -o "$tmp/pi.gguf" --csv "$tmp/pi.csv" > /dev/null 2> "$tmp/err"; rc=$?
wrel=$(awk -F, '$1 == "blk.0.attn_qkv.weight" { print $9 }' "$tmp/pi.csv" 2> /dev/null)
check "imatrix quantize of phi3 weighs the fused attn_qkv by its input (w_rel $wrel)" '[ $rc -eq 0 ] && [ -n "$wrel" ]' "rc=$rc $(cat "$tmp/err")"
out=$("$BIN" probe -m "$tmp/hf2" --lang python 2>&1); rc=$?
check "probe on the phi3 LongRoPE HF folder" '[ $rc -eq 0 ]' "rc=$rc $out"

# ---- (e) refused, one line naming what ----
refused() { # NAME WANT CONFIG-EDIT (python on cfg)
    local name=$1 want=$2
    rm -rf "$tmp/bad" && mkdir "$tmp/bad" && cp "$D/phi3-hf-qwen2-yarn"/* "$tmp/bad/"
    /usr/bin/env python3 -c "import json,sys; p='$tmp/bad/config.json'; cfg=json.load(open(p)); $3; json.dump(cfg, open(p, 'w'))"
    out=$("$BIN" logits -m "$tmp/bad" -c 1 2>&1); rc=$?
    check "refused: $name" '[ $rc -ne 0 ] && [ $(printf "%s\n" "$out" | wc -l) -eq 1 ] && [[ $out == *"$want"* ]]' "rc=$rc out=$out"
}
refused "rope_scaling type dynamic" "'dynamic'" 'cfg["rope_scaling"] = {"type": "dynamic", "factor": 2.0}'
refused "an unknown yarn key" '"extrapolation_factor"' 'cfg["rope_scaling"]["extrapolation_factor"] = 1.0'
refused "yarn truncate false" '"truncate"' 'cfg["rope_scaling"]["truncate"] = False'
rm -rf "$tmp/bad" && mkdir "$tmp/bad" && cp "$D/phi3-hf-longrope"/* "$tmp/bad/"
sed -i 's/"intermediate_size": 96/"intermediate_size": 80/' "$tmp/bad/config.json"
out=$("$BIN" logits -m "$tmp/bad" -c 1 2>&1); rc=$?
check "refused: a gate_up_proj of the wrong shape, named with both shapes" \
    '[ $rc -ne 0 ] && [[ $out == *"model.layers.0.mlp.gate_up_proj.weight has shape [192, 64], expected [160, 64]"* ]]' "rc=$rc out=$out"
rm -rf "$tmp/bad" && mkdir "$tmp/bad" && cp "$D/phi3-hf-longrope"/* "$tmp/bad/"
/usr/bin/env python3 -c "import json; p='$tmp/bad/config.json'; c=json.load(open(p)); c['rope_scaling']['short_factor'].pop(); json.dump(c, open(p, 'w'))"
out=$("$BIN" logits -m "$tmp/bad" -c 1 2>&1); rc=$?
check "refused: LongRoPE factors of the wrong length" '[ $rc -ne 0 ] && [[ $out == *"\"short_factor\" must be a list of 4 numbers"* ]]' "rc=$rc out=$out"

done_testing
