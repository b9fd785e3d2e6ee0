package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/server/api"
)

// checkMetricsToken lets a request read the metrics if no token is set or
// it brings the token. The comparison is of the SHA-256 sums, so that it
// takes the same time whatever the length of what was sent.
func (s *Server) checkMetricsToken(r *http.Request) error {
	if s.cfg.MetricsToken == "" {
		return nil
	}
	tok, err := bearer(r)
	if err != nil {
		return err
	}
	want, got := sha256.Sum256([]byte(s.cfg.MetricsToken)), sha256.Sum256([]byte(tok))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return &problem{status: http.StatusUnauthorized, code: api.CodeUnauthorized, detail: "wrong metrics token"}
	}
	return nil
}

// metricsOnAPI serves /metrics on the API if the configuration puts it
// there (with a token); otherwise there is no such route.
func (s *Server) metricsOnAPI(w http.ResponseWriter, r *http.Request, _ iam.Principal) error {
	if s.cfg.Metrics != MetricsOnAPI || s.cfg.MetricsToken == "" {
		return problemf(http.StatusNotFound, api.CodeRouteNotFound, "no route for %s %s", r.Method, "/metrics")
	}
	if err := s.checkMetricsToken(r); err != nil {
		return err
	}
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}

// MetricsHandler serves GET /metrics, and nothing else, for a listener of
// its own (Config.Metrics MetricsApart), with the metrics token if one is
// set.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			s.writeProblem(w, r, problemf(http.StatusNotFound, api.CodeRouteNotFound, "this listener serves GET /metrics only"))
			return
		}
		if s.cfg.Metrics != MetricsApart {
			s.writeProblem(w, r, problemf(http.StatusNotFound, api.CodeRouteNotFound, "metrics are not served here"))
			return
		}
		if err := s.checkMetricsToken(r); err != nil {
			s.writeProblem(w, r, toProblem(err))
			return
		}
		s.metrics.handler.ServeHTTP(w, r)
	})
	return s.withRequestID(s.withBodyGuard(mux))
}
