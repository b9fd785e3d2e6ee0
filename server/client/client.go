// Package client is the typed Go client of Strata's HTTP API. The CLI and
// the TUI reach the server only through it.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/server/api"
)

// Client talks to one Strata server with one token.
type Client struct {
	base    string // scheme://host[/prefix], no trailing slash
	addr    string // as given to New, for messages
	token   string
	hc      *http.Client
	roots   *x509.CertPool
	ua      string
	retries int
	// owner is whose trash, upload sessions and jobs the client acts on
	// ("": the caller's own); see As.
	owner string
	// onWait hears of each wait before a request is sent again.
	onWait func(Wait)
	// sleep waits between attempts, and now reads Retry-After's dates:
	// the system's clock, or WithClock's.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
	// readAhead is UploadFile's budget for parts held ahead of their turn
	// (0: readAheadBudget), and admitWaiting hears when a part waits for
	// it (tests set both).
	readAhead    int64
	admitWaiting func(part int64)
	// textBufs holds *bytes.Buffer for readText; shared by the copies
	// As makes.
	textBufs *sync.Pool
}

// Clock is the time a client waits on between attempts and reads a
// Retry-After date by (internal/ratelimit's Clock is one).
type Clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx ends (its error then).
	Sleep(ctx context.Context, d time.Duration) error
}

// WithClock has the client wait on clk between attempts instead of real
// time: the server's clock for a client in its process (the SSH
// sessions'), so that a test's fake clock moves both the rate limiter
// that asks for a wait and the client that waits.
func WithClock(clk Clock) Option {
	return func(c *Client) { c.sleep, c.now = clk.Sleep, clk.Now }
}

// Wait is a pause before a request is sent again: the server asked for it
// (a rate limit's 429, a busy 503, with Retry-After) or the network
// failed.
type Wait struct {
	// Op is the request, "METHOD /path".
	Op string
	// For is how long the client waits.
	For time.Duration
	// Reason is what the server said (or the network error).
	Reason string
	// RateLimited says a rate limit asked for the wait.
	RateLimited bool
	// Answered says the server answered the last attempt (a status that
	// may pass, as 503); false when it could not be reached.
	Answered bool
	// Attempt is the attempt that comes after the wait (2 for the first
	// retry).
	Attempt int
}

// WithWaitNotice has fn told of each wait before a request is sent again,
// to show it (the CLI on stderr, the file manager in its status bar). fn
// must return at once.
func WithWaitNotice(fn func(Wait)) Option { return func(c *Client) { c.onWait = fn } }

// As returns a client that acts on the trash, upload sessions and jobs of
// the user name (an admin's view of another user's), sharing c's
// connections.
func (c *Client) As(name string) *Client {
	cc := *c
	cc.owner = name
	return &cc
}

// ownerQuery is q with the owner the client acts for, if any.
func (c *Client) ownerQuery(q url.Values) url.Values {
	if c.owner == "" {
		return q
	}
	if q == nil {
		q = url.Values{}
	}
	q.Set("user", c.owner)
	return q
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient uses hc for every request (its Transport, TLS settings and
// so on). Timeouts should be left to contexts: transfers can be long.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithRootCAs verifies the server's certificate against roots instead of
// the system's pool (for a self-signed certificate or a private CA). It
// applies to the client's own transport, not to one given with
// WithHTTPClient.
func WithRootCAs(roots *x509.CertPool) Option { return func(c *Client) { c.roots = roots } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.ua = ua } }

// WithRetries sets how many times an idempotent request is retried after a
// network error or a 429/502/503/504 (default 4), and any request refused
// by a rate limit (which did nothing), if its body can be sent again. A
// retry waits an exponential, jittered backoff, or longer if the answer's
// Retry-After asks for it (up to 30 seconds).
func WithRetries(n int) Option { return func(c *Client) { c.retries = n } }

// New returns a client of the server at addr: "http://host:port",
// "https://host/prefix", or "unix:///path/to/socket" for a server on a
// local socket.
//
// A malformed address is an error that matches ErrInvalid.
func New(addr, token string, opts ...Option) (*Client, error) {
	c := &Client{addr: addr, token: token, ua: "strata-client", retries: 4, sleep: sleep, now: time.Now,
		textBufs: &sync.Pool{New: func() any { return new(bytes.Buffer) }}}
	for _, o := range opts {
		o(c)
	}
	if sock, ok := strings.CutPrefix(addr, "unix://"); ok {
		if sock == "" || sock[0] != '/' {
			return nil, invalidError{fmt.Errorf("server %q: a unix socket address needs an absolute path", addr)}
		}
		if c.hc == nil {
			c.hc = &http.Client{Transport: &http.Transport{
				DialContext: sendDialer(func(ctx context.Context, _, _ string) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, "unix", sock)
				}),
				MaxIdleConnsPerHost: 16,
				// As http.DefaultTransport: a streamed PUT asks before
				// it sends (see Put), so a refusal can be sent again.
				ExpectContinueTimeout: time.Second,
			}}
		}
		c.base = "http://strata.local"
		return c, nil
	}
	if !strings.Contains(addr, "://") {
		// Guessing between http and https would either send the token in
		// clear or fail in a confusing way: ask.
		return nil, invalidError{fmt.Errorf("server %q has no scheme: give http://%s, or https://%s if it serves TLS", addr, addr, addr)}
	}
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, invalidError{fmt.Errorf("server %q: must be http://host:port, https://host or unix:///socket", addr)}
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, invalidError{fmt.Errorf("server %q: must not have credentials, a query or a fragment", addr)}
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 16
		t.DialContext = sendDialer(t.DialContext)
		if c.roots != nil {
			t.TLSClientConfig = &tls.Config{RootCAs: c.roots, MinVersion: tls.VersionTLS12}
		}
		c.hc = &http.Client{Transport: t}
	}
	c.base = strings.TrimSuffix(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")
	return c, nil
}

// Server returns the base address the client talks to.
func (c *Client) Server() string { return c.base }

// storeURL checks a store path with the same rules as the server (so a bad
// path fails here, with a clear message, before anything is sent) and
// appends it to route in URL form, each name escaped alone.
func storeURL(route, p string) (string, error) {
	sp, err := storepath.Parse(p)
	if err != nil {
		return "", invalidError{err}
	}
	segs := sp.Segments()
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return route + "/" + strings.Join(segs, "/"), nil
}

// request describes one API call.
type request struct {
	method string
	path   string // already escaped, starting with /v1 or /
	query  url.Values
	header http.Header
	body   io.Reader
	size   int64 // Content-Length; -1 unknown
	// retry allows retrying: the request is idempotent and its body (if
	// any) can be rewound with rewind.
	retry  bool
	rewind func() (io.Reader, error)
}

// do sends a request and returns the response of a 2xx or 304; any other
// status becomes an *Error (the body is read and closed).
func (c *Client) do(ctx context.Context, rq request) (*http.Response, error) {
	u := c.base + rq.path
	if len(rq.query) > 0 {
		u += "?" + rq.query.Encode()
	}
	// Every request may be retried when a rate limit refused it (it did
	// nothing) and its body can be sent again; the others only when
	// idempotent.
	attempts := 1 + c.retries
	resendable := rq.body == nil || rq.rewind != nil
	var lastErr error
	var wait time.Duration // what the last answer asked for (Retry-After)
	var limited bool       // the last answer was a rate limit's
	var sent *attemptBody  // the last attempt's body, when it may be rewound
	for i := 0; i < attempts; i++ {
		if i > 0 {
			if rq.rewind != nil {
				sent.detach()
				b, err := rq.rewind()
				if errors.Is(err, errBodyRead) {
					return nil, lastErr // no attempt can send it whole
				}
				if err != nil {
					return nil, err
				}
				rq.body = b
			}
			d := max(backoff(i), wait)
			if c.onWait != nil {
				var answer *Error
				c.onWait(Wait{Op: rq.method + " " + rq.path, For: d, Reason: errorReason(lastErr), RateLimited: limited,
					Answered: errors.As(lastErr, &answer), Attempt: i + 1})
			}
			if err := c.sleep(ctx, d); err != nil {
				return nil, lastErr
			}
			wait, limited = 0, false
		}
		body := rq.body
		if body != nil && rq.rewind != nil && attempts > 1 {
			sent = &attemptBody{r: body}
			body = sent
			if ub, ok := rq.body.(*untouchedBody); ok {
				body = attemptStream{attemptBody: sent, ub: ub}
			}
		}
		req, err := http.NewRequestWithContext(ctx, rq.method, u, body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", rq.method, rq.path, err)
		}
		if rq.body != nil {
			req.ContentLength = rq.size
			if rq.size == 0 {
				req.Body = http.NoBody
			}
		}
		for k, v := range rq.header {
			req.Header[k] = v
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		req.Header.Set("User-Agent", c.ua)
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			lastErr = &NetError{Server: c.addr, Op: rq.method + " " + rq.path, Err: err}
			if !rq.retry || errors.Is(lastErr, ErrCertificate) || errors.Is(lastErr, ErrInvalid) {
				return nil, lastErr // the same certificate or scheme again: no retry helps
			}
			continue
		}
		if resp.StatusCode < 400 {
			return resp, nil
		}
		apiErr := readError(resp)
		var ae *Error
		limited = resp.StatusCode == http.StatusTooManyRequests && errors.As(apiErr, &ae) && ae.Code == api.CodeRateLimited
		if rq.retry && (resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable ||
			resp.StatusCode == http.StatusGatewayTimeout || resp.StatusCode == http.StatusTooManyRequests) ||
			limited && resendable {
			lastErr = apiErr
			wait = retryAfter(resp.Header.Get("Retry-After"), c.now())
			continue
		}
		return nil, apiErr
	}
	return nil, lastErr
}

// attemptBody is one attempt's view of a request body that a retry will
// rewind. net/http may go on reading a request body after Do returned (it
// writes the body from a goroutine of its own, which can still be at it
// when the server answered early, say 503 after part of a part), so before
// the body is rewound for the next attempt, detach stops this attempt's
// reads, waiting for one in progress to end.
type attemptBody struct {
	mu       sync.Mutex
	r        io.Reader
	detached bool
}

var errDetached = errors.New("request body: the attempt is over")

func (b *attemptBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.detached {
		return 0, errDetached
	}
	return b.r.Read(p)
}

// attemptStream is the attemptBody of a stream (untouchedBody) that writes
// itself (an SFTP upload hands its blocks on whole): WriteTo keeps that.
// Other bodies have no WriteTo, so that a connection's ReadFrom copies
// them through its own buffer (sendConn).
type attemptStream struct {
	*attemptBody
	ub *untouchedBody
}

// WriteTo starts only if the attempt is not over, and marks the stream
// read first, under the attempt's lock: an attempt that detach ended never
// takes a byte from the stream the next attempt sends. Each write is then
// checked against detach.
func (b attemptStream) WriteTo(w io.Writer) (int64, error) {
	b.mu.Lock()
	if b.detached {
		b.mu.Unlock()
		return 0, errDetached
	}
	b.ub.touch()
	b.mu.Unlock()
	return io.Copy(attemptWriter{b: b.attemptBody, w: w}, b.ub.r)
}

// attemptWriter is an attempt's writes of a body that writes itself.
type attemptWriter struct {
	b *attemptBody
	w io.Writer
}

func (a attemptWriter) Write(p []byte) (int, error) {
	a.b.mu.Lock()
	detached := a.b.detached
	a.b.mu.Unlock()
	if detached {
		return 0, errDetached
	}
	return a.w.Write(p)
}

// Close is net/http's: the attempt is done with the body.
func (b *attemptBody) Close() error {
	b.detach()
	return nil
}

func (b *attemptBody) detach() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.detached = true
	b.mu.Unlock()
}

// untouchedBody is a request body that cannot be rewound (a stream): it
// may be sent again only if no attempt read any of it.
type untouchedBody struct {
	mu   sync.Mutex
	r    io.Reader
	read bool
}

var errBodyRead = errors.New("request body: a stream already read cannot be sent again")

func (b *untouchedBody) Read(p []byte) (int, error) {
	b.touch()
	return b.r.Read(p)
}

// touch marks the stream read: it cannot be sent again.
func (b *untouchedBody) touch() {
	b.mu.Lock()
	b.read = true
	b.mu.Unlock()
}

// WriteTo keeps a stream's own WriteTo (an SFTP upload hands its blocks
// on whole): net/http copies a body with io.Copy, which would otherwise
// read it through a 32 KiB buffer.
func (b *untouchedBody) WriteTo(w io.Writer) (int64, error) {
	b.touch()
	return io.Copy(w, b.r)
}

// again is the body for the next attempt, once the last one's reads were
// stopped (attemptBody.detach).
func (b *untouchedBody) again() (io.Reader, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.read {
		return nil, errBodyRead
	}
	return b, nil
}

// errorReason is what a wait is for, for people.
func errorReason(err error) string {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Message()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func backoff(attempt int) time.Duration {
	d := 200 * time.Millisecond << min(attempt-1, 5)
	return d/2 + rand.N(d/2+1)
}

// maxRetryAfter caps the wait a Retry-After header can ask for: a server
// (or a proxy) asking for more is not waited for longer than this between
// two attempts.
const maxRetryAfter = 30 * time.Second

// retryAfter is the wait a Retry-After header value asks for (RFC 9110:
// seconds, or an HTTP date), capped at maxRetryAfter; 0 when there is none
// or it cannot be read. The retry waits the longer of this and its own
// backoff.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// doJSON sends in (if not nil) as JSON and decodes the answer into out (if
// not nil).
func (c *Client) doJSON(ctx context.Context, method, path string, query url.Values, in, out any) error {
	rq := request{method: method, path: path, query: query, size: 0,
		// PATCH only sets values (a file's time): sending it again is
		// harmless.
		retry: method == http.MethodGet || method == http.MethodDelete || method == http.MethodPut || method == http.MethodPatch}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		rq.header = http.Header{"Content-Type": {"application/json"}}
		rq.body, rq.size = bytes.NewReader(b), int64(len(b))
		rq.rewind = func() (io.Reader, error) { return bytes.NewReader(b), nil }
	}
	resp, err := c.do(ctx, rq)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// readText reads and closes an answer's body: one allocation of its
// size, which the decoded strings may share. It is read into a buffer
// kept for the next answer (the size of a listing page, sent without a
// Content-Length, is not known before) and copied out once.
func (c *Client) readText(path string, body io.ReadCloser) (string, error) {
	defer body.Close()
	const limit = 64 << 20
	buf := c.textBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxTextBuf {
			buf.Reset()
			c.textBufs.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(body, limit)); err != nil {
		return "", fmt.Errorf("GET %s: reading the answer: %w", path, err)
	}
	return buf.String(), nil
}

// maxTextBuf is the largest buffer readText keeps for the next answer.
const maxTextBuf = 4 << 20

// Error is an error answer of the server (an RFC 9457 problem).
type Error struct {
	Status    int
	Code      string
	Title     string
	Detail    string
	RequestID string
	// Quota is the figures of a quota_exceeded, when the server gave them.
	Quota *api.QuotaProblem
}

// Message is what the server said, without the code and request ID.
func (e *Error) Message() string {
	if e.Detail != "" {
		return e.Detail
	}
	return e.Title
}

func (e *Error) Error() string {
	msg := e.Message()
	if e.RequestID != "" {
		return fmt.Sprintf("%s (%s, request %s)", msg, e.Code, e.RequestID)
	}
	return fmt.Sprintf("%s (%s)", msg, e.Code)
}

// Sentinels that an *Error matches with errors.Is, by its code.
var (
	ErrNotFound       = errors.New("not found")
	ErrExists         = errors.New("already exists")
	ErrNotDir         = errors.New("not a folder")
	ErrIsDir          = errors.New("is a folder")
	ErrNotEmpty       = errors.New("folder not empty")
	ErrUnauthorized   = errors.New("unauthorized")
	ErrForbidden      = errors.New("forbidden")
	ErrInvalid        = errors.New("invalid request")
	ErrRange          = errors.New("range not satisfiable")
	ErrConflict       = errors.New("conflict")
	ErrPrecondition   = errors.New("precondition failed")
	ErrDigestMismatch = errors.New("digest mismatch")
	ErrNoSpace        = errors.New("insufficient storage")
	ErrIntegrity      = errors.New("integrity error")
	ErrUnavailable    = errors.New("server unavailable")
	// ErrRateLimited: a rate limit refused the request, and went on
	// refusing it for as long as the client would wait.
	ErrRateLimited   = errors.New("rate limited")
	ErrQuotaExceeded = errors.New("quota exceeded")
	// ErrArchived: the file's content is archived; restore it first.
	ErrArchived = errors.New("archived")
	// ErrCertificate: the server's TLS certificate could not be verified
	// (a *NetError, with the x509 reason).
	ErrCertificate = errors.New("server certificate not trusted")
)

var codeErrors = map[string]error{
	api.CodeNotFound:       ErrNotFound,
	api.CodeExists:         ErrExists,
	api.CodeNotDir:         ErrNotDir,
	api.CodeIsDir:          ErrIsDir,
	api.CodeNotEmpty:       ErrNotEmpty,
	api.CodeUnauthorized:   ErrUnauthorized,
	api.CodeForbidden:      ErrForbidden,
	api.CodeInvalidRequest: ErrInvalid,
	api.CodeInvalidPath:    ErrInvalid,
	api.CodeInvalidJSON:    ErrInvalid,
	api.CodeLengthMismatch: ErrInvalid,
	api.CodeTooLarge:       ErrInvalid,
	api.CodeInvalidRange:   ErrRange,
	api.CodeConflict:       ErrConflict,
	api.CodePrecondition:   ErrPrecondition,
	api.CodeDigestMismatch: ErrDigestMismatch,
	api.CodeNoSpace:        ErrNoSpace,
	api.CodeIntegrity:      ErrIntegrity,
	api.CodeUnavailable:    ErrUnavailable,
	api.CodeTimeout:        ErrUnavailable,
	api.CodeRateLimited:    ErrRateLimited,
	api.CodeQuotaExceeded:  ErrQuotaExceeded,
	api.CodeArchived:       ErrArchived,
}

// Is matches the sentinel of the error's code.
func (e *Error) Is(target error) bool {
	if s, ok := codeErrors[e.Code]; ok && s == target {
		return true
	}
	return target == ErrUnavailable && (e.Status == http.StatusBadGateway || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout)
}

func readError(resp *http.Response) error {
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), RequestID: resp.Header.Get(api.HeaderRequestID)}
	var p api.Problem
	if strings.Contains(resp.Header.Get("Content-Type"), "json") && json.Unmarshal(data, &p) == nil && p.Code != "" {
		e.Code, e.Title, e.Detail, e.Quota = p.Code, p.Title, p.Detail, p.Quota
		if p.RequestID != "" {
			e.RequestID = p.RequestID
		}
		return e
	}
	// Not our server speaking (a proxy, a load balancer): keep what it said.
	e.Code = "http_" + fmt.Sprint(resp.StatusCode)
	e.Detail = strings.TrimSpace(string(data))
	if len(e.Detail) > 200 {
		e.Detail = e.Detail[:200] + "..."
	}
	if e.Detail == "" {
		e.Detail = e.Title
	}
	return e
}

// invalidError is a request refused before it was sent; it matches
// ErrInvalid without repeating its text.
type invalidError struct{ err error }

func (e invalidError) Error() string        { return e.err.Error() }
func (e invalidError) Unwrap() error        { return e.err }
func (e invalidError) Is(target error) bool { return target == ErrInvalid }

// NetError is a failure to reach the server at all, or to trust it.
type NetError struct {
	Server string // the address given to New
	Op     string // the request, e.g. "GET /v1/whoami"
	Err    error
}

func (e *NetError) Error() string {
	if cert := CertificateProblem(e.Err); cert != nil {
		return fmt.Sprintf("the certificate of %s is not trusted: %v", e.Server, cert)
	}
	if wrongScheme(e.Err) {
		return fmt.Sprintf("%s does not serve HTTPS: use %s", e.Server, strings.Replace(e.Server, "https://", "http://", 1))
	}
	return fmt.Sprintf("cannot reach the server %s: %s", e.Server, netReason(e.Err))
}

func (e *NetError) Unwrap() error { return e.Err }

// Is makes a NetError match ErrCertificate when the server's certificate
// failed verification, ErrInvalid when the address's https:// reached a
// server without TLS, and ErrUnavailable otherwise.
func (e *NetError) Is(target error) bool {
	switch {
	case CertificateProblem(e.Err) != nil:
		return target == ErrCertificate
	case wrongScheme(e.Err):
		return target == ErrInvalid
	}
	return target == ErrUnavailable
}

// wrongScheme reports an https:// address whose server answered without
// TLS.
func wrongScheme(err error) bool {
	var rec tls.RecordHeaderError
	return errors.Is(err, http.ErrSchemeMismatch) || errors.As(err, &rec)
}

// CertificateProblem returns the x509 error that made the server's
// certificate fail verification (x509.UnknownAuthorityError,
// x509.HostnameError, x509.CertificateInvalidError...), or nil.
func CertificateProblem(err error) error {
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return cv.Err
	}
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return ua
	case errors.As(err, &he):
		return he
	case errors.As(err, &ci):
		return ci
	}
	return nil
}

// netReason is what went wrong on the way to the server, without Go's
// wrapping ("Get \"http://...\": dial tcp ...:").
func netReason(err error) string {
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (is the server running, on this address and port?)"
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Sprintf("no such host %q", dns.Name)
	case errors.As(err, &dns):
		return fmt.Sprintf("cannot look up %q: %v", dns.Name, dns.Err)
	case errors.Is(err, syscall.ENOENT):
		return "no such socket"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	return err.Error()
}
