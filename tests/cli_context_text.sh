#!/usr/bin/env bash
# Text contexts (issue 14): `logits --context-text` and `probe/diff --context-text` encode a text
# with the model's tokenizer after the start token. The ids must be the fixture's reference
# encoding of the same text (models/stories260K/prompt.json, BOS first) and `coldtok encode`'s, the
# logits the fixture's reference logits over those ids, and every number the same as the
# equivalent id context; the CSV files split the context into `context` (pieces) and `context_id`.
# Prints TAP; gets the binary in $COLDTOK.
set -u
. "$(dirname "$0")/tap.sh"
: "${COLDTOK:?set COLDTOK to the binary under test}"
S=${COLDTOK_FIXTURES:-../shared/fixtures}/models/stories260K
tmp=$(mktemp -d /tmp/coldtok-ctxtext.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$S/stories260K-F32.gguf" ]; then
    skip "text contexts on stories260K" "fixtures absent (set COLDTOK_FIXTURES)"
    done_testing
    exit 0
fi
M=$S/stories260K-F32.gguf
# the reference: prompt.json's text and its ids (BOS first), made independently of coldtok
read -r TEXT < <(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["text"].strip())' "$S/prompt.json")
REF_IDS=$(/usr/bin/python3 -c 'import json,sys; print(" ".join(map(str, json.load(open(sys.argv[1]))["ids"])))' "$S/prompt.json")
is "the reference text and ids" "Once upon a time|1 403 407 261 378" "$TEXT|$REF_IDS"

# ---- logits ----
"$COLDTOK" logits -m "$M" --context-text "$TEXT" --raw-all "$tmp/text.f32" --top 1 > "$tmp/out" 2> "$tmp/err"
check_status "logits --context-text exits 0" $? "$(cat "$tmp/err")"
got=$(awk '/^context/ { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) printf "%s%s", (n++ ? " " : ""), $i }' "$tmp/out")
is "logits: the text context is BOS + the reference encoding" "$REF_IDS" "$got"
is "logits: the text context is BOS + coldtok encode's ids" "1 $(printf '%s' "$TEXT" | "$COLDTOK" encode -t "$M")" "$got"
close_f32 "$tmp/text.f32" "$S/stories260K-F32.prompt.dequant.logits.f32" 1e-4 > "$tmp/cmp"
check_status "logits: --raw-all of the text context equals the reference logits of the prompt" $? "$(cat "$tmp/cmp")"
"$COLDTOK" logits -m "$M" -c 1 -c 403 -c 407 -c 261 -c 378 --raw-all "$tmp/ids.f32" --top 0 > /dev/null 2> "$tmp/err"
cmp -s "$tmp/text.f32" "$tmp/ids.f32"
check_status "logits: the text context and the id context give identical logits" $? "$(cat "$tmp/err")"
# with a --context the start token is the caller's: bos then the text is the same context; ids
# and text mix in command-line order
"$COLDTOK" logits -m "$M" -c bos --context-text "Once upon" -c 261 --context-text "time" --raw-all "$tmp/mix.f32" --top 0 > "$tmp/out" 2> "$tmp/err"
cmp -s "$tmp/text.f32" "$tmp/mix.f32"
check_status "logits: -c bos, text, an id and text in order give the same context" $? "$(cat "$tmp/err")"
"$COLDTOK" logits -m "$M" -c 5 --context-text "Once" --top 1 > "$tmp/out" 2> "$tmp/err"
has "logits: with -c first no BOS is added" "$tmp/out" '^context +5 "[^"]*" 403 " Once"$'
out=$("$COLDTOK" logits -m tests/data/hf-qwen3-f32 --context-text "def" 2>&1); rc=$?
check "logits: --context-text without a tokenizer is one line, exit 1" \
    '[ $rc -eq 1 ] && [ $(printf "%s\n" "$out" | wc -l) -eq 1 ] && [[ $out == "coldtok logits: --context-text needs a tokenizer"* ]]' "rc=$rc $out"
"$COLDTOK" logits --help | grep -q -- '--context-text'
check_status "logits --help names --context-text" $?

# ---- probe ----
"$COLDTOK" probe -m "$M" --lang python,c --context-text "$TEXT" --context bos --top 5 -o "$tmp/text" > "$tmp/out" 2> "$tmp/err"
check_status "probe --context-text exits 0" $? "$(cat "$tmp/err")"
"$COLDTOK" probe -m "$M" --lang python,c --context "${REF_IDS// /,}" --context 1 --top 5 -o "$tmp/ids" > /dev/null 2> "$tmp/err"
check_status "probe --context with a comma-separated id list exits 0" $? "$(cat "$tmp/err")"
same=1
for f in metrics keywords indent top_tokens; do cmp -s "$tmp/text/$f.csv" "$tmp/ids/$f.csv" || same=0; done
check "probe: the text context and the id context write identical metrics, keywords, indent and top_tokens" \
    '[ $same = 1 ]' "$(diff "$tmp/text/metrics.csv" "$tmp/ids/metrics.csv" | head -5)"
is "probe: models.csv ends with context_id; the context column holds the pieces" \
    "model,path,kind,bits_per_weight,base,vocab,tokenizer,context,bytes,sha256,context_id" "$(head -1 "$tmp/text/models.csv")"
is "probe: metrics.csv header" "model,base,context,scope,metric,value,context_id" "$(head -1 "$tmp/text/metrics.csv")"
is "probe: keywords.csv header" "model,context,lang,keyword,bare_id,space_id,p_bare,p_space,p_sum,p_seq,rank,log_ratio,context_id" "$(head -1 "$tmp/text/keywords.csv")"
is "probe: indent.csv header" "model,context,kind,width,newline,mass,context_id" "$(head -1 "$tmp/text/indent.csv")"
is "probe: top_tokens.csv header" "model,context,rank,id,piece,text,p,context_id" "$(head -1 "$tmp/text/top_tokens.csv")"
is "probe: models.csv rows: (pieces, ids) of the text context and of bos" \
    "<s> ▁Once ▁upon ▁a ▁time|1 403 407 261 378 <s>|1" \
    "$(awk -F, 'NR > 1 { printf "%s%s|%s", (n++ ? " " : ""), $8, $11 }' "$tmp/text/models.csv")"
# the top-1 probability after the text context: the reference logits' last row, by hand
want=$(od -An -v -f -j $((4 * 512 * 4)) -N $((4 * 512)) "$S/stories260K-F32.prompt.dequant.logits.f32" | tr -s ' ' '\n' | grep -v '^$' |
    awk '{ z[NR - 1] = $1; if (NR == 1 || $1 > m) { m = $1; a = NR - 1 } } END { for (i in z) s += exp(z[i] - m); printf "%d %.6f", a, 1 / s }')
got=$(/usr/bin/python3 -c '
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["context_id"] == "1 403 407 261 378" and r["rank"] == "1": print("%d %.6f" % (int(r["id"]), float(r["p"])))' "$tmp/text/top_tokens.csv")
is "probe: top-1 after the text context = the reference logits' argmax and its probability" "$want" "$got"
has "probe: the table names the text context's pieces and ids" "$tmp/out" '^== stories260K-F32  \(context <s> ▁Once ▁upon ▁a ▁time \(1 403 407 261 378\)\)$'
# an empty text is the start token alone: the same numbers as --context bos
"$COLDTOK" probe -m "$M" --lang python --context-text "" -o "$tmp/empty" > /dev/null 2> "$tmp/err"
"$COLDTOK" probe -m "$M" --lang python --context bos -o "$tmp/bos" > /dev/null 2>> "$tmp/err"
cmp -s "$tmp/empty/metrics.csv" "$tmp/bos/metrics.csv"
check_status "probe: --context-text '' is the start token alone (= --context bos)" $? "$(cat "$tmp/err")"
out=$("$COLDTOK" probe -m "$M" --context 1,9999 2>&1); rc=$?
check "probe: an id list with an id out of range is one line, exit 1" \
    '[ $rc -eq 1 ] && [ $(printf "%s\n" "$out" | wc -l) -eq 1 ] && [[ $out == *"id 9999 out of range"* ]]' "rc=$rc $out"

# ---- diff: a variant in a text context, against KL computed from the reference logits ----
if [ -f "$S/stories260K-Q8_0mix.prompt.dequant.logits.f32" ]; then
    "$COLDTOK" diff -m "$M" -m "$S/stories260K-Q8_0mix.gguf" --lang python --context-text "$TEXT" -o "$tmp/diff" > /dev/null 2> "$tmp/err"
    check_status "diff --context-text exits 0" $? "$(cat "$tmp/err")"
    want=$(/usr/bin/python3 - "$S/stories260K-F32.prompt.dequant.logits.f32" "$S/stories260K-Q8_0mix.prompt.dequant.logits.f32" <<'EOF'
import math, struct, sys
def last(path):
    data = open(path, 'rb').read()
    z = struct.unpack('<%df' % (len(data) // 4), data)[-512:]
    m = max(z); s = sum(math.exp(v - m) for v in z)
    return [v - m - math.log(s) for v in z]
p, q = last(sys.argv[1]), last(sys.argv[2])
print('%.4e' % sum(math.exp(a) * (a - b) for a, b in zip(p, q)))
EOF
)
    got=$(awk -F, '$5 == "kl_pq" && $7 == "1 403 407 261 378" { printf "%.4e", $6 }' "$tmp/diff/metrics.csv")
    /usr/bin/python3 -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(a - b) > 2e-3 * abs(a))' "$want" "${got:-nan}"
    check_status "diff: KL(F32 || Q8_0mix) after the text context = the reference logits' ($want)" $? "got $got"
fi
done_testing
