package ratelimit

import (
	"math"
	"net/netip"
	"time"

	"golang.org/x/time/rate"
)

// Failed authentications (a wrong password, an unknown token, a failed AWS
// login) are budgeted per client address: AuthFailures a minute are free,
// and beyond them each failure makes the address wait, twice as long each
// time, up to MaxAuthWait, until its budget has refilled. Per user name,
// from any address, FreeNameFailures are free and the waits then double
// the same way, so that guessing one user's password from many addresses
// slows down too; a success clears the name's count (not the address's:
// one address may try many names). A wait is answered 429 with
// Retry-After.
const (
	// FreeNameFailures is the failed logins for one user name before
	// they slow down.
	FreeNameFailures = 3
	// MaxAuthWait caps the backoff.
	MaxAuthWait = 15 * time.Minute
	// authForget is how long after its last failure a count is kept.
	authForget = time.Hour
)

type authEntry struct {
	budget  *rate.Limiter // the address's free failures; nil for names
	strikes int           // failures beyond the free ones
	until   time.Time     // no try before
	last    time.Time     // the last failure
}

// AuthWait is how long an authentication from ip, for the user name user
// ("" when none is named, as with a token), must wait; 0: none.
func (l *Limiter) AuthWait(ip netip.Addr, user string) time.Duration {
	now := l.clock.Now()
	var w time.Duration
	if ip.IsValid() {
		if e, sh := l.authIPs.peek(ClientKey(ip)); e != nil {
			w = max(w, e.until.Sub(now))
			sh.mu.Unlock()
		}
	}
	if user != "" {
		if e, sh := l.authNames.peek(user); e != nil {
			w = max(w, e.until.Sub(now))
			sh.mu.Unlock()
		}
	}
	return max(w, 0)
}

// AuthFailed counts a failed authentication from ip for user (either may
// be empty).
func (l *Limiter) AuthFailed(ip netip.Addr, user string) {
	now := l.clock.Now()
	if n := l.cfg.AuthFailures; n > 0 && ip.IsValid() {
		e, sh, _ := l.authIPs.lock(ClientKey(ip), now, func(e *authEntry) {
			e.budget = rate.NewLimiter(rate.Limit(float64(n)/60), n)
		})
		if e.budget.TokensAt(now) >= float64(n) {
			e.strikes = 0 // quiet for as long as its budget took to refill
		}
		if !e.budget.AllowN(now, 1) {
			e.strikes++
			// Never sooner than the budget has a failure to spend.
			next := time.Duration((1 - e.budget.TokensAt(now)) / float64(e.budget.Limit()) * float64(time.Second))
			e.until = now.Add(max(backoff(e.strikes), next))
		}
		e.last = now
		sh.mu.Unlock()
	}
	if user != "" {
		e, sh, _ := l.authNames.lock(user, now, func(*authEntry) {})
		if now.Sub(e.last) > authForget {
			e.strikes = 0
		}
		e.strikes++
		e.last = now
		if e.strikes > FreeNameFailures {
			e.until = now.Add(backoff(e.strikes - FreeNameFailures))
		}
		sh.mu.Unlock()
	}
}

// backoff is the wait after the nth failure beyond the free ones: 1 s,
// 2 s, 4 s... up to MaxAuthWait.
func backoff(n int) time.Duration {
	return time.Duration(math.Min(float64(time.Second)*math.Pow(2, float64(n-1)), float64(MaxAuthWait)))
}

// AuthSucceeded clears the failures of the user name.
func (l *Limiter) AuthSucceeded(user string) {
	if user != "" {
		l.authNames.drop(user)
	}
}
