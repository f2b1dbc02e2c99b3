#!/usr/bin/env bash
# Full-quality MovieLens runs with psrec's defaults (only data, task, model and
# seed flags), 2 servers + 2 workers: the figures in README.md come from here.
# Usage: scripts/quality.sh [DATA_DIR]   (default: $PSREC_DATA_DIR or ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-${PSREC_DATA_DIR:-$(pwd)/../shared/data}}
psrec=build/psrec
out=$(mktemp -d /tmp/psrec-quality-XXXXXX)
[ -f "$data/ml-100k-loo/train.rating" ] || { echo "no MovieLens under $data (see README: Data)"; exit 1; }

field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

echo "== ranking: gmf on ml-100k-loo (HR@10, NDCG@10 of the last epoch) =="
for seed in 1 2 3; do
  $psrec train --train="$data/ml-100k-loo/train.rating" \
    --test_negatives="$data/ml-100k-loo/test.negative" --model=gmf --seed=$seed \
    --metrics_json="$out/gmf-$seed.json" --log_level=warn > "$out/gmf-$seed.log"
  echo "seed $seed: HR@10 $(field "$out/gmf-$seed.json" hr_at_10)  NDCG@10 $(field "$out/gmf-$seed.json" ndcg_at_10)  $(field "$out/gmf-$seed.json" examples_per_second) ex/s"
done

echo "== rating: mf on ml-100k u1..u5 (RMSE, MAE of the last epoch) =="
for fold in 1 2 3 4 5; do
  $psrec train --model=mf --train="$data/ml-100k/u$fold.base" --test="$data/ml-100k/u$fold.test" \
    --metrics_json="$out/mf-u$fold.json" --log_level=warn > "$out/mf-u$fold.log"
  echo "u$fold: RMSE $(field "$out/mf-u$fold.json" rmse)  MAE $(field "$out/mf-u$fold.json" mae)"
done
python3 - "$out" <<'PY'
import json, sys, statistics as st
d = sys.argv[1]
g = [json.load(open(f"{d}/gmf-{s}.json")) for s in (1, 2, 3)]
m = [json.load(open(f"{d}/mf-u{f}.json")) for f in range(1, 6)]
print(f"gmf mean of 3 seeds: HR@10 {st.mean(x['hr_at_10'] for x in g):.4f}  "
      f"NDCG@10 {st.mean(x['ndcg_at_10'] for x in g):.4f}")
print(f"mf u1 RMSE {m[0]['rmse']:.4f}; u1..u5 mean RMSE {st.mean(x['rmse'] for x in m):.4f}  "
      f"MAE {st.mean(x['mae'] for x in m):.4f}")
PY
echo "metrics files: $out"
