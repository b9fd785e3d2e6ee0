#!/usr/bin/env bash
# The one command that runs every test: vet, then the whole suite with the
# race detector. CI (.ci/run) calls it on a clean checkout, so it installs or
# starts everything it needs itself.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    echo "scripts/test.sh: Go is not installed (https://go.dev/dl/)" >&2
    exit 1
  fi
fi

echo "== go version: $(go version)"
echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
# -p 2: this is sized for two cores; the end-to-end tests start servers.
go test -race -p 2 -timeout 15m ./...
echo "== all tests passed"
