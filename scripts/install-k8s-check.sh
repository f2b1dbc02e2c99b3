#!/usr/bin/env bash
# Installs the offline Kubernetes schema check (deploy/k8s/check) into DEST:
# the npm packages pinned by its package-lock.json (npm ci), and the generated
# models of @kubernetes/client-node, unpacked from its tarball rather than
# installed (its dependencies need node 22). Quick when already installed; says
# so and does nothing when npm is absent (the test then skips).
# usage: install-k8s-check.sh DEST
set -euo pipefail
readonly CLIENT_NODE=@kubernetes/client-node@2.0.1
src=$(cd "$(dirname "$0")/../deploy/k8s/check" && pwd)
dest=${1:?usage: install-k8s-check.sh DEST}
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "install-k8s-check: no npm/node here; the Kubernetes manifest test will skip"
  exit 0
fi
stamp="$(sha256sum "$src/package-lock.json" | cut -d' ' -f1) $CLIENT_NODE"
if [ -f "$dest/.installed" ] && [ "$(cat "$dest/.installed")" = "$stamp" ]; then exit 0; fi
echo "install-k8s-check: installing into $dest"
rm -rf "$dest"
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
# kubernetes-models' dependencies declare node >= 22 but work on node 20.
(cd "$dest" && npm ci --no-audit --no-fund --loglevel=error --engine-strict=false >/dev/null)
tarball=$(cd "$dest" && npm pack --silent "$CLIENT_NODE")
tar -xzf "$dest/$tarball" -C "$dest" package/dist/gen/models
mv "$dest/package/dist/gen/models" "$dest/client-node-models"
rm -rf "$dest/package" "$dest/$tarball"
echo "$stamp" > "$dest/.installed"
