#!/usr/bin/env bash
# What `make bench` needs beyond the build: Debian's PyTorch for the NeuMF
# baseline (bench/pytorch_neumf.py). Kept out of install-deps.sh because it is
# large and `make test` never uses it.
set -euo pipefail
exec "$(dirname "$0")/install-packages.sh" python3-torch
