package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
)

const metricsToken = "metrics-token-0123456789abcdefghijklmnopq"

// TestMetricsAccess: /metrics is not public. By default it is served
// nowhere; on the API only with the metrics token (no user's token
// will do); apart, from its own handler, with the token if one is set.
// /healthz says nothing of the version, which the metrics carry.
func TestMetricsAccess(t *testing.T) {
	f := newFixture(t, server.Config{Version: "v9.9.9"})
	problem(t, f.do("GET", "/metrics", "", nil), http.StatusNotFound, api.CodeRouteNotFound)
	problem(t, f.do("GET", "/metrics", f.admin, nil), http.StatusNotFound, api.CodeRouteNotFound)
	var health map[string]any
	if err := json.Unmarshal(ok(t, f.do("GET", "/healthz", "", nil), http.StatusOK), &health); err != nil || len(health) != 1 || health["status"] != "ok" {
		t.Fatalf("healthz %v %v", health, err)
	}

	onAPI := newFixture(t, server.Config{Version: "v9.9.9", Metrics: server.MetricsOnAPI, MetricsToken: metricsToken})
	problem(t, onAPI.do("GET", "/metrics", "", nil), http.StatusUnauthorized, api.CodeUnauthorized)
	problem(t, onAPI.do("GET", "/metrics", onAPI.admin, nil), http.StatusUnauthorized, api.CodeUnauthorized)
	problem(t, onAPI.do("GET", "/metrics", metricsToken+"x", nil), http.StatusUnauthorized, api.CodeUnauthorized)
	if b := ok(t, onAPI.do("GET", "/metrics", metricsToken, nil), http.StatusOK); !bytes.Contains(b, []byte(`strata_build_info{version="v9.9.9"} 1`)) ||
		!bytes.Contains(b, []byte("strata_http_requests_total")) {
		t.Fatalf("metrics:\n%s", b)
	}
	if b := ok(t, onAPI.do("GET", "/healthz", "", nil), http.StatusOK); bytes.Contains(b, []byte("9.9")) {
		t.Fatalf("healthz shows the version: %s", b)
	}

	var handler http.Handler
	apart := newFixtureWith(t, server.Config{Metrics: server.MetricsApart, MetricsToken: metricsToken}, func(s *server.Server) { handler = s.MetricsHandler() })
	problem(t, apart.do("GET", "/metrics", metricsToken, nil), http.StatusNotFound, api.CodeRouteNotFound)
	ms := httptest.NewServer(handler)
	t.Cleanup(ms.Close)
	m := &fixture{t: t, srv: ms}
	problem(t, m.do("GET", "/metrics", "", nil), http.StatusUnauthorized, api.CodeUnauthorized)
	ok(t, m.do("GET", "/metrics", metricsToken, nil), http.StatusOK)
	problem(t, m.do("GET", "/v1/whoami", apart.admin, nil), http.StatusNotFound, api.CodeRouteNotFound)
	problem(t, m.do("GET", "/healthz", "", nil), http.StatusNotFound, api.CodeRouteNotFound)

	open := newFixtureWith(t, server.Config{Metrics: server.MetricsApart}, func(s *server.Server) { handler = s.MetricsHandler() })
	problem(t, open.do("GET", "/metrics", "", nil), http.StatusNotFound, api.CodeRouteNotFound)
	ms2 := httptest.NewServer(handler)
	t.Cleanup(ms2.Close)
	ok(t, (&fixture{t: t, srv: ms2}).do("GET", "/metrics", "", nil), http.StatusOK)
}

// A download cut short after its status line (its content failed midway)
// is counted as aborted, not as the 200 its status line said, nor left out.
func TestMetricsCountAbortedResponses(t *testing.T) {
	f := newFixture(t, server.Config{Metrics: server.MetricsOnAPI, MetricsToken: metricsToken})
	content := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	ok(t, f.do("PUT", "/v1/files/home/admin/big.bin", f.admin, bytes.NewReader(content)), http.StatusCreated)
	f.fault.failAfter = 300 << 10
	resp := f.do("GET", "/v1/files/home/admin/big.bin", f.admin, nil)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err == nil {
		t.Fatalf("a download failing midway: %d, %d bytes, %v", resp.StatusCode, len(got), err)
	}
	f.fault.failAfter = 0
	b := ok(t, f.do("GET", "/metrics", metricsToken, nil), http.StatusOK)
	var aborted []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "strata_http_requests_total{") && strings.Contains(l, `status="aborted"`) {
			aborted = append(aborted, l)
		}
	}
	if len(aborted) != 1 || !strings.Contains(aborted[0], `method="GET"`) || !strings.HasSuffix(aborted[0], " 1") {
		t.Fatalf("aborted requests counted: %q", aborted)
	}
}
