#!/usr/bin/env bash
# End-to-end NeuMF on ml-100k-loo, psrec (2 servers + 2 workers, its defaults)
# against PyTorch (bench/pytorch_neumf.py, 1 thread), in the same run, the
# same number of epochs. One JSON line per system, then their ratio: of
# examples per second, and of CPU microseconds per example (psrec: every
# process of the run, start-up and evaluation included, from
# bench/e2e_cpu.py; PyTorch: its training loop), which moves far less with
# the machine's load than wall-clock time does.
# Usage: bench/e2e_neumf.sh [EPOCHS] [DATA_DIR] [PSREC TRAIN FLAGS...]
#   (default 20, $PSREC_DATA_DIR or ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-20}
data=${2:-${PSREC_DATA_DIR:-$(pwd)/../shared/data}}
shift $(( $# > 2 ? 2 : $# ))
/usr/bin/python3 -c 'import torch' 2>/dev/null || {
  echo '{"case": "neumf_e2e", "skipped": "no PyTorch for /usr/bin/python3 (apt install python3-torch)"}'
  exit 0
}
out=$(mktemp -d /tmp/psrec-e2e-XXXXXX)
python3 bench/e2e_cpu.py build/psrec --model=neumf --epochs="$epochs" \
  --train="$data/ml-100k-loo/train.rating" --test_negatives="$data/ml-100k-loo/test.negative" \
  "$@" > "$out/psrec.json"
/usr/bin/python3 bench/pytorch_neumf.py "$data" "$epochs" 1 > "$out/pytorch.json"
python3 - "$out" <<'PY'
import json, sys
d = sys.argv[1]
p = json.load(open(f"{d}/psrec.json"))
t = json.loads(open(f"{d}/pytorch.json").read())
print(json.dumps({"case": "neumf_e2e", "system": "psrec", "flags": p["flags"],
                  "examples": p["examples"], "train_seconds": p["train_seconds"],
                  "examples_per_second": p["examples_per_second"], "hr_at_10": p["hr_at_10"],
                  "ndcg_at_10": p["ndcg_at_10"], "cpu_us_per_example": p["cpu_us_per_example"],
                  "cpu_us_per_example_total": p["cpu_us_per_example_total"]}))
print(json.dumps(t))
print(json.dumps({"case": "neumf_e2e", "speed_ratio": round(p["examples_per_second"] / t["examples_per_second"], 2),
                  "cpu_per_example_ratio": round(t["cpu_us_per_example"] / p["cpu_us_per_example_total"], 2),
                  "hr_at_10_difference": round(p["hr_at_10"] - t["hr_at_10"], 4)}))
PY
rm -rf "$out"
