#!/usr/bin/env bash
# coldtok plot, the figures for papers (docs/plots.md): tests/data/plot-figs holds hand-written
# probe, coverage and drift files of one family with rtn, imatrix and GPTQ variants (one calibrated
# on code, one on code+text), a distilled and a scaled model. Through the scripts that
# COLDTOK_PLOT_DEBUG prints, each figure's data blocks are checked against what a few lines of
# Python compute from the CSV files on their own: a line per method with its points, the models
# that are not quantizations in a block of their own drawn with points only, error bars equal to
# drift.csv's intervals, the heat map's keywords in the order of their contribution (p_base x
# |ln ratio| summed over the variants) with their languages, the coverage figure's match rule, the
# STP/NLP/indentation bars and the mean n80..n95. End to end: `coldtok quantize` with rtn and GPTQ
# and a llama.cpp GGUF give models.csv and drift_models.csv their method and calibration columns,
# and kl_vs_bits its lines. Prints TAP; skips the figures when gnuplot is absent.
set -u
. "$(dirname "$0")/tap.sh"
BIN=${COLDTOK:-./coldtok}
DATA=tests/data/plot-figs
FX=${FIXTURES:-../shared/fixtures}
tmp=$(mktemp -d /tmp/coldtok-cli-plot-figs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if gp=$(command -v "${COLDTOK_GNUPLOT:-gnuplot}") && "$gp" -e 'exit' > /dev/null 2>&1; then have_gp=1; else have_gp=0; fi

# figures DIR OUT: coldtok plot DIR into OUT as SVG, the scripts kept in OUT.script
figures() {
    COLDTOK_PLOT_DEBUG=1 "$BIN" plot "$1" -o "$2" --format svg > "$2.out" 2> "$2.script"
    rc=$?
}

if [ $have_gp = 1 ]; then
    figures "$DATA" "$tmp/f"
    # by hand: no pkp rows; 9 variants with kl_pq, 2 of them (distill, scale) not quantizations;
    # 5 keywords x 2 variants; coverage of 2 languages by 1 tokenizer with --match space; drift: 4
    # variants with kl_mean (other-vocab is compared per byte), student-distill apart; stp of 5
    # models, nlp and indent_mass of 3, n80..n95 of 3 models over at most 2 languages
    cat > "$tmp/want" <<EOF
skipped pkp_by_language: no pkp value for a language in $DATA/metrics.csv
drew    $tmp/f/kl_vs_bits.svg (9 variants in 1 family, 2 not quantizations)
drew    $tmp/f/keyword_heatmap.svg (5 keywords (of 5) x 2 variants)
drew    $tmp/f/coverage_by_language.svg (2 languages x 1 tokenizer, match space)
skipped drift_kl_distribution: $DATA/drift_kl_hist.csv absent
skipped drift_keyword_vs_other: no language with kl_mean at both keyword and other positions in $DATA/drift.csv
drew    $tmp/f/drift_kl_vs_bits.svg (4 variants, 1 not a quantization, with 95% intervals)
drew    $tmp/f/drift_top1_vs_bits.svg (3 variants, with 95% intervals)
skipped drift_ppl_vs_bits: no variant with ppl_ratio (lang all, positions all) in drift.csv and bits_per_weight in drift_models.csv
drew    $tmp/f/cold_start_stp.svg (5 models)
drew    $tmp/f/cold_start_nlp.svg (3 models)
drew    $tmp/f/cold_start_indent.svg (3 models)
drew    $tmp/f/keyword_concentration.svg (3 models x 4 levels, mean over up to 2 languages)
EOF
    check "figures: what was drawn, exit 0, no warning" \
        '[ $rc -eq 0 ] && cmp -s "$tmp/want" "$tmp/f.out" && ! grep -q "^coldtok plot" "$tmp/f.script"' \
        "rc=$rc $(diff "$tmp/want" "$tmp/f.out" | tr '\n' ' ') $(grep '^coldtok plot' "$tmp/f.script" | head -2)"

    python3 - "$DATA" "$tmp/f.script" "$tmp/f" > "$tmp/check" 2>&1 <<'EOF'
import csv, math, os, re, sys
d, scripts, figdir = sys.argv[1], open(sys.argv[2], encoding="utf-8").read(), sys.argv[3]
def rows(name):
    return list(csv.DictReader(open(f"{d}/{name}", encoding="utf-8")))
# each figure's script starts with "set encoding"; it names its output file
script = {}
for part in re.split(r"^(?=set encoding)", scripts, flags=re.M):
    m = re.search(r"^set output '.*/([^/']+)\.svg(?:\.tmp\w{6})?'$", part, re.M)  # written through a temporary
    if m:
        script[m.group(1)] = part
def block(fig, name):
    m = re.search(r"^\$" + name + r" << EOD\n(.*?)^EOD$", script[fig], re.S | re.M)
    return None if m is None else [[float(x) for x in line.split()] for line in m.group(1).splitlines()]
def svg(fig):
    return open(f"{figdir}/{fig}.svg", encoding="utf-8").read()
def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9 * max(1, abs(b))
checks = {}
def check(name, ok, why=""):
    checks[name] = "ok" if ok else f"FAIL {why}"

# ---- kl_vs_bits: the lines are methods, the other models stand apart ----
models = {r["model"]: r for r in rows("models.csv")}
def stem(p):
    b = p.rsplit("/", 1)[-1]
    return b.rsplit(".", 1)[0] if "." in b[1:] else b
def label(r):
    if not r["method"]:
        return r["kind"]
    out = r["method"]
    for i, c in enumerate(x for x in r["calibration"].split(",") if x):
        if stem(c) != r["method"]:
            out += ("-" if i == 0 else "+") + stem(c)
    return out
lines, apart = {}, []
for r in rows("metrics.csv"):
    if r["metric"] == "kl_pq" and r["scope"] == "all":
        m = models[r["model"]]
        pt = (float(m["bits_per_weight"]), float(r["value"]))
        if not m["method"] and m["kind"] not in ("quant", "fp16"):
            apart.append(pt)
        else:
            lines.setdefault(label(m), []).append(pt)
want_names = ["rtn", "imatrix", "gptq-code", "gptq-code+text"]
check("kl: the methods, in order of appearance", list(lines) == want_names, list(lines))
bad = []
for i, (name, pts) in enumerate(lines.items()):
    got = block("kl_vs_bits", f"f{i}")
    pts = sorted(pts)
    if got is None or len(got) != len(pts):
        bad.append(f"{name}: {got} != {pts}")
        continue
    for g, (bits, kl) in zip(got, pts):  # x is the bits, or a little beside them (equal bits)
        if not same(g[1], kl) or abs(g[0] - bits) > 0.25 or not (math.isnan(g[2]) and math.isnan(g[3])):
            bad.append(f"{name}: {g} != {bits, kl}")
check("kl: one data block per method, its points sorted by bits", not bad and block("kl_vs_bits", f"f{len(lines)}") is None, bad)
sep = block("kl_vs_bits", "sep")
check("kl: the distilled and the scaled model in a block of their own",
      sep is not None and sorted((g[0], g[1]) for g in sep) == sorted(apart), f"{sep} != {apart}")
plot = re.search(r"^plot .*?(?=^set encoding|\Z)", script["kl_vs_bits"], re.S | re.M).group(0)
check("kl: the separate block is drawn with points, never a line, and no error bars (metrics.csv has no interval)",
      re.search(r"\$sep using 1:2 with points ", plot) and "linespoints" not in "".join(l for l in plot.splitlines() if "$sep" in l)
      and "yerrorbars" not in plot, plot)
x_at_45 = sorted(g[0] for i in range(4) for g in block("kl_vs_bits", f"f{i}") if abs(g[0] - 4.5) < 0.25)
check("kl: the three variants of 4.5 bits (close KL) side by side, 4.5 in the middle",
      len(x_at_45) == 3 and x_at_45[0] < 4.5 - 1e-6 and abs(x_at_45[1] - 4.5) < 1e-9 and x_at_45[2] > 4.5 + 1e-6, x_at_45)
s = svg("kl_vs_bits")
missing = [t for t in want_names + ["student-distill", "half-scale", "q2-gptq-mixed", "quantization method",
           "not a quantization of its base (distilled, scaled, fine-tuned): a point of its own, not joined",
           "points with equal bits per weight are drawn side by side"] if f"<text>{t}</text>" not in s]
check("kl svg: method legend, the separate mark's entry, the models' labels", not missing, missing)

# ---- drift_kl_vs_bits: error bars are drift.csv's intervals ----
dm = {r["model"]: r for r in rows("drift_models.csv")}
stat = {(r["variant"], r["statistic"]): float(r["value"]) for r in rows("drift.csv")
        if r["lang"] == "all" and r["positions"] == "all"}
dl, dsep = {}, []
for name, r in dm.items():
    if r["role"] == "base" or (name, "kl_mean") not in stat:
        continue
    pt = [float(r["bits_per_weight"])] + [stat[(name, s)] for s in ("kl_mean", "kl_mean_lo", "kl_mean_hi")]
    (dl.setdefault(label(dict(r, kind="")), []) if r["method"] else dsep).append(pt)
bad = []
for i, (name, pts) in enumerate(dl.items()):
    got = block("drift_kl_vs_bits", f"f{i}")
    if got is None or len(got) != len(pts):
        bad.append(f"{name}: {got}")
        continue
    for g, p in zip(got, sorted(pts)):
        if abs(g[0] - p[0]) > 0.25 or not all(same(a, b) for a, b in zip(g[1:], p[1:])):
            bad.append(f"{name}: {g} != {p}")
got = block("drift_kl_vs_bits", "sep")
if got is None or [g[1:] for g in got] != [p[1:] for p in dsep]:
    bad.append(f"sep: {got} != {dsep}")
check("drift kl: lines rtn and gptq-code, student apart; kl_mean, kl_mean_lo, kl_mean_hi as in drift.csv",
      list(dl) == ["rtn", "gptq-code"] and not bad, f"{list(dl)} {bad}")
plot = re.search(r"^plot .*?(?=^set encoding|\Z)", script["drift_kl_vs_bits"], re.S | re.M).group(0)
check("drift kl: an error bar element for every block",
      all(re.search(r"\$" + b + r" using 1:\(\$3 == \$3 \? \$2 : 1/0\):3:4 with yerrorbars", plot) for b in ("f0", "f1", "sep")), plot)
# same_top1: the interval where there is one, none (NaN) for q4-gptq-code
want = {"f0": [[4.5, 0.9, 0.87, 0.93], [8.5, 0.991, 0.985, 0.995]], "f1": [[4.5, 0.92, float("nan"), float("nan")]]}
got = {b: block("drift_top1_vs_bits", b) for b in want}
check("drift top-1: same_top1 with same_top1_lo/hi as in drift.csv, NaN without an interval",
      all(got[b] is not None and len(got[b]) == len(w) and all(abs(g[0] - x[0]) < 0.25 and all(same(a, c) for a, c in zip(g[1:], x[1:]))
          for g, x in zip(got[b], w)) for b, w in want.items()) and block("drift_top1_vs_bits", "sep") is None, got)
check("drift kl svg: the y axis says what the bars are",
      "<text>mean KL(P||Q), nats (bars: 95% CI, bootstrap over files)</text>" in svg("drift_kl_vs_bits"))

# ---- keyword_heatmap: contribution order, languages in the labels ----
score, langs, lr, seen = {}, {}, {}, set()
for r in rows("keywords.csv"):
    if r["lang"] not in langs.setdefault(r["keyword"], []):
        langs[r["keyword"]].append(r["lang"])
    if r["log_ratio"] == "" or (r["model"], r["keyword"]) in seen:
        continue
    seen.add((r["model"], r["keyword"]))
    x = float(r["log_ratio"])
    p_base = float(r["p_sum"]) / math.exp(x)
    score[r["keyword"]] = score.get(r["keyword"], 0) + p_base * abs(x)
    lr[(r["model"], r["keyword"])] = x
order = sorted(score, key=lambda k: -score[k])
def kw_label(k):
    l = langs[k]
    return f"{k} ({l[0]})" if len(l) == 1 else f"{k} ({l[0]}, {l[1]})" if len(l) == 2 else f"{k} ({l[0]}, {l[1]} +{len(l) - 2})"
xt = re.findall(r"'([^']*)' (\d+)", re.search(r"^set xtics \((.*)\) scale 0", script["keyword_heatmap"], re.M).group(1))
check("heat: columns in the order of p_base x |ln ratio| summed over variants, computed here",
      [k for k, _ in xt] == [kw_label(k) for k in order], f"{[k for k, _ in xt]} != {[kw_label(k) for k in order]}")
by_ratio = max(score, key=lambda k: max(abs(v) for (m, kk), v in lr.items() if kk == k))
check("heat: the keyword with the largest |ln ratio| (tiny probability) is not ranked first",
      by_ratio == "rare" and order[0] != "rare" and order[-1] == "rare", order)
check("heat: 'if' (python, rust, c) is labelled with its languages", "if (python, rust +1)" in [k for k, _ in xt], xt)
cells = {(int(x), int(y)): z for x, y, z in block("keyword_heatmap", "heat")}
variants = ["q4-rtn", "q2-rtn"]
bad = [(v, k) for vi, v in enumerate(variants) for ki, k in enumerate(order)
       if not same(cells.get((ki, len(variants) - 1 - vi), float("nan")), lr[(v, k)])]
check("heat: every cell holds its log ratio", not bad and len(cells) == 10, bad)
s = svg("keyword_heatmap")
check("heat svg: the colour scale names its probability",
      "<text>colour: ln(p_sum variant / p_sum base), p_sum = P(keyword) + P(space + keyword) as the next token at cold start</text>" in s
      and "<text>ln(p_sum variant / p_sum base)</text>" in s)

# ---- coverage_by_language: the match rule ----
check("coverage svg: the title states the match rule",
      "<text>Keyword coverage per language and tokenizer (match space: the keyword after a space is one token)</text>"
      in svg("coverage_by_language"))

# ---- cold_start_stp / nlp / indent and keyword_concentration: the bars ----
def bars(fig):
    return block(fig, "bars")
met = rows("metrics.csv")
for fig, metric, scope in (("cold_start_stp", "stp", "all"), ("cold_start_nlp", "nlp", "english"),
                           ("cold_start_indent", "indent_mass", "all")):
    want = [float(r["value"]) for r in met if r["metric"] == metric and r["scope"] == scope]
    got = bars(fig)
    check(f"{fig}: a bar per model with its {metric}",
          got is not None and [g[0] for g in got] == list(range(len(want))) and all(same(g[1], w) for g, w in zip(got, want)),
          f"{got} != {want}")
conc, order_m = {}, []
for r in met:
    if r["metric"] in ("n80", "n85", "n90", "n95"):
        order_m += [r["model"]] if r["model"] not in order_m else []
        conc.setdefault((r["model"], r["metric"]), []).append(float(r["value"]))
want = [[i] + [sum(conc[(m, k)]) / len(conc[(m, k)]) for k in ("n80", "n85", "n90", "n95")] for i, m in enumerate(order_m)]
got = bars("keyword_concentration")
check("keyword_concentration: n80..n95 of each model, the mean over its languages",
      got is not None and len(got) == len(want) and all(same(a, b) for g, w in zip(got, want) for a, b in zip(g, w)),
      f"{got} != {want}")
check("keyword_concentration svg: the title says what is averaged",
      "<text>Keyword concentration: keywords holding 80-95% of a language's keyword mass (mean over 2 languages)</text>"
      in svg("keyword_concentration"))
for name, v in checks.items():
    print(f"{v}\t{name}")
print("ok\tevery figure check ran")
EOF
    while IFS=$'\t' read -r verdict name; do
        if [ "$verdict" = ok ]; then ok "$name"; else notok "$name" "$verdict"; fi
    done < <(grep -E $'^(ok|FAIL[^\t]*)\t' "$tmp/check")
    grep -q $'^ok\tevery figure check ran$' "$tmp/check" || notok "every figure check ran" "$(tail -3 "$tmp/check" | tr '\n' '|')"

    # without the match column: the figure says the rule is not recorded
    mkdir -p "$tmp/oldcov" && cut -d, -f1-8 "$DATA/coverage_summary.csv" > "$tmp/oldcov/coverage_summary.csv"
    figures "$tmp/oldcov" "$tmp/g"
    check "coverage without a match column: 'match rule not recorded'" \
        '[ $rc -eq 0 ] && grep -qF "<text>Keyword coverage per language and tokenizer (match rule not recorded in coverage_summary.csv)</text>" "$tmp/g/coverage_by_language.svg" &&
         grep -qxF "drew    $tmp/g/coverage_by_language.svg (2 languages x 1 tokenizer)" "$tmp/g.out"' "rc=$rc $(cat "$tmp/g.out")"

    # without method and kind columns (an older models.csv): one line per family, nothing apart
    mkdir -p "$tmp/old"
    cut -d, -f1,4,5 "$DATA/models.csv" > "$tmp/old/models.csv" && cp "$DATA/metrics.csv" "$tmp/old/"
    figures "$tmp/old" "$tmp/h"
    check "models.csv without method or kind: one line per family, as before" \
        '[ $rc -eq 0 ] && grep -qxF "drew    $tmp/h/kl_vs_bits.svg (9 variants in 1 family)" "$tmp/h.out" &&
         grep -qF "<text>family (base model)</text>" "$tmp/h/kl_vs_bits.svg" && ! grep -q "^\$sep" "$tmp/h.script"' \
        "rc=$rc $(cat "$tmp/h.out")"

    # PNG: every new figure is a 1200x700 PNG
    "$BIN" plot "$DATA" -o "$tmp/png" > /dev/null 2>&1
    bad=""
    for f in kl_vs_bits keyword_heatmap coverage_by_language drift_kl_vs_bits drift_top1_vs_bits cold_start_stp cold_start_nlp \
        cold_start_indent keyword_concentration; do
        [ "$(od -An -tu1 -j16 -N8 "$tmp/png/$f.png" 2> /dev/null | awk '{ printf "%dx%d", $3*256+$4, $7*256+$8 }')" = 1200x700 ] ||
            bad="$bad $f"
    done
    check "png: the figures are 1200x700 PNG files" '[ -z "$bad" ]' "bad:$bad"
else
    skip "figures for papers" "gnuplot not installed"
fi

# ---- end to end: the method of a variant comes from its GGUF ----
F32=$FX/models/synth-llama/synth-llama-F32.gguf
LCPP=$FX/models/synth-llama/synth-llama-Q4_0.gguf
if [ -f "$F32" ] && [ -f "$LCPP" ]; then
    "$BIN" quantize -m "$F32" --type Q8_0 -o "$tmp/rtn.gguf" > /dev/null 2>&1 &&
        "$BIN" quantize -m "$F32" --type Q4_K --method gptq --calib tests/data/calib/calib-code.c --calib-tokens 600 \
            -o "$tmp/gptq.gguf" > /dev/null 2>&1
    check_status "quantize: an rtn and a gptq variant" $?
    printf 'name,path,kind,bits_per_weight,base\nf32,%s,fp16,,\nrtn8,%s,quant,,f32\ngptq4,%s,quant,,f32\nlcpp4,%s,quant,,f32\n' \
        "$(realpath "$F32")" "$tmp/rtn.gguf" "$tmp/gptq.gguf" "$(realpath "$LCPP")" > "$tmp/m.csv" # paths from the manifest's folder
    "$BIN" diff --manifest "$tmp/m.csv" -o "$tmp/diff" > "$tmp/diff.out" 2>&1
    rc=$?
    # the method and calibration columns, last, per model (the base has none)
    check "diff: models.csv ends in method,calibration: rtn; gptq with its calibration file; llama.cpp from general.file_type" \
        '[ $rc -eq 0 ] && [ "$(head -1 "$tmp/diff/models.csv" | awk -F, "{print \$(NF-1) \",\" \$NF}")" = "method,calibration" ] &&
         [ "$(awk -F, "NR > 1 {print \$1 \":\" \$(NF-1) \":\" \$NF}" "$tmp/diff/models.csv" | tr "\n" " ")" = "f32:: rtn8:rtn: gptq4:gptq:calib-code.c lcpp4:llama.cpp: " ]' \
        "rc=$rc $(tail -1 "$tmp/diff.out") $(cut -d, -f1,11,12 "$tmp/diff/models.csv" 2>&1 | tr '\n' ' ')"
    "$BIN" drift -m "$F32" -m "$tmp/gptq.gguf" --corpus tests/data/calib/heldout-code.c --ctx 64 --bootstrap 50 \
        -o "$tmp/drift" > "$tmp/drift.out" 2>&1
    rc=$?
    check "drift: drift_models.csv ends in method,calibration" \
        '[ $rc -eq 0 ] && head -1 "$tmp/drift/drift_models.csv" | grep -q ",method,calibration$" &&
         [ "$(awk -F, "NR > 1 {print \$(NF-1) \":\" \$NF}" "$tmp/drift/drift_models.csv" | tr "\n" " ")" = ": gptq:calib-code.c " ]' \
        "rc=$rc $(tail -2 "$tmp/drift.out") $(cat "$tmp/drift/drift_models.csv" 2>&1 | tr '\n' ' ')"
    if [ $have_gp = 1 ]; then
        figures "$tmp/diff" "$tmp/e"
        check "plot of that diff: a line per method in the legend" \
            '[ $rc -eq 0 ] && for t in rtn gptq-calib-code llama.cpp "quantization method"; do grep -qF "<text>$t</text>" "$tmp/e/kl_vs_bits.svg" || exit 1; done' \
            "rc=$rc $(cat "$tmp/e.out")"
        figures "$tmp/drift" "$tmp/k"
        check "plot of that drift: drift_kl_vs_bits with its interval" \
            '[ $rc -eq 0 ] && grep -qxF "drew    $tmp/k/drift_kl_vs_bits.svg (1 variant, with 95% intervals)" "$tmp/k.out"' \
            "rc=$rc $(cat "$tmp/k.out")"
    else
        skip "plots of the end-to-end run" "gnuplot not installed"
    fi
else
    skip "end to end: method columns" "fixtures missing ($F32)"
fi

done_testing
