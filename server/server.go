// Package server is Strata's HTTP gateway: it authenticates each request,
// hands the principal and the parsed request to the core (backend), and maps
// the core's answers and errors onto the JSON API described in docs/api.md.
// All routes are listed in routes.go.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/internal/version"
)

// Config tunes a Server. The zero value is usable.
type Config struct {
	Logger *slog.Logger
	// Registry receives the server's metrics; nil makes a private one with
	// the Go and process collectors.
	Registry *prometheus.Registry
	// BodyIdleTimeout is how long a request body may stall (no byte
	// received) or a response may fail to drain before the connection is
	// dropped; 0 means one minute. It is what defeats slow-body attacks
	// without cutting off large transfers that keep moving.
	BodyIdleTimeout time.Duration
	// MaxJSONBody bounds JSON request bodies; 0 means api.MaxJSONBody.
	MaxJSONBody int64
	// Version is reported in /healthz; "" means this binary's
	// (internal/version).
	Version string
}

// Server is the HTTP handler of the API.
type Server struct {
	b       *backend.Backend
	log     *slog.Logger
	cfg     Config
	metrics *metrics
	mux     *http.ServeMux
	handler http.Handler
}

var _ http.Handler = (*Server)(nil)

// NewServer returns the API handler over b.
func NewServer(b *backend.Backend, cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if cfg.BodyIdleTimeout == 0 {
		cfg.BodyIdleTimeout = time.Minute
	}
	if cfg.Version == "" {
		cfg.Version = version.String()
	}
	if cfg.MaxJSONBody == 0 {
		cfg.MaxJSONBody = 1 << 20
	}
	s := &Server{b: b, log: cfg.Logger, cfg: cfg, metrics: newMetrics(cfg.Registry), mux: http.NewServeMux()}
	s.register()
	s.handler = s.withRequestID(s.withRecover(s.withObserve(s.withCleanPath(s.mux))))
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// HTTPServer wraps h in an http.Server with the timeouts a public server
// needs: a slow client cannot hold a connection by trickling headers
// (ReadHeaderTimeout) or idling (IdleTimeout); request bodies and responses
// are guarded per read and write by the handler (Config.BodyIdleTimeout),
// so large transfers are not cut off by a fixed deadline.
func HTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Collector runs the backend's garbage collector every interval until ctx
// ends. Several servers may run it at once: collection is safe concurrently.
func Collector(ctx context.Context, b *backend.Backend, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := b.Collect(ctx, 0)
		if err != nil && ctx.Err() == nil {
			log.Warn("collector", "err", err)
		}
		if st.OrphanBlobs+st.ExpiredUploads+st.Purges+st.StaleSessions > 0 {
			log.Info("collector", "orphanBlobs", st.OrphanBlobs, "orphanBytes", st.OrphanBytes,
				"expiredUploads", st.ExpiredUploads, "purges", st.Purges, "staleSessions", st.StaleSessions)
		}
	}
}
