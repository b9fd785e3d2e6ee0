// Package ratelimit decides whether a client may go ahead now: token
// buckets (golang.org/x/time/rate) of requests per client address, per
// user and per token, of bytes per second per user, and of failed
// authentications per client address, with a growing backoff beyond them.
// It knows nothing of HTTP: every entry point (the HTTP API, SSH and SFTP)
// asks the same Limiter, so a user's budget is one however they come in.
package ratelimit

import (
	"context"
	"log/slog"
	"math"
	"net/netip"
	"time"

	"golang.org/x/time/rate"
)

// The defaults of the settings (strata serve's flags). They are meant to
// stop one client from taking the whole server, not to shape normal use:
// scripts/bench.sh, whose client sends about 1,000 small files (one
// request each) a second on 2 cores, and empty ones faster, is not slowed
// by them.
const (
	// DefaultRequests is the sustained requests per second of a user
	// (the burst is twice as many).
	DefaultRequests = 2000
	// DefaultAuthFailures is the failed authentications per minute from
	// one client address before each further one waits longer.
	DefaultAuthFailures = 10
	// DefaultMaxEntries bounds the buckets kept of each kind (addresses,
	// users, tokens, user names that failed to log in).
	DefaultMaxEntries = 100_000
	// OverrideTTL is how long a user's own limits, once read, are used
	// before they are read again: a change by an admin applies on every
	// server within it.
	OverrideTTL = 5 * time.Second
)

// Limits are the budgets of one user: 0 means no limit.
type Limits struct {
	// Requests is the sustained requests per second; the burst is twice
	// as many.
	Requests float64
	// Bandwidth is the bytes per second of request and response bodies
	// together.
	Bandwidth int64
}

// Override is what an admin set for one user; nil fields keep the
// default, and a zero one lifts that limit.
type Override struct {
	Requests  *float64
	Bandwidth *int64
}

// Apply returns l with o's fields in place of its own.
func (l Limits) Apply(o Override) Limits {
	if o.Requests != nil {
		l.Requests = *o.Requests
	}
	if o.Bandwidth != nil {
		l.Bandwidth = *o.Bandwidth
	}
	return l
}

// Config sets a Limiter up. Its zero value limits only failed
// authentications.
type Config struct {
	// User is every user's limits, unless Overrides says otherwise.
	User Limits
	// TokenRequests is each token's sustained requests per second, when
	// one token should not take its user's whole budget (0: tokens share
	// their user's).
	TokenRequests float64
	// IPRequests is each client address's sustained requests per second,
	// authenticated or not (0: none). Behind a proxy that is not trusted
	// to name its clients, every request has the proxy's address.
	IPRequests float64
	// AuthFailures is the failed authentications per minute one client
	// address may make before each further one must wait, twice as long
	// each time (0: DefaultAuthFailures; negative: no such budget, and
	// only failures for one user name slow down).
	AuthFailures int
	// MaxEntries bounds the buckets kept of each kind (0:
	// DefaultMaxEntries).
	MaxEntries int
	// Overrides reads a user's own limits (nil: everyone has the
	// defaults); each is used for OverrideTTL.
	Overrides func(ctx context.Context, userID string) (Override, error)
	// Clock is the time (nil: the system's).
	Clock  Clock
	Logger *slog.Logger
}

// Scope says which budget a request ran out of.
type Scope string

// The budgets.
const (
	ScopeIP    Scope = "ip"
	ScopeUser  Scope = "user"
	ScopeToken Scope = "token"
	// ScopeAuth is the budget of failed authentications.
	ScopeAuth Scope = "auth"
)

// Verdict is the limiter's answer to a request.
type Verdict struct {
	// Wait is how long the client must wait before the request would be
	// let through; 0: go ahead (and it was counted).
	Wait time.Duration
	// Scope is the budget that ran out.
	Scope Scope
}

// Allowed says whether the request may go ahead.
func (v Verdict) Allowed() bool { return v.Wait <= 0 }

// Subject is who sends a request: any of the fields may be empty (an
// anonymous request has no user; a unix socket's peer no address).
type Subject struct {
	IP      netip.Addr
	UserID  string
	TokenID string
}

// Limiter holds the buckets. It is safe for concurrent use.
type Limiter struct {
	cfg    Config
	clock  Clock
	log    *slog.Logger
	ips    *table[netip.Addr, ipEntry]
	users  *table[string, userEntry]
	tokens *table[string, *rate.Limiter]
	// failures of authentication: by client address and by user name.
	authIPs   *table[netip.Addr, authEntry]
	authNames *table[string, authEntry]
}

type ipEntry struct{ req *rate.Limiter }

type userEntry struct {
	lim     Limits
	req     *rate.Limiter // nil: no request limit
	bw      *rate.Limiter // nil: no bandwidth limit
	checked time.Time     // when the override was read
}

// New returns a limiter.
func New(cfg Config) *Limiter {
	if cfg.AuthFailures == 0 {
		cfg.AuthFailures = DefaultAuthFailures
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Limiter{cfg: cfg, clock: cfg.Clock, log: cfg.Logger}
	// An entry is idle, and worth nothing, once its bucket has refilled.
	l.ips = newTable[netip.Addr, ipEntry](cfg.MaxEntries, refill(cfg.IPRequests))
	l.users = newTable[string, userEntry](cfg.MaxEntries, max(refill(cfg.User.Requests), OverrideTTL))
	l.tokens = newTable[string, *rate.Limiter](cfg.MaxEntries, refill(cfg.TokenRequests))
	l.authIPs = newTable[netip.Addr, authEntry](cfg.MaxEntries, authForget)
	l.authNames = newTable[string, authEntry](cfg.MaxEntries, authForget)
	return l
}

// Config is the limiter's configuration.
func (l *Limiter) Config() Config { return l.cfg }

// refill is how long an empty bucket of r requests per second takes to
// fill again.
func refill(r float64) time.Duration {
	if r <= 0 {
		return time.Second
	}
	return time.Duration(float64(requestBurst(r)) / r * float64(time.Second))
}

// requestBurst is the burst of r requests per second: twice as many, at
// least one.
func requestBurst(r float64) int {
	return int(math.Max(1, math.Ceil(2*r)))
}

// ClientKey is what a client address is counted by: an IPv4 address, or
// an IPv6 /64 (what one host is given, so that it cannot take a fresh
// budget with each of its addresses).
func ClientKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip.WithZone("")
}

// Request counts a request of cost units (1 for most; expensive operations
// more) against the client address's, the token's and the user's budgets,
// and says whether it may go ahead. A request refused by one budget is
// charged to none of them.
func (l *Limiter) Request(ctx context.Context, s Subject, cost int) Verdict {
	cost = max(cost, 1)
	now := l.clock.Now()
	var buckets [3]bucket
	n := 0
	if l.cfg.IPRequests > 0 && s.IP.IsValid() {
		e, sh, _ := l.ips.lock(ClientKey(s.IP), now, func(e *ipEntry) {
			e.req = rate.NewLimiter(rate.Limit(l.cfg.IPRequests), requestBurst(l.cfg.IPRequests))
		})
		buckets[n] = bucket{e.req, ScopeIP}
		n++
		sh.mu.Unlock()
	}
	if l.cfg.TokenRequests > 0 && s.TokenID != "" {
		e, sh, _ := l.tokens.lock(s.TokenID, now, func(e **rate.Limiter) {
			*e = rate.NewLimiter(rate.Limit(l.cfg.TokenRequests), requestBurst(l.cfg.TokenRequests))
		})
		buckets[n] = bucket{*e, ScopeToken}
		n++
		sh.mu.Unlock()
	}
	if s.UserID != "" {
		if req, _ := l.user(ctx, s.UserID, now); req != nil {
			buckets[n] = bucket{req, ScopeUser}
			n++
		}
	}
	if n > 1 {
		// Look before taking, so that a refusal costs no budget. (When
		// requests race past the look and a later bucket turns out
		// empty, the earlier ones have paid for a refused request: by
		// its cost, rarely.)
		for _, b := range buckets[:n] {
			if v := b.short(now, cost); !v.Allowed() {
				return v
			}
		}
	}
	for _, b := range buckets[:n] {
		if !b.lim.AllowN(now, min(cost, b.lim.Burst())) {
			if v := b.short(now, cost); !v.Allowed() {
				return v
			}
			return Verdict{Wait: time.Millisecond, Scope: b.scope} // emptied and refilled meanwhile
		}
	}
	return Verdict{}
}

// bucket is one budget a request is charged to.
type bucket struct {
	lim   *rate.Limiter
	scope Scope
}

// short says how long until the bucket holds cost (at most its burst: a
// cost beyond it would never pass).
func (b bucket) short(now time.Time, cost int) Verdict {
	c := float64(min(cost, b.lim.Burst()))
	have := b.lim.TokensAt(now)
	if have >= c {
		return Verdict{}
	}
	secs := (c - have) / float64(b.lim.Limit())
	return Verdict{Wait: time.Duration(math.Ceil(secs * float64(time.Second))), Scope: b.scope}
}

// user returns the user's request and bandwidth buckets (nil: no limit),
// reading their own limits if those it has are older than OverrideTTL.
func (l *Limiter) user(ctx context.Context, id string, now time.Time) (req, bw *rate.Limiter) {
	e, sh, _ := l.users.lock(id, now, func(e *userEntry) { e.set(l.cfg.User, now) })
	stale := l.cfg.Overrides != nil && (e.checked.IsZero() || now.Sub(e.checked) >= OverrideTTL || now.Before(e.checked))
	if stale {
		e.checked = now // the others go on with what it has meanwhile
	}
	req, bw = e.req, e.bw
	sh.mu.Unlock()
	if !stale {
		return req, bw
	}
	o, err := l.cfg.Overrides(ctx, id)
	if err != nil {
		// The defaults hold until the next read succeeds.
		l.log.Warn("reading a user's limits", "user", id, "err", err)
		return req, bw
	}
	lim := l.cfg.User.Apply(o)
	sh.mu.Lock()
	e.set(lim, now) // e may have been evicted meanwhile: then harmlessly
	req, bw = e.req, e.bw
	sh.mu.Unlock()
	return req, bw
}

// set gives the entry lim, keeping what its buckets hold.
func (e *userEntry) set(lim Limits, now time.Time) {
	if lim == e.lim && (e.req != nil || lim.Requests <= 0) && (e.bw != nil || lim.Bandwidth <= 0) {
		return
	}
	e.lim = lim
	e.req = adjust(e.req, now, float64(lim.Requests), requestBurst(lim.Requests))
	e.bw = adjust(e.bw, now, float64(lim.Bandwidth), bandwidthBurst(lim.Bandwidth))
}

// adjust makes b a bucket of r per second and burst, nil for r <= 0.
func adjust(b *rate.Limiter, now time.Time, r float64, burst int) *rate.Limiter {
	switch {
	case r <= 0:
		return nil
	case b == nil:
		return rate.NewLimiter(rate.Limit(r), burst)
	}
	b.SetLimitAt(now, rate.Limit(r))
	b.SetBurstAt(now, burst)
	return b
}

// Limits says what limits apply to the user now (their own, read at most
// OverrideTTL ago, or the defaults).
func (l *Limiter) Limits(ctx context.Context, userID string) Limits {
	l.user(ctx, userID, l.clock.Now())
	e, sh := l.users.peek(userID)
	if e == nil {
		return l.cfg.User
	}
	defer sh.mu.Unlock()
	return e.lim
}

// Changed says the user's own limits changed: their next request reads
// them again (on this server; the others within OverrideTTL).
func (l *Limiter) Changed(userID string) {
	if e, sh := l.users.peek(userID); e != nil {
		e.checked = time.Time{}
		sh.mu.Unlock()
	}
}
