package server

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/internal/ratelimit"
	"github.com/strata-storage/strata/server/api"
)

// requestCost is what a request costs of its sender's budget: 1 for most;
// more for those that make the server work through many entries (a
// recursive delete, a folder copy, emptying the trash, a big listing page,
// the collector, a key rotation); nothing for health checks and metrics,
// which load balancers and scrapers call on a schedule. A move costs 1: a
// folder moves in one transaction, however big.
func requestCost(route string, r *http.Request) int {
	switch route {
	case "GET /healthz", "GET /readyz", "GET /metrics":
		return 0
	case "DELETE /v1/files/{path...}", "DELETE /v1/dirs/{path...}":
		if r.URL.Query().Get("recursive") == "true" {
			return 10
		}
	case "POST /v1/copy":
		return 5
	case "DELETE /v1/trash", "POST /v1/admin/collect", "POST /v1/admin/keys/rotate":
		return 10
	case "GET /v1/dirs/{path...}":
		// 1 for a page of up to 250 entries, 4 for the largest (1000).
		n, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil || n <= 0 || n > 1000 {
			n = 1000
		}
		return (n + 249) / 250
	}
	return 1
}

// admit counts a request against its sender's budgets (the principal's
// user and token, if any, and the client address) and answers 429 when
// one ran out.
func (s *Server) admit(r *http.Request, route string, pr iam.Principal) *problem {
	cost := requestCost(route, r)
	if cost == 0 {
		return nil
	}
	v := s.limits.Request(r.Context(), ratelimit.Subject{IP: clientAddr(r), UserID: pr.UserID, TokenID: pr.TokenID}, cost)
	if v.Allowed() {
		return nil
	}
	s.metrics.rateLimited.WithLabelValues(string(v.Scope)).Inc()
	what := map[ratelimit.Scope]string{
		ratelimit.ScopeUser:  "too many requests for your user",
		ratelimit.ScopeToken: "too many requests with this token",
		ratelimit.ScopeIP:    "too many requests from your address",
	}[v.Scope]
	return retryLater(http.StatusTooManyRequests, api.CodeRateLimited, what, v.Wait)
}

// retryLater is a refusal that says when to try again, in the detail and
// in Retry-After (whole seconds, rounded up).
func retryLater(status int, code, what string, wait time.Duration) *problem {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	return &problem{status: status, code: code, detail: fmt.Sprintf("%s: retry in %d s", what, secs),
		retryAfter: strconv.Itoa(secs)}
}

// authWait refuses an authentication from an address (and for a user name,
// "" for none) that failed too often lately.
func (s *Server) authWait(r *http.Request, user string) *problem {
	if w := s.limits.AuthWait(clientAddr(r), user); w > 0 {
		s.metrics.rateLimited.WithLabelValues(string(ratelimit.ScopeAuth)).Inc()
		return retryLater(http.StatusTooManyRequests, api.CodeTooMany, "too many failed logins", w)
	}
	return nil
}

// throttled paces the request's body and the response at the user's
// bandwidth, if they have a limit; streaming, nothing is buffered.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, pr iam.Principal) (http.ResponseWriter, *http.Request) {
	th := s.limits.Throttle(r.Context(), pr.UserID)
	if th == nil {
		return w, r
	}
	if r.Body != nil && r.Body != http.NoBody {
		r = r.WithContext(r.Context())
		r.Body = pacedBody{Reader: th.Reader(r.Context(), r.Body), Closer: r.Body}
	}
	return &pacedWriter{ResponseWriter: w, w: th.Writer(r.Context(), w)}, r
}

type pacedBody struct {
	io.Reader
	io.Closer
}

// pacedWriter is a response whose body goes out at the user's pace.
// Unwrap keeps http.ResponseController working through it.
type pacedWriter struct {
	http.ResponseWriter
	w io.Writer
}

func (w *pacedWriter) Write(p []byte) (int, error) { return w.w.Write(p) }
func (w *pacedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// clientAddr is the address of the client r came from (behind trusted
// proxies, the one they name); invalid for a unix socket's peer.
func clientAddr(r *http.Request) netip.Addr {
	if in := info(r.Context()); in != nil && in.client.IsValid() {
		return in.client
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
