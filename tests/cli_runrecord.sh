#!/usr/bin/env bash
# run.json and version in every -o folder (report/run_record.h, docs/output.md): after a probe,
# diff, drift and coverage run on the fixtures, run.json parses, every input's SHA-256 equals
# sha256sum's and its size stat's, the inputs expected are all there (each file of a Hugging Face
# folder, manifest, keyword lists, corpus files, tokenizers), the version equals
# `coldtok --version`, times are UTC ISO 8601 and no temporary file is left behind.
set -u
. "$(dirname "$0")/tap.sh"
: "${COLDTOK:?set COLDTOK to the binary under test}"
FIX=${COLDTOK_FIXTURES:-../shared/fixtures}
[ -d "$FIX" ] && FIX=$(cd "$FIX" && pwd)
S=$FIX/models/stories260K
tmp=$(mktemp -d /tmp/coldtok-runrecord.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The JSON reader: jq when present, else python3, else node (one of them is on every test machine).
if command -v jq > /dev/null; then
    inputs() { jq -r '.inputs[] | [.path, .kind, .bytes, .sha256] | @tsv' "$1"; }
    field() { jq -r ".$2" "$1"; }
elif command -v python3 > /dev/null; then
    inputs() { python3 -c 'import json,sys
for i in json.load(open(sys.argv[1]))["inputs"]: print("\t".join(str(i[k]) for k in ("path","kind","bytes","sha256")))' "$1"; }
    field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
else
    inputs() { node -e 'for (const i of JSON.parse(require("fs").readFileSync(process.argv[1])).inputs) console.log([i.path, i.kind, i.bytes, i.sha256].join("\t"))' "$1"; }
    field() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1]))[process.argv[2]])' "$1" "$2"; }
fi

version=$("$COLDTOK" --version); version=${version#coldtok }

# check_record NAME DIR COMMAND WANT-PATH...: the record of DIR is complete and true
check_record() {
    local name=$1 dir=$2 command=$3 bad="" path kind bytes sha want
    shift 3
    if ! inputs "$dir/run.json" > "$tmp/inputs.tsv" 2> "$tmp/err"; then
        notok "$name: run.json parses" "$(cat "$tmp/err")"; return
    fi
    ok "$name: run.json parses"
    while IFS=$'\t' read -r path kind bytes sha; do
        want=$(sha256sum "$path" | cut -c1-64)
        [ "$sha" = "$want" ] || bad+="$path: sha256 $sha, sha256sum $want; "
        [ "$bytes" = "$(stat -c %s "$path")" ] || bad+="$path: bytes $bytes, stat $(stat -c %s "$path"); "
    done < "$tmp/inputs.tsv"
    check "$name: every hash and size matches sha256sum and stat" '[ -z "$bad" ] && [ -s "$tmp/inputs.tsv" ]' "$bad"
    for want in "$@"; do
        check "$name: records $want" 'grep -Fq "$want" "$tmp/inputs.tsv"' "$(cut -f1,2 "$tmp/inputs.tsv")"
    done
    is "$name: version" "$version" "$(field "$dir/run.json" version)"
    is "$name: version file" "$version" "$(cat "$dir/version")"
    is "$name: command" "$command" "$(field "$dir/run.json" command)"
    check "$name: start and end in UTC ISO 8601" \
        '[[ $(field "$dir/run.json" start) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] && [[ ! $(field "$dir/run.json" end) < $(field "$dir/run.json" start) ]]' \
        "$(field "$dir/run.json" start) .. $(field "$dir/run.json" end)"
    check "$name: threads and CPU" '[ "$(field "$dir/run.json" threads)" -ge 1 ] && [ -n "$(field "$dir/run.json" cpu)" ]'
    check "$name: no temporary file left" '! ls "$dir" | grep -q tmp'
}

if [ ! -f "$S/stories260K-F32.gguf" ]; then
    skip "run records" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing; exit 0
fi

# ---- probe: a sharded Hugging Face folder (each of its files), a keyword file, bf16 ----
mkdir -p "$tmp/hf"
cp tests/data/hf-qwen2-f16/config.json tests/data/hf-qwen2-f16/*.safetensors* "$tmp/hf/"
touch "$tmp/hf/README.md" # not an input
# a 128-token byte-level tokenizer for the 128-token model: tiny-bytelevel's first 128 pieces
python3 - "$tmp/hf/tokenizer.json" << 'PY' 2> /dev/null || node -e '
const fs = require("fs"), d = JSON.parse(fs.readFileSync("tests/data/tiny-bytelevel-tokenizer.json"));
d.model.vocab = Object.fromEntries(Object.entries(d.model.vocab).filter(([k, i]) => i < 128));
d.model.merges = []; d.added_tokens = (d.added_tokens || []).filter(t => t.id < 128);
fs.writeFileSync(process.argv[1], JSON.stringify(d));' "$tmp/hf/tokenizer.json"
import json, sys
d = json.load(open("tests/data/tiny-bytelevel-tokenizer.json"))
d["model"]["vocab"] = {k: i for k, i in d["model"]["vocab"].items() if i < 128}
d["model"]["merges"] = []
d["added_tokens"] = [t for t in d.get("added_tokens", []) if t["id"] < 128]
json.dump(d, open(sys.argv[1], "w"))
PY
printf 'python\tdef\npython\treturn\n' > "$tmp/kw.tsv"
out=$("$COLDTOK" probe -m "$tmp/hf" --context 5 --keywords "$tmp/kw.tsv" --compute bf16 -o "$tmp/probe" 2>&1); rc=$?
check "probe runs" '[ $rc -eq 0 ]' "rc=$rc out=$out"
check_record probe "$tmp/probe" probe \
    "$tmp/hf/config.json	model" "$tmp/hf/model-00001-of-00002.safetensors	model" \
    "$tmp/hf/model-00002-of-00002.safetensors	model" "$tmp/hf/model.safetensors.index.json	model" \
    "$tmp/hf/tokenizer.json	tokenizer" "$tmp/kw.tsv	keywords"
check "probe: a README is not an input" '! grep -q README "$tmp/inputs.tsv"'
is "probe: compute" bf16 "$(field "$tmp/probe/run.json" compute)"
is "probe: one input per file" 6 "$(wc -l < "$tmp/inputs.tsv")"
# models.csv's bytes and sha256 of a folder: its files' sizes summed, SHA-256 of their digests in name order
want=$(cd "$tmp/hf" && sha256sum config.json model-00001-of-00002.safetensors model-00002-of-00002.safetensors \
       model.safetensors.index.json tokenizer.json | cut -c1-64 | sha256sum | cut -c1-64)
size=$(cd "$tmp/hf" && cat config.json *.safetensors model.safetensors.index.json tokenizer.json | wc -c)
is "probe: models.csv bytes,sha256 of the folder" "$size,$want" "$(sed -n 2p "$tmp/probe/models.csv" | awk -F, '{ print $(NF-2) "," $(NF-1) }')"
is "probe: models.csv header ends with bytes,sha256,context_id" "context,bytes,sha256,context_id" "$(head -1 "$tmp/probe/models.csv" | awk -F, '{ print $(NF-3) "," $(NF-2) "," $(NF-1) "," $NF }')"

# ---- diff from a manifest: the manifest, both models, the built-in keyword lists ----
printf 'name,path,kind,bits_per_weight,base\nf32,%s,fp16,,\nq8,%s,quant,,f32\n' \
    "$S/stories260K-F32.gguf" "$S/stories260K-Q8_0mix.gguf" > "$tmp/variants.csv"
out=$("$COLDTOK" diff --manifest "$tmp/variants.csv" --lang python -o "$tmp/diff" 2>&1); rc=$?
check "diff runs" '[ $rc -eq 0 ]' "rc=$rc out=$out"
check_record diff "$tmp/diff" diff "$tmp/variants.csv	manifest" "$S/stories260K-F32.gguf	model" \
    "$S/stories260K-Q8_0mix.gguf	model" "/keywords/python.tsv	keywords" "/control/english.tsv	keywords"
is "diff: compute" f32 "$(field "$tmp/diff/run.json" compute)"
for v in F32 Q8_0mix; do
    is "diff: models.csv bytes,sha256 of $v" "$(stat -c %s "$S/stories260K-$v.gguf"),$(sha256sum "$S/stories260K-$v.gguf" | cut -c1-64)" \
        "$(grep -F "stories260K-$v.gguf" "$tmp/diff/models.csv" | awk -F, '{ print $(NF-2) "," $(NF-1) }')"
done

# ---- drift: every corpus file read ----
mkdir -p "$tmp/corpus/python"
cp data/samples/english/pts.4.txt "$tmp/corpus/python/a.py"
cp data/samples/english/pts.4.txt "$tmp/corpus/b.py"
out=$("$COLDTOK" drift -m "$S/stories260K-F32.gguf" -m "$S/stories260K-Q8_0mix.gguf" --corpus "$tmp/corpus" \
      --ctx 64 --max-tokens 256 -o "$tmp/drift" 2>&1); rc=$?
check "drift runs" '[ $rc -eq 0 ]' "rc=$rc out=$out"
check_record drift "$tmp/drift" drift "$S/stories260K-F32.gguf	model" "$S/stories260K-Q8_0mix.gguf	model" \
    "$tmp/corpus/python/a.py	corpus" "$tmp/corpus/b.py	corpus" "/keywords/python.tsv	keywords"

# ---- coverage: tokenizers (a GGUF and a tokenizer.json), keyword file plus the built-in lists ----
out=$("$COLDTOK" coverage -t "$FIX/vocab/ggml-vocab-gpt-2.gguf" -t tiny=tests/data/tiny-spm-tokenizer.json \
      --keywords "$tmp/kw.tsv" --builtin -o "$tmp/cov" 2>&1); rc=$?
check "coverage runs" '[ $rc -eq 0 ]' "rc=$rc out=$out"
check_record coverage "$tmp/cov" coverage "$FIX/vocab/ggml-vocab-gpt-2.gguf	tokenizer" \
    "tests/data/tiny-spm-tokenizer.json	tokenizer" "$tmp/kw.tsv	keywords" "/keywords/rust.tsv	keywords"
check "coverage: no compute mode" '! grep -q "\"compute\"" "$tmp/cov/run.json"'

# ---- an existing run.json is replaced whole ----
echo junk > "$tmp/cov/run.json"
"$COLDTOK" coverage -t tests/data/tiny-spm-tokenizer.json -o "$tmp/cov" > /dev/null 2>&1
check_record "coverage again" "$tmp/cov" coverage "tests/data/tiny-spm-tokenizer.json	tokenizer"

# ---- without -o nothing is written ----
(cd "$tmp" && "$COLDTOK" coverage -t "$OLDPWD/tests/data/tiny-spm-tokenizer.json" > /dev/null 2>&1)
check "no -o: no run.json" '[ ! -e "$tmp/run.json" ]'
done_testing
