#!/usr/bin/env bash
# deploy/k8s: the base and every overlay render with `kubectl kustomize`, and
# every rendered object passes the offline schema check (deploy/k8s/check),
# psrec's flags-vs-replicas check included; every broken fixture under
# tests/deploy/fixtures is caught, with the message its `# expect:` line names.
# Skips (exit 77) without kubectl, node or the check's npm packages, unless
# PSREC_REQUIRE_DATA=1, which makes that a failure.
# usage: k8s_manifests_test.sh SOURCE_DIR TOOLS_DIR PSREC_BINARY
#   (scripts/install-k8s-check.sh installs TOOLS_DIR)
set -euo pipefail
source_dir=$1
tools=$2
psrec=$3
skip() {
  if [ "${PSREC_REQUIRE_DATA:-}" = 1 ]; then
    echo "FAIL: $1, and PSREC_REQUIRE_DATA=1 makes that a failure" >&2
    exit 1
  fi
  echo "SKIP: $1"
  exit 77
}
command -v kubectl >/dev/null || skip "kubectl is missing (it renders the manifests: kubectl kustomize)"
command -v node >/dev/null || skip "node is missing (it runs the schema check)"
[ -f "$tools/.installed" ] ||
  skip "the schema check's npm packages are missing (make deploy-tools, or scripts/install-k8s-check.sh $tools)"

work=$(mktemp -d "${TMPDIR:-/tmp}/psrec-k8s-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The checker resolves its packages from beside itself.
cp "$source_dir/deploy/k8s/check/check.mjs" "$tools/check.mjs"
check() { node "$tools/check.mjs" --models="$tools/client-node-models" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

kustomizations=(base overlays/dev overlays/prod)
for dir in "${kustomizations[@]}"; do
  kubectl kustomize "$source_dir/deploy/k8s/$dir" > "$work/${dir##*/}.yaml" ||
    fail "deploy/k8s/$dir does not render"
done
(cd "$work" && check --psrec base.yaml dev.yaml prod.yaml) || fail "the schema check failed (above)"

# What the manifests promise, checked on the rendered prod overlay.
for want in "podManagementPolicy: Parallel" "completionMode: Indexed" "clusterIP: None" \
            "kind: PodDisruptionBudget" "volumeClaimTemplates:" "readOnlyRootFilesystem: true" \
            "runAsNonRoot: true" "requiredDuringSchedulingIgnoredDuringExecution:" \
            "--flagfile=/etc/psrec/psrec.flags" "--shard_index=\$(POD_INDEX)"; do
  grep -qF -- "$want" "$work/prod.yaml" || fail "rendered prod lacks '$want'"
done
[ "$(grep -c '^ *grpc:$' "$work/prod.yaml")" -ge 8 ] || fail "expected grpc probes on every role"
grep -q "gen-data" "$work/prod.yaml" && fail "prod must not generate synthetic data"

# Every psrec container's arguments, with its kustomization's flagfile, are
# flags psrec knows, of the right types: psrec checks them (unknown flag, not
# valid) and absl parses them (ERROR) before it prints --helpfull ($(VAR)
# stands for a number).
cat > "$tools/psrec-args.mjs" <<'JS'
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const spec = doc.toJS()?.spec?.template?.spec;
    for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
      if (/(^|\/)psrec(:|$)/.test(c.image)) {
        console.log([file, ...c.args].join('\t').replace(/\$\([A-Z_]+\)/g, '0'));
      }
    }
  }
}
JS
(cd "$work" && node "$tools/psrec-args.mjs" base.yaml dev.yaml prod.yaml) > "$work/args"
for dir in "${kustomizations[@]}"; do
  grep -q "^${dir##*/}.yaml" "$work/args" || fail "$dir: no psrec containers found"
done
while IFS=$'\t' read -r file args_line; do
  IFS=$'\t' read -r -a args <<<"$args_line"
  dir=${file%.yaml}
  [ "$dir" = base ] || dir=overlays/$dir
  # The flagfile lives in the ConfigMap: point at the kustomization's own copy.
  args=("${args[@]/#--flagfile=*/--flagfile=$source_dir/deploy/k8s/$dir/psrec.flags}")
  "$psrec" "${args[@]}" --helpfull >/dev/null 2>"$work/err" || true
  if grep -qE "ERROR|unknown flag|not valid|needs a value" "$work/err"; then fail "$dir: psrec ${args[*]}: $(cat "$work/err")"; fi
done < "$work/args"

# Broken fixtures: each must fail, saying what its '# expect:' line says.
fixtures=$source_dir/tests/deploy/fixtures
kubectl kustomize "$fixtures/k8s-flags-mismatch" > "$work/k8s-flags-mismatch.yaml" ||
  fail "k8s-flags-mismatch does not render"
cp "$fixtures"/k8s-broken/*.yaml "$work/"
broken=()
for f in "$fixtures"/k8s-broken/*.yaml; do broken+=("${f##*/}"); done
out=$(cd "$work" && { check "${broken[@]}"; check --psrec k8s-flags-mismatch.yaml; } || true)
caught=0
for f in "$fixtures"/k8s-broken/*.yaml "$fixtures"/k8s-flags-mismatch/kustomization.yaml; do
  expect=$(sed -n 's/^# expect: //p' "$f" | head -1)
  [ -n "$expect" ] || fail "$f has no '# expect:' line"
  name=${f##*/}
  [ "$name" = kustomization.yaml ] && name=k8s-flags-mismatch.yaml
  grep "^FAIL $name: " <<<"$out" | grep -qF -- "$expect" ||
    fail "$name was not caught with '$expect': $(grep "^[a-zA-Z]* $name: " <<<"$out")"
  echo "caught $name: $expect"
  caught=$((caught + 1))
done
echo "PASS ($caught broken fixtures caught)"
