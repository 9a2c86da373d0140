#!/usr/bin/env bash
# deepseek2 (DeepSeek-V2 / DeepSeek-Coder-V2-Lite): multi-head latent attention, leading dense
# layers and experts with shared experts (model/moe.h), end to end (docs/models.md "DeepSeek-V2",
# docs/testing.md).
#  - synth models (q direct and low-rank; experts after a dense layer, from layer 0, or none;
#    llama.cpp's split attn_k_b/attn_v_b form) against the llama.cpp oracle at every position of a
#    24-token prompt and at a cold start: llama.cpp runs its absorbed MLA (the latent in the cache),
#    coldtok decompresses per head; within 1e-4 of max |logit|;
#  - the Hugging Face folders of tests/reference/mla_ref.py against its float64 forward pass;
#  - coldtok quantize of those folders (--type f32, attn_kv_b kept whole) loads in llama.cpp
#    (its non-absorbed path) with the torch logits, and in coldtok with llama.cpp's;
#  - probe, diff and drift run on a deepseek2 model; a missing or wrongly shaped tensor and the
#    config keys coldtok does not implement (group-limited top-k, sigmoid scoring, YaRN with
#    mscale != mscale_all_dim, ...) are refused naming them;
#  - YaRN (DeepseekV2YarnRotaryEmbedding, mscale = mscale_all_dim; llama.cpp's yarn_log_multiplier)
#    in synth models against llama.cpp and in an HF folder against torch.
# Without the oracle the llama.cpp parts skip with the reason. Prints TAP.
set -u
BIN=${COLDTOK:-./coldtok}
ORACLE=${LLAMA_ORACLE:-$(dirname "$BIN")/oracle/llama_oracle}
D=tests/data
tmp=$(mktemp -d /tmp/coldtok-cli-mla.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

IDS=1,5,9,300,17,42,99,256,7,8,120,33,44,55,66,77,88,99,101,202,3,260,11,400
ctx_args() { echo "$1" | sed 's/^/-c /; s/,/ -c /g'; }
have_oracle=0
[ -x "$ORACLE" ] && have_oracle=1

# ---- synth models against llama.cpp ----
for v in "direct q, experts after a dense layer:" "low-rank q:q_lora=32,layers=3" \
         "every layer dense:experts=0" "experts from layer 0:dense_lead=0" \
         "YaRN as DeepSeek-Coder-V2-Lite's:yarn=4,orig_ctx=8,yarn_mscale=0.707" \
         "YaRN without yarn_log_multiplier:yarn=4,orig_ctx=8,beta_fast=16"; do
    name=${v%%:*} dims=${v#*:}
    f="$tmp/synth-$(echo "$name" | tr -c 'a-z0-9\n' -).gguf"
    "$BIN" synth --arch deepseek2 --type F32 --std 0.08 ${dims:+--dims $dims} -o "$f" 2> "$tmp/err"
    check_status "synth --arch deepseek2 ($name) writes an F32 model" $? "$(cat "$tmp/err")"
    "$BIN" logits -m "$f" $(ctx_args $IDS) --raw-all "$tmp/c.f32" --top 0 > /dev/null 2> "$tmp/err"
    check_status "logits of the synth deepseek2 ($name) at every position" $? "$(cat "$tmp/err")"
    if [ $have_oracle = 0 ]; then
        skip "deepseek2 ($name) against llama.cpp" "no oracle at $ORACLE (make tests)"
        continue
    fi
    "$ORACLE" logits "$f" "$IDS" "$tmp/o.f32" 2> "$tmp/err"
    check_status "oracle: llama.cpp loads the synth deepseek2 ($name)" $? "$(cat "$tmp/err")"
    close_f32 "$tmp/c.f32" "$tmp/o.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "deepseek2 ($name): coldtok = llama.cpp at every position ($(cat "$tmp/cmp"))" $rc
    # one position: the cold start's scalar attention path
    "$BIN" logits -m "$f" -c 300 --raw-all "$tmp/c1.f32" --top 0 > /dev/null 2> "$tmp/err" &&
        "$ORACLE" logits "$f" 300 "$tmp/o1.f32" 2>> "$tmp/err"
    close_f32 "$tmp/c1.f32" "$tmp/o1.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "deepseek2 ($name): cold start = llama.cpp ($(cat "$tmp/cmp"))" $rc "$(cat "$tmp/err")"
done
# the comparison can fail: another RoPE base gives other logits
"$BIN" synth --arch deepseek2 --type F32 --std 0.08 --dims theta=100,dense_lead=0 -o "$tmp/theta.gguf" 2> /dev/null &&
    "$BIN" logits -m "$tmp/theta.gguf" $(ctx_args $IDS) --raw-all "$tmp/t.f32" --top 0 > /dev/null 2>&1
! close_f32 "$tmp/t.f32" "$tmp/c.f32" 1e-4 > "$tmp/cmp"
rc=$?; check_status "a deepseek2 with another rope base is told apart ($(cat "$tmp/cmp"))" $rc

# ---- Hugging Face folders against the float64 torch forward pass, and through quantize ----
for c in mla-hf-f32 mla-hf-qlora-f32 mla-hf-moe-f32 mla-hf-moe-norm-f32 mla-hf-yarn-f32; do
    [ -d "$D/$c" ] || { skip "$c" "$D/$c absent (tests/reference/mla_ref.py)"; continue; }
    ids=$(grep -o '\[[^]]*\]' "$D/$c/prompt.json" | tr -d '[] ')
    "$BIN" logits -m "$D/$c" $(ctx_args "$ids") --raw-all "$tmp/hf.f32" --top 0 > /dev/null 2> "$tmp/err"
    check_status "$c: logits of the HF folder" $? "$(cat "$tmp/err")"
    close_f32 "$tmp/hf.f32" "$D/$c/torch.logits.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "$c: coldtok = float64 torch at every position ($(cat "$tmp/cmp"))" $rc
    mkdir -p "$tmp/$c"
    cp "$D/$c"/* "$tmp/$c/" && cp "$D/cov-tiny-tokenizer.json" "$tmp/$c/tokenizer.json"
    "$BIN" quantize -m "$tmp/$c" --type f32 -o "$tmp/$c.gguf" > /dev/null 2> "$tmp/err"
    check_status "$c: quantize --type f32 writes a GGUF" $? "$(cat "$tmp/err")"
    "$BIN" logits -m "$tmp/$c.gguf" $(ctx_args "$ids") --raw-all "$tmp/g.f32" --top 0 > /dev/null 2> "$tmp/err"
    close_f32 "$tmp/g.f32" "$D/$c/torch.logits.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "$c: its GGUF gives the torch logits in coldtok ($(cat "$tmp/cmp"))" $rc "$(cat "$tmp/err")"
    if [ $have_oracle = 0 ]; then
        skip "$c's GGUF in llama.cpp" "no oracle at $ORACLE"
        continue
    fi
    "$ORACLE" logits "$tmp/$c.gguf" "$ids" "$tmp/o.f32" 2> "$tmp/err"
    check_status "oracle: llama.cpp loads $c's GGUF" $? "$(cat "$tmp/err")"
    close_f32 "$tmp/o.f32" "$D/$c/torch.logits.f32" 1e-4 > "$tmp/cmp"
    rc=$?; check_status "$c: llama.cpp on its GGUF = float64 torch ($(cat "$tmp/cmp"))" $rc
done

# ---- probe, diff and drift on a deepseek2 model ----
"$BIN" synth --preset tiny-deepseek2 --type F32 --seed 3 -o "$tmp/a.gguf" 2> "$tmp/err" &&
    "$BIN" synth --preset tiny-deepseek2 --type Q8_0 --seed 3 -o "$tmp/b.gguf" 2>> "$tmp/err"
check_status "synth tiny-deepseek2 in F32 and Q8_0" $? "$(cat "$tmp/err")"
"$BIN" probe -m "$tmp/a.gguf" --lang python --top 3 > "$tmp/out" 2> "$tmp/err"
check_status "probe runs on deepseek2" $? "$(cat "$tmp/err")"
"$BIN" diff -m "$tmp/a.gguf" -m "$tmp/b.gguf" --lang python > "$tmp/out" 2> "$tmp/err"
check_status "diff runs on deepseek2 (F32 vs Q8_0)" $? "$(cat "$tmp/err")"
mkdir -p "$tmp/corpus"
printf 'def main():\n    for i in range(10):\n        print(i)\n    return 0\n' > "$tmp/corpus/a.py"
"$BIN" drift -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp/corpus" --ctx 16 -o "$tmp/drift" > "$tmp/out" 2> "$tmp/err"
check_status "drift runs on deepseek2 (F32 vs Q8_0)" $? "$(cat "$tmp/err")"
awk -F, 'NR > 1 && $1 == "b" { found = 1 } END { exit !found }' "$tmp/drift/drift_models.csv" 2> /dev/null
check_status "drift_models.csv has the Q8_0 model" $? "$(cat "$tmp/drift/drift_models.csv" 2> /dev/null)"

# importance-weighted quantization reaches the latent projections and attn_output (its input is
# n_head * v_head_dim wide): a weighted error (w_rel) for each
"$BIN" quantize -m "$tmp/a.gguf" --type Q4_0 --method imatrix --calib "$tmp/corpus" -o "$tmp/qi.gguf" > "$tmp/out" 2> "$tmp/err"
check_status "quantize --method imatrix on deepseek2" $? "$(cat "$tmp/err")"
for t in attn_q attn_kv_a_mqa attn_output; do
    awk -v t="blk.0.$t.weight" '$1 == t && NF == 10 { ok = 1 } END { exit !ok }' "$tmp/out" # name, 3 of shape, ..., w_rel
    check_status "imatrix weights blk.0.$t" $? "$(grep "blk.0.$t.weight" "$tmp/out")"
done

# ---- bad input: named tensors and keys ----
bad() { # NAME EDIT-OF-config.json (sed) PATTERN [FOLDER]: the folder (mla-hf-f32) with the edit is refused
    mkdir -p "$tmp/bad-$1"
    cp "$D/${4:-mla-hf-f32}"/* "$tmp/bad-$1/" && sed -i "$2" "$tmp/bad-$1/config.json"
    "$BIN" logits -m "$tmp/bad-$1" -c 1 --top 1 > /dev/null 2> "$tmp/err"; rc=$?
    [ $rc -ne 0 ] && grep -Eq "$3" "$tmp/err"
    check_status "refused: $1" $? "rc $rc: $(cat "$tmp/err")"
}
if [ -d "$D/mla-hf-f32" ]; then
    bad missing-q_a 's/"q_lora_rank": null/"q_lora_rank": 24/' 'missing tensor model\.layers\.0\.self_attn\.q_a_proj\.weight'
    bad kv-shape 's/"kv_lora_rank": 32/"kv_lora_rank": 16/' 'kv_a_proj_with_mqa\.weight has shape \[40, 64\], expected \[24, 64\]'
    bad yarn-mscale 's/"rope_scaling": null/"rope_scaling": {"type": "yarn", "factor": 40}/' '"mscale" and "mscale_all_dim" must be equal'
    bad rope-type 's/"rope_scaling": null/"rope_scaling": {"type": "dynamic", "factor": 4}/' "rope_scaling type 'dynamic' is not supported"
    bad bias 's/"attention_bias": false/"attention_bias": true/' '"attention_bias": true is not supported'
fi
if [ -d "$D/mla-hf-moe-f32" ]; then
    bad topk 's/"topk_method": "greedy"/"topk_method": "group_limited_greedy"/' '"topk_method" group_limited_greedy is not supported' mla-hf-moe-f32
    bad sigmoid 's/"scoring_func": "softmax"/"scoring_func": "sigmoid"/' '"scoring_func" sigmoid is not supported' mla-hf-moe-f32
    bad freq 's/"moe_layer_freq": 1/"moe_layer_freq": 2/' '"moe_layer_freq" 2 is not supported' mla-hf-moe-f32
    bad norm-scale 's/"norm_topk_prob": false/"norm_topk_prob": true/' '"routed_scaling_factor" 1.5 with "norm_topk_prob": true' mla-hf-moe-f32
    mkdir -p "$tmp/bad-expert" && cp "$D/mla-hf-moe-f32"/* "$tmp/bad-expert/" &&
        sed -i 's/"n_routed_experts": 8/"n_routed_experts": 9/' "$tmp/bad-expert/config.json"
    "$BIN" logits -m "$tmp/bad-expert" -c 1 --top 1 > /dev/null 2> "$tmp/err"; rc=$?
    [ $rc -ne 0 ] && grep -q 'mlp.gate.weight has shape \[8, 64\].*expected \[9, 64\]' "$tmp/err"
    check_status "refused: a router of the wrong shape, named" $? "rc $rc: $(cat "$tmp/err")"
fi
done_testing
