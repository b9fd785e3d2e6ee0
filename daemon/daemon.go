package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/engine"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/backend/identity/awsauth"
	"github.com/strata-storage/strata/daemon/jobs"
	"github.com/strata-storage/strata/internal/ratelimit"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/sshserve"
)

// Config says what a Daemon runs.
type Config struct {
	// Engines names the engines; the embedded ones live in its DataDir.
	Engines engine.Spec
	// Core tunes the file tree (versions kept, part size, grace...); its
	// engines, logger and Exclusive are the daemon's to set.
	Core backend.Config
	// Server tunes the HTTP API; its logger is the daemon's.
	Server server.Config
	// TLS, when set, serves the network listener over HTTPS.
	TLS *tls.Config
	// MaxConns bounds the network listener's connections (0: 1024).
	MaxConns int
	// MaxConnsPerIP bounds the network listener's connections from one
	// client address (0: server.DefaultMaxConnsPerIP; negative: no bound,
	// behind a reverse proxy).
	MaxConnsPerIP int
	// LocalSocket also serves the API on the data directory's private
	// socket, for the owner's local clients (the embedded engines' owner
	// does).
	LocalSocket bool
	// PasswordCost is what hashing a password costs (zero: identity's
	// default; tests make it cheap).
	PasswordCost identity.PasswordCost
	// GCInterval is how often garbage is collected (0: never on a
	// schedule); each collection also trims the audit log.
	GCInterval time.Duration
	// Limits are the rate limits of every entry point; users' own limits
	// are read from identity. The zero value limits only failed
	// authentications.
	Limits ratelimit.Config
	// AuditRetention is how long audit records are kept (0:
	// audit.DefaultRetention, negative: forever).
	AuditRetention time.Duration
	Logger         *slog.Logger
}

// rekeyCheck is how often the daemon looks for a key rotation to resume.
const rekeyCheck = time.Minute

// restorePoll is how often the daemon looks for restores that are due.
const restorePoll = 15 * time.Second

// ruleSweep is how often the daemon carries archive rules' sweeps on.
const ruleSweep = 10 * time.Minute

// Daemon is a running store.
type Daemon struct {
	Core
	cfg        Config
	eng        *engine.Set
	handler    *server.Server
	jobs       *jobs.Runner
	api        *http.Server
	metricsLn  net.Listener
	metrics    *http.Server
	serveErr   chan error
	stopSocket func()
	limits     *ratelimit.Limiter
	ssh        *sshserve.Server
}

// embeddedPart reports whether any engine of spec lives in its data
// directory.
func embeddedPart(spec engine.Spec) bool {
	emb := func(u string) bool { return u == "" }
	return emb(spec.Blob) || emb(spec.Meta) || emb(spec.Keys)
}

// Open opens the engines and the core on them, and checks that the key
// service can unwrap the store's keys. It serves nothing yet (Start).
func Open(ctx context.Context, cfg Config) (*Daemon, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 1024
	}
	if embeddedPart(cfg.Engines) {
		// Whichever engines are embedded, their directory is made here,
		// private to this user, for all of them (a data directory holds
		// the master keys or the metadata).
		if cfg.Engines.DataDir == "" {
			return nil, errors.New("daemon: the embedded engines need a data directory")
		}
		if err := embedded.MakePrivate(cfg.Engines.DataDir); err != nil {
			return nil, err
		}
	}
	eng, err := engine.Open(ctx, cfg.Engines)
	if err != nil {
		return nil, err
	}
	cc := cfg.Core
	cc.Blobs, cc.Meta, cc.Keys, cc.Logger = eng.Blobs, eng.Meta, eng.Keys, cfg.Logger
	embeddedMeta := cfg.Engines.Meta == "" || strings.HasPrefix(cfg.Engines.Meta, "file://")
	// Metadata in a locked local file has one user: this process.
	cc.Exclusive = embeddedMeta
	if embeddedMeta && cc.InlineMax == 0 {
		// Its records are cheap: small files are kept in them (0 means
		// the default here; a negative InlineMax keeps every file in the
		// blob store).
		cc.InlineMax = backend.DefaultInlineMax
	}
	c, err := NewCore(cc, WithAuditRetention(cfg.AuditRetention), WithPasswordCost(cfg.PasswordCost))
	if err != nil {
		eng.Close()
		return nil, err
	}
	if err := c.Files.CheckKeys(ctx); err != nil {
		eng.Close()
		return nil, err
	}
	// A store from before quotas has home folders whose usage nobody
	// counted: count them once, before any request changes them.
	if n, err := c.Files.CountUsage(ctx); err != nil {
		eng.Close()
		return nil, fmt.Errorf("count the usage of home folders: %w", err)
	} else if n > 0 {
		cfg.Logger.Info("counted the usage of home folders from before quotas", "homes", n)
	}
	sc := cfg.Server
	sc.Logger = cfg.Logger
	lc := cfg.Limits
	if lc.Clock == nil && sc.Now != nil {
		lc.Clock = ratelimit.NowClock(sc.Now) // the server's clock, which tests set
	}
	lc.Overrides, lc.Logger = UserOverrides(c.Identity), cfg.Logger
	d := &Daemon{Core: c, cfg: cfg, eng: eng, serveErr: make(chan error, 1), limits: ratelimit.New(lc)}
	sc.Limits = d.limits
	d.handler = server.NewServer(server.Deps{Files: c.Files, Identity: c.Identity, Audit: c.Audit, Shares: c.Shares}, sc)
	return d, nil
}

// SetTLS serves the network listener over HTTPS (before Start).
func (d *Daemon) SetTLS(c *tls.Config) { d.cfg.TLS = c }

// SetMetricsListener serves /metrics, and nothing else, on ln (before
// Start), for a server configured with server.MetricsApart.
func (d *Daemon) SetMetricsListener(ln net.Listener) { d.metricsLn = ln }

// SetAWSLogin takes logins with an AWS identity, verified by v (nil: none;
// before Start).
func (d *Daemon) SetAWSLogin(v *awsauth.Verifier) { d.handler.SetAWSLogin(v) }

// SetPublicURL names the address share links are made under (before
// Start; "": the address each request came to).
func (d *Daemon) SetPublicURL(u string) { d.handler.SetPublicURL(u) }

// Describe says what engines run, for people (no secrets).
func (d *Daemon) Describe() string { return d.eng.Describe }

// Handler is the HTTP API.
func (d *Daemon) Handler() http.Handler { return d.handler }

// Start serves the API on ln (nil: on no network listener) and on the data
// directory's socket if so configured, and starts the background jobs.
func (d *Daemon) Start(ctx context.Context, ln net.Listener) error {
	if d.cfg.LocalSocket {
		stop, err := serveSocket(ctx, d.Identity, d.handler, d.cfg.Engines.DataDir, d.cfg.Logger)
		if err != nil {
			return err
		}
		d.stopSocket = stop
	}
	d.jobs = jobs.New(d.cfg.Logger)
	d.jobs.Every("collector", d.cfg.GCInterval, d.collect)
	// A key rotation whose server stopped (this one, before a restart)
	// resumes at once; another server's is looked for now and then, and
	// taken over once its lease lapses.
	d.jobs.Every("rekey", rekeyCheck, d.Files.ResumeKeyRotation)
	d.jobs.Kick("rekey")
	// Restores: each run sends at most backend.RestoreRequestsPerRun
	// requests to the blob store; a new request kicks a run at once.
	d.jobs.Every("restores", restorePoll, d.Files.PollRestores)
	d.Files.OnRestoreRequested(func() { d.jobs.Kick("restores") })
	d.jobs.Kick("restores")
	// Archive rules: each run reads a bounded number of entries.
	d.jobs.Every("archive-rules", ruleSweep, d.Files.SweepArchiveRules)
	d.jobs.Kick("archive-rules")
	if ln != nil {
		perIP := d.cfg.MaxConnsPerIP
		switch {
		case perIP == 0:
			perIP = server.DefaultMaxConnsPerIP
		case perIP < 0:
			perIP = 0
		}
		limited := server.LimitListener(ln, d.cfg.MaxConns, server.MaxConnsPerIP(perIP))
		ln = limited
		if d.cfg.TLS != nil {
			ln = tls.NewListener(ln, d.cfg.TLS)
		}
		d.api = server.HTTPServer(ln.Addr().String(), d.handler, d.cfg.Logger)
		d.api.TLSConfig = d.cfg.TLS
		limited.Track(d.api)
		go func() { d.serveErr <- d.api.Serve(ln) }()
	} else {
		d.serveErr = nil // never delivers
	}
	if d.metricsLn != nil {
		limited := server.LimitListener(d.metricsLn, 64)
		d.metrics = server.HTTPServer(d.metricsLn.Addr().String(), d.handler.MetricsHandler(), d.cfg.Logger)
		limited.Track(d.metrics)
		go func() {
			if err := d.metrics.Serve(limited); err != nil && !errors.Is(err, http.ErrServerClosed) {
				d.cfg.Logger.Warn("metrics listener", "err", err)
			}
		}()
	}
	return nil
}

// Done delivers the network listener's failure, if it stops on its own.
func (d *Daemon) Done() <-chan error { return d.serveErr }

// collect is the collector job: garbage, and audit records past their
// retention.
func (d *Daemon) collect(ctx context.Context) error {
	st, err := d.Files.Collect(ctx, 0)
	trimmed, terr := d.Audit.Trim(ctx)
	if st.OrphanBlobs+st.ExpiredUploads+st.Purges+st.StaleSessions+st.AbandonedJobs+st.ExpiredItems+trimmed > 0 {
		d.cfg.Logger.Info("collector", "orphanBlobs", st.OrphanBlobs, "orphanBytes", st.OrphanBytes,
			"expiredUploads", st.ExpiredUploads, "purges", st.Purges, "staleSessions", st.StaleSessions,
			"abandonedJobs", st.AbandonedJobs, "expiredItems", st.ExpiredItems, "auditTrimmed", trimmed)
	}
	return errors.Join(err, terr)
}

// Stop stops gracefully: SSH users are told and their sessions end, no new connections, requests in flight finish
// (until ctx ends), the jobs stop, the socket and its token go, and the
// engines close.
func (d *Daemon) Stop(ctx context.Context) error {
	var errList []error
	if err := d.stopSSH(ctx); err != nil {
		errList = append(errList, err)
	}
	if d.api != nil {
		if err := d.api.Shutdown(ctx); err != nil {
			errList = append(errList, err)
			_ = d.api.Close()
		}
	}
	if d.metrics != nil {
		_ = d.metrics.Shutdown(ctx)
	}
	if d.stopSocket != nil {
		d.stopSocket()
	}
	if d.jobs != nil {
		d.jobs.Stop()
	}
	if err := d.Files.Drain(ctx); err != nil {
		errList = append(errList, fmt.Errorf("background work left to the next start: %w", err))
	}
	errList = append(errList, d.eng.Close())
	return errors.Join(errList...)
}

// Close releases a daemon that was opened but not started.
func (d *Daemon) Close() error { return d.eng.Close() }
