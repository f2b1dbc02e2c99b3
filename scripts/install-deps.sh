#!/usr/bin/env bash
# Installs the Debian packages psrec builds with; quiet and quick when they are
# all present. Needs root (or sudo) only when something is missing.
set -euo pipefail
packages=(build-essential cmake ninja-build ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libeigen3-dev libabsl-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev
  zlib1g-dev iproute2 libmicrohttpd-dev
  openssl  # the security tests make throw-away certificates
  python3-numpy)  # tests check that numpy.load reads what psrec export writes
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
