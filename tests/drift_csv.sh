# Sourced by the drift test scripts that compare two runs' outputs (after tests/tap.sh):
#   same_csvs NAME A B [MIN]   one check: every CSV file of folder A is byte for byte the one of
#                              the same name in B, drift_corpus.csv without its `seconds` row (no
#                              two runs agree on it); B holds a drift.csv; A has at least MIN
#                              (default 4) CSV files.
same_csvs() {
    local name=$1 a=$2 b=$3 min=${4:-4} f nf=0 bad=""
    for f in "$a"/*.csv; do
        nf=$((nf + 1))
        f=$(basename "$f")
        if [ "$f" = drift_corpus.csv ]; then
            cmp -s <(grep -v '^seconds,' "$a/$f" 2> /dev/null) <(grep -v '^seconds,' "$b/$f" 2> /dev/null) || bad="$bad $f"
        else
            cmp -s "$a/$f" "$b/$f" || bad="$bad $f"
        fi
    done
    [ -e "$b/drift.csv" ] || bad="$bad (no drift.csv in $b)"
    check "$name: every CSV identical ($nf files)" '[ -z "$bad" ] && [ $nf -ge $min ]' "differ:$bad"
}
