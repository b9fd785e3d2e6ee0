package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/audit"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/engine"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/internal/archiveprice"
	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/internal/pprofserve"
	"github.com/strata-storage/strata/internal/ratelimit"
	"github.com/strata-storage/strata/internal/shell"
	"github.com/strata-storage/strata/internal/version"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/sshserve"
)

type serveOpts struct {
	blob         string
	meta         string
	keys         string
	awsEndpoint  string
	awsRegion    string
	s3PathStyle  string
	kmsPrevious  []string
	listen       string
	tlsCert      string
	tlsKey       string
	keepVersions int
	defaultQuota string
	gcInterval   time.Duration
	gcGrace      time.Duration
	bodyTimeout  time.Duration
	maxConns     int
	maxConnsIP   int
	metricsAddr  string
	metricsToken string
	logLevel     string
	logFormat    string
	partSize     int64
	stsEndpoint  string
	publicURLs   []string
	limits       limitOpts
	auditKeep    string
	logPaths     bool
	shareURL     string
	archiveDir   string
	restoreDelay []string
	// archivePrices is the administrator's price table file.
	archivePrices string
	ssh           string
	sshPasswords  bool
	sshIdle       time.Duration
	sshSessions   int
	sshPublic     string
	sshCiphers    []string
	pprof         string
	pprofPublic   bool
}

// limitOpts are serve's rate limit flags.
type limitOpts struct {
	requests       float64
	bandwidth      string
	authFailures   int
	ipRequests     float64
	tokenRequests  float64
	trustedProxies []string
}

// config checks the flags and makes the limiter's settings and the
// trusted proxies of them.
func (o limitOpts) config() (ratelimit.Config, []netip.Prefix, error) {
	var c ratelimit.Config
	for _, r := range []struct {
		flag string
		v    float64
	}{{"--limit-requests", o.requests}, {"--limit-ip-requests", o.ipRequests}, {"--limit-token-requests", o.tokenRequests}} {
		if math.IsNaN(r.v) || r.v < 0 || r.v > identity.MaxRequests {
			return c, nil, usagef("%s must be 0 (no limit) to %g requests a second", r.flag, float64(identity.MaxRequests))
		}
	}
	bw, err := human.ParseBytes(o.bandwidth)
	if err != nil {
		return c, nil, usagef("--limit-bandwidth: %v", err)
	}
	if bw > 0 && bw < identity.MinBandwidth {
		return c, nil, usagef("--limit-bandwidth must be 0 (no limit) or at least %s a second", human.Bytes(identity.MinBandwidth))
	}
	if o.authFailures < 0 {
		return c, nil, usagef("--limit-auth-failures must be 0 (no limit) or more")
	}
	proxies, err := server.ParseTrustedProxies(o.trustedProxies)
	if err != nil {
		return c, nil, usagef("--trusted-proxies: %v", err)
	}
	c = ratelimit.Config{User: ratelimit.Limits{Requests: o.requests, Bandwidth: bw},
		IPRequests: o.ipRequests, TokenRequests: o.tokenRequests, AuthFailures: o.authFailures}
	if o.authFailures == 0 {
		c.AuthFailures = -1 // none
	}
	return c, proxies, nil
}

func (a *app) serveCmd() *cobra.Command {
	var o serveOpts
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Strata server",
		Long: `Run the Strata server.

By default it runs on the embedded engines: encrypted blobs on local disk,
metadata in bbolt, master keys in a local key file, all under --data. With
--blob s3://bucket/prefix, --meta dynamodb://table and --keys kms://alias/name
it runs on AWS instead (region and credentials from the standard AWS chain:
AWS_REGION, AWS_PROFILE, an IAM role...), and any number of servers can share
those engines behind a load balancer. --aws-endpoint points every AWS engine
at an emulator or an S3-compatible store (MinIO, Ceph, SeaweedFS); the
per-service AWS_ENDPOINT_URL_S3, _DYNAMODB and _KMS work too.

At start every engine is checked: a missing bucket, table or key, a wrong
region or a missing permission stops the server with a message that names it.

On an empty store it creates the user "admin" with the token in
STRATA_ADMIN_TOKEN, or with a new token that it prints once. On the embedded
engines it also serves the store on a private socket in --data, through
which the CLI on this machine reaches it without a token when no server is
given: 'strata admin token create --name laptop' makes one.

Users an admin has mapped to AWS identities log in with 'strata login --aws':
the server has AWS STS (--sts-endpoint; by default the endpoint of the AWS
region) say who signed the login, which must name this server by an address
of --public-url (by default the --listen address, if it names a host).

Each user may send --limit-requests requests a second (a burst of twice as
many) and --limit-bandwidth bytes a second of bodies; costly operations
(recursive deletes, folder copies, big listings) count for more. Beyond a
limit the answer is 429 with Retry-After, which the CLI and the file manager
wait for. An admin changes one user's limits with 'strata admin limits set'.
Behind a load balancer, name it in --trusted-proxies, so that limits and
policies see each client's own address (from X-Forwarded-For).

With --ssh ADDR it also serves SSH there: users log in with a key they added
('strata keys add') and get the file manager (ssh -p PORT alice@host), and
copy files with sftp and scp (also scp -O) on the same port, under the same
policies as the API. The host key is made once: in --data on the embedded
metadata, sealed in the store on DynamoDB (every server shows the same).

Every flag can also be set as STRATA_<FLAG> (e.g. STRATA_LISTEN) or in the
settings file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.blob, "blob", "", "blob engine: s3://bucket[/prefix] or file:///dir (default: embedded in --data)")
	f.StringVar(&o.meta, "meta", "", "metadata engine: dynamodb://table or file:///path (default: embedded in --data)")
	f.StringVar(&o.keys, "keys", "", "key engine: kms://alias/name (or key ID or ARN) or file:///path (default: embedded in --data)")
	f.StringVar(&o.awsEndpoint, "aws-endpoint", "", "endpoint for every AWS engine: an emulator or an S3-compatible store")
	f.StringVar(&o.awsRegion, "aws-region", "", "AWS region (default: the standard chain, e.g. AWS_REGION)")
	f.StringVar(&o.s3PathStyle, "s3-path-style", "auto", "path-style S3 addressing: auto (on with a custom endpoint), true or false")
	f.StringSliceVar(&o.kmsPrevious, "kms-previous-keys", nil, "ARNs of KMS keys the --keys alias named before a manual rotation (comma-separated)")
	f.StringVar(&o.listen, "listen", "127.0.0.1:8420", "address to listen on (host:port; port 0 picks a free one)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate file (PEM); with --tls-key, serve HTTPS")
	f.StringVar(&o.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	f.IntVar(&o.keepVersions, "keep-versions", backend.DefaultKeepVersions, "versions kept per file, the current one included")
	f.DurationVar(&o.gcInterval, "gc-interval", time.Hour, "how often to collect garbage (0 disables)")
	f.DurationVar(&o.gcGrace, "gc-grace", backend.DefaultGrace, "age before an unreferenced blob is removed")
	f.DurationVar(&o.bodyTimeout, "body-timeout", time.Minute, "drop a transfer that makes no progress for this long")
	f.IntVar(&o.maxConns, "max-conns", 1024, "most client connections served at once (more wait; idle ones make room)")
	f.IntVar(&o.maxConnsIP, "max-conns-per-ip", server.DefaultMaxConnsPerIP, "most connections from one client address at once (0: no bound, e.g. behind a reverse proxy)")
	f.StringVar(&o.metricsAddr, "metrics-listen", "", "serve /metrics on this address (host:port), and only there (default: nowhere)")
	f.StringVar(&o.metricsToken, "metrics-token", "", "bearer token /metrics requires (better in STRATA_METRICS_TOKEN); without --metrics-listen, /metrics is then served on --listen")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&o.stsEndpoint, "sts-endpoint", "", "STS endpoint AWS logins are verified with (default: the AWS region's, or https://sts.amazonaws.com without a region; AWS_ENDPOINT_URL_STS works too)")
	f.StringVar(&o.shareURL, "share-url", "", "the address share links are made under, e.g. a CDN's https://d111.cloudfront.net (default: the first --public-url, else the address each request came to)")
	f.StringSliceVar(&o.publicURLs, "public-url", nil, "the addresses clients reach this server by, e.g. https://files.example.com (comma-separated); an AWS login must be signed for one (default: the --listen address, if it names a host)")
	f.Float64Var(&o.limits.requests, "limit-requests", ratelimit.DefaultRequests, "sustained requests per second per user, burst twice as many (0: no limit; 'strata admin limits set' overrides it for one user)")
	f.StringVar(&o.limits.bandwidth, "limit-bandwidth", "0", "bytes per second per user of request and response bodies, e.g. 50MiB (0: no limit)")
	f.IntVar(&o.limits.authFailures, "limit-auth-failures", ratelimit.DefaultAuthFailures, "failed authentications per minute per client address before each further one waits, twice as long each time (0: no limit)")
	f.Float64Var(&o.limits.ipRequests, "limit-ip-requests", 0, "sustained requests per second per client address, authenticated or not (0: no limit)")
	f.Float64Var(&o.limits.tokenRequests, "limit-token-requests", 0, "sustained requests per second per token (0: a token may use all of its user's)")
	f.StringSliceVar(&o.limits.trustedProxies, "trusted-proxies", nil, "addresses or CIDR prefixes of the proxies (load balancers) trusted to name their client in X-Forwarded-For (comma-separated; default: none, the client is the connection's peer)")
	f.StringVar(&o.defaultQuota, "default-quota", "none", "quota of a new user's home folder, e.g. 10GiB (none: no limit; 'strata admin quota set' changes one user's)")
	f.StringVar(&o.auditKeep, "audit-retention", "90d", "how long audit records are kept, e.g. 90d or 720h (at least 1d; 0 keeps them forever); the collector trims older ones")
	f.BoolVar(&o.logPaths, "log-paths", false, "put each request's path in the request log (by default it names the route only; the audit log keeps the changes)")
	f.StringVar(&o.archiveDir, "archive-dir", "", "cold tier of the embedded blob store, e.g. another disk (default: archive in --data)")
	f.StringVar(&o.archivePrices, "archive-prices", "", "JSON price table archive and restore estimates are made from (default: AWS's us-east-1 list prices on S3, nothing on the embedded cold tier; see docs/api.md, GET /v1/archive-prices)")
	f.StringSliceVar(&o.restoreDelay, "restore-delay", nil, "how long an embedded restore takes per tier, e.g. expedited=5m,standard=3h,bulk=12h (default: at once)")
	f.StringVar(&o.ssh, "ssh", "", "also serve the file manager, sftp and scp over SSH on this address (host:port, e.g. :2222; default: off)")
	f.BoolVar(&o.sshPasswords, "ssh-passwords", false, "also let users with a password log in over SSH with it (slowed down after failures like API logins)")
	f.DurationVar(&o.sshIdle, "ssh-idle-timeout", sshserve.DefaultIdleTimeout, "close an SSH connection with no traffic for this long")
	f.IntVar(&o.sshSessions, "ssh-max-sessions", sshserve.DefaultMaxSessionsPerUser, "most SSH sessions one user may have open at once")
	f.StringSliceVar(&o.sshCiphers, "ssh-ciphers", nil, "the SSH ciphers offered, in order (comma-separated; default: AES-GCM and AES-CTR on CPUs with AES instructions, ChaCha20-Poly1305 first elsewhere)")
	f.StringVar(&o.sshPublic, "ssh-public", "", "host:port users reach the SSH server by, for the sftp and scp commands the file manager shows (default: the --ssh address)")
	f.StringVar(&o.pprof, "pprof", "", "serve Go's runtime profiles (CPU, heap, goroutines; go tool pprof) under /debug/pprof/ on this address, e.g. :6060 (no host: 127.0.0.1; default: off)")
	f.BoolVar(&o.pprofPublic, "pprof-public", false, "allow --pprof on an address other than loopback (anyone who reaches it can profile the server)")
	f.Int64Var(&o.partSize, "part-size", 0, "plaintext part size of stored blobs in bytes (default 16 MiB)")
	_ = f.MarkHidden("part-size")
	return cmd
}

func (a *app) logger(level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	ho := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(a.env.Stderr, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.env.Stderr, ho)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

// listen opens the TCP listener of the flag (--listen, --metrics-listen),
// saying plainly what is wrong with the address.
func listen(flag, addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return nil, usagef("%s %q: want host:port, e.g. 127.0.0.1:8420 or :8420 (port 0 picks a free one)", flag, addr)
	}
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("listen on %s: another program uses this port (another strata serve?): stop it, or choose another %s", addr, flag)
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("listen on %s: not allowed (ports below 1024 need privileges): choose another %s", addr, flag)
	case err != nil && host != "":
		var dns *net.DNSError
		if errors.As(err, &dns) || errors.Is(err, syscall.EADDRNOTAVAIL) {
			return nil, usagef("%s %q: %s is not an address of this machine", flag, addr, host)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// listenPprof opens --pprof's listener: loopback unless public.
func listenPprof(addr string, public bool) (net.Listener, error) {
	at, err := pprofserve.Address(addr, public)
	if errors.Is(err, pprofserve.ErrNotLoopback) {
		return nil, usagef("--pprof %v: profiles show the server's internals; add --pprof-public to serve them there", err)
	}
	if err != nil {
		return nil, usagef("--pprof %v", err)
	}
	return listen("--pprof", at)
}

// explainExistingUsers says how to get a token for a store that has users
// already, where serve prints none: a store made by local mode has an
// admin whose token nobody has seen.
func (a *app) explainExistingUsers(data string, localSocket, adminTokenSet bool) {
	if adminTokenSet {
		fmt.Fprintln(a.env.Stdout, "STRATA_ADMIN_TOKEN is not used: it only sets the admin's token on an empty store, and this one has users.")
	}
	if !localSocket {
		fmt.Fprintln(a.env.Stdout, "The store has users already; an admin creates tokens with 'strata admin token create' or 'strata admin user add'.")
		return
	}
	cmd := "strata admin token create --name NAME"
	if def, err := a.dataDir(); err != nil || filepath.Clean(def) != filepath.Clean(data) {
		cmd = "strata --data " + shell.Quote(data) + " admin token create --name NAME"
	}
	fmt.Fprintf(a.env.Stdout, "The store has users already. For a token, run on this machine (it needs none: it goes\n"+
		"through the data directory's socket):\n\n    %s\n\n", cmd)
}

func (a *app) serve(ctx context.Context, o serveOpts) error {
	log, err := a.logger(o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	if o.maxConns < 1 {
		return usagef("--max-conns must be at least 1")
	}
	if o.maxConnsIP < 0 {
		return usagef("--max-conns-per-ip must be 0 (no bound) or more")
	}
	if o.sshIdle <= 0 || o.sshSessions < 1 {
		return usagef("--ssh-idle-timeout must be positive and --ssh-max-sessions at least 1")
	}
	if o.sshCiphers != nil {
		if err := sshserve.CheckCiphers(o.sshCiphers); err != nil {
			return usagef("--ssh-ciphers: %v", err)
		}
	}
	metrics := server.MetricsOff
	switch {
	case o.metricsAddr != "":
		metrics = server.MetricsApart
	case o.metricsToken != "":
		metrics = server.MetricsOnAPI
	}
	if o.metricsToken != "" {
		if err := identity.CheckChosenSecret(o.metricsToken); err != nil {
			return usagef("--metrics-token is too weak: %v", err)
		}
	}
	limits, proxies, err := o.limits.config()
	if err != nil {
		return err
	}
	defaultQuota, err := parseLimit(o.defaultQuota, human.ParseBytes)
	if err != nil {
		return usagef("--default-quota: %v", err)
	}
	perIP := o.maxConnsIP
	if perIP == 0 {
		perIP = -1 // the daemon's "no bound"
	}
	data := a.data
	if data == "" && (o.blob == "" || o.meta == "" || o.keys == "") {
		if data, err = a.dataDir(); err != nil {
			return err
		}
	}
	spec := engine.Spec{
		DataDir: data, Blob: o.blob, Meta: o.meta, Keys: o.keys,
		AWSEndpoint: o.awsEndpoint, AWSRegion: o.awsRegion, KMSPreviousKeys: o.kmsPrevious,
		ArchiveDir: o.archiveDir,
	}
	if spec.RestoreDelay, err = parseRestoreDelays(o.restoreDelay); err != nil {
		return usagef("--restore-delay: %v", err)
	}
	var prices *archiveprice.Table
	if o.archivePrices != "" {
		t, err := archiveprice.Load(o.archivePrices)
		if err != nil {
			return usagef("--archive-prices: %v", err)
		}
		prices = &t
	}
	switch o.s3PathStyle {
	case "auto":
	case "true", "false":
		v := o.s3PathStyle == "true"
		spec.S3PathStyle = &v
	default:
		return usagef("--s3-path-style %q: want auto, true or false", o.s3PathStyle)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	spec.Registerer = reg
	// The owner of a data directory serves it on a private socket too.
	localSocket := o.blob == "" && o.meta == "" && o.keys == ""
	auditKeep := time.Duration(-1) // forever
	if o.auditKeep != "0" {
		if auditKeep, err = parseSpan("--audit-retention", o.auditKeep); err != nil {
			return err
		}
		if auditKeep < audit.MinRetention {
			return usagef("--audit-retention %s: keep audit records at least 1d (0 keeps them forever)", o.auditKeep)
		}
	}
	d, err := daemon.Open(ctx, daemon.Config{
		Engines: spec,
		Core:    backend.Config{KeepVersions: o.keepVersions, PartSize: o.partSize, Grace: o.gcGrace, DefaultQuota: backend.Quota{Bytes: defaultQuota}},
		Server: server.Config{Registry: reg, BodyIdleTimeout: o.bodyTimeout,
			Metrics: metrics, MetricsToken: o.metricsToken, TrustedProxies: proxies, LogPaths: o.logPaths,
			ArchivePrices: prices},
		Limits:         limits,
		AuditRetention: auditKeep,
		MaxConns:       o.maxConns,
		MaxConnsPerIP:  perIP,
		LocalSocket:    localSocket,
		GCInterval:     o.gcInterval,
		Logger:         log,
	})
	if err != nil {
		if errors.Is(err, backend.ErrConfig) {
			return usagef("%v", err)
		}
		return err
	}
	started := false
	defer func() {
		if !started {
			d.Close()
		}
	}()

	// Everything that can fail on a setting is tried before an admin
	// token is made and shown: it is shown only once.
	scheme := "http"
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert and --tls-key: %w", err)
		}
		d.SetTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	ln, err := listen("--listen", o.listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	var metricsAt net.Addr
	if o.metricsAddr != "" {
		mln, err := listen("--metrics-listen", o.metricsAddr)
		if err != nil {
			return err
		}
		defer mln.Close()
		d.SetMetricsListener(mln)
		metricsAt = mln.Addr()
	}
	if o.pprof != "" {
		pln, err := listenPprof(o.pprof, o.pprofPublic)
		if err != nil {
			return err
		}
		ps := pprofserve.NewServer()
		go func() { _ = ps.Serve(pln) }()
		defer ps.Close()
		fmt.Fprintf(a.env.Stdout, "Profiles are served on http://%s/debug/pprof/\n", pln.Addr())
	}
	var sshLn net.Listener
	if o.ssh != "" {
		if sshLn, err = listen("--ssh", o.ssh); err != nil {
			return err
		}
		defer sshLn.Close()
	}
	awsLogin, awsOff, err := a.awsLoginVerifier(ctx, o, ln.Addr(), scheme)
	if err != nil {
		return err
	}
	d.SetAWSLogin(awsLogin)
	switch {
	case o.shareURL != "":
		u, err := url.Parse(o.shareURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return usagef("--share-url %q: want http(s)://host[:port]", o.shareURL)
		}
		d.SetPublicURL(strings.TrimSuffix(o.shareURL, "/"))
	case len(o.publicURLs) > 0:
		d.SetPublicURL(o.publicURLs[0])
	}
	adminToken := a.env.Getenv("STRATA_ADMIN_TOKEN")
	tok, created, err := d.Identity.Bootstrap(ctx, adminToken)
	if err != nil {
		return fmt.Errorf("create the admin user: %w", err)
	}
	switch {
	case created && adminToken == "":
		// Printed once, to the terminal, never to the log.
		fmt.Fprintf(a.env.Stdout, "Created user admin. Its token, shown only this once:\n\n    %s\n\n", tok)
	case created:
		fmt.Fprintln(a.env.Stdout, "Created user admin with the token in STRATA_ADMIN_TOKEN.")
	default:
		a.explainExistingUsers(data, localSocket, adminToken != "")
	}

	if err := d.Start(ctx, ln); err != nil {
		return err
	}
	started = true
	if sshLn != nil {
		public := o.sshPublic
		if public == "" {
			public = sshLn.Addr().String()
		}
		// Share links made in a session are addressed like the
		// session's API requests: to the HTTP listener, when it names a
		// host (else only --public-url or --share-url gives them one).
		webURL := ""
		ap, err := netip.ParseAddrPort(ln.Addr().String())
		if err == nil && !ap.Addr().IsUnspecified() {
			webURL = scheme + "://" + ln.Addr().String()
		}
		if o.shareURL == "" && len(o.publicURLs) == 0 && (webURL == "" || ap.Addr().IsLoopback()) {
			log.Warn("share links made over SSH need --public-url (or --share-url) to be opened from other machines: the --listen address is " + ln.Addr().String())
		}
		s, err := d.ServeSSH(ctx, sshLn, sshserve.Config{Passwords: o.sshPasswords, IdleTimeout: o.sshIdle,
			MaxSessionsPerUser: o.sshSessions, Public: public, WebURL: webURL, Ciphers: o.sshCiphers})
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = d.Stop(stopCtx)
			return fmt.Errorf("--ssh: %w", err)
		}
		fmt.Fprintf(a.env.Stdout, "SSH (file manager, sftp, scp) is served on %s, host key %s\n", sshLn.Addr(), s.HostKeyFingerprint())
	}
	addr := scheme + "://" + ln.Addr().String()
	log.Info("serving", "addr", addr, "engines", d.Describe(), "version", version.String())
	if awsLogin != nil {
		log.Info("AWS logins", "sts", awsLogin.Endpoint(), "region", awsLogin.Region(), "serverIds", awsLogin.ServerIDs())
	} else {
		log.Info("AWS logins are off: " + awsOff)
	}
	if metricsAt != nil {
		fmt.Fprintf(a.env.Stdout, "Metrics are served on http://%s/metrics\n", metricsAt)
	}
	fmt.Fprintf(a.env.Stdout, "Strata is serving on %s (%s)\n", addr, d.Describe())

	var serveErr error
	select {
	case serveErr = <-d.Done():
	case <-ctx.Done():
	}
	// Stop taking connections, let in-flight requests finish.
	log.Info("shutting down: finishing requests in flight")
	shCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Stop(shCtx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	log.Info("stopped")
	return nil
}

// parseRestoreDelays reads --restore-delay: tier=duration pairs.
func parseRestoreDelays(pairs []string) (map[blob.RestoreTier]time.Duration, error) {
	delays := map[blob.RestoreTier]time.Duration{}
	for _, p := range pairs {
		name, value, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want tier=duration, e.g. standard=3h", p)
		}
		tier, err := blob.ParseTier(name)
		if err != nil {
			return nil, err
		}
		d, err := time.ParseDuration(value)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%q: want a duration of 0 or more, e.g. 3h", value)
		}
		delays[tier] = d
	}
	return delays, nil
}
