#!/usr/bin/env bash
# The house rules of docs/architecture.md, checked against the code (TAP):
#   1. a source file includes only headers of its own layer or of lower ones;
#   2. no include cycle between files;
#   3. no call cycle between .c files and no call from a lower layer into a higher one, read from
#      the objects of the build folder given as $1 (default build);
#   4. no source file over 850 lines (the guide says "about 800").
# The layer order is read from docs/architecture.md's line "layers, lowest first: ...".
set -u
cd "$(dirname "$0")/.."
. "$(dirname "$0")/tap.sh"

layers=$(sed -n 's/^layers, lowest first: *//p' docs/architecture.md)
[ -n "$layers" ] || { notok "docs/architecture.md has no 'layers, lowest first:' line"; done_testing; exit 1; }
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
else notok "includes that go up a layer" "${bad%$'\n'}"; fi

# 2. no include cycle between files (a header including itself through others)
edges=$(for f in $sources; do
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | sed "s|^|$f |"
done)
if out=$(printf '%s\n' "$edges" | tsort 2>&1 >/dev/null) && [ -z "$out" ]; then
    ok "no include cycle between files"
else
    notok "include cycle between files" "$out"
fi

# 3. no call cycle between .c files, and no call into a higher layer: from the symbols each object
#    defines and uses (nm), so a header shared by several .c files cannot hide a file calling back
#    the one that calls it.
build=${1:-build}
objs=$(for l in $layers; do ls "$build/$l"/*.o 2>/dev/null; done)
if [ -z "$objs" ]; then
    skip "calls between .c files" "no objects in $build (run make first)"
else
    declare -A owner
    while read -r o sym; do owner[$sym]=$o; done < <(for o in $objs; do
        nm --defined-only -g "$o" | awk -v o="$o" '$2 ~ /[TDBRV]/ {print o, $3}'; done)
    calls=$(for o in $objs; do
        nm -u "$o" | awk '{print $2}' | while read -r sym; do
            d=${owner[$sym]:-}
            [ -n "$d" ] && [ "$d" != "$o" ] && echo "$o $d"
        done
    done | sort -u)
    up=""
    while read -r a b; do
        [ -n "$a" ] || continue
        la=${a#"$build"/}; la=${la%%/*}; lb=${b#"$build"/}; lb=${lb%%/*}
        [ "${rank[$lb]}" -gt "${rank[$la]}" ] && up+="  ${a#"$build"/} calls into ${b#"$build"/}"$'\n'
    done <<< "$calls"
    if out=$(printf '%s\n' "$calls" | tsort 2>&1 >/dev/null) && [ -z "$out" ] && [ -z "$up" ]; then
        ok "no call cycle between .c files and no call into a higher layer"
    else
        notok "calls between .c files" "$up$out"
    fi
fi

# 4. file size
long=$(for f in $sources; do
    case $f in *.c) lines=$(wc -l < "$f"); [ "$lines" -gt 850 ] && echo "  $f: $lines lines";; esac
done)
if [ -z "$long" ]; then ok "no source file over 850 lines"
else notok "source files over 850 lines" "$long"; fi

done_testing
