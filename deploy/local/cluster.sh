#!/usr/bin/env bash
# A psrec cluster on this machine as background processes: a coordinator,
# N servers and M workers, with pid files, port files and logs under a run
# directory.
#
#   cluster.sh up     [options] [psrec flags...]   start; returns once every role is SERVING
#   cluster.sh status [options]                    who is alive; non-zero if any role is not SERVING
#   cluster.sh logs   [options] [--lines=N] [--follow] [ROLE...]
#   cluster.sh down   [options]                    stop exactly the processes `up` started
#
# options:
#   --run-dir=DIR          pid, port, log and flag files (default /tmp/psrec-cluster-$USER)
#   --servers=N            parameter servers (default 2)
#   --workers=M            workers (default 2)
#   --host=ADDR            address every role listens on (default 127.0.0.1)
#   --coordinator-port=P   the coordinator's port (default 0: the OS chooses)
#   --psrec=PATH           the psrec binary (default $PSREC, else build/psrec of this
#                          source tree, else psrec on PATH)
#   --timeout=SECONDS      how long `up` waits for every role to be SERVING (default 120)
# Every other argument is a psrec flag, written to RUN_DIR/cluster.flags, which every
# role reads with --flagfile. Without --train, `up` writes psrec's synthetic data set
# into RUN_DIR/data and trains on it.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "cluster.sh: $*" >&2; exit 2; }

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

# ---- arguments -------------------------------------------------------------
[ $# -ge 1 ] || { usage >&2; exit 2; }
command=$1
shift
run_dir=${PSREC_RUN_DIR:-/tmp/psrec-cluster-$(id -un)}
servers=2
workers=2
host=127.0.0.1
coordinator_port=0
psrec=${PSREC:-}
timeout=120
lines=20
follow=0
psrec_flags=()
log_roles=()
for arg in "$@"; do
  case $arg in
    --run-dir=*|--run_dir=*) run_dir=${arg#*=} ;;
    --servers=*) servers=${arg#*=} ;;
    --workers=*) workers=${arg#*=} ;;
    --host=*) host=${arg#*=} ;;
    --coordinator-port=*|--coordinator_port=*) coordinator_port=${arg#*=} ;;
    --psrec=*) psrec=${arg#*=} ;;
    --timeout=*) timeout=${arg#*=} ;;
    --lines=*) lines=${arg#*=} ;;
    --follow|-f) follow=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) psrec_flags+=("$arg") ;;
    *) [ "$command" = logs ] && log_roles+=("$arg") || die "unexpected argument '$arg'" ;;
  esac
done
[[ $servers =~ ^[1-9][0-9]*$ ]] || die "--servers=$servers: must be a positive number"
[[ $workers =~ ^[1-9][0-9]*$ ]] || die "--workers=$workers: must be a positive number"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout=$timeout: must be a positive number of seconds"
if [ -z "$psrec" ]; then
  if [ -x "$script_dir/../../build/psrec" ]; then
    psrec=$(cd "$script_dir/../../build" && pwd)/psrec
  else
    psrec=$(command -v psrec || true)
  fi
fi

# ---- process bookkeeping ----------------------------------------------------
# A pid file holds "PID STARTTIME": the start time (in clock ticks since boot,
# /proc/PID/stat field 22) tells our process from a later one that reused its pid.
start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }  # the command name may hold spaces and parentheses
  set -- $stat
  echo "${20}"
}

# Prints the pid of role $1 if it is still the process we started.
live_pid() {
  local file=$run_dir/$1.pid pid started now
  [ -s "$file" ] || return 1
  read -r pid started < "$file"
  now=$(start_time "$pid") || return 1
  [ "$now" = "$started" ] || return 1
  echo "$pid"
}

# Roles with a pid file, in start order: coordinator, servers, workers.
roles() {
  local f
  [ -e "$run_dir/coordinator.pid" ] && echo coordinator
  for f in "$run_dir"/server-*.pid "$run_dir"/worker-*.pid; do
    [ -e "$f" ] || continue
    f=${f##*/}
    echo "${f%.pid}"
  done | sort -t- -k1,1 -k2,2n
}

# The address to dial for role $1 (its port file holds the port it bound).
address_of() {
  local port dial=$host
  [ -s "$run_dir/$1.port" ] || return 1
  read -r port < "$run_dir/$1.port"
  [ "$dial" = 0.0.0.0 ] && dial=127.0.0.1
  echo "$dial:$port"
}

# Starts `psrec ARGS...` as role $1 in the background. A small waiting shell
# records the exit status in NAME.exit; the psrec process itself gets the pid
# file. SIGHUP is ignored so that closing the terminal leaves the cluster up.
launch() {
  local name=$1
  shift
  rm -f "$run_dir/$name.pid" "$run_dir/$name.port" "$run_dir/$name.exit"
  (
    trap '' HUP
    "$psrec" "$@" --ready_fd=3 3>"$run_dir/$name.port" >>"$run_dir/$name.log" 2>&1 &
    pid=$!
    echo "$pid $(start_time "$pid")" > "$run_dir/$name.pid.tmp"
    mv "$run_dir/$name.pid.tmp" "$run_dir/$name.pid"
    status=0
    wait "$pid" || status=$?
    echo "$status" > "$run_dir/$name.exit"
  ) </dev/null >/dev/null 2>&1 &
}

# Waits until role $1 has reported its port; fails if it exits first.
wait_for_port() {
  local name=$1 deadline=$((SECONDS + timeout))
  while [ ! -s "$run_dir/$name.port" ]; do
    if [ -e "$run_dir/$name.exit" ]; then
      echo "cluster.sh: $name exited with status $(cat "$run_dir/$name.exit") before listening;" \
           "last lines of $run_dir/$name.log:" >&2
      tail -n 20 "$run_dir/$name.log" >&2
      return 1
    fi
    [ $SECONDS -lt $deadline ] || { echo "cluster.sh: $name reported no port in ${timeout}s" >&2; return 1; }
    sleep 0.05
  done
}

# SIGTERM to every live role (workers first, the coordinator last), SIGKILL
# after a grace period; only pids whose start time matches the pid file.
stop_all() {
  local name pid grace_end stopped=()
  for name in $(roles | tac); do
    pid=$(live_pid "$name") || continue
    kill -TERM "$pid" 2>/dev/null || true
    stopped+=("$name:$pid")
  done
  grace_end=$((SECONDS + 10))
  for entry in "${stopped[@]+"${stopped[@]}"}"; do
    name=${entry%%:*}
    while pid=$(live_pid "$name"); do
      if [ $SECONDS -ge $grace_end ]; then
        kill -KILL "$pid" 2>/dev/null || true
        echo "$name (pid $pid) did not stop in 10s: killed" >&2
        sleep 0.1
        break
      fi
      sleep 0.05
    done
  done
  for entry in "${stopped[@]+"${stopped[@]}"}"; do echo "stopped ${entry%%:*} (pid ${entry#*:})"; done
  for name in $(roles); do rm -f "$run_dir/$name.pid"; done
}

# ---- commands -----------------------------------------------------------------
cmd_up() {
  [ -n "$psrec" ] && [ -x "$psrec" ] || die "no psrec binary (build it, or give --psrec=PATH)"
  mkdir -p "$run_dir"
  local name
  for name in $(roles); do
    if live_pid "$name" >/dev/null; then
      die "a cluster is already up in $run_dir ($name is alive); run: cluster.sh down --run-dir=$run_dir"
    fi
  done
  rm -f "$run_dir"/*.pid "$run_dir"/*.port "$run_dir"/*.exit

  local flags=("${psrec_flags[@]+"${psrec_flags[@]}"}") has_train=0 f
  for f in "${flags[@]+"${flags[@]}"}"; do
    case $f in --train=*) has_train=1 ;; esac
  done
  if [ $has_train = 0 ]; then
    "$psrec" gen --out="$run_dir/data" "${flags[@]+"${flags[@]}"}" > "$run_dir/gen.log" 2>&1 ||
      { cat "$run_dir/gen.log" >&2; die "psrec gen failed"; }
    flags+=("--train=$run_dir/data/train.rating")
  fi
  flags+=("--servers=$servers" "--workers=$workers")
  printf '%s\n' "# written by cluster.sh up; every role reads it with --flagfile" \
    "${flags[@]}" > "$run_dir/cluster.flags"
  local flagfile=--flagfile=$run_dir/cluster.flags

  launch coordinator coordinator "$flagfile" --host="$host" --port="$coordinator_port"
  wait_for_port coordinator || { stop_all >/dev/null; exit 1; }
  local coordinator dial_host=$host
  coordinator=$(address_of coordinator)
  [ "$dial_host" = 0.0.0.0 ] && dial_host=127.0.0.1
  local i
  for ((i = 0; i < servers; i++)); do
    launch "server-$i" server "$flagfile" --coordinator="$coordinator" --host="$host" --port=0 \
      --advertise_host="$dial_host"
  done
  for ((i = 0; i < workers; i++)); do
    launch "worker-$i" worker "$flagfile" --coordinator="$coordinator" --host="$host" --port=0
  done
  local all=(coordinator)
  for ((i = 0; i < servers; i++)); do all+=("server-$i"); done
  for ((i = 0; i < workers; i++)); do all+=("worker-$i"); done
  local deadline=$((SECONDS + timeout)) left
  for name in "${all[@]}"; do
    wait_for_port "$name" || { stop_all >/dev/null; exit 1; }
    left=$((deadline - SECONDS))
    [ $left -gt 0 ] || left=1
    # The run's flags: with TLS ("Security" in the README) the probe needs them too.
    if ! "$psrec" health "$flagfile" --target="$(address_of "$name")" --wait_seconds="$left" \
        >/dev/null 2>&1; then
      echo "cluster.sh: $name is not SERVING after ${timeout}s; last lines of $run_dir/$name.log:" >&2
      tail -n 20 "$run_dir/$name.log" >&2
      stop_all >/dev/null
      exit 1
    fi
  done
  echo "cluster up in $run_dir: coordinator $coordinator, $servers servers, $workers workers (all SERVING)"
}

cmd_status() {
  local names name pid health code=0
  names=$(roles)
  [ -n "$names" ] || { echo "no cluster in $run_dir"; exit 1; }
  printf '%-14s %-8s %-22s %s\n' ROLE PID ADDRESS STATUS
  for name in $names; do
    if pid=$(live_pid "$name"); then
      health=$("$psrec" health --flagfile="$run_dir/cluster.flags" \
        --target="$(address_of "$name")" 2>/dev/null) || code=1
    else
      pid=-
      if [ -s "$run_dir/$name.exit" ]; then
        health="EXITED($(cat "$run_dir/$name.exit"))"
      else
        health=GONE
      fi
      code=1
    fi
    printf '%-14s %-8s %-22s %s\n' "$name" "$pid" "$(address_of "$name" || echo -)" "$health"
  done
  return $code
}

cmd_logs() {
  local files=() name
  if [ ${#log_roles[@]} -eq 0 ]; then
    for name in $(roles); do files+=("$run_dir/$name.log"); done
  else
    for name in "${log_roles[@]}"; do
      [ -e "$run_dir/$name.log" ] || die "no log for '$name' in $run_dir"
      files+=("$run_dir/$name.log")
    done
  fi
  [ ${#files[@]} -gt 0 ] || die "no cluster in $run_dir"
  if [ $follow = 1 ]; then
    exec tail -n "$lines" -F "${files[@]}"
  fi
  tail -v -n "$lines" "${files[@]}"
}

cmd_down() {
  [ -n "$(roles)" ] || { echo "no cluster in $run_dir"; return 0; }
  stop_all
}

case $command in
  up) cmd_up ;;
  status) cmd_status ;;
  logs) cmd_logs ;;
  down) cmd_down ;;
  -h|--help|help) usage ;;
  *) die "unknown command '$command' (up, status, logs, down)" ;;
esac
