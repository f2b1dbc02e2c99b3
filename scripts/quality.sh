#!/usr/bin/env bash
# Full-quality MovieLens runs with psrec's defaults (only data, task, model and
# seed flags), 2 servers + 2 workers: the figures in README.md come from here.
# Usage: scripts/quality.sh [DATA_DIR] [MODELS...]
#   DATA_DIR defaults to $PSREC_DATA_DIR or ../shared/data; MODELS to all of
#   gmf mlp neumf (seeds 1 2 3, or $PSREC_SEEDS, on ml-100k-loo) and mf mf_mlp (folds u1..u5).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-${PSREC_DATA_DIR:-$(pwd)/../shared/data}}
shift || true
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(gmf mlp neumf mf mf_mlp)
psrec=build/psrec
# Seeds of the ranking runs; PSREC_SEEDS="4 5 6" checks a default on others.
seeds=${PSREC_SEEDS:-1 2 3}
out=$(mktemp -d /tmp/psrec-quality-XXXXXX)
[ -f "$data/ml-100k-loo/train.rating" ] || { echo "no MovieLens under $data (see README: Data)"; exit 1; }

field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

for model in "${models[@]}"; do
  case $model in
    mf|mf_mlp)
      echo "== rating: $model on ml-100k u1..u5 (RMSE, MAE of the last epoch) =="
      for fold in 1 2 3 4 5; do
        f="$out/$model-u$fold.json"
        $psrec train --model=$model --train="$data/ml-100k/u$fold.base" \
          --test="$data/ml-100k/u$fold.test" --metrics_json="$f" --log_level=warn > "${f%.json}.log"
        echo "u$fold: RMSE $(field "$f" rmse)  MAE $(field "$f" mae)  $(field "$f" examples_per_second) ex/s"
      done ;;
    *)
      echo "== ranking: $model on ml-100k-loo (HR@10, NDCG@10 of the last epoch) =="
      for seed in $seeds; do
        f="$out/$model-$seed.json"
        $psrec train --model=$model --train="$data/ml-100k-loo/train.rating" \
          --test_negatives="$data/ml-100k-loo/test.negative" --seed=$seed \
          --metrics_json="$f" --log_level=warn > "${f%.json}.log"
        echo "seed $seed: HR@10 $(field "$f" hr_at_10)  NDCG@10 $(field "$f" ndcg_at_10)  $(field "$f" examples_per_second) ex/s"
      done ;;
  esac
done
python3 - "$out" "$seeds" "${models[@]}" <<'PY'
import json, sys, statistics as st
d, seeds, models = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
for model in models:
    if model in ("mf", "mf_mlp"):
        m = [json.load(open(f"{d}/{model}-u{f}.json")) for f in range(1, 6)]
        print(f"{model}: u1 RMSE {m[0]['rmse']:.4f}; u1..u5 mean RMSE "
              f"{st.mean(x['rmse'] for x in m):.4f}  MAE {st.mean(x['mae'] for x in m):.4f}")
    else:
        g = [json.load(open(f"{d}/{model}-{s}.json")) for s in seeds]
        print(f"{model}: mean of {len(g)} seeds HR@10 {st.mean(x['hr_at_10'] for x in g):.4f}  "
              f"NDCG@10 {st.mean(x['ndcg_at_10'] for x in g):.4f}")
PY
echo "metrics files: $out"
