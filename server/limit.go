package server

import (
	"container/list"
	"net"
	"net/http"
	"sync"
)

// DefaultMaxConnsPerIP is the most connections one client address may
// have at once unless MaxConnsPerIP says otherwise.
const DefaultMaxConnsPerIP = 64

// LimitOption tunes LimitListener.
type LimitOption func(*LimitedListener)

// MaxConnsPerIP bounds the connections one client address (an IPv4
// address, or an IPv6 /64: one host's share) may have at once to n; 0
// means no bound (behind a reverse proxy, where every connection comes
// from the proxy, which limits its clients itself).
func MaxConnsPerIP(n int) LimitOption {
	return func(l *LimitedListener) { l.perIPMax = n }
}

// LimitedListener bounds what clients may hold of a listener. Its
// ConnState, set as the http.Server's (Track does), tells it which
// connections are idle.
type LimitedListener struct {
	net.Listener
	perIPMax  int
	sem       chan struct{}
	wentIdle  chan struct{}
	closeOnce sync.Once
	done      chan struct{}

	mu    sync.Mutex
	perIP map[string]int
	idle  list.List // of *limitConn, idle the longest first
}

// LimitListener wraps l so that at most maxConns (at least 1)
// connections are served at once, at most DefaultMaxConnsPerIP of them
// from one client address unless an option says otherwise. Further
// connections wait in the kernel's backlog until one closes; while all
// are taken, the keep-alive connection idle the longest is closed to make
// room, so that idle clients never keep active ones out. Beyond its
// bound, an address's connection idle the longest makes room in the same
// way, or if none is idle, its new connection is closed at once.
func LimitListener(l net.Listener, maxConns int, opts ...LimitOption) *LimitedListener {
	ll := &LimitedListener{
		Listener: l, perIPMax: DefaultMaxConnsPerIP,
		sem:      make(chan struct{}, maxConns),
		wentIdle: make(chan struct{}, 1),
		done:     make(chan struct{}),
		perIP:    map[string]int{},
	}
	for _, o := range opts {
		o(ll)
	}
	return ll
}

// Track makes srv tell l which of its connections are idle, keeping any
// ConnState hook srv has.
func (l *LimitedListener) Track(srv *http.Server) {
	prev := srv.ConnState
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		l.ConnState(c, st)
		if prev != nil {
			prev(c, st)
		}
	}
}

// Accept waits for a free slot and returns the next connection its
// client's address may have.
func (l *LimitedListener) Accept() (net.Conn, error) {
	for {
		if err := l.acquire(); err != nil {
			return nil, err
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.sem
			return nil, err
		}
		if lc := l.admit(c); lc != nil {
			return lc, nil
		}
		c.Close()
		<-l.sem
	}
}

// acquire takes a slot, closing idle connections while all are taken.
func (l *LimitedListener) acquire() error {
	for {
		select {
		case l.sem <- struct{}{}:
			return nil
		default:
		}
		if l.evictIdle("") {
			continue // its Close gave a slot back
		}
		select {
		case l.sem <- struct{}{}:
			return nil
		case <-l.wentIdle:
		case <-l.done:
			return net.ErrClosed
		}
	}
}

// admit counts c against its address, making room among the address's
// idle connections if it must; nil means c is refused.
func (l *LimitedListener) admit(c net.Conn) *limitConn {
	key := clientKey(c.RemoteAddr())
	bounded := l.perIPMax > 0 && key != ""
	for {
		l.mu.Lock()
		if !bounded || l.perIP[key] < l.perIPMax {
			l.perIP[key]++
			l.mu.Unlock()
			return &limitConn{Conn: c, l: l, key: key}
		}
		l.mu.Unlock()
		if !l.evictIdle(key) {
			return nil
		}
	}
}

// evictIdle closes the connection idle the longest (of the address key,
// or of any when key is ""). It reports whether there was one.
func (l *LimitedListener) evictIdle(key string) bool {
	l.mu.Lock()
	var victim *limitConn
	for e := l.idle.Front(); e != nil; e = e.Next() {
		if c := e.Value.(*limitConn); key == "" || c.key == key {
			victim = c
			break
		}
	}
	if victim != nil {
		l.idle.Remove(victim.idleAt)
		victim.idleAt = nil
	}
	l.mu.Unlock()
	if victim == nil {
		return false
	}
	victim.Close()
	return true
}

// ConnState follows a connection's state: an idle one may be closed to
// make room.
func (l *LimitedListener) ConnState(c net.Conn, st http.ConnState) {
	lc := asLimitConn(c)
	if lc == nil || lc.l != l {
		return
	}
	l.mu.Lock()
	if lc.idleAt != nil {
		l.idle.Remove(lc.idleAt)
		lc.idleAt = nil
	}
	if st == http.StateIdle && !lc.closed {
		lc.idleAt = l.idle.PushBack(lc)
	}
	l.mu.Unlock()
	if st == http.StateIdle {
		select {
		case l.wentIdle <- struct{}{}:
		default:
		}
	}
}

// Close stops accepting; connections already accepted stay open.
func (l *LimitedListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

func (l *LimitedListener) release(c *limitConn) {
	l.mu.Lock()
	c.closed = true
	if c.idleAt != nil {
		l.idle.Remove(c.idleAt)
		c.idleAt = nil
	}
	if l.perIP[c.key]--; l.perIP[c.key] <= 0 {
		delete(l.perIP, c.key)
	}
	l.mu.Unlock()
	<-l.sem
}

type limitConn struct {
	net.Conn
	l    *LimitedListener
	key  string
	once sync.Once
	// idleAt and closed are guarded by l.mu.
	idleAt *list.Element
	closed bool
}

// CloseWrite lets net/http close gracefully (it sends FIN and waits a
// moment before it closes a connection whose client may still be sending).
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c) })
	return err
}

// asLimitConn finds the limitConn under c (a TLS connection wraps it).
func asLimitConn(c net.Conn) *limitConn {
	for c != nil {
		switch v := c.(type) {
		case *limitConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// clientKey is what connections are counted by: the IPv4 address, or the
// IPv6 /64; "" for an address that is not IP (a unix socket's).
func clientKey(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return ""
	}
	if v4 := ta.IP.To4(); v4 != nil {
		return v4.String()
	}
	if len(ta.IP) == net.IPv6len {
		return ta.IP.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ""
}
