#!/usr/bin/env bash
# Builds the sandbox control plane and kubectl from upstream Go modules.
#   sandbox/control-plane/build.sh OUT_DIR   ->  OUT_DIR/control-plane, OUT_DIR/kubectl
# Needs Go >= 1.26 (PATH or /usr/local/go/bin) and the Go module proxy.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 OUT_DIR" >&2
	exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"

# Keep in step with the k8s.io/kubernetes version in go.mod.
K8S_VERSION=v1.36.5

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	PATH="/usr/local/go/bin:$PATH"
fi
cd "$here"
if ! grep -q "^require k8s.io/kubernetes $K8S_VERSION\$\|^[[:space:]]k8s.io/kubernetes $K8S_VERSION\$" go.mod; then
	echo "build.sh: go.mod does not require k8s.io/kubernetes $K8S_VERSION (the version build.sh stamps)" >&2
	exit 1
fi

export CGO_ENABLED=0
major="${K8S_VERSION#v}"; major="${major%%.*}"
minor="${K8S_VERSION#v*.}"; minor="${minor%%.*}"
ldflags="-s -w"
ldflags+=" -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
ldflags+=" -X k8s.io/component-base/version.gitMajor=$major"
ldflags+=" -X k8s.io/component-base/version.gitMinor=$minor"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=$major"
ldflags+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor"
ldflags+=" -X k8s.io/client-go/pkg/version.gitTreeState=clean"

start=$SECONDS
echo "downloading modules…" >&2
go mod download
echo "building control-plane…" >&2
go build -mod=readonly -buildvcs=false -trimpath -ldflags "$ldflags" -o "$out/control-plane.tmp" .
mv -f "$out/control-plane.tmp" "$out/control-plane"
echo "building kubectl…" >&2
go build -mod=readonly -buildvcs=false -trimpath -ldflags "$ldflags" -o "$out/kubectl.tmp" ./cmd/kubectl
mv -f "$out/kubectl.tmp" "$out/kubectl"
echo "built $out/control-plane and $out/kubectl ($K8S_VERSION) in $((SECONDS - start))s" >&2
