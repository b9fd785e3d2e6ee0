// Package loginguard slows password guessing down, for every entry point
// that takes passwords (the API's logins, SSH).
package loginguard

import (
	"math"
	"sync"
	"time"
)

// Guard slows password guessing down: after a few failed logins from
// one client address, or for one user name, each further try must wait,
// twice as long each time (up to maxLoginWait), and is answered 429 with
// Retry-After until then. A success clears the user's count (not the
// address's: one address may try many names). Entries are forgotten an
// hour after their last failure, so memory stays bounded by the failures
// of the last hour.
type Guard struct {
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
	FreeFailures = 3
	maxLoginWait = 15 * time.Minute
	loginForget  = time.Hour
)

// New returns a guard on the clock now.
func New(now func() time.Time) *Guard {
	return &Guard{now: now, seen: map[string]*loginFailures{}}
}

// Wait is how long the next login from ip for user must wait (0: none).
func (g *Guard) Wait(ip, user string) time.Duration {
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

// Failed notes a failed login.
func (g *Guard) Failed(ip, user string) {
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
		if f.n > FreeFailures {
			d := time.Duration(math.Min(float64(time.Second)*math.Pow(2, float64(f.n-FreeFailures-1)), float64(maxLoginWait)))
			f.until = now.Add(d)
		}
	}
}

// Succeeded clears the user's failures.
func (g *Guard) Succeeded(user string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.seen, "user "+user)
}
