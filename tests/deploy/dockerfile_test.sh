#!/usr/bin/env bash
# deploy/docker/Dockerfile, checked without a Docker engine (none runs here):
# the runtime stage installs packages that provide every shared library the
# built psrec links (so a newly linked library cannot be forgotten), runs as a
# non-root user, probes health with `psrec health`, and .dockerignore keeps
# build trees and .git out of the context. Skips (77) without dpkg/apt-cache
# metadata, unless PSREC_REQUIRE_DATA=1.
# usage: dockerfile_test.sh SOURCE_DIR PSREC_BINARY
set -euo pipefail
source_dir=$1
psrec=$2
dockerfile=$source_dir/deploy/docker/Dockerfile
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() {
  [ "${PSREC_REQUIRE_DATA:-}" = 1 ] && fail "$1, and PSREC_REQUIRE_DATA=1 makes that a failure"
  echo "SKIP: $1"
  exit 77
}

grep -qE '^FROM debian:bookworm AS build$' "$dockerfile" || fail "no bookworm build stage"
grep -qE '^FROM debian:bookworm-slim AS runtime$' "$dockerfile" || fail "no bookworm-slim runtime stage"
grep -q 'scripts/install-deps.sh' "$dockerfile" || fail "the build stage does not install what CI installs"
grep -qE '^COPY --from=build /src/build/psrec ' "$dockerfile" || fail "the runtime stage must copy only the binary"
user=$(sed -n 's/^USER //p' "$dockerfile" | tail -1)
[ -n "$user" ] && [ "${user%%:*}" != 0 ] && [ "${user%%:*}" != root ] || fail "the image must run as a non-root USER"
grep -qE '^HEALTHCHECK .*' "$dockerfile" && grep -q 'CMD psrec health --target=' "$dockerfile" ||
  fail "no HEALTHCHECK with psrec health"
for pattern in .git build '**/node_modules'; do
  grep -qxF "$pattern" "$source_dir/.dockerignore" || fail ".dockerignore lacks $pattern"
done

command -v dpkg-query >/dev/null && command -v apt-cache >/dev/null || skip "no dpkg/apt-cache here"
runtime_packages=$(sed -n '/AS runtime$/,/^COPY/p' "$dockerfile" | tr -s ' \\\n' '\n' |
  awk 'f && $0 == "&&" {exit} f {print} $0 == "--no-install-recommends" {f = 1}')
[ -n "$runtime_packages" ] || fail "cannot find the runtime stage's apt-get install list"
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances $runtime_packages 2>/dev/null | grep -v '^ ' | sed 's/:.*//' | sort -u)
[ -n "$closure" ] || skip "apt-cache knows none of the runtime packages (no apt lists: apt-get update)"
missing=()
# dpkg knows a library by the path it installed, which may be a symlink's target.
libraries=$(ldd "$psrec" | awk '/=> \// {print $3}')
owners=$( (dpkg-query -S $libraries $(readlink -f $libraries) 2>/dev/null || true) |
  sed -n 's/^\([^:,]*\)[^ ]*: \(.*\)$/\1 \2/p' | sort -u)
for lib in $libraries; do
  package=$(awk -v a="$lib" -v b="$(readlink -f "$lib")" '$2 == a || $2 == b {print $1; exit}' <<<"$owners")
  [ -n "$package" ] || { echo "note: $lib belongs to no Debian package here"; continue; }
  grep -qxF "$package" <<<"$closure" || missing+=("$package ($lib)")
done
[ ${#missing[@]} -eq 0 ] || fail "the runtime stage does not install: ${missing[*]}"
echo "PASS (runtime packages: $(echo $runtime_packages))"
