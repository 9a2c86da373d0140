#!/usr/bin/env bash
# coldtok quantize: end to end on the fixture models (report, metadata, fall-backs, CSV, logits of
# the written file against the fixtures' references when `coldtok logits` is there) and the
# failures: one line, the right exit code, nothing left at OUT or its temporary OUT.tmpXXXXXX
# (common/util.h out_open). Prints TAP.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
FX=${COLDTOK_FIXTURES:-../shared/fixtures}
tmp=$(mktemp -d /tmp/coldtok-cli-quantize.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# temp_of OUT: prints OUT's temporaries (OUT.tmpXXXXXX, out_open's mkstemp names); false if none
temp_of() { compgen -G "$1.tmp??????"; }

# fails NAME CODE REGEX ARGS...: coldtok quantize ARGS exits CODE, says REGEX on stderr's first
# line ("coldtok quantize: ..."), prints nothing else but an optional "try" line, writes no OUT
fails() {
    local name=$1 code=$2 re=$3
    shift 3
    "$BIN" quantize "$@" > "$tmp/out" 2> "$tmp/err"
    local rc=$? lines
    lines=$(grep -vc "^try 'coldtok quantize --help'" "$tmp/err")
    if [ $rc -ne "$code" ]; then notok "$name" "exit $rc, expected $code: $(head -1 "$tmp/err")"
    elif [ "$lines" -ne 1 ] || ! head -1 "$tmp/err" | grep -Eq -- "^coldtok quantize: .*$re"; then
        notok "$name" "stderr: $(cat "$tmp/err")"
    elif [ -e "$tmp/o.gguf" ] || temp_of "$tmp/o.gguf" > /dev/null; then notok "$name" "an output file was left"
    else ok "$name"; fi
    rm -f "$tmp/o.gguf" "$tmp"/o.gguf.tmp*
}

# max |a - b| / max |b| of two float32 files (awk over od), or "size" when their sizes differ
rel_diff() {
    [ "$(stat -c %s "$1")" = "$(stat -c %s "$2")" ] || { echo size; return; }
    paste <(od -An -v -f -w4 "$1") <(od -An -v -f -w4 "$2") |
        awk '{d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d; b = ($2 < 0 ? -$2 : $2); if (b > s) s = b}
             END {printf "%.3g\n", (s > 0 ? m / s : m)}'
}

F32=$FX/models/synth-llama/synth-llama-F32.gguf
if [ -f "$F32" ]; then
    "$BIN" quantize -m "$F32" --type Q8_0 -o "$tmp/q8.gguf" --csv "$tmp/q8.csv" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    check "synth-llama F32 -> Q8_0: exit 0, quiet stderr" '[ $rc -eq 0 ] && [ ! -s "$tmp/err" ]' "rc=$rc $(head -2 "$tmp/err")"
    has "Q8_0: per-tensor report" "$tmp/out" '^tensor +shape +from +type +rmse +rel_rmse +bytes +note$' \
        '^blk\.0\.ffn_down\.weight +512 x 256 +F32 +Q8_0 +[0-9.]+e-0[0-9] +0\.0[0-9]+ +139264 *$' \
        '^blk\.0\.attn_norm\.weight +256 +F32 +F32 +1024 +copied$' \
        ': Q8_0 \(llama\), 21 tensors: 16 converted, 5 copied$' \
        'bits per weight \(matrices 8\.5000\)'
    "$BIN" info "$tmp/q8.gguf" > "$tmp/info" 2>&1
    has "Q8_0: coldtok info reads it back" "$tmp/info" '^  Q8_0 +16 tensors' '^  F32 +5 tensors' \
        '^  general.file_type = 7$' '^  general.quantization_version = 2$' \
        '^  coldtok.quantize.method = "rtn"$' '^  coldtok.quantize.calibration = "none"$' \
        '^  coldtok.quantize.calibration_tokens = 0$' '^  coldtok.quantize.type = "Q8_0"$' \
        '^  model "llama", 512 tokens, bos 1 "<s>", eos 2 "</s>"$' '^  llama.rope.dimension_count = 64$'
    check "Q8_0: CSV header and 21 rows" \
        '[ "$(head -1 "$tmp/q8.csv" | tr -d \")" = "tensor,shape,from,type,rmse,rel_rmse,bytes,note" ] && [ $(wc -l < "$tmp/q8.csv") -eq 22 ]' \
        "$(head -2 "$tmp/q8.csv")"
    check "Q8_0: no temporary file left" '! temp_of "$tmp/q8.gguf"'

    if "$BIN" logits --help > /dev/null 2>&1; then
        ids=$(tr -dc '0-9,' < "$FX/models/synth-llama/prompt.json" | tr ',' ' ')
        ctx=(); for i in $ids; do ctx+=(-c "$i"); done
        "$BIN" logits -m "$tmp/q8.gguf" "${ctx[@]}" -n 0 --raw-all "$tmp/ours.f32" > /dev/null 2>&1
        "$BIN" logits -m "$FX/models/synth-llama/synth-llama-Q8_0.gguf" "${ctx[@]}" -n 0 --raw-all "$tmp/theirs.f32" > /dev/null 2>&1
        check "Q8_0: logits identical to llama.cpp's Q8_0 file's" 'cmp -s "$tmp/ours.f32" "$tmp/theirs.f32"'
        d=$(rel_diff "$tmp/ours.f32" "$FX/models/synth-llama/synth-llama-Q8_0.prompt.dequant.logits.f32")
        check "Q8_0: logits within 1e-4 (relative) of the dequant reference ($d)" \
            '[ "$d" != size ] && awk "BEGIN {exit !(($d) <= 1e-4)}"'
    else
        skip "Q8_0: logits identical to llama.cpp's Q8_0 file's" "coldtok logits not available"
        skip "Q8_0: logits within 1e-4 of the dequant reference" "coldtok logits not available"
    fi

    "$BIN" quantize -m "$F32" --type q4_k_m -o "$tmp/q4km.gguf" > "$tmp/out" 2> "$tmp/err"
    has "Q4_K_M: llama.cpp mixture on 2 layers" "$tmp/out" \
        '^output\.weight +256 x 512 +F32 +Q6_K .*Q4_K_M: output matrix$' \
        '^blk\.1\.attn_v\.weight .* Q6_K .*Q4_K_M' '^blk\.1\.ffn_down\.weight .* Q6_K .*Q4_K_M' \
        '^blk\.0\.attn_v\.weight .* Q4_K ' ': Q4_K_M \(llama\)'
    "$BIN" info "$tmp/q4km.gguf" > "$tmp/info" 2>&1
    has "Q4_K_M: file type 15, 3 tensors in Q6_K" "$tmp/info" '^  general.file_type = 15$' '^  Q6_K +3 tensors'

    "$BIN" quantize -m "$F32" --type Q4_0 --keep 'blk.*.ffn_*=Q8_0' --keep 'blk.1.ffn_up.weight=F16' \
        -o "$tmp/keep.gguf" > "$tmp/out" 2> "$tmp/err"
    has "--keep: glob overrides, last match wins" "$tmp/out" \
        '^blk\.0\.ffn_gate\.weight .* Q8_0 .*--keep blk\.\*\.ffn_\*=Q8_0$' \
        '^blk\.1\.ffn_up\.weight .* F16 .*--keep blk\.1\.ffn_up\.weight=F16$' '^blk\.1\.attn_q\.weight .* Q4_0 '

    "$BIN" quantize -m "$F32" --type Q4_0 --llama-mix -o "$tmp/mix.gguf" > "$tmp/out" 2> "$tmp/err"
    has "--llama-mix: llama-quantize's default Q4_0 (output matrix Q6_K)" "$tmp/out" \
        '^output\.weight +256 x 512 +F32 +Q6_K .*Q4_0: output matrix$' '^token_embd\.weight .* Q4_0 '

    # requantizing a quantized file
    "$BIN" quantize -m "$FX/models/synth-llama/synth-llama-Q8_0.gguf" --type Q4_K -o "$tmp/rq.gguf" > "$tmp/out" 2>&1
    has "Q8_0 file -> Q4_K: dequantized then requantized" "$tmp/out" '^token_embd\.weight +256 x 512 +Q8_0 +Q4_K '
else
    skip "synth-llama quantize" "fixture $F32 absent"
fi

S=$FX/models/stories260K/stories260K-F32.gguf
if [ -f "$S" ]; then
    "$BIN" quantize -m "$S" --type Q4_K -o "$tmp/s.gguf" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    # n_embd 64 and n_ff 172: Q4_K (256) falls back to Q5_0 for rows of 64, to F16 for rows of 172
    has "stories260K -> Q4_K: fall-backs reported" "$tmp/out" \
        '^blk\.0\.attn_q\.weight +64 x 64 +F32 +Q5_0 .*fallback: 64 columns, not a multiple of the Q4_K block of 256$' \
        '^blk\.0\.ffn_down\.weight +172 x 64 +F32 +F16 .*fallback: 172 columns' \
        'fell back to another type \(see note\)$'
    check "stories260K -> Q4_K: exit 0" '[ $rc -eq 0 ]' "rc=$rc $(head -1 "$tmp/err")"
else
    skip "stories260K fall-backs" "fixture $S absent"
fi

# HF folder -> GGUF (tests/data, no tokenizer.json there: a note says so)
if [ -d tests/data/hf-qwen2-f16 ]; then
    "$BIN" quantize -m tests/data/hf-qwen2-f16 --type Q8_0 -o "$tmp/hf.gguf" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    check "HF folder -> Q8_0: exit 0, a note about the tokenizer" \
        '[ $rc -eq 0 ] && grep -q "^coldtok quantize: note: .*tokenizer" "$tmp/err"' "rc=$rc $(cat "$tmp/err")"
    has "HF folder -> Q8_0: llama.cpp names, biases as F32" "$tmp/out" \
        '^blk\.1\.attn_q\.bias +64 +F16 +F32 ' '^blk\.0\.ffn_down\.weight +96 x 64 +F16 +Q8_0 ' \
        '^token_embd\.weight +64 x 128 +F16 +Q8_0 '
    "$BIN" info "$tmp/hf.gguf" > "$tmp/info" 2>&1
    has "HF folder -> Q8_0: architecture keys" "$tmp/info" '^architecture +qwen2' '^  qwen2.block_count = 2$' \
        '^  qwen2.rope.freq_base = 1000000$' '^  qwen2.attention.head_count_kv = 1$'
else
    skip "HF folder" "tests/data/hf-qwen2-f16 absent"
fi

# ---- failures: one line, exit code, nothing written ----
M=$F32
[ -f "$M" ] || M=tests/data/hf-llama-f32
fails "unknown type" 2 "unknown type 'Q7_K'" -m "$M" --type Q7_K -o "$tmp/o.gguf"
fails "missing model" 1 "$tmp/none.gguf: no such file" -m "$tmp/none.gguf" --type Q4_0 -o "$tmp/o.gguf"
printf 'GGUF\003\000\000\000garbage' > "$tmp/junk.gguf"
fails "unreadable model" 1 "$tmp/junk.gguf" -m "$tmp/junk.gguf" --type Q4_0 -o "$tmp/o.gguf"
# a missing output folder is made (tests/cli_usage.sh); one that cannot be is an error
echo "a file" > "$tmp/afile"
fails "output folder cannot be made" 1 "$tmp/afile: exists but is not a folder" -m "$M" --type Q4_0 -o "$tmp/afile/o.gguf"
mkdir -p "$tmp/adir"
fails "output is a folder" 1 "is a folder" -m "$M" --type Q4_0 -o "$tmp/adir"
fails "bad --keep" 2 "expected PATTERN=TYPE" -m "$M" --type Q4_0 --keep 'ffn_down' -o "$tmp/o.gguf"
fails "bad --keep type" 2 "not a type coldtok writes" -m "$M" --type Q4_0 --keep '*=IQ1_S' -o "$tmp/o.gguf"
fails "gptq without --calib" 2 "need --calib" -m "$M" --type Q4_0 --method gptq -o "$tmp/o.gguf"
fails "imatrix without --calib" 2 "need --calib" -m "$M" --type Q4_0 --method imatrix -o "$tmp/o.gguf"
fails "unknown method" 2 "unknown --method 'awq'" -m "$M" --type Q4_0 --method awq -o "$tmp/o.gguf"
fails "--calib with rtn" 2 "needs --method imatrix or gptq" -m "$M" --type Q4_0 --calib tests/data/calib -o "$tmp/o.gguf"
fails "unreadable --calib" 1 "$tmp/nocalib.txt: cannot read calibration text" -m "$M" --type Q4_0 --method gptq \
    --calib tests/data/calib --calib "$tmp/nocalib.txt" -o "$tmp/o.gguf"
mkdir -p "$tmp/emptydir"
fails "empty --calib folder" 1 "calibration folder has no files" -m "$M" --type Q4_0 --method imatrix --calib "$tmp/emptydir" -o "$tmp/o.gguf"
fails "bad --calib-tokens" 2 "positive count" -m "$M" --type Q4_0 --method gptq --calib tests/data/calib --calib-tokens 0 -o "$tmp/o.gguf"
fails "missing -o" 2 "missing -o" -m "$M" --type Q4_0
fails "unwritable CSV" 1 "cannot write" -m "$M" --type Q4_0 -o "$tmp/o.gguf" --csv "$tmp/nodir/r.csv"
if [ -f "$F32" ]; then
    cp "$F32" "$tmp/same.gguf"
    fails "output would replace the input" 1 "would replace the model" -m "$tmp/same.gguf" --type Q4_0 -o "$tmp/same.gguf"
fi

# ---- calibrated methods: metadata and the report's weighted errors ----
if [ -f "$F32" ]; then
    for meth in imatrix gptq; do
        "$BIN" quantize -m "$F32" --type Q4_K -o "$tmp/$meth.gguf" --method $meth --calib tests/data/calib/calib-code.c \
            --calib-tokens 600 --csv "$tmp/$meth.csv" > "$tmp/out" 2> "$tmp/err"
        rc=$?
        check "$meth Q4_K: exit 0, the calibration line" \
            '[ $rc -eq 0 ] && grep -q "^coldtok quantize: calibration: 600 tokens from calib-code.c$" "$tmp/err"' "rc=$rc $(head -2 "$tmp/err")"
        "$BIN" info "$tmp/$meth.gguf" > "$tmp/info" 2>&1
        has "$meth Q4_K: metadata" "$tmp/info" "^  coldtok.quantize.method = \"$meth\"\$" \
            '^  coldtok.quantize.calibration = "calib-code.c"$' '^  coldtok.quantize.calibration_tokens = 600$'
        # provenance: the full digests are in the file (info abbreviates long strings)
        src_sha=$(sha256sum "$F32" | cut -c1-64) cal_sha=$(sha256sum tests/data/calib/calib-code.c | cut -c1-64)
        has "$meth Q4_K: provenance keys" "$tmp/info" "^  coldtok.source.sha256 = \"${src_sha:0:48}\.\.\.\"\$" \
            "^  coldtok.source.bytes = $(stat -c %s "$F32")\$" '^  coldtok.calib.count = 1$' \
            '^  coldtok.calib.0.path = "tests/data/calib/calib-code.c"$' '^  coldtok.calib.0.bytes = 4096$' \
            "^  coldtok.calib.0.sha256 = \"${cal_sha:0:48}\.\.\.\"\$"
        check "$meth Q4_K: full SHA-256 of source and calibration file and the source path stored" \
            'grep -aFq "$src_sha" "$tmp/$meth.gguf" && grep -aFq "$cal_sha" "$tmp/$meth.gguf" && grep -aFq "$F32" "$tmp/$meth.gguf"'
        check "$meth Q4_K: CSV has w_rel, h_rel" \
            '[ "$(head -1 "$tmp/$meth.csv" | tr -d \")" = "tensor,shape,from,type,rmse,rel_rmse,bytes,note,w_rel,h_rel" ]' \
            "$(head -2 "$tmp/$meth.csv")"
    done
    "$BIN" quantize -m "$tmp/imatrix.gguf" --type Q8_0 -o "$tmp/again.gguf" > /dev/null 2>&1
    "$BIN" info "$tmp/again.gguf" > "$tmp/info" 2>&1
    check "quantizing a coldtok output: new source keys, the old calibration keys dropped" \
        'grep -Fq "coldtok.source.path = \"$tmp/imatrix.gguf\"" "$tmp/info" && ! grep -q "coldtok.calib\." "$tmp/info"' "$(grep coldtok "$tmp/info")"
    has "gptq: h_rel reported for ffn_down, none for token_embd" "$tmp/out" \
        '^blk\.0\.ffn_down\.weight +512 x 256 +F32 +Q4_K( +[0-9.e+-]+){3} +0\.[0-9]+ +0\.[0-9]+ *$' \
        '^token_embd\.weight +256 x 512 +F32 +Q4_K( +[0-9.e+-]+){3} *$'
else
    skip "calibrated methods" "no fixture $F32"
fi

# ---- an interrupted run leaves neither OUT nor OUT.tmp ----
if "$BIN" synth --preset tiny-llama --dims embd=512,ff=2048,layers=4,vocab=4096,heads=8,kv_heads=8,head_dim=64 \
        --type F16 -o "$tmp/big.gguf" > /dev/null 2>&1; then
    "$BIN" quantize -m "$tmp/big.gguf" --type Q2_K -o "$tmp/int.gguf" > /dev/null 2>&1 &
    pid=$!
    for _ in $(seq 200); do temp_of "$tmp/int.gguf" > /dev/null && break; sleep 0.02; done
    if temp_of "$tmp/int.gguf" > /dev/null && kill -INT $pid 2> /dev/null; then
        wait $pid
        rc=$?
        check "interrupted: killed by SIGINT, no OUT, no OUT.tmp" \
            '[ $rc -eq 130 ] && [ ! -e "$tmp/int.gguf" ] && ! temp_of "$tmp/int.gguf"' "rc=$rc $(ls "$tmp")"
    else
        wait $pid
        skip "interrupted run" "the run ended before it could be interrupted"
    fi
else
    skip "interrupted run" "coldtok synth failed"
fi

done_testing
