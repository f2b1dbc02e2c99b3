#!/usr/bin/env bash
# What `make bench` needs beyond the build: Debian's PyTorch for the NeuMF
# baseline (bench/pytorch_neumf.py). Kept out of install-deps.sh because it is
# large and `make test` never uses it.
set -euo pipefail
dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q "install ok installed" && exit 0
echo "installing: python3-torch"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
