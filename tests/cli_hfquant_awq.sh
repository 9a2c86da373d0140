#!/usr/bin/env bash
# AutoAWQ version gemv and zero_point false (tests/reference/hfquant_ref.py, AWQ_CASES): each packed
# folder gives the logits of its dequantized F32 twin and not the unquantized source's; info shows
# the scheme and bits per weight of the real storage (GEMV's padded qzeros / scales included); wrong
# shapes are one line; coldtok quantize of a GEMV folder to Q8_0 GGUF computes like the twin's GGUF
# and llama.cpp (the oracle) reads it to the same logits. Prints TAP.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
D=$(dirname "$0")/data
tmp=$(mktemp -d /tmp/coldtok-cli-hfquant-awq.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

ctx="-c 1 -c 17 -c 42 -c 99 -c 5 -c 63 -c 120 -c 7 -c 33 -c 64"
"$BIN" logits -m "$D/hf-llama-f32" --raw-all "$tmp/src.f32" --top 0 $ctx > /dev/null 2> "$tmp/err"
for c in gemv32 gemv64 gemvsym gemmsym; do
    f=$D/hfquant-awq-$c
    if [ ! -d "$f" ]; then skip "$c folder" "$f absent (make references)"; continue; fi
    "$BIN" logits -m "$f" --raw-all "$tmp/q.f32" --top 0 $ctx > /dev/null 2> "$tmp/err" &&
        "$BIN" logits -m "$f-deq" --raw-all "$tmp/d.f32" --top 0 $ctx > /dev/null 2>> "$tmp/err" &&
        close_f32 "$tmp/q.f32" "$tmp/d.f32" 1e-5 > "$tmp/cmp"
    check_status "awq $c: logits equal the dequantized F32 folder's within 1e-5 of max |logit|" $? "$(cat "$tmp/err" "$tmp/cmp")"
    ! close_f32 "$tmp/q.f32" "$tmp/src.f32" 1e-5 > /dev/null
    check_status "awq $c: logits differ from the unquantized source's" $?
done

# info: scheme and bits per weight. q_proj [64, 64] = 4096 weights: gemv32 qweight 64*8*4 + qzeros
# 64*4*4 (1 word padded to 4) + scales 64*32*2 (2 groups padded to 32) = 7168 bytes = 14 bits;
# gemv64 2048 + 64*2*4 + 64*16*2 = 4608 = 9 bits; gemvsym 2048 + 4096 (no qzeros) = 12 bits;
# gemmsym qweight 64*8*4 + scales 2*64*2 = 2304 = 4.5 bits
info_has() { # FOLDER REGEX...
    f=$1; shift
    "$BIN" info "$f" > "$tmp/info" 2> "$tmp/err"; rc=$?
    for re in "$@"; do grep -Eq "$re" "$tmp/info" || { rc=9; echo "# missing: $re"; }; done
    check_status "info $(basename "$f")" $rc "$(cat "$tmp/err" "$tmp/info" | head -12)"
}
info_has "$D/hfquant-awq-gemv32" '^quantization +awq 4-bit gemv, group 32$' \
    '^  model\.layers\.0\.self_attn\.q_proj +awq 4-bit gemv, group 32 +\[64, 64\] +7168 +14\.000$'
info_has "$D/hfquant-awq-gemv64" '^quantization +awq 4-bit gemv, per channel$' \
    '^  model\.layers\.0\.self_attn\.q_proj +awq 4-bit gemv, per channel +\[64, 64\] +4608 +9\.000$' \
    '^  model\.layers\.1\.mlp\.down_proj +F32 +\[64, 96\] '
info_has "$D/hfquant-awq-gemvsym" '^quantization +awq 4-bit gemv, group 32, symmetric$' \
    '^  model\.layers\.0\.self_attn\.q_proj +awq 4-bit gemv, group 32, symmetric +\[64, 64\] +6144 +12\.000$'
info_has "$D/hfquant-awq-gemmsym" '^quantization +awq 4-bit, group 32, symmetric$' \
    '^  model\.layers\.0\.self_attn\.q_proj +awq 4-bit, group 32, symmetric +\[64, 64\] +2304 +4\.500$'

# wrong shapes and missing parts: one line, exit 1
bad() { # NAME FOLDER PYTHON-EDIT-OF-CONFIG REGEX
    mkdir -p "$tmp/$1"
    ln -sf "$(cd "$D/$2" && pwd)/model.safetensors" "$tmp/$1/model.safetensors"
    python3 -c "import json,sys; c=json.load(open(sys.argv[1])); q=c['quantization_config']; $3; json.dump(c, open(sys.argv[2], 'w'))" \
        "$D/$2/config.json" "$tmp/$1/config.json"
    "$BIN" logits -m "$tmp/$1" --top 1 > /dev/null 2> "$tmp/err"; rc=$?
    [ $rc = 1 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -Eq "$4" "$tmp/err"
    check_status "$2 with $1: one line, exit 1" $? "rc=$rc $(cat "$tmp/err")"
}
bad group64 hfquant-awq-gemv32 "q['group_size'] = 64" 'q_proj\.qzeros has the wrong shape \(expected \[64, 2\]\)'
bad as-gemm hfquant-awq-gemv32 "q['version'] = 'gemm'" 'q_proj\.qzeros has the wrong shape \(expected \[2, 8\]\)'
bad as-gemv hf-llama-awq4 "q['version'] = 'gemv'" 'q_proj\.qzeros has the wrong shape \(expected \[64, 4\]\)'
bad zero-point hfquant-awq-gemvsym "q['zero_point'] = True" 'missing tensor model\.layers\.0\.self_attn\.q_proj\.qzeros'
bad group48 hfquant-awq-gemv32 "q['group_size'] = 48" 'version gemv with group_size 48 is not supported'

# coldtok quantize of a GEMV folder to Q8_0: the same GGUF logits as the twin's, and llama.cpp (the
# oracle) reads and runs it (the ASan pass: gemv32 alone, no oracle). llama.cpp needs a
# tokenizer in the GGUF: the folders are copied with cov-tiny-tokenizer.json (vocabulary 128). The
# status is kept before check_status: a $(...) in its arguments would reset $?.
ORACLE=${LLAMA_ORACLE:-$(dirname "$BIN")/oracle/llama_oracle}
ids=1,17,42,99,5,63,120,7,33,64
cases="gemv32 gemvsym"
[[ $BIN == *asan* ]] && cases=gemv32
for c in $cases; do
    for f in "$c" "$c-deq"; do
        mkdir -p "$tmp/q-$f" && cp "$D/hfquant-awq-$f"/* "$tmp/q-$f/" && cp "$D/cov-tiny-tokenizer.json" "$tmp/q-$f/tokenizer.json"
    done
    "$BIN" quantize -m "$tmp/q-$c" --type Q8_0 -o "$tmp/q.gguf" > /dev/null 2> "$tmp/err" &&
        "$BIN" quantize -m "$tmp/q-$c-deq" --type Q8_0 -o "$tmp/d.gguf" > /dev/null 2>> "$tmp/err" &&
        "$BIN" logits -m "$tmp/q.gguf" --raw-all "$tmp/q.f32" --top 0 $ctx > /dev/null 2>> "$tmp/err" &&
        "$BIN" logits -m "$tmp/d.gguf" --raw-all "$tmp/d.f32" --top 0 $ctx > /dev/null 2>> "$tmp/err" &&
        cmp -s "$tmp/q.f32" "$tmp/d.f32"
    check_status "quantize $c to Q8_0: the twin's GGUF logits" $? "$(cat "$tmp/err")"
    if [[ $BIN == *asan* ]]; then skip "quantize $c to Q8_0 in llama.cpp" "ASan pass"; continue; fi
    if [ ! -x "$ORACLE" ]; then skip "quantize $c to Q8_0 in llama.cpp" "the oracle is not built ($ORACLE)"; continue; fi
    # (a) llama.cpp reads the Q8_0 blocks (llama_model_quantize to F32 dequantizes them with ggml)
    # and its F32 forward gives coldtok's logits of the Q8_0 GGUF
    rm -f "$tmp/o.f32" "$tmp/cmp"
    "$ORACLE" quantize "$tmp/q.gguf" "$tmp/f.gguf" F32 2> "$tmp/err" &&
        "$ORACLE" logits "$tmp/f.gguf" "$ids" "$tmp/o.f32" 2>> "$tmp/err" &&
        close_f32 "$tmp/q.f32" "$tmp/o.f32" 1e-4 > "$tmp/cmp"
    rc=$?
    check_status "quantize $c to Q8_0: llama.cpp's dequantization of it gives the same logits ($(cat "$tmp/cmp" 2> /dev/null))" $rc "$(cat "$tmp/err")"
    # (b) llama.cpp runs the Q8_0 GGUF itself: its CPU Q8_0 matmul also rounds the activations to
    # 8 bits, so only within 2e-2 of max |logit| (measured: under 1e-2)
    rm -f "$tmp/o.f32" "$tmp/cmp"
    "$ORACLE" logits "$tmp/q.gguf" "$ids" "$tmp/o.f32" 2> "$tmp/err" &&
        close_f32 "$tmp/q.f32" "$tmp/o.f32" 2e-2 > "$tmp/cmp"
    rc=$?
    check_status "quantize $c to Q8_0: llama.cpp loads and runs it ($(cat "$tmp/cmp" 2> /dev/null))" $rc "$(cat "$tmp/err")"
done
done_testing
