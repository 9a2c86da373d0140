#!/usr/bin/env bash
# The demo tokenizer (data/demo/tokenizer.json, made by data/demo/train_tokenizer.py): coldtok encodes
# the committed held-out samples (data/samples/LANG/*) to exactly the ids of the independent npm
# reference (@lenml/tokenizers in tests/reference/node_modules, see docs/testing.md), decodes them back
# to the files byte for byte, and reads the special tokens and byte alphabet as train_tokenizer.py
# wrote them. The reference comparison skips when node or the npm packages are absent
# (`make reference`; COLDTOK_LENML names another @lenml folder). Prints TAP; gets the binary in $COLDTOK.
set -u
. "$(dirname "$0")/tap.sh"
cd "$(dirname "$0")/.."
COLDTOK=${COLDTOK:-./coldtok}
T=data/demo/tokenizer.json
MODS=${COLDTOK_LENML:-tests/reference/node_modules/@lenml}
case $MODS in /*) ;; *) MODS=$PWD/$MODS ;; esac
tmp=$(mktemp -d /tmp/coldtok-cli-demo.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$T" ]; then
    skip "demo tokenizer" "$T absent"
    done_testing
    exit 0
fi
langs=$(cd data/samples && for d in */; do echo "${d%/}"; done)
if [ -z "$langs" ]; then
    notok "held-out samples in data/samples/LANG/" "none found"
    done_testing
    exit 0
fi

# the layout train_tokenizer.py writes: byte b is id b, merges next, the 5 special tokens last
is "vocabulary: 8192 ids, <|endoftext|> at 8187, <|file_sep|> at 8191" \
    "<|endoftext|> <|file_sep|>" "$(echo 8187 | "$COLDTOK" decode -t "$T") $(echo 8191 | "$COLDTOK" decode -t "$T")"
if echo 8192 | "$COLDTOK" decode -t "$T" > /dev/null 2>&1; then notok "id 8192 is out of range"; else ok "id 8192 is out of range"; fi
is "a lone byte is its own id" "65 10 0" "$(printf 'A\n\0' | "$COLDTOK" encode -t "$T")"
is "special tokens are matched inside text" "8188 8190 8189 8187" \
    "$(printf '<|fim_prefix|><|fim_suffix|><|fim_middle|><|endoftext|>' | "$COLDTOK" encode -t "$T")"
# "    return x\n": a 3-space token, then " return" (the Split regex leaves one space to the word)
is "pieces of an indented line" 'ĠĠĠ Ġreturn Ġx Ċ' \
    "$(printf '    return x\n' | "$COLDTOK" encode --pieces -t "$T")"

# every sample: decode(encode(file)) == file, per language
for lang in $langs; do
    bad=()
    for f in data/samples/"$lang"/*; do
        "$COLDTOK" encode -t "$T" < "$f" > "$tmp/ids" && "$COLDTOK" decode -t "$T" < "$tmp/ids" > "$tmp/back" &&
            cmp -s "$tmp/back" "$f" || bad+=("$f")
    done
    if [ ${#bad[@]} -eq 0 ]; then ok "round trip of the $lang samples"; else notok "round trip of the $lang samples" "${bad[@]}"; fi
done

# the reference: @lenml/tokenizers ids of every sample, one line per file
if ! command -v node > /dev/null 2>&1 || [ ! -f "$MODS/tokenizers/package.json" ]; then
    for lang in $langs; do skip "$lang samples: coldtok ids == @lenml/tokenizers ids" "node or $MODS absent (make reference)"; done
    done_testing
    exit 0
fi
cat > "$tmp/ref.js" <<'EOF'
// node ref.js MODULES TOKENIZER.json FILE...: one line of ids per file (no BOS/EOS; added tokens matched)
const fs = require('fs'), path = require('path');
const [mods, tokPath, ...files] = process.argv.slice(2);
const v = JSON.parse(fs.readFileSync(path.join(mods, 'tokenizers', 'package.json'), 'utf8')).version;
if (v !== '3.7.2') { process.stderr.write(`@lenml/tokenizers ${v}, the tests are pinned to 3.7.2\n`); process.exit(1); }
const { TokenizerLoader } = require(path.join(mods, 'tokenizers'));
const tk = TokenizerLoader.fromPreTrained({ tokenizerJSON: JSON.parse(fs.readFileSync(tokPath, 'utf8')), tokenizerConfig: {} });
for (const f of files) process.stdout.write(tk.encode(fs.readFileSync(f, 'utf8'), { add_special_tokens: false }).join(' ') + '\n');
EOF
for lang in $langs; do
    files=(data/samples/"$lang"/*)
    if ! node "$tmp/ref.js" "$MODS" "$T" "${files[@]}" > "$tmp/ref" 2> "$tmp/err"; then
        notok "$lang samples: coldtok ids == @lenml/tokenizers ids" "node failed: $(head -c 300 "$tmp/err")"
        continue
    fi
    bad=() i=0 ntok=0
    while IFS= read -r want; do
        f=${files[$i]}
        got=$("$COLDTOK" encode -t "$T" < "$f")
        [ "$got" == "$want" ] || bad+=("$f")
        ntok=$((ntok + $(wc -w <<< "$want")))
        i=$((i + 1))
    done < "$tmp/ref"
    if [ $i -ne ${#files[@]} ]; then
        notok "$lang samples: coldtok ids == @lenml/tokenizers ids" "the reference gave $i lines for ${#files[@]} files"
    elif [ ${#bad[@]} -eq 0 ] && [ $ntok -gt 0 ]; then
        ok "$lang samples: coldtok ids == @lenml/tokenizers ids ($i files, $ntok tokens)"
    else
        notok "$lang samples: coldtok ids == @lenml/tokenizers ids" "differ: ${bad[*]}"
    fi
done
done_testing
