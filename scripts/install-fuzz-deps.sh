#!/usr/bin/env bash
# What the libFuzzer build (make fuzz, make test-faults) needs beyond
# scripts/install-deps.sh: clang 14 and its runtime libraries (libFuzzer,
# ASan, UBSan).
set -euo pipefail
exec "$(dirname "$0")/install-packages.sh" clang-14 libclang-rt-14-dev
