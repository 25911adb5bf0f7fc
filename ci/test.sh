#!/usr/bin/env bash
# ci/test.sh: install what the tests need, then run every check and test.
# This is the README's test command; .ci/run calls it on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }

# Debian packages the tests use: kcat (Kafka interop tests produce with it),
# chromium (the dashboard test renders the page in headless Chromium),
# python3-aiosmtpd (the alert tests send mail to a real SMTP server),
# python3-sklearn (the clusters view is scored against its k-means),
# prometheus-alertmanager (alerts are pushed to a real Alertmanager).
apt_need=()
command -v kcat >/dev/null 2>&1 || apt_need+=(kcat)
command -v chromium >/dev/null 2>&1 || apt_need+=(chromium)
command -v prometheus-alertmanager >/dev/null 2>&1 || apt_need+=(prometheus-alertmanager)
# Notebooks: Debian's Jupyter executes them headless (notebooks/build.sh).
command -v jupyter-nbconvert >/dev/null 2>&1 || apt_need+=(jupyter-nbconvert)
/usr/bin/python3 -c 'import nbclient, ipykernel, pandas, matplotlib' >/dev/null 2>&1 ||
  apt_need+=(python3-nbclient python3-ipykernel python3-pandas python3-matplotlib)
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || apt_need+=(python3-aiosmtpd)
# The clusters quality tests compare with scikit-learn's k-means.
/usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1 || apt_need+=(python3-sklearn)
if [ ${#apt_need[@]} -gt 0 ]; then
  log "installing Debian packages: ${apt_need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # One retry: a fresh machine's first apt run sometimes meets a mirror
  # mid-sync. A second failure stops CI: the tests need these tools.
  for attempt in 1 2; do
    if $sudo apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_need[@]}" >/dev/null; then
      break
    fi
    [ "$attempt" -eq 2 ] && { log "could not install ${apt_need[*]}"; exit 1; }
    log "apt failed; retrying in 10s"
    sleep 10
  done
fi

log "go version: $(go version)"
log "downloading modules"
go mod download

log "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "not gofmt-ed:" >&2
  echo "$unformatted" >&2
  exit 1
fi

log "go vet"
go vet ./...

# A real S3 server for the lake's S3 tests: SeaweedFS's weed, built once
# (~4 min on 2 cores) and cached outside the repo; later runs reuse it.
log "seaweedfs (S3 server for the lake tests)"
LOGLAMBDA_WEED=$(ci/seaweedfs.sh)
export LOGLAMBDA_WEED

log "go test (first build of DuckDB and FerretDB takes a few minutes)"
go test -count=1 -timeout 25m "$@" ./...

# The packages whose goroutines share state (the speed consumer with its
# flusher, the shipper with its acknowledgements, the follower) once more
# under the race detector.
log "go test -race (speed, ship, tail)"
go test -race -count=1 -timeout 10m ./speed/ ./internal/ship/ ./internal/tail/

# The notebooks, executed headless on a freshly generated lake (a cell that
# raises fails); their figures are compared with loglambda sql.
log "notebooks"
nb_out=$(mktemp -d)
notebooks/build.sh --out "$nb_out"
rm -rf "$nb_out"

log "ok"
