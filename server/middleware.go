package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"path"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strata-storage/strata/backend/audit"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/internal/clip"
	"github.com/strata-storage/strata/server/api"
)

// handler is an endpoint: it gets the authenticated principal (zero for
// public routes) and returns an error that becomes a problem response.
type handler func(w http.ResponseWriter, r *http.Request, pr iam.Principal) error

type ctxKey int

const (
	ridKey ctxKey = iota
	infoKey
)

// reqInfo collects what the access log and metrics report about a request.
type reqInfo struct {
	route string
	user  string
	code  string // problem code, if any
	// client is the client's address (behind trusted proxies, the one
	// they name); invalid for a unix socket's peer.
	client netip.Addr
}

func requestID(ctx context.Context) string {
	s, _ := ctx.Value(ridKey).(string)
	return s
}

func info(ctx context.Context) *reqInfo {
	i, _ := ctx.Value(infoKey).(*reqInfo)
	return i
}

func setProblem(ctx context.Context) *string {
	if i := info(ctx); i != nil {
		return &i.code
	}
	return nil
}

// withRequestID gives every request an ID, taking a well-formed one from the
// caller (a load balancer's) and returning it in X-Request-Id.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rid := r.Header.Get(api.HeaderRequestID)
		if !validRequestID(rid) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			rid = hex.EncodeToString(b[:])
		}
		w.Header().Set(api.HeaderRequestID, rid)
		ctx := context.WithValue(r.Context(), ridKey, rid)
		ctx = context.WithValue(ctx, infoKey, &reqInfo{})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// withRecover turns a panic into a 500 and a log line with the stack,
// except http.ErrAbortHandler, which handlers use to cut a response short.
func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic", "rid", requestID(r.Context()), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			s.writeProblem(w, r, &problem{status: http.StatusInternalServerError, code: api.CodeInternal,
				detail: "internal error", err: fmt.Errorf("panic: %v", v)})
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status and bytes of a response. Unwrap keeps
// http.ResponseController (deadlines, flushing) working through it.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// responseStatus is the status written to w so far (0: none), found on
// the statusWriter w wraps.
func responseStatus(w http.ResponseWriter) int {
	for w != nil {
		if sw, ok := w.(*statusWriter); ok {
			return sw.status
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return 0
		}
		w = u.Unwrap()
	}
	return 0
}

// withObserve logs each request and records its metrics. Secrets never
// reach the log: no headers are logged, and paths carry no credentials.
// Which files people work on is theirs: the log names the route, and the
// path only with Config.LogPaths (the audit log keeps the changes).
func (s *Server) withObserve(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		s.metrics.inFlight.Inc()
		defer s.metrics.inFlight.Dec()
		// withRecover, inside, answers a panic with a 500; what comes out
		// of it is http.ErrAbortHandler, a response cut short (a download
		// whose client went away, or whose content failed midway), which
		// is counted and logged as such on its way up.
		returned := false
		defer func() {
			status := "aborted"
			if returned {
				if sw.status == 0 {
					sw.status = http.StatusOK
				}
				status = strconv.Itoa(sw.status)
			}
			in := info(r.Context())
			d := time.Since(start)
			s.metrics.observe(routeLabel(in), r.Method, status, d, sw.bytes)
			s.log.Info("request", s.requestAttrs(r, in, sw, d, !returned)...)
		}()
		next.ServeHTTP(sw, r)
		returned = true
	})
}

func routeLabel(in *reqInfo) string {
	if in.route == "" {
		return "unmatched"
	}
	return in.route
}

// requestAttrs are a request's log line; aborted says its response was
// cut short after the status line (which is the status logged).
func (s *Server) requestAttrs(r *http.Request, in *reqInfo, sw *statusWriter, d time.Duration, aborted bool) []any {
	attrs := []any{"rid", requestID(r.Context()), "method", r.Method, "route", routeLabel(in), "status", sw.status, "code", in.code,
		"user", in.user, "bytesIn", r.ContentLength, "bytesOut", sw.bytes, "ms", d.Milliseconds(), "remote", r.RemoteAddr}
	if aborted {
		attrs = append(attrs, "aborted", true)
	}
	if s.cfg.LogPaths {
		attrs = append(attrs, "path", redactLink(r.URL.EscapedPath()))
	}
	return attrs
}

// withCleanPath refuses paths that ServeMux would otherwise "clean" with a
// redirect: dot segments (also percent-encoded) and empty segments. A file
// API must say no to such a path, not quietly serve a different one.
func (s *Server) withCleanPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "" || p[0] != '/' {
			s.writeProblem(w, r, problemf(http.StatusBadRequest, api.CodeInvalidPath, "request path must start with /"))
			return
		}
		clean := path.Clean(p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if clean != p && strings.HasPrefix(p, "/s/") {
			// A share link's visitor gets a page, the one of every
			// address that leads nowhere.
			s.linkError(w, r, errs.ErrNotFound)
			return
		}
		if clean != p {
			s.writeProblem(w, r, problemf(http.StatusBadRequest, api.CodeInvalidPath,
				"invalid path %q: empty, . or .. segments are not allowed", clip.Text(r.URL.EscapedPath())))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// endpoint wraps a route's handler with its access rule and error mapping.
func (s *Server) endpoint(rt route) http.Handler {
	name := rt.method + " " + rt.pattern
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := info(r.Context())
		in.route = name
		for k, vs := range r.URL.Query() {
			if !slices.Contains(rt.query, k) {
				s.writeProblem(w, r, badRequest("unknown query parameter %q (this route takes %s)", clip.Text(k), paramList(rt.query)))
				return
			}
			if len(vs) > 1 {
				// Which one counts would be a guess: the first for the
				// server, maybe the last for a proxy that checked it.
				s.writeProblem(w, r, badRequest("query parameter %q is given %d times", clip.Text(k), len(vs)))
				return
			}
		}
		if p := repeatedHeader(r); p != nil {
			s.writeProblem(w, r, p)
			return
		}
		facts := requestFacts(r)
		ctx, sc := s.audit.Begin(r.Context(), audit.Request{ID: facts.ID, SourceIP: facts.SourceIP, Via: facts.Via,
			Op: name, Changes: r.Method != http.MethodGet && r.Method != http.MethodHead})
		r = r.WithContext(ctx)
		finished := false
		defer func() {
			outcome := audit.OK
			switch {
			case !finished:
				outcome = api.CodeInternal // a panic
			case in.code != "":
				outcome = in.code
			case responseStatus(w) >= 400:
				// A page (a share link's) answered without a problem
				// code: the status says what happened.
				outcome = fmt.Sprintf("http_%d", responseStatus(w))
			}
			sc.Finish(r.Context(), outcome)
		}()
		s.serveRoute(w, r, rt, in, facts, sc)
		finished = true
	})
}

// serveRoute authenticates the request if its route needs it and runs
// the route's handler.
func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, rt route, in *reqInfo, facts iam.Request, sc *audit.Scope) {
	var pr iam.Principal
	name := rt.method + " " + rt.pattern
	hw := w // what the handler writes to; problems go to w
	if rt.access == token {
		// Authentication comes before the request is the core's: it
		// learns only the entry point, which a token may be bound to.
		var err error
		pr, err = s.authenticate(r.WithContext(iam.WithRequest(r.Context(), iam.Request{Via: facts.Via})))
		if err != nil {
			if r.Header.Get("Authorization") != "" && errors.Is(err, errs.ErrUnauthorized) {
				audit.Note(r.Context(), iam.Principal{}, audit.ActionAuthenticate, iam.Resource{})
			}
			s.writeProblem(w, r, toProblem(err))
			return
		}
		in.user = pr.Name
		sc.SetPrincipal(pr)
		// The budgets are counted once the user is known; what they
		// read of the store (a user's own limits) is no part of the
		// request the core decides.
		if p := s.admit(r, name, pr); p != nil {
			s.writeProblem(w, r, p)
			return
		}
		w, r = s.throttled(w, r, pr)
		hw = w
		ctx, stop := context.WithCancelCause(iam.WithRequest(r.Context(), facts))
		defer stop(nil)
		r = r.WithContext(ctx)
		g := s.newTokenGuard(r, stop)
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &guardedByToken{ReadCloser: r.Body, g: g}
		}
		hw = &tokenWriter{ResponseWriter: w, g: g}
	} else if p := s.admit(r, name, pr); p != nil {
		s.writeProblem(w, r, p)
		return
	}
	err := rt.h(hw, r, pr)
	if err != nil && !errors.Is(err, errResponseStarted) && errors.Is(context.Cause(r.Context()), errTokenGone) {
		err = errTokenGone // not the cancellation it caused
	}
	if err != nil && !errors.Is(err, errResponseStarted) {
		s.writeProblem(w, r, toProblem(err))
	}
}

// requestFacts is what the authorization decision may know of r: where it
// came from and through which entry point (a unix socket is the data
// directory's private one; anything else the network).
func requestFacts(r *http.Request) iam.Request {
	req := iam.Request{ID: requestID(r.Context()), SourceIP: clientIP(r), SecureTransport: r.TLS != nil, Time: time.Now(), Via: iam.ViaHTTP}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && a.Network() == "unix" {
		req.Via = iam.ViaSocket
	}
	if e, ok := entryPoint(r.Context()); ok {
		req.Via, req.SecureTransport = e.Via, e.Secure
	}
	return req
}

// errResponseStarted tells endpoint that the handler already wrote (part
// of) a response, so no problem document can follow.
var errResponseStarted = errors.New("response already started")

// bearer reads "Authorization: Bearer <token>".
func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", &problem{status: http.StatusUnauthorized, code: api.CodeUnauthorized,
			detail: "missing Authorization: Bearer <token> header"}
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", &problem{status: http.StatusUnauthorized, code: api.CodeUnauthorized,
			detail: "the Authorization header must be Bearer <token>"}
	}
	return strings.TrimSpace(tok), nil
}

// authenticate finds the principal of the request's bearer token.
func (s *Server) authenticate(r *http.Request) (iam.Principal, error) {
	tok, err := bearer(r)
	if err != nil {
		return iam.Principal{}, err
	}
	// A token is a credential like a password: an address that presents
	// wrong ones too often waits, and has none checked meanwhile.
	if p := s.authWait(r, ""); p != nil {
		return iam.Principal{}, p
	}
	pr, err := s.ids.Authenticate(r.Context(), tok)
	if errors.Is(err, errs.ErrUnauthorized) {
		s.limits.AuthFailed(clientAddr(r), "")
		return pr, &problem{status: http.StatusUnauthorized, code: api.CodeUnauthorized,
			detail: "invalid, revoked or expired token", err: err}
	}
	return pr, err
}

// unreadBodyGrace is how long the rest of an unread body (up to 256 KiB,
// what net/http drains) may take to arrive after an authenticated
// request's answer, so that a client still sending it reads the answer
// rather than a reset connection.
const unreadBodyGrace = 500 * time.Millisecond

// withBodyGuard guards every request body and the connection it came on.
// Each read of the body must make progress within the body idle timeout
// and keep up a minimum rate, so a client that stalls or trickles is
// dropped. And a response sent while the body is not all read — a refusal
// before the body was needed (no token, a bad path), or a handler that
// never reads one — closes the connection: net/http would otherwise wait,
// with no deadline, for the rest of a body that an attacker never sends,
// holding the connection's slot for as long as the attacker likes. The
// rest of the body is not waited for at all when the request was not
// authenticated, and for unreadBodyGrace when it was.
func (s *Server) withBodyGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		b := &guardedBody{rc: rc, body: r.Body, idle: s.cfg.BodyIdleTimeout, size: r.ContentLength, now: s.cfg.Now}
		// A copy of the request: net/http looks at its own one's body
		// after the handler, to close the connection gracefully.
		r = r.WithContext(r.Context())
		r.Body = b
		cw := &closeUnread{ResponseWriter: w, body: b, h1: r.ProtoMajor == 1}
		next.ServeHTTP(cw, r)
		if !cw.wrote {
			cw.closeIfUnread() // net/http writes the header after this
		}
		if cw.h1 && b.unread() {
			until := time.Now().Add(unreadBodyGrace)
			if in := info(r.Context()); in == nil || in.user == "" {
				until = time.Unix(1, 0) // passed: no wait
			}
			_ = rc.SetReadDeadline(until)
		}
	})
}

// guardedBody is a request body whose every read must make progress
// within the idle timeout.
type guardedBody struct {
	rc    *http.ResponseController
	body  io.ReadCloser
	idle  time.Duration
	size  int64 // Content-Length, -1 if chunked
	now   func() time.Time
	start time.Time
	mu    sync.Mutex
	n     int64
	done  bool // read to its end
}

// minBodyRate is the slowest average rate, in bytes per second, a request
// body may keep up once the first idle period is over: a client that sends a
// byte now and then just under the idle timeout is a slowloris, not a slow
// link.
const minBodyRate = 1024

var errBodyTooSlow = errors.New("request body arrives too slowly")

func (b *guardedBody) Read(p []byte) (int, error) {
	// The rate is the server's clock's business (Config.Now); the
	// deadline is the network's, always in real time.
	now := b.now()
	if b.start.IsZero() {
		b.start = now
	}
	if el := now.Sub(b.start); el > b.idle && float64(b.n)/el.Seconds() < minBodyRate {
		return 0, errBodyTooSlow
	}
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	n, err := b.body.Read(p)
	b.mu.Lock()
	b.n += int64(n)
	end := err == io.EOF || b.size >= 0 && b.n >= b.size
	if end {
		b.done = true
	}
	b.mu.Unlock()
	if end {
		// Nothing more is read from the client for this request: a
		// deadline left behind would cancel the request once it passed
		// (net/http watches the idle connection meanwhile).
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

func (b *guardedBody) Close() error { return b.body.Close() }

func (b *guardedBody) unread() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.done
}

// closeUnread marks a response "Connection: close" if it starts while the
// request body is not all read (HTTP/1 only: HTTP/2 streams end on their
// own, and there the header would close every stream of the connection).
type closeUnread struct {
	http.ResponseWriter
	body  *guardedBody
	h1    bool
	wrote bool
}

func (w *closeUnread) closeIfUnread() {
	if w.h1 && w.body.unread() {
		w.Header().Set("Connection", "close")
	}
}

func (w *closeUnread) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.closeIfUnread()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *closeUnread) Write(p []byte) (int, error) {
	if !w.wrote {
		w.wrote = true
		w.closeIfUnread()
	}
	return w.ResponseWriter.Write(p)
}

func (w *closeUnread) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// idleWriter is the same guard for responses: a client that stops reading
// a download is dropped after the idle timeout.
type idleWriter struct {
	rc   *http.ResponseController
	w    io.Writer
	idle time.Duration
}

func (w *idleWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	return w.w.Write(p)
}

// paramList names a route's query parameters for an error message.
func paramList(q []string) string {
	if len(q) == 0 {
		return "none"
	}
	return strings.Join(q, ", ")
}

// clientIP is the address of the client that sent r (behind trusted
// proxies, the one they name).
func clientIP(r *http.Request) string {
	if a := clientAddr(r); a.IsValid() {
		return a.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr // a unix socket's peer
	}
	return host
}
