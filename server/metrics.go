package server

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/server/api"
)

// metrics are the server's Prometheus series. Labels use the route
// pattern, never the raw path, so their number stays bounded.
type metrics struct {
	handler  http.Handler
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytesOut *prometheus.CounterVec
	bytesIn  *prometheus.CounterVec
	inFlight prometheus.Gauge
	// rateLimited counts the requests refused by a budget, by which.
	rateLimited *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, version string) *metrics {
	m := &metrics{
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "strata_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"route", "method"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_http_response_bytes_total", Help: "Response body bytes sent, by route.",
		}, []string{"route"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_upload_bytes_total", Help: "File content bytes accepted (files and parts).",
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strata_http_requests_in_flight", Help: "Requests being served.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_rate_limited_total", Help: "Requests refused 429 by a rate limit, by budget (user, token, ip, auth).",
		}, []string{"scope"}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "strata_build_info", Help: "Always 1; the version of the server in its label.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	reg.MustRegister(m.requests, m.duration, m.bytesOut, m.bytesIn, m.inFlight, m.rateLimited, build)
	return m
}

// methodLabel keeps the method label to a fixed set: methods are chosen by
// clients, and an unbounded label would let anyone grow /metrics at will.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodPatch:
		return m
	}
	return "OTHER"
}

// observe counts a request under its status: the code, or "aborted" for a
// response cut short after its status line, whatever that said, so that an
// error rate over the statuses sees it.
func (m *metrics) observe(route, method, status string, d time.Duration, out int64) {
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, status).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
	m.bytesOut.WithLabelValues(route).Add(float64(out))
}

// healthz says the process is up, and nothing else: what runs where is
// for the operator (strata_build_info in the metrics), not for anyone who
// asks.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ iam.Principal) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when the storage engines answer.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ iam.Principal) error {
	if err := s.b.Ready(r.Context()); err != nil {
		s.log.Warn("not ready", "err", err)
		return problemf(http.StatusServiceUnavailable, api.CodeUnavailable, "storage is not reachable")
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
