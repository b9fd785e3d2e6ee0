package sshserve

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"strings"
	"time"
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
	// sent is the identification string greet sent, until the handshake
	// sends it too.
	sent []byte
}

func newBufferedConn(c net.Conn) *bufferedConn {
	return &bufferedConn{Conn: c, r: bufio.NewReaderSize(c, connReadBuffer)}
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// maxIdentLine bounds an identification string, CR LF included (RFC 4253
// 4.2).
const maxIdentLine = 255

// greet sends the server's identification string and waits for the
// client's, which it returns; the SSH handshake then reads the client's
// again, and its own sending of the server's is let through as done.
// Some clients (PuTTY) send theirs only once they have the server's, so
// the server's goes first.
func (c *bufferedConn) greet(ident string, timeout time.Duration) (string, error) {
	line := []byte(ident + "\r\n")
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	defer c.SetDeadline(time.Time{})
	if _, err := c.Conn.Write(line); err != nil {
		return "", err
	}
	c.sent = line
	for {
		// What has come so far, and one byte more if there is no line
		// in it yet.
		b, _ := c.r.Peek(c.r.Buffered())
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			return strings.TrimSuffix(string(b[:i]), "\r"), nil
		}
		if len(b) >= maxIdentLine {
			return "", errors.New("ssh: no identification string from the client")
		}
		if _, err := c.r.Peek(len(b) + 1); err != nil {
			return "", err
		}
	}
}

// Write writes p, but for the server's identification string when greet
// has sent it already.
func (c *bufferedConn) Write(p []byte) (int, error) {
	if c.sent != nil {
		sent := c.sent
		c.sent = nil
		if bytes.Equal(p, sent) {
			return len(p), nil
		}
		return 0, errors.New("ssh: the server's identification string was sent already")
	}
	return c.Conn.Write(p)
}
