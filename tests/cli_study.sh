#!/usr/bin/env bash
# coldtok probe / diff end to end: the stories260K variants against the F32 model must reproduce
# the drift computed independently from the fixtures' float64 reference logits
# (tests/data/stories260K-drift.csv, made by tests/reference/stories_drift.py), in the expected
# order; manifests are checked before any model loads; CSV, Markdown and LaTeX outputs.
set -u
. "$(dirname "$0")/tap.sh"
: "${COLDTOK:?set COLDTOK to the binary under test}"
FIX=${COLDTOK_FIXTURES:-../shared/fixtures}/models/stories260K
[ -d "$FIX" ] && FIX=$(cd "$FIX" && pwd)
tmp=$(mktemp -d /tmp/coldtok-study.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- manifest errors: one line, exit 1, before any model loads ----
manifest_error() { # NAME CSV EXPECTED-SUBSTRING
    printf '%b' "$2" > "$tmp/m.csv"
    local want=$3
    out=$("$COLDTOK" diff --manifest "$tmp/m.csv" 2>&1); rc=$?
    check "manifest: $1" '[ $rc -eq 1 ] && [ $(printf "%s\n" "$out" | wc -l) -eq 1 ] && [[ $out == *"$want"* ]]' "rc=$rc out=$out"
}
touch "$tmp/a.gguf" "$tmp/b.gguf" # never opened: the manifest fails first
manifest_error "missing model file" 'name,path,kind,bits_per_weight,base\nbase,a.gguf,fp16,,\nq,nope.gguf,quant,,base\n' "model 'q' not found"
manifest_error "unknown kind" 'name,path,kind,bits_per_weight,base\nbase,a.gguf,fp16,,\nq,b.gguf,pruned,,base\n' "unknown kind 'pruned'"
manifest_error "base not listed" 'name,path,kind,bits_per_weight,base\nbase,a.gguf,fp16,,\nq,b.gguf,quant,,other\n' "base 'other' of 'q' is not listed"
manifest_error "cycle" 'name,path,kind,bits_per_weight,base\na,a.gguf,quant,,b\nb,b.gguf,quant,,a\n' "form a cycle"
manifest_error "bad bits" 'name,path,kind,bits_per_weight,base\nbase,a.gguf,fp16,many,\n' "bits_per_weight 'many'"
manifest_error "no header" 'base,a.gguf,fp16,,\n' "header must name"
manifest_error "duplicate name" 'name,path,kind\nx,a.gguf,fp16\nx,b.gguf,quant\n' "listed twice"
out=$("$COLDTOK" diff -m "$tmp/a.gguf" 2>&1); rc=$?
check "diff with one model is a usage error" '[ $rc -eq 2 ] && [[ $out == *"needs a base"* ]]' "rc=$rc out=$out"
out=$("$COLDTOK" probe -m "$tmp/a.gguf" --context none 2>&1); rc=$?
check "context none is refused" '[ $rc -eq 1 ]' "rc=$rc out=$out"

if [ ! -f "$FIX/stories260K-F32.gguf" ]; then
    skip "stories260K runs" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi

# ---- diff through a manifest (blank bits: read from the files) ----
cat > "$tmp/variants.csv" <<CSV
name,path,kind,bits_per_weight,base
stories260K-F32,$FIX/stories260K-F32.gguf,fp16,,
stories260K-F16,$FIX/stories260K-F16.gguf,quant,,stories260K-F32
stories260K-Q8_0mix,$FIX/stories260K-Q8_0mix.gguf,quant,,stories260K-F32
stories260K-Q5_0mix,$FIX/stories260K-Q5_0mix.gguf,quant,,stories260K-F32
stories260K-Q4_0mix,$FIX/stories260K-Q4_0mix.gguf,quant,,stories260K-F32
CSV
out=$("$COLDTOK" diff --manifest "$tmp/variants.csv" --lang python,c -o "$tmp/out" 2>&1); rc=$?
check "diff --manifest runs" '[ $rc -eq 0 ]' "rc=$rc" "$out"
for f in models metrics keywords indent top_tokens; do
    check "diff writes $f.csv" '[ -s "$tmp/out/$f.csv" ]' "missing $tmp/out/$f.csv"
done
check "metrics.csv header" '[ "$(head -1 "$tmp/out/metrics.csv")" = "model,base,context,scope,metric,value,context_id" ]' "$(head -1 "$tmp/out/metrics.csv")"
# Each variant's KL(P||Q), KL(Q||P), JS, TV within 1% (+1e-9) of the float64 reference.
metric() { awk -F, -v m="$1" -v k="$2" '$1 == m && $4 == "all" && $5 == k { print $6 }' "$tmp/out/metrics.csv"; }
while IFS=, read -r variant kl_pq kl_qp js tv top1; do
    [ "$variant" = variant ] && continue
    for pair in "kl_pq:$kl_pq" "kl_qp:$kl_qp" "js:$js" "tv:$tv" "top1_agree:$top1"; do
        key=${pair%%:*} want=${pair#*:} got=$(metric "$variant" "$key")
        check "$variant $key = $want" \
            'awk -v g="$got" -v w="$want" "BEGIN { d = g - w; if (d < 0) d = -d; exit !(g != \"\" && d <= 0.01 * (w < 0 ? -w : w) + 1e-9) }"' \
            "got '$got' want $want"
    done
done < tests/data/stories260K-drift.csv
kls=$(for v in F16 Q8_0mix Q5_0mix Q4_0mix; do metric "stories260K-$v" kl_pq; done | tr '\n' ' ')
check "KL grows as bits shrink (F16 < Q8_0 < Q5_0 < Q4_0)" \
    'echo "$kls" | awk "{ exit !(\$1 < \$2 && \$2 < \$3 && \$3 < \$4) }"' "KLs: $kls"
# bits per weight as stored, equal to coldtok info's (stories260K's output matrix is not its
# embedding: the figure once counted token_embd's elements but not its bytes, 28.41 for F32)
for v in F32 F16 Q8_0mix Q5_0mix Q4_0mix; do
    want=$("$COLDTOK" info "$FIX/stories260K-$v.gguf" | sed -n 's/.*, \([0-9.]*\) bits per weight$/\1/p')
    got=$(awk -F, -v m="stories260K-$v" '$1 == m { printf "%.4f", $4 }' "$tmp/out/models.csv")
    is "models.csv bits per weight of $v = coldtok info's" "$want" "$got"
done

# ---- a variant on another vocabulary: compared on keyword strings through p_seq ----
QWEN=$(dirname "$FIX")/synth-qwen2/synth-qwen2-F32.gguf
if [ -f "$QWEN" ]; then
    out=$("$COLDTOK" diff -m "$FIX/stories260K-F32.gguf" -m "$QWEN" --lang python,c -o "$tmp/xv" 2>&1); rc=$?
    check "cross-vocabulary diff runs and says it compares p_seq" \
        '[ $rc -eq 0 ] && printf "%s\n" "$out" | grep -q "synth-qwen2-F32 .* p_seq "' "rc=$rc" "$out"
    xv() { awk -F, -v k="$1" '$1 == "synth-qwen2-F32" && $5 == k { print $6 }' "$tmp/xv/metrics.csv"; }
    check "cross-vocabulary: no full-distribution KL" '[ -z "$(xv kl_pq)" ] && [ -z "$(xv top1_agree)" ]' "kl_pq='$(xv kl_pq)'"
    rho=$(xv spearman_kw) klseq=$(xv kl_keywords_seq)
    check "cross-vocabulary: keyword-string Spearman and KL present" \
        'awk -v r="$rho" -v k="$klseq" "BEGIN { exit !(r != \"\" && r >= -1 && r <= 1 && k > 0) }"' "rho=$rho kl_seq=$klseq"
else
    skip "cross-vocabulary diff" "synth-qwen2 fixture absent"
fi

# ---- probe: tables, formats, several contexts ----
out=$("$COLDTOK" probe -m "$FIX/stories260K-F32.gguf" --lang python --context bos --context 403 --top 5 -o "$tmp/probe" 2>&1); rc=$?
check "probe with two contexts" '[ $rc -eq 0 ] && [[ $out == *"context <s> (1)"* ]] && [[ $out == *"(403)"* ]]' "rc=$rc" "$out"
top=$(awk -F, '$2 == "<s>" && $3 == 1 { print $4 }' "$tmp/probe/top_tokens.csv")
check "BOS → ▁Once (id 403) is the top token, as the fixture README says" '[ "$top" = 403 ]' "top=$top"
p=$(awk -F, '$2 == "<s>" && $3 == 1 { print $7 }' "$tmp/probe/top_tokens.csv")
check "p(▁Once | BOS) = 0.784" 'awk -v p="$p" "BEGIN { exit !(p > 0.7835 && p < 0.7845) }"' "p=$p"
out=$("$COLDTOK" probe -m "$FIX/stories260K-F32.gguf" --lang python --format md 2>&1)
check "probe --format md" '[[ $out == *"| lang"* ]] && [[ $out == *"|:"* || $out == *":|"* ]]' "$out"
out=$("$COLDTOK" probe -m "$FIX/stories260K-F32.gguf" --lang python --format tex 2>&1)
check "probe --format tex" '[[ $out == *"\\toprule"* ]]' "$out"
done_testing
