#!/usr/bin/env bash
# coldtok drift end to end: usage and input errors (one line, the right exit code), then the
# stories260K variants on the committed English samples: tables, tidy CSV whose overall rows
# agree with the per-position file, skip counts, Markdown, and the two figures.
set -u
. "$(dirname "$0")/tap.sh"
: "${COLDTOK:?set COLDTOK to the binary under test}"
FIX=${COLDTOK_FIXTURES:-../shared/fixtures}/models/stories260K
tmp=$(mktemp -d /tmp/coldtok-drift.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- usage errors: exit 2 ----
usage() { # NAME EXPECTED ARGS...
    local name=$1 want=$2; shift 2
    out=$("$COLDTOK" drift "$@" 2>&1); rc=$?
    check "usage: $name" '[ $rc -eq 2 ] && [[ $out == *"$want"* ]]' "rc=$rc out=$out"
}
touch "$tmp/a.gguf" "$tmp/b.gguf"
usage "one model" "needs a base and at least one variant" -m "$tmp/a.gguf" --corpus "$tmp"
usage "no corpus" "no corpus" -m "$tmp/a.gguf" -m "$tmp/b.gguf"
usage "bad ctx" "--ctx takes" -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp" --ctx 2
usage "max-tokens under a window" "less than one window" -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp" --max-tokens 10
usage "bad compute" "--compute takes" -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp" --compute f8
usage "bad bootstrap" "--bootstrap takes" -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp" --bootstrap -3
usage "bad seed" "--seed takes" -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp" --seed x

# ---- input errors: exit 1, one line naming the file ----
fails() { # NAME EXPECTED ARGS...
    local name=$1 want=$2; shift 2
    out=$("$COLDTOK" drift "$@" 2>&1); rc=$?
    check "error: $name" '[ $rc -eq 1 ] && [ $(printf "%s\n" "$out" | wc -l) -eq 1 ] && [[ $out == *"$want"* ]]' "rc=$rc out=$out"
}
fails "missing corpus" "$tmp/nope: No such file or directory" -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp/nope"
mkdir -p "$tmp/unknown" && echo x > "$tmp/unknown/data.bin"
fails "no known language" "no file of a known language (1 files skipped)" -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp/unknown"
mkdir -p "$tmp/code" && echo 'def f(): return 1' > "$tmp/code/x.py"
fails "empty model file" "$tmp/a.gguf" -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp/code"
fails "unknown --lang" "--lang cobol" -m "$tmp/a.gguf" -m "$tmp/b.gguf" --corpus "$tmp/code" --lang cobol

if [ ! -f "$FIX/stories260K-F32.gguf" ]; then
    skip "stories260K runs" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi
M=(-m "$FIX/stories260K-F32.gguf" -m "$FIX/stories260K-F16.gguf" -m "$FIX/stories260K-Q4_0mix.gguf")
fails "every file shorter than a window" "no file is long enough for one window of 4096 tokens" "${M[@]}" --corpus "$tmp/code" --lang english --ctx 4096

# ---- a real run: the stories260K variants on English text ----
cp -r data/samples/english "$tmp/english"
: > "$tmp/english/empty.txt"
printf 'caf\xe9\n' > "$tmp/english/latin1.txt"
out=$("$COLDTOK" drift "${M[@]}" --corpus "$tmp/english" --ctx 64 -o "$tmp/out" \
      --positions "$tmp/positions.csv" --compare 2>&1); rc=$?
check "drift runs" '[ $rc -eq 0 ]' "rc=$rc out=$out"
check "tables name every section" '[[ $out == *"Drift from stories260K-F32 over"* && $out == *"Where the drift happens"* && $out == *"Per language"* ]]' "$out"
check "skips counted" 'printf "%s\n" "$out" | grep -Eq "^5 +[0-9]+ +1 +1 "' "$(printf '%s\n' "$out" | tail -4)"
for f in drift.csv drift_kl_hist.csv drift_models.csv drift_corpus.csv; do
    check "$f written" '[ -s "$tmp/out/$f" ]' "missing $f"
done
check "drift.csv header" '[ "$(head -1 "$tmp/out/drift.csv")" = "variant,lang,positions,statistic,value" ]' "$(head -1 "$tmp/out/drift.csv")"
# the overall mean KL in drift.csv is the mean of the per-position rows of the same variant
for v in stories260K-F16 stories260K-Q4_0mix; do
    want=$(awk -F, -v v="$v" '$1 == v && $2 == "all" && $3 == "all" && $4 == "kl_mean" { print $5 }' "$tmp/out/drift.csv")
    got=$(awk -F, -v v="$v" 'NR > 1 && $1 == v { s += $(NF-5); k++ } END { printf "%.9g", s / k }' "$tmp/positions.csv")
    check "$v: kl_mean = mean of the positions file" "awk -v a=$want -v b=$got 'BEGIN { exit !(a > 0 && (a - b) / a < 1e-6 && (b - a) / a < 1e-6) }'" "drift.csv $want, positions $got"
done
kl16=$(awk -F, '$1 == "stories260K-F16" && $2 == "all" && $3 == "all" && $4 == "kl_mean" { print $5 }' "$tmp/out/drift.csv")
kl4=$(awk -F, '$1 == "stories260K-Q4_0mix" && $2 == "all" && $3 == "all" && $4 == "kl_mean" { print $5 }' "$tmp/out/drift.csv")
check "F16 drifts far less than Q4_0" "awk -v a=$kl16 -v b=$kl4 'BEGIN { exit !(a < 1e-5 && b > 1000 * a) }'" "F16 $kl16 Q4_0 $kl4"
hist=$(awk -F, '$1 == "stories260K-Q4_0mix" { s += $4 } END { print s }' "$tmp/out/drift_kl_hist.csv")
pos=$(awk -F, '$1 == "stories260K-Q4_0mix" && $2 == "all" && $3 == "all" && $4 == "n" { print $5 }' "$tmp/out/drift.csv")
check "histogram counts every position" '[ "$hist" = "$pos" ] && [ "$pos" -gt 0 ]' "hist $hist n $pos"
# ---- intervals over files and the paired comparisons (docs/drift.md "Uncertainty") ----
stat() { awk -F, -v v="$1" -v s="$2" '$1 == v && $2 == "all" && $3 == "all" && $4 == s { print $5 }' "$3"; }
for v in stories260K-F16 stories260K-Q4_0mix; do
    lo=$(stat $v kl_mean_lo "$tmp/out/drift.csv"); m=$(stat $v kl_mean "$tmp/out/drift.csv")
    hi=$(stat $v kl_mean_hi "$tmp/out/drift.csv"); files=$(stat $v files "$tmp/out/drift.csv")
    check "$v: the 95% CI over files holds the mean ($lo <= $m <= $hi) and counts the 3 scored files" \
        "awk -v l=$lo -v m=$m -v h=$hi 'BEGIN { exit !(l <= m && m <= h && l < h) }' && [ \"$files\" = 3 ]" "files $files"
done
check "the overall table prints the interval" '[[ $out == *"95% CI"*"["*"]"* ]]' "$out"
check "drift_compare.csv: a row per pair of the three models" \
    '[ "$(head -1 "$tmp/out/drift_compare.csv" | cut -d, -f1-5)" = "model_a,model_b,positions,files,dkl" ] && [ "$(wc -l < "$tmp/out/drift_compare.csv")" = 4 ]' \
    "$(cat "$tmp/out/drift_compare.csv" 2>&1)"
pair() { awk -F, -v a="$1" -v b="$2" -v c="$3" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
                                          $1 == a && $2 == b { print $col[c] }' "$tmp/out/drift_compare.csv"; }
B=stories260K-F32 Q4=stories260K-Q4_0mix
dkl=$(pair $B $Q4 dkl); kl4=$(stat $Q4 kl_mean "$tmp/out/drift.csv")
check "ΔKL from the base to Q4_0 is Q4_0's mean KL ($dkl, $kl4)" "awk -v a=$dkl -v b=$kl4 'BEGIN { exit !((a - b) / b < 1e-6 && (b - a) / b < 1e-6) }'"
# McNemar's discordant counts, recounted from the positions file (top1_base, top1_variant)
want=$(awk -F, -v v=$Q4 'NR > 1 && $1 == v { a += $(NF-1) && !$NF; b += $NF && !$(NF-1) } END { print a + 0, b + 0 }' "$tmp/positions.csv")
got="$(pair $B $Q4 only_a) $(pair $B $Q4 only_b)"
is "McNemar's discordant positions base vs Q4_0 = the positions file's" "$want" "$got"
dll=$(pair $B $Q4 dll); lo=$(pair $B $Q4 dll_lo); hi=$(pair $B $Q4 dll_hi)
lnr=$(stat $Q4 ln_ppl_ratio "$tmp/out/drift.csv")
check "Δll base→Q4_0 = −ln PPL ratio, inside its interval ($lo <= $dll <= $hi)" \
    "awk -v d=$dll -v r=$lnr -v l=$lo -v h=$hi 'BEGIN { exit !(d + r < 1e-6 && d + r > -1e-6 && l <= d && d <= h) }'"
check "BH-adjusted p >= raw p, both in [0, 1]" \
    "awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[\$i] = i; next } { p = \$col[\"p_mcnemar\"]; q = \$col[\"p_bh\"]; if (!(p >= 0 && q >= p && q <= 1)) exit 1 }' \"$tmp/out/drift_compare.csv\""
out0=$("$COLDTOK" drift "${M[@]}" --corpus "$tmp/english" --ctx 64 -o "$tmp/out0" --bootstrap 0 2>&1); rc=$?
check "--bootstrap 0: no intervals, the same means" \
    '[ $rc -eq 0 ] && [ -z "$(stat $Q4 kl_mean_lo "$tmp/out0/drift.csv")" ] && [ "$(stat $Q4 kl_mean "$tmp/out0/drift.csv")" = "$kl4" ]' "$out0"
# ---- --manifest: names, base and variants from a CSV, as coldtok diff reads it ----
AFIX=$(cd "$FIX" && pwd) # a manifest's paths are relative to its own folder
printf 'name,path,kind,bits_per_weight,base\nq4,%s,quant,,fp32\nfp32,%s,base,,\nhalf,%s,fp16,,fp32\n' \
    "$AFIX/stories260K-Q4_0mix.gguf" "$AFIX/stories260K-F32.gguf" "$AFIX/stories260K-F16.gguf" > "$tmp/manifest.csv"
out=$("$COLDTOK" drift --manifest "$tmp/manifest.csv" --corpus "$tmp/english/pts.4.txt" --ctx 64 -o "$tmp/man" --bootstrap 0 2>&1); rc=$?
check "--manifest: runs with the manifest's names, the entry without a base as the base" \
    '[ $rc -eq 0 ] && [ "$(cut -d, -f1,2 "$tmp/man/drift_models.csv" | tr "\n" " ")" = "model,role fp32,base q4,variant half,variant " ]' \
    "rc=$rc $out $(cat "$tmp/man/drift_models.csv" 2>&1)"
grep -q '"manifest"' "$tmp/man/run.json"; check_status "--manifest: the manifest is an input of run.json" $?
printf 'name,path,kind,bits_per_weight,base\na,%s,base,,\nb,%s,base,,\n' "$AFIX/stories260K-F32.gguf" "$AFIX/stories260K-F16.gguf" > "$tmp/two.csv"
fails "--manifest with two bases" "needs exactly one entry without a base" --manifest "$tmp/two.csv" --corpus "$tmp/english"
usage "--manifest and -m" "either --manifest or -m" --manifest "$tmp/two.csv" -m "$FIX/stories260K-F32.gguf" --corpus "$tmp/english"
out=$("$COLDTOK" drift "${M[@]:0:4}" --corpus "$tmp/english/pts.4.txt" --ctx 64 --max-tokens 1024 --format md 2>&1); rc=$?
check "markdown tables" '[ $rc -eq 0 ] && [[ $out == *"|:---"* || $out == *"| ---"* || $out == *"|---"* ]]' "$out"

# ---- the committed code samples, every language; a variant on another vocabulary ----
S=${COLDTOK_FIXTURES:-../shared/fixtures}/models
if [ -f "$S/synth-qwen2/synth-qwen2-F32.gguf" ] && [ -f "$S/synth-llama/synth-llama-F32.gguf" ]; then
    out=$("$COLDTOK" drift -m "$S/synth-qwen2/synth-qwen2-F32.gguf" -m "$S/synth-qwen2/synth-qwen2-Q4_K.gguf" \
          -m "$S/synth-llama/synth-llama-F32.gguf" --corpus data/samples --ctx 128 -o "$tmp/xv" 2>&1); rc=$?
    check "samples: runs with a variant on another vocabulary" '[ $rc -eq 0 ]' "rc=$rc $out"
    langs=$(awk -F, '$1 == "synth-qwen2-Q4_K" && $2 != "all" && $3 == "all" && $4 == "n" { k++ } END { print k + 0 }' "$tmp/xv/drift.csv")
    check "samples: all 13 languages of data/samples scored ($langs)" '[ "$langs" -eq 13 ]' "$langs languages"
    check "samples: the other vocabulary is compared per byte" 'grep -q "^synth-llama-F32,variant,.*,0,512," "$tmp/xv/drift_models.csv" && grep -q "^synth-llama-F32,all,all,bpb_variant," "$tmp/xv/drift.csv" && ! grep -q "^synth-llama-F32,.*,kl_mean," "$tmp/xv/drift.csv"' "$(cat "$tmp/xv/drift_models.csv")"
    kwb=$(awk -F, '$1 == "synth-llama-F32" && $2 == "all" && $3 == "keyword" && $4 == "bytes" { print $5 }' "$tmp/xv/drift.csv")
    check "samples: keyword bytes aligned by offsets ($kwb)" '[ -n "$kwb" ] && [ "$kwb" -gt 100 ]' "keyword bytes $kwb"
    # --max-tokens: 26 windows of 64 tokens, 2 per language, drawn across files with the seed
    Q=(-m "$S/synth-qwen2/synth-qwen2-F32.gguf" -m "$S/synth-qwen2/synth-qwen2-Q4_K.gguf" --corpus data/samples --ctx 64)
    out=$("$COLDTOK" drift "${Q[@]}" --max-tokens 1664 -o "$tmp/mt1" --positions "$tmp/mt1.csv" --bootstrap 0 2>&1); rc=$?
    check "--max-tokens: runs" '[ $rc -eq 0 ]' "rc=$rc $out"
    per=$(awk -F, '$1 == "synth-qwen2-Q4_K" && $2 != "all" && $3 == "all" && $4 == "n" { print $5 }' "$tmp/mt1/drift.csv" | sort -u | tr '\n' ' ')
    nl=$(awk -F, '$1 ~ /^windows_/ && $2 == 2' "$tmp/mt1/drift_corpus.csv" | wc -l)
    check "--max-tokens: the same 2 windows (62 positions) in each of the 13 languages ($per, $nl)" \
        '[ "$per" = "62 " ] && [ "$nl" = 13 ]' "$(cat "$tmp/mt1/drift_corpus.csv")"
    check "--max-tokens: the draw is printed" '[[ $out == *"windows drawn per language (--max-tokens 1664, seed 1): bash 2 c 2"* ]]' "$out"
    nfiles=$(cut -d, -f2 "$tmp/mt1.csv" | sort -u | wc -l)
    check "--max-tokens: windows come from many files, not the first in byte order ($((nfiles - 1)) files)" '[ "$nfiles" -gt 14 ]'
    "$COLDTOK" drift "${Q[@]}" --max-tokens 1664 --positions "$tmp/mt2.csv" --bootstrap 0 > /dev/null 2>&1
    "$COLDTOK" drift "${Q[@]}" --max-tokens 1664 --positions "$tmp/mt3.csv" --bootstrap 0 --seed 7 > /dev/null 2>&1
    check "--max-tokens: the same seed draws the same windows, another seed others" \
        'cmp -s "$tmp/mt1.csv" "$tmp/mt2.csv" && ! cmp -s "$tmp/mt1.csv" "$tmp/mt3.csv" && [ "$(wc -l < "$tmp/mt3.csv")" = "$(wc -l < "$tmp/mt1.csv")" ]'
else
    skip "samples" "synth-qwen2 / synth-llama fixtures absent"
fi

# ---- figures ----
if command -v gnuplot > /dev/null; then
    out=$("$COLDTOK" plot "$tmp/out" -o "$tmp/fig" 2>&1); rc=$?
    check "plot draws the drift figures" '[ $rc -eq 0 ] && [ -s "$tmp/fig/drift_kl_distribution.png" ] && [ -s "$tmp/fig/drift_keyword_vs_other.png" ]' "rc=$rc out=$out; $(ls "$tmp/fig" 2>&1)"
else
    skip "plot draws the drift figures" "gnuplot absent"
fi
done_testing
