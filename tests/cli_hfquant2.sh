#!/usr/bin/env bash
# Hugging Face AQLM, FP8, compressed-tensors and bitsandbytes checkpoints (tests/reference/hfquant2_ref.py): each packed folder gives
# its dequantized F32 twin's logits byte for byte (both dequantizations are exact in f32) and not the
# unquantized source's; AQLM 1x16 (not committed: 1 MiB of codebook per linear) is packed into a
# scratch folder; probe and diff run on them and count their real storage; bad configs and tensors
# are one line each. Prints TAP.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
D=$(dirname "$0")/data
tmp=$(mktemp -d /tmp/coldtok-cli-hfquant2.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

ctx="-c 1 -c 17 -c 42 -c 99 -c 5 -c 63 -c 120 -c 7 -c 33 -c 64"
"$BIN" logits -m "$D/hf-llama-f32" --raw-all "$tmp/src.f32" --top 0 $ctx > /dev/null 2> "$tmp/err"
/usr/bin/python3 "$(dirname "$0")/reference/hfquant2_ref.py" "$tmp" aqlm1x16 > /dev/null 2> "$tmp/err"
check_status "hfquant2_ref.py packs aqlm1x16 into a scratch folder" $? "$(cat "$tmp/err")"
for c in aqlm2x8 aqlm1x8 aqlm1x16 fp8block fp8tensor fp8channel ctw4g ctw4ga ctw8c ctfp8 ctfp8b bnbnf4 bnbnf4dq bnbfp4 bnbint8; do
    dir=$D; [ $c = aqlm1x16 ] && dir=$tmp
    if [ ! -d "$dir/hf-llama-$c" ]; then skip "$c folder" "$dir/hf-llama-$c absent (make references)"; continue; fi
    "$BIN" logits -m "$dir/hf-llama-$c" --raw-all "$tmp/q.f32" --top 0 $ctx > /dev/null 2> "$tmp/err" &&
        "$BIN" logits -m "$dir/hf-llama-$c-deq" --raw-all "$tmp/d.f32" --top 0 $ctx > /dev/null 2>> "$tmp/err" &&
        cmp "$tmp/q.f32" "$tmp/d.f32" > "$tmp/cmp" 2>&1
    check_status "$c: logits byte-identical to the dequantized F32 folder's" $? "$(cat "$tmp/err" "$tmp/cmp")"
    ! close_f32 "$tmp/q.f32" "$tmp/src.f32" 1e-5 > /dev/null
    check_status "$c: logits differ from the unquantized source's" $?
done
"$BIN" logits -m "$D/hf-llama-fp8block" --compute bf16 --raw "$tmp/q.f32" --top 0 $ctx > /dev/null 2> "$tmp/err" &&
    "$BIN" logits -m "$D/hf-llama-fp8block-deq" --compute bf16 --raw "$tmp/d.f32" --top 0 $ctx > /dev/null 2>> "$tmp/err" &&
    cmp -s "$tmp/q.f32" "$tmp/d.f32"
check_status "fp8block: bf16 compute gives the twin's logits" $? "$(cat "$tmp/err")"

# probe and diff: the packed folder against its twin (no drift at all), bits per weight from the
# stored codes + codebooks + scales (AQLM) and weights + scales (FP8)
"$BIN" probe -m "$D/hf-llama-aqlm2x8" -t "$D/cov-tiny-tokenizer.json" --lang python --top 3 > "$tmp/out" 2> "$tmp/err"
check_status "probe runs on an AQLM folder" $? "$(cat "$tmp/err")"
has "probe: keyword mass" "$tmp/out" 'keyword mass per language'
for c in aqlm2x8 fp8block ctw4g; do
    "$BIN" diff -m "$D/hf-llama-$c-deq" -m "$D/hf-llama-$c" -t "$D/cov-tiny-tokenizer.json" --lang python \
        -o "$tmp/diff-$c" > "$tmp/out" 2> "$tmp/err"
    check_status "diff runs on the $c folder" $? "$(cat "$tmp/err")"
    has "diff $c vs its twin: KL 0, top-1 agreement 1" "$tmp/out" "^hf-llama-$c +hf-llama-$c-deq +[0-9.]+ +vocab +0\\.000e\\+00 +0\\.000e\\+00 .* 1 +1\\.00 +1\\.00 +1\\.0000 "
done
# expected bits per weight, from the tensors the packer wrote (python: the stored bytes over the
# weights, a packed linear counting rows x cols)
bpw() { /usr/bin/python3 - "$1" <<'PY'
import json, struct, sys
f = open(sys.argv[1] + "/model.safetensors", "rb"); n = struct.unpack("<Q", f.read(8))[0]
h = json.loads(f.read(n)); h.pop("__metadata__", None)
size = {"F32": 4, "F16": 2, "BF16": 2, "I16": 2, "I8": 1, "F8_E4M3": 1, "I32": 4, "I64": 8}
nbytes = elems = 0
for k, e in h.items():
    cnt = 1
    for d in e["shape"]: cnt *= d
    nbytes += cnt * size[e["dtype"]]
    if k.endswith(".codes"): elems += e["shape"][0] * e["shape"][1] * 8
    elif k.endswith(".weight_packed"): elems += e["shape"][0] * e["shape"][1] * 8  # int4: 8 per word
    elif k.endswith((".codebooks", ".scales", ".weight_scale_inv", ".weight_scale", ".weight_shape")): pass
    else: elems += cnt
print("%.6f" % (8.0 * nbytes / elems))
PY
}
for c in aqlm2x8 fp8block ctw4g; do
    want=$(bpw "$D/hf-llama-$c")
    got=$(awk -F, -v m="hf-llama-$c" '$1 == m { print $4 }' "$tmp/diff-$c/models.csv")
    awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(a != "" && d < 1e-5 && d > -1e-5) }'
    check_status "models.csv: $c bits per weight $got = the stored bytes' $want" $?
done

# drift: AQLM, FP8, compressed-tensors and bitsandbytes variants against their twins, in one run per
# pair: KL exactly 0, the same top-1 everywhere
mkdir -p "$tmp/corpus"
printf 'def main():\n    for i in range(10):\n        print(i)\n    return 0\n' > "$tmp/corpus/a.py"
for c in aqlm2x8 fp8block ctw4g bnbnf4dq; do
    [ -d "$D/hf-llama-$c" ] || continue
    "$BIN" drift -m "$D/hf-llama-$c-deq" -m "$D/hf-llama-$c" -t "$D/cov-tiny-tokenizer.json" \
        --corpus "$tmp/corpus" --ctx 16 -o "$tmp/drift-$c" > "$tmp/out" 2> "$tmp/err"
    check_status "drift runs on the $c folder" $? "$(cat "$tmp/err")"
    has "drift: $c vs its twin: KL 0, same top-1 everywhere" "$tmp/out" "^hf-llama-$c +[0-9]+ +[0-9]+ +0 +0 +\[0, 0\] +0 +0 +100.00% "
done

# info on HF folders: the scheme, per-matrix bits (q_proj of aqlm2x8: codes 64*8*2 + codebooks
# 2*256*8*2 + scales 64*2 = 9344 bytes over 4096 weights = 18.25 bits), and the whole checkpoint's
# bits per weight equal to models.csv's
info_has() { # FOLDER REGEX...
    f=$1; shift
    "$BIN" info "$f" > "$tmp/info" 2> "$tmp/err"; rc=$?
    for re in "$@"; do grep -Eq "$re" "$tmp/info" || { rc=9; echo "# missing: $re"; }; done
    check_status "info $(basename "$f")" $rc "$(cat "$tmp/err" "$tmp/info" | head -12)"
}
info_has "$D/hf-llama-aqlm2x8" '^quantization +aqlm 2x8$' \
    '^  model\.layers\.0\.self_attn\.q_proj +aqlm 2x8 +\[64, 64\] +9344 +18\.250$' \
    '^  model\.layers\.1\.mlp\.down_proj +F32 +\[64, 96\] +24576 +32\.000$' '^13 packed and 3 plain matrices'
info_has "$D/hf-llama-gptq4" '^quantization +gptq 4-bit, group 32, act-order$'
info_has "$D/hf-llama-fp8block" '^quantization +fp8 e4m3, blocks 32x48$' \
    '^  model\.layers\.0\.self_attn\.q_proj +fp8 e4m3, blocks 32x48 +\[64, 64\] +4112 +8\.031$'
info_has "$D/hf-llama-fp8tensor" '^quantization +fp8 e4m3, per tensor$'
info_has "$D/hf-llama-ctw4g" '^quantization +compressed-tensors int4, group 32$' \
    '^  model\.layers\.0\.self_attn\.k_proj +F32 '
info_has "$D/hf-llama-bnbnf4dq" '^quantization +bitsandbytes 4-bit, blocks of 64, double quant$' \
    '^  model\.layers\.1\.self_attn\.o_proj +F32 '
info_has "$D/hf-llama-bnbint8" '^quantization +bitsandbytes int8 \(LLM\.int8\)$'
info_has "$D/hf-llama-f32" '^quantization +none \(plain tensors\)$'
for c in aqlm2x8 fp8block ctw4g; do
    got=$("$BIN" info "$D/hf-llama-$c" | sed -n 's/^whole checkpoint.*: \([0-9.]*\) bits per weight$/\1/p')
    want=$(awk -F, -v m="hf-llama-$c" '$1 == m { printf "%.4f", $4 }' "$tmp/diff-$c/models.csv")
    is "info $c: whole-checkpoint bits per weight = models.csv's" "$got" "$want"
done
"$BIN" info "$tmp/no-such-folder.safetensors" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc = 1 ] && [ "$(wc -l < "$tmp/err")" = 1 ]
check_status "info on a missing .safetensors: one line, exit 1" $? "rc=$rc $(cat "$tmp/err")"

# an older AutoGPTQ folder: no quantization_config in config.json, a quantize_config.json (without
# quant_method) beside it; same logits as the folder that says it in config.json
if [ -d "$D/hf-llama-gptq4" ]; then
    old=$tmp/old-gptq4
    mkdir -p "$old"
    ln -sf "$(cd "$D/hf-llama-gptq4" && pwd)/model.safetensors" "$old/model.safetensors"
    python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); q=c.pop("quantization_config"); q.pop("quant_method"); q.pop("modules_to_not_convert", None); q["damp_percent"]=0.01; q["true_sequential"]=True; json.dump(c, open(sys.argv[2] + "/config.json", "w")); json.dump(q, open(sys.argv[2] + "/quantize_config.json", "w"))' \
        "$D/hf-llama-gptq4/config.json" "$old"
    "$BIN" logits -m "$old" --raw-all "$tmp/q.f32" --top 0 $ctx > /dev/null 2> "$tmp/err" &&
        "$BIN" logits -m "$D/hf-llama-gptq4" --raw-all "$tmp/d.f32" --top 0 $ctx > /dev/null 2>> "$tmp/err" &&
        cmp -s "$tmp/q.f32" "$tmp/d.f32"
    check_status "quantize_config.json folder: the logits of the quantization_config one" $? "$(cat "$tmp/err")"
    info_has "$old" '^quantization +gptq 4-bit, group 32, act-order$'
    python3 -c 'import json,sys; q=json.load(open(sys.argv[1])); q["bits"]=5; json.dump(q, open(sys.argv[1], "w"))' "$old/quantize_config.json"
    "$BIN" logits -m "$old" --top 1 > /dev/null 2> "$tmp/err"; rc=$?
    [ $rc = 1 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -Eq 'quantize_config.json: quantization_config \(gptq\): bits 5 is not supported' "$tmp/err"
    check_status "a bad quantize_config.json: one line naming it, exit 1" $? "rc=$rc $(cat "$tmp/err")"
fi

# coldtok quantize of a packed folder to F16 / Q8_0 GGUF: the packed linears are unpacked to f32 rows
# and requantized (GPTQ with g_idx included), so the GGUF computes exactly like the twin's GGUF; and
# llama.cpp (the oracle) loads it: its F32 dequantization (llama_model_quantize to F32) gives the same
# logits within 1e-4 of max |logit| (llama.cpp's own F16 / Q8_0 matmuls round the activations too).
# The folder is copied with cov-tiny-tokenizer.json: llama.cpp refuses a GGUF without a vocabulary.
# The status is kept before check_status: a $(...) in its arguments would reset $?.
ORACLE=${LLAMA_ORACLE:-$(dirname "$BIN")/oracle/llama_oracle}
ids=1,17,42,99,5,63,120,7,33,64
for c in gptq4 awq4 aqlm2x8 fp8block ctw4g bnbnf4dq bnbint8; do
    [ -d "$D/hf-llama-$c" ] || continue
    rm -rf "$tmp/tok-$c" && mkdir -p "$tmp/tok-$c" && cp "$D/hf-llama-$c"/* "$tmp/tok-$c/" &&
        cp "$D/cov-tiny-tokenizer.json" "$tmp/tok-$c/tokenizer.json"
    for ty in F16 Q8_0; do
        "$BIN" quantize -m "$tmp/tok-$c" --type $ty -o "$tmp/q.gguf" > /dev/null 2> "$tmp/err" &&
            "$BIN" quantize -m "$D/hf-llama-$c-deq" --type $ty -o "$tmp/d.gguf" > /dev/null 2>> "$tmp/err" &&
            "$BIN" logits -m "$tmp/q.gguf" --raw-all "$tmp/q.f32" --top 0 $ctx > /dev/null 2>> "$tmp/err" &&
            "$BIN" logits -m "$tmp/d.gguf" --raw-all "$tmp/d.f32" --top 0 $ctx > /dev/null 2>> "$tmp/err" &&
            cmp -s "$tmp/q.f32" "$tmp/d.f32"
        check_status "quantize $c to $ty: the twin's GGUF logits" $? "$(cat "$tmp/err")"
        if [ ! -x "$ORACLE" ]; then skip "quantize $c to $ty in llama.cpp" "the oracle is not built ($ORACLE)"; continue; fi
        rm -f "$tmp/cmp"
        "$ORACLE" quantize "$tmp/q.gguf" "$tmp/f.gguf" F32 2> "$tmp/err" &&
            "$ORACLE" logits "$tmp/f.gguf" "$ids" "$tmp/o.f32" 2>> "$tmp/err" &&
            close_f32 "$tmp/q.f32" "$tmp/o.f32" 1e-4 > "$tmp/cmp"
        rc=$?
        check_status "quantize $c to $ty: llama.cpp loads it, same logits ($(cat "$tmp/cmp" 2> /dev/null))" $rc "$(cat "$tmp/err")"
    done
done

# bad configs and tensors: one line each, exit 1
bad() { # NAME FOLDER PYTHON-EDIT-OF-CONFIG REGEX
    mkdir -p "$tmp/$1"
    ln -sf "$(cd "$D/$2" && pwd)/model.safetensors" "$tmp/$1/model.safetensors"
    python3 -c "import json,sys; c=json.load(open(sys.argv[1])); q=c.setdefault('quantization_config', {}); $3; json.dump(c, open(sys.argv[2], 'w'))" \
        "$D/$2/config.json" "$tmp/$1/config.json"
    "$BIN" logits -m "$tmp/$1" --top 1 > /dev/null 2> "$tmp/err"; rc=$?
    [ $rc = 1 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -Eq "$4" "$tmp/err"
    check_status "$2 with $1: one line, exit 1" $? "rc=$rc $(cat "$tmp/err")"
}
if [ -d "$D/hf-llama-aqlm2x8" ] && [ -d "$D/hf-llama-fp8block" ]; then
    bad aqlm-3x8 hf-llama-aqlm2x8 "q['num_codebooks'] = 3" '3x8 codebooks are not supported \(1x16, 2x8, 1x8 are\)'
    bad aqlm-group16 hf-llama-aqlm2x8 "q['in_group_size'] = 16" 'in_group_size 16, out_group_size 1 are not supported'
    bad aqlm-as-1x16 hf-llama-aqlm2x8 "q['num_codebooks'] = 1; q['nbits_per_codebook'] = 16" 'q_proj.codes has dtype I8, expected I16,U16'
    bad aqlm-as-1x8 hf-llama-aqlm2x8 "q['num_codebooks'] = 1" 'q_proj.codes has the wrong shape \(expected \[64, 8, 1\]\)'
    bad aqlm-list hf-llama-aqlm2x8 "q['linear_weights_not_to_quantize'] = 'lm_head'" 'linear_weights_not_to_quantize has the wrong type'
    bad aqlm-ffn hf-llama-aqlm2x8 "c['intermediate_size'] = 128" 'gate_proj.codes has the wrong shape \(expected \[128, 8, 2\]\)'
    bad fp8-e5m2 hf-llama-fp8block "q['fmt'] = 'e5m2'" "fmt 'e5m2' is not supported \\(e4m3 is\\)"
    bad fp8-block hf-llama-fp8block "q['weight_block_size'] = [64, 64]" 'q_proj.weight_scale_inv has the wrong shape \(expected \[1, 1\]\)'
    bad fp8-block3 hf-llama-fp8block "q['weight_block_size'] = [1, 2, 3]" 'weight_block_size must be two positive integers'
    bad fp8-noblock hf-llama-fp8block "q.pop('weight_block_size')" 'q_proj.weight_scale has the wrong shape \(expected \[\], \[1\], \[64\] or \[64, 1\]'
    bad fp8-ffn hf-llama-fp8block "c['intermediate_size'] = 128" 'gate_proj.weight has the wrong shape \(expected \[128, 64\]\)'
    bad fp8-plain hf-llama-fp8block-deq "q['quant_method'] = 'fp8'" 'says fp8 but no linear layer is packed \(no \*.weight tensor of dtype F8_E4M3\)'
fi
if [ -d "$D/hf-llama-ctw4g" ]; then
    g="q['config_groups']['group_0']['weights']"
    bad ct-asym hf-llama-ctw4g "$g['symmetric'] = False" 'missing tensor model\.layers\.0\.self_attn\.q_proj\.weight_zero_point'
    bad ct-int3 hf-llama-ctw4g "$g['num_bits'] = 3" 'int num_bits 3 is not supported \(4, 8 are\)'
    bad ct-tensor hf-llama-ctw4g "$g['strategy'] = 'tensor'" "int strategy 'tensor' is not supported \\(group, channel are\\)"
    bad ct-format hf-llama-ctw4g "q['format'] = 'marlin-24'" "format 'marlin-24' with int weights is not supported"
    bad ct-groups hf-llama-ctw4g "q['config_groups']['group_1'] = {'weights': dict($g, num_bits=8)}" 'config groups with different weight schemes are not supported'
    bad ct-sparse hf-llama-ctw4g "q['sparsity_config'] = {'format': 'sparse-24-bitmask'}" "sparsity format 'sparse-24-bitmask' is not supported"
    bad ct-group64 hf-llama-ctw4g "$g['group_size'] = 64" 'q_proj.weight_scale has the wrong shape \(expected \[64, 1\]\)'
    bad ct-w8 hf-llama-ctw4g "$g['num_bits'] = 8" 'q_proj.weight_packed has the wrong shape \(expected \[64, 16\]\)'
    bad ct-ffn hf-llama-ctw4g "c['intermediate_size'] = 128" 'gate_proj.weight_packed has the wrong shape \(expected \[128, 8\]\)'
    bad ct-hidden hf-llama-ctw4g "c['num_attention_heads'] = 2; c['num_key_value_heads'] = 1; c['head_dim'] = 16" 'q_proj.weight_packed has the wrong shape \(expected \[32, 8\]\)'
fi
if [ -d "$D/hf-llama-bnbnf4" ]; then
    bad bnb-both hf-llama-bnbnf4 "q['load_in_8bit'] = True" 'exactly one of load_in_4bit and load_in_8bit must be true'
    bad bnb-type hf-llama-bnbnf4 "q['bnb_4bit_quant_type'] = 'int4'" "bnb_4bit_quant_type 'int4' is not supported \\(nf4, fp4 are\\)"
    bad bnb-as8 hf-llama-bnbnf4 "q['load_in_4bit'] = False; q['load_in_8bit'] = True" 'q_proj\.weight has dtype U8 \(F32, F16 or BF16 expected\)'
    bad bnb-ffn hf-llama-bnbnf4 "c['intermediate_size'] = 128" 'gate_proj\.weight\.quant_state: shape is not \[128, 64\]'
    bad bnb8-ffn hf-llama-bnbint8 "c['intermediate_size'] = 128" 'gate_proj\.weight has the wrong shape \(expected \[128, 64\]\)'
    # a 4-bit folder saved without its quant state (older transformers): one line saying why not
    nq=$tmp/bnb-nostate
    mkdir -p "$nq"
    cp "$D/hf-llama-bnbnf4/config.json" "$nq/"
    /usr/bin/python3 - "$D/hf-llama-bnbnf4/model.safetensors" "$nq/model.safetensors" <<'PY'
import json, struct, sys
sys.path.insert(0, "tests/reference")
from safetensors_io import write_safetensors
f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]; h = json.loads(f.read(n)); data = f.read()
h.pop("__metadata__", None)
write_safetensors(sys.argv[2], {k: (e["dtype"], e["shape"], data[e["data_offsets"][0]:e["data_offsets"][1]])
                                for k, e in h.items() if ".quant_state." not in k})
PY
    "$BIN" logits -m "$nq" --top 1 > /dev/null 2> "$tmp/err"; rc=$?
    [ $rc = 1 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -q 'saved without its quantization state cannot be read' "$tmp/err"
    check_status "bitsandbytes 4-bit without quant_state: one line saying why not" $? "rc=$rc $(cat "$tmp/err")"
fi
done_testing
