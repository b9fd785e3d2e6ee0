package sshserve

import (
	"net"
	"sync"
	"testing"

	"golang.org/x/net/nettest"
)

// The in-memory connection behaves as a net.Conn must (deadlines, closes,
// concurrent reads and writes, big transfers), by x/net's conformance test.
func TestMemConn(t *testing.T) {
	pool := &sync.Pool{New: func() any {
		b := make([]byte, 0, memChunk)
		return &b
	}}
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b := memConnPair(pool)
		return a, b, func() { a.Close(); b.Close() }, nil
	})
}
