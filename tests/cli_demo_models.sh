#!/usr/bin/env bash
# The committed demo models (data/demo/teacher, student) load in both formats: as the Hugging Face
# folders they are committed as, and as GGUF files written by `coldtok quantize --type F16`. Both
# give the logits of an independent float64 PyTorch forward pass (tests/data/demo-NAME.torch.logits.f32,
# made by tests/reference/torch_ref.py from the same safetensors), the GGUF carries the tokenizer
# (same ids as tokenizer.json on every committed sample), and a Q8_0 copy stays close.
set -u
. "$(dirname "$0")/tap.sh"
: "${COLDTOK:?set COLDTOK to the binary under test}"
tmp=$(mktemp -d /tmp/coldtok-demo-models.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# max |a - b| / max |b| over two float32 files of the same length ("inf" when lengths differ)
rel_diff() {
    python3 - "$1" "$2" <<'EOF'
import struct, sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
if len(a) != len(b) or not a:
    print("inf"); sys.exit()
x, y = (struct.unpack(f"<{len(d) // 4}f", d) for d in (a, b))
print(f"{max(abs(u - v) for u, v in zip(x, y)) / max(abs(v) for v in y):.3e}")
EOF
}
ids=$(python3 -c 'import json; print(" ".join(str(i) for i in json.load(open("tests/data/demo-prompt.json"))["ids"]))')
ctx=()
for i in $ids; do ctx+=(--context "$i"); done

for name in teacher student; do
    dir=data/demo/$name ref=tests/data/demo-$name.torch.logits.f32
    if [ ! -f "$dir/model.safetensors" ] || [ ! -f "$ref" ]; then
        skip "$name" "$dir or its reference logits absent"
        continue
    fi
    out=$("$COLDTOK" logits -m "$dir" "${ctx[@]}" --top 0 --raw-all "$tmp/$name-hf.f32" 2>&1); rc=$?
    check "$name: HF folder runs" '[ $rc -eq 0 ]' "$out"
    d=$(rel_diff "$tmp/$name-hf.f32" "$ref")
    check "$name: HF folder logits = PyTorch float64 ($d of max |logit|)" "awk -v d=$d 'BEGIN { exit !(d < 1e-4) }'" "diff $d"
    out=$("$COLDTOK" quantize -m "$dir" --type F16 -o "$tmp/$name-F16.gguf" 2>&1); rc=$?
    check "$name: converted to GGUF F16" '[ $rc -eq 0 ]' "$out"
    out=$("$COLDTOK" logits -m "$tmp/$name-F16.gguf" "${ctx[@]}" --top 0 --raw-all "$tmp/$name-gguf.f32" 2>&1); rc=$?
    d=$(rel_diff "$tmp/$name-gguf.f32" "$ref")
    check "$name: GGUF logits = PyTorch float64 ($d)" "[ $rc -eq 0 ] && awk -v d=$d 'BEGIN { exit !(d < 1e-4) }'" "rc=$rc diff $d $out"
    same=1
    for f in data/samples/*/*; do
        [ "$(basename "$f")" = SOURCES.tsv ] && continue
        a=$("$COLDTOK" encode -t "$dir" < "$f" 2>&1) b=$("$COLDTOK" encode -t "$tmp/$name-F16.gguf" < "$f" 2>&1)
        [ "$a" = "$b" ] || { same=0; echo "# differs on $f"; break; }
    done
    check "$name: the GGUF's tokenizer encodes every sample as tokenizer.json does" '[ $same -eq 1 ]' "see above"
    out=$("$COLDTOK" quantize -m "$dir" --type Q8_0 -o "$tmp/$name-Q8_0.gguf" 2>&1) &&
        out=$("$COLDTOK" logits -m "$tmp/$name-Q8_0.gguf" "${ctx[@]}" --top 0 --raw-all "$tmp/$name-q8.f32" 2>&1); rc=$?
    d=$(rel_diff "$tmp/$name-q8.f32" "$ref")
    check "$name: Q8_0 GGUF close to F16 ($d)" "[ $rc -eq 0 ] && awk -v d=$d 'BEGIN { exit !(d < 0.05) }'" "rc=$rc diff $d $out"
done
done_testing
