#!/usr/bin/env bash
# End-to-end NeuMF on ml-100k-loo, psrec (2 servers + 2 workers, its defaults)
# against PyTorch (bench/pytorch_neumf.py, 1 thread), in the same run, the
# same number of epochs. One JSON line per system, then their ratio.
# Usage: bench/e2e_neumf.sh [EPOCHS] [DATA_DIR]   (default 20, $PSREC_DATA_DIR or ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-20}
data=${2:-${PSREC_DATA_DIR:-$(pwd)/../shared/data}}
/usr/bin/python3 -c 'import torch' 2>/dev/null || {
  echo '{"case": "neumf_e2e", "skipped": "no PyTorch for /usr/bin/python3 (apt install python3-torch)"}'
  exit 0
}
out=$(mktemp -d /tmp/psrec-e2e-XXXXXX)
build/psrec train --model=neumf --epochs="$epochs" --train="$data/ml-100k-loo/train.rating" \
  --test_negatives="$data/ml-100k-loo/test.negative" --metrics_json="$out/psrec.json" \
  --log_level=warn --progress=off > "$out/psrec.log"
/usr/bin/python3 bench/pytorch_neumf.py "$data" "$epochs" 1 > "$out/pytorch.json"
python3 - "$out" <<'PY'
import json, sys
d = sys.argv[1]
p = json.load(open(f"{d}/psrec.json"))
t = json.loads(open(f"{d}/pytorch.json").read())
print(json.dumps({"case": "neumf_e2e", "system": "psrec", "epochs": p["epochs"],
                  "examples": p["train_examples"], "train_seconds": p["train_seconds"],
                  "examples_per_second": round(p["examples_per_second"], 1),
                  "hr_at_10": round(p["hr_at_10"], 4), "ndcg_at_10": round(p["ndcg_at_10"], 4)}))
print(json.dumps(t))
print(json.dumps({"case": "neumf_e2e", "speed_ratio": round(p["examples_per_second"] / t["examples_per_second"], 2),
                  "hr_at_10_difference": round(p["hr_at_10"] - t["hr_at_10"], 4)}))
PY
