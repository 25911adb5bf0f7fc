#!/usr/bin/env bash
# ci/seaweedfs.sh: build SeaweedFS's `weed` (a real S3 server, Apache-2.0,
# pure Go) once and cache it outside the repo, for the lake's S3 end-to-end
# tests. Prints the binary's path. The Go module proxy serves the source, but
# its go.mod has a replace directive, so `go install mod@version` refuses it:
# download the module and build ./weed from a writable copy (~4 min on 2 cores,
# ~230 MB binary). Later runs find the cached binary and return at once.
set -euo pipefail

version=v0.0.0-20261109003541-7506e5f91cd6
cache=${LOGLAMBDA_WEED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/loglambda/weed}
bin="$cache/$version/weed"

if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

log() { printf '== seaweedfs: %s\n' "$*" >&2; }
mkdir -p "$cache/$version"
src=$(go mod download -json "github.com/seaweedfs/seaweedfs@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { log "module download failed"; exit 1; }

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
log "building weed $version (first time only, a few minutes)"
cp -r "$src" "$work/seaweedfs"
chmod -R u+w "$work/seaweedfs"
(cd "$work/seaweedfs" && GOFLAGS=-mod=mod go build -trimpath -ldflags=-s -o "$bin.tmp" ./weed)
mv "$bin.tmp" "$bin"
log "built $bin"
echo "$bin"
