#!/usr/bin/env bash
# make engine: build the real toolchain from Go modules and fetch the upstream charts and CRDs,
# all into a per-machine cache outside the repository:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/k3s-hcloud/engine-<hash of tools/engine and the versions file>/
# Each binary and the artifact set are skipped when already present in that folder, so a warm
# rebuild takes seconds; a change to any wrapper file builds into a new folder.
# Usage: build.sh [STEP...] with steps helm, artifacts, pulumi (default: all, in that order).
#
# Built (what the Go module proxy serves; docs/real-engine.md lists what it refuses):
#   bin/pulumi   the Pulumi CLI, github.com/pulumi/pulumi/pkg/v3 (tools/engine/pulumi)
#   bin/helm     helm v3, the release pulumi-kubernetes embeds (tools/engine/helm)
#   artifacts/   Cilium chart sources and CRDs, Gateway API CRDs (upstream/engine_artifacts.json)
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v go >/dev/null 2>&1; then
  echo "make engine: needs Go 1.26+ and the Go module proxy (go is not on PATH)" >&2
  exit 4
fi

engine_dir=$(python3 tools/real_engine.py)
bin="$engine_dir/bin"
mkdir -p "$bin"
export CGO_ENABLED=0
started=$SECONDS

# build NAME WRAPPER MODULE PACKAGE TAGS LDFLAGS-FORMAT: LDFLAGS-FORMAT gets the module's version
# (from the wrapper's go.mod, the one place it is pinned) in place of %s.
build() {
  local name=$1 wrapper=$2 module=$3 package=$4 tags=$5 ldflags_format=$6
  if [[ -x "$bin/$name" ]]; then
    echo "engine: $name up to date"
    return
  fi
  local version ldflags step_start=$SECONDS
  version=$(cd "tools/engine/$wrapper" && go list -mod=readonly -m -f '{{.Version}}' "$module")
  # shellcheck disable=SC2059 # the format comes from this script's own call sites
  ldflags=$(printf -- "$ldflags_format" "$version")
  echo "engine: building $name $version (tools/engine/$wrapper)"
  (cd "tools/engine/$wrapper" &&
    go build -mod=readonly -trimpath -tags "$tags" -ldflags "$ldflags" \
      -o "$bin/$name.partial" "$package")
  mv "$bin/$name.partial" "$bin/$name"
  echo "engine: $name built in $((SECONDS - step_start)) s"
}

build_pulumi() {
  # Upstream's release settings (.goreleaser.yml): static, trimmed, these tags, version by ldflags.
  build pulumi pulumi github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    osusergo,grpcnotrace "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=%s"
}
build_helm() {
  # helm's Makefile sets the version the same way.
  build helm helm helm.sh/helm/v3 helm.sh/helm/v3/cmd/helm \
    "" "-s -w -X helm.sh/helm/v3/internal/version.version=%s"
}
fetch_artifacts() {
  python3 tools/engine/artifacts.py fetch "$engine_dir/artifacts"
}

# Cheapest first, so an interrupted cold build has the most tests' tools: helm and the artifacts
# (a few minutes of CPU) serve the chart tests; the CLI is the long compile.
steps=("$@")
((${#steps[@]})) || steps=(helm artifacts pulumi)
for step in "${steps[@]}"; do
  case $step in
    helm) build_helm ;;
    artifacts) fetch_artifacts ;;
    pulumi) build_pulumi ;;
    *) echo "make engine: unknown step '$step' (helm, artifacts, pulumi)" >&2; exit 2 ;;
  esac
done

echo "engine: ready in $engine_dir ($((SECONDS - started)) s)"
