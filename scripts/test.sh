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

# The AWS drivers run their conformance suites, and the end-to-end tests run,
# against moto's server: one instance on a free loopback port for the whole
# run. If it cannot start, the run fails (STRATA_TEST_REQUIRE_AWS makes the
# tests fail rather than skip without it).
start_moto() {
  local port log=${TMPDIR:-/tmp}/strata-moto.$$.log
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # moto's own app behind one lock (see scripts/moto_server.py for why).
  if ! python3 -c 'import moto.moto_server.werkzeug_app' 2>/dev/null; then
    echo "scripts/test.sh: moto's server is not installed (pip install 'moto[server]')" >&2
    exit 1
  fi
  python3 scripts/moto_server.py -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  moto_pid=$!
  trap 'kill $moto_pid 2>/dev/null || true' EXIT
  for _ in $(seq 150); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "http://127.0.0.1:$port/moto-api/" 2>/dev/null; then
      export STRATA_TEST_AWS_ENDPOINT="http://127.0.0.1:$port" STRATA_TEST_REQUIRE_AWS=1
      echo "== moto server on $STRATA_TEST_AWS_ENDPOINT"
      return
    fi
    if ! kill -0 "$moto_pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "scripts/test.sh: moto's server did not start; its log:" >&2
  cat "$log" >&2
  exit 1
}
start_moto

# The deployment tests (cmd/strata/deploy_test.go) run deploy/ with the real
# tools: systemd-analyze, nginx and Caddy. Each skips where its tool is
# missing; in CI (CI=true, as root) they are installed from Debian's packages
# first, so that they run. Elsewhere nothing is installed behind your back:
# installing nginx or Caddy starts them as services on a real system.
deploy_tools() {
  local missing=()
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v caddy >/dev/null 2>&1 || missing+=(caddy)
  [ ${#missing[@]} -eq 0 ] && return
  if [ "${CI:-}" = true ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${missing[*]} for the deployment tests"
    if DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
       DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
      return
    fi
    echo "scripts/test.sh: could not install ${missing[*]}" >&2
  fi
  echo "== not installed: ${missing[*]}; the deployment tests that need them skip (apt-get install ${missing[*]})"
}
deploy_tools

echo "== go test -race"
# -p 2: this is sized for two cores; the end-to-end tests start servers.
go test -race -p 2 -timeout 15m ./...
echo "== all tests passed"
