package sshserve

import (
	"bufio"
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
//
// It also answers OpenSSH's limits@openssh.com extension, which pkg/sftp
// does not know: told the server's limits, OpenSSH's sftp and scp move a
// file in requests of 255 KiB instead of 32 KiB (an eighth of the
// requests, answers and their costs on both sides).
type sftpConn struct {
	r *bufio.Reader
	w io.Writer
	// inLeft is what is left of the packet Read is passing on; at 0 the
	// next byte read starts a packet.
	inLeft int64
	// versioned: the server's VERSION packet has gone by (the extension
	// was added to it).
	versioned bool
	// answer is a reply of this connection's own, waiting for the
	// stream the server writes to be between two packets.
	answer []byte

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
	c := &sftpConn{r: bufio.NewReaderSize(rw, sftpReadBuffer), w: rw, done: make(chan struct{})}
	c.ready.L, c.room.L = &c.mu, &c.mu
	go c.send()
	return c
}

// SFTP packet types and the limits this connection tells clients
// (draft-ietf-secsh-filexfer-02; OpenSSH's PROTOCOL, section 4.8).
const (
	fxpVersion       = 2
	fxpExtended      = 200
	fxpExtendedReply = 201
	limitsExtension  = "limits@openssh.com"
	// maxSFTPPacket is pkg/sftp's largest packet; reads and writes leave
	// room for their headers in it, as OpenSSH's sftp-server does.
	maxSFTPPacket = 256 << 10
	maxSFTPData   = maxSFTPPacket - 1024
	// sftpReadBuffer holds a limits request whole. It is small because
	// what it holds is copied once more: a write's data passes through
	// it only until it is empty, then goes straight into the request
	// server's buffer.
	sftpReadBuffer = 4 << 10
)

// Read passes the client's packets on to the request server, but for a
// limits@openssh.com request, which it answers itself.
func (c *sftpConn) Read(p []byte) (int, error) {
	for c.inLeft == 0 {
		hdr, err := c.r.Peek(5)
		if err != nil {
			if len(hdr) > 0 {
				// A torn packet at the end: the request server says so.
				c.inLeft = int64(len(hdr))
				break
			}
			return 0, err
		}
		size := 4 + int64(binary.BigEndian.Uint32(hdr))
		// Answered here only after the server's VERSION, which names
		// the extension: before, the request server says it does not
		// know it.
		if hdr[4] == fxpExtended && size >= int64(minLimitsRequest) && size <= sftpReadBuffer && c.pastVersion() {
			pkt, err := c.r.Peek(int(size))
			if err == nil {
				if id, ok := limitsRequest(pkt); ok {
					c.r.Discard(int(size))
					if err := c.reply(limitsReply(id)); err != nil {
						return 0, err
					}
					continue
				}
			}
		}
		c.inLeft = size
	}
	n, err := c.r.Read(p[:min(int64(len(p)), c.inLeft)])
	c.inLeft -= int64(n)
	return n, err
}

// minLimitsRequest is the size of a limits request: length, type, id and
// the name.
const minLimitsRequest = 4 + 1 + 4 + 4 + len(limitsExtension)

func (c *sftpConn) pastVersion() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.versioned
}

// limitsRequest reports whether pkt (a whole SSH_FXP_EXTENDED packet) asks
// for limits@openssh.com, and its request id.
func limitsRequest(pkt []byte) (uint32, bool) {
	if len(pkt) < minLimitsRequest {
		return 0, false
	}
	// length, type, id, then the name as a string.
	id := binary.BigEndian.Uint32(pkt[5:])
	name := pkt[13:]
	if binary.BigEndian.Uint32(pkt[9:]) != uint32(len(limitsExtension)) || string(name[:len(limitsExtension)]) != limitsExtension {
		return 0, false
	}
	return id, true
}

// limitsReply is the SSH_FXP_EXTENDED_REPLY to a limits request: the
// largest packet, read and write, and no limit on open handles (0).
func limitsReply(id uint32) []byte {
	b := make([]byte, 0, 4+1+4+4*8)
	b = binary.BigEndian.AppendUint32(b, 1+4+4*8)
	b = append(b, fxpExtendedReply)
	b = binary.BigEndian.AppendUint32(b, id)
	b = binary.BigEndian.AppendUint64(b, maxSFTPPacket)
	b = binary.BigEndian.AppendUint64(b, maxSFTPData)
	b = binary.BigEndian.AppendUint64(b, maxSFTPData)
	return binary.BigEndian.AppendUint64(b, 0)
}

// reply sends a packet of the connection's own once what the server
// writes is between two packets (pkg/sftp writes one in two writes). It
// waits, as Write does, while the channel has not taken what is gathered.
func (c *sftpConn) reply(pkt []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.err == nil && !c.stop && (len(c.buf) >= maxGather || len(c.answer) >= maxGather) {
		c.room.Wait()
	}
	switch {
	case c.err != nil:
		return c.err
	case c.stop:
		return errSFTPClosed
	}
	c.answer = append(c.answer, pkt...)
	c.between()
	return nil
}

// between adds the waiting answer when the stream is between packets.
// The caller holds mu.
func (c *sftpConn) between() {
	if len(c.answer) == 0 || c.whole != len(c.buf) {
		return
	}
	c.buf = append(c.buf, c.answer...)
	c.whole = len(c.buf)
	c.answer = nil
	c.ready.Signal()
}

// withLimits adds limits@openssh.com to a VERSION packet (whole, at the
// start of b); any other packet is left as it is.
func withLimits(b []byte) []byte {
	if len(b) < 5 || b[4] != fxpVersion {
		return b
	}
	ext := binary.BigEndian.AppendUint32(nil, uint32(len(limitsExtension)))
	ext = append(ext, limitsExtension...)
	ext = binary.BigEndian.AppendUint32(ext, 1)
	ext = append(ext, '1')
	size := 4 + int(binary.BigEndian.Uint32(b))
	out := make([]byte, 0, len(b)+len(ext))
	out = binary.BigEndian.AppendUint32(out, uint32(size-4+len(ext)))
	out = append(out, b[4:size]...)
	out = append(out, ext...)
	return append(out, b[size:]...)
}

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
		if !c.versioned {
			// The server's first packet is its VERSION.
			c.versioned = true
			c.buf = withLimits(c.buf)
			end = c.whole + 4 + int(binary.BigEndian.Uint32(c.buf[c.whole:]))
		}
		c.whole = end
	}
	c.between()
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
