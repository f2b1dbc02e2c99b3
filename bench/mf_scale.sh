#!/usr/bin/env bash
# MF at scale: `psrec train --servers=0` against `--servers=1 --workers=1` on
# 20M synthetic ratings (cached under build/bench-data), and with --scale one
# epoch of 2 servers + 2 workers over 10M/30M/100M interactions. One JSON line
# per case and run. Options: bench/mf_scale.py --help.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 bench/mf_scale.py "$@"
