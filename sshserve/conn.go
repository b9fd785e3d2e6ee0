package sshserve

import (
	"bufio"
	"net"
)

// connReadBuffer is what a connection reads from its socket at once.
const connReadBuffer = 64 << 10

// bufferedConn reads its socket in large pieces. golang.org/x/crypto/ssh
// reads a connection through a 4 KiB buffer: a packet's length first (a
// read of 4 KiB), then the rest of it (another read, straight into the
// packet), and more when the socket holds only part of it, so every
// 32 KiB packet of an upload took two or three system calls. With 64 KiB
// read at once, a call brings in whatever packets have arrived.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func newBufferedConn(c net.Conn) *bufferedConn {
	return &bufferedConn{Conn: c, r: bufio.NewReaderSize(c, connReadBuffer)}
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
