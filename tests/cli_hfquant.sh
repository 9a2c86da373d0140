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
for m in bitsandbytes aqlm fp8 compressed-tensors exl2 hqq eetq; do
    refused "$m" "{\"quant_method\": \"$m\", \"bits\": 4}" "quant_method '$m' is not supported \\(coldtok reads gptq, awq\\)"
done
refused no-method '{"bits": 4}' 'has no quant_method \(coldtok reads gptq, awq\)'
refused not-object '"gptq"' 'quantization_config is not an object'
refused gptq-bits5 '{"quant_method": "gptq", "bits": 5, "group_size": 32}' 'bits 5 is not supported \(2, 3, 4, 8 are\)'
refused gptq-marlin '{"quant_method": "gptq", "bits": 4, "group_size": 32, "checkpoint_format": "marlin"}' "checkpoint_format 'marlin' is not supported"
refused gptq-group0 '{"quant_method": "gptq", "bits": 4, "group_size": 0}' 'group_size 0'
refused awq-gemv '{"quant_method": "awq", "bits": 4, "group_size": 32, "version": "gemv"}' "version 'gemv' is not supported \\(gemm is\\)"
# a supported scheme over a plain checkpoint: not ignored either
refused gptq-plain '{"quant_method": "gptq", "bits": 4, "group_size": 32}' 'says gptq but no linear layer is packed'
done_testing
