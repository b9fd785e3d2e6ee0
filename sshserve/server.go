// Package sshserve is Strata over SSH: the file manager (a bubbletea
// program per session), the SFTP subsystem and scp, on one port. A session
// acts as its user through the same HTTP API as every other client (an
// in-process client with a token minted for the session and revoked when
// it ends, bound to the entry point ssh or sftp), so policies, quotas,
// limits and audit apply as over HTTP, and nothing below the API knows the
// request came over SSH except strata:Via.
package sshserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/server/client"
)

// Users is what the SSH server needs of identity: who a key or a password
// is, and the tokens of sessions.
type Users interface {
	AuthenticateSSHKey(ctx context.Context, key gossh.PublicKey) (identity.SSHUser, error)
	AuthenticatePassword(ctx context.Context, user, password string) (identity.SSHUser, error)
	SessionToken(ctx context.Context, u identity.SSHUser, via string, ttl time.Duration) (identity.Token, error)
	EndSession(ctx context.Context, t identity.Token) error
}

var _ Users = (*identity.Service)(nil)

// Config says what a Server serves.
type Config struct {
	// HostKey is the server's private host key (PEM), the same for every
	// server of a store (HostKey makes and keeps one).
	HostKey []byte
	// Users authenticates keys and passwords and mints session tokens.
	Users Users
	// API is the HTTP API the sessions act through.
	API http.Handler
	// Guard slows password guessing down: the store's one rate limiter
	// (daemon.Limiter), which the API's logins are counted by too.
	// nil: password logins are refused.
	Guard AuthGuard
	// Passwords allows password logins (for users who have a password);
	// otherwise only keys log in.
	Passwords bool
	// IdleTimeout closes a connection with no traffic for this long
	// (0: 15 minutes).
	IdleTimeout time.Duration
	// MaxSessionsPerUser bounds one user's open sessions (0: 10).
	MaxSessionsPerUser int
	// SessionTTL bounds a session token's life (0: 24 hours); a session
	// that outlives it is refused by the API from then on.
	SessionTTL time.Duration
	// Public is how users reach this server ("host:port"), for the
	// commands the file manager shows; "" uses the listener's address.
	Public string
	// WebURL is the server's HTTP address (scheme://host:port), which
	// the API takes for the address the sessions' requests came to (they
	// come to an internal one): a share link made in a session, when the
	// server was given no --public-url, is one a browser can open.
	WebURL string
	// Clock is what the sessions' clients wait on when the API asks them
	// to come back later (a rate limit's Retry-After): the rate limiter's
	// clock (daemon.ServeSSH gives it), nil for the system's.
	Clock client.Clock
	// Ciphers are the ciphers offered, in order (the client picks the
	// first of its own list that is offered); nil: DefaultCiphers. Only
	// ciphers golang.org/x/crypto/ssh counts as secure are accepted.
	Ciphers []string
	Logger  *slog.Logger
}

// Defaults.
const (
	DefaultIdleTimeout        = 15 * time.Minute
	DefaultMaxSessionsPerUser = 10
	DefaultSessionTTL         = 24 * time.Hour
)

// Server is a running SSH server.
type Server struct {
	cfg  Config
	log  *slog.Logger
	ssh  *ssh.Server
	api  *inProcessAPI
	mu   sync.Mutex
	open map[string]int        // sessions per user ID
	live map[*session]struct{} // for the shutdown notice
	wg   sync.WaitGroup        // sessions' clean-up
	addr string                // listening address
	stop chan struct{}         // closed when shutting down
}

// ctx keys of a connection: who logged in.
type ctxKey int

const userKey ctxKey = iota

// New makes a server; Serve serves it.
func New(cfg Config) (*Server, error) {
	if cfg.Users == nil || cfg.API == nil {
		return nil, errors.New("sshserve: Users and API are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxSessionsPerUser == 0 {
		cfg.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.WebURL != "" {
		if u, err := url.Parse(cfg.WebURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("sshserve: WebURL %q: want http(s)://host[:port]", cfg.WebURL)
		}
	}
	// Offers picked by client only where the server picks its offer.
	steer := cfg.Ciphers == nil && aesHardware()
	if cfg.Ciphers == nil {
		cfg.Ciphers = DefaultCiphers()
	}
	if err := CheckCiphers(cfg.Ciphers); err != nil {
		return nil, fmt.Errorf("sshserve: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, open: map[string]int{}, live: map[*session]struct{}{}, stop: make(chan struct{})}
	opts := []ssh.Option{
		wish.WithHostKeyPEM(cfg.HostKey),
		wish.WithIdleTimeout(cfg.IdleTimeout),
		wish.WithPublicKeyAuth(s.publicKey),
		wish.WithVersion(sshVersion),
		wish.WithSubsystem("sftp", s.sftpSubsystem),
		func(srv *ssh.Server) error {
			// Forwarding of any kind is refused with a reason the
			// client shows; the ssh package refuses agent forwarding
			// by offering none (the handlers say so).
			srv.LocalPortForwardingCallback = nil
			srv.ReversePortForwardingCallback = nil
			srv.ChannelHandlers = map[string]ssh.ChannelHandler{
				"session":      ssh.DefaultSessionHandler,
				"direct-tcpip": refuseChannel,
			}
			srv.RequestHandlers = map[string]ssh.RequestHandler{}
			srv.Handler = s.handle
			srv.ConnCallback = func(ctx ssh.Context, c net.Conn) net.Conn {
				bc := newBufferedConn(c)
				if !steer {
					return bc
				}
				ident, err := bc.greet("SSH-2.0-"+sshVersion, greetTimeout)
				if err != nil {
					return nil // the connection is closed
				}
				ctx.SetValue(clientIdentKey{}, ident)
				return bc
			}
			srv.ServerConfigCallback = func(ctx ssh.Context) *gossh.ServerConfig {
				// The client's identification string is there only
				// where the server picks its offer (steer).
				ident, _ := ctx.Value(clientIdentKey{}).(string)
				return &gossh.ServerConfig{Config: gossh.Config{
					Ciphers: offerFor(ident, cfg.Ciphers),
					MACs:    slices.Clone(sshMACs),
				}}
			}
			return nil
		},
	}
	if cfg.Passwords && cfg.Guard != nil {
		opts = append(opts, wish.WithPasswordAuth(s.password))
	}
	srv, err := wish.NewServer(opts...)
	if err != nil {
		return nil, fmt.Errorf("ssh server: %w", err)
	}
	s.ssh = srv
	s.api = newInProcessAPI(cfg.API, cfg.WebURL, cfg.Clock, cfg.Logger)
	return s, nil
}

// sshVersion is the server's software version in its identification
// string.
const sshVersion = "Strata"

// greetTimeout bounds the wait for a client's identification string.
const greetTimeout = 30 * time.Second

// clientIdentKey is the context key of a client's identification string.
type clientIdentKey struct{}

func refuseChannel(_ *ssh.Server, _ *gossh.ServerConn, ch gossh.NewChannel, _ ssh.Context) {
	_ = ch.Reject(gossh.Prohibited, "Strata does not forward ports: only its file manager, sftp and scp are served here")
}

// Serve serves SSH on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.mu.Unlock()
	err := s.ssh.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// publicKey logs in with a key of a user, when the name given is that
// user's. Anything else is the same refusal.
func (s *Server) publicKey(ctx ssh.Context, key ssh.PublicKey) bool {
	u, err := s.cfg.Users.AuthenticateSSHKey(ctx, key)
	if err != nil {
		if !errors.Is(err, errs.ErrUnauthorized) {
			s.log.Warn("ssh key login", "err", err, "remote", ctx.RemoteAddr().String())
		}
		return false
	}
	if u.Name != ctx.User() {
		return false
	}
	ctx.SetValue(userKey, u)
	return true
}

// AuthGuard is what password logins ask of the rate limiter
// (internal/ratelimit's Limiter).
type AuthGuard interface {
	AuthWait(ip netip.Addr, user string) time.Duration
	AuthFailed(ip netip.Addr, user string)
	AuthSucceeded(user string)
}

// password logs in with a user's password, slowed down after failures
// like the API's logins (and counted with them).
func (s *Server) password(ctx ssh.Context, password string) bool {
	ip := addrOf(ctx.RemoteAddr())
	if s.cfg.Guard.AuthWait(ip, ctx.User()) > 0 {
		return false
	}
	u, err := s.cfg.Users.AuthenticatePassword(ctx, ctx.User(), password)
	if err != nil {
		s.cfg.Guard.AuthFailed(ip, ctx.User())
		return false
	}
	s.cfg.Guard.AuthSucceeded(ctx.User())
	ctx.SetValue(userKey, u)
	return true
}

// addrOf is the client's address, as the rate limiter counts it.
func addrOf(a net.Addr) netip.Addr {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// session is one SSH session of a user: its token and API client.
type session struct {
	srv    *Server
	sess   ssh.Session
	user   identity.SSHUser
	via    string
	token  identity.Token
	client *client.Client
	close  func()
	// notify, when set, tells the user the server is stopping (the file
	// manager shows it); otherwise they are told on the error stream.
	notify func(msg string)
}

// begin opens a session for sess through the entry point via: checks the
// user's session cap and mints the session's token. The caller ends it.
func (s *Server) begin(sess ssh.Session, via string) (*session, error) {
	u, ok := sess.Context().Value(userKey).(identity.SSHUser)
	if !ok {
		return nil, errors.New("not logged in")
	}
	s.mu.Lock()
	select {
	case <-s.stop:
		s.mu.Unlock()
		return nil, errors.New("the server is shutting down: try again in a moment")
	default:
	}
	if s.open[u.ID] >= s.cfg.MaxSessionsPerUser {
		s.mu.Unlock()
		return nil, fmt.Errorf("you have %d sessions open, the most this server allows: close one first", s.cfg.MaxSessionsPerUser)
	}
	s.open[u.ID]++
	s.wg.Add(1)
	s.mu.Unlock()
	tok, err := s.cfg.Users.SessionToken(sess.Context(), u, via, s.cfg.SessionTTL)
	if err != nil {
		s.release(u.ID, nil)
		return nil, fmt.Errorf("start session: %w", err)
	}
	c, closeIdle := s.api.client(tok.Secret, via, sess.RemoteAddr())
	se := &session{srv: s, sess: sess, user: u, via: via, token: tok, client: c, close: closeIdle}
	s.mu.Lock()
	s.live[se] = struct{}{}
	s.mu.Unlock()
	s.log.Info("ssh session", "user", u.Name, "via", via, "remote", sess.RemoteAddr().String())
	return se, nil
}

// withSession runs fn in a session of sess through the entry point via,
// and ends it after; a session refused (the user's cap, a shutdown) is
// told why.
func (s *Server) withSession(sess ssh.Session, via string, fn func(se *session)) {
	se, err := s.begin(sess, via)
	if err != nil {
		wishFatal(sess, err)
		return
	}
	defer se.end()
	fn(se)
}

// end revokes the session's token, whatever happened to the connection.
func (se *session) end() {
	se.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := se.srv.cfg.Users.EndSession(ctx, se.token); err != nil {
		se.srv.log.Warn("end ssh session", "user", se.user.Name, "err", err)
	}
	se.srv.release(se.user.ID, se)
}

func (s *Server) release(userID string, se *session) {
	s.mu.Lock()
	if s.open[userID]--; s.open[userID] <= 0 {
		delete(s.open, userID)
	}
	if se != nil {
		delete(s.live, se)
	}
	s.mu.Unlock()
	s.wg.Done()
}

// Shutdown tells every connected user the server is going away, closes
// the listener and the connections, then waits (until ctx ends) for the
// sessions to end and their tokens to be revoked.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	for se := range s.live {
		se.notifyShutdown()
	}
	s.mu.Unlock()
	// Told, the sessions end (the file manager quits, sftp and scp
	// channels close); then every connection closes, those without a
	// session too.
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var errList []error
	select {
	case <-done:
	case <-ctx.Done():
		errList = append(errList, fmt.Errorf("sessions still open: %w", ctx.Err()))
	}
	if err := s.ssh.Close(); err != nil && !errors.Is(err, ssh.ErrServerClosed) {
		errList = append(errList, err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		errList = append(errList, errors.New("sessions did not end after their connections closed"))
	}
	err := errors.Join(errList...)
	_ = s.api.Close()
	return errors.Join(err, s.api.shutdown(ctx))
}

// setNotify sets how the session's user is told the server is stopping.
func (se *session) setNotify(fn func(msg string)) {
	se.srv.mu.Lock()
	se.notify = fn
	se.srv.mu.Unlock()
}

// notifyShutdown tells the session's user the server is stopping. The
// file manager shows it and quits; sftp and scp sessions get it on their
// error stream and the connection closes.
func (se *session) notifyShutdown() {
	const msg = "the server is shutting down; your session ends now (reconnect in a moment)"
	if se.notify != nil {
		se.notify(msg)
		return
	}
	_, _ = fmt.Fprintf(se.sess.Stderr(), "\r\nstrata: %s\r\n", msg)
	_ = se.sess.Exit(1)
	_ = se.sess.Close()
}

// viaOf says which entry point a session's requests come through.
func viaOf(sftp bool) string {
	if sftp {
		return iam.ViaSFTP
	}
	return iam.ViaSSH
}

// HostKeyFingerprint is the host key's SHA-256 fingerprint, as OpenSSH
// shows it on a first connection.
func (s *Server) HostKeyFingerprint() string {
	fp, err := HostKeyFingerprint(s.cfg.HostKey)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return fp
}
