// Package server is Strata's HTTP gateway: it authenticates each request,
// hands the principal and the parsed request to the core (backend), and maps
// the core's answers and errors onto the JSON API described in docs/api.md.
// All routes are listed in routes.go.
package server

import (
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/audit"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/backend/identity/awsauth"
	"github.com/strata-storage/strata/backend/shares"
	"github.com/strata-storage/strata/internal/archiveprice"
	"github.com/strata-storage/strata/internal/ratelimit"
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
	// JobWait is how long an operation that runs as a job (a folder
	// copy) is waited for before the answer is 202 with the job to follow;
	// 0 means 5 seconds.
	JobWait time.Duration
	// Version is reported in the metrics (strata_build_info), not to
	// anyone who asks; "" means this binary's (internal/version).
	Version string
	// Metrics says where /metrics is served: nowhere (MetricsOff, the
	// zero value), by this handler (MetricsOnAPI), or only by
	// MetricsHandler, on a listener of its own (MetricsApart). The
	// metrics tell anyone who reads them what the server does (requests
	// and bytes by route, engine calls), so they are never public on the
	// API unless asked for.
	Metrics MetricsPlace
	// MetricsToken, when set, is the bearer token /metrics requires
	// wherever it is served; MetricsOnAPI requires one.
	MetricsToken string
	// Now is the clock failed logins, token re-checks and the rate of
	// request bodies are timed by; nil means time.Now.
	Now func() time.Time
	// Limits is the rate limiter every entry point shares (nil: one
	// that only slows failed authentications down, by ratelimit's
	// defaults).
	Limits *ratelimit.Limiter
	// TrustedProxies are the proxies (load balancers) trusted to name
	// their client in X-Forwarded-For; for anyone else, the client is
	// the connection's peer.
	TrustedProxies []netip.Prefix
	// TokenRecheck is how often a running request re-checks its token,
	// so that a revoked token or a deleted user ends it (at its next read
	// or write after that); 0 means DefaultTokenRecheck.
	TokenRecheck time.Duration
	// LogPaths puts each request's path in the request log (info level);
	// by default the log names the route only.
	LogPaths bool
	// ArchivePrices is the administrator's price table for archive and
	// restore estimates (strata serve --archive-prices); nil: AWS's list
	// prices on S3, nothing on the embedded cold tier.
	ArchivePrices *archiveprice.Table
}

// MetricsPlace is where /metrics is served.
type MetricsPlace int

// Where /metrics may be served.
const (
	MetricsOff MetricsPlace = iota
	MetricsOnAPI
	MetricsApart
)

// Deps is what the server serves: the file tree and identity.
type Deps struct {
	Files    *backend.Backend
	Identity *identity.Service
	// Audit is the audit log each request is recorded in; nil records
	// nothing.
	Audit *audit.Log
	// Shares serves share links; nil: the server has none.
	Shares *shares.Service
}

// Server is the HTTP handler of the API.
type Server struct {
	b       *backend.Backend
	ids     *identity.Service
	limits  *ratelimit.Limiter
	audit   *audit.Log
	aws     *awsauth.Verifier // nil: no AWS logins
	log     *slog.Logger
	cfg     Config
	metrics *metrics
	mux     *http.ServeMux
	handler http.Handler
	links   linkServer
	// pageBufs holds *[]byte buffers that listing pages are written into
	// (writePage).
	pageBufs sync.Pool
}

var _ http.Handler = (*Server)(nil)

// NewServer returns the API handler over the core.
func NewServer(d Deps, cfg Config) *Server {
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
	if cfg.JobWait == 0 {
		cfg.JobWait = 5 * time.Second
	}
	if cfg.Version == "" {
		cfg.Version = version.String()
	}
	if cfg.MaxJSONBody == 0 {
		cfg.MaxJSONBody = 1 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Limits == nil {
		cfg.Limits = ratelimit.New(ratelimit.Config{Clock: ratelimit.NowClock(cfg.Now), Logger: cfg.Logger})
	}
	if cfg.TokenRecheck == 0 {
		cfg.TokenRecheck = DefaultTokenRecheck
	}
	s := &Server{b: d.Files, ids: d.Identity, audit: d.Audit, limits: cfg.Limits, log: cfg.Logger, cfg: cfg, metrics: newMetrics(cfg.Registry, cfg.Version), mux: http.NewServeMux()}
	s.links = newLinkServer(d.Shares, cfg.Now)
	s.pageBufs.New = func() any { return new([]byte) }
	s.register()
	s.handler = s.withRequestID(s.withClientAddr(s.withBodyGuard(s.withObserve(s.withRecover(s.withCleanPath(s.mux))))))
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// HTTPServer wraps h in an http.Server with the timeouts a public server
// needs: a slow client cannot hold a connection by trickling headers
// (ReadHeaderTimeout, which also bounds the TLS handshake) or idling
// (IdleTimeout; a LimitedListener tracking the server closes idle
// connections sooner when it is full); request bodies and responses are
// guarded per read and write by the handler (Config.BodyIdleTimeout), so
// large transfers are not cut off by a fixed deadline, and a body the
// handler does not read is not waited for.
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
