package server

import (
	"math"
	"sync"
	"time"
)

// loginGuard slows password guessing down: after a few failed logins from
// one client address, or for one user name, each further try must wait,
// twice as long each time (up to maxLoginWait), and is answered 429 with
// Retry-After until then. A success clears the user's count (not the
// address's: one address may try many names). Entries are forgotten an
// hour after their last failure, so memory stays bounded by the failures
// of the last hour.
type loginGuard struct {
	mu   sync.Mutex
	now  func() time.Time
	seen map[string]*loginFailures
}

type loginFailures struct {
	n     int
	last  time.Time
	until time.Time // no try before
}

const (
	freeLoginFailures = 3
	maxLoginWait      = 15 * time.Minute
	loginForget       = time.Hour
)

func newLoginGuard(now func() time.Time) *loginGuard {
	return &loginGuard{now: now, seen: map[string]*loginFailures{}}
}

// wait is how long the next login from ip for user must wait (0: none).
func (g *loginGuard) wait(ip, user string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	var w time.Duration
	for _, k := range []string{"ip " + ip, "user " + user} {
		if f := g.seen[k]; f != nil && f.until.After(now) {
			w = max(w, f.until.Sub(now))
		}
	}
	return w
}

// failed notes a failed login.
func (g *loginGuard) failed(ip, user string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	for k, f := range g.seen {
		if now.Sub(f.last) > loginForget {
			delete(g.seen, k)
		}
	}
	for _, k := range []string{"ip " + ip, "user " + user} {
		f := g.seen[k]
		if f == nil {
			f = &loginFailures{}
			g.seen[k] = f
		}
		f.n++
		f.last = now
		if f.n > freeLoginFailures {
			d := time.Duration(math.Min(float64(time.Second)*math.Pow(2, float64(f.n-freeLoginFailures-1)), float64(maxLoginWait)))
			f.until = now.Add(d)
		}
	}
}

// succeeded clears the user's failures.
func (g *loginGuard) succeeded(user string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.seen, "user "+user)
}
