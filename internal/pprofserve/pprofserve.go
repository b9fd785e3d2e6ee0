// Package pprofserve serves Go's runtime profiles (net/http/pprof) on a
// listener of their own, for `strata serve --pprof`.
//
// Profiles reveal the server's code paths, goroutine stacks and allocation
// sites, and a CPU profile costs the server while it runs: so they are
// served only when asked, never on the API's listener, and on a loopback
// address unless the operator says otherwise in so many words.
package pprofserve

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"
)

// ErrNotLoopback is returned by Address for a host that is not a loopback
// address when public addresses are not allowed.
var ErrNotLoopback = errors.New("not a loopback address")

// Address checks a --pprof address (host:port, :port or a bare port) and
// returns the one to listen on: with no host it is 127.0.0.1. A host other
// than a loopback address (127.0.0.0/8, ::1, localhost) is refused unless
// public is set.
func Address(addr string, public bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		// A bare port.
		if _, perr := netip.ParseAddrPort("127.0.0.1:" + addr); perr != nil {
			return "", fmt.Errorf("%q: want host:port, :port or a port", addr)
		}
		host, port = "", addr
	}
	if _, err := netip.ParseAddrPort("127.0.0.1:" + port); err != nil {
		return "", fmt.Errorf("%q: bad port %q", addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if !public && !loopback(host) {
		return "", fmt.Errorf("%q: %w", addr, ErrNotLoopback)
	}
	return net.JoinHostPort(host, port), nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// Handler serves the profiles under /debug/pprof/. The command line
// (/debug/pprof/cmdline) is left out: it may hold secrets given as flags.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/debug/pprof/cmdline" {
			http.NotFound(w, r)
			return
		}
		pprof.Index(w, r) // the index, and named profiles (heap, goroutine, allocs...)
	})
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// NewServer returns the HTTP server of Handler. Its write timeout leaves
// room for a CPU profile or trace of up to five minutes.
func NewServer() *http.Server {
	return &http.Server{
		Handler:           Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      5*time.Minute + 30*time.Second,
	}
}
