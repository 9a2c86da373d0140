#!/usr/bin/env bash
# The house rules of docs/architecture.md, checked against the code (TAP):
#   1. a source file includes only headers of its own layer or of lower ones;
#   2. no cycle between modules (a module is NAME.c with NAME.h; a header without a .c is its own);
#   3. no source file over 850 lines (the guide says "about 800").
# The layer order is read from docs/architecture.md's line "layers, lowest first: ...".
set -u
cd "$(dirname "$0")/.."
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }

layers=$(sed -n 's/^layers, lowest first: *//p' docs/architecture.md)
[ -n "$layers" ] || { echo "not ok 1 - docs/architecture.md has no 'layers, lowest first:' line"; exit 1; }
declare -A rank
i=0
for l in $layers; do rank[$l]=$i; i=$((i + 1)); done

sources=$(for l in $layers; do ls "$l"/*.[ch] 2>/dev/null; done)

# 1. includes go down (or stay in the layer)
bad=""
for f in $sources; do
    from=${f%%/*}
    while IFS= read -r inc; do
        to=${inc%%/*}
        if [ -z "${rank[$to]+x}" ]; then
            bad+="  $f includes \"$inc\": not under a layer folder"$'\n'
        elif [ "${rank[$to]}" -gt "${rank[$from]}" ]; then
            bad+="  $f ($from) includes $inc ($to, a higher layer)"$'\n'
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
if [ -z "$bad" ]; then ok "every include goes to the same or a lower layer ($layers)"
else not_ok "includes that go up a layer"; printf '%s' "$bad" | sed 's/^/# /'; fi

# 2. no cycle between modules: edges module -> module from every include, then tsort
module() { local p=${1%.[ch]}; echo "$p"; }
edges=$(for f in $sources; do
    m=$(module "$f")
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while IFS= read -r inc; do
        t=$(module "$inc")
        [ "$t" != "$m" ] && echo "$m $t"
    done
done)
if out=$(printf '%s\n' "$edges" | tsort 2>&1 >/dev/null) && [ -z "$out" ]; then
    ok "no include cycle between modules"
else
    not_ok "include cycle between modules"; printf '%s\n' "$out" | sed 's/^/# /'
fi

# 3. file size
long=$(for f in $sources; do
    case $f in *.c) lines=$(wc -l < "$f"); [ "$lines" -gt 850 ] && echo "  $f: $lines lines";; esac
done)
if [ -z "$long" ]; then ok "no source file over 850 lines"
else not_ok "source files over 850 lines"; printf '%s\n' "$long" | sed 's/^/# /'; fi

echo "1..$n"
exit $failed
