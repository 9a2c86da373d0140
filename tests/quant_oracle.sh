# quant_oracle.sh: shell helpers the quantize-against-llama.cpp scripts (tests/cli_quantize_iq*.sh)
# source after tests/tap.sh. They read $BIN (coldtok), $ORACLE (llama_oracle), $tmp (a scratch
# folder they write a.bin, b.bin, ours/theirs/src .f32 files and err into) and $M (the F32 source
# model). Not a test itself (tests/run.sh runs tests/cli_*.sh only).

# compare A.gguf B.gguf > LIST: one line per tensor "NAME TYPE_A TYPE_B same|differ"
compare() {
    "$BIN" info "$1" | awk '/^  [a-z_.0-9]+ +[A-Z0-9_]+ +\[/ {print $1}' | while read -r t; do
        ta=$("$ORACLE" tensor "$1" "$t" "$tmp/a.bin") && tb=$("$ORACLE" tensor "$2" "$t" "$tmp/b.bin") || {
            echo "$t ? ? unreadable"
            continue
        }
        if cmp -s "$tmp/a.bin" "$tmp/b.bin"; then echo "$t $ta $tb same"; else echo "$t $ta $tb differ"; fi
    done
}

# no_worse OURS.gguf LLAMA.gguf LIST [IMATRIX_DIR]: for every tensor LIST says differs, the
# (importance-weighted) squared error of ours against the source is at most llama.cpp's; both
# dequantized by ggml (the oracle's F32 of a quantized file). Prints a line per tensor.
no_worse() {
    "$ORACLE" quantize "$1" "$tmp/ours.f32.gguf" F32 2> "$tmp/err" &&
        "$ORACLE" quantize "$2" "$tmp/theirs.f32.gguf" F32 2>> "$tmp/err" || { cat "$tmp/err"; return 1; }
    local bad=0 t
    for t in $(awk '$4 == "differ" {print $1}' "$3"); do
        "$ORACLE" tensor "$M" "$t" "$tmp/src.f32" > /dev/null &&
            "$ORACLE" tensor "$tmp/ours.f32.gguf" "$t" "$tmp/ours.f32" > /dev/null &&
            "$ORACLE" tensor "$tmp/theirs.f32.gguf" "$t" "$tmp/theirs.f32" > /dev/null || return 1
        python3 - "$tmp/src.f32" "$tmp/ours.f32" "$tmp/theirs.f32" "${4:+$4/$t.f32}" "$t" <<'EOF' || bad=1
import array, os, sys
src, ours, theirs, imp, name = sys.argv[1:6]
def floats(p):
    a = array.array('f')
    with open(p, 'rb') as f:
        a.frombytes(f.read())
    return a
x, a, b = floats(src), floats(ours), floats(theirs)
w = floats(imp) if imp and os.path.exists(imp) else array.array('f', [1.0])
k = len(w)
ea = sum(w[i % k] * (x[i] - a[i]) ** 2 for i in range(len(x)))
eb = sum(w[i % k] * (x[i] - b[i]) ** 2 for i in range(len(x)))
print(f"# {name}: error coldtok {ea:.6g}, llama.cpp {eb:.6g} ({100 * (ea / eb - 1):+.2f}%)")
sys.exit(0 if ea <= eb else 1)
EOF
    done
    return $bad
}
