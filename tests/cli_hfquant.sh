#!/usr/bin/env bash
# Hugging Face quantized checkpoints (config.json quantization_config): a scheme coldtok does not
# read is one error line naming its quant_method and the supported ones (never ignored, never a
# "missing tensor"); the committed GPTQ / AWQ folders (tests/reference/hfquant_ref.py) give the
# logits of their dequantized F32 twins. Prints TAP.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
D=$(dirname "$0")/data
tmp=$(mktemp -d /tmp/coldtok-cli-hfquant.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# variant NAME JSON: tests/data/hf-llama-f32 with config.json's quantization_config set to JSON
variant() {
    mkdir -p "$tmp/$1"
    ln -sf "$(cd "$D/hf-llama-f32" && pwd)/model.safetensors" "$tmp/$1/model.safetensors"
    python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["quantization_config"]=json.loads(sys.argv[2]); json.dump(c, open(sys.argv[3], "w"))' \
        "$D/hf-llama-f32/config.json" "$2" "$tmp/$1/config.json"
}

# refused: one line, exit 1, naming the method and the supported ones
refused() { # NAME JSON REGEX
    variant "$1" "$2"
    "$BIN" logits -m "$tmp/$1" --top 1 > /dev/null 2> "$tmp/err"; rc=$?
    [ $rc = 1 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -Eq "$3" "$tmp/err" && ! grep -q 'missing tensor' "$tmp/err"
    check_status "quantization_config $1: one line, exit 1" $? "rc=$rc $(cat "$tmp/err")"
}
for m in exl2 hqq eetq; do
    refused "$m" "{\"quant_method\": \"$m\", \"bits\": 4}" "quant_method '$m' is not supported \\(coldtok reads gptq, awq, aqlm, fp8, compressed-tensors, bitsandbytes\\)"
done
refused no-method '{"bits": 4}' 'has no quant_method \(coldtok reads gptq, awq, aqlm, fp8, compressed-tensors, bitsandbytes\)'
refused not-object '"gptq"' 'quantization_config is not an object'
refused gptq-bits5 '{"quant_method": "gptq", "bits": 5, "group_size": 32}' 'bits 5 is not supported \(2, 3, 4, 8 are\)'
refused gptq-marlin '{"quant_method": "gptq", "bits": 4, "group_size": 32, "checkpoint_format": "marlin"}' "checkpoint_format 'marlin' is not supported"
refused gptq-group0 '{"quant_method": "gptq", "bits": 4, "group_size": 0}' 'group_size 0'
refused awq-gemv-g48 '{"quant_method": "awq", "bits": 4, "group_size": 48, "version": "gemv"}' 'version gemv with group_size 48 is not supported \(32, 64 and 128 or more are\)'
# a supported scheme over a plain checkpoint: not ignored either
refused gptq-plain '{"quant_method": "gptq", "bits": 4, "group_size": 32}' 'says gptq but no linear layer is packed'

# the committed packed folders compute like their dequantized F32 twins (all prompt positions),
# and unlike the unquantized source (the packed weights are really read)
ctx="-c 1 -c 17 -c 42 -c 99 -c 5 -c 63 -c 120 -c 7 -c 33 -c 64"
"$BIN" logits -m "$D/hf-llama-f32" --raw-all "$tmp/src.f32" --top 0 $ctx > /dev/null 2> "$tmp/err"
for c in gptq4 gptq3 gptq8 gptq2 awq4; do
    if [ ! -d "$D/hf-llama-$c" ]; then skip "$c folder" "tests/data/hf-llama-$c absent (make references)"; continue; fi
    "$BIN" logits -m "$D/hf-llama-$c" --raw-all "$tmp/q.f32" --top 0 $ctx > /dev/null 2> "$tmp/err" &&
        "$BIN" logits -m "$D/hf-llama-$c-deq" --raw-all "$tmp/d.f32" --top 0 $ctx > /dev/null 2>> "$tmp/err" &&
        close_f32 "$tmp/q.f32" "$tmp/d.f32" 1e-5 > "$tmp/cmp"
    check_status "$c: logits equal the dequantized F32 folder's within 1e-5 of max |logit|" $? "$(cat "$tmp/err" "$tmp/cmp")"
    ! close_f32 "$tmp/q.f32" "$tmp/src.f32" 1e-5 > /dev/null
    check_status "$c: logits differ from the unquantized source's" $?
done
"$BIN" logits -m "$D/hf-llama-gptq4" --compute bf16 --raw "$tmp/q.f32" --top 0 $ctx > /dev/null 2> "$tmp/err" &&
    "$BIN" logits -m "$D/hf-llama-gptq4-deq" --compute bf16 --raw "$tmp/d.f32" --top 0 $ctx > /dev/null 2>> "$tmp/err" &&
    cmp -s "$tmp/q.f32" "$tmp/d.f32"
check_status "gptq4: bf16 compute gives the twin's logits" $? "$(cat "$tmp/err")"

# bad packed tensors: one line each
bad() { # NAME PYTHON-EDIT-OF-CONFIG REGEX
    mkdir -p "$tmp/$1"
    ln -sf "$(cd "$D/hf-llama-gptq4" && pwd)/model.safetensors" "$tmp/$1/model.safetensors"
    python3 -c "import json,sys; c=json.load(open(sys.argv[1])); q=c['quantization_config']; $2; json.dump(c, open(sys.argv[2], 'w'))" \
        "$D/hf-llama-gptq4/config.json" "$tmp/$1/config.json"
    "$BIN" logits -m "$tmp/$1" --top 1 > /dev/null 2> "$tmp/err"; rc=$?
    [ $rc = 1 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -Eq "$3" "$tmp/err"
    check_status "gptq4 with $1: one line, exit 1" $? "rc=$rc $(cat "$tmp/err")"
}
if [ -d "$D/hf-llama-gptq4" ]; then
    bad bits8 "q['bits'] = 8" 'q_proj.qweight has the wrong shape \(expected \[16, 64\]\)'
    bad group64 "q['group_size'] = 64" 'q_proj.qzeros has the wrong shape \(expected \[1, 8\]\)'
    bad as-awq "q['quant_method'] = 'awq'; q.pop('checkpoint_format')" 'q_proj.qweight has the wrong shape'
fi

# drift: a packed folder against its twin drifts by exactly 0, and models.csv's bits per weight
# counts the packed storage (well under the twin's)
if [ -d "$D/hf-llama-gptq4" ]; then
    mkdir -p "$tmp/corpus"
    printf 'def main():\n    for i in range(10):\n        print(i)\n    return 0\n' > "$tmp/corpus/a.py"
    "$BIN" drift -m "$D/hf-llama-gptq4-deq" -m "$D/hf-llama-gptq4" -t "$D/cov-tiny-tokenizer.json" \
        --corpus "$tmp/corpus" --ctx 16 -o "$tmp/drift" > "$tmp/out" 2> "$tmp/err"
    check_status "drift runs on a GPTQ folder" $? "$(cat "$tmp/err")"
    has "drift: gptq4 vs its twin: KL 0, same top-1 everywhere" "$tmp/out" '^hf-llama-gptq4 +[0-9]+ +[0-9]+ +0 +0 +\[0, 0\] +0 +0 +100.00% '
    awk -F, '$1 == "hf-llama-gptq4-deq" { b = $7 } $1 == "hf-llama-gptq4" { v = $7 }
             END { print "# bpw " b " vs " v; exit !(v > 0 && v < b / 2) }' "$tmp/drift/drift_models.csv"
    check_status "drift_models.csv: the GPTQ folder's bits per weight count its packed storage" $?
fi
done_testing
