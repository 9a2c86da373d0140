#!/usr/bin/env bash
# Hostile inputs, part A (issue 17): NaN/Inf weights, GGUF integers that do not fit, FIFOs and other
# non-regular files given as inputs, concurrent writers of one output, GGUF vocabularies and configs
# that contradict themselves. Every hostile file is made here from a fixture (python3 stdlib,
# tests/data/hostile-a/gguf_edit.py) or with printf; each case must fail with one line that names
# the file and the problem, never hang, never print a result computed from NaN.
set -u
. "$(dirname "$0")/tap.sh"
: "${COLDTOK:?set COLDTOK to the binary under test}"
S=${COLDTOK_FIXTURES:-../shared/fixtures}/models
EDIT="python3 $(dirname "$0")/data/hostile-a/gguf_edit.py"
tmp=$(mktemp -d /tmp/coldtok-hostile-a.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
L=$S/synth-llama/synth-llama-F32.gguf
Q=$S/synth-qwen2/synth-qwen2-F32.gguf
if [ ! -f "$L" ] || [ ! -f "$Q" ]; then
    skip "hostile inputs" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi

# fails NAME WANT CMD...: exit 1 and one line of output containing WANT
fails() {
    local name=$1 want=$2; shift 2
    out=$(timeout "${HOSTILE_TIMEOUT:-300}" "$@" 2>&1); rc=$?
    check "$name" '[ $rc -eq 1 ] && [[ $out == *"$want"* ]] && [ $(printf "%s\n" "$out" | wc -l) -eq 1 ]' "rc=$rc out=$out"
}

# ---- NaN and Inf weights: no result computed from them ----
$EDIT "$L" "$tmp/nan.gguf" poison blk.1.ffn_up.weight 1000 nan
$EDIT "$L" "$tmp/inf.gguf" poison blk.0.attn_norm.weight 3 inf
printf 'def f(x):\n    return x + 1\n%.0s' $(seq 40) > "$tmp/c.py"
fails "logits: a NaN weight is named" "nan.gguf: tensor blk.1.ffn_up.weight row 3 column 232 is not finite (nan)" \
    "$COLDTOK" logits -m "$tmp/nan.gguf"
fails "logits: an Inf norm weight is named" "inf.gguf: tensor blk.0.attn_norm element 3 is not finite (inf)" \
    "$COLDTOK" logits -m "$tmp/inf.gguf"
fails "probe: no entropy of NaN" "nan.gguf: tensor blk.1.ffn_up.weight" "$COLDTOK" probe -m "$tmp/nan.gguf"
fails "diff: the NaN model is named" "nan.gguf: tensor blk.1.ffn_up.weight" "$COLDTOK" diff -m "$tmp/nan.gguf" -m "$L"
fails "drift: the NaN variant is named" "nan.gguf: tensor blk.1.ffn_up.weight" \
    "$COLDTOK" drift -m "$L" -m "$tmp/nan.gguf" --corpus "$tmp/c.py" --ctx 32 --bootstrap 0

# ---- GGUF integers that do not fit their field: refused with the value the file holds ----
$EDIT "$L" "$tmp/bc.gguf" set llama.block_count u64 4294967298
$EDIT "$L" "$tmp/emb.gguf" set llama.embedding_length u64 1099511627776
$EDIT "$L" "$tmp/ffn.gguf" set llama.feed_forward_length i32 -5
$EDIT "$L" "$tmp/heads.gguf" set llama.attention.head_count u64 18446744073709551615
$EDIT "$L" "$tmp/ctx.gguf" set llama.context_length i64 -1
fails "block_count 2^32+2 is not 2 layers" "bc.gguf: llama.block_count = 4294967298 is out of range" \
    "$COLDTOK" logits -m "$tmp/bc.gguf"
fails "embedding_length 2^40 is not 0" "emb.gguf: llama.embedding_length = 1099511627776 is out of range" \
    "$COLDTOK" logits -m "$tmp/emb.gguf"
fails "a negative feed_forward_length" "ffn.gguf: llama.feed_forward_length = -5 is out of range" \
    "$COLDTOK" logits -m "$tmp/ffn.gguf"
fails "head_count 2^64-1 is not a missing key" "heads.gguf: llama.attention.head_count = 18446744073709551615 is out of range" \
    "$COLDTOK" logits -m "$tmp/heads.gguf"
fails "a negative context_length" "ctx.gguf: llama.context_length = -1 is out of range" "$COLDTOK" logits -m "$tmp/ctx.gguf"
fails "quantize: block_count 2^32+2" "bc.gguf: llama.block_count = 4294967298 is out of range" \
    "$COLDTOK" quantize -m "$tmp/bc.gguf" -o "$tmp/bc-q.gguf" --type Q8_0
check "quantize left no output" '[ ! -e "$tmp/bc-q.gguf" ]'

# ---- configs that contradict their weights or themselves ----
H=$(dirname "$0")/data/hf-llama-f32
mkdir -p "$tmp/h3" "$tmp/l1"
cp "$H/model.safetensors" "$tmp/h3/"
ln -s "$tmp/h3/model.safetensors" "$tmp/l1/model.safetensors"
sed 's/"num_attention_heads": 4/"num_attention_heads": 3/; s/"num_key_value_heads": 2/"num_key_value_heads": 3/' \
    "$H/config.json" > "$tmp/h3/config.json"
sed 's/"num_hidden_layers": 2/"num_hidden_layers": 1/' "$H/config.json" > "$tmp/l1/config.json"
$EDIT "$L" "$tmp/l1.gguf" set llama.block_count u32 1
$EDIT "$L" "$tmp/h3a.gguf" set llama.attention.head_count u32 3
$EDIT "$tmp/h3a.gguf" "$tmp/h3.gguf" set llama.attention.head_count_kv u32 3
fails "3 heads do not divide hidden size 64 (config.json)" "config.json: 3 attention heads do not divide the hidden size 64" \
    "$COLDTOK" logits -m "$tmp/h3" -c 1
fails "3 heads do not divide n_embd 256 (GGUF)" "h3.gguf: 3 attention heads do not divide the hidden size 256" \
    "$COLDTOK" logits -m "$tmp/h3.gguf"
fails "num_hidden_layers 1 of 2 layers of weights" "the config says 1 layers but the weights hold more (model.layers.1." \
    "$COLDTOK" logits -m "$tmp/l1" -c 1
fails "block_count 1 of 2 layers of weights" "the config says 1 layers but the weights hold more (blk.1." \
    "$COLDTOK" logits -m "$tmp/l1.gguf"

# ---- GGUF vocabularies that contradict themselves ----
$EDIT "$L" "$tmp/bos.gguf" set tokenizer.ggml.bos_token_id u32 99999
$EDIT "$L" "$tmp/eos.gguf" set tokenizer.ggml.eos_token_id i32 -7
fails "bos_token_id 99999 of 512 tokens" "bos.gguf: tokenizer.ggml.bos_token_id = 99999 is out of range [0, 511]" \
    "$COLDTOK" probe -m "$tmp/bos.gguf"
fails "a negative eos_token_id" "eos.gguf: tokenizer.ggml.eos_token_id = -7 is out of range [0, 511]" \
    sh -c "echo hi | '$COLDTOK' encode -t '$tmp/eos.gguf'"

# ---- FIFOs and devices given as inputs: refused at once (a FIFO used to block forever) ----
mkfifo "$tmp/fifo"
fails "logits -m FIFO: not 'no such file'" "fifo: a FIFO, not a regular file or a folder" "$COLDTOK" logits -m "$tmp/fifo"
fails "info FIFO" "fifo: a FIFO, not a regular file" "$COLDTOK" info "$tmp/fifo"
fails "coverage -t FIFO" "fifo: a FIFO, not a regular file" "$COLDTOK" coverage -t "$tmp/fifo"
fails "encode -t FIFO" "fifo: a FIFO, not a regular file" sh -c "echo hi | '$COLDTOK' encode -t '$tmp/fifo'"
fails "quantize --calib FIFO" "fifo: cannot read calibration text: a FIFO, not a regular file" \
    "$COLDTOK" quantize -m "$L" --type Q8_0 --method imatrix --calib "$tmp/fifo" -o "$tmp/calib-q.gguf"
fails "quantize -m FIFO" "fifo: a FIFO, not a regular file or a folder" "$COLDTOK" quantize -m "$tmp/fifo" --type Q8_0 -o "$tmp/fq.gguf"
fails "drift --corpus FIFO" "fifo: a FIFO, not a regular file or a folder" \
    "$COLDTOK" drift -m "$L" -m "$L" --corpus "$tmp/fifo" --bootstrap 0
fails "diff --manifest FIFO" "fifo: a FIFO, not a regular file" "$COLDTOK" diff --manifest "$tmp/fifo"
fails "coverage --keywords FIFO" "fifo: a FIFO, not a regular file" "$COLDTOK" coverage -t "$L" --keywords "$tmp/fifo"
fails "logits -m /dev/zero" "/dev/zero: a character device, not a regular file or a folder" "$COLDTOK" logits -m /dev/zero
mkdir -p "$tmp/corp"
printf 'def f():\n    return 1\n%.0s' $(seq 30) > "$tmp/corp/a.py"
mkfifo "$tmp/corp/b.py"
out=$(timeout "${HOSTILE_TIMEOUT:-300}" "$COLDTOK" drift -m "$L" -m "$L" --corpus "$tmp/corp" --ctx 32 --bootstrap 0 2>&1); rc=$?
check "drift: a FIFO inside a corpus folder is skipped, not waited for" '[ $rc -eq 0 ]' "rc=$rc out=$out"

# ---- GGUF files that do not describe themselves ----
$EDIT "$Q" "$tmp/mu.gguf" merge-unknown
fails "a GGUF merge naming tokens not in the vocabulary" 'mu.gguf: tokenizer.ggml.merges[253] "zzqqéé xxyy" uses a token that is not in the vocabulary' \
    sh -c "echo hi | '$COLDTOK' encode -t '$tmp/mu.gguf'"
$EDIT "$Q" "$tmp/nob.gguf" drop-token 'ā'
fails "a byte-level vocabulary without byte 0x01: encoding it fails" "nob.gguf: the byte-level vocabulary has no token for byte 0x01" \
    sh -c "printf 'a\001b' | '$COLDTOK' encode -t '$tmp/nob.gguf'"
out=$(printf 'ab' | "$COLDTOK" encode -t "$tmp/nob.gguf" 2>&1); rc=$?
check "... and text without that byte still encodes" '[ $rc -eq 0 ] && [ "$out" = "370" ]' "rc=$rc out=$out"
$EDIT "$L" "$tmp/nm1.gguf" n-tensors-minus-one
fails "n_tensors one too small (every weight would shift)" "nm1.gguf: the padding before the data section is not zero (n_tensors 20 too small?" \
    "$COLDTOK" info "$tmp/nm1.gguf"
cp "$L" "$tmp/trail.gguf"
head -c 4096 /dev/zero >> "$tmp/trail.gguf"
fails "a data section longer than its tensors" "trail.gguf: the data section holds 4096 bytes after the last tensor's data" \
    "$COLDTOK" info "$tmp/trail.gguf"

# ---- two quantize runs writing the same -o: each writes its own temporary, the winner's file is
# ---- complete, and no run exits 0 without its output ----
"$COLDTOK" quantize -m "$L" --type Q8_0 -o "$tmp/ref8.gguf" > /dev/null 2>&1
"$COLDTOK" quantize -m "$L" --type Q4_0 -o "$tmp/ref4.gguf" > /dev/null 2>&1
race_ok=1 detail=""
for delay in 0 0.05 0.15 0.3; do
    rm -f "$tmp/race.gguf"
    "$COLDTOK" quantize -m "$L" --type Q8_0 -o "$tmp/race.gguf" > "$tmp/ra.out" 2>&1 & pa=$!
    sleep "$delay"
    "$COLDTOK" quantize -m "$L" --type Q4_0 -o "$tmp/race.gguf" > "$tmp/rb.out" 2>&1 & pb=$!
    wait $pa; ra=$?
    wait $pb; rb=$?
    if [ $ra -ne 0 ] || [ $rb -ne 0 ]; then
        race_ok=0 detail+="delay $delay: exits $ra $rb: $(cat "$tmp/ra.out" "$tmp/rb.out" | grep coldtok) "
    elif ! cmp -s "$tmp/race.gguf" "$tmp/ref8.gguf" && ! cmp -s "$tmp/race.gguf" "$tmp/ref4.gguf"; then
        race_ok=0 detail+="delay $delay: the file at -o is neither run's complete output "
    fi
    left=$(ls "$tmp" | grep -c '^race\.gguf\.tmp')
    [ "$left" -eq 0 ] || { race_ok=0 detail+="delay $delay: $left temporaries left "; }
done
check "two quantize runs onto one -o: both exit 0 and the file is one run's complete output" '[ $race_ok -eq 1 ]' "$detail"
out=$("$COLDTOK" info "$tmp/race.gguf" 2>&1); rc=$?
check "the raced file reads back" '[ $rc -eq 0 ]' "$out"

# a leftover temporary of another run (a crashed one, or one still writing) is never touched
printf 'another run' > "$tmp/keep.gguf.tmp"
printf 'another run' > "$tmp/keep.gguf.tmpAbC123"
"$COLDTOK" quantize -m "$L" --type Q8_0 -o "$tmp/keep.gguf" > /dev/null 2>&1; rc=$?
check "quantize leaves other runs' temporaries alone" \
    '[ $rc -eq 0 ] && [ "$(cat "$tmp/keep.gguf.tmp")" = "another run" ] && [ "$(cat "$tmp/keep.gguf.tmpAbC123")" = "another run" ] && cmp -s "$tmp/keep.gguf" "$tmp/ref8.gguf"' "rc=$rc"

# a run that fails leaves the previous output as it was
cp "$tmp/ref4.gguf" "$tmp/prev.gguf"
"$COLDTOK" quantize -m "$tmp/nan.gguf" --type Q8_0 -o "$tmp/prev.gguf" > /dev/null 2>&1; rc=$?
check "a failed quantize leaves the previous -o untouched and no temporary" \
    '[ $rc -ne 0 ] && cmp -s "$tmp/prev.gguf" "$tmp/ref4.gguf" && [ $(ls "$tmp" | grep -c "^prev\.gguf\.tmp") -eq 0 ]' "rc=$rc"

# the other replaced outputs: raw logits, CSV tables; an unwritable folder fails without output
"$COLDTOK" logits -m "$L" -n 0 --raw "$tmp/raw.f32" > /dev/null 2>&1; rc=$?
check "logits --raw writes the whole file, no temporary left" \
    '[ $rc -eq 0 ] && [ $(stat -c %s "$tmp/raw.f32") -eq 2048 ] && [ $(ls "$tmp" | grep -c "^raw\.f32\.tmp") -eq 0 ]' "rc=$rc"
out=$("$COLDTOK" quantize -m "$L" --type Q8_0 -o "$tmp/nodir/x.gguf" --csv /proc/nope.csv 2>&1); rc=$?
check "quantize --csv in an unwritable place: exit 1 before writing" '[ $rc -eq 1 ] && [ ! -e "$tmp/nodir/x.gguf" ]' "rc=$rc $out"

done_testing
