#!/usr/bin/env bash
# coldtok sweep on a real Slurm. The test starts a single-node cluster from Debian's packages
# (slurm-wlm: slurmctld, slurmd; munge for authentication) on localhost, with its configuration,
# key, state and logs in a temporary folder and free ports, all as children of this script; submits
# a 4-task drift array over the demo family (the committed teacher against its Q8_0 and Q4_K) with
# the merge after it (--dependency=afterok); and checks the merged CSV files against a local
# unsharded run, byte for byte (drift_corpus.csv's seconds aside). Then a task that fails: the merge
# is cancelled, the task rerun alone with sbatch --array=I and a new merge gives the same files.
# Every daemon it started is stopped (trap). When the daemons cannot run here the Slurm part is
# skipped, saying why; the scripts' own checks (usage, quoting, refusals) run everywhere.
# The ASan build skips the Slurm part: it only runs drift and merge, which tests/cli_shard.sh covers.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/drift_csv.sh" # same_csvs
: "${COLDTOK:?set COLDTOK to the binary under test}"
tmp=$(mktemp -d /tmp/coldtok-slurm.XXXXXX)
chmod 755 "$tmp" # munged wants every folder above its socket searchable by all
daemons=()
stop_daemons() {
    local pid
    [ -n "${SLURM_CONF:-}" ] && scontrol shutdown >/dev/null 2>&1
    for pid in "${daemons[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${daemons[@]}"; do wait "$pid" 2>/dev/null; done
}
trap 'stop_daemons; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

# ---- the scripts, without Slurm ----
usage() { # NAME EXPECTED ARGS...
    local name=$1 want=$2; shift 2
    out=$("$COLDTOK" sweep "$@" 2>&1); rc=$?
    check "usage: $name" '[ $rc -eq 2 ] && [[ $out == *"$want"* ]]' "rc=$rc out=$out"
}
usage "no shard count" "give --shards N" -o "$tmp/u" -- -m a -m b --corpus c
usage "shards 0" "--shards takes a number from 1 to 65535" -n 0 -o "$tmp/u" -- -m a
usage "no -o" "give -o DIR" -n 2 -- -m a
usage "no drift options" "no drift options" -n 2 -o "$tmp/u" --
usage "drift options without --" "unknown option '-m'" -n 2 -o "$tmp/u" -m a
usage "an operand without --" "the drift options go after --" -n 2 -o "$tmp/u" data/samples
usage "-o among the drift options" "'-o' among the drift options: the sweep sets -o and --shard itself" -n 2 -o "$tmp/u" -- --corpus . -o x
usage "--positions of a probe sweep" "--positions is drift's" -n 2 -o "$tmp/u" --positions p.csv -- probe -m data/demo/teacher
usage "--csv among coverage's options" "'--csv' among the coverage options" -n 2 -o "$tmp/u" -- coverage -t data/demo/tokenizer.json --csv x.csv
usage "--shard among the drift options" "'--shard=1/2' among the drift options" -n 2 -o "$tmp/u" -- --corpus . --shard=1/2
usage "--positions abbreviated" "'--pos' among the drift options" -n 2 -o "$tmp/u" -- --corpus . --pos p.csv
usage "a value of two lines" "--time takes a value of one line" -n 2 -o "$tmp/u" --time $'1\n#SBATCH --x' -- --corpus .
usage "unknown option" "coldtok sweep: unknown option '--shrads' (did you mean '--shards'?)" --shrads 2
check "nothing written on a usage error" '[ ! -e "$tmp/u" ]' "$(ls -R "$tmp/u" 2>&1)"
out=$("$COLDTOK" sweep -n 2 -o "$tmp/u" -- -m "$tmp/no-such.gguf" --corpus . 2>&1); rc=$?
check "a missing model refused before any script" '[ $rc -eq 1 ] && [[ $out == *"no-such.gguf: no such file or folder"* ]] && [ ! -e "$tmp/u" ]' "rc=$rc out=$out"
mkdir -p "$tmp/a%b"
out=$("$COLDTOK" sweep -n 2 -o "$tmp/a%b/s" -- --corpus . 2>&1); rc=$?
check "a folder with % refused (#SBATCH --output)" '[ $rc -eq 1 ] && [[ $out == *"cannot hold a folder"* ]]' "rc=$rc out=$out"

# quoting: an argument with a quote and blanks reaches drift as one word, and the scripts parse
odd="$tmp/it's a corpus"
mkdir -p "$odd"
out=$("$COLDTOK" sweep -n 3 --max-parallel 2 --time 5 --mem 1G --cpus-per-task 2 --partition p1 \
      --sbatch=--qos=low -o "$tmp/q" -- --corpus "$odd" --lang python 2>&1); rc=$?
check "sweep writes three scripts" '[ $rc -eq 0 ] && [ -x "$tmp/q/drift.sbatch" ] && [ -x "$tmp/q/merge.sbatch" ] && [ -x "$tmp/q/submit.sh" ] && [ -d "$tmp/q/logs" ]' "rc=$rc out=$out"
has_line "drift.sbatch: the array and its resources" "$tmp/q/drift.sbatch" "#SBATCH --array=1-3%2" "#SBATCH --time=5" \
    "#SBATCH --mem=1G" "#SBATCH --cpus-per-task=2" "#SBATCH --partition=p1" "#SBATCH --qos=low" \
    "#SBATCH --output=$tmp/q/logs/drift-%A_%a.out"
has_line "merge.sbatch: shared lines only" "$tmp/q/merge.sbatch" "#SBATCH --partition=p1" "#SBATCH --qos=low" \
    "#SBATCH --output=$tmp/q/logs/merge-%j.out"
check "merge.sbatch: not the tasks' resources" '! grep -q -e --time -e --mem -e --cpus "$tmp/q/merge.sbatch"' "$(cat "$tmp/q/merge.sbatch")"
check "the scripts are valid sh" 'sh -n "$tmp/q/drift.sbatch" && sh -n "$tmp/q/merge.sbatch" && sh -n "$tmp/q/submit.sh"' ""
out=$("$COLDTOK" sweep -n 2 -o "$tmp/cov" -- coverage -t demo=data/demo/tokenizer.json -t data/demo/teacher 2>&1); rc=$?
check "a coverage sweep: coverage.sbatch, NAME=PATH tokenizers checked as paths" '[ $rc -eq 0 ] && [ -x "$tmp/cov/coverage.sbatch" ] && grep -q "^array=\$(sbatch --parsable $tmp/cov/coverage.sbatch)" "$tmp/cov/submit.sh"' "rc=$rc out=$out"
out=$("$COLDTOK" sweep -n 2 -o "$tmp/u" -- coverage -t demo=data/demo/no-such.json 2>&1); rc=$?
check "a coverage sweep: a missing tokenizer refused" '[ $rc -eq 1 ] && [[ $out == *"data/demo/no-such.json: no such file"* ]]' "rc=$rc out=$out"
# run the task's and the merge's command lines with a stand-in coldtok that prints its arguments
printf '#!/bin/sh\nfor a in "$@"; do printf "[%%s]" "$a"; done; echo\n' > "$tmp/echo-coldtok"
chmod +x "$tmp/echo-coldtok"
"$COLDTOK" sweep -n 3 -o "$tmp/e" --coldtok "$tmp/echo-coldtok" --positions "$tmp/p os.csv" -- --corpus "$odd" --lang python >/dev/null 2>&1
got=$(SLURM_ARRAY_TASK_ID=2 sh "$tmp/e/drift.sbatch")
is "task 2 runs drift --shard 2/3, the odd path one word" "[drift][--corpus][$odd][--lang][python][--shard][2/3][-o][$tmp/e/shards/2]" "$got"
got=$(sh "$tmp/e/merge.sbatch")
is "the merge names every shard, in order" "[merge][$tmp/e/shards/1][$tmp/e/shards/2][$tmp/e/shards/3][-o][$tmp/e/results][--positions][$tmp/p os.csv]" "$got"
out=$(sh "$tmp/e/drift.sbatch" 2>&1); rc=$?
check "drift.sbatch outside an array says so" '[ $rc -ne 0 ] && [[ $out == *"submit this script with sbatch"* ]]' "rc=$rc out=$out"
# submit.sh against a stand-in sbatch (ids with a cluster name, as --parsable prints them)
mkdir -p "$tmp/bin"
printf '#!/bin/sh\necho "$*" >> %s/sbatch.log\nn=$(wc -l < %s/sbatch.log)\necho "$((40 + n));cl"\n' "$tmp" "$tmp" > "$tmp/bin/sbatch"
chmod +x "$tmp/bin/sbatch"
out=$(PATH="$tmp/bin:$PATH" "$COLDTOK" sweep -n 3 -o "$tmp/f" --submit -- --corpus "$odd" 2>&1); rc=$?
check "--submit: the array, then the merge afterok on it" '[ $rc -eq 0 ] && [[ $out == *"submitted: array job 41 (3 tasks), merge job 42 (afterok:41)"* ]] && [ "$(sed -n 2p "$tmp/sbatch.log")" = "--parsable --dependency=afterok:41 $tmp/f/merge.sbatch" ] && [ "$(cat "$tmp/f/jobs")" = "$(printf "array 41\nmerge 42")" ]' \
    "rc=$rc out=$out log=$(cat "$tmp/sbatch.log")"
printf '#!/bin/sh\necho "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2\nexit 1\n' > "$tmp/bin/sbatch"
out=$(PATH="$tmp/bin:$PATH" "$COLDTOK" sweep -n 3 -o "$tmp/g" --submit -- --corpus "$odd" 2>&1); rc=$?
check "--submit: sbatch's refusal is reported, exit 1" '[ $rc -eq 1 ] && [[ $out == *"Invalid partition"* ]] && [[ $out == *"submit.sh failed (exit 1)"* ]]' "rc=$rc out=$out"

# ---- the Slurm part ----
slurm_skip() { skip "$1" "$2"; done_testing; exit 0; }
[[ $COLDTOK == *asan* ]] && slurm_skip "sweep on Slurm" "sanitizer build: the jobs only run drift and merge (tests/cli_shard.sh)"
for prog in munged munge slurmctld slurmd sbatch scontrol sinfo; do
    command -v "$prog" >/dev/null 2>&1 || [ -x "/usr/sbin/$prog" ] ||
        slurm_skip "sweep on Slurm" "$prog not installed (Debian: apt-get install slurm-wlm munge)"
done
PATH=$PATH:/usr/sbin
[ "$(id -u)" = 0 ] || slurm_skip "sweep on Slurm" "slurmd runs jobs as their users: it needs root (this test runs as $(id -un))"
[ -f data/demo/teacher/model.safetensors ] || slurm_skip "sweep on Slurm" "data/demo/teacher absent"

# two free ports (nothing answers on them)
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}
ctld_port=$(free_port) slurmd_port=$(free_port)
s=$tmp/slurm
mkdir -p "$s/munge" "$s/run" "$s/state" "$s/spool" "$s/log"
chmod 700 "$s/munge"
chmod 755 "$s" "$s/run"
head -c 1024 /dev/urandom > "$s/munge/munge.key" && chmod 400 "$s/munge/munge.key"
munged -F --socket="$s/run/munge.sock" --key-file="$s/munge/munge.key" --log-file="$s/log/munged.log" \
    --pid-file="$s/run/munged.pid" --seed-file="$s/munge/seed" > "$s/log/munged.out" 2>&1 &
daemons+=($!)
for _ in $(seq 50); do [ -S "$s/run/munge.sock" ] && break; kill -0 "${daemons[0]}" 2>/dev/null || break; sleep 0.1; done
munge -S "$s/run/munge.sock" -n 2>/dev/null | unmunge -S "$s/run/munge.sock" >/dev/null 2>&1 ||
    slurm_skip "sweep on Slurm" "munged does not run here: $(tail -1 "$s/log/munged.log" 2>/dev/null; cat "$s/log/munged.out")"

cpus=$(slurmd -C 2>/dev/null | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p')
host=$(hostname -s)
cat > "$s/slurm.conf" <<EOF
ClusterName=coldtoktest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$s/run/munge.sock
CredType=cred/munge
SlurmUser=$(id -un)
SlurmdUser=root
StateSaveLocation=$s/state
SlurmdSpoolDir=$s/spool
SlurmctldPidFile=$s/run/slurmctld.pid
SlurmdPidFile=$s/run/slurmd.pid
SlurmctldLogFile=$s/log/slurmctld.log
SlurmdLogFile=$s/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=600
DependencyParameters=kill_invalid_depend
NodeName=ctnode NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=${cpus:-1} State=UNKNOWN
PartitionName=test Nodes=ctnode Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$s/slurm.conf
slurmctld -D -i -f "$SLURM_CONF" > "$s/log/slurmctld.out" 2>&1 &
daemons+=($!)
slurmd -D -f "$SLURM_CONF" -N ctnode > "$s/log/slurmd.out" 2>&1 &
daemons+=($!)
state=""
for _ in $(seq 100); do
    state=$(sinfo -h -n ctnode -o %T 2>/dev/null)
    [ "$state" = idle ] && break
    kill -0 "${daemons[1]}" 2>/dev/null && kill -0 "${daemons[2]}" 2>/dev/null || break
    sleep 0.2
done
if [ "$state" != idle ]; then
    logs=("$s/log/slurmctld.log" "$s/log/slurmd.log" "$s/log/slurmctld.out" "$s/log/slurmd.out")
    why=$(grep -h -i fatal "${logs[@]}" 2>/dev/null | tail -1)
    [ -n "$why" ] || why=$(grep -h -i error "${logs[@]}" 2>/dev/null | grep -v -i -E "pmix|state file|state save" | tail -1)
    slurm_skip "sweep on Slurm" "slurmctld/slurmd did not bring the node up (state '${state:-none}'): ${why:-no error logged}"
fi
ok "a single-node Slurm runs here (slurmctld, slurmd on ports $ctld_port, $slurmd_port; munged)"

# Waits until every job of ID (an array's tasks too) has ended; prints their states, one a line.
wait_job() {
    local id=$1 states
    for _ in $(seq 600); do
        states=$(scontrol show job "$id" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
        if [ -n "$states" ] && ! grep -q -E '^(PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED)' <<< "$states"; then
            echo "$states"
            return
        fi
        sleep 0.25
    done
    echo "$states TIMEOUT-OF-TEST"
}

# the demo family: the teacher (Hugging Face folder) against two coldtok quantizations
for t in Q8_0 Q4_K; do
    "$COLDTOK" quantize -m data/demo/teacher --type $t -o "$tmp/teacher-$t.gguf" >/dev/null 2>&1
done
RUN=(-m data/demo/teacher -m "$tmp/teacher-Q8_0.gguf" -m "$tmp/teacher-Q4_K.gguf" --corpus data/samples
     --ctx 64 --max-tokens 2048 --seed 5 --bootstrap 100 --compare)
out=$("$COLDTOK" drift "${RUN[@]}" -o "$tmp/full" 2>&1); rc=$?
check "the local unsharded run" '[ $rc -eq 0 ] && [ -s "$tmp/full/drift_compare.csv" ]' "rc=$rc out=$out"

# 4 tasks and the merge after them
t0=$(date +%s)
out=$("$COLDTOK" sweep -n 4 -o "$tmp/sw" --submit -- "${RUN[@]}" 2>&1); rc=$?
array=$(sed -n 's/^array //p' "$tmp/sw/jobs" 2>/dev/null) merge=$(sed -n 's/^merge //p' "$tmp/sw/jobs" 2>/dev/null)
check "sweep --submit: the array and the merge submitted" '[ $rc -eq 0 ] && [ -n "$array" ] && [ -n "$merge" ]' "rc=$rc out=$out"
states=$(wait_job "$array")
check "4 array tasks completed" '[ "$(grep -c "^COMPLETED$" <<< "$states")" -eq 4 ] && [ "$(wc -l <<< "$states")" -eq 4 ]' \
    "states: $states; $(tail -n 3 "$tmp/sw/logs/"drift-* 2>&1)"
states=$(wait_job "$merge")
is "the merge job completed after them" "COMPLETED" "$states"
shards_logged() { local i; for i in 1 2 3 4; do grep -q "^shard $i/4: " "$tmp/sw/logs/drift-${array}_$i.out" || return 1; done; }
check "each task was one shard, logged by Slurm" shards_logged \
    "$(cat "$tmp/sw/logs/"drift-* 2>&1)"
check "the merge job printed drift's tables" 'grep -q "Drift from teacher" "$tmp/sw/logs/merge-$merge.out"' "$(cat "$tmp/sw/logs/merge-$merge.out" 2>&1)"
same_csvs "merged on Slurm" "$tmp/full" "$tmp/sw/results" 5
echo "# 4 tasks and the merge on Slurm: $(($(date +%s) - t0)) s"

# a task that fails: shard 3's folder is a file, so task 3 cannot write it
"$COLDTOK" sweep -n 4 -o "$tmp/fail" -- "${RUN[@]}" >/dev/null 2>&1
mkdir -p "$tmp/fail/shards" && : > "$tmp/fail/shards/3"
sh "$tmp/fail/submit.sh" >/dev/null 2>&1
array=$(sed -n 's/^array //p' "$tmp/fail/jobs") merge=$(sed -n 's/^merge //p' "$tmp/fail/jobs")
states=$(wait_job "$array")
check "task 3 failed, the others completed" '[ "$(grep -c "^COMPLETED$" <<< "$states")" -eq 3 ] && [ "$(grep -c "^FAILED$" <<< "$states")" -eq 1 ] && grep -q "exists but is not a folder" "$tmp/fail/logs/drift-${array}_3.out"' \
    "states: $states; $(cat "$tmp/fail/logs/drift-${array}_3.out" 2>&1)"
states=$(wait_job "$merge")
check "the merge never ran (its dependency can never be met) and wrote nothing" '[ "$states" = CANCELLED ] && [ ! -e "$tmp/fail/results" ]' "states: $states"
rm "$tmp/fail/shards/3"
rerun=$(sbatch --parsable --array=3 "$tmp/fail/drift.sbatch") && rerun=${rerun%%;*}
remerge=$(sbatch --parsable --dependency=afterok:"$rerun" "$tmp/fail/merge.sbatch") && remerge=${remerge%%;*}
states=$(wait_job "$rerun")
is "task 3 rerun alone (sbatch --array=3)" "COMPLETED" "$states"
states=$(wait_job "$remerge")
is "the merge submitted after it completed" "COMPLETED" "$states"
same_csvs "merged after the rerun" "$tmp/full" "$tmp/fail/results" 5

# coverage, 2 tasks (another command through the same scripts and merge)
TK=(-t demo=data/demo/tokenizer.json -t data/demo/teacher -t data/demo/student)
"$COLDTOK" coverage "${TK[@]}" -o "$tmp/cfull" >/dev/null 2>&1
"$COLDTOK" sweep -n 2 -o "$tmp/csw" --submit -- coverage "${TK[@]}" >/dev/null 2>&1
merge=$(sed -n 's/^merge //p' "$tmp/csw/jobs" 2>/dev/null)
states=$(wait_job "$merge")
is "a coverage sweep: the merge job completed" "COMPLETED" "$states"
check "a coverage sweep: the local run's CSV files" 'cmp -s "$tmp/cfull/coverage.csv" "$tmp/csw/results/coverage.csv" && cmp -s "$tmp/cfull/coverage_summary.csv" "$tmp/csw/results/coverage_summary.csv"' \
    "$(ls "$tmp/csw/results" 2>&1; cat "$tmp/csw/logs/"* 2>&1 | tail -5)"

# every daemon stopped
stop_daemons
alive=""
for pid in "${daemons[@]}"; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
check "every daemon the test started has stopped" '[ -z "$alive" ]' "still running:$alive"
daemons=()
done_testing
