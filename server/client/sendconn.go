package client

import (
	"context"
	"io"
	"net"
	"sync"
)

// sendBufSize is the copy buffer of a request body sent on a plain
// connection.
const sendBufSize = 256 << 10

// sendConn is a connection that sends a request body in large writes.
// net/http copies a body onto its connection with io.Copy, and a TCP or
// unix connection's own ReadFrom, unless the body is a file it can splice,
// reads and writes 32 KiB at a time: a 1 GiB upload made about 33,000
// reads of the local file and as many writes to the socket. Through
// sendBufSize, eight times fewer of each. (With TLS the body goes through
// tls.Conn, which writes records of 16 KiB whatever it is given.)
type sendConn struct {
	net.Conn
	bufs *sync.Pool // *[]byte of sendBufSize
}

// ReadFrom implements io.ReaderFrom, which io.Copy uses.
func (c sendConn) ReadFrom(r io.Reader) (int64, error) {
	bp := c.bufs.Get().(*[]byte)
	defer c.bufs.Put(bp)
	// writeOnly hides the connection's own ReadFrom from io.CopyBuffer,
	// which would otherwise hand the copy back to it.
	return io.CopyBuffer(writeOnly{c.Conn}, r, *bp)
}

type writeOnly struct{ io.Writer }

// sendDialer dials with d and wraps the connections in sendConn.
func sendDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	bufs := &sync.Pool{New: func() any {
		b := make([]byte, sendBufSize)
		return &b
	}}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return sendConn{Conn: conn, bufs: bufs}, nil
	}
}
