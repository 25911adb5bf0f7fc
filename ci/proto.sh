#!/usr/bin/env bash
# ci/proto.sh: regenerates the Go code of the API protobufs under
# schemas/proto (query.pb.go, query_grpc.pb.go beside each .proto). The
# generated files are committed, so building and CI need no protoc; run
# this after changing a .proto and commit the result.
#
# Needs protoc (apt-get install -y protobuf-compiler; its well-known types
# under /usr/include) and the two Go plugins, at the versions below so that
# a rerun changes nothing:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
# CHECK=1 ci/proto.sh fails when the committed code is not what the
# .proto files generate.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"
for tool in protoc protoc-gen-go protoc-gen-go-grpc; do
  command -v "$tool" >/dev/null || { echo "ci/proto.sh: $tool not found (see the header of this script)" >&2; exit 1; }
done
out=$PWD/schemas/proto
if [[ "${CHECK:-}" == 1 ]]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
protos=$(cd schemas/proto && find . -name '*.proto' | sort)
(cd schemas/proto && protoc -I . \
  --go_out="$out" --go_opt=paths=source_relative \
  --go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
  $protos)
if [[ "${CHECK:-}" == 1 ]]; then
  for f in $(cd "$out" && find . -name '*.go'); do
    cmp -s "$out/$f" "schemas/proto/$f" || { echo "ci/proto.sh: schemas/proto/$f is stale; run ci/proto.sh" >&2; exit 1; }
  done
  echo "ci/proto.sh: generated code is current"
fi
