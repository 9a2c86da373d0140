#!/usr/bin/env bash
# llama.cpp as a live oracle (docs/testing.md "llama.cpp as an oracle"): the helper
# $BUILD/oracle/llama_oracle, built against the pinned node-llama-cpp's libllama, first proves it is
# the llama.cpp of the fixtures (same logits, same dequantized tensors), then holds coldtok to it:
# logits of the F32 models, tokenization of the synth-qwen2 vocabulary. Without the oracle
# (`make oracle` needs npm and the network) everything skips with the reason. Prints TAP.
set -u
BIN=${COLDTOK:-./coldtok}
FX=${COLDTOK_FIXTURES:-../shared/fixtures}
ORACLE=${LLAMA_ORACLE:-$(dirname "$BIN")/oracle/llama_oracle}
tmp=$(mktemp -d /tmp/coldtok-cli-oracle.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

if [ ! -x "$ORACLE" ]; then
    if [ -f tests/oracle/node_modules/.installed ]; then
        why="the helper is not built: make BUILD=$(dirname "$BIN") tests"
    else
        why="node-llama-cpp is not installed: make oracle (needs npm and the network)"
    fi
    skip "llama.cpp oracle" "$why"
    done_testing
    exit 0
fi
if [ ! -d "$FX/models" ]; then
    skip "llama.cpp oracle" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi

# (a) logits of every F32 model over its prompt: the oracle against the fixtures' llama.cpp logits
# (it is the same llama.cpp), coldtok against the oracle.
for m in stories260K synth-llama synth-qwen2; do
    gguf=$FX/models/$m/$m-F32.gguf
    [ -f "$gguf" ] || { skip "logits of $m-F32" "$gguf absent"; continue; }
    ids=$(grep -o '"ids": *\[[^]]*\]' "$FX/models/$m/prompt.json" | sed 's/.*\[//; s/\]//; s/ //g')
    "$ORACLE" logits "$gguf" "$ids" "$tmp/oracle.f32" 2> "$tmp/err"
    check_status "oracle: logits of $m-F32 over the prompt ($ids)" $? "$(cat "$tmp/err")"
    close_f32 "$tmp/oracle.f32" "$FX/models/$m/$m-F32.prompt.llamacpp.logits.f32" 1e-5 > "$tmp/cmp"; rc=$?
    check_status "oracle: $m-F32 equals the fixtures' llama.cpp logits ($(cat "$tmp/cmp"))" $rc
    : > "$tmp/cmp"
    # shellcheck disable=SC2086 # one -c per id: split on purpose
    "$BIN" logits -m "$gguf" -c ${ids//,/ -c } --raw-all "$tmp/coldtok.f32" --top 0 > /dev/null 2> "$tmp/err" &&
        close_f32 "$tmp/coldtok.f32" "$tmp/oracle.f32" 1e-4 > "$tmp/cmp"; rc=$?
    check_status "coldtok logits of $m-F32 equal the oracle's ($(cat "$tmp/cmp"))" $rc "$(cat "$tmp/err")"
done

# (b) tokenization: llama_tokenize(add_special=false, parse_special=false) on the synth-qwen2
# vocabulary (byte-level BPE, Qwen2 pre-tokenizer) against coldtok encode --no-special.
Q=$FX/models/synth-qwen2/synth-qwen2-F32.gguf
if [ -f "$Q" ]; then
    texts=(
        $'def add(a, b):\n    return a + b'
        ' Hello world'
        $'for (int i = 0; i < 10; i++) {\n\tsum += i;\n}'
        "naïve café, 変数 = 42; // ½ ≥ π"
        $'   \t  x  \n\n  y'
        "12345678 3.14159 0x1F"
        "it's they're WE'LL"
        '<|endoftext|> stays plain text'
    )
    for text in "${texts[@]}"; do
        want=$("$ORACLE" tokenize "$Q" "$text" 2> "$tmp/err")
        got=$(printf '%s' "$text" | "$BIN" encode -t "$Q" --no-special 2>> "$tmp/err")
        [ -n "$want" ] && [ "$want" = "$got" ]; rc=$?
        shown=${text//$'\n'/\\n}; shown=${shown//$'\t'/\\t}
        check_status "tokenize '${shown:0:36}': coldtok encode = llama_tokenize" $rc \
            "llama.cpp: $want; coldtok: $got $(cat "$tmp/err")"
    done
else
    skip "tokenize on synth-qwen2" "$Q absent"
fi

# (b2) a GGUF that coldtok quantize writes from an HF folder with a GPT-2-style tokenizer.json
# (ByteLevel with its own regex) loads in llama.cpp, which knows that pre-tokenizer as "gpt-2"
# (coldtok wrote "gpt2" before, which llama.cpp refuses), and both tokenize alike.
mkdir -p "$tmp/hf-gpt2"
cp tests/data/hf-llama-f32/* "$tmp/hf-gpt2/" && cp tests/data/cov-tiny-tokenizer.json "$tmp/hf-gpt2/tokenizer.json"
"$BIN" quantize -m "$tmp/hf-gpt2" --type f32 -o "$tmp/gpt2.gguf" > /dev/null 2> "$tmp/err"
check_status "quantize an HF folder with a GPT-2-style tokenizer" $? "$(cat "$tmp/err")"
# Only bytes the tiny vocabulary has: llama.cpp drops a byte without a token in silence, coldtok
# refuses to encode it (issue 17; tests/cli_hostile_a.sh).
text=$'def f12(_)\n    return 12\n\tif for re()'
want=$("$ORACLE" tokenize "$tmp/gpt2.gguf" "$text" 2> "$tmp/err")
got=$(printf '%s' "$text" | "$BIN" encode -t "$tmp/gpt2.gguf" --no-special 2>> "$tmp/err")
[ -n "$want" ] && [ "$want" = "$got" ]
check_status "llama.cpp loads its vocabulary and tokenizes like coldtok" $? \
    "llama.cpp: $want; coldtok: $got $(cat "$tmp/err")"

# (c) ggml's own dequantizers (to_float) on the raw blocks of blk.0.ffn_down.weight of every
# synth-llama type equal the fixtures' dequantized tensor (made with gguf-py) byte for byte.
L=$FX/models/synth-llama
found=0
for ref in "$L"/*.blk0_ffn_down.dequant.f32; do
    [ -f "$ref" ] || continue
    found=1
    t=$(basename "$ref" .blk0_ffn_down.dequant.f32)
    got=$("$ORACLE" tensor "$L/synth-llama-$t.gguf" blk.0.ffn_down.weight "$tmp/blocks" 2> "$tmp/err") &&
        [ "$got" = "$t" ] && "$ORACLE" dequant "$t" "$tmp/blocks" "$tmp/deq.f32" 2>> "$tmp/err" &&
        cmp -s "$tmp/deq.f32" "$ref"
    check_status "oracle: dequant $t of blk.0.ffn_down.weight equals the fixture (memcmp)" $? "type $got $(cat "$tmp/err")"
done
[ $found = 1 ] || skip "dequant of synth-llama" "no dequantized tensors in $L"

# The quantizers: ggml_quantize_chunk and llama_model_quantize --pure of the F32 weights give
# the fixtures' bytes (made by llama-quantize), and an importance matrix reaches both alike.
if [ -f "$L/synth-llama-F32.gguf" ] && [ -f "$L/synth-llama-Q4_K.gguf" ]; then
    "$ORACLE" tensor "$L/synth-llama-F32.gguf" blk.0.ffn_down.weight "$tmp/w.f32" > /dev/null 2> "$tmp/err" &&
        "$ORACLE" tensor "$L/synth-llama-Q4_K.gguf" blk.0.ffn_down.weight "$tmp/fx.bin" > /dev/null 2>> "$tmp/err" &&
        "$ORACLE" quant Q4_K 512 "$tmp/w.f32" "$tmp/q.bin" 2>> "$tmp/err" && cmp -s "$tmp/q.bin" "$tmp/fx.bin"
    check_status "oracle: quant Q4_K of blk.0.ffn_down.weight equals synth-llama-Q4_K's blocks" $? "$(cat "$tmp/err")"
    "$ORACLE" -t 2 quantize --pure "$L/synth-llama-F32.gguf" "$tmp/q8.gguf" Q8_0 2> "$tmp/err" &&
        for w in token_embd.weight blk.1.attn_k.weight blk.0.ffn_down.weight output.weight; do
            "$ORACLE" tensor "$tmp/q8.gguf" "$w" "$tmp/a.bin" > /dev/null &&
                "$ORACLE" tensor "$L/synth-llama-Q8_0.gguf" "$w" "$tmp/b.bin" > /dev/null &&
                cmp -s "$tmp/a.bin" "$tmp/b.bin" || { echo "$w differs" >> "$tmp/err"; false; } || break
        done
    check_status "oracle: quantize --pure Q8_0 of synth-llama-F32 gives synth-llama-Q8_0's tensors" $? "$(cat "$tmp/err")"

    mkdir -p "$tmp/imatrix" # one positive importance per input column, deterministic
    for l in 0 1; do
        for w in attn_q attn_k attn_v attn_output ffn_gate ffn_up ffn_down; do
            cols=256; [ $w = ffn_down ] && cols=512
            perl -e 'my ($n, $s) = @ARGV; print pack("f<*", map { 0.25 + (($_ * 7919 + $s) % 1000) / 500 } 0 .. $n - 1)' \
                $cols $((l * 7 + ${#w})) > "$tmp/imatrix/blk.$l.$w.weight.f32"
        done
    done
    "$ORACLE" quantize --pure "$L/synth-llama-F32.gguf" "$tmp/qi.gguf" Q4_K "$tmp/imatrix" 2> "$tmp/err" &&
        "$ORACLE" tensor "$tmp/qi.gguf" blk.0.ffn_down.weight "$tmp/a.bin" > /dev/null 2>> "$tmp/err" &&
        "$ORACLE" quant Q4_K 512 "$tmp/w.f32" "$tmp/b.bin" "$tmp/imatrix/blk.0.ffn_down.weight.f32" 2>> "$tmp/err" &&
        cmp -s "$tmp/a.bin" "$tmp/b.bin" && ! cmp -s "$tmp/a.bin" "$tmp/fx.bin"
    check_status "oracle: an importance folder changes Q4_K, the same way in quantize and quant" $? "$(cat "$tmp/err")"
    "$ORACLE" quantize "$L/synth-llama-F32.gguf" "$tmp/x.gguf" IQ2_XS 2> "$tmp/err"; rc=$?
    [ $rc = 1 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -q 'requires an importance matrix' "$tmp/err"
    check_status "oracle: IQ2_XS without importance data fails in one line that says why" $? "rc=$rc $(cat "$tmp/err")"
fi
"$ORACLE" logits "$tmp/missing.gguf" 1 "$tmp/x.f32" 2> "$tmp/err"; rc=$?
[ $rc = 1 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -q "missing.gguf" "$tmp/err"
check_status "oracle: a missing model is one line, exit 1" $? "rc=$rc $(cat "$tmp/err")"
done_testing
