#!/usr/bin/env bash
# coldtok logits and coldtok synth: the raw logits the CLI writes equal the fixtures' float64
# reference logits (BOS and prompt), token strings resolve through the model's tokenizer, synth
# writes loadable models, and bad input is one line with the right exit code. Prints TAP.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
FX=${COLDTOK_FIXTURES:-../shared/fixtures}
tmp=$(mktemp -d /tmp/coldtok-cli-models.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if ! "$BIN" --help | grep -q '^  logits'; then
    skip "coldtok logits" "the logits command is not registered in this build"
    done_testing
    exit 0
fi

S=$FX/models/stories260K
if [ -f "$S/stories260K-F32.gguf" ]; then
    "$BIN" logits -m "$S/stories260K-F32.gguf" --raw "$tmp/bos.f32" --top 3 > "$tmp/out" 2> "$tmp/err"
    check_status "logits: stories260K BOS exits 0" $? "$(cat "$tmp/err")"
    close_f32 "$tmp/bos.f32" "$S/stories260K-F32.dequant.logits.f32" 1e-4 > "$tmp/cmp"
    check_status "logits: --raw (context bos = id 1) equals the dequant reference" $? "$(cat "$tmp/cmp")"
    grep -Eq '^ +1 +403 +0\.78' "$tmp/out"
    check_status "logits: top-1 is 403 (' Once') with p = 0.78" $? "$(head -12 "$tmp/out")"
    "$BIN" logits -m "$S/stories260K-Q8_0mix.gguf" -c 1 -c 403 -c 407 -c 261 -c 378 \
        --raw-all "$tmp/all.f32" --top 0 > /dev/null 2> "$tmp/err"
    check_status "logits: a 5-token context exits 0" $? "$(cat "$tmp/err")"
    close_f32 "$tmp/all.f32" "$S/stories260K-Q8_0mix.prompt.dequant.logits.f32" 1e-4 > "$tmp/cmp"
    check_status "logits: --raw-all over the prompt equals the dequant reference (Q8_0mix)" $? "$(cat "$tmp/cmp")"
    "$BIN" logits -m "$S/stories260K-F32.gguf" -c bos -c '▁Once' -c ' upon' --top 1 > "$tmp/out" 2> "$tmp/err"
    grep -Eq '^context +1 .* 403 .* 407 ' "$tmp/out"
    check_status "logits: token strings resolve by piece ('▁Once') and by text (' upon')" $? "$(cat "$tmp/err") $(grep context "$tmp/out")"
else
    skip "logits on stories260K" "fixtures absent (set COLDTOK_FIXTURES)"
fi

Q=$FX/models/synth-qwen2
if [ -f "$Q/synth-qwen2-Q4_K.gguf" ]; then
    "$BIN" logits -m "$Q/synth-qwen2-Q4_K.gguf" --raw "$tmp/q.f32" --top 2 > "$tmp/out" 2> "$tmp/err"
    check_status "logits: synth-qwen2 Q4_K exits 0" $? "$(cat "$tmp/err")"
    close_f32 "$tmp/q.f32" "$Q/synth-qwen2-Q4_K.dequant.logits.f32" 1e-4 > "$tmp/cmp"
    check_status "logits: --context bos is <|endoftext|> (509) for qwen2 and equals the reference" $? "$(cat "$tmp/cmp")"
fi

if [ -d tests/data/hf-qwen3-f32 ]; then
    "$BIN" logits -m tests/data/hf-qwen3-f32 -c 1 -c 17 -c 42 --raw "$tmp/hf.f32" --top 1 > /dev/null 2> "$tmp/err"
    check_status "logits: a Hugging Face folder (no tokenizer) with id contexts" $? "$(cat "$tmp/err")"
    [ "$(stat -c %s "$tmp/hf.f32")" = 512 ]
    check_status "logits: --raw writes n_vocab floats (128)" $? "$(stat -c %s "$tmp/hf.f32")"
fi

# synth: every type, loadable, reproducible
for t in F32 F16 BF16 Q8_0 Q4_K; do
    "$BIN" synth --preset tiny-qwen3 --type $t --seed 7 -o "$tmp/s-$t.gguf" 2> "$tmp/err" &&
        "$BIN" logits -m "$tmp/s-$t.gguf" --top 3 > "$tmp/out" 2>> "$tmp/err" && grep -Eq '^ +3 ' "$tmp/out"
    check_status "synth tiny-qwen3 $t loads and runs" $? "$(cat "$tmp/err")"
done
"$BIN" synth --preset tiny-qwen3 --type F16 --seed 7 -o "$tmp/again.gguf" 2> /dev/null
cmp -s "$tmp/s-F16.gguf" "$tmp/again.gguf"
check_status "synth: the same seed writes the same bytes" $?
"$BIN" synth --arch llama --dims embd=64,ff=128,layers=1,heads=2,kv_heads=1,head_dim=32 --type Q8_0 \
    -o "$tmp/d.gguf" 2> "$tmp/err" && "$BIN" logits -m "$tmp/d.gguf" -c 256 --top 1 > /dev/null 2>> "$tmp/err"
check_status "synth: --dims builds a custom llama" $? "$(cat "$tmp/err")"

# errors: one line, exit codes
"$BIN" logits -m "$tmp/missing.gguf" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc = 1 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -q '^coldtok logits: .*missing.gguf' "$tmp/err"
check_status "logits: a missing model is one line, exit 1" $? "rc=$rc $(cat "$tmp/err")"
printf 'GGUF\003\000\000\000' > "$tmp/trunc.gguf"
"$BIN" logits -m "$tmp/trunc.gguf" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc = 1 ] && [ "$(wc -l < "$tmp/err")" = 1 ]
check_status "logits: a truncated GGUF is one line, exit 1" $? "rc=$rc $(cat "$tmp/err")"
"$BIN" logits -m "$tmp/s-F16.gguf" --compute f64 > /dev/null 2> "$tmp/err"; rc=$?
check_status "logits: a bad --compute is a usage error (exit 2)" $([ $rc = 2 ] && echo 0 || echo 1) "rc=$rc"
"$BIN" logits -m "$tmp/s-F16.gguf" -c 999999 > /dev/null 2> "$tmp/err"; rc=$?
[ $rc = 1 ] && grep -q 'outside the vocabulary' "$tmp/err"
check_status "logits: an id outside the vocabulary is refused" $? "rc=$rc $(cat "$tmp/err")"
"$BIN" synth --preset tiny-llama --type IQ2_XS -o "$tmp/x.gguf" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc = 2 ] && [ ! -e "$tmp/x.gguf" ]
check_status "synth: an unsupported type is a usage error and writes nothing" $? "rc=$rc $(cat "$tmp/err")"
"$BIN" synth --preset gpt5 -o "$tmp/x.gguf" > /dev/null 2> "$tmp/err"; rc=$?
check_status "synth: an unknown preset is a usage error" $([ $rc = 2 ] && echo 0 || echo 1) "rc=$rc"
done_testing
