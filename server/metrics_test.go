package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
