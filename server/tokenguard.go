package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/server/api"
)

// DefaultTokenRecheck is how often a running request checks that its
// token still stands (Config.TokenRecheck).
const DefaultTokenRecheck = 30 * time.Second

// errTokenGone ends a request whose token was revoked, expired or whose
// user was deleted while it ran.
var errTokenGone = &problem{status: http.StatusUnauthorized, code: api.CodeUnauthorized,
	detail: "the token was revoked or expired, or its user deleted, while the request ran"}

// tokenGuard re-authenticates a running request's token at its first read
// of the body or write of the response once TokenRecheck has passed since
// the last check, and cancels the request (cause errTokenGone) if the token
// no longer stands. A transfer therefore ends within TokenRecheck of a
// revocation, at its next read or write; a request that neither reads nor
// writes meanwhile (the core at work) ends at its next one.
type tokenGuard struct {
	s      *Server
	r      *http.Request // for the token and the entry point
	stop   context.CancelCauseFunc
	mu     sync.Mutex
	next   time.Time
	failed bool
}

func (s *Server) newTokenGuard(r *http.Request, stop context.CancelCauseFunc) *tokenGuard {
	return &tokenGuard{s: s, r: r, stop: stop, next: s.cfg.Now().Add(s.cfg.TokenRecheck)}
}

// check returns errTokenGone once the token no longer stands.
func (g *tokenGuard) check() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failed {
		return errTokenGone
	}
	now := g.s.cfg.Now()
	if now.Before(g.next) {
		return nil
	}
	g.next = now.Add(g.s.cfg.TokenRecheck)
	// Checked as at the start: the entry point only, on a context the
	// request's own cancellation does not end.
	ctx := iam.WithRequest(context.WithoutCancel(g.r.Context()), iam.Request{Via: iam.RequestFrom(g.r.Context()).Via})
	_, err := g.s.authenticate(g.r.WithContext(ctx))
	if errors.Is(err, errs.ErrUnauthorized) {
		g.failed = true
		g.stop(errTokenGone)
		return errTokenGone
	}
	// Any other failure (the store did not answer) is not a revocation:
	// the request goes on and the next check asks again.
	return nil
}

// guardedByToken is a request body read under a tokenGuard.
type guardedByToken struct {
	io.ReadCloser
	g *tokenGuard
}

func (b *guardedByToken) Read(p []byte) (int, error) {
	if err := b.g.check(); err != nil {
		return 0, err
	}
	return b.ReadCloser.Read(p)
}

// tokenWriter is a response written under a tokenGuard.
type tokenWriter struct {
	http.ResponseWriter
	g *tokenGuard
}

func (w *tokenWriter) Write(p []byte) (int, error) {
	if err := w.g.check(); err != nil {
		return 0, err
	}
	return w.ResponseWriter.Write(p)
}

func (w *tokenWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
