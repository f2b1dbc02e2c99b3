#!/usr/bin/env bash
# Runs every libFuzzer target built in FUZZ_BUILD_DIR for FUZZ_SECONDS each
# (or only those named as arguments), starting from its regression corpus.
# New interesting inputs go to FUZZ_BUILD_DIR/corpus/<target> (not into the
# repository); a crash, hang, leak or sanitizer report is saved as
# FUZZ_BUILD_DIR/artifacts/<target>-crash-<sha1> and fails the run.
# Usage: scripts/run-fuzzers.sh [target...]   e.g. FUZZ_SECONDS=600 scripts/run-fuzzers.sh npy
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${FUZZ_SECONDS:-30}"
corpus_src="$root/tests/fuzz/corpus"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for dir in "$corpus_src"/*/; do targets+=("$(basename "$dir")"); done
fi
# The targets give readers their bytes through files in a scratch directory
# under TMPDIR: a private one, removed at the end even after a crash (which
# skips the target's own clean-up), on tmpfs where the writers' fsync is free.
parent=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && parent=/dev/shm
TMPDIR="$(mktemp -d "$parent/psrec-fuzzers-XXXXXX")"
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
mkdir -p "$build/artifacts"
failed=()
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/psrec_fuzz_$t"
  if [ ! -x "$bin" ]; then
    echo "run-fuzzers: $bin is not built (make fuzz builds it)" >&2
    failed+=("$t")
    continue
  fi
  mkdir -p "$build/corpus/$t"
  log="$build/artifacts/$t.log"
  echo "fuzzing $t for ${seconds}s (log: $log)"
  # -timeout: an input slower than 10 s is a hang; -rss_limit_mb: an input
  # that makes the process use 2 GB is a finding too.
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$t-" "$build/corpus/$t" "$corpus_src/$t" >"$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^Done" "$log" | tr '\n' ' '
    echo
  else
    echo "FAILED: $t (see $log)" >&2
    grep -E "ERROR|FUZZ_CHECK|SUMMARY|Test unit written" "$log" | head -5 >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz targets with findings: ${failed[*]}" >&2
  exit 1
fi
echo "all fuzz targets ran ${seconds}s each without a finding"
