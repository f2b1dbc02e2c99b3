#!/usr/bin/env bash
# A real multi-host run: the coordinator, two servers and two workers each in
# their own network namespace with their own address, joined by veth links to
# a bridge (a "switch" namespace), started by deploy/ssh/launch.sh with
# `ip netns exec` standing in for ssh. Mid-run, worker-1's link is cut
# (`ip link set ... down`): the run must still complete, and the test reports
# which data shards the coordinator took back from the cut worker. Every
# namespace and process it made is removed at the end.
# Needs root and iproute2; skips (77) otherwise, unless PSREC_REQUIRE_DATA=1.
# usage: multihost_test.sh SOURCE_DIR PSREC_BINARY
set -euo pipefail
source_dir=$1
psrec=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() {
  [ "${PSREC_REQUIRE_DATA:-}" = 1 ] && fail "$1, and PSREC_REQUIRE_DATA=1 makes that a failure"
  echo "SKIP: $1"
  exit 77
}
[ "$(id -u)" = 0 ] || skip "not root (network namespaces need root)"
command -v ip >/dev/null || skip "no ip command (iproute2)"

tag=pm$$  # short: interface names have at most 15 characters
switch=$tag-sw
hosts=(coord srv0 srv1 wrk0 wrk1)
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/psrec-multihost.XXXXXX")
launch() {
  "$source_dir/deploy/ssh/launch.sh" "$run_dir/hosts" "$1" --run-dir="$run_dir/run" \
    --psrec="$psrec" --ssh="$source_dir/tests/deploy/netns_exec.sh" "${@:2}"
}
cleanup() {
  launch down >/dev/null 2>&1 || true
  for h in "${hosts[@]}"; do ip netns del "$tag-$h" 2>/dev/null || true; done
  ip netns del "$switch" 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT

ip netns add "$switch" 2>/dev/null || skip "cannot create network namespaces here"
ip -n "$switch" link add br0 type bridge
ip -n "$switch" link set br0 up
declare -A address
n=1
for h in "${hosts[@]}"; do
  ns=$tag-$h
  address[$h]=10.213.0.$n
  ip netns add "$ns"
  ip link add "$tag$n" netns "$ns" type veth peer name "$tag${n}b" netns "$switch"
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "${address[$h]}/24" dev "$tag$n"
  ip -n "$ns" link set "$tag$n" up
  ip -n "$switch" link set "$tag${n}b" master br0 up
  n=$((n + 1))
done

cat > "$run_dir/hosts" <<EOF
coordinator $tag-coord ${address[coord]}
server      $tag-srv0  ${address[srv0]}
server      $tag-srv1  ${address[srv1]}
worker      $tag-wrk0  ${address[wrk0]}
worker      $tag-wrk1  ${address[wrk1]}
EOF
mkdir -p "$run_dir/run"
# Small synthetic data, enough epochs to outlast the cut; a cut worker's
# leases return after 3 s of silence; the model is written at the end.
launch up --gen_users=400 --epochs=40 --data_shards=8 --lease_timeout_seconds=3 \
  --timeout_seconds=20 --model_out="$run_dir/model" --log_level=info --timeout=60 ||
  fail "launch.sh up failed"
launch status || fail "status: not every role is SERVING"

# Cut worker-1 off once training is under way.
sleep 1
ip -n "$tag-wrk1" link set "${tag}5" down
echo "cut worker-1's link (${tag}5 in $tag-wrk1) at $(date +%T.%N | cut -c1-12)"

launch wait --timeout=50 || fail "the run did not complete after the cut (coordinator log: $(tail -n 20 "$run_dir/run/coordinator.log"))"
[ -f "$run_dir/model/model.json" ] || fail "no model.json written"
[ -f "$run_dir/model/shard-0.psm" ] && [ -f "$run_dir/model/shard-1.psm" ] ||
  fail "a server's shard file is missing"
[ "$(cat "$run_dir/run/worker-0.exit" 2>/dev/null)" = 0 ] || fail "worker-0 did not finish cleanly"
# The cut worker cannot hear that the run is over; it would give up only after
# its --timeout_seconds of retries.
# (It may also have finished before the cut: then there is nothing to kill.)
read -r cut_worker _ < "$run_dir/run/worker-1.pid"
kill -KILL "$cut_worker" 2>/dev/null || true
cut_id=$(grep -o '\[worker [0-9]*\]' "$run_dir/run/worker-1.log" | head -1 | tr -dc 0-9)
echo "re-leased after the cut (worker-1 is the coordinator's worker ${cut_id:-?}):"
grep "goes back to the pool" "$run_dir/run/coordinator.log" ||
  echo "  nothing: worker-1 held no lease when its link went down"
launch status || true
echo PASS
