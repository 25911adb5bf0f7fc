#!/bin/sh
# Pattern mining checks: format, vet, unit tests, grouping and parsing accuracy on the
# Loghub samples (floors in schemas/patterns/accuracy_test.go; messages only,
# auto against line, 128-line samples; the leave-one-system-out table of the
# rules, dev and held-out scores and their gap, --format line and auto, and
# the held-out floors: mean PA 0.80, GA 0.90) and, with
# BENCH=1, the inference benchmark. Run from anywhere in the repository;
# ci/test.sh may call it. The Loghub samples are found at
# <repo>/../shared/data/loghub unless LOGLAMBDA_LOGHUB says otherwise; the
# accuracy test skips when there are none.
set -eu
cd "$(dirname "$0")/.."
pkgs="./schemas/patterns/ ./schemas/formats/"
files="$(gofmt -l schemas/patterns schemas/formats internal/cli/patterns.go)"
if [ -n "$files" ]; then
	echo "gofmt needed: $files" >&2
	exit 1
fi
go vet $pkgs
go test -count=1 -v -run 'GroupingAccuracy|MessagesLoghub|RulesLoghub' ./schemas/patterns/ | grep -E 'GA |^ *\| |worst held-out|summary --format|^(ok|FAIL|---)' || true
go test -count=1 $pkgs
if [ "${BENCH:-0}" = 1 ]; then
	go test -run '^$' -bench Mine -benchtime 2000000x ./schemas/patterns/
fi
