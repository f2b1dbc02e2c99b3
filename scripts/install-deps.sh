#!/usr/bin/env bash
# Installs the Debian packages psrec builds and tests with.
set -euo pipefail
packages=(build-essential cmake ninja-build ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libeigen3-dev libabsl-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev
  zlib1g-dev iproute2 libmicrohttpd-dev
  openssl  # the security tests make throw-away certificates
  python3-numpy)  # tests check that numpy.load reads what psrec export writes
exec "$(dirname "$0")/install-packages.sh" "${packages[@]}"
