#!/usr/bin/env bash
# deploy/local/cluster.sh end to end on synthetic data: up returns with every
# role SERVING, status notices a dead role, logs shows the logs, down stops
# exactly the processes up started (not a process that reused a recorded pid),
# a failed up leaves nothing running.
# usage: cluster_sh_test.sh SOURCE_DIR PSREC_BINARY
set -euo pipefail
source_dir=$1
psrec=$2
cluster=$source_dir/deploy/local/cluster.sh
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/psrec-cluster-test.XXXXXX")
decoy=
cleanup() {
  "$cluster" down --run-dir="$run_dir" >/dev/null 2>&1 || true
  [ -n "$decoy" ] && kill "$decoy" 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
c() { "$cluster" "$1" --run-dir="$run_dir" --psrec="$psrec" "${@:2}"; }
pids() { for f in "$run_dir"/*.pid; do read -r pid _ < "$f"; echo "$pid"; done; }

# A long run on a small synthetic data set, so that it outlasts the test.
c up --servers=2 --workers=2 --gen_users=200 --epochs=100000 --log_level=info ||
  fail "up failed"
out=$(c status) || fail "status non-zero with every role up: $out"
echo "$out"
[ "$(grep -c ' SERVING$' <<<"$out")" = 5 ] || fail "expected 5 SERVING roles"
grep -q -- "--flagfile=$run_dir/cluster.flags" <(tr '\0' ' ' < "/proc/$(pids | head -1)/cmdline") ||
  fail "roles do not read the run's flagfile"

c up && fail "a second up in the same run dir must refuse"

out=$(c logs --lines=5)
grep -q "==> $run_dir/coordinator.log <==" <<<"$out" || fail "logs lacks the coordinator: $out"
grep -q "joined" <<<"$(c logs worker-0)" || fail "worker-0's log does not say it joined"

read -r worker_pid _ < "$run_dir/worker-1.pid"
kill -KILL "$worker_pid"
for _ in $(seq 50); do [ -e "$run_dir/worker-1.exit" ] && break; sleep 0.1; done
if out=$(c status); then fail "status must be non-zero with a worker dead: $out"; fi
grep -q '^worker-1 .*EXITED(137)' <<<"$out" || fail "status does not report worker-1 dead: $out"

# A process reusing a recorded pid is not ours: simulate it with a pid file
# naming a live stranger (same pid, other start time).
sleep 300 &
decoy=$!
echo "$decoy 1" > "$run_dir/worker-1.pid"
all=$(pids)
c down || fail "down failed"
for pid in $all; do
  [ "$pid" = "$decoy" ] && continue
  kill -0 "$pid" 2>/dev/null && fail "pid $pid still alive after down"
done
kill -0 "$decoy" 2>/dev/null || fail "down killed a process it did not start"
if c status >/dev/null; then fail "status must be non-zero after down"; fi

# A role that cannot start makes up fail, and up leaves nothing behind.
if c up --model=no_such_model 2>"$run_dir/err"; then fail "up with a bad flag succeeded"; fi
grep -q "no_such_model" "$run_dir/err" || fail "up's error does not show the role's: $(cat "$run_dir/err")"
for f in "$run_dir"/*.pid; do [ -e "$f" ] && fail "pid file $f left after a failed up"; done
echo PASS
