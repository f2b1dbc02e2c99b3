#!/usr/bin/env bash
# Installs what the libFuzzer build (make fuzz, make test-faults) needs beyond
# scripts/install-deps.sh: clang 14 and its runtime libraries (libFuzzer,
# ASan, UBSan). Quiet and quick when present; needs root (or sudo) otherwise.
set -euo pipefail
packages=(clang-14 libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
