#!/usr/bin/env bash
# coldtok plot: figures from the hand-written CSV files of tests/data/plot (docs/output.md format).
# Checks the files made (PNG/SVG/PDF by magic bytes, PNG size from its header), what the SVGs say
# (names with _ ' # " ^ and UTF-8 shown verbatim, the keyword selection against a count done here
# in Python, log-scale ticks), figures skipped for lack of data, one-line errors with exit 1 on
# bad input or a failing gnuplot (and no half-written figure left), and that nothing is written
# anywhere but the figure folder. tests/data/plot-contexts (one probe with two --context, long
# model names): one series per (model, context), the values drawn checked against the CSV files;
# and no PNG has ink in its outer pixels (nothing cut at the canvas's edge). Prints TAP;
# gnuplot-dependent tests skip when it is absent.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
DATA=tests/data/plot
tmp=$(mktemp -d /tmp/coldtok-cli-plot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if gp=$(command -v "${COLDTOK_GNUPLOT:-gnuplot}") && "$gp" -e 'exit' > /dev/null 2>&1; then have_gp=1; else have_gp=0; fi
FIGS="pkp_by_language kl_vs_bits keyword_heatmap coverage_by_language drift_kl_distribution drift_keyword_vs_other"

is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
png_size() { # width x height from the IHDR chunk
    od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%dx%d", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8 }'
}
is_svg() { head -c 300 "$1" | grep -q '<?xml' && grep -q '<svg' "$1" && tail -c 20 "$1" | grep -q '</svg>'; }
is_pdf() { [ "$(head -c 5 "$1")" = "%PDF-" ] && tail -c 1024 "$1" | grep -q '%%EOF'; }
# svg_text FILE TEXT: TEXT (XML-escaped by the caller) is the whole content of a <text> element
svg_text() { grep -qF "<text>$2</text>" "$1"; }

# run NAME ARGS...: coldtok plot ARGS with TMPDIR set to an empty folder; out/err/rc kept
run() {
    local name=$1
    shift
    rm -rf "$tmp/tmpdir" && mkdir "$tmp/tmpdir"
    TMPDIR="$tmp/tmpdir" "$BIN" plot "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
    rc=$?
}

"$BIN" plot --help > "$tmp/help" 2>&1 && grep -q '^usage: coldtok plot DIR -o FIGDIR' "$tmp/help" && ok "--help" || notok "--help"

# ---- the six figures as PNG, with the file system watched ----
if [ $have_gp = 1 ]; then
    before=$(cd "$DATA" && ls -la --time-style=+%s . && sha256sum ./*)
    strace_ok=0
    if command -v strace > /dev/null && strace -f -qq -o /dev/null true 2> /dev/null; then strace_ok=1; fi
    rm -rf "$tmp/tmpdir" && mkdir "$tmp/tmpdir"
    if [ $strace_ok = 1 ]; then
        # LeakSanitizer cannot run under ptrace: leaks are checked by the other runs
        TMPDIR="$tmp/tmpdir" ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -o "$tmp/trace" \
            -e trace=open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,symlink,symlinkat \
            "$BIN" plot "$DATA" -o "$tmp/png" > "$tmp/png.out" 2> "$tmp/png.err"
    else
        TMPDIR="$tmp/tmpdir" "$BIN" plot "$DATA" -o "$tmp/png" > "$tmp/png.out" 2> "$tmp/png.err"
    fi
    rc=$?
    [ $rc -eq 0 ] && ok "png: exit 0" || notok "png: exit 0" "rc=$rc $(head -2 "$tmp/png.err")"
    # counts from the data by hand: 5 languages; 8 models; 5 variants with bits_per_weight and kl_pq
    # (the distilled one has no bits) in 2 families; 15 keywords a model, "if" twice; 6 variants;
    # drift: 3 variants with 16 bins each in the histogram; 3 languages (python, c, rust; sql has
    # no kl_mean) x 3 variants (the distilled one has bits per byte only)
    cat > "$tmp/want.out" <<EOF
drew    $tmp/png/pkp_by_language.png (5 languages x 8 models)
drew    $tmp/png/kl_vs_bits.png (5 variants in 2 families)
drew    $tmp/png/keyword_heatmap.png (14 keywords (of 14) x 6 variants)
drew    $tmp/png/coverage_by_language.png (5 languages x 3 tokenizers)
drew    $tmp/png/drift_kl_distribution.png (3 variants, up to 16 bins)
drew    $tmp/png/drift_keyword_vs_other.png (3 languages x 3 variants)
skipped drift_kl_vs_bits: $DATA/drift_models.csv absent
skipped drift_top1_vs_bits: $DATA/drift_models.csv absent
skipped drift_ppl_vs_bits: $DATA/drift_models.csv absent
skipped cold_start_stp: no stp value in $DATA/metrics.csv
drew    $tmp/png/cold_start_nlp.png (8 models)
skipped cold_start_indent: no indent_mass value in $DATA/metrics.csv
skipped keyword_concentration: no n80, n85, n90 or n95 value for a language in $DATA/metrics.csv
EOF
    check "png: what was drawn" 'cmp -s "$tmp/want.out" "$tmp/png.out"' \
        "$(diff "$tmp/want.out" "$tmp/png.out" | head -5 | tr '\n' ' ')"
    want_err="coldtok plot: warning: kl_vs_bits: 1 variant(s) left out: no bits_per_weight in $DATA/models.csv"
    check "png: stderr is only the note on the variant without bits" \
        '[ "$(cat "$tmp/png.err")" = "$want_err" ]' \
        "$(head -3 "$tmp/png.err" | tr '\n' '|')"
    bad=""
    for f in $FIGS; do
        p="$tmp/png/$f.png"
        if [ ! -s "$p" ]; then bad="$bad $f:missing"
        elif ! is_png "$p"; then bad="$bad $f:not-png"
        elif [ "$(png_size "$p")" != 1200x700 ]; then bad="$bad $f:$(png_size "$p")"
        elif [ "$(stat -c %s "$p")" -lt 15000 ]; then bad="$bad $f:only-$(stat -c %s "$p")-bytes"; fi
    done
    check "png: six 1200x700 PNG files" '[ -z "$bad" ]' "$bad"
    check "png: nothing else in the figure folder" \
        '[ "$(ls -A "$tmp/png" | sort | tr "\n" " ")" = "cold_start_nlp.png coverage_by_language.png drift_keyword_vs_other.png drift_kl_distribution.png keyword_heatmap.png kl_vs_bits.png pkp_by_language.png " ]' \
        "$(ls -A "$tmp/png" | tr '\n' ' ')"
    check "png: nothing left in TMPDIR" '[ -z "$(ls -A "$tmp/tmpdir")" ]' "$(ls -A "$tmp/tmpdir")"
    after=$(cd "$DATA" && ls -la --time-style=+%s . && sha256sum ./*)
    check "png: the data folder is untouched" '[ "$before" = "$after" ]' "listing or checksums changed"
    if [ $strace_ok = 1 ]; then
        # every file or folder created, by coldtok or gnuplot, must be the figure folder or in it
        # (what a font cache may write under $HOME is not this command's business)
        created=$(grep -E 'O_CREAT|mkdir|rename|link\(|linkat|symlink|creat\(' "$tmp/trace" | grep -v ' = -1 ' |
            grep -oE '"[^"]*"' | tr -d '"' | grep -E "^(/tmp/|$PWD/|[^/])" | grep -vxF "$tmp/png" | grep -v "^$tmp/png/" || true)
        check "png: nothing created outside the figure folder (strace)" '[ -z "$created" ]' \
            "$(echo "$created" | head -3 | tr '\n' ' ')"
    else
        skip "png: nothing created outside the figure folder" "strace not usable here"
    fi
else
    skip "png figures" "gnuplot not installed"
fi

# ---- SVG: the text gnuplot wrote, checked against the data ----
if [ $have_gp = 1 ]; then
    run svg "$DATA" -o "$tmp/svg" --format svg
    bad=""
    for f in $FIGS; do
        is_svg "$tmp/svg/$f.svg" && python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$tmp/svg/$f.svg" 2> /dev/null ||
            bad="$bad $f"
    done
    check "svg: exit 0, six well-formed SVG files" '[ $rc -eq 0 ] && [ -z "$bad" ]' "rc=$rc, bad:$bad $(head -1 "$tmp/svg.err")"
    s=$tmp/svg/pkp_by_language.svg
    bad=""
    for m in tiny-f32 tiny-f16 tiny-q8_0 tiny-q4_0 coder_1.5B coder_1.5B-Q4_K_M "coder 'q2' #k" "modèle-distillé_ß" \
        python c rust sql bash "no value" model; do
        svg_text "$s" "$m" || bad="$bad [$m]"
    done
    check "svg pkp: every model and language verbatim (_ ' hash UTF-8), a 'no value' mark" '[ -z "$bad" ]' "missing:$bad"
    s=$tmp/svg/kl_vs_bits.svg
    bad=""
    for m in tiny-f16 tiny-q8_0 tiny-q4_0 coder_1.5B-Q4_K_M "coder 'q2' #k" tiny-f32 coder_1.5B 1e-08 1e-01 \
        "bits per weight"; do
        svg_text "$s" "$m" || bad="$bad [$m]"
    done
    grep -qF "modèle-distillé_ß" "$s" && bad="$bad [distilled model shown without bits]"
    check "svg kl: a label per variant, families in the legend, log y axis (1e-08..1e-01)" '[ -z "$bad" ]' "$bad"
    s=$tmp/svg/coverage_by_language.svg
    bad=""
    for m in coder/tokenizer.json "tiny_bpe 512 (ours)" "deepseek-coder_6.7…truct.Q4_K_M.gguf" tokenizer; do
        svg_text "$s" "$m" || bad="$bad [$m]"
    done
    check "svg coverage: tokenizer names, the long one shortened in the middle" '[ -z "$bad" ]' "missing:$bad"
    s=$tmp/svg/keyword_heatmap.svg
    bad=""
    for m in "'static (rust)" "__init__ (python)" "#include (c)" "x^2 (python)" '"quoted" (sql)' "naïve (python)" "\$@ (bash)" \
        "&amp;mut (rust)" "if (c, python)" "coder 'q2' #k" "grey: no value"; do
        svg_text "$s" "$m" || bad="$bad [$m]"
    done
    check "svg heatmap: keywords with quotes, underscore, hash, caret, dollar, ampersand, UTF-8 verbatim" '[ -z "$bad" ]' "missing:$bad"
    s=$tmp/svg/drift_kl_distribution.svg
    bad=""
    for m in tiny-q8_0 tiny-q4_0 "coder 'q2' #k" variant 1e-7 1e-5 1e-3 0.1 1 10 "KL(P||Q) at a position, nats (log scale)"; do
        svg_text "$s" "$m" || bad="$bad [$m]"
    done
    grep -qF "modèle-distillé_ß" "$s" && bad="$bad [a variant without KL shown]"
    check "svg drift_kl_distribution: the variants in the legend, decades of KL on the x axis" '[ -z "$bad" ]' "missing:$bad"
    s=$tmp/svg/drift_keyword_vs_other.svg
    bad=""
    for m in tiny-q8_0 tiny-q4_0 "coder 'q2' #k" python c rust "no value" ">1: compression hurts keyword positions more"; do
        svg_text "$s" "$m" || bad="$bad [$m]"
    done
    for m in "modèle-distillé_ß" sql; do grep -qF "$m" "$s" && bad="$bad [$m shown: it has no kl_mean]"; done
    check "svg drift_keyword_vs_other: languages, variants, a 'no value' mark (no keyword row), the y label" \
        '[ -z "$bad" ]' "$bad"

    # --top 5: the five keywords with the largest contribution p_base x |log_ratio| summed over the
    # variants (p_base = p_sum / e^log_ratio), counted here
    python3 - "$DATA/keywords.csv" 5 > "$tmp/top5" <<'EOF'
import csv, math, sys
best, seen = {}, set()
for row in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    if row["log_ratio"] == "":
        continue
    k, lr = row["keyword"], float(row["log_ratio"])
    if (row["model"], k) in seen:
        continue
    seen.add((row["model"], k))
    best[k] = best.get(k, 0.0) + float(row["p_sum"]) * math.exp(-lr) * abs(lr)
ranked = sorted(best, key=lambda k: -best[k])
for k in ranked[:int(sys.argv[2])]:
    print(k)
print("NOT:" + ranked[int(sys.argv[2])])
EOF
    run top5 "$DATA" -o "$tmp/top5svg" --format svg --top 5
    s=$tmp/top5svg/keyword_heatmap.svg
    bad=""
    while IFS= read -r k; do
        case "$k" in
            NOT:*) grep -qF "<text>${k#NOT:} (" "$s" && bad="$bad [${k#NOT:} shown]" ;;
            *) grep -qF "<text>$k (" "$s" || bad="$bad [$k missing]" ;;
        esac
    done < "$tmp/top5"
    grep -q '5 keywords (of 14) x 6 variants' "$tmp/top5.out" || bad="$bad [stdout: $(grep heatmap "$tmp/top5.out")]"
    check "--top 5: exactly the 5 keywords that contribute most, as counted here" '[ $rc -eq 0 ] && [ -z "$bad" ]' \
        "$bad (want: $(tr '\n' ' ' < "$tmp/top5"))"

    run pdf "$DATA" -o "$tmp/pdf" --format pdf
    bad=""
    for f in $FIGS; do is_pdf "$tmp/pdf/$f.pdf" || bad="$bad $f"; done
    check "pdf: exit 0, six PDF files" '[ $rc -eq 0 ] && [ -z "$bad" ]' "rc=$rc, bad:$bad $(head -1 "$tmp/pdf.err")"
else
    skip "svg and pdf figures" "gnuplot not installed"
fi

# ---- figures skipped for lack of data ----
if [ $have_gp = 1 ]; then
    mkdir -p "$tmp/only-cov" && cp "$DATA/coverage_summary.csv" "$tmp/only-cov/"
    run onlycov "$tmp/only-cov" -o "$tmp/f1"
    cat > "$tmp/want" <<EOF
skipped pkp_by_language: $tmp/only-cov/metrics.csv absent
skipped kl_vs_bits: $tmp/only-cov/metrics.csv absent
skipped keyword_heatmap: $tmp/only-cov/keywords.csv absent
drew    $tmp/f1/coverage_by_language.png (5 languages x 3 tokenizers)
skipped drift_kl_distribution: $tmp/only-cov/drift_kl_hist.csv absent
skipped drift_keyword_vs_other: $tmp/only-cov/drift.csv absent
skipped drift_kl_vs_bits: $tmp/only-cov/drift.csv absent
skipped drift_top1_vs_bits: $tmp/only-cov/drift.csv absent
skipped drift_ppl_vs_bits: $tmp/only-cov/drift.csv absent
skipped cold_start_stp: $tmp/only-cov/metrics.csv absent
skipped cold_start_nlp: $tmp/only-cov/metrics.csv absent
skipped cold_start_indent: $tmp/only-cov/metrics.csv absent
skipped keyword_concentration: $tmp/only-cov/metrics.csv absent
EOF
    check "only coverage_summary.csv: one figure, twelve skipped with the reason" \
        '[ $rc -eq 0 ] && cmp -s "$tmp/want" "$tmp/onlycov.out" && [ ! -s "$tmp/onlycov.err" ]' \
        "rc=$rc $(diff "$tmp/want" "$tmp/onlycov.out" | tr '\n' ' ')"
    # a probe-only folder: pkp rows but no kl_pq, no log_ratio
    mkdir -p "$tmp/probe"
    awk -F, 'NR == 1 || $4 != "kl_pq"' "$DATA/metrics.csv" > "$tmp/probe/metrics.csv"
    cp "$DATA/models.csv" "$tmp/probe/"
    awk -F, 'NR == 1 || $1 == "tiny-f32" || $1 == "coder_1.5B"' "$DATA/keywords.csv" > "$tmp/probe/keywords.csv"
    run probe "$tmp/probe" -o "$tmp/f2"
    check "probe-only folder: kl_vs_bits and keyword_heatmap skipped, saying why" \
        '[ $rc -eq 0 ] &&
         grep -qxF "skipped kl_vs_bits: no variant with both a kl_pq value (scope all) in metrics.csv and bits_per_weight in models.csv" "$tmp/probe.out" &&
         grep -qxF "skipped keyword_heatmap: no log_ratio value in $tmp/probe/keywords.csv (no variant)" "$tmp/probe.out" &&
         grep -q "^drew    $tmp/f2/pkp_by_language.png " "$tmp/probe.out"' \
        "rc=$rc $(tr '\n' '|' < "$tmp/probe.out")"
else
    skip "skipped figures" "gnuplot not installed"
fi

# ---- the drift figures: the values drawn, checked against the CSV files read in Python ----
# drift_kl_distribution: one line per variant through its bins' centres at count / the variant's
# total; drift_keyword_vs_other: per language (order of first appearance, `all` left out) and
# variant, kl_mean at keyword positions / kl_mean at other positions, NaN where one is missing;
# a line at 1. The numbers come from the scripts COLDTOK_PLOT_DEBUG prints.
if [ $have_gp = 1 ]; then
    mkdir -p "$tmp/drift" && cp "$DATA/drift.csv" "$DATA/drift_kl_hist.csv" "$tmp/drift/"
    rm -rf "$tmp/tmpdir" && mkdir "$tmp/tmpdir"
    TMPDIR="$tmp/tmpdir" COLDTOK_PLOT_DEBUG=1 "$BIN" plot "$tmp/drift" -o "$tmp/driftfig" --format svg \
        > "$tmp/drift.out" 2> "$tmp/drift.script"
    rc=$?
    python3 - "$tmp/drift" "$tmp/drift.script" > "$tmp/drift.check" 2>&1 <<'EOF'
import csv, math, re, sys
d, script = sys.argv[1], open(sys.argv[2], encoding="utf-8").read()
def rows(name):
    return list(csv.DictReader(open(f"{d}/{name}", encoding="utf-8")))
def block(name):
    m = re.search(r"^\$" + name + r" << EOD\n(.*?)^EOD$", script, re.S | re.M)
    return [[float(x) for x in line.split()] for line in m.group(1).splitlines()] if m else None
def same(a, b):
    return math.isnan(a) and math.isnan(b) or abs(a - b) <= 1e-9 * max(1, abs(b))
def same_rows(got, want):
    return got is not None and len(got) == len(want) and all(
        len(g) == len(w) and all(same(x, y) for x, y in zip(g, w)) for g, w in zip(got, want))
bad = []
hist = rows("drift_kl_hist.csv")
variants = list(dict.fromkeys(r["variant"] for r in hist))
for i, v in enumerate(variants):
    mine = sorted((float(r["log10_kl_lo"]), float(r["log10_kl_hi"]), float(r["count"])) for r in hist if r["variant"] == v)
    total = sum(c for _, _, c in mine)
    if not same_rows(block(f"v{i}"), [[(lo + hi) / 2, c / total] for lo, hi, c in mine]):
        bad.append(f"histogram line of {v} differs")
mean = {(r["variant"], r["lang"], r["positions"]): float(r["value"]) for r in rows("drift.csv")
        if r["statistic"] == "kl_mean" and r["lang"] != "all" and r["positions"] in ("keyword", "other")}
pairs = list(dict.fromkeys((v, l) for v, l, _ in mean))
ratio = {(v, l): mean[(v, l, "keyword")] / mean[(v, l, "other")] for v, l in pairs
         if (v, l, "keyword") in mean and (v, l, "other") in mean}
langs = [l for l in dict.fromkeys(l for _, l in pairs) if any(k[1] == l for k in ratio)]
series = [v for v in dict.fromkeys(v for v, l in pairs if l in langs)]
want = [[g] + [ratio.get((v, l), math.nan) for v in series] for g, l in enumerate(langs)]
if not same_rows(block("bars"), want):
    bad.append(f"bars {block('bars')} != {want}")
if not re.search(r"^set arrow from graph 0, first 1 to graph 1, first 1 nohead", script, re.M):
    bad.append("no line at 1")
print("\n".join(bad) if bad else "same")
EOF
    check "drift: the lines and bars hold the CSV values (fractions of each variant's positions; keyword/other ratios)" \
        '[ $rc -eq 0 ] && [ "$(cat "$tmp/drift.check")" = same ]' "rc=$rc $(head -3 "$tmp/drift.check" | tr '\n' '|')"

    # a drift of other-vocabulary variants only (no kl_mean), and a histogram with nothing counted
    mkdir -p "$tmp/drift0"
    awk -F, 'NR == 1 || $1 == "modèle-distillé_ß"' "$DATA/drift.csv" > "$tmp/drift0/drift.csv"
    awk -F, 'BEGIN { OFS = "," } NR > 1 { $4 = 0 } 1' "$DATA/drift_kl_hist.csv" > "$tmp/drift0/drift_kl_hist.csv"
    run drift0 "$tmp/drift0" -o "$tmp/drift0fig"
    cat > "$tmp/want" <<EOF
coldtok plot: $tmp/drift0: nothing to draw (no metrics.csv, keywords.csv, coverage_summary.csv, drift.csv or drift_kl_hist.csv with data)
EOF
    check "drift: bits-per-byte rows only and zero counts: nothing to draw, one line" \
        '[ $rc -eq 1 ] && cmp -s "$tmp/want" "$tmp/drift0.err" && [ ! -s "$tmp/drift0.out" ]' "rc=$rc $(tr '\n' '|' < "$tmp/drift0.err")"
    cp "$DATA/coverage_summary.csv" "$tmp/drift0/"
    run drift0b "$tmp/drift0" -o "$tmp/drift0fig"
    check "drift: both figures skipped, saying why; the variants with nothing counted named in a warning" \
        '[ $rc -eq 0 ] &&
         grep -qxF "skipped drift_kl_distribution: no variant with a position counted in $tmp/drift0/drift_kl_hist.csv" "$tmp/drift0b.out" &&
         grep -qxF "skipped drift_keyword_vs_other: no language with kl_mean at both keyword and other positions in $tmp/drift0/drift.csv" "$tmp/drift0b.out" &&
         grep -qxF "coldtok plot: warning: drift_kl_distribution: 3 variant(s) left out: no position counted in $tmp/drift0/drift_kl_hist.csv" "$tmp/drift0b.err"' \
        "rc=$rc $(tr '\n' '|' < "$tmp/drift0b.out") $(tr '\n' '|' < "$tmp/drift0b.err")"

    # a kl_mean of inf and one of 0 at other positions: 'no value', each with a warning
    mkdir -p "$tmp/drift1"
    sed -e 's/^tiny-q8_0,c,keyword,kl_mean,.*/tiny-q8_0,c,keyword,kl_mean,inf/' \
        -e 's/^tiny-q4_0,python,other,kl_mean,.*/tiny-q4_0,python,other,kl_mean,0/' "$DATA/drift.csv" > "$tmp/drift1/drift.csv"
    run drift1 "$tmp/drift1" -o "$tmp/drift1fig"
    cat > "$tmp/want" <<EOF
coldtok plot: warning: drift_keyword_vs_other: 1 non-finite kl_mean value(s) shown as 'no value'
coldtok plot: warning: drift_keyword_vs_other: 1 ratio(s) shown as 'no value': kl_mean 0 at other positions
EOF
    check "drift: a non-finite kl_mean and a zero one at other positions: warnings, still 3 languages x 3 variants" \
        '[ $rc -eq 0 ] && cmp -s "$tmp/want" "$tmp/drift1.err" &&
         grep -qxF "drew    $tmp/drift1fig/drift_keyword_vs_other.png (3 languages x 3 variants)" "$tmp/drift1.out"' \
        "rc=$rc $(tr '\n' '|' < "$tmp/drift1.err")"
else
    skip "drift figures" "gnuplot not installed"
fi

# ---- several contexts: tests/data/plot-contexts, one probe run with two --context ----
# metrics.csv, keywords.csv and models.csv hold one row per model and context; each model is then
# two series, "model @ context". The values drawn are checked against the CSV files, read here in
# Python, through the scripts that COLDTOK_PLOT_DEBUG prints.
CTX=tests/data/plot-contexts
if [ $have_gp = 1 ]; then
    rm -rf "$tmp/tmpdir" && mkdir "$tmp/tmpdir"
    TMPDIR="$tmp/tmpdir" COLDTOK_PLOT_DEBUG=1 "$BIN" plot "$CTX" -o "$tmp/ctx" --format svg > "$tmp/ctx.out" 2> "$tmp/ctx.script"
    rc=$?
    # by hand: 4 languages; 4 models x 2 contexts; 3 variants x 2 contexts with kl_pq and bits, in
    # 2 families (the base in each context); 10 keywords, 3 variants x 2 contexts
    cat > "$tmp/want" <<EOF
drew    $tmp/ctx/pkp_by_language.svg (4 languages x 8 series (4 models x 2 contexts))
drew    $tmp/ctx/kl_vs_bits.svg (6 points (3 variants x 2 contexts) in 2 families)
drew    $tmp/ctx/keyword_heatmap.svg (10 keywords (of 10) x 6 rows (3 variants x 2 contexts))
skipped coverage_by_language: $CTX/coverage_summary.csv absent
skipped drift_kl_distribution: $CTX/drift_kl_hist.csv absent
skipped drift_keyword_vs_other: $CTX/drift.csv absent
skipped drift_kl_vs_bits: $CTX/drift.csv absent
skipped drift_top1_vs_bits: $CTX/drift.csv absent
skipped drift_ppl_vs_bits: $CTX/drift.csv absent
skipped cold_start_stp: no stp value in $CTX/metrics.csv
skipped cold_start_nlp: no nlp value in $CTX/metrics.csv
skipped cold_start_indent: no indent_mass value in $CTX/metrics.csv
skipped keyword_concentration: no n80, n85, n90 or n95 value for a language in $CTX/metrics.csv
EOF
    check "contexts: rows that differ only in context are drawn, one series per model and context" \
        '[ $rc -eq 0 ] && cmp -s "$tmp/want" "$tmp/ctx.out"' \
        "rc=$rc $(diff "$tmp/want" "$tmp/ctx.out" | tr '\n' ' ') $(grep -v '^\(set\|plot\|unset\|[0-9$ E]\)' "$tmp/ctx.script" | head -2)"
    bad=""
    for c in "&lt;|endoftext|> (151643)" "&lt;|fim_prefix|> (151659)"; do
        for m in qwen2.5-coder-1.5b-instruct-f16 qwen2.5-coder-1.5b-instruct-q8_0 qwen2.5-coder-1.5b-instruct-q4_k_m \
            "qwen2.5-coder-1.5b…t-iq2_xxs-imatrix"; do
            svg_text "$tmp/ctx/pkp_by_language.svg" "$m @ $c" || bad="$bad [pkp: $m @ $c]"
        done
        svg_text "$tmp/ctx/kl_vs_bits.svg" "qwen2.5-coder-1.5b-instruct-f16 @ $c" || bad="$bad [kl: family @ $c]"
    done
    for k in "shouldComponentUpdate (react)" "getDerivedStateFromProps (react)"; do # long keywords, rotated, not cut
        svg_text "$tmp/ctx/keyword_heatmap.svg" "$k" || bad="$bad [heat: $k]"
    done
    # (gnuplot's SVG escapes < and &, not >)
    check "contexts: legends name each series 'model @ context' (a long model name cut in its middle), keywords whole" \
        '[ -z "$bad" ]' \
        "missing:$bad"
    python3 - "$CTX" "$tmp/ctx.script" > "$tmp/ctx.check" 2>&1 <<'EOF'
import csv, math, re, sys
d, script = sys.argv[1], open(sys.argv[2], encoding="utf-8").read()
def rows(name):
    return list(csv.DictReader(open(f"{d}/{name}", encoding="utf-8")))
def block(name):  # the numbers of data block $name in the scripts
    m = re.search(r"^\$" + name + r" << EOD\n(.*?)^EOD$", script, re.S | re.M)
    return [[float(x) for x in line.split()] for line in m.group(1).splitlines()]
def close(a, b):
    return len(a) == len(b) and all(abs(x - y) <= 1e-9 * max(1, abs(y)) for x, y in zip(a, b))
bad = []
# pkp: a group per language, a column per (model, context) in order of first appearance
series, groups, val = [], [], {}
for r in rows("metrics.csv"):
    if r["metric"] != "pkp" or r["scope"] in ("all", "english"):
        continue
    s = (r["model"], r["context"])
    series += [s] if s not in series else []
    groups += [r["scope"]] if r["scope"] not in groups else []
    val[(r["scope"], s)] = float(r["value"])
want = [[g] + [val[(groups[g], s)] for s in series] for g in range(len(groups))]
if not all(close(a, b) for a, b in zip(block("bars"), want)) or len(block("bars")) != len(want):
    bad.append("pkp bars differ from metrics.csv")
# kl: a line per (base, context), its points (bits, kl_pq) sorted by bits
bits = {r["model"]: float(r["bits_per_weight"]) for r in rows("models.csv")}
fam = {}
for r in rows("metrics.csv"):
    if r["metric"] == "kl_pq" and r["scope"] == "all":
        fam.setdefault((r["base"], r["context"]), []).append((bits[r["model"]], float(r["value"])))
for i, pts in enumerate(fam.values()):
    # (x, kl); the columns after them are the interval. x is the bits, or a little beside them when
    # points of equal bits would cover each other (q8_0 in both contexts): docs/plots.md
    got = [p[:2] for p in block(f"f{i}")]
    if not all(close(a[1:], [b[1]]) and abs(a[0] - b[0]) < 0.25 for a, b in zip(got, sorted(pts))) or len(got) != len(pts):
        bad.append(f"kl family {i} differs")
# heat map: keywords by their contribution p_base x |log_ratio| summed over the rows (model,
# context) (p_base = p_sum / e^log_ratio; a keyword's first row per row counts), labelled with their
# languages; rows (model, context) first on top
lr, variants, best, langs = {}, [], {}, {}
for r in rows("keywords.csv"):
    if r["lang"] not in langs.setdefault(r["keyword"], []):
        langs[r["keyword"]].append(r["lang"])
    if r["log_ratio"] == "":
        continue
    v = (r["model"], r["context"])
    variants += [v] if v not in variants else []
    if (v, r["keyword"]) in lr:
        continue
    lr[(v, r["keyword"])] = x = float(r["log_ratio"])
    best[r["keyword"]] = best.get(r["keyword"], 0) + float(r["p_sum"]) * math.exp(-x) * abs(x)
ranked = sorted(best, key=lambda k: -best[k])
def label(k):
    l = langs[k]
    return f"{k} ({l[0]})" if len(l) == 1 else f"{k} ({l[0]}, {l[1]})" if len(l) == 2 else f"{k} ({l[0]}, {l[1]} +{len(l) - 2})"
xt = re.findall(r"'([^']*)' (\d+)", re.search(r"^set xtics \((.*)\) scale 0 rotate", script, re.M).group(1))
if [k for k, _ in xt] != [label(k) for k in ranked]:
    bad.append(f"keywords {[k for k, _ in xt]} != {[label(k) for k in ranked]}")
cells = {(int(x), int(y)): z for x, y, z in block("heat")}
nv = len(variants)
for vi, v in enumerate(variants):
    for ki, k in enumerate(ranked):
        got = cells.get((ki, nv - 1 - vi))
        if got is None or abs(got - lr[(v, k)]) > 1e-9:
            bad.append(f"heat {v} {k}: {got} != {lr[(v, k)]}")
if len(cells) != nv * len(ranked):
    bad.append(f"{len(cells)} heat cells")
print("\n".join(bad) if bad else "same")
EOF
    check "contexts: bars, KL lines and heat map cells hold the CSV values of their (model, context)" \
        '[ "$(cat "$tmp/ctx.check")" = same ]' "$(head -3 "$tmp/ctx.check" | tr '\n' '|')"

    # the same files with only the first context: a context column, but one context per model
    mkdir -p "$tmp/ctx1"
    for f in metrics models keywords; do grep -v 'fim_prefix' "$CTX/$f.csv" > "$tmp/ctx1/$f.csv"; done
    run ctx1 "$tmp/ctx1" -o "$tmp/ctx1fig" --format svg
    check "contexts: one context per model, plain model names" \
        '[ $rc -eq 0 ] && grep -qxF "drew    $tmp/ctx1fig/pkp_by_language.svg (4 languages x 4 models)" "$tmp/ctx1.out" &&
         grep -qxF "drew    $tmp/ctx1fig/kl_vs_bits.svg (3 variants in 1 family)" "$tmp/ctx1.out" &&
         svg_text "$tmp/ctx1fig/pkp_by_language.svg" qwen2.5-coder-1.5b-instruct-q8_0 &&
         ! grep -q " @ " "$tmp/ctx1fig/pkp_by_language.svg"' \
        "rc=$rc $(tr '\n' '|' < "$tmp/ctx1.out")"
else
    skip "several contexts" "gnuplot not installed"
fi

# ---- nothing cut at the canvas's edge: no ink in the outer 3 pixels of each PNG ----
# The PNG is decoded here (zlib + the five PNG filters); a figure drawn by gnuplot with a label
# across its right edge shows the check can fail.
cat > "$tmp/edge.py" <<'EOF'
import struct, sys, zlib
def rows_of(path):
    d = open(path, "rb").read()
    assert d[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    while pos < len(d):
        n, t = struct.unpack(">I4s", d[pos:pos + 8])
        body = d[pos + 8:pos + 8 + n]
        if t == b"IHDR":
            w, h, depth, ctype, _, _, inter = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and not inter, "not 8-bit RGB(A)"
            bpp = 3 if ctype == 2 else 4
        elif t == b"IDAT":
            idat.append(body)
        pos += 12 + n
    raw, st, prev = zlib.decompress(b"".join(idat)), w * bpp, bytes(w * bpp)
    for y in range(h):
        f, cur = raw[y * (st + 1)], bytearray(raw[y * (st + 1) + 1:(y + 1) * (st + 1)])
        if f == 1:
            for i in range(bpp, st): cur[i] = (cur[i] + cur[i - bpp]) & 255
        elif f == 2:
            cur = bytearray((a + b) & 255 for a, b in zip(cur, prev))
        elif f == 3:
            for i in range(st): cur[i] = (cur[i] + ((cur[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
        elif f == 4:
            for i in range(st):
                a, b, c = (cur[i - bpp] if i >= bpp else 0), prev[i], (prev[i - bpp] if i >= bpp else 0)
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        yield w, h, bpp, y, cur
        prev = cur
R = 3
for p in sys.argv[1:]:
    inked = 0
    for w, h, bpp, y, row in rows_of(p):
        xs = range(w) if y < R or y >= h - R else [*range(R), *range(w - R, w)]
        inked += sum(min(row[x * bpp:x * bpp + 3]) < 250 for x in xs)
    if inked:
        print(f"{p.rsplit('/', 1)[-1]}: {inked} px")
EOF
if [ $have_gp = 1 ] && [ -s "$tmp/png/kl_vs_bits.png" ]; then
    run ctxpng "$CTX" -o "$tmp/ctxpng"
    "$gp" -d -e "set terminal pngcairo size 400,200 font 'DejaVu Sans,13' background rgb 'white'; set output '$tmp/cut.png'; unset border; unset tics; set label 'cut at the edge' at screen 0.9, screen 0.5; plot [0:1][0:1] NaN notitle" 2> /dev/null
    cut=$(python3 "$tmp/edge.py" "$tmp/cut.png" 2>&1)
    check "edge check: flags a label running off the right edge" '[ -n "$cut" ] && [ "${cut#cut.png: }" != "$cut" ]' "$cut"
    inked=$(python3 "$tmp/edge.py" "$tmp"/png/*.png "$tmp"/ctxpng/*.png 2>&1)
    check "no text cut at the edges of the PNGs (long names, two contexts, rotated labels)" \
        '[ $rc -eq 0 ] && [ -z "$inked" ] && [ "$(ls "$tmp"/ctxpng/*.png | wc -l)" -eq 3 ]' \
        "$inked"
else
    skip "edge checks" "gnuplot not installed"
fi

# ---- errors: one line on stderr, nothing on stdout, exit 1 (2 for usage), no figure ----
expect_fail() { # expect_fail NAME WANT_RC WANT_STDERR_REGEX ARGS...
    local name=$1 want_rc=$2 re=$3 lines
    shift 3
    rm -rf "$tmp/fig"
    run fail "$@"
    lines=$(wc -l < "$tmp/fail.err")
    if [ $rc -ne "$want_rc" ]; then notok "$name" "exit $rc, want $want_rc: $(head -2 "$tmp/fail.err" | tr '\n' '|')"
    elif [ "$want_rc" -eq 1 ] && [ "$lines" -ne 1 ]; then notok "$name" "$lines lines on stderr: $(head -3 "$tmp/fail.err" | tr '\n' '|')"
    elif [ -s "$tmp/fail.out" ]; then notok "$name" "output on stdout: $(head -1 "$tmp/fail.out")"
    elif [ -n "$(ls -A "$tmp/fig" 2> /dev/null)" ]; then notok "$name" "left in the figure folder: $(ls -A "$tmp/fig")"
    elif ! head -1 "$tmp/fail.err" | grep -Eq -- "$re"; then notok "$name" "stderr: $(head -1 "$tmp/fail.err")"
    else ok "$name"; fi
}
# bad DIR: a copy of the data with FILE edited by the rest of the arguments (a command)
bad() {
    rm -rf "$tmp/bad" && mkdir "$tmp/bad" && cp "$DATA"/*.csv "$tmp/bad/"
    "$@"
}

expect_fail "missing DIR" 1 "^coldtok plot: $tmp/nope: no such directory$" "$tmp/nope" -o "$tmp/fig"
bad sed -i '3s/,pkp,/,pkp,"/' "$tmp/bad/metrics.csv"
expect_fail "unclosed quote" 1 "^coldtok plot: $tmp/bad/metrics.csv: line [0-9]+: malformed CSV .*record from line 3" "$tmp/bad" -o "$tmp/fig"
bad sed -i '4s/,pkp,/,pkp,x,/' "$tmp/bad/metrics.csv"
expect_fail "a row with 6 fields" 1 "^coldtok plot: $tmp/bad/metrics.csv: line 4: 6 fields, the header has 5$" "$tmp/bad" -o "$tmp/fig"
bad sed -i '5s/,pkp,.*/,pkp,abc/' "$tmp/bad/metrics.csv"
expect_fail "a value that is not a number" 1 "^coldtok plot: $tmp/bad/metrics.csv: line 5: column 'value': 'abc' is not a number$" "$tmp/bad" -o "$tmp/fig"
bad sed -i '1s/coverage/cov/' "$tmp/bad/coverage_summary.csv"
expect_fail "a missing column" 1 "^coldtok plot: $tmp/bad/coverage_summary.csv: no column 'coverage' in the header" "$tmp/bad" -o "$tmp/fig"
bad sh -c ": > '$tmp/bad/keywords.csv'"
expect_fail "an empty file" 1 "^coldtok plot: $tmp/bad/keywords.csv: empty file, expected a header line$" "$tmp/bad" -o "$tmp/fig"
bad sh -c "sed -n 3p '$DATA/metrics.csv' >> '$tmp/bad/metrics.csv'"
expect_fail "a duplicate row" 1 "^coldtok plot: $tmp/bad/metrics.csv: line 76: a second row for model 'tiny-f32', scope 'python', metric pkp \(the first is on line 3\)$" "$tmp/bad" -o "$tmp/fig"
bad sed -i '2s/,1,1.0,/,1.5,1.0,/' "$tmp/bad/coverage_summary.csv"
expect_fail "coverage above 1" 1 "^coldtok plot: $tmp/bad/coverage_summary.csv: line 2: coverage 1.5 is outside \[0, 1\]$" "$tmp/bad" -o "$tmp/fig"
# drift.csv and drift_kl_hist.csv
bad sh -c "sed -n 2p '$DATA/drift.csv' >> '$tmp/bad/drift.csv'"
expect_fail "drift.csv: a duplicate row" 1 "^coldtok plot: $tmp/bad/drift.csv: line 239: a second row for variant 'tiny-q8_0', lang 'all', positions 'all', statistic 'n' \(the first is on line 2\)$" "$tmp/bad" -o "$tmp/fig"
bad sed -i '53s/,0.009$/,-0.5/' "$tmp/bad/drift.csv"
expect_fail "drift.csv: a negative kl_mean" 1 "^coldtok plot: $tmp/bad/drift.csv: line 53: kl_mean -0.5 is negative$" "$tmp/bad" -o "$tmp/fig"
bad sed -i '1s/positions/where/' "$tmp/bad/drift.csv"
expect_fail "drift.csv: a missing column" 1 "^coldtok plot: $tmp/bad/drift.csv: no column 'positions' in the header" "$tmp/bad" -o "$tmp/fig"
bad sed -i '3s/,45$/,abc/' "$tmp/bad/drift_kl_hist.csv"
expect_fail "drift_kl_hist.csv: a count that is not a number" 1 "^coldtok plot: $tmp/bad/drift_kl_hist.csv: line 3: column 'count': 'abc' is not a number$" "$tmp/bad" -o "$tmp/fig"
bad sed -i '3s/,45$/,/' "$tmp/bad/drift_kl_hist.csv"
expect_fail "drift_kl_hist.csv: an empty count" 1 "^coldtok plot: $tmp/bad/drift_kl_hist.csv: line 3: empty count$" "$tmp/bad" -o "$tmp/fig"
bad sed -i '3s/,45$/,-2/' "$tmp/bad/drift_kl_hist.csv"
expect_fail "drift_kl_hist.csv: a negative count" 1 "^coldtok plot: $tmp/bad/drift_kl_hist.csv: line 3: count -2 is negative$" "$tmp/bad" -o "$tmp/fig"
bad sed -i '3s/^tiny-q8_0,-6.5,-6,/tiny-q8_0,-6.5,-6.5,/' "$tmp/bad/drift_kl_hist.csv"
expect_fail "drift_kl_hist.csv: a bin with lo = hi" 1 "^coldtok plot: $tmp/bad/drift_kl_hist.csv: line 3: a bin from -6.5 to -6.5 \(log10_kl_lo must be below log10_kl_hi\)$" "$tmp/bad" -o "$tmp/fig"
bad sed -i '3s/^tiny-q8_0,-6.5,/tiny-q8_0,-inf,/' "$tmp/bad/drift_kl_hist.csv"
expect_fail "drift_kl_hist.csv: an infinite bin edge" 1 "^coldtok plot: $tmp/bad/drift_kl_hist.csv: line 3: log10_kl_lo '-inf' is not a finite number$" "$tmp/bad" -o "$tmp/fig"
bad sed -i '3s/^tiny-q8_0,-6.5,-6,/tiny-q8_0,-7,-6,/' "$tmp/bad/drift_kl_hist.csv"
expect_fail "drift_kl_hist.csv: a second row for one variant and bin" 1 "^coldtok plot: $tmp/bad/drift_kl_hist.csv: line 3: a second row for variant 'tiny-q8_0', log10_kl_lo -7 \(the first is on line 2\)$" "$tmp/bad" -o "$tmp/fig"
# with two contexts a row is keyed on (model, context, ...): a real duplicate is still an error
badc() {
    rm -rf "$tmp/bad" && mkdir "$tmp/bad" && cp "$CTX"/*.csv "$tmp/bad/"
    "$@"
}
Q8=qwen2.5-coder-1.5b-instruct-q8_0
badc sh -c "sed -n 3p '$CTX/metrics.csv' >> '$tmp/bad/metrics.csv'"
expect_fail "two contexts: a second row for the same model and context" 1 \
    "^coldtok plot: $tmp/bad/metrics.csv: line 54: a second row for model 'qwen2.5-coder-1.5b-instruct-f16', context '<\|endoftext\|> \(151643\)', scope 'python', metric pkp \(the first is on line 3\)$" \
    "$tmp/bad" -o "$tmp/fig"
badc sh -c "sed -n 17p '$CTX/metrics.csv' >> '$tmp/bad/metrics.csv'"
expect_fail "two contexts: a second kl_pq row for the same model and context" 1 \
    "^coldtok plot: $tmp/bad/metrics.csv: line 54: a second kl_pq row for model '$Q8', context '<\|endoftext\|> \(151643\)', scope all$" \
    "$tmp/bad" -o "$tmp/fig"
badc sh -c "sed -n 4p '$CTX/models.csv' >> '$tmp/bad/models.csv'"
expect_fail "two contexts: a model and context listed twice in models.csv" 1 \
    "^coldtok plot: $tmp/bad/models.csv: line 10: model '$Q8', context '<\|endoftext\|> \(151643\)' is listed twice$" \
    "$tmp/bad" -o "$tmp/fig"
badc sed -i '5s/,8.5,/,9,/' "$tmp/bad/models.csv"
expect_fail "two contexts: one model with two bits_per_weight" 1 \
    "^coldtok plot: $tmp/bad/models.csv: line 5: model '$Q8' has bits_per_weight 9 here and 8.5 on line 4$" \
    "$tmp/bad" -o "$tmp/fig"
bad sh -c "printf 'tiny-f32,python,a\\000b,1,2,0.1,0.1,0.2,0.2,1,\\n' >> '$tmp/bad/keywords.csv'"
expect_fail "a NUL byte" 1 "^coldtok plot: $tmp/bad/keywords.csv: line 122: a field holds a NUL byte" "$tmp/bad" -o "$tmp/fig"
mkdir -p "$tmp/empty"
expect_fail "nothing to draw" 1 "^coldtok plot: $tmp/empty: nothing to draw" "$tmp/empty" -o "$tmp/fig"
COLDTOK_GNUPLOT=$tmp/no-gnuplot expect_fail "gnuplot missing" 1 \
    "^coldtok plot: gnuplot: '$tmp/no-gnuplot' not found \(install gnuplot-nox, or set COLDTOK_GNUPLOT\)$" "$DATA" -o "$tmp/fig"
COLDTOK_GNUPLOT=false expect_fail "gnuplot failing" 1 "^coldtok plot: gnuplot: exited with status 1$" "$DATA" -o "$tmp/fig"
if [ $have_gp = 1 ]; then
    # a gnuplot that draws the whole figure, then fails: the figure must not be left behind
    cat > "$tmp/gp-late-error" <<EOF
#!/bin/sh
s=\$(cat)
case "\$s" in *"set output"*) s="\$s
not_a_gnuplot_command" ;; esac
printf '%s\n' "\$s" | exec "$gp" "\$@"
EOF
    chmod +x "$tmp/gp-late-error"
    COLDTOK_GNUPLOT=$tmp/gp-late-error expect_fail "gnuplot failing after drawing: no figure left" 1 \
        "^coldtok plot: pkp_by_language: gnuplot: line [0-9]+: invalid command$" "$DATA" -o "$tmp/fig"
else
    skip "gnuplot failing after drawing" "gnuplot not installed"
fi
expect_fail "no -o" 2 "^coldtok plot: -o FIGDIR is required$" "$DATA"
expect_fail "bad --format" 2 "^coldtok plot: --format: 'gif' is not png, svg or pdf$" "$DATA" -o "$tmp/fig" --format gif
expect_fail "bad --top" 2 "^coldtok plot: --top: '0' is not a number from 1 to 10000$" "$DATA" -o "$tmp/fig" --top 0
expect_fail "unknown option" 2 "^coldtok plot: unknown option '--frobnicate'$" "$DATA" -o "$tmp/fig" --frobnicate

done_testing
