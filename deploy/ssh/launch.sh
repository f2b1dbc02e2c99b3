#!/usr/bin/env bash
# A psrec cluster across machines, started over ssh from one hosts file.
#
#   launch.sh HOSTS_FILE up     [options] [psrec flags...]  start every role; returns once all are SERVING
#   launch.sh HOSTS_FILE status [options]                   who is alive; non-zero if any role is not SERVING
#   launch.sh HOSTS_FILE wait   [options]                   wait for the run to end; the coordinator's exit code
#   launch.sh HOSTS_FILE down   [options]                   stop exactly the processes `up` started
#
# HOSTS_FILE: one role per line, `ROLE HOST [ADDRESS]`; ROLE is coordinator (exactly one),
# server or worker (any number; --servers and --workers follow from the file); HOST is what
# ssh connects to; ADDRESS is what the other roles dial (default HOST). '#' starts a comment.
#
#   coordinator  node1
#   server       node2  10.0.0.2
#   server       node3  10.0.0.3
#   worker       node4
#   worker       node4
#
# options:
#   --run-dir=DIR     on every host: flag file, pid, log and data files (default /tmp/psrec-run)
#   --psrec=PATH      psrec on every host (default: psrec on the remote PATH)
#   --ssh=COMMAND     how to run a command on HOST: COMMAND HOST SCRIPT (default
#                     "ssh -o BatchMode=yes"; the multihost test uses ip netns exec)
#   --port=P          the coordinator's port (default 7000); server i listens on 7100+i,
#                     worker i on 7200+i (for its health endpoint)
#   --timeout=SECONDS how long up waits for SERVING, wait for the end (default 120)
# Every other argument is a psrec flag: they go into RUN_DIR/cluster.flags on every host,
# which every role reads with --flagfile. Without --train, every host that needs data writes
# psrec's synthetic data set into RUN_DIR/data (the same everywhere: the seed is fixed);
# with --train, the file must exist at that path on the coordinator's and workers' hosts.
set -euo pipefail

die() { echo "launch.sh: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

[ $# -ge 1 ] && { [ "$1" = -h ] || [ "$1" = --help ]; } && { usage; exit 0; }
[ $# -ge 2 ] || { usage >&2; exit 2; }
hosts_file=$1
command=$2
shift 2
run_dir=/tmp/psrec-run
psrec=psrec
ssh_command="ssh -o BatchMode=yes"
coordinator_port=7000
timeout=120
psrec_flags=()
for arg in "$@"; do
  case $arg in
    --run-dir=*|--run_dir=*) run_dir=${arg#*=} ;;
    --psrec=*) psrec=${arg#*=} ;;
    --ssh=*) ssh_command=${arg#*=} ;;
    --port=*) coordinator_port=${arg#*=} ;;
    --timeout=*) timeout=${arg#*=} ;;
    -*) psrec_flags+=("$arg") ;;
    *) die "unexpected argument '$arg'" ;;
  esac
done
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout=$timeout: must be a positive number of seconds"
[[ $coordinator_port =~ ^[1-9][0-9]*$ ]] || die "--port=$coordinator_port: must be a port number"

# ---- the hosts file -> names[], hosts[], addresses[], ports[] ------------------
names=() hosts=() addresses=() ports=()
servers=0 workers=0 coordinators=0
[ -r "$hosts_file" ] || die "$hosts_file: cannot read the hosts file"
line_number=0
while read -r role host address rest || [ -n "${role:-}" ]; do
  line_number=$((line_number + 1))
  [ -z "${role:-}" ] || [[ $role == \#* ]] && continue
  [ -n "${host:-}" ] || die "$hosts_file:$line_number: '$role' without a host (ROLE HOST [ADDRESS])"
  [[ ${address:-} == \#* ]] && address= rest=
  [ -z "${rest:-}" ] || [[ $rest == \#* ]] || die "$hosts_file:$line_number: too many columns"
  case $role in
    coordinator) name=coordinator port=$coordinator_port; coordinators=$((coordinators + 1)) ;;
    server) name=server-$servers port=$((7100 + servers)); servers=$((servers + 1)) ;;
    worker) name=worker-$workers port=$((7200 + workers)); workers=$((workers + 1)) ;;
    *) die "$hosts_file:$line_number: unknown role '$role' (coordinator, server, worker)" ;;
  esac
  names+=("$name") hosts+=("$host") addresses+=("${address:-$host}") ports+=("$port")
done < "$hosts_file"
[ $coordinators = 1 ] || die "$hosts_file: needs exactly one coordinator line, has $coordinators"
[ $servers -ge 1 ] || die "$hosts_file: needs at least one server"
[ $workers -ge 1 ] || die "$hosts_file: needs at least one worker"
coordinator_address=${addresses[0]}:$coordinator_port
for i in "${!names[@]}"; do
  [ "${names[$i]}" = coordinator ] && coordinator_address=${addresses[$i]}:$coordinator_port
done

# Runs shell SCRIPT on HOST ($1 $2); stdin passes through.
remote() { $ssh_command "$1" "$2"; }
quote() { printf '%q' "$1"; }
rd=$(quote "$run_dir")
ps=$(quote "$psrec")

# A pid file holds "PID STARTTIME" (/proc/PID/stat field 22), so that a pid
# the host reused for another process is never signalled.
live_pid_script() {  # prints the pid of role $1 if it is still ours; fails if not
  echo "f=$rd/$1.pid; [ -s \$f ] && read p t < \$f &&" \
       "[ \"\$(awk '{print \$22}' /proc/\$p/stat 2>/dev/null)\" = \"\$t\" ] && echo \$p"
}

start_role() {  # $1 index, then psrec arguments
  local i=$1 args
  shift
  args=$(printf ' %q' "$@")
  remote "${hosts[$i]}" "cd $rd && rm -f ${names[$i]}.pid ${names[$i]}.exit &&
    ( trap '' HUP; $ps $args >>${names[$i]}.log 2>&1 </dev/null & p=\$!
      echo \"\$p \$(awk '{print \$22}' /proc/\$p/stat)\" > ${names[$i]}.pid.tmp
      mv ${names[$i]}.pid.tmp ${names[$i]}.pid
      wait \$p; echo \$? > ${names[$i]}.exit ) >/dev/null 2>&1 </dev/null &"
}

cmd_up() {
  local flags=("${psrec_flags[@]+"${psrec_flags[@]}"}") has_train=0 f i
  for f in "${flags[@]+"${flags[@]}"}"; do case $f in --train=*) has_train=1 ;; esac; done
  [ $has_train = 1 ] || flags+=("--train=$run_dir/data/train.rating")
  flags+=("--servers=$servers" "--workers=$workers")
  local flagfile
  flagfile=$(printf '%s\n' "# written by launch.sh up; every role reads it with --flagfile" "${flags[@]}")
  for i in "${!names[@]}"; do
    if remote "${hosts[$i]}" "$(live_pid_script "${names[$i]}")" >/dev/null 2>&1; then
      die "${names[$i]} is already running on ${hosts[$i]}; run: launch.sh $hosts_file down"
    fi
  done
  for i in "${!names[@]}"; do
    remote "${hosts[$i]}" "mkdir -p $rd && cat > $rd/cluster.flags" <<<"$flagfile" ||
      die "${hosts[$i]}: cannot write $run_dir/cluster.flags"
    if [ $has_train = 0 ] && [ "${names[$i]#server}" = "${names[$i]}" ]; then
      remote "${hosts[$i]}" "$ps gen --flagfile=$rd/cluster.flags --out=$rd/data >$rd/gen.log 2>&1" ||
        die "${hosts[$i]}: psrec gen failed (see $run_dir/gen.log there)"
    fi
  done
  local common=("--flagfile=$run_dir/cluster.flags" --host=0.0.0.0)
  for i in "${!names[@]}"; do
    case ${names[$i]} in
      coordinator) start_role "$i" coordinator "${common[@]}" --port="${ports[$i]}" ;;
      server-*) start_role "$i" server "${common[@]}" --port="${ports[$i]}" \
                  --coordinator="$coordinator_address" --advertise_host="${addresses[$i]}" \
                  --shard_index="${names[$i]#server-}" ;;
      worker-*) start_role "$i" worker "${common[@]}" --port="${ports[$i]}" \
                  --coordinator="$coordinator_address" ;;
    esac
  done
  for i in "${!names[@]}"; do
    # The run's flags: with TLS ("Security" in the README) the probe needs them too.
    if ! remote "${hosts[$i]}" "$ps health --flagfile=$rd/cluster.flags \
        --target=${addresses[$i]}:${ports[$i]} --wait_seconds=$timeout" \
        >/dev/null 2>&1; then
      echo "launch.sh: ${names[$i]} on ${hosts[$i]} is not SERVING after ${timeout}s; its log:" >&2
      remote "${hosts[$i]}" "tail -n 20 $rd/${names[$i]}.log" >&2 || true
      cmd_down >/dev/null
      exit 1
    fi
  done
  echo "cluster up: coordinator $coordinator_address, $servers servers, $workers workers (all SERVING)"
}

cmd_status() {
  local i pid state code=0
  printf '%-14s %-16s %-22s %-8s %s\n' ROLE HOST ADDRESS PID STATUS
  for i in "${!names[@]}"; do
    if pid=$(remote "${hosts[$i]}" "$(live_pid_script "${names[$i]}")" 2>/dev/null); then
      state=$(remote "${hosts[$i]}" \
        "$ps health --flagfile=$rd/cluster.flags --target=${addresses[$i]}:${ports[$i]}" 2>/dev/null) ||
        code=1
    else
      pid=- code=1
      state=$(remote "${hosts[$i]}" "cat $rd/${names[$i]}.exit" 2>/dev/null) &&
        state="EXITED($state)" || state=GONE
    fi
    printf '%-14s %-16s %-22s %-8s %s\n' "${names[$i]}" "${hosts[$i]}" \
      "${addresses[$i]}:${ports[$i]}" "$pid" "$state"
  done
  return $code
}

cmd_wait() {
  local i code deadline=$((SECONDS + timeout))
  for i in "${!names[@]}"; do [ "${names[$i]}" = coordinator ] && break; done
  until code=$(remote "${hosts[$i]}" "cat $rd/coordinator.exit" 2>/dev/null); do
    [ $SECONDS -lt $deadline ] || { echo "launch.sh: the run did not end in ${timeout}s" >&2; exit 1; }
    sleep 0.5
  done
  echo "run over: the coordinator exited with status $code"
  return "$code"
}

cmd_down() {
  local i pid
  # Workers first, the coordinator last.
  for ((i = ${#names[@]} - 1; i >= 0; i--)); do
    pid=$(remote "${hosts[$i]}" "$(live_pid_script "${names[$i]}")" 2>/dev/null) || continue
    remote "${hosts[$i]}" "kill -TERM $pid; for n in \$(seq 100); do
        $(live_pid_script "${names[$i]}") >/dev/null || exit 0; sleep 0.1; done; kill -KILL $pid" ||
      true
    echo "stopped ${names[$i]} on ${hosts[$i]} (pid $pid)"
  done
}

case $command in
  up) cmd_up ;;
  status) cmd_status ;;
  wait) cmd_wait ;;
  down) cmd_down ;;
  *) die "unknown command '$command' (up, status, wait, down)" ;;
esac
