#!/usr/bin/env bash
# coldtok info: output facts on the fixture GGUFs (values from the fixture READMEs and the GGUF
# format's block sizes), and one-line errors with the right exit codes on bad input. Prints TAP.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
FX=${COLDTOK_FIXTURES:-../shared/fixtures}
tmp=$(mktemp -d /tmp/coldtok-cli-info.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# info_of FILE: runs coldtok info on a fixture into $tmp/out, exit code into $rc; 1 if absent
info_of() {
    [ -f "$FX/$1" ] || return 1
    "$BIN" info "$FX/$1" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    return 0
}

f=models/stories260K/stories260K-F32.gguf
if info_of $f; then
    [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && ok "stories260K-F32: exit 0, nothing on stderr" || notok "stories260K-F32: exit 0" "rc=$rc $(head -1 "$tmp/err")"
    has "stories260K-F32: header" "$tmp/out" '^format +GGUF v3, 1185376 bytes' 'alignment 32' '^architecture +llama'
    has "stories260K-F32: hyper-parameters" "$tmp/out" '^  context length +128$' '^  embedding +64$' \
        '^  layers +5$' '^  heads +8$' '^  kv heads +4$' '^  head dim +8 ' '^  ffn +172$' \
        '^  rope +normal \(adjacent pairs\), theta 10000 \(no key: default\), dims 8$' \
        '^  rms eps +1e-05$' '^  vocab size +512 '
    has "stories260K-F32: tokenizer summary" "$tmp/out" '^  model "llama", 512 tokens, bos 1 "<s>", eos 2 "</s>"$'
    has "stories260K-F32: all 19 metadata keys" "$tmp/out" '^metadata \(19 keys\)$' \
        '^  tokenizer.ggml.tokens = \[512 x string: "<unk>", "<s>", "</s>", ' \
        '^  tokenizer.ggml.padding_token_id = 4294967295$' '^  llama.attention.layer_norm_rms_epsilon = 1e-05$'
    has "stories260K-F32: tensor table" "$tmp/out" '^tensors \(48;' \
        '^  token_embd.weight +F32 +\[64, 512\] +131072$' '^  blk.4.ffn_down.weight +F32 +\[172, 64\] +44032$' \
        '^  output_norm.weight +F32 +\[64\] +256$'
    # 292,800 floats in 48 tensors (README fact sheet)
    has "stories260K-F32: totals" "$tmp/out" '^  F32 +48 tensors +292800 weights +1171200 bytes +32.0000 bits/weight$' \
        '^total: 48 tensors, 292800 weights, 1171200 bytes \(1.12 MiB\), 32.0000 bits per weight$'
    keys=$(sed -n '/^metadata/,/^$/p' "$tmp/out" | grep -c '^  ')
    [ "$keys" -eq 19 ] && ok "stories260K-F32: 19 key lines" || notok "stories260K-F32: 19 key lines" "got $keys"
    rows=$(sed -n '/^tensors/,/^$/p' "$tmp/out" | grep -c '^  [a-z]')
    [ "$rows" -eq 49 ] && ok "stories260K-F32: 48 tensor rows + header" || notok "stories260K-F32: tensor rows" "got $rows"
else
    skip "stories260K-F32" "fixture $f absent"
fi

f=models/stories260K/stories260K-Q5_0mix.gguf
if info_of $f; then
    # README: F16x5, F32x11, Q5_0x29, Q8_0x3; Q5_0 is 22 bytes per 32 weights, Q8_0 34 per 32
    has "stories260K-Q5_0mix: totals by type" "$tmp/out" \
        '^  F32 +11 tensors +704 weights +2816 bytes +32.0000 bits/weight$' \
        '^  F16 +5 tensors +55040 weights +110080 bytes +16.0000 bits/weight$' \
        '^  Q5_0 +29 tensors +[0-9]+ weights +[0-9]+ bytes +5.5000 bits/weight$' \
        '^  Q8_0 +3 tensors +[0-9]+ weights +[0-9]+ bytes +8.5000 bits/weight$' \
        '^total: 48 tensors, 292800 weights, '
    has "stories260K-Q5_0mix: per-tensor types" "$tmp/out" '^  output.weight +Q8_0 +\[64, 512\] +34816$' \
        '^  blk.2.attn_v.weight +Q8_0 +\[64, 32\] +2176$' '^  blk.3.attn_v.weight +Q5_0 +\[64, 32\] +1408$' \
        '^  general.file_type = 15$'
else
    skip "stories260K-Q5_0mix" "fixture $f absent"
fi

f=models/synth-qwen2/synth-qwen2-Q4_K.gguf
if info_of $f; then
    has "synth-qwen2-Q4_K: hyper-parameters" "$tmp/out" '^architecture +qwen2 +name "synth-qwen2"$' \
        '^  embedding +256$' '^  layers +1$' '^  heads +4$' '^  kv heads +2$' '^  head dim +64 ' '^  ffn +256$' \
        '^  rope +neox \(halves\), theta 1000000, dims 64$' '^  rms eps +1e-06$' '^  context length +2048$'
    has "synth-qwen2-Q4_K: tokenizer and tensors" "$tmp/out" \
        '^  model "gpt2", pre "qwen2", 512 tokens, 253 merges, bos 509 "<\|endoftext\|>", eos 509 "<\|endoftext\|>"$' \
        '^  Q4_K +8 tensors +[0-9]+ weights +[0-9]+ bytes +4.5000 bits/weight$' \
        '^  F32 +6 tensors ' '^  blk.0.attn_q.bias +F32 +\[256\] +1024$' '^tensors \(14;'
    grep -q '^  output.weight ' "$tmp/out" && notok "synth-qwen2: tied, no output.weight" || ok "synth-qwen2: tied, no output.weight"
else
    skip "synth-qwen2-Q4_K" "fixture $f absent"
fi

f=models/synth-llama/synth-llama-Q6_K.gguf
if info_of $f; then
    # ffn_down ne [512, 256]: 512/256 blocks x 210 bytes x 256 rows = 107520
    has "synth-llama-Q6_K: shapes and bytes" "$tmp/out" '^  blk.0.ffn_down.weight +Q6_K +\[512, 256\] +107520$' \
        '^  Q6_K +16 tensors +[0-9]+ weights +[0-9]+ bytes +6.5625 bits/weight$' '^  F32 +5 tensors ' \
        '^  rope +normal \(adjacent pairs\), theta 10000, dims 64$' '^  ffn +512$' '^  general.file_type = 18$'
else
    skip "synth-llama-Q6_K" "fixture $f absent"
fi

f=vocab/ggml-vocab-gpt-2.gguf
if info_of $f; then
    has "vocab gpt-2: vocabulary-only file" "$tmp/out" '^tensors \(0;' '^  \(no tensors: a vocabulary-only file\)$' \
        '^  vocab size +50257 ' '^  model "gpt2", pre "gpt-2", 50257 tokens, 50000 merges, bos 50256 "<\|endoftext\|>"' \
        '^  rope +unknown for this architecture'
    [ $rc -eq 0 ] && ok "vocab gpt-2: exit 0" || notok "vocab gpt-2: exit 0" "rc=$rc"
else
    skip "vocab gpt-2" "fixture $f absent"
fi

# ---- errors: one line on stderr, nothing on stdout, exit 1 (2 for usage) ----
expect_fail() { # expect_fail NAME WANT_RC WANT_STDERR_REGEX ARGS...
    local name=$1 want_rc=$2 re=$3
    shift 3
    "$BIN" info "$@" > "$tmp/out" 2> "$tmp/err"
    local rc=$? lines
    lines=$(wc -l < "$tmp/err")
    if [ $rc -ne "$want_rc" ]; then notok "$name" "exit $rc, want $want_rc"
    elif [ "$want_rc" -eq 1 ] && [ "$lines" -ne 1 ]; then notok "$name" "$lines lines on stderr"
    elif [ -s "$tmp/out" ]; then notok "$name" "output on stdout"
    elif ! head -1 "$tmp/err" | grep -Eq -- "$re"; then notok "$name" "stderr: $(head -1 "$tmp/err")"
    else ok "$name"; fi
}

expect_fail "missing file" 1 "^coldtok info: $tmp/none.gguf: No such file or directory$" "$tmp/none.gguf"
expect_fail "a directory" 1 "^coldtok info: $tmp: not a regular file$" "$tmp"
printf 'hello world, not a model\n' > "$tmp/text.gguf"
expect_fail "bad magic" 1 "^coldtok info: $tmp/text.gguf: not a GGUF file \(bad magic\) \(at byte 0\)$" "$tmp/text.gguf"
: > "$tmp/empty.gguf"
expect_fail "empty file" 1 "^coldtok info: $tmp/empty.gguf: not a GGUF file \(only 0 bytes\) \(at byte 0\)$" "$tmp/empty.gguf"
printf 'GGUF\001\000\000\000' > "$tmp/v1.gguf"
expect_fail "version 1" 1 "^coldtok info: $tmp/v1.gguf: GGUF version 1 is not supported \(only versions 2 and 3\) \(at byte 4\)$" "$tmp/v1.gguf"
f=$FX/models/stories260K/stories260K-Q8_0mix.gguf
if [ -f "$f" ]; then
    head -c 5000 "$f" > "$tmp/cut.gguf"
    expect_fail "truncated in the metadata" 1 "^coldtok info: $tmp/cut.gguf: file ends inside the value of key 'tokenizer.ggml.tokens' \(8 bytes needed, 4 left\) \(at byte 4996\)$" "$tmp/cut.gguf"
    head -c 300000 "$f" > "$tmp/cut2.gguf"
    expect_fail "truncated in the data" 1 "^coldtok info: $tmp/cut2.gguf: tensor '[^']+': data \[[0-9]+, \+[0-9]+\) runs past the end of the file" "$tmp/cut2.gguf"
    # n_dims of the first tensor info (right after the name "output.weight") set to 9
    python3 - "$f" "$tmp/dims.gguf" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
name = b'output.weight'
i = d.find(struct.pack('<Q', len(name)) + name) + 8 + len(name)
d[i:i + 4] = struct.pack('<I', 9)
open(sys.argv[2], 'wb').write(d)
EOF
    expect_fail "n_dims 9" 1 "^coldtok info: $tmp/dims.gguf: tensor 'output.weight': n_dims 9 out of range 1..4 \(at byte [0-9]+\)$" "$tmp/dims.gguf"
else
    skip "truncated fixtures" "fixture $f absent"
fi
expect_fail "no argument" 2 "^coldtok info: missing MODEL$"
expect_fail "two arguments" 2 "^coldtok info: give exactly one MODEL$" a b
expect_fail "unknown option" 2 "^coldtok info: unknown option '--frobnicate'$" --frobnicate x
"$BIN" info --help > "$tmp/out" 2>&1 && grep -q '^usage: coldtok info MODEL.gguf' "$tmp/out" && ok "--help" || notok "--help"

done_testing
