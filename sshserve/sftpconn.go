package sshserve

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
)

// sftpConn is the SFTP request server's end of a session. Reads come
// straight from the channel; what the server writes is gathered and handed
// to the channel by one goroutine, whole SFTP packets at a time.
//
// pkg/sftp writes a packet in two writes (a read's answer: 13 bytes of
// header, then up to 32 KiB of data), and every write to an SSH channel is
// at least one SSH packet: each answer went out as two packets (a 13-byte
// one, then one of 32 KiB), each encrypted, MACed and written to the socket
// on its own, and taken apart again by the client. Gathered, the answers
// fill the client's largest packets (32 KiB for OpenSSH) one after the
// other: half the packets, and half of every cost that comes per packet on
// both sides. Nothing waits to be gathered: the goroutine writes whatever
// whole packets there are as soon as it is free, so an answer alone goes
// out at once, and answers gather only while the channel is busy.
type sftpConn struct {
	r io.Reader
	w io.Writer

	mu    sync.Mutex
	ready sync.Cond // signals the writer: whole packets to send, or closing
	room  sync.Cond // signals Write: the buffer has room, or an error
	buf   []byte    // gathered, not handed to the channel yet
	whole int       // buf[:whole] is whole packets
	spare []byte    // the buffer the writer last sent, for reuse
	err   error     // the channel's write error, once it failed
	stop  bool      // no more writes: send what is left and end
	done  chan struct{}
}

var _ io.ReadWriteCloser = (*sftpConn)(nil)

// maxGather bounds what is gathered before Write waits for the channel.
const maxGather = 256 << 10

// errSFTPClosed is what Write returns after Close.
var errSFTPClosed = errors.New("sftp: connection closed")

func newSFTPConn(rw io.ReadWriter) *sftpConn {
	c := &sftpConn{r: rw, w: rw, done: make(chan struct{})}
	c.ready.L, c.room.L = &c.mu, &c.mu
	go c.send()
	return c
}

func (c *sftpConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Write gathers p. It waits only while the buffer is full with whole
// packets the channel has not taken yet.
func (c *sftpConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.err == nil && !c.stop && c.whole > 0 && len(c.buf) >= maxGather {
		c.room.Wait()
	}
	switch {
	case c.err != nil:
		return 0, c.err
	case c.stop:
		return 0, errSFTPClosed
	}
	c.buf = append(c.buf, p...)
	// Every packet starts with its length (RFC 4251's uint32, then that
	// many bytes).
	for len(c.buf)-c.whole >= 4 {
		end := c.whole + 4 + int(binary.BigEndian.Uint32(c.buf[c.whole:]))
		if end > len(c.buf) || end < c.whole {
			break
		}
		c.whole = end
	}
	if c.whole > 0 {
		c.ready.Signal()
	}
	return len(p), nil
}

// send hands the whole packets gathered to the channel, until Close.
func (c *sftpConn) send() {
	defer close(c.done)
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for c.whole == 0 && !c.stop && c.err == nil {
			c.ready.Wait()
		}
		if c.err != nil || (c.stop && len(c.buf) == 0) {
			return
		}
		n := c.whole
		if c.stop {
			n = len(c.buf) // a torn packet at the end goes out as it is
		}
		out := c.buf[:n]
		c.buf = append(c.spare[:0], c.buf[n:]...)
		c.whole -= n
		c.spare = nil
		c.room.Broadcast()
		c.mu.Unlock()
		_, err := c.w.Write(out)
		c.mu.Lock()
		c.spare = out
		if err != nil {
			c.err = err
			c.room.Broadcast()
			return
		}
	}
}

// flush sends what was written and stops the sending goroutine; writes
// after it fail. It does not close the channel.
func (c *sftpConn) flush() error {
	c.mu.Lock()
	c.stop = true
	c.ready.Signal()
	c.room.Broadcast()
	c.mu.Unlock()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close sends what was written, then closes the channel (pkg/sftp closes
// its connection when a worker fails).
func (c *sftpConn) Close() error {
	err := c.flush()
	if cl, ok := c.w.(io.Closer); ok {
		err = errors.Join(err, cl.Close())
	}
	return err
}
