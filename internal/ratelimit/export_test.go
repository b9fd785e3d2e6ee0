package ratelimit

import "net/netip"

// Entries counts the buckets of client addresses the limiter keeps.
func Entries(l *Limiter) int { return l.ips.len() }

// HasIP says whether the limiter keeps a bucket for the client address.
func HasIP(l *Limiter, ip netip.Addr) bool {
	e, sh := l.ips.peek(ClientKey(ip))
	if e != nil {
		sh.mu.Unlock()
	}
	return e != nil
}
